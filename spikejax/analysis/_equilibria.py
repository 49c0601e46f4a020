r"""Equilibria of neuron models and their autodiff Jacobians.

Every spikejax model's equilibria reduce to its membrane potential: at an equilibrium each
non-voltage variable $z$ solves its own equations $f_z(V, z) = 0$ for the given $V$ (gates
at steady state $x_\infty(V)$; Izhikevich's $u = bv$; FitzHugh-Nagumo's $w = (v + a)/b$; the
LIF's refractory clock at 0). `fixed_points` therefore

1. solves $f_z(V, z) = 0$ for $z(V)$ at every $V$ of a fine grid (`state_at_voltage`: Newton
   iterations with the pseudo-inverse of $\partial f_z/\partial z$, started from the model's
   `steady_state_gates(V)` when it has one, else from its resting state; exact in one step
   when $f_z$ is affine in $z$, as for all gates),
2. brackets the sign changes of the reduced function $g(V) = f_V(V, z(V))$ (`reduced_rhs`)
   and refines each with safeguarded Newton/bisection to machine precision,
3. catches double roots (tangencies, saddle-nodes) as local minima of $|g|$ on the grid whose
   refined minimum is within `tol` of zero (labelled non-hyperbolic), and splits a dip that
   crosses zero between two grid points into its two simple roots,
4. optionally runs n-dimensional Newton from user `starts` (the general fallback for
   models whose equilibria do not reduce to $V$).

Every solve goes through `spikejax.solvers.root_find` (optimistix).

Hybrid models: only equilibria of the continuous flow below threshold
(`threshold_distance < 0`) are kept.

Precision: `fixed_points` needs float64 (double roots, eigenvalue signs and the residual
tests are decided at tolerances far below float32's resolution) and raises a `ValueError`
saying `jax.config.update('jax_enable_x64', True)` otherwise. The building blocks `jacobian`,
`state_at_voltage` and `reduced_rhs` run in either precision (tolerances follow the dtype).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike

from .._validation import require_float64, to_arrays
from ..models._base import NeuronModel
from ..solvers._root import RESULTS, root_find
from ._classify import FixedPointType, classify, unstable_dimension

__all__ = [
    "FixedPoint",
    "fixed_points",
    "jacobian",
    "reduced_rhs",
    "state_at_voltage",
]


# ----- small helpers ---------------------------------------------------------------------------


def _float_dtype():
    return jnp.result_type(float)


def check_model(model: Any, *, where: str = "model") -> NeuronModel:
    """`ValueError` unless `model` is a single-cell `NeuronModel` with finite parameters."""
    if not isinstance(model, NeuronModel):
        raise ValueError(f"{where} must be a spikejax NeuronModel, got {type(model).__name__}")
    for name, value in model.parameters().items():
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            continue
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{type(model).__name__}.{name} must be finite, got {value!r} (NaN or inf)"
            )
    if model.shape != ():
        raise ValueError(
            f"{where} must be a single cell (scalar parameters), got population shape "
            f"{model.shape}; analyse one cell at a time (e.g. model.replace(...) per cell)"
        )
    return model


def check_current(I: Any, name: str = "I") -> float:
    """The input current as a finite Python float (`ValueError` otherwise)."""
    try:
        arr = np.asarray(I, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite scalar, got {I!r}") from None
    if arr.shape != () or not np.isfinite(arr):
        raise ValueError(f"{name} must be a finite scalar, got {I!r}")
    return float(arr)


def check_interval(name: str, value: Any) -> tuple[float, float]:
    """A finite interval `(lo, hi)` with `lo < hi` (`ValueError` naming `name` otherwise)."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a pair (lo, hi) of finite numbers, got {value!r}"
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if not (hi > lo):
        raise ValueError(f"{name} must satisfy lo < hi (a non-empty interval), got {value!r}")
    return lo, hi


def _with_params(model: NeuronModel, params: dict[str, Any] | None) -> NeuronModel:
    if params:
        model = model.replace(**params)  # ValueError naming unknown parameters
    return model


