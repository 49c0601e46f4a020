r"""Root finding: one layer for every equilibrium, fold, Hopf and cycle solve.

Two entry points, one result convention (a `RESULTS` enum with a message, and `throw=`):

* `root_find(fn, y0, args)` -- inside `jit`/`vmap`/`grad`: `optimistix.root_find` with
  Newton's method and the implicit adjoint, so the root is differentiable with respect to
  `args` by the implicit function theorem,
  $dz/d\theta = -(\partial_z F)^{-1}\,\partial_\theta F$, without differentiating through
  the iterations.
* `newton(fn_and_jac, z0)` -- on the host, for continuation: Newton on a residual whose
  Jacobian the caller supplies (a jitted autodiff Jacobian, possibly bordered by the
  pseudo-arclength row), with damping-free steps, a relative step tolerance and a
  `NewtonSolution` holding the iterate, its `RESULTS` value, the iteration count and the
  residual norm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import ArrayLike, PyTree

from .._validation import check_positive

__all__ = [
    "RESULTS",
    "NewtonSolution",
    "bordered",
    "default_root_tolerances",
    "newton",
    "promote_diffrax",
    "root_find",
]


class RESULTS(optx.RESULTS):  # pyright: ignore[reportGeneralTypeIssues]
    """Outcomes of spikejax's solvers (an `equinox.internal.Enumeration`, as in optimistix).

    `RESULTS.successful` is success; every other member carries its message. Inherits
    optimistix's members (`nonlinear_max_steps_reached`, `nonlinear_divergence`,
    `singular`, ...).
    """

    non_finite = "The residual or the iterate became NaN or infinite."
    dt_min_reached = "The minimum step size was reached in the differential equation solve."
    ode_failed = "The differential equation solve failed (see diffrax.RESULTS)."


def promote_diffrax(result: Any) -> RESULTS:
    """A `diffrax.RESULTS` value as a spikejax `RESULTS` value (jit-safe).

    An occurred event counts as success; members that spikejax's `RESULTS` shares by name
    keep their meaning; any other failure is `RESULTS.ode_failed`.
    """
    import diffrax

    # The checker reads inherited Enumeration members as optimistix's type; they are ours.
    out: RESULTS = RESULTS.successful  # pyright: ignore[reportAssignmentType]
    for name, item in diffrax.RESULTS._name_to_item.items():  # pyright: ignore
        if name in ("successful", "event_occurred"):
            continue
        target = getattr(RESULTS, name, RESULTS.ode_failed)
        out = RESULTS.where(result == item, target, out)
    return out


def default_root_tolerances(dtype: Any) -> tuple[float, float]:
    """`(rtol, atol)` for Newton in `dtype`: a few hundred units of its resolution.

    float64: `(1e-10, 1e-12)`; float32: `(1e-5, 1e-6)`.
    """
    eps = float(np.finfo(np.dtype(dtype)).eps)
    if eps < 1e-10:
        return 1e-10, 1e-12
    return 1e-5, 1e-6


def _check_options(*, rtol: Any, atol: Any, max_steps: Any) -> None:
    """Newton's options: tolerances finite and > 0 (None: the defaults), `max_steps` >= 1."""
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None:
            check_positive(name, value)
    if isinstance(max_steps, bool) or not isinstance(max_steps, int | np.integer) or max_steps < 1:
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")


def root_find(
    fn: Callable[[PyTree, Any], PyTree],
    y0: PyTree,
    args: PyTree = None,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = 64,
    throw: bool = True,
    solver: optx.AbstractRootFinder | None = None,
    options: dict[str, Any] | None = None,
    tags: frozenset[object] = frozenset(),
    adjoint: optx.AbstractAdjoint | None = None,
) -> optx.Solution:
    r"""Solve `fn(y, args) = 0` for `y` near `y0`; jit-, vmap- and grad-safe.

    Newton's method (`optimistix.Newton`, its linear solves by lineax) with the implicit
    adjoint: gradients with respect to `args` (a model, a current, ...) follow the implicit
    function theorem.

    **Arguments:**

    - `fn`: the residual `fn(y, args)`, a pytree of the structure of `y0`.
    - `y0`: the initial guess (a pytree of float arrays).
    - `args`: anything `fn` depends on; differentiable.
    - `rtol`, `atol`: Newton's step tolerances; None takes `default_root_tolerances` of
      `y0`'s dtype.
    - `max_steps`: the most Newton steps.
    - `throw`: raise (as `eqx.error_if` does, also under `jit`) when the solve fails; with
      `throw=False` the failure is in `solution.result` (a `RESULTS` value), never hidden.
    - `solver`: another optimistix root finder (its tolerances are then its own), e.g.
      `optx.Newton(..., linear_solver=lineax.SVD())` for systems with inert variables (zero
      Jacobian rows: the pseudo-inverse leaves them in place) or `optx.Bisection` for a
      bracketed scalar root.
    - `options`: the solver's run-time options (`lower`/`upper` for `optx.Bisection`, or to
      clip Newton's iterates to a box).
    - `tags`: lineax tags of the Jacobian (`lineax.diagonal_tag` for an elementwise residual:
      one division per cell instead of a dense solve); used by Newton and by the adjoint.
    - `adjoint`: the optimistix adjoint; default `optx.ImplicitAdjoint()`.

    **Returns:** an `optimistix.Solution`: `value`, `result` (a spikejax `RESULTS`), `stats`.
    """
    _check_options(rtol=rtol, atol=atol, max_steps=max_steps)
    leaves = jax.tree_util.tree_leaves(y0)
    dtype = jnp.result_type(*leaves) if leaves else jnp.result_type(float)
    if solver is None:
        r0, a0 = default_root_tolerances(dtype)
        solver = optx.Newton(rtol=r0 if rtol is None else rtol, atol=a0 if atol is None else atol)
    sol = optx.root_find(
        fn,
        solver,
        y0,
        args,
        options,
        max_steps=max_steps,
        throw=throw,
        tags=tags,
        adjoint=optx.ImplicitAdjoint() if adjoint is None else adjoint,
    )
    return eqx.tree_at(lambda s: s.result, sol, RESULTS.promote(sol.result))


