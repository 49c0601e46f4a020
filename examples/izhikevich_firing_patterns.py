"""Izhikevich's simple model: seven cortical and thalamic firing patterns side by side.

All seven presets run as one heterogeneous population (array parameters), each with its own
current step: a depolarising step from 20 ms (RS, IB, CH, FS, LTS, RZ), and for TC a
hyperpolarising step released at 120 ms, which evokes a rebound burst (Izhikevich 2003, 2004).
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

import spikejax as sj

names = ["RS", "IB", "CH", "FS", "LTS", "TC", "RZ"]
a, b, c, d = np.array([sj.models.IZHIKEVICH_PRESETS[n] for n in names]).T
cells = sj.models.Izhikevich(a=a, b=b, c=c, d=d)  # population of shape (7,)

#                 RS    IB    CH    FS    LTS   TC      RZ
onset = np.array([20.0, 20.0, 20.0, 20.0, 20.0, 0.0, 20.0])
offset = np.array([np.inf] * 5 + [120.0, np.inf])
amplitude = np.array([10.0, 10.0, 10.0, 10.0, 10.0, -10.0, 1.0])
stim = sj.stimulus.Step(onset=onset, offset=offset, amplitude=amplitude)
# start at rest: the lower root of 0.04 v^2 + (5 - b) v + 140 = 0, with u = b v
v_rest = (-(5 - b) - np.sqrt((5 - b) ** 2 - 4 * 0.04 * 140)) / 0.08
y0 = {"V": v_rest, "u": b * v_rest}
res = sj.simulate(cells, duration=250.0, dt=0.05, I=stim, y0=y0, method="rk4", record="V")

fig, axes = plt.subplots(len(names), 1, figsize=(7, 9), sharex=True, layout="constrained")
for i, (ax, name) in enumerate(zip(axes, names)):
    ax.plot(res.times, res.V[:, i], "k", lw=0.8)
    ax.vlines(res.spike_times[i], c[i], 30.0, color="k", lw=0.8)  # spikes peak at v_peak
    ax.plot(res.times, -90 + 2 * np.asarray(stim(res.times[:, None]))[:, i], color="C0", lw=0.8)
    ax.set_ylim(-95, 35)
    ax.set_ylabel("V (mV)")
    ax.text(
        1.01, 0.5, f"{name}\n{int(res.n_spikes[i])} spikes", transform=ax.transAxes, va="center"
    )
axes[0].set_title("Izhikevich firing patterns (blue: input, 2 mV per unit, offset -90 mV)")
axes[-1].set_xlabel("time (ms)")
_common.save(fig, "izhikevich_firing_patterns")
