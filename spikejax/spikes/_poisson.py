r"""Homogeneous Poisson spike trains and counts (rates in Hz, times in ms): the one Poisson
source of spikejax.

On a time grid a Poisson source is sampled two ways, both here and shared by every engine:

- one train per cell, at most one spike per step: a Bernoulli draw with probability
  $\nu\,\Delta t$ (`bernoulli_spikes`; used by `poisson_spikes` and
  `spikejax.network.PoissonPopulation`);
- the number of spikes of $K$ independent trains in one step: $\mathrm{Binomial}(K, \nu\Delta t)$
  by inversion of its CDF (`binomial_cdf_table`, built once in float64 on the host, and
  `count_at_most`, a branchless search inside the step; used by
  `spikejax.network.PoissonInput` and the microcircuit's background input).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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
    return bernoulli_spikes(key, rate, dt, (n_steps, *shape), jnp.result_type(float))


def bernoulli_spikes(key, rate: ArrayLike, dt: float, shape: tuple[int, ...], dtype) -> Array:
    r"""One step of Poisson trains on a grid: a spike where $u < \nu\,\Delta t$, $u \sim U[0, 1)$.

    **Arguments:** `key` (PRNG key), `rate` $\nu$ (Hz, broadcastable to `shape`), `dt` (ms),
    `shape`, `dtype` (of the uniforms and the probability).

    **Returns:** a boolean array of `shape`.
    """
    p = jnp.asarray(rate, dtype) * (dt * 1e-3)
    return jax.random.uniform(key, shape, dtype) < p


def binomial_cdf_table(n_sources: ArrayLike | Sequence[int], p: float, dtype) -> np.ndarray:
    r"""The CDF of $\mathrm{Binomial}(K, p)$ for inverse-CDF sampling with `count_at_most`.

    Computed in float64 on the host (log-space pmf from `math.lgamma`, cumulative sum), then
    rounded to `dtype` and cut after the last entry below 1 in `dtype`: entries that round to
    1 can never be reached by a uniform $u < 1$, so the count's upper tail beyond the table
    has probability below the resolution of `dtype` (float32: $6\cdot10^{-8}$; it is
    returned as the table's length, the largest count), never a spurious cap.

    **Arguments:** `n_sources` $K$ (an integer >= 0, or a 1-D sequence of them: one row per
    value), `p` (the probability per source, in [0, 1)), `dtype` (of the comparison).

    **Returns:** `(m,)`, or `(len(n_sources), m)` rows padded with 1.

    **Raises:** `ValueError` for `p` outside [0, 1) or a negative or non-integer `K`.
    """
    p = float(p)
    if not (0.0 <= p < 1.0):
        raise ValueError(f"the spike probability per step must be in [0, 1), got {p!r}")
    ks = np.atleast_1d(np.asarray(n_sources))
    if ks.ndim != 1 or not np.all(ks == np.round(ks)) or not np.all(ks >= 0):
        raise ValueError(f"n_sources must be integers >= 0, got {n_sources!r}")
    one = np.asarray(1.0, dtype)
    rows = []
    for k in ks.astype(np.int64):
        mu = k * p
        m = int(min(k, math.ceil(mu + 12 * math.sqrt(mu) + 15))) + 1
        if p == 0.0 or k == 0:
            pmf = np.zeros(m)
            pmf[0] = 1.0
        else:
            j = np.arange(m)
            lg = np.vectorize(math.lgamma)
            logpmf = (
                math.lgamma(k + 1.0)
                - lg(j + 1.0)
                - lg(k - j + 1.0)
                + j * math.log(p)
                + (k - j) * math.log1p(-p)
            )
            pmf = np.exp(logpmf)
        cdf = np.cumsum(pmf).astype(dtype)
        below = np.nonzero(cdf < one)[0]
        rows.append(cdf[: below[-1] + 1] if below.size else cdf[:0])
    m = max(1, max(r.size for r in rows))
    table = np.ones((len(rows), m), dtype)
    for i, r in enumerate(rows):
        table[i, : r.size] = r
    return table if np.ndim(n_sources) else table[0]


#: up to this many table entries, `count_at_most` compares each `u` with every entry (a chain
#: of compare-adds that XLA fuses into one vectorised loop: nearly free next to drawing the
#: uniforms, e.g. 13 entries for 12,500 neurons); beyond, a binary search (about 24 us for
#: the same 13 entries, as its table lookups are gathers; 60 vs 104 us at 40 entries)
_CHAIN_MAX_ENTRIES = 64


def count_at_most(cdf: ArrayLike, u: Array, rows: Array | None = None) -> Array:
    """For each `u`, the number of entries of the non-decreasing `cdf` (length m) that are
    <= `u` (inverse-CDF sampling: the count is the sampled value). With `rows` (integers,
    the shape of `u`), `cdf` is a table `(G, m)` of CDFs and element `i` is searched in
    row `rows[i]`.

    A single short table (m <= 64) is compared entry by entry; a longer one, or a table
    of rows, is searched by a branchless binary search over the table padded with +inf to
    a power of two: log2(m) + 1 compare-and-select passes over `u`. Exact: the count equals
    the number of entries <= `u` (tested against counting all of them)."""
    cdf = jnp.asarray(cdf)
    m = cdf.shape[-1]
    if rows is None and m <= _CHAIN_MAX_ENTRIES:
        count = jnp.zeros(u.shape, jnp.int32)
        for j in range(m):
            count = count + (u >= cdf[j]).astype(jnp.int32)
        return count
    size = 1 << m.bit_length()  # a power of two > m
    pad = jnp.full(cdf.shape[:-1] + (size - m,), jnp.inf, cdf.dtype)
    table = jnp.concatenate([cdf, pad], axis=-1)
    count = jnp.zeros(u.shape, jnp.int32)
    step = size // 2
    while step >= 1:
        probe = count + (step - 1)
        bound = table[probe] if rows is None else table[rows, probe]
        count = jnp.where(u >= bound, count + step, count)
        step //= 2
    return count


def binomial_counts(key, cdf: ArrayLike, shape: tuple[int, ...], dtype, rows=None) -> Array:
    r"""Binomial counts of `shape` by inversion: `count_at_most(cdf, u, rows)` with
    $u \sim U[0, 1)$ in `dtype`; `cdf` from `binomial_cdf_table` (rows: one row per
    element, see `count_at_most`). Returns int32 counts."""
    u = jax.random.uniform(key, shape, dtype)
    return count_at_most(cdf, u, rows)


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
