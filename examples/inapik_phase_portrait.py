"""I_Na,p + I_K model: phase portrait and a spike (Izhikevich 2007, ch. 4, high-threshold K+).

At I = 0 there are three equilibria: a stable rest state, a saddle and an unstable one. A
small depolarisation decays back to rest; one beyond the saddle's stable manifold (the
separatrix) makes a spike: a large excursion around the unstable equilibrium.
"""

import _common
import matplotlib.pyplot as plt

import spikejax as sj
from spikejax import analysis

model, I = sj.models.INaPIK.high_threshold(), 0.0
xlim, ylim = (-80.0, 20.0), (-0.05, 0.75)
fps = analysis.fixed_points(model, I)
saddle = next(fp for fp in fps if fp.type is analysis.FixedPointType.SADDLE)

fig, (ax, ax_v) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
X, Y, U, W = analysis.vector_field_grid(model, I, xlim, ylim, n=25)
ax.streamplot(X, Y, U, W, color="0.75", density=1.0, linewidth=0.6, arrowsize=0.7)
for (name, curves), color in zip(analysis.nullclines(model, I, xlim, ylim).items(), ("C3", "C0")):
    for k, c in enumerate(curves):
        ax.plot(c[:, 0], c[:, 1], color=color, lw=2, label=f"{name}-nullcline" if k == 0 else None)
for k, br in enumerate(analysis.separatrix(model, saddle, bounds={"V": xlim, "n": ylim})):
    ax.plot(br[:, 0], br[:, 1], "k:", lw=1.2, label="separatrix" if k == 0 else None)
rest = fps[0]
for V0, style, label in ((-58.0, "C2", "subthreshold"), (-50.0, "k", "spike")):
    y0 = {"V": V0, "n": rest.state["n"]}
    ts, ys = analysis.trajectory(model, y0, I, t1=15.0, n_save=1501)
    ax.plot(ys[:, 0], ys[:, 1], color=style, lw=1.5, label=f"from V = {V0:g} mV ({label})")
    ax_v.plot(ts, ys[:, 0], color=style, lw=1.5, label=f"V(0) = {V0:g} mV")
for fp, offset in zip(fps, ((-70, 8), (8, 8), (8, -12))):
    ax.plot(fp.V, fp.state["n"], "o", ms=9, mec="k", mfc="k" if fp.stable else "w", zorder=4)
    ax.annotate(
        fp.type.value, (fp.V, fp.state["n"]), xytext=offset, textcoords="offset points", fontsize=8
    )
ax.set(xlim=xlim, ylim=ylim, xlabel="V (mV)", ylabel="n", title="phase portrait, I = 0")
ax.legend(loc="upper left", fontsize=8)
ax_v.set(xlabel="time (ms)", ylabel="V (mV)", title="membrane potential")
ax_v.legend()
_common.save(fig, "inapik_phase_portrait")
