"""Benchmark: the Potjans & Diesmann (2014) microcircuit in spikejax and in NEST, side by side.

Both simulators build the same model at the same scale from the same derived parameters
(`spikejax.network.microcircuit_parameters`: neuron and synapse numbers, mean weights,
in-degree compensation, background), each drawing its own connectivity, weights, delays and
initial potentials from its own seed, as the reference implementation (INM-6
microcircuit-PD14-model, `network.py`) does in NEST: `iaf_psc_exp` neurons, `fixed_total_number`
connections with normal weights and delays redrawn at the sign and at `dt / 2`, one
`poisson_generator` of rate `8 Hz x K_ext` per population, and `V_0 ~ N(mu_p, sigma_p)`.
The runs alternate (spikejax seed s, NEST seed s, ...), so both see the same machine load.
Reports the rate of each population per seed and the mean and standard deviation over seeds.

    python benchmarks/bench_microcircuit_nest.py --scale 0.1 --seeds 5 --duration 1200
Writes benchmarks/results/microcircuit_nest_<scale>_<t_start>-<duration>ms.json (rates over
spikes after `t_start`, up to `duration` ms).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
POPS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")


def run_spikejax(scale, seed, duration, t_start, dtype_name, integration):
    import jax
    import jax.numpy as jnp

    import spikejax.network as sn

    if dtype_name == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.float64 if dtype_name == "float64" else jnp.float32
    t0 = time.perf_counter()
    net, mons = sn.microcircuit(
        scale, key=jax.random.key(seed), dtype=dtype, synapse_integration=integration
    )
    res = sn.run(net, duration, key=jax.random.key(1000 + seed), monitors=mons)
    n = sn.microcircuit_parameters(scale)["n"]
    rates = sn.microcircuit_rates(res, n, t_start=t_start)
    return [rates[p] for p in POPS], time.perf_counter() - t0


def run_nest(scale, seed, duration, t_start, threads):
    import nest

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
    prm = sn.microcircuit_parameters(scale)
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.local_num_threads = threads
    nest.resolution = 0.1
    nest.rng_seed = seed + 1
    pops = []
    for i in range(8):
        p = nest.Create("iaf_psc_exp", int(prm["n"][i]))
        p.set(
            C_m=_C_M,
            tau_m=_TAU_M,
            tau_syn_ex=_TAU_SYN,
            tau_syn_in=_TAU_SYN,
            E_L=_E_L,
            V_th=_V_TH,
            V_reset=_V_RESET,
            t_ref=_T_REF,
            I_e=float(prm["dc"][i]),
        )
        p.set(V_m=nest.random.normal(float(_V0_MEAN[i]), float(_V0_SD[i])))
        pops.append(p)
    rec = nest.Create("spike_recorder", 8)
    rec.set(start=t_start)
    for i in range(8):
        for j in range(8):
            s = int(prm["n_synapses"][i, j])
            if s <= 0:
                continue
            w = float(prm["weight"][i, j])
            d = _D_EXC if j % 2 == 0 else _D_INH
            lo, hi = (0.0, np.inf) if w > 0 else (-np.inf, 0.0)
            nest.Connect(
                pops[j],
                pops[i],
                {"rule": "fixed_total_number", "N": s},
                {
                    "synapse_model": "static_synapse",
                    "weight": nest.math.redraw(
                        nest.random.normal(mean=w, std=abs(w) * _W_REL_SD), min=lo, max=hi
                    ),
                    "delay": nest.math.redraw(
                        nest.random.normal(mean=d, std=d * _D_REL_SD),
                        min=0.5 * nest.resolution,
                        max=np.inf,
                    ),
                },
            )
    bg = nest.Create("poisson_generator", 8)
    bg.rate = 8.0 * prm["k_ext"]
    for i in range(8):
        nest.Connect(
            bg[i],
            pops[i],
            "all_to_all",
            {"synapse_model": "static_synapse", "weight": prm["weight_ext"], "delay": 1.5},
        )
        nest.Connect(pops[i], rec[i])
    nest.Simulate(duration)
    dur = (duration - t_start) * 1e-3
    rates = [int(rec[i].n_events) / (int(prm["n"][i]) * dur) for i in range(8)]
    return rates, time.perf_counter() - t0


def summary(rows):
    a = np.array(rows)
    return {"mean": a.mean(0).tolist(), "sd": a.std(0, ddof=1).tolist() if len(a) > 1 else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=1200.0)
    ap.add_argument("--t-start", type=float, default=200.0)
    ap.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--held-seeds", type=int, default=0, help="also run the held PSC path")
    args = ap.parse_args()

    import nest

    out = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "nest": nest.__version__,
            "load_avg_1min_start": os.getloadavg()[0],
        },
        "args": vars(args),
        "populations": POPS,
        "spikejax": [],
        "spikejax_held": [],
        "nest": [],
        "wall_s": {"spikejax": [], "nest": [], "spikejax_held": []},
    }
    window = f"{args.t_start:g}-{args.duration:g}ms"
    path = os.path.join(RESULTS, f"microcircuit_nest_{args.scale}_{window}.json")
    os.makedirs(RESULTS, exist_ok=True)

    def one(name, seed):
        if name == "nest":
            return run_nest(args.scale, seed, args.duration, args.t_start, args.threads)
        integration = "held" if name == "spikejax_held" else "exact"
        return run_spikejax(args.scale, seed, args.duration, args.t_start, args.dtype, integration)

    for seed in range(args.seeds):
        for name in ("spikejax", "nest", "spikejax_held"):
            if name == "spikejax_held" and seed >= args.held_seeds:
                continue
            rates, wall = one(name, seed)
            out[name].append(rates)
            out["wall_s"][name].append(wall)
            print(f"seed {seed} {name:14s} " + " ".join(f"{r:6.3f}" for r in rates), flush=True)
            out["summary"] = {k: summary(out[k]) for k in ("spikejax", "nest", "spikejax_held")
                              if out[k]}  # fmt: skip
            out["machine"]["load_avg_1min_end"] = os.getloadavg()[0]
            with open(path, "w") as f:
                json.dump(out, f, indent=1)
    for k, v in out["summary"].items():
        print(k, "mean", " ".join(f"{r:6.3f}" for r in v["mean"]))
        if v["sd"] is not None:
            print(k, "sd  ", " ".join(f"{r:6.3f}" for r in v["sd"]))
    print("wrote", path)


if __name__ == "__main__":
    main()
