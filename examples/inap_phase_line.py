"""The I_Na,p model's phase line: dV/dt against V, its equilibria and the flow between them.

C dV/dt = I - g_L (V - E_L) - g_Na m_inf(V) (V - E_Na) (Izhikevich 2007, ch. 3). At I = 0
there are three equilibria: stable rest, a saddle (the threshold) and a stable excited state.
As I grows the rest state and the threshold coalesce and vanish (a saddle-node bifurcation).
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

import spikejax as sj
from spikejax.analysis import fixed_points, reduced_rhs

# The phase line is the continuous flow: move the artificial reset (V_peak) out of the way so
# that the excited equilibrium near +31 mV counts too.
model = sj.models.INaP().replace(V_peak=100.0)
V = np.linspace(-80.0, 60.0, 561)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True, layout="constrained")
for ax, I in zip(axes, (0.0, 15.0, 30.0)):
    dV = np.asarray(reduced_rhs(model, V, I))
    ax.plot(V, dV, "k")
    ax.axhline(0, color="0.5", lw=0.8)
    fps = fixed_points(model, I, V_range=(-80.0, 60.0))
    for fp in fps:
        style = dict(mfc="k") if fp.stable else dict(mfc="w")
        ax.plot(fp.V, 0, "o", mec="k", ms=8, zorder=3, **style)
    # flow arrows on the V axis: right where dV/dt > 0, left where < 0
    for v in np.arange(-75.0, 60.0, 10.0):
        g = float(reduced_rhs(model, v, I))
        ax.annotate(
            "",
            (v + 4 * np.sign(g), 0),
            (v, 0),
            arrowprops=dict(arrowstyle="->", color="C3" if g > 0 else "C0"),
        )
    eq = ", ".join(f"{fp.V:.1f}" for fp in fps)
    ax.set(xlabel="V (mV)", title=f"I = {I:g} uA/cm$^2$: V* = {eq} mV")
axes[0].set_ylabel("dV/dt (mV/ms)")
axes[0].set_ylim(-8, 8)
fig.suptitle("$I_{Na,p}$ phase line (filled: stable, open: unstable)")
_common.save(fig, "inap_phase_line")
