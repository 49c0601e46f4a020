"""F-I curves of Hodgkin's three excitability classes (Hodgkin 1948; Izhikevich 2007, ch. 7).

Class 1 (I_Na,p + I_K, high-threshold K+: saddle-node on invariant circle): firing starts at
arbitrarily low rates. Class 2 (Hodgkin-Huxley: Andronov-Hopf): firing starts at a non-zero
rate. Class 3 (Hodgkin-Huxley with gK doubled to 72 mS/cm^2): the rest state never loses
stability in this range, so a current step evokes a single spike and no repetitive firing.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

import spikejax as sj
from spikejax import analysis

n = 41 if _common.full() else 21
cells = [  # (title, model, currents (uA/cm^2), current for the example trace)
    (
        "class 1: INaPIK high-threshold",
        sj.models.INaPIK.high_threshold(),
        np.r_[np.linspace(0.0, 20.0, n), np.linspace(4.5, 5.0, 6)],
        6.0,
    ),  # dense near onset
    ("class 2: Hodgkin-Huxley", sj.models.HodgkinHuxley(), np.linspace(0.0, 20.0, n), 12.0),
    ("class 3: HH, gK = 72", sj.models.HodgkinHuxley(gK=72.0), np.linspace(0.0, 40.0, n), 30.0),
]
fig, axes = plt.subplots(
    2, 3, figsize=(12, 6), layout="constrained", gridspec_kw={"height_ratios": [3, 2]}
)
for col, (title, model, currents, I_trace) in enumerate(cells):
    currents = np.sort(currents)
    fi = analysis.fi_curve(model, currents, duration=500.0, dt=0.02)
    ax = axes[0, col]
    ax.plot(fi.currents, fi.rate_up, "ko-", ms=3)
    ax.set(title=title, xlabel="I (uA/cm$^2$)", ylabel=f"rate ({fi.unit})", ylim=(-5, 210))
    step = sj.stimulus.Step(onset=10.0, amplitude=I_trace)
    res = sj.simulate(model, duration=150.0, dt=0.02, I=step, record="V")
    axes[1, col].plot(res.times, res.V, "k", lw=0.8)
    axes[1, col].set(
        xlabel="time (ms)",
        ylabel="V (mV)",
        title=f"step to I = {I_trace:g}: {int(res.n_spikes)} spike(s)",
    )
_common.save(fig, "fi_curves")
