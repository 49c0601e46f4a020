"""Continuation of equilibria: folds and Hopf points against closed forms and independent solves."""

from typing import ClassVar

import numpy as np
import pytest
from hh_reference import hh_rhs
from scipy.optimize import brentq, minimize_scalar

from spikejax.analysis import ContinuationError, continuation
from spikejax.models import FitzHughNagumo, HodgkinHuxley, INaPIK, Izhikevich
from spikejax.models._base import NeuronModel, fill, input_current

# ----------------------------------------------------------------------------------------------
# FitzHugh-Nagumo: closed forms
# ----------------------------------------------------------------------------------------------


def fhn_hopf_closed_form(a, b, eps):
    """Trace zero: 1 - v^2 - eps b = 0 -> v = ±sqrt(1 - eps b); w = (v + a)/b;
    I = w - v + v^3/3; omega^2 = det = eps (1 - b (1 - v^2)) = eps (1 - eps b^2)."""
    out = []
    for v in (-np.sqrt(1 - eps * b), np.sqrt(1 - eps * b)):
        w = (v + a) / b
        out.append(w - v + v**3 / 3)
    return sorted(out), np.sqrt(eps * (1 - eps * b * b))


def test_fhn_both_hopf_points_and_frequencies():
    m = FitzHughNagumo()
    br = continuation(m, start=0.0, stop=2.0)
    assert br.status == "reached_stop"
    hs = br.hopf_points
    assert len(hs) == 2 and all(h.located for h in hs)
    I_expected, omega = fhn_hopf_closed_form(0.7, 0.8, 0.08)
    # Newton on the extended Hopf system converges to round-off: 1e-9 leaves room for tol.
    np.testing.assert_allclose([h.param for h in hs], I_expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose([h.omega for h in hs], omega, rtol=1e-9)
    # Between the Hopf points the equilibrium is unstable, outside stable.
    inside = (br.params > I_expected[0] + 1e-3) & (br.params < I_expected[1] - 1e-3)
    outside = (br.params < I_expected[0] - 1e-3) | (br.params > I_expected[1] + 1e-3)
    assert not br.stable[inside].any() and br.stable[outside].all()


def test_fhn_hopf_in_a_model_field():
    # Continue in `a` at I = 0.5: Hopf where v = ±sqrt(1 - eps b) and a = b w - v with
    # w = v - v^3/3 + I (the v-nullcline).
    m = FitzHughNagumo()
    br = continuation(m, "a", start=0.7, stop=-1.5, I=0.5)
    eps, b = 0.08, 0.8
    expected = []
    for v in (-np.sqrt(1 - eps * b), np.sqrt(1 - eps * b)):
        w = v - v**3 / 3 + 0.5
        expected.append(b * w - v)
    expected = [e for e in expected if -1.5 < e < 0.7]
    got = sorted(h.param for h in br.hopf_points)
    assert len(got) == len(expected) >= 1
    np.testing.assert_allclose(got, sorted(expected), atol=1e-9)


def test_forward_and_backward_give_the_same_special_points():
    m = FitzHughNagumo()
    fwd = continuation(m, start=0.0, stop=2.0)
    end = {n: fwd.states[-1, i] for i, n in enumerate(fwd.state_names)}
    bwd = continuation(m, start=2.0, stop=0.0, y0=end)
    f = sorted(h.param for h in fwd.hopf_points)
    b = sorted(h.param for h in bwd.hopf_points)
    # Both are located by the same extended-system Newton from different brackets.
    np.testing.assert_allclose(f, b, atol=1e-10)
    np.testing.assert_allclose(
        sorted(h.l1 for h in fwd.hopf_points), sorted(h.l1 for h in bwd.hopf_points), rtol=1e-6
    )


# ----------------------------------------------------------------------------------------------
# Izhikevich: fold (and Hopf) in closed form for several presets
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["RS", "FS", "LTS", "RZ"])
def test_izhikevich_fold_closed_form(name):
    m = Izhikevich.preset(name)
    a, b = float(m.a), float(m.b)
    # Equilibria: 0.04 v^2 + (5 - b) v + 140 + I = 0; fold where the discriminant vanishes.
    I_sn = (5 - b) ** 2 / 0.16 - 140
    br = continuation(m, start=-20.0, stop=I_sn + 10)
    lps = br.folds
    assert len(lps) == 1 and lps[0].located
    assert lps[0].param == pytest.approx(I_sn, abs=1e-8)
    assert lps[0].state["V"] == pytest.approx(-(5 - b) / 0.08, abs=1e-6)
    # Hopf (trace a = 0.08 v + 5 at det a (b - a) > 0) precedes the fold when b > a.
    vh = (a - 5) / 0.08
    I_h = -(0.04 * vh**2 + (5 - b) * vh + 140)
    hs = br.hopf_points
    assert len(hs) == 1
    assert hs[0].param == pytest.approx(I_h, abs=1e-8)
    assert hs[0].omega == pytest.approx(np.sqrt(a * (b - a)), rel=1e-8)


