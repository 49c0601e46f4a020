"""Benchmark: a Hodgkin-Huxley model written as equations (`spikejax.models.from_equations`).

1. Build time, each in a fresh interpreter (imports excluded; sympy's caches cold):
   - spikejax: parse + unit checks + code generation (`from_equations`), then the first
     compile (`simulate` of 10 steps, exponential Euler);
   - the built-in `HodgkinHuxley` class: its first compile of the same run;
   - Brian2: `NeuronGroup` + `run` of 10 steps with the `numpy` target (its code
     generation, no C compiler), on the same equations.
2. Run time: a population of N cells (default 10,000; each its own constant current),
   100 ms at dt = 0.01 ms, exponential Euler, float32, spikes only, equation-defined model
   against the built-in class, in interleaved rounds (after a warm-up compile of each).

Medians and spread (wall and this process's CPU time) are printed and written to
benchmarks/results/equations.json with the machine and its load (`os.getloadavg`, before,
after and at each round).

    python benchmarks/bench_equations.py                 # defaults
    python benchmarks/bench_equations.py --n 1000 --rounds 3 --build-rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

HH = """
dv/dt = (I - gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL))/C : volt
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
alpha_m = 1/exprel(-(v + 40*mV)/(10*mV))/ms : Hz
beta_m = 4*exp(-(v + 65*mV)/(18*mV))/ms : Hz
alpha_h = 0.07*exp(-(v + 65*mV)/(20*mV))/ms : Hz
beta_h = 1/(1 + exp(-(v + 35*mV)/(10*mV)))/ms : Hz
alpha_n = 0.1/exprel(-(v + 55*mV)/(10*mV))/ms : Hz
beta_n = 0.125*exp(-(v + 65*mV)/(80*mV))/ms : Hz
I : uA/cm**2
"""
PARAMS = {
    "C": "1 uF/cm**2",
    "gNa": "120 mS/cm**2",
    "gK": "36 mS/cm**2",
    "gL": "0.3 mS/cm**2",
    "ENa": "50 mV",
    "EK": "-77 mV",
    "EL": "-54.387 mV",
}
INIT = {"v": -65.0, "m": 0.0529, "h": 0.5961, "n": 0.3177}


def hh_equations():
    from spikejax.models import from_equations

    return from_equations(HH, parameters=PARAMS, init=INIT, name="HHEquations")


# ----- build-time workers (each in a fresh interpreter) -------------------------------------
def build_worker(which: str) -> dict:
    if which == "brian2":
        import brian2 as b2

        b2.prefs.codegen.target = "numpy"
        b2.defaultclock.dt = 0.01 * b2.ms
        u = b2
        ns = {
            "C": 1 * u.ufarad / u.cm**2,
            "gNa": 120 * u.msiemens / u.cm**2,
            "gK": 36 * u.msiemens / u.cm**2,
            "gL": 0.3 * u.msiemens / u.cm**2,
            "ENa": 50 * u.mV,
            "EK": -77 * u.mV,
            "EL": -54.387 * u.mV,
        }
        t0 = time.perf_counter()
        g = b2.NeuronGroup(
            1, HH.replace("uA/cm**2", "amp/meter**2"), method="exponential_euler", namespace=ns
        )
        g.v = -65 * u.mV
        b2.run(0.1 * b2.ms)
        return {"codegen_and_first_run_s": time.perf_counter() - t0}
    import spikejax as sj

    if which == "builtin":
        t0 = time.perf_counter()
        m = sj.models.HodgkinHuxley()
        sj.simulate(m, duration=0.1, dt=0.01, I=5.0, method="exponential_euler")
        return {"first_compile_s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    m = hh_equations()
    t1 = time.perf_counter()
    sj.simulate(m, duration=0.1, dt=0.01, I=5.0, method="exponential_euler")
    t2 = time.perf_counter()
    return {"build_s": t1 - t0, "first_compile_s": t2 - t1, "total_s": t2 - t0}


def _subprocess(which: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", which],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----- run time -------------------------------------------------------------------------------
def run_times(n: int, rounds: int, duration: float) -> dict:
    import numpy as np

    import spikejax as sj

    models = {"equations": hh_equations(), "builtin": sj.models.HodgkinHuxley()}
    I = np.linspace(0.0, 20.0, n)
    y0 = {k: np.full(n, v, dtype=np.float32) for k, v in INIT.items()}
    y0_builtin = {k.upper() if k == "v" else k: v for k, v in y0.items()}

    def run(name):
        m = models[name]
        t0, c0 = time.perf_counter(), time.process_time()
        r = sj.simulate(
            m,
            duration=duration,
            dt=0.01,
            I=I,
            record=(),
            method="exponential_euler",
            y0=y0 if name == "equations" else y0_builtin,
        )
        np.asarray(r.n_spikes)
        return time.perf_counter() - t0, time.process_time() - c0, int(np.sum(r.n_spikes))

    spikes = {name: run(name)[2] for name in models}  # warm-up: compile
    times: dict[str, list[float]] = {name: [] for name in models}
    cpu: dict[str, list[float]] = {name: [] for name in models}
    loads = []
    for _ in range(rounds):
        loads.append(os.getloadavg()[0])
        for name in models:
            wall, cpu_s, _ = run(name)
            times[name].append(wall)
            cpu[name].append(cpu_s)
    return {
        name: {
            "median_s": statistics.median(ts),
            "min_s": min(ts),
            "max_s": max(ts),
            "rounds": ts,
            # CPU seconds of this process (all threads): less sensitive than wall time to
            # other jobs on a shared machine, but it counts spin-waiting threads too
            "cpu_median_s": statistics.median(cpu[name]),
            "cpu_rounds": cpu[name],
            "load_1min_per_round": loads,
            "spikes": spikes[name],
        }
        for name, ts in times.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--duration", type=float, default=100.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build-rounds", type=int, default=3)
    ap.add_argument("--worker", default=None)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(build_worker(args.worker)))
        return
    load_before = os.getloadavg()
    build: dict[str, list[dict]] = {"equations": [], "builtin": [], "brian2": []}
    for _ in range(args.build_rounds):  # interleaved
        for which in build:
            try:
                build[which].append(_subprocess(which))
            except subprocess.CalledProcessError as err:
                build[which].append({"error": err.stderr[-500:]})
    summary = {}
    for which, runs in build.items():
        keys = [k for k in runs[0] if k != "error"] if runs else []
        summary[which] = {k: statistics.median(r[k] for r in runs if k in r) for k in keys}
    for which, s in summary.items():
        print(f"build {which:10s}: " + ", ".join(f"{k} {v:.2f} s" for k, v in s.items()))
    rt = run_times(args.n, args.rounds, args.duration)
    for name, s in rt.items():
        print(
            f"run {name:10s}: median {s['median_s']:.3f} s (min {s['min_s']:.3f}, max "
            f"{s['max_s']:.3f}) for {args.n} cells x {args.duration} ms, {s['spikes']} spikes"
        )
    ratio = rt["equations"]["median_s"] / rt["builtin"]["median_s"]
    cpu_ratio = rt["equations"]["cpu_median_s"] / rt["builtin"]["cpu_median_s"]
    print(f"equations / built-in run time: {ratio:.3f} (wall), {cpu_ratio:.3f} (CPU)")
    load_after = os.getloadavg()
    print(f"load average before {load_before}, after {load_after}")
    RESULTS.mkdir(exist_ok=True)
    out = {
        "machine": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": load_before,
        "load_after": load_after,
        "n": args.n,
        "duration_ms": args.duration,
        "dt_ms": 0.01,
        "rounds": args.rounds,
        "build": {"runs": build, "median": summary},
        "run": rt,
        "run_ratio_equations_over_builtin": ratio,
        "run_cpu_ratio_equations_over_builtin": cpu_ratio,
    }
    (RESULTS / "equations.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
