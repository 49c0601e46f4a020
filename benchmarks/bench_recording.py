"""Spike recording at scale: COBA with spike monitors, spikejax against Brian2 cpp_standalone
recording the same spikes, side by side in interleaved rounds.

    /work/main/.venv/bin/python benchmarks/bench_recording.py [--sizes 16384,65536,262144]
        [--durations 1000,1000,200] [--rounds 3] [--base /work/main] [--decoders]

Every measurement runs in its own process, pinned to one core (the same core for every side
of a round; the core alternates between rounds), and reports its peak resident memory
(`ru_maxrss`: the whole process, network building and both `run` calls included, read
before the benchmark copies the spikes to compare them with the other checkout; the peak
after those copies is `peak_with_comparison_copies_mb`) and:

- spikejax (this checkout, and with `--base` another checkout, e.g. the code before a
  change): the wall time of the whole `network.run` call (`whole_s`, compilation included),
  its `run_s` (the compiled chunks) and `compile_s`, the host time `host_s = whole_s - run_s -
  compile_s`, then the same for a second call with the chunk already compiled (`warm_*`),
  the memory before the run (after building), and the bytes per recorded spike; a run with
  `RateMonitor`s instead (`rates`) shows what the process takes without spike recording;
- Brian2 cpp_standalone (the COBA of `bench_coba.py`, `SpikeMonitor` on all neurons): the
  project is generated and compiled once per size, then its binary is run on its own every
  round, so that its wall time (`binary_wall_s`: synapse creation included) and peak
  memory are the simulation's alone; `run_s` is Brian2's own run time
  (`last_run_info.txt`).

Brian2's run time is CPU time (its standalone code measures the run with `std::clock()`), so
the goals are judged on the CPU time of spikejax's whole `run` call (`cpu_s`, `warm_cpu_s`:
`time.process_time()` around it), which a loaded machine does not inflate as it does wall
times (also recorded). `--resummarize` recomputes the summaries of an output file.

The spikes of this checkout and of `--base` are compared element by element (same key).
`--decoders` times the alternatives for getting the spikes off the device, in this process,
on a 64k-neuron chunk: per-step words only, per-step device compaction (cumulative sum and
scatter into a buffer), and host decoding of a chunk's words (the unpacking of earlier
releases, one pass over the words, and the non-zero-word map now used).

Writes benchmarks/results/recording_cpu.json (and recording_decoders.json) with the machine
load (`os.getloadavg()`) before and after each measurement.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")

BRIAN2_BUILD = r'''
import sys, time, json
import numpy as np
from brian2 import *
rseed, duration_s, n, outdir = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
set_device("cpp_standalone", directory=outdir, build_on_run=False)
seed(rseed)
np.random.seed(rseed)
defaultclock.dt = 0.1 * ms
taum = 20 * ms; taue = 5 * ms; taui = 10 * ms
Vt = -50 * mV; Vr = -60 * mV; El = -60 * mV
Erev_exc = 0. * mV; Erev_inh = -80. * mV
I = 20. * mV
eqs = """
dv/dt  = (ge*(Erev_exc-v)+gi*(Erev_inh-v)-(v-El) + I)*(1./taum) : volt (unless refractory)
dge/dt = -ge/taue : 1
dgi/dt = -gi/taui : 1
"""
P = NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="euler")
P.v = "Vr + rand() * (Vt - Vr)"
n_e = int(0.8 * n)
we = 6. / 10.
wi = 67. / 10.
Ce = Synapses(P[:n_e], P, on_pre="ge += we")
Ci = Synapses(P[n_e:], P, on_pre="gi += wi")
Ce.connect(p=80.0 / n)
Ci.connect(p=80.0 / n)
s_mon = SpikeMonitor(P)
run(duration_s * second, report=None)
device.build(directory=outdir, compile=True, run=False, debug=False)
print("RESULT" + json.dumps({"project": outdir}))
'''


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------------------------
def worker(n: int, duration_ms: float, monitor: str, out_npz: str) -> None:
    """In a child process (pinned by the parent): build COBA-n, run it twice, report."""
    import jax

    from spikejax import network as nw

    t0 = time.perf_counter()
    net, mons = nw.coba(n, key=jax.random.key(0))
    build_s = time.perf_counter() - t0
    if monitor == "rates":
        mons = (nw.RateMonitor("E"), nw.RateMonitor("I"))
    rss_built = _rss_mb()
    peak_built = _peak_mb()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    res = nw.run(net, duration_ms, key=jax.random.key(1), monitors=mons)
    whole = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    out = {
        "n": n,
        "duration_ms": duration_ms,
        "monitor": monitor,
        "build_s": build_s,
        "whole_s": whole,
        "cpu_s": cpu,
        "run_s": res.run_s,
        "compile_s": res.compile_s,
        "host_s": whole - res.run_s - res.compile_s,
        "rss_after_build_mb": rss_built,
        "peak_after_build_mb": peak_built,
        "peak_after_first_run_mb": _peak_mb(),
        "jax": jax.__version__,
    }
    if monitor == "spikes":
        n_spikes = sum(np.shape(res.spikes[p][0])[0] for p in ("E", "I"))
        out["n_spikes"] = int(n_spikes)
        out["rate_hz"] = n_spikes * 1e3 / (n * duration_ms)
        nbytes = 0
        for p in ("E", "I"):
            rec = res.spikes[p]
            stored = (rec.indices, rec.steps) if hasattr(rec, "steps") else tuple(rec)
            nbytes += sum(np.asarray(a).nbytes for a in stored)
        out["result_bytes_per_spike"] = nbytes / max(1, n_spikes)
    del res
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    res = nw.run(net, duration_ms, key=jax.random.key(1), monitors=mons)
    whole = time.perf_counter() - t0
    out.update(
        warm_whole_s=whole,
        warm_cpu_s=time.process_time() - cpu0,
        warm_run_s=res.run_s,
        warm_host_s=whole - res.run_s - res.compile_s,
        # the peak of building and both runs, before the copies made below to compare
        # the spikes with the other checkout (which are the benchmark's, not the run's)
        peak_mb=_peak_mb(),
    )
    if monitor == "spikes":  # the warm run's spikes (same key: the first run's)
        i = np.concatenate([np.asarray(res.spikes[p][0]) for p in ("E", "I")])
        if hasattr(res.spikes["E"], "steps"):
            s = np.concatenate([np.asarray(res.spikes[p].steps) for p in ("E", "I")])
        else:  # a checkout from before SpikeRecord: steps from the times
            s = np.concatenate([np.rint(np.asarray(res.spikes[p][1]) / net.dt) for p in "EI"])
        np.savez(out_npz, i=i, s=s.astype(np.int64))
        out["peak_with_comparison_copies_mb"] = _peak_mb()
    print("RESULT" + json.dumps(out), flush=True)


def run_spikejax(root: str, n: int, duration_ms: float, monitor: str, core: int, tmp: str):
    out_npz = os.path.join(tmp, f"spikes_{abs(hash(root))}.npz")
    env = {**os.environ, "PYTHONPATH": root}
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(n), str(duration_ms)]
    cmd += [monitor, out_npz]
    row = {"load_before": load()}
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        preexec_fn=lambda: os.sched_setaffinity(0, [core]),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"spikejax ({root}) failed:\n{proc.stderr[-3000:]}")
    line = [x for x in str(proc.stdout).splitlines() if x.startswith("RESULT")][-1]
    row.update(json.loads(line[len("RESULT") :]))
    row["load_after"] = load()
    return row, (out_npz if monitor == "spikes" else None)


def build_brian2(n: int, duration_ms: float, tmp: str) -> tuple[str, float]:
    """Generate and compile Brian2's COBA-n project once (its binary is run every round)."""
    project = os.path.join(tmp, f"b2_{n}")
    script = os.path.join(tmp, "b2_build.py")
    with open(script, "w") as f:
        f.write(BRIAN2_BUILD)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, script, "0", str(duration_ms / 1e3), str(n), project],
        capture_output=True,
        text=True,
        cwd=tmp,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"Brian2 build failed:\n{proc.stderr[-3000:]}")
    return project, time.perf_counter() - t0


