"""Adaptive simulation of hybrid (threshold-reset) models in float32 and float64.

`simulate(..., method="adaptive")` locates each threshold crossing by a diffrax event and
restarts from the reset. The truths are independent of spikejax: the LIF's closed-form
interspike interval, and for Izhikevich and INaP a scipy DOP853 solve (rtol = atol = 1e-12)
of the equations written out here in numpy, with scipy's own event location and the reset
applied by hand. Currents are those of the models' F-I tests (`test_fi_excitability.py`) and
the INaP currents 20, 30, 60 uA/cm^2 where the adaptive solve used to fail.
"""

import jax
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import spikejax as sj
from spikejax.models import LIF, INaP, Izhikevich
from spikejax.solvers import Adaptive

DURATION = 200.0  # ms


def _simulate(model, I, y0, dtype, **kw):
    """Spike trains (float64 on the host) of an adaptive run, with x64 on or off."""
    with jax.enable_x64(dtype == "float64"):
        res = sj.simulate(model, duration=DURATION, dt=1.0, I=np.asarray(I), y0=y0,
                          method="adaptive", record=(), **kw)  # fmt: skip
        assert res.final_state[model.voltage_name].dtype == np.dtype(dtype)
    return [np.asarray(s, float) for s in res.spike_trains()]


def _scipy_spikes(rhs, x0, peak, reset, t_end=DURATION):
    """Spike times of a hybrid model by scipy DOP853 with a terminal upward event."""

    def event(t, x):
        return x[0] - peak

    event.terminal, event.direction = True, 1.0
    t, x, spikes = 0.0, np.asarray(x0, float), []
    while t < t_end:
        sol = solve_ivp(rhs, (t, t_end), x, method="DOP853", rtol=1e-12, atol=1e-12,
                        events=event)  # fmt: skip
        if sol.status != 1:
            break
        t = float(sol.t_events[0][0])
        spikes.append(t)
        x = reset(sol.y_events[0][0])
    return np.array(spikes)


# Tolerances (ms) on every spike time over 200 ms, set by the solve's default tolerances (the
# event itself is located to ~1e-10 relative). float64: rtol 1e-8 / atol 1e-10; the errors
# accumulate over up to 37 resets, measured worst 7e-6 ms (Izhikevich FS), bound 5e-5.
# float32: rtol 1e-5 / atol 1e-6 and a time resolution of 1.5e-5 ms at 200 ms; measured
# worst 3.1e-3 ms (INaP), bound 2e-2 ms (1e-4 of the run, far below any ISI).
TOL = {"float64": 5e-5, "float32": 2e-2}
DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_lif_adaptive_matches_closed_form_isi(dtype):
    # From rest at E_L = V_reset: first spike at T - t_ref, then every
    # T = tau ln(R I / (R I - (V_th - V_reset))) + t_ref.
    m = LIF()
    I = np.array([10.0, 16.0, 20.0, 30.0])
    trains = _simulate(m, I, None, dtype)
    assert len(trains[0]) == 0  # R I = 10 mV < 15 mV: never reaches threshold
    for i in range(1, 4):
        T = 20.0 * np.log(I[i] / (I[i] - 15.0)) + 2.0
        n = int(np.floor((DURATION + 2.0) / T))
        expected = (np.arange(n) + 1) * T - 2.0
        assert len(trains[i]) == n, (I[i], trains[i], expected)
        np.testing.assert_allclose(trains[i], expected, rtol=0, atol=TOL[dtype])


def _izhikevich_truth(p, I):
    def rhs(t, x):
        v, u = x
        return [0.04 * v * v + 5 * v + 140 - u + I, p["a"] * (p["b"] * v - u)]

    return _scipy_spikes(rhs, [-65.0, p["b"] * -65.0], 30.0,
                         lambda x: np.array([p["c"], x[1] + p["d"]]))  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("preset", ["RS", "FS"])
