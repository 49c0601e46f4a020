"""Benchmark: HH resting-branch continuation with Hopf location, and classification of 1,000
HH variants (scaled gK) in one vmapped call, on CPU. Writes benchmarks/results/continuation.json.

With `--collocation`: HH's cycle branch by collocation from the subcritical Hopf point
(I = 9.7754) through every fold of cycles to the upper Hopf point (first call and warm), and
the time per continuation step of collocation against single shooting from the same Hopf
point, measured side by side in interleaved rounds (median and spread), with the machine
load. Writes benchmarks/results/continuation_collocation.json.

With `--diagram`: HH's complete one-parameter diagram in I from 0 to 200
(`analysis.bifurcation_diagram`: equilibria, every Hopf-born cycle family, special points),
first call (compilation included) and warm; and the default method of `continue_cycles`,
collocation against shooting, on three families from Hopf points (I_Na,p + I_K
low-threshold, FitzHugh-Nagumo at eps = 1, HH): first call in a fresh interpreter and warm
seconds per step, interleaved rounds, and where each family gets to. PyDSTool (PyCont) is
recorded as installable or not (it is tried in a separate virtual environment, never the
project's). Writes benchmarks/results/continuation_diagram.json.

With `--speed [--full]`: where HH's cycle continuation spends its time (cProfile, XLA
compilations on a warm call) and the continuation's first tangent by a bordered LU against
the SVD it replaced, interleaved rounds; `--full` adds the whole HH diagram, warm. Writes
benchmarks/results/continuation_speed.json.

With `--blas` (after `--speed`): numpy's dense LAPACK at that size with OpenBLAS's default
threads against one, added to the same JSON.

Run: python benchmarks/bench_continuation.py [--collocation | --diagram | --speed [--full] | --blas]
"""

import json
import os
import platform
import subprocess
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")

import numpy as np  # noqa: E402

from spikejax.analysis import (  # noqa: E402
    bifurcation_diagram,
    classify_variants,
    continuation,
    continue_cycles,
    continue_cycles_collocation,
)
from spikejax.models import FitzHughNagumo, HodgkinHuxley, INaPIK  # noqa: E402
from spikejax.solvers import PseudoArclength  # noqa: E402


def timed(fn, repeat=3):
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, first, min(times)


