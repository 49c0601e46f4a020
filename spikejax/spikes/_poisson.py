"""Homogeneous Poisson spike trains (rates in Hz, times in ms)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._validation import (
    check_finite,
    check_key,
    check_nonnegative,
    check_positive,
    is_concrete,
)

#: The most values one call generates (2**28 float32/bool values: 256 Mi, 0.25-1 GiB).
_MAX_VALUES = 2**28


def _cells(shape, rate) -> tuple[int, ...]:
    """The broadcast shape of `shape` and `rate`; `ValueError` naming both if they clash."""
    try:
        return tuple(np.broadcast_shapes(tuple(shape), jnp.shape(rate)))
    except (TypeError, ValueError):
        raise ValueError(
            f"rate of shape {jnp.shape(rate)} does not broadcast to shape={shape!r}"
        ) from None


def _check_size(where: str, size: float, what: str) -> None:
    if not (size <= _MAX_VALUES):
        raise ValueError(
            f"{where}: {size:.3g} {what} exceed the limit of one call ({_MAX_VALUES}); "
            "split the run into shorter calls or fewer cells"
        )


def poisson_spikes(
    rate: ArrayLike, duration: float, dt: float, *, key, shape: tuple[int, ...] = ()
) -> Array:
    r"""Bernoulli approximation of a Poisson train on a time grid.

    For each of the `round(duration / dt)` steps and each cell, a spike occurs when a uniform
    $r \sim U[0, 1)$ satisfies $r < \lambda\,\Delta t$, with $\lambda$ = `rate` (Hz) and
    $\Delta t$ = `dt` (ms, converted to s). Exact in the limit $\lambda\Delta t \to 0$; the
    count per step is at most one, so the variance is reduced by the factor $1 - \lambda\Delta t$.

    **Arguments:** `rate` (Hz, >= 0, broadcastable to `shape`), `duration` and `dt` (ms),
    `key` (PRNG key), `shape` (the cells).
    **Returns:** a boolean array `(n_steps, *shape)`; step $k$ covers $[k\,dt, (k+1)\,dt)$.
    **Raises:** `ValueError` if `rate * dt >= 1` (more than one spike per step expected),
    or on non-positive `duration`/`dt`, negative `rate`.
    """
    check_positive("duration", duration, "ms")
    check_positive("dt", dt, "ms")
    check_nonnegative("rate", rate, "Hz")
    if is_concrete(rate):
        p_max = float(np.max(np.asarray(rate, float))) * float(dt) / 1000.0
        if not (p_max < 1.0):
            raise ValueError(
                f"rate * dt must be < 1 (the probability of a spike per step), got "
                f"rate={float(np.max(np.asarray(rate, float)))} Hz * dt={dt} ms = {p_max}; "
                "use a smaller dt or poisson_spike_times"
            )
    if not (float(dt) <= float(duration)):
        raise ValueError(f"dt must be <= duration, got dt={dt} ms, duration={duration} ms")
    check_key("key", key)
    n_steps = int(round(float(duration) / float(dt)))
    shape = _cells(shape, rate)
    _check_size("poisson_spikes", n_steps * math.prod(shape), "steps x cells")
    p = jnp.asarray(rate) * (dt / 1000.0)
    u = jax.random.uniform(key, (n_steps, *shape))
    return u < p


def poisson_spike_times(
    rate: ArrayLike, duration: float, *, key, shape: tuple[int, ...] = (), t0: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact homogeneous Poisson spike times on $[t_0, t_0 + T)$ (no time grid).

    Inter-spike intervals are independent exponentials of mean $1/\lambda$; the times are
    their cumulative sums that fall inside the interval. ISIs are drawn in blocks until every
    train has passed $t_0 + T$, so no spike is ever cut off.

    **Arguments:** `rate` (Hz, >= 0), `duration` T (ms), `key`, `shape`, `t0` (ms).
    **Returns:** `(times, counts)`: `times` of shape `(*shape, K)` ascending, padded with NaN
    (K is the largest count), and `counts` of shape `shape`. Runs eagerly (K is data-dependent).
    """
    check_positive("duration", duration, "ms")
    check_nonnegative("rate", rate, "Hz")
    check_finite("t0", t0)
    check_key("key", key)
    shape = _cells(shape, rate)
    rate_ms = np.broadcast_to(np.asarray(rate, float) / 1000.0, shape)
    lam = float(np.max(rate_ms, initial=0.0)) * duration
    _check_size("poisson_spike_times", (lam + 6 * np.sqrt(lam) + 10) * math.prod(shape),
                "expected spikes (rate x duration x cells)")  # fmt: skip
    block = int(lam + 6 * np.sqrt(lam) + 10)  # P(more spikes than this) is negligible...
    elapsed = np.zeros(shape)
    parts = []
    i = 0
    with np.errstate(divide="ignore"):
        scale = np.where(rate_ms > 0, 1.0 / np.where(rate_ms > 0, rate_ms, 1.0), np.inf)
    while np.any(elapsed < duration):  # ...but if it happens, draw another block
        e = np.asarray(jax.random.exponential(jax.random.fold_in(key, i), (*shape, block)))
        t = elapsed[..., None] + np.cumsum(e * scale[..., None], axis=-1)
        parts.append(t)
        elapsed = t[..., -1]
        i += 1
    t = np.concatenate(parts, axis=-1)
    inside = t < duration
    counts = inside.sum(axis=-1)
    K = int(counts.max()) if counts.size else 0
    times = np.where(inside, t, np.nan)[..., :K] + t0
    return times, counts
