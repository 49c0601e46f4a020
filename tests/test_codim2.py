"""Codimension-two points on fold and Hopf curves (`bifurcation_curve(...).special_points`):
Bogdanov-Takens, cusp, generalised Hopf (Bautin) and zero-Hopf points located at their
closed-form parameters, with normal-form coefficients against closed forms (normal forms
seen through a linear change of coordinates), against a Poincare return map integrated with
scipy (l2 of a generic planar system), and against a closed-form Bautin point of the
FitzHugh-Nagumo model and the Bogdanov-Takens point of Izhikevich's model. float64."""

from typing import ClassVar

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from spikejax.analysis import SpecialPoint, bifurcation_curve, continuation
from spikejax.models import FitzHughNagumo, Izhikevich, NeuronModel, fill, input_current

# a linear change of coordinates x = T xi (not orthogonal), applied to the normal forms
T = np.array([[1.0, 0.4], [-0.3, 1.2]])
TINV = np.linalg.inv(T)


def _orient(v):
    return v if v[np.argmax(np.abs(v))] > 0 else -v


def _point(kind, param, **state):
    """A fold or Hopf point known in closed form (the start of a curve)."""
    return SpecialPoint(kind, float(param), {k: float(v) for k, v in state.items()}, 0)


class BogdanovTakens(NeuronModel):
    r"""$\dot x = y$, $\dot y = I + \beta y + x^2 + s x y$ seen in $\xi = T^{-1}(x, y)$.
    Folds on $I = 0$; Hopf points on $I = -(\beta/s)^2$ ($x = -\beta/s < 0$); both curves
    end at the Bogdanov-Takens point $I = \beta = 0$, where the normal form has $a = 1$,
    $b = s$ for the chain $(e_1, e_2)$."""

    beta: float = 0.5
    s: float = 1.0
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        I = input_current(args)
        xi = jnp.stack([y["V"], y["w"]])
        x, z = jnp.asarray(T) @ xi
        dx = jnp.asarray(TINV) @ jnp.stack([z, I + self.beta * z + x * x + self.s * x * z])
        return {"V": dx[0], "w": dx[1]}

    def resting_state(self):
        # the equilibrium x = -1, y = 0 at I = -1
        xi = TINV @ np.array([-1.0, 0.0])
        return {"V": fill(xi[0], self.shape), "w": fill(xi[1], self.shape)}


def test_bogdanov_takens_on_fold_and_hopf_curves():
    # Truth: the BT point at I = beta = 0, x = y = 0; with |q0| = 1 (q0 = kappa T^-1 e1,
    # oriented by its largest component) the coefficients are (a, b) = sigma kappa (1, s).
    # The Hopf curve's closed form I = -(beta/s)^2. Tolerances: located by regula falsi /
    # Newton to 1e-10, so 1e-8 on parameters and coefficients.
    m = BogdanovTakens(s=0.8)
    lp = _point("LP", 0.0, V=0.0, w=0.0)
    xi = TINV @ np.array([-0.5 / 0.8, 0.0])
    h = _point("H", -((0.5 / 0.8) ** 2), V=xi[0], w=xi[1])
    q0 = TINV @ np.array([1.0, 0.0])
    kappa, sigma = 1.0 / np.linalg.norm(q0), np.sign(_orient(q0) @ q0)
    want = sigma * kappa * np.array([1.0, 0.8])

    fold = bifurcation_curve(m, lp, "beta", -0.5)
    assert fold.status == "reached_stop"
    np.testing.assert_allclose(fold.param("I"), 0.0, atol=1e-10)
    (bt,) = fold.points("BT")
    assert bt.params["beta"] == pytest.approx(0.0, abs=1e-9)
    assert bt.params["I"] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose([bt.coefficients["a"], bt.coefficients["b"]], want, rtol=1e-8)
    assert fold.points("CP") == []  # a = 1/2 p.B(q, q) = x never vanishes on I = 0 but at BT

    hopf = bifurcation_curve(m, h, "beta", 0.0, bounds2=(-1.0, 1.0))
    assert hopf.status == "omega_zero"
    np.testing.assert_allclose(hopf.param("I"), -((hopf.param("beta") / 0.8) ** 2), atol=1e-10)
    (bt2,) = hopf.points("BT")
    assert bt2.located and bt2.index == len(hopf) - 1
    assert bt2.params["beta"] == pytest.approx(0.0, abs=1e-9)
    assert bt2.params["I"] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose([bt2.coefficients["a"], bt2.coefficients["b"]], want, rtol=1e-8)


