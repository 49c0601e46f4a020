"""Benchmark: the Potjans & Diesmann (2014) microcircuit at a scaling factor.

Reports build, compile and run time separately, the real-time factor (run time / biological
time), the memory of the synapse tables per synapse, the population rates, and a split of the
step time into "neurons + background input" and "spike delivery" (the same network run
without its projection), which shows what limits the run. CPU contention (load average and
CPU-seconds per wall-second of this process) is recorded with every result.

    python benchmarks/bench_microcircuit.py --scale 0.1 --duration 1000
Writes benchmarks/results/microcircuit_<scale>_<device>.json.
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


def machine_info() -> dict:
    import jax

    from spikejax.cpu import loop_kernels_active

    dev = jax.devices()[0]
    return {
        "device": getattr(dev, "device_kind", str(dev)),
        "loop_kernels": loop_kernels_active(),
        "platform": dev.platform,
        "n_devices": jax.device_count(),
        "jax_version": jax.__version__,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_1min": os.getloadavg()[0],
    }


def _peak_rss() -> int:
    """Peak resident set size of this process so far (bytes)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _table_bytes(net) -> tuple[int, int]:
    """(bytes of all synapse tables on the device, number of synapses)."""
    nbytes, n_syn = 0, 0
    for p in net.projections:
        n_syn += p.n_synapses
        for a in (p.rows, p.weight, p.delays):
            if a is not None and np.ndim(a):
                nbytes += int(a.size) * a.dtype.itemsize
    return nbytes, n_syn


def _time_steps(net, n_steps: int, key) -> tuple[float, float, float]:
    """(compile s, wall s per step, CPU s per step) of `net.simulate` for `n_steps`."""
    import equinox as eqx
    import jax

    st = net.init_state(key=key)
    dyn, static = eqx.partition(net, eqx.is_array)
    from spikejax.cpu import compiler_options

    f = jax.jit(
        lambda d, s: eqx.combine(d, static).simulate(s, n_steps),
        compiler_options=compiler_options(),
    )
    t0 = time.perf_counter()
    c = f.lower(dyn, st).compile()
    comp = time.perf_counter() - t0
    st, _ = jax.block_until_ready(c(dyn, st))  # warm-up (and past the initial transient)
    t0, c0 = time.perf_counter(), time.process_time()
    jax.block_until_ready(c(dyn, st))
    return comp, (time.perf_counter() - t0) / n_steps, (time.process_time() - c0) / n_steps


def bench_microcircuit(
    scale: float = 0.1,
    duration_ms: float = 1000.0,
    *,
    background: str = "poisson",
    seed: int = 0,
    breakdown: bool = True,
    t_rates_from: float = 200.0,
) -> dict:
    """Run the microcircuit at `scale` for `duration_ms` and return the measurements."""
    import jax

    from spikejax import network as nw
    from spikejax.network._microcircuit import (
        MICROCIRCUIT_REFERENCE_RATES,
        microcircuit,
        microcircuit_parameters,
        microcircuit_rates,
    )

    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    net, mons = microcircuit(scale, key=jax.random.key(seed), background=background)
    build_s = time.perf_counter() - t0
    c0 = time.process_time()
    res = nw.run(net, duration_ms, key=jax.random.key(seed + 1), monitors=mons, chunk_steps=5000)
    cpu_s = time.process_time() - c0
    prm = microcircuit_parameters(scale)
    rates = microcircuit_rates(res, prm["n"], t_start=min(t_rates_from, duration_ms / 2))
    nbytes, n_syn = _table_bytes(getattr(res, "network", net))
    n_spikes = sum(v[0].size for v in res.spikes.values())
    n_steps = int(round(duration_ms / net.dt))
    out = {
        "scale": scale,
        "background": background,
        "duration_ms": duration_ms,
        "dt_ms": net.dt,
        "dtype": str(net.dtype),
        "n_neurons": int(prm["n"].sum()),
        "n_synapses": n_syn,
        "build_s": build_s,
        "compile_s": res.compile_s,
        "run_s": res.run_s,
        "real_time_factor": res.run_s / (duration_ms * 1e-3),
        "us_per_step": res.run_s / n_steps * 1e6,
        "process_cpu_s_per_wall_s": cpu_s / max(res.compile_s + res.run_s, 1e-9),
        "synapse_table_bytes": nbytes,
        "bytes_per_synapse": nbytes / max(n_syn, 1),
        "spikes_per_step": n_spikes / n_steps,
        "synaptic_events_per_bio_s": n_spikes * n_syn / prm["n"].sum() / (duration_ms * 1e-3),
        "rates_hz": rates,
        "reference_rates_hz": dict(MICROCIRCUIT_REFERENCE_RATES),
        "load_avg_1min_start": load0,
        "load_avg_1min_end": os.getloadavg()[0],
        "peak_rss_bytes": _peak_rss(),
    }
    if breakdown:
        # The same network without its projection: neuron update + background input only.
        bare = nw.Network(
            list(net.populations.values()), [], net.inputs, dt=net.dt, dtype=net.dtype
        )
        k = jax.random.key(seed + 2)
        n_b = min(2000, n_steps)
        comp_f, wall_f, cpu_f = _time_steps(net, n_b, k)
        comp_b, wall_b, cpu_b = _time_steps(bare, n_b, k)
        out["breakdown"] = {
            "steps_timed": n_b,
            "full_us_per_step": wall_f * 1e6,
            "full_cpu_us_per_step": cpu_f * 1e6,
            "neurons_input_us_per_step": wall_b * 1e6,
            "neurons_input_cpu_us_per_step": cpu_b * 1e6,
            "delivery_cpu_us_per_step": (cpu_f - cpu_b) * 1e6,
            "delivery_ns_per_synaptic_event": (cpu_f - cpu_b)
            * 1e9
            / max(n_spikes / n_steps * n_syn / prm["n"].sum(), 1e-9),
            "compile_s_full": comp_f,
            "compile_s_without_projection": comp_b,
        }
    return out


