"""Normal-form coefficients of cycle bifurcations (periodic normalisation on the collocation
mesh): a period doubling and a Neimark-Sacker point of a suspended normal form, seen through a
non-orthogonal linear change of coordinates, with closed-form coefficients; a fold of cycles
of a Bautin normal form with a radius-dependent frequency (closed-form b); the Rossler
system's first period doubling against scipy simulations (supercritical: a stable doubled
cycle past it). float64."""

from typing import ClassVar

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from test_collocation import _sampled_cycle
from test_collocation_curves import circle, located_point

from spikejax.analysis import (
    ContinuationError,
    SpecialPoint,
    continue_cycles_collocation,
    cycle_normal_form,
)
from spikejax.analysis._collocation import _problem
from spikejax.analysis._continuation import make_system
from spikejax.analysis._cycle_normal_forms import normal_form_coefficients
from spikejax.models import NeuronModel, fill, input_current

# model coordinates x = S^-1 s of the normal-form coordinates s (not orthogonal)
S6 = np.eye(6) + 0.25 * np.triu(np.ones((6, 6)), 1) - 0.15 * np.tril(np.ones((6, 6)), -1)
S6INV = np.linalg.inv(S6)


class Suspended(NeuronModel):
    r"""In $s = S x$: the cycle $(s_1, s_2) = (\cos\vartheta, \sin\vartheta)$ with
    $\dot\vartheta = \omega = 1 + k_w|w|^2 + k_z|z|^2$ and radius $r$, $\dot r = r(1 - r^2 +
    \varepsilon|w|^2 + e_z|z|^2)$; a bundle $w = R(\vartheta/2)\sigma$ that turns half a
    revolution per period with $\dot\sigma = \mathrm{diag}(\mu, -1)\sigma +
    \tfrac12(\mu + 1)(r - 1)\mathrm{diag}(1, -1)\sigma - |\sigma|^2\sigma$; a focus
    $\dot z = (\mu - 0.2 + i\beta)z + \gamma z|z|^2$. PD at $\mu = 0$: on the centre
    manifold $r - 1 = \varepsilon\sigma_1^2/2$, so $\dot\sigma_1 = (\varepsilon/4 -
    1)\sigma_1^3$, $\dot\vartheta = 1 + k_w\sigma_1^2$. NS at $\mu = 0.2$, angle
    $2\pi\beta$."""

    mu: float = -0.1
    eps: float = 1.0
    kw: float = 0.3
    kz: float = 0.2
    ez: float = 0.5
    beta: float = 0.3
    gr: float = -1.0
    gi: float = 0.5
    state_names: ClassVar[tuple[str, ...]] = ("V", "y", "w1", "w2", "a", "b")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, state, args):
        x6 = jnp.stack([state[k] for k in self.state_names])
        x, y, w1, w2, a, b = jnp.asarray(S6) @ x6
        r2, W, Z = x * x + y * y, w1 * w1 + w2 * w2, a * a + b * b
        om = 1.0 + self.kw * W + self.kz * Z
        G = 1.0 - r2 + self.eps * W + self.ez * Z
        mu, nu = self.mu, self.mu - 0.2
        ds = jnp.stack(
            [
                G * x - om * y + input_current(args),
                om * x + G * y,
                -0.5 * om * w2 + 0.5 * (mu - 1) * w1 + 0.5 * (mu + 1) * (x * w1 + y * w2) - W * w1,
                0.5 * om * w1 + 0.5 * (mu - 1) * w2 + 0.5 * (mu + 1) * (y * w1 - x * w2) - W * w2,
                nu * a - self.beta * b + (self.gr * a - self.gi * b) * Z,
                self.beta * a + nu * b + (self.gi * a + self.gr * b) * Z,
            ]
        )
        dx = jnp.asarray(S6INV) @ ds
        return {k: dx[i] for i, k in enumerate(self.state_names)}

    def resting_state(self):
        return {k: fill(0.0, self.shape) for k in self.state_names}


