"""Benchmark: HH resting-branch continuation with Hopf location, and classification of 1,000
HH variants (scaled gK) in one vmapped call, on CPU. Writes benchmarks/results/continuation.json.

With `--collocation`: HH's cycle branch by collocation from the subcritical Hopf point
(I = 9.7754) through every fold of cycles to the upper Hopf point (first call and warm), and
the time per continuation step of collocation against single shooting from the same Hopf
point, measured side by side in interleaved rounds (median and spread), with the machine
load. Writes benchmarks/results/continuation_collocation.json.

Run: python benchmarks/bench_continuation.py [--collocation]
"""

import json
import os
import platform
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")

import numpy as np  # noqa: E402

from spikejax.analysis import (  # noqa: E402
    classify_variants,
    continuation,
    continue_cycles,
    continue_cycles_collocation,
)
from spikejax.models import HodgkinHuxley  # noqa: E402


def timed(fn, repeat=3):
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, first, min(times)


def main():
    hh = HodgkinHuxley()
    br, first_c, best_c = timed(lambda: continuation(hh, start=0.0, stop=20.0))
    h = br.hopf_points[0]
    pop = HodgkinHuxley(gK=36.0 * np.linspace(0.7, 1.3, 1000))
    v, first_v, best_v = timed(lambda: classify_variants(pop), repeat=3)
    grid = np.linspace(0.0, 20.0, 81)
    w, first_w, best_w = timed(lambda: classify_variants(pop, currents=grid), repeat=1)
    res = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "jax": jax.__version__,
        "hh_continuation_0_to_20": {
            "first_call_s": first_c,
            "warm_s": best_c,
            "n_points": len(br),
            "hopf_I": h.param,
            "hopf_omega": h.omega,
            "hopf_l1": h.l1,
        },
        "classify_1000_variants": {
            "first_call_s": first_v,
            "warm_s": best_v,
            "n_types": len(set(v.types)),
        },
        "classify_1000_variants_with_onset_81_currents": {
            "first_call_s": first_w,
            "warm_s": best_w,
            "onset_min": float(np.nanmin(w.onset_current)),
            "onset_max": float(np.nanmax(w.onset_current)),
        },
    }
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    path = os.path.join(os.path.dirname(__file__), "results", "continuation.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2))


def collocation(rounds: int = 3, steps: int = 10):
    hh = HodgkinHuxley()
    h_low, h_up = continuation(hh, "I", 0.0, 200.0).hopf_points
    load = [os.getloadavg()[0]]

    def full():
        return continue_cycles_collocation(hh, h_low, bounds=(0.0, 200.0), ds=1.0, ds_max=20.0)

    t0 = time.perf_counter()
    cb = full()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    cb = full()
    warm = time.perf_counter() - t0
    load.append(os.getloadavg()[0])
    lpcs = [sp.param for sp in cb.special_points if sp.kind == "LPC"]
    # per-step cost, side by side: the same number of steps from the same Hopf point
    runs = {
        "collocation": lambda: continue_cycles_collocation(
            hh, h_low, bounds=(0.0, 200.0), ds=1.0, ds_max=20.0, max_steps=steps
        ),
        "shooting": lambda: continue_cycles(hh, h_low, bounds=(0.0, 200.0), max_steps=steps),
    }
    for fn in runs.values():  # compile outside the timed rounds
        fn()
    per_step: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            br = fn()
            per_step[name].append((time.perf_counter() - t0) / max(len(br) - 1, 1))
        load.append(os.getloadavg()[0])
    res = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "jax": jax.__version__,
        "load_1min": load,
        "hh_cycle_branch_collocation": {
            "n_intervals": 40,
            "degree": 4,
            "first_call_s": first,
            "warm_s": warm,
            "n_points": len(cb),
            "status": str(cb.status),
            "lpc_I": lpcs,
            "last_I": float(cb.params[-1]),
            "upper_hopf_I": h_up.param,
        },
        "seconds_per_step": {
            k: {"median": float(np.median(v)), "min": float(np.min(v)), "max": float(np.max(v))}
            for k, v in per_step.items()
        },
        "collocation_over_shooting_median": float(
            np.median(per_step["collocation"]) / np.median(per_step["shooting"])
        ),
    }
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    path = os.path.join(os.path.dirname(__file__), "results", "continuation_collocation.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    if "--collocation" in sys.argv:
        collocation()
    else:
        main()