def run_brian2(project: str, n: int, duration_ms: float, core: int) -> dict:
    """Run the compiled binary alone: its wall time, CPU time, peak memory and run time."""
    results = os.path.join(project, "results")
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)
    row: dict = {"load_before": load()}
    t0 = time.perf_counter()
    child = subprocess.Popen(
        ["./main", "--results_dir", results + os.sep],
        cwd=project,
        stdout=subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, [core]),
    )
    _, status, usage = os.wait4(child.pid, 0)
    row["binary_wall_s"] = time.perf_counter() - t0
    if status != 0:
        raise RuntimeError(f"Brian2 binary exited with status {status}")
    row["binary_cpu_s"] = usage.ru_utime + usage.ru_stime
    row["peak_mb"] = usage.ru_maxrss / 1024
    with open(os.path.join(results, "last_run_info.txt")) as f:
        run_time, fraction = map(float, f.read().split())
    row["run_s"] = run_time
    row["completed"] = fraction
    spike_files = glob.glob(os.path.join(results, "*spikemonitor_i*"))
    row["n_spikes"] = sum(os.path.getsize(p) for p in spike_files) // 4
    row["rate_hz"] = row["n_spikes"] * 1e3 / (n * duration_ms)
    row["load_after"] = load()
    return row


def summary(values) -> dict:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return {}
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())}


