"""Small spike-train statistics used to characterise network states."""

from __future__ import annotations

import numpy as np


def cv_isi(indices, times, n_neurons: int, *, min_spikes: int = 3) -> float:
    """Mean over neurons (with >= `min_spikes` spikes) of the coefficient of variation of
    their inter-spike intervals; NaN if no neuron qualifies."""
    indices, times = np.asarray(indices), np.asarray(times)
    order = np.lexsort((times, indices))
    i, t = indices[order], times[order]
    cvs = []
    bounds = np.searchsorted(i, np.arange(n_neurons + 1))
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a >= min_spikes:
            isi = np.diff(t[a:b])
            m = isi.mean()
            if m > 0:
                cvs.append(isi.std() / m)
    return float(np.mean(cvs)) if cvs else float("nan")


def synchrony_index(
    indices, times, n_neurons: int, t_start: float, t_stop: float, *, bin_ms: float = 1.0
) -> float:
    r"""Fano factor of the population spike count in bins of `bin_ms`:
    $\mathrm{Var}(N_\mathrm{bin}) / \mathrm{E}(N_\mathrm{bin})$. About 1 for independent
    Poisson neurons (asynchronous), much larger when the population fires in synchrony."""
    edges = np.arange(t_start, t_stop + 1e-9, bin_ms)
    counts, _ = np.histogram(np.asarray(times), bins=edges)
    m = counts.mean()
    return float(counts.var() / m) if m > 0 else float("nan")


def mean_rate(indices, n_neurons: int, duration_ms: float) -> float:
    """Mean firing rate in Hz."""
    return np.asarray(indices).size / (n_neurons * duration_ms * 1e-3)
