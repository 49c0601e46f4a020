"""COBA-4000 against Brian2 cpp_standalone, interleaved: rounds of (Brian2 run, spikejax forward
Euler and exponential Euler) on one core, so that slow phases of a shared machine hit both
sides. With `--base PATH` (the root of another checkout of spikejax, e.g. the code before a
change), each round also runs that checkout's spikejax, in the alternating order A B, B A, ...,
for an A/B comparison measured side by side. Run with a Python that has Brian2 installed:

    python benchmarks/bench_coba_interleaved.py [--rounds 5] [--base ../base]

Every spikejax side runs in its own process (`PYTHONPATH` set to its checkout, its own copy of
`benchmarks/bench_coba.py`), pinned to the same core as Brian2. Writes
benchmarks/results/coba_interleaved_1core.json: per-round times, the load average before and
after each round, medians with min/max, and the run-time ratios spikejax / Brian2 (and new /
base with `--base`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KEYS = ("euler_run_s", "expeuler_run_s")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def worker(bench_dir: str, reps: int) -> None:
    """Runs in a child process: the spikejax COBA of the checkout on `PYTHONPATH`."""
    sys.path.insert(0, bench_dir)
    from spikejax.cpu import limit_cpu_cores

    limit_cpu_cores(1)
    import bench_coba
    import jax

    euler = bench_coba.spikejax_coba(method="euler", reps=reps)
    expo = bench_coba.spikejax_coba(reps=reps)
    out = {
        "euler_run_s": euler["run_s"],
        "expeuler_run_s": expo["run_s"],
        "euler_compile_s": euler["compile_s"],
        "expeuler_compile_s": expo["compile_s"],
        "euler_rate_hz": euler["rate_hz"],
        "expeuler_rate_hz": expo["rate_hz"],
        "jax": jax.__version__,
    }
    print("RESULT" + json.dumps(out), flush=True)


def run_side(root: str, reps: int) -> dict:
    # this process has not imported spikejax (which edits XLA_FLAGS): the children start alike
    env = {**os.environ, "PYTHONPATH": root}
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", os.path.join(root, "benchmarks")]
    cmd += ["--reps", str(reps)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    if proc.returncode != 0:
        raise RuntimeError(f"spikejax COBA ({root}) failed:\n{proc.stderr[-3000:]}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT") :])


def summary(values) -> dict:
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3, help="timed runs per spikejax side (min)")
    ap.add_argument("--base", default=None, help="root of a checkout to compare against")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "coba_interleaved_1core.json"))
    ap.add_argument(
        "--append-from",
        action="append",
        default=[],
        help="earlier output of this script whose rounds are kept (repeatable; with "
        "--rounds 0 only the summaries are recomputed)",
    )
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.reps)
        return 0
    # one core for this process and so for Brian2's and spikejax's subprocesses
    os.sched_setaffinity(0, [min(os.sched_getaffinity(0))])
    sys.path.insert(0, HERE)
    import bench_coba

    sides = {"new": ROOT} | ({"base": os.path.abspath(args.base)} if args.base else {})
    rows = []
    for path in args.append_from:
        with open(path) as f:
            earlier = json.load(f)
        if "base" in sides and "base_euler_run_s" not in earlier:
            raise ValueError(f"{path} has no base rounds to merge with --base")
        rows += earlier["rows"]
    load_start = rows[0]["load_before"] if rows else os.getloadavg()
    for r in range(len(rows), len(rows) + args.rounds):
        row = {"time": time.strftime("%H:%M:%SZ", time.gmtime()), "load_before": os.getloadavg()}
        row["order"] = []
        b2, _, _ = bench_coba.brian2_coba("cpp_standalone")
        row["brian2_cpp_run_s"] = b2["run_time"]
        names = list(sides) if r % 2 == 0 else list(sides)[::-1]
        for name in names:
            res = run_side(sides[name], args.reps)
            row["order"].append(name)
            row.update({f"{name}_{k}": v for k, v in res.items()})
        row["load_after"] = os.getloadavg()
        rows.append(row)
        print(json.dumps(row), flush=True)
    brian2 = summary([r["brian2_cpp_run_s"] for r in rows])
    out = {
        "benchmark": "COBA-4000, 1 s biological time, dt = 0.1 ms, one core; run times only",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rounds": len(rows),
        "rows": rows,
        "brian2_cpp_run_s": brian2,
    }
    for name in sides:
        for k in KEYS:
            s = summary([r[f"{name}_{k}"] for r in rows])
            # per-round ratios against the Brian2 run of the same round
            per_round = [r[f"{name}_{k}"] / r["brian2_cpp_run_s"] for r in rows]
            out[f"{name}_{k}"] = s
            out[f"{name}_{k}_vs_brian2_cpp"] = {
                "ratio_of_medians": s["median"] / brian2["median"],
                **{f"per_round_{q}": v for q, v in summary(per_round).items()},
            }
    if "base" in sides:
        out["base_root"] = sides["base"]
        for k in KEYS:
            per_round = [r[f"new_{k}"] / r[f"base_{k}"] for r in rows]
            out[f"new_over_base_{k}"] = {
                "ratio_of_medians": out[f"new_{k}"]["median"] / out[f"base_{k}"]["median"],
                **{f"per_round_{q}": v for q, v in summary(per_round).items()},
            }
    # the keys read by earlier versions of this file
    out["median_ratio_euler"] = out["new_euler_run_s_vs_brian2_cpp"]["ratio_of_medians"]
    out["median_ratio_exponential_euler"] = out["new_expeuler_run_s_vs_brian2_cpp"][
        "ratio_of_medians"
    ]
    machine = bench_coba.machine_info()
    machine["loadavg_at_start"] = load_start
    machine["loadavg_at_end"] = rows[-1]["load_after"]
    machine["cpu_model"] = cpu_model()
    machine["cpu_cores_used"] = 1
    machine["jax"] = rows[0].get("new_jax")
    out["machine"] = machine
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=2))
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
