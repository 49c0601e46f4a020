"""COBA-4000 against Brian2 cpp_standalone, interleaved: rounds of (Brian2 run, spikejax forward
Euler, spikejax exponential Euler) on one core, so that slow phases of a shared machine hit
both sides. Run with the Brian2 environment:

    /work/venv-brian2/bin/python benchmarks/bench_coba_interleaved.py [--rounds 3]

Writes benchmarks/results/coba_interleaved_1core.json (per-round times and median ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    from spikejax.cpu import limit_cpu_cores

    limit_cpu_cores(1)  # Brian2's subprocesses inherit the core
    sys.path.insert(0, HERE)
    import bench_coba

    rows = []
    for _ in range(args.rounds):
        b2, _, _ = bench_coba.brian2_coba("cpp_standalone")
        euler = bench_coba.spikejax_coba(method="euler", reps=3)
        expo = bench_coba.spikejax_coba(reps=3)
        rows.append(
            {
                "brian2_cpp_run_s": b2["run_time"],
                "spikejax_euler_run_s": euler["run_s"],
                "spikejax_expeuler_run_s": expo["run_s"],
            }
        )
        print(rows[-1], flush=True)
    med = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
    out = {
        "rows": rows,
        "median_ratio_euler": med["spikejax_euler_run_s"] / med["brian2_cpp_run_s"],
        "median_ratio_exponential_euler": med["spikejax_expeuler_run_s"] / med["brian2_cpp_run_s"],
        "machine": bench_coba.machine_info(),
    }
    print(out)
    path = os.path.join(HERE, "results", "coba_interleaved_1core.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