def as_state_vector(model: NeuronModel, y: Any) -> Array:
    """A state (dict or `(n_states,)` array) as a float array of shape `(n_states,)`."""
    if isinstance(y, dict):
        missing = [k for k in model.state_names if k not in y]
        if missing:
            raise ValueError(
                f"state is missing variable(s) {missing}; needs {list(model.state_names)}"
            )
        unknown = sorted(set(y) - set(model.state_names))
        if unknown:
            raise ValueError(
                f"{type(model).__name__} has no state variable(s) {unknown}; "
                f"state variables: {list(model.state_names)}"
            )
        x = jnp.stack([jnp.asarray(y[k], dtype=_float_dtype()) for k in model.state_names])
    else:
        x = jnp.asarray(y, dtype=_float_dtype())
    if x.shape != (model.n_states,):
        raise ValueError(
            f"state must have shape ({model.n_states},) for a single "
            f"{type(model).__name__} cell, got {x.shape}"
        )
    return x


# ----- Jacobian ------------------------------------------------------------------------------


def jacobian(model: NeuronModel, y: Any, I: ArrayLike = 0.0, *, t: ArrayLike = 0.0) -> Array:
    r"""The Jacobian $\partial f_i / \partial y_j$ of a single cell's vector field at state `y`.

    **Arguments:** `model` (single cell), `y` (state dict or `(n_states,)` array, in
    `model.state_names` order), `I` (input current), `t` (time; models are autonomous).

    **Returns:** an `(n_states, n_states)` array from `jax.jacfwd` of
    `model.vector_field_array`; jit-, vmap- and grad-compatible in `y`, `I` and the model's
    parameters.
    """
    x = as_state_vector(model, y)
    return jax.jacfwd(lambda xx: model.vector_field_array(t, xx, I))(x)


# ----- reduction to the membrane potential ----------------------------------------------------


def arrayify(model: NeuronModel) -> NeuronModel:
    """The model with float fields as arrays, so that jitted analysis code compiled for one
    parameter value is reused for others (Python floats would be static)."""
    return to_arrays(model)


def _voltage_index(model: NeuronModel) -> int:
    names = model.state_names
    if model.voltage_name not in names:
        raise ValueError(
            f"{type(model).__name__}.voltage_name {model.voltage_name!r} is not a state variable"
        )
    return names.index(model.voltage_name)


def _gate_guesses(model: NeuronModel, V: Array) -> dict[str, Array]:
    gates_fn = getattr(model, "steady_state_gates", None)
    if not callable(gates_fn):
        return {}
    try:
        gates = gates_fn(V)
    except Exception:  # noqa: BLE001 -- any model-specific signature: no gate guesses
        return {}
    if not isinstance(gates, dict):
        return {}
    return {k: v for k, v in gates.items() if k in model.state_names and k != model.voltage_name}


def rest_vector(model: NeuronModel) -> Array | None:
    """`model.resting_state()` as a vector, or None when `steady_state_gates` covers every
    non-voltage variable (then the rest state is not needed as a starting guess)."""
    others = [k for k in model.state_names if k != model.voltage_name]
    if set(others) <= set(_gate_guesses(model, jnp.asarray(-60.0, dtype=_float_dtype()))):
        return None
    return model.to_vector(model.resting_state()).astype(_float_dtype())


def _initial_guess(model: NeuronModel, V: Array, rest: Array | None) -> Array:
    """Start of the slaved solve at voltage `V`: steady-state gates where the model has them,
    else the resting state's values."""
    x = jnp.zeros((model.n_states,), dtype=_float_dtype()) if rest is None else rest
    gates = _gate_guesses(model, V)
    for i, name in enumerate(model.state_names):
        if name in gates:
            x = x.at[i].set(jnp.asarray(gates[name], dtype=_float_dtype()))
    return x.at[_voltage_index(model)].set(V)


