"""A/B comparison of two checkouts of spikejax (e.g. before and after a change), interleaved:
rounds of the HH-population, continuation and fitting benchmarks, each run by both checkouts
in the alternating order A B, B A, ..., so that slow phases of a shared machine hit both.

    python benchmarks/bench_core_ab.py --base ../base [--rounds 5] [--only hh,continuation,fit]

Each side runs its own copy of the benchmark script (`<root>/benchmarks/bench_*.py`, so a
script written for that side's API) in a fresh process with `PYTHONPATH=<root>`. The side
called `new` is this checkout. Writes benchmarks/results/core_refactor_ab.json: per benchmark
and metric the base and new medians with min/max, the ratio new / base (of the medians, and
its spread over the rounds), the rounds, the load average before and after every run, the CPU
model and the JAX version. The COBA A/B (measured beside Brian2 by
`bench_coba_interleaved.py --base`) is copied in from coba_interleaved_1core.json when that
file has one. With `--write-results` the new side's outputs of the last round are also
copied to continuation.json and fit_cpu.json (the files those scripts write).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")


def cpu_model() -> str:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def git_head(root: str) -> str | None:
    r = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True)
    return r.stdout.decode().strip() or None


def get(d, path):
    for p in path:
        d = d[p]
    return d


# benchmark -> (command builder, {metric: path into the script's JSON})
def hh_cmd(root, out, quick):
    size = ["--n", "1000", "--duration", "100"] if quick else []
    script = os.path.join(root, "benchmarks", "bench_hh_population.py")
    return [script, "--targets", "", "--out", out, *size], out


def continuation_cmd(root, out, quick):
    # the script writes next to itself: run a copy in the scratch folder
    d = os.path.join(os.path.dirname(out), "continuation_" + os.path.basename(out))
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(root, "benchmarks", "bench_continuation.py"), d)
    return [os.path.join(d, "bench_continuation.py")], os.path.join(
        d, "results", "continuation.json"
    )


def fit_cmd(root, out, quick):
    script = os.path.join(root, "benchmarks", "bench_fit.py")
    return [script, "--out", out, *(["--quick"] if quick else [])], out


BENCHES = {
    "hh_population_10k": (
        hh_cmd,
        {
            "us_per_step": ("spikejax", "us_per_step"),
            "compile_s": ("spikejax", "compile_s"),
            "run_cpu_s": ("spikejax", "run_cpu_s"),
            "total_spikes": ("spikejax", "total_spikes"),
        },
        ("spikejax", "jax_version"),
    ),
    "continuation": (
        continuation_cmd,
        {
            "hh_continuation_first_call_s": ("hh_continuation_0_to_20", "first_call_s"),
            "hh_continuation_warm_s": ("hh_continuation_0_to_20", "warm_s"),
            "hh_continuation_n_points": ("hh_continuation_0_to_20", "n_points"),
            "hopf_I": ("hh_continuation_0_to_20", "hopf_I"),
            "classify_1000_first_call_s": ("classify_1000_variants", "first_call_s"),
            "classify_1000_warm_s": ("classify_1000_variants", "warm_s"),
            "classify_1000_onset_first_call_s": (
                "classify_1000_variants_with_onset_81_currents",
                "first_call_s",
            ),
            "classify_1000_onset_warm_s": (
                "classify_1000_variants_with_onset_81_currents",
                "warm_s",
            ),
        },
        ("jax",),
    ),
    "fit": (
        fit_cmd,
        {
            "rk4_s_per_grad_step_median": ("hh_grad_step", 0, "s_per_grad_step_median"),
            "rk4_s_per_grad_step_min": ("hh_grad_step", 0, "s_per_grad_step_min"),
            "rk4_first_call_s": ("hh_grad_step", 0, "first_call_s"),
            "adaptive_s_per_grad_step_median": ("hh_grad_step", 1, "s_per_grad_step_median"),
            "adaptive_s_per_grad_step_min": ("hh_grad_step", 1, "s_per_grad_step_min"),
            "adaptive_first_call_s": ("hh_grad_step", 1, "first_call_s"),
            **{f"grad_memory_{i}_temp_bytes": ("grad_memory", i, "temp_bytes") for i in range(4)},
        },
        ("jax",),
    ),
}


def run_one(bench, root, scratch, tag, quick, timeout):
    build, _, _ = BENCHES[bench]
    args, out = build(root, os.path.join(scratch, f"{tag}.json"), quick)
    env = {**os.environ, "PYTHONPATH": root}
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=root, timeout=timeout
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{bench} ({root}) failed:\n{proc.stderr[-3000:]}")
    with open(out) as f:
        data = json.load(f)
    return data, out, {"load_before": load_before, "load_after": os.getloadavg(), "wall_s": wall}


def summary(values) -> dict:
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())}


def coba_section() -> dict | None:
    """The COBA A/B of coba_interleaved_1core.json (None if it has no base rounds)."""
    coba = os.path.join(RESULTS, "coba_interleaved_1core.json")
    if os.path.exists(coba):
        with open(coba) as f:
            c = json.load(f)
        if "base_euler_run_s" in c:
            return {
                "source": "coba_interleaved_1core.json (bench_coba_interleaved.py --base)",
                "time": c.get("time"),
                "rounds": c.get("rounds"),
                "jax": c.get("machine", {}).get("jax"),
                "load_at_start": c.get("machine", {}).get("loadavg_at_start"),
                "load_at_end": c.get("machine", {}).get("loadavg_at_end"),
                "metrics": {
                    k: {
                        "base": c[f"base_{k}"],
                        "new": c[f"new_{k}"],
                        "ratio_new_over_base": c[f"new_over_base_{k}"]["ratio_of_medians"],
                        "per_round_ratio": {
                            q: c[f"new_over_base_{k}"][f"per_round_{q}"]
                            for q in ("median", "min", "max")
                        },
                    }
                    for k in ("euler_run_s", "expeuler_run_s")
                },
                "brian2_cpp_run_s": c.get("brian2_cpp_run_s"),
                "new_vs_brian2_cpp": {
                    k: c[f"new_{k}_vs_brian2_cpp"] for k in ("euler_run_s", "expeuler_run_s")
                },
            }
    return None


def write_summary(args, sides, benches, raw, runs, load_start, rounds_done):
    result = {
        "description": "base vs new, interleaved rounds (A B, B A, ...), each run a fresh "
        "process running that side's copy of the benchmark script",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "device": cpu_model(),
        "cpu_count": os.cpu_count(),
        "quick": args.quick,
        "sides": {k: {"root": v, "commit": git_head(v)} for k, v in sides.items()},
        "load_at_start": load_start,
        "load_at_end": os.getloadavg(),
        "benchmarks": {},
    }
    for b in benches:
        _, metrics, jax_path = BENCHES[b]
        entry = {
            "rounds": rounds_done,
            "jax": get(raw[b]["new"][0], jax_path),
            "runs": runs[b],
            "metrics": {},
        }
        for m, path in metrics.items():
            vals = {s: [get(d, path) for d in raw[b][s]] for s in ("base", "new")}
            sb, sn = summary(vals["base"]), summary(vals["new"])
            per_round = [n / a if a else float("nan") for a, n in zip(vals["base"], vals["new"])]
            entry["metrics"][m] = {
                "base": sb,
                "new": sn,
                "ratio_new_over_base": sn["median"] / sb["median"] if sb["median"] else None,
                "per_round_ratio": summary(per_round),
                "values": vals,
            }
        result["benchmarks"][b] = entry
    coba = coba_section()
    if coba:
        result["benchmarks"]["coba4000_1core"] = coba
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    for b, e in result["benchmarks"].items():
        for m, v in e["metrics"].items():
            print(
                f"{b:22s} {m:36s} base {v['base']['median']:.4g} [{v['base']['min']:.4g}-"
                f"{v['base']['max']:.4g}]  new {v['new']['median']:.4g} [{v['new']['min']:.4g}-"
                f"{v['new']['max']:.4g}]  new/base {v['ratio_new_over_base']}"
            )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="root of the checkout to compare against")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default=",".join(BENCHES))
    ap.add_argument("--quick", action="store_true", help="small sizes (a dry run)")
    ap.add_argument("--timeout", type=float, default=900.0, help="per run, s")
    ap.add_argument("--out", default=os.path.join(RESULTS, "core_refactor_ab.json"))
    ap.add_argument("--write-results", action="store_true")
    args = ap.parse_args(argv)
    sides = {"base": os.path.abspath(args.base), "new": ROOT}
    benches = [b for b in args.only.split(",") if b]
    scratch = tempfile.mkdtemp(prefix="spikejax_ab_")
    raw = {b: {"base": [], "new": []} for b in benches}
    runs = {b: [] for b in benches}
    last_out = {}
    load_start = os.getloadavg()
    if args.rounds == 0:  # refresh the COBA section of an existing summary only
        with open(args.out) as f:
            result = json.load(f)
        result["benchmarks"]["coba4000_1core"] = coba_section()
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        print("wrote", args.out)
        return 0
    for r in range(args.rounds):
        for b in benches:
            order = ["base", "new"] if r % 2 == 0 else ["new", "base"]
            for side in order:
                data, out, info = run_one(
                    b, sides[side], scratch, f"{b}_{side}_{r}", args.quick, args.timeout
                )
                raw[b][side].append(data)
                runs[b].append({"round": r, "side": side, **info})
                last_out[(b, side)] = out
                print(f"round {r} {b} {side}: {info}", flush=True)
        # after every round, so that an interrupted measurement keeps the rounds done
        write_summary(args, sides, benches, raw, runs, load_start, r + 1)
        if args.write_results and not args.quick:
            for b, name in (("continuation", "continuation.json"), ("fit", "fit_cpu.json")):
                if (b, "new") in last_out:
                    shutil.copy(last_out[(b, "new")], os.path.join(RESULTS, name))
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