def step_time(case: str, n_steps: int = 1000, repeats: int = 5) -> dict:
    """Median wall and CPU time per step of `net.simulate` (compiled once, no monitor) of
    `case` (`"coba4000"` or `"mc0.1"`), after one warm-up run; public API only, so that the
    same function measures another checkout (`--ab`)."""
    import equinox as eqx
    import jax

    import spikejax.network as nw
    from spikejax.cpu import compiler_options

    key = jax.random.key(0)
    if case.startswith("coba"):
        net, _ = nw.coba(int(case[4:]), key=key)
    else:
        net, _ = nw.microcircuit(float(case[2:]), key=key)
    st = net.init_state(key=jax.random.key(1))
    dyn, static = eqx.partition(net, eqx.is_array)
    f = jax.jit(
        lambda d, s: eqx.combine(d, static).simulate(s, n_steps),
        compiler_options=compiler_options(),
    )
    c = f.lower(dyn, st).compile()
    st, _ = jax.block_until_ready(c(dyn, st))
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        st, _ = jax.block_until_ready(c(dyn, st))
        walls.append((time.perf_counter() - t0) / n_steps * 1e6)
        cpus.append((time.process_time() - c0) / n_steps * 1e6)
    return {"us_per_step": float(np.median(walls)), "cpu_us_per_step": float(np.median(cpus))}


def procedural_vs_stored(n_pre: int = 5000, K: int = 4000, spikes: int = 200) -> dict:
    """Per-synapse cost of delivering `spikes` spikes of a random network whose rows hold `K`
    synapses: stored (the CSR table and `deliver_events`, as the networks run) against
    procedural (each spiking neuron's targets, weights and delays regenerated from a key,
    as GeNN's procedural connectivity: uniform targets, normal weights and delays, one
    scatter per spike), both in one jitted loop over the same spikes on this machine."""
    import jax
    import jax.numpy as jnp

    from spikejax.network._projection import deliver_events, spike_words

    rng = np.random.default_rng(0)
    n_post, D = n_pre, 40
    W = n_post + 1
    import spikejax.network as nw
    from spikejax.models import LIF

    lif = LIF(tau_m=10.0, E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0)
    a = nw.Population(lif, n_pre, name="A")
    offsets = np.arange(n_pre + 1, dtype=np.int64) * K
    post = rng.integers(0, n_post, n_pre * K).astype(np.int32)
    w = rng.normal(87.8, 8.8, n_pre * K).astype(np.float32)
    d = (np.rint(np.clip(rng.normal(1.5, 0.75, n_pre * K), 0.1, 3.9) / 0.1) * 0.1).astype(
        np.float32
    )
    pr = nw.Projection(a, a, nw.ExplicitRows(offsets, post, weight=w, delay=d), propagation="event")
    net = nw.Network([a], [pr], dt=0.1, dtype=jnp.float32, delivery="loop")
    cp = net.projections[0]
    Dn, Wn = net.buffer_depth, sum(n + 1 for _, n in net.receptor_columns.values())
    spiking = np.zeros(n_pre, bool)
    spiking[rng.choice(n_pre, spikes, replace=False)] = True
    words = spike_words(jnp.asarray(spiking))
    count = jnp.asarray(spikes, jnp.int32)
    kernel = dict(net.event_kernels_)["A"]

    @jax.jit
    def stored(flat):
        return deliver_events([cp], flat, words, count, 3, Dn, Wn, [0], kernel)

    idx = jnp.asarray(np.flatnonzero(spiking).astype(np.int32))
    key = jax.random.key(0)

    @jax.jit
    def procedural(flat):
        def body(i, flat):
            k = jax.random.fold_in(key, idx[i])
            k1, k2, k3 = jax.random.split(k, 3)
            t = jax.random.randint(k1, (K,), 0, n_post, dtype=jnp.int32)
            wv = 87.8 + 8.8 * jax.random.normal(k2, (K,), jnp.float32)
            dv = jnp.clip(
                jnp.rint((1.5 + 0.75 * jax.random.normal(k3, (K,), jnp.float32)) / 0.1), 1, D - 1
            ).astype(jnp.int32)
            pos = ((4 + dv) % D) * W + t
            return flat.at[pos].add(wv, mode="promise_in_bounds")

        return jax.lax.fori_loop(0, spikes, body, flat)

    out = {"n_pre": n_pre, "K": K, "spikes": spikes, "kernel": kernel}
    for name, f, L in (("stored", stored, Dn * Wn), ("procedural", procedural, D * W)):
        flat = jnp.zeros(L, jnp.float32)
        jax.block_until_ready(f(flat))
        ts = []
        for _ in range(7):
            t0 = time.perf_counter()
            jax.block_until_ready(f(flat))
            ts.append(time.perf_counter() - t0)
        out[f"{name}_ns_per_synapse"] = float(np.median(ts)) / (spikes * K) * 1e9
    out["load_avg_1min"] = os.getloadavg()[0]
    return out


