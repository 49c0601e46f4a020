"""Raster and population-rate figure of a network run."""

from __future__ import annotations

import numpy as np


def plot_network(
    result,
    populations=None,
    *,
    bin_ms: float = 1.0,
    max_neurons: int | None = 1000,
    title: str | None = None,
    markersize: float = 1.0,
):
    """Spike raster (top) and population rate (bottom, Hz) of a network run.

    **Arguments:**

    - `result`: a `spikejax.network.RunResult` with spike monitors.
    - `populations`: the populations to show (default: every monitored one), stacked in the
      raster.
    - `bin_ms`: width of the rate bins (ms), > 0.
    - `max_neurons`: at most this many neurons of each population in the raster (None: all).
    - `title`: figure title.
    - `markersize`: raster dot size.

    **Returns:** `(fig, (ax_raster, ax_rate))`.

    **Raises:** `ValueError` for `bin_ms` not > 0 or a population without a spike monitor.
    """
    import matplotlib.pyplot as plt

    if not (bin_ms > 0):
        raise ValueError(f"bin_ms must be > 0 ms, got {bin_ms!r}")
    pops = list(result.spikes) if populations is None else list(populations)
    missing = [p for p in pops if p not in result.spikes]
    if missing:
        raise ValueError(f"populations {missing} have no SpikeMonitor in this result")
    fig, (ax_r, ax_p) = plt.subplots(
        2, 1, sharex=True, figsize=(8, 5), gridspec_kw={"height_ratios": [3, 1]}
    )
    offset = 0
    edges = np.arange(result.t_start, result.t_stop + bin_ms * 0.5, bin_ms)
    centers = 0.5 * (edges[1:] + edges[:-1])
    for j, p in enumerate(pops):
        i, t = result.spikes[p]
        n = result.n_neurons[p]
        shown = n if max_neurons is None else min(n, max_neurons)
        keep = i < shown
        color = f"C{j}"
        ax_r.plot(
            t[keep], i[keep] + offset, ".", ms=markersize, color=color, label=p, rasterized=True
        )
        offset += shown
        counts, _ = np.histogram(t, bins=edges)
        ax_p.plot(centers, counts / (n * bin_ms * 1e-3), color=color, lw=0.8, label=p)
    ax_r.set_ylabel("neuron")
    ax_r.set_ylim(-0.5, max(offset, 1) - 0.5)
    if len(pops) > 1:
        ax_r.legend(loc="upper right", markerscale=5, fontsize="small")
    ax_p.set_xlabel("time (ms)")
    ax_p.set_ylabel("rate (Hz)")
    ax_p.set_xlim(result.t_start, result.t_stop)
    if title:
        ax_r.set_title(title)
    fig.tight_layout()
    return fig, (ax_r, ax_p)
