"""Where a COBA step's time goes on one CPU thread, by XLA kernel, at several network sizes.

    /work/main/.venv/bin/python benchmarks/bench_coba_step_profile.py [--sizes 65536,262144]
        [--steps 200] [--c-floor]

Every size runs in its own process with one XLA thread (`spikejax.cpu.limit_cpu_cores(1)`):
the COBA network of `spikejax.network.coba` (80 synapses per neuron, exponential conductances,
exponential Euler, spike words of all neurons recorded, as `network.run` records them) is
built, its `simulate` chunk compiled with spikejax's CPU options and run once to warm up
(and out of the initial transient), then

- timed untraced (`time.process_time()`, CPU time, which a loaded machine does not inflate
  as it does wall time; `--repeats` runs, median and range);
- traced once with `jax.profiler` (perfetto JSON): the time of every XLA kernel of the
  step (thunk) is summed over the chunk and each kernel is put in one class from the
  compiled HLO: `native_delivery` (the compiled delivery kernel's calls), `loop_kernel`
  (loops XLA compiled into one kernel each,
  `xla_cpu_small_call`: from about 8k neurons the event-delivery loops, below that the
  whole chunk), `words` (packing spikes into uint32 words), `buffer_clear` (the
  ring buffer's new slot), `copy` (copies XLA inserts between loop iterations), `update`
  (the neurons' and synapses' elementwise fusions) and `other` (scalars, bookkeeping). The
  trace's times are wall times of the kernels, so on a shared machine only their shares
  within one trace are comparable, not their absolute values across traces;
- the event delivery of the excitatory population alone (`deliver_events`, random spikes
  at 21 Hz into the same tables and ring buffer), as CPU time per synaptic event, for the
  network's own delivery form and the others (the compiled kernel `"native"` where
  available, XLA's single-kernel loop `"single"`), alternating; with
  `--c-floor`, the same access pattern (random rows of 80 sorted targets, one add each) in a
  small C program compiled with `cc -O2`, the hardware's floor for this delivery.

Writes benchmarks/results/coba_step_profile.json with the machine load before and after
each size (`os.getloadavg()`).
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

C_FLOOR = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
int main(int argc, char **argv) {
  int N = atoi(argv[1]), nE = N * 4 / 5, K = 80, T = 200, S = (int)(nE * 21e-4);
  int W = 2 * (N + 2);
  int *rows = malloc(sizeof(int) * (size_t)nE * K); float *buf = calloc(W, 4);
  int *sp = malloc(sizeof(int) * (size_t)S * T);
  srand(1);
  for (long i = 0; i < nE; i++) {
    for (int j = 0; j < K; j++)
      rows[i * K + j] = j < 64 ? rand() % nE : 2 * (nE + 1) + rand() % (N - nE);
    qsort(rows + i * K, K, 4, cmp);
  }
  for (long i = 0; i < (long)S * T; i++) sp[i] = rand() % nE;
  double best = 1e30;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = cpu();
    for (int t = 0; t < T; t++)
      for (int s = 0; s < S; s++) {
        const int *r = rows + (long)sp[t * S + s] * K;
        for (int j = 0; j < K; j++) buf[r[j]] += 0.6f;
      }
    double c = cpu() - t0; if (c < best) best = c;
  }
  printf("%.6g %.6g\n", best / ((double)T * S * K) * 1e9, buf[W / 3]);
  return 0;
}
"""


