"""How many CPU cores XLA's CPU runtime uses.

XLA runs a jitted program on the CPU as a sequence of small compiled kernels, handed to a
thread pool that it sizes once, from the cores this process may run on, when JAX first
touches the CPU backend. A network step is dozens of kernels of a few microseconds each,
and handing them between threads costs more than a second thread gains: measured on the
quiet 2-core development machine (`benchmarks/bench_core_policy.py`, load below 1.4), COBA
networks ran 1.7-2.0x faster with one XLA thread than with two at 16k neurons, 1.37x at 64k
and at 256k, and the same at 4k (one kernel); only a population of 10k independent
Hodgkin-Huxley cells gained from two (1.11x). `limit_cpu_cores` sizes the thread pool before
that first use; `spikejax network --cpu-cores N` does the same from the command line, and its
default (`auto`) is one thread for CPU runs of every size. Machines with more cores were not
measured: run the benchmark there before choosing.

`compiler_options` are the XLA options spikejax compiles network runs with on a CPU: copy
insertion with region analysis, which lets a loop update its carried arrays in place
instead of copying every state array once per step (1.2-1.5x faster network steps,
measured in `benchmarks/`).

`enable_loop_kernels` (called when spikejax is imported) lets XLA compile a whole simulation
loop into one kernel. XLA's CPU compiler turns a `while` loop into a single compiled function
when its body touches few bytes (1 kB by default) and holds no scatter, sort or custom call;
otherwise every operation of every iteration is a separate kernel launched by the runtime,
at a cost of tens of nanoseconds each. spikejax raises that limit to `LOOP_KERNEL_BYTES`
through the `XLA_FLAGS` environment variable, which XLA reads once, when JAX first uses a
backend, so it takes effect only if spikejax is imported before the first JAX computation.
A COBA-4000 step then runs in one kernel (about 25 % faster on the development machine, with
half the compile time; `docs/design.md`). The network's spike delivery is written without
scatters when the loops are kernels (`loop_kernels_active`). Set the environment variable
`SPIKEJAX_LOOP_KERNELS=0` to leave `XLA_FLAGS` untouched; a user's own
`--xla_backend_extra_options` in `XLA_FLAGS` is never overridden. Child processes inherit the
changed `XLA_FLAGS`. GPU backends ignore the option (XLA does not pass `xla_` options on to
LLVM).
"""

from __future__ import annotations

import os
import re

__all__ = [
    "LOOP_KERNEL_BYTES",
    "THREADS_ENV",
    "apply_cores_option",
    "available_cpu_cores",
    "compiler_options",
    "cores_for",
    "cpu_threads",
    "enable_loop_kernels",
    "gpu_plugin_installed",
    "has_avx512",
    "limit_cpu_cores",
    "loop_kernels_active",
]

_CPU_COMPILER_OPTIONS: dict[str, bool | int] = {"xla_cpu_copy_insertion_use_region_analysis": True}

#: XLA compiles a CPU `while` loop whose body accesses fewer bytes than this into one kernel
#: (with `enable_loop_kernels`). 1 MB covers a COBA network of about 8000 neurons and the
#: spike-delivery loops of any size; much larger loop bodies gain little (their arithmetic
#: dominates) and can take minutes to compile as one function (a dense projection with 200
#: delay groups took 58 s instead of 11 s at an unlimited size).
LOOP_KERNEL_BYTES = 1_000_000
_LOOP_OPTION = "xla_cpu_small_while_loop_byte_threshold"
_MIN_ACTIVE_BYTES = 65_536
_loop_kernels: bool | None = None


def _loop_option_bytes(flags: str) -> int | None:
    m = re.search(_LOOP_OPTION + r"=(\d+)", flags)
    return int(m.group(1)) if m else None


