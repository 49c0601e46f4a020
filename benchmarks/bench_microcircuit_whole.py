"""Benchmark: the whole microcircuit call, spikejax against NEST, side by side.

The Potjans & Diesmann (2014) microcircuit at several scales, each measurement in a fresh
subprocess so that its peak resident memory (`ru_maxrss`) is its own: spikejax (float32, the
network default, exact current-synapse propagators, spike monitors on every population) and
NEST 3 (`iaf_psc_exp`, a `spike_recorder` on every population, `--nest-threads` threads),
both built from the same derived parameters (`bench_microcircuit_nest.py` holds the two model
builders). Timed: the whole call from an empty process state to the rates in hand (build +
compile + run + reading the spikes), and that call's peak resident memory. The rounds
alternate the simulators and record the machine's load average: read the medians, the spread
and the load.

    python benchmarks/bench_microcircuit_whole.py --scales 0.1,0.4 --rounds 3 --duration 200

Writes `benchmarks/results/microcircuit_whole_call.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def child(sim: str, scale: float, duration: float, seed: int, threads: int) -> dict:
    """One measurement in this (fresh) process; returns its JSON."""
    sys.path.insert(0, HERE)
    from bench_microcircuit_nest import run_nest, run_spikejax

    t0 = time.perf_counter()
    if sim == "nest":
        rates, _ = run_nest(scale, seed, duration, 0.0, threads)
    else:
        rates, _ = run_spikejax(scale, seed, duration, 0.0, "float32", "exact")
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"wall_s": wall, "peak_rss_bytes": int(peak), "rates_hz": [float(r) for r in rates]}


def measure(sim: str, scale: float, duration: float, seed: int, threads: int) -> dict:
    load0 = os.getloadavg()[0]
    cmd = [
        sys.executable,
        __file__,
        "--child",
        sim,
        "--scales",
        str(scale),
        "--duration",
        str(duration),
        "--seed",
        str(seed),
        "--nest-threads",
        str(threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:], "load_1min": [load0, os.getloadavg()[0]]}
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["load_1min"] = [load0, os.getloadavg()[0]]
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--scales", default="0.1,0.4")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=200.0, help="biological time, ms")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nest-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", default=os.path.join(RESULTS, "microcircuit_whole_call.json"))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    scales = [float(s) for s in args.scales.split(",")]
    if args.child:
        row = child(args.child, scales[0], args.duration, args.seed, args.nest_threads)
        print(json.dumps(row))
        return 0
    import nest

    result = {
        "machine": {
            "host": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "nest": getattr(nest, "__version__", "unknown"),
        },
        "args": {k: v for k, v in vars(args).items() if k not in ("child", "out")},
        "runs": {},
        "summary": {},
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    for scale in scales:
        runs = result["runs"].setdefault(str(scale), {"spikejax": [], "nest": []})
        for r in range(args.rounds):
            order = ("spikejax", "nest") if r % 2 == 0 else ("nest", "spikejax")
            for sim in order:
                row = measure(sim, scale, args.duration, args.seed + r, args.nest_threads)
                runs[sim].append(row)
                print(
                    f"scale {scale} round {r} {sim:8s} "
                    + (
                        f"{row['wall_s']:.1f} s, {row['peak_rss_bytes'] / 1e9:.2f} GB"
                        if "wall_s" in row
                        else "failed"
                    )
                    + f" (load {row['load_1min'][0]:.1f}-{row['load_1min'][1]:.1f})",
                    flush=True,
                )
            ok = {s: [x for x in v if "wall_s" in x] for s, v in runs.items()}
            if ok["spikejax"] and ok["nest"]:
                med = {
                    s: {
                        k: float(np.median([x[k] for x in v])) for k in ("wall_s", "peak_rss_bytes")
                    }
                    for s, v in ok.items()
                }
                result["summary"][str(scale)] = {
                    "median": med,
                    "wall_range_s": {
                        s: [min(x["wall_s"] for x in v), max(x["wall_s"] for x in v)]
                        for s, v in ok.items()
                    },
                    "wall_ratio_spikejax_over_nest": med["spikejax"]["wall_s"]
                    / med["nest"]["wall_s"],
                    "memory_ratio_spikejax_over_nest": med["spikejax"]["peak_rss_bytes"]
                    / med["nest"]["peak_rss_bytes"],
                }
            with open(args.out, "w") as f:
                json.dump(result, f, indent=1)
    print(json.dumps(result["summary"], indent=1))
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
