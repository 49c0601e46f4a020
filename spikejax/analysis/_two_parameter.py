r"""Two-parameter continuation: curves of fold (LP) and Hopf (H) points.

A fold or Hopf point found by one-parameter `continuation` moves when a second parameter
changes. `bifurcation_curve` follows it through the plane of the two parameters, as
MatCont's LP and H curves do: pseudo-arclength continuation of the extended systems

* fold: $f(x; p_1, p_2) = 0$, $f_x v = 0$, $c^\top v = 1$
  (unknowns $x, v, p_1, p_2$: $2n + 1$ equations in $2n + 2$ unknowns);
* Hopf: $f = 0$, $f_x q_r + \omega q_i = 0$, $f_x q_i - \omega q_r = 0$,
  $c^\top q_r = 1$, $c^\top q_i = 0$ (unknowns $x, q_r, q_i, \omega, p_1, p_2$),

with the Jacobians from autodiff and the normalising vector $c$ renewed at every step
(`FoldCurveProblem`, `HopfCurveProblem` on the shared driver
`spikejax.solvers.continue_branch`; the same extended equations locate folds and Hopf
points in one parameter). A Hopf curve ends where $\omega \to 0$ (a Bogdanov-Takens point,
or the curve turning into neutral saddles).
"""

from __future__ import annotations

import dataclasses

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
    Stop,
    continue_branch,
    solve_at_parameter,
)
from ._continuation import (
    EquilibriumSystem,
    SpecialPoint,
    _freeze_inert,
    fold_equations,
    hopf_equations,
    make_system,
)

__all__ = ["BifurcationCurve", "FoldCurveProblem", "HopfCurveProblem", "bifurcation_curve"]


@dataclasses.dataclass(frozen=True)
class BifurcationCurve:
    """A curve of fold or Hopf points in the plane of two parameters.

    **Fields:** `kind` (`SpecialPointKind.LP` or `.H`), `param_names` (first, second),
    `params` (m, 2), `state_names`, `states` (m, n_states): the equilibrium at each point,
    `omega` (m,): the Hopf angular frequency (None for folds), `status` (a `BranchStatus`:
    `reached_stop`, `left_bounds`, `max_steps`, `omega_zero`, `newton_failed`), `message`.
    """

    kind: SpecialPointKind
    param_names: tuple[str, str]
    params: np.ndarray
    state_names: tuple[str, ...]
    states: np.ndarray
    omega: np.ndarray | None
    status: BranchStatus
    message: str = ""

    def __len__(self) -> int:
        return int(self.params.shape[0])

    def param(self, name: str) -> np.ndarray:
        """The values of parameter `name` along the curve."""
        return self.params[:, self.param_names.index(name)]

    def state(self, name: str) -> np.ndarray:
        return self.states[:, self.state_names.index(name)]


class _TwoParameterSystem(eqx.Module):
    """$f(x; p_1, p_2)$ on the active state variables of a one-parameter system."""

    base: EquilibriumSystem  # the system in the first parameter
    param2: str = eqx.field(static=True)

    def f(self, x, p1, p2):
        sys = self.base
        if self.param2 == "I":
            sys = dataclasses.replace(sys, I=p2)
        else:
            sys = dataclasses.replace(sys, model=sys.model.replace(**{self.param2: p2}))
        return sys.f(x, p1)


class FoldCurveProblem(ContinuationProblem):
    r"""A curve of folds in two parameters: $u = (x, v, p_1, p_2)$, residual
    `fold_equations` ($2n + 1$ equations); the normalising vector $c = v / |v|^2$ is renewed
    at every accepted point."""

    system: _TwoParameterSystem
    c: Array

    def residual(self, u):
        n = self.c.shape[0]
        x, v, p1, p2 = u[:n], u[n : 2 * n], u[2 * n], u[2 * n + 1]
        return fold_equations(lambda y: self.system.f(y, p1, p2), x, v, self.c)

    def update(self, u, jacobian):
        n = self.c.shape[0]
        v = u[n : 2 * n]
        return dataclasses.replace(self, c=jnp.asarray(v / (v @ v)))


