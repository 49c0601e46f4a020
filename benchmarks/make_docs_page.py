"""Write docs/scaling-and-gpus.md from benchmarks/results/*.json (run after any benchmark)."""

# ruff: noqa: E501
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RES = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "scaling-and-gpus.md"
#: sections of the page written by hand, copied from the current page when it is regenerated
HAND_WRITTEN = ("## Memory at scale", "## CPU cores and threads")
files = sorted(RES.glob("*.json"))
data = {f.name: json.loads(f.read_text()) for f in files}


def hand_written_sections(text: str) -> list[str]:
    """The lines of the `HAND_WRITTEN` sections of `text` (each up to the next `## ` heading)."""
    out, keep = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            keep = line.strip() in HAND_WRITTEN
        if keep:
            out.append(line)
    return out


def fmt(x):
    if isinstance(x, float):
        return f"{x:.4g}"
    if x is None:
        return "-"
    return str(x)


def flat(d, prefix=""):
    out = []
    if isinstance(d, dict):
        for k, v in d.items():
            out += flat(v, f"{prefix}{k}.")
    elif isinstance(d, list):
        if len(d) <= 10 and all(not isinstance(x, (dict, list)) for x in d):
            out.append((prefix[:-1], ", ".join(fmt(x) for x in d)))
        else:
            for i, x in enumerate(d):
                out += flat(x, f"{prefix}{i}.")
    else:
        out.append((prefix[:-1], fmt(d)))
    return out


GPU_RE = re.compile(r'"(gpu|cuda)[^"]*"|H100|H200|NVIDIA', re.I)


def device_of(name, d):
    text = json.dumps(d)
    if GPU_RE.search(text):
        m = re.search(r'(NVIDIA[^"]*|H100[^"]*|H200[^"]*)', text)
        return "GPU" + (f" ({m.group(1)})" if m else "")
    cpu = re.search(r'"cpu_count": (\d+)', text)
    used = re.search(r'"cpu_cores_used": (\d+)', text)
    if cpu and used and used.group(1) != cpu.group(1):
        return f"CPU ({used.group(1)} of {cpu.group(1)} cores)"
    return f"CPU ({cpu.group(1)} cores)" if cpu else "CPU"


any_gpu = any(device_of(n, d).startswith("GPU") for n, d in data.items())
lines = []
w = lines.append
w("# Scaling and GPUs")
w("")
w("spikejax compiles each simulation (a fixed-step loop, a network chunk, a continuation step)")
w("with XLA, so the same code runs on CPU and GPU. This page collects the benchmark results in")
w("`benchmarks/results/` (written by the scripts in `benchmarks/`) with the device each number")
w("came from.")
w("")
if not any_gpu:
    w('!!! note "No GPU numbers yet"')
    w("    No GPU was available in the session that produced these results: every number below")
    w("    was measured on a 2-core CPU shared with other jobs (the load average is recorded in")
    w("    each file). The timings include that contention; treat them as upper bounds, and rerun")
    w("    `python benchmarks/run_all.py` on a GPU machine for GPU numbers.")
    w("")
w("## How the work scales")
w("")
w("- **Populations of independent cells** (`simulate` with array parameters): one fused step")
w("  for all cells, so the cost per step grows with the number of cells only once the device")
w("  is busy; on a GPU thousands of cells cost about as much as one.")
w("- **Networks**: the neuron update is elementwise; spike delivery adds the spiking neurons'")
w('  synapses (`propagation="event"`; on a GPU, small or dense projections use a dense matrix')
w("  product). On a CPU a run of a few thousand neurons compiles into one XLA kernel")
w("  (`spikejax.cpu`, `loop_kernels` in the results), so its cost is its arithmetic: 16-18 ns")
w("  per synaptic event up to 16k neurons, 38-47 ns from 64k to 256k as the buffers outgrow")
w("  the caches. Spikes are streamed to the host in chunks, so device memory does")
w("  not grow with the simulated time.")
w("- **Many runs at once** (`jax.vmap`): parameter sweeps, many networks, many fits")
w("  (`fit.fit_many`) and many model variants (`analysis.classify_variants`) batch into one")
w("  compiled call; see also [Several devices](multi-device.md).")
w("- **Compilation** is paid once per shape: changing parameter values does not recompile.")
w("")
# hand-written sections of the page (measurements explained in prose) are kept as they are
for line in hand_written_sections(DOC.read_text() if DOC.exists() else ""):
    w(line)
