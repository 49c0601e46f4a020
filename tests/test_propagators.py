r"""Exact propagators of LIF membranes driven by current synapses (Rotter & Diesmann 1999).

The truth is the closed-form PSP of each kernel, derived here from the convolution
$V(t) - E_L = \frac{R}{\tau_m}\int_0^t e^{-(t-s)/\tau_m} I(s)\,ds$ and evaluated with mpmath
at 50 digits (so the degenerate and nearly degenerate $\tau_s \approx \tau_m$ cases carry no
cancellation error of their own).
"""

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from spikejax import network as nw
from spikejax.models import LIF
from spikejax.network._synapse import exp_kernel_integral, ramp_kernel_integral

mp.mp.dps = 50
E_L, R, W, T_ARRIVE = -65.0, 2.0, 1.5, 1.0
# membrane time constants per population: generic, degenerate (tau_m = tau_s) and nearly so
TAUS = {
    "exp": (nw.Exponential(3.0), [10.0, 3.0, 3.0 * (1 + 1e-7), 0.7]),
    "alpha": (nw.Alpha(2.0), [10.0, 2.0, 2.0 * (1 - 1e-7), 0.7]),
    "dual": (nw.DualExponential(1.0, 6.0), [10.0, 6.0, 1.0, 0.7]),
    "delta": (nw.Delta(), [10.0, 1.0]),
}


def _conv_exp(t, tau_m, tau):
    """(1/tau_m) int_0^t e^{-(t-s)/tau_m} e^{-s/tau} ds in mpmath."""
    t, tau_m, tau = mp.mpf(t), mp.mpf(tau_m), mp.mpf(tau)
    if tau == tau_m:
        return t / tau_m * mp.exp(-t / tau_m)
    return tau * (mp.exp(-t / tau) - mp.exp(-t / tau_m)) / (tau - tau_m)


def _conv_ramp(t, tau_m, tau):
    """(1/tau_m) int_0^t e^{-(t-s)/tau_m} s e^{-s/tau} ds in mpmath."""
    t, tau_m, tau = mp.mpf(t), mp.mpf(tau_m), mp.mpf(tau)
    a = 1 / tau_m - 1 / tau
    if a == 0:
        return mp.exp(-t / tau_m) * t**2 / 2 / tau_m
    return mp.exp(-t / tau_m) * (mp.exp(a * t) * (a * t - 1) + 1) / a**2 / tau_m


