"""Benchmark: peak resident memory per stage of building and running a network.

Each case runs in its own subprocess (with `--one-core`, pinned to one core, so that XLA
sizes its thread pool at one thread, as `spikejax network` does), which records, for every
stage, the peak resident set size (the kernel's high-water mark `VmHWM`, reset at the start
of each stage through `/proc/self/clear_refs`, so that every stage's peak is exact, not
sampled), the resident size at its end, and the bytes of the live JAX arrays
(`jax.live_arrays()`):

* `import`: Python, numpy, JAX and spikejax loaded;
* `build`: the connectivity drawn on the host (up to the `Network` constructor);
* `transfer`: the `Network` constructor (the synapse tables moved to the device);
* `compile`: the first chunk function of `network.run` compiled (the compiled program's
  own `memory_analysis()`: argument, output and temporary bytes, is recorded);
* `run`: the rest of the first `network.run` call: the compiled chunks, the spike words of
  each chunk decoded into (index, step) records, the records joined;
* `warm`: a second `network.run` call (compiled already), the first one's result released.

    python benchmarks/bench_memory.py --cases mc0.1 mc0.4 coba64000 --tag after
    python benchmarks/bench_memory.py --cases coba64000 --duration 1000 --one-core \
        --tree /work/main --tag before
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
        live = None
        if "jax" in sys.modules:
            live = sum(a.nbytes for a in sys.modules["jax"].live_arrays())
        self.stages.append(
            {
                "stage": name,
                "peak_rss_bytes": st["VmHWM"],
                "end_rss_bytes": st["VmRSS"],
                "live_array_bytes": live,
                "wall_s": now - self.t,
                **extra,
            }
        )
        _reset_peak()
        self.t = time.perf_counter()


def child(case: str, duration_ms: float) -> dict:
    stages = _Stages()
    import jax

    import spikejax.network as nw
    from spikejax.network import _network, _run

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
            if a is not None and a.ndim:
                table += int(a.size) * a.dtype.itemsize
    stages.mark("transfer", table_bytes=table, n_synapses=n_syn)
    # the first chunk function's compilation is its own stage
    get = _run._Compiled.get

    def hooked_get(self, *a, **k):
        first = not any(s["stage"] == "compile" for s in stages.stages)
        if first:
            stages.mark("run_setup")  # initial state, checks (before compiling)
        fn = get(self, *a, **k)
        if first:
            m = fn.memory_analysis()  # pyright: ignore[reportFunctionMemberAccess]
            stages.mark(
                "compile",
                argument_bytes=m.argument_size_in_bytes,
                output_bytes=m.output_size_in_bytes,
                temp_bytes=m.temp_size_in_bytes,
            )
        return fn

    _run._Compiled.get = hooked_get
    res = nw.run(net, duration_ms, key=jax.random.key(1), monitors=mons)
    n_spikes = sum(r.n_spikes for r in res.spikes.values())
    record = sum(r.nbytes for r in res.spikes.values())
    stages.mark("run", run_s=res.run_s, n_spikes=n_spikes, record_bytes=record)
    del res
    res = nw.run(net, duration_ms, key=jax.random.key(1), monitors=mons)
    stages.mark("warm", run_s=res.run_s)
    info.update(
        n_neurons=int(sum(p.n for p in net.populations.values())),
        n_spikes=int(n_spikes),
        record_bytes_per_spike=record / max(1, n_spikes),
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
    ap.add_argument("--one-core", action="store_true", help="pin each case to one core")
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
        core = sorted(os.sched_getaffinity(0))[:1]
        pin = (lambda core=core: os.sched_setaffinity(0, core)) if a.one_core else None
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=pin)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
        if p.returncode != 0 or not lines:
            results.append({"case": case, "error": p.stderr[-2000:]})
            print(case, "FAILED", p.stderr[-800:])
            continue
        r = json.loads(lines[-1][7:])
        r["load_avg_1min_start"], r["load_avg_1min_end"] = load, os.getloadavg()[0]
        results.append(r)
        print(
            f"{case}: peak {r['peak_rss_bytes'] / 2**20:.0f} MB"
            + (f" (estimate {r['estimate_bytes'] / 2**20:.0f} MB)" if "estimate_bytes" in r else "")
            + "; stage peak/end MB: "
            + ", ".join(
                f"{s['stage']} {s['peak_rss_bytes'] / 2**20:.0f}/{s['end_rss_bytes'] / 2**20:.0f}"
                for s in r["stages"]
            ),
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
        "one_core": a.one_core,
        "results": results,
    }
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"memory_profile_{a.tag}.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
