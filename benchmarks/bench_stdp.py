"""Plasticity benchmark: COBA-4000 with pair STDP on the E->E synapses, 1 s biological,
spikejax vs Brian2 cpp_standalone with the same rule, side by side, interleaved; and each
against the same network without plasticity (the cost of plasticity).

    python benchmarks/bench_stdp.py [--reps 3] [--duration 1000]

The rule (both simulators): per-synapse pre trace x (tau 20 ms) and post trace y (tau 20 ms),
at a pre-synaptic arrival g_e += w, w <- clip(w - A_- y, 0, w_max), x += 1; at a post
spike w <- clip(w + A_+ x, 0, w_max), y += 1 (Brian2: `on_pre` then `on_post`, event-driven
traces). A_+ = 0.006, A_- = 0.0063, w_max = 1.2, initial w = 0.6 (COBA's w_e). Timings:
spikejax `run_s` of an already compiled run (compile separate), Brian2 the standalone
binary's own run time (`device._last_run_time`) and its build. Results go to
benchmarks/results/stdp_coba4000.json with the machine and its load.
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
A_PLUS, A_MINUS, TAU, W_MAX, W0 = 0.006, 0.0063, 20.0, 1.2, 0.6

BRIAN2_SCRIPT = r'''
import sys, time, json
import numpy as np
from brian2 import *
plastic, rseed, duration_s = sys.argv[1] == "1", int(sys.argv[2]), float(sys.argv[3])
outdir, out_npz = sys.argv[4], sys.argv[5]
set_device("cpp_standalone", directory=outdir, build_on_run=False)
seed(rseed)
np.random.seed(rseed)
defaultclock.dt = 0.1 * ms
taum = 20 * ms; taue = 5 * ms; taui = 10 * ms
Vt = -50 * mV; Vr = -60 * mV; El = -60 * mV
Erev_exc = 0. * mV; Erev_inh = -80. * mV
I = 20. * mV
n = 4000; n_e = 3200
eqs = """
dv/dt  = (ge*(Erev_exc-v)+gi*(Erev_inh-v)-(v-El) + I)*(1./taum) : volt (unless refractory)
dge/dt = -ge/taue : 1
dgi/dt = -gi/taui : 1
"""
P = NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                method="exponential_euler")
P.v = "Vr + rand() * (Vt - Vr)"
we = 0.6; wi = 6.7
Ap, Am, tau, wmax = A_PLUS, A_MINUS, TAU * ms, W_MAX
if plastic:
    Cee = Synapses(P[:n_e], P[:n_e], """w : 1
        dx/dt = -x / tau : 1 (event-driven)
        dy/dt = -y / tau : 1 (event-driven)""",
        on_pre="""ge_post += w
        w = clip(w - Am * y, 0, wmax)
        x += 1""",
        on_post="""w = clip(w + Ap * x, 0, wmax)
        y += 1""")
else:
    Cee = Synapses(P[:n_e], P[:n_e], "w : 1", on_pre="ge_post += w")
Cee.connect(p=0.02)
Cee.w = we
Cei = Synapses(P[:n_e], P[n_e:], on_pre="ge += we")
Ci = Synapses(P[n_e:], P, on_pre="gi += wi")
Cei.connect(p=0.02)
Ci.connect(p=0.02)
s_mon = SpikeMonitor(P)
run(duration_s * second, report=None)
t0 = time.perf_counter()
device.build(directory=outdir, compile=True, run=True, debug=False)
t_total = time.perf_counter() - t0
w = np.asarray(Cee.w[:])
print("RESULT" + json.dumps({"run_time": device._last_run_time, "build_and_run": t_total,
                            "n_spikes": int(s_mon.num_spikes), "w_mean": float(w.mean()),
                            "w_std": float(w.std())}))
np.savez(out_npz, w=w)
'''


def brian2_run(plastic: bool, seed: int, duration_s: float):
    tmp = tempfile.mkdtemp(prefix="b2stdp_")
    script = os.path.join(tmp, "stdp_b2.py")
    constants = f"A_PLUS, A_MINUS, TAU, W_MAX = {A_PLUS!r}, {A_MINUS!r}, {TAU!r}, {W_MAX!r}\n"
    with open(script, "w") as f:
        f.write(constants + BRIAN2_SCRIPT)
    out_npz = os.path.join(tmp, "w.npz")
    args = [sys.executable, script, "1" if plastic else "0", str(seed), str(duration_s)]
    proc = subprocess.run(
        [*args, os.path.join(tmp, "standalone"), out_npz], capture_output=True, text=True, cwd=tmp
    )
    if proc.returncode != 0:
        raise RuntimeError(f"Brian2 failed:\n{proc.stderr[-3000:]}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][-1]
    res = json.loads(line[len("RESULT") :])
    with np.load(out_npz, allow_pickle=False) as z:
        w = z["w"]
    shutil.rmtree(tmp, ignore_errors=True)
    return res, w


def spikejax_net(plastic: bool, seed: int):
    import jax

    from spikejax import network as nw
    from spikejax.models import LIF

    n, n_e = 4000, 3200
    rng = np.random.default_rng(seed)
    lif = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=4.9, R=1.0)
    v0 = -60.0 + rng.random(n) * 10.0
    E = nw.Population(lif, n_e, name="E", I=20.0, initial={"V": v0[:n_e]})
    I = nw.Population(lif, n - n_e, name="I", I=20.0, initial={"V": v0[n_e:]})
    syn_e, syn_i = nw.Exponential(5.0, E_rev=0.0), nw.Exponential(10.0, E_rev=-80.0)
    conn = nw.FixedProbability(0.02)
    keys = jax.random.split(jax.random.key(seed), 4)
    rule = nw.PairSTDP(
        A_plus=A_PLUS, A_minus=A_MINUS, tau_plus=TAU, tau_minus=TAU, w_min=0.0, w_max=W_MAX
    )
    projs = [
        nw.Projection(
            E,
            E,
            conn,
            weight=W0,
            synapse=syn_e,
            receptor="exc",
            key=keys[0],
            plasticity=rule if plastic else None,
            name="EE",
        ),
        nw.Projection(E, I, conn, weight=0.6, synapse=syn_e, receptor="exc", key=keys[1]),
        nw.Projection(I, E, conn, weight=6.7, synapse=syn_i, receptor="inh", key=keys[2]),
        nw.Projection(I, I, conn, weight=6.7, synapse=syn_i, receptor="inh", key=keys[3]),
    ]
    return nw.Network([E, I], projs, dt=0.1)


def spikejax_run(plastic: bool, seed: int, duration_ms: float, reps: int):
    import jax

    from spikejax import network as nw

    net = spikejax_net(plastic, seed)
    mons = (nw.SpikeMonitor("E"), nw.SpikeMonitor("I"))
    first = nw.run(net, duration_ms, key=jax.random.key(seed + 1), monitors=mons)
    times = []
    for _ in range(reps):
        r = nw.run(first.network, duration_ms, key=jax.random.key(seed + 1), monitors=mons)
        times.append(r.run_s)
    n_spikes = int(first.spikes["E"][0].size + first.spikes["I"][0].size)
    out = {
        "compile_s": first.compile_s,
        "run_s": times,
        "run_s_median": float(np.median(times)),
        "n_spikes": n_spikes,
    }
    if plastic:
        w = net.plastic_weights(first.state, "EE")[2]
        out.update(w_mean=float(w.mean()), w_std=float(w.std()))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1000.0)
    args = ap.parse_args()
    import jax

    from spikejax.cpu import available_cpu_cores, limit_cpu_cores

    limit_cpu_cores(1)
    out = {
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "cpu_cores_used": len(available_cpu_cores()),
            "jax_backend": jax.default_backend(),
            "devices": [str(d) for d in jax.devices()],
            "loadavg_at_start": os.getloadavg(),
            "note": "2-core machine shared with other sessions: timings include contention",
        },
        "rule": dict(A_plus=A_PLUS, A_minus=A_MINUS, tau=TAU, w_max=W_MAX, w0=W0),
        "duration_ms": args.duration,
        "runs": [],
    }
    for rep in range(args.reps):  # interleaved: each simulator and variant once per round
        for plastic in (True, False):
            t0 = time.perf_counter()
            sj = spikejax_run(plastic, rep, args.duration, 1)
            sj["wall_s"] = time.perf_counter() - t0
            b2, _ = brian2_run(plastic, rep, args.duration / 1e3)
            row = {"round": rep, "plastic": plastic, "spikejax": sj, "brian2_cpp_standalone": b2}
            out["runs"].append(row)
            print(json.dumps(row), flush=True)
    summary = {}
    for plastic in (True, False):
        rows = [r for r in out["runs"] if r["plastic"] == plastic]
        sj = [r["spikejax"]["run_s_median"] for r in rows]
        b2 = [r["brian2_cpp_standalone"]["run_time"] for r in rows]
        key = "plastic" if plastic else "static"
        summary[key] = {
            "spikejax_run_s_median": float(np.median(sj)),
            "spikejax_run_s_range": [float(min(sj)), float(max(sj))],
            "brian2_run_s_median": float(np.median(b2)),
            "brian2_run_s_range": [float(min(b2)), float(max(b2))],
            "ratio_spikejax_over_brian2": float(np.median(sj) / np.median(b2)),
        }
    summary["cost_of_plasticity_spikejax"] = (
        summary["plastic"]["spikejax_run_s_median"] / summary["static"]["spikejax_run_s_median"]
    )
    summary["cost_of_plasticity_brian2"] = (
        summary["plastic"]["brian2_run_s_median"] / summary["static"]["brian2_run_s_median"]
    )
    out["summary"] = summary
    out["machine"]["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(summary, indent=1))
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "stdp_coba4000.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
