"""Benchmark: HH resting-branch continuation with Hopf location, and classification of 1,000
HH variants (scaled gK) in one vmapped call, on CPU. Writes benchmarks/results/continuation.json.

Run: python benchmarks/bench_continuation.py
"""

import json
import os
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")

import numpy as np  # noqa: E402

from spikejax.analysis import classify_variants, continuation  # noqa: E402
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


if __name__ == "__main__":
    main()
