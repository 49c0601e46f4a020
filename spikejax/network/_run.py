"""Running a network: jitted chunks of `lax.scan`, streamed to the host."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import float64_enabled
from ..cpu import compiler_options
from ..spikes import mean_rate, spike_trains
from ._monitor import (
    OFFSETS,
    RECORDERS,
    Monitor,
    RateMonitor,
    SpikeMonitor,
    SpikeRecord,
    StateMonitor,
    nonzero_word_flags,
    spike_events,
)
from ._network import Network, State


@dataclasses.dataclass
class RunResult:
    """Results of `run`: `spikes[pop]`, a `SpikeRecord` (int32 `indices` and `steps`;
    unpacks as `(indices int32, times ms)`), `rates[pop] = (times, rate Hz)`,
    `states[monitor.key] = (times, values (n_records, n_vars, n_idx))`, the final `state`,
    and timing (`compile_s`, `run_s`, `t_start`, `t_stop`, `dt`)."""

    spikes: dict[str, SpikeRecord]
    rates: dict[str, tuple[np.ndarray, np.ndarray]]
    states: dict[str, tuple[np.ndarray, np.ndarray]]
    state: State
    dt: float
    t_start: float
    t_stop: float
    n_neurons: dict[str, int]
    compile_s: float = 0.0
    run_s: float = 0.0
    spike_buffer_growths: int = 0
    network: Any = None

    @property
    def duration(self) -> float:
        return self.t_stop - self.t_start

    def mean_rate(self, population: str) -> float:
        """Mean firing rate (Hz) of a monitored population over the run
        (`spikejax.spikes.mean_rate` of its spikes, or the mean of its `RateMonitor` rate)."""
        if population in self.spikes:
            events = np.broadcast_to(0, (self.spikes[population].n_spikes,))  # no copy
            return mean_rate(events, self.n_neurons[population], self.duration)
        if population in self.rates:
            t, r = self.rates[population]
            return float(np.mean(r)) if r.size else 0.0
        raise ValueError(f"population {population!r} has no spike or rate monitor")

    def spike_trains(self, population: str) -> np.ndarray:
        """The spikes of a `SpikeMonitor`-ed population as NaN-padded trains `(n, K)` (ms),
        the representation of `spikejax.spikes` (e.g. `spikes.cv_isi(res.spike_trains("E"))`)."""
        if population not in self.spikes:
            raise ValueError(f"population {population!r} has no spike monitor")
        i, t = self.spikes[population]
        return spike_trains(i, t, self.n_neurons[population])


def _joined(parts: list) -> np.ndarray:
    """The chunks' arrays of one field joined, emptying `parts` (no copy for a single
    chunk), so that the chunks of one field are released before the next field is joined:
    the records take at most 1.5 times their final size while they are joined, not twice."""
    if len(parts) == 1:
        return parts.pop()
    out = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    parts.clear()
    return out


def _return_freed_memory() -> None:
    """Hand the free pages of the C heap back to the operating system (glibc's
    `malloc_trim`; nothing elsewhere). XLA's compiler frees some 50 MB of working memory
    when a chunk function is compiled, and the freed pages stay resident: the chunks then
    run on other threads, whose allocations come from other malloc arenas and do not reuse
    them, so without this the peak resident memory of a 64k-neuron COBA run grows by the
    compiler's working set (`benchmarks/bench_memory.py`). It takes well under a
    millisecond."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim():
    """glibc's `malloc_trim` (None where there is none), looked up once."""
    import ctypes

    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - not glibc
        return None


_CACHE: dict = {}
_CACHE_MAX = 32


def _signature(dyn, static, monitors, n_steps, state):
    """A hashable key for a compiled chunk function (None if something is unhashable)."""
    try:
        key = (
            jax.tree_util.tree_structure(static),
            tuple(jax.tree_util.tree_leaves(static)),
            jax.tree_util.tree_structure(dyn),
            tuple((x.shape, str(x.dtype)) for x in jax.tree_util.tree_leaves(dyn)),
            jax.tree_util.tree_structure(state),
            tuple(
                (jnp.shape(x), str(jnp.result_type(x))) for x in jax.tree_util.tree_leaves(state)
            ),
            monitors,
            n_steps,
            float64_enabled(),
        )
        hash(key)
        return key
    except TypeError:
        return None


