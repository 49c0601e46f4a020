"""spikejax.cpu: restricting XLA's CPU runtime to some cores (checked in fresh interpreters,
since XLA sizes its thread pool once per process)."""

import os
import subprocess
import sys

import pytest

from spikejax.cpu import available_cpu_cores, gpu_plugin_installed, limit_cpu_cores
from spikejax.cpu import cores_for as cpu_cores_for

linux_only = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux affinity")


def _fresh(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return out.stdout.strip()


@linux_only
def test_limit_before_first_use_pins_the_process_and_refuses_afterwards():
    code = (
        "import os, spikejax\n"
        "from spikejax.cpu import limit_cpu_cores\n"
        "first = min(os.sched_getaffinity(0))\n"
        "kept = limit_cpu_cores(1)\n"
        "assert kept == [first] and os.sched_getaffinity(0) == {first}, kept\n"
        "import jax.numpy as jnp\n"
        "assert float(jnp.sum(jnp.arange(4.0))) == 6.0\n"
        "try:\n"
        "    limit_cpu_cores(1)\n"
        "except RuntimeError as e:\n"
        "    print('refused:', 'before the first JAX computation' in str(e))\n"
    )
    assert _fresh(code) == "refused: True"


def test_bad_core_counts_name_the_range():
    n = len(available_cpu_cores())
    for bad in (0, n + 1, 1.5, True):
        with pytest.raises(ValueError, match=r"limit_cpu_cores: n must be an integer in \[1, "):
            limit_cpu_cores(bad)


def test_cli_core_option():
    n = len(available_cpu_cores())
    assert cpu_cores_for("all", None) is None
    assert cpu_cores_for("1", None) == 1
    assert cpu_cores_for(str(n), "gpu") == n
    # auto: one core for CPU runs, untouched when a GPU may be used
    assert cpu_cores_for("auto", "cpu") == 1
    assert cpu_cores_for("auto", "gpu") is None
    assert cpu_cores_for("auto", None) == (None if gpu_plugin_installed() else 1)
    # large networks use every core
    assert cpu_cores_for("auto", "cpu", n_neurons=32_000) == 1
    assert cpu_cores_for("auto", "cpu", n_neurons=64_000) is None
    for bad in ("0", str(n + 1), "two", "1.0"):
        with pytest.raises(ValueError, match="--cpu-cores must be"):
            cpu_cores_for(bad, None)


def test_compiler_options_keep_results_identical():
    import jax
    import jax.numpy as jnp
    import numpy as np

    from spikejax import network as nw
    from spikejax.cpu import compiler_options

    assert compiler_options("cpu") == {"xla_cpu_copy_insertion_use_region_analysis": True}
    assert compiler_options("gpu") == {}
    # The options change how XLA places buffers, never the arithmetic: a COBA run compiled
    # with and without them ends in bit-identical states with identical spikes.
    net, mons = nw.coba(400, key=jax.random.key(0), dtype=jnp.float64)
    st = net.init_state(key=jax.random.key(1))
    outs = []
    for opts in ({}, compiler_options("cpu")):
        f = jax.jit(lambda s: net.simulate(s, 500, mons), compiler_options=opts)
        outs.append(f(st))
    jax.tree.map(np.testing.assert_array_equal, outs[0], outs[1])
    assert sum(int(np.bitwise_count(np.asarray(v)).sum()) for v in outs[0][1].values()) > 100
