"""Benchmark of spikejax.fit: time per gradient step of the HH fit and the memory of a
long-trace gradient with and without checkpointing (XLA's compiled memory analysis).

Run: python benchmarks/bench_fit.py [--quick] [--out benchmarks/results/fit_<device>.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

from spikejax import fit as F  # noqa: E402
from spikejax.models import HodgkinHuxley  # noqa: E402
from spikejax.stimulus import Sampled, Step  # noqa: E402


def _block(x):
    return jax.tree_util.tree_map(lambda a: a.block_until_ready(), x)


def hh_grad_step(n_steps: int, method: str, repeats: int) -> dict:
    """Seconds per value-and-gradient of the 4-parameter HH trace MSE (fixed-step RK4)."""
    hh = HodgkinHuxley()
    y0 = hh.resting_state()
    dt = 0.025
    t = jnp.arange(n_steps) * dt
    I = jnp.where(t >= 5.0, 10.0, 0.0)
    I = Sampled(I, dt=dt)  # the current of each step
    target = F.solve_fixed(hh, y0, I, dt=dt, n_steps=n_steps).ys["V"]

    def loss(g):
        m = hh.replace(gNa=g[0], gK=g[1], gL=g[2], EL=g[3])
        if method == "adaptive":
            sol = F.solve_adaptive(m, y0, Step(5.0, amplitude=10.0), t0=0.0,
                                   t1=n_steps * dt, ts=t + dt, jump_ts=jnp.array([5.0]),
                                   rtol=1e-6, atol=1e-8, max_steps=8192)  # fmt: skip
            V = sol.ys["V"]
        else:
            V = F.solve_fixed(m, y0, I, dt=dt, n_steps=n_steps, checkpoint_every=50).ys["V"]
        return F.trace_mse(V, target)

    g = jnp.array([130.0, 30.0, 0.35, -54.0])
    fn = jax.jit(jax.value_and_grad(loss))
    t0 = time.perf_counter()
    _block(fn(g))
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _block(fn(g))
        times.append(time.perf_counter() - t0)
    return {
        "method": method,
        "n_steps": n_steps,
        "trace_ms": n_steps * dt,
        "first_call_s": compile_s,
        "s_per_grad_step_min": min(times),
        "s_per_grad_step_median": sorted(times)[len(times) // 2],
    }


def grad_memory(n_steps: int, checkpoint_every: int | None) -> dict:
    """Compiled temp memory (bytes) of the gradient of an accumulated trace loss."""
    hh = HodgkinHuxley()
    y0 = hh.resting_state()
    target = jnp.zeros(n_steps)

    def loss(g):
        sol = F.solve_fixed(hh.replace(gNa=g), y0, 10.0, dt=0.025, n_steps=n_steps,
                            checkpoint_every=checkpoint_every, data=target, accumulate=True,
                            observe=lambda t, y, s, d: (y["V"] - d) ** 2)  # fmt: skip
        return sol.ys / n_steps

    compiled = jax.jit(jax.grad(loss)).lower(120.0).compile()
    mem = compiled.memory_analysis()
    return {
        "n_steps": n_steps,
        "checkpoint_every": checkpoint_every,
        "temp_bytes": int(mem.temp_size_in_bytes),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats, shorter traces")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    device = jax.devices()[0]
    repeats = 3 if args.quick else 10
    results = {
        "device": f"{device.platform}:{device.device_kind}",
        "host": platform.processor() or platform.machine(),
        "jax": jax.__version__,
        "dtype": "float64",
        "hh_grad_step": [
            hh_grad_step(2000, "rk4", repeats),
            hh_grad_step(2000, "adaptive", repeats),
        ],
        "grad_memory": [
            grad_memory(n, k)
            for n in ((2000, 20000) if not args.quick else (1000, 10000))
            for k in (None, 100)
        ],
    }
    out = args.out or f"benchmarks/results/fit_{device.platform}.json"
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