def _platform_of(tree) -> str | None:
    """The platform of the first JAX array in `tree` (None if it has none)."""
    for leaf in jax.tree.leaves(tree):
        if isinstance(leaf, jax.Array):
            return next(iter(leaf.devices())).platform
    return None


def _without_store(m: Monitor) -> Monitor:
    if getattr(m, "store", None) is None:
        return m
    m = copy.copy(m)
    object.__setattr__(m, "store", None)
    return m


class _Compiled:
    """AOT-compiled chunk functions by chunk length (cached across runs of equal networks)."""

    def __init__(self, net: Network, monitors, compile_s: float = 0.0):
        self.dyn, self.static = eqx.partition(net, eqx.is_array)
        # a monitor's store is the host's business: the compiled chunk is the same without it
        self.monitors = tuple(_without_store(m) for m in monitors)
        self.compile_s = compile_s

    def get(self, n_steps: int, state: State) -> Callable[[Any, State], tuple[State, Any, Any]]:
        sig = _signature(self.dyn, self.static, self.monitors, n_steps, state)
        if sig is not None and sig in _CACHE:
            return _CACHE[sig]
        static, monitors = self.static, self.monitors

        def f(dyn, st):
            st, outs = eqx.combine(dyn, static).simulate(st, n_steps, monitors)
            # which spike words are non-zero, for the host to read only those
            flags = {
                m.key: nonzero_word_flags(outs[m.key])
                for m in monitors
                if isinstance(m, SpikeMonitor)
            }
            return st, outs, flags

        t0 = time.perf_counter()
        _return_freed_memory()  # what building the network freed, before compiling
        opts = compiler_options(_platform_of(state))
        fn = jax.jit(f, compiler_options=opts).lower(self.dyn, state).compile()
        _return_freed_memory()  # the compiler's working memory (see the function)
        self.compile_s += time.perf_counter() - t0
        if sig is not None:
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[sig] = fn
        return fn


def _is_prng_key(key) -> bool:
    """A typed key (`jax.random.key`) or a raw uint32 key array (`jax.random.PRNGKey`)."""
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key.shape == ()
    arr = np.asarray(key) if isinstance(key, (np.ndarray, jax.Array)) else None
    return arr is not None and arr.dtype == np.uint32 and arr.shape == (2,)


def _check_state(net: Network, state) -> None:
    """Raise a `ValueError` naming the first difference if `state` does not belong to `net`
    (another network's state, or a state of an older layout)."""
    want = jax.eval_shape(lambda: net.init_state(key=jax.random.key(0)))

    def compare(w, g, where):
        if isinstance(w, dict):
            if not isinstance(g, dict):
                raise ValueError(
                    f"run: the state does not belong to this network: {where or 'it'} should "
                    f"be a dict, got {type(g).__name__}"
                )
            missing = sorted(set(w) - set(g))
            extra = sorted(set(g) - set(w))
            if missing or extra:
                raise ValueError(
                    f"run: the state does not belong to this network: {where or 'the state'} "
                    f"has no {missing} and unknown {extra} (a state from another network, "
                    "or from an older spikejax?)"
                )
            for k in w:
                compare(w[k], g[k], f"{where}[{k!r}]")
            return
        shape = np.shape(g)
        if shape != w.shape:
            raise ValueError(
                f"run: the state does not belong to this network: {where} has shape {shape}, "
                f"this network needs {w.shape} (a state from another network?)"
            )

    compare(want, state, "")


#: `run` warns before a run whose `StateMonitor` records would take more host memory than this
STATE_MONITOR_WARN_BYTES = 1 << 30


def _warn_state_monitor_memory(net: Network, monitors, n_steps: int) -> None:
    total = 0
    for m in monitors:
        if isinstance(m, StateMonitor):
            if m.store is not None:
                continue  # streamed to disk
            n_idx = net.populations[m.population].n if m.indices is None else len(m.indices)
            rows = n_steps // m.every + 1
            total += rows * len(m.variables) * n_idx * np.dtype(net.dtype).itemsize
    if total > STATE_MONITOR_WARN_BYTES:
        warnings.warn(
            f"run: the StateMonitor records of this run will take about {total / 2**30:.1f} GiB "
            "of host memory; stream them to disk (StateMonitor(..., store=path)), record "
            "fewer variables or neurons (indices=), or decimate (every=)",
            ResourceWarning,
            stacklevel=3,
        )


