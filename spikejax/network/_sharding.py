r"""Running networks on several devices with JAX's own sharding machinery.

Two kinds of parallelism, both built on `jax.sharding.Mesh` / `NamedSharding`:

* **One network, neurons sharded** (`simulate_sharded`, `shard_state`): every per-neuron
  array of the state (membrane variables, synaptic variables) is split along the neuron
  axis over a 1-d mesh axis, and the unchanged `Network.step` is compiled once for the
  whole mesh (`jax.jit` with those input shardings; XLA's SPMD partitioner splits the
  neuron updates and inserts the collectives, e.g. the all-gather of each step's spike
  vector before delivery). Ring buffers and synapse tables stay replicated (see "Limits").
* **A batch of independent networks** (`init_batch`, `simulate_batch`): a parameter sweep
  (one PRNG key and/or projection weights per network) with its batch axis split over the
  mesh with `jax.shard_map`; each device runs `jax.vmap(Network.simulate)` on its share with
  no communication.

**Same results on any number of devices.** All randomness of a run comes from the base key
in the state: step $k$ uses `fold_in(key, k)` and draws arrays of the population's full
shape. A jitted program's values do not depend on how its arrays are sharded, and with
`jax_threefry_partitionable` (on by default since JAX 0.5) each element of a random array
depends only on the key and its index, so a sharded draw computes the same numbers locally,
without communication. For batches, each network carries its own key. The tests compare the
spikes on 1 and 4 (virtual) devices exactly.

**Multi-host** (`jax.distributed`): start one process per host (or per GPU) and call
`jax.distributed.initialize()` (arguments from the cluster environment, e.g. SLURM, or
`coordinator_address=..., num_processes=..., process_id=...`) before anything else touches
JAX. Then `jax.devices()` lists the devices of all processes; build the mesh over them
(`device_mesh()`), build the same network in every process (construction is deterministic
given the key), and call `shard_state` / `simulate_sharded` / `simulate_batch` in every
process: the arrays are created with `jax.make_array_from_callback`, so each process places
only its own shards. Outputs are global arrays; gather them to every host with
`jax.experimental.multihost_utils.process_allgather`.

**Limits** (measured and explained in `docs/multi-device.md`): on the neuron-sharded path the
projection tables and ring buffers are replicated, so memory per device does not shrink and
every device does the whole spike delivery; only the neuron update is split. A
post-partitioned scheme (each device stores the synapses onto its own neurons and delivers
the all-gathered spike vector into its own buffer slice) needs `Network.step` split into an
update phase and a delivery phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from ..cpu import compiler_options
from ._monitor import Monitor
from ._network import Network, State

__all__ = [
    "batch_simulator",
    "device_mesh",
    "init_batch",
    "shard_state",
    "simulate_batch",
    "simulate_sharded",
    "state_shardings",
]


def device_mesh(n_devices: int | None = None, *, axis_name: str = "neurons", devices=None) -> Mesh:
    """A 1-d `Mesh` over the first `n_devices` of `devices` (default: all of `jax.devices()`,
    which spans every host after `jax.distributed.initialize()`), axis `axis_name`."""
    devs = list(jax.devices() if devices is None else devices)
    if n_devices is None:
        n_devices = len(devs)
    if not (isinstance(n_devices, (int, np.integer)) and 1 <= n_devices <= len(devs)):
        raise ValueError(f"n_devices must be an integer in [1, {len(devs)}], got {n_devices!r}")
    return Mesh(np.array(devs[: int(n_devices)]), (axis_name,))


def _axis(mesh: Mesh) -> str:
    if len(mesh.axis_names) != 1:
        raise ValueError(f"mesh must be 1-d, got axes {mesh.axis_names}")
    return mesh.axis_names[0]


def state_shardings(net: Network, state: State, mesh: Mesh) -> State:
    """The `NamedSharding` of every leaf of `state` on the neuron-sharded path: neuron and
    synaptic variables of a population of size $n$ split along their (only) axis when the
    mesh size divides $n$ (so are stimulus states); everything else (step, key, ring buffers,
    counters) replicated."""
    axis = _axis(mesh)
    size = mesh.devices.size
    split, repl = NamedSharding(mesh, P(axis)), NamedSharding(mesh, P())

    def per_neuron(tree, n):
        ok = n % size == 0
        return jax.tree.map(lambda x: split if ok and jnp.shape(x) == (n,) else repl, tree)

    out = jax.tree.map(lambda _: repl, state)
    out["neurons"] = {p: per_neuron(v, net.populations[p].n) for p, v in state["neurons"].items()}
    out["synapses"] = {
        r: per_neuron(v, net.populations[r.split(":")[0]].n) for r, v in state["synapses"].items()
    }
    out["stimuli"] = {
        p: per_neuron(v, net.populations[p].n) for p, v in state.get("stimuli", {}).items()
    }
    return out


def _place(x, sharding):
    x = np.asarray(x) if not isinstance(x, jax.Array) else x
    if isinstance(x, jax.Array) and x.is_fully_addressable:
        return jax.device_put(x, sharding)
    return jax.make_array_from_callback(np.shape(x), sharding, lambda idx: np.asarray(x)[idx])


def shard_state(net: Network, state: State, mesh: Mesh) -> State:
    """Place `state` on `mesh` with `state_shardings` (multi-host safe), e.g. to continue a
    `simulate_sharded` run or to inspect the placement. (`run(net, state=...)` does not yet
    accept a sharded state: its compiled chunks expect single-device arrays.)"""
    sh = state_shardings(net, state, mesh)
    return jax.tree.map(_place, state, sh)


def simulate_sharded(
    net: Network,
    state: State,
    n_steps: int,
    *,
    mesh: Mesh,
    monitors: Sequence[Monitor] = (),
) -> tuple[State, dict]:
    """`net.simulate(state, n_steps, monitors)` with the neurons sharded over `mesh`
    (`shard_state`); returns `(final_state, outputs)` with the final state kept on the same
    shardings. Results equal the single-device run for the same key."""
    monitors = tuple(monitors)
    sh = state_shardings(net, state, mesh)
    state = jax.tree.map(_place, state, sh)
    dyn, static = eqx.partition(net, eqx.is_array)
    repl = NamedSharding(mesh, P())
    dyn = jax.tree.map(lambda x: _place(x, repl), dyn)

    def f(dyn, st):
        st, outs = eqx.combine(dyn, static).simulate(st, n_steps, monitors)
        return jax.lax.with_sharding_constraint(st, sh), outs

    fn = jax.jit(
        f,
        in_shardings=(jax.tree.map(lambda _: repl, dyn), sh),
        compiler_options=compiler_options(mesh.devices.flat[0].platform),
    )
    st0 = state.get("overflow", {})
    out = fn(dyn, state)
    _raise_on_overflow(st0, out[0].get("overflow", {}))
    return out


def _raise_on_overflow(before, after):
    """Spike-buffer overflow (more neurons spiked in one step than the event path's buffer
    holds, so spikes beyond it were not delivered) is an error, never a silent result."""
    bad = {
        p: int(np.max(np.asarray(jax.device_get(after[p])) - np.asarray(jax.device_get(before[p]))))
        for p in after
        if p in before
    }
    bad = {p: v for p, v in bad.items() if v > 0}
    if bad:
        raise RuntimeError(
            f"spike buffer overflow in {bad} step(s) per population: spikes would be dropped; "
            "enlarge `spike_buffer` with net.with_spike_buffers(...) (None = whole population, "
            "which cannot overflow) and rerun, or use spikejax.network.run, which grows them"
        )


def init_batch(net: Network, keys) -> State:
    """Initial states of a batch of networks, one per key of `keys` (a `(B,)` array of PRNG
    keys, e.g. `jax.random.split(key, B)`), stacked along a leading axis."""
    return jax.vmap(lambda k: net.init_state(key=k))(keys)


def simulate_batch(
    net: Network,
    states: State,
    n_steps: int,
    *,
    mesh: Mesh | None = None,
    weights: dict[str, Any] | None = None,
    monitors: Sequence[Monitor] = (),
) -> tuple[State, dict]:
    """Simulate a batch of $B$ independent copies of `net` (a parameter sweep) for `n_steps`
    steps, the batch split over the devices of `mesh` (default: all devices; $B$ must be a
    multiple of the mesh size). Compiles on every call; for repeated calls build the function
    once with `batch_simulator`.

    **Arguments:**

    - `states`: batched states (leading axis $B$), e.g. from `init_batch`.
    - `weights`: optional sweep of projection weights, `name -> (B, *shape)` array
      (`shape` as stored: `()` for a homogeneous weight), applied with `Network.with_weights`.
    - `monitors`: as for `Network.simulate`.

    **Returns:** `(final_states, outputs)`, each with a leading axis $B$, sharded over the
    mesh. A `RuntimeError` reports any spike-buffer overflow (see
    `Network.with_spike_buffers`; unlike `run`, a batch cannot grow its buffers per member).
    Network $b$ gives exactly what `net.with_weights(...).simulate` gives for it alone.
    """
    weights = {} if weights is None else dict(weights)
    fn = batch_simulator(net, n_steps, mesh=mesh, monitors=monitors, weight_names=tuple(weights))
    return fn(states, weights)


def batch_simulator(
    net: Network,
    n_steps: int,
    *,
    mesh: Mesh | None = None,
    monitors: Sequence[Monitor] = (),
    weight_names: Sequence[str] = (),
):
    """The function `f(states, weights=None) -> (final_states, outputs)` of `simulate_batch`
    for `net`, compiled once per batch size and reused across calls (`weights` must have the
    keys `weight_names`)."""
    monitors = tuple(monitors)
    weight_names = tuple(weight_names)
    for name in weight_names:
        net.projection(name)  # validates the name
    mesh = device_mesh(axis_name="batch") if mesh is None else mesh
    axis = _axis(mesh)
    size = mesh.devices.size
    dyn, static = eqx.partition(net, eqx.is_array)

    def local(dyn, sts, ws):
        base = eqx.combine(dyn, static)

        def one(st, w):
            n = base.with_weights(**w) if w else base
            return n.simulate(st, n_steps, monitors)

        return jax.vmap(one)(sts, ws)

    split, repl = NamedSharding(mesh, P(axis)), NamedSharding(mesh, P())
    dyn = jax.tree.map(lambda x: _place(x, repl), dyn)
    jitted = jax.jit(
        jax.shard_map(local, mesh=mesh, in_specs=(P(), P(axis), P(axis)), out_specs=P(axis)),
        compiler_options=compiler_options(mesh.devices.flat[0].platform),
    )

    def f(states: State, weights: dict[str, Any] | None = None):
        weights = {} if weights is None else dict(weights)
        if sorted(weights) != sorted(weight_names):
            raise ValueError(
                f"weights must have the keys {sorted(weight_names)}, got {sorted(weights)}"
            )
        B = int(np.shape(states["step"])[0]) if np.ndim(states["step"]) else 0
        if B == 0:
            raise ValueError("simulate_batch: states must have a leading batch axis (init_batch)")
        if B % size:
            raise ValueError(
                f"simulate_batch: batch size {B} must be a multiple of the {size} devices"
            )
        for name, w in weights.items():
            if np.shape(w)[:1] != (B,):
                raise ValueError(f"weights[{name!r}] must have leading axis {B}, got {np.shape(w)}")
        sts = jax.tree.map(lambda x: _place(x, split), states)
        ws = {k: _place(jnp.asarray(v, net.dtype), split) for k, v in weights.items()}
        out = jitted(dyn, sts, ws)
        _raise_on_overflow(states.get("overflow", {}), out[0].get("overflow", {}))
        return out

    return f
