"""Benchmark: the whole microcircuit call, spikejax against NEST and Brian2, side by side.

The Potjans & Diesmann (2014) microcircuit at several scales, each measurement in a fresh
subprocess so that its peak resident memory (`ru_maxrss`) is its own: spikejax (float32, the
network default, exact current-synapse propagators, spike monitors on every population),
NEST 3 (`iaf_psc_exp`, a `spike_recorder` on every population) and Brian2's cpp_standalone
(`build_brian2`: one neuron group, one synapse object, one spike monitor), spikejax and NEST
each with `--threads` CPU threads (default 1: NEST's `local_num_threads`, spikejax's
`limit_cpu_cores`; `--nest-threads` sets NEST's alone: NEST 3 holds at most 134,217,726
connections per virtual process and synapse model, so the full-scale network's 0.3 billion
needs at least 3 threads there), Brian2 single-threaded; all built from the same derived
parameters (`bench_microcircuit_nest.py` holds the spikejax and NEST builders). Timed for
spikejax and NEST: the whole call from an empty process state to the rates in hand (build +
compile + run + reading the spikes), and that call's peak resident memory. Brian2, every
round, is built in one process from an empty project folder (Python's start, the
connectivity drawn with numpy, code generation, writing the arrays, compiling with `make
-j2`), timed with that process's peak memory (`build`), and its binary is then run and timed
on its own (`wall_s`): reading the synapses from files and creating them, the simulation,
and writing every array (spikes and synapses) to its results folder. Its seeds follow the
others' (`--seed` plus the round for the connectivity, 1000 more for the Poisson input). The
rounds alternate the simulators and record the machine's load average: read the medians, the
spread and the load.

    python benchmarks/bench_microcircuit_whole.py --scales 0.1,0.4 --rounds 3 --duration 200

Writes `benchmarks/results/microcircuit_whole_call.json` (`--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def build_brian2(scale: float, duration: float, seed: int, project: str) -> float:
    """Generate and compile Brian2's cpp_standalone microcircuit once (its binary is then
    run on its own every round); returns the seconds this took.

    The model is the one `bench_microcircuit_nest.py` gives NEST: LIF neurons with
    exponential current synapses integrated exactly (`method="exact"`), refractory `t_ref`,
    fixed-total-number connectivity drawn with numpy (sources and targets uniform with
    replacement), normal weights and delays redrawn at the sign and below `dt / 2`, a
    `PoissonInput` of `K_ext` sources at 8 Hz per population, initial potentials from the
    published normal distributions. As the community Brian2 versions of the model do, it is
    laid out as few objects as possible, so that cpp_standalone generates and compiles a
    handful of files rather than one set per population pair: ONE `NeuronGroup` of all
    neurons (the eight populations are contiguous subgroups, with per-neuron `I_dc`), ONE
    `Synapses` holding every connection (each pair's indices offset into the big group,
    per-synapse `w_syn` and delays), one `PoissonInput` per subgroup (each its own `K_ext`),
    and ONE `SpikeMonitor` on the whole group (rates binned by population afterwards)."""
    import brian2 as b2

    import spikejax.network as sn
    from spikejax.network._microcircuit import (
        _C_M,
        _D_EXC,
        _D_INH,
        _D_REL_SD,
        _E_L,
        _T_REF,
        _TAU_M,
        _TAU_SYN,
        _V0_MEAN,
        _V0_SD,
        _V_RESET,
        _V_TH,
        _W_REL_SD,
    )

    t0 = time.perf_counter()
    b2.set_device("cpp_standalone", directory=project, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    # `make -j` without a limit would start one compiler per generated file at once
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
    b2.prefs.logging.console_log_level = "ERROR"
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(1000 + seed)  # the binary's own draws (the Poisson input), as spikejax's run key
    rng = np.random.default_rng(seed)
    prm = sn.microcircuit_parameters(scale)
    sizes = [int(x) for x in prm["n"]]
    first = np.concatenate([[0], np.cumsum(sizes)])
    eqs = """dv/dt = (E_L - v) / tau_m + (I + I_dc) / C_m : volt (unless refractory)
             dI/dt = -I / tau_syn : amp
             I_dc : amp"""
    ns = {
        "E_L": _E_L * b2.mV,
        "tau_m": _TAU_M * b2.ms,
        "C_m": _C_M * b2.pF,
        "tau_syn": _TAU_SYN * b2.ms,
    }
    cells = b2.NeuronGroup(
        int(first[-1]),
        eqs,
        threshold=f"v > {_V_TH}*mV",
        reset=f"v = {_V_RESET}*mV",
        refractory=_T_REF * b2.ms,  # pyright: ignore[reportArgumentType] (Brian2 hints bool)
        method="exact",
        namespace=ns,
    )
    # the same draws in the same order as one group per population: potentials first
    cells.v = (
        np.concatenate([rng.normal(_V0_MEAN[i], _V0_SD[i], sizes[i]) for i in range(8)]) * b2.mV
    )
    cells.I_dc = np.repeat(np.asarray(prm["dc"], dtype=float), sizes) * b2.pA
    objs = [
        b2.PoissonInput(
            cells[first[i] : first[i + 1]],
            "I",
            int(prm["k_ext"][i]),
            8.0 * b2.Hz,
            weight=float(prm["weight_ext"]) * b2.pA,
        )
        for i in range(8)
    ]
    pre, post, weights, delays = [], [], [], []
    for i in range(8):
        for j in range(8):
            n_syn = int(prm["n_synapses"][i, j])
            if n_syn <= 0:
                continue
            w = float(prm["weight"][i, j])
            d = _D_EXC if j % 2 == 0 else _D_INH
            pre.append(first[j] + rng.integers(0, sizes[j], n_syn))
            post.append(first[i] + rng.integers(0, sizes[i], n_syn))
            wv = rng.normal(w, abs(w) * _W_REL_SD, n_syn)
            while np.any(bad := np.sign(wv) != np.sign(w)):
                wv[bad] = rng.normal(w, abs(w) * _W_REL_SD, int(bad.sum()))
            dv = rng.normal(d, d * _D_REL_SD, n_syn)
            while np.any(bad := dv < 0.05):
                dv[bad] = rng.normal(d, d * _D_REL_SD, int(bad.sum()))
            weights.append(wv)
            delays.append(dv)
    syn = b2.Synapses(cells, cells, "w_syn : amp", on_pre="I_post += w_syn")
    syn.connect(i=np.concatenate(pre).astype(np.int32), j=np.concatenate(post).astype(np.int32))
    del pre, post
    syn.w_syn = np.concatenate(weights) * b2.pA
    del weights
    syn.delay = np.concatenate(delays) * b2.ms
    del delays
    net = b2.Network(cells, syn, objs, b2.SpikeMonitor(cells))
    net.run(duration * b2.ms)
    b2.device.build(directory=project, compile=True, run=False)
    return time.perf_counter() - t0


def _brian2_rates(results: str, scale: float, duration: float, t_start: float) -> list[float]:
    """Rates per population over `t_start`-`duration` ms from the one spike monitor's index
    (int32) and time (float64, s) files, binned by the populations' contiguous index ranges."""
    from spikejax.network import microcircuit_parameters

    n = np.asarray(microcircuit_parameters(scale)["n"], dtype=int)

    def read(var: str, dtype: type) -> np.ndarray:
        pattern = rf"_dynamic_array_spikemonitor_{var}_\d+"
        name = next(f for f in os.listdir(results) if re.fullmatch(pattern, f))
        return np.fromfile(os.path.join(results, name), dtype=dtype)

    idx = read("i", np.int32)[read("t", np.float64) >= t_start * 1e-3]
    counts = np.bincount(np.searchsorted(np.cumsum(n), idx, side="right"), minlength=8)
    return [float(counts[k] / (n[k] * (duration - t_start) * 1e-3)) for k in range(8)]


