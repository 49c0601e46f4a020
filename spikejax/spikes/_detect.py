"""Spike detection as upward threshold crossings of a sampled voltage trace."""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike

from ._stats import spike_trains


def detect_spikes(
    times: ArrayLike, V: ArrayLike, threshold: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Upward crossings of `threshold` in the sampled trace `V`, with interpolated times.

    A spike is counted between samples $i$ and $i+1$ when $V_i < \theta \le V_{i+1}$; its time
    is $t_i + (t_{i+1} - t_i)(\theta - V_i)/(V_{i+1} - V_i)$ (linear interpolation).

    **Arguments:** `times` `(n,)` (ms), `V` `(n, *shape)`, `threshold` (the unit of `V`).

    **Returns:** `(spike_times, counts)`: `(*shape, K)` ascending times padded with NaN (K the
    largest count) and `(*shape)` counts.

    **Raises:** `ValueError` if the lengths of `times` and `V` differ.
    """
    t = np.asarray(times, dtype=float)
    v = np.asarray(V, dtype=float)
    if t.ndim != 1 or v.shape[:1] != t.shape:
        raise ValueError(
            f"times must be 1-D with the length of V's first axis, got times {t.shape}, V {v.shape}"
        )
    shape = v.shape[1:]
    v2 = v.reshape(t.size, -1)
    v0, v1 = v2[:-1], v2[1:]
    cross = (v0 < threshold) & (v1 >= threshold)
    counts = cross.sum(axis=0)
    step, cell = np.nonzero(cross)
    frac = (threshold - v0[step, cell]) / (v1[step, cell] - v0[step, cell])
    tc = t[step] + (t[step + 1] - t[step]) * frac
    out = spike_trains(cell, tc, v2.shape[1])
    return out.reshape(*shape, out.shape[-1]), counts.reshape(shape)
