"""spikejax.simulate: closed forms (LIF), an independent scipy solve (HH), convergence orders,
populations, chunking, reproducibility and input errors. Time in ms throughout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hh_reference import hh_rhs as _hh_rhs_numpy
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

import spikejax as sj
from spikejax.models import LIF, FitzHughNagumo, HodgkinHuxley, Izhikevich
from spikejax.stimulus import Noise, Step


# ----- an independent Hodgkin-Huxley right-hand side (numpy, Hodgkin & Huxley 1952) -------------
def hh_rhs(t, s, I):
    return _hh_rhs_numpy(s, I)


@pytest.fixture(scope="module")
def hh_reference():
    """HH from rest under I = 10 uA/cm^2 for 50 ms, DOP853 at rtol = atol = 1e-11."""
    y0 = HodgkinHuxley().resting_state()
    s0 = [float(y0[k]) for k in "Vmhn"]
    sol = solve_ivp(
        hh_rhs,
        (0, 50),
        s0,
        args=(10.0,),
        method="DOP853",
        rtol=1e-11,
        atol=1e-11,
        dense_output=True,
    )
    grid = np.linspace(0, 50, 50001)
    V = sol.sol(grid)[0]
    up = np.nonzero((V[:-1] < 0) & (V[1:] >= 0))[0]
    spikes = np.array(
        [brentq(lambda t: sol.sol(t)[0], grid[i], grid[i + 1], xtol=1e-13) for i in up]
    )
    return sol, spikes


# ----- LIF against its closed form ---------------------------------------------------------------
def test_lif_subthreshold_trace_is_closed_form_exponential():
    # tau dV/dt = -(V - E_L) + R I, V(0) = E_L: V = E_L + R I (1 - exp(-t/tau)).
    # Exponential Euler is exact for this linear equation, so only round-off remains (1e-10).
    m = LIF(tau_m=20.0, E_L=-65.0, V_th=-50.0)
    res = sj.simulate(m, duration=100.0, dt=0.1, I=10.0, method="exponential_euler")
    exact = -65.0 + 10.0 * (1 - np.exp(-res.times / 20.0))
    np.testing.assert_allclose(res.V, exact, atol=1e-10)
    assert res.n_spikes == 0
    # RK4: local error O(dt^5): about (dt/tau)^5/120 * 10 mV per step -> < 1e-8 mV overall.
    res = sj.simulate(m, duration=100.0, dt=0.1, I=10.0, method="rk4")
    np.testing.assert_allclose(res.V, exact, atol=1e-8)


def test_lif_rate_matches_closed_form():
    m = LIF()
    I = jnp.array([16.0, 20.0, 30.0, 50.0])
    res = sj.simulate(m, duration=1000.0, dt=0.01, I=I, method="exponential_euler", record=())
    expected_isi = 1000.0 / np.asarray(m.rate(I))
    for train, T in zip(res.spike_trains(), expected_isi):
        # Fixed step: each threshold crossing is recorded at the end of its step and the
        # refractory clock counts whole steps, so every ISI is within 2 dt of the closed form.
        assert train.size >= 10
        np.testing.assert_allclose(np.diff(train), T, atol=2 * 0.01)


def test_lif_adaptive_event_times_are_exact():
    # From rest, a step current switched on at t_on = 7.3 ms (a jump the solver steps onto):
    # spike k at t_k = t_on + k T - t_ref with T = t_ref + tau ln((V_inf - V_r)/(V_inf - V_th)).
    # Event location by root finding: 1e-6 ms (solver rtol = atol = 1e-10).
    # Two cells (I = 20, 30) in one population: each event resets only the cell that fired.
    m = LIF(tau_m=20.0, E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0)
    I = np.array([20.0, 30.0])
    t_on = 7.3
    res = sj.simulate(
        m,
        duration=300.0,
        dt=0.5,
        I=Step(t_on, amplitude=I),
        method="adaptive",
        rtol=1e-10,
        atol=1e-10,
    )
    V_inf = -65.0 + I
    T = 2.0 + 20.0 * np.log((V_inf + 65.0) / (V_inf + 50.0))
    np.testing.assert_array_equal(res.n_spikes, np.floor((300.0 - t_on + 2.0) / T))
    t = res.times
    np.testing.assert_array_equal(res.V[t <= t_on], -65.0)
    for i in range(2):
        k = np.arange(1, res.n_spikes[i] + 1)
        np.testing.assert_allclose(res.spike_trains()[i], t_on + k * T[i] - 2.0, atol=1e-6)
        # Between spikes the saved trace follows the exponential approach to V_inf; during
        # the refractory period it stays at V_reset.
        since = t - t_on - np.floor((t - t_on + 2.0) / T[i]) * T[i] + 2.0
        active = (since > 2.0 + 1e-6) & (t > t_on)
        exact = V_inf[i] - (V_inf[i] + 65.0) * np.exp(-(since - 2.0) / 20.0)
        np.testing.assert_allclose(res.V[active, i], exact[active], atol=1e-6)
        refractory = (since < 2.0 - 1e-6) & (t > t_on + T[i])
        np.testing.assert_allclose(res.V[refractory, i], -65.0, atol=1e-9)


# ----- Hodgkin-Huxley against scipy ---------------------------------------------------------------
def test_hh_rest_stays_at_rest():
    res = sj.simulate(HodgkinHuxley(), duration=50.0, dt=0.01, I=0.0)
    # The resting state is an equilibrium: drift stays at round-off level (1e-9 mV).
    np.testing.assert_allclose(res.V, res.V[0], atol=1e-9)
    assert res.n_spikes == 0


def test_hh_repetitive_firing_matches_scipy(hh_reference):
    sol, spikes = hh_reference
    assert spikes.size == 4  # tonic firing at about 68 Hz
    res = sj.simulate(HodgkinHuxley(), duration=50.0, dt=0.01, I=10.0, method="rk4")
    # RK4 at dt = 0.01 ms: global error ~1e-5 ms in timing; linear interpolation of the
    # crossing adds O(dt^2 V''/V') ~ 1e-5 ms. Tolerance 1e-4 ms; V within 1e-3 mV.
    np.testing.assert_allclose(res.spike_times, spikes, atol=1e-4)
    np.testing.assert_allclose(res.V, sol.sol(res.times)[0], atol=1e-3)
    # The other state variables too (gates are dimensionless: 1e-5).
    for i, name in enumerate("mhn"):
        np.testing.assert_allclose(res.states[name], sol.sol(res.times)[i + 1], atol=1e-5)


@pytest.mark.slow
def test_hh_adaptive_matches_scipy(hh_reference):
    sol, spikes = hh_reference
    res = sj.simulate(
        HodgkinHuxley(), duration=50.0, dt=0.02, I=10.0, method="adaptive", rtol=1e-10, atol=1e-10
    )
    # Tsit5 at 1e-10 tolerances: trace within 1e-5 mV at the saved times; spike times are
    # located on the cubic Hermite interpolant between samples 0.02 ms apart (error O(h^4):
    # measured 3e-7 ms), tolerance 2e-6 ms.
    np.testing.assert_allclose(res.V, sol.sol(res.times)[0], atol=1e-5)
    np.testing.assert_allclose(res.spike_times, spikes, atol=2e-6)


@pytest.mark.parametrize(
    "method, dts",
    [
        ("euler", [0.02, 0.01, 0.005, 0.0025]),
        ("exponential_euler", [0.005, 0.0025, 0.00125, 0.000625]),
        ("rk4", [0.04, 0.02, 0.01, 0.005]),
    ],
)
def test_fixed_step_convergence_order_on_hh(method, dts):
    # Error of the state after 5 ms (through the first spike) vs a DOP853 solve at 1e-12.
    # The log-log slope must equal the scheme's order within 0.2 (pre-asymptotic curvature).
    hh = HodgkinHuxley()
    y0 = hh.resting_state()
    ref = solve_ivp(
        hh_rhs,
        (0, 5.0),
        [float(y0[k]) for k in "Vmhn"],
        args=(10.0,),
        method="DOP853",
        rtol=1e-12,
        atol=1e-12,
    ).y[:, -1]
    errs = []
    for dt in dts:
        # A fixed chunk size: one compilation serves every dt.
        res = sj.simulate(
            hh, duration=5.0, dt=dt, I=10.0, method=method, record=(), chunk_steps=125
        )
        errs.append(np.max(np.abs([res.final_state[k] - r for k, r in zip("Vmhn", ref)])))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    order = sj.solvers.get_scheme(method).order
    assert abs(slope - order) < 0.2, (errs, slope)


def test_fhn_euler_and_rk4_orders():
    # FitzHugh-Nagumo over one relaxation cycle (t = 0..20), reference: DOP853 at 1e-12.
    fhn = FitzHughNagumo()

    def rhs(t, s):
        v, w = s
        return [v - v**3 / 3 - w + 0.5, 0.08 * (v + 0.7 - 0.8 * w)]

    ref = solve_ivp(rhs, (0, 20.0), [-1.0, 0.0], method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1]
    for method, dts in [("euler", [0.02, 0.01, 0.005]), ("rk4", [0.2, 0.1, 0.05])]:
        errs = []
        for dt in dts:
            res = sj.simulate(
                fhn,
                duration=20.0,
                dt=dt,
                I=0.5,
                y0={"V": -1.0, "w": 0.0},
                method=method,
                record=(),
                chunk_steps=50,
            )
            errs.append(np.hypot(res.final_state["V"] - ref[0], res.final_state["w"] - ref[1]))
        slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
        assert abs(slope - sj.solvers.get_scheme(method).order) < 0.2, (method, errs)


# ----- populations ---------------------------------------------------------------------
def test_hh_population_of_10000_equals_cell_by_cell():
    n = 10_000
    I = jnp.linspace(0.0, 20.0, n)
    kw = dict(duration=10.0, dt=0.025, record="V", record_every=4)
    res = sj.simulate(HodgkinHuxley(), I=I, **kw)
    assert res.V.shape == (101, n) and res.n_spikes.shape == (n,)
    # Above the rheobase (~6.3 uA/cm^2 for a step from rest) cells fire; below ~2 they do not.
    assert np.all(res.n_spikes[np.asarray(I) < 2.0] == 0)
    assert np.all(res.n_spikes[np.asarray(I) > 10.0] >= 1)
    for i in [0, 1234, 5000, 7777, 9999]:
        one = sj.simulate(HodgkinHuxley(), I=float(I[i]), **kw)
        # Same arithmetic elementwise; XLA may fuse differently (vectorised vs scalar), so
        # allow round-off accumulated over 400 steps (1e-8 mV, 1e-9 ms).
        np.testing.assert_allclose(res.V[:, i], one.V, atol=1e-8)
        assert res.n_spikes[i] == one.n_spikes
        np.testing.assert_allclose(res.spike_times[i, : one.n_spikes], one.spike_times, atol=1e-9)


def test_heterogeneous_parameters_and_no_recompile():
    from spikejax._simulate import TRACE_COUNT

    m = LIF(tau_m=jnp.array([10.0, 20.0, 40.0]))
    res = sj.simulate(m, duration=60.0, dt=0.1, I=20.0, method="exponential_euler")
    assert res.V.shape == (601, 3)
    # Different time constants -> first spikes at tau ln 4, recorded at the end of the step
    # in which V crosses threshold (within dt = 0.1 ms after the exact time).
    exact = np.array([10.0, 20.0, 40.0]) * np.log(4)
    assert np.all((res.spike_times[:, 0] >= exact) & (res.spike_times[:, 0] < exact + 0.1))
    # New parameter values (and currents) of the same shapes reuse the compiled loop.
    before = TRACE_COUNT[0]
    sj.simulate(
        LIF(tau_m=jnp.array([11.0, 21.0, 41.0]), V_th=-49.0),
        duration=60.0,
        dt=0.1,
        I=21.0,
        method="exponential_euler",
    )
    assert TRACE_COUNT[0] == before


# ----- chunking, continuation, reproducibility ---------------------------------------------------
def test_chunked_and_continued_runs_equal_one_run(key):
    m = Izhikevich.preset("RS")
    I = Step(5.0, amplitude=10.0) + Noise(sigma=3.0)
    kw = dict(I=I, key=key, method="euler", record_every=4)
    full = sj.simulate(m, duration=300.0, dt=0.1, **kw)
    # chunk_steps=102 is rounded down to 100 (a multiple of record_every); the continued runs
    # use the same chunk size, so they share its compiled loop.
    chunked = sj.simulate(m, duration=300.0, dt=0.1, chunk_steps=102, **kw)
    np.testing.assert_array_equal(full.V, chunked.V)
    np.testing.assert_array_equal(full.spike_times, chunked.spike_times)
    first = sj.simulate(m, duration=100.0, dt=0.1, chunk_steps=100, **kw)
    second = sj.simulate(
        m, duration=200.0, dt=0.1, chunk_steps=100, y0=first.final_state, t0=first.t_final, **kw
    )
    # Times t0 + k dt vs (n + k) dt differ by round-off only (1e-12 relative).
    np.testing.assert_allclose(np.concatenate([first.V, second.V[1:]]), full.V, rtol=1e-12)
    both = np.concatenate([first.spike_times, second.spike_times])
    np.testing.assert_allclose(both, full.spike_times, rtol=1e-12)
    assert full.n_spikes > 5


def test_ou_noise_continuation(key):
    # A run continued from final_state and final_stimulus_state (the OU current) equals the
    # unbroken run (OU statistics are checked in test_stimulus.py).
    noise = Noise(sigma=2.0, mean=1.0, tau=5.0)
    m = LIF(V_th=1e6)  # never spikes: V integrates the OU current, a linear filter
    a = sj.simulate(m, duration=50.0, dt=0.1, I=noise, key=key, method="euler")
    b = sj.simulate(m, duration=25.0, dt=0.1, I=noise, key=key, method="euler")
    c = sj.simulate(
        m,
        duration=25.0,
        dt=0.1,
        I=noise,
        key=key,
        method="euler",
        y0=b.final_state,
        t0=b.t_final,
        stimulus_state=b.final_stimulus_state,
    )
    np.testing.assert_allclose(np.concatenate([b.V, c.V[1:]]), a.V, rtol=1e-12)


def test_same_key_same_result_different_key_different(key):
    m = LIF()
    I = Noise(sigma=20.0, mean=14.0)
    r1 = sj.simulate(m, duration=200.0, dt=0.1, I=I, key=key, method="euler", record=())
    r2 = sj.simulate(m, duration=200.0, dt=0.1, I=I, key=key, method="euler", record=())
    r3 = sj.simulate(
        m, duration=200.0, dt=0.1, I=I, key=jax.random.key(1), method="euler", record=()
    )
    np.testing.assert_array_equal(r1.spike_times, r2.spike_times)
    assert r1.n_spikes > 0
    assert r1.spike_times.shape != r3.spike_times.shape or not np.array_equal(
        r1.spike_times, r3.spike_times
    )


def test_white_noise_variance_through_lif_filter(key):
    # dV = -(V - E_L)/tau dt + (sigma/tau) dW (R = 1): stationary variance sigma^2 / (2 tau).
    # Euler-Maruyama at dt = 0.1 ms has variance sigma^2 dt / (tau^2 (1 - (1 - dt/tau)^2)).
    # 2000 cells at the final time: relative standard error of a variance sqrt(2/2000) = 3.2%,
    # so 5 sigma = 16%.
    sigma, tau, dt = 4.0, 10.0, 0.1
    m = LIF(tau_m=tau, V_th=1e6, E_L=0.0, V_reset=-1.0, t_ref=0.0)
    res = sj.simulate(
        m,
        duration=100.0,
        dt=dt,
        I=Noise(sigma=sigma) + jnp.zeros(2000),
        key=key,
        method="euler",
        record=(),
    )
    var = np.var(res.final_state["V"])
    a = 1 - dt / tau
    expected = sigma**2 * dt / tau**2 / (1 - a**2) * (1 - a ** (2 * 1000))
    assert abs(var / expected - 1) < 0.16


def test_max_spikes_overflow_raises_and_auto_grows():
    m = LIF(t_ref=0.0)
    # I = 40: ISI = 20 ln(40/25) = 9.4 ms, so about 53 spikes in 500 ms.
    with pytest.raises(ValueError, match=r"max_spikes=3 .*fired 5[0-9] spikes"):
        sj.simulate(m, duration=500.0, dt=0.1, I=40.0, max_spikes=3, method="exponential_euler")
    # No cap (max_spikes=None): every spike is kept. I = 200: ISI = 20 ln(200/185) =
    # 1.559 ms; exponential Euler is exact here and the threshold is checked at step ends, so
    # each ISI is rounded up to 16 steps (1.6 ms) and exactly floor(500 / 1.6) = 312 fire.
    res = sj.simulate(
        m, duration=500.0, dt=0.1, I=200.0, method="exponential_euler", chunk_steps=2000, record=()
    )
    assert res.n_spikes == 312
    np.testing.assert_allclose(np.diff(res.spike_times), 1.6, atol=1e-9)
    assert not np.any(np.isnan(res.spike_times))


def test_record_every_and_subset():
    m = Izhikevich.preset("RS")
    kw = dict(duration=100.0, dt=0.1, I=10.0, method="euler")
    res = sj.simulate(m, record=["u"], record_every=100, **kw)
    assert list(res.states) == ["u"] and res.states["u"].shape == (11,)
    np.testing.assert_allclose(res.times, np.arange(0.0, 101.0, 10.0))
    full = sj.simulate(m, **kw)
    np.testing.assert_array_equal(res.states["u"], full.states["u"][::100])
    np.testing.assert_array_equal(res.spike_times, full.spike_times)
    with pytest.raises(ValueError, match="membrane potential 'V' was not recorded"):
        _ = res.V


# ----- bad input -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(duration=10.0, dt=0.0), "dt must be finite and > 0"),
        (dict(duration=10.0, dt=-0.1), "dt must be finite and > 0"),
        (dict(duration=0.0, dt=0.1), "duration must be finite and > 0"),
        (dict(duration=float("nan"), dt=0.1), "duration must be finite"),
        (dict(duration=10.0, dt=float("nan")), "dt must be finite"),
        (dict(duration=1.0, dt=2.0), "dt must be <= duration"),
        (dict(duration=10.0, dt=0.1, I=float("nan")), "I must be finite"),
        (dict(duration=10.0, dt=0.1, I=jnp.ones(4)), r"I of shape \(4,\) does not broadcast"),
        (dict(duration=10.0, dt=0.1, record_every=0), "record_every must be an integer >= 1"),
        (dict(duration=10.0, dt=0.1, record="q"), "record names unknown state"),
        (dict(duration=10.0, dt=0.1, y0={"q": 1.0}), "y0 has unknown state"),
        (dict(duration=10.0, dt=0.1, method="midpoint"), "method must be one of"),
        (dict(duration=10.0, dt=0.1, I=Noise()), "key"),
        (dict(duration=10.0, dt=0.1, max_spikes=0), "max_spikes must be an integer >= 1"),
    ],
)
def test_bad_input(kwargs, match):
    m = LIF(tau_m=jnp.array([10.0, 20.0, 30.0]))
    with pytest.raises(ValueError, match=match):
        sj.simulate(m, **kwargs)


def test_simulate_under_jax_transformations_points_to_solve_fixed():
    # simulate is the host-side driver: traced inputs get a clear error naming the
    # differentiable solve instead of a TracerArrayConversionError from deep inside.
    def run(g):
        return sj.simulate(LIF(tau_m=g), duration=5.0, dt=0.1, I=20.0).V.sum()

    for transform in (jax.grad, jax.jit, jax.vmap):
        arg = jnp.array([20.0, 21.0]) if transform is jax.vmap else 20.0
        with pytest.raises(TypeError, match=r"traced model .*spikejax\.fit\.solve_fixed"):
            transform(run)(arg)
    with pytest.raises(TypeError, match="traced I"):
        jax.grad(lambda I: sj.simulate(LIF(), duration=5.0, dt=0.1, I=I).V.sum())(20.0)


def test_duration_is_rounded_to_whole_steps():
    # The run takes round(duration / dt) steps: 1.04 ms at dt 0.1 is 10 steps, ending at 1.0.
    res = sj.simulate(LIF(), duration=1.04, dt=0.1, I=5.0, method="exponential_euler")
    assert res.times.size == 11 and res.t_final == pytest.approx(1.0, abs=1e-12)
    res = sj.simulate(LIF(), duration=1.06, dt=0.1, I=5.0, method="exponential_euler")
    assert res.times.size == 12 and res.t_final == pytest.approx(1.1, abs=1e-12)
