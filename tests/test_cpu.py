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


_POOL = (
    "import collections, os\n"
    "import jax.numpy as jnp\n"
    "assert float(jnp.sum(jnp.ones((300, 300)) @ jnp.ones((300, 300)))) == 300.0**3\n"
    "names = collections.Counter(\n"
    "    open(f'/proc/self/task/{t}/comm').read().strip() for t in os.listdir('/proc/self/task')\n"
    ")\n"
    "print(names['tf_XLAEigen'], sorted(os.sched_getaffinity(0)))\n"
)


@linux_only
def test_limit_sizes_xla_thread_pool_without_pinning_and_refuses_afterwards():
    # The truth is the process itself: the threads of XLA's CPU pool (named tf_XLAEigen) and
    # the cores the kernel lets it run on.
    code = (
        "import os, spikejax\n"
        "from spikejax.cpu import limit_cpu_cores, cpu_threads\n"
        "before = sorted(os.sched_getaffinity(0))\n"
        "assert limit_cpu_cores(1) == before and cpu_threads() == 1\n" + _POOL + "try:\n"
        "    limit_cpu_cores(1)\n"
        "except RuntimeError as e:\n"
        "    print('refused:', 'before the first JAX computation' in str(e))\n"
    )
    pool, refused = _fresh(code).splitlines()
    assert pool == f"1 {sorted(os.sched_getaffinity(0))}"
    assert refused == "refused: True"
    # without a limit XLA's pool has one thread per available core
    assert _fresh(_POOL) == (f"{len(os.sched_getaffinity(0))} {sorted(os.sched_getaffinity(0))}")


@linux_only
def test_limit_with_pin_restricts_the_process_to_its_first_cores():
    first = min(os.sched_getaffinity(0))
    code = "import spikejax.cpu\nspikejax.cpu.limit_cpu_cores(1, pin=True)\n"
    assert _fresh(code + _POOL) == f"1 [{first}]"


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
    for bad in ("0", str(n + 1), "two", "1.0"):
        with pytest.raises(ValueError, match="--cpu-cores must be"):
            cpu_cores_for(bad, None)


def test_compiler_options_keep_results_identical():
    import jax
    import jax.numpy as jnp
    import numpy as np

    from spikejax import network as nw
    from spikejax.cpu import compiler_options, has_avx512

    wide = {"xla_cpu_prefer_vector_width": 512} if has_avx512() else {}
    assert compiler_options("cpu") == {"xla_cpu_copy_insertion_use_region_analysis": True, **wide}
    assert compiler_options("gpu") == {}
    # The options change how XLA places buffers and how wide its vectors are, never the
    # arithmetic: a COBA run compiled with and without them ends in bit-identical states with
    # identical spikes.
    net, mons = nw.coba(400, key=jax.random.key(0), dtype=jnp.float64)
    st = net.init_state(key=jax.random.key(1))
    outs = []
    for opts in ({}, compiler_options("cpu")):
        f = jax.jit(lambda s: net.simulate(s, 500, mons), compiler_options=opts)
        outs.append(f(st))
    jax.tree.map(np.testing.assert_array_equal, outs[0], outs[1])
    assert sum(int(np.bitwise_count(np.asarray(v)).sum()) for v in outs[0][1].values()) > 100


def _fresh_env(code: str, **env) -> str:
    full = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "SPIKEJAX_LOOP_KERNELS")}
    full.update(env)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True,
        env=full,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


_REPORT = (
    "import os, spikejax\n"
    "from spikejax.cpu import loop_kernels_active\n"
    "print(loop_kernels_active(), repr(os.environ.get('XLA_FLAGS')))\n"
)


@pytest.mark.slow  # > 20 s on a 2-core machine; run with -m slow
def test_loop_kernel_option_is_set_at_import_and_respects_the_user():
    opt = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1000000"
    # imported first: the option goes into XLA_FLAGS, next to the user's other flags
    assert _fresh_env(_REPORT) == f"True {opt!r}"
    assert _fresh_env(_REPORT, XLA_FLAGS="--xla_cpu_enable_fast_math=false") == (
        f"True '--xla_cpu_enable_fast_math=false {opt}'"
    )
    # opted out, or the user's own backend options: XLA_FLAGS is left as it is
    assert _fresh_env(_REPORT, SPIKEJAX_LOOP_KERNELS="0") == "False None"
    own = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=500000"
    assert _fresh_env(_REPORT, XLA_FLAGS=own) == f"True {own!r}"
    low = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=0"
    assert _fresh_env(_REPORT, XLA_FLAGS=low) == f"False {low!r}"
    # too late once JAX has computed something: nothing changes
    late = "import jax.numpy as jnp\njnp.ones(2).block_until_ready()\n" + _REPORT
    assert _fresh_env(late) == "False None"


def test_loop_kernels_compile_a_network_run_into_one_kernel():
    # With the option, a COBA run (scan over steps, spike delivery loops inside) compiles to a
    # single kernel: no while loop and no scatter is left in the entry computation, so no
    # operation is launched per step; without it (and without the compiled delivery, which
    # networks then take where a compiler is found), the loop stays a sequence of kernels
    # with a scatter per spike. The spikes are the same either way.
    code = (
        "import jax, numpy as np, spikejax\n"
        "from spikejax import network as nw\n"
        "from spikejax.cpu import compiler_options, loop_kernels_active\n"
        "net, mons = nw.coba(1000, key=jax.random.key(0))\n"
        "st = net.init_state(key=jax.random.key(1))\n"
        "f = jax.jit(lambda s: net.simulate(s, 300, mons), compiler_options=compiler_options())\n"
        "c = f.lower(st).compile()\n"
        "entry = c.as_text().split('ENTRY')[1]\n"
        "out = c(st)[1]\n"
        "n = sum(int(np.bitwise_count(np.asarray(v)).sum()) for v in out.values())\n"
        "digest = sum(int(np.asarray(v, np.int64).sum()) for v in out.values())\n"
        "print(loop_kernels_active(), ' while(' in entry, ' scatter(' in c.as_text(), n > 100,"
        " digest)\n"
    )
    on = _fresh_env(code).split()
    off = _fresh_env(code, SPIKEJAX_LOOP_KERNELS="0", SPIKEJAX_NATIVE="0").split()
    assert on[:4] == ["True", "False", "False", "True"], on
    assert off[:4] == ["False", "True", "True", "True"], off
    assert on[4] == off[4]