def _robust_solve(J: Array, F: Array) -> Array:
    r"""$(J^T J + \mu I)^{-1} J^T F$ with $\mu = \varepsilon \max(\|J\|_F^2, \text{tiny})$.

    The Newton step $J^{-1}F$ when $J$ is well conditioned, and 0 along directions where $J$
    vanishes (e.g. a variable whose equation does not depend on it). Cheaper to compile
    than a pseudo-inverse (SVD).
    """
    JtJ = J.T @ J
    mu = jnp.finfo(J.dtype).eps * jnp.maximum(jnp.sum(J * J), jnp.finfo(J.dtype).tiny)
    step = jnp.linalg.solve(JtJ + mu * jnp.eye(J.shape[0], dtype=J.dtype), J.T @ F)
    return jnp.where(jnp.all(jnp.isfinite(step)), step, jnp.zeros_like(step))


def _pinned(x, args):
    """`residual(x, inner)` with the inert rows replaced by `x - x_start` (see `_solve_pinned`)."""
    residual, inner, x_start, inert = args
    return jnp.where(inert, x - x_start, residual(x, inner))


def _solve_pinned(residual, x0, inner, *, max_steps: int):
    r"""Newton on `residual(x, inner) = 0` from `x0` with inert variables pinned.

    A variable whose equation does not depend on the state at `x0` (an all-zero Jacobian row,
    such as the LIF's refractory clock at 0) would make Newton's system singular; its
    equation is replaced by $x_i - x_{0,i} = 0$, so it keeps its value and the Jacobian is
    regular (LU solves; `spikejax.solvers.root_find` with the implicit adjoint). Never
    raises: the `RESULTS` value is in the solution.
    """
    J0 = jax.jacfwd(residual)(x0, inner)
    inert = jax.lax.stop_gradient(jnp.all(J0 == 0, axis=-1))
    return root_find(
        _pinned,
        x0,
        (residual, inner, jax.lax.stop_gradient(x0), inert),
        max_steps=max_steps,
        throw=False,
    )


def _slaved_residual(z, args):
    model, x0, others, I, t = args
    return model.vector_field_array(t, x0.at[others].set(z), I)[others]


def _state_at_voltage_scalar(model, V, I, t, n_iter, rest):
    iv = _voltage_index(model)
    others = jnp.asarray([i for i in range(model.n_states) if i != iv], dtype=int)
    x0 = _initial_guess(model, V, rest)
    if model.n_states == 1:
        return x0
    sol = _solve_pinned(_slaved_residual, x0[others], (model, x0, others, I, t), max_steps=n_iter)
    # Not converged (e.g. no equilibrium of the slaved variables at this V): the last iterate;
    # callers check the residual of the non-voltage equations.
    return x0.at[others].set(sol.value)


def state_at_voltage(
    model: NeuronModel, V: ArrayLike, I: ArrayLike = 0.0, *, t: ArrayLike = 0.0, n_iter: int = 20
) -> Array:
    r"""The full state with each non-voltage variable at its own equilibrium for voltage `V`.

    Solves $f_z(V, z) = 0$ for the non-voltage variables $z$ by at most `n_iter` Newton steps
    (`spikejax.solvers.root_find`; a variable whose equation does not depend on the state,
    such as the LIF's refractory clock at 0, keeps its starting value; the implicit adjoint
    for gradients). Start:
    `model.steady_state_gates(V)` for the variables it covers, else `model.resting_state()`.

    **Returns:** an array of shape `(n_states, *V.shape)`. jit/vmap/grad-compatible.
    """
    V = jnp.asarray(V, dtype=_float_dtype())
    flat = _state_at_voltage_flat(model, V.reshape(-1), I, t, n_iter, rest_vector(model))
    return flat.T.reshape((model.n_states, *V.shape))


@eqx.filter_jit
def _state_at_voltage_flat(model, V, I, t, n_iter, rest):
    return jax.vmap(lambda v: _state_at_voltage_scalar(model, v, I, t, n_iter, rest))(V)


