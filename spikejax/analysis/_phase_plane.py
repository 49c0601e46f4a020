r"""Phase-plane tools for planar models and the phase line of one-dimensional models.

Planar tools take a model with exactly two state variables (FitzHugh-Nagumo, Izhikevich,
`INaPIK`, the planar HH reduction of `spikejax.analysis.reduce_hh`); the first state variable
is the horizontal axis $x$, the second the vertical axis $y$. Trajectories, separatrices and
basins integrate the continuous flow with diffrax (Tsit5, adaptive steps). For hybrid models
the flow is stopped at the spike threshold (a trajectory ends when it spikes).

Precision: `separatrix` and `phase_line` (equilibria, eigenvectors) need float64 and raise a
`ValueError` naming `jax_enable_x64` otherwise; `vector_field_grid`, `nullclines`,
`trajectory` and `basin_of_attraction` draw in either precision.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike

from .._validation import check_finite, require_float64
from ..models._base import NeuronModel
from ..solvers._root import RESULTS, root_find
from ..solvers._schemes import default_tolerances
from ._equilibria import (
    FixedPoint,
    arrayify,
    as_state_vector,
    check_current,
    check_interval,
    check_model,
    fixed_points,
)

__all__ = [
    "PhaseLine",
    "basin_of_attraction",
    "nullclines",
    "phase_line",
    "separatrix",
    "trajectory",
    "vector_field_grid",
]


def _dtype():
    return jnp.result_type(float)


def check_planar(model: Any) -> NeuronModel:
    model = check_model(model)
    if model.n_states != 2:
        raise ValueError(
            f"planar tools need a model with 2 state variables; {type(model).__name__} has "
            f"{model.n_states} {list(model.state_names)} (reduce it first, e.g. "
            "spikejax.analysis.reduce_hh for HodgkinHuxley)"
        )
    return model


def _check_n(name: str, n: Any, minimum: int) -> int:
    if not (isinstance(n, (int, np.integer)) and n >= minimum):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


@eqx.filter_jit
def _field_on_points(model, X, I):
    """Vector field at points `X` of shape (k, n) -> (k, n)."""
    return jax.vmap(lambda x: model.vector_field_array(0.0, x, I))(X)


def _field(model: NeuronModel, X: np.ndarray, I: float) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    flat = X.reshape(-1, X.shape[-1])
    out = _field_on_points(arrayify(model), jnp.asarray(flat), jnp.asarray(I, dtype=_dtype()))
    return np.asarray(out).reshape(X.shape)


# ----- vector field and nullclines ----------------------------------------------------------


def vector_field_grid(
    model: NeuronModel, I: ArrayLike = 0.0, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0), *, n: int = 21
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""The vector field $(\dot x, \dot y)$ on an `n` x `n` grid of the box `xlim` x `ylim`.

    **Returns:** `(X, Y, U, W)`, each `(n, n)` (`numpy.meshgrid` "xy" indexing), with
    `U` $= \dot x$, `W` $= \dot y$ at `(X, Y)`.
    """
    model = check_planar(model)
    I = check_current(I)
    xlim, ylim = check_interval("xlim", xlim), check_interval("ylim", ylim)
    n = _check_n("n", n, 2)
    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    F = _field(model, np.stack([X, Y], axis=-1), I)
    return X, Y, F[..., 0], F[..., 1]


def _affine_coefficients(fk, x, ylim):
    """If f(x, y) = A(x) + B(x) y on the box (checked at 4 uneven y levels), (A, B); else None."""
    ys = ylim[0] + (ylim[1] - ylim[0]) * np.array([0.0, 0.31, 0.67, 1.0])
    vals = np.stack([fk(x, np.full_like(x, yv)) for yv in ys])  # (4, len(x))
    if not np.all(np.isfinite(vals)):
        return None
    B = (vals[1] - vals[0]) / (ys[1] - ys[0])
    A = vals[0] - B * ys[0]
    pred = A[None, :] + B[None, :] * ys[:, None]
    scale = np.max(np.abs(vals), axis=0) + np.finfo(float).tiny
    if np.all(np.abs(pred - vals) <= 1e-10 * scale):
        return A, B
    return None


