"""Projections: synapses from one population to another, and their compiled (device) form.

`Projection` is the user's description: it draws the connectivity on the host (numpy) and
keeps it grouped by pre neuron (row offsets, int32 post indices, weights and delays in the
same order; `ExplicitRows` hands such rows over as they are, in their final types).
`Network` compiles each projection for a time step `dt` into one of two propagation paths:

* **dense**: a weight matrix per distinct delay, `buffer[slot] += s_pre @ W` (small or
  all-to-all projections);
* **event**: a table of the rows with no padding between them (CSR: row offsets and post
  indices, and weights and delays if they vary; each spike reads a fixed-size window of
  the largest out-degree from its row's start, see `CompiledProjection`), so a step
  touches only the rows of the neurons that spiked. `Network(delivery="loop")` (the
  default on CPU) walks the step's spikes in a loop (`deliver_events`: cost proportional
  to the synaptic events); `delivery="padded"` (the default elsewhere) gathers the
  spiking neurons into a fixed-size buffer and scatters all their windows, the entries
  past each row into a dummy column. Either way at most `spike_buffer` spikes per pre
  population and step are delivered; a step with more is counted in the state
  (`"overflow"`), and `run` then repeats the chunk with a larger buffer, so no spike is
  ever dropped silently and results are exact.

Spikes are accumulated into the network's ring buffer of `max_delay + 1` slots, which holds
the columns of every post-synaptic receptor.
"""

from __future__ import annotations

from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite, check_key
from ._connectivity import Connectivity, Explicit, ExplicitRows
from ._native import deliver_native
from ._plasticity import PlasticityRule
from ._synapse import Delta, Exponential, Synapse, exp_kernel_integral

_DENSE_MAX_ENTRIES = 4_000_000
#: synapses per block of the host-side conversions (bounded temporaries)
_BLOCK = 1 << 22


def _rng_from_key(key) -> np.random.Generator:
    check_key("Projection key", key)
    data = np.asarray(jax.random.key_data(key)).astype(np.uint64).reshape(-1)
    return np.random.default_rng([int(x) for x in data])


def _resolve(name: str, value: Any, n_syn: int, rng: Any) -> Any:
    """`value` (scalar, per-synapse array or function of `(rng, n_syn)`) as a numpy array:
    float32 arrays stay float32 (a large network's tables are built in its final width, with
    no float64 copy), anything else becomes float64."""
    if callable(value):
        value = value(rng, n_syn)
    if np.shape(value) not in ((), (n_syn,)):
        raise ValueError(
            f"Projection {name} must be a scalar or shape ({n_syn},), got {np.shape(value)}"
        )
    check_finite(f"Projection {name}", value)
    keep = isinstance(value, np.ndarray) and value.dtype == np.float32
    return np.asarray(value, dtype=np.float32 if keep else float)