def summarize(rows: list[dict], sides: list[str]) -> dict:
    """Medians (with min and max) over the rounds, and the goals.

    Brian2's `run_s` is CPU time (cpp_standalone measures its run with `std::clock()`), so
    on a loaded machine the fair comparison is with the CPU time of spikejax's `run` call
    (`cpu_s`, `warm_cpu_s`: `time.process_time()` around it); wall times are given too."""
    s: dict = {}
    keys = ("whole_s", "cpu_s", "run_s", "compile_s", "host_s", "warm_whole_s", "warm_cpu_s",
            "warm_run_s", "warm_host_s", "peak_mb", "rss_after_build_mb", "build_s",
            "peak_after_first_run_mb", "peak_with_comparison_copies_mb")  # fmt: skip
    for side in [*sides, "rates"]:
        if any(side in row for row in rows):
            for k in keys:
                s[f"{side}_{k}"] = summary([row[side].get(k) for row in rows if side in row])
    for k in ("run_s", "binary_wall_s", "binary_cpu_s", "peak_mb"):
        s[f"brian2_{k}"] = summary([row["brian2"][k] for row in rows])
    b2_run = s["brian2_run_s"]["median"]
    s["goal_whole_call_le_brian2_run"] = {
        "brian2_run_cpu_s": b2_run,
        "new_whole_cpu_s": s["new_cpu_s"]["median"],
        "new_warm_whole_cpu_s": s["new_warm_cpu_s"]["median"],
        "new_whole_wall_s": s["new_whole_s"]["median"],
        "new_warm_whole_wall_s": s["new_warm_whole_s"]["median"],
        "met_first_call_cpu": s["new_cpu_s"]["median"] <= b2_run,
        "met_warm_call_cpu": s["new_warm_cpu_s"]["median"] <= b2_run,
        "per_round_first_call_cpu_over_brian2": summary(
            [r["new"]["cpu_s"] / r["brian2"]["run_s"] for r in rows]
        ),
        "per_round_warm_call_cpu_over_brian2": summary(
            [r["new"]["warm_cpu_s"] / r["brian2"]["run_s"] for r in rows]
        ),
    }
    s["goal_peak_le_2x_brian2"] = {
        "new_peak_mb": s["new_peak_mb"]["median"],
        "brian2_peak_mb": s["brian2_peak_mb"]["median"],
        "ratio": s["new_peak_mb"]["median"] / s["brian2_peak_mb"]["median"],
        "met": s["new_peak_mb"]["median"] <= 2 * s["brian2_peak_mb"]["median"],
    }
    if any("rates" in row for row in rows):
        # what spike recording adds to the peak, over the same run with RateMonitors
        s["new_peak_over_rates_mb"] = summary(
            [r["new"]["peak_mb"] - r["rates"]["peak_mb"] for r in rows if "rates" in r]
        )
    s["host_over_run_s"] = {
        side: summary([row[side]["warm_host_s"] / row[side]["warm_run_s"] for row in rows])
        for side in sides
    }
    if "base" in sides:
        s["spikes_identical_to_base"] = all(r["spikes_identical_to_base"] for r in rows)
        s["new_over_base_warm_run_s"] = summary(
            [r["new"]["warm_run_s"] / r["base"]["warm_run_s"] for r in rows]
        )
    return s


