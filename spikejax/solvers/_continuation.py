r"""The one pseudo-arclength continuation driver.

A *continuation problem* is a smooth map $F: \mathbb{R}^{n+1} \to \mathbb{R}^n$ whose zero set
near a known zero $u_0$ is a curve: equilibria $u = (x, p)$ with $F = f(x, p)$; fold and Hopf
points in two parameters (the extended systems); periodic orbits by shooting
$u = (x_0, T, p)$ (and, next, by orthogonal collocation). `continue_branch` follows that curve
by Keller's pseudo-arclength method:

* **predictor**: $u_\mathrm{pred} = u_k + \Delta s\, t_k$ along the unit tangent $t_k$;
* **corrector**: `spikejax.solvers.newton` on $F(u) = 0$ bordered (`spikejax.solvers.bordered`)
  by the arclength condition $t_k \cdot (u - u_\mathrm{pred}) = 0$;
* **tangent**: $t_{k+1}$ solves $\begin{pmatrix} F_u \\ t_k^\top \end{pmatrix} t = e_{n+1}$
  at the new point (the kernel of $F_u$, oriented along $t_k$);
* **step control** (`PseudoArclength`, one for every problem): $\Delta s$ grows after a fast
  corrector, shrinks after a slow one, is halved after a failed or suspicious step (a
  tangent that turned by more than `min_cos`, a jump longer than `max_distance` $\Delta s$),
  and the branch ends with `BranchStatus.newton_failed` below `ds_min`.

Test functions (name -> scalar of $(u, t, F_u)$) are evaluated at every point; where one
changes sign, the problem's `locate` returns the special point (by Newton on an extended
system, or in arclength: `Segment.regula_falsi`, `Segment.bisect`). The branch ends at
`stop` (the point is put exactly there by a Newton solve with the parameter fixed), at the edge of
`bounds`, after `max_steps` points, or where the problem's own `stop_condition` says so.

References: Keller (1977), *Numerical solution of bifurcation and nonlinear eigenvalue
problems*; Allgower & Georg (2003), *Introduction to Numerical Continuation Methods*;
Kuznetsov (2004), *Elements of Applied Bifurcation Theory*, ch. 10.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ._root import NewtonSolution, bordered, newton

__all__ = [
    "BranchStatus",
    "ContinuationError",
    "ContinuationProblem",
    "ContinuationResult",
    "LocatedPoint",
    "PseudoArclength",
    "Segment",
    "SpecialPointKind",
    "Stop",
    "continue_branch",
    "solve_at_parameter",
]


class BranchStatus(enum.StrEnum):
    """Why a continued branch ended. Members compare equal to their string values."""

    reached_stop = "reached_stop"
    left_bounds = "left_bounds"
    max_steps = "max_steps"
    newton_failed = "newton_failed"
    period_diverged = "period_diverged"
    amplitude_vanished = "amplitude_vanished"
    omega_zero = "omega_zero"
    saddle_node = "saddle_node"  # a homoclinic curve's saddle met a fold (an SNL point)

    @property
    def ok(self) -> bool:
        """False only for `newton_failed` (the others are regular ends of a branch)."""
        return self is not BranchStatus.newton_failed


class SpecialPointKind(enum.StrEnum):
    """Kinds of special points (MatCont's labels). Members compare equal to their strings."""

    LP = "LP"  # fold of equilibria (limit point, saddle-node)
    H = "H"  # Andronov-Hopf
    TH = "TH"  # a hybrid model's equilibrium reaches the spike threshold
    LPC = "LPC"  # fold of cycles
    PD = "PD"  # period doubling (flip) of cycles
    NS = "NS"  # Neimark-Sacker (torus) bifurcation of cycles
    BP = "BP"  # branch point of equilibria
    BPC = "BPC"  # branch point of cycles
    BT = "BT"  # Bogdanov-Takens (double zero eigenvalue)
    CP = "CP"  # cusp (a fold with vanishing quadratic coefficient)
    GH = "GH"  # generalised Hopf (Bautin: l1 = 0)
    ZH = "ZH"  # zero-Hopf (fold-Hopf: a zero eigenvalue and an imaginary pair)
    NSS = "NSS"  # neutral saddle homoclinic orbit (saddle quantity zero)
    SNL = "SNL"  # saddle-node loop (a homoclinic curve meets a fold curve)


class ContinuationError(ValueError):
    """Continuation could not start (no solution near the start) or failed with `throw=True`."""


@dataclasses.dataclass(frozen=True)
class Stop:
    """A problem-specific end of the branch (from `ContinuationProblem.stop_condition`).

    **Fields:** `status`, `message`, `keep` (whether the point that triggered it is kept).
    """

    status: BranchStatus
    message: str
    keep: bool = True


@dataclasses.dataclass(frozen=True)
class LocatedPoint:
    """A special point as the driver's default locator returns it (a zero in arclength).

    **Fields:** `kind`, `index` (between branch points `index` and `index + 1`), `u`,
    `tangent`, `jacobian` ($F_u$ there), `located` (False: the corrector failed there, so
    the point could not be refined).
    """

    kind: str
    index: int
    u: np.ndarray
    tangent: np.ndarray
    jacobian: np.ndarray | None
    located: bool = True


class ContinuationProblem(eqx.Module):
    r"""A curve $F(u) = 0$, $F: \mathbb{R}^{n+1} \to \mathbb{R}^n$, to follow.

    Subclasses implement `residual` (a JAX function of the unknowns $u$). Everything else
    has a default:

    - `residual_and_jacobian(u)`: $(F, F_u)$ as NumPy arrays, by one jitted forward-mode
      autodiff call (override it when the Jacobian comes another way, as shooting's
      variational equations);
    - `param_index`: the index in $u$ of the parameter that `stop` and `bounds` refer to
      (default: the last unknown);
    - `test_functions()`: a mapping name -> `g(u, tangent, jacobian) -> float`; a sign change
      of `g` between consecutive points marks a special point of that name;
    - `locate(name, segment)`: the special point in a bracketing `Segment` (default:
      regula falsi in arclength, a `LocatedPoint`); return None to drop it;
    - `point_data(u, jacobian)`: anything stored with each point (eigenvalues, Floquet
      multipliers, an orbit);
    - `update(u, jacobian)`: the problem for the next step (a renewed normalisation vector,
      a new phase reference orbit);
    - `adapt(u, t)`: a problem with new coordinates (an adapted mesh) and the accepted
      point and tangent expressed in them, or None (default: no change of coordinates);
    - `admissible(u)`: reject corrector results outside the problem's domain (a period
      $\le 0$);
    - `stop_condition(u, data, history)`: end the branch for a reason of the problem's own.
    """

    @abc.abstractmethod
    def residual(self, u: Any) -> Any:
        """$F(u)$, shape `(n,)`, for `u` of shape `(n + 1,)` (JAX arrays)."""

    def residual_and_jacobian(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """$(F(u), F_u(u))$ as NumPy arrays (`(n,)`, `(n, n + 1)`)."""
        F, J = _residual_and_jacobian(self, np.asarray(u, dtype=float))
        return np.asarray(F), np.asarray(J)

    @property
    def param_index(self) -> int:
        """Index in $u$ of the parameter that `stop` and `bounds` refer to."""
        return -1

    def test_functions(self) -> Mapping[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]]:
        """Test functions by special-point name (default: none)."""
        return {}

    def locate(self, name: str, segment: Segment) -> Any:
        """The special point `name` in `segment` (default: regula falsi in arclength on the
        test function, `Segment.regula_falsi`)."""
        return segment.regula_falsi(name)

    def point_data(self, u: np.ndarray, jacobian: np.ndarray) -> Any:
        """Data stored with each branch point (default: None)."""
        return None

    def update(self, u: np.ndarray, jacobian: np.ndarray) -> ContinuationProblem:
        """The problem for the step from the accepted point `u` (default: unchanged)."""
        return self

    def adapt(
        self, u: np.ndarray, t: np.ndarray
    ) -> tuple[ContinuationProblem, np.ndarray, np.ndarray] | None:
        """`(problem, u, t)` in new coordinates for the step from the accepted point `u` with
        tangent `t` (a collocation mesh adapted to the orbit), or None to keep them (default)."""
        return None

    def admissible(self, u: np.ndarray) -> bool:
        """Whether a corrector result lies in the problem's domain (default: True)."""
        return True

    def stop_condition(self, u: np.ndarray, data: Any, history: list[Any]) -> Stop | None:
        """End the branch at the accepted point `u` (default: never). `history` holds the
        `point_data` of the points before it."""
        return None


@eqx.filter_jit
def _residual_and_jacobian(problem, u):
    return problem.residual(u), jax.jacfwd(problem.residual)(u)


class PseudoArclength(eqx.Module):
    r"""Keller's pseudo-arclength predictor-corrector with its step-size control.

    **Fields:**

    - `ds`, `ds_min`, `ds_max`: initial, smallest and largest arclength steps (Euclidean
      norm of $u$).
    - `max_newton`: corrector iterations per step; `rtol`, `atol`: its step tolerance
      $\|\delta\|_\infty \le \mathrm{atol} + \mathrm{rtol}\|u\|_\infty$;
      `residual_tol`: the largest accepted residual, relative to $1 + \|u\|_\infty$.
    - `grow`, `fast_newton`: $\Delta s \leftarrow$ `grow` $\Delta s$ after a corrector of at most
      `fast_newton` iterations; `shrink_slow`, `slow_newton`: $\Delta s \leftarrow$
      `shrink_slow` $\Delta s$ after one of at least `slow_newton`; `shrink`: factor after a
      rejected step.
    - `min_cos`: reject a step whose tangent turned to $t_{k+1} \cdot t_k <$ `min_cos`;
      `max_distance`: reject one that moved farther than `max_distance` $\Delta s$ (both
      guard against jumping to another branch; None disables).
    """

    ds: float
    ds_min: float
    ds_max: float
    max_newton: int = 8
    rtol: float = 1e-10
    atol: float = 1e-10
    residual_tol: float = 1e-6
    grow: float = 1.3
    fast_newton: int = 3
    shrink_slow: float = 0.7
    slow_newton: int = 6
    shrink: float = 0.5
    min_cos: float | None = 0.8
    max_distance: float | None = 2.0

    def __check_init__(self):
        for name in ("ds", "ds_min", "ds_max"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be finite and > 0, got {v}")
        if not (self.ds_min <= self.ds <= self.ds_max):
            raise ValueError(
                f"need ds_min <= ds <= ds_max, got {self.ds_min}, {self.ds}, {self.ds_max}"
            )
        if not (isinstance(self.max_newton, int) and self.max_newton >= 1):
            raise ValueError(f"max_newton must be an integer >= 1, got {self.max_newton!r}")

    def solve(self, fn_and_jac, z0, max_steps=None) -> NewtonSolution:
        """Newton (`spikejax.solvers.newton`) with this algorithm's tolerances."""
        return newton(
            fn_and_jac,
            z0,
            rtol=self.rtol,
            atol=self.atol,
            max_steps=self.max_newton if max_steps is None else max_steps,
        )

    def accept(self, problem: ContinuationProblem, sol: NewtonSolution) -> bool:
        """Converged, small residual and admissible."""
        u = sol.value
        return (
            sol.ok
            and sol.residual <= self.residual_tol * (1.0 + float(np.max(np.abs(u))))
            and bool(problem.admissible(u))
        )

    def correct(
        self, problem: ContinuationProblem, u_pred: np.ndarray, t: np.ndarray
    ) -> NewtonSolution:
        """The corrector: Newton on $F = 0$, $t\\cdot(u - u_\\mathrm{pred}) = 0$."""
        return self.solve(bordered(problem.residual_and_jacobian, t, float(t @ u_pred)), u_pred)

    @staticmethod
    def tangent(jacobian: np.ndarray, t_prev: np.ndarray | None) -> np.ndarray:
        """Unit kernel vector of the `(n, n + 1)` Jacobian, oriented along `t_prev`."""
        J = np.asarray(jacobian, dtype=float)
        n = J.shape[0]
        t = None
        # bordered by t_prev, or without one by a fixed random row (one LU: an SVD of a
        # collocation Jacobian of 642 columns takes seconds on a loaded 2-core machine)
        border = np.random.default_rng(0).standard_normal(n + 1) if t_prev is None else t_prev
        rhs = np.zeros(n + 1)
        rhs[-1] = 1.0
        try:
            t = np.linalg.solve(np.vstack([J, border]), rhs)
        except np.linalg.LinAlgError:
            t = None
        if t is not None and not np.all(np.isfinite(t)):
            t = None
        if t is not None and t_prev is None:  # the random row must not miss the kernel
            if not np.linalg.norm(J @ t) <= 1e-8 * np.linalg.norm(J) * np.linalg.norm(t):
                t = None
        if t is None:
            t = np.linalg.svd(J)[2][-1]
            if t_prev is not None and t @ t_prev < 0:
                t = -t
        return t / np.linalg.norm(t)

    def next_ds(self, ds: float, n_newton: int) -> float:
        """The step after an accepted corrector of `n_newton` iterations."""
        if n_newton <= self.fast_newton:
            return min(ds * self.grow, self.ds_max)
        if n_newton >= self.slow_newton:
            return max(ds * self.shrink_slow, self.ds_min)
        return ds


@dataclasses.dataclass(frozen=True)
class Segment:
    """The piece of branch between points `index` and `index + 1`, where a test function
    changed sign; handed to `ContinuationProblem.locate`.

    **Fields:** `index`, `u0`, `u1`, `t0`, `t1`, `values0`, `values1` (test-function values at
    both ends), `problem` (the problem as it was at `u0`), `algorithm`.
    """

    index: int
    u0: np.ndarray
    u1: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    values0: Mapping[str, float]
    values1: Mapping[str, float]
    problem: ContinuationProblem
    algorithm: PseudoArclength

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.u1 - self.u0))

    def point(self, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The branch point at arclength `sigma` from `u0` along `t0`, with its tangent and
        Jacobian (None when the corrector fails)."""
        sol = self.algorithm.correct(self.problem, self.u0 + sigma * self.t0, self.t0)
        if not self.algorithm.accept(self.problem, sol):
            return None
        J = sol.jacobian[:-1]
        return sol.value, PseudoArclength.tangent(J, self.t0), J

    def bisect(
        self,
        name: str | Callable[[np.ndarray, np.ndarray, np.ndarray], float],
        *,
        n_bisect: int = 40,
        xtol: float = 1e-10,
    ) -> LocatedPoint:
        """Bisection in arclength for the sign change of test function `name` (or of a
        callable `g(u, t, J)`); returns the last point it solved (nearest the change)."""
        kind = name if isinstance(name, str) else "special"
        g = self.problem.test_functions()[name] if isinstance(name, str) else name
        g0 = self.values0[name] if isinstance(name, str) else None
        a, b, length = 0.0, self.length, self.length
        best = None
        for _ in range(n_bisect):
            m = 0.5 * (a + b)
            pt = self.point(m)
            if pt is None:
                break
            if g0 is None:
                first = self.point(1e-12 * length)
                g0 = g(*first) if first is not None else g(*pt)
            gm = g(*pt)
            best = pt
            if np.sign(gm) == np.sign(g0):
                a = m
            else:
                b = m
            if b - a < xtol * (1.0 + length):
                break
        if best is None:
            return LocatedPoint(kind, self.index, self.u0.copy(), self.t0, None, located=False)
        return LocatedPoint(kind, self.index, best[0], best[1], best[2], located=True)

    def regula_falsi(self, name: str, *, xtol: float = 1e-10, max_iter: int = 40) -> LocatedPoint:
        """The zero of a smooth test function `name` in arclength by the Illinois variant of
        regula falsi (superlinear, bracketing): fewer corrector solves than `bisect` where
        the test function is smooth (a tangent component), not for sign-only ones."""
        g = self.problem.test_functions()[name]
        a, ga = 0.0, self.values0[name]
        b, gb = float(self.t0 @ (self.u1 - self.u0)), self.values1[name]
        best = None
        side = 0
        for _ in range(max_iter):
            m = b - gb * (b - a) / (gb - ga) if gb != ga else 0.5 * (a + b)
            if not (min(a, b) < m < max(a, b)):
                m = 0.5 * (a + b)
            pt = self.point(m)
            if pt is None:
                break
            gm = g(*pt)
            best = pt
            if np.sign(gm) == np.sign(ga):
                a, ga = m, gm
                if side == -1:
                    gb *= 0.5
                side = -1
            else:
                b, gb = m, gm
                if side == 1:
                    ga *= 0.5
                side = 1
            if gm == 0 or abs(b - a) < xtol * (1.0 + self.length):
                break
        if best is None:
            return LocatedPoint(name, self.index, self.u0.copy(), self.t0, None, located=False)
        return LocatedPoint(name, self.index, best[0], best[1], best[2], located=True)


@dataclasses.dataclass(frozen=True)
class ContinuationResult:
    """What `continue_branch` returns.

    **Fields:** `points` (m, n + 1), `tangents` (m, n + 1), `arclength` (m,), `data` (the
    problems' `point_data` per point), `test_values` (name -> (m,) values),
    `special_points` (what the problem's `locate` returned, in branch order), `status` (a
    `BranchStatus`), `message`.
    """

    points: np.ndarray
    tangents: np.ndarray
    arclength: np.ndarray
    data: tuple[Any, ...]
    test_values: dict[str, np.ndarray]
    special_points: tuple[Any, ...]
    status: BranchStatus
    message: str

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def ok(self) -> bool:
        return self.status.ok


def solve_at_parameter(
    problem: ContinuationProblem,
    u0: np.ndarray,
    value: float,
    algorithm: PseudoArclength,
    *,
    max_steps: int | None = None,
) -> NewtonSolution:
    """Newton on $F(u) = 0$ with the parameter (`problem.param_index`) fixed at `value`
    (the start of a branch, a point put exactly on `stop` or a bound)."""
    u0 = np.asarray(u0, dtype=float)
    row = np.zeros(u0.size)
    row[problem.param_index] = 1.0
    return algorithm.solve(
        bordered(problem.residual_and_jacobian, row, float(value)), u0, max_steps
    )


def continue_branch(
    problem: ContinuationProblem,
    u0: np.ndarray,
    algorithm: PseudoArclength,
    *,
    direction: float | np.ndarray = 1.0,
    stop: float | None = None,
    bounds: tuple[float, float] = (-np.inf, np.inf),
    max_steps: int = 1000,
    locate: bool = True,
    throw: bool = False,
    callback: Callable[[int, np.ndarray], None] | None = None,
    param_name: str = "p",
) -> ContinuationResult:
    r"""Follow the branch of $F(u) = 0$ through the solution `u0`.

    **Arguments:**

    - `problem`: a `ContinuationProblem`.
    - `u0`: a solution, shape `(n + 1,)` (solve it first, e.g. with `solve_at_parameter`).
    - `algorithm`: a `PseudoArclength`.
    - `direction`: +1 / -1, the sign of the parameter's change at the start; or a vector
      the initial tangent is oriented along.
    - `stop`: end the branch exactly where the parameter reaches this value
      (`BranchStatus.reached_stop`). `bounds`: end it on the edge it leaves
      (`left_bounds`).
    - `max_steps`: the most new points. `locate`: locate special points (test functions).
    - `throw`: raise `ContinuationError` when the corrector fails (`newton_failed`).
    - `callback(step, u)`: called at every accepted point. `param_name`: for messages.

    **Returns:** a `ContinuationResult`.

    **Raises:** `ContinuationError` with `throw=True` when the branch ends `newton_failed`.
    """
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    lo, hi = float(bounds[0]), float(bounds[1])
    ip = problem.param_index
    u = np.asarray(u0, dtype=float).copy()
    _, J = problem.residual_and_jacobian(u)
    t = PseudoArclength.tangent(J, None)
    if np.ndim(direction) == 0:
        sign = float(direction)
        if t[ip] * sign < 0 or (t[ip] == 0 and t[0] < 0):
            t = -t
    elif t @ np.asarray(direction, dtype=float) < 0:
        t = -t

    tests = problem.test_functions()
    problems = [problem]
    us, ts, arc = [u], [t], [0.0]
    data = [problem.point_data(u, J)]
    values = [{k: float(g(u, t, J)) for k, g in tests.items()}]
    status = BranchStatus.max_steps
    message = f"stopped after max_steps={max_steps} steps"
    ds = float(algorithm.ds)
    step = 0
    prob = problem.update(u, J)
    adapted = prob.adapt(u, t)
    if adapted is not None:
        prob, u, t = adapted
    # the start of each step (point k in the coordinates of the problem that produced k + 1)
    starts = [(u, t)]
    while step < max_steps:
        sol = algorithm.correct(prob, u + ds * t, t)
        ok = algorithm.accept(prob, sol)
        u_new, J_new, t_new = sol.value, sol.jacobian[:-1], t
        if ok:
            t_new = PseudoArclength.tangent(J_new, t)
            if algorithm.min_cos is not None and t_new @ t < algorithm.min_cos:
                ok = False
            if algorithm.max_distance is not None and (
                np.linalg.norm(u_new - u) > algorithm.max_distance * ds
            ):
                ok = False
        if not ok:
            ds *= algorithm.shrink
            if ds < algorithm.ds_min:
                status = BranchStatus.newton_failed
                message = (
                    f"Newton corrector failed at {param_name}={u[ip]:.6g} after {step} steps "
                    f"(step size fell below ds_min={algorithm.ds_min:.3g})"
                )
                break
            continue
        step += 1
        p_old, p_new = u[ip], u_new[ip]
        end = None
        if stop is not None and (p_new - stop) * (p_old - stop) <= 0:
            end = (float(stop), BranchStatus.reached_stop, f"reached {param_name}={stop}")
        elif not (lo <= p_new <= hi):
            edge = hi if p_new > hi else lo
            end = (edge, BranchStatus.left_bounds, "")
        if end is not None:
            # put the last point exactly on the value crossed
            w = (end[0] - p_old) / (p_new - p_old) if p_new != p_old else 1.0
            fixed = solve_at_parameter(prob, u + w * (u_new - u), end[0], algorithm)
            if algorithm.accept(prob, fixed):
                u_new, J_new = fixed.value, fixed.jacobian[:-1]
                t_new = PseudoArclength.tangent(J_new, t)
            status = end[1]
            message = end[2] or f"left the bounds [{lo}, {hi}] at {param_name}={u_new[ip]}"
        d_new = prob.point_data(u_new, J_new)
        own = prob.stop_condition(u_new, d_new, data)
        if own is not None and not own.keep:
            status, message = own.status, own.message
            break
        us.append(u_new)
        ts.append(t_new)
        arc.append(arc[-1] + float(np.linalg.norm(u_new - u)))
        data.append(d_new)
        values.append({k: float(g(u_new, t_new, J_new)) for k, g in tests.items()})
        problems.append(prob)
        if callback is not None:
            callback(step, u_new)
        u, t = u_new, t_new
        if end is not None:
            break
        if own is not None:
            status, message = own.status, own.message
            break
        prob = prob.update(u, J_new)
        adapted = prob.adapt(u, t)
        if adapted is not None:
            prob, u, t = adapted
        starts.append((u, t))
        ds = algorithm.next_ds(ds, sol.n_steps)

    if throw and status == BranchStatus.newton_failed:
        raise ContinuationError(message)

    specials: list[Any] = []
    if locate and tests:
        for k in range(len(us) - 1):
            for name in tests:
                if values[k][name] * values[k + 1][name] < 0:
                    seg = Segment(
                        k,
                        starts[k][0],
                        us[k + 1],
                        starts[k][1],
                        ts[k + 1],
                        values[k],
                        values[k + 1],
                        # the problem that produced point k + 1 (its reference is point k's)
                        problems[k + 1],
                        algorithm,
                    )
                    sp = seg.problem.locate(name, seg)
                    if sp is not None:
                        specials.append(sp)
    return ContinuationResult(
        points=np.asarray(us),
        tangents=np.asarray(ts),
        arclength=np.asarray(arc),
        data=tuple(data),
        test_values={k: np.array([v[k] for v in values]) for k in tests},
        special_points=tuple(specials),
        status=status,
        message=message,
    )
