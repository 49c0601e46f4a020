"""The network job behind `spikejax network` (the default job): build a classic network or
the cortical microcircuit, run it, report rates and timings, and write figures."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import time
from dataclasses import dataclass

from ._args import cpu_cores, integer_in, positive_float


@dataclass(frozen=True)
class NetworkSpec:
    """How the CLI builds one network: its default size and its synapse count for a size."""

    default_n: int
    synapses_per_n: str  # how the synapse count grows: "linear" (fixed in-degree) or "square"
    synapse_factor: float  # synapses = factor * n ("linear") or factor * n^2 ("square")
    about: str


#: The networks of `spikejax network --network NAME`: each runs at the size it was built
#: for unless `--n` says otherwise.
NETWORKS: dict[str, NetworkSpec] = {
    # Vogels & Abbott (2005) / Brette et al. (2007): 80 synapses per neuron at every size.
    "coba": NetworkSpec(4000, "linear", 80.0, "COBA benchmark (Brette et al. 2007)"),
    "cuba": NetworkSpec(4000, "linear", 80.0, "CUBA benchmark (Brette et al. 2007)"),
    # Izhikevich (2003): all-to-all, built for 1000 cells (larger sizes over-excite it).
    "izhikevich": NetworkSpec(1000, "square", 1.0, "Izhikevich (2003), all-to-all"),
    # Brunel (2000): 10,000 excitatory + 2,500 inhibitory cells, in-degree 0.1 N.
    "brunel": NetworkSpec(12500, "square", 0.1, "Brunel (2000) sparse network"),
}

#: The Potjans & Diesmann (2014) microcircuit at scale 1: neurons and (about) synapses;
#: `--scale S` multiplies both the neuron numbers and the in-degrees by S.
MICROCIRCUIT_FULL_NEURONS = 77169
MICROCIRCUIT_FULL_SYNAPSES = 2.99e8

#: Peak bytes per synapse while a network is built (host arrays: indices, weights, delays and
#: the builder's temporaries), measured with `resource.getrusage` on coba (45 B), the
#: all-to-all Izhikevich network (43 B) and brunel (26 B); rounded up.
BYTES_PER_SYNAPSE = 48
#: Bytes per neuron (state, parameters, spike buffers), generously.
BYTES_PER_NEURON = 256


def _network_size(network: str, n: int | None, scale: float | None) -> tuple[int, float]:
    """(neurons, synapses) of a network as the CLI builds it."""
    if network == "microcircuit":
        s = 0.1 if scale is None else scale
        return round(MICROCIRCUIT_FULL_NEURONS * s), MICROCIRCUIT_FULL_SYNAPSES * s * s
    spec = NETWORKS[network]
    n = spec.default_n if n is None else n
    power = 1 if spec.synapses_per_n == "linear" else 2
    return n, spec.synapse_factor * float(n) ** power


def memory_estimate(network: str, n: int | None = None, scale: float | None = None) -> int:
    """Bytes needed to build `network` with `n` neurons (or the microcircuit at `scale`: its
    peak from the array sizes, `spikejax.network.microcircuit_memory_estimate`)."""
    if network == "microcircuit":
        from ..network import microcircuit_memory_estimate

        return microcircuit_memory_estimate(0.1 if scale is None else scale)
    neurons, synapses = _network_size(network, n, scale)
    return int(neurons * BYTES_PER_NEURON + synapses * BYTES_PER_SYNAPSE)


#: Environment variable that overrides the available memory (bytes) the size check uses.
MEMORY_AVAILABLE_ENV = "SPIKEJAX_MEMORY_AVAILABLE"


def available_memory() -> int | None:
    """Bytes of memory available to new allocations: `$SPIKEJAX_MEMORY_AVAILABLE` if set
    (bytes; to test or tighten the size check), else `MemAvailable` of /proc/meminfo, else
    the free physical pages, or None where the platform says neither."""
    env = os.environ.get(MEMORY_AVAILABLE_ENV)
    if env:
        try:
            return int(float(env))
        except ValueError:
            raise ValueError(
                f"{MEMORY_AVAILABLE_ENV} must be a number of bytes, got {env!r}"
            ) from None
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    with contextlib.suppress(AttributeError, ValueError, OSError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return None


def _gb(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.3g} GB"


def _what(network: str, n: int | None, scale: float | None) -> str:
    """`"coba with 4000 neurons (about 3.2e+05 synapses)"`, or the microcircuit's scale."""
    neurons, synapses = _network_size(network, n, scale)
    if network == "microcircuit":
        s = 0.1 if scale is None else scale
        return f"microcircuit at scale {s:g} ({neurons} neurons, about {synapses:.3g} synapses)"
    return f"{network} with {neurons} neurons (about {synapses:.3g} synapses)"


