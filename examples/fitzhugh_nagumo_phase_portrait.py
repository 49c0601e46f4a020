"""FitzHugh-Nagumo phase portrait: vector field, nullclines, fixed point and a trajectory.

Left, I = 0: the fixed point is stable and a large enough kick makes one excursion (a spike).
Right, I = 0.5: the fixed point is an unstable focus and trajectories approach a limit cycle.
"""

import _common
import matplotlib.pyplot as plt

import spikejax as sj
from spikejax import analysis

fhn = sj.models.FitzHughNagumo()
xlim, ylim = (-2.5, 2.5), (-1.0, 2.0)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True, layout="constrained")
for ax, I, y0 in zip(axes, (0.0, 0.5), ({"V": -0.5, "w": -0.6}, {"V": -1.0, "w": 0.0})):
    X, Y, U, W = analysis.vector_field_grid(fhn, I, xlim, ylim, n=25)
    ax.streamplot(X, Y, U, W, color="0.75", density=1.0, linewidth=0.7, arrowsize=0.8)
    for (name, curves), color in zip(analysis.nullclines(fhn, I, xlim, ylim).items(), ("C3", "C0")):
        for k, c in enumerate(curves):
            ax.plot(
                c[:, 0], c[:, 1], color=color, lw=2, label=f"{name}-nullcline" if k == 0 else None
            )
    ts, ys = analysis.trajectory(fhn, y0, I, t1=100.0, n_save=2001)
    ax.plot(ys[:, 0], ys[:, 1], "k", lw=1.2, label="trajectory")
    ax.plot(y0["V"], y0["w"], "ko", ms=4)
    for fp in analysis.fixed_points(fhn, I):
        ax.plot(
            fp.V,
            fp.state["w"],
            "o",
            ms=9,
            mec="k",
            mfc="k" if fp.stable else "w",
            label=fp.type.value,
            zorder=4,
        )
    ax.set(xlim=xlim, ylim=ylim, xlabel="V", title=f"I = {I:g}")
    ax.legend(loc="upper left", fontsize=8)
axes[0].set_ylabel("w")
fig.suptitle("FitzHugh-Nagumo (a = 0.7, b = 0.8, $\\varepsilon$ = 0.08)")
_common.save(fig, "fitzhugh_nagumo_phase_portrait")