def _closed_forms():
    """The truths of `Suspended` (its docstring), with the eigenfunction of mean square 1 in
    the model's coordinates: PD v = k S^-1 (0, 0, R(t/2) e1, 0, 0), k^2 = 2 / (|S^-1 e3|^2 +
    |S^-1 e4|^2): a = k_w k^2, c = (eps/4 - 1) k^2; NS v = k S^-1 (0, 0, 0, 0, 1, -i),
    k^2 = 1 / (|S^-1 e5|^2 + |S^-1 e6|^2), z = 2 k xi: a = 4 k_z k^2, d = 4 gamma k^2."""
    col = np.sum(S6INV**2, axis=0)
    k_pd, k_ns = 2.0 / (col[2] + col[3]), 1.0 / (col[4] + col[5])
    pd = {"a": 0.3 * k_pd, "c": (1.0 / 4 - 1) * k_pd}
    ns = {"a": 4 * 0.2 * k_ns, "d": 4 * (-1.0 + 0.5j) * k_ns}
    return pd, ns


def _suspended_point(kind, mu, **extra):
    """The cycle of `Suspended` at `mu` in the layout of a located collocation point."""
    orbit = lambda t: circle(t, 6) @ S6INV.T  # noqa: E731
    return located_point(kind, orbit, 2 * np.pi, mu, Suspended.state_names, **extra)


def test_period_doubling_and_neimark_sacker_coefficients_at_closed_form_points():
    # PD at mu = 0, NS at mu = 0.2 with angle 2 pi 0.3. The exact circle's node values are
    # not the collocation solution (12 intervals of degree 4: ~2e-7 relative on the
    # coefficients): tolerance 1e-6 relative
    m = Suspended()
    pd_true, ns_true = _closed_forms()
    pd = cycle_normal_form(m, _suspended_point("PD", 0.0), param="mu")
    assert pd["a"] == pytest.approx(pd_true["a"], rel=1e-6)
    assert pd["c"] == pytest.approx(pd_true["c"], rel=1e-6)
    ns = cycle_normal_form(m, _suspended_point("NS", 0.2, theta=0.6 * np.pi), param="mu")
    assert ns["a"] == pytest.approx(ns_true["a"], rel=1e-6)
    assert ns["d"] == pytest.approx(ns_true["d"], rel=1e-6)


@pytest.mark.slow
def test_period_doubling_and_neimark_sacker_coefficients_match_closed_forms():
    m = Suspended()
    tau = np.linspace(0.0, 1.0, 401)
    s = np.zeros((tau.size, 6))
    s[:, 0], s[:, 1] = np.cos(2 * np.pi * tau), np.sin(2 * np.pi * tau)
    start = _sampled_cycle(s @ S6INV.T, 2 * np.pi, -0.1, Suspended.state_names, "mu")
    cb = continue_cycles_collocation(
        m, start, param="mu", bounds=(-0.1, 0.3), n_intervals=20, ds=0.1, ds_max=0.2
    )
    assert [str(sp.kind) for sp in cb.special_points] == ["PD", "NS"]
    pd, ns = cb.special_points
    assert pd.param == pytest.approx(0.0, abs=1e-8)
    assert ns.param == pytest.approx(0.2, abs=1e-8)
    # on the located points (the collocation solutions, located to ~1e-10): 1e-7 relative
    pd_true, ns_true = _closed_forms()
    nf = pd.info["normal_form"]
    assert nf["a"] == pytest.approx(pd_true["a"], rel=1e-7)
    assert nf["c"] == pytest.approx(pd_true["c"], rel=1e-7)
    assert pd.l1 == nf["c"] and pd.criticality == "supercritical"
    nf = ns.info["normal_form"]
    assert nf["a"] == pytest.approx(ns_true["a"], rel=1e-7)
    assert nf["d"] == pytest.approx(ns_true["d"], rel=1e-7)
    assert ns.l1 == pytest.approx(np.real(ns_true["d"]), rel=1e-7)
    assert ns.criticality == "supercritical"


