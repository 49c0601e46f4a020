r"""Pseudo-arclength continuation of equilibria, with fold and Andronov-Hopf points.

The equilibria of $\dot x = f(x, p)$ form curves in $(x, p)$. Starting from an equilibrium at
$p = $ `start`, `continuation` follows the curve by arclength $s$: a tangent predictor
$u + \Delta s\, t$ and a Newton corrector on

$$f(x, p) = 0, \qquad t \cdot (u - u_\mathrm{pred}) = 0, \qquad u = (x, p),$$

so the branch is followed through folds (turning points), where $p$ turns back. All
derivatives (Jacobians, the multilinear forms of the Lyapunov coefficient) come from autodiff.
The predictor-corrector is the shared driver `spikejax.solvers.continue_branch`; this module
defines the problem (`EquilibriumProblem`: residual, test functions, locators).

Along the branch, test functions mark special points:

* **LP** (fold, saddle-node): the $p$-component of the tangent changes sign. Located by Newton
  on the extended system $f = 0,\ f_x v = 0,\ c\cdot v = 1$.
* **H** (Andronov-Hopf): $\psi_H = \prod_{i<j} (\lambda_i + \lambda_j)$ (the determinant of the
  bialternate product $2 f_x \odot I$) changes sign with a complex pair present. Located by Newton
  on $f = 0,\ f_x q_r + \omega q_i = 0,\ f_x q_i - \omega q_r = 0$ plus two normalisations; the
  frequency $\omega$ and the first Lyapunov coefficient $\ell_1$ (Kuznetsov 2004, eq. 3.20;
  $\ell_1 < 0$ supercritical, $\ell_1 > 0$ subcritical) come with it.
* **TH** (hybrid models only): the equilibrium reaches the spike threshold
  (`model.threshold_distance` changes sign), where a threshold-reset model starts to fire.

References: Kuznetsov, *Elements of Applied Bifurcation Theory* (3rd ed. 2004), ch. 3 and 10;
Govaerts, *Numerical Methods for Bifurcations of Dynamical Equilibria* (2000).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite, check_positive, require_float64
from ..models._base import NeuronModel
from ..solvers import bordered, newton
from ..solvers._continuation import (
    BranchStatus,
    ContinuationError,
    ContinuationProblem,
    PseudoArclength,
    Segment,
    SpecialPointKind,
    continue_branch,
    solve_at_parameter,
)
from ._classify import FixedPointType, classify

__all__ = [
    "Branch",
    "BranchStatus",
    "ContinuationError",
    "EquilibriumProblem",
    "SpecialPoint",
    "SpecialPointKind",
    "continuation",
    "first_lyapunov_coefficient",
    "branch_directions",
    "locate_fold",
    "switch_branch",
    "locate_hopf",
]


# ----------------------------------------------------------------------------------------------
# The system f(x, p) seen by continuation
# ----------------------------------------------------------------------------------------------


class EquilibriumSystem(eqx.Module):
    r"""$f(x, p)$: `model`'s vector field with the parameter `param` set to $p$.

    `param="I"` varies the input current; any other name varies that model field (through
    `model.replace`), with the input held at `I`. State variables listed in `frozen` (whose
    equations are identically zero near the branch, like LIF's refractory clock) are held at
    their values in `x_template` and left out of $x$.
    """

    model: NeuronModel
    param: str = eqx.field(static=True)
    I: Any
    active: tuple[int, ...] = eqx.field(static=True)
    x_template: Any

    def full(self, x):
        return self.x_template.at[jnp.asarray(self.active)].set(x)

    def rhs_full(self, xf, p):
        if self.param == "I":
            return self.model.vector_field_array(0.0, xf, p)
        m = self.model.replace(**{self.param: p})
        return m.vector_field_array(0.0, xf, self.I)

    def f(self, x, p):
        return self.rhs_full(self.full(x), p)[jnp.asarray(self.active)]

    def threshold_distance(self, x, p):
        m = self.model if self.param == "I" else self.model.replace(**{self.param: p})
        return m.threshold_distance(m.from_vector(self.full(x)))


def make_system(
    model: NeuronModel, param: str = "I", *, I: Any = 0.0, x_template=None
) -> EquilibriumSystem:
    """Build the system for `param`, validating the name; `ValueError` if unknown."""
    if not isinstance(model, NeuronModel):
        raise ValueError(f"model must be a spikejax NeuronModel, got {type(model).__name__}")
    if not isinstance(param, str):
        raise ValueError(f"param must be a string (a parameter name or 'I'), got {param!r}")
    known = model.parameters()
    if param != "I" and param not in known:
        raise ValueError(
            f"unknown parameter name param={param!r} for {type(model).__name__}; "
            f"choose 'I' (the input current) or one of {sorted(known)}"
        )
    if model.shape != ():
        raise ValueError(
            f"continuation needs a single cell (model.shape == ()), got shape {model.shape}; "
            "use spikejax.analysis.classify_variants for populations of variants"
        )
    # parameters as float arrays: jitted kernels then trace them instead of baking them in
    model = model.replace(
        **{k: jnp.asarray(v, dtype=jnp.result_type(float)) for k, v in known.items()}
    )
    n = model.n_states
    if x_template is None:
        x_template = jnp.zeros(n)
    x_template = jnp.asarray(x_template, dtype=jnp.result_type(float))
    return EquilibriumSystem(model, param, jnp.asarray(I, float), tuple(range(n)), x_template)


def _freeze_inert(system: EquilibriumSystem, xf, p) -> EquilibriumSystem:
    """Drop state variables whose row and column of the Jacobian vanish, whose equation is
    zero and does not depend on the parameter (inert clocks)."""
    f0, J, fp = _full_f_and_jac(system, jnp.asarray(xf, float), jnp.asarray(p, float))
    f0, J, fp = np.asarray(f0), np.asarray(J), np.asarray(fp)
    active = tuple(
        i
        for i in range(J.shape[0])
        if np.any(J[i] != 0) or np.any(J[:, i] != 0) or f0[i] != 0 or fp[i] != 0
    )
    if len(active) == 0:
        raise ContinuationError("the model's vector field has no active state variable")
    return dataclasses.replace(system, active=active, x_template=jnp.asarray(xf, float))


# ----- jitted kernels (cached per system structure) -------------------------------------------


@eqx.filter_jit
def _full_f_and_jac(system, xf, p):
    return (
        system.rhs_full(xf, p),
        jax.jacfwd(system.rhs_full, 0)(xf, p),
        jax.jacfwd(system.rhs_full, 1)(xf, p),
    )


def _f_u(system, u):
    n = u.shape[0] - 1
    return system.f(u[:n], u[n])


@eqx.filter_jit
def _equilibrium_f_and_jac(system, u):
    """$f$ and its Jacobian in $u = (x, p)$: the one compiled kernel of a system (the
    driver's corrector, the locators and the Lyapunov coefficient all use it)."""
    return _f_u(system, u), jax.jacfwd(_f_u, 1)(system, u)


def _f_and_jac(system, x, p):
    """`(f, f_x, f_p)` at `(x, p)` (NumPy arrays), from `_equilibrium_f_and_jac`."""
    u = np.concatenate([np.asarray(x, float).reshape(-1), [float(p)]])
    F, J = _equilibrium_f_and_jac(system, u)
    J = np.asarray(J)
    return np.asarray(F), J[:, :-1], J[:, -1]


@eqx.filter_jit
def _threshold(system, x, p):
    return system.threshold_distance(x, p)


def fold_equations(f, x, v, c):
    r"""The fold (LP) conditions $f(x) = 0$, $f_x v = 0$, $c\cdot v = 1$ for `f` of `x` alone
    (the parameters closed over): $2n + 1$ equations, shared by the one-parameter locator
    and the two-parameter fold curve."""
    fx = jax.jacfwd(f)(x)
    return jnp.concatenate([f(x), fx @ v, jnp.atleast_1d(c @ v - 1.0)])


def hopf_equations(f, x, qr, qi, omega, c):
    r"""The Hopf conditions $f = 0$, $f_x q_r + \omega q_i = 0$, $f_x q_i - \omega q_r = 0$,
    $c\cdot q_r = 1$, $c\cdot q_i = 0$ (so $f_x q = i\omega q$): $3n + 2$ equations, shared
    by the one-parameter locator and the two-parameter Hopf curve."""
    fx = jax.jacfwd(f)(x)
    return jnp.concatenate(
        [f(x), fx @ qr + omega * qi, fx @ qi - omega * qr, jnp.stack([c @ qr - 1.0, c @ qi])]
    )


def _fold_residual(system, z, c):
    n = c.shape[0]
    x, p, v = z[:n], z[n], z[n + 1 :]
    return fold_equations(lambda y: system.f(y, p), x, v, c)


@eqx.filter_jit
def _fold_newton(system, z, c):
    return _fold_residual(system, z, c), jax.jacfwd(_fold_residual, 1)(system, z, c)


def _hopf_residual(system, z, cr):
    n = cr.shape[0]
    x, p, w = z[:n], z[n], z[n + 1]
    qr, qi = z[n + 2 : 2 * n + 2], z[2 * n + 2 :]
    return hopf_equations(lambda y: system.f(y, p), x, qr, qi, w, cr)


@eqx.filter_jit
def _hopf_newton(system, z, cr):
    return _hopf_residual(system, z, cr), jax.jacfwd(_hopf_residual, 1)(system, z, cr)


# ----- multilinear forms for the Lyapunov coefficient ---------------------------------------


def _B_real(f, x, u, v):
    return jax.jvp(lambda y: jax.jvp(f, (y,), (v,))[1], (x,), (u,))[1]


def _C_real(f, x, u, v, w):
    return jax.jvp(lambda y: _B_real(f, y, u, v), (x,), (w,))[1]


@eqx.filter_jit
def _B_jit(system, x, p, u, v):
    return _B_real(lambda y: system.f(y, p), x, u, v)


@eqx.filter_jit
def _C_jit(system, x, p, u, v, w):
    return _C_real(lambda y: system.f(y, p), x, u, v, w)


def _B_complex(system, x, p, u, v):
    """$B(u, v)$ for complex `u`, `v` by bilinearity (numpy complex result)."""

    def B(r, s):
        return np.asarray(_B_jit(system, x, p, jnp.asarray(r), jnp.asarray(s)))

    a, b, c, d = u.real, u.imag, v.real, v.imag
    return B(a, c) - B(b, d) + 1j * (B(a, d) + B(b, c))


def first_lyapunov_coefficient(system: EquilibriumSystem, x, p, omega, q=None) -> float:
    r"""First Lyapunov coefficient $\ell_1$ at a Hopf point $(x, p)$ with frequency $\omega$.

    Kuznetsov (2004, eq. 3.20), with $A q = i\omega q$, $A^T p = -i\omega p$,
    $\langle q, q\rangle = 1$, $\langle p, q\rangle = \bar p^T q = 1$:
    $$\ell_1 = \frac{1}{2\omega}\mathrm{Re}\big[\langle p, C(q,q,\bar q)\rangle
    - 2\langle p, B(q, A^{-1}B(q,\bar q))\rangle
    + \langle p, B(\bar q, (2i\omega I - A)^{-1} B(q,q))\rangle\big]$$
    where $B$ and $C$ are the second and third derivatives of $f$ (nested `jax.jvp`).
    $\ell_1 < 0$: supercritical (stable small cycles); $\ell_1 > 0$: subcritical.
    """
    x = jnp.asarray(x, float)
    p_ = jnp.asarray(p, float)
    _, A, _ = _f_and_jac(system, x, p_)
    A = np.asarray(A)
    n = A.shape[0]
    if q is None:
        ev, V = np.linalg.eig(A)
        k = int(np.argmin(np.abs(ev - 1j * omega)))
        q = V[:, k]
    q = np.asarray(q, complex)
    q = q / np.linalg.norm(q)
    evT, W = np.linalg.eig(A.T)
    k = int(np.argmin(np.abs(evT + 1j * omega)))
    pv = W[:, k]
    pv = pv / np.conj(np.vdot(pv, q))  # now <p, q> = vdot(p, q) = 1
    a_, b_ = q.real, q.imag

    def B(r, s):
        return np.asarray(_B_jit(system, x, p_, jnp.asarray(r), jnp.asarray(s)))

    def C(r, s, w):
        return np.asarray(_C_jit(system, x, p_, jnp.asarray(r), jnp.asarray(s), jnp.asarray(w)))

    # symmetric expansions: (a+ib)^2 = a^2 - b^2 + 2i ab, (a+ib)(a-ib) = a^2 + b^2,
    # (a+ib)^2 (a-ib) = a^3 + a b^2 + i (a^2 b + b^3)
    Baa, Bbb, Bab = B(a_, a_), B(b_, b_), B(a_, b_)
    Bqq = Baa - Bbb + 2j * Bab
    Bqqb = (Baa + Bbb).astype(complex)
    Cqqqb = C(a_, a_, a_) + C(a_, b_, b_) + 1j * (C(a_, a_, b_) + C(b_, b_, b_))
    a = np.linalg.solve(A.astype(complex), Bqqb)
    b = np.linalg.solve(2j * omega * np.eye(n) - A, Bqq)
    B1 = _B_complex(system, x, p_, q, a)
    B2 = _B_complex(system, x, p_, np.conj(q), b)
    val = np.vdot(pv, Cqqqb) - 2.0 * np.vdot(pv, B1) + np.vdot(pv, B2)
    return float(np.real(val) / (2.0 * omega))


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SpecialPoint:
    """A special point of a branch.

    **Fields:** `kind` (a `SpecialPointKind`, equal to its string: "LP" fold, "H" Hopf, "TH"
    threshold reached, "LPC" fold of cycles),
    `param` (parameter value), `state` (dict name -> value), `index` (it lies between branch
    points `index` and `index + 1`), `eigenvalues` (of the Jacobian there), `omega` (Hopf angular
    frequency, rad per time unit), `l1` (first Lyapunov coefficient), `located` (True when the
    extended-system Newton converged; False: linear interpolation between branch points),
    `info` (extra numbers).
    """

    kind: SpecialPointKind
    param: float
    state: dict[str, float]
    index: int
    eigenvalues: np.ndarray | None = None
    omega: float | None = None
    l1: float | None = None
    located: bool = True
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def criticality(self) -> str | None:
        """'supercritical' ($\\ell_1 < 0$), 'subcritical' ($\\ell_1 > 0$) or None."""
        if self.l1 is None or not np.isfinite(self.l1):
            return None
        return "supercritical" if self.l1 < 0 else "subcritical"


class SpecialPointLookup:
    """`points(kind)`, `hopf_points` and `folds` over a result's `special_points` (a
    `Branch`'s, or a whole `BifurcationDiagram`'s)."""

    special_points: tuple[SpecialPoint, ...]  # a field or a property of the subclass

    def points(self, kind: str) -> list[SpecialPoint]:
        """The special points of one kind (`"H"`, `"LP"`, `"LPC"`, `"PD"`, ...), in order."""
        return [sp for sp in self.special_points if sp.kind == kind]

    @property
    def hopf_points(self) -> list[SpecialPoint]:
        """Hopf points (`"H"`)."""
        return self.points(SpecialPointKind.H)

    @property
    def folds(self) -> list[SpecialPoint]:
        """Folds of equilibria (`"LP"`)."""
        return self.points(SpecialPointKind.LP)


@dataclasses.dataclass(frozen=True)
class Branch(SpecialPointLookup):
    """A continued branch of equilibria.

    **Fields:** `param_name`, `state_names`, `params` (m,), `states` (m, n_states), `arclength`
    (m,), `eigenvalues` (m, n_active) complex, `stable` (m,) bool, `special_points`,
    `status` (a `BranchStatus`: `reached_stop`, `left_bounds`, `max_steps`, `newton_failed`),
    `message`.
    """

    param_name: str
    state_names: tuple[str, ...]
    voltage_name: str
    params: np.ndarray
    states: np.ndarray
    arclength: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    special_points: tuple[SpecialPoint, ...]
    status: BranchStatus
    message: str = ""

    def __len__(self) -> int:
        return int(self.params.shape[0])

    @property
    def ok(self) -> bool:
        """False when the branch ended because the corrector failed."""
        return BranchStatus(self.status).ok

    @property
    def voltage(self) -> np.ndarray:
        return self.states[:, self.state_names.index(self.voltage_name)]

    def state(self, name: str) -> np.ndarray:
        return self.states[:, self.state_names.index(name)]

    def types(self, *, rtol: float = 1e-9, atol: float = 1e-12) -> list[FixedPointType]:
        return [classify(ev, rtol=rtol, atol=atol) for ev in self.eigenvalues]


# ----------------------------------------------------------------------------------------------
# The equilibrium problem on the shared driver
# ----------------------------------------------------------------------------------------------


def _psi_hopf(ev):
    """$\\prod_{i<j} (\\lambda_i + \\lambda_j)$ (real up to round-off); 1 for n < 2."""
    ev = np.asarray(ev)
    n = ev.size
    if n < 2:
        return 1.0
    val = 1.0 + 0j
    for i in range(n):
        for j in range(i + 1, n):
            s = ev[i] + ev[j]
            # normalise to avoid overflow while keeping the sign
            val *= s / max(abs(s), 1e-300)
    return float(np.real(val))


class EquilibriumProblem(ContinuationProblem):
    r"""Equilibria $f(x, p) = 0$ in $u = (x, p)$, for the shared pseudo-arclength driver.

    Test functions: **LP**, the parameter component of the tangent; **H**, $\psi_H =
    \prod_{i<j}(\lambda_i + \lambda_j)$ (with $n \ge 2$); **TH**, the threshold distance (hybrid
    models). `point_data` is the eigenvalues of $f_x$. Folds and Hopf points are located by
    Newton (`spikejax.solvers.newton`) on the extended systems (`fold_equations`,
    `hopf_equations`), threshold points by a secant on the parameter.
    """

    system: EquilibriumSystem
    hybrid: bool = eqx.field(static=True, default=False)
    lyapunov: bool = eqx.field(static=True, default=True)
    tol: float = eqx.field(static=True, default=1e-10)

    def residual(self, u):
        return _f_u(self.system, u)

    def residual_and_jacobian(self, u):
        F, J = _equilibrium_f_and_jac(self.system, np.asarray(u, float))
        return np.asarray(F), np.asarray(J)

    def test_functions(self):
        tests = {"LP": lambda u, t, J: float(t[-1])}
        if len(self.system.active) >= 2:
            tests["H"] = lambda u, t, J: _psi_hopf(np.linalg.eigvals(J[:, :-1]))
        tests["BP"] = lambda u, t, J: _bp_test(J, t)
        if self.hybrid:
            tests["TH"] = lambda u, t, J: float(
                _threshold(self.system, jnp.asarray(u[:-1]), jnp.asarray(u[-1]))
            )
        return tests

    def point_data(self, u, jacobian):
        return np.linalg.eigvals(jacobian[:, :-1])

    def locate(self, name: str, segment: Segment) -> SpecialPoint | None:
        if name == "LP":
            return _locate_lp(self, segment)
        if name == "H":
            return _locate_h(self, segment)
        if name == "TH":
            return _locate_th(self, segment)
        if name == "BP":
            return _locate_bp(self, segment)
        return None

    def special_point(self, kind, x, p, index, *, located, **kw) -> SpecialPoint:
        _, Fx, _ = _f_and_jac(self.system, jnp.asarray(x), jnp.asarray(p, float))
        return SpecialPoint(
            SpecialPointKind(kind),
            float(p),
            _state_dict(self.system, x),
            index,
            np.linalg.eigvals(np.asarray(Fx)),
            located=located,
            **kw,
        )


def _state_dict(system, x):
    xf = np.asarray(system.full(jnp.asarray(x)))
    return {name: float(xf[i]) for i, name in enumerate(system.model.state_names)}


def _near(z_x, p, guess, width):
    """A located point counts only near its bracket (not a special point elsewhere)."""
    return np.linalg.norm(np.concatenate([z_x, [p]]) - guess) <= 2.0 * width + 1e-8


def _locate_lp(problem: EquilibriumProblem, seg: Segment) -> SpecialPoint:
    n = seg.u0.size - 1
    a, b = seg.values0["LP"], seg.values1["LP"]
    ug = seg.u0 + a / (a - b) * (seg.u1 - seg.u0)
    x, p, _, ok = locate_fold(problem.system, ug[:n], ug[n], tol=problem.tol)
    if ok and not _near(x, p, ug, seg.length):
        ok = False
    if not ok:
        x, p = ug[:n], float(ug[n])
    return problem.special_point("LP", x, p, seg.index, located=ok)


def _locate_h(problem: EquilibriumProblem, seg: Segment) -> SpecialPoint | None:
    n = seg.u0.size - 1
    # refine the sign change of psi_H along the arc, then Newton on the Hopf system
    near = seg.bisect("H", n_bisect=20, xtol=1e-10)
    if near.located and near.jacobian is not None:  # a located point has its Jacobian
        ug, evg = near.u, np.linalg.eigvals(near.jacobian[:, :-1])
    else:
        ug = 0.5 * (seg.u0 + seg.u1)
        evg = np.linalg.eigvals(problem.residual_and_jacobian(seg.u0)[1][:, :-1])
    if not np.any(np.abs(evg.imag) > 1e-10 * (1 + np.abs(evg).max())):
        return None  # a neutral saddle (real pair lambda, -lambda), not a Hopf point
    x, p, omega, q, ok = locate_hopf(problem.system, ug[:n], ug[n], tol=problem.tol)
    if ok and not _near(x, p, ug, seg.length):
        ok = False
    if not ok:
        x, p = ug[:n], float(ug[n])
    _, Fx, _ = _f_and_jac(problem.system, jnp.asarray(x), jnp.asarray(p, float))
    evh = np.linalg.eigvals(np.asarray(Fx))
    if not (ok or np.any(np.abs(evh.imag) > 1e-10)):
        return None
    if not ok:
        omega = float(np.max(np.abs(evh.imag)))
    l1 = None
    if problem.lyapunov and ok:
        try:
            l1 = first_lyapunov_coefficient(problem.system, x, p, omega, q)
        except np.linalg.LinAlgError:
            l1 = None
    return problem.special_point("H", x, p, seg.index, located=ok, omega=float(omega), l1=l1)


def _locate_th(problem: EquilibriumProblem, seg: Segment) -> SpecialPoint:
    """Secant on the parameter for a zero of the threshold distance, each iterate an
    equilibrium at fixed parameter (`solve_at_parameter`)."""
    g = problem.test_functions()["TH"]
    a, b = seg.u0, seg.u1
    g0, g1 = seg.values0["TH"], seg.values1["TH"]
    ok = True
    um = a
    for _ in range(60):
        w = g0 / (g0 - g1) if g0 != g1 else 0.5
        w = min(max(w, 0.02), 0.98)
        um = a + w * (b - a)
        sol = solve_at_parameter(problem, um, um[-1], seg.algorithm)
        if not sol.ok:
            ok = False
            break
        um = sol.value
        gm = g(um, seg.t0, None)
        if abs(gm) < 1e-10 or abs(b[-1] - a[-1]) < 1e-13 * (1 + abs(a[-1])):
            break
        if np.sign(gm) == np.sign(g0):
            a, g0 = um, gm
        else:
            b, g1 = um, gm
    return problem.special_point("TH", um[:-1], um[-1], seg.index, located=ok)


def _bp_test(J, t) -> float:
    r"""$\det\begin{pmatrix} F_u \\ t^\top \end{pmatrix}$ (scaled by its rows' norms): it
    keeps its sign through folds and changes it at a simple branch point (Allgower & Georg
    2003, sec. 8.1)."""
    A = np.vstack([np.asarray(J, float), np.asarray(t, float)[None, :]])
    A = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-300)
    return float(np.linalg.det(A))


def _bp_residual(system, z, phi0):
    r"""MatCont's branch-point system in $z = (u, \varphi, b)$: $f(u) + b\varphi = 0$,
    $f_u^\top \varphi = 0$, $\varphi_0\cdot\varphi - 1 = 0$ ($2n + 2$ equations), regular at
    a simple branch point."""
    n = phi0.shape[0]
    u, phi, b = z[: n + 1], z[n + 1 : 2 * n + 1], z[2 * n + 1]
    F, vjp = jax.vjp(lambda v: _f_u(system, v), u)
    return jnp.concatenate([F + b * phi, vjp(phi)[0], jnp.atleast_1d(phi0 @ phi - 1.0)])


@eqx.filter_jit
def _bp_newton(system, z, phi0):
    return _bp_residual(system, z, phi0), jax.jacfwd(_bp_residual, 1)(system, z, phi0)


@eqx.filter_jit
def _second_derivative(system, u, v, w):
    """$F_{uu}[v, w]$ of the equilibrium residual."""
    return jax.jvp(lambda y: jax.jvp(lambda x: _f_u(system, x), (y,), (v,))[1], (u,), (w,))[1]


def branch_directions(system, u, t_known) -> tuple[np.ndarray, np.ndarray]:
    r"""The tangents of the two branches through a simple branch point `u`.

    With $q_1, q_2$ an orthonormal basis of $\ker f_u$ ($q_1$ along `t_known`) and
    $\varphi$ spanning $\ker f_u^\top$, the directions $\alpha q_1 + \beta q_2$ of the
    branches solve the algebraic branching equation $c_{11}\alpha^2 + 2c_{12}\alpha\beta +
    c_{22}\beta^2 = 0$, $c_{ij} = \varphi\cdot f_{uu}[q_i, q_j]$ (Kuznetsov 2004, sec. 10.2.2;
    Govaerts 2000).

    **Returns:** `(known, other)`: unit tangents, `known` the root nearest `t_known`.
    """
    u = np.asarray(u, float)
    _, J = _equilibrium_f_and_jac(system, u)

    def second(a, b):
        return np.asarray(_second_derivative(system, u, jnp.asarray(a), jnp.asarray(b)))

    return branching_directions(np.asarray(J), t_known, second)


def branching_directions(J, t_known, second) -> tuple[np.ndarray, np.ndarray]:
    r"""The algebraic branching equation of `branch_directions` for any curve $F(u) = 0$:
    `J` is $F_u$ (rank deficient by one) at the branch point, `second(a, b)` returns
    $F_{uu}[a, b]$. **Returns:** `(known, other)`."""
    Vt = np.linalg.svd(np.asarray(J))[2]
    K = Vt[-2:].T  # (n + 1, 2): the kernel
    q1 = K @ (K.T @ np.asarray(t_known, float))
    q1 = q1 / np.linalg.norm(q1)
    q2 = K[:, 0] - (K[:, 0] @ q1) * q1
    if np.linalg.norm(q2) < 0.5:
        q2 = K[:, 1] - (K[:, 1] @ q1) * q1
    q2 = q2 / np.linalg.norm(q2)
    phi = np.linalg.svd(np.asarray(J))[0][:, -1]  # spans ker f_u^T

    def c(a, b):
        return float(phi @ second(a, b))

    c11, c12, c22 = c(q1, q1), c(q1, q2), c(q2, q2)
    A, B, C = 0.5 * (c11 + c22), 0.5 * (c11 - c22), c12
    R = float(np.hypot(B, C))
    if not (R > 1e-12 * (abs(A) + 1.0)) or abs(A) > R:
        raise ContinuationError(
            "the branch point is not simple (the algebraic branching equation has no two real "
            "roots)"
        )
    phase = float(np.arctan2(C, B))
    delta = float(np.arccos(np.clip(-A / R, -1.0, 1.0)))
    dirs = [
        np.cos(th) * q1 + np.sin(th) * q2 for th in (0.5 * (phase + delta), 0.5 * (phase - delta))
    ]
    dirs.sort(key=lambda d: -abs(d @ q1))
    known, other = dirs
    if known @ t_known < 0:
        known = -known
    return known / np.linalg.norm(known), other / np.linalg.norm(other)


def _locate_bp(problem: EquilibriumProblem, seg: Segment) -> SpecialPoint:
    """Newton on the branch-point system from the secant zero of the test function."""
    n = seg.u0.size - 1
    a, b = seg.values0["BP"], seg.values1["BP"]
    ug = seg.u0 + a / (a - b) * (seg.u1 - seg.u0)
    _, J = _equilibrium_f_and_jac(problem.system, ug)
    phi0 = np.linalg.svd(np.asarray(J))[0][:, -1]
    z0 = np.concatenate([ug, phi0, [0.0]])
    z, ok = _solve_extended(
        lambda zz: _bp_newton(problem.system, zz, jnp.asarray(phi0)), z0, problem.tol, 30
    )
    u = z[: n + 1]
    if ok and not _near(u[:n], u[n], ug, seg.length):
        ok = False
    if not ok:
        u = ug
    info: dict[str, Any] = {"u": u.copy(), "active": tuple(problem.system.active)}
    if ok:
        try:
            known, other = branch_directions(problem.system, u, seg.t0)
            info.update(tangent=known, tangent2=other)
        except ContinuationError:
            pass
    return problem.special_point("BP", u[:n], u[n], seg.index, located=ok, info=info)


# ----------------------------------------------------------------------------------------------
# Locating special points: Newton on the extended systems
# ----------------------------------------------------------------------------------------------


def _solve_extended(fn_and_jac, z, tol, max_iter):
    """`spikejax.solvers.newton` on an extended system; converged means the step fell below
    `tol` (relative) and the residual below 1e-7."""
    sol = newton(lambda zz: fn_and_jac(jnp.asarray(zz)), z, rtol=tol, atol=tol, max_steps=max_iter)
    return sol.value, bool(sol.ok and sol.residual < 1e-7)


def locate_fold(system, x, p, *, tol=1e-11, max_iter=30):
    """Newton on the fold system $f = 0,\\ f_x v = 0,\\ c\\cdot v = 1$ from `(x, p)`.

    Returns `(x, p, v, converged)`.
    """
    x = np.asarray(x, float)
    _, Fx, _ = _f_and_jac(system, jnp.asarray(x), jnp.asarray(p, float))
    _, _, Vt = np.linalg.svd(np.asarray(Fx))
    v = Vt[-1]
    cj = jnp.asarray(v.copy())
    z = np.concatenate([x, [p], v])
    n = x.size
    z, ok = _solve_extended(lambda zz: _fold_newton(system, zz, cj), z, tol, max_iter)
    return z[:n], float(z[n]), z[n + 1 :], ok


def locate_hopf(system, x, p, *, tol=1e-11, max_iter=30):
    """Newton on the Hopf system from `(x, p)`; returns `(x, p, omega, q, converged)`.

    Unknowns $(x, p, \\omega, q_r, q_i)$; equations $f = 0$, $f_x q_r + \\omega q_i = 0$,
    $f_x q_i - \\omega q_r = 0$, $c\\cdot q_r = 1$, $c\\cdot q_i = 0$ (so $f_x q = i\\omega q$).
    """
    x = np.asarray(x, float)
    n = x.size
    _, Fx, _ = _f_and_jac(system, jnp.asarray(x), jnp.asarray(p, float))
    ev, V = np.linalg.eig(np.asarray(Fx))
    cand = np.where(np.abs(np.imag(ev)) > 1e-12 * (1 + np.abs(ev).max()))[0]
    if cand.size == 0:
        return x, float(p), float("nan"), None, False
    k = cand[np.argmin(np.abs(np.real(ev[cand])))]
    lam = ev[k]
    q = V[:, k] if np.imag(lam) > 0 else np.conj(V[:, k])
    omega = abs(np.imag(lam))
    # rotate q so that Re q is orthogonal to Im q and |Re q| >= |Im q|
    qq = q @ q
    q = q * np.exp(-0.5j * np.angle(qq))
    qr, qi = np.real(q), np.imag(q)
    c = qr / (qr @ qr)
    z = np.concatenate([x, [p, omega], qr, qi])
    cj = jnp.asarray(c)
    z, ok = _solve_extended(lambda zz: _hopf_newton(system, zz, cj), z, tol, max_iter)
    if not (ok and abs(z[n + 1]) > 1e-10):
        return z[:n], float(z[n]), float(abs(z[n + 1])), None, False
    q = z[n + 2 : 2 * n + 2] + 1j * z[2 * n + 2 :]
    return z[:n], float(z[n]), float(abs(z[n + 1])), q, True


# ----------------------------------------------------------------------------------------------
# The driver call
# ----------------------------------------------------------------------------------------------


def continuation(
    model: NeuronModel,
    param: str = "I",
    start: float | None = None,
    stop: float | None = None,
    y0: dict | None = None,
    *,
    I: float = 0.0,
    bounds: tuple[float, float] | None = None,
    ds: float | None = None,
    ds_min: float | None = None,
    ds_max: float | None = None,
    max_steps: int = 1000,
    tol: float = 1e-10,
    max_newton: int = 8,
    detect: bool = True,
    lyapunov: bool = True,
    throw: bool = False,
    callback: Callable[[int, np.ndarray], None] | None = None,
) -> Branch:
    r"""Continue a branch of equilibria of `model` in the parameter `param`.

    An `EquilibriumProblem` on the shared driver (`spikejax.solvers.continue_branch` with
    `spikejax.solvers.PseudoArclength`).

    **Arguments:**

    - `model`: a single-cell `NeuronModel` (`model.shape == ()`).
    - `param`: `"I"` (input current, default) or the name of a model field.
    - `start`, `stop`: the parameter interval; continuation starts at `start` (default: the
      current value: `I`, or the model's field) and runs towards `stop` (required). The branch
      may fold back; it ends when it reaches `stop` or leaves `bounds`
      (default `[min(start, stop), max(start, stop)]`).
    - `y0`: a state dict near an equilibrium at `start` (default `model.resting_state()`).
    - `I`: the input current when `param` is a model field.
    - `ds`, `ds_min`, `ds_max`: initial, minimal and maximal arclength steps in the combined
      $(x, p)$ norm (defaults: 1%, 1e-9 and 5% of $|$stop - start$|$ plus the state scale).
    - `max_steps`: the most continuation steps. `tol`: Newton step tolerance (relative).
    - `detect`: detect and locate LP, H, TH points; `lyapunov`: compute $\ell_1$ at Hopf points.
    - `throw`: raise `ContinuationError` instead of returning
      `status=BranchStatus.newton_failed`.

    **Returns:** a `Branch`.

    **Raises:** `ValueError` for an unknown `param`, a population model, bad step sizes, or
    float32 (enable float64 with `jax.config.update('jax_enable_x64', True)`);
    `ContinuationError` (a `ValueError`) when no equilibrium is found near `(y0, start)`.
    """
    require_float64("spikejax.analysis.continuation")
    check_positive("tol", tol)
    system = make_system(model, param, I=I)
    if stop is None:
        raise ValueError("stop must be given (the parameter value to continue towards)")
    if start is None:
        start = float(I) if param == "I" else float(np.asarray(getattr(model, param)))
    check_finite("start", start)
    check_finite("stop", stop)
    start, stop = float(start), float(stop)
    if start == stop:
        raise ValueError(f"start and stop must differ, got start = stop = {start}")
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    if bounds is None:
        lo, hi = min(start, stop), max(start, stop)
    else:
        lo, hi = float(bounds[0]), float(bounds[1])
        if not (lo <= min(start, stop) and hi >= max(start, stop)):
            raise ValueError(f"bounds must contain [start, stop], got bounds={bounds!r}")
    if y0 is None:
        y0 = model.resting_state()
    unknown = sorted(set(y0) - set(model.state_names))
    if unknown:
        raise ValueError(f"y0 has unknown state variables {unknown}; expected {model.state_names}")
    x0_full = np.asarray(model.to_vector({**model.resting_state(), **y0}), float).reshape(-1)
    check_finite("y0", x0_full)

    system = _freeze_inert(system, x0_full, start)
    active = np.asarray(system.active)
    n = active.size
    problem = EquilibriumProblem(system, bool(model.is_hybrid), bool(lyapunov), float(tol))

    row = np.zeros(n + 1)
    row[n] = 1.0
    sol = newton(
        bordered(problem.residual_and_jacobian, row, start),
        np.concatenate([x0_full[active], [start]]),
        rtol=tol,
        atol=tol,
        max_steps=40,
    )
    if not sol.ok or not (sol.residual <= 1e-7):
        raise ContinuationError(
            f"no equilibrium found near y0 at {param}={start}: Newton did not converge "
            f"(residual max|f| = {sol.residual:.3g}); give y0 closer to an equilibrium"
        )
    x_start = sol.value[:n]

    span = abs(stop - start)
    xscale = float(np.max(np.abs(x_start))) + 1.0
    ds = 0.01 * (span + xscale) if ds is None else float(ds)
    ds_max = 0.05 * (span + xscale) if ds_max is None else float(ds_max)
    ds_min = 1e-9 * (span + xscale) if ds_min is None else float(ds_min)
    check_positive("ds", ds)
    check_positive("ds_min", ds_min)
    check_positive("ds_max", ds_max)
    if not (ds_min <= ds <= ds_max):
        raise ValueError(f"need ds_min <= ds <= ds_max, got {ds_min}, {ds}, {ds_max}")
    algorithm = PseudoArclength(
        ds=ds, ds_min=ds_min, ds_max=ds_max, max_newton=max_newton, rtol=tol, atol=tol
    )
    result = continue_branch(
        problem,
        np.concatenate([x_start, [start]]),
        algorithm,
        direction=1.0 if stop > start else -1.0,
        stop=stop,
        bounds=(lo, hi),
        max_steps=max_steps,
        locate=detect,
        throw=throw,
        callback=callback,
        param_name=param,
    )
    return _as_branch(model, param, result, x0_full, active)


def _as_branch(model, param, result, x_full, active) -> Branch:
    """The `Branch` view of a `ContinuationResult` of an `EquilibriumProblem`."""
    n = active.size
    U = result.points
    E = np.asarray(result.data)
    re_tol = 1e-9 * (1.0 + np.max(np.abs(E), axis=1))
    stable = np.all(np.real(E) < -re_tol[:, None], axis=1)
    states = np.tile(x_full, (U.shape[0], 1))
    states[:, active] = U[:, :n]
    return Branch(
        param_name=param,
        state_names=tuple(model.state_names),
        voltage_name=model.voltage_name,
        params=U[:, n].copy(),
        states=states,
        arclength=result.arclength,
        eigenvalues=E,
        stable=stable,
        special_points=result.special_points,
        status=result.status,
        message=result.message,
    )


def switch_branch(
    model: NeuronModel,
    bp: SpecialPoint,
    stop: float,
    *,
    param: str = "I",
    I: float = 0.0,
    bounds: tuple[float, float] | None = None,
    ds: float = 0.01,
    ds_min: float = 1e-9,
    ds_max: float = 0.1,
    max_steps: int = 1000,
    tol: float = 1e-10,
    max_newton: int = 8,
    detect: bool = True,
    lyapunov: bool = True,
    throw: bool = False,
) -> Branch:
    r"""Continue the second branch of equilibria through a branch point.

    The branch leaves the located branch point `bp` (a `SpecialPoint` of kind `"BP"` from
    `continuation`) along the root of the algebraic branching equation that is not the
    branch it was found on (`branch_directions`), towards `stop` of the parameter.

    **Arguments:** as `continuation`; `bp`: the branch point; `ds`: the first step along the
    new branch (also the initial arclength step).

    **Returns:** a `Branch` (starting at the first point off the branch point).

    **Raises:** `ValueError` when `bp` is not a located branch point; `ContinuationError` when
    the new branch cannot be entered.
    """
    require_float64("spikejax.analysis.switch_branch")
    if not (
        isinstance(bp, SpecialPoint)
        and bp.kind == SpecialPointKind.BP
        and bp.located
        and "tangent2" in bp.info
        and "active" in bp.info
    ):
        raise ValueError(
            "bp must be a located branch point (a SpecialPoint of kind 'BP' from continuation, "
            "with its branch directions)"
        )
    check_finite("stop", stop)
    for name, val in (("ds", ds), ("ds_min", ds_min), ("ds_max", ds_max), ("tol", tol)):
        check_positive(name, val)
    u_bp = np.asarray(bp.info["u"], float)
    t2 = np.asarray(bp.info["tangent2"], float)
    sign = 1.0 if (stop - bp.param) * t2[-1] >= 0 else -1.0
    if t2[-1] == 0:  # the new branch is vertical (a pitchfork): either side
        sign = 1.0
    t2 = sign * t2
    x_full = np.asarray(
        model.to_vector(
            {**model.resting_state(), **{k: jnp.asarray(v) for k, v in bp.state.items()}}
        ),
        float,
    )
    system = make_system(model, param, I=I)
    active_bp = tuple(int(i) for i in bp.info.get("active", ()))
    if len(active_bp) + 1 != u_bp.size or max(active_bp, default=0) >= model.n_states:
        raise ValueError("bp does not belong to this model and parameter")
    # the branch's active variables (at the branch point itself a variable may look inert:
    # a pitchfork's x has a zero row and column there)
    system = dataclasses.replace(system, active=active_bp, x_template=jnp.asarray(x_full))
    active = np.asarray(active_bp)
    problem = EquilibriumProblem(system, bool(model.is_hybrid), bool(lyapunov), float(tol))
    algorithm = PseudoArclength(
        ds=ds, ds_min=ds_min, ds_max=max(ds_max, ds), max_newton=max_newton, rtol=tol, atol=tol
    )
    pred = u_bp + ds * t2
    sol = algorithm.correct(problem, pred, t2)
    if not algorithm.accept(problem, sol) or np.linalg.norm(sol.value - u_bp) < 0.5 * ds:
        raise ContinuationError(f"could not enter the second branch at {param}={bp.param}")
    lo, hi = (min(bp.param, stop), max(bp.param, stop)) if bounds is None else map(float, bounds)
    result = continue_branch(
        problem,
        sol.value,
        algorithm,
        direction=t2,
        stop=stop,
        bounds=(lo, hi),
        max_steps=max_steps,
        locate=detect,
        throw=throw,
        param_name=param,
    )
    return _as_branch(model, param, result, x_full, active)
