"""Two-parameter continuation (`analysis.bifurcation_curve`): curves of fold and Hopf points
against closed forms (Izhikevich's simple model, FitzHugh-Nagumo) and against one-parameter
continuation at points of the curve (Hodgkin-Huxley). float64 throughout."""

import numpy as np
import pytest

from spikejax.analysis import bifurcation_curve, continuation
from spikejax.models import FitzHughNagumo, HodgkinHuxley, Izhikevich


def test_izhikevich_fold_and_hopf_curves_match_closed_forms():
    # v' = 0.04 v^2 + 5 v + 140 - u + I, u' = a (b v - u). Equilibria u = b v:
    #   fold where the quadratic has a double root: I_sn(b) = (5 - b)^2 / 0.16 - 140;
    #   Hopf where trace = 0.08 v + 5 - a = 0: v_h = (a - 5)/0.08,
    #   I_h(b) = -(0.04 v_h^2 + (5 - b) v_h + 140), omega^2 = det = a (b - a),
    #   which vanishes at b = a: the Bogdanov-Takens point ending the Hopf curve.
    # Tolerance 1e-10: Newton converged to 1e-10 relative on O(100) unknowns.
    m = Izhikevich()  # a = 0.02, b = 0.2
    branch = continuation(m, "I", start=0.0, stop=6.0)
    lp, h = branch.folds[0], branch.hopf_points[0]

    fold = bifurcation_curve(m, lp, "b", 0.26)
    assert fold.status == "reached_stop" and fold.kind == "LP" and len(fold) > 3
    b, current = fold.param("b"), fold.param("I")
    np.testing.assert_allclose(current, (5 - b) ** 2 / 0.16 - 140, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fold.state("V"), -(5 - b) / 0.08, rtol=0, atol=1e-8)
    assert b[-1] == pytest.approx(0.26, abs=1e-12)

    a = 0.02
    v_h = (a - 5) / 0.08
    for stop in (0.26, 0.0):
        hopf = bifurcation_curve(m, h, "b", stop)
        b, current = hopf.param("b"), hopf.param("I")
        np.testing.assert_allclose(current, -(0.04 * v_h**2 + (5 - b) * v_h + 140), atol=1e-10)
        np.testing.assert_allclose(hopf.omega, np.sqrt(a * (b - a)), rtol=1e-8)
        np.testing.assert_allclose(hopf.state("V"), v_h, atol=1e-8)
    assert hopf.status == "omega_zero" and abs(b[-1] - a) < 1e-4  # the BT point at b = a


@pytest.mark.parametrize("param2,stop2", [("a", 1.0), ("eps", 0.2)])
def test_fitzhugh_nagumo_hopf_curve_matches_closed_form(param2, stop2):
    # v' = v - v^3/3 - w + I, w' = eps (v + a - b w): Hopf where 1 - v^2 - eps b = 0,
    # v_h = -sqrt(1 - eps b) (the lower Hopf point), I_h = (v_h + a)/b - v_h + v_h^3/3,
    # omega^2 = eps (1 - eps b^2).
    m = FitzHughNagumo()  # a = 0.7, b = 0.8, eps = 0.08
    branch = continuation(m, "I", start=0.0, stop=1.0)
    h = min(branch.hopf_points, key=lambda sp: sp.param)
    curve = bifurcation_curve(m, h, param2, stop2)
    assert curve.status == "reached_stop"
    a = curve.param("a") if param2 == "a" else np.full(len(curve), 0.7)
    eps = curve.param("eps") if param2 == "eps" else np.full(len(curve), 0.08)
    b = 0.8
    v_h = -np.sqrt(1 - eps * b)
    np.testing.assert_allclose(curve.param("I"), (v_h + a) / b - v_h + v_h**3 / 3, atol=1e-10)
    np.testing.assert_allclose(curve.omega, np.sqrt(eps * (1 - eps * b**2)), rtol=1e-8)


@pytest.mark.slow  # 14 s on the CI machine; a consistency check (two paths of our own)
def test_hodgkin_huxley_hopf_curve_agrees_with_one_parameter_continuation():
    # No closed form: at gK values along the (I, gK) Hopf curve, one-parameter continuation
    # in I (its own test-function location) finds the Hopf point at the curve's current,
    # within 1e-6 (the tolerance of that location).
    hh = HodgkinHuxley()
    branch = continuation(hh, "I", start=0.0, stop=15.0)
    h = branch.hopf_points[0]
    curve = bifurcation_curve(hh, h, "gK", 40.0, max_steps=200)
    assert curve.status == "reached_stop"
    gk, current = curve.param("gK"), curve.param("I")
    assert np.all(np.diff(gk) > 0)  # a monotone curve in gK here
    for j in (len(curve) // 2, len(curve) - 1):
        other = continuation(hh.replace(gK=float(gk[j])), "I", start=0.0, stop=30.0)
        found = [sp.param for sp in other.hopf_points]
        assert min(abs(np.asarray(found) - current[j])) < 1e-6, (found, current[j])


def test_bad_input():
    m = Izhikevich()
    lp = continuation(m, "I", start=0.0, stop=6.0).folds[0]
    with pytest.raises(ValueError, match="param2"):
        bifurcation_curve(m, lp, "I", 1.0)
    with pytest.raises(ValueError, match="unknown parameter name param2='bogus'"):
        bifurcation_curve(m, lp, "bogus", 1.0)
    with pytest.raises(ValueError, match="stop2 must differ"):
        bifurcation_curve(m, lp, "b", 0.2)
    with pytest.raises(ValueError, match="kind 'LP' or 'H'"):
        bifurcation_curve(m, "LP", "b", 0.3)
