r"""Spike-train statistics. Times in ms, rates in Hz.

A spike train is a 1-D array of times, or a NaN-padded array `(..., K)` of several trains
(as `SimulationResult.spike_times` and `detect_spikes` return); NaNs are ignored.
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


def cv_isi(spike_train: ArrayLike) -> float:
    r"""Coefficient of variation of the ISIs, $\mathrm{CV} = \sigma_\mathrm{ISI}/\mu_\mathrm{ISI}$
    (population standard deviation); 1 for a Poisson process, 0 for a regular train.
    NaN when the train has fewer than two intervals."""
    d = isi(spike_train)
    if d.size < 2:
        return float("nan")
    return float(np.std(d) / np.mean(d))


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
