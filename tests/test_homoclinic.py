"""Saddle homoclinic orbits by Beyn's method (`continue_homoclinic`): the homoclinic curve of
the truncated Bogdanov-Takens normal form against its closed-form leading term (Melnikov),
the Morris-Lecar homoclinic value against the logarithmic period law of scipy simulations,
and the Morris-Lecar homoclinic curve in (I, phi) meeting the fold curve at the saddle-node
loop point, against the independently computed fold and scipy simulations. float64."""

from typing import ClassVar

import numpy as np
import pytest
from ml_reference import HOMOCLINIC, period

from spikejax.analysis import (
    HomoclinicOrbit,
    LimitCycle,
    continuation,
    continue_cycles_collocation,
    continue_homoclinic,
    cycle_from_simulation,
)
from spikejax.models import MorrisLecar, NeuronModel, fill, input_current
from spikejax.solvers import ContinuationError


class BTNormalForm(NeuronModel):
    r"""$\dot x = y$, $\dot y = \beta_1 + \beta_2 y + x^2 + s x y$ with $\beta_1 = I$.

    With $x = \varepsilon^2 u$, $y = \varepsilon^3 v$, $t = \tau/\varepsilon$,
    $\beta_1 = -\varepsilon^4$, $\beta_2 = \nu\varepsilon^2$: $u'' = u^2 - 1 +
    \varepsilon(\nu + s u) u'$, Hamiltonian at $\varepsilon = 0$ with the loop
    $v^2 = \tfrac23 (u - 1)^2 (u + 2)$ of the saddle $u = 1$. Melnikov: $\nu \int v^2 +
    s \int u v^2 = 0$; on the loop $\int v^2 \propto 12/5$, $\int u v^2 \propto -12/7$, so
    $\nu = 5s/7$ and the homoclinic curve is $\beta_1 = -\tfrac{49}{25}\beta_2^2 +
    O(\beta_2^3)$ (the scaled system is invariant under $(v, \tau, \varepsilon) \to
    (-v, -\tau, -\varepsilon)$, so $\nu$ is even in $\varepsilon$). (In Kuznetsov's
    normal form $\dot y = \beta_1 + \beta_2 x + x^2 \pm xy$ the same curve reads
    $\beta_1 = -\tfrac{6}{25}\beta_2^2 + o(\beta_2^2)$, with half-integer powers next.)
    $s = -1$: the cycles between the Hopf curve $\beta_1 = -\beta_2^2$ and the homoclinic
    curve ($\beta_2 < 0$) are stable."""

    b2: float = -0.2
    s: float = -1.0
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        I = input_current(args)
        x, z = y["V"], y["w"]
        return {"V": z, "w": I + self.b2 * z + x * x + self.s * x * z}

    def resting_state(self):
        return {"V": fill(-0.25, self.shape), "w": fill(0.0, self.shape)}


@pytest.mark.slow
def test_bogdanov_takens_homoclinic_curve_has_the_melnikov_leading_term():
    m = BTNormalForm()
    # the unstable focus x = -sqrt(-I) at I = -0.06 spirals out to the stable cycle
    cyc = cycle_from_simulation(m, -0.06, y0={"V": -0.2, "w": 0.0}, duration=400.0)
    br = continue_cycles_collocation(m, cyc, bounds=(-0.2, 0.0), direction=-1, max_period=60.0,
                                     ds=0.05, ds_max=0.5)  # fmt: skip
    assert br.status == "period_diverged"
    h = continue_homoclinic(m, br.cycles[-1], "T", 150.0, param="I", ds=2.0, ds_max=20.0)
    assert h.status == "reached_stop"
    pts = [h.orbits[-1]]
    for b2 in (-0.1, -0.05):
        c = continue_homoclinic(m, pts[-1], "b2", b2, ds=0.5, ds_max=5.0)
        assert c.status == "reached_stop"
        pts.append(c.orbits[-1])
    b2s = np.array([o.params["b2"] if "b2" in o.params else -0.2 for o in pts])
    b1s = np.array([o.params["I"] for o in pts])
    r = b1s / b2s**2
    # truth: r -> -49/25 as b2 -> 0, with an O(b2) correction: the quadratic through the
    # three points extrapolated to 0 (measured: -1.95990 with these 60 intervals, -1.959994
    # with 120; the fit's O(b2^3) remainder is below 1e-4 here). Slope: -0.228 / -0.2302.
    coef = np.polyfit(b2s, r, 2)
    assert coef[-1] == pytest.approx(-49 / 25, abs=2e-4)
    # the saddle quantity: trace of the Jacobian at the saddle x = sqrt(-b1), y = 0
    for o, b1, b2 in zip(pts, b1s, b2s, strict=True):
        assert o.saddle_quantity == pytest.approx(b2 - np.sqrt(-b1), abs=1e-9)
        assert o.saddle["V"] == pytest.approx(np.sqrt(-b1), abs=1e-9)


# ----- Morris-Lecar, the homoclinic set (phi = 0.23) --------------------------------------------


def ml_period(phi, I, y0, t_end, t_skip):
    """The period of the attractor reached from `y0` (scipy), or None when it stops firing."""
    return period(dict(HOMOCLINIC, phi=phi), I, y0, t_end, t_skip)


