r"""Spike-train statistics: the one implementation for every engine. Times in ms, rates in Hz.

A spike train is a 1-D array of times, or a NaN-padded array `(..., K)` of several trains
(as `SimulationResult.spike_times` and `detect_spikes` return); NaNs are ignored. Networks
record events, `(indices, times)` pairs; `spike_trains` turns them into the padded form
(`RunResult.spike_trains`), and the population statistics (`population_cv_isi`,
`synchrony_index`, `mean_rate`) take events and use the per-train functions here.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike

from .._validation import check_finite, check_positive


def _window(t_start, t_stop):
    check_finite("t_start", t_start)
    check_finite("t_stop", t_stop)
    if not (float(t_stop) > float(t_start)):
        raise ValueError(f"t_stop must be > t_start, got t_start={t_start}, t_stop={t_stop} ms")
    return float(t_start), float(t_stop)


def spike_counts(spike_times: ArrayLike, t_start: float, t_stop: float) -> np.ndarray:
    """Number of spikes with `t_start <= t < t_stop` (ms) in each train."""
    a, b = _window(t_start, t_stop)
    st = np.asarray(spike_times, float)
    with np.errstate(invalid="ignore"):
        return np.sum((st >= a) & (st < b), axis=-1)


def firing_rate(spike_times: ArrayLike, t_start: float, t_stop: float) -> np.ndarray:
    r"""Mean rate of each train over $[t_\mathrm{start}, t_\mathrm{stop})$:
    $\nu = 1000\,n / (t_\mathrm{stop} - t_\mathrm{start})$ Hz (times in ms)."""
    a, b = _window(t_start, t_stop)
    return spike_counts(spike_times, a, b) * 1000.0 / (b - a)


def isi(spike_train: ArrayLike) -> np.ndarray:
    """Inter-spike intervals (ms) of one train (1-D; NaN padding is dropped)."""
    st = np.asarray(spike_train, float)
    if st.ndim != 1:
        raise ValueError(f"isi takes one spike train (1-D), got shape {st.shape}")
    st = np.sort(st[~np.isnan(st)])
    return np.diff(st)


def cv_isi(spike_train: ArrayLike) -> float | np.ndarray:
    r"""Coefficient of variation of the ISIs, $\mathrm{CV} = \sigma_\mathrm{ISI}/\mu_\mathrm{ISI}$
    (population standard deviation); 1 for a Poisson process, 0 for a regular train.
    NaN when the train has fewer than two intervals.

    **Arguments:** one train (1-D), or NaN-padded trains `(..., K)`.

    **Returns:** a float for one train, an array `(...)` for several.
    """
    st = np.asarray(spike_train, float)
    if st.ndim == 1:
        d = isi(st)
        if d.size < 2:
            return float("nan")
        return float(np.std(d) / np.mean(d))
    flat = st.reshape(-1, st.shape[-1])
    out = np.array([cv_isi(tr) for tr in flat]) if flat.shape[0] else np.zeros(0)
    return out.reshape(st.shape[:-1])


def spike_trains(indices: ArrayLike, times: ArrayLike, n: int) -> np.ndarray:
    """The NaN-padded trains `(n, K)` (ascending times, K the largest count) of the events
    `(indices, times)`: neuron `indices[j]` spiked at `times[j]` (ms), as networks record.

    **Raises:** `ValueError` if the lengths differ or an index is outside `[0, n)`.
    """
    i = np.asarray(indices).reshape(-1)
    t = np.asarray(times, float).reshape(-1)
    if i.shape != t.shape:
        raise ValueError(f"indices and times must have the same length, got {i.size} and {t.size}")
    if not (int(n) == n and n >= 0):
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    if i.size and not (i.min() >= 0 and i.max() < n):
        raise ValueError(f"indices must be in [0, {n}), got [{i.min()}, {i.max()}]")
    order = np.lexsort((t, i))
    i, t = i[order].astype(np.int64), t[order]
    counts = np.bincount(i, minlength=int(n))
    out = np.full((int(n), int(counts.max()) if counts.size else 0), np.nan)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]) if counts.size else counts
    out[i, np.arange(i.size) - first[i]] = t
    return out


def population_cv_isi(
    indices: ArrayLike, times: ArrayLike, n_neurons: int, *, min_spikes: int = 3
) -> float:
    """Mean over neurons with at least `min_spikes` spikes (>= 3: two intervals) of `cv_isi`
    of their trains, from the events `(indices, times)`; NaN if no neuron qualifies."""
    if not (int(min_spikes) == min_spikes and min_spikes >= 3):
        raise ValueError(f"min_spikes must be an integer >= 3, got {min_spikes!r}")
    trains = spike_trains(indices, times, n_neurons)
    keep = np.sum(~np.isnan(trains), axis=-1) >= min_spikes
    if not np.any(keep):
        return float("nan")
    return float(np.mean(cv_isi(trains[keep])))


def synchrony_index(
    indices: ArrayLike,
    times: ArrayLike,
    n_neurons: int,
    t_start: float,
    t_stop: float,
    *,
    bin_ms: float = 1.0,
) -> float:
    r"""Fano factor of the population spike count in bins of `bin_ms` over
    $[t_\mathrm{start}, t_\mathrm{stop}]$:
    $\mathrm{Var}(N_\mathrm{bin}) / \mathrm{E}(N_\mathrm{bin})$ (population variance).
    About 1 for independent Poisson neurons (asynchronous), much larger when the
    population fires in synchrony; NaN without spikes."""
    check_positive("bin_ms", bin_ms, "ms")
    a, b = _window(t_start, t_stop)
    edges = np.arange(a, b + 1e-9, bin_ms)
    counts, _ = np.histogram(np.asarray(times, float), bins=edges)
    m = counts.mean()
    return float(counts.var() / m) if m > 0 else float("nan")


def mean_rate(indices: ArrayLike, n_neurons: int, duration: float) -> float:
    """Mean firing rate (Hz) of `n_neurons` neurons over `duration` ms, from the spike
    indices of the events (one per spike)."""
    check_positive("duration", duration, "ms")
    if not (int(n_neurons) == n_neurons and n_neurons >= 1):
        raise ValueError(f"n_neurons must be an integer >= 1, got {n_neurons!r}")
    return np.asarray(indices).size * 1000.0 / (n_neurons * float(duration))


def fano_factor(spike_times: ArrayLike, window: float, t_start: float, t_stop: float) -> np.ndarray:
    r"""Fano factor $F = \mathrm{Var}[N]/\mathrm{E}[N]$ of the counts $N$ in consecutive
    windows of `window` ms tiling $[t_\mathrm{start}, t_\mathrm{stop})$ (incomplete last window
    dropped; unbiased variance, ddof=1). 1 for a Poisson process. One value per train;
    NaN for a train without spikes."""
    check_positive("window", window, "ms")
    a, b = _window(t_start, t_stop)
    n_win = int(np.floor((b - a) / window + 1e-9))
    if n_win < 2:
        raise ValueError(
            f"fano_factor needs at least 2 windows: window={window} ms is too long for "
            f"[{a}, {b}) ms"
        )
    st = np.asarray(spike_times, float)
    edges = a + window * np.arange(n_win + 1)
    flat = st.reshape(-1, st.shape[-1]) if st.ndim > 1 else st[None]
    counts = np.stack([np.histogram(tr[~np.isnan(tr)], bins=edges)[0] for tr in flat])
    mean = counts.mean(axis=1)
    var = counts.var(axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(mean > 0, var / np.where(mean > 0, mean, 1.0), np.nan)
    return f.reshape(st.shape[:-1]) if st.ndim > 1 else f[0]
