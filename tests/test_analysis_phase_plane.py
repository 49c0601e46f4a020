"""Phase-plane tools (nullclines, vector field, trajectories, separatrices, basins, phase line,
HH reduction) checked against closed forms and independent numpy/scipy computations."""

from typing import ClassVar

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from spikejax.analysis import (
    FixedPointType,
    basin_of_attraction,
    fixed_points,
    nullclines,
    phase_line,
    reduce_hh,
    separatrix,
    trajectory,
    vector_field_grid,
)
from spikejax.models import FitzHughNagumo, HodgkinHuxley, INaP, INaPIK, Izhikevich
from spikejax.models._base import NeuronModel, fill, input_current

T = FixedPointType


class Toy(NeuronModel):
    """V' = -(w - 0.2)(V^2 + 1) (horizontal nullcline w = 0.2), w' = V - c (vertical, V = c)."""

    c: float = 0.3
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        V, w = y["V"], y["w"]
        return {"V": -(w - 0.2) * (V**2 + 1) + 0 * input_current(args), "w": V - self.c + 0 * w}

    def resting_state(self):
        return {"V": fill(self.c, self.shape), "w": fill(0.2, self.shape)}


class Circle(NeuronModel):
    """V' = V^2 + w^2 - 1 (a circular nullcline, neither affine in V nor in w), w' = -w."""

    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        V, w = y["V"], y["w"]
        return {"V": V**2 + w**2 - 1.0 + 0 * input_current(args), "w": -w}

    def resting_state(self):
        return {"V": fill(-1.0, self.shape), "w": fill(0.0, self.shape)}


def field(model, P, I):
    return np.asarray(
        [np.asarray(model.vector_field_array(0.0, jnp.asarray(p), I)) for p in np.atleast_2d(P)]
    )


# ----- nullclines -----------------------------------------------------------------------------


def test_fhn_nullclines_are_exact():
    a, b, I = 0.7, 0.8, 0.5
    nc = nullclines(FitzHughNagumo(a=a, b=b), I, (-2.5, 2.5), (-1.0, 2.0), n=401)
    assert set(nc) == {"V", "w"}
    for p in nc["V"]:
        v = p[:, 0]
        # Hand-solved: w = v - v^3/3 + I; explicit, so exact to round-off (|w| < 3).
        np.testing.assert_allclose(p[:, 1], v - v**3 / 3 + I, atol=1e-13)
    for p in nc["w"]:
        np.testing.assert_allclose(p[:, 1], (p[:, 0] + a) / b, atol=1e-13)
    # The V-nullcline leaves the box (w range) and comes back: pieces stay inside the box.
    pts = np.concatenate(nc["V"])
    assert pts[:, 1].min() >= -1.0 and pts[:, 1].max() <= 2.0
    assert pts[:, 0].min() < -2.0 and pts[:, 0].max() > 1.5


def test_vertical_and_horizontal_nullclines():
    nc = nullclines(Toy(c=0.3), 0.0, (-1.0, 1.0), (-1.0, 1.0), n=101)
    # w' = V - 0.3 does not depend on w: the w-nullcline is the vertical line V = 0.3.
    (vert,) = nc["w"]
    np.testing.assert_allclose(vert[:, 0], 0.3, atol=1e-14)
    np.testing.assert_allclose(sorted(vert[:, 1]), [-1.0, 1.0])
    # V' = 0 at w = 0.2 for all V: horizontal.
    (horiz,) = nc["V"]
    np.testing.assert_allclose(horiz[:, 1], 0.2, atol=1e-14)
    assert horiz[:, 0].min() == -1.0 and horiz[:, 0].max() == 1.0


def test_traced_nullcline_lies_on_the_curve():
    # Circle: traced by marching squares then projected: radius 1 to round-off, whole circle.
    nc = nullclines(Circle(), 0.0, (-1.5, 1.5), (-1.5, 1.5), n=101)
    pts = np.concatenate(nc["V"])
    # Newton projection along the gradient converges quadratically from the grid's O(h^2)
    # (h = 0.03) linear-interpolation error: 8 steps leave round-off.
    np.testing.assert_allclose(np.hypot(pts[:, 0], pts[:, 1]), 1.0, atol=1e-12)
    angles = np.sort(np.arctan2(pts[:, 1], pts[:, 0]))
    assert np.max(np.diff(angles)) < 0.1  # the whole circle, no gaps larger than ~2 grid cells


