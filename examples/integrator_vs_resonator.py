"""Integrators and resonators (Izhikevich 2007, ch. 7), with the I_Na,p + I_K model.

Top, an integrator (high-threshold K+, a saddle-node rest state): two brief pulses summate
when they are close and fail when they are far apart. Bottom, a resonator (low-threshold K+
near its Andronov-Hopf point, a focus rest state with damped oscillations of period
T = 2 pi / Im(lambda)): three small pulses fire the cell only at the resonant interval T.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

import spikejax as sj
from spikejax import analysis


def response(model, bias, onsets, amplitude):
    rest = analysis.fixed_points(model, bias)[0]
    stim = sj.stimulus.PulseTrain(np.asarray(onsets), width=0.5, amplitude=amplitude) + bias
    res = sj.simulate(model, duration=30.0, dt=0.01, I=stim, y0=rest.state, record="V")
    return res.times, res.V, int(res.n_spikes)


integrator = sj.models.INaPIK.high_threshold()
resonator = sj.models.INaPIK.low_threshold()
bias_r = 12.0  # uA/cm^2, just below the Hopf point (about 14.7)
focus = analysis.fixed_points(resonator, bias_r)[0]
period = 2 * np.pi / abs(focus.eigenvalues[0].imag)  # ms

cases = [  # (row, model, bias, pulse interval, number of pulses, amplitude)
    (0, integrator, 0.0, 1.5, 2, 18.0),
    (0, integrator, 0.0, 8.0, 2, 18.0),
    (1, resonator, bias_r, period / 2, 3, 16.0),
    (1, resonator, bias_r, period, 3, 16.0),
    (1, resonator, bias_r, 2 * period, 3, 16.0),
]
fig, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=True, layout="constrained")
for row, model, bias, interval, count, amp in cases:
    onsets = 5.0 + interval * np.arange(count)
    t, V, n = response(model, bias, onsets, amp)
    (line,) = axes[row].plot(
        t, V, lw=1.2, label=f"interval {interval:.2f} ms: {n} spike{'s' * (n != 1)}"
    )
    axes[row].plot(
        onsets,
        np.full(count, -80.0 + 4 * row + len(axes[row].lines) * 1.5),
        "^",
        color=line.get_color(),
        ms=6,
    )
axes[0].set(ylabel="V (mV)", title="integrator (INaPIK high-threshold, I = 0): pulses of 18")
axes[1].set(
    ylabel="V (mV)",
    xlabel="time (ms)",
    title=f"resonator (INaPIK low-threshold, I = {bias_r:g}, T = {period:.2f} ms): pulses of 16",
)
for ax in axes:
    ax.legend(loc="upper right", fontsize=8)
_common.save(fig, "integrator_vs_resonator")