def reduced_rhs(
    model: NeuronModel, V: ArrayLike, I: ArrayLike = 0.0, *, t: ArrayLike = 0.0
) -> Array:
    r"""The reduced function $g(V) = f_V(V, z(V))$ whose roots are the equilibrium voltages.

    For conductance models this is $(I - I_\infty(V)) / C$.
    """
    V = jnp.asarray(V, dtype=_float_dtype())
    iv = _voltage_index(model)
    x = _state_at_voltage_flat(model, V.reshape(-1), I, t, 20, rest_vector(model))
    f = jax.vmap(lambda xx: model.vector_field_array(t, xx, I))(x)
    return f[:, iv].reshape(V.shape)


def _schur_slope(J: np.ndarray, iv: int) -> float:
    """$dg/dV = J_{VV} - J_{Vz} J_{zz}^{+} J_{zV}$ (implicit derivative of the reduced rhs)."""
    others = [i for i in range(J.shape[0]) if i != iv]
    if not others:
        return float(J[iv, iv])
    Jzz = J[np.ix_(others, others)]
    return float(J[iv, iv] - J[iv, others] @ np.linalg.pinv(Jzz) @ J[others, iv])


# ----- result type ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class FixedPoint:
    """One equilibrium of a single cell under constant input `I`.

    **Fields:** `state` (name -> float), `vector` (`(n,)` numpy array in `state_names` order),
    `jacobian` (`(n, n)`), `eigenvalues` (complex `(n,)`), `type` (`FixedPointType`),
    `stable` (all eigenvalue real parts clearly negative), `n_unstable` (number of unstable
    directions), `I` (the input current), `double_root` (found as a tangency of the reduced
    function, i.e. a saddle-node point; always `NON_HYPERBOLIC`).

    Variables whose Jacobian row and column are both exactly zero (a decoupled bookkeeping
    clock such as the LIF's refractory counter) add a trivial zero eigenvalue; they are
    excluded when deciding `type`, `stable` and `n_unstable` (their eigenvalue is still listed).
    """

    state: dict[str, float]
    vector: np.ndarray
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    type: FixedPointType
    stable: bool
    n_unstable: int
    I: float
    double_root: bool = False
    voltage_name: str = "V"

    @property
    def V(self) -> float:
        """The membrane potential of the equilibrium."""
        return self.state[self.voltage_name]

    @property
    def trace(self) -> float:
        """Trace of the Jacobian (sum of the eigenvalues)."""
        return float(np.trace(self.jacobian))

    @property
    def determinant(self) -> float:
        """Determinant of the Jacobian (product of the eigenvalues)."""
        return float(np.linalg.det(self.jacobian))

    def __repr__(self) -> str:
        st = ", ".join(f"{k}={v:.6g}" for k, v in self.state.items())
        return f"FixedPoint({st}; {self.type.value}, I={self.I:g})"


@eqx.filter_jit
def _jacobian_jit(model, x, I, t):
    return jax.jacfwd(lambda xx: model.vector_field_array(t, xx, I))(x)


def _active_indices(J: np.ndarray) -> list[int]:
    n = J.shape[0]
    return [i for i in range(n) if np.any(J[i, :] != 0) or np.any(J[:, i] != 0)] or list(range(n))


def make_fixed_point(
    model: NeuronModel,
    x: Any,
    I: float,
    *,
    t: float = 0.0,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    double_root: bool = False,
) -> FixedPoint:
    """A `FixedPoint` (Jacobian, eigenvalues, type) for the equilibrium state `x`."""
    xv = as_state_vector(model, x)
    f64 = lambda v: jnp.asarray(v, dtype=_float_dtype())  # noqa: E731
    J = np.asarray(_jacobian_jit(arrayify(model), xv, f64(I), f64(t)), dtype=float)
    ev = np.linalg.eigvals(J)
    active = _active_indices(J)
    ev_active = np.linalg.eigvals(J[np.ix_(active, active)])
    if not np.all(np.isfinite(ev)):
        raise ValueError(f"non-finite Jacobian at the equilibrium {np.asarray(xv)}")
    kind = (
        FixedPointType.NON_HYPERBOLIC if double_root else classify(ev_active, rtol=rtol, atol=atol)
    )
    xn = np.asarray(xv, dtype=float)
    return FixedPoint(
        state={k: float(xn[i]) for i, k in enumerate(model.state_names)},
        vector=xn,
        jacobian=J,
        eigenvalues=ev,
        type=kind,
        stable=kind.is_stable,
        n_unstable=unstable_dimension(ev_active, rtol=rtol, atol=atol),
        I=float(I),
        double_root=double_root,
        voltage_name=model.voltage_name,
    )


