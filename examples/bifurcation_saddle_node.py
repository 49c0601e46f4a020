"""Saddle-node bifurcation: the one-dimensional I_Na,p model (Izhikevich 2007, ch. 3).

Equilibria of C dV/dt = I - I_inf(V) lie on the S-shaped curve I = I_inf(V). As I grows, the
stable rest state and the unstable threshold (a saddle in higher dimensions) approach,
coalesce at the fold (LP) and vanish; the only state left is the excited one, so the cell
jumps there (and with the reset, fires repetitively). Left: equilibria (solid stable, dashed
unstable). Right: phase lines before and after the fold.
"""

import _common
import matplotlib.pyplot as plt

import spikejax as sj
from spikejax import analysis, plot

# The continuous flow: move the artificial reset (V_peak) out of the way of the excited state.
model = sj.models.INaP().replace(V_peak=100.0)
I_lo, I_hi = -10.0, 40.0
low, *_, high = analysis.fixed_points(model, I_lo)  # rest and excited states at I_lo
kw = dict(bounds=(I_lo, I_hi), ds=0.5, ds_max=1.0)
rest = analysis.continuation(model, "I", I_lo, I_hi, y0=low.state, **kw)  # rest, fold, saddle
excited = analysis.continuation(model, "I", I_lo, I_hi, y0=high.state, **kw)
fold = rest.folds[0]

fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), layout="constrained")
plot.bifurcation_diagram([rest, excited], ax=axes[0])
axes[0].set(xlabel="I (uA/cm$^2$)", ylabel="V (mV)", title="bifurcation diagram")
for ax, I in zip(axes[1:], (fold.param - 5.0, fold.param + 5.0)):
    plot.phase_line(model, I, V_range=(-80.0, 60.0), ax=ax)
    ax.set_ylim(-2.0, 4.0)
    ax.set_title(
        f"I = {I:.2f} ({'before' if I < fold.param else 'after'} the fold at {fold.param:.2f})"
    )
_common.save(fig, "bifurcation_saddle_node")