def classify(hlo: str, sizes: set[int]) -> dict[str, str]:
    """Each instruction of the scan body (by name) -> its class (see the module docstring)."""
    kinds = {}
    for line in hlo.splitlines():
        m = re.match(r"\s*(?:ROOT )?%([\w.\-]+) = (.*)$", line)
        op = re.search(r" ([a-z][\w\-]*)\(", m.group(2)) if m else None
        if not (m and op):
            continue
        name, shape = m.group(1), m.group(2)[: op.start()]
        op = op.group(1)
        dims = [int(d) for d in re.findall(r"\d+", shape.split("{")[0].split("[", 1)[-1])]
        size = 0 if shape.startswith("(") else int(np.prod(dims)) if dims else 1
        if op == "while":
            continue  # the scan itself: its time is that of the kernels it runs
        if op == "call" and "xla_cpu_small_call" in line:
            kind = "loop_kernel"
        elif op == "custom-call" and "spikejax_deliver" in line:
            kind = "native_delivery"
        elif op == "copy":
            kind = "copy"
        elif shape.startswith("u32[") and size > 1:
            kind = "words"
        elif op == "fusion" and "broadcast" in name and size > max(sizes):
            kind = "buffer_clear"
        elif size in sizes:
            kind = "update"
        else:
            kind = "other"
        kinds[name] = kind
    return kinds


def worker(n: int, steps: int, repeats: int) -> dict:
    from spikejax.cpu import compiler_options, limit_cpu_cores

    limit_cpu_cores(1)
    import jax
    import jax.numpy as jnp

    from spikejax.network import coba
    from spikejax.network._native import native_delivery
    from spikejax.network._projection import deliver_events, spike_words

    out: dict = {"n": n, "steps": steps, "load_before": os.getloadavg(), "jax": jax.__version__}
    t0 = time.perf_counter()
    net, mons = coba(n, key=jax.random.key(0))
    out["build_s"] = time.perf_counter() - t0
    state = net.init_state(key=jax.random.key(1))

    def chunk(st):
        return net.simulate(st, steps, mons)

    compiled = jax.jit(chunk, compiler_options=compiler_options()).lower(state).compile()
    state, _ = compiled(state)  # warm-up, out of the initial transient
    state, _ = compiled(state)
    jax.block_until_ready(state)
    cpu, spikes = [], []
    for _ in range(repeats):
        c0 = time.process_time()
        state, outs = compiled(state)
        jax.block_until_ready(outs)
        cpu.append(time.process_time() - c0)
        spikes.append(sum(int(np.bitwise_count(np.asarray(v)).sum()) for v in outs.values()))
    per = np.asarray(cpu) / steps
    out["cpu_us_per_step"] = {
        "median": float(np.median(per) * 1e6),
        "min": float(per.min() * 1e6),
        "max": float(per.max() * 1e6),
    }
    out["cpu_ns_per_neuron_step"] = float(np.median(per) / n * 1e9)
    out["spikes_per_step"] = float(np.mean(spikes) / steps)
    n_syn = sum(cp.n_synapses for cp in net.projections)
    out["events_per_step"] = out["spikes_per_step"] * n_syn / n

    # one traced chunk: kernel times by class
    tmp = tempfile.mkdtemp(prefix="coba_profile_")
    try:
        jax.profiler.start_trace(tmp, create_perfetto_trace=True)
        state, outs = compiled(state)
        jax.block_until_ready(outs)
        jax.profiler.stop_trace()
        trace = glob.glob(os.path.join(tmp, "**", "*.trace.json.gz"), recursive=True)[0]
        with gzip.open(trace) as f:
            events = json.load(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    events = events["traceEvents"] if isinstance(events, dict) else events
    pops = {p.n for p in net.populations.values()}
    kinds = classify(compiled.as_text() or "", pops)
    per_kernel: collections.Counter = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and e.get("name") in kinds:
            per_kernel[e["name"]] += e["dur"]
    total = sum(per_kernel.values())
    by_class: collections.Counter = collections.Counter()
    for name, us in per_kernel.items():
        by_class[kinds[name]] += us
    out["trace_share"] = {k: v / total for k, v in sorted(by_class.items(), key=lambda x: -x[1])}
    out["trace_kernels"] = [
        {"kernel": name, "class": kinds[name], "share": us / total}
        for name, us in per_kernel.most_common(16)
    ]

    # the excitatory population's delivery alone, CPU time per synaptic event
    rng = np.random.default_rng(0)
    n_e = net.populations["E"].n
    T = 100
    sp = rng.random((T, n_e)) < 21.0 * 1e-4
    words = jax.vmap(spike_words)(jnp.asarray(sp))
    counts = jnp.asarray(sp.sum(1), jnp.int32)
    D, W = state["buffer"].shape
    cols = net.receptor_columns
    group = [cp for cp in net.projections if cp.pre == "E"]
    group_cols = [cols[cp.receptor_key][0] for cp in group]
    kernel = dict(net.event_kernels_)["E"]
    n_events = float(counts.sum()) * sum(cp.n_synapses for cp in group) / n_e
    out["delivery_kernel"] = kernel
    out["delivery_ns_per_event_by_kernel"] = {}
    # the network's own form first, then the others (alternating, `repeats` each)
    forms = [kernel] + [x for x in ("native", "single") if x != kernel]
    if native_delivery() is None:
        forms.remove("native")
    compiled_forms, times = {}, {f: [] for f in forms}
    flat = jnp.zeros(D * W, net.dtype)
    for form in forms:

        def deliver(projs, flat, form=form):
            def body(flat, x):
                w, c, k = x
                return deliver_events(projs, flat, w, c, k, D, W, group_cols, form), None

            return jax.lax.scan(body, flat, (words, counts, jnp.arange(T)))[0]

        fd = jax.jit(deliver, compiler_options=compiler_options()).lower(group, flat).compile()
        fd(group, flat).block_until_ready()
        compiled_forms[form] = fd
    for _ in range(repeats):
        for form, fd in compiled_forms.items():
            c0 = time.process_time()
            fd(group, flat).block_until_ready()
            times[form].append(time.process_time() - c0)
    for form in forms:
        ns = float(np.median(times[form]) / n_events * 1e9)
        out["delivery_ns_per_event_by_kernel"][form] = ns
    out["delivery_ns_per_event"] = out["delivery_ns_per_event_by_kernel"][kernel]
    out["load_after"] = os.getloadavg()
    return out


def c_floor(n: int) -> float | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "floor.c")
        with open(src, "w") as f:
            f.write(C_FLOOR)
        exe = os.path.join(tmp, "floor")
        subprocess.run([cc, "-O2", "-o", exe, src], check=True)
        res = subprocess.run([exe, str(n)], capture_output=True, text=True, check=True)
        return float(res.stdout.split()[0])