# ----------------------------------------------------------------------------------------------
# First Lyapunov coefficient against the Guckenheimer-Holmes formula
# ----------------------------------------------------------------------------------------------

OMEGA, ALPHA, BETA, GAMMA, KAPPA = 1.7, 0.4, -0.9, -0.3, 0.25
DELTA, ZETA, ETA, RHO = 0.6, 0.15, -0.2, 1.1


class PlanarHopf(NeuronModel):
    """x' = I x - w y + f, y' = w x + I y + g with polynomial f, g (Hopf at I = 0)."""

    s: float = 1.0
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")

    def vector_field(self, t, y, args):
        mu = input_current(args)
        x, z = y["V"], y["w"]
        f = ALPHA * x**2 + BETA * x * z + GAMMA * x**3 + KAPPA * x * z**2
        g = DELTA * z**2 + ZETA * x**2 * z + ETA * z**3 + RHO * x * z
        return {"V": mu * x - OMEGA * z + self.s * f, "w": OMEGA * x + mu * z + self.s * g}

    def resting_state(self):
        return {"V": fill(0.0, self.shape), "w": fill(0.0, self.shape)}


def test_first_lyapunov_coefficient_matches_guckenheimer_holmes():
    # GH (3.4.11): a = (f_xxx + f_xyy + g_xxy + g_yyy)/16
    #                + (f_xy (f_xx + f_yy) - g_xy (g_xx + g_yy) - f_xx g_xx + f_yy g_yy)/(16 w)
    f_xx, f_xy, f_yy, f_xxx, f_xyy = 2 * ALPHA, BETA, 0.0, 6 * GAMMA, 2 * KAPPA
    g_xx, g_xy, g_yy, g_xxy, g_yyy = 0.0, RHO, 2 * DELTA, 2 * ZETA, 6 * ETA
    a = (f_xxx + f_xyy + g_xxy + g_yyy) / 16 + (
        f_xy * (f_xx + f_yy) - g_xy * (g_xx + g_yy) - f_xx * g_xx + f_yy * g_yy
    ) / (16 * OMEGA)
    br = continuation(PlanarHopf(), start=-0.5, stop=0.5)
    (h,) = br.hopf_points
    assert h.param == pytest.approx(0.0, abs=1e-12)
    assert h.omega == pytest.approx(OMEGA, rel=1e-12)
    # Kuznetsov's l1 with <q, q> = 1 equals 2 a / omega (r = sqrt(2)|w| in polar form);
    # the forms come from autodiff, so agreement is to round-off (1e-9 relative).
    assert h.l1 == pytest.approx(2 * a / OMEGA, rel=1e-9)
    assert h.criticality == ("supercritical" if a < 0 else "subcritical")


# ----------------------------------------------------------------------------------------------
# Hodgkin-Huxley: Hopf of the resting branch, subcritical
# ----------------------------------------------------------------------------------------------


_hh_numpy_rhs = hh_rhs  # the independent numpy HH shared by the tests (tests/hh_reference.py)


def _hh_numpy_max_re(I):
    def gates(V):
        xs = []
        for i in (1, 2, 3):
            # steady state of gate i: alpha/(alpha+beta) from the rhs at x=0 and x=1
            e0 = np.zeros(4)
            e0[0] = V
            e1 = e0.copy()
            e1[i] = 1.0
            a = _hh_numpy_rhs(e0, 0)[i]
            b = -_hh_numpy_rhs(e1, 0)[i]
            xs.append(a / (a + b))
        return xs

    V = brentq(lambda V: _hh_numpy_rhs(np.array([V, *gates(V)]), I)[0], -80, -50)
    x = np.array([V, *gates(V)])
    J = np.zeros((4, 4))
    for j in range(4):
        h = 1e-6 * max(1.0, abs(x[j]))
        e = np.zeros(4)
        e[j] = h
        J[:, j] = (_hh_numpy_rhs(x + e, I) - _hh_numpy_rhs(x - e, I)) / (2 * h)
    return np.max(np.linalg.eigvals(J).real)