# ----- root finding on the reduced function -------------------------------------------------


def _default_V_range(model: NeuronModel) -> tuple[float, float]:
    if model.voltage_unit == "mV":
        return (-150.0, 100.0)
    return (-10.0, 10.0)


def _g_and_slope(model: NeuronModel, V, I, t, rest):
    """g(V), dg/dV (Schur complement), the non-voltage residual and the state at `V`."""
    iv = _voltage_index(model)
    x = _state_at_voltage_scalar(model, V, I, t, 20, rest)
    f = model.vector_field_array(t, x, I)
    J = jax.jacfwd(lambda xx: model.vector_field_array(t, xx, I))(x)
    if model.n_states == 1:
        return f[iv], J[iv, iv], 0.0 * V, x
    others = jnp.asarray([i for i in range(model.n_states) if i != iv], dtype=int)
    Jzz = J[others][:, others]
    slope = J[iv, iv] - J[iv, others] @ _robust_solve(Jzz, J[others, iv])
    return f[iv], slope, jnp.max(jnp.abs(f[others])), x


# Model and current are traced arguments: repeated calls (other currents or parameter values
# of the same model class) reuse the compiled code.
_g_scalar = eqx.filter_jit(_g_and_slope)
_g_grid = eqx.filter_jit(jax.vmap(_g_and_slope, in_axes=(None, 0, None, None, None)))


class _Reduced:
    """Evaluators of g(V), g'(V) for one model and current (host-side root finding)."""

    def __init__(self, model: NeuronModel, I: float, t: float):
        self.model = arrayify(model)
        self.I = jnp.asarray(I, dtype=_float_dtype())
        self.t = jnp.asarray(t, dtype=_float_dtype())
        self.rest = rest_vector(model)

    def grid(self, V: np.ndarray):
        out = _g_grid(self.model, jnp.asarray(V, dtype=_float_dtype()), self.I, self.t, self.rest)
        return tuple(np.asarray(o) for o in out)

    def __call__(self, V: float):
        Vj = jnp.asarray(V, dtype=_float_dtype())
        g, s, r, x = _g_scalar(self.model, Vj, self.I, self.t, self.rest)
        return float(g), float(s), float(r), np.asarray(x)


def _bisection_residual(V, args):
    model, I, t, rest, which = args
    g, slope, _, _ = _g_and_slope(model, V, I, t, rest)
    return jnp.where(which == 0, g, slope)


@eqx.filter_jit
def _bisect_jit(model, I, t, rest, which, a, b):
    dtype = a.dtype
    # The bracket shrinks to a few ulps of V; the residual test is left to the callers (g has
    # round-off of its own terms' size), so the solve runs until the bracket is that small.
    eps = float(jnp.finfo(dtype).eps)
    solver = optx.Bisection(rtol=4 * eps, atol=4 * eps)
    sol = root_find(
        _bisection_residual,
        0.5 * (a + b),
        (model, I, t, rest, which),
        solver=solver,
        options={"lower": a, "upper": b},
        max_steps=200,
        throw=False,
    )
    return sol.value


def _bisect(red: _Reduced, a: float, b: float, which: int) -> float:
    """A sign change of g (`which=0`) or of g' (`which=1`) on [a, b], located by bisection
    (`optimistix.Bisection` through `spikejax.solvers.root_find`) to a few ulps."""
    f = lambda v: jnp.asarray(v, dtype=_float_dtype())  # noqa: E731
    out = _bisect_jit(red.model, red.I, red.t, red.rest, jnp.asarray(which), f(a), f(b))
    return float(out)


