r"""`spikejax.simulate`: single cells and independent populations under a stimulus.

Time is in ms everywhere (rates in Hz). Two families of methods:

* Fixed-step (`"euler"`, `"rk4"`, `"exponential_euler"`, or a `FixedStepScheme`): one jitted
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

Spike storage never drops spikes: each neuron's spike times go into a padded buffer whose
capacity grows (by re-running the chunk) when `max_spikes=None`; an explicit `max_spikes` that
is too small raises a `ValueError` giving the number needed.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ._integrators import FixedStepScheme, get_scheme
from ._validation import check_finite, check_positive
from .models._base import NeuronModel
from .stimulus import Stimulus, as_stimulus

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
      NaN; `K` is the largest spike count. `n_spikes`: `(*shape)` number of spikes.
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
def _to_dynamic(tree: Any) -> Any:
    """Turn Python/NumPy number leaves into JAX arrays so `filter_jit` traces them."""

    def conv(x):
        if isinstance(x, bool):
            return x
        if isinstance(x, float | int | np.ndarray | np.generic):
            arr = np.asarray(x)
            if arr.dtype.kind in "fiu":
                return jnp.asarray(arr, dtype=jnp.result_type(float))
        return x

    return jax.tree_util.tree_map(conv, tree)


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


def _make_step(model, stim, scheme, t0, dt, koffset, key, stochastic):
    """The fixed step `k`: returns `(y, stim_state, spiked, spike_time)`."""
    TRACE_COUNT[0] += 1
    hybrid = model.is_hybrid
    vname = model.voltage_name
    thr = model.spike_detection_threshold

    def step(y, sstate, k):
        t = t0 + k.astype(dt.dtype) * dt
        skey = jax.random.fold_in(key, koffset + k) if stochastic else None
        I, sstate = stim.sample(sstate, t, dt, key=skey)
        y1 = scheme.step(model, t, y, I, dt)
        y1 = model.post_step(y1, dt)
        if hybrid:
            spiked = model.spike_condition(y1)
            y1 = _where_tree(spiked, model.reset(y1), y1)
            tspk = jnp.broadcast_to(t + dt, spiked.shape)
        else:
            v0, v1 = y[vname], y1[vname]
            spiked = (v0 < thr) & (v1 >= thr)
            denom = jnp.where(spiked, v1 - v0, 1.0)
            tspk = t + dt * jnp.where(spiked, (thr - v0) / denom, 1.0)
        y1 = {n: y1[n].astype(y[n].dtype) for n in y}
        return y1, sstate, spiked, tspk.astype(y[vname].dtype)

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
    cap,
    record,
    stochastic,
):
    """`n_blocks * block` steps; records after every block; spikes into a `(N, cap)` buffer."""
    step = _make_step(model, stim, scheme, t0, dt, koffset, key, stochastic)
    shape = jnp.shape(y[model.voltage_name])
    n = math.prod(shape)
    tdtype = y[model.voltage_name].dtype
    buf = jnp.full((n, cap), jnp.nan, tdtype)
    counts = jnp.zeros((n,), jnp.int32)
    rows = jnp.arange(n)

    def inner(carry, k):
        y, sstate, buf, counts = carry
        y, sstate, spiked, tspk = step(y, sstate, k)
        spiked = spiked.reshape(-1)

        def store(buf):
            col = jnp.where(spiked, counts, cap)  # out of range -> dropped (non-spiking cells)
            return buf.at[rows, col].set(tspk.reshape(-1), mode="drop")

        buf = jax.lax.cond(jnp.any(spiked), store, lambda b: b, buf)
        counts = counts + spiked.astype(jnp.int32)
        return (y, sstate, buf, counts), None

    def outer(carry, j):
        ks = kstart + j * block + jnp.arange(block, dtype=kstart.dtype)
        carry, _ = jax.lax.scan(inner, carry, ks)
        return carry, {name: carry[0][name] for name in record}

    (y, sstate, buf, counts), recs = jax.lax.scan(
        outer, (y, sstate, buf, counts), jnp.arange(n_blocks, dtype=kstart.dtype)
    )
    return y, sstate, recs, buf, counts


def _merge_spikes(chunks: list[tuple[np.ndarray, np.ndarray]], shape) -> tuple[np.ndarray, ...]:
    n = math.prod(shape)
    total = np.zeros(n, np.int64)
    for _, c in chunks:
        total += c
    K = int(total.max()) if n else 0
    dtype = chunks[0][0].dtype if chunks else np.float64
    out = np.full((n, K), np.nan, dtype)
    offset = np.zeros(n, np.int64)
    for buf, c in chunks:
        if buf.shape[1] == 0:
            continue
        rows, cols = np.nonzero(np.arange(buf.shape[1])[None, :] < c[:, None])
        out[rows, offset[rows] + cols] = buf[rows, cols]
        offset += c
    return out.reshape(*shape, K), total.reshape(shape)


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
    if stochastic:
        if key is None:
            raise ValueError(
                "key: the stimulus is stochastic (Noise); pass key=jax.random.key(...)"
            )
        init_key = jax.random.fold_in(key, -1 & 0x7FFFFFFF)
    else:
        init_key = None
    if stimulus_state is not None:
        sstate = jax.tree_util.tree_map(jnp.asarray, stimulus_state)
    else:
        sstate = stim.init(shape, dtype, key=init_key)
    t0_a = jnp.asarray(t0, dtype)
    dt_a = jnp.asarray(dt, dtype)
    koffset = jnp.asarray(int(round(t0 / dt)), jnp.int32)
    run_key = key if stochastic else None

    r = record_every
    if chunk_steps is None:
        chunk_steps = n_steps
    chunk_steps = max(r, (chunk_steps // r) * r)  # a whole number of record blocks
    chunk_ms = chunk_steps * dt
    # Initial buffer capacity: 200 Hz, at least 8, never more than one spike per step.
    auto_cap = int(min(chunk_steps, max(8, math.ceil(chunk_ms * 0.2))))
    cap = auto_cap if max_spikes is None else int(min(max_spikes, chunk_steps))

    rec_host = {name: [np.asarray(y[name])[None]] for name in record}
    spikes: list[tuple[np.ndarray, np.ndarray]] = []
    k = 0
    while k < n_steps:
        steps = min(chunk_steps, n_steps - k)
        n_blocks, rem = divmod(steps, r)
        pieces = [(n_blocks, r, True)] if n_blocks else []
        if rem:
            pieces.append((1, rem, False))
        for nb, blk, keep in pieces:
            while True:
                out = _run_chunk(
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
                    cap=cap,
                    record=record,
                    stochastic=stochastic,
                )
                y1, s1, recs, buf, counts = out
                counts = np.asarray(counts)
                needed = int(counts.max()) if counts.size else 0
                if needed > cap and max_spikes is None:
                    cap = 1 << (needed - 1).bit_length()  # grow and re-run this piece
                    continue
                break
            y, sstate = y1, s1
            spikes.append((np.asarray(buf), counts))
            if keep:
                for name in record:
                    rec_host[name].append(np.asarray(recs[name]))
            k += nb * blk

    spike_times, n_spk = _merge_spikes(spikes, shape)
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
def _event_distance(model, y):
    d = model.threshold_distance(y)
    d = jnp.where(jnp.isfinite(d), d, -1e30)
    return jnp.max(d)


@eqx.filter_jit
def _adaptive_segment(
    model, stim, y, t_start, t_end, ts, dt0, jumps, *, solver, rtol, atol, max_steps, hybrid
):
    def f(t, y, args):
        return model.vector_field(t, y, stim(t))

    controller = diffrax.PIDController(rtol=rtol, atol=atol, jump_ts=jumps)
    event = None
    if hybrid:
        event = diffrax.Event(
            lambda t, y, args, **kw: _event_distance(model, y),
            root_finder=optx.Newton(rtol=1e-13, atol=1e-13),
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
    K = int(counts.max()) if counts.size else 0
    out = np.full((V.shape[1], K), np.nan)
    step, cell = np.nonzero(cross)
    order = np.lexsort((step, cell))
    step, cell = step[order], cell[order]
    first = np.searchsorted(cell, np.arange(V.shape[1]))
    out[cell, np.arange(cell.size) - first[cell]] = refined[step, cell]
    return out.reshape(*shape, K), counts.reshape(shape)


def _simulate_adaptive(
    model,
    stim,
    y,
    *,
    solver,
    n_steps,
    dt,
    t0,
    record,
    record_every,
    rtol,
    atol,
    dt0,
    max_steps,
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
    dt0_a = jnp.asarray(dt if dt0 is None else dt0, dtype)
    kw = dict(solver=solver, rtol=rtol, atol=atol, max_steps=max_steps, hybrid=hybrid)
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
        d = np.asarray(model.threshold_distance(y)).reshape(-1)
        d = np.where(np.isfinite(d), d, -np.inf)
        spiked = (d == d.max()) | (d >= 0)
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
        K = int(n_spk.max()) if n_spk.size else 0
        st = np.full((len(spike_lists), K), np.nan)
        for i, s in enumerate(spike_lists):
            st[i, : len(s)] = s
        spike_times = st.reshape(*shape, K)
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
def simulate(
    model: NeuronModel,
    *,
    duration: float,
    dt: float,
    I: Any = 0.0,
    y0: dict | None = None,
    method: str | FixedStepScheme | diffrax.AbstractSolver = "rk4",
    record: str | Sequence[str] | None = None,
    record_every: int = 1,
    t0: float = 0.0,
    key: Any = None,
    max_spikes: int | None = None,
    chunk_steps: int | None = None,
    stimulus_state: Any = None,
    rtol: float = 1e-8,
    atol: float = 1e-8,
    dt0: float | None = None,
    max_steps: int = 1_000_000,
) -> SimulationResult:
    r"""Simulate `model` (one cell or an independent population) for `duration` ms.

    **Arguments:**
    - `model`: a `NeuronModel`; array parameters make a heterogeneous population.
    - `duration`, `dt`: run length and step (ms, > 0, `dt <= duration`). The run takes
      `round(duration / dt)` steps. For adaptive methods `dt` is the output grid spacing.
    - `I`: input current: a number, an array (broadcast with the model's shape; a bigger
      shape makes a bigger population) or a `spikejax.stimulus.Stimulus`.
    - `y0`: initial state (dict; missing variables from `model.resting_state()`).
    - `method`: `"euler"`, `"rk4"`, `"exponential_euler"`, a `FixedStepScheme`,
      `"adaptive"` (`diffrax.Tsit5()`) or a `diffrax.AbstractSolver`.
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
    - `rtol`, `atol`, `dt0`, `max_steps`: adaptive solver options.

    **Returns:** a `SimulationResult`.

    New parameter or current values of the same shapes reuse the compiled loop; a new number
    of steps per chunk (`duration`, `dt`, `chunk_steps`, `record_every`) compiles a new one.

    **Raises:** `ValueError` for non-positive, non-finite or inconsistent `duration`/`dt`,
    a current that does not broadcast with the population, unknown state names, or an
    exceeded `max_spikes`.
    """
    start = time.perf_counter()
    if not isinstance(model, NeuronModel):
        raise ValueError(f"model must be a spikejax NeuronModel, got {type(model)}")
    check_positive("duration", duration, "ms")
    check_positive("dt", dt, "ms")
    check_finite("t0", t0)
    duration, dt, t0 = float(duration), float(dt), float(t0)
    if not (dt <= duration):
        raise ValueError(f"dt must be <= duration, got dt={dt} ms, duration={duration} ms")
    n_steps = int(round(duration / dt))
    record_every = _check_int("record_every", record_every, 1)
    if chunk_steps is not None:
        chunk_steps = _check_int("chunk_steps", chunk_steps, 1)
    if max_spikes is not None:
        max_spikes = _check_int("max_spikes", max_spikes, 1)
    check_positive("rtol", rtol)
    check_positive("atol", atol)
    if dt0 is not None:
        check_positive("dt0", dt0, "ms")

    stim = as_stimulus(I)
    shape = _population_shape(model, stim)
    record = _resolve_record(model, record)
    model_d = _to_dynamic(model)
    y = _initial_state(model_d, y0, shape)
    stim_d = _to_dynamic(stim)

    if isinstance(method, str) and method == "adaptive":
        method = diffrax.Tsit5()
    if isinstance(method, diffrax.AbstractSolver):
        out = _simulate_adaptive(
            model_d,
            stim_d,
            y,
            solver=method,
            n_steps=n_steps,
            dt=dt,
            t0=t0,
            record=record,
            record_every=record_every,
            rtol=rtol,
            atol=atol,
            dt0=dt0,
            max_steps=max_steps,
            max_spikes=max_spikes,
        )
        method_name = type(method).__name__
    else:
        scheme = get_scheme(method)
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
