"""The whole bifurcation diagram in one call, and special points over batches of variants.

Truths: FitzHugh-Nagumo's Hopf points, frequency and criticality in closed form, its cycles
against scipy simulations; the I_Na,p + I_K fold against the maximum of I_inf(V) (scipy) and
Izhikevich (2007, fig. 6.7: 4.51), its low-threshold Hopf point where the trace of the
closed-form Jacobian vanishes (brentq); Hodgkin-Huxley's fold of cycles against scipy runs
(Rinzel & Miller 1980: 6.26) and its Hopf points against numpy eigenvalues.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hh_reference import hh_rhs
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, minimize_scalar
from test_bifurcation import _inapik_I_inf, fhn_hopf_closed_form

from spikejax import plot
from spikejax.analysis import (
    BifurcationDiagram,
    ContinuationError,
    bifurcation_diagram,
    continuation,
    continue_cycles,
    locate_variants,
)
from spikejax.models import FitzHughNagumo, HodgkinHuxley, INaPIK

A, B, EPS = 0.7, 0.8, 1.0  # eps above the Bautin value (2b - 1)/b^2 = 0.9375: supercritical


def _fhn_rhs(I, eps=EPS):
    def f(t, y):
        v, w = y
        return [v - v**3 / 3 - w + I, eps * (v + A - B * w)]

    return f


def _period_and_range(I, y0, t_end=400.0):
    """Period (mean of the last upward crossings of v = 0) and the range of v over the last
    part of a scipy run from `y0`."""
    sol = solve_ivp(_fhn_rhs(I), (0, t_end), y0, rtol=1e-11, atol=1e-11, dense_output=True)
    t = np.linspace(t_end / 2, t_end, 200001)
    v = sol.sol(t)[0]
    k = np.where((v[:-1] < 0) & (v[1:] >= 0))[0]
    tc = t[k] - v[k] * (t[k + 1] - t[k]) / (v[k + 1] - v[k])
    return float(np.mean(np.diff(tc))), float(v.min()), float(v.max())


@pytest.fixture(scope="module")
def fhn_diagram():
    return bifurcation_diagram(FitzHughNagumo(eps=EPS), "I", (0.0, 2.0), n_intervals=20)


def test_fitzhugh_nagumo_diagram_against_closed_form_and_scipy(fhn_diagram):
    d = fhn_diagram
    assert isinstance(d, BifurcationDiagram) and d.ok, d.failures
    # one equilibrium for every I (b < 1): one branch across the whole range
    (eq,) = d.equilibria
    assert eq.params[0] == pytest.approx(0.0) and eq.params[-1] == pytest.approx(2.0)
    # both Hopf points, their frequency and criticality in closed form (Newton on the
    # extended system: 1e-9); supercritical above the Bautin value eps = (2b - 1)/b^2
    I_H, omega = fhn_hopf_closed_form(A, B, EPS)
    hs = d.hopf_points
    np.testing.assert_allclose([h.param for h in hs], I_H, rtol=0, atol=1e-9)
    np.testing.assert_allclose([h.omega for h in hs], omega, rtol=1e-9)
    assert all(h.l1 < 0 for h in hs)
    assert not d.cycle_folds and not d.points("PD")
    # one cycle family, from the lower Hopf point to the upper one (not started again there)
    (cb,) = d.cycles
    assert d.origins[0] is hs[0] and d.ends[0] is hs[1]
    assert cb.status == "amplitude_vanished"
    assert cb.params[0] == pytest.approx(I_H[0], abs=1e-3)
    assert cb.params[-1] == pytest.approx(I_H[1], abs=1e-3)
    # born at period 2 pi / omega (1e-2: the amplitude at the ends is small, not zero)
    assert cb.periods[0] == pytest.approx(2 * np.pi / omega, rel=1e-2)
    assert cb.periods[-1] == pytest.approx(2 * np.pi / omega, rel=1e-2)
    assert cb.stable.all()
    # the largest cycle against scipy, started near the unstable equilibrium (the cycle is
    # the attractor): period 1e-6 relative (20 intervals of degree 4); the v range 1e-4 (the
    # cycle's v_min, v_max are the extremes of 401 samples: (pi / 401)^2 of the amplitude)
    k = int(np.argmax(cb.v_max - cb.v_min))
    c = cb.cycles[k]
    x_eq = eq.states[int(np.argmin(np.abs(eq.params - c.param)))]
    T, vmin, vmax = _period_and_range(c.param, x_eq + [1e-3, 0.0])
    assert c.period == pytest.approx(T, rel=1e-6)
    assert c.v_min == pytest.approx(vmin, abs=1e-4) and c.v_max == pytest.approx(vmax, abs=1e-4)
    assert "H" in d.summary()


def test_diagram_plot_has_both_panels_labels_and_legend_off_the_data(fhn_diagram):
    fig, (ax, pax) = plot.bifurcation_diagram(fhn_diagram)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.texts]
    assert labels.count("H") == 2
    styles = {ln.get_linestyle() for ln in ax.lines}
    assert "-" in styles  # stable equilibria and stable cycles
    assert "--" in styles  # the unstable focus between the Hopf points
    assert pax.get_ylabel() == "period" and pax.get_xlabel() == "I"
    # period panel: the family's periods, from 2 pi / omega at both ends
    (line, *_) = pax.lines
    assert np.allclose(line.get_ydata()[0], fhn_diagram.cycles[0].periods[0])
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1


@pytest.mark.slow
def test_inapik_high_threshold_every_equilibrium_branch_and_its_fold():
    # Three equilibria below the fold (rest, saddle, upper): seeds at five currents, two
    # branches (the S-shaped one folds back at the fold), none computed twice.
    m = INaPIK.high_threshold()
    d = bifurcation_diagram(m, "I", (0.0, 10.0), cycles=False)
    assert d.ok and len(d.equilibria) == 2 and not d.cycles
    (lp,) = d.folds
    res = minimize_scalar(
        lambda V: -_inapik_I_inf(m, V),
        bounds=(-70, -40),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert lp.param == pytest.approx(-res.fun, abs=1e-6)  # the maximum of I_inf (scipy)
    assert lp.param == pytest.approx(4.51, abs=0.01)  # Izhikevich (2007), fig. 6.7
    # every equilibrium at I = 2 (fixed_points) lies on exactly one branch
    from spikejax.analysis import fixed_points

    for fp in fixed_points(m, 2.0):
        hits = 0
        for br in d.equilibria:
            near = np.abs(br.params - 2.0) < 0.5
            hits += int(np.any(np.abs(br.voltage[near] - fp.V) < 1.0))
        assert hits == 1


def test_diagram_failures_are_recorded_or_thrown():
    # FitzHugh-Nagumo at its Bautin value eps = (2b - 1)/b^2 (closed form): l1 = 0 at both
    # Hopf points, so no cycle family can start from the normal form; the diagram records
    # them (empty families, status newton_failed, the reason) or raises with throw=True.
    m = FitzHughNagumo(eps=(2 * B - 1) / B**2)
    d = bifurcation_diagram(m, "I", (0.0, 2.0), n_seeds=2)
    assert len(d.hopf_points) == 2 and all(abs(h.l1) < 1e-12 for h in d.hopf_points)
    assert not d.ok and len(d.cycles) == 2 and all(len(c) == 0 for c in d.cycles)
    assert all(c.status == "newton_failed" for c in d.cycles)
    assert len(d.failures) == 2 and all("l1" in f for f in d.failures)
    assert "failed" in d.summary()
    with pytest.raises(ContinuationError, match="l1"):
        bifurcation_diagram(m, "I", (0.0, 2.0), n_seeds=2, throw=True)


def test_diagram_bad_arguments():
    m = FitzHughNagumo()
    with pytest.raises(ValueError, match="bounds"):
        bifurcation_diagram(m, "I", (2.0, 0.0))
    with pytest.raises(ValueError, match="bounds"):
        bifurcation_diagram(m, "I", (0.0, float("nan")))
    with pytest.raises(ValueError, match="n_seeds"):
        bifurcation_diagram(m, "I", (0.0, 2.0), n_seeds=0)
    with pytest.raises(ValueError, match="max_period"):
        bifurcation_diagram(m, "I", (0.0, 2.0), max_period=-1.0)
    with pytest.raises(ValueError, match="model"):
        bifurcation_diagram("FHN", "I", (0.0, 2.0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="zz"):
        bifurcation_diagram(m, "zz", (0.0, 2.0))
    with pytest.raises(ValueError, match="single cell"):
        bifurcation_diagram(FitzHughNagumo(a=[0.6, 0.7]), "I", (0.0, 2.0))


# ----------------------------------------------------------------------------------------------
# One special point over a batch of variants (vmap)
# ----------------------------------------------------------------------------------------------


def test_hopf_points_of_a_batch_of_variants_match_closed_form():
    m = FitzHughNagumo()  # a = 0.7, b = 0.8, eps = 0.08
    lower, upper = continuation(m, start=0.0, stop=2.0).hopf_points
    a = np.linspace(0.5, 0.9, 5)[:, None]
    eps = np.array([0.08, 0.3])[None, :]
    variants = FitzHughNagumo(a=a, eps=eps)  # shape (5, 2)
    vp = locate_variants(m, lower, variants)
    assert vp.ok and vp.params.shape == (5, 2) and vp.states.shape == (5, 2, 2)
    for i in range(5):
        for j in range(2):
            I_H, omega = fhn_hopf_closed_form(a[i, 0], B, eps[0, j])
            # the same extended system as on a branch: converged to round-off (1e-9)
            assert vp.params[i, j] == pytest.approx(I_H[0], abs=1e-9)
            assert vp.omega[i, j] == pytest.approx(omega, rel=1e-9)
    # the upper Hopf point of the same batch (the same compiled kernel)
    vp_up = locate_variants(m, upper, variants)
    I_H, _ = fhn_hopf_closed_form(0.9, B, 0.3)
    assert vp_up.ok and vp_up.params[4, 1] == pytest.approx(I_H[1], abs=1e-9)
    # the same point as a separate continuation of one variant (consistency)
    one = continuation(FitzHughNagumo(a=0.5, eps=0.3), start=0.0, stop=2.0).hopf_points[0]
    assert vp.params[0, 1] == pytest.approx(one.param, abs=1e-9)
    assert vp.states[0, 1, 0] == pytest.approx(one.state["V"], abs=1e-9)
    # variants without a Hopf point (eps b^2 > 1: no complex pair) are marked not converged,
    # never given a silent value; throw=True raises
    far = FitzHughNagumo(a=0.7 * np.ones((5, 2)), eps=np.where(a > 0.8, 2.0, 0.08) + 0 * eps)
    vp = locate_variants(m, lower, far)
    assert vp.converged.tolist() == [[True, True]] * 4 + [[False, False]]
    with pytest.raises(ContinuationError, match="2 of 10"):
        locate_variants(m, lower, far, throw=True)


@pytest.mark.slow
def test_folds_of_a_batch_of_variants_match_the_maximum_of_I_inf():
    m = INaPIK.high_threshold()
    (lp,) = continuation(m, start=0.0, stop=10.0).folds
    gL = np.array([7.0, 8.0, 8.5, 9.0])
    vp = locate_variants(m, lp, INaPIK.high_threshold(gL=gL))
    assert vp.ok and str(vp.kind) == "LP" and np.all(np.isnan(vp.omega))
    for i, g in enumerate(gL):
        mi = INaPIK.high_threshold(gL=float(g))
        res = minimize_scalar(
            lambda V, mi=mi: -_inapik_I_inf(mi, V),
            bounds=(-75, -40),
            method="bounded",
            options={"xatol": 1e-10},
        )
        assert vp.params[i] == pytest.approx(-res.fun, abs=1e-6)
        assert vp.states[i, 0] == pytest.approx(res.x, abs=1e-4)


def test_locate_variants_bad_input():
    m = FitzHughNagumo()
    h = continuation(m, start=0.0, stop=2.0).hopf_points[0]
    with pytest.raises(ValueError, match="located Hopf point or fold"):
        locate_variants(m, h.__class__("LPC", 0.3, h.state, 0), FitzHughNagumo(a=[0.6, 0.7]))
    with pytest.raises(ValueError, match="FitzHughNagumo"):
        locate_variants(m, h, INaPIK(gL=[8.0, 9.0]))
    with pytest.raises(ValueError, match="n_homotopy"):
        locate_variants(m, h, FitzHughNagumo(a=[0.6, 0.7]), n_homotopy=0)


# ----------------------------------------------------------------------------------------------
# Slow: Hodgkin-Huxley's whole diagram, I_Na,p + I_K's Hopf set with its cycles
# ----------------------------------------------------------------------------------------------


def _hh_fires(I, x0):
    sol = solve_ivp(lambda t, x: hh_rhs(x, I), (0, 600), x0, rtol=1e-8, atol=1e-8, max_step=0.1)
    return sol.y[0][sol.t > 500].max() > 0.0


def _hh_equilibrium(I):
    """The numpy HH equilibrium at current I: gates at their steady states (alpha/(alpha +
    beta) read off `hh_rhs` at gate values 0 and 1), V by brentq on dV/dt."""

    def state(V):
        x = [V]
        for i in (1, 2, 3):
            e0 = np.array([V, 0.0, 0.0, 0.0])
            e1 = e0.copy()
            e1[i] = 1.0
            a, b = hh_rhs(e0, 0.0)[i], -hh_rhs(e1, 0.0)[i]
            x.append(a / (a + b))
        return np.array(x)

    V = brentq(lambda V: hh_rhs(state(V), I)[0], -80.0, 0.0, xtol=1e-13)
    return state(V)


def _hh_max_re(I):
    """Largest real part of the eigenvalues at the numpy HH equilibrium (central
    differences of the independent `hh_rhs`)."""
    x = _hh_equilibrium(I)
    J = np.zeros((4, 4))
    for j in range(4):
        e = np.zeros(4)
        e[j] = 1e-6 * max(1.0, abs(x[j]))
        J[:, j] = (hh_rhs(x + e, I) - hh_rhs(x - e, I)) / (2 * e[j])
    return float(np.max(np.linalg.eigvals(J).real))


@pytest.mark.slow
def test_hodgkin_huxley_whole_diagram():
    hh = HodgkinHuxley()
    d = bifurcation_diagram(hh, "I", (0.0, 200.0))
    assert d.ok, d.failures
    (eq,) = d.equilibria
    h_low, h_up = d.hopf_points
    # Hopf points where the numpy equilibrium's leading real part changes sign (brentq, 1e-6)
    assert h_low.param == pytest.approx(brentq(_hh_max_re, 5.0, 15.0, xtol=1e-10), abs=1e-6)
    assert h_up.param == pytest.approx(brentq(_hh_max_re, 100.0, 200.0, xtol=1e-10), abs=1e-6)
    assert h_low.param == pytest.approx(9.7754, abs=1e-3) and h_low.l1 > 0
    # one family: from the subcritical Hopf point through every fold to the upper Hopf point
    (cb,) = d.cycles
    assert d.origins[0] is h_low and d.ends[0] is h_up
    lpcs = [sp.param for sp in cb.special_points if sp.kind == "LPC"]
    assert len(lpcs) == 3 and min(lpcs) == pytest.approx(6.26, abs=0.01)  # Rinzel & Miller
    lpc = min(lpcs)
    # scipy runs from a firing orbit keep firing 0.02 above the fold and stop 0.02 below
    k = int(np.argmin(np.abs(cb.params - (lpc + 0.5)) + 1e3 * ~cb.stable))
    x_fire = cb.cycles[k].trajectory[0]
    assert _hh_fires(lpc + 0.02, x_fire) and not _hh_fires(lpc - 0.02, x_fire)
    fig, (ax, pax) = plot.bifurcation_diagram(d)
    assert ax.get_xlabel() == "" and pax.get_xlabel() == "I (uA/cm^2)"
    assert ax.get_ylabel() == "V (mV)" and pax.get_ylabel() == "period (ms)"
    text = [t.get_text() for t in ax.texts]
    assert "H" in text and any("LPC" in t for t in text)


def _inapik_hopf_by_trace(m):
    """The low-threshold rest state's Hopf point: trace of the closed-form Jacobian = 0 on
    the curve of equilibria (brentq in V), I = I_inf(V)."""
    p = {k: float(v) for k, v in m.parameters().items()}

    def trace(V):
        minf = 1 / (1 + np.exp((p["m_V_half"] - V) / p["m_k"]))
        dminf = minf * (1 - minf) / p["m_k"]
        ninf = 1 / (1 + np.exp((p["n_V_half"] - V) / p["n_k"]))
        dVV = (-p["gL"] - p["gNa"] * (dminf * (V - p["ENa"]) + minf) - p["gK"] * ninf) / p["C"]
        return dVV - 1.0 / p["tau_n"]

    V = brentq(trace, -70.0, -30.0, xtol=1e-13)
    return float(_inapik_I_inf(m, V))


@pytest.mark.slow
def test_inapik_low_threshold_hopf_set_with_its_stable_cycles():
    m = INaPIK.low_threshold()
    d = bifurcation_diagram(m, "I", (0.0, 40.0))
    assert d.ok, d.failures
    h = d.hopf_points[0]
    assert h.param == pytest.approx(_inapik_hopf_by_trace(m), abs=1e-8)
    assert h.l1 < 0  # supercritical: stable cycles from zero amplitude
    cb = d.cycles[0]
    near = np.abs(cb.params - h.param) < 1.0
    assert near.any() and cb.stable[near].all()


def test_continue_cycles_defaults_to_collocation(fhn_diagram):
    # continue_cycles without `method` is the diagram's collocation family (the same cycles,
    # to the corrector's tolerance), not single shooting
    m = FitzHughNagumo(eps=EPS)
    h = fhn_diagram.hopf_points[0]
    cb = continue_cycles(m, h, bounds=(0.0, 2.0), n_intervals=20, max_steps=4)
    ref = fhn_diagram.cycles[0]
    np.testing.assert_allclose(cb.params, ref.params[:5], rtol=0, atol=1e-8)
    np.testing.assert_allclose(cb.periods, ref.periods[:5], rtol=1e-8)
    I_H, omega = fhn_hopf_closed_form(A, B, EPS)
    assert cb.periods[0] == pytest.approx(2 * np.pi / omega, rel=1e-2)
