"""The whole spikejax benchmark suite in one command.

    python benchmarks/run_all.py            # full suite (tens of minutes on a 2-core CPU)
    python benchmarks/run_all.py --quick    # a few minutes
    python benchmarks/run_all.py --only coba_scaling,microcircuit
    bash benchmarks/gpu_run.sh                # on a GPU machine (see that script)

Parts (each reuses the part's own benchmark script where one exists):
`coba` (COBA-4000, 1 s, `bench_coba.spikejax_coba`), `coba_scaling` (N = 4k ... 256k at 80
synapses per neuron, `bench_coba.bench_scaling`), `izhikevich` (Izhikevich 2003, 1000
neurons), `hh` (Hodgkin-Huxley population, `bench_hh_population.run_spikejax`),
`microcircuit` (Potjans & Diesmann 2014 at several scaling factors, `bench_microcircuit`),
`batch` (COBA sweeps: `jax.vmap` batch vs sequential runs, `bench_coba.bench_vmap`, and
`simulate_batch` throughput against the batch size). Compile time is always reported apart
from run time. Writes `benchmarks/results/suite_<device>[_quick].json` (device name, jax
version, CPU count, load average before and after each part: other processes on a shared
machine slow every number down; the memory each part used: peak device memory on a GPU, peak
resident memory on a CPU) and PNG plots next to it. The JSON is rewritten after every part, so
a run stopped by a time limit keeps what it finished; `--budget-s` skips the parts that would
start after that many seconds.

On a GPU, `--quick` is the suite the GPU goals are judged by, in this order: COBA-4000 (its
real-time factor), batches of 1/8/32/128 COBA-4000 networks (the step-time ratio), HH 10k,
COBA at 64k and 256k neurons, and the microcircuit at scale 1.0 when its memory estimate fits
in the device's memory (`spikejax.network.microcircuit_memory_estimate`). On a CPU, `--quick`
stays a few-minute version (COBA 4k/16k, HH 1000, microcircuit 0.05).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, HERE)

PARTS = ("coba", "coba_scaling", "izhikevich", "hh", "microcircuit", "batch")
#: the order of the parts on a GPU: the GPU goals first
GPU_ORDER = ("coba", "batch", "hh", "coba_scaling", "microcircuit", "izhikevich")


def on_gpu() -> bool:
    import jax

    return jax.default_backend() == "gpu"


def memory_now() -> dict:
    """Memory so far: the device's peak and current bytes (GPU), and this process's peak
    resident set (bytes)."""
    import resource

    import jax

    out: dict = {"peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    stats = jax.devices()[0].memory_stats() or {}
    for k in ("peak_bytes_in_use", "bytes_in_use", "bytes_limit"):
        if k in stats:
            out[f"device_{k}"] = int(stats[k])
    return out


def machine_info() -> dict:
    import platform

    import jax

    from spikejax.cpu import available_cpu_cores, loop_kernels_active

    dev = jax.devices()[0]
    return {
        "device": getattr(dev, "device_kind", str(dev)),
        "loop_kernels": loop_kernels_active(),
        "platform": dev.platform,
        "n_devices": jax.device_count(),
        "jax_version": jax.__version__,
        "jaxlib_version": getattr(__import__("jaxlib"), "__version__", "?"),
        "cpu_count": os.cpu_count(),
        "cpu_cores_used": len(available_cpu_cores()),
        "python": platform.python_version(),
        "host": platform.platform(),
    }


def part_coba(quick: bool) -> dict:
    from bench_coba import spikejax_coba

    d = 200.0 if quick else 1000.0
    r = spikejax_coba(n=4000, duration_ms=d, reps=1 if quick else 2)
    r["duration_ms"] = d
    r["real_time_factor"] = r["run_s"] / (d * 1e-3)
    # the other spike delivery on this backend (loop <-> padded), for comparison
    other = "padded" if r["delivery"] == "loop" else "loop"
    o = spikejax_coba(n=4000, duration_ms=d, reps=1 if quick else 2, delivery=other)
    r[f"real_time_factor_{other}"] = o["run_s"] / (d * 1e-3)
    r[f"compile_s_{other}"] = o["compile_s"]
    return r


def part_coba_scaling(quick: bool) -> dict:
    from bench_coba import bench_scaling

    out: dict = {}
    if quick:
        sizes = [64000, 256000] if on_gpu() else [4000, 16000]
    else:
        sizes = [4000, 16000, 64000, 256000]
    bench_scaling(out, sizes)
    return {"rows": out["scaling"]}


def part_izhikevich(quick: bool) -> dict:
    import jax

    from spikejax import network as nw

    d = 200.0 if quick else 1000.0
    net, mons = nw.izhikevich2003(key=jax.random.key(0))
    r1 = nw.run(net, d, key=jax.random.key(1), monitors=mons)
    r2 = nw.run(getattr(r1, "network", net), d, key=jax.random.key(1), monitors=mons)
    n_sp = sum(v[0].size for v in r2.spikes.values())
    return {
        "n_neurons": 1000,
        "duration_ms": d,
        "dt_ms": net.dt,
        "compile_s": r1.compile_s,
        "run_s": r2.run_s,
        "real_time_factor": r2.run_s / (d * 1e-3),
        "rate_hz": n_sp / 1000 / (d * 1e-3),
    }


def part_hh(quick: bool) -> dict:
    from bench_hh_population import run_spikejax

    args = argparse.Namespace(
        n=1000 if quick and not on_gpu() else 10_000,
        duration=100.0 if quick else 1000.0,
        dt=0.01,
        i_max=20.0,
        method="exponential_euler",
        float64=False,
        chunk_steps=10_000,
    )
    r = run_spikejax(args)
    r.update(
        n=args.n, duration_ms=args.duration, real_time_factor=r["run_s"] / (args.duration * 1e-3)
    )
    return r


def part_microcircuit(quick: bool, scales) -> dict:
    from bench_microcircuit import bench_microcircuit

    from spikejax.network import microcircuit_memory_estimate

    rows = []
    skipped = []
    limit = memory_now().get("device_bytes_limit")
    for s in scales:
        need = int(microcircuit_memory_estimate(s))
        if on_gpu() and limit is not None and need > 0.9 * limit:
            skipped.append({"scale": s, "estimate_bytes": need, "device_bytes_limit": limit})
            print("microcircuit", s, "skipped: does not fit", skipped[-1], flush=True)
            continue
        d = 200.0 if quick else 1000.0
        rows.append(bench_microcircuit(s, d, breakdown=not quick))
        rows[-1]["memory_estimate_bytes"] = need
        print(
            "microcircuit",
            s,
            {k: rows[-1][k] for k in ("compile_s", "run_s", "real_time_factor")},
            flush=True,
        )
    return {"rows": rows, "skipped": skipped}


def part_batch(quick: bool) -> dict:
    import jax
    from bench_coba import bench_vmap

    from spikejax import network as nw

    out: dict = {}
    if not quick:
        bench_vmap(out, batch=64, duration_ms=100.0)
    # simulate_batch throughput vs batch size (COBA-4000, one key per member)
    d = 50.0 if quick else 100.0
    net, mons = nw.coba(4000, key=jax.random.key(0))
    net = net.with_spike_buffers(E=400, I=100)
    n_steps = int(d / net.dt)
    rows = []
    mon = (nw.RateMonitor("E"),)
    on_cpu = jax.default_backend() == "cpu"
    sizes = ((1, 8) if quick else (1, 8, 32, 64)) if on_cpu else (1, 8, 32, 128)
    for B in sizes:
        B = max(B, jax.device_count()) // jax.device_count() * jax.device_count()
        sts = nw.init_batch(net, jax.random.split(jax.random.key(1), B))
        sim = nw.batch_simulator(net, n_steps, monitors=mon)
        t0 = time.perf_counter()
        jax.block_until_ready(sim(sts))
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        jax.block_until_ready(sim(sts))
        run = time.perf_counter() - t0
        rows.append(
            {
                "batch": B,
                "duration_ms": d,
                "compile_s": first - run,
                "run_s": run,
                "run_s_per_network": run / B,
                "us_per_step": run / n_steps * 1e6,
            }
        )
        print("batch", rows[-1], flush=True)
    out["simulate_batch"] = rows
    # the GPU goal: the largest batch's step time within 2x of a single network's
    out["step_time_ratio_largest_batch_vs_one"] = rows[-1]["us_per_step"] / rows[0]["us_per_step"]
    return out


def plots(res: dict, prefix: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    dev = res["machine"]["device"]
    sc = res["parts"].get("coba_scaling", {}).get("rows")
    if sc:
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
        n = np.array([r["n"] for r in sc])
        t = np.array([r["s_per_bio_second"] for r in sc])
        ev = np.array([r["synaptic_events_per_bio_second"] for r in sc])
        ax[0].loglog(n, t, "o-", label="spikejax")
        ax[0].loglog(n, t[0] * n / n[0], "k--", lw=0.8, label="linear in N")
        ax[0].set(
            xlabel="neurons N (80 synapses each)",
            ylabel="s per biological s",
            title=f"COBA scaling ({dev})",
        )
        ax[0].legend()
        ax[1].loglog(ev, t, "o-")
        ax[1].set(xlabel="synaptic events per biological s", ylabel="s per biological s")
        fig.tight_layout()
        files.append(prefix + "_coba_scaling.png")
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
    mc = res["parts"].get("microcircuit", {}).get("rows")
    if mc:
        fig, ax = plt.subplots(figsize=(4.5, 3.5))
        s = [r["scale"] for r in mc]
        ax.loglog(s, [r["real_time_factor"] for r in mc], "o-", label="run")
        ax.loglog(s, [r["compile_s"] for r in mc], "s--", label="compile (s)")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set(
            xlabel="scaling factor",
            ylabel="real-time factor / s",
            title=f"PD14 microcircuit ({dev})",
        )
        ax.legend()
        fig.tight_layout()
        files.append(prefix + "_microcircuit.png")
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
    bt = res["parts"].get("batch", {}).get("simulate_batch")
    if bt:
        fig, ax = plt.subplots(figsize=(4.5, 3.5))
        B = [r["batch"] for r in bt]
        ax.loglog(B, [r["run_s"] for r in bt], "o-", label="batch")
        ax.loglog(B, [bt[0]["run_s"] * b for b in B], "k--", lw=0.8, label="B x single")
        ax.set(
            xlabel="networks in the batch", ylabel="run time (s)", title=f"COBA-4000 sweeps ({dev})"
        )
        ax.legend()
        fig.tight_layout()
        files.append(prefix + "_batch.png")
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
    return files


def default_scales(quick: bool, gpu: bool) -> list[float]:
    """Microcircuit scaling factors when `--mc-scales` is not given."""
    if gpu:
        return [1.0] if quick else [0.1, 0.5, 1.0]
    return [0.05] if quick else [0.05, 0.1]


def write(res: dict, path: str) -> None:
    """Write `res` to `path` (atomically: a stopped run never leaves half a file)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(res, f, indent=2, default=float)
    os.replace(tmp, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few-minute version")
    ap.add_argument("--only", default=None, help=f"parts, from {','.join(PARTS)} (default all)")
    ap.add_argument(
        "--mc-scales",
        default=None,
        help="microcircuit scaling factors (default: 1.0 on a GPU with --quick, 0.1,0.5,1.0 "
        "on a GPU; 0.05 on a CPU with --quick, 0.05,0.1 on a CPU)",
    )
    ap.add_argument("--out", default=None, help="JSON path")
    ap.add_argument(
        "--budget-s",
        type=float,
        default=None,
        help="start no part after this many seconds (the parts not started are listed as "
        "skipped); default: none",
    )
    ap.add_argument(
        "--cpu-cores",
        default="auto",
        help="CPU cores for XLA: a number, 'all', or 'auto' (the measured policy of "
        "`spikejax.cpu.cores_for`, as the `spikejax` command uses)",
    )
    args = ap.parse_args(argv)
    if args.budget_s is not None and not args.budget_s >= 0:
        raise SystemExit(f"--budget-s must be >= 0 seconds, got {args.budget_s}")
    from spikejax.cpu import apply_cores_option

    apply_cores_option(args.cpu_cores)
    gpu = on_gpu()
    order = GPU_ORDER if gpu else PARTS
    parts = [p for p in (args.only.split(",") if args.only else order) if p]
    bad = sorted(set(parts) - set(PARTS))
    if bad:
        raise SystemExit(f"unknown parts {bad}; choose from {PARTS}")
    scales = (
        [float(s) for s in args.mc_scales.split(",")]
        if args.mc_scales
        else default_scales(args.quick, gpu)
    )
    res = {
        "machine": machine_info(),
        "quick": args.quick,
        "parts": {},
        "errors": {},
        "skipped": [],
        "load_avg": {},
        "memory": {},
    }
    res["machine"]["note"] = (
        "load_avg: 1-min load average before/after each part; on a shared machine a load "
        "above the CPU count means other processes took CPU time from these measurements. "
        "memory: after each part, the device's peak bytes in use so far (GPU) and the "
        "process's peak resident set so far (bytes)"
    )
    fns = {
        "coba": part_coba,
        "coba_scaling": part_coba_scaling,
        "izhikevich": part_izhikevich,
        "hh": part_hh,
        "microcircuit": lambda q: part_microcircuit(q, scales),
        "batch": part_batch,
    }
    dev = res["machine"]["device"].replace(" ", "_")
    path = args.out or os.path.join(RESULTS, f"suite_{dev}{'_quick' if args.quick else ''}.json")
    t_all = time.perf_counter()
    for p in parts:
        if args.budget_s is not None and time.perf_counter() - t_all >= args.budget_s:
            res["skipped"].append(p)
            print(f"== {p} skipped: the budget of {args.budget_s} s is spent", flush=True)
            continue
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        print(f"== {p}", flush=True)
        try:
            res["parts"][p] = fns[p](args.quick)
        except Exception as e:  # keep going: one broken part must not lose the others
            res["errors"][p] = f"{type(e).__name__}: {e}"[-2000:]
            traceback.print_exc()
        res["load_avg"][p] = {
            "before": load0,
            "after": os.getloadavg()[0],
            "wall_s": time.perf_counter() - t0,
        }
        res["memory"][p] = memory_now()
        res["total_wall_s"] = time.perf_counter() - t_all
        write(res, path)
    res["total_wall_s"] = time.perf_counter() - t_all
    try:
        res["plots"] = plots(res, path[: -len(".json")] if path.endswith(".json") else path)
    except Exception as e:
        res["errors"]["plots"] = f"{type(e).__name__}: {e}"
    write(res, path)
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
