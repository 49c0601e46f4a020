"""The CPU spike delivery's two loop forms side by side: XLA's single-kernel loop against the
compiled C++ kernel (`spikejax/network/_native.py`), on COBA networks of several sizes.

    /work/main/.venv/bin/python benchmarks/bench_native_delivery.py [--sizes 4096,...]
        [--duration 200] [--rounds 3]

Each size runs in its own process on one XLA thread (`limit_cpu_cores(1)`): the COBA network
of `spikejax.network.coba` (80 synapses per neuron, spike monitors on all neurons) is built
once, and the same network with either delivery form (`Network.event_kernels_`, the form
`event_kernel` would pick being recorded as `auto`) runs `network.run` for `--duration` ms:
a first call (compilation included) and then warm calls, the forms alternating within
each round. Timed is the CPU time of the whole call (`time.process_time()`, which a loaded
machine does not inflate as it does wall time); the spikes of the two forms are compared
element by element (they add the same values in the same order). The ratio native/single
per size decides `NATIVE_MIN_NEURONS` in `spikejax/network/_projection.py`.

Writes benchmarks/results/native_delivery.json with the machine load before and after.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def worker(n: int, duration: float, rounds: int) -> dict:
    from spikejax.cpu import limit_cpu_cores

    limit_cpu_cores(1)
    import jax

    import spikejax.network as sn

    out: dict = {"n": n, "duration_ms": duration, "load_before": os.getloadavg()}
    net, mons = sn.coba(n, key=jax.random.key(0))
    out["auto"] = dict(net.event_kernels_)
    nets = {}
    for kernel in ("single", "native"):
        nets[kernel] = copy.copy(net)
        forms = tuple((p, kernel) for p, _ in net.event_kernels_)
        object.__setattr__(nets[kernel], "event_kernels_", forms)
    first, warm, spikes = {}, {k: [] for k in nets}, {}
    for r in range(rounds + 1):
        for kernel in nets if r % 2 == 0 else list(nets)[::-1]:
            c0 = time.process_time()
            res = sn.run(nets[kernel], duration, key=jax.random.key(1), monitors=mons)
            cpu = time.process_time() - c0
            if r == 0:
                first[kernel] = {"cpu_s": cpu, "compile_s": res.compile_s}
                spikes[kernel] = {
                    p: np.stack([np.asarray(r.indices), np.asarray(r.steps)])
                    for p, r in res.spikes.items()
                }
            else:
                warm[kernel].append(cpu)
    out["first_call"] = first
    out["warm_cpu_s"] = {
        k: {"median": float(np.median(v)), "min": min(v), "max": max(v)} for k, v in warm.items()
    }
    out["warm_ratio_native_over_single"] = float(
        np.median(warm["native"]) / np.median(warm["single"])
    )
    out["n_spikes"] = int(sum(v.shape[1] for v in spikes["single"].values()))
    out["spikes_identical"] = all(
        np.array_equal(spikes["single"][p], spikes["native"][p]) for p in spikes["single"]
    )
    out["load_after"] = os.getloadavg()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=str(__doc__).splitlines()[0])
    ap.add_argument("--sizes", default="4096,8192,16384,32768,65536")
    ap.add_argument("--duration", type=float, default=200.0, help="ms of biological time")
    ap.add_argument("--rounds", type=int, default=3, help="warm calls per form")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "native_delivery.json"))
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        print("RESULT" + json.dumps(worker(args.worker, args.duration, args.rounds)), flush=True)
        return 0
    sys.path.insert(0, HERE)
    from bench_coba_step_profile import in_worker, write_sizes

    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        extra = ["--duration", str(args.duration), "--rounds", str(args.rounds)]
        results.append(in_worker(__file__, n, extra))
        print(json.dumps(results[-1]), flush=True)
    write_sizes(
        args.out,
        "COBA network.run on one XLA CPU thread: the XLA delivery loop against the compiled "
        "C++ delivery kernel, CPU time of the whole call",
        results,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
