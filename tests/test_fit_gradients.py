"""Gradients of the differentiable simulators and of bifurcation currents, checked against
central finite differences (absolute error criteria) and closed forms (float64)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikejax import fit as F
from spikejax.models import LIF, HodgkinHuxley, Izhikevich
from spikejax.stimulus import Function
from spikejax.surrogate import FastSigmoid, Heaviside


def central_fd(f, x, h):
    """Central differences of scalar f at vector x, step h (scalar or per-component).

    Tests pass `f = lambda x: vg(x)[0]` with `vg = jax.jit(jax.value_and_grad(loss))`: one
    compilation serves the gradient and the finite differences (compiles dominate run time).
    """
    x = np.asarray(x, dtype=float)
    h = np.broadcast_to(np.asarray(h, dtype=float), x.shape)
    out = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h[i]
        out.append((float(f(x + e)) - float(f(x - e))) / (2 * h[i]))
    return np.array(out)


HH = HodgkinHuxley()
HH_Y0 = HH.resting_state()


def _hh(g):
    return HH.replace(gNa=g[0], gK=g[1], gL=g[2])


# A spiking 6 ms HH response (spike peak near 2.5 ms) to a 10 uA/cm^2 step; the loss scale is O(1).
def hh_fixed_loss(g):
    sol = F.solve_fixed(_hh(g), HH_Y0, 10.0, dt=0.025, n_steps=240, checkpoint_every=40)
    return jnp.mean(sol.ys["V"] ** 2) / 1000.0


def hh_adaptive_loss(g):
    sol = F.solve_adaptive(
        _hh(g), HH_Y0, 10.0, t0=0.0, t1=10.0, ts=jnp.linspace(0.25, 10.0, 40), rtol=1e-10,
        atol=1e-10,
    )  # fmt: skip
    return jnp.mean(sol.ys["V"] ** 2) / 1000.0


# the fixed-step loss runs by default; the adaptive one (16 s on the CI machine) is slow
@pytest.mark.parametrize(
    "loss",
    [hh_fixed_loss, pytest.param(hh_adaptive_loss, marks=pytest.mark.slow)],
    ids=["fixed", "adaptive"],
)
def test_hh_gradient_matches_finite_differences(loss):
    g0 = np.array([120.0, 36.0, 0.3])
    vg = jax.jit(jax.value_and_grad(loss))
    grad = np.asarray(vg(jnp.asarray(g0))[1])
    fd = central_fd(lambda x: vg(x)[0], g0, h=np.array([1e-3, 1e-3, 1e-4]))
    # FD truncation error ~ h^2 f''' and round-off ~ 1e-16/h stay below 1e-6 here (the
    # gradient entries are 1e-2 .. 1); the adaptive solve at rtol 1e-10 adds < 1e-7.
    np.testing.assert_allclose(grad, fd, rtol=0, atol=2e-6)
    assert np.max(np.abs(grad)) > 5e-3  # a non-trivial gradient


def test_checkpointing_does_not_change_values_or_gradients():
    # A LIF population with surrogate spikes (resets inside checkpointed segments).
    m = LIF(tau_m=10.0, t_ref=0.0, E_L=-65.0 * jnp.ones(3))
    drive = jnp.array([18.0, 20.0, 25.0])

    def run(spike_fn):
        @jax.jit
        def both(w):
            def loss(w, k):
                sol = F.solve_fixed(m, m.resting_state(), w * drive, dt=0.1,
                                    n_steps=130, method="euler", spike_fn=spike_fn,
                                    checkpoint_every=k)  # fmt: skip
                return jnp.mean(sol.ys["V"] ** 2) + jnp.sum(sol.ys["spikes"])

            # k = 40 leaves a remainder of 10 steps (130 = 3 * 40 + 10): also exercised.
            return jax.value_and_grad(loss)(w, None), jax.value_and_grad(loss)(w, 40)

        return both(1.0)

    (v1, g1), (v2, g2) = run(Heaviside())
    assert float(v1) > 0 and abs(float(g1)) > 1.0
    # Same arithmetic in a different loop structure: equal to round-off.
    np.testing.assert_allclose(v1, v2, rtol=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-12)
    (v1, g1), (v2, g2) = run(FastSigmoid(beta=2.0))
    np.testing.assert_allclose(v1, v2, rtol=1e-13)
    # The surrogate backward pass multiplies round-off by |(V_r - V) sigma'| ~ 30 at every
    # reset (jit vs eager of one program already differ by ~1e-6 relative): rtol 1e-5.
    np.testing.assert_allclose(g1, g2, rtol=1e-5)


# ----- LIF: exact gradient parts and the surrogate gradient ------------------------------------

LIF_M = LIF(tau_m=10.0, t_ref=0.0)


def _lif_trace(w, spike_fn, n_steps=300):
    # Input current w * (25 + 5 sin(t/5)) mV: spikes several times in 30 ms for w ~ 1.
    sol = F.solve_fixed(
        LIF_M, LIF_M.resting_state(), Function(lambda t: w * (25.0 + 5.0 * jnp.sin(t / 5.0))),
        dt=0.1, n_steps=n_steps, method="euler", spike_fn=spike_fn,
    )  # fmt: skip
    return sol


def test_lif_exact_gradient_matches_fd_between_spike_flips():
    # With the exact Heaviside the discrete simulation is a piecewise-smooth function of w:
    # the gradient is exact wherever no step's spike decision flips within +-h. The spike
    # count stays 3 for w in [0.999, 1.001], so FD with h = 1e-5 sees the same pieces.
    def loss(w):
        return jnp.mean(_lif_trace(w, Heaviside()).ys["V"])

    counts = [float(jnp.sum(_lif_trace(w, Heaviside()).ys["spikes"])) for w in (0.999, 1.001)]
    assert counts[0] == counts[1] >= 2
    grad = float(jax.grad(loss)(1.0))
    fd = central_fd(lambda x: loss(x[0]), [1.0], 1e-5)[0]
    # Piecewise-linear-ish in w: FD error ~1e-9; atol 1e-6 on a gradient of O(1-10) mV.
    assert abs(grad - fd) < 1e-6
    assert abs(grad) > 0.1


def test_lif_surrogate_gradient_matches_hand_derived_expression():
    # Two Euler steps from V0 just below threshold; a spike at step 1, none at step 2:
    #   V1 = V0 + a (E_L - V0 + R w I),  a = dt/tau,  s1 = H(V1 - V_th),
    #   V1+ = (1 - s1) V1 + s1 V_r,  V2 = V1+ + a (E_L - V1+ + R w I),  V2+ likewise.
    # The surrogate replaces dH(x)/dx by sigma'(x) = b / (1 + b|x|)^2 (FastSigmoid), so
    #   dV1+/dw = (1 - s1) dV1/dw + (V_r - V1) sigma'(x1) dV1/dw,
    #   dV2/dw = (1 - a) dV1+/dw + a R I,  dV2+/dw = (1 - s2) dV2/dw + (V_r - V2) sigma'(x2) dV2/dw.
    m = LIF(tau_m=10.0, t_ref=0.0)
    dt, I, beta, V0, w = 0.5, 200.0, 0.7, -55.0, 1.0
    sf = FastSigmoid(beta=beta)

    def V2(w):
        sol = F.solve_fixed(m, m.full_state(V=V0), w * I, dt=dt, n_steps=2,
                            method="euler", spike_fn=sf)  # fmt: skip
        return sol.ys["V"][-1]

    def dsig(x):
        return beta / (1 + beta * abs(x)) ** 2

    a = dt / m.tau_m
    V1 = V0 + a * (m.E_L - V0 + m.R * w * I)
    x1 = V1 - m.V_th
    assert x1 > 0  # a spike at step 1
    dV1 = a * m.R * I
    dV1p = (m.V_reset - V1) * dsig(x1) * dV1
    V2_ = m.V_reset + a * (m.E_L - m.V_reset + m.R * w * I)
    x2 = V2_ - m.V_th
    assert x2 < 0  # no spike at step 2
    dV2 = (1 - a) * dV1p + a * m.R * I
    expected = dV2 + (m.V_reset - V2_) * dsig(x2) * dV2
    np.testing.assert_allclose(float(V2(w)), V2_, atol=1e-12)  # the forward pass is exact
    got = float(jax.grad(V2)(w))
    # Same arithmetic, different order: agreement to round-off.
    assert abs(got - expected) < 1e-9 * (1 + abs(expected))
    # ... and the surrogate terms matter (the exact gradient would be a R I = 10).
    assert abs(got - a * m.R * I) > 1.0


# ----- Izhikevich: event-located spike times ------------------------------------------------

IZ = Izhikevich()


def _iz_times(p):
    m = IZ.replace(a=p[0], b=p[1], c=p[2], d=p[3])
    return F.event_spike_times(m, m.resting_state(), 10.0, t0=0.0, t1=60.0, max_spikes=3)


@pytest.mark.slow  # > 20 s on a 2-core machine; run with -m slow
def test_izhikevich_spike_time_gradient_matches_fd_of_event_times():
    p0 = np.array([0.02, 0.2, -65.0, 8.0])
    # One random projection of the Jacobian (a scalar loss keeps compile time small).
    w = jnp.array([0.3, 1.0, 0.0])

    def f(p):
        st = _iz_times(p)
        # two spikes (near 3.1 and 26.2 ms) and a padded entry in 60 ms
        st = eqx.error_if(st, jnp.any(st.valid != jnp.array([True, True, False])), "spikes")
        return jnp.sum(w * st.times)

    vg = jax.jit(jax.value_and_grad(f))
    grad = np.asarray(vg(jnp.asarray(p0))[1])
    fd = central_fd(lambda x: vg(x)[0], p0, h=np.array([1e-6, 1e-6, 1e-4, 1e-4]))
    # Event times are located to ~1e-12 ms (Newton on the dense output, rtol 1e-8 solve):
    # FD error ~ 1e-12/1e-6 = 1e-6 relative to entries of size 1e-2..1e3. Absolute bound
    # per entry scaled to the entry's order of magnitude set by the a/b columns (~1e3).
    assert np.all(np.abs(grad - fd) <= np.array([2e-2, 2e-2, 1e-4, 1e-4])), (grad, fd)
    # Independent check of the first spike's d t1/d b by the IFT on the closed-form-free
    # definition would need the flow's sensitivity; FD above is the truth here.
    assert abs(grad[1]) > 100.0


# ----- a small dense network ----------------------------------------------------------------


def _net_loss(W, spike_fn):
    """10 LIF neurons, dense recurrent weights W (mV per spike), Euler, dt 0.1 ms, 30 ms."""
    n = 10
    m = LIF(tau_m=10.0, t_ref=0.0, E_L=-65.0 * jnp.ones(n))
    drive = 18.0 + 2.0 * jnp.arange(n) / n  # heterogeneous suprathreshold drive (mV)
    from spikejax.solvers import Euler

    scheme = Euler()

    def step(carry, k):
        y, s_prev = carry
        I = drive + W @ s_prev / 0.1
        y = scheme.step(m, k * 0.1, y, I, 0.1)
        s = spike_fn(m.threshold_distance(y))
        r = m.reset(y)
        y = {name: (1 - s) * y[name] + s * r[name] for name in y}
        return (y, s), y["V"]

    (_, _), Vs = jax.lax.scan(step, (m.resting_state(), jnp.zeros(n)), jnp.arange(300))
    return jnp.mean(Vs)


def test_small_network_gradient_matches_fd_with_exact_spikes():
    # Exact (Heaviside) spikes: the loss is smooth in W as long as no spike decision flips
    # (checked by comparing rasters at W +- h); the gradient then equals the FD derivative.
    W0 = 0.2 * jax.random.normal(jax.random.key(3), (10, 10))
    idx = [(0, 1), (3, 7), (9, 2)]

    def f_entry(x, i, j):
        return _net_loss(W0.at[i, j].set(x[0]), Heaviside())

    grad = jax.grad(lambda W: _net_loss(W, Heaviside()))(W0)
    for i, j in idx:
        fd = central_fd(lambda x, i=i, j=j: f_entry(x, i, j), [float(W0[i, j])], 1e-6)[0]
        # Smooth pieces: FD error ~1e-9; atol 1e-6 on entries of size ~1e-2..1.
        assert abs(float(grad[i, j]) - fd) < 1e-6, (i, j, float(grad[i, j]), fd)
    assert float(jnp.max(jnp.abs(grad))) > 1e-3


# ----- implicit-function gradients of bifurcation currents -----------------------------------


def test_izhikevich_saddle_node_current_and_its_b_derivative():
    def I_sn(b):
        return F.saddle_node_current(IZ.replace(b=b), I_guess=3.0).I

    for b in (0.2, 0.25):
        # Closed form: I_SN = (b - 5)^2 / 0.16 - 140, dI/db = 2 (b - 5) / 0.16.
        np.testing.assert_allclose(float(jax.jit(I_sn)(b)), (b - 5) ** 2 / 0.16 - 140, atol=1e-9)
        np.testing.assert_allclose(float(jax.jit(jax.grad(I_sn))(b)), 2 * (b - 5) / 0.16,
                                   atol=1e-8)  # fmt: skip


# 15 s each on the CI machine; the Izhikevich saddle-node test keeps the bifurcation-current
# gradient in the default suite
@pytest.mark.slow
@pytest.mark.parametrize("name", ["gK", "gNa"])
def test_hh_hopf_current_gradient_matches_fd_of_relocated_hopf_points(name):
    def I_hopf(g):
        return F.hopf_current(HH.replace(**{name: g}), I_guess=9.0).I

    g0 = getattr(HH, name)
    vg = jax.jit(jax.value_and_grad(I_hopf))
    I0, grad = (float(v) for v in vg(g0))
    # The HH (1952, -65 mV convention) Hopf point of the rest state, ~9.78 uA/cm^2
    # (Rinzel & Miller 1980: I ~ 9.8). Checked here loosely; the gradient is the point.
    assert 9.5 < I0 < 10.1
    h = 1e-3
    fd = (float(vg(g0 + h)[0]) - float(vg(g0 - h)[0])) / (2 * h)
    # Newton converges to ~1e-12, so FD round-off is ~1e-9; truncation h^2 I''' < 1e-7.
    assert abs(grad - fd) < 1e-6, (grad, fd)


def test_bifurcation_current_failure_is_a_result_or_raises():
    # One Newton step cannot converge from I_guess = 3 (the fold of b = 0.2 is at I = 4).
    from spikejax.solvers import RESULTS

    pt = F.saddle_node_current(IZ.replace(b=0.2), I_guess=3.0, n_iter=1, throw=False)
    assert pt.result == RESULTS.nonlinear_max_steps_reached
    ok = F.saddle_node_current(IZ.replace(b=0.2), I_guess=3.0)
    assert ok.result == RESULTS.successful
    with pytest.raises(Exception, match="maximum number of steps"):
        jax.block_until_ready(F.saddle_node_current(IZ.replace(b=0.2), I_guess=3.0, n_iter=1).I)
