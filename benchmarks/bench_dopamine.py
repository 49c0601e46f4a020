"""Neuromodulated (reward-modulated) STDP benchmark: spikejax's `Neuromodulated(PairSTDP)`
against NEST's `stdp_dopamine_synapse`, the same synapses and spike trains, side by side,
interleaved rounds.

    python benchmarks/bench_dopamine.py [--reps 3] [--duration 5000] [--n-pre 1000]

The network (both simulators): `n_pre` inputs firing scripted Poisson trains (5 Hz) onto
`n_post` neurons firing scripted Poisson trains (5 Hz) through reward-modulated synapses
(connection probability 0.1, the connections drawn by NEST and used by both), and 10
dopaminergic inputs (1 Hz each) driving the modulator. Pre-synaptic spikes fall on even
steps and post-synaptic ones on odd steps: at zero lag NEST's order differs from ours.
NEST: spike generators into parrot neurons, a `volume_transmitter`,
`stdp_dopamine_synapse` (A+ = 0.1, A- = 0.15, tau+ = 20, tau- = 30, tau_c = 1000,
tau_n = 200 ms, b = 0.004). spikejax: `SpikeSource`s, LIF neurons kicked to spike at the
scripted times, `Neuromodulated(PairSTDP(...),
Modulator(200, population="da", amount=1/200))`, float32 on one core. The conventions are
mapped as in tests/test_plasticity_modulated.py (NEST's delay is dendritic, its volume
transmitter sees a dopamine spike one delay after its emission, and raises n by 1/tau_n).

Timings: NEST's `Simulate` (network built beforehand, 1 thread), spikejax's `run_s` of an
already compiled run (compile separate). Both keep every synapse's weight exact between
events; spikejax advances every weight every step (the modulator is global), NEST at the
pre-synaptic spikes and at the volume transmitter's deliveries (every 1 ms by default).

Weights: NEST runs twice per round, with its volume transmitter's default interval (one
delivery per min_delay, 1 ms) and with one delivery at the end. The final weights are
compared with spikejax's (NEST's are those of each synapse's last update, at the run's last
delivery). With the default interval NEST departs from the rule where a delivery falls
between a pre-synaptic spike and NEST's delivery of it (docs/plasticity.md, "NEST's
stdp_dopamine_synapse"; tests/test_plasticity_dopamine.py): a post-synaptic spike seen in
that gap is paired twice with the earlier pre-synaptic spikes (differences up to about 1),
a dopamine spike in it acts from the pre-synaptic spike on (about 1e-3). Each synapse is
classified by these two conditions (`_split_by_delivery`). With one delivery neither
occurs and the two agree to float32 round-off (`--float64`: spikejax in float64). Results
go to benchmarks/results/dopamine_stdp.json with the machine and its load.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import time
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
DT = 0.1
A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS = 0.1, 0.15, 20.0, 30.0
TAU_C, TAU_N, B, W0, W_MIN, W_MAX = 1000.0, 200.0, 0.004, 1.0, -100.0, 100.0
D_IN, D_SYN = 1.0, 1.0


def trains(n: int, rate_hz: float, t0: float, t1: float, rng, parity: int):
    """Poisson trains on the grid, on even (`parity=0`) or odd steps only, so that no pre- and
    post-synaptic spike coincide (NEST's order at zero lag differs from ours): `(idx,
    times)`."""
    n_slots = round((t1 - t0) / DT) // 2
    counts = rng.poisson(rate_hz * (t1 - t0) * 1e-3, n)
    steps = [2 * np.sort(rng.choice(n_slots, c, replace=False)) + parity for c in counts]
    idx = np.repeat(np.arange(n), counts)
    step = np.concatenate(steps) if steps else np.zeros(0, int)
    return idx, np.round(t0 / DT + step) * DT


def make_spikes(args, seed: int):
    rng = np.random.default_rng(seed)
    T = args.duration
    pre = trains(args.n_pre, 5.0, 5.0, T - 5.0, rng, 0)
    post = trains(args.n_post, 5.0, 5.0, T - 5.0, rng, 1)
    da = trains(10, 1.0, 5.0, T - 5.0, rng, 0)
    return pre, post, da


def _nest() -> Any:
    """NEST's Python module (untyped: its attributes are made at import)."""
    return importlib.import_module("nest")


def nest_run(args, spikes, seed: int, simulate: bool = True, deliver_interval: int = 1):
    nest = _nest()

    (pi, pt), (qi, qt), (di, dtm) = spikes
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution = DT
    nest.local_num_threads = 1
    nest.rng_seed = seed + 1
    t0 = time.perf_counter()

    def parrots(n, idx, times, **params):
        gens = nest.Create("spike_generator", n)
        gens.set([{"spike_times": list(np.sort(times[idx == i]))} for i in range(n)])
        p = nest.Create("parrot_neuron", n, params=params)
        nest.Connect(gens, p, "one_to_one", syn_spec={"delay": D_IN})
        return p

    # NEST's parrots spike D_IN after their generators; its synapse sees a post spike D_SYN
    # after it (dendritic delay), a pre spike at its emission, a dopamine spike at its arrival
    pre = parrots(args.n_pre, pi, pt - D_IN)
    post = parrots(args.n_post, qi, qt - D_SYN - D_IN, tau_minus=TAU_MINUS)
    da = parrots(10, di, dtm - 2 * D_IN)
    vt = nest.Create("volume_transmitter", params={"deliver_interval": deliver_interval})
    nest.Connect(da, vt, syn_spec={"delay": D_IN})
    params = dict(A_plus=A_PLUS, A_minus=A_MINUS, tau_plus=TAU_PLUS, tau_c=TAU_C, tau_n=TAU_N)
    params.update(b=B, Wmin=W_MIN, Wmax=W_MAX, volume_transmitter=vt)
    nest.CopyModel("stdp_dopamine_synapse", "rstdp", params)
    conn = {"rule": "pairwise_bernoulli", "p": 0.1}
    spec = {"synapse_model": "rstdp", "weight": W0, "delay": D_SYN, "receptor_type": 1}
    nest.Connect(pre, post, conn, spec)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    if simulate:
        nest.Simulate(args.duration)
    run_s = time.perf_counter() - t0
    c = nest.GetConnections(pre, post, synapse_model="rstdp")
    src = np.asarray(c.get("source")) - pre[0].global_id
    tgt = np.asarray(c.get("target")) - post[0].global_id
    w = np.asarray(c.get("weight"))
    return {"build_s": build_s, "run_s": run_s, "n_synapses": int(w.size)}, (src, tgt, w)


def spikejax_net(args, spikes, src, tgt):
    import jax.numpy as jnp

    from spikejax import network as nw
    from spikejax.models import LIF

    (pi, pt), (qi, qt), (di, dtm) = spikes
    pre = nw.SpikeSource(args.n_pre, pi, pt, name="pre", dt=DT)
    drive = nw.SpikeSource(args.n_post, qi, qt - DT, name="drive", dt=DT)
    da = nw.SpikeSource(10, di, dtm, name="da", dt=DT)
    lif = LIF(tau_m=1.0, E_L=0.0, V_th=20.0, V_reset=0.0, t_ref=0.0)
    post = nw.Population(lif, args.n_post, name="post")
    rule = nw.Neuromodulated(
        nw.PairSTDP(A_plus=A_PLUS, A_minus=A_MINUS, tau_plus=TAU_PLUS, tau_minus=TAU_MINUS),
        nw.Modulator(TAU_N, population="da", amount=1.0 / TAU_N),
        tau_c=TAU_C,
        b=B,
        w_min=W_MIN,
        w_max=W_MAX,
    )
    # the plastic inputs (about 100 per cell, weights about 1) stay far below the threshold
    syn = nw.Projection(pre, post, nw.Explicit(src, tgt), weight=W0, plasticity=rule, name="syn")
    kick = nw.Projection(drive, post, nw.OneToOne(), weight=100.0)
    return nw.Network(
        [pre, drive, da, post],
        [syn, kick],
        dt=DT,
        dtype=jnp.float64 if args.float64 else jnp.float32,
    )


def spikejax_run(args, spikes, src, tgt, seed: int):
    import jax

    from spikejax import network as nw

    net = spikejax_net(args, spikes, src, tgt)
    key = jax.random.key(seed)
    mon = (nw.SpikeMonitor("post"),)
    first = nw.run(net, args.duration, key=key, monitors=mon)
    again = nw.run(first.network, args.duration, key=key, monitors=mon)
    # the post cells spiked exactly at the scripted times
    (qi, qt) = spikes[1]
    n_spikes = np.asarray(first.spikes["post"][0]).size
    assert n_spikes == qi.size, (n_spikes, qi.size)
    pre_idx, post_idx, w = net.plastic_weights(again.state, "syn")
    return {"compile_s": first.compile_s, "run_s": again.run_s}, (pre_idx, post_idx, w)


def _split_by_delivery(spikes, src, tgt, deliver_interval: int):
    """Per synapse, what NEST's volume transmitter changes (docs/plasticity.md, "NEST's
    stdp_dopamine_synapse"). It advances every synapse to its delivery times T (multiples
    of `deliver_interval` min-delay slices of 1 ms) during the slice's update; a pre-synaptic
    spike emitted in the slice (T - 1 ms, T) is delivered after that, and its update runs
    from T back to t_pre. Returns three arrays:

    - `split`: a post-synaptic spike the synapse sees in (t_pre, T] exists. NEST reads it
      twice, the first time with the trace of the earlier pre-synaptic spikes only;
    - `extra`: the sum over these of the eligibility NEST adds a second time,
      E = A+ sum_{p < t_pre} e^{-(t_post - p)/tau+};
    - `moved`: a dopamine spike reaches the volume transmitter in (t_pre, T]. The pre
      spike's change of c then sees it from t_pre on (a weight error of at most about
      |dc| (T - t_pre) / tau_n)."""
    (pi, pt), (qi, qt), (_, dtm) = spikes
    m = round(1.0 / DT)  # NEST's min_delay (1 ms) in steps
    every = deliver_interval * m
    pre_k = {i: np.sort(np.rint(pt[pi == i] / DT).astype(np.int64)) for i in np.unique(src)}
    post_k = {i: np.rint(qt[qi == i] / DT).astype(np.int64) for i in np.unique(tgt)}
    dopa_k = np.rint(dtm / DT).astype(np.int64)
    split = np.zeros(src.size, bool)
    moved = np.zeros(src.size, bool)
    extra = np.zeros(src.size)
    for n, (s, t) in enumerate(zip(src, tgt)):
        kp, kq = pre_k[s], post_k[t]
        T = -(-kp // every) * every  # the delivery at or after each pre spike
        for j in np.flatnonzero(kp > T - m):
            hit = kq[(kq > kp[j]) & (kq <= T[j])]
            split[n] |= hit.size > 0
            moved[n] |= bool(np.any((dopa_k > kp[j]) & (dopa_k <= T[j])))
            for q in hit:
                extra[n] += A_PLUS * np.exp(-(q - kp[:j]) * DT / TAU_PLUS).sum()
    return split, extra, moved


def _compare(w_nest, w_sj, split, extra, moved):
    """Final weights of NEST and spikejax (same synapse order), split by
    `_split_by_delivery`."""
    diff = np.abs(w_nest - w_sj)
    others = ~split & ~moved
    return {
        **{f"n_differ_over_{t:g}": int((diff > t).sum()) for t in (1e-3, 1e-2, 1e-1)},
        "n_with_split_pairing": int(split.sum()),
        "n_with_split_pairing_and_extra_over_1e-3": int((extra > 1e-3).sum()),
        "n_with_moved_dopamine": int(moved.sum()),
        "n_differ_over_1e-3_with_neither": int((diff[others] > 1e-3).sum()),
        "max_abs_diff": float(diff.max()),
        "median_abs_diff": float(np.median(diff)),
        "max_abs_diff_split_pairing": float(diff[split].max()) if split.any() else 0.0,
        "max_abs_diff_moved_dopamine_only": float(diff[moved & ~split].max())
        if (moved & ~split).any()
        else 0.0,
        "max_abs_diff_with_neither": float(diff[others].max()) if others.any() else 0.0,
        "nest_mean": float(w_nest.mean()),
        "spikejax_mean": float(w_sj.mean()),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5000.0)
    ap.add_argument("--n-pre", type=int, default=1000)
    ap.add_argument("--n-post", type=int, default=100)
    ap.add_argument("--out", default="dopamine_stdp.json")
    ap.add_argument("--float64", action="store_true", help="spikejax in float64")
    args = ap.parse_args()
    import jax

    nest = _nest()
    if args.float64:
        jax.config.update("jax_enable_x64", True)
    from spikejax.cpu import available_cpu_cores, limit_cpu_cores

    limit_cpu_cores(1)
    out = {
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "cpu_cores_used": len(available_cpu_cores()),
            "jax_backend": jax.default_backend(),
            "jax": jax.__version__,
            "nest": nest.__version__,
            "loadavg_at_start": os.getloadavg(),
            "note": "2-core machine shared with other sessions: timings include contention",
        },
        "network": dict(vars(args), dt=DT, p=0.1, rates_hz=dict(pre=5, post=5, dopamine=1)),
        "rule": dict(
            A_plus=A_PLUS,
            A_minus=A_MINUS,
            tau_plus=TAU_PLUS,
            tau_minus=TAU_MINUS,
            tau_c=TAU_C,
            tau_n=TAU_N,
            b=B,
            w0=W0,
        ),
        "runs": [],
    }
    # NEST's default: its volume transmitter delivers every min_delay (1 ms); the second NEST
    # run delivers once, at the end, so that no delivery splits a pairing
    once = round(args.duration / D_SYN)
    for rep in range(args.reps):  # interleaved: both simulators once per round, order alternating
        spikes = make_spikes(args, rep)
        order = ("nest", "spikejax") if rep % 2 == 0 else ("spikejax", "nest")
        row = {"round": rep, "order": order, "loadavg": os.getloadavg()}
        # the connections are NEST's (drawn when it builds, with a fixed seed): built once
        # first without simulating
        _, (src, tgt, _) = nest_run(args, spikes, rep, simulate=False)
        final = {}
        for who in order:
            if who == "nest":
                row["nest"], final["nest"] = nest_run(args, spikes, rep)
            else:
                row["spikejax"], final["spikejax"] = spikejax_run(args, spikes, src, tgt, rep)
        (src, tgt, w_nest), (pi, qi, w_sj) = final["nest"], final["spikejax"]
        row["nest_one_delivery"], (src1, tgt1, w_once) = nest_run(
            args, spikes, rep, deliver_interval=once
        )
        assert np.array_equal(src1, src) and np.array_equal(tgt1, tgt)
        # the same synapses in both: compare by (pre, post) pair (no multapses here)
        a = np.lexsort((tgt, src))
        b = np.lexsort((qi, pi))
        assert np.array_equal(src[a], pi[b]) and np.array_equal(tgt[a], qi[b])
        row["weights_nest_default"] = _compare(
            w_nest[a], w_sj[b], *_split_by_delivery(spikes, src[a], tgt[a], 1)
        )
        row["weights_nest_one_delivery"] = _compare(
            w_once[a], w_sj[b], *_split_by_delivery(spikes, src[a], tgt[a], once)
        )
        out["runs"].append(row)
        print(json.dumps(row), flush=True)
    sj = [r["spikejax"]["run_s"] for r in out["runs"]]
    ne = [r["nest"]["run_s"] for r in out["runs"]]
    n1 = [r["nest_one_delivery"]["run_s"] for r in out["runs"]]
    out["summary"] = {
        "spikejax_run_s_median": float(np.median(sj)),
        "spikejax_run_s_range": [float(min(sj)), float(max(sj))],
        "nest_run_s_median": float(np.median(ne)),
        "nest_run_s_range": [float(min(ne)), float(max(ne))],
        "ratio_spikejax_over_nest": float(np.median(np.array(sj) / np.array(ne))),
        "spikejax_compile_s_median": float(
            np.median([r["spikejax"]["compile_s"] for r in out["runs"]])
        ),
        "n_synapses": out["runs"][0]["nest"]["n_synapses"],
        "nest_one_delivery_run_s_median": float(np.median(n1)),
        "ratio_spikejax_over_nest_one_delivery": float(np.median(np.array(sj) / np.array(n1))),
        "differ_over_1e-3_nest_default": [
            r["weights_nest_default"]["n_differ_over_0.001"] for r in out["runs"]
        ],
        "differ_over_1e-3_nest_one_delivery": [
            r["weights_nest_one_delivery"]["n_differ_over_0.001"] for r in out["runs"]
        ],
        "max_abs_diff_nest_default": [
            r["weights_nest_default"]["max_abs_diff"] for r in out["runs"]
        ],
        "max_abs_diff_nest_one_delivery": [
            r["weights_nest_one_delivery"]["max_abs_diff"] for r in out["runs"]
        ],
    }
    out["machine"]["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(out["summary"], indent=1))
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, args.out), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