class Projection:
    r"""Synapses from population `pre` to population `post`.

    **Arguments:**

    - `pre`, `post`: `Population` / `PoissonPopulation` objects.
    - `connectivity`: a rule from `spikejax.network` (`AllToAll`, `FixedProbability`, ...).
    - `weight`: scalar, array of one value per synapse (in the rule's synapse order), or a
      function `weight(rng, n_syn)` of a numpy Generator; units of the synapse's variable
      (mV for `Delta`, input current or conductance otherwise). With Dale's law (`pre.sign`
      set) give magnitudes: current-based weights get the pre population's sign;
      conductances must be >= 0.
    - `delay`: transmission delay in ms (scalar, per-synapse array or function), >= 0; rounded
      to whole steps. A spike emitted at time $t$ (the end of a step) reaches the synapse at
      $t + d$: it acts in the step that starts at $t + d$ (with $d = 0$, the next step, as in
      Brian2's default schedule).
    - `synapse`: a `Synapse` (`Delta()` default, `Exponential`, `Alpha`, `DualExponential`).
    - `receptor`: projections into the same post population with the same receptor name share
      one synaptic variable (e.g. `"exc"`); default: the projection's own name.
    - `propagation`: `"auto"` (default; the event path unless the projection is tiny when the
      network delivers by the loop, as on a CPU; dense for small or dense projections
      otherwise), `"dense"` or `"event"`.
    - `spike_buffer`: the most spikes of `pre` per step the event path delivers (default:
      the population size with `Network(delivery="loop")`, 4 % of it (>= 32) with
      `"padded"`; `run` enlarges it and repeats a chunk whenever it fills, so no spike is
      lost).
    - `plasticity`: a `PlasticityRule` (`PairSTDP`, `TripletSTDP`, `VogelsSTDP`,
      `TsodyksMarkram`, or your own) to make the synapses plastic: their weights and traces
      then live in the network state (`state["plastic"][name]`) and are updated event by
      event (see `spikejax.network` docs, "Plasticity"). The initial weights must lie in
      the rule's `[w_min, w_max]`; with Dale's law the rule acts on weight magnitudes.
    - `key`: JAX PRNG key for the random connectivity (keyword-only).

    **Raises:** `ValueError` naming the argument: not a connectivity rule, an unknown
    `propagation`, a bad `spike_buffer`, weights or delays of the wrong shape or not finite,
    negative delays, weights against Dale's law or negative conductances, a `plasticity`
    that is not a `PlasticityRule`, with `propagation="dense"`, or initial weights outside
    its bounds (or conductance bounds below 0).
    """

    def __init__(
        self,
        pre,
        post,
        connectivity: Connectivity,
        *,
        weight: Any = None,
        delay: Any = None,
        synapse: Synapse | None = None,
        receptor: str | None = None,
        name: str | None = None,
        propagation: Literal["auto", "dense", "event"] = "auto",
        spike_buffer: int | None = None,
        plasticity: PlasticityRule | None = None,
        key=None,
    ):
        if not isinstance(connectivity, Connectivity):
            raise ValueError(
                f"Projection.connectivity must be a Connectivity rule, got {type(connectivity)}"
            )
        if propagation not in ("auto", "dense", "event"):
            raise ValueError(
                f"Projection.propagation must be 'auto', 'dense' or 'event', got {propagation!r}"
            )
        if spike_buffer is not None and not (
            int(spike_buffer) == spike_buffer and spike_buffer > 0
        ):
            raise ValueError(
                f"Projection.spike_buffer must be an integer > 0, got {spike_buffer!r}"
            )
        self.pre_name, self.post_name = pre.name, post.name
        self.n_pre, self.n_post = pre.n, post.n
        self.name = name or f"{pre.name}->{post.name}"
        self.synapse = Delta() if synapse is None else synapse
        if not isinstance(self.synapse, Synapse):
            raise ValueError(f"Projection.synapse must be a Synapse, got {type(self.synapse)}")
        if isinstance(self.synapse, Delta) and not hasattr(post, "model"):
            raise ValueError("Projection: a PoissonPopulation cannot be a post-synaptic target")
        if not hasattr(post, "model"):
            raise ValueError("Projection: a PoissonPopulation cannot be a post-synaptic target")
        self.receptor = receptor or self.name
        self.propagation = propagation
        self.spike_buffer = spike_buffer
        if key is None:
            key = jax.random.key(0)
        rng = _rng_from_key(key)
        if type(connectivity).rows is not Connectivity.rows:
            # the rule builds compressed rows itself, in int32 (bounded memory)
            offsets, post_idx = connectivity.rows(self.n_pre, self.n_post, rng, pre is post)
            order = None
        else:  # pairs (`Explicit`, user rules): weights given in their order follow the sort
            pre_idx, post_idx = connectivity.build(self.n_pre, self.n_post, rng, pre is post)
            order = np.lexsort((post_idx, pre_idx))
            counts = np.bincount(pre_idx, minlength=self.n_pre)
            offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            post_idx = post_idx[order].astype(np.int32)
            del pre_idx
        n_syn = int(offsets[-1])
        if isinstance(connectivity, Explicit | ExplicitRows):
            if weight is None and connectivity.weight is not None:
                weight = connectivity.weight
            if delay is None and connectivity.delay is not None:
                delay = connectivity.delay
        weight = 1.0 if weight is None else weight
        delay = 0.0 if delay is None else delay
        w = _resolve("weight", weight, n_syn, rng)
        d = _resolve("delay", delay, n_syn, rng)
        if not np.all(d >= 0):
            raise ValueError(f"Projection {self.name}: delay must be >= 0 ms")
        sign = getattr(pre, "sign", None)
        if self.synapse.conductance_based:
            if not np.all(w >= 0):
                raise ValueError(
                    f"Projection {self.name}: conductance weights must be >= 0 "
                    "(the reversal potential sets the sign)"
                )
        elif sign is not None:
            if not (np.all(w >= 0) or (sign < 0 and np.all(w <= 0))):
                raise ValueError(
                    f"Projection {self.name}: Dale's law: pre population {pre.name!r} has sign "
                    f"{sign:+d}; give weight magnitudes >= 0 (or all weights of that sign)"
                )
            w = sign * np.abs(w)
        # the synapses grouped by pre neuron (CSR): row i is `post_idx[offsets[i]:offsets[i+1]]`
        self.offsets = offsets
        self.post_idx = post_idx
        self.weight = w if (w.ndim == 0 or order is None) else w[order]
        self.delay = d if (d.ndim == 0 or order is None) else d[order]
        self.plasticity = plasticity
        # plastic weights are stored as magnitudes and get the pre population's sign when
        # transmitted (current-based synapses under Dale's law)
        self.plastic_sign = 1 if (self.synapse.conductance_based or sign is None) else sign
        if plasticity is not None:
            self._check_plasticity(plasticity)

    def _check_plasticity(self, rule) -> None:
        if not isinstance(rule, PlasticityRule):
            raise ValueError(
                f"Projection {self.name}: plasticity must be a PlasticityRule, got {type(rule)}"
            )
        if self.propagation == "dense":
            raise ValueError(
                f"Projection {self.name}: a plastic projection (plasticity={type(rule).__name__})"
                " is updated event by event; it cannot have propagation='dense' (use 'auto' or "
                "'event')"
            )
        grows = rule.changes_weights
        if self.synapse.conductance_based and grows and not (float(rule.w_min) >= 0):
            raise ValueError(
                f"Projection {self.name}: conductance weights must stay >= 0, but "
                f"{type(rule).__name__}.w_min = {rule.w_min!r}"
            )
        w = np.broadcast_to(self.weight * self.plastic_sign, (self.n_synapses,))
        rule.check_weights(f"Projection {self.name}", w)

    @property
    def n_synapses(self) -> int:
        return int(self.offsets[-1])

    @property
    def out_degrees(self) -> np.ndarray:
        """Synapses per pre neuron, `(n_pre,)`."""
        return np.diff(self.offsets)

    @property
    def pre_idx(self) -> np.ndarray:
        """The pre index of every synapse (int32, in synapse order: sorted by pre index)."""
        return np.repeat(np.arange(self.n_pre, dtype=np.int32), self.out_degrees)

    def compile(self, dt: float, dtype, event_loop: bool = False) -> CompiledProjection:
        return CompiledProjection(self, dt, dtype, event_loop)


def _auto_mode(n_pre: int, n_post: int, n_synapses: int, n_delays: int, event_loop: bool):
    """The propagation path `"auto"` picks. A dense step costs `n_pre * n_post` multiply-adds
    per delay group whatever the activity; the event path costs the spiking neurons'
    synapses. With the loop delivery (CPU) the event path wins unless the projection is
    tiny: Izhikevich's all-to-all 1000-neuron network steps 10x faster (19.6 instead of 194
    us on the development machine), as neurons rarely fire in the same step. With the padded
    delivery (GPU), dense matrix products of small or dense projections (density >= 0.1,
    at most 4M entries) use the device better."""
    entries = n_pre * n_post
    if event_loop:
        return "dense" if entries * n_delays <= 4_096 else "event"
    density = n_synapses / max(1, entries)
    dense_ok = entries * n_delays <= _DENSE_MAX_ENTRIES and density >= 0.1
    return "dense" if (entries <= 16_384 or dense_ok) else "event"


def _delay_steps(delay, dt: float):
    """`(distinct steps, largest, steps)` of the delays `delay` (ms; scalar or per synapse)
    rounded to whole steps of `dt`; per-synapse steps are computed in blocks, in the
    narrowest integer type, with no full-size float64 temporary."""
    d = np.asarray(delay)
    if d.ndim == 0:
        s = int(np.rint(float(d) / dt))
        return (s,), s, np.int64(s)
    if d.size == 0:
        return (0,), 0, np.zeros(0, np.int64)
    hi = int(np.rint(float(d.max()) / dt))
    itype = next(t for t in (np.int8, np.int16, np.int32, np.int64) if hi <= np.iinfo(t).max)
    steps = np.empty(d.shape, itype)
    for a in range(0, d.size, _BLOCK):
        steps[a : a + _BLOCK] = np.rint(d[a : a + _BLOCK].astype(np.float64) / dt)
    values = tuple(int(v) for v in np.flatnonzero(_bincount_blocks(steps, hi)))
    return values, hi, steps