def test_hh_hopf_of_resting_branch_subcritical():
    br = continuation(HodgkinHuxley(), start=0.0, stop=15.0)
    (h,) = br.hopf_points
    # Independent: numpy finite-difference Jacobian, brentq on max Re(lambda) = 0. Central
    # differences (h ~ 1e-6 relative) give eigenvalues to ~1e-8, so I_H to ~1e-6.
    I_ref = brentq(_hh_numpy_max_re, 8.0, 11.0, xtol=1e-10)
    assert h.param == pytest.approx(I_ref, abs=1e-5)
    assert h.param == pytest.approx(9.78, abs=0.01)  # published value (Rinzel & Miller 1980)
    assert h.l1 > 0 and h.criticality == "subcritical"
    assert br.stable[br.params < h.param - 1e-6].all()
    assert not br.stable[br.params > h.param + 1e-6].any()


# ----------------------------------------------------------------------------------------------
# I_Na,p + I_K: high-threshold fold (SNIC) vs low-threshold Hopf
# ----------------------------------------------------------------------------------------------


def _inapik_I_inf(m, V):
    minf = 1 / (1 + np.exp((float(m.m_V_half) - V) / float(m.m_k)))
    ninf = 1 / (1 + np.exp((float(m.n_V_half) - V) / float(m.n_k)))
    return (
        float(m.gL) * (V - float(m.EL))
        + float(m.gNa) * minf * (V - float(m.ENa))
        + float(m.gK) * ninf * (V - float(m.EK))
    )


def test_inapik_high_threshold_fold_vs_low_threshold_hopf():
    hi, lo = INaPIK.high_threshold(), INaPIK.low_threshold()
    bh = continuation(hi, start=0.0, stop=30.0)
    bl = continuation(lo, start=0.0, stop=30.0)
    # High threshold: rest ends at a fold (local max of I_inf(V), scipy), no Hopf before it.
    res = minimize_scalar(
        lambda V: -_inapik_I_inf(hi, V),
        bounds=(-70, -40),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert bh.folds and bh.folds[0].param == pytest.approx(-res.fun, abs=1e-6)
    assert not [h for h in bh.hopf_points if h.param < bh.folds[0].param]
    # Low threshold: rest loses stability at a Hopf point (numpy eigenvalue check below/above).
    assert not bl.folds and len(bl.hopf_points) >= 1
    h = bl.hopf_points[0]
    k = np.searchsorted(bl.params, h.param)
    assert bl.stable[:k].all() and not bl.stable[k]
    assert h.omega > 0


# ----------------------------------------------------------------------------------------------
# Bad input and failures
# ----------------------------------------------------------------------------------------------


def test_unknown_parameter_name():
    with pytest.raises(ValueError, match="gKK"):
        continuation(HodgkinHuxley(), "gKK", start=36.0, stop=30.0)


def test_start_not_near_an_equilibrium():
    # No equilibrium exists above the fold (I_sn = 4 for RS): a clear error, not a branch.
    with pytest.raises(ContinuationError, match="no equilibrium"):
        continuation(Izhikevich(), start=10.0, stop=20.0)


def test_newton_failure_is_reported():
    br = continuation(
        FitzHughNagumo(), start=0.0, stop=2.0, max_newton=1, ds=0.05, ds_min=0.01, ds_max=0.1
    )
    assert br.status == "newton_failed" and not br.ok and "Newton" in br.message
    with pytest.raises(ContinuationError, match="Newton"):
        continuation(
            FitzHughNagumo(),
            start=0.0,
            stop=2.0,
            max_newton=1,
            ds=0.05,
            ds_min=0.01,
            ds_max=0.1,
            throw=True,
        )


def test_bad_arguments():
    m = FitzHughNagumo()
    with pytest.raises(ValueError, match="stop"):
        continuation(m, start=0.0)
    with pytest.raises(ValueError, match="ds"):
        continuation(m, start=0.0, stop=1.0, ds=-1.0)
    with pytest.raises(ValueError, match="start"):
        continuation(m, start=float("nan"), stop=1.0)
    with pytest.raises(ValueError, match="shape"):
        continuation(FitzHughNagumo(a=np.array([0.7, 0.8])), start=0.0, stop=1.0)
