"""Exact current synapses into a coupled linear model written as equations.

A LIF with an adaptation current, $\\tau\\dot V = E_L - V - R w + R I$,
$\\tau_w \\dot w = a (V - E_L) - w$, is linear with constant coefficients: a network
population of it stepped with `"exact"` (what `"auto"` picks) drives both variables with the
forcing that moves the system exactly as the synaptic current does
(`EquationModel.synaptic_drive`). Truth: the closed-form response of the coupled linear
system to one synaptic event, the matrix exponential of
$[[A, c\\,o^\\top], [0, S]]\\,t$ (scipy's `expm`, from the matrices written out here by hand,
not from the model), at every grid time, to 1e-12 mV in float64 whatever the step.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

import spikejax.network as nw
from spikejax.models import from_equations
from spikejax.solvers import ExactLinear

TAU, TAU_W, A_W, R, E_L, T_ARRIVE, W = 10.0, 100.0, 0.5, 1.0, -65.0, 1.0, 10.0


def adaptive_lif(**kw):
    return from_equations(
        "dV/dt = (E_L - V - R*w + R*I)/tau : 1 (unless refractory)\n"
        "dw/dt = (a*(V - E_L) - w)/tau_w : 1",
        threshold="V > V_th",
        reset="V = V_r; w += b",
        refractory="t_ref",
        parameters={
            "tau": TAU,
            "tau_w": TAU_W,
            "a": A_W,
            "R": R,
            "E_L": E_L,
            "V_th": -40.0,
            "V_r": -70.0,
            "b": 1.0,
            "t_ref": 2.0,
            **kw,
        },
        init={"V": "E_L"},
    )


def _kernel(synapse):
    """The synapse as a linear system, written by hand: generator S, output o, and its state
    right after an event of weight W."""
    if isinstance(synapse, nw.Exponential):
        return np.array([[-1.0 / synapse.tau]]), np.array([1.0]), np.array([W])
    if isinstance(synapse, nw.Alpha):
        t = synapse.tau
        S = np.array([[-1.0 / t, 0.0], [1.0, -1.0 / t]])  # (x, g): g' = -g/tau + x
        return S, np.array([0.0, 1.0]), np.array([math.e / t * W, 0.0])
    tr, td = synapse.tau_rise, synapse.tau_decay
    t_peak = tr * td / (td - tr) * math.log(td / tr)
    peak = tr * td / (td - tr) * (math.exp(-t_peak / td) - math.exp(-t_peak / tr))
    S = np.array([[-1.0 / tr, 0.0], [1.0, -1.0 / td]])
    return S, np.array([0.0, 1.0]), np.array([W / peak, 0.0])


def closed_form(t, synapse, tau=TAU):
    A = np.array([[-1.0 / tau, -R / tau], [A_W / TAU_W, -1.0 / TAU_W]])
    c = np.array([R / tau, 0.0])
    S, o, s0 = _kernel(synapse)
    k = S.shape[0]
    M = np.zeros((2 + k, 2 + k))
    M[:2, :2], M[:2, 2:], M[2:, 2:] = A, np.outer(c, o), S
    z0 = np.concatenate([[0.0, 0.0], s0])
    out = np.array([expm(M * max(ti - T_ARRIVE, 0.0)) @ z0 for ti in np.asarray(t)])
    return E_L + out[:, 0], out[:, 1]


def run_psp(model, synapse, dt, dtype, integration="exact", n=1):
    src = nw.SpikeSource(1, [0], [T_ARRIVE], name="src", dt=dt)
    post = nw.Population(model, n, name="post", synapse_integration=integration)
    conn = nw.Explicit(np.zeros(n, int), np.arange(n))
    pr = nw.Projection(src, post, conn, weight=W, synapse=synapse)
    mon = nw.StateMonitor("post", ["V", "w"])
    net = nw.Network([src, post], [pr], dt=dt, dtype=dtype)
    res = nw.run(net, 30.0, key=jax.random.key(0), monitors=[mon])
    t, y = res.states[mon.key]
    return post, np.asarray(t), np.asarray(y)


SYNAPSES = [nw.Exponential(3.0), nw.Alpha(2.0), nw.DualExponential(1.0, 5.0)]
DUAL = pytest.param(SYNAPSES[2], marks=pytest.mark.slow, id="dual")  # CI budget


@pytest.mark.parametrize("dt", [pytest.param(0.1, marks=pytest.mark.slow), 1.0])
@pytest.mark.parametrize("synapse", [*SYNAPSES[:2], DUAL], ids=["exponential", "alpha", "dual"])
def test_adaptive_lif_psp_is_exact_at_any_dt(synapse, dt):
    m = adaptive_lif()
    assert isinstance(m.default_scheme, ExactLinear)
    assert m.membrane_time_constant() is None  # V is coupled to w: not a lone membrane
    post, t, y = run_psp(m, synapse, dt, jnp.float64)
    assert post.exact_synapses(False) and post.drives_states()
    V, w = closed_form(t, synapse)
    assert np.max(V - E_L) > 1.0 and np.max(w) > 0.05  # a PSP and an adaptation response
    # rounding only
    np.testing.assert_allclose(y[:, 0, 0], V, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y[:, 1, 0], w, rtol=0, atol=1e-12)


@pytest.mark.slow
def test_heterogeneous_cells_and_the_held_path():
    taus = np.array([5.0, 10.0, 20.0])
    m = adaptive_lif(tau=taus)
    _, t, y = run_psp(m, SYNAPSES[0], 0.5, jnp.float64, n=3)
    for i, tau in enumerate(taus):
        V, w = closed_form(t, SYNAPSES[0], tau=tau)
        np.testing.assert_allclose(y[:, 0, i], V, rtol=0, atol=1e-12)
        np.testing.assert_allclose(y[:, 1, i], w, rtol=0, atol=1e-12)
    # the held path (the current of the step's start held over it): first order in dt
    post, t, y = run_psp(adaptive_lif(), SYNAPSES[0], 0.5, jnp.float64, integration="held")
    assert not post.exact_synapses(False)
    V, _ = closed_form(t, SYNAPSES[0])
    assert np.max(np.abs(y[:, 0, 0] - V)) > 1e-2


def test_adaptive_lif_psp_float32():
    _, t, y = run_psp(adaptive_lif(), SYNAPSES[0], 1.0, jnp.float32)
    V, w = closed_form(t, SYNAPSES[0])
    # float32: the rounding of V (|V| = 65 mV, resolution 7.6e-6) over 30 steps
    np.testing.assert_allclose(y[:, 0, 0], V, rtol=0, atol=1e-4)
    np.testing.assert_allclose(y[:, 1, 0], w, rtol=0, atol=1e-5)


def test_which_models_drive_every_state():
    m = adaptive_lif()
    linear = m.linear_input()
    assert linear is not None
    A, c = linear
    np.testing.assert_allclose(A, [[-1 / TAU, -R / TAU], [A_W / TAU_W, -1 / TAU_W]], rtol=1e-15)
    np.testing.assert_allclose(c, [R / TAU, 0.0], rtol=1e-15)
    # not linear with constant coefficients: the held path
    quadratic = from_equations(
        "dV/dt = (V**2 - w + I)/tau : 1\ndw/dt = (V - w)/tau : 1", parameters={"tau": 10.0}
    )
    assert quadratic.linear_input() is None
    assert not nw.Population(quadratic, 2, name="q").exact_synapses(False)
    # with a refractory period, the input may act only on the held equations
    into_w = from_equations(
        "dV/dt = (-V - w)/tau : 1 (unless refractory)\ndw/dt = (I - w)/tau : 1",
        threshold="V > 1",
        reset="V = 0",
        refractory=2.0,
        parameters={"tau": 10.0},
    )
    assert into_w.linear_input() is None
    # the exact drive needs the exact scheme
    assert not nw.Population(m, 2, name="r", method="rk4").exact_synapses(False)
    with pytest.raises(ValueError, match="linear_input"):
        quadratic.synaptic_drive(0.0, [], 0.1)