def _bincount_blocks(x: np.ndarray, hi: int) -> np.ndarray:
    """`np.bincount(x, minlength=hi + 1)` in blocks (no full-size int64 copy of `x`)."""
    out = np.zeros(hi + 1, np.int64)
    for a in range(0, x.size, _BLOCK):
        out += np.bincount(x[a : a + _BLOCK], minlength=hi + 1)
    return out


def _padded_device(x: np.ndarray, K: int, dtype):
    """The device array of `x` (1-d) followed by `K` zeros, in `dtype`."""
    out = np.zeros(x.size + K, dtype)
    out[: x.size] = x
    return jnp.asarray(out)


class CompiledProjection(eqx.Module):
    """Device form of a `Projection` for a fixed `dt` (built by `Network`)."""

    weight: Any  # scalar, or per synapse: (n_synapses + K,) in row order (event); None (dense)
    matrix: Any  # dense: (n_groups, n_pre, n_post) synapse counts (scalar weight) or weights
    rows: Any  # event path: the synapse table, int32 (see `CompiledProjection.__init__`)
    delays: Any  # event path, heterogeneous: (n_synapses + K,) delay steps in row order
    name: str = eqx.field(static=True)
    pre: str = eqx.field(static=True)
    post: str = eqx.field(static=True)
    receptor: str = eqx.field(static=True)
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    n_synapses: int = eqx.field(static=True)
    mode: str = eqx.field(static=True)
    delay_values: tuple = eqx.field(static=True)  # dense groups, or (d,) homogeneous event
    max_delay: int = eqx.field(static=True)
    width: int = eqx.field(static=True)  # event path: K, the largest out-degree (>= 1)

    def __init__(self, p: Projection, dt: float, dtype, event_loop: bool = False):
        """`event_loop`: the network delivers events by the loop (CPU), which makes the
        automatic choice prefer the event path (see `_auto_mode`).

        The event path stores the synapses grouped by pre neuron with no padding between rows
        (CSR): `rows` is one int32 array, `[offsets (n_pre + 2), targets (n_synapses + K)]`;
        row `j` is `targets[offsets[j]:offsets[j + 1]]` (row `n_pre`, a dummy, is empty) and
        the targets end with `K` padding entries (`n_post`, the dummy column), so that a
        fixed-size window of `K` (the largest out-degree) from any row start stays in
        bounds. A spike of `j` reads that window and sends the entries past its row to the
        dummy column. Per-synapse weights and delay steps follow the targets' order
        (`(n_synapses + K,)`). The table costs `4 + weight + delay` bytes per synapse plus
        `K` entries in all, whatever the spread of the out-degrees (a padded row table costs
        the largest out-degree per neuron: 1.8x the synapses for the microcircuit)."""
        self.name, self.pre, self.post, self.receptor = p.name, p.pre_name, p.post_name, p.receptor
        self.n_pre, self.n_post, self.n_synapses = p.n_pre, p.n_post, p.n_synapses
        values, self.max_delay, dsteps = _delay_steps(p.delay, dt)
        mode = p.propagation
        if mode == "auto":
            mode = _auto_mode(p.n_pre, p.n_post, p.n_synapses, len(values), event_loop)
        self.mode = mode
        if mode == "dense":
            pre_idx = p.pre_idx
            W = np.zeros((len(values), p.n_pre, p.n_post))
            g = np.searchsorted(values, np.broadcast_to(dsteps, pre_idx.shape))
            scalar = np.ndim(p.weight) == 0
            entry = 1.0 if scalar else p.weight
            np.add.at(W, (g, pre_idx, p.post_idx), np.broadcast_to(entry, pre_idx.shape))
            self.matrix = jnp.asarray(W, dtype)
            self.weight = jnp.asarray(p.weight, dtype) if scalar else None
            self.rows = None
            self.delays = None
            self.delay_values = values
            self.width = 0
            return
        self.matrix = None
        n, n_pre = p.n_synapses, p.n_pre
        K = max(1, int(p.out_degrees.max()) if n_pre else 1)
        self.width = K
        if n_pre + 2 + n + K > np.iinfo(np.int32).max:
            raise ValueError(
                f"Projection {p.name}: {n} synapses exceed the int32 synapse table "
                f"(at most {np.iinfo(np.int32).max - n_pre - 2 - K}); split the projection"
            )
        rows = np.empty(n_pre + 2 + n + K, np.int32)
        rows[: n_pre + 1] = p.offsets
        rows[n_pre + 1] = n
        rows[n_pre + 2 : n_pre + 2 + n] = p.post_idx
        rows[n_pre + 2 + n :] = p.n_post
        self.rows = jnp.asarray(rows)
        del rows
        if np.ndim(p.weight) == 0:
            self.weight = jnp.asarray(p.weight, dtype)
        else:
            self.weight = _padded_device(p.weight, K, dtype)
        if len(values) == 1:
            self.delays = None
            self.delay_values = values
        else:
            # the narrowest integer type that holds the delays (1 or 2 bytes per synapse
            # for delays below 128 or 32768 steps instead of 4)
            itype = next(
                t for t in (np.int8, np.int16, np.int32) if self.max_delay <= np.iinfo(t).max
            )
            self.delays = _padded_device(np.asarray(dsteps), K, itype)
            self.delay_values = ()

    @property
    def receptor_key(self) -> str:
        """The post-synaptic receptor this projection feeds: `"<post>:<receptor>"`."""
        return f"{self.post}:{self.receptor}"

    def deliver(self, buf, s, k, col: int, idx=None):
        """Add the spikes `s` (0/1, `(n_pre,)`) emitted at the end of step `k` into the
        network's ring buffer `buf` (`(D, W)`; this projection's receptor occupies columns
        `col : col + n_post + 1`, the last one a dummy target for padding). Event path: `idx`
        holds the spiking pre indices from `select_spikes` (padded with the dummy row
        `n_pre`)."""
        D, W = buf.shape
        if self.mode == "dense":
            sf = s.astype(buf.dtype)
            for j, d in enumerate(self.delay_values):
                slot = (k + 1 + d) % D if D > 1 else 0
                contrib = sf @ self.matrix[j]
                if self.weight is not None:
                    contrib = contrib * self.weight
                row = jax.lax.dynamic_index_in_dim(buf, slot, 0, keepdims=False)
                row = row.at[col : col + self.n_post].add(contrib)
                buf = jax.lax.dynamic_update_index_in_dim(buf, row, slot, 0)
            return buf
        flat = buf.reshape(-1)
        target, w = self.targets(idx, k, col, D, W)
        w = jnp.broadcast_to(w, target.shape).astype(flat.dtype)
        flat = flat.at[target.reshape(-1)].add(w.reshape(-1), mode="promise_in_bounds")
        return flat.reshape(buf.shape)

    def targets(self, j, k, col: int, D: int, W: int):
        """Event path: the flat ring-buffer positions (in a `(D, W)` buffer, receptor columns
        from `col`) and weights of the synapses of pre neuron(s) `j` (a scalar index or an
        index array), `K` (`width`) per neuron, for a spike emitted at the end of step `k`;
        the entries past a neuron's row go to the dummy column."""
        target = _row_targets(
            self.rows, self.delays, self.delay_values, j, k, col, D, W, self.layout
        )
        w = self.weight
        if jnp.ndim(w) != 0:
            w = _window(w, self.rows[j], self.width)
        return target, w

    @property
    def layout(self) -> tuple[int, int, int]:
        """`(n_pre, n_post, width)`: what `_row_targets` needs to read the event table."""
        return (self.n_pre, self.n_post, self.width)


