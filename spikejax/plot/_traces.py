"""Voltage traces and spike rasters (time in ms). Each function returns `(fig, ax)`."""

from __future__ import annotations

from typing import Any

import numpy as np


def _axes(ax, figsize=(7.0, 3.0)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    return fig, ax


def raster(
    spike_times: Any,
    neurons: Any = None,
    *,
    ax=None,
    color: str = "k",
    markersize: float = 2.0,
    t_start: float | None = None,
    t_stop: float | None = None,
):
    """Spike raster: one row per neuron, a dot per spike (time in ms).

    **Arguments:**

    - `spike_times`: a NaN-padded array `(n_neurons, K)` (as `SimulationResult.spike_times`),
      a list of 1-D trains, or flat times with `neurons` giving each spike's row index.
    - `neurons`: row index of each spike when `spike_times` is flat.
    - `ax`: matplotlib axes to draw into (default: a new figure).
    - `color`, `markersize`: of the dots.
    - `t_start`, `t_stop`: the time axis limits (ms).

    **Returns:** `(fig, ax)`.

    **Raises:** `ValueError` if `spike_times` and `neurons` differ in length.
    """
    fig, ax = _axes(ax)
    if neurons is not None:
        t = np.asarray(spike_times, float).ravel()
        rows = np.asarray(neurons).ravel()
        if t.shape != rows.shape:
            raise ValueError(
                f"spike_times and neurons must have the same length, got {t.shape} and {rows.shape}"
            )
    else:
        if isinstance(spike_times, list | tuple):
            trains = [np.asarray(s, float).ravel() for s in spike_times]
        else:
            st = np.asarray(spike_times, float)
            trains = list(st.reshape(-1, st.shape[-1])) if st.ndim > 1 else [st]
        rows = np.concatenate([np.full(tr.size, i) for i, tr in enumerate(trains)] or [[]])
        t = np.concatenate(trains or [[]])
        keep = ~np.isnan(t)
        t, rows = t[keep], rows[keep]
    ax.plot(t, rows, "|" if markersize > 3 else ".", color=color, markersize=markersize)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    if t_start is not None or t_stop is not None:
        ax.set_xlim(t_start, t_stop)
    return fig, ax


def plot_trace(
    result: Any,
    variable: str | None = None,
    *,
    neurons: Any = None,
    ax=None,
    show_spikes: bool = True,
    label: str | None = None,
    **plot_kwargs,
):
    """Plot a recorded state variable of a `SimulationResult` against time (ms); spike times
    are marked at the top of the axes.

    **Arguments:**

    - `result`: a `SimulationResult`.
    - `variable`: the recorded state variable (default: the membrane potential).
    - `neurons`: cells (flat indices) of a population (default: all, at most 10).
    - `ax`: matplotlib axes to draw into (default: a new figure).
    - `show_spikes`: mark the spike times.
    - `label`: legend label.
    - `**plot_kwargs`: passed to `ax.plot`.

    **Returns:** `(fig, ax)`.

    **Raises:** `ValueError` if `variable` was not recorded.
    """
    fig, ax = _axes(ax)
    name = variable or result.voltage_name
    if name not in result.states:
        raise ValueError(f"variable {name!r} was not recorded; recorded: {sorted(result.states)}")
    x = np.asarray(result.states[name])
    x = x.reshape(x.shape[0], -1)
    idx = np.arange(min(x.shape[1], 10)) if neurons is None else np.atleast_1d(neurons)
    for j, i in enumerate(idx):
        ax.plot(result.times, x[:, i], label=label if j == 0 else None, **plot_kwargs)
    if show_spikes and result.spike_times.size:
        n = x.shape[1]
        st = result.spike_times.reshape(n, result.spike_times.shape[-1])[idx].ravel()
        st = st[~np.isnan(st)]
        if st.size:
            ax.plot(
                st,
                np.full(st.size, 1.02),
                "v",
                color="r",
                markersize=4,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
            )
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(name)
    if label is not None:
        ax.legend()
    return fig, ax