w("## Headline results")
w("")
w("Real-time factor = wall-clock run time / simulated (biological) time: below 1 is faster than")
w("real time. Compile times are reported separately from run times; they are paid once per")
w("network shape. Each row names its source file; the machine details (load average, versions)")
w("are in [All results](#all-results).")
w("")
w("| benchmark | device | result |")
w("|---|---|---|")


def get(d, *path):
    for p in path:
        if isinstance(d, dict) and p in d:
            d = d[p]
        else:
            return None
    return d


rows = []
for name, d in data.items():
    dev = device_of(name, d)
    if name.startswith("coba_benchmark"):
        s = get(d, "spikejax_coba4000")
        b = get(d, "brian2_coba4000", "cpp_standalone")
        if s:
            rows.append(
                (
                    f"COBA, 4000 neurons, 1 s (`{name}`)",
                    dev,
                    f"spikejax: compile {fmt(s.get('compile_s'))} s, run {fmt(s.get('run_s'))} s, "
                    f"{fmt(s.get('rate_hz'))} Hz"
                    + (
                        f"; Brian2 cpp_standalone run {fmt(b.get('run_time'))} s, total {fmt(b.get('t_total'))} s"
                        if b
                        else ""
                    )
                    + "".join(
                        f"; {k.replace('_', ' ')} **{fmt(v)}**"
                        for k, v in (get(d, "ratios") or {}).items()
                    ),
                )
            )
        se = get(d, "spikejax_coba4000_euler")
        if se:
            rows.append(
                (
                    f"COBA, 4000 neurons, 1 s, forward Euler as Brian2's script (`{name}`)",
                    dev,
                    f"spikejax: compile {fmt(se.get('compile_s'))} s, run {fmt(se.get('run_s'))} s, "
                    f"{fmt(se.get('rate_hz'))} Hz",
                )
            )
        v = get(d, "vmap")
        if v:
            rows.append(
                (
                    f"COBA, {v.get('batch')} networks vmapped vs sequential (`{name}`)",
                    dev,
                    f"batched {fmt(v.get('batched_s'))} s, sequential {fmt(v.get('sequential_s'))} s: "
                    f"throughput ratio **{fmt(v.get('throughput_ratio'))}**"
                    + (
                        f"; split over {v['sharded_over_devices']['devices']} CPU devices "
                        f"(`batch_simulator`) {fmt(v['sharded_over_devices']['batched_s'])} s: "
                        f"ratio **{fmt(v['sharded_over_devices']['throughput_ratio'])}**"
                        if v.get("sharded_over_devices")
                        else ""
                    ),
                )
            )
        for sc in get(d, "scaling") or []:
            rows.append(
                (
                    f"COBA scaling, N = {sc.get('n')} (`{name}`)",
                    dev,
                    f"{fmt(sc.get('s_per_bio_second'))} s per biological second, "
                    f"{fmt(sc.get('bytes_per_synapse'))} bytes/synapse",
                )
            )
    elif name.startswith("hh_population"):
        s = get(d, "spikejax")
        if s:
            n = get(d, "config", "n")
            extra = ""
            for tgt in ("brian2_runtime", "brian2_cpp_standalone"):
                bt = get(d, tgt)
                if bt:
                    extra += f"; Brian2 {tgt.split('_', 1)[1]} run {fmt(bt.get('run_s'))} s"
            rows.append(
                (
                    f"HH population, {n} cells, 1 s (`{name}`)",
                    dev,
                    f"spikejax: compile {fmt(s.get('compile_s'))} s, run {fmt(s.get('run_s'))} s "
                    f"({fmt(s.get('us_per_step'))} us/step, {s.get('dtype', '')}, {s.get('method', '')})"
                    + extra,
                )
            )
    elif name.startswith("microcircuit"):
        m = get(d, "microcircuit")
        if m:
            rows.append(
                (
                    f"Potjans-Diesmann microcircuit, scale {m.get('scale')} (`{name}`)",
                    dev,
                    f"{m.get('n_neurons')} neurons, {m.get('n_synapses')} synapses: real-time factor "
                    f"{fmt(m.get('real_time_factor'))}, compile {fmt(m.get('compile_s'))} s",
                )
            )
    elif name.startswith("continuation"):
        h = get(d, "hh_continuation_0_to_20")
        if h:
            rows.append(
                (
                    f"HH continuation with Hopf location (`{name}`)",
                    dev,
                    f"first call {fmt(h.get('first_call_s'))} s, warm {fmt(h.get('warm_s'))} s; Hopf at I = {fmt(h.get('hopf_I'))}",
                )
            )
        c = get(d, "classify_1000_variants")
        if c:
            rows.append(
                (
                    f"Classify 1000 HH variants (`{name}`)",
                    dev,
                    f"first call {fmt(c.get('first_call_s'))} s, warm {fmt(c.get('warm_s'))} s",
                )
            )
    elif name.startswith("fit"):
        for g in get(d, "hh_grad_step") or []:
            rows.append(
                (
                    f"HH fit gradient step, {g.get('n_steps')} steps, {g.get('method')} (`{name}`)",
                    dev,
                    f"{fmt(g.get('s_per_grad_step_median'))} s per gradient step (first call {fmt(g.get('first_call_s'))} s)",
                )
            )
        mem = get(d, "grad_memory") or []
        if mem:
            rows.append(
                (
                    f"Gradient memory with/without checkpointing (`{name}`)",
                    dev,
                    "; ".join(
                        f"{m.get('n_steps')} steps, checkpoint {m.get('checkpoint_every')}: {fmt(m.get('temp_bytes'))} B"
                        for m in mem
                    ),
                )
            )
    elif name.startswith("suite"):
        p = get(d, "parts") or {}
        c = p.get("coba")
        if c:
            rows.append(
                (
                    f"Suite: COBA 4000, {fmt(c.get('duration_ms'))} ms (`{name}`)",
                    dev,
                    f"real-time factor {fmt(c.get('real_time_factor'))}, compile {fmt(c.get('compile_s'))} s",
                )
            )
        z = p.get("izhikevich")
        if z:
            rows.append(
                (
                    f"Suite: Izhikevich 2003, {z.get('n_neurons')} neurons (`{name}`)",
                    dev,
                    f"real-time factor {fmt(z.get('real_time_factor'))}, compile {fmt(z.get('compile_s'))} s",
                )
            )
        h = p.get("hh")
        if h:
            rows.append(
                (
                    f"Suite: HH population, {h.get('n')} cells (`{name}`)",
                    dev,
                    f"{fmt(h.get('us_per_step'))} us/step, real-time factor {fmt(h.get('real_time_factor'))}",
                )
            )
        for m in (p.get("microcircuit") or {}).get("rows", []):
            rows.append(
                (
                    f"Suite: microcircuit, scale {m.get('scale')} (`{name}`)",
                    dev,
                    f"{m.get('n_neurons')} neurons, {m.get('n_synapses')} synapses: real-time factor {fmt(m.get('real_time_factor'))}",
                )
            )
        for b in (p.get("batch") or {}).get("simulate_batch", []):
            rows.append(
                (
                    f"Suite: batch of {b.get('batch')} networks (`{name}`)",
                    dev,
                    f"{fmt(b.get('run_s_per_network'))} s per network",
                )
            )