def test_reduced_hh_nullclines():
    model = reduce_hh()
    xlim, ylim = (-90.0, 50.0), (0.0, 1.0)
    # n = 400: no grid voltage hits -40 or -55 mV exactly, where the numpy rates below are 0/0.
    nc = nullclines(model, 0.0, xlim, ylim, n=400)
    # V-nullcline (n^4 and m_inf^3: not explicit): traced and projected, so |dV/dt| there is
    # round-off relative to the field's scale on the box (~1e3 mV/ms).
    pts = np.concatenate(nc["V"])
    assert len(pts) > 100
    assert np.max(np.abs(field(model, pts, 0.0)[:, 0])) < 1e-9
    # n-nullcline: n = n_inf(V), explicit; checked against the numpy rate functions.
    pn = np.concatenate(nc["n"])
    V = pn[:, 0]
    an = 0.01 * (V + 55) / (1 - np.exp(-(V + 55) / 10))
    bn = 0.125 * np.exp(-(V + 65) / 80)
    np.testing.assert_allclose(pn[:, 1], an / (an + bn), atol=1e-12)


def test_vector_field_grid_matches_hand_formula():
    X, Y, U, W = vector_field_grid(FitzHughNagumo(), 0.3, (-2.0, 2.0), (-1.0, 1.5), n=7)
    assert X.shape == (7, 7)
    np.testing.assert_allclose(U, X - X**3 / 3 - Y + 0.3, atol=1e-14)
    np.testing.assert_allclose(W, 0.08 * (X + 0.7 - 0.8 * Y), atol=1e-15)


# ----- trajectories, separatrix, basin ------------------------------------------------------


def test_trajectory_matches_scipy():
    model, I = FitzHughNagumo(), 0.5
    ts, ys = trajectory(model, [0.0, 0.0], I, t1=50.0, n_save=1001)
    ref = solve_ivp(
        lambda t, y: [y[0] - y[0] ** 3 / 3 - y[1] + I, 0.08 * (y[0] + 0.7 - 0.8 * y[1])],
        (0.0, 50.0),
        [0.0, 0.0],
        t_eval=ts,
        rtol=1e-11,
        atol=1e-12,
        method="DOP853",
    )
    # Both solvers at tolerances ~1e-8 or tighter on an O(1) relaxation oscillation over
    # ~1 period: agreement ~1e-6.
    np.testing.assert_allclose(ys, ref.y.T, atol=2e-6)


def test_hybrid_trajectory_stops_at_threshold():
    model = Izhikevich()
    ts, ys = trajectory(model, {"V": -45.0, "u": -10.0}, 0.0, t1=100.0, n_save=1001)
    # Right of the saddle (-50 mV): a spike. The rows after the threshold crossing are NaN.
    finite = np.isfinite(ys[:, 0])
    assert not finite.all() and finite[0]
    k = np.argmin(finite)
    assert np.all(~finite[k:])
    # The last finite row is where the flow froze, just past the 30 mV peak; all before it
    # are below.
    assert np.all(ys[: k - 1, 0] < 30.0) and 30.0 <= ys[k - 1, 0] < 30.1


