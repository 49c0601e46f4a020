"""Limit cycles: HH fold of cycles vs simulation, SNIC period law, plots."""

import numpy as np
import pytest
from hh_reference import hh_rhs
from scipy.integrate import solve_ivp

from spikejax.analysis import (
    continuation,
    continue_cycles,
    cycle_from_simulation,
    diagnose_period_divergence,
    fi_from_cycles,
)
from spikejax.models import FitzHughNagumo, HodgkinHuxley, INaPIK


def _hh(I):
    def f(t, x):
        return hh_rhs(x, I)

    return f


def _keeps_firing(I, x0, t_end=600.0):
    sol = solve_ivp(_hh(I), (0, t_end), x0, rtol=1e-8, atol=1e-8, max_step=0.1)
    late = sol.y[0][sol.t > t_end - 100.0]
    return late.max() > 0.0


@pytest.mark.slow
def test_hh_fold_of_cycles_bounds_bistable_range():
    m = HodgkinHuxley()
    c = cycle_from_simulation(m, 8.0, y0={"V": -50.0}, duration=200.0)
    assert c.stable and c.v_max > 20
    cb = continue_cycles(m, c, bounds=(0.0, 20.0), direction=-1, ds=0.5, ds_max=2.0, max_steps=14)
    (lpc,) = cb.folds
    # Independent: scipy runs started on the firing orbit at I = 8, bisection on I for the
    # lowest current that keeps firing (600 ms; slow passage near the fold biases it upward by
    # a few 0.01): 0.03 tolerance.
    sol = solve_ivp(_hh(8.0), (0, 100), [-30.0, 0.5, 0.3, 0.5], rtol=1e-8, atol=1e-8, max_step=0.1)
    x0 = sol.y[:, -1]
    lo, hi = 5.5, 7.5
    for _ in range(7):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if _keeps_firing(mid, x0) else (mid, hi)
    assert lpc.param == pytest.approx(0.5 * (lo + hi), abs=0.03)
    assert lpc.param == pytest.approx(6.26, abs=0.02)  # Rinzel & Miller (1980)
    # The stable cycles (multipliers inside the unit circle) lie above the fold.
    assert cb.stable[cb.params > lpc.param + 0.05].any()
    # F-I from the continued cycles (1000 / T) at I = 8 vs the scipy run's mean ISI (tight
    # tolerances in both: 1e-4 relative).
    I_c, r_c = fi_from_cycles(cb)
    assert I_c[0] == pytest.approx(8.0)
    sol = solve_ivp(_hh(8.0), (0, 300), x0, rtol=1e-10, atol=1e-10, max_step=0.05)
    V, t = sol.y[0], sol.t
    k = np.where((V[:-1] < 0) & (V[1:] >= 0))[0]
    tc = t[k] + (0 - V[k]) / (V[k + 1] - V[k]) * (t[k + 1] - t[k])
    assert r_c[0] == pytest.approx(1000.0 / np.mean(np.diff(tc[2:])), rel=1e-4)


@pytest.mark.slow
def test_inapik_snic_period_diverges_as_inverse_sqrt():
    m = INaPIK.high_threshold()
    lp = continuation(m, start=0.0, stop=10.0).folds[0].param
    c = cycle_from_simulation(m, lp + 3.0, y0={"V": -20.0}, duration=200.0)
    cb = continue_cycles(
        m,
        c,
        bounds=(lp - 5, lp + 10),
        direction=-1,
        ds=0.5,
        ds_max=50.0,
        max_steps=150,
        max_period=100.0,
        fold_params=(lp,),
    )
    assert cb.status == "period_diverged"
    d = cb.period_divergence
    assert d["kind"] == "SNIC"
    # T = C / sqrt(I - I_sn): the extrapolated I_sn is the fold of equilibria (to 1e-3 of the
    # ~3-unit span, 3e-3), and T sqrt(I - I_sn) is nearly constant over the last points (5%:
    # higher-order terms of the square-root law at periods of 50-100 ms).
    assert d["p_sn"] == pytest.approx(lp, abs=3e-3)
    last = slice(-5, None)
    prod = cb.periods[last] * np.sqrt(cb.params[last] - lp)
    assert np.ptp(prod) / prod.mean() < 0.05
    # Arbitrarily low rates: the last cycle's rate is below 10 Hz (period > 100 ms).
    assert 1000.0 / cb.periods[-1] < 10.0


def test_diagnose_period_divergence_synthetic():
    p = np.linspace(1.001, 1.05, 8)
    sn = diagnose_period_divergence(p, 3.0 / np.sqrt(p - 1.0), fold_params=(1.0,))
    assert sn["kind"] == "SNIC" and sn["p_sn"] == pytest.approx(1.0, abs=1e-9)
    hc = diagnose_period_divergence(p, -np.log(p - 1.0) / 0.5 + 2.0, fold_params=())
    assert hc["kind"] == "homoclinic"


def test_bifurcation_plots():
    from spikejax.analysis import fi_curve
    from spikejax.plot import bifurcation_diagram, fi_plot

    br = continuation(FitzHughNagumo(), start=0.0, stop=2.0)
    fig, ax = bifurcation_diagram(br)
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["H", "H"]
    styles = {ln.get_linestyle() for ln in ax.lines}
    assert {"-", "--"} <= styles
    fi = fi_curve(FitzHughNagumo(), [0.0, 1.0], duration=200.0, dt=0.05, direction="up")
    fig2, ax2 = fi_plot(fi)
    assert len(ax2.lines) == 1


def test_cycles_born_at_supercritical_hopf():
    # Low-threshold I_Na,p + I_K: supercritical Hopf (l1 < 0); the cycles born there are
    # stable, start at period 2 pi / omega, and their squared amplitude grows linearly in
    # I - I_H (normal form r^2 = -mu / l1 to leading order).
    m = INaPIK.low_threshold()
    h = continuation(m, start=0.0, stop=30.0).hopf_points[0]
    assert h.l1 < 0
    cb = continue_cycles(m, h, bounds=(0.0, 30.0), ds=0.2, ds_max=0.5, max_steps=3)
    assert cb.stable.all()
    # Period within 1% of 2 pi / omega for the first cycles (O(amplitude^2) shift).
    assert cb.periods[0] == pytest.approx(2 * np.pi / h.omega, rel=1e-2)
    amp2 = (cb.v_max - cb.v_min) ** 2
    dI = cb.params - h.param
    assert np.all(dI > 0)
    # amp^2 / (I - I_H) constant to 5% over the first cycles (higher-order terms).
    ratio = amp2 / dI
    assert np.ptp(ratio[:3]) / ratio[:3].mean() < 0.05
