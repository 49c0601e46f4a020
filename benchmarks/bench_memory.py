"""Benchmark: peak resident memory per stage of building and running a network.

Each case runs in its own subprocess, which records, for every stage, the peak resident set
size (the kernel's high-water mark `VmHWM`, reset at the start of each stage through
`/proc/self/clear_refs`, so that every stage's peak is exact, not sampled) and the resident
size at its end:

* `import`: Python, numpy, JAX and spikejax loaded;
* `build`: the connectivity drawn on the host (up to the `Network` constructor);
* `transfer`: the `Network` constructor (the synapse tables moved to the device);
* `compile`: `jax.jit(...).lower(...).compile()` of the run with spike monitors (the size of
  the lowered program text is recorded: the tables are arguments, not constants, so it stays
  a few hundred kB whatever the network);
* `run`: the compiled run, outputs on the device;
* `recording`: the spike words decoded into (index, time) arrays on the host.

    python benchmarks/bench_memory.py --cases mc0.1 mc0.4 coba64k --tag after
    python benchmarks/bench_memory.py --cases mc0.1 --tree /work/main --tag before
Writes benchmarks/results/memory_profile_<tag>.json (with the machine and its load).
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


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


class _Stages:
    def __init__(self):
        self.stages: list[dict] = []
        self.t = time.perf_counter()
        _reset_peak()

    def mark(self, name: str, **extra) -> None:
        st = _status()
        now = time.perf_counter()
        self.stages.append(
            {
                "stage": name,
                "peak_rss_bytes": st["VmHWM"],
                "end_rss_bytes": st["VmRSS"],
                "wall_s": now - self.t,
                **extra,
            }
        )
        _reset_peak()
        self.t = time.perf_counter()


def child(case: str, duration_ms: float) -> dict:
    stages = _Stages()
    import equinox as eqx
    import jax
    import numpy as np

    import spikejax.network as nw
    from spikejax.cpu import compiler_options
    from spikejax.network import _network

    stages.mark("import")
    init = _network.Network.__init__

    def hooked(self, *a, **k):
        if not any(s["stage"] == "build" for s in stages.stages):
            stages.mark("build")
        init(self, *a, **k)

    _network.Network.__init__ = hooked
    key = jax.random.key(0)
    info: dict = {"case": case}
    if case.startswith("mc"):
        scale = float(case[2:])
        info["scale"] = scale
        est = getattr(nw, "microcircuit_memory_estimate", None)
        if est is not None:
            info["estimate_bytes"] = int(est(scale))
        net, mons = nw.microcircuit(scale, key=key)
    elif case.startswith("coba"):
        n = int(case[4:].replace("k", "000"))
        net, mons = nw.coba(n, key=key)
    else:
        raise ValueError(f"unknown case {case!r}")
    _network.Network.__init__ = init
    table = 0
    n_syn = 0
    for p in net.projections:
        n_syn += p.n_synapses
        for a in (p.rows, p.weight, p.delays, p.matrix):
            if a is not None and np.ndim(a):
                table += int(a.size) * a.dtype.itemsize
    stages.mark("transfer", table_bytes=table, n_synapses=n_syn)
    n_steps = int(round(duration_ms / net.dt))
    st = net.init_state(key=jax.random.key(1))
    dyn, static = eqx.partition(net, eqx.is_array)

    def f(d, s):
        return eqx.combine(d, static).simulate(s, n_steps, mons)

    lowered = jax.jit(f, compiler_options=compiler_options()).lower(dyn, st)
    hlo_bytes = len(lowered.as_text())
    compiled = lowered.compile()
    stages.mark("compile", lowered_text_bytes=hlo_bytes)
    t0 = time.perf_counter()
    st, out = jax.block_until_ready(compiled(dyn, st))
    run_s = time.perf_counter() - t0
    overflow = {k: int(v) for k, v in st["overflow"].items()}
    stages.mark("run", run_s=run_s, overflow=overflow)
    from spikejax.network._monitor import unpack_spikes

    n_spikes = 0
    for m in mons:
        pop = m.population if hasattr(m, "population") else m.key
        words = np.asarray(out[m.key])
        bits = unpack_spikes(words, net.populations[pop].n)
        steps, idx = np.nonzero(bits)
        t = (steps + 1) * net.dt
        n_spikes += idx.size
        del bits, t
    stages.mark("recording", n_spikes=int(n_spikes))
    info.update(
        n_neurons=int(sum(p.n for p in net.populations.values())),
        duration_ms=duration_ms,
        dtype=str(net.dtype),
        peak_rss_bytes=max(s["peak_rss_bytes"] for s in stages.stages),
        stages=stages.stages,
    )
    return info


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["mc0.1", "mc0.4", "coba64000"])
    ap.add_argument("--duration", type=float, default=100.0, help="biological ms per run")
    ap.add_argument("--tree", default=None, help="source tree to profile (default: this one)")
    ap.add_argument("--tag", default="after")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print("RESULT " + json.dumps(child(a.child, a.duration)), flush=True)
        return
    tree = os.path.abspath(a.tree or os.path.join(HERE, ".."))
    env = dict(os.environ, PYTHONPATH=tree)
    results = []
    for case in a.cases:
        load = os.getloadavg()[0]
        cmd = [sys.executable, os.path.abspath(__file__), "--child", case]
        cmd += ["--duration", str(a.duration)]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
        if p.returncode != 0 or not lines:
            results.append({"case": case, "error": p.stderr[-2000:]})
            print(case, "FAILED", p.stderr[-800:])
            continue
        r = json.loads(lines[-1][7:])
        r["load_avg_1min_start"], r["load_avg_1min_end"] = load, os.getloadavg()[0]
        results.append(r)
        print(
            f"{case}: peak {r['peak_rss_bytes'] / 1e9:.2f} GB"
            + (f" (estimate {r['estimate_bytes'] / 1e9:.2f} GB)" if "estimate_bytes" in r else "")
            + "; "
            + ", ".join(f"{s['stage']} {s['peak_rss_bytes'] / 1e9:.2f}" for s in r["stages"]),
            flush=True,
        )
    import jax

    out = {
        "tree": tree,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "jax_version": jax.__version__,
            "mem_total_bytes": os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"),
        },
        "duration_ms": a.duration,
        "results": results,
    }
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"memory_profile_{a.tag}.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