def run_brian2(project: str, scale: float, duration: float, t_start: float) -> dict:
    """Run the compiled binary alone: wall time (synapse creation included), peak memory,
    and the rates of its spike monitors."""
    results = os.path.join(project, "results")
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        ["./main", "--results_dir", results + os.sep], cwd=project, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        return {"error": f"Brian2 binary exited with status {status}"}
    return {
        "wall_s": wall,
        "peak_rss_bytes": int(usage.ru_maxrss * 1024),
        "rates_hz": _brian2_rates(results, scale, duration, t_start),
        "load_1min": [load0, os.getloadavg()[0]],
    }


def child(sim: str, scale: float, duration: float, t_start: float, seed: int, threads: int) -> dict:
    """One measurement in this (fresh) process; returns its JSON."""
    sys.path.insert(0, HERE)
    from bench_microcircuit_nest import run_nest, run_spikejax

    if sim != "nest":
        from spikejax.cpu import limit_cpu_cores

        limit_cpu_cores(threads)
    t0 = time.perf_counter()
    if sim == "nest":
        rates, _ = run_nest(scale, seed, duration, t_start, threads)
    else:
        rates, _ = run_spikejax(scale, seed, duration, t_start, "float32", "exact")
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"wall_s": wall, "peak_rss_bytes": int(peak), "rates_hz": [float(r) for r in rates]}