@pytest.mark.slow
def test_izhikevich_bogdanov_takens_point_and_coefficients():
    # v' = 0.04 v^2 + 5 v + 140 - u + I, u' = a (b v - u): the Hopf curve in b ends at the
    # BT point b = a, v = (a - 5)/0.08, I = -(0.04 v^2 + (5 - a) v + 140). There
    # xi1 = v - v_BT, xi2 = a xi1 - (u - u_BT) give xi1' = xi2 + 0.04 xi1^2,
    # xi2' = 0.04 a xi1^2, whose BT coefficients are a_nf = b20/2 = 0.04 a, b_nf = a20 + b11
    # = 0.08 (Kuznetsov 2004, sec. 8.4) for the chain q0 = (1, a), q1 = (0, -1); with
    # |q0| = 1: (a_nf, b_nf) = (0.04 a, 0.08)/sqrt(1 + a^2).
    m = Izhikevich()  # a = 0.02, b = 0.2
    h = continuation(m, "I", start=0.0, stop=6.0).hopf_points[0]
    curve = bifurcation_curve(m, h, "b", 0.0)
    (bt,) = curve.points("BT")
    a = 0.02
    v = (a - 5) / 0.08
    assert bt.params["b"] == pytest.approx(a, abs=1e-10)
    assert bt.params["I"] == pytest.approx(-(0.04 * v * v + (5 - a) * v + 140), abs=1e-8)
    assert bt.state["V"] == pytest.approx(v, abs=1e-8)
    k = 1.0 / np.sqrt(1 + a * a)
    assert bt.coefficients["a"] == pytest.approx(0.04 * a * k, rel=1e-8)
    assert bt.coefficients["b"] == pytest.approx(0.08 * k, rel=1e-8)


class Cusp(NeuronModel):
    r"""$\dot V = I + \beta V - V^3 + k V w$, $\dot w = -w + V^2$: on the centre manifold
    $w = V^2 + O(V^4)$ the flow is $\dot V = I + \beta V + (k - 1)V^3$: folds on
    $\beta = 3(1 - k)V^2$, $I = -2(1 - k)V^3$, the cusp at $I = \beta = 0$ with
    $c = k - 1$ ($q = p = e_1$)."""

    beta: float = 0.6
    k: float = 0.4
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        V, w = y["V"], y["w"]
        return {
            "V": input_current(args) + self.beta * V - V**3 + self.k * V * w,
            "w": -w + V * V,
        }

    def resting_state(self):
        return {"V": fill(-1.0, self.shape), "w": fill(1.0, self.shape)}


