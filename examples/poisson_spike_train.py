"""A Poisson spike train: raster, inter-spike intervals and count statistics.

For a homogeneous Poisson process of rate r the ISIs are exponential with mean 1/r, the CV of
the ISIs is 1 and the Fano factor of the counts is 1. `--full` uses more trains and time.
"""

import _common
import jax
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

import spikejax as sj

rate, n_trains = 20.0, 50  # Hz, cells
duration = 10_000.0 if _common.full() else 2_000.0  # ms
times, counts = sj.spikes.poisson_spike_times(
    rate, duration, key=jax.random.key(0), shape=(n_trains * (4 if _common.full() else 1),)
)

isis = np.concatenate([sj.spikes.isi(train) for train in times])
cv = np.nanmean([sj.spikes.cv_isi(train) for train in times])
fano = np.nanmean(sj.spikes.fano_factor(times, window=100.0, t_start=0.0, t_stop=duration))
measured = sj.spikes.firing_rate(times, 0.0, duration).mean()

fig, axes = plt.subplots(
    1, 3, figsize=(11, 3.4), layout="constrained", gridspec_kw={"width_ratios": [2, 1, 1]}
)
ax = axes[0]
shown = times[:n_trains]
for i, train in enumerate(shown):
    ax.plot(train, np.full_like(train, i), "|", color="k", ms=3)
ax.set(
    xlim=(0, min(duration, 2000.0)),
    xlabel="time (ms)",
    ylabel="train",
    title=f"{len(shown)} Poisson trains at {rate:g} Hz",
)

ax = axes[1]
bins = np.linspace(0, 250, 26)
ax.hist(isis, bins=bins, density=True, color="0.7", label="measured")
s = np.linspace(0, 250, 200)
ax.plot(s, rate / 1000 * np.exp(-rate / 1000 * s), "r-", label=r"$r e^{-r t}$")
ax.set(xlabel="ISI (ms)", ylabel="density (1/ms)", title=f"ISIs: CV = {cv:.2f}")
ax.legend()

ax = axes[2]
window_counts = np.concatenate(
    [sj.spikes.spike_counts(times, a, a + 100.0) for a in np.arange(0.0, duration, 100.0)]
)
n = np.arange(0, 10)
ax.hist(window_counts, bins=np.arange(-0.5, 10.5), density=True, color="0.7", label="measured")
ax.plot(n, stats.poisson.pmf(n, rate * 0.1), "ro", label="Poisson pmf")
ax.set(
    xlabel="spikes in 100 ms",
    ylabel="probability",
    title=f"counts: Fano = {fano:.2f}, {measured:.1f} Hz",
)
ax.legend()
_common.save(fig, "poisson_spike_train")
