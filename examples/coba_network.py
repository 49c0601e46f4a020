"""A conductance-based (COBA) network: raster and population rate.

Benchmark 1 of Brette et al. (2007), the Vogels & Abbott (2005) network: 80 % excitatory LIF
neurons with exponential conductances, connection probability 80/N, constant drive. The
default runs N = 1000 for 300 ms; `--full` runs the benchmark size N = 4000 for 1 s.
"""

import _common
import jax
import matplotlib.pyplot as plt
import numpy as np

from spikejax import network

n, duration = (4000, 1000.0) if _common.full() else (1000, 300.0)
net, monitors = network.coba(n, key=jax.random.key(0))
res = network.run(net, duration, key=jax.random.key(1), monitors=monitors)

fig, (ax, ax_r) = plt.subplots(
    2, 1, figsize=(8, 5), sharex=True, layout="constrained", gridspec_kw={"height_ratios": [3, 1]}
)
shown = {"E": 320, "I": 80}  # neurons drawn in the raster: E in rows 0-319, I above
for pop, offset, color in (("E", 0, "k"), ("I", shown["E"], "C3")):
    idx, t = res.spikes[pop]
    sel = idx < shown[pop]
    ax.plot(
        t[sel],
        idx[sel] + offset,
        ".",
        ms=1.5,
        color=color,
        label=f"{pop}: {res.mean_rate(pop):.1f} Hz",
    )
ax.set(
    ylabel="neuron",
    title=f"COBA network, N = {n}, {duration:g} ms "
    f"(compile {res.compile_s:.1f} s, run {res.run_s:.1f} s)",
)
ax.legend(loc="upper right", markerscale=6)

bin_ms = 2.0
edges = np.arange(0.0, duration + bin_ms, bin_ms)
t_all = np.concatenate([res.spikes[p][1] for p in ("E", "I")])
counts, _ = np.histogram(t_all, bins=edges)
ax_r.plot(edges[:-1], counts / n / (bin_ms * 1e-3), "k", lw=0.8)
ax_r.set(xlabel="time (ms)", ylabel="rate (Hz)")
_common.save(fig, "coba_network")
