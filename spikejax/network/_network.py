r"""The network: populations, compiled projections and inputs, and its pure step function.

One step $k$ (from $t_k = k\,\Delta t$ to $t_{k+1}$):

1. read and clear slot $k \bmod D$ of the ring buffer (one `(D, W)` array holding the columns
   of every receptor), add per-target Poisson input;
2. add the arrivals to the synapses (`Delta`: jump of $V$, except in a refractory period);
3. advance every neuron with `spikejax.solvers.advance` (the one fixed step of every
   engine: the population's scheme, `post_step`, spike detection and reset), input
   $I = I_\mathrm{stim}(t_k) + \sum I_\mathrm{syn}$ (current synapses into an LIF: their
   exact mean over the step, `Population.synaptic_current`) plus the conductance currents
   $\sum_r g_r (E_r - V)$ (held over the step; the $V$-dependence is inside the vector field,
   so exponential Euler integrates the membrane exactly for frozen $g$, and LIF and
   Hodgkin-Huxley take them in their fused exponential Euler steps);
4. spikes $s = $ `spike_fn(threshold_distance(y))` and the reset (hybrid models;
   continuous models: upward crossings of `spike_detection_threshold`); spike time $t_{k+1}$;
5. decay synapses exactly over $\Delta t$; write spikes into slots $(k + 1 + d) \bmod D$.

A precise population (`Population(precise=True)`) takes steps 2-4 in
`Population.precise_step` (exact crossing and refractory times inside the step), and the
spikes into it are written with their times (`deliver_precise`): its receptors' columns hold
the arrivals' end-of-step contributions to the current and, in a second column block, to the
membrane potential.

`Network.step(state)` is a pure function of the network's arrays and the state (which holds
the step counter and the base PRNG key; step $k$ uses `fold_in(key, k)`), so runs are
deterministic per key, chunking does not change them, and `jax.vmap` batches networks.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_positive, require_float64
from ..solvers import advance
from ..spikes._poisson import bernoulli_spikes
from . import _native
from ._gap import GapJunctions
from ._input import NoiseCurrent, PoissonInput
from ._monitor import (
    OFFSETS,
    RECORDERS,
    Monitor,
    RateMonitor,
    SpikeMonitor,
    StateMonitor,
    WeightHistogram,
    WeightMonitor,
)
from ._plasticity import CompiledPlastic
from ._population import PoissonPopulation, Population, SpikeSource
from ._projection import (
    PRECISE_CHANNEL,
    CompiledProjection,
    Projection,
    deliver_events,
    deliver_precise,
    event_kernel,
    precise_delay,
    select_spikes,
    spike_words,
)
from ._synapse import Delta, Synapse

State = dict[str, Any]

#: `fold_in` offset of the population stimuli's keys: population `j` draws its stimulus
#: from `fold_in(key, 2**21 + j)` as `spikejax.simulate` draws from its `key`
_STIMULUS_KEY = 2**21
#: `simulate`'s `fold_in` index of a stochastic stimulus' initial state
_STIMULUS_INIT = -1 & 0x7FFFFFFF


def _stimulus_key(key, j: int):
    return jax.random.fold_in(key, _STIMULUS_KEY + j)


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_dtype(dtype) -> np.dtype:
    """The network's state dtype: float32, or float64 with x64 enabled."""
    if dtype is None:
        return np.dtype(jnp.result_type(float))
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise ValueError(f"Network.dtype must be float32 or float64, got {dtype!r}") from err
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"Network.dtype must be float32 or float64, got {dt.name} (integer and 16-bit "
            "states cannot resolve the membrane dynamics)"
        )
    if dt == np.float64:
        require_float64("Network(dtype=float64)")
    return dt