def _build(network: str, n: int, key, scale: float | None = None):
    from .. import network as nw

    if network == "coba":
        return nw.coba(n, key=key)
    if network == "cuba":
        return nw.cuba(n, key=key)
    if network == "izhikevich":
        n_exc = int(round(0.8 * n))
        return nw.izhikevich2003(n_exc, n - n_exc, key=key)
    if network == "brunel":
        return nw.brunel2000(int(round(0.8 * n)), key=key)
    if network == "microcircuit":
        return nw.microcircuit(0.1 if scale is None else scale, key=key)
    raise ValueError(f"network must be one of {[*NETWORKS, 'microcircuit']}, got {network!r}")


def run_network_job(
    network: str = "coba",
    n: int | None = None,
    duration_ms: float = 1000.0,
    seed: int = 0,
    out_dir: str = "spikejax_output",
    device: str | None = None,
    *,
    scale: float | None = None,
    progress: bool = True,
    verbose: bool = True,
    memory_available: int | None = None,
) -> dict:
    """Build and run a network and report on it.

    Prints the mean rate and CV of ISIs per population, the wall time split into build,
    compile and run, and the real-time factor (run wall time / biological time); writes
    `<network>_raster.png` (raster and population rate) and `<network>_summary.json` to
    `out_dir`.

    **Arguments:**

    - `network`: `"coba"`, `"cuba"`, `"izhikevich"`, `"brunel"` (see `NETWORKS`) or
      `"microcircuit"` (Potjans & Diesmann 2014, at `scale`, default 0.1).
    - `n`: number of neurons (None: the network's own default size; not for the
      microcircuit).
    - `duration_ms`: biological time (ms), > 0.
    - `seed`: PRNG seed of connectivity (`seed`) and of the run (`seed + 1`).
    - `out_dir`: output folder (created).
    - `device`: a JAX platform (`"cpu"`, `"gpu"`) or None for the default.
    - `progress`: show a progress bar during the run; `verbose`: print the report (and, first,
      the memory estimate).
    - `memory_available`: bytes of memory the size check allows (None: `available_memory()`).

    **Returns:** the summary dict (also written as JSON).

    **Raises:** `ValueError` for a bad argument, an unavailable device, or a network whose
    estimated build memory exceeds the available memory.
    """
    import jax

    from ..cpu import cpu_threads
    from ..network import run
    from ..spikes import population_cv_isi as cv_isi

    if network not in NETWORKS and network != "microcircuit":
        raise ValueError(f"network must be one of {[*NETWORKS, 'microcircuit']}, got {network!r}")
    if network == "microcircuit":
        if n is not None:
            raise ValueError("n does not apply to the microcircuit: give its scale instead")
    elif scale is not None:
        raise ValueError(f"scale applies to the microcircuit only, not to {network!r}")
    if n is not None and not (int(n) == n and n >= 10):
        raise ValueError(f"n must be an integer >= 10, got {n!r}")
    if not (math.isfinite(duration_ms) and duration_ms > 0):
        raise ValueError(f"duration_ms must be finite and > 0, got {duration_ms!r}")
    n_neurons, n_synapses = _network_size(network, None if n is None else int(n), scale)
    need = memory_estimate(network, n, scale)
    avail = available_memory() if memory_available is None else int(memory_available)
    if avail is not None and need > avail:
        raise ValueError(
            f"{_what(network, n, scale)} needs about {_gb(need)} of memory (estimate), but "
            f"only {_gb(avail)} is available; choose a smaller size"
        )
    ctx = contextlib.nullcontext()
    if device is not None:
        try:
            dev = jax.devices(device)[0]
        except RuntimeError as e:
            raise ValueError(f"device {device!r} is not available: {e}") from None
        ctx = jax.default_device(dev)
    os.makedirs(out_dir, exist_ok=True)
    if verbose:
        print(
            f"building {_what(network, n, scale)}: memory estimate {_gb(need)}"
            + ("" if avail is None else f" ({_gb(avail)} available)")
            + "...",
            flush=True,
        )
    with ctx:
        t0 = time.perf_counter()
        net, monitors = _build(network, n_neurons, jax.random.key(seed), scale)
        build_s = time.perf_counter() - t0
        res = run(
            net,
            float(duration_ms),
            key=jax.random.key(seed + 1),
            monitors=monitors,
            progress=progress,
        )
        dev_name = str(jax.devices()[0] if device is None else jax.devices(device)[0])
    pops = {}
    for p, (i, t) in res.spikes.items():
        pops[p] = {
            "n": res.n_neurons[p],
            "rate_hz": res.mean_rate(p),
            "cv_isi": cv_isi(i, t, res.n_neurons[p]),
            "n_spikes": int(i.size),
        }
    total = sum(v["n_spikes"] for v in pops.values())
    n_total = sum(v["n"] for v in pops.values())
    summary = {
        "network": network,
        "n": n_total,
        "duration_ms": float(duration_ms),
        "dt_ms": net.dt,
        "seed": seed,
        "device": dev_name,
        # XLA's CPU threads (the `--cpu-cores` choice), not the cores the machine has
        "cpu_cores": cpu_threads(),
        "dtype": str(net.dtype),
        "build_s": build_s,
        "compile_s": res.compile_s,
        "run_s": res.run_s,
        "real_time_factor": res.run_s / (duration_ms * 1e-3),
        "mean_rate_hz": total / (n_total * duration_ms * 1e-3),
        "populations": pops,
        "spike_buffer_growths": res.spike_buffer_growths,
    }
    if network == "microcircuit":
        from ..network import microcircuit_parameters, microcircuit_rates

        s = 0.1 if scale is None else scale
        summary["scale"] = s
        sizes = microcircuit_parameters(s)["n"]
        summary["population_rates_hz"] = microcircuit_rates(res, sizes)
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        with contextlib.suppress(Exception):
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot import plot_network

    fig, _ = plot_network(res, title=f"{network.upper()} ({n_total} neurons, seed {seed})")
    png = os.path.join(out_dir, f"{network}_raster.png")
    fig.savefig(png, dpi=120)
    plt.close(fig)
    summary["figure"] = png
    with open(os.path.join(out_dir, f"{network}_summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=float)
    if verbose:
        cores = summary["cpu_cores"]
        print(
            f"{network.upper()}: {n_total} neurons, {duration_ms:g} ms, dt {net.dt} ms on "
            f"{dev_name} ({cores} CPU thread{'s' if cores > 1 else ''})"
        )
        for p, v in pops.items():
            print(
                f"  {p}: {v['n']} neurons, rate {v['rate_hz']:.2f} Hz, CV(ISI) "
                f"{v['cv_isi']:.3f}, {v['n_spikes']} spikes"
            )
        for p, r in summary.get("population_rates_hz", {}).items():
            print(f"    {p}: {r:.2f} Hz")
        print(f"  mean rate {summary['mean_rate_hz']:.2f} Hz")
        print(
            f"  build {build_s:.2f} s, compile {res.compile_s:.2f} s, run {res.run_s:.2f} s; "
            f"real-time factor {summary['real_time_factor']:.3f}"
        )
        print(f"  figure: {png}")
    return summary


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """argparse options of the network job."""
    sizes = ", ".join(f"{k} {v.default_n}" for k, v in NETWORKS.items())
    parser.add_argument(
        "--network",
        default="coba",
        choices=[*NETWORKS, "microcircuit"],
        help="which network (coba)",
    )
    parser.add_argument(
        "--n",
        type=integer_in(10),
        default=None,
        help=f"number of neurons, >= 10 (default: the network's own size: {sizes})",
    )
    parser.add_argument(
        "--scale",
        type=positive_float("(fraction of the full size)"),
        default=None,
        help="microcircuit only: neuron numbers and in-degrees times SCALE, in (0, 1] (0.1)",
    )
    parser.add_argument(
        "--duration", type=positive_float("ms"), default=1000.0, help="biological ms (1000)"
    )
    parser.add_argument("--seed", type=integer_in(0), default=0, help="PRNG seed (0)")
    parser.add_argument("--out", default="spikejax_output", help="output folder")
    parser.add_argument(
        "--device", default=None, choices=["cpu", "gpu"], help="JAX platform (default: JAX's)"
    )
    parser.add_argument(
        "--cpu-cores",
        type=cpu_cores,
        default="auto",
        help="XLA CPU threads: a number, 'all' (one per core), or 'auto' (default: one thread "
        "when JAX has no GPU plugin or --device cpu is given, measured fastest for networks of "
        "4k-256k neurons; the process is not pinned; see spikejax.cpu)",
    )


def check_network_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors (exit status 2) for option combinations and sizes `type=` cannot judge:
    `--n` with the microcircuit, `--scale` with another network or above 1, `--device gpu`
    without a GPU plugin, and a size whose estimated build memory exceeds the available memory."""
    if args.network == "microcircuit":
        if args.n is not None:
            parser.error("argument --n: does not apply to the microcircuit; give --scale")
        if args.scale is not None and not (args.scale <= 1.0):
            parser.error(f"argument --scale: must be in (0, 1], got {args.scale:g}")
    elif args.scale is not None:
        parser.error(
            f"argument --scale: applies to --network microcircuit only, not {args.network}"
        )
    need, avail = memory_estimate(args.network, args.n, args.scale), available_memory()
    if avail is not None and need > avail:
        opt = "--scale" if args.network == "microcircuit" else "--n"
        parser.error(
            f"argument {opt}: {_what(args.network, args.n, args.scale)} needs about "
            f"{_gb(need)} of memory (estimate), {_gb(avail)} is available"
        )
    if args.device == "gpu":
        from ..cpu import gpu_plugin_installed

        if not gpu_plugin_installed():
            parser.error(
                "argument --device: 'gpu' needs a JAX GPU plugin (jax[cuda12]), none is installed"
            )


def run_network_cli(args: argparse.Namespace) -> int:
    """Run the job from parsed `add_network_arguments` options; returns an exit code."""
    from ..cpu import apply_cores_option

    apply_cores_option(args.cpu_cores, args.device)
    run_network_job(
        args.network, args.n, args.duration, args.seed, args.out, args.device, scale=args.scale
    )
    return 0