for r in rows:
    w(f"| {r[0]} | {r[1]} | {r[2]} |")
if not rows:
    w("| (no results yet) | | |")
w("")
w("## All results")
w("")
w("Every file in `benchmarks/results/`, flattened (times in seconds unless named otherwise).")
w("The entries of single rounds and runs (the lists `rounds`, `runs`, `raw`, `samples` and")
w("`trace_kernels`) are left out here when a file also summarises them; they are in the file.")
w("")
#: a single round's or run's entry: kept in the page only when the file has no summary
PER_ROUND = re.compile(r"(^|\.)(rounds|runs|raw|samples|trace_kernels)\.\d+(\.|$)")


def page_rows(d) -> list:
    rows = flat(d)
    summarised = any(re.search(r"(^|\.)(summary|median)(\.|$)", k) for k, _ in rows)
    return [(k, v) for k, v in rows if not (summarised and PER_ROUND.search(k))]


for name, d in data.items():
    w(f'??? info "`{name}` ({device_of(name, d)})"')
    w("")
    w("    | key | value |")
    w("    |---|---|")
    for k, v in page_rows(d):
        v = v.replace("|", "\\|")
        w(f"    | `{k}` | {v} |")
    w("")
w("## Reproducing")
w("")
w("```bash")
w("python benchmarks/run_all.py --quick      # a few minutes")
w("python benchmarks/run_all.py              # the full suite")
w("```")
w("")
w('Brian2 comparisons need a separate environment with Brian2 (`pip install ".[bench]"`, which')
w("pins `numpy<2.4`).")
DOC.write_text("\n".join(lines) + "\n")
print(len(rows), "rows; any_gpu =", any_gpu)
