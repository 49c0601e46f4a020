"""Equilibria, autodiff Jacobians and fixed-point types, checked against closed forms,
hand-derived Jacobians, finite differences and independent numpy/scipy solves."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hh_reference import hh_rhs
from scipy.optimize import brentq, fsolve

from spikejax.analysis import (
    FixedPointType,
    describe,
    fixed_points,
    jacobian,
    reduced_rhs,
    state_at_voltage,
)
from spikejax.models import LIF, FitzHughNagumo, HodgkinHuxley, Izhikevich

T = FixedPointType


def central_fd_jacobian(f, x, h):
    """Central finite differences, column j = (f(x + h e_j) - f(x - h e_j)) / 2h."""
    x = np.asarray(x, dtype=float)
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h[j]
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h[j]))
    return np.stack(cols, axis=1)


# ----- Jacobians ------------------------------------------------------------------------------

MODELS_AND_STATES = [
    (FitzHughNagumo(), [0.3, -0.4], 0.2),
    (Izhikevich(), [-55.0, -9.0], 3.0),
    (HodgkinHuxley(), [-61.3, 0.08, 0.55, 0.35], 4.0),
    (HodgkinHuxley(), [-40.0, 0.2, 0.4, 0.5], 0.0),  # alpha_m's removable singularity
    (HodgkinHuxley(), [-55.0, 0.2, 0.4, 0.5], 0.0),  # alpha_n's removable singularity
]


@pytest.mark.parametrize("model,x,I", MODELS_AND_STATES)
def test_jacobian_matches_central_differences(model, x, I):
    x = np.asarray(x, dtype=float)
    J = np.asarray(jacobian(model, x, I))
    assert J.shape == (len(x), len(x))
    assert np.all(np.isfinite(J))
    f = lambda z: model.vector_field_array(0.0, jnp.asarray(z), I)  # noqa: E731
    h = 1e-5 * np.maximum(1.0, np.abs(x))
    fd = central_fd_jacobian(f, x, h)
    # Central differences: truncation ~h^2 |f'''| ~ 1e-8 (HH: |f'''| up to ~1e2 per mV^3 and
    # per unit gate), round-off ~ eps |f| / h ~ 1e-9; 1e-6 absolute plus 1e-7 relative.
    np.testing.assert_allclose(J, fd, rtol=1e-7, atol=1e-6)
    # Dict states and array states give the same Jacobian.
    J2 = np.asarray(jacobian(model, model.from_vector(jnp.asarray(x)), I))
    np.testing.assert_array_equal(J, J2)


# -55 mV (alpha_n's removable singularity) runs by default; -40 mV (17 s) is slow
@pytest.mark.parametrize("V0", [pytest.param(-40.0, marks=pytest.mark.slow), -55.0])
def test_jacobian_and_its_voltage_derivative_finite_at_hh_singularities(V0):
    model = HodgkinHuxley()
    x = jnp.array([V0, 0.1, 0.5, 0.4])
    J = jacobian(model, x, 0.0)
    assert np.all(np.isfinite(np.asarray(J)))
    # Second derivatives (d J / dV), used by continuation, are finite at the singular point and
    # match central differences of the Jacobian taken across it (h = 1e-3 mV; truncation
    # ~h^2 ~ 1e-6 times the third derivative, which is O(1e-2) here).
    jac = jax.jit(lambda v: jacobian(model, x.at[0].set(v), 0.0))
    dJ = jax.jit(jax.jacfwd(jac))(V0)
    assert np.all(np.isfinite(np.asarray(dJ)))
    h = 1e-3
    fd = (np.asarray(jac(V0 + h)) - np.asarray(jac(V0 - h))) / (2 * h)
    np.testing.assert_allclose(np.asarray(dJ), fd, rtol=1e-6, atol=1e-7)
    # The reduced equilibrium function and its state are finite there too.
    assert np.isfinite(float(reduced_rhs(model, V0)))
    assert np.all(np.isfinite(np.asarray(state_at_voltage(model, V0))))
    # dg/dV at the singular voltage: finite and equal to -I_inf'(V)/C by central differences
    # of the model's own steady-state current (h = 1e-3 mV; error ~h^2 times the third
    # derivative, ~1e-7).
    dg = float(jax.grad(lambda v: reduced_rhs(model, v))(V0))
    I_inf = model.steady_state_current
    fd_g = -(float(I_inf(V0 + h)) - float(I_inf(V0 - h))) / (2 * h)
    assert np.isfinite(dg) and abs(dg - fd_g) < 1e-5


def fhn_jacobian(v, a, b, eps):
    # Hand-derived: d/dv (v - v^3/3 - w + I) = 1 - v^2, d/dw = -1; d/dv eps(v + a - b w) = eps,
    # d/dw = -eps b.
    return np.array([[1 - v**2, -1.0], [eps, -eps * b]])


def izh_jacobian(v, a, b):
    # d/dv (0.04 v^2 + 5 v + 140 - u + I) = 0.08 v + 5, d/du = -1; d/dv a(b v - u) = a b, -a.
    return np.array([[0.08 * v + 5.0, -1.0], [a * b, -a]])


def planar_type(J):
    """Textbook trace-determinant rules, written independently of `classify`."""
    tr, det = np.trace(J), np.linalg.det(J)
    if det < 0:
        return T.SADDLE
    disc = tr**2 - 4 * det
    if tr < 0:
        return T.STABLE_FOCUS if disc < 0 else T.STABLE_NODE
    return T.UNSTABLE_FOCUS if disc < 0 else T.UNSTABLE_NODE


def fhn_roots(I, a, b):
    # Equilibria: w = (v + a)/b and v - v^3/3 - (v + a)/b + I = 0, a cubic in v.
    r = np.roots([-1.0 / 3.0, 0.0, 1.0 - 1.0 / b, I - a / b])
    return np.sort(r[np.abs(r.imag) < 1e-9].real)


@pytest.mark.parametrize(
    "a,b,eps,I",
    [
        (0.7, 0.8, 0.08, 0.0),
        (0.7, 0.8, 0.08, 0.33),
        (0.7, 0.8, 0.08, 0.5),
        (0.7, 0.8, 0.08, 1.0),
        (0.7, 0.8, 0.08, 1.5),
        (0.7, 0.8, 0.08, -1.0),
        (0.7, 2.0, 0.08, 0.35),  # three: v = 0 (saddle), +-sqrt(1.5) (stable foci)
    ],
)
def test_fhn_equilibria_and_types_against_cubic_roots(a, b, eps, I):
    model = FitzHughNagumo(a=a, b=b, eps=eps)
    fps = fixed_points(model, I)
    roots = fhn_roots(I, a, b)
    assert len(fps) == len(roots)
    for fp, v in zip(fps, roots):
        # Roots refined to machine precision; np.roots (companion eigenvalues) is good to ~1e-14.
        assert fp.state["V"] == pytest.approx(v, abs=1e-11)
        assert fp.state["w"] == pytest.approx((v + a) / b, abs=1e-11)
        Jh = fhn_jacobian(v, a, b, eps)
        np.testing.assert_allclose(fp.jacobian, Jh, atol=1e-10)
        ev_h = np.sort_complex(np.linalg.eigvals(Jh))
        np.testing.assert_allclose(np.sort_complex(fp.eigenvalues), ev_h, atol=1e-10)
        assert fp.type == planar_type(Jh)
        assert fp.stable == (planar_type(Jh) in (T.STABLE_NODE, T.STABLE_FOCUS))
    if b == 2.0:
        # tr = -0.5 - 2 eps = -0.66, det = 2 eps = 0.16 at v = +-sqrt(1.5): tr^2 < 4 det, focus.
        assert [fp.type for fp in fps] == [T.STABLE_FOCUS, T.SADDLE, T.STABLE_FOCUS]
        assert [fp.n_unstable for fp in fps] == [0, 1, 0]


def izh_sn_current(b):
    # 0.04 v^2 + (5 - b) v + 140 + I = 0 has a double root when its discriminant vanishes:
    # (5 - b)^2 = 0.16 (140 + I), i.e. I_SN = (b - 5)^2 / 0.16 - 140, at v = -(5 - b) / 0.08.
    return (b - 5.0) ** 2 / 0.16 - 140.0


@pytest.mark.parametrize("preset", ["RS", "LTS"])
def test_izhikevich_saddle_node(preset):
    model = Izhikevich.preset(preset)
    a, b = float(model.a), float(model.b)
    I_sn = izh_sn_current(b)
    if preset == "RS":
        assert I_sn == pytest.approx(4.0, abs=1e-12)  # (4.8)^2/0.16 - 140 = 144 - 140

    def roots(I):
        disc = (5 - b) ** 2 - 0.16 * (140 + I)
        return sorted([(-(5 - b) - s * np.sqrt(disc)) / 0.08 for s in (1, -1)])

    fps = fixed_points(model, 0.0)
    assert [fp.type for fp in fps][1] == T.SADDLE
    if preset == "RS":  # v = -70: eigenvalues -0.593, -0.027 (real): a node
        assert fps[0].type == T.STABLE_NODE
    for fp, v in zip(fps, roots(0.0)):
        assert fp.type == planar_type(izh_jacobian(v, a, b))
        assert fp.state["V"] == pytest.approx(v, abs=1e-10)
        assert fp.state["u"] == pytest.approx(b * v, abs=1e-10)
        ev_h = np.sort(np.linalg.eigvals(izh_jacobian(v, a, b)).real)
        np.testing.assert_allclose(np.sort(fp.eigenvalues.real), ev_h, atol=1e-10)
    # Just below the saddle-node: two close equilibria (1e-4 below: separation
    # 2 sqrt(1e-4 / 0.04) = 0.1 mV, about 2 grid cells) and 1e-8 below (1e-3 mV apart: both
    # between two grid points, found through the tangency search).
    for dI in (1e-4, 1e-8):
        fps = fixed_points(model, I_sn - dI)
        assert len(fps) == 2
        # Double-root conditioning: the roots are accurate to ~eps / (slope ~ 2 sqrt(0.04 dI)).
        for fp, v in zip(fps, roots(I_sn - dI)):
            assert fp.state["V"] == pytest.approx(v, abs=1e-8)
        assert fps[1].type == T.SADDLE
    # At the saddle-node: one non-hyperbolic equilibrium at v = -(5 - b)/0.08.
    fps = fixed_points(model, I_sn)
    assert len(fps) == 1
    assert fps[0].type == T.NON_HYPERBOLIC and fps[0].double_root
    assert fps[0].state["V"] == pytest.approx(-(5 - b) / 0.08, abs=1e-6)
    # Above it: none.
    for dI in (1e-3, 1.0, 50.0):
        assert fixed_points(model, I_sn + dI) == []


np_hh = hh_rhs  # the independent numpy HH shared by the tests (tests/hh_reference.py)


@pytest.mark.parametrize("I", [0.0, 5.0])
def test_hh_equilibrium_and_eigenvalues_against_scipy(I):
    fps = fixed_points(HodgkinHuxley(), I)
    assert len(fps) == 1  # monostable for I below ~ 150 uA/cm^2 with the 1952 parameters
    fp = fps[0]
    x_ref = fsolve(lambda x: np_hh(x, I), [-65.0, 0.05, 0.6, 0.3], xtol=1e-12)
    assert np.max(np.abs(np_hh(x_ref, I))) < 1e-10
    # fsolve vs bracketed Newton: both converged to round-off of the residual, whose
    # conditioning (slope of I_inf ~ 0.5 uA/cm^2/mV) keeps V within ~1e-10 mV.
    np.testing.assert_allclose(fp.vector, x_ref, atol=1e-9)
    h = 1e-6 * np.maximum(1.0, np.abs(x_ref))
    J_fd = central_fd_jacobian(lambda x: np_hh(x, I), x_ref, h)
    ev_ref = np.sort_complex(np.linalg.eigvals(J_fd))
    # FD Jacobian: truncation ~h^2 |f'''| ~ 1e-10, round-off ~ eps |f| / h ~ 1e-8.
    np.testing.assert_allclose(np.sort_complex(fp.eigenvalues), ev_ref, atol=1e-6)
    if I == 0.0:
        assert fp.state["V"] == pytest.approx(-65.0, abs=0.01)
        assert fp.type == T.STABLE_FOCUS and fp.stable


def test_hh_after_hopf_is_a_saddle_focus_with_two_unstable_directions():
    # The 1952 model's subcritical Hopf is near I = 9.78 uA/cm^2: at 10 the rest point has an
    # unstable complex pair and two stable real eigenvalues.
    fp = fixed_points(HodgkinHuxley(), 10.0)[0]
    assert fp.type == T.SADDLE_FOCUS and fp.n_unstable == 2 and not fp.stable
    assert describe(fp.eigenvalues) == "saddle-focus, 2 unstable directions"
    # Consistent with the eigenvalues: two with positive real part (a complex pair).
    assert np.sum(fp.eigenvalues.real > 0) == 2 and np.all(
        fp.eigenvalues.imag[fp.eigenvalues.real > 0] != 0
    )


def test_lif_equilibrium_below_threshold_only():
    model = LIF()
    fps = fixed_points(model, 10.0)
    assert len(fps) == 1
    # V* = E_L + R I; the refractory clock (decoupled, trivially zero eigenvalue) is ignored
    # for the type, leaving -1/tau_m.
    assert fps[0].state["V"] == pytest.approx(-55.0, abs=1e-12)
    assert fps[0].type == T.STABLE_NODE
    assert np.min(np.abs(fps[0].eigenvalues + 1 / 20.0)) < 1e-14
    assert fixed_points(model, 20.0) == []  # E_L + R I = -45 > V_th: no equilibrium


def test_newton_starts_fallback_agrees_with_reduction():
    model = FitzHughNagumo(b=2.0)
    fps = fixed_points(model, 0.35)
    # A tiny search range that contains none of them: only the Newton starts find them.
    fps2 = fixed_points(
        model, 0.35, V_range=(5.0, 6.0), starts=[[-1.0, -0.2], [0.1, 0.3], [1.3, 1.0]]
    )
    assert len(fps2) == 3
    for p, q in zip(fps, fps2):
        np.testing.assert_allclose(p.vector, q.vector, atol=1e-12)
        assert p.type == q.type


def test_bad_input():
    m = FitzHughNagumo()
    with pytest.raises(ValueError, match="no parameter"):
        fixed_points(m, 0.0, params={"gamma": 1.0})
    with pytest.raises(ValueError, match="eps"):
        fixed_points(m, 0.0, params={"eps": float("nan")})
    with pytest.raises(ValueError, match="I must be a finite"):
        fixed_points(m, float("nan"))
    for bad in [(1.0, 1.0), (2.0, -2.0), (float("nan"), 1.0), (0.0, float("inf")), (1.0,)]:
        with pytest.raises(ValueError, match="V_range"):
            fixed_points(m, 0.0, V_range=bad)
    with pytest.raises(ValueError, match="n_grid"):
        fixed_points(m, 0.0, n_grid=3)
    with pytest.raises(ValueError, match="single cell"):
        fixed_points(FitzHughNagumo(a=jnp.array([0.7, 0.8])), 0.0)
    # A non-finite parameter that the model's own checks let through (bypassing __init__).
    bad = Izhikevich()
    object.__setattr__(bad, "v_peak", float("inf"))
    with pytest.raises(ValueError, match="v_peak"):
        fixed_points(bad, 0.0)
    with pytest.raises(ValueError, match="shape"):
        jacobian(m, jnp.zeros(3))
    with pytest.raises(ValueError, match="no state variable"):
        jacobian(m, {"V": 0.0, "w": 0.0, "x": 1.0})


def test_inap_equilibria_against_brentq():
    from spikejax.models import INaP

    def f(V, I=0.0):  # numpy I_Na,p (Izhikevich 2007, eq. 3.5): C V' = I - I_L - I_Na,p
        minf = 1 / (1 + np.exp((1.5 - V) / 16))
        return (I - 19 * (V + 67) - 74 * minf * (V - 60)) / 10

    def slope(V, h=1e-6):
        return (f(V + h) - f(V - h)) / (2 * h)

    fps = fixed_points(INaP(), 0.0)
    # Brackets from a coarse scan in the test: rest, saddle (unstable in 1-D) and the excited
    # state above V_peak = 20 mV, which is not an equilibrium of the hybrid model.
    Vs = np.linspace(-100, 80, 181)
    sign = np.sign(f(Vs))
    roots = [brentq(f, Vs[i], Vs[i + 1], xtol=1e-14) for i in np.flatnonzero(sign[:-1] != sign[1:])]
    assert len(roots) == 3 and roots[2] > 20.0
    assert len(fps) == 2
    for fp, v in zip(fps, roots[:2]):
        assert fp.state["V"] == pytest.approx(v, abs=1e-10)
        # 1-D: the eigenvalue is f'(V*) (central differences, error ~1e-8).
        assert fp.eigenvalues[0].real == pytest.approx(slope(v), abs=1e-6)
        assert fp.stable == (slope(v) < 0)
    assert [fp.type for fp in fps] == [T.STABLE_NODE, T.UNSTABLE_NODE]


def test_inapik_equilibria_against_brentq():
    from spikejax.models import INaPIK

    def g(V):  # n = n_inf(V) substituted into the voltage equation (Izhikevich 2007, eq. 4.1)
        minf = 1 / (1 + np.exp((-20 - V) / 15))
        ninf = 1 / (1 + np.exp((-25 - V) / 5))
        return -8 * (V + 80) - 20 * minf * (V - 60) - 10 * ninf * (V + 90)

    Vs = np.linspace(-100, 60, 161)
    s = np.sign(g(Vs))
    roots = [brentq(g, Vs[i], Vs[i + 1], xtol=1e-14) for i in np.flatnonzero(s[:-1] != s[1:])]
    fps = fixed_points(INaPIK(), 0.0)
    np.testing.assert_allclose([fp.state["V"] for fp in fps], roots, atol=1e-10)
    assert [fp.type for fp in fps] == [T.STABLE_NODE, T.SADDLE, T.UNSTABLE_FOCUS]