def _refine_root(red: _Reduced, a: float, b: float, ga: float, gb: float) -> float:
    """The root of g in a sign-change bracket [a, b]."""
    if ga == 0.0:
        return a
    if gb == 0.0:
        return b
    return _bisect(red, a, b, 0)


def _refine_extremum(red: _Reduced, a: float, b: float) -> float:
    """A zero of g' on [a, b], i.e. the extremum of g there."""
    _, sa, _, _ = red(a)
    _, sb, _, _ = red(b)
    if not (np.sign(sa) != np.sign(sb)):
        # No slope sign change: the minimum of |g| is at an end point.
        ga, gb = abs(red(a)[0]), abs(red(b)[0])
        return a if ga <= gb else b
    if sa == 0.0:
        return a
    if sb == 0.0:
        return b
    return _bisect(red, a, b, 1)


def _field_residual(x, args):
    model, I, t = args
    return model.vector_field_array(t, x, I)


def equilibrium_solve(model: NeuronModel, x0, I, *, t=0.0, max_steps: int = 100):
    r"""An equilibrium $f(x, I) = 0$ of a single cell by Newton's method from the state vector
    `x0` (`spikejax.solvers.root_find`: inert variables such as the LIF's refractory clock
    stay put; the implicit adjoint). jit-, vmap- and grad-safe.

    **Returns:** the `optimistix.Solution` (`value`, `result`: a `spikejax.solvers.RESULTS`),
    never raising: callers decide what a failed solve means.
    """
    x0 = jnp.asarray(x0, dtype=_float_dtype())
    return _solve_pinned(_field_residual, x0, (model, I, t), max_steps=max_steps)


@eqx.filter_jit
def _newton_nd(model, x0, I, t):
    sol = equilibrium_solve(model, x0, I, t=t)
    return sol.value, model.vector_field_array(t, sol.value, I), sol.result


