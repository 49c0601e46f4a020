"""Benchmark: the explorer's response to a slider move, per panel, for the planar models.

A move of the I slider (or of a parameter slider) runs the page's update on the server: the
trace (`simulate`), the equilibria with the phase plane (vector field, nullclines,
separatrices, clicked trajectories) and the trace-determinant chart ("analysis"), and
writes the results into the Bokeh data sources that the browser redraws. A parameter move
also recomputes the bifurcation diagram (`analysis.continuation`) on the explorer's worker
thread while the other panels are already drawn ("branches, live": from the move until the
branches are shown). This measures those updates in-process (no browser: the network round
trip and the browser's drawing are not included), after a warm-up that compiles each
model's functions once. The models are measured interleaved (one move of each in turn) so
that the machine's load falls on all alike; the load average is recorded per round.

Writes benchmarks/results/explore_latency.json (`--quick`: explore_latency_quick.json,
8 moves per model and kind, in about 1-3 minutes).

Run: python benchmarks/bench_explore.py [--moves 40] [--quick] [--out PATH]
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

#: The panels timed in each move (`Explorer.timings`), and the whole update.
PANELS = ("trace", "analysis", "total")


def _summary(seconds) -> dict:
    ms = 1e3 * np.asarray(seconds, dtype=float)
    return {
        "median_ms": float(np.median(ms)),
        "p95_ms": float(np.percentile(ms, 95)),
        "min_ms": float(ms.min()),
        "max_ms": float(ms.max()),
        "n": int(ms.size),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=40, help="slider moves per model and kind")
    ap.add_argument("--quick", action="store_true", help="8 moves per model and kind")
    ap.add_argument("--out", default=None, help="the JSON file to write")
    args = ap.parse_args()
    moves = 8 if args.quick else args.moves
    fname = "explore_latency_quick.json" if args.quick else "explore_latency.json"
    out = args.out or os.path.join(os.path.dirname(__file__), "results", fname)
    t_start = time.perf_counter()
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
            ex.wait_for_branches()
        warm[name] = time.perf_counter() - t0
        explorers[name] = ex
    kinds = ("I", "parameter")
    times = {n: {k: {p: [] for p in (*PANELS, "branches_live")} for k in kinds} for n in MODELS}
    loads = []
    for k in range(moves):
        loads.append(os.getloadavg()[0])
        for name, ex in explorers.items():
            Is, (pname, pvals) = MODELS[name]
            ex.I_slider.value = Is[k % 2] + 1e-3 * k  # a new value every move
            if ex.message.object:
                raise RuntimeError(f"{name}: {ex.message.object}")
            for p in PANELS:
                times[name]["I"][p].append(ex.timings[p])
            t0 = time.perf_counter()
            ex._param_widgets[pname][0].value = pvals[k % 2] + 1e-4 * k  # a drag's move
            for p in PANELS:
                times[name]["parameter"][p].append(ex.timings[p])
            if not ex.wait_for_branches():
                raise RuntimeError(f"{name}: the live branches did not come back")
            times[name]["parameter"]["branches_live"].append(time.perf_counter() - t0)
    res = {
        "what": (
            "server-side update after a slider move, per panel (compute + Bokeh data "
            "sources), ms; 'branches_live': a parameter move until the bifurcation diagram "
            "computed on the worker thread is shown (the other panels are drawn before)"
        ),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "load_1min_per_round": loads,
        "jax": jax.__version__,
        "moves": moves,
        "quick": bool(args.quick),
        "wall_s": None,
        "models": {},
    }
    for name, by_kind in times.items():
        row: dict = {"first_view_and_compile_s": warm[name]}
        for kind, panels in by_kind.items():
            row[kind] = {p: _summary(ts) for p, ts in panels.items() if ts}
        res["models"][name] = row
        i, p = row["I"], row["parameter"]
        print(
            f"{name:34s} I: total {i['total']['median_ms']:6.1f} / {i['total']['p95_ms']:6.1f}"
            f" ms (trace {i['trace']['median_ms']:5.1f}, analysis "
            f"{i['analysis']['median_ms']:5.1f}) | parameter: total "
            f"{p['total']['median_ms']:6.1f} / {p['total']['p95_ms']:6.1f} ms, branches live "
            f"{p['branches_live']['median_ms']:6.1f} / {p['branches_live']['p95_ms']:6.1f} ms"
            " (median / p95)"
        )
    res["wall_s"] = time.perf_counter() - t_start
    print(f"load average before {load_before}, after {res['load_average_after']}")
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
    print(f"written to {out} ({res['wall_s']:.0f} s)")


def _start(ex):
    (x0, x1), (y0, y1) = ex.entry.box
    return x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0)


if __name__ == "__main__":
    main()
