"""Homoclinic orbits started from a Bogdanov-Takens point (`homoclinic_from_bogdanov_takens`,
`continue_homoclinic(model, bt_point, ...)`): the BT normal form's homoclinic curve
beta1 = -(49/25) beta2^2 + O(beta2^3) (derived in test_homoclinic.py) and the predictor's
closed form there; a normal form seen through a linear change of coordinates with
(a, b) = (1, 0.8) started from the BT point located on its Hopf curve (the curve
I = -(49/25)(a/b^2) beta^2); Izhikevich's BT point at b = a: the predictor's error
scaling (parameters O(eps^6), orbit O(eps^4)) and the continued orbit against scipy
simulations from the saddle's unstable eigenvector. float64."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from test_codim2 import TINV, BogdanovTakens
from test_homoclinic import BTNormalForm

from spikejax.analysis import (
    Codim2Point,
    bifurcation_curve,
    continuation,
    continue_homoclinic,
    homoclinic_from_bogdanov_takens,
)
from spikejax.models import Izhikevich
from spikejax.solvers import SpecialPointKind


def _bt(params, state):
    """A BT point known in closed form (the coefficients are recomputed by the predictor)."""
    return Codim2Point(SpecialPointKind.BT, params, state, 0, np.zeros(2), {})


def test_normal_form_homoclinic_curve_from_its_bt_point():
    # x' = y, y' = I + b2 y + x^2 - x y: a = 1, b = -1 with q0 = e1, q1 = e2 (|q0| = 1);
    # the unfolding is the identity (K10 = (1, 0), K01 = (0, 1), K02 = 0, H0001 = 0), so
    # the predictor is closed-form: b2 = (10/7)(b/a) eps^2 with eps^2 = amplitude |a|/6,
    # I = -(49/25) b2^2, the saddle (Newton at those parameters) at x = sqrt(-I).
    m = BTNormalForm()
    bt = _bt({"I": 0.0, "b2": 0.0}, {"V": 0.0, "w": 0.0})
    kw = {"radius": 1e-4, "n_intervals": 20, "degree": 3}
    errs_I, errs_x = [], []
    for amp in (0.08, 0.04):
        pred = homoclinic_from_bogdanov_takens(m, bt, amp, **kw)
        b2 = -(10 / 7) * amp / 6
        assert pred.params["b2"] == pytest.approx(b2, rel=1e-12)
        assert pred.params["I"] == pytest.approx(-49 / 25 * b2**2, rel=1e-10)
        assert pred.saddle["V"] == pytest.approx(np.sqrt(-pred.params["I"]), rel=1e-10)
        br = continue_homoclinic(m, bt, "b2", 2 * b2, amplitude=amp, ds=1e-3, ds_max=2e-3,
                                 max_steps=3, **kw)  # fmt: skip
        assert br.status == "max_steps"
        # truth: the closed-form curve; the O(b2^3) remainder is below 0.3 |b2|^3 here
        # (measured 0.23 |b2|^3 with 120 intervals: test_homoclinic.py's fit)
        b1s, b2s = br.param("I"), br.param("b2")
        np.testing.assert_array_less(np.abs(b1s + 49 / 25 * b2s**2), 0.3 * np.abs(b2s) ** 3)
        first = br.orbits[0]
        errs_I.append(abs(first.params["I"] - pred.params["I"]))
        errs_x.append(np.max(np.abs(first.trajectory - pred.trajectory)))
    # the predictor's order: halving eps^2 divides the parameter error by ~8 (eps^6) and the
    # orbit's by ~4 (eps^4); a first-order predictor would give 4 and 2
    assert 6.5 < errs_I[0] / errs_I[1] < 9.5
    assert 3.3 < errs_x[0] / errs_x[1] < 4.7


def test_bad_bt_starts_are_refused():
    m = BTNormalForm()
    bt = _bt({"I": 0.0, "b2": 0.0}, {"V": 0.0, "w": 0.0})
    with pytest.raises(ValueError, match="amplitude"):
        continue_homoclinic(m, bt, "b2", -0.1)
    with pytest.raises(ValueError, match="amplitude"):
        homoclinic_from_bogdanov_takens(m, bt, -0.1)
    with pytest.raises(ValueError, match="param"):
        continue_homoclinic(m, bt, "s", -0.1, amplitude=0.1)
    cp = Codim2Point(SpecialPointKind.CP, {"I": 0.0, "b2": 0.0}, {"V": 0.0, "w": 0.0}, 0,
                     np.zeros(2), {})  # fmt: skip
    with pytest.raises(ValueError, match="BT point"):
        continue_homoclinic(m, cp, "b2", -0.1, amplitude=0.1)
    # a degenerate BT point: b = 0 (s = 0), the homoclinic curve is not born there
    with pytest.raises(ValueError, match="degenerate"):
        homoclinic_from_bogdanov_takens(BTNormalForm(s=0.0), bt, 0.1)


@pytest.mark.slow
def test_homoclinic_curve_from_the_bt_point_of_a_hopf_curve():
    # x' = y, y' = I + beta y + x^2 + s x y seen in xi = T^-1 (x, y) (test_codim2.py): the
    # normal form with a = 1, b = s in the chain (e1, e2); its homoclinic curve is
    # I = -(49/25)(a/b^2) beta^2 + O(beta^3) on the side beta b/a > 0 (module docstring).
    s = 0.8
    m = BogdanovTakens(s=s)
    h = continuation(m, "I", -1.0, 0.5).hopf_points[0]
    hopf = bifurcation_curve(m, h, "beta", 0.0, bounds2=(-1.0, 1.0))
    (bt,) = hopf.points("BT")
    br = continue_homoclinic(m, bt, "beta", 0.1, amplitude=0.05, ds=0.01, ds_max=0.5)
    assert br.status == "reached_stop"
    beta, I = br.param("beta"), br.param("I")
    assert np.all(beta > 0)
    # the remainder: |I + 49/(25 s^2) beta^2| <= 0.5 |beta|^3 (measured below 0.4 |beta|^3)
    np.testing.assert_array_less(np.abs(I + 49 / (25 * s * s) * beta**2), 0.5 * beta**3)
    # the saddle (x, y) = (sqrt(-I), 0) in the original coordinates
    for o in br.orbits[:: max(len(br) // 5, 1)]:
        xi = TINV @ np.array([np.sqrt(-o.params["I"]), 0.0])
        assert [o.saddle["V"], o.saddle["w"]] == pytest.approx(list(xi), abs=1e-9)


def _izhikevich_escape(o, a, dI, offset=1e-8, samples=2001):
    """scipy from the saddle along its unstable eigenvector (towards the orbit) at
    I = I_hc + dI: `(escaped, trajectory)`, `escaped` when it leaves to twice the orbit's
    size (the quadratic term's blow-up) instead of turning back near the saddle."""
    I, b = o.params["I"] + dI, o.params["b"]
    x0 = np.array([o.saddle["V"], o.saddle["u"]])
    scale = np.ptp(o.trajectory, axis=0)

    def f(t, y):
        return [0.04 * y[0] ** 2 + 5 * y[0] + 140 - y[1] + I, a * (b * y[0] - y[1])]

    J = np.array([[0.08 * x0[0] + 5, -1.0], [a * b, -a]])
    ev, W = np.linalg.eig(J)
    vu = np.real(W[:, int(np.argmax(np.real(ev)))])
    vu = vu if vu @ (o.trajectory[1] - o.trajectory[0]) > 0 else -vu

    def away(t, y):
        return np.linalg.norm((y - x0) / scale) - 2.0

    away.terminal = True  # type: ignore[attr-defined]
    sol = solve_ivp(f, (0.0, 3 * o.T), x0 + offset * vu * np.linalg.norm(scale), rtol=1e-12,
                    atol=1e-12, events=away, dense_output=True)  # fmt: skip
    return sol.status == 1, sol.sol(np.linspace(0.0, sol.t[-1], samples)).T


@pytest.mark.slow
def test_izhikevich_homoclinic_from_its_bt_point():
    # Izhikevich's model v' = 0.04 v^2 + 5 v + 140 - u + I, u' = a (b v - u): the BT point
    # b = a, v = (a - 5)/0.08, I = -(0.04 v^2 + (5 - a) v + 140) (test_codim2.py), with
    # (a_nf, b_nf) = (0.04 a, 0.08)/sqrt(1 + a^2): neither the normal form's nor its
    # coordinates, and a nontrivial unfolding (K01, K02, H0001 != 0).
    a = 0.02
    v = (a - 5) / 0.08
    bt = _bt({"I": -(0.04 * v * v + (5 - a) * v + 140), "b": a}, {"V": v, "u": a * v})
    m = Izhikevich()
    errs_I, errs_x, firsts = [], [], []
    for amp in (1.0, 0.5, 0.25):
        pred = homoclinic_from_bogdanov_takens(m, bt, amp, radius=1e-4)
        assert pred.params["b"] > a  # the homoclinic side: beta2 b/a > 0
        br = continue_homoclinic(m, pred, "b", 1.2 * pred.params["b"], max_steps=2)
        first = br.orbits[0]
        assert first.params["b"] == pred.params["b"]
        errs_I.append(abs(first.params["I"] - pred.params["I"]))
        errs_x.append(np.max(np.abs(first.trajectory - pred.trajectory), axis=0))
        firsts.append(first)
    # the predictor's order (measured ratios 6.9, 7.4 and 3.7, 3.9 per variable): the
    # parameter error O(eps^6) tends to 8 per halving of eps^2, the orbit's O(eps^4) to 4
    rI = np.array(errs_I[:-1]) / np.array(errs_I[1:])
    rx = np.array(errs_x[:-1]) / np.array(errs_x[1:])
    assert np.all((rI > 6.3) & (rI < 9.0)) and rI[1] > rI[0]
    assert np.all((rx > 3.4) & (rx < 4.6))
    # truth: scipy from the saddle's unstable eigenvector. The unstable manifold turns back
    # to the saddle below I_hc and escapes above it (measured: the switch lies within
    # 1e-9 of the continued I_hc at amplitude 1, whose scale is beta1 ~ 1e-3): bracket it
    # by +-1e-8, and the returning branch traces the continued loop.
    o = firsts[0]
    escaped, _ = _izhikevich_escape(o, a, 1e-8)
    assert escaped
    escaped, Y = _izhikevich_escape(o, a, -1e-8, samples=200001)
    assert not escaped
    scale = np.ptp(o.trajectory, axis=0)
    d = np.array([np.linalg.norm((Y - x) / scale, axis=1).min() for x in o.trajectory])
    # the loop away from the saddle within 3e-4 of the simulated curve (relative to its
    # size); within 0.3 of the saddle the simulated branch, 1e-8 below I_hc, turns back
    x0 = np.array([o.saddle["V"], o.saddle["u"]])
    far = np.linalg.norm((o.trajectory - x0) / scale, axis=1) > 0.3
    assert np.max(d[far]) < 3e-4  # measured 9e-5