def main():
    hh = HodgkinHuxley()
    br, first_c, best_c = timed(lambda: continuation(hh, start=0.0, stop=20.0))
    h = br.hopf_points[0]
    pop = HodgkinHuxley(gK=36.0 * np.linspace(0.7, 1.3, 1000))
    v, first_v, best_v = timed(lambda: classify_variants(pop), repeat=3)
    grid = np.linspace(0.0, 20.0, 81)
    w, first_w, best_w = timed(lambda: classify_variants(pop, currents=grid), repeat=1)
    res = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "jax": jax.__version__,
        "hh_continuation_0_to_20": {
            "first_call_s": first_c,
            "warm_s": best_c,
            "n_points": len(br),
            "hopf_I": h.param,
            "hopf_omega": h.omega,
            "hopf_l1": h.l1,
        },
        "classify_1000_variants": {
            "first_call_s": first_v,
            "warm_s": best_v,
            "n_types": len(set(v.types)),
        },
        "classify_1000_variants_with_onset_81_currents": {
            "first_call_s": first_w,
            "warm_s": best_w,
            "onset_min": float(np.nanmin(w.onset_current)),
            "onset_max": float(np.nanmax(w.onset_current)),
        },
    }
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    path = os.path.join(os.path.dirname(__file__), "results", "continuation.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2))


def collocation(rounds: int = 3, steps: int = 10):
    hh = HodgkinHuxley()
    h_low, h_up = continuation(hh, "I", 0.0, 200.0).hopf_points
    load = [os.getloadavg()[0]]

    def full():
        return continue_cycles_collocation(hh, h_low, bounds=(0.0, 200.0), ds=1.0, ds_max=20.0)

    t0 = time.perf_counter()
    cb = full()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    cb = full()
    warm = time.perf_counter() - t0
    load.append(os.getloadavg()[0])
    lpcs = [sp.param for sp in cb.special_points if sp.kind == "LPC"]
    # per-step cost, side by side: the same number of steps from the same Hopf point
    runs = {
        "collocation": lambda: continue_cycles_collocation(
            hh, h_low, bounds=(0.0, 200.0), ds=1.0, ds_max=20.0, max_steps=steps
        ),
        "shooting": lambda: continue_cycles(hh, h_low, bounds=(0.0, 200.0), max_steps=steps),
    }
    for fn in runs.values():  # compile outside the timed rounds
        fn()
    per_step: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            br = fn()
            per_step[name].append((time.perf_counter() - t0) / max(len(br) - 1, 1))
        load.append(os.getloadavg()[0])
    res = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "jax": jax.__version__,
        "load_1min": load,
        "hh_cycle_branch_collocation": {
            "n_intervals": 40,
            "degree": 4,
            "first_call_s": first,
            "warm_s": warm,
            "n_points": len(cb),
            "status": str(cb.status),
            "lpc_I": lpcs,
            "last_I": float(cb.params[-1]),
            "upper_hopf_I": h_up.param,
        },
        "seconds_per_step": {
            k: {"median": float(np.median(v)), "min": float(np.min(v)), "max": float(np.max(v))}
            for k, v in per_step.items()
        },
        "collocation_over_shooting_median": float(
            np.median(per_step["collocation"]) / np.median(per_step["shooting"])
        ),
    }
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    path = os.path.join(os.path.dirname(__file__), "results", "continuation_collocation.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2))


# (model expression, bounds, steps) of the families compared in `diagram`
_CASES = {
    "inapik_low_threshold": ("INaPIK.low_threshold()", (0.0, 30.0), 20),
    "fitzhugh_nagumo_eps1": ("FitzHughNagumo(eps=1.0)", (0.0, 2.0), 20),
    "hodgkin_huxley": ("HodgkinHuxley()", (0.0, 200.0), 10),
}

_FIRST_CALL = """
import time, jax
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")
from spikejax.analysis import continuation, continue_cycles
from spikejax.models import FitzHughNagumo, HodgkinHuxley, INaPIK
m = {model}
h = continuation(m, "I", {lo}, {hi}).hopf_points[0]
t0 = time.perf_counter()
cb = continue_cycles(m, h, bounds=({lo}, {hi}), max_steps={steps}, method="{method}")
print(time.perf_counter() - t0, len(cb))
"""


def _first_call(case: str, method: str) -> float:
    model, (lo, hi), steps = _CASES[case]
    code = _FIRST_CALL.format(model=model, lo=lo, hi=hi, steps=steps, method=method)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=1800
    )
    return float(out.stdout.split()[-2])