def _split_curve(x, y, ok):
    """Pieces of the polyline (x, y) where `ok` holds, as a list of (k, 2) arrays."""
    pieces, start = [], None
    for i, good in enumerate(list(ok) + [False]):
        if good and start is None:
            start = i
        elif not good and start is not None:
            if i - start >= 2:
                pieces.append(np.column_stack([x[start:i], y[start:i]]))
            start = None
    return pieces


def _explicit_curve(fk, u, vlim, swap):
    """Nullcline pieces v(u) of an equation affine in v, or None if it is not affine in v."""
    coef = _affine_coefficients(fk, u, vlim)
    if coef is None:
        return None
    A, B = coef
    pieces = []
    Bscale = np.max(np.abs(B))
    if Bscale == 0 or np.max(np.abs(B)) <= 1e-14 * (np.max(np.abs(A)) + 1e-300):
        # f does not depend on v: vertical (or horizontal) lines at the roots of A(u).
        for k in range(len(u) - 1):
            if A[k] == 0 or A[k] * A[k + 1] < 0:
                u0 = u[k] if A[k] == 0 else u[k] - A[k] * (u[k + 1] - u[k]) / (A[k + 1] - A[k])
                line = np.column_stack([np.full(2, u0), np.asarray(vlim, dtype=float)])
                pieces.append(line[:, ::-1] if swap else line)
        return pieces
    with np.errstate(divide="ignore", invalid="ignore"):
        v = -A / B
    ok = np.isfinite(v) & (v >= vlim[0]) & (v <= vlim[1]) & (B != 0)
    # Split where B changes sign (the curve jumps through infinity).
    sign_change = np.concatenate([[False], np.sign(B[1:]) != np.sign(B[:-1])])
    ok = ok & ~sign_change
    for p in _split_curve(u, v, ok):
        pieces.append(p[:, ::-1] if swap else p)
    return pieces


def _along_normal(s, args):
    model, I, k, p0, d = args
    return model.vector_field_array(0.0, p0 + s * d, I)[k]


@eqx.filter_jit
def _project_to_zero(model, I, k, P, scale):
    r"""Each point of `P` (`(m, 2)`) moved along the gradient of $f_k$ (in coordinates
    normalised by the box size `scale`) to $f_k = 0$: a scalar Newton solve
    (`spikejax.solvers.root_find`) per point for the normalised distance $s$. A point whose
    solve fails, or that would move more than 5% of the box (the contour vertex is within one
    grid cell of the curve), keeps its place."""
    dtype = P.dtype

    def one(p0):
        g = jax.grad(lambda p: model.vector_field_array(0.0, p, I)[k])(p0)
        gn = g * scale
        norm = jnp.sqrt(jnp.sum(gn * gn))
        ok_dir = jnp.isfinite(norm) & (norm > 0)
        d = jnp.where(ok_dir, gn / jnp.where(ok_dir, norm, 1.0), 0.0) * scale
        sol = root_find(
            _along_normal,
            jnp.zeros((), dtype),
            (model, I, k, p0, d),
            max_steps=16,
            throw=False,
        )
        s = sol.value
        good = ok_dir & (sol.result == RESULTS.successful) & jnp.isfinite(s) & (jnp.abs(s) <= 0.05)
        return jnp.where(good, p0 + s * d, p0)

    return jax.vmap(one)(P)