def ab(base: str, rounds: int, cases: list[str], out: str) -> dict:
    """Step time of this checkout against `base`, interleaved (A B, B A, ...), each run in a
    fresh process with `PYTHONPATH` set to its tree and one XLA core."""
    import subprocess
    import sys

    trees = {"base": os.path.abspath(base), "new": os.path.dirname(HERE)}
    rows: dict = {c: {"base": [], "new": []} for c in cases}
    loads = []
    for r in range(rounds):
        for case in cases:
            order = ("base", "new") if r % 2 == 0 else ("new", "base")
            for side in order:
                env = dict(os.environ, PYTHONPATH=trees[side])
                cmd = [sys.executable, os.path.abspath(__file__), "--step-child", case]
                loads.append(os.getloadavg()[0])
                p = subprocess.run(cmd, env=env, capture_output=True, text=True)
                line = [ln for ln in p.stdout.splitlines() if ln.startswith("STEP ")]
                if not line:
                    raise RuntimeError(p.stderr[-2000:])
                rows[case][side].append(json.loads(line[-1][5:]))
                print(r, case, side, rows[case][side][-1], flush=True)
    summary = {}
    for case, d in rows.items():
        b = [x["us_per_step"] for x in d["base"]]
        n = [x["us_per_step"] for x in d["new"]]
        summary[case] = {
            "base_median_us": float(np.median(b)),
            "new_median_us": float(np.median(n)),
            "base_min_max_us": [min(b), max(b)],
            "new_min_max_us": [min(n), max(n)],
            "ratio_new_over_base": float(np.median(n) / np.median(b)),
            "rounds": d,
        }
    res = {
        "machine": machine_info(),
        "trees": trees,
        "load_avg_1min": {"min": min(loads), "max": max(loads), "all": loads},
        "cases": summary,
    }
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps({k: {kk: v[kk] for kk in v if kk != "rounds"} for k, v in summary.items()}))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--duration", type=float, default=1000.0, help="biological time, ms")
    ap.add_argument("--background", default="poisson", choices=("poisson", "dc"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-breakdown", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument(
        "--cpu-cores",
        default="auto",
        help="CPU cores for XLA: a number, 'all', or 'auto' (one core without a GPU plugin)",
    )
    ap.add_argument("--ab", default=None, help="A/B step time against this checkout")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--procedural", action="store_true", help="procedural vs stored delivery")
    ap.add_argument("--step-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    from spikejax.cpu import apply_cores_option, available_cpu_cores

    apply_cores_option(args.cpu_cores)
    if args.step_child:
        print("STEP " + json.dumps(step_time(args.step_child)), flush=True)
        return 0
    if args.procedural:
        res = {"machine": machine_info(), "procedural_vs_stored": procedural_vs_stored()}
        path = args.out or os.path.join(RESULTS, "microcircuit_procedural_vs_stored.json")
        with open(path, "w") as f:
            json.dump(res, f, indent=2)
        print(json.dumps(res, indent=2))
        return 0
    if args.ab:
        out = args.out or os.path.join(RESULTS, "microcircuit_layout_ab.json")
        ab(args.ab, args.rounds, ["coba4000", "mc0.1"], out)
        return 0
    res = {"machine": machine_info()}
    res["machine"]["cpu_cores_used"] = len(available_cpu_cores())
    res["microcircuit"] = bench_microcircuit(
        args.scale,
        args.duration,
        background=args.background,
        seed=args.seed,
        breakdown=not args.no_breakdown,
    )
    res["machine"]["load_avg_1min_at_end"] = os.getloadavg()[0]
    dev = res["machine"]["device"].replace(" ", "_")
    path = args.out or os.path.join(RESULTS, f"microcircuit_{args.scale:g}_{dev}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(res, f, indent=2, default=float)
    print(json.dumps(res, indent=2, default=float))
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
