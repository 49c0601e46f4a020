"""Benchmark: the explorer's response to a slider move, for the planar models.

A move of the I slider (or of a parameter slider) runs the page's update on the server: the
trace (`simulate`), the equilibria (`analysis.fixed_points`), the phase plane (vector field,
nullclines, separatrices, clicked trajectories) and the trace-determinant chart, and writes
the results into the Bokeh data sources that the browser redraws. This measures that update
in-process (no browser: the network round trip and the browser's drawing are not included),
after a warm-up that compiles each model's functions once. The models are measured
interleaved (one move of each in turn) so that the machine's load falls on all alike.

Writes benchmarks/results/explore_latency.json.

Run: python benchmarks/bench_explore.py [--moves 40]
"""

import argparse
import json
import os
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")

import numpy as np  # noqa: E402

import spikejax as sj  # noqa: E402

MODELS = {  # catalog name: (I values to move between, a parameter and two values)
    "INaPIK (high-threshold K, SNIC)": ((3.0, 5.0), ("gL", (8.0, 8.4))),
    "INaPIK (low-threshold K, Hopf)": ((10.0, 16.0), ("gL", (8.0, 8.4))),
    "FitzHugh-Nagumo": ((0.0, 0.5), ("a", (0.7, 0.75))),
    "Izhikevich RS (regular spiking)": ((3.0, 6.0), ("b", (0.2, 0.22))),
    "Hodgkin-Huxley reduced (V, n)": ((5.0, 12.0), ("gK", (36.0, 38.0))),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=40, help="slider moves per model and kind")
    args = ap.parse_args()
    load_before = os.getloadavg()
    explorers = {}
    warm = {}
    for name in MODELS:
        t0 = time.perf_counter()
        ex = sj.explore.app(name).explorer
        ex.click(*_start(ex))  # one clicked trajectory in the plane
        for I in MODELS[name][0]:  # compile the moves' code paths
            ex.I_slider.value = I
        pname, pvals = MODELS[name][1]
        for v in pvals:
            ex._param_widgets[pname][0].value = v
        warm[name] = time.perf_counter() - t0
        explorers[name] = ex
    times = {name: {"I": [], "parameter": []} for name in MODELS}
    for k in range(args.moves):
        for name, ex in explorers.items():
            Is, (pname, pvals) = MODELS[name]
            t0 = time.perf_counter()
            ex.I_slider.value = Is[k % 2] + 1e-3 * k  # a new value every move
            times[name]["I"].append(time.perf_counter() - t0)
            if ex.message.object:
                raise RuntimeError(f"{name}: {ex.message.object}")
            t0 = time.perf_counter()
            ex._param_widgets[pname][0].value = pvals[k % 2] + 1e-4 * k
            times[name]["parameter"].append(time.perf_counter() - t0)
    res = {
        "what": "server-side update after a slider move (compute + Bokeh data sources), ms",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "jax": jax.__version__,
        "moves": args.moves,
        "models": {},
    }
    for name, kinds in times.items():
        row = {"first_view_and_compile_s": warm[name]}
        for kind, ts in kinds.items():
            ms = 1e3 * np.asarray(ts)
            row[kind] = {
                "median_ms": float(np.median(ms)),
                "p95_ms": float(np.percentile(ms, 95)),
                "min_ms": float(ms.min()),
                "max_ms": float(ms.max()),
            }
        res["models"][name] = row
        print(
            f"{name:36s} I: median {row['I']['median_ms']:6.1f} ms, p95 "
            f"{row['I']['p95_ms']:6.1f} ms | parameter: median "
            f"{row['parameter']['median_ms']:6.1f} ms, p95 {row['parameter']['p95_ms']:6.1f} ms"
        )
    print(f"load average before {load_before}, after {res['load_average_after']}")
    out = os.path.join(os.path.dirname(__file__), "results", "explore_latency.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
    print(f"written to {out}")


def _start(ex):
    (x0, x1), (y0, y1) = ex.entry.box
    return x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0)


if __name__ == "__main__":
    main()