def measure(
    sim: str, scale: float, duration: float, t_start: float, seed: int, threads: int
) -> dict:
    load0 = os.getloadavg()[0]
    cmd = [
        sys.executable,
        __file__,
        "--child",
        sim,
        "--scales",
        str(scale),
        "--duration",
        str(duration),
        "--t-start",
        str(t_start),
        "--seed",
        str(seed),
        "--threads",
        str(threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:], "load_1min": [load0, os.getloadavg()[0]]}
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["load_1min"] = [load0, os.getloadavg()[0]]
    return row


def _brian2_build(cmd: list[str]) -> dict:
    """Run the Brian2 build (`--brian2-build`) in its own process: its wall time (Python's
    start, code generation, writing the arrays, compiling), that process's peak resident
    memory (the compiler's are not counted) and the load."""
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        if status != 0:
            return {"error": err.read().decode(errors="replace")[-2000:]}
    return {
        "build_s": wall,
        "peak_rss_bytes": int(usage.ru_maxrss * 1024),
        "load_1min": [load0, os.getloadavg()[0]],
    }


def brian2_round(tmp: str, scale: float, duration: float, t_start: float, seed: int) -> dict:
    """One Brian2 round: a build from an empty project folder (so that everything is
    generated and compiled; Brian2 skips unchanged files), then one run of its binary."""
    project = os.path.join(tmp, f"mc_{scale}")
    shutil.rmtree(project, ignore_errors=True)
    cmd = [sys.executable, __file__, "--brian2-build", project, "--scales", str(scale)]
    cmd += ["--duration", str(duration), "--seed", str(seed)]
    build = _brian2_build(cmd)
    if "build_s" not in build:
        return {"error": build["error"], "load_1min": [os.getloadavg()[0]] * 2}
    row = run_brian2(project, scale, duration, t_start)
    row["build"] = build
    shutil.rmtree(project, ignore_errors=True)
    return row