def test_cusp_located_with_its_coefficient():
    # Truth: the fold curve beta = 1.8 V^2, I = -1.2 V^3 turns in beta at the cusp
    # (V = 0, I = beta = 0) with c = k - 1 = -0.6. Tolerances 1e-8 (location 1e-10).
    m = Cusp()
    V0 = -np.sqrt(0.6 / 1.8)
    lp = _point("LP", -1.2 * V0**3, V=V0, w=V0**2)
    curve = bifurcation_curve(m, lp, "beta", -0.3, bounds2=(-0.3, 0.6))
    V = curve.state("V")
    np.testing.assert_allclose(curve.param("beta"), 1.8 * V**2, atol=1e-10)
    np.testing.assert_allclose(curve.param("I"), -1.2 * V**3, atol=1e-10)
    assert V.min() < 0 < V.max()  # through the cusp onto the other fold branch
    (cp,) = curve.points("CP")
    assert cp.params["beta"] == pytest.approx(0.0, abs=1e-9)
    assert cp.params["I"] == pytest.approx(0.0, abs=1e-9)
    assert cp.coefficients["a"] == pytest.approx(0.0, abs=1e-8)
    assert cp.coefficients["c"] == pytest.approx(-0.6, rel=1e-8)
    assert curve.points("BT") == []


class Bautin(NeuronModel):
    r"""The Bautin normal form $\dot Z = (I + i\omega)Z + \beta Z|Z|^2 + s Z|Z|^4$,
    $Z = x + iy$, seen in $\xi = T^{-1}(x, y)$: Hopf at $I = 0$ for every $\beta$; with
    $|q| = 1$ in $(x, y)$, $z = Z/\sqrt 2$, so $\ell_1 = 2\beta/\omega$ and
    $\ell_2 = 4 s/\omega$; through $T$ both scale by $\kappa^2$, $\kappa^4$ with
    $\kappa = 1/|T^{-1} q|$."""

    beta: float = 0.5
    s: float = -0.7
    omega: float = 1.3
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        I = input_current(args)
        x, z = jnp.asarray(T) @ jnp.stack([y["V"], y["w"]])
        r2 = x * x + z * z
        g = I + self.beta * r2 + self.s * r2 * r2
        d = jnp.asarray(TINV) @ jnp.stack([g * x - self.omega * z, self.omega * x + g * z])
        return {"V": d[0], "w": d[1]}

    def resting_state(self):
        return {"V": fill(0.0, self.shape), "w": fill(0.0, self.shape)}


def test_bautin_point_and_second_lyapunov_coefficient():
    # Truth: the GH point at beta = 0 (I = 0 on the whole curve), l2 = 4 s kappa^4 / omega.
    m = Bautin()
    curve = bifurcation_curve(m, _point("H", 0.0, V=0.0, w=0.0), "beta", -0.5)
    assert curve.status == "reached_stop"
    np.testing.assert_allclose(curve.param("I"), 0.0, atol=1e-12)
    (gh,) = curve.points("GH")
    kappa = 1.0 / np.linalg.norm(TINV @ np.array([1.0, -1.0j]) / np.sqrt(2))
    assert gh.params["beta"] == pytest.approx(0.0, abs=1e-10)
    assert gh.coefficients["l1"] == pytest.approx(0.0, abs=1e-9)
    assert gh.coefficients["l2"] == pytest.approx(4 * -0.7 / 1.3 * kappa**4, rel=1e-8)
    assert gh.coefficients["omega"] == pytest.approx(1.3, rel=1e-10)


class WeakFocus(NeuronModel):
    r"""A generic planar system with a Hopf point at $I = 0$ (equilibrium at the origin) and
    a cubic coefficient $g$ that makes $\ell_1$ change sign: no closed form for $\ell_2$."""

    g: float = 0.5
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        I = input_current(args)
        x, z = y["V"], y["w"]
        return {
            "V": I * x
            - z
            + 0.4 * x * x
            - 0.3 * x * z
            + self.g * x**3
            + 0.2 * x * z * z
            - 0.1 * x**4
            + 0.05 * z**5,
            "w": x
            + I * z
            + 0.25 * z * z
            + 0.6 * x * z
            - 0.2 * x * x * z
            + 0.3 * z**3
            + 0.1 * x * x * z * z,
        }

    def resting_state(self):
        return {"V": fill(0.0, self.shape), "w": fill(0.0, self.shape)}