def _window(table, start, K: int):
    """`table[start : start + K]` for a scalar `start`; `(len(start), K)` such windows for an
    index array (always in bounds: every table ends with `K` padding entries)."""
    if jnp.ndim(start) == 0:
        return jax.lax.dynamic_slice_in_dim(table, start, K)
    pos = start[:, None] + jnp.arange(K, dtype=start.dtype)
    return table.at[pos].get(mode="promise_in_bounds")


def _row_targets(rows, delays, delay_values, j, k, col, D, W, layout, mask: bool = True):
    """Flat positions in a `(D, W)` ring buffer of the synapses in row(s) `j` of an event
    table (`rows`, see `CompiledProjection`; `layout`: `(n_pre, n_post, K)`; `delays`:
    per-synapse delay steps, or None for the single delay `delay_values[0]`) for spikes
    emitted at the end of step `k`: a window of `K` per row, whose entries past the row go
    to the dummy column `n_post` (unless `mask` is False: for callers that read only the
    row's first `rows[j + 1] - rows[j]` entries)."""
    n_pre, n_post, K = layout
    start = rows[j]
    post = _window(rows, start + (n_pre + 2), K)
    if mask:
        length = rows[j + 1] - start
        iota = jnp.arange(K, dtype=start.dtype)
        post = jnp.where(iota < (length[..., None] if jnp.ndim(length) else length), post, n_post)
    if delays is None:
        slot = (k + 1 + delay_values[0]) % D if D > 1 else 0
        return post + (slot * W + col)
    d = _window(delays, start, K).astype(jnp.int32)  # narrow storage, int32 arithmetic
    return post + (((k + 1 + d) % D) * W + col)


@jax.custom_batching.custom_vmap
def _loop_bound(count):
    """The trip count of a delivery loop: `count`; under `vmap`, the largest count of the
    batch, unbatched, so that the loop is not a batched `while` (which selects between old
    and new carries, i.e. copies the ring buffers, in every iteration); members past their
    own count deliver to the dummy row."""
    return count


@_loop_bound.def_vmap
def _loop_bound_vmap(axis_size, in_batched, count):
    (batched,) = in_batched
    return (jnp.max(count) if batched else count), False


