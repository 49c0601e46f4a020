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
located then by Newton on the fold system with $e_{n-1}(f_x) = 0$, or the curve turning
into neutral saddles).

Along the curves, test functions detect the codimension-two points (Bogdanov-Takens, cusp,
generalised Hopf, zero-Hopf); each is located and carries its normal-form coefficients
(`Codim2Point`, conventions in `spikejax.analysis._codim2`).
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
    Segment,
    SpecialPointKind,
    Stop,
    continue_branch,
    solve_at_parameter,
)
from ..solvers._root import newton
from ._codim2 import (
    Codim2Point,
    _jacobian,
    bogdanov_takens_coefficients,
    cusp_coefficients,
    elementary_symmetric,
    hopf_coefficients,
    zero_hopf_coefficients,
)
from ._continuation import (
    EquilibriumSystem,
    SpecialPoint,
    _freeze_inert,
    _state_dict,
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
    `reached_stop`, `left_bounds`, `max_steps`, `omega_zero`, `newton_failed`), `message`,
    `special_points`: the codimension-two points on the curve (`Codim2Point`: "BT", "CP"
    on fold curves; "BT", "GH", "ZH" on Hopf curves; "ZH" on fold curves of systems with
    three or more active variables), in curve order.
    """

    kind: SpecialPointKind
    param_names: tuple[str, str]
    params: np.ndarray
    state_names: tuple[str, ...]
    states: np.ndarray
    omega: np.ndarray | None
    status: BranchStatus
    message: str = ""
    special_points: tuple[Codim2Point, ...] = ()

    def __len__(self) -> int:
        return int(self.params.shape[0])

    def points(self, kind: str) -> list[Codim2Point]:
        """The codimension-two points of kind `kind` ("BT", "CP", "GH", "ZH")."""
        return [sp for sp in self.special_points if sp.kind == kind]

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


class _AtParams(eqx.Module):
    r"""$x \mapsto f(x; p_1, p_2)$ (the parameters as traced leaves: one compilation)."""

    system: _TwoParameterSystem
    p1: Array
    p2: Array

    def __call__(self, x):
        return self.system.f(x, self.p1, self.p2)


def _at(system, p1, p2) -> _AtParams:
    dtype = jnp.result_type(float)  # not weakly typed: the same compiled kernels every call
    return _AtParams(system, jnp.asarray(float(p1), dtype), jnp.asarray(float(p2), dtype))


def _psi_zero_hopf(A: np.ndarray) -> float:
    r"""$\prod_{i<j}(\lambda_i + \lambda_j)$ over the eigenvalues of `A` but the one nearest
    zero: it vanishes on a fold curve where the other eigenvalues hold an imaginary pair
    (zero-Hopf) or a second zero (BT, told apart by the BT test)."""
    ev = np.linalg.eigvals(A)
    ev = np.delete(ev, int(np.argmin(np.abs(ev))))
    val = 1.0 + 0j
    for i in range(ev.size):
        for j in range(i + 1, ev.size):
            s = ev[i] + ev[j]
            val *= s / max(abs(s), 1e-300) * min(abs(s), 1.0)
    return float(np.real(val))


def _bt_residual(system, z, c):
    """Fold conditions plus $e_{n-1}(f_x) = 0$ in $z = (x, v, p_1, p_2)$: the
    Bogdanov-Takens system ($2n + 2$ equations)."""
    n = c.shape[0]
    x, v, p1, p2 = z[:n], z[n : 2 * n], z[2 * n], z[2 * n + 1]

    def f(y):
        return system.f(y, p1, p2)

    e = elementary_symmetric(jax.jacfwd(f)(x), n - 1)
    return jnp.concatenate([fold_equations(f, x, v, c), jnp.atleast_1d(e)])


@eqx.filter_jit
def _bt_newton(system, z, c):
    return _bt_residual(system, z, c), jax.jacfwd(_bt_residual, 1)(system, z, c)


class _Codim2Locator:
    """Shared locating logic of the fold and Hopf curve problems."""

    system: _TwoParameterSystem
    c: Array

    def _split(self, u) -> tuple[np.ndarray, float, float]:
        raise NotImplementedError

    def _point(self, kind, u, index, coefficients, located=True) -> Codim2Point:
        x, p1, p2 = self._split(u)
        base = self.system.base
        A = np.asarray(_jacobian(_at(self.system, p1, p2), jnp.asarray(x)))
        return Codim2Point(
            SpecialPointKind(kind),
            {base.param: p1, self.system.param2: p2},
            _state_dict(base, jnp.asarray(x)),
            index,
            np.linalg.eigvals(A),
            coefficients,
            located,
        )

    def _refine(self, name: str, seg: Segment):
        """Regula falsi on the test function; None where the sign change is a pole (the
        test function grew instead of vanishing) or the corrector failed."""
        lp = seg.regula_falsi(name)
        if not lp.located or lp.jacobian is None:
            return None
        g = self.test_functions()[name](lp.u, lp.tangent, lp.jacobian)  # pyright: ignore[reportAttributeAccessIssue]
        if not abs(g) < 1e-3 * min(abs(seg.values0[name]), abs(seg.values1[name])):
            return None
        return lp


class FoldCurveProblem(_Codim2Locator, ContinuationProblem):
    r"""A curve of folds in two parameters: $u = (x, v, p_1, p_2)$, residual
    `fold_equations` ($2n + 1$ equations); the normalising vector $c = v / |v|^2$ is renewed
    at every accepted point.

    Test functions: **BT**, $e_{n-1}(f_x)$ (the product of the nonzero eigenvalues,
    $n \ge 2$); **CP**, the quadratic coefficient $a = \frac12 p\cdot B(v, v)$,
    $p\cdot v = 1$ ($v$ oriented along the curve's own null vector); **ZH** ($n \ge 3$),
    $\prod_{i<j}(\lambda_i + \lambda_j)$ over the nonzero eigenvalues."""

    system: _TwoParameterSystem
    c: Array
    detect: bool = eqx.field(static=True, default=True)

    def residual(self, u):
        n = self.c.shape[0]
        x, v, p1, p2 = u[:n], u[n : 2 * n], u[2 * n], u[2 * n + 1]
        return fold_equations(lambda y: self.system.f(y, p1, p2), x, v, self.c)

    def update(self, u, jacobian):
        n = self.c.shape[0]
        v = u[n : 2 * n]
        return dataclasses.replace(self, c=jnp.asarray(v / (v @ v)))

    def _split(self, u):
        n = self.c.shape[0]
        return np.asarray(u[:n]), float(u[2 * n]), float(u[2 * n + 1])

    def _quadratic(self, u, J) -> float:
        r"""$\frac12 w\cdot B(v, v) / (w\cdot v)$ from the extended Jacobian: its rows
        $n..2n$ are $f_x(x) v$, whose $x$-derivative applied to $v$ is $B(v, v)$."""
        n = self.c.shape[0]
        v = np.asarray(u[n : 2 * n])
        w = np.linalg.svd(J[:n, :n])[0][:, -1]
        return 0.5 * float(w @ (J[n : 2 * n, :n] @ v)) / float(w @ v)

    def test_functions(self):
        if not self.detect:
            return {}
        n = self.c.shape[0]
        # J is the extended system's Jacobian: J[:n, :n] = f_x
        tests = {"CP": lambda u, t, J: self._quadratic(u, J)}
        if n >= 2:
            tests["BT"] = lambda u, t, J: float(elementary_symmetric(J[:n, :n], n - 1))
        if n >= 3:
            tests["ZH"] = lambda u, t, J: _psi_zero_hopf(J[:n, :n])
        return tests

    def locate(self, name: str, segment: Segment) -> Codim2Point | None:
        lp = self._refine(name, segment)
        if lp is None:
            return None
        x, p1, p2 = self._split(lp.u)
        fm = _at(self.system, p1, p2)
        n = self.c.shape[0]
        if name == "BT":
            return self._point("BT", lp.u, segment.index, bogdanov_takens_coefficients(fm, x))
        if name == "CP":
            return self._point("CP", lp.u, segment.index, cusp_coefficients(fm, x, lp.u[n : 2 * n]))
        ev = np.linalg.eigvals(np.asarray(lp.jacobian)[:n, :n])
        if not np.any(np.abs(ev.imag) > 1e-8 * (1.0 + np.abs(ev).max())):
            return None  # a neutral saddle, not a zero-Hopf point
        return self._point("ZH", lp.u, segment.index, zero_hopf_coefficients(fm, x))


class HopfCurveProblem(_Codim2Locator, ContinuationProblem):
    r"""A curve of Hopf points in two parameters: $u = (x, q_r, q_i, \omega, p_1, p_2)$,
    residual `hopf_equations` ($3n + 2$ equations); $c = q_r/|q_r|^2$ renewed at every point.
    The curve ends (`BranchStatus.omega_zero`) where $\omega$ reaches 0: a Bogdanov-Takens
    point, or the curve turning into neutral saddles.

    Test functions: **GH**, the first Lyapunov coefficient $\ell_1$; **ZH** ($n \ge 3$),
    $\det f_x$ (the imaginary pair contributes $\omega^2 > 0$)."""

    system: _TwoParameterSystem
    c: Array
    omega0: float = eqx.field(static=True)
    detect: bool = eqx.field(static=True, default=True)

    def _split(self, u):
        n = self.c.shape[0]
        return np.asarray(u[:n]), float(u[3 * n + 1]), float(u[3 * n + 2])

    def _l1(self, u) -> float:
        n = self.c.shape[0]
        x, p1, p2 = self._split(u)
        return hopf_coefficients(_at(self.system, p1, p2), x, float(u[3 * n]), order=3)["l1"]

    def test_functions(self):
        if not self.detect:
            return {}
        n = self.c.shape[0]
        tests = {"GH": lambda u, t, J: self._l1(u)}
        if n >= 3:  # J[:n, :n] = f_x
            tests["ZH"] = lambda u, t, J: float(np.linalg.det(J[:n, :n]))
        return tests

    def locate(self, name: str, segment: Segment) -> Codim2Point | None:
        lp = self._refine(name, segment)
        if lp is None:
            return None
        n = self.c.shape[0]
        x, p1, p2 = self._split(lp.u)
        fm = _at(self.system, p1, p2)
        if name == "GH":
            coefficients = hopf_coefficients(fm, x, float(lp.u[3 * n]))
            return self._point("GH", lp.u, segment.index, coefficients)
        return self._point("ZH", lp.u, segment.index, zero_hopf_coefficients(fm, x))

    def bogdanov_takens(self, u, index: int, tol: float) -> Codim2Point | None:
        r"""The BT point near the end `u` of a Hopf curve (where $\omega \to 0$): Newton on
        the fold conditions with $e_{n-1}(f_x) = 0$ from $(x, q_r)$; None if it fails."""
        n = self.c.shape[0]
        if n < 2:
            return None
        x, qr = np.asarray(u[:n]), np.asarray(u[n : 2 * n])
        v = qr / np.linalg.norm(qr)
        c = jnp.asarray(v)
        z0 = np.concatenate([x, v, [u[3 * n + 1], u[3 * n + 2]]])
        sol = newton(lambda z: _bt_newton(self.system, jnp.asarray(z), c), z0, rtol=tol, atol=tol)
        if not (sol.ok and sol.residual < 1e-8):
            return None
        z = sol.value
        if np.linalg.norm(z[:n] - x) + abs(z[-2] - z0[-2]) + abs(z[-1] - z0[-1]) > 0.1 * (
            1.0 + np.linalg.norm(z0)
        ):
            return None  # converged to a different point
        ub = np.concatenate([z[:n], np.zeros(2 * n + 1), z[2 * n :]])
        fm = _at(self.system, z[2 * n], z[2 * n + 1])
        return self._point("BT", ub, index, bogdanov_takens_coefficients(fm, z[:n]))

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
    detect: bool = True,
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
    - `detect`: detect and locate the codimension-two points (BT, CP, GH, ZH) with their
      normal-form coefficients (`BifurcationCurve.special_points`).
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
        problem: ContinuationProblem = FoldCurveProblem(
            system, jnp.asarray(v / (v @ v)), bool(detect)
        )
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
        problem = HopfCurveProblem(
            system, jnp.asarray(qr / (qr @ qr)), float(ev[k].imag), bool(detect)
        )
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
    specials = list(result.special_points)
    if detect and isinstance(problem, HopfCurveProblem) and result.status == "omega_zero":
        bt = problem.bogdanov_takens(Z[-1], len(Z) - 1, tol)
        if bt is not None:
            specials.append(bt)
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
        special_points=tuple(specials),
    )