# ----------------------------------------------------------------------------------------------
def decoders(n: int = 65536, n_steps: int = 2000, p: float = 0.002) -> dict:
    """Ways of getting a chunk's spikes off the device, timed in this process."""
    import jax
    import jax.numpy as jnp

    from spikejax.network import unpack_spikes
    from spikejax.network._monitor import nonzero_word_flags, spike_events
    from spikejax.network._projection import spike_words

    n_words = -(-n // 32)
    iota = jnp.arange(n, dtype=jnp.uint32)

    def flags_at(k):  # about p of the neurons per step, a cheap hash
        h = iota * jnp.uint32(2654435761) + k.astype(jnp.uint32) * jnp.uint32(40503)
        return (h >> 20) < int(p * 4096)

    cap = int(1.5 * p * n * n_steps)

    def body_words(c, k):
        return c, spike_words(flags_at(k))

    def body_base(c, k):
        return c + jnp.sum(flags_at(k), dtype=jnp.int32), None

    def body_compact(c, k):  # per-step compaction of the non-zero words into a buffer
        count, at, val = c
        w = spike_words(flags_at(k))
        nz = w != 0
        pos = jnp.cumsum(nz.astype(jnp.int32)) - 1
        order = (
            jnp.zeros((n_words + 1,), jnp.int32)
            .at[jnp.where(nz, pos, n_words)]
            .set(jnp.arange(n_words, dtype=jnp.int32), mode="promise_in_bounds")[:n_words]
        )
        off = jnp.minimum(count, cap)
        at = jax.lax.dynamic_update_slice(at, order + k * n_words, (off,))
        val = jax.lax.dynamic_update_slice(val, w[order], (off,))
        return (count + jnp.sum(nz, dtype=jnp.int32), at, val), None

    inits = {
        "base": jnp.int32(0),
        "words": jnp.int32(0),
        "compact": (
            jnp.int32(0),
            jnp.zeros(cap + n_words, jnp.int32),
            jnp.zeros(cap + n_words, jnp.uint32),
        ),
    }
    bodies = {"base": body_base, "words": body_words, "compact": body_compact}
    out: dict = {"n": n, "n_steps": n_steps, "p_spike_per_step": p, "load_before": load()}
    words = None
    for name, body in bodies.items():
        fn = jax.jit(
            lambda body=body, name=name: jax.lax.scan(body, inits[name], jnp.arange(n_steps))
        )
        res = jax.block_until_ready(fn())
        ts = []
        for _ in range(3):
            t0 = time.process_time()
            jax.block_until_ready(fn())
            ts.append(time.process_time() - t0)
        out[f"device_{name}_us_per_step"] = min(ts) / n_steps * 1e6
        if name == "words":
            words = np.asarray(res[1])
    assert words is not None
    flags = jax.block_until_ready(jax.jit(nonzero_word_flags)(jnp.asarray(words)))
    ts = []
    for _ in range(3):
        t0 = time.process_time()
        jax.block_until_ready(jax.jit(nonzero_word_flags)(jnp.asarray(words)))
        ts.append(time.process_time() - t0)
    out["device_nonzero_word_map_us_per_step"] = min(ts) / n_steps * 1e6
    flags = np.asarray(flags)
    n_spikes = int(np.bitwise_count(words).sum())
    out["n_spikes"] = n_spikes

    def old():
        return np.nonzero(unpack_spikes(words, n))

    hosts = {
        "unpack_all_bits": old,
        "one_pass_over_words": lambda: spike_events(words, None),
        "nonzero_word_map": lambda: spike_events(words, flags),
    }
    for name, f in hosts.items():
        ts = []
        for _ in range(3):
            t0 = time.process_time()
            f()
            ts.append(time.process_time() - t0)
        out[f"host_{name}_ns_per_spike"] = min(ts) / n_spikes * 1e9
        out[f"host_{name}_us_per_step"] = min(ts) / n_steps * 1e6
    out["load_after"] = load()
    return out


# ----------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=str(__doc__).splitlines()[0])
    ap.add_argument("--sizes", default="16384,65536,262144")
    ap.add_argument("--durations", default="1000,1000,200", help="ms, one per size")
    ap.add_argument("--rounds", default="3", help="rounds per size (one number or one per size)")
    ap.add_argument("--base", default=None, help="root of a checkout to compare against")
    ap.add_argument("--no-rates", action="store_true", help="skip the RateMonitor runs")
    ap.add_argument("--decoders", action="store_true", help="also time the decoders")
    ap.add_argument("--out", default=os.path.join(RESULTS, "recording_cpu.json"))
    ap.add_argument("--worker", nargs=4, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--decoders-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument(
        "--resummarize", action="store_true", help="recompute the summaries of --out and exit"
    )
    args = ap.parse_args(argv)
    if args.resummarize:
        with open(args.out) as f:
            out = json.load(f)
        for s in out["sizes"].values():
            s.update(summarize(s["rounds"], list(out["sides"])))
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
        return 0
    if args.worker:
        n, dur, monitor, out_npz = args.worker
        worker(int(n), float(dur), monitor, out_npz)
        return 0
    if args.decoders_worker:
        print("RESULT" + json.dumps(decoders()), flush=True)
        return 0
    if args.decoders:
        # in a child process: this one forks the measured processes, which must not
        # happen after JAX has started its threads here
        cmd = [sys.executable, os.path.abspath(__file__), "--decoders-worker"]
        env = {**os.environ, "PYTHONPATH": ROOT}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        line = [x for x in str(proc.stdout).splitlines() if x.startswith("RESULT")][-1]
        d = json.loads(line[len("RESULT") :])
        d["cpu"] = cpu_model()
        print(json.dumps(d, indent=1), flush=True)
        with open(os.path.join(RESULTS, "recording_decoders.json"), "w") as f:
            json.dump(d, f, indent=1)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    durations = [float(x) for x in args.durations.split(",")]
    rounds = [int(x) for x in args.rounds.split(",")]
    rounds = rounds * len(sizes) if len(rounds) == 1 else rounds
    sides = {"new": ROOT} | ({"base": os.path.abspath(args.base)} if args.base else {})
    cores = sorted(os.sched_getaffinity(0))
    out: dict = {
        "benchmark": "COBA (80 synapses per neuron) with SpikeMonitors on all neurons: "
        "spikejax network.run against Brian2 cpp_standalone, one core per process",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"platform": platform.platform(), "cpu": cpu_model(), "cores": len(cores)},
        "load_start": load(),
        "sides": sides,
        "sizes": {},
    }
    if args.base:
        git = ["git", "-C", args.base, "rev-parse", "HEAD"]
        out["base_commit"] = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    git = ["git", "-C", ROOT, "rev-parse", "HEAD"]
    out["new_commit"] = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    tmp = tempfile.mkdtemp(prefix="bench_recording_")
    try:
        for n, dur, n_rounds in zip(sizes, durations, rounds):
            project, b2_build_s = build_brian2(n, dur, tmp)
            rows = []
            for r in range(n_rounds):
                core = cores[r % len(cores)]
                row: dict = {
                    "round": r,
                    "core": core,
                    "time": time.strftime("%H:%M:%SZ", time.gmtime()),
                }
                names = [*sides, "brian2"] + ([] if args.no_rates else ["rates"])
                names = names if r % 2 == 0 else names[::-1]
                row["order"] = names
                npz = {}
                for name in names:
                    if name == "brian2":
                        row["brian2"] = run_brian2(project, n, dur, core)
                    elif name == "rates":
                        row["rates"], _ = run_spikejax(ROOT, n, dur, "rates", core, tmp)
                    else:
                        row[name], npz[name] = run_spikejax(
                            sides[name], n, dur, "spikes", core, tmp
                        )
                    print(n, r, name, json.dumps(row[name]), flush=True)
                if "base" in npz:
                    with np.load(npz["new"]) as a, np.load(npz["base"]) as b:
                        row["spikes_identical_to_base"] = bool(
                            np.array_equal(a["i"], b["i"]) and np.array_equal(a["s"], b["s"])
                        )
                rows.append(row)
            shutil.rmtree(project, ignore_errors=True)
            s: dict = {
                "duration_ms": dur,
                "brian2_generate_and_compile_s": b2_build_s,
                "rounds": rows,
            }
            s.update(summarize(rows, list(sides)))
            out["sizes"][str(n)] = s
            out["load_end"] = load()
            with open(args.out, "w") as f:
                json.dump(out, f, indent=1)
            print(json.dumps({k: v for k, v in s.items() if k != "rounds"}, indent=1), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
