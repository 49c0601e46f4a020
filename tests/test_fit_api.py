"""Losses, input validation, reparametrisation and checkpointing memory of spikejax.fit."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import spikejax
from spikejax import fit as F
from spikejax.models import LIF, HodgkinHuxley, Izhikevich
from spikejax.solvers import RESULTS


def test_exported_from_package_root():
    assert spikejax.fit.fit is F.fit


# ----- losses --------------------------------------------------------------------------------


def test_van_rossum_matches_numerical_integral_and_gradient():
    a = np.array([3.0, 10.0, 11.5])
    b = np.array([4.0, 12.0])
    tau = 2.0
    t = np.arange(-10.0, 80.0, 1e-3)

    def trace(times):
        return sum(np.where(t >= s, np.exp(-(t - s) / tau), 0.0) for s in times)

    # Independent truth: (1/tau) * integral (f_a - f_b)^2 dt by the trapezoid rule (h = 1 us;
    # the kernel jumps at spikes, so the rule's error is O(h) = ~1e-3 relative: atol 2e-3).
    numeric = np.trapezoid((trace(a) - trace(b)) ** 2, t) / tau
    np.testing.assert_allclose(float(F.van_rossum_distance(a, b, tau=tau)), numeric, atol=2e-3)
    # Masked entries are ignored.
    d_mask = F.van_rossum_distance(np.r_[a, 50.0], b, tau=tau, valid_a=[1, 1, 1, 0])
    np.testing.assert_allclose(float(d_mask), float(F.van_rossum_distance(a, b, tau=tau)),
                               rtol=1e-14)  # fmt: skip
    # One spike against none: 1/2 (closed form).
    np.testing.assert_allclose(float(F.van_rossum_distance([5.0], [5.0], tau=3.0, valid_b=[0])),
                               0.5, rtol=1e-14)  # fmt: skip
    # Gradient w.r.t. spike times vs central differences (smooth away from coincidences).
    g = np.asarray(jax.grad(lambda x: F.van_rossum_distance(x, b, tau=tau))(jnp.asarray(a)))
    h = 1e-6
    fd = [
        (
            F.van_rossum_distance(a + h * e, b, tau=tau)
            - F.van_rossum_distance(a - h * e, b, tau=tau)
        )
        / (2 * h)
        for e in np.eye(3)
    ]
    np.testing.assert_allclose(g, np.asarray(fd), atol=1e-8)  # FD error ~ h^2 + 1e-16/h


def test_rates_and_trace_losses():
    s = np.zeros((100, 4))
    s[::10, :2] = 1.0  # neurons 0,1 fire every 10 steps of 0.5 ms: 200 Hz
    np.testing.assert_allclose(F.firing_rate(s, dt=0.5), [200.0, 200.0, 0.0, 0.0])
    pr = F.population_rate(s, dt=0.5, bin_steps=10)
    np.testing.assert_allclose(pr, np.full(10, 100.0))  # half the population at 200 Hz
    assert float(F.trace_mse([1.0, 2.0], [1.0, 4.0])) == 2.0
    assert float(F.trace_mse([1.0, 2.0], [1.0, 4.0], mask=[1, 0])) == 0.0
    assert float(F.fi_curve_error([1.0, 3.0], [2.0, 3.0])) == 0.5
    assert float(F.population_rate_error([1.0, 3.0], [1.0, 1.0])) == 2.0


def test_loss_input_validation():
    with pytest.raises(ValueError, match="tau"):
        F.van_rossum_distance([1.0], [2.0], tau=0.0)
    with pytest.raises(ValueError, match="tau"):
        F.van_rossum_distance([1.0], [2.0], tau=float("nan"))
    with pytest.raises(ValueError, match="dt"):
        F.firing_rate(np.zeros(3), dt=-1.0)
    with pytest.raises(ValueError, match="bin_steps"):
        F.population_rate(np.zeros((4, 2)), dt=1.0, bin_steps=0)


# ----- the fitting API -----------------------------------------------------------------------


def test_fit_reparametrisations_keep_parameters_in_range_and_converge():
    # A quadratic loss whose minimum lies outside the box: the bounded parameter must stay
    # inside (sigmoid map), approach the edge, and the positive one converge to its target.
    m = LIF(tau_m=20.0, R=1.0)

    def loss(m):
        return (m.tau_m - 5.0) ** 2 + (m.R - 3.0) ** 2

    res = F.fit(m, loss, params=("tau_m", "R"), bounds={"R": (0.5, 2.0)},
                optimizer=optax.adam(0.1), steps=300)  # fmt: skip
    hist = np.asarray(res.params_history["R"])
    assert np.all((hist > 0.5) & (hist < 2.0))
    assert 1.95 < float(res.model.R) < 2.0
    np.testing.assert_allclose(float(res.model.tau_m), 5.0, atol=1e-3)  # Adam's last jitter
    assert np.all(np.asarray(res.params_history["tau_m"]) > 0)
    assert res.loss_history.shape == (300,)
    # softplus positivity (gradient descent contracts the error by ~0.6 per step).
    res2 = F.fit(m, loss, params=("tau_m",), positive_transform="softplus",
                 optimizer=optax.sgd(0.2), steps=100)  # fmt: skip
    np.testing.assert_allclose(float(res2.model.tau_m), 5.0, atol=1e-3)


def test_fit_with_filter_and_progress():
    import equinox as eqx

    class Quad(eqx.Module):
        w: jax.Array
        k: int = eqx.field(static=True, default=3)

    res = F.fit(Quad(w=jnp.array([1.0, -2.0])), lambda q: jnp.sum((q.w - 0.5) ** 2),
                params=eqx.is_inexact_array, optimizer=optax.sgd(0.1), steps=100,
                progress=True)  # fmt: skip
    # Plain gradient descent on a quadratic: error shrinks by 0.8^100 ~ 2e-10.
    np.testing.assert_allclose(np.asarray(res.model.w), [0.5, 0.5], atol=1e-8)


def test_fit_input_validation():
    m = HodgkinHuxley()
    loss = lambda m: m.gNa  # noqa: E731
    with pytest.raises(ValueError, match="gXX"):
        F.fit(m, loss, params=("gXX",))
    with pytest.raises(ValueError, match="steps"):
        F.fit(m, loss, params=("gNa",), steps=0)
    with pytest.raises(ValueError, match="bounds"):
        F.fit(m, loss, params=("gNa",), bounds={"gNa": (200.0, 300.0)})
    with pytest.raises(ValueError, match="lo < hi"):
        F.fit(m, loss, params=("gNa",), bounds={"gNa": (300.0, 100.0)})
    with pytest.raises(ValueError, match="non-trainable"):
        F.fit(m, loss, params=("gNa",), bounds={"gK": (1.0, 100.0)})
    with pytest.raises(ValueError, match="positive"):
        F.fit(Izhikevich(), lambda m: m.c, params=("c",), positive=True)
    with pytest.raises(ValueError, match="positive_transform"):
        F.fit(m, loss, params=("gNa",), positive_transform="exp")
    with pytest.raises(ValueError, match="batch"):
        F.fit_many(m, loss, params=("gNa",))


def test_solver_input_validation():
    m = LIF()
    y0 = m.resting_state()
    with pytest.raises(ValueError, match="dt"):
        F.solve_fixed(m, y0, 0.0, dt=0.0, n_steps=10)
    with pytest.raises(ValueError, match="n_steps"):
        F.solve_fixed(m, y0, 0.0, dt=0.1, n_steps=-1)
    with pytest.raises(ValueError, match="checkpoint_every"):
        F.solve_fixed(m, y0, 0.0, dt=0.1, n_steps=10, checkpoint_every=0)
    with pytest.raises(ValueError, match="stimulus"):
        F.solve_fixed(m, y0, jnp.zeros(5), dt=0.1, n_steps=10)
    with pytest.raises(ValueError, match="method"):
        F.solve_fixed(m, y0, 0.0, dt=0.1, n_steps=10, method="rk7")
    with pytest.raises(ValueError, match="hybrid"):
        F.event_spike_times(HodgkinHuxley(), HodgkinHuxley().resting_state(), 0.0, t0=0.0,
                            t1=1.0, max_spikes=1)  # fmt: skip
    with pytest.raises(ValueError, match="shape"):
        F.saddle_node_current(Izhikevich(b=jnp.array([0.2, 0.25])), I_guess=3.0)


def test_solve_fixed_lif_matches_closed_form_and_accumulate():
    # Exponential Euler is exact for the LIF membrane: V(t) = E_L + R I (1 - e^{-t/tau})
    # below threshold (here R I = 10 < 15 mV).
    m = LIF()
    sol = F.solve_fixed(m, m.resting_state(), 10.0, dt=0.1, n_steps=200, method="exponential_euler")
    expected = -65.0 + 10.0 * (1 - np.exp(-np.asarray(sol.ts) / 20.0))
    np.testing.assert_allclose(np.asarray(sol.ys["V"]), expected, atol=1e-10)
    np.testing.assert_allclose(np.asarray(sol.ts)[[0, -1]], [0.1, 20.0], rtol=1e-14)
    acc = F.solve_fixed(m, m.resting_state(), 10.0, dt=0.1, n_steps=200,
                        method="exponential_euler", accumulate=True,
                        observe=lambda t, y, s, d: y["V"] - d, data=jnp.asarray(expected),
                        checkpoint_every=30)  # fmt: skip
    assert abs(float(acc.ys)) < 1e-8


# ----- checkpointing keeps memory bounded ---------------------------------------------------


def test_checkpointing_bounds_gradient_memory():
    hh = HodgkinHuxley()
    y0 = hh.resting_state()

    def temp_bytes(n, k):
        target = jnp.zeros(n)

        def loss(g):
            sol = F.solve_fixed(hh.replace(gNa=g), y0, 10.0, dt=0.025, n_steps=n, method="euler",
                                checkpoint_every=k, data=target, accumulate=True,
                                observe=lambda t, y, s, d: (y["V"] - d) ** 2)  # fmt: skip
            return sol.ys / n

        compiled = jax.jit(jax.grad(loss)).lower(120.0).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    plain = temp_bytes(1000, None), temp_bytes(10000, None)
    ckpt = temp_bytes(1000, 100), temp_bytes(10000, 100)
    # Without checkpointing the stored residuals grow with the trace: ~10x for 10x steps.
    assert plain[1] / plain[0] > 8.0, plain
    # With segments of 100 steps the backward pass stores 10 -> 100 boundary states plus one
    # segment's residuals: the temp memory grows far less (measured ~1.1x; bound 2x).
    assert ckpt[1] / ckpt[0] < 2.0, ckpt
    assert ckpt[1] < plain[1] / 10


# ----- failures are reported, never read as "no spike" ----------------------------------------


@pytest.mark.slow  # > 20 s on a 2-core machine; run with -m slow
def test_event_solve_failure_raises_or_is_returned():
    m = Izhikevich()
    y0 = m.resting_state()
    kw = dict(t0=0.0, t1=10.0, max_spikes=1)
    ok = F.event_spike_times(m, y0, 10.0, **kw)
    assert ok.result == RESULTS.successful and int(ok.count) == 1
    # Two solver steps cannot reach the first spike (near 3.1 ms).
    bad = jax.jit(lambda m: F.event_spike_times(m, y0, 10.0, max_steps=2, throw=False, **kw))(m)
    assert bad.result == RESULTS.max_steps_reached
    assert not bool(jnp.any(bad.valid))
    with pytest.raises(eqx.EquinoxRuntimeError, match="maximum number of solver steps"):
        F.event_spike_times(m, y0, 10.0, max_steps=2, **kw)
    # solve_adaptive passes throw through to diffrax.
    sol = F.solve_adaptive(HodgkinHuxley(), HodgkinHuxley().resting_state(), 10.0, t0=0.0,
                           t1=20.0, max_steps=2, throw=False)  # fmt: skip
    assert sol.result != diffrax.RESULTS.successful
    with pytest.raises(eqx.EquinoxRuntimeError):
        F.solve_adaptive(HodgkinHuxley(), HodgkinHuxley().resting_state(), 10.0, t0=0.0,
                         t1=20.0, max_steps=2)  # fmt: skip
