"""The cost of precise (off-grid) spike times: the same current-based network run with spikes
on the grid and with `Population(precise=True)`, side by side.

The network is CUBA (Brette et al. 2007, benchmark 2, as `spikejax.network.cuba`): `n` LIF
neurons (80 % excitatory), 80 synapses per neuron, exponential currents (5 and 10 ms),
w_e = 1.62 mV, w_i = -9 mV, 5 ms refractory, except that its synapses have a delay of 1 ms
(a precise target needs delays of at least one step). Both variants are built from the same
key, so they have the same synapses and initial state. The timed quantity is the whole second
`run` call (compiled already), wall clock and process CPU time; rounds are interleaved (the
order alternates each round) and the machine's load average is recorded around each
measurement: the machine is shared, so read the medians, the spread and the paired ratios.

    python benchmarks/bench_precise.py                  # 4000 neurons, 1000 ms, 5 rounds
    python benchmarks/bench_precise.py --n 4000 --duration 500 --rounds 3

Writes `benchmarks/results/precise_spikes.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import jax
import numpy as np

from spikejax import network as nw
from spikejax.models import LIF

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def build(n: int, precise: bool, key, dt: float = 0.1):
    """CUBA with 1 ms delays; spikes on the grid or precise."""
    n_e = int(round(0.8 * n))
    k_v, k_ee, k_ei, k_ie, k_ii = jax.random.split(key, 5)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(k_v)).astype(np.uint64))
    Vt, Vr = -50.0, -60.0
    lif = LIF(tau_m=20.0, E_L=-49.0, V_th=Vt, V_reset=Vr, t_ref=5.0)
    v0 = Vr + rng.random(n) * (Vt - Vr)
    E = nw.Population(lif, n_e, name="E", initial={"V": v0[:n_e]}, sign=1, precise=precise)
    I = nw.Population(lif, n - n_e, name="I", initial={"V": v0[n_e:]}, sign=-1, precise=precise)
    conn = nw.FixedProbability(80.0 / n)
    se, si = nw.Exponential(5.0), nw.Exponential(10.0)
    we, wi = 60 * 0.27 / 10, 20 * 4.5 / 10
    projs = [
        nw.Projection(E, E, conn, weight=we, synapse=se, receptor="exc", delay=1.0, key=k_ee),
        nw.Projection(E, I, conn, weight=we, synapse=se, receptor="exc", delay=1.0, key=k_ei),
        nw.Projection(I, E, conn, weight=wi, synapse=si, receptor="inh", delay=1.0, key=k_ie),
        nw.Projection(I, I, conn, weight=wi, synapse=si, receptor="inh", delay=1.0, key=k_ii),
    ]
    return nw.Network([E, I], projs, dt=dt)


def timed(net, duration: float) -> dict:
    mons = (nw.SpikeMonitor("E"), nw.SpikeMonitor("I"))
    first = nw.run(net, duration, key=jax.random.key(1), monitors=mons)  # compile, grow
    load0 = os.getloadavg()[0]
    c0, t0 = time.process_time(), time.perf_counter()
    res = nw.run(first.network, duration, key=jax.random.key(1), monitors=mons)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = sum(res.n_neurons.values())
    spikes = res.spikes["E"].n_spikes + res.spikes["I"].n_spikes
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "run_s": res.run_s,
        "compile_s": first.compile_s,
        "rate_hz": spikes / n / (duration * 1e-3),
        "spike_buffers": dict(first.network.spike_buffers),
        "load_before": load0,
        "load_after": os.getloadavg()[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="precise spike times vs the grid")
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    nets = {
        kind: build(args.n, kind == "precise", jax.random.key(0)) for kind in ("grid", "precise")
    }
    rounds = []
    for r in range(args.rounds):
        order = ("grid", "precise") if r % 2 == 0 else ("precise", "grid")
        row = {kind: timed(nets[kind], args.duration) for kind in order}
        row["ratio_wall"] = row["precise"]["wall_s"] / row["grid"]["wall_s"]
        rounds.append(row)
        print(
            f"round {r}: grid {row['grid']['wall_s']:.3f} s ({row['grid']['rate_hz']:.2f} Hz), "
            f"precise {row['precise']['wall_s']:.3f} s ({row['precise']['rate_hz']:.2f} Hz), "
            f"ratio {row['ratio_wall']:.2f}, load {row['grid']['load_before']:.1f}",
            flush=True,
        )
    summary = {}
    for kind in ("grid", "precise"):
        walls = [r[kind]["wall_s"] for r in rounds]
        summary[kind] = {
            "wall_s_median": statistics.median(walls),
            "wall_s_min": min(walls),
            "wall_s_max": max(walls),
            "us_per_step_median": statistics.median(walls) / (args.duration / 0.1) * 1e6,
            "rate_hz": rounds[-1][kind]["rate_hz"],
        }
    ratios = [r["ratio_wall"] for r in rounds]
    summary["ratio_wall_median"] = statistics.median(ratios)
    summary["ratio_wall_range"] = [min(ratios), max(ratios)]
    out = {
        "benchmark": "precise spike times vs the grid, CUBA with 1 ms delays",
        "n": args.n,
        "duration_ms": args.duration,
        "dt_ms": 0.1,
        "rounds": rounds,
        "summary": summary,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "jax": jax.__version__,
            "backend": jax.default_backend(),
        },
    }
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, "precise_spikes.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(summary, indent=1))
    print("wrote", path)


if __name__ == "__main__":
    main()
