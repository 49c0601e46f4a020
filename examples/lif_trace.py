"""Leaky integrate-and-fire: the membrane trace with threshold, reset and refractory period.

A step of R I = 18 mV from 20 ms drives V towards E_L + R I = -47 mV, above the threshold
(-50 mV): V reaches threshold, is reset to -65 mV and held there for t_ref = 5 ms (shaded).
The measured rate matches the closed form `LIF.rate(I)`.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

import spikejax as sj

lif = sj.models.LIF(tau_m=20.0, E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=5.0)
I = 18.0  # mV (R = 1)
stim = sj.stimulus.Step(onset=20.0, offset=220.0, amplitude=I)
res = sj.simulate(lif, duration=250.0, dt=0.01, I=stim, method="exponential_euler")
spikes = res.spike_times[: res.n_spikes]

fig, (ax, ax_i) = plt.subplots(
    2, 1, figsize=(8, 4.5), sharex=True, layout="constrained", gridspec_kw={"height_ratios": [3, 1]}
)
ax.plot(res.times, res.V, "k", lw=1)
ax.vlines(spikes, lif.V_th, 0.0, color="k", lw=1)  # spikes drawn as lines to 0 mV
for t in spikes:
    ax.axvspan(t, t + lif.t_ref, color="C1", alpha=0.3, lw=0)
ax.axhline(lif.V_th, color="C3", ls="--", label="threshold $V_{th}$")
ax.axhline(lif.V_reset, color="C0", ls=":", label="reset $V_{reset}$")
ax.axhline(lif.E_L + I, color="0.5", ls="-.", label="$E_L + RI$")
ax.plot([], [], "s", color="C1", alpha=0.3, label="refractory")
isi = np.diff(spikes)
ax.set(
    ylabel="V (mV)",
    ylim=(-70, 15),
    title=f"LIF: rate {1000 / isi.mean():.2f} Hz, closed form {float(lif.rate(I)):.2f} Hz",
)
ax.legend(loc="upper center", ncol=4, fontsize=8)
ax_i.plot(res.times, stim(res.times), "C0")
ax_i.set(xlabel="time (ms)", ylabel="R I (mV)")
_common.save(fig, "lif_trace")