def in_worker(script: str, n: int, extra: list[str]) -> dict:
    """Run `script --worker n *extra` in a fresh process (this checkout on its path) and
    return the JSON it printed after `RESULT`."""
    cmd = [sys.executable, os.path.abspath(script), "--worker", str(n), *extra]
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"size {n} failed:\n{proc.stderr[-3000:]}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT") :])


def write_sizes(path: str, benchmark: str, results: list) -> None:
    """Write the per-size `results` of `benchmark` to the JSON file `path`, with the time
    and the machine."""
    out = {
        "benchmark": benchmark,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"platform": platform.platform(), "cores": os.cpu_count()},
        "sizes": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=str(__doc__).splitlines()[0])
    ap.add_argument("--sizes", default="65536,262144")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--c-floor", action="store_true", help="also time the C delivery floor")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "coba_step_profile.json"))
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        print("RESULT" + json.dumps(worker(args.worker, args.steps, args.repeats)), flush=True)
        return 0
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        extra = ["--steps", str(args.steps), "--repeats", str(args.repeats)]
        res = in_worker(__file__, n, extra)
        if args.c_floor:
            res["c_floor_ns_per_event"] = c_floor(n)
        results.append(res)
        print(json.dumps({k: v for k, v in res.items() if k != "trace_kernels"}), flush=True)
    write_sizes(
        args.out,
        "COBA step on one XLA CPU thread: CPU time per step, kernel shares of one traced "
        "chunk, and the event delivery per synaptic event",
        results,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