def nullclines(
    model: NeuronModel,
    I: ArrayLike = 0.0,
    xlim=(-1.0, 1.0),
    ylim=(-1.0, 1.0),
    *,
    n: int = 801,
) -> dict[str, list[np.ndarray]]:
    r"""The nullclines of a planar model in the box `xlim` x `ylim`.

    For each state variable $k$ the curve $f_k(x, y) = 0$, as a list of polylines (arrays of
    shape `(m, 2)` of `(x, y)` points). Exact where the equation is explicit: when $f_k$ is
    affine in $y$ (checked numerically at four levels), $y = -A(x)/B(x)$ on `n` values of $x$;
    else when affine in $x$, $x = -A(y)/B(y)$; an equation independent of one variable gives
    vertical or horizontal lines. Otherwise marching squares (contourpy) on an `n` x `n` grid,
    with each vertex then projected onto $f_k = 0$ by a Newton solve along the gradient.

    **Returns:** `{state_name: [polyline, ...]}` (the curve where that variable is stationary).
    """
    model = check_planar(model)
    I = check_current(I)
    xlim, ylim = check_interval("xlim", xlim), check_interval("ylim", ylim)
    n = _check_n("n", n, 3)
    am = arrayify(model)
    Ij = jnp.asarray(I, dtype=_dtype())
    out: dict[str, list[np.ndarray]] = {}
    xs, ys = np.linspace(*xlim, n), np.linspace(*ylim, n)

    for k, name in enumerate(model.state_names):

        def fk(x, y, k=k):
            return _field(model, np.stack([x, y], axis=-1), I)[..., k]

        def fk_swapped(y, x, k=k):
            return fk(x, y)

        pieces = _explicit_curve(fk, xs, ylim, swap=False)
        if pieces is None:
            pieces = _explicit_curve(fk_swapped, ys, xlim, swap=True)
        if pieces is None:
            pieces = _contour_pieces(am, Ij, k, xs, ys, xlim, ylim)
        out[name] = pieces
    return out


def _contour_pieces(model, I, k, xs, ys, xlim, ylim):
    import contourpy

    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(_field_on_points(model, jnp.asarray(np.stack([X, Y], -1).reshape(-1, 2)), I))[
        :, k
    ].reshape(X.shape)
    Z = np.where(np.isfinite(Z), Z, np.nan)
    gen = contourpy.contour_generator(X, Y, Z)
    lines = gen.lines(0.0)

    scale = jnp.asarray([xlim[1] - xlim[0], ylim[1] - ylim[0]], dtype=_dtype())
    pieces = []
    for line in lines:
        line = np.asarray(line, dtype=float)
        if len(line) < 2:
            continue
        P = jnp.asarray(line, dtype=_dtype())
        pieces.append(np.asarray(_project_to_zero(model, I, k, P, scale), dtype=float))
    return pieces


# ----- integration ---------------------------------------------------------------------------


_MAX_STEPS = 100_000


@eqx.filter_jit
def _integrate_batch(model, I, X0, ts, sign, lo, hi, rtol, atol):
    """Integrate `sign * f` from each row of X0 at ts[0], saving at ts; the flow is frozen
    (f = 0) outside the box [lo, hi] and, for hybrid models, at or beyond the threshold."""
    hybrid = model.is_hybrid

    def rhs(t, x, args):
        dx = sign * model.vector_field_array(t, x, I)
        inside = jnp.all(x >= lo) & jnp.all(x <= hi)
        if hybrid:
            inside = inside & (model.threshold_distance(model.from_vector(x)) < 0)
        return jnp.where(inside, dx, jnp.zeros_like(dx))

    def one(x0):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(rhs),
            diffrax.Tsit5(),
            t0=ts[0],
            t1=ts[-1],
            dt0=None,
            y0=x0,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            max_steps=_MAX_STEPS,
            throw=False,
        )
        return sol.ys

    return jax.vmap(one)(X0)


def _stopped_mask(model, ys, lo, hi):
    """True where a saved state lies outside the box or past a hybrid model's threshold."""
    ys = np.asarray(ys)
    bad = ~np.all(np.isfinite(ys), axis=-1)
    bad |= np.any(ys < lo, axis=-1) | np.any(ys > hi, axis=-1)
    if model.is_hybrid:
        td = np.asarray(
            jax.vmap(lambda x: model.threshold_distance(model.from_vector(x)))(
                jnp.asarray(np.where(np.isfinite(ys), ys, 0.0).reshape(-1, ys.shape[-1]))
            )
        ).reshape(ys.shape[:-1])
        bad |= td >= 0
    # Once stopped, stays stopped.
    return np.maximum.accumulate(bad, axis=-1)