def fixed_points(
    model: NeuronModel,
    I: ArrayLike = 0.0,
    *,
    params: dict[str, Any] | None = None,
    V_range: tuple[float, float] | None = None,
    n_grid: int = 4001,
    tol: float = 1e-9,
    starts: Sequence[Any] | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    t: float = 0.0,
) -> list[FixedPoint]:
    r"""All equilibria of a single cell under constant input `I`, sorted by voltage.

    **Arguments:**

    - `model`: a single-cell `NeuronModel`; `params` optionally overrides parameters by name
      (`model.replace(**params)`; unknown names raise `ValueError`).
    - `I`: constant input current (finite scalar, in the model's current unit).
    - `V_range`: `(lo, hi)` voltage search interval (default `(-150, 100)` for models in mV,
      `(-10, 10)` for dimensionless ones); `n_grid` grid points (>= 10) for bracketing.
    - `tol`: a local minimum of $|g|$ whose refined value is $\le$ `tol` $\cdot \max|g|$ on the
      grid is a double root (tangency, labelled `NON_HYPERBOLIC`).
    - `starts`: optional initial states (dicts or arrays) for n-D Newton, the fallback
      for models whose equilibria do not reduce to the voltage.
    - `rtol`, `atol`: tolerances of `classify` for the eigenvalues.

    **Returns:** a list of `FixedPoint`, ascending in the membrane potential. Hybrid models:
    only equilibria of the continuous flow strictly below threshold.

    **Raises:** `ValueError` for unknown parameter names, non-finite parameters or current, a
    population (non-scalar) model, or an empty/inverted/non-finite `V_range`.
    """
    require_float64("spikejax.analysis.fixed_points")
    model = check_model(_with_params(check_model(model), params))
    I = check_current(I)
    lo, hi = check_interval("V_range", _default_V_range(model) if V_range is None else V_range)
    if not (isinstance(n_grid, (int, np.integer)) and n_grid >= 10):
        raise ValueError(f"n_grid must be an integer >= 10, got {n_grid!r}")
    if not (tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")

    red = _Reduced(model, I, float(t))
    Vg = np.linspace(lo, hi, int(n_grid))
    g, _, resid, _ = red.grid(Vg)
    finite = np.isfinite(g)
    g_scale = float(np.max(np.abs(g[finite]))) if np.any(finite) else 1.0
    g_scale = g_scale if g_scale > 0 else 1.0
    tol_abs = tol * g_scale

    roots: list[tuple[float, bool]] = []  # (V, is_double_root)
    for k in range(len(Vg) - 1):
        if not (finite[k] and finite[k + 1]):
            continue
        if g[k] == 0.0:
            # An exact zero on the grid: a double root if g keeps its sign across it.
            touch = k > 0 and finite[k - 1] and np.sign(g[k - 1]) == np.sign(g[k + 1]) != 0
            roots.append((Vg[k], bool(touch)))
        elif g[k] * g[k + 1] < 0:
            roots.append((_refine_root(red, Vg[k], Vg[k + 1], g[k], g[k + 1]), False))
    if finite[-1] and g[-1] == 0.0:
        roots.append((Vg[-1], False))

    # Tangencies: interior local minima of |g| without a sign change nearby.
    for k in range(1, len(Vg) - 1):
        gm, g0, gp = g[k - 1], g[k], g[k + 1]
        if not (finite[k - 1] and finite[k] and finite[k + 1]):
            continue
        if not (np.sign(gm) == np.sign(g0) == np.sign(gp) != 0):
            continue
        if not (abs(g0) <= abs(gm) and abs(g0) < abs(gp)):
            continue
        d2 = gm - 2 * g0 + gp
        # The parabola through the three points must dip to within its own curvature of 0.
        pred_min = g0 - (gp - gm) ** 2 / (8 * d2) if d2 != 0 else g0
        if abs(pred_min) > abs(d2) + tol_abs:
            continue
        vstar = _refine_extremum(red, Vg[k - 1], Vg[k + 1])
        gs, _, _, _ = red(vstar)
        if abs(gs) <= tol_abs:
            roots.append((vstar, True))
        elif np.sign(gs) != np.sign(g0):
            roots.append((_refine_root(red, Vg[k - 1], vstar, gm, gs), False))
            roots.append((_refine_root(red, vstar, Vg[k + 1], gs, gp), False))

    roots.sort()
    results: list[FixedPoint] = []
    seen: list[np.ndarray] = []
    for V, dbl in roots:
        gV, _, rz, x = red(V)
        # The reduction must hold (the non-voltage equations solved) at the root.
        if not (np.isfinite(gV) and rz <= max(tol_abs, 1e-8 * max(1.0, np.max(np.abs(x))))):
            continue
        if _is_duplicate(x, seen):
            continue
        seen.append(x)
        results.append(make_fixed_point(model, x, I, t=t, rtol=rtol, atol=atol, double_root=dbl))

    if starts:
        for s in starts:
            x0 = as_state_vector(model, s)
            f64 = lambda v: jnp.asarray(v, dtype=_float_dtype())  # noqa: E731
            x, f, result = _newton_nd(arrayify(model), x0, f64(I), f64(t))
            x, f = np.asarray(x), np.asarray(f)
            converged = result == RESULTS.successful
            if not (
                converged and np.all(np.isfinite(f)) and np.max(np.abs(f)) <= max(tol_abs, 1e-10)
            ):
                continue
            if _is_duplicate(x, seen):
                continue
            seen.append(x)
            results.append(make_fixed_point(model, x, I, t=t, rtol=rtol, atol=atol))

    if model.is_hybrid:
        results = [
            fp
            for fp in results
            if float(model.threshold_distance(model.from_vector(jnp.asarray(fp.vector)))) < 0
        ]
    iv = _voltage_index(model)
    results.sort(key=lambda fp: fp.vector[iv])
    return results


def _is_duplicate(x: np.ndarray, seen: list[np.ndarray]) -> bool:
    for s in seen:
        if np.all(np.abs(x - s) <= 1e-9 * np.maximum(1.0, np.abs(s))):
            return True
    return False
