"""Fitting: recover the Hodgkin-Huxley sodium and potassium conductances from a voltage trace.

A target trace is simulated with the published gNa = 120 and gK = 36 mS/cm^2; starting from
gNa = 100 and gK = 45, `spikejax.fit.fit` minimises the mean squared voltage error with
gradients through the differentiable simulation (`solve_fixed`) and Adam.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np
import optax

import spikejax as sj
from spikejax import fit

dt, n_steps = 0.05, 300  # 15 ms
stim = sj.stimulus.Step(onset=2.0, offset=4.0, amplitude=15.0)  # uA/cm^2
true = sj.models.HodgkinHuxley()
y0 = true.resting_state()


def voltage(model):
    return fit.solve_fixed(model, y0, stim, dt=dt, n_steps=n_steps, method="rk4").ys["V"]


target = voltage(true)


def loss(model):
    return fit.trace_mse(voltage(model), target)


start = true.replace(gNa=100.0, gK=45.0)
steps = 300 if _common.full() else 60
result = fit.fit(start, loss, params=("gNa", "gK"), optimizer=optax.adam(0.03), steps=steps)
hist = result.params_history
print(f"fitted gNa = {float(result.model.gNa):.2f}, gK = {float(result.model.gK):.2f}")

t = np.arange(1, n_steps + 1) * dt
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
axes[0].plot(t, target, "k", lw=2, label="target (120, 36)")
axes[0].plot(t, voltage(start), "C0--", label="start (100, 45)")
axes[0].plot(
    t,
    voltage(result.model),
    "C3:",
    lw=2,
    label=f"fit ({float(result.model.gNa):.1f}, {float(result.model.gK):.1f})",
)
axes[0].set(xlabel="time (ms)", ylabel="V (mV)", title="voltage traces")
axes[0].legend(fontsize=8)
axes[1].semilogy(result.loss_history, "k")
axes[1].set(xlabel="step", ylabel="MSE (mV$^2$)", title="loss")
axes[2].plot(hist["gNa"], hist["gK"], "k.-", ms=3)
axes[2].plot(120.0, 36.0, "r*", ms=12, label="true")
axes[2].set(xlabel="gNa (mS/cm$^2$)", ylabel="gK (mS/cm$^2$)", title="parameter path")
axes[2].legend()
_common.save(fig, "fit_hh_conductances")
