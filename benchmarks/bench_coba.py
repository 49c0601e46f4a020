"""COBA benchmark: spikejax vs Brian2 (cpp_standalone and cython runtime), side by side.

Run with the Brian2 environment (which also has spikejax installed editable):

    /work/venv-brian2/bin/python benchmarks/bench_coba.py            # everything
    /work/venv-brian2/bin/python benchmarks/bench_coba.py --stats    # Brian2 COBA statistics
    /work/venv-brian2/bin/python benchmarks/bench_coba.py --only spikejax,scaling,vmap

Parts: (1) COBA-4000, 1 s: spikejax (compile and run separately) vs Brian2 cpp_standalone
(build and run) and cython runtime; (2) N scaling 4k, 16k, 64k (, 256k with --large) at 80
synapses/neuron: time per biological second and bytes of connectivity per synapse;
(3) 64 COBA networks (different excitatory weights) vmapped in one call vs 64 sequential runs.
`--stats` measures Brian2's COBA mean rate and CV of ISIs over seeds (the constants in
tests/test_network_coba.py). Results go to benchmarks/results/coba*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def machine_info():
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    from spikejax.cpu import available_cpu_cores, loop_kernels_active

    used = len(available_cpu_cores())
    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_cores_used": used,
        # XLA compiles small CPU loops into single kernels (spikejax.cpu)
        "loop_kernels": loop_kernels_active(),
        "loadavg_at_start": load,
        "note": "2-core development machine shared with other engineers: timings include "
        "contention (see loadavg)",
    }


# ----------------------------------------------------------------------------------------------
# Brian2 COBA (the definition of Brian2's / BrainPy's benchmark scripts)
BRIAN2_SCRIPT = r'''
import sys, time, json
import numpy as np
from brian2 import *
target, rseed, duration_s, n = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
outdir = sys.argv[5] if len(sys.argv) > 5 else None
t0 = time.perf_counter()
if target == "cpp_standalone":
    set_device("cpp_standalone", directory=outdir, build_on_run=False)
else:
    prefs.codegen.target = target
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
t_setup = time.perf_counter() - t0
t1 = time.perf_counter()
run(duration_s * second, report=None)
if target == "cpp_standalone":
    device.build(directory=outdir, compile=True, run=True, debug=False)
t_total = time.perf_counter() - t1
i = np.asarray(s_mon.i[:]); t = np.asarray(s_mon.t[:] / ms)
try:
    run_time = device._last_run_time if target == "cpp_standalone" else None
except Exception:
    run_time = None
print("RESULT" + json.dumps({"t_setup": t_setup, "t_total": t_total, "run_time": run_time,
                            "n_spikes": int(i.size)}))
np.savez(sys.argv[6], i=i, t=t)
'''


def brian2_coba(target: str, seed: int = 0, duration_s: float = 1.0, n: int = 4000):
    """Run Brian2's COBA in a subprocess; returns timings and (i, t) of all spikes."""
    tmp = tempfile.mkdtemp(prefix="b2coba_")
    script = os.path.join(tmp, "coba_b2.py")
    with open(script, "w") as f:
        f.write(BRIAN2_SCRIPT)
    out_npz = os.path.join(tmp, "spikes.npz")
    wall0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            script,
            target,
            str(seed),
            str(duration_s),
            str(n),
            os.path.join(tmp, "standalone"),
            out_npz,
        ],
        capture_output=True,
        text=True,
        cwd=tmp,
    )
    wall = time.perf_counter() - wall0
    if proc.returncode != 0:
        raise RuntimeError(f"Brian2 {target} failed:\n{proc.stderr[-3000:]}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][-1]
    res = json.loads(line[len("RESULT") :])
    with np.load(out_npz, allow_pickle=False) as z:
        i, t = z["i"], z["t"]
    shutil.rmtree(tmp, ignore_errors=True)
    res["wall_subprocess"] = wall
    return res, i, t


def coba_stats(i, t, n, duration_ms):
    from spikejax.spikes import mean_rate
    from spikejax.spikes import population_cv_isi as cv_isi

    return {"rate_hz": mean_rate(i, n, duration_ms), "cv_isi": cv_isi(i, t, n)}


# ----------------------------------------------------------------------------------------------
def spikejax_coba(
    n=4000, duration_ms=1000.0, seed=0, reps=5, method="exponential_euler", delivery="auto"
):
    import jax

    from spikejax import network as nw

    net, mons = nw.coba(n, key=jax.random.key(seed), method=method, delivery=delivery)
    res = nw.run(net, duration_ms, key=jax.random.key(seed + 1), monitors=mons)
    # a second run of the already-compiled chunk, timed alone
    times = []
    for _ in range(reps):
        r2 = nw.run(res.network, duration_ms, key=jax.random.key(seed + 1), monitors=mons)
        times.append(r2.run_s)
    i = np.concatenate([res.spikes["E"][0], res.spikes["I"][0] + net.populations["E"].n])
    t = np.concatenate([res.spikes["E"][1], res.spikes["I"][1]])
    syn = sum(p.n_synapses for p in net.projections)
    conn_bytes = sum(
        int(np.prod(p.rows.shape)) * 4 + (p.weight.nbytes if p.weight.ndim else 0)
        for p in net.projections
        if p.rows is not None
    )
    n_steps = int(round(duration_ms / net.dt))
    return {
        "method": method,
        "delivery": net.delivery,
        "compile_s": res.compile_s,
        "run_s_first": res.run_s,
        "run_s": min(times),
        "us_per_step": min(times) / n_steps * 1e6,
        "spike_buffer_growths": res.spike_buffer_growths,
        "n_synapses": syn,
        "bytes_per_synapse": conn_bytes / syn,
        **coba_stats(i, t, n, duration_ms),
    }


def bench_main(out):
    sj = spikejax_coba()
    out["spikejax_coba4000"] = sj
    print("spikejax", sj, flush=True)
    # the same numerical scheme as Brian2's benchmark script (forward Euler)
    sj_euler = spikejax_coba(method="euler")
    out["spikejax_coba4000_euler"] = sj_euler
    print("spikejax euler", sj_euler, flush=True)
    b2 = {}
    for target in ("cpp_standalone", "cython"):
        try:
            r, i, t = brian2_coba(target)
            r.update(coba_stats(i, t, 4000, 1000.0))
            b2[target] = r
            print("brian2", target, r, flush=True)
        except Exception as e:  # keep the rest of the benchmark
            b2[target] = {"error": str(e)[-500:]}
    out["brian2_coba4000"] = b2
    cpp = b2.get("cpp_standalone", {})
    if "run_time" in cpp and cpp["run_time"]:
        cpp["us_per_step"] = cpp["run_time"] / 10_000 * 1e6
        out["ratios"] = {
            "run_time_vs_cpp_standalone_run": sj["run_s"] / cpp["run_time"],
            "run_time_euler_vs_cpp_standalone_run": sj_euler["run_s"] / cpp["run_time"],
            "compile_plus_run_vs_cpp_build_plus_run": (sj["compile_s"] + sj["run_s_first"])
            / cpp["t_total"],
        }
        print("ratios", out["ratios"], flush=True)


def bench_scaling(out, sizes):
    import jax

    from spikejax import network as nw

    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        net, mons = nw.coba(n, key=jax.random.key(0))
        build = time.perf_counter() - t0
        res = nw.run(net, 200.0, key=jax.random.key(1), monitors=mons)
        res2 = nw.run(res.network, 200.0, key=jax.random.key(1), monitors=mons)
        syn = sum(p.n_synapses for p in net.projections)
        conn_bytes = sum(
            int(np.prod(p.rows.shape)) * 4 + (p.weight.nbytes if p.weight.ndim else 0)
            for p in net.projections
            if p.rows is not None
        )
        n_sp = sum(v[0].size for v in res2.spikes.values())
        row = {
            "n": n,
            "n_synapses": syn,
            "build_s": build,
            "compile_s": res.compile_s,
            "s_per_bio_second": res2.run_s / 0.2,
            "bytes_per_synapse": conn_bytes / syn,
            "synaptic_events_per_bio_second": n_sp / 0.2 * syn / n,
            "rate_hz": n_sp / n / 0.2,
        }
        rows.append(row)
        print("scaling", row, flush=True)
    out["scaling"] = rows


def bench_vmap(out, batch=64, duration_ms=100.0):
    import jax
    import jax.numpy as jnp

    from spikejax import network as nw

    net, mons = nw.coba(4000, key=jax.random.key(0))
    # the default spike buffers (enough for the single run at we = 0.6); a vmapped pure
    # simulate cannot grow them per member, so overflows are reported in the JSON
    st = net.init_state(key=jax.random.key(1))
    n_steps = int(duration_ms / net.dt)
    ws = jnp.linspace(0.4, 0.8, batch)
    monitors = (nw.RateMonitor("E"),)

    def one(w):
        return net.with_weights(**{"E->E": w, "E->I": w}).simulate(st, n_steps, monitors)

    from spikejax.cpu import compiler_options

    opts = compiler_options()
    f = jax.jit(jax.vmap(one), compiler_options=opts)
    t0 = time.perf_counter()
    c = f.lower(ws).compile()
    comp = time.perf_counter() - t0
    t0 = time.perf_counter()
    stb, outs = jax.block_until_ready(c(ws))
    t_batch = time.perf_counter() - t0
    g = jax.jit(one, compiler_options=opts).lower(ws[0]).compile()
    jax.block_until_ready(g(ws[0]))
    t0 = time.perf_counter()
    for w in ws:
        jax.block_until_ready(g(w))
    t_seq = time.perf_counter() - t0
    sharded = None
    if len(jax.devices()) > 1:
        # the same batch split over all (CPU) devices, one core each: shard_map + vmap
        n_dev = len(jax.devices())
        states = jax.tree.map(lambda x: jnp.broadcast_to(x, (batch,) + jnp.shape(x)), st)
        sim = nw.batch_simulator(
            net,
            n_steps,
            mesh=nw.device_mesh(n_dev),
            monitors=monitors,
            weight_names=("E->E", "E->I"),
        )
        wd = {"E->E": ws, "E->I": ws}
        jax.block_until_ready(sim(states, wd))
        t0 = time.perf_counter()
        jax.block_until_ready(sim(states, wd))
        t_sh = time.perf_counter() - t0
        sharded = {
            "devices": n_dev,
            "batched_s": t_sh,
            "throughput_ratio": t_seq / t_sh,
            "us_per_network_step": t_sh / (batch * n_steps) * 1e6,
        }
    res = {
        "batch": batch,
        "duration_ms": duration_ms,
        "sharded_over_devices": sharded,
        "compile_s": comp,
        "batched_s": t_batch,
        "sequential_s": t_seq,
        "throughput_ratio": t_seq / t_batch,
        "batched_us_per_network_step": t_batch / (batch * n_steps) * 1e6,
        "sequential_us_per_network_step": t_seq / (batch * n_steps) * 1e6,
        "overflow": {k: int(np.max(v)) for k, v in stb["overflow"].items()},
    }
    out["vmap"] = res
    print("vmap", res, flush=True)


def brian2_stats(seeds, out):
    rows = []
    for s in seeds:
        r, i, t = brian2_coba("cython", seed=s)
        st = coba_stats(i, t, 4000, 1000.0)
        rows.append(st)
        print("brian2 seed", s, st, flush=True)
    rates = np.array([r["rate_hz"] for r in rows])
    cvs = np.array([r["cv_isi"] for r in rows])
    out["brian2_stats"] = {
        "seeds": list(seeds),
        "rates": rates.tolist(),
        "cvs": cvs.tolist(),
        "rate_mean": rates.mean(),
        "rate_sd": rates.std(ddof=1),
        "cv_mean": cvs.mean(),
        "cv_sd": cvs.std(ddof=1),
    }
    print(out["brian2_stats"], flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stats", action="store_true", help="Brian2 COBA statistics over seeds")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--only", default="main,scaling,vmap")
    ap.add_argument("--large", action="store_true", help="include N = 256k in the scaling")
    ap.add_argument(
        "--cpu-cores",
        default="1",
        help="cores for this process and its Brian2 subprocesses: a number or 'all' (1: the "
        "`spikejax` command's CPU default; Brian2 runs single-threaded either way)",
    )
    ap.add_argument(
        "--cpu-devices",
        type=int,
        default=1,
        help="XLA host devices (one per core): >1 also times the batch split over devices",
    )
    args = ap.parse_args(argv)
    if args.cpu_devices > 1:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (
            f"{flags} --xla_force_host_platform_device_count={args.cpu_devices}".strip()
        )
    from spikejax.cpu import apply_cores_option

    apply_cores_option(args.cpu_cores)
    os.makedirs(RESULTS, exist_ok=True)
    out = {"machine": machine_info(), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if args.stats:
        brian2_stats(range(args.seeds), out)
        path = os.path.join(RESULTS, "coba_brian2_stats.json")
    else:
        parts = args.only.split(",")
        if "main" in parts:
            bench_main(out)
        if "scaling" in parts:
            bench_scaling(out, [4000, 16000, 64000] + ([256000] if args.large else []))
        if "vmap" in parts:
            bench_vmap(out)
        name = "coba_benchmark.json" if args.cpu_cores == "1" else "coba_benchmark_all_cores.json"
        path = os.path.join(RESULTS, name)
        if os.path.exists(path):  # update the parts measured now, keep the others
            with open(path) as f:
                old = json.load(f)
            mach = old.pop("machine_by_parts", {})
            if "machine" in old and not mach:
                mach["earlier parts"] = old["machine"]
            mach[",".join(parts)] = out["machine"]
            old.update(out)
            old["machine_by_parts"] = mach
            out = old
    with open(path, "w") as f:
        json.dump(out, f, indent=2, default=float)
    print("wrote", path)


if __name__ == "__main__":
    main()