def _bounds(model, bounds):
    lo = np.full(model.n_states, -np.inf)
    hi = np.full(model.n_states, np.inf)
    if bounds:
        for name, lim in bounds.items():
            if name not in model.state_names:
                raise ValueError(
                    f"bounds: {type(model).__name__} has no state variable {name!r}; "
                    f"state variables: {list(model.state_names)}"
                )
            lo[model.state_names.index(name)], hi[model.state_names.index(name)] = check_interval(
                f"bounds[{name!r}]", lim
            )
    return lo, hi


def trajectory(
    model: NeuronModel,
    y0: Any,
    I: ArrayLike = 0.0,
    *,
    t1: float,
    t0: float = 0.0,
    n_save: int = 1001,
    rtol: float | None = None,
    atol: float | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""A trajectory of the continuous flow from `y0` under constant `I` (diffrax Tsit5).

    **Arguments:** `y0` (state dict or array), `t1` (> `t0`), `n_save` equally spaced save
    times $t_0 + k (t_1 - t_0)/(n_\mathrm{save} - 1)$, `rtol`/`atol` of the PID controller
    (default `spikejax.solvers.default_tolerances` of the dtype: 1e-8/1e-10 in float64),
    optional `bounds` `{name: (lo, hi)}`.

    **Returns:** `(ts, ys)`, `ys` of shape `(n_save, n_states)`. The flow, not a hybrid
    reset, is integrated: once the trajectory leaves `bounds` or (hybrid models) reaches the
    spike threshold it stops; the first row saved after that holds the stopping point (just
    past the boundary) and the later rows are NaN.
    """
    model = check_model(model)
    I = check_current(I)
    n_save = _check_n("n_save", n_save, 2)
    t0, t1 = check_interval("(t0, t1)", (t0, t1))
    x0 = as_state_vector(model, y0)
    check_finite("y0", x0)
    lo, hi = _bounds(model, bounds)
    ts = t0 + (t1 - t0) * np.arange(n_save) / (n_save - 1)
    ys = _run(model, I, x0[None], ts, 1.0, lo, hi, rtol, atol)[0]
    stop = _stopped_mask(model, ys, lo, hi)
    # Keep the first point at/past the threshold or box (where the flow froze), for plotting.
    first = int(np.argmax(stop)) if stop.any() else None
    out = np.where(stop[:, None], np.nan, ys)
    if first is not None and np.all(np.isfinite(ys[first])):
        out[first] = ys[first]
    ys = out
    return ts, ys


def _run(model, I, X0, ts, sign, lo, hi, rtol, atol):
    # None: the dtype's defaults, (1e-8, 1e-10) in float64 and (1e-5, 1e-6) in float32.
    r0, a0 = default_tolerances(_dtype())
    rtol, atol = (r0 if rtol is None else rtol), (a0 if atol is None else atol)
    f64 = lambda v: jnp.asarray(v, dtype=_dtype())  # noqa: E731
    out = _integrate_batch(
        arrayify(model), f64(I), f64(X0), f64(ts), f64(sign), f64(lo), f64(hi), f64(rtol), f64(atol)
    )
    return np.asarray(out)


# ----- separatrix ----------------------------------------------------------------------------


def _as_fixed_point(model, point, I) -> FixedPoint:
    if isinstance(point, FixedPoint):
        return point
    from ._equilibria import make_fixed_point

    return make_fixed_point(model, as_state_vector(model, point), check_current(I or 0.0))


def separatrix(
    model: NeuronModel,
    saddle: Any,
    I: ArrayLike | None = None,
    *,
    bounds: dict[str, tuple[float, float]] | None = None,
    delta: float | None = None,
    t_max: float | None = None,
    n_save: int = 2001,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> list[np.ndarray]:
    r"""The stable manifold of a saddle with one stable direction (the separatrix in a plane).

    Starts at $x^* \pm \delta\, v_s$ ($v_s$ the stable eigenvector, normalised to unit length
    in the units of `bounds`' box or of the state) and integrates backward in time,
    $\dot x = -f(x)$, for `t_max` (default $25 / |\lambda_s|$, an amplification of $e^{25}$)
    or until the branch leaves `bounds`.

    **Arguments:** `saddle` (a `FixedPoint` or an equilibrium state), `I` (default the
    `FixedPoint`'s current), `bounds` `{name: (lo, hi)}`, `delta` (default $10^{-6}$ of the
    box size, or of $\max(1, |x^*|)$ without bounds).

    **Returns:** two branches, each an `(m, n_states)` array starting at the saddle and
    ordered backward in time, ending at the first point past the box edge (where the
    integration stopped) or at `t_max`.

    **Raises:** `ValueError` if the point is not an equilibrium with exactly one eigenvalue of
    negative real part, which must be real.
    """
    require_float64("spikejax.analysis.separatrix")
    model = check_model(model)
    fp = _as_fixed_point(model, saddle, I)
    I = fp.I if I is None else check_current(I)
    x = np.asarray(fp.vector, dtype=float)
    resid = np.max(np.abs(_field(model, x[None], I)[0]))
    if not (resid <= 1e-8 * max(1.0, np.max(np.abs(x)))):
        raise ValueError(f"saddle is not an equilibrium at I={I} (|f| = {resid:.3g})")
    J = np.asarray(fp.jacobian)
    ev, evec = np.linalg.eig(J)
    re = np.real(ev)
    stable = np.flatnonzero(re < 0)
    if len(stable) != 1 or abs(np.imag(ev[stable[0]])) > 0 or len(ev) - 1 != np.sum(re > 0):
        raise ValueError(
            f"separatrix needs a saddle with one real stable eigenvalue and the others "
            f"unstable; eigenvalues are {ev}"
        )
    lam = float(re[stable[0]])
    lo, hi = _bounds(model, bounds)
    scale = np.where(np.isfinite(hi - lo), hi - lo, np.maximum(1.0, np.abs(x)))
    v = np.real(evec[:, stable[0]]) / scale
    v = v / np.linalg.norm(v) * scale
    if delta is None:
        delta = 1e-6
    if not (delta > 0):
        raise ValueError(f"delta must be > 0, got {delta!r}")
    if t_max is None:
        t_max = 25.0 / abs(lam)
    if not (t_max > 0):
        raise ValueError(f"t_max must be > 0, got {t_max!r}")
    n_save = _check_n("n_save", n_save, 2)
    ts = t_max * np.arange(n_save) / (n_save - 1)
    X0 = np.stack([x + delta * v, x - delta * v])
    ys = _run(model, I, X0, ts, -1.0, lo, hi, rtol, atol)
    branches = []
    for b in range(2):
        # The backward flow is not stopped at a hybrid threshold (the manifold is of the flow).
        stop = _stopped_mask_box(ys[b], lo, hi)
        keep = ~stop
        # Keep the exit point (the flow froze just past the box edge) so the curve reaches it.
        if stop.any() and np.all(np.isfinite(ys[b][np.argmax(stop)])):
            keep[np.argmax(stop)] = True
        branches.append(np.concatenate([x[None], ys[b][keep]]))
    return branches


def _stopped_mask_box(ys, lo, hi):
    bad = ~np.all(np.isfinite(ys), axis=-1)
    bad |= np.any(ys < lo, axis=-1) | np.any(ys > hi, axis=-1)
    return np.maximum.accumulate(bad)


# ----- basin of attraction ------------------------------------------------------------------


def basin_of_attraction(
    model: NeuronModel,
    equilibrium: Any,
    I: ArrayLike | None = None,
    *,
    xlim=(-1.0, 1.0),
    ylim=(-1.0, 1.0),
    n: int = 41,
    t1: float | None = None,
    tol: float = 1e-3,
    rtol: float | None = None,
    atol: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Which points of an `n` x `n` grid of the box converge to a stable equilibrium.

    Every grid point is integrated forward (vmapped diffrax solve) to `t1` (default
    $40 / \min|\mathrm{Re}\,\lambda|$, the slowest decay amplified $e^{40}$); a point belongs to
    the basin when its final state is within `tol` of the equilibrium, distances measured
    relative to the box size. Hybrid models: a trajectory that reaches the spike threshold
    is not in the basin.

    **Returns:** `(X, Y, inside)`, each `(n, n)` ("xy" indexing); `inside` is boolean.
    """
    model = check_planar(model)
    fp = _as_fixed_point(model, equilibrium, I)
    I = fp.I if I is None else check_current(I)
    if not fp.stable:
        raise ValueError(f"basin_of_attraction needs a stable equilibrium, got a {fp.type.value}")
    xlim, ylim = check_interval("xlim", xlim), check_interval("ylim", ylim)
    n = _check_n("n", n, 2)
    if not (tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if t1 is None:
        re = np.real(fp.eigenvalues)
        t1 = 40.0 / float(np.min(np.abs(re[re != 0])))
    if not (t1 > 0):
        raise ValueError(f"t1 must be > 0, got {t1!r}")
    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    X0 = np.stack([X.ravel(), Y.ravel()], axis=1)
    lo, hi = np.full(2, -np.inf), np.full(2, np.inf)
    ys = _run(model, I, X0, np.array([0.0, t1]), 1.0, lo, hi, rtol, atol)[:, -1]
    scale = np.array([xlim[1] - xlim[0], ylim[1] - ylim[0]])
    dist = np.max(np.abs(ys - fp.vector[None]) / scale, axis=1)
    inside = np.isfinite(dist) & (dist <= tol)
    if model.is_hybrid:
        td = np.asarray(
            jax.vmap(lambda x: model.threshold_distance(model.from_vector(x)))(
                jnp.asarray(np.where(np.isfinite(ys), ys, 0.0))
            )
        )
        inside &= td < 0
    return X, Y, inside.reshape(X.shape)


# ----- phase line (1-D models) --------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class PhaseLine:
    r"""The phase line of a one-dimensional model $\dot V = f(V)$.

    **Fields:** `V` and `dVdt` (the curve on a grid), `fixed_points` (list of `FixedPoint`),
    `intervals` (list of `(lo, hi, direction)` between consecutive fixed points and the ends
    of the range, `direction` = +1 for increasing $V$, -1 for decreasing), `threshold` (the
    spike threshold of a hybrid model, else None).
    """

    V: np.ndarray
    dVdt: np.ndarray
    fixed_points: list[FixedPoint]
    intervals: list[tuple[float, float, int]]
    threshold: float | None


def phase_line(
    model: NeuronModel,
    I: ArrayLike = 0.0,
    *,
    V_range: tuple[float, float] | None = None,
    n: int = 1001,
    fixed_point_kwargs: dict[str, Any] | None = None,
) -> PhaseLine:
    """The phase line of a one-dimensional model (e.g. `INaP`): equilibria and flow direction.

    For hybrid models only equilibria below threshold are listed (as from `fixed_points`);
    the drawn range is `V_range` (default: `fixed_points`' default search range).
    """
    require_float64("spikejax.analysis.phase_line")
    model = check_model(model)
    if model.n_states != 1:
        raise ValueError(
            f"phase_line needs a one-dimensional model; {type(model).__name__} has "
            f"{model.n_states} state variables"
        )
    I = check_current(I)
    from ._equilibria import _default_V_range

    lo, hi = check_interval("V_range", _default_V_range(model) if V_range is None else V_range)
    n = _check_n("n", n, 3)
    fps = fixed_points(model, I, V_range=(lo, hi), **(fixed_point_kwargs or {}))
    V = np.linspace(lo, hi, n)
    dV = _field(model, V[:, None], I)[:, 0]
    edges = [lo] + [fp.vector[0] for fp in fps if lo < fp.vector[0] < hi] + [hi]
    intervals = []
    for a, b in zip(edges[:-1], edges[1:]):
        mid = 0.5 * (a + b)
        s = float(_field(model, np.array([[mid]]), I)[0, 0])
        intervals.append((float(a), float(b), int(np.sign(s))))
    threshold = None
    if model.is_hybrid:
        # Distance to threshold is V - V_th for the 1-D hybrid models.
        threshold = float(-model.threshold_distance(model.from_vector(jnp.zeros(1))))
    return PhaseLine(V=V, dVdt=dV, fixed_points=fps, intervals=intervals, threshold=threshold)
