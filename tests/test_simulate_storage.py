"""spikejax.simulate spike storage (per-word spike flags) and the fused Hodgkin-Huxley
exponential Euler step, against closed forms and independent bookkeeping. Time in ms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax as sj
import spikejax._simulate as sim
from spikejax.models import LIF, HodgkinHuxley
from spikejax.solvers import ExponentialEuler, exponential_euler_step

DT = 0.1
TAU = 20.0


def _lif_periodic_current(period_steps):
    """LIF (E_L = V_reset = -65, V_th = -50, t_ref = 0) current that fires exactly every
    `period_steps` steps: from reset V_k = -65 + I (1 - a^k), a = exp(-dt/tau); I is chosen
    so the threshold is crossed half a step before step `period_steps` (a robust margin)."""
    a = np.exp(-DT / TAU)
    return 15.0 / (1.0 - a ** (np.asarray(period_steps, float) - 0.5))


@pytest.mark.parametrize("chunk_steps", [None, 37])
def test_every_spike_is_kept_up_to_one_spike_per_step(chunk_steps):
    # Periods 1, 2, 3, 5, 40 steps and a silent neuron (I = 0). Periods below the 32-step
    # spike word force re-runs with shorter words; no spike may be lost. Truth: spikes at
    # the ends of steps s, 2s, ... (times j*s*dt); 1e-9 ms is float64 round-off of t0 + k dt.
    periods = np.array([1, 2, 3, 5, 40])
    I = np.append(_lif_periodic_current(periods), 0.0)
    m = LIF(t_ref=0.0)
    n_steps = 500
    res = sj.simulate(
        m,
        duration=n_steps * DT,
        dt=DT,
        I=jnp.asarray(I),
        method="exponential_euler",
        record=(),
        chunk_steps=chunk_steps,
    )
    for i, s in enumerate(periods):
        expected = DT * s * np.arange(1, n_steps // s + 1)
        assert res.n_spikes[i] == expected.size
        np.testing.assert_allclose(res.spike_times[i, : expected.size], expected, atol=1e-9)
        assert np.all(np.isnan(res.spike_times[i, expected.size :]))
    assert res.n_spikes[-1] == 0


def test_continuous_spike_times_match_interpolated_recorded_trace(monkeypatch):
    # HH population, spikes = upward 0 mV crossings, time linearly interpolated between steps.
    # Independent truth: the same interpolation applied in numpy to the recorded V trace
    # (float64, identical operands -> agreement to 1e-12 ms). A tiny per-call output budget
    # splits each piece into many device calls; results must not change.
    m = HodgkinHuxley()
    I = jnp.linspace(0.0, 30.0, 7)
    kw = dict(duration=60.0, dt=0.01, I=I, method="exponential_euler", record=("V",))
    res = sj.simulate(m, **kw)
    V = res.V
    up = (V[:-1] < 0.0) & (V[1:] >= 0.0)
    for i in range(I.size):
        k = np.nonzero(up[:, i])[0]
        t = res.times[k] + 0.01 * (0.0 - V[k, i]) / (V[k + 1, i] - V[k, i])
        assert res.n_spikes[i] == k.size
        np.testing.assert_allclose(res.spike_times[i, : k.size], t, rtol=0, atol=1e-12)
    assert res.n_spikes.sum() > 20  # the test is not vacuous
    monkeypatch.setattr(sim, "_WORD_BUDGET", 50)
    split = sj.simulate(m, chunk_steps=777, **{**kw, "record": ()})
    np.testing.assert_array_equal(split.spike_times, res.spike_times)
    np.testing.assert_array_equal(split.final_state["V"], res.final_state["V"])


def test_fused_hh_exponential_euler_equals_generic_step():
    # The fused step is the generic update rearranged: agreement to float64 round-off
    # (1e-12 mV on V, whose update involves terms ~1e3; 1e-14 on the gates in [0, 1]),
    # including at the removable singularities V = -40 and -55 mV of the linoid rates.
    rng = np.random.default_rng(1)
    V = np.concatenate([np.linspace(-100.0, 60.0, 2001), [-40.0, -55.0, -40.0 + 1e-9]])
    y = {"V": jnp.asarray(V), **{k: jnp.asarray(rng.uniform(0, 1, V.size)) for k in "mhn"}}
    I = jnp.asarray(rng.uniform(-10, 30, V.size))
    m = HodgkinHuxley(gNa=jnp.asarray(rng.uniform(50, 150, V.size)))
    for dt in (0.001, 0.01, 0.1):
        fused = ExponentialEuler().step(m, 0.0, y, I, dt)
        generic = exponential_euler_step(m, 0.0, y, I, dt)
        np.testing.assert_allclose(fused["V"], generic["V"], rtol=0, atol=1e-12)
        for k in "mhn":
            np.testing.assert_allclose(fused[k], generic[k], rtol=0, atol=1e-14)

    # Gradients (used by spikejax.fit) agree too, and are finite at the singular points:
    # d sum(V_{n+1}) / d gNa by autodiff through both steps (1e-9 relative: round-off).
    def v_next(g, fused):
        mg = HodgkinHuxley(gNa=g)
        if fused:
            return jnp.sum(mg.exponential_euler_step(0.0, y, I, 0.01)["V"])
        return jnp.sum(exponential_euler_step(mg, 0.0, y, I, 0.01)["V"])

    g_fused, g_generic = jax.grad(v_next)(120.0, True), jax.grad(v_next)(120.0, False)
    assert np.isfinite(g_fused)
    np.testing.assert_allclose(g_fused, g_generic, rtol=1e-9)
    # A passive membrane (all conductances 0): phi1 at z = 0 gives V + dt I / C exactly.
    p = HodgkinHuxley(gNa=0.0, gK=0.0, gL=0.0)
    out = p.exponential_euler_step(0.0, y, I, 0.01)
    np.testing.assert_allclose(out["V"], y["V"] + 0.01 * I, rtol=0, atol=1e-12)


def test_hh_subclass_with_new_dynamics_uses_generic_scheme():
    class SlowGates(HodgkinHuxley):
        def vector_field(self, t, y, args):
            f = super().vector_field(t, y, args)
            return {**f, "m": 0.5 * f["m"]}

    m = SlowGates()
    y = {k: jnp.asarray([v]) for k, v in HodgkinHuxley().resting_state().items()}
    y["V"] = jnp.asarray([-50.0])
    assert m.exponential_euler_step(0.0, y, 5.0, 0.01) is None
    # Independent truth (numpy): the generic update m + dt phi1(a_m dt) f_m with the
    # subclass' f_m = 0.5 (alpha (1 - m) - beta m) and the inherited closed-form diagonal
    # a_m = -(alpha + beta); phi1(z) = expm1(z)/z. Round-off only (rtol 1e-12).
    out = ExponentialEuler().step(m, 0.0, y, 5.0, 0.01)
    r = {k: np.asarray(v) for k, v in HodgkinHuxley.rates(y["V"]).items()}
    mm = np.asarray(y["m"])
    z = -(r["alpha_m"] + r["beta_m"]) * 0.01
    f = 0.5 * (r["alpha_m"] * (1 - mm) - r["beta_m"] * mm)
    np.testing.assert_allclose(out["m"], mm + 0.01 * np.expm1(z) / z * f, rtol=1e-12)


@pytest.mark.parametrize("model_name", ["lif", "hh"])
def test_fused_step_with_synaptic_conductances_equals_generic_step(model_name):
    # Networks feed conductance synapses g (E - V) into the fused steps (`conductances=`).
    # Reference: the generic exponential Euler step (phi1 with the autodiff diagonal of the
    # network's driven vector field), which shares no code with the fused formulas.
    # Agreement to float64 round-off: 1e-11 mV (V terms ~1e2-1e3 mV), 1e-14 on the rest.
    from spikejax.solvers import Driven as _Driven

    rng = np.random.default_rng(4)
    n = 500
    if model_name == "lif":
        m = LIF(tau_m=jnp.asarray(rng.uniform(5, 30, n)), E_L=-60.0, V_th=-50.0, V_reset=-60.0)
        ref = np.where(rng.random(n) < 0.3, rng.uniform(0.05, 3.0, n), 0.0)
        y = {"V": jnp.asarray(rng.uniform(-80, -50, n)), "refractory": jnp.asarray(ref)}
    else:
        m = HodgkinHuxley()
        y = {"V": jnp.asarray(rng.uniform(-90, 40, n))}
        y.update({k: jnp.asarray(rng.uniform(0, 1, n)) for k in "mhn"})
    I = jnp.asarray(rng.uniform(-5, 25, n))
    conds = [(jnp.asarray(rng.uniform(0, 2, n)), 0.0), (jnp.asarray(rng.uniform(0, 5, n)), -80.0)]
    driven = _Driven(m, conds)
    for dt in (0.01, 0.1, 0.5):
        fused = ExponentialEuler().step(driven, 0.0, y, I, dt)
        assert fused is not None and driven.exponential_euler_step(0.0, y, I, dt) is not None
        generic = exponential_euler_step(driven, 0.0, y, I, dt)
        for k in y:
            atol = 1e-11 if k == "V" else 1e-14
            np.testing.assert_allclose(fused[k], generic[k], rtol=0, atol=atol)
    if model_name == "lif":
        # refractory neurons keep V and count down; the others move towards V_inf
        frozen = np.asarray(y["refractory"]) > 0
        np.testing.assert_array_equal(np.asarray(fused["V"])[frozen], np.asarray(y["V"])[frozen])
        assert np.all(np.asarray(fused["V"])[~frozen] != np.asarray(y["V"])[~frozen])


def test_float32_long_run_spike_times_are_exact_step_times():
    # 1000 s at dt = 0.05 ms (2e7 steps) in float32. A hybrid spike ends its step, so each time
    # is (k + 1) dt for an integer step k; float32 times would be quantised to 1/16 ms near
    # 1e6 ms. Times are formed on the host in float64 from the integer step index: every time
    # is a whole number of steps (to float64 rounding, < 1e-6 step), and because every cycle
    # from the reset is the same float32 trajectory, every ISI is the same number of steps.
    m, dt, I = LIF(), 0.05, 20.0
    with jax.enable_x64(False):
        res = sj.simulate(m, duration=1_000_000.0, dt=dt, I=I, method="exponential_euler",
                          record=())  # fmt: skip
    st = res.spike_trains()[0]
    assert st.dtype == np.float64 and st.size > 30_000 and st[-1] > 999_900.0
    steps = st / dt
    np.testing.assert_allclose(steps, np.round(steps), rtol=0, atol=1e-6)
    isi_steps = np.round(np.diff(steps))
    assert np.all(isi_steps == isi_steps[0])
    # ... and the ISI is the closed-form one rounded up to whole steps (threshold test at the
    # end of each step): T = t_ref + tau ln(R I / (R I - (V_th - V_reset))) = 29.7259 ms.
    T = 1000.0 / float(m.rate(I))
    assert 0 <= isi_steps[0] * dt - T < dt + 1e-9
