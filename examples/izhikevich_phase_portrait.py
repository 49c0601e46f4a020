"""Izhikevich simple model (RS) phase portrait: basin of attraction, separatrix and saddle.

At I = 0 the v-nullcline (a parabola) and the u-nullcline (u = b v) cross twice: a stable
node (rest, near -70 mV) and a saddle (near -50 mV). The saddle's stable manifold, the
separatrix, bounds the basin of the rest state: states beyond it go on to spike.
"""

import _common
import matplotlib.pyplot as plt

import spikejax as sj
from spikejax import analysis

model, I = sj.models.Izhikevich.preset("RS"), 0.0
xlim, ylim = (-80.0, -30.0), (-18.0, -8.0)
rest, saddle = analysis.fixed_points(model, I)

fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
n = 61 if _common.full() else 31
X, Y, inside = analysis.basin_of_attraction(model, rest, I, xlim=xlim, ylim=ylim, n=n)
ax.contourf(X, Y, inside.astype(float), levels=[0.5, 1.5], colors=["C2"], alpha=0.25)
ax.plot([], [], "s", color="C2", alpha=0.4, label="basin of attraction of rest")
X, Y, U, W = analysis.vector_field_grid(model, I, xlim, ylim, n=25)
ax.streamplot(X, Y, U, W, color="0.7", density=0.9, linewidth=0.6, arrowsize=0.7)
for (name, curves), color in zip(analysis.nullclines(model, I, xlim, ylim).items(), ("C3", "C0")):
    for k, c in enumerate(curves):
        ax.plot(c[:, 0], c[:, 1], color=color, lw=2, label=f"{name}-nullcline" if k == 0 else None)
bounds = {"V": xlim, "u": ylim}
for k, branch in enumerate(analysis.separatrix(model, saddle, bounds=bounds)):
    ax.plot(branch[:, 0], branch[:, 1], "k--", lw=1.5, label="separatrix" if k == 0 else None)
for fp, marker in ((rest, "o"), (saddle, "X")):
    ax.plot(
        fp.V,
        fp.state["u"],
        marker,
        ms=10,
        mec="k",
        mfc="k" if fp.stable else "w",
        label=f"{fp.type.value} ({fp.V:.1f} mV)",
        zorder=4,
    )
ax.set(xlim=xlim, ylim=ylim, xlabel="v (mV)", ylabel="u", title="Izhikevich RS neuron at I = 0")
ax.legend(loc="upper left", fontsize=8)
_common.save(fig, "izhikevich_phase_portrait")