def test_separatrix_is_the_stable_manifold():
    model = INaPIK()
    fps = fixed_points(model, 0.0)
    saddle = [fp for fp in fps if fp.type == T.SADDLE][0]
    box = {"V": (-80.0, -40.0), "n": (-0.05, 0.2)}
    branches = separatrix(model, saddle, bounds=box)
    assert len(branches) == 2
    scale = np.array([40.0, 0.25])
    x_s = saddle.vector

    # Independent stable eigenvector from a central-difference Jacobian of a numpy model.
    def f_np(t, y, I=0.0):
        V, n = y
        minf = 1 / (1 + np.exp((-20 - V) / 15))
        ninf = 1 / (1 + np.exp((-25 - V) / 5))
        return [I - 8 * (V + 80) - 20 * minf * (V - 60) - 10 * n * (V + 90), ninf - n]

    h = np.array([1e-6, 1e-8])
    J = np.stack(
        [
            (np.array(f_np(0, x_s + e)) - np.array(f_np(0, x_s - e))) / (2 * e.sum())
            for e in np.diag(h)
        ],
        axis=1,
    )
    ev, vec = np.linalg.eig(J)
    vs = vec[:, np.argmin(ev.real)].real
    for br in branches:
        np.testing.assert_array_equal(br[0], x_s)
        d0 = (br[1] - x_s) / np.linalg.norm(br[1] - x_s)
        # The first step leaves along the stable eigenvector (FD Jacobian good to ~1e-6).
        assert abs(abs(d0 @ vs / np.linalg.norm(vs)) - 1) < 1e-6
        # The branch reaches well away from the saddle (at least 10% of the box).
        assert np.max(np.abs(br - x_s) / scale) > 0.1
        # Forward integration from points on it approaches the saddle: stable rate 0.96/ms,
        # unstable 2.0/ms, so an error d off the manifold grows as d e^{2t} while the distance
        # shrinks as e^{-0.96 t}: from ~1e-10 errors the approach reaches ~1e-3 of the start.
        for p in br[len(br) // 4 :: max(1, len(br) // 8)]:
            dist0 = np.max(np.abs(p - x_s) / scale)
            if dist0 < 1e-3:
                continue
            sol = solve_ivp(
                f_np, (0, 15.0), p, rtol=1e-12, atol=1e-14, method="DOP853", dense_output=True
            )
            tt = np.linspace(0, 15.0, 3001)
            dist = np.max(np.abs(sol.sol(tt).T - x_s) / scale, axis=1)
            assert dist.min() < 1e-2 * dist0
            # A point moved off the curve by 1e-3 of the box misses the saddle by far more.
            q = p + 1e-3 * scale * np.array([1.0, -1.0])
            sol_q = solve_ivp(
                f_np, (0, 15.0), q, rtol=1e-12, atol=1e-14, method="DOP853", dense_output=True
            )
            dist_q = np.max(np.abs(sol_q.sol(tt).T - x_s) / scale, axis=1)
            assert dist_q.min() > 10 * dist.min()


def izh_rhs(t, y, I=0.0, a=0.02, b=0.2):
    return [0.04 * y[0] ** 2 + 5 * y[0] + 140 - y[1] + I, a * (b * y[0] - y[1])]


def test_basin_matches_direct_integration():
    model = Izhikevich()
    node, saddle = fixed_points(model, 0.0)
    xlim, ylim = (-80.0, -30.0), (-20.0, 0.0)
    X, Y, inside = basin_of_attraction(model, node, xlim=xlim, ylim=ylim, n=21)
    assert inside.shape == (21, 21)
    assert inside[np.argmin(np.abs(Y[:, 0] - node.state["u"])), 0]  # left edge near rest: in
    assert 0.2 < inside.mean() < 0.8  # both outcomes occur on this box

    def spike(t, y):
        return y[0] - 30.0

    spike.terminal = True
    rng = np.random.default_rng(0)
    idx = rng.choice(inside.size, 30, replace=False)
    t1 = 40.0 / 0.02698  # same horizon as the default (slowest eigenvalue -0.027)
    for i in idx:
        y0 = [X.ravel()[i], Y.ravel()[i]]
        sol = solve_ivp(izh_rhs, (0, t1), y0, events=spike, rtol=1e-10, atol=1e-12)
        end = sol.y[:, -1]
        converged = sol.status == 0 and np.max(np.abs(end - node.vector) / [50, 20]) < 1e-3
        assert converged == bool(inside.ravel()[i]), y0


# ----- phase line -----------------------------------------------------------------------------


def test_inap_phase_line():
    model = INaP()
    pl = phase_line(model, 0.0, V_range=(-80.0, 30.0))

    def f(V):  # numpy I_Na,p (Izhikevich 2007, eq. 3.5), dV/dt at I = 0
        minf = 1 / (1 + np.exp((1.5 - V) / 16))
        return (-19 * (V + 67) - 74 * minf * (V - 60)) / 10

    roots = [brentq(f, -60, -45, xtol=1e-14), brentq(f, -45, -30, xtol=1e-14)]
    assert [fp.type for fp in pl.fixed_points] == [T.STABLE_NODE, T.UNSTABLE_NODE]
    np.testing.assert_allclose([fp.state["V"] for fp in pl.fixed_points], roots, atol=1e-10)
    # Flow direction on each interval is the sign of f at its midpoint: up, down, up.
    assert [d for _, _, d in pl.intervals] == [1, -1, 1]
    for lo, hi, d in pl.intervals:
        assert np.sign(f(0.5 * (lo + hi))) == d
    np.testing.assert_allclose(pl.dVdt, f(pl.V), rtol=1e-12, atol=1e-12)
    assert pl.threshold == 20.0


# ----- reduction ----------------------------------------------------------------------------


def np_reduced_hh(V, n, I, h0=0.89, h1=1.1):
    am = 0.1 * (V + 40) / (1 - np.exp(-(V + 40) / 10))
    bm = 4 * np.exp(-(V + 65) / 18)
    an = 0.01 * (V + 55) / (1 - np.exp(-(V + 55) / 10))
    bn = 0.125 * np.exp(-(V + 65) / 80)
    m = am / (am + bm)
    dV = I - 120 * m**3 * (h0 - h1 * n) * (V - 50) - 36 * n**4 * (V + 77) - 0.3 * (V + 54.387)
    return np.array([dV, an * (1 - n) - bn * n])


def test_reduced_hh_field_fit_and_equilibria():
    model = reduce_hh()
    rng = np.random.default_rng(2)
    for _ in range(5):
        V, n, I = rng.uniform(-90, 40), rng.uniform(0, 1), rng.uniform(-5, 20)
        got = np.asarray(model.vector_field_array(0.0, jnp.array([V, n]), I))
        np.testing.assert_allclose(got, np_reduced_hh(V, n, I), rtol=1e-12, atol=1e-12)
    # Least-squares line h ~ h0 - h1 n through (n_inf, h_inf) on [-80, 40] mV, by scipy.
    from scipy.stats import linregress

    Vs = np.linspace(-80, 40, 241)
    g = HodgkinHuxley.steady_state_gates(jnp.asarray(Vs))
    lr = linregress(np.asarray(g["n"]), np.asarray(g["h"]))
    fit = reduce_hh(h_relation="fit")
    assert fit.h0 == pytest.approx(lr.intercept, abs=1e-12)
    assert fit.h1 == pytest.approx(-lr.slope, abs=1e-12)

    # Equilibrium at I = 0 against brentq on the numpy reduced steady-state current.
    def g_np(V):
        an = 0.01 * (V + 55) / (1 - np.exp(-(V + 55) / 10))
        bn = 0.125 * np.exp(-(V + 65) / 80)
        return np_reduced_hh(V, an / (an + bn), 0.0)[0]

    V0 = brentq(g_np, -70, -60, xtol=1e-14)
    (fp,) = fixed_points(model, 0.0)
    assert fp.state["V"] == pytest.approx(V0, abs=1e-10)
    assert fp.stable


def test_bad_input():
    with pytest.raises(ValueError, match="2 state variables"):
        nullclines(HodgkinHuxley(), 0.0, (-80, 0), (0, 1))
    with pytest.raises(ValueError, match="xlim"):
        nullclines(FitzHughNagumo(), 0.0, (1.0, -1.0), (0, 1))
    with pytest.raises(ValueError, match="ylim"):
        vector_field_grid(FitzHughNagumo(), 0.0, (-1.0, 1.0), (0.0, 0.0))
    with pytest.raises(ValueError, match="one-dimensional"):
        phase_line(FitzHughNagumo())
    fps = fixed_points(Izhikevich(), 0.0)
    with pytest.raises(ValueError, match="stable equilibrium"):
        basin_of_attraction(Izhikevich(), fps[1], xlim=(-80, -30), ylim=(-20, 0))
    with pytest.raises(ValueError, match="saddle"):
        separatrix(Izhikevich(), fps[0])
    with pytest.raises(ValueError, match="t0, t1"):
        trajectory(FitzHughNagumo(), [0.0, 0.0], t1=-1.0)
    with pytest.raises(ValueError, match="h_relation"):
        reduce_hh(h_relation="quadratic")
    with pytest.raises(ValueError, match="bounds"):
        trajectory(FitzHughNagumo(), [0.0, 0.0], t1=1.0, bounds={"x": (0, 1)})
    with pytest.raises(ValueError, match="n must be an integer"):
        nullclines(INaPIK(), 0.0, (-80, 0), (0, 1), n=2)
    with pytest.raises(ValueError, match="I must be a finite"):
        nullclines(INaPIK(), float("inf"), (-80, 0), (0, 1))
