r"""`spikejax.simulate`: single cells and independent populations under a stimulus.

Time is in ms everywhere (rates in Hz). Two families of methods:

* Fixed-step (`"euler"`, `"rk4"`, `"exponential_euler"`, or a `AbstractScheme`): one jitted
  `lax.scan` per chunk. The model and stimulus are pytree *arguments* of the compiled
  function, so new parameter values do not recompile. Step $k$ starts at $t_0 + k\,\Delta t$;
  the current is sampled there and held over the step. Hybrid models apply
  `post_step`, then `spike_condition` and `reset` after each step (spike time = end of the
  step). Continuous models spike at upward crossings of `spike_detection_threshold`, the time
  linearly interpolated between the two steps.
* Adaptive (`"adaptive"` = `diffrax.Tsit5()`, or any `diffrax.AbstractSolver`) with a PID
  step-size controller (`rtol`, `atol`, `dt0`). For hybrid models each threshold crossing is
  located by root finding on `threshold_distance` (a diffrax event), the reset is applied and
  the solve restarts, so spike times are exact to the solver tolerance. Continuous models are
  solved in one pass; their spikes are crossings of the trace saved every `dt`, located on
  the cubic Hermite interpolant (values and vector field at the samples; error O(dt^4)).

Spike storage never drops spikes and costs no per-step scatter: the fixed-step loop ORs each
step's spike flags into one uint32 bit word per neuron per (up to) 32 steps and keeps the time
of each neuron's latest spike in the word; the host turns words into spike times after each
device call (a neuron firing twice within one word makes that call re-run with shorter
words). `max_spikes=None` sizes the output to the largest count; an explicit `max_spikes` that
is too small raises a `ValueError` giving the number needed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Sequence
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ._validation import (
    check_finite,
    check_key,
    check_positive,
    check_scalar,
    is_concrete,
    to_arrays,
)
from .models._base import NeuronModel
from .solvers import (
    SCHEMES,
    AbstractScheme,
    Adaptive,
    advance,
    default_root_tolerances,
    get_scheme,
)
from .solvers._schemes import AUTO
from .spikes import spike_trains
from .stimulus import Stimulus, as_stimulus, check_domain, initial_state, sample_step

__all__ = ["simulate", "SimulationResult"]


# ----------------------------------------------------------------------------------------------
# Result
# ----------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class SimulationResult:
    """The output of `spikejax.simulate` (NumPy arrays on the host; time in ms).

    **Fields:**

    - `times`: `(n_records,)` record times, $t_0 + j\\,r\\,\\Delta t$ (r = `record_every`),
      starting with the initial state at $t_0$.
    - `states`: name -> `(n_records, *shape)` for each recorded state variable.
    - `spike_times`: `(*shape, K)` spike times of each neuron in ascending order, padded with
      NaN; `K` is the largest spike count. float64 whatever the state's dtype: fixed-step
      times are $t_0 + (k + o)\\,\\Delta t$ from the integer step $k$ and the offset $o$
      within it, so a long float32 run's times are as exact as a short one's.
      `n_spikes`: `(*shape)` number of spikes.
    - `final_state`: the state after the last step (pass as `y0=` with `t0=t_final` to
      continue exactly); `final_stimulus_state`: the stimulus' internal state (OU noise).
    - `t0`, `t_final`, `dt`, `method`, `voltage_name`.
    - `wall_time`: seconds spent in `simulate` (includes any compilation).
    """

    times: np.ndarray
    states: dict[str, np.ndarray]
    spike_times: np.ndarray
    n_spikes: np.ndarray
    final_state: dict[str, np.ndarray]
    final_stimulus_state: Any
    t0: float
    t_final: float
    dt: float
    method: str
    voltage_name: str
    wall_time: float = float("nan")

    @property
    def shape(self) -> tuple[int, ...]:
        """The population shape."""
        return tuple(self.n_spikes.shape)

    @property
    def V(self) -> np.ndarray:
        """The recorded membrane potential `(n_records, *shape)`."""
        if self.voltage_name not in self.states:
            raise ValueError(
                f"the membrane potential {self.voltage_name!r} was not recorded; "
                f"recorded: {sorted(self.states)}"
            )
        return self.states[self.voltage_name]

    def _window(self, t_start, t_stop):
        a = self.t0 if t_start is None else float(t_start)
        b = self.t_final if t_stop is None else float(t_stop)
        if not (b > a):
            raise ValueError(f"t_stop must be > t_start, got t_start={a}, t_stop={b}")
        return a, b

    def spike_counts(self, t_start: float | None = None, t_stop: float | None = None):
        """Spikes per neuron with `t_start <= t < t_stop` (ms; default: the whole run)."""
        if t_start is None and t_stop is None:
            return self.n_spikes
        a, b = self._window(t_start, t_stop)
        st = self.spike_times
        with np.errstate(invalid="ignore"):
            return np.sum((st >= a) & (st < b), axis=-1)

    def rates(self, t_start: float | None = None, t_stop: float | None = None):
        """Firing rate of each neuron (Hz) over `[t_start, t_stop)` (ms)."""
        a, b = self._window(t_start, t_stop)
        return self.spike_counts(t_start, t_stop) * 1000.0 / (b - a)

    def spike_trains(self) -> list[np.ndarray]:
        """Spike times of each neuron (flattened population order), as a list of arrays."""
        n = self.n_spikes.reshape(-1)
        st = self.spike_times.reshape(n.size, self.spike_times.shape[-1])
        return [st[i, : n[i]] for i in range(st.shape[0])]

    def spike_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """All spikes as flat `(neuron_index, time)` arrays (flat index), sorted by time."""
        n = self.n_spikes.reshape(-1)
        st = self.spike_times.reshape(n.size, self.spike_times.shape[-1])
        idx, col = np.nonzero(np.arange(st.shape[1])[None, :] < n[:, None])
        times = st[idx, col]
        order = np.argsort(times, kind="stable")
        return idx[order], times[order]


# ----------------------------------------------------------------------------------------------
# Input checks and preparation
# ----------------------------------------------------------------------------------------------
#: The most steps of one `simulate` call (step numbers are int32 on the device).
_MAX_STEPS = 2**31 - 1


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_record_memory(n_records: int, n_values: int) -> None:
    """Refuse a record that cannot fit in the host's memory (it would run for a long time and
    then fail), with the estimate and the ways out."""
    need = n_records * n_values * np.dtype(jnp.result_type(float)).itemsize
    have = _physical_memory()
    if have is not None and need > have:
        raise ValueError(
            f"record: the recorded states would need {need / 2**30:.3g} GiB ({n_records} records "
            f"x {n_values} values), more than this machine's {have / 2**30:.3g} GiB of memory; "
            "record fewer variables (record=... or record=()), a larger record_every, or a "
            "shorter duration"
        )


def _check_int(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def _population_shape(model: NeuronModel, stim: Stimulus) -> tuple[int, ...]:
    mshape = model.shape
    try:
        ishape = stim.shape()
    except (TypeError, ValueError) as err:
        raise ValueError(f"I: cannot evaluate the stimulus at t=0: {err}") from err
    try:
        return tuple(np.broadcast_shapes(mshape, ishape))
    except ValueError:
        raise ValueError(
            f"I of shape {ishape} does not broadcast with the population shape {mshape} of "
            f"{type(model).__name__}"
        ) from None


@eqx.filter_jit
def _resting_state(model: NeuronModel) -> dict:
    # Jitted: some models compute their rest by Newton iteration, slow when run eagerly.
    return model.resting_state()


def _initial_state(model: NeuronModel, y0: Any, shape: tuple[int, ...]) -> dict:
    y = dict(_resting_state(model))
    if y0 is not None:
        if not isinstance(y0, dict):
            raise ValueError(
                f"y0 must be a dict of state variables {list(model.state_names)}, got {type(y0)}"
            )
        unknown = sorted(set(y0) - set(model.state_names))
        if unknown:
            raise ValueError(
                f"y0 has unknown state variable(s) {unknown}; {type(model).__name__} has "
                f"{list(model.state_names)}"
            )
        for k, v in y0.items():
            check_finite(f"y0[{k!r}]", v)
            y[k] = jnp.asarray(v, dtype=jnp.result_type(float))
    out = {}
    for k in model.state_names:
        try:
            out[k] = jnp.broadcast_to(jnp.asarray(y[k], dtype=jnp.result_type(float)), shape)
        except ValueError:
            raise ValueError(
                f"y0[{k!r}] of shape {jnp.shape(y[k])} does not broadcast to the population "
                f"shape {shape}"
            ) from None
    return out


def _resolve_record(model: NeuronModel, record: Any) -> tuple[str, ...]:
    if record is None:
        return tuple(model.state_names)
    if isinstance(record, str):
        record = (record,)
    names = tuple(record)
    unknown = [n for n in names if n not in model.state_names]
    if unknown:
        raise ValueError(
            f"record names unknown state variable(s) {unknown}; {type(model).__name__} has "
            f"{list(model.state_names)}"
        )
    return names


# ----------------------------------------------------------------------------------------------
# Fixed-step engine
# ----------------------------------------------------------------------------------------------
def _where_tree(mask, a: dict, b: dict) -> dict:
    return {k: jnp.where(mask, a[k], b[k]) for k in b}


#: How many times the fixed-step loop has been traced (compiled); tests check reuse.
TRACE_COUNT = [0]


def _make_step(model, stim, scheme, t0, dt, koffset, key):
    """The fixed step `k`: returns `(y, stim_state, spiked, offset)`.

    The step itself is `spikejax.solvers.advance`; the current comes from
    `spikejax.stimulus.sample_step` (absolute step index `koffset + k`). A spike's time is
    `t0 + k dt + offset dt`, formed on the host in float64 from the integer `k`.
    """
    TRACE_COUNT[0] += 1

    def step(y, sstate, k):
        t = t0 + k.astype(dt.dtype) * dt
        I, sstate = sample_step(stim, sstate, t, dt, koffset + k, key=key)
        out = advance(model, scheme, t, y, I, dt)
        return out.state, sstate, out.spikes > 0, out.offset

    return step


@eqx.filter_jit
def _run_chunk(
    model,
    stim,
    y,
    sstate,
    t0,
    dt,
    kstart,
    koffset,
    key,
    *,
    scheme,
    n_blocks,
    block,
    word,
    record,
):
    """`n_blocks * block` steps; records after every block.

    Spikes are stored without any per-step scatter: over each *word* of `word` steps
    (`word` divides `block`, `word <= 32`) every neuron ORs its spike flag into bit `j` of a
    uint32 and keeps the offset (fraction of `dt`) of its latest spike within its step; both
    are emitted once per word, shape `(n_blocks, block // word, N)`. The host turns them into
    spike times from the integer step index (in float64, so a long float32 run's times are as
    exact as a short one's); a neuron that fired twice within one word (popcount > 1) makes
    the caller re-run with a shorter word.
    """
    step = _make_step(model, stim, scheme, t0, dt, koffset, key)
    shape = jnp.shape(y[model.voltage_name])
    n = math.prod(shape)
    tdtype = y[model.voltage_name].dtype
    bit = jnp.arange(word, dtype=jnp.uint32)

    def inner(carry, xs):
        y, sstate, bits, tlast = carry
        k, j = xs
        y, sstate, spiked, offset = step(y, sstate, k)
        spiked = spiked.reshape(-1)
        bits = bits | (spiked.astype(jnp.uint32) << j)
        tlast = jnp.where(spiked, jnp.broadcast_to(offset, spiked.shape), tlast)
        return (y, sstate, bits, tlast), None

    def one_word(carry, ks):
        y, sstate = carry
        init = (y, sstate, jnp.zeros((n,), jnp.uint32), jnp.zeros((n,), tdtype))
        (y, sstate, bits, tlast), _ = jax.lax.scan(inner, init, (ks, bit))
        return (y, sstate), (bits, tlast)

    def outer(carry, j):
        ks = kstart + j * block + jnp.arange(block, dtype=kstart.dtype)
        carry, (bits, tlast) = jax.lax.scan(one_word, carry, ks.reshape(block // word, word))
        return carry, ({name: carry[0][name] for name in record}, bits, tlast)

    (y, sstate), (recs, bits, tlast) = jax.lax.scan(
        outer, (y, sstate), jnp.arange(n_blocks, dtype=kstart.dtype)
    )
    return y, sstate, recs, bits, tlast


#: Largest spike word (steps per uint32 of spike flags).
_WORD = 32
#: Spike-word elements (uint32 flags + times) one device call may return; longer pieces are
#: split into several calls so memory stays bounded for long unchunked runs.
_WORD_BUDGET = 1 << 23


def _largest_divisor(m: int, limit: int) -> int:
    return max(d for d in range(1, min(m, limit) + 1) if m % d == 0)


def _spike_events(
    bits: np.ndarray, offsets: np.ndarray, n: int, k_call: int, word: int, t0: float, dt: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Spike words -> `(cell, time)` in time order, or None if a word holds two spikes.

    Word `w` of a call that starts at step `k_call` covers steps `k_call + w word + j`; the
    set bit `j` gives the step `k`, and the time is `t0 + k dt + offset dt` in float64.
    """
    bits = bits.reshape(-1, n)
    nz = bits != 0
    w, cell = np.nonzero(nz)
    b = bits[w, cell]
    if w.size and int(np.bitwise_count(b).max()) > 1:
        return None
    j = np.bitwise_count(b - np.uint32(1)).astype(np.int64)  # the index of the one set bit
    k = (k_call + w.astype(np.int64) * word + j).astype(np.float64)
    off = offsets.reshape(-1, n)[w, cell].astype(np.float64)
    return cell, t0 + k * dt + off * dt


def _merge_spikes(events: list[tuple[np.ndarray, np.ndarray]], shape, dtype):
    """Per-call `(cell, time)` lists (chronological) -> `(*shape, K)` NaN-padded times."""
    n = math.prod(shape)
    cells = np.concatenate([c for c, _ in events]) if events else np.zeros(0, np.int64)
    times = np.concatenate([t for _, t in events]) if events else np.zeros(0, dtype)
    trains = spike_trains(cells, times, n).astype(dtype, copy=False)
    total = np.bincount(cells, minlength=n).astype(np.int64)
    return trains.reshape(*shape, trains.shape[-1]), total.reshape(shape)


def _simulate_fixed(
    model,
    stim,
    y,
    *,
    scheme,
    n_steps,
    dt,
    t0,
    record,
    record_every,
    chunk_steps,
    max_spikes,
    key,
    stimulus_state,
):
    stochastic = stim.is_stochastic
    dtype = y[model.voltage_name].dtype
    shape = jnp.shape(y[model.voltage_name])
    n = math.prod(shape)
    if stochastic and key is None:
        initial_state(stim, shape, dtype, key=None)  # raises the error naming `key`
    if stimulus_state is not None:
        sstate = jax.tree_util.tree_map(jnp.asarray, stimulus_state)
    else:
        sstate = initial_state(stim, shape, dtype, key=key)
    t0_a = jnp.asarray(t0, dtype)
    dt_a = jnp.asarray(dt, dtype)
    koffset = jnp.asarray(int(round(t0 / dt)), jnp.int32)
    run_key = key if stochastic else None

    r = record_every
    if chunk_steps is None:
        chunk_steps = n_steps
    chunk_steps = max(r, (chunk_steps // r) * r)  # a whole number of record blocks

    def pieces_of(steps):
        """`(n_blocks, block, keep_records)` pieces covering `steps` steps."""
        if record:
            blk = r
        else:  # nothing recorded: pick the block (= one spike word) freely
            blk = _largest_divisor(steps, _WORD)
            if blk < 8 and steps > _WORD:
                blk = _WORD
        nb, rem = divmod(steps, blk)
        out = [(nb, blk, True)] if nb else []
        if rem:
            out.append((1, rem, False))
        return out

    word_limit = _WORD  # shrinks (for the rest of the run) if a neuron fires twice in a word
    rec_host = {name: [np.asarray(y[name])[None]] for name in record}
    events: list[tuple[np.ndarray, np.ndarray]] = []
    k = 0
    while k < n_steps:
        steps = min(chunk_steps, n_steps - k)
        for nb_all, blk, keep in pieces_of(steps):
            done = 0
            while done < nb_all:
                word = _largest_divisor(blk, word_limit)
                per_call = max(1, _WORD_BUDGET // max(1, n * (blk // word)))
                nb = min(nb_all - done, per_call)
                y1, s1, recs, bits, tlast = _run_chunk(
                    model,
                    stim,
                    y,
                    sstate,
                    t0_a,
                    dt_a,
                    jnp.asarray(k, jnp.int32),
                    koffset,
                    run_key,
                    scheme=scheme,
                    n_blocks=nb,
                    block=blk,
                    word=word,
                    record=record,
                )
                ev = _spike_events(np.asarray(bits), np.asarray(tlast), n, k, word, t0, dt)
                if ev is None:  # two spikes in one word: re-run with shorter words
                    word_limit = max(1, word // 4)
                    continue
                events.append(ev)
                y, sstate = y1, s1
                if keep:
                    for name in record:
                        rec_host[name].append(np.asarray(recs[name]))
                k += nb * blk
                done += nb

    spike_times, n_spk = _merge_spikes(events, shape, np.dtype(np.float64))
    if max_spikes is not None and n_spk.size and int(n_spk.max()) > max_spikes:
        raise ValueError(
            f"max_spikes={max_spikes} is too small: a neuron fired {int(n_spk.max())} spikes. "
            f"Pass max_spikes>={int(n_spk.max())}, or max_spikes=None to grow automatically."
        )
    n_rec = n_steps // r + 1
    times = t0 + dt * r * np.arange(n_rec)
    states = {name: np.concatenate(v, axis=0) for name, v in rec_host.items()}
    return times, states, spike_times, n_spk, y, sstate


# ----------------------------------------------------------------------------------------------
# Adaptive engine (diffrax)
# ----------------------------------------------------------------------------------------------
def _time_to_threshold(model, stim, t, y):
    r"""Per cell, the threshold distance divided by its rate of change, $g/|\dot g|$ (ms).

    It has the sign of the threshold distance $g$ and, near a transversal crossing, equals
    the time since the crossing, so the event root finder works on a time: its tolerance is
    a time tolerance whatever the slope of the upstroke (on a residual in mV, a steep
    upstroke times one unit of the time's resolution exceeds any fixed tolerance, and
    Newton's method never meets it). Cells that cannot spike ($g = -\infty$, e.g.
    refractory) get $-10^3$ ms.
    """
    d, slope = jax.jvp(model.threshold_distance, (y,), (model.vector_field(t, y, stim(t)),))
    finite = jnp.isfinite(d)
    d = jnp.where(finite, d, -1.0)
    slope = jnp.where(finite, jnp.abs(slope), 1e-3)
    return d / jnp.maximum(slope, 1e-3)


def _event_distance(model, stim, t, y):
    return jnp.max(_time_to_threshold(model, stim, t, y))


@eqx.filter_jit
def _spiking_cells(model, stim, t, y):
    h = _time_to_threshold(model, stim, t, y)
    return (h == jnp.max(h)) | (model.threshold_distance(y) >= 0)


@eqx.filter_jit
def _adaptive_segment(
    model,
    stim,
    y,
    t_start,
    t_end,
    ts,
    dt0,
    jumps,
    *,
    solver,
    rtol,
    atol,
    root_rtol,
    root_atol,
    max_steps,
    hybrid,
):
    def f(t, y, args):
        return model.vector_field(t, y, stim(t))

    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    if jumps is not None:
        controller = diffrax.ClipStepSizeController(controller, jump_ts=jumps)
    event = None
    if hybrid:
        event = diffrax.Event(
            lambda t, y, args, **kw: _event_distance(model, stim, t, y),
            root_finder=optx.Newton(rtol=root_rtol, atol=root_atol),
            direction=True,
        )
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(f),
        solver,
        t_start,
        t_end,
        dt0,
        y,
        saveat=diffrax.SaveAt(
            subs=[diffrax.SubSaveAt(ts=jnp.clip(ts, t_start, t_end)), diffrax.SubSaveAt(t1=True)]
        ),
        stepsize_controller=controller,
        event=event,
        max_steps=max_steps,
    )
    # Grid values after an event are not reached (inf); the second sub-save is the final
    # (event or end) time and state.
    if sol.ts is None or sol.ys is None:  # saveat saves both: an internal invariant
        raise RuntimeError("diffrax returned no saved states")
    (_, t_last), (ys_grid, ys_last) = sol.ts, sol.ys
    y_last = {k: v[-1] for k, v in ys_last.items()}
    return ys_grid, t_last[-1], y_last, sol.result == diffrax.RESULTS.event_occurred


@eqx.filter_jit
def _rows_vector_field(model, stim, ts, ys):
    return jax.vmap(lambda t, y: model.vector_field(t, y, stim(t)))(ts, ys)


def _hermite_crossings(model, stim, grid, saved):
    """Upward threshold crossings of the saved trace, located on the cubic Hermite
    interpolant built from the saved values and the vector field (error O(h^4), h the grid
    spacing), by bisection started from the bracketing samples."""
    vname, thr = model.voltage_name, model.spike_detection_threshold
    V = saved[vname].reshape(grid.size, -1)
    shape = saved[vname].shape[1:]
    cross = (V[:-1] < thr) & (V[1:] >= thr)
    rows = np.unique(np.nonzero(np.any(cross, axis=1))[0])
    refined = np.full(V.shape[:1] + V.shape[1:], np.nan)
    if rows.size:
        both = np.concatenate([rows, rows + 1])
        ys = {n: jnp.asarray(v[both]) for n, v in saved.items()}
        dV = np.asarray(_rows_vector_field(model, stim, jnp.asarray(grid[both]), ys)[vname])
        dV = dV.reshape(both.size, -1)
        d0, d1 = dV[: rows.size], dV[rows.size :]
        j, c = np.nonzero(cross[rows])
        h = grid[rows[j] + 1] - grid[rows[j]]
        v0, v1 = V[rows[j], c], V[rows[j] + 1, c]
        m0, m1 = d0[j, c] * h, d1[j, c] * h

        def p(x):
            return (
                (2 * x**3 - 3 * x**2 + 1) * v0
                + (x**3 - 2 * x**2 + x) * m0
                + (-2 * x**3 + 3 * x**2) * v1
                + (x**3 - x**2) * m1
                - thr
            )

        lo, hi = np.zeros_like(h), np.ones_like(h)
        for _ in range(60):  # p(lo) < 0 <= p(hi) throughout
            mid = 0.5 * (lo + hi)
            up = p(mid) >= 0
            hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
        refined[rows[j], c] = grid[rows[j]] + hi * h
    counts = cross.sum(axis=0)
    step, cell = np.nonzero(cross)
    out = spike_trains(cell, refined[step, cell], V.shape[1])
    return out.reshape(*shape, out.shape[-1]), counts.reshape(shape)


def _simulate_adaptive(
    model,
    stim,
    y,
    *,
    adaptive,
    n_steps,
    dt,
    t0,
    record,
    record_every,
    max_spikes,
):
    if stim.is_stochastic:
        raise ValueError("I: Noise stimuli need a fixed-step method (method='euler', 'rk4', ...)")
    hybrid = model.is_hybrid
    dtype = y[model.voltage_name].dtype
    shape = jnp.shape(y[model.voltage_name])
    t_end = t0 + n_steps * dt
    r = 1 if not hybrid else record_every  # continuous: save every dt to detect spikes
    grid = t0 + dt * r * np.arange(n_steps // r + 1)
    # Times where the current jumps: the solver steps onto them exactly (an array argument,
    # so new onset values do not recompile; None when there are none).
    jumps = [x for x in stim.discontinuities() if t0 < x < t_end]
    jumps = jnp.asarray(sorted(jumps), dtype) if jumps else None
    dt0_a = jnp.asarray(dt if adaptive.dt0 is None else adaptive.dt0, dtype)
    rtol, atol = adaptive.tolerances(dtype)
    # The event's residual is a time (ms, `_time_to_threshold`): tolerance relative to the
    # run's times, as the resolution of the time itself is.
    root_rtol, root_atol = default_root_tolerances(dtype)
    root_atol = max(root_atol, root_rtol * max(abs(t0), abs(t_end)))
    kw = dict(
        solver=adaptive.solver,
        rtol=rtol,
        atol=atol,
        root_rtol=root_rtol,
        root_atol=root_atol,
        max_steps=adaptive.max_steps,
        hybrid=hybrid,
    )
    saved = {name: np.full((grid.size, *shape), np.nan) for name in model.state_names}
    spike_lists: list[list[float]] = [[] for _ in range(math.prod(shape))]
    t_cur = float(t0)
    while True:
        ys, t_stop, y, had_event = _adaptive_segment(
            model,
            stim,
            y,
            jnp.asarray(t_cur, dtype),
            jnp.asarray(t_end, dtype),
            jnp.asarray(grid, dtype),
            dt0_a,
            jumps,
            **kw,
        )
        t_stop = float(t_stop)
        valid = (grid >= t_cur) & (grid <= t_stop)
        for name in model.state_names:
            saved[name][valid] = np.asarray(ys[name])[valid]
        if not bool(had_event):
            break
        t_a = jnp.asarray(t_stop, dtype)
        spiked = np.asarray(_spiking_cells(model, stim, t_a, y)).reshape(-1)
        for i in np.nonzero(spiked)[0]:
            spike_lists[i].append(t_stop)
        mask = jnp.asarray(spiked.reshape(shape))
        y = _where_tree(mask, model.reset(y), y)
        if np.any(np.asarray(model.threshold_distance(y)) >= 0):
            raise ValueError(
                f"{type(model).__name__}: the reset state is at or above threshold, so the "
                "model would spike forever at one instant"
            )
        t_cur = t_stop
        if t_cur >= t_end:
            break
    if hybrid:
        n_spk = np.array([len(s) for s in spike_lists]).reshape(shape)
        cells = np.repeat(np.arange(len(spike_lists)), [len(s) for s in spike_lists])
        times = np.concatenate([np.asarray(s, float) for s in spike_lists] + [np.zeros(0)])
        st = spike_trains(cells, times, len(spike_lists))
        spike_times = st.reshape(*shape, st.shape[-1])
    else:
        spike_times, n_spk = _hermite_crossings(model, stim, grid, saved)
        saved = {n: v[::record_every] for n, v in saved.items()}
        grid = grid[::record_every]
    if max_spikes is not None and n_spk.size and int(n_spk.max()) > max_spikes:
        raise ValueError(
            f"max_spikes={max_spikes} is too small: a neuron fired {int(n_spk.max())} spikes. "
            f"Pass max_spikes>={int(n_spk.max())}, or max_spikes=None."
        )
    states = {name: saved[name] for name in record}
    return grid, states, spike_times, n_spk, y, None


# ----------------------------------------------------------------------------------------------
# The driver
# ----------------------------------------------------------------------------------------------
def _resolve_method(
    method: str | AbstractScheme | diffrax.AbstractSolver | Adaptive,
    *,
    rtol: float | None,
    atol: float | None,
    dt0: float | None,
    max_steps: int | None,
) -> Adaptive | str | AbstractScheme:
    """`method` as an `Adaptive`, or as given for a fixed-step scheme; options checked."""
    options: dict[str, Any] = dict(rtol=rtol, atol=atol, dt0=dt0, max_steps=max_steps)
    given = {k: v for k, v in options.items() if v is not None}
    for name in ("rtol", "atol", "dt0"):
        if name in given:
            check_positive(name, given[name], "ms" if name == "dt0" else "")
    if "max_steps" in given:
        _check_int("max_steps", given["max_steps"], 1)
    if isinstance(method, Adaptive):
        if given:
            raise ValueError(
                f"pass {sorted(given)} inside the Adaptive method (Adaptive(rtol=..., ...)), "
                "not as well to simulate"
            )
        return method
    if isinstance(method, str) and method not in (AUTO, "adaptive", *SCHEMES):
        raise ValueError(
            f"method must be one of {[AUTO, 'adaptive', *sorted(SCHEMES)]}, a spikejax.solvers "
            f"scheme, a diffrax solver or a spikejax.solvers.Adaptive, got {method!r}"
        )
    if isinstance(method, str) and method == "adaptive":
        method = diffrax.Tsit5()
    if isinstance(method, diffrax.AbstractSolver):
        return Adaptive(method, **given)
    return method


def simulate(
    model: NeuronModel,
    *,
    duration: float,
    dt: float,
    I: Any = 0.0,
    y0: dict | None = None,
    method: str | AbstractScheme | diffrax.AbstractSolver | Adaptive = AUTO,
    record: str | Sequence[str] | None = None,
    record_every: int = 1,
    t0: float = 0.0,
    key: Any = None,
    max_spikes: int | None = None,
    chunk_steps: int | None = None,
    stimulus_state: Any = None,
    rtol: float | None = None,
    atol: float | None = None,
    dt0: float | None = None,
    max_steps: int | None = None,
) -> SimulationResult:
    r"""Simulate `model` (one cell or an independent population) for `duration` ms.

    **Arguments:**

    - `model`: a `NeuronModel`; array parameters make a heterogeneous population.
    - `duration`, `dt`: run length and step (ms, > 0, `dt <= duration`). The run takes
      `round(duration / dt)` steps (Python's round, half to even) and ends at
      `result.t_final = t0 + round(duration / dt) * dt`, which differs from
      `t0 + duration` when `duration` is not a whole number of steps. For adaptive methods
      `dt` is the output grid spacing.
    - `I`: input current: a number, an array (broadcast with the model's shape; a bigger
      shape makes a bigger population) or a `spikejax.stimulus.Stimulus`.
    - `y0`: initial state (dict; missing variables from `model.resting_state()`).
    - `method`: `"auto"` (default: the model's `default_scheme`, e.g. `"exact"` for a
      linear model written as equations; RK4 for a model without a preference, every
      built-in model), `"euler"`, `"rk4"`, `"exponential_euler"`, `"exact"`, a scheme object
      (`spikejax.solvers.Euler()`, ...), `"adaptive"` (`diffrax.Tsit5()`), a
      `diffrax.AbstractSolver` or a `spikejax.solvers.Adaptive` (solver and options).
    - `record`: state variables to record (`None`: all; `()`: none); `record_every`: keep
      every r-th step (the initial state is always the first record).
    - `t0`: start time (ms). `key`: PRNG key for stochastic stimuli (keyword-only); the
      noise of step $k$ uses `fold_in(key, round(t0/dt) + k)`.
    - `max_spikes`: per-neuron spike capacity; `None` grows as needed, an int that is
      exceeded raises `ValueError` with the number needed.
    - `chunk_steps`: run in chunks of this many steps (rounded to a multiple of
      `record_every`), streaming records and spikes to the host, so device memory does not
      grow with `duration`. Results equal an unchunked run.
    - `stimulus_state`: the stimulus' internal state to continue from
      (`result.final_stimulus_state`, for OU noise).
    - `rtol`, `atol`, `dt0`, `max_steps`: adaptive solver options for `"adaptive"` or a bare
      diffrax solver (None: `spikejax.solvers.Adaptive`'s defaults, dtype-aware:
      `default_tolerances`, i.e. `(1e-8, 1e-10)` in float64 and `(1e-5, 1e-6)` in float32).
      Hybrid models' threshold crossings are located by Newton's method on the solver's
      dense output to `default_root_tolerances` of the float dtype (relative to the time).

    **Returns:** a `SimulationResult`.

    New parameter or current values of the same shapes reuse the compiled loop; a new number
    of steps per chunk (`duration`, `dt`, `chunk_steps`, `record_every`) compiles a new one.

    **Raises:** `TypeError` when called with traced values (inside `jax.grad`, `jit` or
    `vmap`: `simulate` is the host-side driver; differentiate `spikejax.fit.solve_fixed`);
    `ValueError` for non-positive, non-finite or inconsistent `duration`/`dt`,
    a current that does not broadcast with the population, unknown state names, or an
    exceeded `max_spikes`.
    """
    start = time.perf_counter()
    if not isinstance(model, NeuronModel):
        raise ValueError(f"model must be a spikejax NeuronModel, got {type(model)}")
    traced = [
        name
        for name, value in (("model", model), ("I", I), ("y0", y0), ("duration", duration),
                            ("dt", dt), ("t0", t0), ("stimulus_state", stimulus_state))
        if not is_concrete(value)
    ]  # fmt: skip
    if traced:
        raise TypeError(
            f"spikejax.simulate got traced {', '.join(traced)} (inside jax.grad, jax.jit or "
            "jax.vmap): simulate is the host-side driver (it runs chunked device calls and "
            "returns NumPy arrays) and cannot be transformed. For gradients use "
            "spikejax.fit.solve_fixed (the same step and stimulus contract, differentiable); "
            "for batches give array parameters (a population) instead of vmap."
        )
    check_positive("duration", duration, "ms")
    check_positive("dt", dt, "ms")
    check_finite("t0", t0)
    for name, value in (("duration", duration), ("dt", dt), ("t0", t0)):
        check_scalar(name, value)
    duration, dt, t0 = float(duration), float(dt), float(t0)
    if not (dt <= duration):
        raise ValueError(f"dt must be <= duration, got dt={dt} ms, duration={duration} ms")
    steps = duration / dt
    if not (steps < _MAX_STEPS):
        raise ValueError(
            f"duration / dt must be < {_MAX_STEPS} steps (the step counter is int32), got "
            f"duration={duration} ms / dt={dt} ms = {steps:.3g} steps; use a larger dt or run "
            "in consecutive calls (t0=..., y0=result.final_state)"
        )
    n_steps = int(round(steps))
    if not (abs(t0 / dt) + n_steps < _MAX_STEPS):
        raise ValueError(
            f"t0 / dt must be within {_MAX_STEPS} steps of 0 (noise is indexed by int32 step "
            f"numbers), got t0={t0} ms / dt={dt} ms = {t0 / dt:.3g} steps"
        )
    record_every = _check_int("record_every", record_every, 1)
    if chunk_steps is not None:
        chunk_steps = _check_int("chunk_steps", chunk_steps, 1)
    if max_spikes is not None:
        max_spikes = _check_int("max_spikes", max_spikes, 1)
    if key is not None:
        check_key("key", key)
    resolved = _resolve_method(method, rtol=rtol, atol=atol, dt0=dt0, max_steps=max_steps)

    stim = as_stimulus(I)
    check_domain(stim, t0, t0 + n_steps * dt)
    shape = _population_shape(model, stim)
    record = _resolve_record(model, record)
    _check_record_memory(n_steps // record_every + 1, math.prod(shape) * len(record))
    model_d = to_arrays(model)
    y = _initial_state(model_d, y0, shape)
    stim_d = to_arrays(stim)

    if isinstance(resolved, Adaptive):
        out = _simulate_adaptive(
            model_d,
            stim_d,
            y,
            adaptive=resolved,
            n_steps=n_steps,
            dt=dt,
            t0=t0,
            record=record,
            record_every=record_every,
            max_spikes=max_spikes,
        )
        method_name = type(resolved.solver).__name__
    else:
        scheme = get_scheme(resolved, model, default="rk4")
        out = _simulate_fixed(
            model_d,
            stim_d,
            y,
            scheme=scheme,
            n_steps=n_steps,
            dt=dt,
            t0=t0,
            record=record,
            record_every=record_every,
            chunk_steps=chunk_steps,
            max_spikes=max_spikes,
            key=key,
            stimulus_state=stimulus_state,
        )
        method_name = scheme.name
    times, states, spike_times, n_spk, y_final, s_final = out
    y_final = {k: np.asarray(v) for k, v in y_final.items()}
    s_final = jax.tree_util.tree_map(np.asarray, s_final)
    return SimulationResult(
        times=times,
        states=states,
        spike_times=spike_times,
        n_spikes=n_spk,
        final_state=y_final,
        final_stimulus_state=s_final,
        t0=t0,
        t_final=t0 + n_steps * dt,
        dt=dt,
        method=method_name,
        voltage_name=model.voltage_name,
        wall_time=time.perf_counter() - start,
    )
