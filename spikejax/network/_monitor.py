"""Monitors: what a run records. Spikes are stored compactly as (index, step) pairs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import numpy as np

#: suffix of a `SpikeMonitor`'s output key under which `Network.simulate` records the spike
#: offsets of a precise population (`(n_steps, n)`, fractions of `dt`)
OFFSETS = "/offsets"


def _name(population: Any) -> str:
    """The name of `population` (a `Population`, or its name)."""
    name = getattr(population, "name", population)
    if not isinstance(name, str):
        raise ValueError(
            f"a monitor needs a population (or projection) or its name, got {population!r}"
        )
    return name


def _store_path(owner: str, store) -> str | None:
    """`store` as a path string (None stays None), or a `ValueError` naming `owner`."""
    if store is None:
        return None
    if not isinstance(store, str | os.PathLike) or not os.fspath(store):
        raise ValueError(f"{owner}.store must be a directory path or None, got {store!r}")
    return os.fspath(store)


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


def nonzero_word_flags(words):
    """On the device: the non-zero words of spike words `(S, W)` packed as spike words
    themselves, `(S, ceil(W/32))` uint32 (bit `b` of word `v` is set iff word `32 v + b` is
    non-zero): 1/32 of the spike words, so the host finds the spikes of a chunk by reading
    this summary and then only the non-zero words (`spike_events`)."""
    import jax

    from ._projection import spike_words

    return jax.vmap(spike_words)(words != 0)


def _position_type(n_bits: int) -> type:
    """int32 for bit positions below `2**31` (any chunk of `run`, whose spike words are at
    most 16 MiB: 2**27 bits), else int64: 4 bytes a spike for the temporaries instead of 8."""
    return np.int32 if n_bits < 2**31 else np.int64


def _set_bits(values: np.ndarray, positions: np.ndarray, itype=np.int64) -> np.ndarray:
    """The bit positions `32 p + b` (`itype`, ascending) of the set bits `b` of the non-zero
    uint32 `values` found at the ascending word positions `positions`, with work
    proportional to the set bits: the lowest set bit of every word first (its index is the
    popcount of the bits below it), then the next bits of the few words that have more,
    each going straight to its place (the word's first output slot + its rank)."""
    v = np.asarray(values, np.uint32)
    base = np.asarray(positions, itype) * itype(32)
    below = v - np.uint32(1)
    lowest = base + np.bitwise_count(~v & below)
    counts = np.bitwise_count(v)
    many = np.flatnonzero(counts > 1)
    if many.size == 0:  # one spike per word: the common case
        return lowest
    slot = np.cumsum(counts, dtype=itype)
    slot -= counts
    out = np.empty(int(slot[-1]) + int(counts[-1]), itype)
    out[slot] = lowest
    del lowest, counts
    v, base, slot = v[many] & below[many], base[many], slot[many]
    while v.size:
        slot = slot + 1
        below = v - np.uint32(1)
        out[slot] = base + np.bitwise_count(~v & below)
        v &= below
        left = v.astype(bool)
        v, base, slot = v[left], base[left], slot[left]
    return out


def spike_events(words, summary=None) -> tuple[np.ndarray, np.ndarray]:
    """On the host: the spikes of a chunk's spike words `(S, W)` (a `SpikeMonitor`'s output
    of `Network.simulate`) as `(rows, indices int32)`, sorted by row then index (row `s` is
    the chunk's step `s`; int32 rows for chunks of fewer than `2**26` words, as every chunk
    of `run` is, else int64). With `summary` (`nonzero_word_flags(words)`, computed on the
    device) the work is proportional to the spikes; without it, one pass over the words
    (`np.flatnonzero`) comes first. The temporaries take about 30 bytes a spike."""
    words = np.asarray(words)
    n_steps, n_words = words.shape
    flat = words.reshape(-1)
    itype = _position_type(32 * flat.size)
    if summary is None:
        where = np.flatnonzero(flat).astype(itype, copy=False)
    else:
        summary = np.asarray(summary)
        per_step = itype(32 * summary.shape[1])
        found = np.flatnonzero(summary.reshape(-1)).astype(itype, copy=False)
        bits = _set_bits(summary.reshape(-1)[found], found, itype)
        where = (bits // per_step) * itype(n_words) + bits % per_step
        del bits, found
    bits = _set_bits(flat[where], where, itype)
    del where
    rows, indices = np.divmod(bits, itype(32 * n_words))
    return rows, indices.astype(np.int32, copy=False)


class SpikeRecord(Sequence):
    """The spikes one `SpikeMonitor` recorded: neuron `indices[j]` spiked in the step that
    ends at global step `steps[j]`, time `steps[j] * dt` ms (both int32, 8 bytes a spike),
    sorted by step then index. It unpacks as the pair `(indices, times)` (`i, t =
    result.spikes["E"]`, `result.spikes["E"][1]`), the times (float64 ms) computed on each
    access.

    For a precise population (`Population(precise=True)`) it also holds `offsets`, the spike
    times' offsets from the end of their step as fractions of `dt`, in [-1, 0] (in the
    network's dtype), and the times are `(steps + offsets) * dt`; `offsets` is None for
    spikes on the grid.

    With `SpikeMonitor(..., store=path)`, `indices` and `steps` are the on-disk
    `zarr.Array`s (read lazily; slice them like NumPy arrays).
    """

    __slots__ = ("indices", "steps", "dt", "offsets")

    def __init__(self, indices, steps, dt: float, offsets=None):
        if np.shape(indices) != np.shape(steps) or len(np.shape(indices)) != 1:
            raise ValueError(
                "SpikeRecord: indices and steps must be 1-D of equal length, got shapes "
                f"{np.shape(indices)} and {np.shape(steps)}"
            )
        if not (float(dt) > 0):
            raise ValueError(f"SpikeRecord.dt must be > 0 ms, got {dt!r}")
        if offsets is not None and np.shape(offsets) != np.shape(steps):
            raise ValueError(
                f"SpikeRecord: offsets must have the shape of steps {np.shape(steps)}, got "
                f"{np.shape(offsets)}"
            )
        self.indices = indices
        self.steps = steps
        self.dt = float(dt)
        self.offsets = offsets

    @property
    def times(self) -> np.ndarray:
        """Spike times in ms (float64): `steps * dt`, or `(steps + offsets) * dt`."""
        steps = np.asarray(self.steps[:], np.float64)
        if self.offsets is None:
            return steps * self.dt
        return (steps + np.asarray(self.offsets[:], np.float64)) * self.dt

    @property
    def n_spikes(self) -> int:
        """The number of spikes."""
        return int(np.shape(self.indices)[0])

    @property
    def nbytes(self) -> int:
        """Bytes of host memory the record holds (0 for one stored on disk)."""
        arrays = (self.indices, self.steps, self.offsets)
        return sum(int(a.nbytes) for a in arrays if isinstance(a, np.ndarray))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, item):  # pyright: ignore[reportIncompatibleMethodOverride]
        if isinstance(item, slice):
            return tuple(self)[item]
        if item in (0, -2):
            return self.indices
        if item in (1, -1):
            return self.times
        raise IndexError(
            f"a SpikeRecord unpacks as (indices, times): index {item!r} is out of range"
        )

    def __iter__(self):
        yield self.indices
        yield self.times

    def __repr__(self) -> str:
        return f"SpikeRecord({self.n_spikes} spikes, dt={self.dt} ms)"

    @property
    def index(self):  # pyright: ignore[reportIncompatibleMethodOverride]
        """Not an attribute: `Sequence.index` would search the pair `(indices, times)` for a
        value, which arrays cannot do, and `record.index` is easily mistaken for the
        indices (a comparison of two bound methods is silently False)."""
        raise AttributeError(
            "SpikeRecord has no 'index': the neurons' indices are `.indices` (with `.steps` "
            "or `.times`)"
        )


class SpikeMonitor(Monitor):
    """All spikes of `population`, recorded without loss and returned as a `SpikeRecord`
    (`result.spikes[population]`, unpacking as `(indices, times)`).

    On the device each step's spikes are bit-packed into uint32 words (`n/8` bytes per
    step, so no spike can be lost); at the end of each chunk the device also packs which
    words are non-zero, and the host reads only those (work and memory proportional to the
    spikes), keeping int32 neuron indices and int32 global steps: 8 bytes per spike.

    **Arguments:**

    - `population`: the population's name (or the population).
    - `store`: a directory path: stream the spikes to a zarr store there chunk by chunk
      (int32 arrays `indices` and `steps`, appendable, compressed; `pip install
      "spikejax[io]"`) instead of keeping them in host memory; the `SpikeRecord` then reads
      them from disk. The store is created anew by each `run`.

    **Raises:** `ValueError` for a `population` that is neither a population nor a name, or
    a `store` that is not a path.
    """

    store: str | None = eqx.field(static=True)

    def __init__(self, population, *, store: str | os.PathLike | None = None):
        self.population = _name(population)
        self.store = _store_path("SpikeMonitor", store)

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
        self.store = _store_path("StateMonitor", store)
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