def test_izhikevich_adaptive_matches_scipy(dtype, preset):
    m = Izhikevich.preset(preset)
    p = {k: float(v) for k, v in m.parameters().items()}
    I = np.array([5.0, 10.0])
    y0 = {"V": -65.0, "u": p["b"] * -65.0}
    trains = _simulate(m, I, y0, dtype)
    for i, Ii in enumerate(I):
        truth = _izhikevich_truth(p, Ii)
        assert len(truth) >= 2
        assert len(trains[i]) == len(truth), (Ii, trains[i], truth)
        np.testing.assert_allclose(trains[i], truth, rtol=0, atol=TOL[dtype])


def _inap_truth(I):
    # Izhikevich (2007) ch. 3 I_Na,p defaults, reset at 20 mV to -60 mV.
    def rhs(t, x):
        V = x[0]
        m = 1.0 / (1.0 + np.exp((1.5 - V) / 16.0))
        return [(I - 19.0 * (V + 67.0) - 74.0 * m * (V - 60.0)) / 10.0]

    return _scipy_spikes(rhs, [-60.0], 20.0, lambda x: np.array([-60.0]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_inap_adaptive_matches_scipy(dtype):
    I = np.array([20.0, 30.0, 60.0])
    trains = _simulate(INaP(), I, {"V": -60.0}, dtype)
    for i, Ii in enumerate(I):
        truth = _inap_truth(Ii)
        assert len(trains[i]) == len(truth) >= 9, (Ii, trains[i], truth)
        np.testing.assert_allclose(trains[i], truth, rtol=0, atol=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_object_and_tolerance_policy(dtype):
    # An Adaptive method object gives the same spikes as method="adaptive" with its options;
    # a float32 rtol below the type's resolution is refused with the fix named.
    m = LIF()
    with jax.enable_x64(dtype == "float64"):
        a = sj.simulate(m, duration=50.0, dt=1.0, I=30.0, method=Adaptive(rtol=1e-5, atol=1e-6))
        b = sj.simulate(m, duration=50.0, dt=1.0, I=30.0, method="adaptive", rtol=1e-5,
                        atol=1e-6)  # fmt: skip
        np.testing.assert_array_equal(a.spike_times, b.spike_times)
        with pytest.raises(ValueError, match="inside the Adaptive method"):
            sj.simulate(m, duration=50.0, dt=1.0, I=30.0, method=Adaptive(), rtol=1e-5)
        if dtype == "float32":
            with pytest.raises(ValueError, match="jax_enable_x64"):
                sj.simulate(m, duration=50.0, dt=1.0, I=30.0, method="adaptive", rtol=1e-9)


# float64 runs by default; the float32 run (18 s on the CI machine) is slow
@pytest.mark.parametrize("dtype", [pytest.param("float32", marks=pytest.mark.slow), "float64"])
def test_event_spike_times_match_scipy(dtype):
    # The differentiable event solver (fit.event_spike_times) shares the event formulation:
    # the same truths and tolerances (measured worst: 8e-6 ms in float64, 3.9e-3 ms in
    # float32).
    m = Izhikevich.preset("RS")
    p = {k: float(v) for k, v in m.parameters().items()}
    cases = [
        (m, {"V": -65.0, "u": p["b"] * -65.0}, 10.0, _izhikevich_truth(p, 10.0)),
        (INaP(), {"V": -60.0}, 30.0, _inap_truth(30.0)),
    ]
    for model, y0, I, truth in cases:
        with jax.enable_x64(dtype == "float64"):
            st = sj.fit.event_spike_times(model, y0, I, t0=0.0, t1=DURATION,
                                          max_spikes=len(truth) + 2)  # fmt: skip
            assert st.result == sj.solvers.RESULTS.successful
        times = np.asarray(st.times, float)[np.asarray(st.valid)]
        assert len(times) == len(truth)
        np.testing.assert_allclose(times, truth, rtol=0, atol=TOL[dtype])
