"""spikejax's compiled CPU kernels (XLA FFI handlers in `_native.cc`): the spike delivery
and a kernel boundary.

**The delivery.** On XLA's CPU backend the delivery loop of `deliver_events` (kernel
`"single"`) costs 10-20 ns per synaptic event on the development machine (COBA at 64k and
256k neurons): the generated loop keeps its running state in memory and waits for each row
it reads. For networks of `_projection.NATIVE_MIN_NEURONS` neurons or more, `deliver_events`
calls the same walk compiled from C++ instead, which fetches the rows of later spikes while
adding the current one: 4.7-7.6 ns per event (`benchmarks/bench_coba_step_profile.py`).
Same sums in the same order, so results are bit-identical to the XLA loop.

**The boundary.** XLA's CPU backend computes every array a step outputs (a population's new
potential, its refractory clock, its spike words, ...) in a kernel of its own, and repeats
in each kernel the elementwise arithmetic they share: the integration step of the membrane
potential was computed three times per step, each time reading the whole state, and the
new potential was then copied into place. `boundary(x)` returns `x` through a call XLA
cannot fuse across, so `x` is computed once and the kernels after it read it; the call
itself does nothing (its result is its argument's buffer). A network that uses the compiled
delivery passes it to `spikejax.solvers.advance` for its populations' integrated potential
(`Network.step`): a COBA step took 22 % less time at 64k neurons and 12-20 % less at 256k,
with bit-identical results (`results/coba_step_profile_boundary.json`). Elsewhere (small
networks, which XLA compiles into one kernel, and other backends) it is not used.

The kernels are compiled on first use with the system's C++ compiler (`$CXX`, else `c++` or
`g++`; about 4 s) against the FFI headers of the installed jaxlib, and cached under
`$SPIKEJAX_CACHE_DIR` (default `~/.cache/spikejax`), keyed by the source, the jaxlib version,
the compiler and the machine, so that later processes only load them. Where no compiler is
found, the compilation fails, or `SPIKEJAX_NATIVE=0` is set, `native_delivery()` is None and
networks use the XLA loop without the boundary. Nothing is compiled or loaded at import
time.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from functools import cache
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["BOUNDARY", "NATIVE_ENV", "TARGET", "boundary", "native_delivery"]

#: set to "0" to keep every network on the XLA delivery loop
NATIVE_ENV = "SPIKEJAX_NATIVE"
#: the FFI targets' names: the delivery, the kernel boundary
TARGET = "spikejax_deliver"
BOUNDARY = "spikejax_boundary"
_SOURCE = "_native.cc"
_SYMBOLS = {TARGET: "SpikejaxDeliver", BOUNDARY: "SpikejaxBoundary"}


def _compiler() -> str | None:
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _cache_dir() -> str:
    root = os.environ.get("SPIKEJAX_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "spikejax"
    )
    return os.path.join(root, "native")


def _build(source: bytes, cxx: str) -> str:
    """The path of the compiled library (compiled here unless cached); raises on failure."""
    from importlib.metadata import version as installed

    include = jax.ffi.include_dir()
    compiler = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30)
    key = hashlib.sha256(
        b"\0".join(
            [
                source,
                installed("jaxlib").encode(),
                compiler.stdout.encode(),
                platform.machine().encode(),
                platform.platform().encode(),
            ]
        )
    ).hexdigest()[:20]
    folder = _cache_dir()
    path = os.path.join(folder, f"deliver-{key}.so")
    if os.path.exists(path):
        return path
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        src = os.path.join(tmp, _SOURCE)
        with open(src, "wb") as f:
            f.write(source)
        out = os.path.join(tmp, "deliver.so")
        cmd = [cxx, "-O2", "-std=c++17", "-shared", "-fPIC", "-w", "-I", include, src, "-o", out]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        os.replace(out, path)  # atomic: concurrent builders each install a whole file
    return path


@cache
def native_delivery() -> str | None:
    """The FFI target name of the compiled delivery kernel, registered for the CPU (with the
    kernel boundary, `BOUNDARY`), or None where they are unavailable (no C++ compiler, a
    failed compilation, `SPIKEJAX_NATIVE=0`, or a platform other than Linux/macOS);
    compiled and loaded once per process, on first call. A failure is reported once as a
    `RuntimeWarning` naming the cause."""
    if os.environ.get(NATIVE_ENV, "1").strip() == "0":
        return None
    if platform.system() not in ("Linux", "Darwin"):
        return None
    cxx = _compiler()
    if cxx is None:
        return None
    try:
        source = resources.files(__name__.rsplit(".", 1)[0]).joinpath(_SOURCE).read_bytes()
        lib = ctypes.cdll.LoadLibrary(_build(source, cxx))
        for target, symbol in _SYMBOLS.items():
            handler = getattr(lib, symbol)
            jax.ffi.register_ffi_target(target, jax.ffi.pycapsule(handler), platform="cpu")
    except (OSError, RuntimeError, AttributeError, subprocess.SubprocessError) as e:
        warnings.warn(
            f"spikejax: the compiled CPU spike delivery is unavailable ({e}); networks use "
            f"the XLA delivery loop (set {NATIVE_ENV}=0 to silence this)",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return TARGET


def _varying(x) -> frozenset:
    """The manual mesh axes (inside `shard_map`) over which the value `x` varies."""
    t = jax.typeof(x)
    kind = getattr(t, "manual_axis_type", None)
    return frozenset(kind.varying if kind is not None else getattr(t, "vma", ()))


def _vary_like(out, x):
    """`out`, varying over the manual mesh axes (inside `shard_map`) over which `x` varies
    (an FFI call's result varies over none; a scan carrying it needs them)."""
    missing = _varying(x) - _varying(out)
    return jax.lax.pcast(out, tuple(sorted(missing)), to="varying") if missing else out


def deliver_native(flat, words, count, k, tables, *, D: int, W: int, words_per_member: int,
                   n_pre: int, cols, delay_values, per_synapse, clear: bool = False):  # fmt: skip
    """Call the compiled delivery (see `_native.cc`): `flat` (the ring buffers of
    the members, `(D, W)` each, in any shape, updated in place), `words`/`count` (the spike
    words and the number of spikes to deliver), `k` (the step, one or one per member) and
    `tables`: for each projection `(rows, weight, delays or None)`, with `delay_values[i]`
    its single delay (if it has no delay table) and `per_synapse[i]` whether its weight is
    a table.
    `clear`: first zero each member's slot `k % D`."""
    if native_delivery() is None:
        raise RuntimeError(
            "deliver_events: kernel 'native' needs the compiled delivery, which is "
            f"unavailable here (a C++ compiler, and {NATIVE_ENV} not 0)"
        )
    args = []
    for rows, weight, delays in tables:
        args += [rows, jnp.asarray(weight).astype(flat.dtype)]
        if delays is not None:
            if delays.dtype not in (jnp.int8, jnp.int16, jnp.int32):
                delays = delays.astype(jnp.int32)
            args.append(delays)
    call = jax.ffi.ffi_call(
        TARGET, jax.ShapeDtypeStruct(flat.shape, flat.dtype), input_output_aliases={0: 0}
    )
    out = call(
        flat,
        words.astype(jnp.uint32),
        jnp.asarray(count, jnp.int32).reshape(()),
        jnp.asarray(k, jnp.int32).reshape(-1),
        *args,
        D=np.int64(D),
        W=np.int64(W),
        words_per_member=np.int64(words_per_member),
        n_pre=np.int64(n_pre),
        cols=np.asarray(cols, np.int64),
        delay_value=np.asarray(delay_values, np.int64),
        has_delays=np.asarray([t[2] is not None for t in tables], np.int64),
        per_synapse=np.asarray(per_synapse, np.int64),
        clear=np.int64(bool(clear)),
    )
    return _vary_like(out, flat)


@jax.custom_jvp
def boundary(x):
    """`x` (any shape, float32 or float64), with a kernel boundary: XLA computes `x` once, in
    a kernel of its own, and the operations after this call read it (see the module
    docstring). Values and derivatives are those of the identity; under `vmap` each member
    passes through. Needs the compiled kernels (`native_delivery()`), on the CPU."""
    if native_delivery() is None:
        raise RuntimeError(
            f"boundary needs the compiled CPU kernels, which are unavailable here (a C++ "
            f"compiler, and {NATIVE_ENV} not 0)"
        )
    call = jax.ffi.ffi_call(
        BOUNDARY,
        jax.ShapeDtypeStruct(x.shape, x.dtype),
        input_output_aliases={0: 0},
        vmap_method="expand_dims",
    )
    return _vary_like(call(x), x)


@boundary.defjvp
def _boundary_jvp(primals, tangents):
    return boundary(primals[0]), tangents[0]