def _dual_peak(tr, td):
    # the peak of e^{-t/td} - e^{-t/tr}, located numerically (not from the t_peak formula)
    res = minimize_scalar(
        lambda t: -(math.exp(-t / td) - math.exp(-t / tr)),
        bounds=(0.0, 20.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return -res.fun


def _psp(kind, syn, s, tau_m):
    """PSP (mV) at time s >= 0 after the arrival, for the weight W."""
    if s <= 0:
        return 0.0
    if kind == "exp":
        v = _conv_exp(s, tau_m, syn.tau)
    elif kind == "alpha":
        v = mp.e / syn.tau * _conv_ramp(s, tau_m, syn.tau)
    elif kind == "dual":
        tr, td = syn.tau_rise, syn.tau_decay
        v = (_conv_exp(s, tau_m, td) - _conv_exp(s, tau_m, tr)) / _dual_peak(tr, td)
    else:
        return float(W * mp.exp(-mp.mpf(s) / tau_m))
    return float(W * R * v)


def _network(dt, dtype, integration="exact"):
    src = nw.SpikeSource(1, [0], [T_ARRIVE], name="src", dt=dt)
    pops, projs = [src], []
    for kind, (syn, taus) in TAUS.items():
        n = len(taus)
        lif = LIF(tau_m=np.array(taus), E_L=E_L, V_th=1e6, V_reset=-70.0, t_ref=0.0, R=R)
        post = nw.Population(lif, name=kind, synapse_integration=integration)
        pops.append(post)
        conn = nw.Explicit(np.zeros(n, int), np.arange(n))
        projs.append(nw.Projection(src, post, conn, weight=W, synapse=syn, receptor="r"))
    return nw.Network(pops, projs, dt=dt, dtype=dtype)


def _traces(dt, dtype, t_stop=16.0, integration="exact"):
    net = _network(dt, dtype, integration)
    mons = [nw.StateMonitor(k, "V") for k in TAUS]
    res = nw.run(net, t_stop, key=jax.random.key(0), monitors=mons)
    return {k: res.states[m.key] for k, m in zip(TAUS, mons)}


def _reference(t, kind, tau_m):
    syn = TAUS[kind][0]
    return np.array([E_L + _psp(kind, syn, ti - T_ARRIVE, tau_m) for ti in t])


@pytest.mark.parametrize("dt", [0.01, 1.0])
def test_psp_exact_for_every_current_synapse(dt):
    # float64: every kernel's PSP equals the closed form at every grid time to 1e-9 mV,
    # whatever dt (the synapse jumps at the spike's arrival, T_ARRIVE + delay 0)
    traces = _traces(dt, jnp.float64)
    stride = max(1, int(round(0.1 / dt)))  # compare on (at most) a 0.1 ms grid
    for kind, (_, taus) in TAUS.items():
        t, v = traces[kind]
        t, v = t[::stride], v[::stride, 0]
        for j, tau_m in enumerate(taus):
            ref = _reference(t, kind, tau_m)
            np.testing.assert_allclose(v[:, j], ref, rtol=0, atol=1e-9, err_msg=f"{kind} {tau_m}")
        assert np.max(np.abs(v - E_L)) > 0.1  # a PSP of a fair size was checked


def test_psp_float32_tolerance():
    # float32 (the network default): the same PSPs within 5e-5 mV (7 units of float32's
    # resolution at |V| = 65 mV, 7.6e-6: the rounding of V accumulated over the decay); the
    # held path's error here is 1e-2 mV
    traces = _traces(0.1, jnp.float32)
    for kind, (_, taus) in TAUS.items():
        t, v = traces[kind]
        for j, tau_m in enumerate(taus):
            ref = _reference(t[::5], kind, tau_m)
            np.testing.assert_allclose(v[::5, 0, j], ref, rtol=0, atol=5e-5)


def test_held_path_is_the_first_order_recursion():
    # synapse_integration="held" keeps the previous scheme: the current at the start of the
    # step held over it, V_{k+1} = E_L + (V_k - E_L) e^{-dt/tau_m} + R I_k (1 - e^{-dt/tau_m})
    dt = 0.1
    traces = _traces(dt, jnp.float64, t_stop=10.0, integration="held")
    t, v = traces["exp"]
    tau_s, tau_m = 3.0, 10.0
    g, V, ref = 0.0, E_L, []
    for k in range(t.size):
        if abs(k * dt - T_ARRIVE) < dt / 2:
            g += W
        V = E_L + (V - E_L) * math.exp(-dt / tau_m) + R * g * (1 - math.exp(-dt / tau_m))
        g *= math.exp(-dt / tau_s)
        ref.append(V)
    np.testing.assert_allclose(v[:, 0, 0], ref, rtol=0, atol=1e-12)
    # ... whose charge is first order in dt: the PSP peak exceeds the exact one
    exact = _reference(t, "exp", tau_m)
    assert v[:, 0, 0].max() - E_L > 1.01 * (exact.max() - E_L)


def test_kernel_integrals_numpy_and_jax_agree():
    # the host (numpy, float64) and traced (jax) evaluations agree with the mpmath integrals,
    # including the degenerate case tau_m = tau = 3; gradients are finite there
    tau_m = np.array([10.0, 3.0, 3.0 * (1 + 1e-9), 0.05])
    for dt in (0.01, 0.1, 1.0):
        a_ref = np.array([float(_conv_exp(dt, tm, 3.0)) for tm in tau_m])
        b_ref = np.array([float(_conv_ramp(dt, tm, 3.0)) for tm in tau_m])
        for xp in (np, jnp):
            a = np.asarray(exp_kernel_integral(dt, xp.asarray(tau_m), 3.0, xp))
            b = np.asarray(ramp_kernel_integral(dt, xp.asarray(tau_m), 3.0, xp))
            np.testing.assert_allclose(a, a_ref, rtol=1e-13, atol=1e-300)
            np.testing.assert_allclose(b, b_ref, rtol=1e-12, atol=1e-300)

    def both(tm):
        return ramp_kernel_integral(0.1, tm, 3.0) + exp_kernel_integral(0.1, tm, 3.0)

    assert np.isfinite(float(jax.grad(both)(3.0)))


def test_exact_only_where_the_membrane_is_linear():
    lif = LIF()
    assert nw.Population(lif, 2, name="a").exact_synapses(conductances=False)
    assert not nw.Population(lif, 2, name="a").exact_synapses(conductances=True)
    assert not nw.Population(lif, 2, name="a", method="euler").exact_synapses(False)
    assert not nw.Population(lif, 2, name="a", synapse_integration="held").exact_synapses(False)
    with pytest.raises(ValueError, match="synapse_integration"):
        nw.Population(lif, 2, name="a", synapse_integration="rk")


def test_microcircuit_charge_correction_only_with_the_held_path():
    # the exact propagators give each PSC its charge J tau_s already: a correction on top
    # would count twice, and is refused; with the held path it is on by default
    with pytest.raises(ValueError, match="charge_correction"):
        nw.microcircuit(0.02, key=jax.random.key(0), charge_correction=True)
    with pytest.raises(ValueError, match="synapse_integration"):
        nw.microcircuit(0.02, key=jax.random.key(0), synapse_integration="first")
