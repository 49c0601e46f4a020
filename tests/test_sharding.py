"""Multi-device runs on 4 virtual CPU devices equal single-device runs exactly.

The device count of the host platform is fixed when jax is imported, so each check runs in a
fresh Python process with `XLA_FLAGS=--xla_force_host_platform_device_count=4`.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from spikejax.network import (
    brunel2000,
    device_mesh,
    init_batch,
    simulate_batch,
    simulate_sharded,
)

_PRELUDE = """
import os, json
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)
assert jax.device_count() == 4
import spikejax.network as sn
out = {}
"""


def _run(body: str, timeout=600) -> dict:
    code = _PRELUDE + textwrap.dedent(body) + "\nprint('RESULT' + json.dumps(out))\n"
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env
    )
    assert r.returncode == 0, r.stderr[-3000:]
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT") :])


@pytest.mark.slow  # 18 s on the CI machine; a consistency check (sharded against one device)
def test_neuron_sharded_equals_single_device():
    # Brunel network: event-driven delivery with a 1.5 ms delay and per-neuron Poisson input
    # drawn every step, so both the spike exchange and the RNG are exercised. 500 neurons
    # split 4 ways (400 E -> 100 per device, 100 I -> 25).
    out = _run("""
        net, mons = sn.brunel2000(400, g=4.5, nu_ext_over_nu_thr=1.5, key=jax.random.key(1))
        st = net.init_state(key=jax.random.key(2))
        res = {}
        for nd in (1, 4):
            s2, o = sn.simulate_sharded(net, st, 300, mesh=sn.device_mesh(nd), monitors=mons)
            res[nd] = (jax.device_get(o), jax.device_get(s2))
            out[f"spec{nd}"] = [str(a) for a in s2["neurons"]["E"]["V"].sharding.spec]
        (o1, s1), (o4, s4) = res[1], res[4]
        out["n_spikes"] = int(sum(np.bitwise_count(np.asarray(v)).sum() for v in o1.values()))
        out["spikes_equal"] = all(bool((o1[k] == o4[k]).all()) for k in o1)
        out["v_maxdiff"] = max(float(np.abs(s1["neurons"][p]["V"] - s4["neurons"][p]["V"]).max())
                               for p in ("E", "I"))
        # and the plain (unsharded) Network.simulate
        s0, o0 = net.simulate(st, 300, mons)
        out["equals_plain"] = all(bool((np.asarray(o0[k]) == o1[k]).all()) for k in o1)
    """)
    assert out["spec4"] == ["neurons"]  # really split over the 4 devices
    assert out["n_spikes"] > 100  # the network is active, so the comparison means something
    # Exact equality: same program, same key; sharding must not change a single spike.
    assert out["spikes_equal"] and out["equals_plain"]
    # Membrane potentials: the partitioned program does the same float operations per neuron
    # (no cross-device reductions touch V), so they agree to round-off (float64).
    assert out["v_maxdiff"] <= 1e-12


@pytest.mark.slow  # > 20 s on a 2-core machine; run with -m slow
def test_batch_sharded_equals_single_device_and_single_runs():
    # A sweep of 8 networks (own key and own E weight each) on 4 devices (2 per device) and on
    # 1 device; member b must also equal the same network simulated alone.
    out = _run("""
        net, mons = sn.brunel2000(200, key=jax.random.key(1))
        keys = jax.random.split(jax.random.key(5), 8)
        sts = sn.init_batch(net, keys)
        J = jnp.linspace(0.08, 0.12, 8)
        w = {"E->E": J, "E->I": J}
        res = {}
        for nd in (1, 4):
            s2, o = sn.simulate_batch(net, sts, 150, mesh=sn.device_mesh(nd, axis_name="b"),
                                      weights=w, monitors=mons)
            res[nd] = jax.device_get(o)
            out[f"spec{nd}"] = [str(a) for a in o["spikes/E"].sharding.spec]
        out["equal_1_4"] = all(bool((res[1][k] == res[4][k]).all()) for k in res[1])
        spk = np.asarray(res[4]["spikes/E"])
        out["n_spikes"] = [int(np.bitwise_count(spk[b]).sum()) for b in range(8)]
        alone = []
        for b in (0, 5):
            nb = net.with_weights(**{"E->E": J[b], "E->I": J[b]})
            _, ob = nb.simulate(nb.init_state(key=keys[b]), 150, mons)
            alone.append(all(bool((np.asarray(ob[k]) == res[4][k][b]).all()) for k in ob))
        out["equal_alone"] = alone
    """)
    assert out["spec4"][0] == "b"
    assert out["equal_1_4"]  # exact: independent networks, per-network keys
    assert all(out["equal_alone"])
    # the members differ (different keys and weights), so equality is not trivial
    assert min(out["n_spikes"]) > 0 and len(set(out["n_spikes"])) > 1


def test_batch_bad_input():
    net, mons = brunel2000(100, key=jax.random.key(0))
    sts = init_batch(net, jax.random.split(jax.random.key(1), 3))
    mesh = device_mesh(1)
    with pytest.raises(ValueError, match="weights"):
        simulate_batch(net, sts, 2, mesh=mesh, weights={"E->E": np.ones(2)})
    with pytest.raises(ValueError, match="no projection"):
        simulate_batch(net, sts, 2, mesh=mesh, weights={"nope": np.ones(3)})
    with pytest.raises(ValueError, match="batch axis"):
        simulate_batch(net, net.init_state(key=jax.random.key(0)), 2, mesh=mesh)
    with pytest.raises(ValueError, match="n_devices"):
        device_mesh(jax.device_count() + 1)
    with pytest.raises(ValueError, match="n_devices"):
        device_mesh(0)


def test_overflow_is_reported():
    # a spike buffer of 1 on the event path: a step with 2+ spikes overflows; the drivers
    # must raise (spikes beyond the buffer would not be delivered), never return a result.
    net, mons = brunel2000(400, key=jax.random.key(0), propagation="event")
    small = net.with_spike_buffers(E=1, I=1)
    sts = init_batch(small, jax.random.split(jax.random.key(1), 2))
    with pytest.raises(RuntimeError, match="overflow"):
        simulate_batch(small, sts, 300, mesh=device_mesh(1))
    with pytest.raises(RuntimeError, match="overflow"):
        simulate_sharded(small, small.init_state(key=jax.random.key(1)), 300, mesh=device_mesh(1))


@pytest.mark.slow
def test_coba_sharded_equals_single_device():
    # COBA (conductance synapses, no delay) sharded 4 ways, 2000 steps.
    out = _run("""
        net, mons = sn.coba(4000, key=jax.random.key(1))
        st = net.init_state(key=jax.random.key(2))
        o = {nd: jax.device_get(sn.simulate_sharded(net, st, 2000, mesh=sn.device_mesh(nd),
                                                    monitors=mons)[1]) for nd in (1, 4)}
        out["equal"] = all(bool((o[1][k] == o[4][k]).all()) for k in o[1])
        out["n_spikes"] = int(sum(np.bitwise_count(np.asarray(v)).sum() for v in o[1].values()))
    """)
    assert out["n_spikes"] > 1000 and out["equal"]
