"""Benchmark: N independent Hodgkin-Huxley neurons, spikejax vs Brian2.

Default: 10,000 neurons, 1 s of biological time at dt = 0.01 ms (100,000 steps), each neuron
driven by its own constant current (linearly spaced 0..20 uA/cm^2), spikes recorded, no
state traces. Both simulators use the exponential Euler scheme (Brian2's default for HH-type
equations), so the accuracy per step is the same; spikejax runs in float32 (its default
without `jax_enable_x64`), Brian2 in float64.

    python benchmarks/bench_hh_population.py                 # full size
    python benchmarks/bench_hh_population.py --n 1000 --duration 100   # smaller

Compile and run times are reported separately. spikejax's compile time is measured with a
warm-up run of one chunk (the compiled chunk is then reused by the full run). Brian2 runs in
a subprocess per target (`runtime`, `cpp_standalone`), with the Python given by
`--brian2-python` (default: this one if it can import brian2, else /work/venv-brian2).
Results are written as JSON to benchmarks/results/hh_population[...].json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


# ----- Brian2 worker (runs in the Brian2 environment) ------------------------------------------
def brian2_worker(target: str, n: int, duration: float, dt: float, i_max: float) -> dict:
    import brian2 as b2
    import numpy as np

    build_dir = None
    if target == "cpp_standalone":
        build_dir = tempfile.mkdtemp(prefix="brian2_hh_")
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    else:
        b2.prefs.codegen.target = "cython"
    b2.defaultclock.dt = dt * b2.ms
    eqs = """
    dv/dt = (I - gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL)) / C : volt
    dm/dt = alpha_m*(1 - m) - beta_m*m : 1
    dh/dt = alpha_h*(1 - h) - beta_h*h : 1
    dn/dt = alpha_n*(1 - n) - beta_n*n : 1
    alpha_m = 1/exprel(-(v + 40*mV)/(10*mV))/ms : Hz
    beta_m = 4*exp(-(v + 65*mV)/(18*mV))/ms : Hz
    alpha_h = 0.07*exp(-(v + 65*mV)/(20*mV))/ms : Hz
    beta_h = 1/(1 + exp(-(v + 35*mV)/(10*mV)))/ms : Hz
    alpha_n = 0.1/exprel(-(v + 55*mV)/(10*mV))/ms : Hz
    beta_n = 0.125*exp(-(v + 65*mV)/(80*mV))/ms : Hz
    I : amp/meter**2
    """
    ns = {
        "C": 1 * b2.ufarad / b2.cm**2,
        "gNa": 120 * b2.msiemens / b2.cm**2,
        "gK": 36 * b2.msiemens / b2.cm**2,
        "gL": 0.3 * b2.msiemens / b2.cm**2,
        "ENa": 50 * b2.mV,
        "EK": -77 * b2.mV,
        "EL": -54.387 * b2.mV,
    }
    G = b2.NeuronGroup(
        n,
        eqs,
        threshold="v > 0*mV",
        refractory="v > 0*mV",
        method="exponential_euler",
        namespace=ns,
    )
    # Rest of the HH model at I = 0 (as spikejax's HodgkinHuxley.resting_state()).
    G.v = -64.99637933 * b2.mV
    G.m, G.h, G.n = 0.05295509, 0.59599412, 0.31773240
    G.I = np.linspace(0.0, i_max, n) * b2.uamp / b2.cm**2
    mon = b2.SpikeMonitor(G)
    net = b2.Network(G, mon)
    out = {"target": target, "brian2_version": b2.__version__}
    if target == "cpp_standalone":
        t = time.perf_counter()
        net.run(duration * b2.ms)
        b2.device.build(directory=build_dir, compile=True, run=True, debug=False)
        total = time.perf_counter() - t
        run = float(b2.device._last_run_time)
        out.update(compile_s=total - run, run_s=run, total_s=total)
    else:
        t = time.perf_counter()
        net.run(dt * b2.ms)  # code generation and (cached) cython compilation
        warm = time.perf_counter() - t
        t, c = time.perf_counter(), time.process_time()
        net.run(duration * b2.ms - dt * b2.ms)
        run, run_cpu = time.perf_counter() - t, time.process_time() - c
        out.update(compile_s=warm, run_s=run, run_cpu_s=run_cpu, total_s=warm + run)
    counts = np.bincount(np.asarray(mon.i), minlength=n)
    out["mean_rate_hz"] = float(counts.mean() * 1000.0 / duration)
    out["total_spikes"] = int(counts.sum())
    return out


def run_brian2(python: str, target: str, args) -> dict:
    cmd = [
        python,
        __file__,
        "--worker",
        target,
        "--n",
        str(args.n),
        "--duration",
        str(args.duration),
        "--dt",
        str(args.dt),
        "--i-max",
        str(args.i_max),
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    if r.returncode != 0:
        return {"target": target, "error": r.stderr[-2000:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def find_brian2_python(explicit: str | None) -> str | None:
    candidates = [explicit] if explicit else [sys.executable, "/work/venv-brian2/bin/python"]
    for py in candidates:
        if py and Path(py).exists():
            r = subprocess.run([py, "-c", "import brian2"], capture_output=True)
            if r.returncode == 0:
                return py
    return None


# ----- spikejax ----------------------------------------------------------------------------------
def run_spikejax(args) -> dict:
    import jax

    if args.float64:
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    import spikejax as sj
    from spikejax.models import HodgkinHuxley

    model = HodgkinHuxley()
    I = jnp.linspace(0.0, args.i_max, args.n)
    n_steps = int(round(args.duration / args.dt))
    chunk = min(args.chunk_steps, n_steps)
    kw = dict(dt=args.dt, I=I, method=args.method, record=(), chunk_steps=chunk)
    # Warm-up: one chunk compiles the loop that the full run reuses.
    t = time.perf_counter()
    warm = sj.simulate(model, duration=chunk * args.dt, **kw)
    warm_s = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    res = sj.simulate(model, duration=args.duration, **kw)
    run_s, run_cpu_s = time.perf_counter() - t, time.process_time() - c
    n_chunks = max(1, n_steps // chunk)
    compile_s = max(0.0, warm_s - run_s / n_chunks)
    del warm
    return {
        "compile_s": compile_s,
        "run_s": run_s,
        "run_cpu_s": run_cpu_s,
        "total_s": compile_s + run_s,
        "us_per_step": run_s / n_steps * 1e6,
        "mean_rate_hz": float(np.mean(res.n_spikes) * 1000.0 / args.duration),
        "total_spikes": int(np.sum(res.n_spikes)),
        # the simulation's precision (the state's dtype); spike times may be assembled in
        # float64 on the host (integer step + offset within the step) whatever the state's
        "dtype": str(np.asarray(res.final_state["V"]).dtype),
        "spike_times_dtype": str(res.spike_times.dtype),
        "method": args.method,
        "jax_version": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000, help="number of neurons (10000)")
    p.add_argument("--duration", type=float, default=1000.0, help="biological time, ms (1000)")
    p.add_argument("--dt", type=float, default=0.01, help="time step, ms (0.01)")
    p.add_argument("--i-max", type=float, default=20.0, help="largest current, uA/cm^2 (20)")
    p.add_argument(
        "--method", default="exponential_euler", choices=["exponential_euler", "rk4", "euler"]
    )
    p.add_argument("--float64", action="store_true", help="spikejax in float64")
    p.add_argument(
        "--chunk-steps", type=int, default=10_000, help="spikejax chunk length in steps (10000)"
    )
    p.add_argument("--brian2-python", default=None, help="Python with brian2 installed")
    p.add_argument(
        "--targets",
        default="runtime,cpp_standalone",
        help="Brian2 targets, comma separated ('' for none)",
    )
    p.add_argument("--timeout", type=float, default=3600.0, help="per Brian2 run, s")
    p.add_argument("--out", default=None, help="JSON path (default benchmarks/results/...)")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        print(json.dumps(brian2_worker(args.worker, args.n, args.duration, args.dt, args.i_max)))
        return 0

    config = {k: getattr(args, k) for k in ("n", "duration", "dt", "i_max", "method", "float64")}
    print(f"HH population benchmark: {config}", flush=True)
    results = {
        "config": config,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "load_avg_1min_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        },
    }
    results["spikejax"] = sj_res = run_spikejax(args)
    print(
        f"spikejax ({sj_res['backend']}, {sj_res['dtype']}, {args.method}): compile "
        f"{sj_res['compile_s']:.2f} s, run {sj_res['run_s']:.2f} s "
        f"(CPU {sj_res['run_cpu_s']:.2f} s) "
        f"({sj_res['us_per_step']:.1f} us/step), mean rate {sj_res['mean_rate_hz']:.2f} Hz",
        flush=True,
    )
    targets = [t for t in args.targets.split(",") if t]
    py = find_brian2_python(args.brian2_python) if targets else None
    if targets and py is None:
        print("Brian2 not importable (pass --brian2-python); skipping the comparison")
    for target in targets if py else []:
        b = run_brian2(py, target, args)
        results[f"brian2_{target}"] = b
        if "error" in b:
            print(f"Brian2 {target} failed:\n{b['error']}")
            continue
        b["run_ratio_spikejax_over_brian2"] = sj_res["run_s"] / b["run_s"]
        b["total_ratio_spikejax_over_brian2"] = sj_res["total_s"] / b["total_s"]
        print(
            f"Brian2 {target}: compile {b['compile_s']:.2f} s, run {b['run_s']:.2f} s, "
            f"mean rate {b['mean_rate_hz']:.2f} Hz; spikejax/Brian2 run-time ratio "
            f"{b['run_ratio_spikejax_over_brian2']:.3f}",
            flush=True,
        )
    results["machine"]["load_avg_1min_at_end"] = (
        os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    )
    if args.out:
        out = Path(args.out)
    else:
        default = args.n == 10_000 and args.duration == 1000.0 and args.dt == 0.01
        suffix = "" if default else f"_n{args.n}_T{args.duration:g}_dt{args.dt:g}"
        out = RESULTS / f"hh_population{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if out.exists():  # keep the Brian2 targets not re-run now, and the history
        old = json.loads(out.read_text())
        if old.get("config") == config:
            for key, value in old.items():
                if key.startswith("brian2_") and key not in results:
                    value.setdefault("note", f"not re-run; measured before {results['time']}")
                    results[key] = value
                elif key in ("before", "repeats"):
                    results[key] = value
    cpp = results.get("brian2_cpp_standalone", {})
    if "brian2_cpp_standalone" in [f"brian2_{t}" for t in targets] and "run_s" in cpp:
        results.setdefault("repeats", []).append(
            {
                "time": results["time"],
                "spikejax_run_s": sj_res["run_s"],
                "spikejax_run_cpu_s": sj_res["run_cpu_s"],
                "brian2_cpp_standalone_run_s": cpp["run_s"],
                "ratio": sj_res["run_s"] / cpp["run_s"],
                "load_avg_1min_at_start": results["machine"]["load_avg_1min_at_start"],
            }
        )
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