def enable_loop_kernels(max_bytes: int = LOOP_KERNEL_BYTES) -> bool:
    """Let XLA compile CPU loops whose body accesses fewer than `max_bytes` into single kernels
    (see the module's docstring), by adding its backend option to `XLA_FLAGS`.

    This works only before the first JAX computation of the process; `import spikejax` calls
    it. Nothing changes when `SPIKEJAX_LOOP_KERNELS=0`, or when `XLA_FLAGS` already sets
    `--xla_backend_extra_options` (the user's choice is kept, and counts as active if it
    raises the limit to at least 64 kB).

    **Arguments:**

    - `max_bytes`: the largest loop body (bytes accessed per iteration) compiled as one kernel.

    **Returns:** `loop_kernels_active()`.
    """
    global _loop_kernels
    if _loop_kernels is not None:
        return _loop_kernels
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_extra_options" in flags:
        limit = _loop_option_bytes(flags)
        _loop_kernels = limit is not None and limit >= _MIN_ACTIVE_BYTES
    elif os.environ.get("SPIKEJAX_LOOP_KERNELS", "1").strip() == "0" or _backend_initialized():
        _loop_kernels = False
    else:
        option = f"--xla_backend_extra_options={_LOOP_OPTION}={int(max_bytes)}"
        os.environ["XLA_FLAGS"] = f"{flags} {option}".strip()
        _loop_kernels = True
    return _loop_kernels


def loop_kernels_active() -> bool:
    """Whether XLA in this process compiles small CPU loops into single kernels (decided once,
    by `enable_loop_kernels`, which `import spikejax` calls)."""
    return bool(_loop_kernels)


