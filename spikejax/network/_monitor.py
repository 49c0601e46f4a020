"""Monitors: what a run records. Spikes are stored compactly as (index, time) pairs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import numpy as np


def _name(population: Any) -> str:
    """The name of `population` (a `Population`, or its name)."""
    return getattr(population, "name", population)


class Monitor(eqx.Module):
    """Abstract monitor."""

    population: str = eqx.field(static=True)

    @property
    def key(self) -> str:
        raise NotImplementedError


def unpack_spikes(words, n: int) -> np.ndarray:
    """Spike flags `(..., n)` bool from the spike words a `SpikeMonitor` records on the device
    (uint32 `(..., ceil(n/32))`; bit `b` of word `w` is neuron `32 w + b`)."""
    as_bytes = np.ascontiguousarray(np.asarray(words, dtype="<u4")).view(np.uint8)
    return np.unpackbits(as_bytes, axis=-1, count=n, bitorder="little").astype(bool)


class SpikeMonitor(Monitor):
    """All spikes of `population` as `(neuron index, time in ms)` arrays. On the device each
    step's spikes are bit-packed into uint32 words (`n/8` bytes per step), so no spike can be
    lost; the host turns each chunk into index/time arrays (`unpack_spikes`)."""

    def __init__(self, population):
        self.population = _name(population)

    @property
    def key(self):
        return f"spikes/{self.population}"


class RateMonitor(Monitor):
    """Population rate (Hz) of `population` at every step: spike count / (n dt)."""

    def __init__(self, population):
        self.population = _name(population)

    @property
    def key(self):
        return f"rate/{self.population}"


class StateMonitor(Monitor):
    r"""State variables `variables` of the neurons `indices` (default: all) every `every` steps
    (at global steps that are multiples of `every`, time $t = k\,\Delta t$).

    **Arguments:**

    - `population`: the population's name (or the population).
    - `variables`: a state-variable name or a sequence of them.
    - `indices`: the neurons to record (default: all).
    - `every`: record every `every` steps (>= 1).
    - `store`: a directory path: stream the records to a zarr store there, chunk by chunk
      (appendable, compressed; `pip install "spikejax[io]"`), instead of keeping them in
      host memory. The run's `states[key]` is then `(times, values)` with `values` the
      on-disk `zarr.Array` of shape `(n_records, n_variables, n_indices)` (sliced like a
      NumPy array). The store is created anew by each `run`.
    """

    variables: tuple = eqx.field(static=True)
    indices: tuple | None = eqx.field(static=True)
    every: int = eqx.field(static=True)
    store: str | None = eqx.field(static=True)

    def __init__(
        self,
        population,
        variables: str | Sequence[str],
        *,
        indices=None,
        every: int = 1,
        store: str | os.PathLike | None = None,
    ):
        if store is not None and not isinstance(store, str | os.PathLike):
            raise ValueError(f"StateMonitor.store must be a directory path or None, got {store!r}")
        self.store = None if store is None else os.fspath(store)
        self.population = _name(population)
        self.variables = (variables,) if isinstance(variables, str) else tuple(variables)
        if not self.variables:
            raise ValueError("StateMonitor.variables must name at least one state variable")
        if indices is not None:
            idx = np.asarray(indices).reshape(-1)
            if idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
                raise ValueError("StateMonitor.indices must be a non-empty sequence of integers")
            indices = tuple(int(i) for i in idx)
        self.indices = indices
        if not (int(every) == every and every >= 1):
            raise ValueError(f"StateMonitor.every must be an integer >= 1, got {every!r}")
        self.every = int(every)

    @property
    def key(self):
        return f"state/{self.population}/{'+'.join(self.variables)}/{self.every}"


class WeightMonitor(Monitor):
    """The weights of a plastic projection: synapses `indices` (default: all; synapse order
    as in `Network.plastic_weights`) every `every` steps (at global steps that are multiples
    of `every`). The run's `states[key]` is `(times, values (n_records, n_indices))`.

    **Arguments:**

    - `projection`: the plastic projection's name (or the `Projection`).
    - `indices`: the synapses to record (default: all).
    - `every`: record every `every` steps (>= 1).

    **Raises:** `ValueError` for empty or non-integer `indices` or `every` < 1 (and, when
    run, an unknown or non-plastic projection or indices out of range).
    """

    indices: tuple | None = eqx.field(static=True)
    every: int = eqx.field(static=True)

    def __init__(self, projection, *, indices=None, every: int = 1):
        self.population = _name(projection)
        self.indices = _check_indices("WeightMonitor", indices)
        self.every = _check_every("WeightMonitor", every)

    @property
    def projection(self) -> str:
        """The monitored projection's name."""
        return self.population

    @property
    def key(self):
        return f"weights/{self.population}/{self.every}"


class WeightHistogram(Monitor):
    """The distribution of a plastic projection's weights every `every` steps: counts in the
    bins `edges` (the last bin includes its right edge; weights outside the edges are not
    counted). The run's `states[key]` is `(times, counts (n_records, n_bins))`.

    **Arguments:**

    - `projection`: the plastic projection's name (or the `Projection`).
    - `edges`: increasing bin edges (at least 2).
    - `every`: record every `every` steps (>= 1).

    **Raises:** `ValueError` for fewer than 2, non-finite or non-increasing edges, or
    `every` < 1.
    """

    edges: tuple = eqx.field(static=True)
    every: int = eqx.field(static=True)

    def __init__(self, projection, edges, *, every: int = 1):
        self.population = _name(projection)
        e = np.asarray(edges, dtype=float).reshape(-1)
        if e.size < 2 or not np.all(np.isfinite(e)) or not np.all(np.diff(e) > 0):
            raise ValueError(
                f"WeightHistogram.edges must be at least 2 finite increasing values, got {edges!r}"
            )
        self.edges = tuple(float(x) for x in e)
        self.every = _check_every("WeightHistogram", every)

    @property
    def projection(self) -> str:
        """The monitored projection's name."""
        return self.population

    @property
    def key(self):
        return f"weight_histogram/{self.population}/{self.every}"


def _check_indices(owner: str, indices):
    if indices is None:
        return None
    idx = np.asarray(indices).reshape(-1)
    if idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"{owner}.indices must be a non-empty sequence of integers")
    return tuple(int(i) for i in idx)


def _check_every(owner: str, every) -> int:
    if not (int(every) == every and every >= 1):
        raise ValueError(f"{owner}.every must be an integer >= 1, got {every!r}")
    return int(every)


#: monitors that record a value every `every` steps (rows at multiples of `every`)
RECORDERS = (StateMonitor, WeightMonitor, WeightHistogram)