class HopfCurveProblem(ContinuationProblem):
    r"""A curve of Hopf points in two parameters: $u = (x, q_r, q_i, \omega, p_1, p_2)$,
    residual `hopf_equations` ($3n + 2$ equations); $c = q_r/|q_r|^2$ renewed at every point.
    The curve ends (`BranchStatus.omega_zero`) where $\omega$ reaches 0: a Bogdanov-Takens
    point, or the curve turning into neutral saddles."""

    system: _TwoParameterSystem
    c: Array
    omega0: float = eqx.field(static=True)

    def residual(self, u):
        n = self.c.shape[0]
        x, qr, qi = u[:n], u[n : 2 * n], u[2 * n : 3 * n]
        w, p1, p2 = u[3 * n], u[3 * n + 1], u[3 * n + 2]
        return hopf_equations(lambda y: self.system.f(y, p1, p2), x, qr, qi, w, self.c)

    def update(self, u, jacobian):
        n = self.c.shape[0]
        v = u[n : 2 * n]
        return dataclasses.replace(self, c=jnp.asarray(v / (v @ v)))

    def stop_condition(self, u, data, history):
        n = self.c.shape[0]
        if not u[3 * n] > 1e-9 * max(1.0, abs(self.omega0)):
            return Stop(
                BranchStatus.omega_zero,
                "the Hopf frequency reached 0 (Bogdanov-Takens)",
                keep=False,
            )
        return None