class BautinTwist(NeuronModel):
    r"""$\dot z = (I + i\omega(r))z + \beta z r^2 + s z r^4$, $\omega = 1 + \kappa r^2$, seen
    in $x = S^{-1}(\mathrm{Re}\,z, \mathrm{Im}\,z)$. With $\dot r = g(r) = r(I + \beta r^2 +
    s r^4)$ the cycles fold at $I = \beta^2/(4s)$, $r_0^2 = -\beta/(2s)$; there $\xi = -(\omega'
    /\omega)(r - r_0)$ gives $\dot\sigma = 1 - \xi$, $\dot\xi = b\xi^2$ with $b = -\tfrac12
    g''(r_0)\,\omega/\omega' = \beta(1 + \kappa r_0^2)/\kappa$ (independent of coordinates)."""

    beta: float = 1.0
    s: float = -1.0
    kappa: float = 0.5
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        S = jnp.asarray([[1.0, 0.4], [-0.3, 1.2]])
        x, z = S @ jnp.stack([y["V"], y["w"]])
        r2 = x * x + z * z
        g = input_current(args) + self.beta * r2 + self.s * r2 * r2
        om = 1.0 + self.kappa * r2
        d = jnp.linalg.solve(S, jnp.stack([g * x - om * z, om * x + g * z]))
        return {"V": d[0], "w": d[1]}

    def resting_state(self):
        return {"V": fill(0.0, self.shape), "w": fill(0.0, self.shape)}


def _lpc_point():
    """`BautinTwist`'s fold of cycles (I = -1/4, r0^2 = 1/2, period 2 pi / (1 + kappa/2))."""
    S = np.array([[1.0, 0.4], [-0.3, 1.2]])
    orbit = lambda t: circle(t, 2, np.sqrt(0.5)) @ np.linalg.inv(S).T  # noqa: E731
    return located_point("LPC", orbit, 2 * np.pi / 1.25, -0.25, BautinTwist.state_names)


def test_fold_of_cycles_coefficient_at_the_closed_form_point():
    # b = beta (1 + kappa r0^2) / kappa = 2.5 for beta = 1, kappa = 0.5 (r0^2 = 1/2), in any
    # coordinates. The exact circle's node values are not the collocation solution (12
    # intervals of degree 4: b off by 2e-7, measured): tolerance 1e-6 relative
    m = BautinTwist()
    assert cycle_normal_form(m, _lpc_point())["b"] == pytest.approx(2.5, rel=1e-6)
    # a point that is not a fold: the same circle 1% off the fold's current
    off = _lpc_point()
    info = dict(off.info, u=off.info["u"].copy())
    info["u"][-1] = -0.2
    with pytest.raises(ContinuationError, match="not a LPC point"):
        cycle_normal_form(m, SpecialPoint(off.kind, -0.2, off.state, 0, info=info))


@pytest.mark.slow
def test_fold_of_cycles_coefficient_matches_closed_form():
    m = BautinTwist()
    S = np.array([[1.0, 0.4], [-0.3, 1.2]])
    tau = np.linspace(0.0, 1.0, 401)
    circle = np.stack([np.cos(2 * np.pi * tau), np.sin(2 * np.pi * tau)], 1)  # r = 1 at I = 0
    start = _sampled_cycle(circle @ np.linalg.inv(S).T, 2 * np.pi / 1.5, 0.0, m.state_names, "I")
    cb = continue_cycles_collocation(
        m, start, bounds=(-1.0, 0.5), n_intervals=12, direction=-1, ds=0.05, ds_max=0.1
    )
    (lpc,) = [sp for sp in cb.special_points if sp.kind == "LPC"]
    assert lpc.param == pytest.approx(-0.25, abs=1e-9)
    # b = beta (1 + kappa r0^2) / kappa = 2.5 (r0^2 = 1/2); tolerance 1e-7 relative (the
    # fold located to ~1e-10 in arclength, the orbit exact to ~1e-10 on 12 intervals)
    assert lpc.info["normal_form"]["b"] == pytest.approx(2.5, rel=1e-7)
    assert lpc.l1 is None and lpc.criticality is None
    assert cycle_normal_form(m, lpc)["b"] == lpc.info["normal_form"]["b"]


