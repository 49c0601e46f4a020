"""The whole spikejax benchmark suite in one command.

    python benchmarks/run_all.py            # full suite (tens of minutes on a 2-core CPU)
    python benchmarks/run_all.py --quick    # a few minutes
    python benchmarks/run_all.py --only coba_scaling,microcircuit

Parts (each reuses the part's own benchmark script where one exists):
`coba` (COBA-4000, 1 s, `bench_coba.spikejax_coba`), `coba_scaling` (N = 4k ... 256k at 80
synapses per neuron, `bench_coba.bench_scaling`), `izhikevich` (Izhikevich 2003, 1000
neurons), `hh` (Hodgkin-Huxley population, `bench_hh_population.run_spikejax`),
`microcircuit` (Potjans & Diesmann 2014 at several scaling factors, `bench_microcircuit`),
`batch` (COBA sweeps: `jax.vmap` batch vs sequential runs, `bench_coba.bench_vmap`, and
`simulate_batch` throughput against the batch size). Compile time is always reported apart
from run time. Writes `benchmarks/results/suite_<device>[_quick].json` (device name, jax
version, CPU count, load average before and after each part: other processes on a shared
machine slow every number down) and PNG plots next to it.
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
    bench_scaling(out, [4000, 16000] if quick else [4000, 16000, 64000, 256000])
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
        n=1000 if quick else 10_000,
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

    rows = []
    for s in scales:
        d = 200.0 if quick else 1000.0
        rows.append(bench_microcircuit(s, d, breakdown=not quick))
        print(
            "microcircuit",
            s,
            {k: rows[-1][k] for k in ("compile_s", "run_s", "real_time_factor")},
            flush=True,
        )
    return {"rows": rows}


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few-minute version")
    ap.add_argument("--only", default=",".join(PARTS), help=f"parts, from {','.join(PARTS)}")
    ap.add_argument(
        "--mc-scales",
        default=None,
        help="microcircuit scaling factors (default 0.05 quick, 0.05,0.1 full)",
    )
    ap.add_argument("--out", default=None, help="JSON path")
    ap.add_argument(
        "--cpu-cores",
        default="auto",
        help="CPU cores for XLA: a number, 'all', or 'auto' (one core without a GPU plugin, "
        "as the `spikejax` command does)",
    )
    args = ap.parse_args(argv)
    from spikejax.cpu import apply_cores_option

    apply_cores_option(args.cpu_cores)
    parts = [p for p in args.only.split(",") if p]
    bad = sorted(set(parts) - set(PARTS))
    if bad:
        raise SystemExit(f"unknown parts {bad}; choose from {PARTS}")
    scales = (
        [float(s) for s in args.mc_scales.split(",")]
        if args.mc_scales
        else ([0.05] if args.quick else [0.05, 0.1])
    )
    res = {
        "machine": machine_info(),
        "quick": args.quick,
        "parts": {},
        "errors": {},
        "load_avg": {},
    }
    res["machine"]["note"] = (
        "load_avg: 1-min load average before/after each part; on a shared machine a load "
        "above the CPU count means other processes took CPU time from these measurements"
    )
    fns = {
        "coba": part_coba,
        "coba_scaling": part_coba_scaling,
        "izhikevich": part_izhikevich,
        "hh": part_hh,
        "microcircuit": lambda q: part_microcircuit(q, scales),
        "batch": part_batch,
    }
    t_all = time.perf_counter()
    for p in parts:
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
    res["total_wall_s"] = time.perf_counter() - t_all
    dev = res["machine"]["device"].replace(" ", "_")
    path = args.out or os.path.join(RESULTS, f"suite_{dev}{'_quick' if args.quick else ''}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        res["plots"] = plots(res, path[: -len(".json")] if path.endswith(".json") else path)
    except Exception as e:
        res["errors"]["plots"] = f"{type(e).__name__}: {e}"
    with open(path, "w") as f:
        json.dump(res, f, indent=2, default=float)
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