def _return_map_l2(rhs, x0, q, omega):
    """l2 from the Poincare map on the ray x0 + s Re(q) (|q| = 1): there z = s/2 + O(s^2),
    and at l1 = 0 the displacement is s' - s = 2 pi l2 (s/2)^5 2 + O(s^6) (the first nonzero
    coefficient of the return map is invariant under near-identity changes of coordinates),
    fitted over five amplitudes with scipy's DOP853 at rtol 1e-13."""
    d = np.real(q)
    nrm = np.array([-d[1], d[0]])

    def event(t, x):
        return nrm @ (x - x0)

    event.direction = float(np.sign(nrm @ rhs(0.0, x0 + 1e-3 * d)))
    S = np.array([0.04, 0.06, 0.08, 0.1, 0.12])
    D = []
    for s in S:
        sol = solve_ivp(
            rhs,
            (0.0, 3 * 2 * np.pi / omega),
            x0 + s * d,
            method="DOP853",
            rtol=1e-13,
            atol=1e-16,
            events=event,
        )
        back = [x for t, x in zip(sol.t_events[0], sol.y_events[0], strict=True) if t > 1.0]
        D.append(((back[0] - x0) @ d) / (d @ d) - s)
    coef = np.linalg.lstsq(np.vstack([S**5, S**6, S**7, S**8]).T, np.asarray(D), rcond=None)[0]
    return coef[0] * 16 / (2 * np.pi)


def _weak_focus_rhs(g):
    """WeakFocus at I = 0 in numpy (scipy's right-hand side)."""

    def rhs(t, s):
        x, z = s
        return np.array(
            [
                -z
                + 0.4 * x * x
                - 0.3 * x * z
                + g * x**3
                + 0.2 * x * z * z
                - 0.1 * x**4
                + 0.05 * z**5,
                x + 0.25 * z * z + 0.6 * x * z - 0.2 * x * x * z + 0.3 * z**3 + 0.1 * x * x * z * z,
            ]
        )

    return rhs


def _fhn_rhs(I, a, b, eps):
    def rhs(t, s):
        v, w = s
        return np.array([v - v**3 / 3 - w + I, eps * (v + a - b * w)])

    return rhs


def _focus(rhs, x0):
    """The eigenvector q (|q| = 1) and frequency of the focus x0, by central differences."""
    A = np.column_stack([(rhs(0, x0 + 1e-6 * e) - rhs(0, x0 - 1e-6 * e)) / 2e-6 for e in np.eye(2)])
    ev, V = np.linalg.eig(A)
    k = int(np.argmax(ev.imag))
    return V[:, k] / np.linalg.norm(V[:, k]), float(ev[k].imag)


@pytest.mark.slow
def test_second_lyapunov_coefficient_of_a_generic_system_against_return_map():
    # Truth: the Poincare return map integrated by scipy (independent of the normal-form
    # computation); the fit's error is ~1e-5 relative, the tolerance 1e-3.
    m = WeakFocus()
    curve = bifurcation_curve(m, _point("H", 0.0, V=0.0, w=0.0), "g", -1.0)
    (gh,) = curve.points("GH")
    rhs, x0 = _weak_focus_rhs(gh.params["g"]), np.array([gh.state["V"], gh.state["w"]])
    l2 = _return_map_l2(rhs, x0, *_focus(rhs, x0))
    assert gh.coefficients["l2"] == pytest.approx(l2, rel=1e-3)
    assert abs(gh.coefficients["l2"]) > 1e-2  # a nondegenerate Bautin point


