"""Hodgkin-Huxley: an action potential, its gating variables and the three ionic currents.

A 1 ms pulse of 20 uA/cm^2 at t = 5 ms triggers one spike. The sodium current (inward,
negative) drives the upstroke; the slower potassium current (outward) and the inactivation
of sodium (h falls) bring the membrane back down.
"""

import _common
import matplotlib.pyplot as plt

import spikejax as sj

hh = sj.models.HodgkinHuxley()
pulse = sj.stimulus.Step(onset=5.0, offset=6.0, amplitude=20.0)  # uA/cm^2
res = sj.simulate(hh, duration=30.0, dt=0.01, I=pulse, method="rk4")
t = res.times
currents = hh.currents(res.states)

fig, axes = plt.subplots(3, 1, figsize=(7, 7), sharex=True, layout="constrained")
axes[0].plot(t, res.V, "k")
axes[0].set(
    ylabel="V (mV)", title=f"Hodgkin-Huxley action potential (spike at {res.spike_times[0]:.2f} ms)"
)
for name, color in zip("mhn", ("C3", "C2", "C0")):
    axes[1].plot(t, res.states[name], color=color, label=name)
axes[1].set(ylabel="gating variable", ylim=(0, 1))
axes[1].legend(loc="right")
for (name, current), color in zip(currents.items(), ("C3", "C0", "0.5")):
    label = {"INa": "$I_{Na}$", "IK": "$I_K$", "IL": "$I_L$"}[name]
    axes[2].plot(t, current, color=color, label=label)
axes[2].plot(t, pulse(t), "k:", label="$I_{ext}$")
axes[2].set(xlabel="time (ms)", ylabel="current (uA/cm$^2$)")
axes[2].legend(loc="right", title="outward > 0")
_common.save(fig, "hh_action_potential")