class NewtonSolution(eqx.Module):
    """What the host-side `newton` returns.

    **Fields:** `value` (the last iterate, a NumPy array), `result` (a `RESULTS` value),
    `n_steps` (Newton steps taken), `residual` (max-norm of the residual at `value`),
    `jacobian` (the Jacobian at the last evaluated iterate, for tangents and test functions).
    """

    value: np.ndarray
    result: RESULTS
    n_steps: int
    residual: float
    jacobian: np.ndarray

    @property
    def ok(self) -> bool:
        """True when Newton converged."""
        return bool(self.result == RESULTS.successful)


def newton(
    fn_and_jac: Callable[[np.ndarray], tuple[ArrayLike, ArrayLike]],
    z0: ArrayLike,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    max_steps: int = 30,
    throw: bool = False,
) -> NewtonSolution:
    r"""Newton's method on the host for a square system `F(z) = 0` with a supplied Jacobian.

    `fn_and_jac(z)` returns `(F(z), dF/dz(z))` (typically one jitted call). The iteration
    stops when the step satisfies $\|\delta\|_\infty \le \mathrm{atol} + \mathrm{rtol}
    \|z\|_\infty$. A singular Jacobian, a non-finite value or `max_steps` steps without
    convergence give the corresponding `RESULTS` value (or raise with `throw=True`).

    **Returns:** a `NewtonSolution`.

    **Raises:** `RuntimeError` with the `RESULTS` message when `throw=True` and Newton fails.
    """
    _check_options(rtol=rtol, atol=atol, max_steps=max_steps)
    z = np.array(z0, dtype=float, copy=True)
    result = RESULTS.nonlinear_max_steps_reached
    F, J = (np.asarray(a, dtype=float) for a in fn_and_jac(z))
    steps = 0
    while steps < max_steps:
        steps += 1
        if not (np.all(np.isfinite(F)) and np.all(np.isfinite(J))):
            result = RESULTS.non_finite
            break
        try:
            delta = np.linalg.solve(J, F)
        except np.linalg.LinAlgError:
            result = RESULTS.singular
            break
        if not np.all(np.isfinite(delta)):
            result = RESULTS.singular
            break
        z = z - delta
        F, J = (np.asarray(a, dtype=float) for a in fn_and_jac(z))
        if np.max(np.abs(delta), initial=0.0) <= atol + rtol * np.max(np.abs(z), initial=0.0):
            result = RESULTS.successful if np.all(np.isfinite(F)) else RESULTS.non_finite
            break
    residual = float(np.max(np.abs(F), initial=0.0)) if F.size else 0.0
    if throw and result != RESULTS.successful:
        raise RuntimeError(f"Newton failed after {steps} steps: {RESULTS[result]}")
    return NewtonSolution(
        value=z,
        # The members inherited from optimistix are spikejax `RESULTS` items at run time
        # (equinox Enumeration subclassing); the type checker sees them as optimistix's.
        result=result,  # pyright: ignore[reportArgumentType]
        n_steps=steps,
        residual=residual,
        jacobian=J,
    )


def bordered(
    fn_and_jac: Callable[[np.ndarray], tuple[ArrayLike, ArrayLike]],
    row: ArrayLike,
    rhs: float,
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    r"""The system `F(z) = 0` of `n` equations in `n + 1` unknowns bordered by one linear
    equation `row . z = rhs` (the pseudo-arclength condition, or a fixed parameter).

    **Returns:** a `fn_and_jac` for `newton` of the square `(n + 1)` system.
    """
    row = np.asarray(row, dtype=float)

    def fj(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        F, J = fn_and_jac(z)
        F = np.concatenate([np.asarray(F, dtype=float), [float(row @ z) - rhs]])
        J = np.vstack([np.asarray(J, dtype=float), row[None, :]])
        return F, J

    return fj