ON_CYCLE = np.array([0.0, 0.3])  # a state on the firing cycle near I = 35 (phi = 0.23)


@pytest.fixture(scope="module")
def ml_homoclinic() -> HomoclinicOrbit:
    m = MorrisLecar.homoclinic()
    cyc = cycle_from_simulation(m, 35.02, y0={"V": 0.0, "w": 0.3}, duration=3000.0)
    h = continue_homoclinic(m, cyc, "T", 100.0, ds=5.0, ds_max=50.0)
    assert h.status == "reached_stop"
    # as T grows, I converges to the homoclinic value (the last two points agree)
    assert abs(h.params[-1, 0] - h.params[-2, 0]) < 1e-6
    return h.orbits[-1]


@pytest.mark.slow
def test_morris_lecar_homoclinic_value_follows_the_period_law(ml_homoclinic):
    I_hc = ml_homoclinic.params["I"]
    ev = ml_homoclinic.eigenvalues
    lam_u = float(np.max(ev.real))
    assert ml_homoclinic.saddle_quantity == pytest.approx(float(np.sum(ev.real)), abs=1e-12)
    assert ml_homoclinic.saddle_quantity < 0  # an attracting loop: a stable cycle is born
    # truth: scipy periods at I_hc + d for d = 1e-3, 1e-4, 1e-5 grow by ln(10)/lambda_u per
    # decade (T = -ln(d)/lambda_u + c; the next term is O(d^(|lambda_s|/lambda_u - 1))).
    # A homoclinic value off by e would bend the law at d ~ e: agreement to 1% at 1e-5
    # places I_hc within about 1e-6.
    Ts = [ml_period(0.23, I_hc + d, ON_CYCLE, 3000.0, 1500.0) for d in (1e-3, 1e-4, 1e-5)]
    assert all(T is not None for T in Ts)
    steps = np.diff(np.asarray(Ts, float))
    np.testing.assert_allclose(steps, np.log(10) / lam_u, rtol=0.01)
    assert ml_period(0.23, I_hc - 1e-3, ON_CYCLE, 3000.0, 1500.0) is None


@pytest.mark.slow
def test_morris_lecar_homoclinic_curve_meets_the_fold_at_the_saddle_node_loop(ml_homoclinic):
    m = MorrisLecar.homoclinic()
    curve = continue_homoclinic(m, ml_homoclinic, "phi", 0.05, ds=1.0, ds_max=20.0)
    assert curve.status == "saddle_node"
    (snl,) = curve.points("SNL")
    # truth 1: the fold of equilibria, computed independently (equilibrium continuation;
    # phi does not move equilibria, so the fold curve is I = I_SN for every phi)
    (lp,) = continuation(m.replace(phi=snl.params["phi"]), "I", 0.0, 60.0).folds
    assert snl.params["I"] == pytest.approx(lp.param, abs=1e-6)
    assert snl.state["V"] == pytest.approx(lp.state["V"], abs=1e-4)
    phi_snl = snl.params["phi"]
    assert 0.1 < phi_snl < 0.23
    # truth 2: scipy simulations. Above phi_snl the loop lies below the fold: at phi_snl +
    # 0.02 firing persists halfway between the curve's I_hc(phi) and I_SN, and stops below
    # I_hc; below phi_snl (a SNIC) nothing fires just below the fold.
    phi_hi = phi_snl + 0.02
    i = int(np.argmin(np.abs(curve.param("phi") - phi_hi)))
    phi_hi, I_hc = float(curve.param("phi")[i]), float(curve.param("I")[i])
    gap = lp.param - I_hc
    assert gap > 0
    assert ml_period(phi_hi, I_hc + 0.5 * gap, ON_CYCLE, 6000.0, 4000.0) is not None
    assert ml_period(phi_hi, I_hc - 0.5 * gap, ON_CYCLE, 6000.0, 4000.0) is None
    assert ml_period(phi_snl - 0.03, lp.param - 0.02, ON_CYCLE, 6000.0, 4000.0) is None


def test_bad_starts_are_refused():
    m = BTNormalForm()
    with pytest.raises(ValueError, match="start must be"):
        continue_homoclinic(m, "cycle", "T", 100.0)  # type: ignore[arg-type]
    # a small ring around the focus x = -sqrt(0.06): its slowest point leads Newton to the
    # focus, not to a saddle
    th = np.linspace(0.0, 2 * np.pi, 401)
    ring = np.stack([-np.sqrt(0.06) + 0.02 * np.cos(th), 0.02 * np.sin(th)], 1)
    cyc = LimitCycle(-0.06, ring[0], 10.0, ring, ring[:, 0].min(), ring[:, 0].max(),
                     np.ones(2), True, ("V", "w"))  # fmt: skip
    with pytest.raises(ContinuationError, match="saddle"):
        continue_homoclinic(m, cyc, "T", 100.0)
    with pytest.raises(ValueError, match="param2"):
        continue_homoclinic(m, cyc, "nope", 1.0)
    with pytest.raises(ValueError, match="radius"):
        continue_homoclinic(m, cyc, "T", 100.0, radius=0.0)
    with pytest.raises(ValueError, match="n_intervals"):
        continue_homoclinic(m, cyc, "T", 100.0, n_intervals=2)
