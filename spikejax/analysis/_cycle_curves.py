r"""Curves of folds of cycles (LPC), period doublings (PD) and Neimark-Sacker points (NS) in
two parameters.

A located LPC or PD point of a collocation branch (`continue_cycles_collocation`) moves when a
second parameter changes. `cycle_bifurcation_curve` follows it by pseudo-arclength
continuation on the shared driver (`spikejax.solvers.continue_branch`) of a *minimally
extended* system, as MatCont does (Doedel, Govaerts, Kuznetsov 2003, *SIAM J. Numer. Anal.*
41, 401-435; Kuznetsov, Govaerts, Doedel & Dhooge 2005): the unknowns are the collocation
unknowns of the cycle and both parameters, $u = (X, T, p_1, p_2)$, and the equations are
the collocation equations and the integral phase condition (`CollocationProblem`) plus one
scalar $G(u) = 0$, from a bordered linear system:

* **LPC**: $L = \partial(\text{collocation, phase})/\partial(X, T)$ is singular at a fold of
  cycles; $\begin{pmatrix} L & b \\ c^\top & 0\end{pmatrix}\begin{pmatrix} v \\ G
  \end{pmatrix} = \begin{pmatrix} 0 \\ 1\end{pmatrix}$.
* **PD**: $L$ is the collocation matrix of the variational equation $v' - T f_x(x(\tau))v = 0$
  with the antiperiodic condition $v(1) = -v(0)$ (the periodic wrap of the mesh with its
  sign reversed), singular where a multiplier is $-1$; the same bordering.
* **NS**: the same collocation matrix with $v(1) = e^{i\theta}v(0)$, complex, singular
  where $e^{i\theta}$ is a multiplier; the angle $\theta$ is one more unknown,
  $u = (X, T, p_1, p_2, \theta)$, and the complex $G = 0$ gives two real equations.

The borders $b$, $c$ are the left and right null vectors of the previous point (renewed at
every step, `update`), and $G_u = -w^H (L_u v)$ with $w$ from the adjoint system,
computed as the gradient of $w^H L(u) v$ (one reverse-over-forward autodiff pass). The
mesh is the start point's (not adapted along the curve).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._validation import check_finite, require_float64
from ..models._base import NeuronModel
from ..solvers._continuation import (
    BranchStatus,
    ContinuationError,
    ContinuationProblem,
    PseudoArclength,
    SpecialPointKind,
    continue_branch,
    solve_at_parameter,
)
from ._collocation import (
    CollocationProblem,
    _collocation_f_and_jac,
    _node_index,
    _problem,
    _wrapped,
)
from ._continuation import SpecialPoint
from ._limit_cycle import _prepare

__all__ = ["CycleBifurcationCurve", "CycleCurveProblem", "cycle_bifurcation_curve"]


@dataclasses.dataclass(frozen=True)
class CycleBifurcationCurve:
    r"""A curve of folds of cycles (LPC), period doublings (PD) or Neimark-Sacker points
    (NS) in two parameters.

    **Fields:** `kind` ("LPC", "PD" or "NS"), `param_names` (first, second), `params`
    (m, 2), `periods` (m,), `v_min`, `v_max` (m,): the voltage range of the cycle at each
    point (NaN when the voltage is not a state variable of the cycle), `status` (a
    `BranchStatus`), `message`, `theta` (NS: the angle of the critical multipliers
    $e^{\pm i\theta}$ at each point; None otherwise).
    """

    kind: SpecialPointKind
    param_names: tuple[str, str]
    params: np.ndarray
    periods: np.ndarray
    v_min: np.ndarray
    v_max: np.ndarray
    status: BranchStatus
    message: str = ""
    theta: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.params.shape[0])

    def param(self, name: str) -> np.ndarray:
        """The values of parameter `name` along the curve."""
        return self.params[:, self.param_names.index(name)]


def _wrap_apply(coll: CollocationProblem, u, V, factor):
    r"""$L V$: the linearised collocation equations at the orbit in `u` applied to the
    node values `V` (N m n,), real or complex, with the wrap $v(1) = $ `factor` $v(0)$
    (-1: antiperiodic, $e^{i\theta}$: Neimark-Sacker)."""
    N, m, n = coll.n_intervals, coll.degree, coll.n
    X, T, p = coll.split(u)
    idx = _node_index(N, m)
    wrap = jnp.ones((N, m + 1), dtype=jnp.result_type(factor, float)).at[-1, -1].set(factor)
    Vj = wrap[:, :, None] * V.reshape(N * m, n)[idx]
    h = jnp.diff(coll.mesh)

    def one(xj, vj, hj):
        def lin(w):
            return jax.jvp(lambda y: coll._interval(y, T, p, hj), (xj,), (w,))[1]

        if jnp.iscomplexobj(vj):
            return lin(jnp.real(vj)) + 1j * lin(jnp.imag(vj))
        return lin(vj)

    return jax.vmap(one)(X[idx], Vj, h).reshape(-1)


class CycleCurveProblem(ContinuationProblem):
    r"""LPC, PD or NS points of cycles in two parameters, $u = (X, T, p_1, p_2)$ (NS: and
    $\theta$): the collocation equations, the phase condition and the bordered test function
    $G$ (module docstring); `coll` holds the mesh and the phase reference, `b`, `c` the
    borders (complex for NS)."""

    coll: CollocationProblem
    b: Array
    c: Array
    kind: str = eqx.field(static=True)
    param2: str = eqx.field(static=True)

    def at(self, p2) -> CollocationProblem:
        """The collocation problem with the second parameter set to `p2`."""
        sys = self.coll.system
        if self.param2 == "I":
            sys = dataclasses.replace(sys, I=p2)
        else:
            sys = dataclasses.replace(sys, model=sys.model.replace(**{self.param2: p2}))
        return dataclasses.replace(self.coll, system=sys)

    @property
    def k(self) -> int:
        return self.coll.n_nodes * self.coll.n

    @property
    def n_test(self) -> int:
        """The number of real equations of $G$ (2 for the complex NS test function)."""
        return 2 if self.kind == "NS" else 1

    @property
    def param_index(self) -> int:
        return self.k + 2

    def cycle_residual(self, u):
        return self.at(u[self.k + 2]).residual(u[: self.k + 2])

    def factor(self, u):
        """The wrap of the critical eigenfunction: $v(1) = $ factor $v(0)$."""
        return jnp.exp(1j * u[self.k + 3]) if self.kind == "NS" else -1.0

    def operator(self, J: np.ndarray, u: np.ndarray) -> np.ndarray:
        """$L$ from the cycle Jacobian `J` (k + 1, k + 3) at `u`."""
        k = self.k
        if self.kind == "LPC":
            return J[:, : k + 1]
        N, m, n = self.coll.n_intervals, self.coll.degree, self.coll.n
        return _wrapped(J[:k, :k], N, m, n, complex(self.factor(u)) if self.kind == "NS" else -1.0)

    def bordered(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray, complex]:
        """`(v, w, G)` from the bordered system and its adjoint."""
        b, c = np.asarray(self.b), np.asarray(self.c)
        M = np.block([[L, b[:, None]], [c.conj()[None, :], np.zeros((1, 1))]])
        e = np.zeros(M.shape[0])
        e[-1] = 1.0
        lu = np.linalg.solve(M, e)
        wt = np.linalg.solve(M.conj().T, e)
        return lu[:-1], wt[:-1], lu[-1]

    def _g_rows(self, G):
        return np.array([G.real, G.imag]) if self.kind == "NS" else np.array([np.real(G)])

    def residual_and_jacobian(self, u):
        u = np.asarray(u, float)
        F, J = _cycle_curve_f_and_jac(self, jnp.asarray(u))
        F, J = np.asarray(F), np.asarray(J)
        v, w, G = self.bordered(self.operator(J, u))
        Gu = -np.asarray(_g_gradient(self, jnp.asarray(u), jnp.asarray(v), jnp.asarray(w)))
        return np.concatenate([F, self._g_rows(G)]), np.vstack([J, Gu.reshape(self.n_test, -1)])

    def residual(self, u):
        F = self.cycle_residual(u)
        k = self.k
        if self.kind == "LPC":
            L = jax.jacfwd(self.cycle_residual)(u)[:, : k + 1]
        else:
            at = self.at(u[k + 2])
            L = jax.jacfwd(lambda V: _wrap_apply(at, u[: k + 2], V, self.factor(u)))(jnp.zeros(k))
        M = jnp.block([[L, self.b[:, None]], [jnp.conj(self.c)[None, :], jnp.zeros((1, 1))]])
        G = jnp.linalg.solve(M, jnp.zeros(M.shape[0]).at[-1].set(1.0))[-1]
        rows = jnp.stack([jnp.real(G), jnp.imag(G)]) if self.kind == "NS" else jnp.real(G)[None]
        return jnp.concatenate([F, rows])

    def update(self, u, jacobian):
        u = np.asarray(u, float)
        J = np.asarray(jacobian)[: -self.n_test]
        v, w, _ = self.bordered(self.operator(J, u))
        coll = self.coll.with_reference(u[: self.k + 2])
        return dataclasses.replace(
            self,
            coll=coll,
            b=jnp.asarray(w / np.linalg.norm(w)),
            c=jnp.asarray(v / np.linalg.norm(v)),
        )

    def admissible(self, u):
        ok = bool(u[self.k] > 0)
        if self.kind == "NS":  # a complex pair: 0 < theta < pi
            ok = ok and 0.0 < float(u[self.k + 3]) < np.pi
        return ok


@eqx.filter_jit
def _cycle_curve_f_and_jac(problem: CycleCurveProblem, u):
    """The cycle equations and their Jacobian in all unknowns (the block-assembled
    collocation Jacobian, the column of the second parameter; NS: a zero column for
    $\theta$)."""
    k = problem.k
    p2 = u[k + 2]
    coll = problem.at(p2)
    F, J = _collocation_f_and_jac(coll, u[: k + 2])
    dp2 = jax.jvp(lambda s: problem.at(s).residual(u[: k + 2]), (p2,), (jnp.ones_like(p2),))[1]
    cols = [J, dp2[:, None]]
    if problem.kind == "NS":
        cols.append(jnp.zeros_like(dp2)[:, None])
    return F, jnp.concatenate(cols, axis=1)


@eqx.filter_jit
def _g_gradient(problem: CycleCurveProblem, u, v, w):
    r"""$\nabla_u\, w^H L(u) v$ (so $G_u = -$ this), `(n_test, len(u))`: the real part, and
    for NS the imaginary part."""
    k = problem.k
    if problem.kind == "LPC":
        direction = jnp.concatenate([v, jnp.zeros(2)])

        def g(z):
            return jnp.atleast_1d(w @ jax.jvp(problem.cycle_residual, (z,), (direction,))[1])

        return jax.jacrev(g)(u)

    def g(z):
        val = jnp.conj(w) @ _wrap_apply(problem.at(z[k + 2]), z[: k + 2], v[:k], problem.factor(z))
        if problem.kind == "NS":
            return jnp.stack([jnp.real(val), jnp.imag(val)])
        return jnp.real(val)[None]

    return jax.jacrev(g)(u)


def cycle_bifurcation_curve(
    model: NeuronModel,
    point: SpecialPoint,
    param2: str,
    stop2: float,
    *,
    param: str = "I",
    I: float = 0.0,
    bounds2: tuple[float, float] | None = None,
    ds: float | None = None,
    ds_max: float | None = None,
    max_steps: int = 200,
    tol: float = 1e-9,
    throw: bool = False,
) -> CycleBifurcationCurve:
    r"""Follow the fold of cycles, period doubling or Neimark-Sacker point `point` (a
    located "LPC", "PD" or "NS" `SpecialPoint` of `continue_cycles_collocation`) as `param2`
    runs from its value in `model` (or `I`) towards `stop2`.

    **Arguments:** as `bifurcation_curve`: `param`, `I` as given to the cycle continuation;
    `param2` (`"I"` or another model field), `stop2`, `bounds2`; `ds`, `ds_max` (arclength
    steps over all collocation unknowns; defaults 1% and 10% of the distance to `stop2`),
    `max_steps`, `tol` (relative Newton tolerance), `throw`.

    A `CycleCurveProblem` on the shared driver; the mesh is the point's.

    **Returns:** a `CycleBifurcationCurve`.

    **Raises:** `ValueError` for a point that is not a located LPC, PD or NS of a
    collocation branch, unknown or equal parameter names, or float32; `ContinuationError` when the
    extended system cannot be solved at the start.
    """
    require_float64("spikejax.analysis.cycle_bifurcation_curve")
    if not (
        isinstance(point, SpecialPoint)
        and point.kind in ("LPC", "PD", "NS")
        and point.located
        and "mesh" in point.info
        and (point.kind != "NS" or "theta" in point.info)
    ):
        raise ValueError(
            "point must be a located SpecialPoint of kind 'LPC', 'PD' or 'NS' from "
            "continue_cycles_collocation"
        )
    if param2 == param:
        raise ValueError(f"param2 must differ from param, got both {param!r}")
    if param2 != "I" and param2 not in model.parameters():
        raise ValueError(
            f"unknown parameter name param2={param2!r} for {type(model).__name__}; "
            f"choose 'I' or one of {sorted(model.parameters())}"
        )
    check_finite("stop2", stop2)
    start2 = float(I) if param2 == "I" else float(np.asarray(getattr(model, param2)))
    stop2 = float(stop2)
    if stop2 == start2:
        raise ValueError(f"stop2 must differ from the current {param2} = {start2}")
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    lo, hi = (min(start2, stop2), max(start2, stop2)) if bounds2 is None else map(float, bounds2)
    if not (lo <= start2 <= hi):
        raise ValueError(f"bounds2 must contain the starting {param2} = {start2}")

    info: dict[str, Any] = point.info
    mesh, m = np.asarray(info["mesh"], float), int(info["degree"])
    u_cyc = np.asarray(info["u"], float)
    at = {k_: jnp.asarray(v) for k_, v in point.state.items()}
    x_full = np.asarray(model.to_vector({**model.resting_state(), **at}), float)
    system = dataclasses.replace(
        _prepare(model, param, I, x_full, point.param), active=tuple(info["active"])
    )
    n = len(system.active)
    N = mesh.size - 1
    k = N * m * n
    if u_cyc.size != k + 2:
        raise ValueError("point does not belong to this model and parameter")
    X = u_cyc[:k].reshape(N * m, n)
    coll = _problem(system, mesh, X, m, param, np.inf, 0).with_reference(u_cyc)
    u0 = np.concatenate([u_cyc, [start2]])
    if point.kind == "NS":
        u0 = np.concatenate([u0, [float(info["theta"])]])
    problem = CycleCurveProblem(coll, jnp.zeros(1), jnp.zeros(1), str(point.kind), param2)
    _, J0 = _cycle_curve_f_and_jac(problem, jnp.asarray(u0))
    L0 = problem.operator(np.asarray(J0), u0)
    U, _, Vh = np.linalg.svd(L0)
    problem = dataclasses.replace(problem, b=jnp.asarray(U[:, -1]), c=jnp.asarray(Vh[-1].conj()))

    span = abs(stop2 - start2) + 1.0
    ds = 0.01 * span if ds is None else float(ds)
    ds_max = 0.1 * span if ds_max is None else float(ds_max)
    if not (0 < ds <= ds_max):
        raise ValueError(f"need 0 < ds <= ds_max, got ds={ds}, ds_max={ds_max}")
    algorithm = PseudoArclength(
        ds=ds, ds_min=1e-9 * span, ds_max=ds_max, max_newton=10, rtol=tol, atol=tol
    )
    sol = solve_at_parameter(problem, u0, start2, algorithm, max_steps=30)
    if not algorithm.accept(problem, sol):
        raise ContinuationError(
            f"could not solve the {point.kind} system of cycles at {param}={point.param}, "
            f"{param2}={start2} (residual {sol.residual:.3g})"
        )
    problem = problem.update(sol.value, sol.jacobian[:-1])  # without the row fixing p2
    result = continue_branch(
        problem,
        sol.value,
        algorithm,
        direction=1.0 if stop2 > start2 else -1.0,
        stop=stop2,
        bounds=(lo, hi),
        max_steps=max_steps,
        throw=throw,
        param_name=param2,
    )
    Z = result.points
    names = model.state_names
    iv = names.index(model.voltage_name)
    active = list(system.active)
    if iv in active:
        Vn = Z[:, :k].reshape(len(Z), N * m, n)[:, :, active.index(iv)]
        v_min, v_max = Vn.min(axis=1), Vn.max(axis=1)
    else:
        v_min = v_max = np.full(len(Z), np.nan)
    return CycleBifurcationCurve(
        kind=SpecialPointKind(point.kind),
        param_names=(param, param2),
        params=Z[:, [k + 1, k + 2]],
        periods=Z[:, k].copy(),
        v_min=v_min,
        v_max=v_max,
        status=result.status,
        message=result.message,
        theta=Z[:, k + 3].copy() if point.kind == "NS" else None,
    )