def _pydstool() -> dict:
    """Whether PyDSTool installs from the package registry (into /tmp, never the project's
    environment) and imports with this machine's numpy/scipy."""
    venv = "/tmp/spikejax_pydstool_venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
        inst = subprocess.run(
            [f"{venv}/bin/pip", "install", "-q", "pydstool"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        imp = subprocess.run(
            [f"{venv}/bin/python", "-c", "import PyDSTool; print(PyDSTool.__version__)"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (subprocess.SubprocessError, OSError) as err:
        return {"installs": False, "error": repr(err)}
    return {
        "installs": inst.returncode == 0,
        "imports": imp.returncode == 0,
        "version": imp.stdout.strip(),
        "error": (inst.stderr + imp.stderr).strip()[-2000:],
    }


def diagram(rounds: int = 3):
    load = [os.getloadavg()[0]]
    hh = HodgkinHuxley()

    def full():
        return bifurcation_diagram(hh, "I", (0.0, 200.0))

    t0 = time.perf_counter()
    d = full()
    first = time.perf_counter() - t0
    load.append(os.getloadavg()[0])
    t0 = time.perf_counter()
    d = full()
    warm = time.perf_counter() - t0
    load.append(os.getloadavg()[0])
    res: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "jax": jax.__version__,
        "hh_diagram_0_to_200": {
            "first_call_s": first,
            "warm_s": warm,
            "ok": d.ok,
            "n_equilibrium_branches": len(d.equilibria),
            "n_cycle_families": len(d.cycles),
            "n_cycle_points": [len(c) for c in d.cycles],
            "special_points": [(str(sp.kind), round(sp.param, 5)) for sp in d.special_points],
            "cycle_status": [str(c.status) for c in d.cycles],
        },
    }
    # default method: first calls in fresh interpreters, warm steps interleaved in this one
    models = {
        "inapik_low_threshold": INaPIK.low_threshold(),
        "fitzhugh_nagumo_eps1": FitzHughNagumo(eps=1.0),
        "hodgkin_huxley": hh,
    }
    first_calls: dict = {c: {"collocation": [], "shooting": []} for c in _CASES}
    per_step: dict = {c: {"collocation": [], "shooting": []} for c in _CASES}
    hopfs = {c: continuation(models[c], "I", *_CASES[c][1]).hopf_points[0] for c in _CASES}
    for r in range(rounds):
        for case, (_, bounds, steps) in _CASES.items():
            methods = ("collocation", "shooting") if r % 2 == 0 else ("shooting", "collocation")
            for method in methods:
                if r < 2:
                    first_calls[case][method].append(_first_call(case, method))
                kw = dict(bounds=bounds, max_steps=steps, method=method)
                continue_cycles(models[case], hopfs[case], **kw)  # compiled
                t0 = time.perf_counter()
                cb = continue_cycles(models[case], hopfs[case], **kw)
                per_step[case][method].append((time.perf_counter() - t0) / max(len(cb) - 1, 1))
            load.append(os.getloadavg()[0])
    # where each method gets to, from the same Hopf point, in at most 80 steps
    reach: dict = {}
    for case, (_, bounds, _) in _CASES.items():
        reach[case] = {}
        for method in ("collocation", "shooting"):
            t0 = time.perf_counter()
            cb = continue_cycles(
                models[case], hopfs[case], bounds=bounds, max_steps=80, method=method
            )
            reach[case][method] = {
                "s": time.perf_counter() - t0,
                "n_points": len(cb),
                "status": str(cb.status),
                "param_range": [float(cb.params.min()), float(cb.params.max())],
                "special_points": [(str(sp.kind), round(sp.param, 5)) for sp in cb.special_points],
            }
    load.append(os.getloadavg()[0])

    def stats(v):
        return {"median": float(np.median(v)), "min": float(np.min(v)), "max": float(np.max(v))}

    res["default_method"] = {
        case: {
            "first_call_s": {m: stats(v) for m, v in first_calls[case].items()},
            "warm_s_per_step": {m: stats(v) for m, v in per_step[case].items()},
            "warm_collocation_over_shooting": float(
                np.median(per_step[case]["collocation"]) / np.median(per_step[case]["shooting"])
            ),
            "reach_in_80_steps": reach[case],
        }
        for case in _CASES
    }
    res["load_1min"] = load
    res["pydstool"] = _pydstool()
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    path = os.path.join(os.path.dirname(__file__), "results", "continuation_diagram.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2))


def _svd_first_tangent(jacobian, t_prev):
    """The driver's first tangent as it was: the last right singular vector (an SVD)."""
    J = np.asarray(jacobian, dtype=float)
    if t_prev is not None:
        return _NEW_TANGENT(J, t_prev)
    t = np.linalg.svd(J)[2][-1]
    return t / np.linalg.norm(t)


_NEW_TANGENT = PseudoArclength.tangent


def _profile_top(fn, n=12) -> list:
    """cProfile's `n` most expensive functions (own time) of one call of `fn`."""
    import cProfile
    import pstats

    pr = cProfile.Profile()
    pr.enable()
    fn()
    pr.disable()
    st = pstats.Stats(pr)
    rows = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:n]  # pyright: ignore[reportAttributeAccessIssue]
    return [
        {"function": f"{k[0].split('/')[-1]}:{k[1]}({k[2]})", "calls": v[1], "own_s": v[2]}
        for k, v in rows
    ]


_BLAS = """
import time, numpy as np
A = np.random.default_rng(0).standard_normal((642, 642))  # HH's collocation system size
out = {}
for name, fn in (("svd", np.linalg.svd), ("slogdet", np.linalg.slogdet),
                 ("solve", lambda M: np.linalg.solve(M, M[:, 0]))):
    fn(A)
    t0 = time.perf_counter()
    for _ in range(3):
        fn(A)
    out[name] = (time.perf_counter() - t0) / 3
print(repr(out))
"""


def blas_threads(rounds: int = 3) -> dict:
    """numpy's dense LAPACK at the collocation Jacobian's size (642), with OpenBLAS's default
    threads against one thread, in fresh interpreters, interleaved rounds, with the load."""
    import ast

    times: dict[str, dict[str, list[float]]] = {"default": {}, "one_thread": {}}
    load = [os.getloadavg()[0]]
    for r in range(rounds):
        for mode in ("default", "one_thread") if r % 2 == 0 else ("one_thread", "default"):
            env = dict(os.environ)
            env.pop("OPENBLAS_NUM_THREADS", None)
            if mode == "one_thread":
                env["OPENBLAS_NUM_THREADS"] = "1"
            out = subprocess.run(
                [sys.executable, "-c", _BLAS], env=env, capture_output=True, text=True, check=True
            )
            for k, v in ast.literal_eval(out.stdout.strip()).items():
                times[mode].setdefault(k, []).append(v)
        load.append(os.getloadavg()[0])
    res = {
        mode: {
            k: {"median": float(np.median(v)), "min": float(np.min(v)), "max": float(np.max(v))}
            for k, v in d.items()
        }
        for mode, d in times.items()
    }
    res["load_1min"] = load  # type: ignore[assignment]
    return res


def speed(rounds: int = 3, steps: int = 10, full: bool = False):
    """Where HH's cycle continuation spends its time (cProfile of a warm family of `steps`
    steps, and XLA compilations counted on a warm call), and the first tangent by a bordered
    LU against the SVD it replaced, side by side in interleaved rounds (same steps, same
    results). With `full`: the whole HH diagram (0 to 200) warm, once. Writes
    benchmarks/results/continuation_speed.json."""
    import logging

    hh = HodgkinHuxley()
    h_low = continuation(hh, "I", 0.0, 200.0).hopf_points[0]
    load = [os.getloadavg()[0]]

    def family():
        return continue_cycles(hh, h_low, bounds=(0.0, 200.0), max_steps=steps)

    cb = family()  # compiled
    # compilations on a warm call: the jitted functions are reused, nothing is retraced
    compiles: list[str] = []

    class _Count(logging.Handler):
        def emit(self, record):
            if "Finished XLA compilation" in record.getMessage():
                compiles.append(record.getMessage())

    handler = _Count()
    logging.getLogger("jax").addHandler(handler)
    jax.config.update("jax_log_compiles", True)
    family()
    jax.config.update("jax_log_compiles", False)
    logging.getLogger("jax").removeHandler(handler)
    profile = _profile_top(family)
    load.append(os.getloadavg()[0])
    times: dict[str, list[float]] = {"bordered_lu": [], "svd": []}
    same = True
    for r in range(rounds):
        order = ("bordered_lu", "svd") if r % 2 == 0 else ("svd", "bordered_lu")
        for name in order:
            PseudoArclength.tangent = staticmethod(  # type: ignore[method-assign]
                _NEW_TANGENT if name == "bordered_lu" else _svd_first_tangent
            )
            try:
                t0 = time.perf_counter()
                out = family()
                times[name].append(time.perf_counter() - t0)
            finally:
                PseudoArclength.tangent = staticmethod(_NEW_TANGENT)  # type: ignore[method-assign]
            same = same and bool(np.allclose(out.params, cb.params, rtol=0, atol=1e-8))
        load.append(os.getloadavg()[0])

    def stats(v):
        return {"median": float(np.median(v)), "min": float(np.min(v)), "max": float(np.max(v))}

    res: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "jax": jax.__version__,
        "hh_family_steps": steps,
        "xla_compilations_on_a_warm_call": len(compiles),
        "profile_warm_family_own_time": profile,
        "family_s": {k: stats(v) for k, v in times.items()},
        "svd_over_bordered_lu_median": float(
            np.median(times["svd"]) / np.median(times["bordered_lu"])
        ),
        "same_branch": same,
    }
    if full:
        d = bifurcation_diagram(hh, "I", (0.0, 200.0))  # compiled
        load.append(os.getloadavg()[0])
        t0 = time.perf_counter()
        d = bifurcation_diagram(hh, "I", (0.0, 200.0))
        res["hh_diagram_warm_s"] = time.perf_counter() - t0
        res["hh_diagram_special_points"] = [
            (str(sp.kind), round(sp.param, 5)) for sp in d.special_points
        ]
        res["hh_diagram_n_cycle_points"] = [len(c) for c in d.cycles]
    load.append(os.getloadavg()[0])
    res["load_1min"] = load
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    path = os.path.join(os.path.dirname(__file__), "results", "continuation_speed.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    if "--collocation" in sys.argv:
        collocation()
    elif "--diagram" in sys.argv:
        diagram()
    elif "--blas" in sys.argv:
        blas = blas_threads()
        path = os.path.join(os.path.dirname(__file__), "results", "continuation_speed.json")
        with open(path) as f:
            saved = json.load(f)
        saved["numpy_lapack_642_threads"] = blas
        with open(path, "w") as f:
            json.dump(saved, f, indent=2)
        print(json.dumps(blas, indent=2))
    elif "--speed" in sys.argv:
        speed(full="--full" in sys.argv)
    else:
        main()