def _rates_summary(ok: dict) -> dict:
    """Per-population rates of each simulator: mean, min and max over its rounds, and the
    mean's relative deviation from the published full-scale rates."""
    from spikejax.network import MICROCIRCUIT_POPULATIONS, MICROCIRCUIT_REFERENCE_RATES

    ref = np.array([MICROCIRCUIT_REFERENCE_RATES[p] for p in MICROCIRCUIT_POPULATIONS])
    out: dict = {"populations": list(MICROCIRCUIT_POPULATIONS), "published_hz": ref.tolist()}
    for sim, rows in ok.items():
        a = np.array([x["rates_hz"] for x in rows])
        out[sim] = {
            "mean_hz": a.mean(0).tolist(),
            "min_hz": a.min(0).tolist(),
            "max_hz": a.max(0).tolist(),
            "relative_to_published": (a.mean(0) / ref - 1).tolist(),
        }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--scales", default="0.1,0.4")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=200.0, help="biological time, ms")
    ap.add_argument("--t-start", type=float, default=0.0, help="rates over t_start-duration ms")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads of either simulator")
    ap.add_argument("--nest-threads", type=int, default=None, help="NEST's (default --threads)")
    ap.add_argument("--only", default=None, help="comma-separated simulators to run")
    ap.add_argument("--out", default=os.path.join(RESULTS, "microcircuit_whole_call.json"))
    ap.add_argument("--no-brian2", action="store_true", help="leave Brian2 out")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--brian2-build", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    scales = [float(s) for s in args.scales.split(",")]
    if args.brian2_build:
        print(build_brian2(scales[0], args.duration, args.seed, args.brian2_build))
        return 0
    if args.child:
        row = child(args.child, scales[0], args.duration, args.t_start, args.seed, args.threads)
        print(json.dumps(row))
        return 0
    import nest

    result = {
        "machine": {
            "host": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "nest": getattr(nest, "__version__", "unknown"),
        },
        "args": {k: v for k, v in vars(args).items() if k not in ("child", "out", "brian2_build")},
        "runs": {},
        "summary": {},
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="mc_brian2_")
    for scale in scales:
        runs = result["runs"].setdefault(str(scale), {"spikejax": [], "nest": [], "brian2": []})
        sims = ["spikejax", "nest"]
        if args.only:
            sims = [x for x in sims if x in args.only.split(",")]
        if not args.no_brian2:
            sims.append("brian2")
        for r in range(args.rounds):
            order = sims if r % 2 == 0 else sims[::-1]
            for sim in order:
                if sim == "brian2":
                    row = brian2_round(tmp, scale, args.duration, args.t_start, args.seed + r)
                else:
                    threads = args.threads
                    if sim == "nest" and args.nest_threads:
                        threads = args.nest_threads
                    row = measure(sim, scale, args.duration, args.t_start, args.seed + r, threads)
                    row["threads"] = threads
                runs[sim].append(row)
                build = (
                    f" after a {row['build']['build_s']:.1f} s build"
                    f" ({row['build']['peak_rss_bytes'] / 1e9:.2f} GB)"
                    if "build" in row
                    else ""
                )
                print(
                    f"scale {scale} round {r} {sim:8s} "
                    + (
                        f"{row['wall_s']:.1f} s, {row['peak_rss_bytes'] / 1e9:.2f} GB{build}"
                        if "wall_s" in row
                        else "failed"
                    )
                    + f" (load {row['load_1min'][0]:.1f}-{row['load_1min'][1]:.1f})",
                    flush=True,
                )
            ok = {s: [x for x in v if "wall_s" in x] for s, v in runs.items() if v}
            if ok.get("spikejax") and all(ok.values()):
                med = {
                    s: {
                        k: float(np.median([x[k] for x in v])) for k in ("wall_s", "peak_rss_bytes")
                    }
                    for s, v in ok.items()
                }
                result["summary"][str(scale)] = {
                    "median": med,
                    "wall_range_s": {
                        s: [min(x["wall_s"] for x in v), max(x["wall_s"] for x in v)]
                        for s, v in ok.items()
                    },
                }
                result["summary"][str(scale)]["rates"] = _rates_summary(ok)
                for peer in ok.keys() - {"spikejax"}:
                    result["summary"][str(scale)][f"wall_ratio_spikejax_over_{peer}"] = (
                        med["spikejax"]["wall_s"] / med[peer]["wall_s"]
                    )
                    result["summary"][str(scale)][f"memory_ratio_spikejax_over_{peer}"] = (
                        med["spikejax"]["peak_rss_bytes"] / med[peer]["peak_rss_bytes"]
                    )
                if "brian2" in ok:
                    # Brian2's whole call: the build plus one run of the binary
                    builds = [x["build"] for x in ok["brian2"]]
                    whole = [x["build"]["build_s"] + x["wall_s"] for x in ok["brian2"]]
                    result["summary"][str(scale)]["brian2_build"] = {
                        "median_s": float(np.median([b["build_s"] for b in builds])),
                        "range_s": [
                            min(b["build_s"] for b in builds),
                            max(b["build_s"] for b in builds),
                        ],
                        "median_peak_rss_bytes": float(
                            np.median([b["peak_rss_bytes"] for b in builds])
                        ),
                        "median_build_plus_run_s": float(np.median(whole)),
                    }
                    result["summary"][str(scale)]["wall_ratio_spikejax_over_brian2_build_run"] = (
                        med["spikejax"]["wall_s"] / float(np.median(whole))
                    )
            with open(args.out, "w") as f:
                json.dump(result, f, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result["summary"], indent=1))
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
