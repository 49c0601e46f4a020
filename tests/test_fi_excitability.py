"""F-I curves, excitability classes, pulse demonstrations and vmapped variant classification."""

import numpy as np
import pytest
from hh_reference import hh_rhs
from scipy.integrate import solve_ivp

from spikejax.analysis import (
    FixedPointType,
    classify,
    classify_variants,
    continuation,
    excitability,
    fi_curve,
    pulse_response,
)
from spikejax.models import LIF, HodgkinHuxley, INaPIK, Izhikevich


def test_lif_fi_matches_closed_form():
    m = LIF()
    I = np.array([10.0, 16.0, 20.0, 30.0])
    fi = fi_curve(m, I, duration=600.0, dt=0.01, transient=100.0)
    expected = np.asarray(m.rate(I))
    # Spike times are on the dt grid (error <= dt = 0.01 ms per ISI of >= 20 ms): 1% rel.
    np.testing.assert_allclose(fi.rate_up, expected, rtol=1e-2, atol=0)


def _hh_scipy_rate(I, t_end=300.0):
    """Independent HH simulation (scipy LSODA-free RK45, tight tolerances) from a spiking
    state; mean inverse ISI in the second half."""

    def f(t, x):
        return hh_rhs(x, I)

    sol = solve_ivp(f, (0, t_end), [-30.0, 0.5, 0.3, 0.5], rtol=1e-9, atol=1e-9, max_step=0.05)
    V, t = sol.y[0], sol.t
    k = np.where((V[:-1] < 0) & (V[1:] >= 0) & (t[:-1] > t_end / 2))[0]
    tc = t[k] + (0 - V[k]) / (V[k + 1] - V[k]) * (t[k + 1] - t[k])
    return 1000.0 * (len(tc) - 1) / (tc[-1] - tc[0])


def test_hh_fi_bistability_and_rate():
    I = np.array([5.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0])
    fi = fi_curve(HodgkinHuxley(), I, duration=300.0, dt=0.02, direction="both")
    # 5: below the fold of cycles (~6.26): rest only. 7-9: bistable (rest stable, firing
    # stable; the downward sweep keeps firing). From 10 (above the Hopf point, 9.78): firing.
    # (Just above the Hopf point the kicked equilibrium leaves slowly, so "up" is only
    # required to fire at 12.)
    assert list(fi.count_up >= 2)[:4] == [False] * 4 and fi.count_up[-1] >= 2
    assert list(fi.count_down >= 2) == [False, True, True, True, True, True, True]
    assert {7.0, 8.0, 9.0} <= set(fi.bistable.tolist())
    # Rate at I = 8 from the firing state vs an independent scipy run: RK4 at dt = 0.02 and
    # linear crossing interpolation give ISIs to ~1e-4 relative; 0.5% covers both runs.
    assert fi.rate_down[2] == pytest.approx(_hh_scipy_rate(8.0), rel=5e-3)


def test_bad_fi_arguments():
    with pytest.raises(ValueError, match="direction"):
        fi_curve(LIF(), [1.0], duration=10.0, dt=0.1, direction="sideways")
    with pytest.raises(ValueError, match="dt"):
        fi_curve(LIF(), [1.0], duration=10.0, dt=0.0)
    with pytest.raises(ValueError, match="transient"):
        fi_curve(LIF(), [1.0], duration=10.0, dt=0.1, transient=20.0)


def test_integrator_sums_close_pulses():
    # High-threshold I_Na,p + I_K held below its fold: two subthreshold pulses fire only
    # when close together (the first has not decayed); a single pulse never fires.
    m = INaPIK.high_threshold()
    kw = dict(amplitude=10.0, width=0.5, I_hold=3.0, t_after=20.0, dt=0.005)
    assert pulse_response(m, [50.0], n_pulses=1, **kw)[0] == 0
    counts = pulse_response(m, [0.5, 1.0, 4.0, 8.0], n_pulses=2, **kw)
    assert list(counts > 0) == [True, True, False, False]


def test_resonator_fires_at_its_resonant_interval_only():
    # Low-threshold I_Na,p + I_K held below its Hopf point: rest is a focus with damped
    # period T = 2 pi / Im(lambda); three small pulses fire at intervals near T and not at
    # shorter or longer ones (the explainer's three-small-pulses example).
    m = INaPIK.low_threshold()
    br = continuation(m, start=10.0, stop=10.5)
    ev = br.eigenvalues[0]
    T = 2 * np.pi / np.max(np.abs(ev.imag))
    kw = dict(amplitude=80.0, width=0.1, I_hold=10.0, t_after=20.0, dt=0.005)
    assert pulse_response(m, [50.0], n_pulses=1, **kw)[0] == 0
    counts = pulse_response(m, np.array([0.4, 0.5, 1.0, 1.5, 2.0]) * T, n_pulses=3, **kw)
    assert list(counts > 0) == [False, False, True, False, False]