def has_avx512() -> bool:
    """Whether this CPU has AVX-512 (from numpy's runtime CPU feature detection; False where
    that is unavailable)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy < 2
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as features
        except ImportError:
            return False
    return bool(features.get("AVX512F", False))


def compiler_options(platform: str | None = None) -> dict:
    """XLA compiler options for jitted simulation loops on `platform` (default: JAX's
    default backend): on `"cpu"`, in-place updates of loop-carried arrays (see above) and,
    on CPUs with AVX-512, 512-bit vectors (XLA prefers 256 bits by default; a COBA-4000 step
    ran 7-10 % faster with the same results); nothing elsewhere.

    **Arguments:**

    - `platform`: `"cpu"`, `"gpu"`, ... (default: JAX's default backend).

    **Returns:** a dict to pass as `jax.jit(f, compiler_options=...)`.
    """
    if platform is None:
        import jax

        platform = jax.default_backend()
    if platform != "cpu":
        return {}
    opts: dict[str, bool | int] = dict(_CPU_COMPILER_OPTIONS)
    if has_avx512():
        opts["xla_cpu_prefer_vector_width"] = 512
    return opts


def available_cpu_cores() -> list[int]:
    """The CPU cores this process may run on (all of `os.cpu_count()` where the platform
    has no affinity API)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def cpu_threads() -> int:
    """The number of threads XLA's CPU runtime uses (or will use) in this process: the
    `PJRT_NPROC` limit if one is set (see `limit_cpu_cores`), else one per available core."""
    value = os.environ.get(THREADS_ENV, "").strip()
    n = len(available_cpu_cores())
    return min(int(value), n) if value.isdigit() and int(value) >= 1 else n


def gpu_plugin_installed() -> bool:
    """Whether a JAX GPU plugin (CUDA or ROCm) is installed, found from the installed
    distributions without starting any JAX backend."""
    import re
    from importlib import metadata

    pattern = re.compile(r"^jax[-_](cuda|rocm)", re.IGNORECASE)
    # `metadata` is an `email.message.Message` (its `get` returns None for a missing field);
    # the `PackageMetadata` protocol it is typed as does not declare `get`.
    names = (d.metadata.get("Name") for d in metadata.distributions())  # pyright: ignore[reportAttributeAccessIssue]
    return any(pattern.match(name or "") for name in names)


def _backend_initialized() -> bool:
    try:
        from jax._src import xla_bridge
    except ImportError:  # pragma: no cover - jax is a core dependency
        return False
    check = getattr(xla_bridge, "backends_are_initialized", None)
    return bool(check()) if check is not None else bool(getattr(xla_bridge, "_backends", {}))


#: The environment variable XLA's CPU client reads, once, at backend start, for the number of
#: threads of its thread pools (default: the cores the process may run on).
THREADS_ENV = "PJRT_NPROC"


def limit_cpu_cores(n: int, *, pin: bool = False) -> list[int]:
    """Let XLA's CPU runtime use `n` threads, i.e. at most `n` cores at a time.

    By default the process is not pinned: XLA sizes its thread pools to `n` (through the
    `PJRT_NPROC` environment variable, which XLA reads once, at backend start) and the
    operating system runs those threads on whichever cores are free. On a shared machine that
    matters: a run pinned to the first core got 62-64 % of a CPU under contention where an
    unpinned one-thread run got 98 % (`benchmarks/bench_core_policy.py`). `pin=True` also
    restricts the process to its first `n` cores (`os.sched_setaffinity`, Linux only), for
    machines where each job owns its cores.

    Call it before the first JAX computation: a later change would not reach the pools.

    **Arguments:**

    - `n`: number of threads (cores), an integer in [1, `len(available_cpu_cores())`].
    - `pin`: also pin the process to its first `n` cores.

    **Returns:** the cores the process may run on afterwards.

    **Raises:** `ValueError` for `n` out of range; `RuntimeError` after the first JAX
    computation; `NotImplementedError` for `pin=True` without `os.sched_setaffinity` (use
    the operating system's tools, e.g. `start /affinity`).
    """
    cores = available_cpu_cores()
    if not (isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= len(cores)):
        raise ValueError(f"limit_cpu_cores: n must be an integer in [1, {len(cores)}], got {n!r}")
    if pin and not hasattr(os, "sched_setaffinity"):
        raise NotImplementedError("limit_cpu_cores(pin=True) needs os.sched_setaffinity (Linux)")
    if _backend_initialized():
        raise RuntimeError(
            "limit_cpu_cores must be called before the first JAX computation: XLA has already "
            "started its CPU thread pool in this process"
        )
    os.environ[THREADS_ENV] = str(n)
    if pin:
        os.sched_setaffinity(0, cores[:n])
    return available_cpu_cores()


def cores_for(option: str, device: str | None = None) -> int | None:
    """The number of XLA CPU threads a `--cpu-cores` option asks for.

    **Arguments:**

    - `option`: a number of threads, `"all"` (one per available core), or `"auto"`: one
      thread for CPU runs (measured fastest for networks of 4k-256k neurons on the 2-core
      development machine; see the module's docstring), and nothing changed when the run may
      use a GPU.
    - `device`: the JAX platform of the run: `"cpu"`, `"gpu"`, or None (a CPU run when no
      GPU plugin is installed).

    **Returns:** the number of threads, or None to leave the process as it is.

    **Raises:** `ValueError` for an option that is none of these.
    """
    if option == "all":
        return None
    if option == "auto":
        cpu_only = device == "cpu" or (device is None and not gpu_plugin_installed())
        return 1 if cpu_only else None
    try:
        n = int(option)
    except ValueError:
        n = 0
    n_max = len(available_cpu_cores())
    if not (1 <= n <= n_max) or str(n) != option.strip():
        raise ValueError(f"--cpu-cores must be 'auto', 'all' or an integer in [1, {n_max}]")
    return n


def apply_cores_option(option: str, device: str | None = None) -> int | None:
    """Resolve `option` with `cores_for` and size XLA's CPU thread pool to it.

    If JAX has already started in this process nothing changes (a note on stderr for an
    explicit number).

    **Arguments:** as `cores_for`.

    **Returns:** the number of cores kept, or None.
    """
    import sys

    cores = cores_for(option, device)
    if cores is None:
        return None
    if _backend_initialized():
        if option != "auto":
            print(
                "spikejax: --cpu-cores ignored: JAX already runs in this process", file=sys.stderr
            )
        return None
    limit_cpu_cores(cores)
    return cores