def bifurcation_curve(
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
    max_steps: int = 500,
    tol: float = 1e-10,
    throw: bool = False,
) -> BifurcationCurve:
    r"""Follow the fold or Hopf point `point` (from `continuation(model, param, ...)`) as the
    second parameter `param2` runs from its value in `model` (or `I`) towards `stop2`.

    **Arguments:**

    - `model`: the single-cell model `point` was found on; `param`, `I`: as given to
      `continuation` (the first parameter, and the input current when `param` is a field).
    - `point`: a `SpecialPoint` of kind "LP" or "H".
    - `param2`: `"I"` or a model field other than `param`; `stop2`: where to stop.
    - `bounds2`: the curve ends when `param2` leaves it (default: between its start and
      `stop2`). `ds`, `ds_max`: initial and largest arclength steps (in the Euclidean norm of
      all unknowns; defaults 1% and 10% of the distance to `stop2` plus the state scale).
    - `max_steps`, `tol`: the most steps; the relative Newton tolerance.
    - `throw`: raise `ContinuationError` when the corrector fails (else
      `status=BranchStatus.newton_failed`).

    A `FoldCurveProblem` or `HopfCurveProblem` on the shared driver
    (`spikejax.solvers.continue_branch`).

    **Returns:** a `BifurcationCurve`; its last point lies exactly at `stop2` when the curve
    gets there (`status="reached_stop"`).

    **Raises:** `ValueError` for a point that is not LP or H, unknown or equal parameter
    names, bad steps, or float32 (enable float64 with
    `jax.config.update('jax_enable_x64', True)`); `ContinuationError` when the extended
    system cannot be solved at the start.
    """
    require_float64("spikejax.analysis.bifurcation_curve")
    if not isinstance(point, SpecialPoint) or point.kind not in ("LP", "H"):
        raise ValueError("point must be a SpecialPoint of kind 'LP' or 'H' from continuation")
    if param2 == param:
        raise ValueError(f"param2 must differ from param, got both {param!r}")
    base = make_system(model, param, I=I)
    if param2 != "I" and param2 not in model.parameters():
        raise ValueError(
            f"unknown parameter name param2={param2!r} for {type(model).__name__}; "
            f"choose 'I' or one of {sorted(model.parameters())}"
        )
    start2 = float(I) if param2 == "I" else float(np.asarray(getattr(model, param2)))
    check_finite("stop2", stop2)
    stop2 = float(stop2)
    if stop2 == start2:
        raise ValueError(f"stop2 must differ from the current {param2} = {start2}")
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    lo, hi = (min(start2, stop2), max(start2, stop2)) if bounds2 is None else map(float, bounds2)
    if not (lo <= start2 <= hi):
        raise ValueError(f"bounds2 must contain the starting {param2} = {start2}")
    at_point = {k: jnp.asarray(v) for k, v in point.state.items()}
    x_full = np.asarray(model.to_vector({**model.resting_state(), **at_point}), float)
    # arclength runs through states and parameters alike: scale the steps by both
    span = abs(stop2 - start2) + max(1.0, float(np.max(np.abs(x_full))))
    ds = 0.01 * span if ds is None else float(ds)
    ds_max = 0.1 * span if ds_max is None else float(ds_max)
    if not (0 < ds <= ds_max):
        raise ValueError(f"need 0 < ds <= ds_max, got ds={ds}, ds_max={ds_max}")
    ds_min = 1e-9 * span

    base = _freeze_inert(base, x_full.reshape(-1), point.param)
    active = np.asarray(base.active)
    system = _TwoParameterSystem(base, param2)
    x = x_full.reshape(-1)[active]
    n = x.size
    p1, p2 = float(point.param), start2
    J = np.asarray(jax.jacfwd(system.f, 0)(jnp.asarray(x), p1, p2))

    if point.kind == "LP":
        _, _, vt = np.linalg.svd(J)
        z = np.concatenate([x, vt[-1], [p1, p2]])  # the null vector of J
        v = vt[-1]
        problem: ContinuationProblem = FoldCurveProblem(system, jnp.asarray(v / (v @ v)))
    else:
        ev, vecs = np.linalg.eig(J)
        k = int(np.argmin(np.abs(np.real(ev)) + (np.imag(ev) <= 0) * 1e300))
        if not ev[k].imag > 0:
            raise ContinuationError("no complex pair of eigenvalues at the Hopf point")
        q = vecs[:, k]
        # rotate q so that Re q and Im q are orthogonal (then c = Re q / |Re q|^2 works)
        theta = 0.5 * np.angle(np.sum(q * q))
        q = q * np.exp(-1j * theta)
        qr, qi = q.real, q.imag
        if np.linalg.norm(qr) < np.linalg.norm(qi):
            qr, qi = qi, -qr  # multiply by -i
        z = np.concatenate([x, qr, qi, [ev[k].imag, p1, p2]])
        problem = HopfCurveProblem(system, jnp.asarray(qr / (qr @ qr)), float(ev[k].imag))
    i1, i2 = z.size - 2, z.size - 1
    algorithm = PseudoArclength(
        ds=ds, ds_min=ds_min, ds_max=ds_max, max_newton=12, rtol=tol, atol=tol, slow_newton=13
    )
    # the start: solve with p2 fixed
    sol = solve_at_parameter(problem, z, p2, algorithm, max_steps=30)
    if not sol.ok:
        raise ContinuationError(
            f"could not solve the {point.kind} extended system at {param}={p1}, "
            f"{param2}={p2}: is the point located (point.located)?"
        )
    z = sol.value
    problem = problem.update(z, sol.jacobian[:-1])  # F_u: less the bordering row
    result = continue_branch(
        problem,
        z,
        algorithm,
        direction=1.0 if stop2 > start2 else -1.0,
        stop=stop2,
        bounds=(lo, hi),
        max_steps=max_steps,
        throw=throw,
        param_name=param2,
    )
    Z = result.points
    states = np.broadcast_to(x_full.reshape(-1), (len(Z), x_full.size)).copy()
    states[:, active] = Z[:, :n]
    return BifurcationCurve(
        kind=SpecialPointKind(point.kind),
        param_names=(param, param2),
        params=Z[:, [i1, i2]],
        state_names=tuple(model.state_names),
        states=states,
        omega=Z[:, 3 * n] if point.kind == "H" else None,
        status=result.status,
        message=result.message,
    )