@pytest.mark.slow  # 17 s on the CI machine; a consistency check (batched against single cells)
def test_classify_variants_matches_single_cell_analysis():
    scales = np.linspace(0.8, 1.2, 9)
    pop = HodgkinHuxley(gK=36.0 * scales)
    grid = np.linspace(0.0, 20.0, 161)
    v = classify_variants(pop, currents=grid)
    assert v.converged.all()
    for i in (0, 8):
        single = HodgkinHuxley(gK=36.0 * scales[i])
        br = continuation(single, start=0.0, stop=20.0)
        # The same equilibrium (Newton converged to round-off in both).
        np.testing.assert_allclose(v.states[i], br.states[0], rtol=1e-9, atol=1e-12)
        assert v.types[i] == classify(br.eigenvalues[0])
        h = br.hopf_points[0]
        # Grid step 0.125 with linear interpolation of max Re(lambda): error << 0.02.
        assert v.onset_current[i] == pytest.approx(h.param, abs=0.02)
        assert v.onset_kind[i] == "H"
    assert all(t == FixedPointType.STABLE_FOCUS or t.is_stable for t in v.types)


@pytest.mark.slow  # 21 s on the CI machine (time budget of the default suite)
def test_excitability_inapik_classes():
    kw = dict(I_max=20.0, n_currents=8, refine=1, duration=200.0, dt=0.01)
    hi = excitability(INaPIK.high_threshold(), **kw)
    assert hi.hodgkin_class == 1 and hi.kind == "integrator"
    assert hi.onset_bifurcation.startswith("saddle-node on invariant circle")
    # The onset of firing is at the fold (the SNIC), within the refined grid step 20/7/7.
    assert hi.firing_onset == pytest.approx(hi.onset_point.param, abs=20 / 7 / 7 + 1e-9)
    lo = excitability(
        INaPIK.low_threshold(), I_max=40.0, n_currents=8, refine=1, duration=200.0, dt=0.01
    )
    assert lo.hodgkin_class == 2 and lo.kind == "resonator"
    assert "Andronov-Hopf" in lo.onset_bifurcation


def test_excitability_bad_input():
    with pytest.raises(ValueError, match="I_max"):
        excitability(LIF(), I_max=-1.0)


# ----------------------------------------------------------------------------------------------
# Slow: HH class 2, classes of LIF and Izhikevich presets against their F-I curves
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_hh_is_class_2_resonator_with_discontinuous_onset():
    r = excitability(HodgkinHuxley(), I_max=20.0, n_currents=12, refine=2, duration=400.0, dt=0.025)
    assert r.hodgkin_class == 2 and r.kind == "resonator"
    assert r.onset_bifurcation == "subcritical Andronov-Hopf"
    # Independent: the scipy run just above the firing onset fires at > 40 Hz (HH's minimum
    # rate is about 53 Hz at the fold of cycles), i.e. the F-I curve jumps from 0.
    assert _hh_scipy_rate(r.firing_onset + 0.05) > 40.0
    # The onset from the firing state lies at the fold of cycles (6.26), within the grid.
    assert r.firing_onset == pytest.approx(6.26, abs=0.05)


def _euler_rate(model, I, duration=2000.0, dt=0.005):
    """Independent numpy Euler simulation (LIF or Izhikevich written out here); rate from the
    ISIs in the second half (Hz)."""
    p = {k: float(v) for k, v in model.parameters().items()}
    spikes = []
    if isinstance(model, LIF):
        V, ref = p["E_L"], 0.0
        for k in range(int(duration / dt)):
            if ref > 0:
                ref = max(ref - dt, 0.0) if ref - dt > 0.5 * dt else 0.0
            else:
                V += dt * (-(V - p["E_L"]) + p["R"] * I) / p["tau_m"]
            if ref <= 0 and V >= p["V_th"]:
                spikes.append((k + 1) * dt)
                V, ref = p["V_reset"], p["t_ref"]
    else:
        v, u = -65.0, p["b"] * -65.0
        for k in range(int(duration / dt)):
            v, u = (
                v + dt * (0.04 * v * v + 5 * v + 140 - u + I),
                u + dt * p["a"] * (p["b"] * v - u),
            )
            if v >= p["v_peak"]:
                spikes.append((k + 1) * dt)
                v, u = p["c"], u + p["d"]
    s = np.array([t for t in spikes if t > duration / 2])
    return 0.0 if s.size < 2 else 1000.0 * (s.size - 1) / (s[-1] - s[0])


@pytest.mark.slow
@pytest.mark.parametrize(
    "model,I_max",
    [(LIF(), 25.0), (Izhikevich.preset("RS"), 10.0), (Izhikevich.preset("FS"), 10.0)],
)
def test_classes_agree_with_fi_curves(model, I_max):
    r = excitability(model, I_max=I_max, n_currents=10, refine=2, duration=1000.0, dt=0.01)
    assert r.hodgkin_class in (1, 2)
    # Independent F-I just above the onset and one coarse step above it.
    step = (I_max - 0.0) / 9
    near = _euler_rate(model, r.firing_onset + 1e-3 * step)
    far = _euler_rate(model, r.firing_onset + step)
    if r.hodgkin_class == 1:
        assert near < 0.5 * far
    else:
        assert near >= 0.5 * far > 0


@pytest.mark.slow
def test_lif_rheobase_closed_form():
    r = excitability(LIF(), I_max=25.0, n_currents=10, refine=2, duration=600.0, dt=0.01)
    # V_inf = E_L + R I reaches V_th at I = 15 (closed form); grid resolution 25/9/10/10.
    assert r.onset_point.kind == "TH"
    assert r.onset_point.param == pytest.approx(15.0, abs=1e-9)
    assert r.rheobase == pytest.approx(15.0, abs=25 / 9 / 100 + 1e-9)
    assert r.hodgkin_class == 1 and r.kind == "integrator"
