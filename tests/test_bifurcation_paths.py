"""The same special points from every path that can find them: one-parameter continuation
(`analysis.continuation`), a two-parameter curve arriving at the model's parameters
(`analysis.bifurcation_curve`, both on the shared driver `solvers.continue_branch`), and the
differentiable locators of `spikejax.fit` (`hopf_current`, `saddle_node_current`), each
against an independent truth: closed forms (FitzHugh-Nagumo), scipy (the I_Na,p + I_K fold),
a numpy Hodgkin-Huxley with brentq and the published value (Rinzel & Miller 1980)."""

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar
from test_bifurcation import _hh_numpy_max_re, _inapik_I_inf, fhn_hopf_closed_form

from spikejax.analysis import bifurcation_curve, continuation
from spikejax.fit import hopf_current, saddle_node_current
from spikejax.models import FitzHughNagumo, HodgkinHuxley, INaPIK


@pytest.mark.slow  # 18 s on the CI machine (time budget of the default suite)
def test_hh_hopf_from_every_path():
    # Truth: a numpy HH (tests/hh_reference.py) with a finite-difference Jacobian, brentq on
    # max Re(lambda) = 0 (to ~1e-6, see test_bifurcation), and Rinzel & Miller's 9.78.
    I_ref = brentq(_hh_numpy_max_re, 8.0, 11.0, xtol=1e-10)
    hh = HodgkinHuxley()
    (h,) = continuation(hh, start=0.0, stop=15.0).hopf_points
    assert h.param == pytest.approx(I_ref, abs=1e-5)
    assert h.param == pytest.approx(9.7754, abs=1e-3)
    assert h.l1 > 0 and h.criticality == "subcritical"
    # A Hopf curve from gK = 30 arrives at gK = 36 (the default) at the same current: the
    # curve's Newton (1e-10) and the 1-parameter location agree to 1e-8; the truth to 1e-5.
    hh30 = hh.replace(gK=30.0)
    (h30,) = continuation(hh30, start=0.0, stop=30.0).hopf_points
    curve = bifurcation_curve(hh30, h30, "gK", 36.0)
    assert curve.status == "reached_stop" and curve.param("gK")[-1] == 36.0
    assert curve.param("I")[-1] == pytest.approx(h.param, abs=1e-8)
    assert curve.omega[-1] == pytest.approx(h.omega, rel=1e-8)
    # fit.hopf_current: a different test function (the Hurwitz determinant), Newton inside jit.
    bp = hopf_current(hh, I_guess=9.5)
    assert float(bp.I) == pytest.approx(I_ref, abs=1e-5)
    assert float(bp.I) == pytest.approx(h.param, abs=1e-8)
    assert np.sqrt(float(bp.omega2)) == pytest.approx(h.omega, rel=1e-6)


@pytest.mark.slow  # 14 s on the CI machine (time budget of the default suite)
def test_fhn_hopf_pair_from_every_path():
    # Truth: the closed form (trace zero at v = ±sqrt(1 - eps b)), to round-off (1e-9).
    I_exp, omega = fhn_hopf_closed_form(0.7, 0.8, 0.08)
    m = FitzHughNagumo()
    hs = continuation(m, start=0.0, stop=2.0).hopf_points
    np.testing.assert_allclose([h.param for h in hs], I_exp, atol=1e-9)
    # Both Hopf curves from a = 0.6 arrive at a = 0.7 on the closed form.
    m6 = FitzHughNagumo(a=0.6)
    hs6 = continuation(m6, start=0.0, stop=2.0).hopf_points
    assert len(hs6) == 2
    arrived = []
    for h6 in hs6:
        curve = bifurcation_curve(m6, h6, "a", 0.7)
        assert curve.status == "reached_stop" and curve.param("a")[-1] == 0.7
        arrived.append(curve.param("I")[-1])
        assert curve.omega[-1] == pytest.approx(omega, rel=1e-9)
    np.testing.assert_allclose(sorted(arrived), I_exp, atol=1e-9)
    # fit.hopf_current from the stable side of each Hopf point.
    for I_h, guess in zip(I_exp, (I_exp[0] - 0.05, I_exp[1] + 0.05), strict=True):
        bp = hopf_current(m, I_guess=guess)
        assert float(bp.I) == pytest.approx(I_h, abs=1e-9)
        assert np.sqrt(float(bp.omega2)) == pytest.approx(omega, rel=1e-9)


@pytest.mark.slow  # a consistency check (the same fold by every path); time budget
def test_inapik_fold_from_every_path():
    # Truth: the fold current is the local maximum of the steady-state I-V curve
    # I_inf(V) (scipy, xatol 1e-10 in V, so I to ~1e-12 at a quadratic maximum): 1e-6.
    m = INaPIK.high_threshold()
    res = minimize_scalar(
        lambda V: -_inapik_I_inf(m, V),
        bounds=(-70, -40),
        method="bounded",
        options={"xatol": 1e-10},
    )
    I_sn = -res.fun
    lp = continuation(m, start=0.0, stop=10.0).folds[0]
    assert lp.param == pytest.approx(I_sn, abs=1e-6)
    # A fold curve from gL = 8.5 arrives at gL = 8 (the default) at the same current.
    m85 = INaPIK.high_threshold(gL=8.5)
    lp85 = continuation(m85, start=0.0, stop=15.0).folds[0]
    curve = bifurcation_curve(m85, lp85, "gL", 8.0)
    assert curve.status == "reached_stop" and curve.param("gL")[-1] == 8.0
    assert curve.param("I")[-1] == pytest.approx(I_sn, abs=1e-6)
    assert curve.state("V")[-1] == pytest.approx(res.x, abs=1e-4)
    # fit.saddle_node_current (det J = 0), from the rest branch just below the fold.
    bp = saddle_node_current(m, I_guess=I_sn - 0.05)
    assert float(bp.I) == pytest.approx(I_sn, abs=1e-6)