#: The last step an int32 step counter reaches.
_MAX_STEP = 2**31 - 1


class _Store:
    """A monitor's records streamed to a zarr store (a directory): named arrays appended
    chunk by chunk along their first axis, created anew by each `run` (`StateMonitor`:
    `times` `(n,)` and `values` `(n, n_variables, n_indices)`; `SpikeMonitor`: int32
    `indices` and `steps`)."""

    #: bytes of one stored chunk (before compression)
    CHUNK_BYTES = 1 << 22

    def __init__(self, path: str, owner: str, attrs: dict | None = None):
        try:
            import zarr
        except ImportError as err:  # pragma: no cover - the io extra installs it
            raise ImportError(f"{owner}(store=...) needs zarr: pip install 'spikejax[io]'") from err
        self.zarr = zarr
        self.path = path
        self.attrs = attrs or {}
        self.group = None

    def append(self, **arrays: np.ndarray) -> None:
        if self.group is None:
            self.group = self.zarr.open_group(self.path, mode="w")
            self.group.attrs.update(self.attrs)
            for name, a in arrays.items():
                row = max(1, int(np.prod(a.shape[1:])) * a.dtype.itemsize)
                rows = max(1, self.CHUNK_BYTES // row)
                self.group.create_array(
                    name, shape=(0, *a.shape[1:]), chunks=(rows, *a.shape[1:]), dtype=a.dtype
                )
        for name, a in arrays.items():
            self.group[name].append(a)  # pyright: ignore

    def arrays(self, **empty: np.ndarray) -> dict[str, Any]:
        """The stored arrays (`empty[name]` where nothing was appended)."""
        if self.group is None:
            return empty
        return {name: self.group[name] for name in empty}


@eqx.filter_jit
def _initial_state(net: Network, key) -> State:
    """`net.init_state(key=key)` as one compiled program (the same values; eagerly, each of
    its operations would be compiled on its own on a first run, about a second in all)."""
    return net.init_state(key=key)


#: `run` shortens its chunks so that one chunk's spike words take at most this many bytes
SPIKE_WORDS_CHUNK_BYTES = 16 << 20


def _chunk_length(net: Network, monitors, n_steps: int, chunk_steps: int) -> int:
    """`chunk_steps`, or shorter equal chunks if the spike words of one chunk would exceed
    `SPIKE_WORDS_CHUNK_BYTES` (4 bytes per 32 neurons of each monitored population)."""
    itemsize = np.dtype(net.dtype).itemsize
    per_step = sum(
        4 * -(-net.populations[m.population].n // 32)
        + (itemsize * net.populations[m.population].n if m.population in net.precise_ else 0)
        for m in monitors
        if isinstance(m, SpikeMonitor)
    )
    longest = max(1, SPIKE_WORDS_CHUNK_BYTES // max(per_step, 1))
    if min(chunk_steps, n_steps) <= longest:
        return chunk_steps
    n_chunks = -(-n_steps // longest)
    return -(-n_steps // n_chunks)


def run(
    net: Network,
    duration: float | None = None,
    *,
    n_steps: int | None = None,
    state: State | None = None,
    key=None,
    monitors: tuple[Monitor, ...] | list = (),
    chunk_steps: int = 10_000,
    progress: bool = False,
) -> RunResult:
    r"""Simulate `net` for `duration` ms (or `n_steps` steps) from `state` (or from
    `net.init_state(key=key)`), in jitted chunks of `chunk_steps` steps; monitor data of each
    chunk is copied to the host and compacted (device memory does not grow with duration).
    Continuing from `result.state` gives exactly the same as one unbroken run.
    `progress=True` shows a tqdm bar.

    Spikes (`SpikeMonitor`) come off the device as bit-packed words, `n/8` bytes per step,
    with a 32 times smaller map of the non-zero words; the host reads only those, so its
    work is proportional to the spikes, and keeps int32 indices and steps (8 bytes per
    spike, `SpikeRecord`). Chunks are shortened (to equal lengths) so that one chunk's
    spike words stay within 16 MiB (`SPIKE_WORDS_CHUNK_BYTES`).

    Time convention: a run from global step $k_0$ covers the time interval
    $(k_0\,\Delta t, (k_0 + n)\,\Delta t]$ (`(result.t_start, result.t_stop]`): a spike is
    stamped with the end of its step, so a spike at exactly `t_stop` belongs to this run and
    a continued run starts after it. `duration` is rounded to the nearest whole number of
    steps. A `state=` must come from this network (a named `ValueError` otherwise); `run`
    warns (`ResourceWarning`) before a run whose `StateMonitor` records would exceed
    1 GiB of host memory.

    If an event-path spike buffer fills up in a chunk, the chunk is repeated with large
    enough buffers (counted in `result.spike_buffer_growths`; the returned `result.network`
    has the grown buffers), so no spike is ever dropped."""
    if (duration is None) == (n_steps is None):
        raise ValueError("run: give exactly one of duration (ms) and n_steps")
    if n_steps is None:
        try:
            d = (
                math.nan
                if duration is None or isinstance(duration, (str, bytes))
                else float(duration)
            )
        except (TypeError, ValueError):
            d = math.nan
        if not (0 < d < math.inf):
            raise ValueError(f"run: duration must be finite and > 0 ms, got {duration!r}")
        n_steps = int(round(d / net.dt))
        if n_steps < 1:
            raise ValueError(
                f"run: duration={duration!r} ms is shorter than half a step (dt={net.dt} ms)"
            )
    if not (
        isinstance(n_steps, (int, np.integer, float)) and n_steps == n_steps // 1 and n_steps >= 1
    ):
        raise ValueError(f"run: n_steps must be an integer >= 1, got {n_steps!r}")
    n_steps = int(n_steps)
    if not (int(chunk_steps) == chunk_steps and chunk_steps >= 1):
        raise ValueError(f"run: chunk_steps must be an integer >= 1, got {chunk_steps!r}")
    if state is None:
        if key is None:
            raise ValueError("run: give a PRNG key= (or a state=)")
        if not _is_prng_key(key):
            raise ValueError(
                f"run: key must be a JAX PRNG key such as jax.random.key(0), got {key!r}"
            )
        state = _initial_state(net, key)
    else:
        _check_state(net, state)
    monitors = tuple(monitors)
    for m in monitors:
        net._check_monitor(m)
    keys = [m.key for m in monitors]
    if len(set(keys)) != len(keys):
        raise ValueError(f"run: duplicate monitors {keys}")
    _warn_state_monitor_memory(net, monitors, n_steps)
    k_start = int(state["step"])
    if not (k_start + n_steps <= _MAX_STEP):
        raise ValueError(
            f"run: the network's step counter is int32: step {k_start} + n_steps={n_steps} "
            f"exceeds {_MAX_STEP} (at dt={net.dt} ms: {_MAX_STEP * net.dt:.4g} ms in all); "
            "use a larger dt or shorter runs"
        )
    chunk_steps = _chunk_length(net, monitors, n_steps, int(chunk_steps))
    comp = _Compiled(net, monitors)
    growths = 0
    # each recorded population's `indices`, `steps` (and `offsets`) of every chunk
    spike_parts: dict[str, dict[str, list]] = {
        m.population: {"indices": [], "steps": []}
        | ({"offsets": []} if m.population in net.precise_ else {})
        for m in monitors
        if isinstance(m, SpikeMonitor) and m.store is None
    }
    rate_parts: dict[str, list] = {m.population: [] for m in monitors if isinstance(m, RateMonitor)}
    state_parts: dict[str, list] = {m.key: [] for m in monitors if isinstance(m, RECORDERS)}
    stores = {
        m.key: _Store(
            m.store,
            type(m).__name__,
            {"dt_ms": net.dt, "n_neurons": net.populations[m.population].n}
            if isinstance(m, SpikeMonitor)
            else None,
        )
        for m in monitors
        if isinstance(m, SpikeMonitor | StateMonitor) and m.store is not None
    }
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_steps * net.dt, unit="ms", desc="simulating")
    run_s = 0.0
    done = 0
    while done < n_steps:
        m_steps = min(chunk_steps, n_steps - done)
        fn = comp.get(m_steps, state)
        k0 = k_start + done
        t0 = time.perf_counter()
        new_state, outs, flags = fn(comp.dyn, state)
        outs, flags = jax.device_get((outs, flags))
        run_s += time.perf_counter() - t0
        grown = {
            p: max(2 * c, 1 << (int(new_state["max_spikes"][p]) - 1).bit_length())
            for p, c in net.spike_buffers.items()
            if int(new_state["overflow"][p]) != int(state["overflow"][p])
        }
        if grown:
            # More neurons spiked in one step than a spike buffer holds: repeat the chunk
            # exactly with buffers large enough for the most spikes seen in one step.
            net = net.with_spike_buffers(**grown)
            comp = _Compiled(net, monitors, comp.compile_s)
            growths += 1
            continue
        state = new_state
        o = None
        for m in monitors:
            o = outs[m.key]
            if isinstance(m, SpikeMonitor):
                steps, idx = spike_events(o, flags[m.key])
                part = {"indices": idx}
                if m.population in net.precise_:
                    # the offset from the end of the step, in (-1, 0]
                    part["offsets"] = np.asarray(outs[m.key + OFFSETS])[steps, idx] - 1
                # global steps (<= _MAX_STEP): int32, the chunk's rows shifted in place
                steps = steps.astype(np.int32, copy=False)
                steps += k0 + 1
                part["steps"] = steps
                if m.key in stores:
                    stores[m.key].append(**part)
                else:
                    for name, a in part.items():
                        spike_parts[m.population][name].append(a)
                del steps, idx, part
            elif isinstance(m, RateMonitor):
                n = net.populations[m.population].n
                rate_parts[m.population].append(np.asarray(o) / (n * net.dt * 1e-3))
            elif isinstance(m, RECORDERS):
                n_rec = (k0 + m_steps) // m.every - k0 // m.every
                first = (k0 // m.every + 1) * m.every
                times = (first + m.every * np.arange(n_rec)) * net.dt
                if m.key in stores:
                    stores[m.key].append(times=times, values=np.asarray(o)[:n_rec])
                else:
                    state_parts[m.key].append((times, np.asarray(o)[:n_rec]))
        del outs, flags, o  # the next chunk's outputs need not sit beside these
        done += m_steps
        if bar is not None:
            bar.update(m_steps * net.dt)
    if bar is not None:
        bar.close()
    t_start, t_stop = k_start * net.dt, (k_start + n_steps) * net.dt
    spikes = {}
    for p, v in spike_parts.items():
        got = {name: _joined(parts) for name, parts in v.items()}
        spikes[p] = SpikeRecord(got["indices"], got["steps"], net.dt, got.get("offsets"))
    for m in monitors:
        if isinstance(m, SpikeMonitor) and m.store is not None:
            empty = np.zeros(0, np.int32)
            names = {"indices": empty, "steps": empty}
            if m.population in net.precise_:
                names["offsets"] = np.zeros(0, net.dtype)
            got = stores[m.key].arrays(**names)
            spikes[m.population] = SpikeRecord(
                got["indices"], got["steps"], net.dt, got.get("offsets")
            )
    rates = {}
    for p, v in rate_parts.items():
        r = np.concatenate(v)
        rates[p] = ((k_start + 1 + np.arange(r.size)) * net.dt, r)
    states = {
        k: (np.concatenate([a for a, _ in v]), np.concatenate([b for _, b in v]))
        for k, v in state_parts.items()
        if k not in stores
    }
    for m in monitors:
        if isinstance(m, StateMonitor) and m.store is not None:
            got = stores[m.key].arrays(times=np.zeros(0), values=np.zeros((0,)))
            states[m.key] = (np.asarray(got["times"][:]), got["values"])
    return RunResult(
        spikes=spikes,
        rates=rates,
        states=states,
        state=state,
        dt=net.dt,
        t_start=t_start,
        t_stop=t_stop,
        n_neurons={n: p.n for n, p in net.populations.items()},
        compile_s=comp.compile_s,
        run_s=run_s,
        spike_buffer_growths=growths,
        network=net,
    )