def spike_words(spiking):
    """Pack a boolean spike vector `(n,)` into `ceil(n/32)` uint32 words (bit `b` of word `w`
    is neuron `32 w + b`): one cheap fused reduction per step."""
    n = spiking.shape[0]
    n_words = -(-n // 32)
    sp = jnp.zeros((n_words * 32,), jnp.uint32).at[:n].set(spiking.astype(jnp.uint32))
    shifts = jnp.arange(32, dtype=jnp.uint32)
    return jax.lax.reduce(
        sp.reshape(n_words, 32) << shifts, jnp.uint32(0), jax.lax.bitwise_or, (1,)
    )


#: up to this many spike words per step, the non-zero words are listed by sorting (measured on
#: XLA CPU: 0.44 vs 1.34 us for 25 words, 1.4 vs 2.3 us for 100), beyond by a cumulative sum
#: (17 vs 40 us for 2000)
_SORT_MAX_WORDS = 256


def _pop_lowest_bit(m):
    """`(m without its lowest set bit, that bit's index)` for a uint32 word `m` != 0."""
    low = m & (~m + jnp.uint32(1))
    return m ^ low, 31 - jax.lax.clz(low).astype(jnp.int32)


def _walk_spikes(words, count, words_per_member: int, n_pre: int, body, carry):
    """`carry = body(b, j, carry)` for the first `count` spiking neurons of the spike words
    `words` (from `spike_words`; the words of `M` batch members one after the other, each
    `words_per_member` long; `b` is the member, `j` the neuron), in order. The work is
    proportional to the spikes: the non-zero words are listed once (a sort of the word
    indices, or a cumulative sum for long word arrays), and each iteration takes the lowest
    set bit of the current word (count-leading-zeros), so there is no search and no `cond`
    in the loop. If this loop is itself batched by `jax.vmap`, it runs as many iterations as
    the busiest member of that batch (`_loop_bound`); members past their own spikes get
    `j = n_pre`, a dummy row."""
    n_words = words.shape[0]
    nonzero = words != 0
    # word_list[p]: index of the p-th non-zero word (the tail: n_words, an all-zero word)
    if n_words <= _SORT_MAX_WORDS:
        # sorting a short array is one XLA kernel, cheaper on CPU than a cumulative sum
        iota = jnp.arange(n_words + 1, dtype=jnp.int32)
        flags = jnp.concatenate([nonzero, jnp.zeros((1,), bool)])
        word_list = jnp.sort(jnp.where(flags, iota, n_words))
    else:
        position = jnp.cumsum(nonzero.astype(jnp.int32)) - 1
        word_list = (
            jnp.full((n_words + 1,), n_words, jnp.int32)
            .at[jnp.where(nonzero, position, n_words)]
            .set(jnp.arange(n_words, dtype=jnp.int32), mode="promise_in_bounds")
        )
    words_ext = jnp.concatenate([words, jnp.zeros((1,), words.dtype)])
    n_members = n_words // words_per_member

    def step(i, state):
        p, m, carry = state
        used_up = m == 0
        p = p + used_up.astype(jnp.int32)
        w = word_list[jnp.minimum(p, n_words)]
        m = jnp.where(used_up, words_ext[w], m)
        m, bit = _pop_lowest_bit(m)
        if n_members == 1:
            b, j = 0, w * 32 + bit
        else:
            b = jnp.minimum(w // words_per_member, n_members - 1)
            j = (w - b * words_per_member) * 32 + bit
        j = jnp.where(i < count, j, n_pre)  # the dummy row (only reached under vmap)
        return p, m, body(b, j, carry)

    # initial position -1 and bit mask 0, derived from the data so that they have its type
    # (also inside `shard_map`, where values carry their manual-axis variance)
    init = (count.astype(jnp.int32) * 0 - 1, words[0] & jnp.uint32(0), carry)
    return jax.lax.fori_loop(0, _loop_bound(count), step, init)[2]


def _walk_spike_bits(words, count, words_per_member: int, n_pre: int, body, carry):
    """The same walk as `_walk_spikes` (`carry = body(b, j, carry)` for the first `count`
    spiking neurons, in order), written for loops that XLA compiles into one kernel
    (`spikejax.cpu.loop_kernels_active`): a loop over the words and, inside it, over the set
    bits of each word, with no sort and no scatter. As separate kernels its iterations would
    cost a launch each; as one kernel a word costs about a nanosecond. Spikes past `count`
    (only with an explicit spike buffer that overflowed) go to the dummy row `n_pre`."""
    n_members = words.shape[0] // words_per_member

    def word(w, state):
        def has_bits(st):
            return st[0] != 0

        def bit(st):
            m, i, carry = st
            m, bit = _pop_lowest_bit(m)
            j = (w % words_per_member) * 32 + bit
            b = w // words_per_member if n_members > 1 else 0
            j = jnp.where(i < count, j, n_pre)
            return m, i + 1, body(b, j, carry)

        i, carry = state
        _, i, carry = jax.lax.while_loop(has_bits, bit, (words[w], i, carry))
        return i, carry

    init = (count.astype(jnp.int32) * 0, carry)
    return jax.lax.fori_loop(0, words.shape[0], word, init)[1]


#: the single-kernel delivery (`_add_row`, about 2.2 ns per synapse) is used for populations
#: with at most this many synapses per spike on average; beyond, a scatter per spike (about
#: 1.6 ns per synapse, plus a fixed launch cost of about 0.5 us) is faster
_SINGLE_KERNEL_MAX_SYNAPSES = 256


#: networks with at least this many neurons deliver through the compiled kernel (`_native`)
#: on a CPU where it is available; smaller ones keep the XLA loop, which XLA can fuse with
#: the rest of a small network's step into one kernel (a custom call prevents that).
#: Measured on COBA, one thread (`benchmarks/bench_native_delivery.py`), a warm run with the
#: compiled kernel over one with the XLA loop: 1.27-1.78x at 1000-4000 neurons, 0.94x at
#: 4096, 0.69-0.76x from 6144 to 65536 (`results/native_delivery*.json`); with the kernel
#: boundary, 0.96-1.63x at 1000-5000 and 0.83-0.85x at 6144-8192
#: (`results/native_delivery_boundary.json`)
NATIVE_MIN_NEURONS = 6144


def event_kernel(projections, n_neurons: int = 0) -> str:
    """How `deliver_events` should write its loop for the event-path `projections` of one
    pre-synaptic population of a network of `n_neurons` neurons, on a CPU backend:
    `"native"` (the compiled kernel of `_native`, bit-identical) where it is available and
    either the network has at least `NATIVE_MIN_NEURONS` neurons or XLA does not compile
    loops into kernels; else `"single"` (nested single-element updates) where XLA CPU
    compiles loops into one kernel (`spikejax.cpu.loop_kernels_active`) and a spike has at
    most `_SINGLE_KERNEL_MAX_SYNAPSES` synapses on average; else `"scatter"` (also on other
    backends).

    Decided on the host when a `Network` is built (it reads the process's XLA settings and
    backend, and compiles the kernel on first use), never while tracing; the network passes
    the decision to `deliver_events`."""
    from ..cpu import loop_kernels_active
    from ._native import native_delivery

    if jax.default_backend() != "cpu":
        return "scatter"
    loops = loop_kernels_active()
    if (n_neurons >= NATIVE_MIN_NEURONS or not loops) and native_delivery() is not None:
        return "native"
    n_pre = projections[0].n_pre
    per_spike = sum(cp.n_synapses for cp in projections) / max(1, n_pre)
    return "single" if loops and per_spike <= _SINGLE_KERNEL_MAX_SYNAPSES else "scatter"


def _add_at(flat, t, value):
    """`flat[t] += value` for one scalar position `t` (a dynamic update, no scatter)."""
    old = jax.lax.dynamic_index_in_dim(flat, t, 0, keepdims=False)
    return jax.lax.dynamic_update_index_in_dim(flat, old + value, t, 0)


def _member(x, batched: bool, b):
    """`x[b]` for a batched array (leading batch axis), `x` otherwise."""
    return x[b] if batched else x


#: synapses added per iteration of `_add_row`'s loop (unrolled: 2.2 instead of 2.7 ns per
#: synapse on the development machine)
_ROW_UNROLL = 4


def _add_row(flat, target, weight, start, n):
    """`flat[target(i)] += weight` (a scalar, or `weight[i]`) for the `n` synapses
    `i = start, ..., start + n - 1` of a row of an event table, one at a time (no scatter,
    and no vector of the row's targets: each synapse is read where it is stored)."""

    def synapse(q, flat):
        i = start + q
        w = weight if jnp.ndim(weight) == 0 else weight[i]
        return _add_at(flat, target(i), w.astype(flat.dtype))

    def block(i, flat):
        for u in range(_ROW_UNROLL):
            flat = synapse(i * _ROW_UNROLL + u, flat)
        return flat

    whole = n // _ROW_UNROLL
    flat = jax.lax.fori_loop(0, whole, block, flat)
    return jax.lax.fori_loop(whole * _ROW_UNROLL, n, synapse, flat)


def clear_slots(flat, k, D: int, W: int):
    """`flat` (the ring buffers of `M` members, `M * D * W` values in any shape; `k` one
    step or one per member) with each member's slot `k % D` zeroed: the slot a step has
    read."""
    buf = flat.reshape(-1, D, W)
    slot = jnp.broadcast_to(jnp.asarray(k) % D, (buf.shape[0],))
    keep = jnp.arange(D)[None, :] != slot[:, None]
    return jnp.where(keep[:, :, None], buf, 0).astype(flat.dtype).reshape(flat.shape)


def deliver_events(
    projections, flat, words, count, k, D: int, W: int, cols, kernel: str, clear: bool = False
):
    """Event path, one loop over the spiking neurons of one pre population (`words` from
    `spike_words`, the first `count` of them; see `_walk_spikes`): for each, one scatter adds
    the rows of all `projections` (all from that population) into the ring buffer `flat`
    (`D * W` values, `(D, W)` or flattened, returned in the same shape; projection `i`'s
    receptor at columns `cols[i]`). Pass the loop-carried buffer in its own shape: with the
    compiled kernel, a reshape in between makes XLA copy the whole buffer every step.

    Under `jax.vmap` (a batch of networks), one loop walks the spikes of all members in
    sequence and scatters each into its member's slice of the flattened batch of buffers, so
    the work stays proportional to the batch's synaptic events (a batched loop would run
    every member for as many iterations as the busiest one).

    Reverse-mode autodiff goes through it with a custom VJP: the cotangent of `flat` passes
    unchanged and each projection's weight (scalar or per synapse) gets the sum of the buffer
    cotangents at its synapses' targets over the step's spikes (the same loop, gathering
    instead of scattering). Forward mode (`jax.jvp`) is not defined for it: use
    `Network(delivery="padded")` for that.

    `kernel`: `"single"`, `"scatter"` or `"native"` (the compiled kernel of `_native`), the
    loop's form (same sums in the same order), as decided by `event_kernel` when the network
    was built. `clear` (`"native"` only): first zero the slot `k % D` that the step read
    (`clear_slots`); the compiled kernel does this in place, where clearing it in XLA
    before the kernel's in-place update makes XLA copy the whole ring buffer, twice."""
    n_pre = projections[0].n_pre
    n_words = words.shape[-1]
    L = D * W
    static = [(cp.delay_values, c, cp.layout) for cp, c in zip(projections, cols)]
    widths = [cp.width for cp in projections]

    def targets(b, j, rows, delays, k, batched, mask=True):
        """Flat targets (offset by member `b`'s buffer) of row `j` of every projection (a
        window of its `width`; see `_row_targets` for `mask`)."""
        rows_b, delays_b, k_b = batched
        kb = _member(k, k_b, b)
        out = []
        for r, d, rb, db, (dv, c, lay) in zip(rows, delays, rows_b, delays_b, static):
            d = None if d is None else _member(d, db, b)
            r = _member(r, rb, b)
            out.append(_row_targets(r, d, dv, j, kb, c, D, W, lay, mask) + b * L)
        return out

    def row_span(r, rb, b, j):
        """`(start, length)` of row `j` of the (member `b`'s) table `r`."""
        r = _member(r, rb, b)
        start = r[j]
        return start, r[j + 1] - start

    def scatter_loop(flat, weights, rows, delays, words, count, k, batched):
        """All members' deliveries in one loop (`flat`: `(M * L,)`, `words`: `(M * n_words,)`,
        `count`: total spikes; `batched`: which of weights/rows/delays/k have a member axis)."""
        weights_b = batched[0]
        scalar = [jnp.ndim(w) == (1 if wb else 0) for w, wb in zip(weights, weights_b)]
        row_values = None
        if all(scalar):
            # every projection has one weight (per member): the values of a row do not depend
            # on the spike, so they are built once, outside the loop
            lead = (flat.shape[0] // L,) if any(weights_b) else ()
            parts = []
            for w, wb, K in zip(weights, weights_b, widths):
                w = jnp.asarray(w, flat.dtype)
                w = w[:, None] if wb else w
                parts.append(jnp.broadcast_to(w, lead + (K,)))
            row_values = jnp.concatenate(parts, axis=-1)

        def body(b, j, flat):
            tg = targets(b, j, rows, delays, k, batched[1:])
            if row_values is not None:  # all(scalar)
                value = row_values[b] if any(weights_b) else row_values
            else:
                values = []
                for t, w, wb, r, rb, K in zip(tg, weights, weights_b, rows, batched[1], widths):
                    w = _member(w, wb, b)
                    if jnp.ndim(w) != 0:
                        w = _window(w, row_span(r, rb, b, j)[0], K)
                    values.append(jnp.broadcast_to(w, t.shape))
                value = jnp.concatenate(values).astype(flat.dtype)
            return flat.at[jnp.concatenate(tg)].add(value, mode="promise_in_bounds")

        return _walk_spikes(words, count, n_words, n_pre, body, flat)

    def scalar_loop(flat, weights, rows, delays, words, count, k, batched):
        """`scatter_loop` as nested loops of single-element updates: for each spike, for each
        projection, the synapses of its row up to the row's padding (`n_post`). For loops
        compiled into one kernel (`spikejax.cpu.loop_kernels_active`), where a scatter
        would split the loop into separately launched kernels; same sums, in the same order."""
        weights_b, rows_b, delays_b, k_b = batched

        def body(b, j, flat):
            kb = _member(k, k_b, b)
            for w, r, d, wb, rb, db, (dv, c, lay) in zip(
                weights, rows, delays, weights_b, rows_b, delays_b, static
            ):
                w = _member(w, wb, b)
                start, n = row_span(r, rb, b, j)
                r = _member(r, rb, b)
                base = lay[0] + 2  # the targets follow the n_pre + 2 offsets
                if d is None:
                    slot = (kb + 1 + dv[0]) % D if D > 1 else 0
                    off = slot * W + c + b * L

                    def one_delay(i, r=r, off=off, base=base):
                        return r[base + i] + off

                    target = one_delay
                else:
                    d = _member(d, db, b)

                    def own_delay(i, r=r, d=d, base=base, c=c):
                        slot = (kb + 1 + d[i].astype(jnp.int32)) % D
                        return r[base + i] + slot * W + (c + b * L)

                    target = own_delay
                flat = _add_row(flat, target, w, start, n)
            return flat

        return _walk_spike_bits(words, count, n_words, n_pre, body, flat)

    def native_loop(flat, weights, rows, delays, words, count, k, batched):
        """`scalar_loop` as one call of the compiled kernel (`_native`): same sums, same
        order. Tables with a member axis (members with their own weights, synapses or
        delays) stay on `scalar_loop`."""
        weights_b, rows_b, delays_b, _ = batched
        if any(weights_b) or any(rows_b) or any(delays_b):
            if clear:
                flat = clear_slots(flat, k, D, W)
            return flat_loop(scalar_loop)(flat, weights, rows, delays, words, count, k, batched)
        # the buffer goes in as it is shaped: a reshape between the loop-carried buffer and
        # the in-place call makes XLA copy the whole buffer
        return deliver_native(
            flat,
            words,
            count,
            k,
            list(zip(rows, weights, delays)),
            D=D,
            W=W,
            words_per_member=n_words,
            n_pre=n_pre,
            cols=cols,
            delay_values=[dv[0] if dv else 0 for dv, _, _ in static],
            per_synapse=[jnp.ndim(w) != 0 for w in weights],
            clear=clear,
        )

    def gather_loop(ct, weights, rows, delays, words, count, k, batched, n_members):
        """The weights' cotangents (with a member axis if `n_members`) from the buffer
        cotangent `ct` (`(M * L,)`), by the same walk over the spikes."""

        # each member's weight shape: () for a scalar weight, (n_synapses + K,) for a table
        shapes = [jnp.shape(w)[1:] if wb else jnp.shape(w) for w, wb in zip(weights, batched[0])]

        def body(b, j, acc):
            out = []
            tg = targets(b, j, rows, delays, k, batched[1:])
            for t, sh, a, r, rb, K in zip(tg, shapes, acc, rows, batched[1], widths):
                g = ct[t].astype(a.dtype)
                if sh == ():
                    # the entries past the row went to the dummy column, whose cotangent is
                    # zero (it is never read)
                    out.append(a.at[b].add(jnp.sum(g)) if n_members else a + jnp.sum(g))
                    continue
                start, n = row_span(r, rb, b, j)
                iota = jnp.arange(K, dtype=start.dtype)
                g = jnp.where(iota < n, g, 0)
                out.append(a.at[b, start + iota].add(g) if n_members else a.at[start + iota].add(g))
            return tuple(out)

        lead = (n_members,) if n_members else ()
        zeros = tuple(jnp.zeros(lead + sh, ct.dtype) for sh in shapes)
        return _walk_spikes(words, count, n_words, n_pre, body, zeros)

    def flat_loop(loop):
        """`loop` (the XLA loops index a flat buffer) on a buffer of any shape."""

        def run(flat, *args):
            return loop(flat.reshape(-1), *args).reshape(flat.shape)

        return run

    def in_batch(args, in_batched, axis_size, flatten=True):
        """Flatten batched buffers/words over the members (the buffers keep their member
        axis unless `flatten`); broadcast what must be per member."""
        flat, weights, rows, delays, words, count, k = args
        f_b, w_b, r_b, d_b, wd_b, c_b, k_b = in_batched
        if not f_b:
            flat = jnp.broadcast_to(flat, (axis_size,) + flat.shape)
        if not wd_b:
            words = jnp.broadcast_to(words, (axis_size,) + words.shape)
        total = jnp.sum(count) if c_b else count * axis_size
        w_flags = tuple(bool(x) for x in w_b)
        r_flags = tuple(bool(x) for x in r_b)
        d_flags = tuple(bool(x) if d is not None else False for x, d in zip(d_b, delays))
        batched = (w_flags, r_flags, d_flags, bool(k_b))
        return flat.reshape(-1) if flatten else flat, words.reshape(-1), total, batched

    loops = {
        "single": flat_loop(scalar_loop),
        "scatter": flat_loop(scatter_loop),
        "native": native_loop,
    }
    if kernel not in loops:
        raise ValueError(f"deliver_events: kernel must be one of {sorted(loops)}, got {kernel!r}")
    forward_loop = loops[kernel]
    if clear and kernel != "native":
        raise ValueError("deliver_events: clear=True needs kernel 'native'")

    # nothing has a member axis outside `vmap`
    unbatched = (
        tuple(False for _ in projections),
        tuple(False for _ in projections),
        tuple(False for _ in projections),
        False,
    )

    @jax.custom_batching.custom_vmap
    def scatter(flat, weights, rows, delays, words, count, k):
        return forward_loop(flat, weights, rows, delays, words, count, k, unbatched)

    @scatter.def_vmap
    def _scatter_vmap(axis_size, in_batched, flat, weights, rows, delays, words, count, k):
        args = (flat, weights, rows, delays, words, count, k)
        big, big_words, total, batched = in_batch(args, in_batched, axis_size, flatten=False)
        out = forward_loop(big, weights, rows, delays, big_words, total, k, batched)
        return out, True

    @jax.custom_batching.custom_vmap
    def gather(ct, weights, rows, delays, words, count, k):
        ct = ct.reshape(-1)
        return gather_loop(ct, weights, rows, delays, words, count, k, unbatched, 0)

    @gather.def_vmap
    def _gather_vmap(axis_size, in_batched, ct, weights, rows, delays, words, count, k):
        args = (ct, weights, rows, delays, words, count, k)
        big, big_words, total, batched = in_batch(args, in_batched, axis_size)
        out = gather_loop(big, weights, rows, delays, big_words, total, k, batched, axis_size)
        return out, tuple(True for _ in out)

    @jax.custom_vjp
    def deliver(flat, weights, rows, delays, words, count, k):
        return scatter(flat, weights, rows, delays, words, count, k)

    def deliver_fwd(flat, weights, rows, delays, words, count, k):
        out = scatter(flat, weights, rows, delays, words, count, k)
        return out, (weights, rows, delays, words, count, k)

    def deliver_bwd(residuals, ct):
        weights, rows, delays, words, count, k = residuals
        d_weights = gather(ct, weights, rows, delays, words, count, k)
        d_flat = clear_slots(ct, k, D, W) if clear else ct  # the emptied slot's old values
        return d_flat, d_weights, None, None, None, None, None

    deliver.defvjp(deliver_fwd, deliver_bwd)
    weights = tuple(cp.weight for cp in projections)
    rows = tuple(cp.rows for cp in projections)
    delays = tuple(cp.delays for cp in projections)
    return deliver(flat, weights, rows, delays, words, count, k)


def select_spikes(s, cap: int):
    """Indices of the first `cap` spiking neurons (`jnp.nonzero` with a static size, padded
    with `n`, a dummy row) and the number of spiking neurons (if it exceeds `cap`, the runner
    repeats the chunk with a larger buffer). There is deliberately no control flow here: a
    `cond`/`while_loop` inside the scanned step makes XLA copy loop-invariant arrays every
    step (measured: several times slower on CPU)."""
    n = s.shape[0]
    spiking = s > 0
    idx = jnp.nonzero(spiking, size=cap, fill_value=n)[0].astype(jnp.int32)
    return idx, jnp.sum(spiking, dtype=jnp.int32)


#: suffix of the ring-buffer receptor holding a precise receptor's membrane channel
PRECISE_CHANNEL = "|v"


def precise_delay(p: Projection, dt: float) -> float | None:
    r"""Check that projection `p` can feed a precise population (`Population(precise=True)`)
    at step `dt` (ms), and return its delay in steps, $d/\Delta t$ (a float: delays are
    continuous), or None for per-synapse delays (which must then be whole steps).

    **Raises:** `ValueError` naming the projection: a synapse other than a current-based
    `Exponential` of one `tau`, plasticity, `propagation="dense"`, a delay below `dt`, or
    per-synapse delays that are not whole steps.
    """
    what = f"Projection {p.name}: its target {p.post_name!r} has precise spike times, so"
    syn = p.synapse
    if not (type(syn) is Exponential and syn.E_rev is None and np.ndim(syn.tau) == 0):
        raise ValueError(
            f"{what} its synapse must be a current-based Exponential of one tau (E_rev=None), "
            f"got {syn!r}"
        )
    if p.plasticity is not None:
        raise ValueError(f"{what} it cannot be plastic, got {type(p.plasticity).__name__}")
    if p.propagation == "dense":
        raise ValueError(f"{what} it is delivered by events; propagation must be 'auto' or 'event'")
    d = np.asarray(p.delay, np.float64)
    if d.size and not (float(d.min()) >= dt * (1 - 1e-9)):
        raise ValueError(
            f"{what} its delays must be >= dt = {dt} ms (a spike reaches its targets after the "
            f"step it was emitted in), got min {float(d.min())} ms"
        )
    if d.ndim == 0:
        return float(d) / dt
    q = d / dt
    if d.size and not np.all(np.abs(q - np.rint(q)) <= 1e-9 * np.maximum(q, 1.0)):
        raise ValueError(
            f"{what} per-synapse delays must be whole steps of dt = {dt} ms (a single delay "
            "may be any value >= dt)"
        )
    return None


def deliver_precise(cp, flat, spiking, offsets, k, cols, D, W, dt, q, tau_s, tau_m):
    r"""Deliver the spikes of step `k` through the event-path projection `cp` into a precise
    population (`Population(precise=True)`), with their times.

    A spike at offset $\sigma$ of step $k$ (a fraction of `dt`; 1 for a population on the
    grid) reaches a synapse of delay $q$ steps at $k + \sigma + q$: in step
    $k + S$, $S = \lceil \sigma + q \rceil - 1$ (at least 1), at offset
    $\delta = \sigma + q - S$. It adds its weight $w$ to two ring-buffer channels of its
    target, $w\,e^{-(1 - \delta)\Delta t/\tau_s}$ (its synaptic current at the end of that
    step) and $w\,A((1 - \delta)\Delta t, \tau_m, \tau_s)$ (its membrane potential there,
    over $R$), which `Population.precise_step` reads. Exact sums whatever the number of
    arrivals, by scatter-adds of the event path's row windows: in one padded scatter
    (`Network(delivery="padded")`, for GPUs) or spike by spike (`"loop"`, on CPUs).

    **Arguments:** `flat`: the flattened `(D, W)` ring buffer; `spiking`: the spiking neurons
    of the pre population, `("padded", idx)` with `idx` from `select_spikes` (padded with
    `n_pre`), or `("loop", words, count)` with its spike words and count; `offsets`:
    its spike offsets `(n_pre,)`, or None (a population on the grid: 1); `k`: the step;
    `cols`: the first columns of the two channels; `q`: `precise_delay`'s result; `tau_m`:
    the target's membrane time constant; `tau_s`: the synapse's.

    **Returns:** the updated `flat`.
    """
    dtype = flat.dtype
    tau_s = jnp.asarray(tau_s, dtype)
    tau_m = jnp.asarray(tau_m, dtype)

    def add(flat, idx, sigma):
        """Add the rows of the neurons `idx` (a scalar or `(m,)`) with offsets `sigma`."""
        if q is None:  # whole-step delays per synapse: the offset is kept
            delta, k_arg = sigma, k - 1 + jnp.zeros_like(idx)
        else:
            u = sigma + q
            S = jnp.maximum(jnp.ceil(u) - 1, 1)
            delta = u - S
            k_arg = k - 1 + S.astype(jnp.int32) - cp.delay_values[0]
        rest = (1 - delta) * dt
        fa = jnp.exp(-rest / tau_s)[..., None]
        fc = exp_kernel_integral(rest, tau_m, tau_s)[..., None]
        target, w = cp.targets(idx, k_arg[..., None], cols[0], D, W)
        w = jnp.broadcast_to(jnp.asarray(w, dtype), target.shape)
        flat = flat.at[target.reshape(-1)].add((w * fa).reshape(-1), mode="promise_in_bounds")
        target = target + (cols[1] - cols[0])
        return flat.at[target.reshape(-1)].add((w * fc).reshape(-1), mode="promise_in_bounds")

    ones = jnp.ones((1,), dtype)
    sig = ones if offsets is None else jnp.concatenate([offsets.astype(dtype), ones])
    if spiking[0] == "padded":
        idx = spiking[1]
        return add(flat, idx, jnp.ones(idx.shape, dtype) if offsets is None else sig[idx])
    words, count = spiking[1], spiking[2]

    def body(b, j, flat):
        return add(flat, j, sig[0] if offsets is None else sig[j])

    return _walk_spikes(words, count, words.shape[0], cp.n_pre, body, flat)
