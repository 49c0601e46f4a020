"""How many CPU threads should XLA use for a spikejax run, and should the process be pinned?

Each measurement runs in its own subprocess (XLA sizes its CPU thread pool once, at backend
start), in one of three configurations:

- `pinned1`: the process restricted to its first core (`os.sched_setaffinity`), the way
  `limit_cpu_cores(1)` worked before the measured policy;
- `threads1`: one XLA thread (`PJRT_NPROC=1`), the process free to run on any core, so the
  operating system moves it to the least loaded one;
- `all`: XLA's default, one thread per available core.

Workloads: COBA networks (80 synapses per neuron, `spikejax.network.coba`) of 4k, 16k and
64k neurons, 200 ms each, spike monitors on; and a population of 10k Hodgkin-Huxley neurons
(`spikejax.simulate`, exponential Euler, dt 0.01 ms, 50 ms). The timed quantity is the whole
second `run`/`simulate` call (compiled already), wall clock. Rounds are interleaved
(configuration order rotated each round) and the machine's load average is recorded around
every measurement: the machines are shared, so read the medians and the spread.

    python benchmarks/bench_core_policy.py               # 3 rounds
    python benchmarks/bench_core_policy.py --rounds 5 --sizes 4000,16000,64000,256000

Writes `benchmarks/results/core_policy_<n>cpu.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
CONFIGS = ("pinned1", "threads1", "all")


def worker(config: str, workload: str) -> dict:
    """Run one measurement in this (fresh) process; print its JSON on stdout."""
    if config == "pinned1":
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])
    import jax

    import spikejax as sj
    from spikejax import network as nw

    kind, size = workload.split(":")
    n = int(size)
    t_build = time.perf_counter()
    if kind == "coba":
        net, mons = nw.coba(n, key=jax.random.key(0))
        build_s = time.perf_counter() - t_build
        first = nw.run(net, 200.0, key=jax.random.key(1), monitors=mons)
        c0 = time.process_time()
        t0 = time.perf_counter()
        res = nw.run(first.network, 200.0, key=jax.random.key(1), monitors=mons)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        out = {"run_s": res.run_s, "n_spikes": int(sum(v[0].size for v in res.spikes.values()))}
    else:
        import jax.numpy as jnp

        from spikejax.models import HodgkinHuxley

        current = jnp.linspace(0.0, 20.0, n)
        build_s = 0.0

        def once():
            return sj.simulate(
                HodgkinHuxley(), duration=50.0, dt=0.01, I=current, record=(), chunk_steps=5000
            )

        once()
        c0 = time.process_time()
        t0 = time.perf_counter()
        res = once()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        out = {"n_spikes": int(sum(int(x) for x in res.n_spikes))}
    return {
        **out,
        "build_s": build_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_per_wall": cpu / wall,
        "affinity": sorted(os.sched_getaffinity(0)),
    }


def measure(config: str, workload: str, timeout: float) -> dict:
    env = dict(os.environ)
    env.pop("PJRT_NPROC", None)
    if config == "threads1":
        env["PJRT_NPROC"] = "1"
    load0 = os.getloadavg()[0]
    cmd = [sys.executable, __file__, "--worker", config, "--workload", workload]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        return {"error": p.stderr[-1500:], "load_before": load0}
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r.update(load_before=load0, load_after=os.getloadavg()[0])
    return r


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="4000,16000,64000", help="COBA sizes")
    ap.add_argument("--hh", type=int, default=10_000, help="HH population size (0: skip)")
    ap.add_argument("--timeout", type=float, default=1200.0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--workload", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.workload)))
        return 0
    import numpy as np

    workloads = [f"coba:{int(s)}" for s in args.sizes.split(",") if s]
    if args.hh:
        workloads.append(f"hh:{args.hh}")
    raw: dict = {w: {c: [] for c in CONFIGS} for w in workloads}
    for r in range(args.rounds):
        for w in workloads:
            order = CONFIGS[r % 3 :] + CONFIGS[: r % 3]
            for c in order:
                m = measure(c, w, args.timeout)
                raw[w][c].append(m)
                print(f"round {r} {w} {c}: {m.get('wall_s', m.get('error', '')[:200])}", flush=True)
    summary = {}
    for w in workloads:
        walls = {c: [m["wall_s"] for m in raw[w][c] if "wall_s" in m] for c in CONFIGS if raw[w][c]}
        med = {c: float(np.median(v)) for c, v in walls.items() if v}
        best = min(med, key=med.__getitem__) if med else None
        summary[w] = {
            "median_wall_s": med,
            "min_max_wall_s": {c: [min(v), max(v)] for c, v in walls.items() if v},
            "best": best,
            "ratio_vs_best": {c: med[c] / med[best] for c in med} if best else {},
        }
        print(w, summary[w], flush=True)
    res = {
        "machine": {
            "host": platform.platform(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "configs": {
            "pinned1": "sched_setaffinity to the first core",
            "threads1": "PJRT_NPROC=1, unpinned",
            "all": "XLA default threads",
        },
        "rounds": args.rounds,
        "summary": summary,
        "raw": raw,
    }
    try:
        import jax

        res["machine"]["jax_version"] = jax.__version__
    except ImportError:  # pragma: no cover
        pass
    path = args.out or os.path.join(RESULTS, f"core_policy_{os.cpu_count()}cpu.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    print("written", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