def test_normal_form_refuses_a_regular_point():
    system = make_system(BautinTwist(), "I")
    N, deg = 12, 4
    mesh = np.linspace(0.0, 1.0, N + 1)
    tau = (np.arange(N)[:, None] + np.arange(deg)[None, :] / deg).reshape(-1) / N
    S = np.array([[1.0, 0.4], [-0.3, 1.2]])
    X = np.stack([np.cos(2 * np.pi * tau), np.sin(2 * np.pi * tau)], 1) @ np.linalg.inv(S).T
    prob = _problem(system, mesh, X, deg, "I", np.inf, 0)
    u = np.concatenate([X.reshape(-1), [2 * np.pi / 1.5, 0.0]])  # r = 1 at I = 0: no fold
    with pytest.raises(ContinuationError, match="not a LPC point"):
        normal_form_coefficients(prob, u, "LPC")
    with pytest.raises(ValueError, match="theta must be in"):
        normal_form_coefficients(prob, u, "NS", theta=4.0)
    with pytest.raises(ValueError, match="kind must be"):
        normal_form_coefficients(prob, u, "H")


class Rossler(NeuronModel):
    r"""Rossler (1976): $\dot x = -y - z$, $\dot y = x + a y$, $\dot z = b + z(x - c)$
    ($V = x$)."""

    a: float = 0.2
    b: float = 0.2
    c: float = 2.5
    state_names: ClassVar[tuple[str, ...]] = ("V", "y", "z")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, s, args):
        x, y, z = s["V"], s["y"], s["z"]
        return {
            "V": -y - z + input_current(args),
            "y": x + self.a * y,
            "z": self.b + z * (x - self.c),
        }

    def resting_state(self):
        return {k: fill(0.0, self.shape) for k in self.state_names}


def _rossler_rhs(c):
    return lambda t, s: [-s[1] - s[2], s[0] + 0.2 * s[1], 0.2 + s[2] * (s[0] - c)]


def _maxima(c, x0, t_end=1200.0):
    """The local maxima of x over the last third of a scipy run (DOP853, tolerance 1e-10)."""
    sol = solve_ivp(
        _rossler_rhs(c), (0, t_end), x0, method="DOP853", rtol=1e-10, atol=1e-10, dense_output=True
    )
    t = np.linspace(2 * t_end / 3, t_end, 100001)
    x = sol.sol(t)[0]
    k = np.where((x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:]))[0] + 1
    return x[k]


@pytest.mark.slow
def test_rossler_first_period_doubling_is_supercritical_as_simulation_shows():
    m = Rossler()
    # the period-one cycle at c = 2.5 from a scipy run
    sol = solve_ivp(
        _rossler_rhs(2.5), (0, 600), [1.0, 1.0, 0.0], rtol=1e-10, atol=1e-10, dense_output=True
    )
    t = np.linspace(400, 600, 200001)
    x = sol.sol(t)[0]
    up = np.where((x[:-1] < 0) & (x[1:] >= 0))[0]
    T = float(np.mean(np.diff(t[up][-4:])))
    traj = sol.sol(np.linspace(t[up[-2]], t[up[-2]] + T, 401)).T
    start = _sampled_cycle(traj, T, 2.5, Rossler.state_names, "c")
    cb = continue_cycles_collocation(m, start, param="c", bounds=(2.5, 3.2), ds=0.05, ds_max=0.1)
    (pd,) = [sp for sp in cb.special_points if sp.kind == "PD"]
    assert 2.7 < pd.param < 3.0
    nf = pd.info["normal_form"]
    assert nf["c"] < 0 and pd.criticality == "supercritical"
    # independent: scipy runs started on the cycle at the PD point. 0.15 below it the
    # attractor is the period-one cycle (one maximum of x, to 1e-4: the transient decays
    # slowly near the PD); 0.1 and 0.2 above it a stable doubled cycle (two maxima) whose
    # split grows as the square root of the distance (supercritical): ratio sqrt(2) to 15%
    x0 = [pd.state[k] for k in Rossler.state_names]
    below = _maxima(pd.param - 0.15, x0)
    assert np.ptp(below) < 1e-4
    splits = []
    for dc in (0.1, 0.2):
        mx = _maxima(pd.param + dc, x0)
        hi, lo = mx[mx > np.mean(mx)], mx[mx <= np.mean(mx)]
        assert np.ptp(hi) < 1e-4 and np.ptp(lo) < 1e-4  # exactly two maxima: period two
        splits.append(hi.mean() - lo.mean())
        assert splits[-1] > 1e-2
    assert splits[1] / splits[0] == pytest.approx(np.sqrt(2.0), rel=0.15)
