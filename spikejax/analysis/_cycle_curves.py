r"""Curves of folds of cycles (LPC) and period doublings (PD) in two parameters.

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

The borders $b$, $c$ are the left and right null vectors of the previous point (renewed at
every step, `update`), and $G_u = -w^\top (L_u v)$ with $w$ from the transposed system,
computed as the gradient of $w^\top L(u) v$ (one reverse-over-forward autodiff pass). The
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
from ._collocation import CollocationProblem, _collocation_f_and_jac, _node_index, _problem
from ._continuation import SpecialPoint
from ._limit_cycle import _prepare

__all__ = ["CycleBifurcationCurve", "CycleCurveProblem", "cycle_bifurcation_curve"]


@dataclasses.dataclass(frozen=True)
class CycleBifurcationCurve:
    """A curve of folds of cycles (LPC) or period doublings (PD) in two parameters.

    **Fields:** `kind` ("LPC" or "PD"), `param_names` (first, second), `params` (m, 2),
    `periods` (m,), `v_min`, `v_max` (m,): the voltage range of the cycle at each point (NaN
    when the voltage is not a state variable of the cycle), `status` (a `BranchStatus`),
    `message`.
    """

    kind: SpecialPointKind
    param_names: tuple[str, str]
    params: np.ndarray
    periods: np.ndarray
    v_min: np.ndarray
    v_max: np.ndarray
    status: BranchStatus
    message: str = ""

    def __len__(self) -> int:
        return int(self.params.shape[0])

    def param(self, name: str) -> np.ndarray:
        """The values of parameter `name` along the curve."""
        return self.params[:, self.param_names.index(name)]


def _pd_apply(coll: CollocationProblem, u, V):
    r"""$L_{PD} V$: the linearised collocation equations at the orbit in `u` applied to the
    node values `V` (N m n,) with the antiperiodic wrap $v(1) = -v(0)$."""
    N, m, n = coll.n_intervals, coll.degree, coll.n
    X, T, p = coll.split(u)
    idx = _node_index(N, m)
    sign = np.ones((N, m + 1))
    sign[-1, -1] = -1.0
    Vj = jnp.asarray(sign)[:, :, None] * V.reshape(N * m, n)[idx]
    h = jnp.diff(coll.mesh)

    def one(xj, vj, hj):
        return jax.jvp(lambda y: coll._interval(y, T, p, hj), (xj,), (vj,))[1]

    return jax.vmap(one)(X[idx], Vj, h).reshape(-1)


class CycleCurveProblem(ContinuationProblem):
    r"""LPC or PD points of cycles in two parameters, $u = (X, T, p_1, p_2)$: the
    collocation equations, the phase condition and the bordered test function $G$ (module
    docstring); `coll` holds the mesh and the phase reference, `b`, `c` the borders."""

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

    def cycle_residual(self, u):
        return self.at(u[-1]).residual(u[:-1])

    @property
    def k(self) -> int:
        return self.coll.n_nodes * self.coll.n

    def operator(self, J: np.ndarray) -> np.ndarray:
        """$L$ from the cycle Jacobian `J` (k + 1, k + 3)."""
        k = self.k
        if self.kind == "LPC":
            return J[:, : k + 1]
        N, m, n = self.coll.n_intervals, self.coll.degree, self.coll.n
        L = J[:k, :k].copy()
        rows = np.arange((N - 1) * m * n, k)
        L[rows[:, None], np.arange(n)[None, :]] *= -1.0  # node 0 as the wrap of the last
        # interval: antiperiodic (interval 0's own start-node columns are other rows)
        return L

    def bordered(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """`(v, w, G)` from the bordered system and its transpose."""
        M = np.block(
            [[L, np.asarray(self.b)[:, None]], [np.asarray(self.c)[None, :], np.zeros((1, 1))]]
        )
        e = np.zeros(M.shape[0])
        e[-1] = 1.0
        lu = np.linalg.solve(M, e)
        wt = np.linalg.solve(M.T, e)
        return lu[:-1], wt[:-1], float(lu[-1])

    def residual_and_jacobian(self, u):
        u = np.asarray(u, float)
        F, J = _cycle_curve_f_and_jac(self, jnp.asarray(u))
        F, J = np.asarray(F), np.asarray(J)
        v, w, G = self.bordered(self.operator(J))
        Gu = -np.asarray(_g_gradient(self, jnp.asarray(u), jnp.asarray(v), jnp.asarray(w)))
        return np.concatenate([F, [G]]), np.vstack([J, Gu[None, :]])

    def residual(self, u):
        F = self.cycle_residual(u)
        J = jax.jacfwd(self.cycle_residual)(u)
        k = self.k
        if self.kind == "LPC":
            L = J[:, : k + 1]
        else:
            L = jax.jacfwd(lambda V: _pd_apply(self.at(u[-1]), u[:-1], V))(jnp.zeros(k))
        M = jnp.block([[L, self.b[:, None]], [self.c[None, :], jnp.zeros((1, 1))]])
        G = jnp.linalg.solve(M, jnp.zeros(M.shape[0]).at[-1].set(1.0))[-1]
        return jnp.concatenate([F, G[None]])

    def update(self, u, jacobian):
        u = np.asarray(u, float)
        J = np.asarray(jacobian)[:-1]
        v, w, _ = self.bordered(self.operator(J))
        coll = self.coll.with_reference(u[:-1])
        return dataclasses.replace(
            self,
            coll=coll,
            b=jnp.asarray(w / np.linalg.norm(w)),
            c=jnp.asarray(v / np.linalg.norm(v)),
        )

    def admissible(self, u):
        return bool(u[self.k] > 0)


@eqx.filter_jit
def _cycle_curve_f_and_jac(problem: CycleCurveProblem, u):
    """The cycle equations and their Jacobian in all $k + 3$ unknowns (the block-assembled
    collocation Jacobian plus the column of the second parameter)."""
    coll = problem.at(u[-1])
    F, J = _collocation_f_and_jac(coll, u[:-1])
    dp2 = jax.jvp(lambda s: problem.at(s).residual(u[:-1]), (u[-1],), (jnp.ones_like(u[-1]),))[1]
    return F, jnp.concatenate([J, dp2[:, None]], axis=1)


@eqx.filter_jit
def _g_gradient(problem: CycleCurveProblem, u, v, w):
    r"""$\nabla_u\, w^\top L(u) v$ (so $G_u = -$ this)."""
    k = problem.k
    if problem.kind == "LPC":
        direction = jnp.concatenate([v, jnp.zeros(2)])

        def g(z):
            return w @ jax.jvp(problem.cycle_residual, (z,), (direction,))[1]
    else:

        def g(z):
            return w @ _pd_apply(problem.at(z[-1]), z[:-1], v[:k])

    return jax.grad(g)(u)


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
    r"""Follow the fold of cycles or period doubling `point` (a located "LPC" or "PD"
    `SpecialPoint` of `continue_cycles_collocation`) as `param2` runs from its value in
    `model` (or `I`) towards `stop2`.

    **Arguments:** as `bifurcation_curve`: `param`, `I` as given to the cycle continuation;
    `param2` (`"I"` or another model field), `stop2`, `bounds2`; `ds`, `ds_max` (arclength
    steps over all collocation unknowns; defaults 1% and 10% of the distance to `stop2`),
    `max_steps`, `tol` (relative Newton tolerance), `throw`.

    A `CycleCurveProblem` on the shared driver; the mesh is the point's.

    **Returns:** a `CycleBifurcationCurve`.

    **Raises:** `ValueError` for a point that is not a located LPC or PD of a collocation
    branch, unknown or equal parameter names, or float32; `ContinuationError` when the
    extended system cannot be solved at the start.
    """
    require_float64("spikejax.analysis.cycle_bifurcation_curve")
    if not (
        isinstance(point, SpecialPoint)
        and point.kind in ("LPC", "PD")
        and point.located
        and "mesh" in point.info
    ):
        raise ValueError(
            "point must be a located SpecialPoint of kind 'LPC' or 'PD' from "
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
    problem = CycleCurveProblem(coll, jnp.zeros(1), jnp.zeros(1), str(point.kind), param2)
    _, J0 = _cycle_curve_f_and_jac(problem, jnp.asarray(u0))
    L0 = problem.operator(np.asarray(J0))
    U, _, Vt = np.linalg.svd(L0)
    problem = dataclasses.replace(problem, b=jnp.asarray(U[:, -1]), c=jnp.asarray(Vt[-1]))

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
    problem = problem.update(sol.value, sol.jacobian[:-1])
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
    )