class Network(eqx.Module):
    """A spiking network.

    **Arguments:**

    - `populations`: sequence of `Population` / `PoissonPopulation` / `SpikeSource` (unique
      names).
    - `projections`: sequence of `Projection`.
    - `inputs`: sequence of `PoissonInput` / `NoiseCurrent`.
    - `gap_junctions`: sequence of `GapJunctions` (electrical coupling inside the step).
    - `dt`: time step in ms (> 0).
    - `dtype`: floating dtype of the state, float32 or float64 (default: JAX's default
      float, float32 unless x64 is enabled; `jnp.float64` needs x64 enabled).
    - `delivery`: how event-path projections deliver a step's spikes. `"loop"`: a loop over
      the spiking neurons only, one scatter per spike into the ring buffer (cost
      proportional to the synaptic events; the fastest on CPU); `vmap` and reverse-mode
      `grad` (a custom VJP for the weights) go through it, forward-mode `jvp` does not.
      `"padded"`: one scatter of the whole padded spike buffer (`spike_buffer` rows,
      padding included; differentiable in both modes), a fixed amount of parallel work per
      step, meant for GPUs, where each loop iteration would be a kernel launch. `"auto"`
      (default): `"loop"` when JAX's default backend is the CPU, `"padded"` otherwise. All
      give identical results.

    **Raises:** `ValueError` naming the offending argument: a non-positive `dt`, a `dtype`
    other than float32/float64 (or float64 without x64), duplicate names, projections or
    inputs onto unknown populations, gap junctions on a population that is not a neuron
    population of the network (or with indices or a matrix that do not fit it), a
    `SpikeSource` built with another `dt`, Poisson rates with `rate * dt >= 1`; for a
    precise population (`Population(precise=True)`): `t_ref` < `dt`, and any input it cannot
    take (see `precise_delay`; `PoissonInput`, gap junctions).
    """

    populations: dict
    projections: tuple
    inputs: tuple
    synapses: dict
    poisson_tables: tuple
    plastic: tuple
    gaps: tuple
    dt: float = eqx.field(static=True)
    dtype: Any = eqx.field(static=True)
    buffer_depth: int = eqx.field(static=True)
    receptor_columns_: tuple = eqx.field(static=True)
    spike_buffers_: tuple = eqx.field(static=True)
    delivery: str = eqx.field(static=True)
    event_kernels_: tuple = eqx.field(static=True)
    # precise populations, and (projection name, delay in steps) of the projections into them
    precise_: tuple = eqx.field(static=True)
    precise_delays_: tuple = eqx.field(static=True)

    @property
    def buffer_slots(self) -> dict[str, int]:
        """Ring-buffer length (the network's max delay in steps + 1) per receptor."""
        return {r: self.buffer_depth for r, _ in self.receptor_columns_}

    @property
    def receptor_columns(self) -> dict[str, tuple[int, int]]:
        """Columns `(start, n)` of each receptor in the ring buffer `state["buffer"]`
        (`(buffer_depth, width)`); column `start + n` is the receptor's dummy target."""
        return {r: (c, self.populations[r.split(":")[0]].n) for r, c in self.receptor_columns_}

    @property
    def spike_buffers(self) -> dict[str, int]:
        """Event-path spike buffer size (spikes per step) per pre-synaptic population."""
        return dict(self.spike_buffers_)

    def __init__(
        self,
        populations,
        projections=(),
        inputs=(),
        *,
        gap_junctions=(),
        dt: float = 0.1,
        dtype=None,
        delivery: str = "auto",
    ):
        check_positive("Network.dt", dt, "ms")
        if delivery not in ("auto", "loop", "padded"):
            raise ValueError(
                f"Network.delivery must be 'auto', 'loop' or 'padded', got {delivery!r}"
            )
        if delivery == "auto":
            delivery = "loop" if jax.default_backend() == "cpu" else "padded"
        self.delivery = delivery
        self.dt = float(dt)
        self.dtype = _check_dtype(dtype)
        if isinstance(populations, Population | PoissonPopulation | SpikeSource) or not hasattr(
            populations, "__iter__"
        ):
            raise ValueError(
                f"Network.populations must be a list of populations, got {type(populations)}"
            )
        pops = {}
        for p in populations:
            if not isinstance(p, (Population, PoissonPopulation, SpikeSource)):
                raise ValueError(f"Network.populations: expected Population, got {type(p)}")
            if p.name in pops:
                raise ValueError(f"Network: duplicate population name {p.name!r}")
            if isinstance(p, PoissonPopulation) and np.any(np.asarray(p.rate) * dt * 1e-3 >= 1):
                raise ValueError(
                    f"PoissonPopulation {p.name!r}: rate * dt must be < 1 (rate in Hz, dt in ms), "
                    f"got max {float(np.max(p.rate)) * dt * 1e-3}"
                )
            if isinstance(p, SpikeSource):
                p = p.on_grid(float(dt))
            pops[p.name] = p
        self.populations = pops
        precise = {n for n, p in pops.items() if isinstance(p, Population) and p.precise}
        for n in sorted(precise):
            pops[n].check_precise_step(self.dt)
        self.precise_ = tuple(sorted(precise))
        precise_delays = []
        synapses: dict[str, Synapse] = {}
        slots: dict[str, int] = {}
        compiled, static, plastic = [], [], []
        names = set()
        for pr in projections:
            if not isinstance(pr, Projection):
                raise ValueError(f"Network.projections: expected Projection, got {type(pr)}")
            for end in (pr.pre_name, pr.post_name):
                if end not in pops:
                    raise ValueError(f"Projection {pr.name}: unknown population {end!r}")
            if pops[pr.pre_name].n != pr.n_pre or pops[pr.post_name].n != pr.n_post:
                raise ValueError(f"Projection {pr.name}: population sizes do not match")
            if pr.name in names:
                raise ValueError(f"Network: duplicate projection name {pr.name!r}")
            names.add(pr.name)
            r = f"{pr.post_name}:{pr.receptor}"
            self._add_receptor(synapses, r, pr.synapse)
            if pr.post_name in precise:
                precise_delays.append((pr.name, precise_delay(pr, self.dt)))
                pr = copy.copy(pr)
                pr.propagation = "event"
            elif pr.pre_name in precise and pr.plasticity is not None:
                raise ValueError(f"Projection {pr.name}: a precise population's spikes cannot "
                                 "drive plasticity")  # fmt: skip
            if pr.plasticity is not None:
                # delivered when the spikes arrive, into the slot read by the next step
                plastic.append(
                    CompiledPlastic(pr, self.dt, self.dtype, pops, dense=delivery == "padded")
                )
                slots[r] = max(slots.get(r, 1), 1)
                continue
            cp = pr.compile(self.dt, self.dtype, event_loop=delivery == "loop")
            slots[r] = max(slots.get(r, 1), cp.max_delay + 1)
            if pr.post_name in precise:  # the channel of the arrivals' membrane potential
                slots[r + PRECISE_CHANNEL] = slots[r]
            compiled.append(cp)
            static.append(pr)
        self.plastic = tuple(plastic)
        self.precise_delays_ = tuple(precise_delays)
        gaps = []
        for gj in gap_junctions:
            if not isinstance(gj, GapJunctions):
                raise ValueError(f"Network.gap_junctions: expected GapJunctions, got {type(gj)}")
            if not isinstance(pops.get(gj.population), Population):
                raise ValueError(
                    f"GapJunctions: {gj.population!r} is not a neuron population of the network"
                )
            if gj.population in precise:
                raise ValueError(f"GapJunctions: {gj.population!r} has precise spike times "
                                 "(precise=True), which take no gap junctions")  # fmt: skip
            gaps.append(gj.compile(pops[gj.population].n, self.dtype))
        self.gaps = tuple(gaps)
        ins = []
        for inp in inputs:
            if not isinstance(inp, (PoissonInput, NoiseCurrent)):
                raise ValueError(
                    f"Network.inputs: expected PoissonInput/NoiseCurrent, got {type(inp)}"
                )
            if inp.target not in pops or not isinstance(pops[inp.target], Population):
                raise ValueError(f"input target {inp.target!r} is not a neuron population")
            if isinstance(inp, PoissonInput) and inp.target in precise:
                raise ValueError(
                    f"PoissonInput: target {inp.target!r} has precise spike times; drive it "
                    "with a PoissonPopulation and a Projection (its spikes arrive on the grid)"
                )
            if isinstance(inp, PoissonInput):
                p = float(inp.rate) * dt * 1e-3
                if not (p < 1):
                    raise ValueError(
                        f"PoissonInput: rate * dt must be < 1 (rate in Hz, dt in ms), got {p}"
                    )
                self._add_receptor(synapses, f"{inp.target}:{inp.receptor}", inp.synapse)
            ins.append(inp)
        self.synapses = synapses
        self.projections = tuple(compiled)
        self.inputs = tuple(ins)
        # the inverse-CDF tables of the Poisson inputs' counts, in float64 on the host
        self.poisson_tables = tuple(
            jnp.asarray(inp.count_table(self.dt, self.dtype))
            if isinstance(inp, PoissonInput)
            else None
            for inp in ins
        )
        # one ring buffer for all receptors: (max delay + 1) slots of all receptors' columns
        self.buffer_depth = max(slots.values(), default=1)
        cols, width = [], 0
        for r in sorted(slots):
            cols.append((r, width))
            width += pops[r.split(":")[0]].n + 1
        self.receptor_columns_ = tuple(cols)
        itemsize = np.dtype(self.dtype).itemsize
        memory = _physical_memory()
        neuron_bytes = itemsize * sum(
            p.n * (len(p.model.state_names) + 1) for p in pops.values() if isinstance(p, Population)
        )
        if memory is not None and neuron_bytes > memory:
            sizes = {name: p.n for name, p in pops.items()}
            raise ValueError(
                f"Network: the neuron states would need {neuron_bytes / 2**30:.3g} GiB, more than "
                f"this machine's {memory / 2**30:.3g} GiB of memory (population sizes {sizes})"
            )
        buffer_bytes = self.buffer_depth * width * itemsize
        if memory is not None and buffer_bytes > memory:
            longest = max(compiled + plastic, key=lambda cp: cp.max_delay)
            raise ValueError(
                f"Network: the synaptic delay buffer would need {buffer_bytes / 2**30:.3g} GiB "
                f"({self.buffer_depth} steps of dt={self.dt} ms x {width} columns), more than "
                f"this machine's {memory / 2**30:.3g} GiB; the longest delay is projection "
                f"{longest.name}'s {longest.max_delay * self.dt:.6g} ms (delays are in ms)"
            )
        caps: dict[str, int] = {}
        for pr, cp in zip(static, compiled):
            if cp.mode == "event":
                n = pops[cp.pre].n
                # the loop delivery costs nothing per unused buffer slot: by default it takes
                # every spike (no overflow, no repeated chunk); the padded one pays per slot
                auto = n if delivery == "loop" else max(32, math.ceil(0.04 * n))
                c = pr.spike_buffer or auto
                caps[cp.pre] = min(n, max(caps.get(cp.pre, 0), int(c)))
        self.spike_buffers_ = tuple(sorted(caps.items()))
        # the loop delivery's form per pre-synaptic population, decided here (from the XLA
        # settings and backend of this process), never while tracing
        kernels = {}
        n_neurons = sum(pop.n for pop in pops.values())
        if delivery == "loop":
            for p in caps:
                if group := self._loop_group(p):
                    kernels[p] = event_kernel(group, n_neurons)
        self.event_kernels_ = tuple(sorted(kernels.items()))

    def with_spike_buffers(self, **sizes) -> Network:
        """A copy with the event path's per-step spike buffer of population `p` set to
        `sizes[p]` (capped at the population size)."""
        caps = {
            p: min(self.populations[p].n, int(sizes.get(p, c)))
            for p, c in self.spike_buffers.items()
        }
        new = copy.copy(self)
        object.__setattr__(new, "spike_buffers_", tuple(sorted(caps.items())))
        return new

    @staticmethod
    def _add_receptor(synapses, r, syn):
        if r in synapses and synapses[r] != syn:
            raise ValueError(
                f"receptor {r!r} is used with different synapse models: {synapses[r]} and {syn}"
            )
        synapses[r] = syn

    # ------------------------------------------------------------------------------------------
    def projection(self, name: str) -> CompiledProjection:
        for p in self.projections:
            if p.name == name:
                return p
        raise ValueError(f"no projection named {name!r}; have {[p.name for p in self.projections]}")

    def with_weights(self, **weights) -> Network:
        """A copy with projection weights replaced (`name=value`; same shape as stored: a
        scalar for homogeneous weights). Works with traced values (`jax.vmap` sweeps)."""
        net = self
        for name, w in weights.items():
            p = self.projection(name)
            i = self.projections.index(p)
            if p.weight is not None and jnp.ndim(p.weight) == 0:
                if jnp.ndim(w) != 0:
                    raise ValueError(f"with_weights: projection {name!r} has a scalar weight")
                where = lambda n, i=i: n.projections[i].weight  # noqa: E731
            else:
                old = p.weight if p.weight is not None else p.matrix
                if jnp.shape(w) != jnp.shape(old):
                    raise ValueError(
                        f"with_weights: projection {name!r} has per-synapse weights stored "
                        f"with shape {jnp.shape(old)}; got shape {jnp.shape(w)}"
                    )
                if p.weight is not None:
                    where = lambda n, i=i: n.projections[i].weight  # noqa: E731
                else:
                    where = lambda n, i=i: n.projections[i].matrix  # noqa: E731
            net = eqx.tree_at(where, net, jnp.asarray(w, self.dtype))
        return net

    def init_state(self, *, key) -> State:
        """Initial state: each population's resting state with its `initial` overrides, empty
        synapses and buffers; `key` seeds all randomness of the run."""
        neurons = {n: p.init_state(self.dtype) for n, p in self.populations.items()}
        syn = {
            r: s.init(self.populations[r.split(":")[0]].n, self.dtype)
            for r, s in self.synapses.items()
        }
        width = sum(n + 1 for _, n in self.receptor_columns.values())
        buffer = jnp.zeros((self.buffer_depth, width), self.dtype)
        stimuli = {}
        for j, (name, p) in enumerate(self.populations.items()):
            if isinstance(p, Population):
                skey = jax.random.fold_in(_stimulus_key(key, j), _STIMULUS_INIT)
                leaves = jax.tree.leaves(p.I.init((p.n,), self.dtype, key=skey))
                if leaves:
                    stimuli[name] = {str(i): leaf for i, leaf in enumerate(leaves)}
        state = {
            "step": jnp.zeros((), jnp.int32),
            "key": jax.random.key_data(key),
            "neurons": neurons,
            # the state of stochastic population stimuli (e.g. Ornstein-Uhlenbeck noise)
            "stimuli": stimuli,
            "synapses": syn,
            "buffer": buffer,
            # event path: steps whose spikes did not fit the spike buffer, and the most
            # spikes seen in one step, per pre-synaptic population
            "overflow": {p: jnp.zeros((), jnp.int32) for p in self.spike_buffers},
            "max_spikes": {p: jnp.zeros((), jnp.int32) for p in self.spike_buffers},
        }
        if self.precise_:
            # the offsets (fractions of dt) of the last step's spikes of precise populations
            state["offsets"] = {p: jnp.ones((neurons[p]["V"].shape[0],), self.dtype)
                                for p in self.precise_}  # fmt: skip
        if self.plastic:
            # weights and traces of the plastic projections
            state["plastic"] = {cp.name: cp.init_state(self.dtype) for cp in self.plastic}
        return state

    def _sample_stimulus(self, j: int, pop: Population, flat, t, base, k):
        """The current of population `j` over step `k` starting at `t` (from its stimulus,
        `Stimulus.sample`) and the stimulus' new state (flattened as in the network state,
        empty when it has none). The keys follow `spikejax.simulate`'s convention with the
        population's key `fold_in(key, 2**21 + j)`: `fold_in(., k)` for step `k`,
        `fold_in(., 2**31 - 1)` for the initial state, so a population draws the same noise
        as `simulate(..., key=fold_in(key, 2**21 + j))`."""
        dtype = self.dtype
        skey = jax.random.fold_in(_stimulus_key(base, j), k)
        shape = jax.eval_shape(lambda: pop.I.init((pop.n,), dtype, key=jax.random.key(0)))
        treedef = jax.tree.structure(shape)
        flat = {} if flat is None else flat
        st = jax.tree.unflatten(treedef, [flat[str(i)] for i in range(len(flat))])
        current, st = pop.I.sample(st, t, self.dt, key=skey)
        new = {
            str(i): jnp.asarray(leaf).astype(flat[str(i)].dtype)
            for i, leaf in enumerate(jax.tree.leaves(st))
        }
        return jnp.asarray(current, dtype), new

    # ------------------------------------------------------------------------------------------
    def step(self, state: State) -> tuple[State, dict]:
        """Advance the whole network by one step; returns `(new_state, spikes)`, `spikes` a dict
        population -> float 0/1 array (surrogate-differentiable for hybrid models)."""
        dt, dtype = self.dt, self.dtype
        k = state["step"]
        base = jax.random.wrap_key_data(state["key"])
        key = jax.random.fold_in(base, k)
        t = k.astype(dtype) * dt

        buffer = state["buffer"]
        D, W = buffer.shape
        cols = self.receptor_columns
        arrivals = {}
        if W:
            slot = k % D if D > 1 else 0
            now = jax.lax.dynamic_index_in_dim(buffer, slot, 0, keepdims=False)
            arrivals = {r: now[c : c + n] for r, (c, n) in cols.items()}
            if not self._native_clears():
                buffer = jax.lax.dynamic_update_index_in_dim(buffer, jnp.zeros_like(now), slot, 0)
        extra_current = {}
        for i, inp in enumerate(self.inputs):
            n = self.populations[inp.target].n
            if isinstance(inp, PoissonInput):
                r = f"{inp.target}:{inp.receptor}"
                x = inp.draw(jax.random.fold_in(key, i), n, dt, dtype, self.poisson_tables[i])
                arrivals[r] = arrivals[r] + x if r in arrivals else x
            else:
                noise_key = jax.random.fold_in(jax.random.fold_in(base, 2**30 + i), 0)
                x = inp.draw(noise_key, k, n, dt, dtype)
                extra_current[inp.target] = extra_current.get(inp.target, 0.0) + x

        syn = dict(state["synapses"])
        jumps: dict[str, Any] = {}
        for r, sy in self.synapses.items():
            post = r.split(":")[0]
            if r not in arrivals or post in self.precise_:
                continue
            if isinstance(sy, Delta):
                jumps[post] = jumps.get(post, 0.0) + arrivals[r]
            else:
                syn[r] = sy.arrive(syn[r], arrivals[r])

        neurons = dict(state["neurons"])
        stimuli = dict(state["stimuli"])
        spikes, offsets = {}, {}
        # a step with compiled deliveries is no longer one XLA kernel: the integrated
        # potentials pass a kernel boundary, so that XLA computes each once (`_native`)
        boundary = _native.boundary if "native" in dict(self.event_kernels_).values() else None
        for j, (name, pop) in enumerate(self.populations.items()):
            if isinstance(pop, SpikeSource):
                spikes[name] = pop.spikes(k, dtype)
                continue
            if isinstance(pop, PoissonPopulation):
                pkey = jax.random.fold_in(key, 2**20 + j)
                spikes[name] = bernoulli_spikes(pkey, pop.rate, dt, (pop.n,), dtype).astype(dtype)
                continue
            model = pop.model
            y = neurons[name]
            if pop.precise:
                I, stimuli[name] = self._sample_stimulus(j, pop, stimuli.get(name), t, base, k)
                neurons[name], spikes[name], offsets[name] = self._precise_step(
                    pop, y, I + extra_current.get(name, 0.0), syn, arrivals
                )
                continue
            vname = model.voltage_name
            if name in jumps:
                x = jumps[name]
                if "refractory" in y:
                    x = jnp.where(y["refractory"] > 0, jnp.zeros_like(x), x)
                y = {**y, vname: y[vname] + x}
            I, stimuli[name] = self._sample_stimulus(j, pop, stimuli.get(name), t, base, k)
            if name in extra_current:
                I = I + extra_current[name]
            conds = []
            mine = [
                (r, sy)
                for r, sy in self.synapses.items()
                if r.split(":")[0] == name and not isinstance(sy, Delta)
            ]
            gaps = [gap for gap in self.gaps if gap.population == name]
            # Gap junctions are conductances too: the exact propagators assume none.
            exact = pop.exact_synapses(any(sy.conductance_based for _, sy in mine) or bool(gaps))
            drives = []  # exact current synapses of a coupled linear system
            for r, sy in mine:
                if sy.conductance_based:
                    conds.append((sy.output(syn[r]), jnp.asarray(sy.E_rev, dtype)))
                elif exact and pop.drives_states():
                    drives.append((sy, syn[r]))
                else:
                    I = I + pop.synaptic_current(sy, syn[r], dt, exact=exact)
            for gap in gaps:
                conds.append(gap.conductances(y[vname]))
            I = jnp.broadcast_to(I, (pop.n,))
            if drives:
                I = pop.synaptic_drive(I, drives, dt)
            out = advance(
                model, pop.method, t, y, I, dt, spike_fn=pop.spike_fn, conductances=conds,
                boundary=boundary,
            )  # fmt: skip
            neurons[name] = {n: v.astype(dtype) for n, v in out.state.items()}
            spikes[name] = out.spikes

        syn = {
            r: v if r.split(":")[0] in self.precise_ else self.synapses[r].decay(v, dt)
            for r, v in syn.items()
        }
        overflow = dict(state["overflow"])
        max_spikes = dict(state["max_spikes"])
        idx, counts, words = {}, {}, {}
        for p, cap in self.spike_buffers.items():
            if self.delivery == "loop":
                words[p] = spike_words(spikes[p] > 0)
                count = jnp.sum(jax.lax.population_count(words[p]), dtype=jnp.int32)
            else:
                idx[p], count = select_spikes(spikes[p], cap)
            counts[p] = count
            overflow[p] = overflow[p] + (count > cap).astype(jnp.int32)
            max_spikes[p] = jnp.maximum(max_spikes[p], count)
        for cp in self.projections:
            if (cp.mode == "event" and self.delivery == "loop") or cp.post in self.precise_:
                continue
            col = cols[cp.receptor_key][0]
            buffer = cp.deliver(buffer, spikes[cp.pre], k, col, idx.get(cp.pre))
        if self.delivery == "loop":
            clear = self._native_clears()  # the first compiled delivery empties slot k % D
            for p, cap in self.spike_buffers.items():
                group = self._loop_group(p)
                if not group:
                    continue
                group_cols = [cols[cp.receptor_key][0] for cp in group]
                n_loop = jnp.minimum(counts[p], cap)
                kernel = dict(self.event_kernels_)[p]
                buffer = deliver_events(
                    group, buffer, words[p], n_loop, k, D, W, group_cols, kernel, clear
                )
                clear = False
        if self.precise_delays_:
            buffer = self._deliver_precise(buffer, spikes, offsets, idx, words, counts, k)
        plastic = {}
        if self.plastic:
            flat = buffer.reshape(-1)
            slot = (k + 1) % D if D > 1 else 0
            for cp in self.plastic:
                base = slot * W + cols[cp.receptor_key][0]
                plastic[cp.name], flat = cp.step(
                    state["plastic"][cp.name], spikes, flat, k, base, dt
                )
            buffer = flat.reshape(D, W)
        new_state = {
            "step": k + 1,
            "key": state["key"],
            "neurons": neurons,
            "stimuli": {n: v for n, v in stimuli.items() if v},
            "synapses": syn,
            "buffer": buffer,
            "overflow": overflow,
            "max_spikes": max_spikes,
        }
        if self.precise_:
            new_state["offsets"] = offsets
        if self.plastic:
            new_state["plastic"] = plastic
        return new_state, spikes

    def _loop_group(self, p: str) -> list:
        """The event-path projections from population `p` that the loop delivery walks."""
        return [
            cp for cp in self.projections
            if cp.mode == "event" and cp.pre == p and cp.post not in self.precise_
        ]  # fmt: skip

    def _native_clears(self) -> bool:
        """Whether the step leaves emptying the ring buffer's slot `k % D` to the compiled
        delivery (`deliver_events(clear=True)`, in place: clearing it in XLA before the
        kernel's in-place update makes XLA copy the whole buffer): when the step's first
        writes into the buffer are compiled deliveries, i.e. the loop delivery, every
        loop-delivered population on the compiled kernel, at least one of them, and no
        dense projection (those deliver before the loop)."""
        if self.delivery != "loop" or not self.event_kernels_:
            return False
        if any(cp.mode == "dense" and cp.post not in self.precise_ for cp in self.projections):
            return False
        walked = [p for p in self.spike_buffers if self._loop_group(p)]
        kernels = dict(self.event_kernels_)
        return bool(walked) and all(kernels.get(p) == "native" for p in walked)

    def _precise_step(self, pop: Population, y, I, syn, arrivals):
        """A precise population's step (`Population.precise_step`); updates `syn` in place
        with its receptors' synaptic currents at the end of the step."""
        mine = [r for r in self.synapses if r.split(":")[0] == pop.name]
        zero = jnp.zeros((pop.n,), self.dtype)
        inputs = [
            (self.synapses[r], syn[r]["g"], arrivals.get(r, zero),
             arrivals.get(r + PRECISE_CHANNEL, zero))
            for r in mine
        ]  # fmt: skip
        I = jnp.broadcast_to(jnp.asarray(I, self.dtype), (pop.n,))
        state, g_end, spikes, offsets = pop.precise_step(y, I, inputs, self.dt)
        for r, g in zip(mine, g_end):
            syn[r] = {"g": g}
        return state, spikes, offsets

    def _deliver_precise(self, buffer, spikes, offsets, idx, words, counts, k):
        """Deliver the step's spikes through the projections into precise populations
        (`deliver_precise`), with their offsets."""
        D, W = buffer.shape
        cols = self.receptor_columns
        flat = buffer.reshape(-1)
        delays = dict(self.precise_delays_)
        for cp in self.projections:
            if cp.name not in delays:
                continue
            p = cp.pre
            if self.delivery == "loop":
                sel = ("loop", words[p], jnp.minimum(counts[p], self.spike_buffers[p]))
            else:
                sel = ("padded", idx[p])
            r = cp.receptor_key
            c = (cols[r][0], cols[r + PRECISE_CHANNEL][0])
            tau_s = self.synapses[r].tau
            tau_m = self.populations[cp.post].model.tau_m
            flat = deliver_precise(cp, flat, sel, offsets.get(cp.pre), k, c, D, W, self.dt,
                                   delays[cp.name], tau_s, tau_m)  # fmt: skip
        return flat.reshape(D, W)

    # ------------------------------------------------------------------------------------------
    def simulate(self, state: State, n_steps: int, monitors: tuple[Monitor, ...] = ()):
        """Run `n_steps` steps with `lax.scan` (pure; jit/vmap/grad it). Returns
        `(final_state, outputs)`; `outputs[monitor.key]` holds, for `SpikeMonitor`, spike bits
        `(n_steps, ceil(n/32))` uint32 (bit `b` of word `w` is neuron `32 w + b`; decode with
        `unpack_spikes`); `RateMonitor`, spike counts `(n_steps,)`; `StateMonitor`,
        records `(n_steps // every + 1, n_vars, n_idx)` with row `r` at global step
        `(k0 // every + 1 + r) * every` (rows past the chunk's end are junk).

        With an explicit `spike_buffer`, `final_state["overflow"][pop]` counts the steps whose
        spikes exceeded it (their extra spikes were not delivered): this pure function cannot
        raise inside `jit`, so callers must check it. `run` and the sharded drivers do (`run`
        repeats the chunk with larger buffers); the default buffer (None) cannot overflow."""
        n_steps = int(n_steps)
        if not (n_steps >= 1):
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        for m in monitors:
            self._check_monitor(m)
        k0 = state["step"]
        state_mons = [m for m in monitors if isinstance(m, RECORDERS)]
        rec0 = {}
        for m in state_mons:
            shape = jax.eval_shape(lambda m=m: self._record(m, state)).shape
            rec0[m.key] = jnp.zeros((n_steps // m.every + 2, *shape), self.dtype)

        def body(carry, _):
            st, rec = carry
            st, spikes = self.step(st)
            out = {}
            for m in monitors:
                if isinstance(m, SpikeMonitor):
                    out[m.key] = spike_words(spikes[m.population] > 0)
                    if m.population in self.precise_:
                        out[m.key + OFFSETS] = st["offsets"][m.population]
                elif isinstance(m, RateMonitor):
                    out[m.key] = jnp.sum(spikes[m.population] > 0, dtype=jnp.int32)
            rec = dict(rec)
            kk = st["step"]
            for m in state_mons:
                vals = self._record(m, st)
                buf = rec[m.key]
                row = kk // m.every - k0 // m.every - 1
                row = jnp.where(kk % m.every == 0, row, buf.shape[0] - 1)
                rec[m.key] = jax.lax.dynamic_update_index_in_dim(buf, vals, row, 0)
            return (st, rec), out

        (state, rec), outs = jax.lax.scan(body, (state, rec0), None, length=n_steps)
        outs = dict(outs)
        for m in state_mons:
            outs[m.key] = rec[m.key][:-1]
        return state, outs

    def _record(self, m, st):
        """What a recording monitor `m` stores from state `st`."""
        if isinstance(m, StateMonitor):
            y = st["neurons"][m.population]
            vals = jnp.stack([y[v] for v in m.variables])
            if m.indices is not None:
                vals = vals[:, jnp.asarray(m.indices)]
            return vals
        w = st["plastic"][m.population]["w"]
        if isinstance(m, WeightMonitor):
            return w if m.indices is None else w[jnp.asarray(m.indices)]
        counts = jnp.histogram(w, bins=jnp.asarray(m.edges, w.dtype))[0]
        return counts.astype(self.dtype)

    def _plastic(self, name: str) -> CompiledPlastic:
        for cp in self.plastic:
            if cp.name == name:
                return cp
        raise ValueError(
            f"no plastic projection named {name!r}; have {[cp.name for cp in self.plastic]}"
        )

    def plastic_weights(self, state: State, name: str):
        """The synapses of plastic projection `name` and their weights in `state`.

        **Arguments:** `state` (a state of this network), `name` (the projection's).

        **Returns:** `(pre, post, w)` numpy arrays, one entry per synapse, sorted by pre-
        then post-synaptic index (the order of `WeightMonitor.indices`); `w` are the stored
        weights (magnitudes for a pre population with a Dale sign).

        **Raises:** `ValueError` if there is no plastic projection `name`.
        """
        cp = self._plastic(name)
        w = np.asarray(state["plastic"][name]["w"])
        return np.asarray(cp.pre_of), np.asarray(cp.post_of), w

    def _check_monitor(self, m):
        if not isinstance(m, Monitor):
            raise ValueError(f"monitors must be Monitor objects, got {type(m)}")
        if isinstance(m, WeightMonitor | WeightHistogram):
            cp = self._plastic(m.population)
            if isinstance(m, WeightMonitor) and m.indices is not None:
                if not all(0 <= i < cp.n_synapses for i in m.indices):
                    raise ValueError(f"WeightMonitor.indices must be in [0, {cp.n_synapses})")
            return
        if m.population not in self.populations:
            raise ValueError(f"monitor: unknown population {m.population!r}")
        if isinstance(m, StateMonitor):
            pop = self.populations[m.population]
            if not isinstance(pop, Population):
                raise ValueError(f"StateMonitor: spike source {m.population!r} has no state")
            bad = sorted(set(m.variables) - set(pop.state_names))
            if bad:
                raise ValueError(
                    f"StateMonitor: {m.population!r} has no variable(s) {bad}; "
                    f"have {list(pop.state_names)}"
                )
            if m.indices is not None and not all(0 <= i < pop.n for i in m.indices):
                raise ValueError(f"StateMonitor.indices must be in [0, {pop.n})")