@pytest.mark.slow
def test_fitzhugh_nagumo_bautin_point_closed_form():
    # v' = v - v^3/3 - w + I, w' = eps (v + a - b w). At a Hopf point 1 - v^2 = eps b,
    # omega^2 = eps (1 - eps b^2); Kuznetsov's formula with the only nonlinearity in v
    # (B = -2v, C = -2 in the first component) and q = (1, eps b - i omega)/sqrt(1 + eps)
    # gives, worked by hand, l1 = (-1 + 2 eps b v^2 / omega^2) / (2 omega (1 + eps)), zero at
    # eps = (2 b - 1)/b^2 (0.9375 for b = 0.8): the Bautin point on the Hopf curve in
    # (I, eps). Its l2 is checked against the return map (tolerance 1e-3).
    m = FitzHughNagumo()  # a = 0.7, b = 0.8, eps = 0.08
    branch = continuation(m, "I", start=0.0, stop=1.0)
    h = min(branch.hopf_points, key=lambda sp: sp.param)
    b, eps = 0.8, 0.08
    v2, w2 = 1 - eps * b, eps * (1 - eps * b * b)
    l1 = (-1 + 2 * eps * b * v2 / w2) / (2 * np.sqrt(w2) * (1 + eps))
    assert h.l1 == pytest.approx(l1, rel=1e-9)
    curve = bifurcation_curve(m, h, "eps", 1.0)
    (gh,) = curve.points("GH")
    assert gh.params["eps"] == pytest.approx((2 * b - 1) / b**2, abs=1e-9)
    rhs = _fhn_rhs(gh.params["I"], 0.7, b, gh.params["eps"])
    x0 = np.array([gh.state["V"], gh.state["w"]])
    assert gh.coefficients["l2"] == pytest.approx(
        _return_map_l2(rhs, x0, *_focus(rhs, x0)), rel=1e-3
    )


class ZeroHopf(NeuronModel):
    r"""$\dot\xi = I + b\xi^2 + c(y_1^2 + y_2^2)$, $\dot y = (\beta + d\xi) y + \omega J y$:
    folds on $I = 0$, Hopf points on $\xi = -\beta/d$, $I = -b\beta^2/d^2$; both meet at the
    zero-Hopf point $I = \beta = 0$ with normal-form coefficients $b$, $2c$ ($|q_1| = 1$
    gives $|y|^2 = 2|\zeta|^2$) and $d$."""

    beta: float = 0.3
    b: float = 0.5
    c: float = 0.3
    d: float = -0.7
    omega: float = 2.0
    state_names: ClassVar[tuple[str, ...]] = ("V", "y1", "y2")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        xi, y1, y2 = y["V"], y["y1"], y["y2"]
        g = self.beta + self.d * xi
        return {
            "V": input_current(args) + self.b * xi * xi + self.c * (y1 * y1 + y2 * y2),
            "y1": g * y1 - self.omega * y2,
            "y2": self.omega * y1 + g * y2,
        }

    def resting_state(self):
        return {k: fill(v, self.shape) for k, v in zip(self.state_names, (-1.0, 0.0, 0.0))}


@pytest.mark.slow
def test_zero_hopf_on_fold_and_hopf_curves():
    # Truth: the ZH point at I = beta = 0, xi = 0; b = 0.5, c = 2 * 0.3, d = -0.7,
    # s = sign(bc) = 1, theta = d/b = -1.4. Tolerances 1e-8.
    m = ZeroHopf()
    lp = _point("LP", 0.0, V=0.0, y1=0.0, y2=0.0)
    h = _point("H", -0.5 * (0.3 / 0.7) ** 2, V=0.3 / 0.7, y1=0.0, y2=0.0)
    for point in (lp, h):
        curve = bifurcation_curve(m, point, "beta", -0.3, bounds2=(-0.3, 0.6))
        (zh,) = curve.points("ZH")
        assert zh.params["beta"] == pytest.approx(0.0, abs=1e-9)
        assert zh.params["I"] == pytest.approx(0.0, abs=1e-9)
        co = zh.coefficients
        assert (co["b"], co["c"], co["d"].real) == pytest.approx((0.5, 0.6, -0.7), rel=1e-8)
        assert (co["s"], co["theta"], co["omega"]) == pytest.approx((1.0, -1.4, 2.0), rel=1e-8)
