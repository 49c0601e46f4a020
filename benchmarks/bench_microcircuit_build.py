"""Benchmark: the time to build the Potjans-Diesmann microcircuit, two source trees side by side.

Each measurement is a fresh process with `PYTHONPATH` set to one tree (e.g. the previous main
and this checkout), the trees alternating within each round (the order flips every round).
A process builds `microcircuit(scale, key=jax.random.key(0))` (float32, merged layout) once
and reports

* `rows_s`: the host build of the connectivity (`_merged_rows`, every synapse drawn, sorted
  and placed in its row);
* `build_s`: the whole `microcircuit(...)` call (that, plus the `Network` constructor:
  transfer of the table to the device and its compilation);
* `peak_rss_bytes`: the process's peak resident memory (`ru_maxrss`);
* `sha256`: a digest of the synapses (offsets, post indices, weights, delays), so the trees'
  networks can be compared bit for bit.

The 1-minute load average is recorded before and after each process; the machine may be
shared. Usage::

    python benchmarks/bench_microcircuit_build.py --old /path/to/old/tree --scales 0.1 0.4 \\
        --rounds 3 [--new-only-scales 1.0]

Writes `benchmarks/results/microcircuit_build.json` (or `--out`).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(scale: float) -> dict:
    import jax
    import numpy as np

    from spikejax.network import _microcircuit as mc

    timing = {}
    digest = hashlib.sha256()
    inner = mc._merged_rows

    def timed(*a, **k):
        t0 = time.perf_counter()
        rows = inner(*a, **k)
        timing["rows_s"] = time.perf_counter() - t0
        for arr in (rows.offsets, rows.post, rows.weight, rows.delay):
            digest.update(np.ascontiguousarray(arr).tobytes())
        timing["n_synapses"] = int(rows.post.size)
        return rows

    mc._merged_rows = timed
    t0 = time.perf_counter()
    net, _ = mc.microcircuit(scale, key=jax.random.key(0))
    build_s = time.perf_counter() - t0
    del net
    return dict(
        timing,
        build_s=build_s,
        sha256=digest.hexdigest(),
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    )


def measure(tree: str, scale: float) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, JAX_PLATFORMS="cpu")
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(scale)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res.update(
        tree=tree,
        scale=scale,
        process_s=time.perf_counter() - t0,
        load_1min_start=load0,
        load_1min_end=os.getloadavg()[0],
    )
    print(json.dumps(res), flush=True)
    return res


def summary(runs: list[dict], trees: list[str], scale: float) -> dict:
    out: dict = {"scale": scale}
    for name, tree in zip(("old", "new"), trees, strict=True):
        rs = [r for r in runs if r["tree"] == tree and r["scale"] == scale]
        if not rs:
            continue
        for k in ("rows_s", "build_s", "peak_rss_bytes"):
            v = [r[k] for r in rs]
            out[f"{name}_{k}"] = dict(median=statistics.median(v), min=min(v), max=max(v))
        out[f"{name}_n"] = len(rs)
        out["n_synapses"] = rs[0]["n_synapses"]
    old = [r for r in runs if r["tree"] == trees[0] and r["scale"] == scale]
    new = [r for r in runs if r["tree"] == trees[1] and r["scale"] == scale]
    if old and new:
        # paired ratios: the k-th old run against the k-th new run (same round)
        ratios = [o["rows_s"] / n["rows_s"] for o, n in zip(old, new, strict=False)]
        out["rows_speedup"] = dict(
            median=statistics.median(ratios), min=min(ratios), max=max(ratios)
        )
        ratios = [o["build_s"] / n["build_s"] for o, n in zip(old, new, strict=False)]
        out["build_speedup"] = dict(
            median=statistics.median(ratios), min=min(ratios), max=max(ratios)
        )
        out["bit_identical"] = len({r["sha256"] for r in old + new}) == 1
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="microcircuit build time, two source trees")
    ap.add_argument("--child", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--old", help="the other source tree (PYTHONPATH)")
    ap.add_argument("--new", default=str(ROOT))
    ap.add_argument("--scales", type=float, nargs="*", default=[0.1, 0.4])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--new-only-scales", type=float, nargs="*", default=[])
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/microcircuit_build.json"))
    ap.add_argument(
        "--runs-from",
        help="summarise the run lines printed by an earlier invocation (a log) instead of "
        "measuring (e.g. when it was stopped before its last scale)",
    )
    a = ap.parse_args(argv)
    if a.child is not None:
        print(json.dumps(child(a.child)))
        return
    if a.old is None:
        ap.error("--old is required")
    trees = [a.old, a.new]
    runs = []
    if a.runs_from:
        lines = Path(a.runs_from).read_text().splitlines()
        runs = [json.loads(x) for x in lines if x.startswith('{"rows_s"')]
        a.scales = sorted({r["scale"] for r in runs if r["tree"] == a.old})
        a.new_only_scales = sorted({r["scale"] for r in runs} - set(a.scales))
        a.rounds = 0
    for scale in a.scales:
        for r in range(a.rounds):
            for tree in trees if r % 2 == 0 else trees[::-1]:
                runs.append(measure(tree, scale))
    for scale in a.new_only_scales if not a.runs_from else ():
        runs.append(measure(a.new, scale))
    result = dict(
        machine=dict(
            platform=platform.platform(),
            cpu_count=os.cpu_count(),
            python=platform.python_version(),
            jax=importlib.metadata.version("jax"),
            numpy=importlib.metadata.version("numpy"),
            mem_total_bytes=os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        ),
        trees=dict(old=a.old, new=a.new),
        summary=[summary(runs, trees, s) for s in [*a.scales, *a.new_only_scales]],
        runs=runs,
    )
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result["summary"], indent=1))


if __name__ == "__main__":
    main()
