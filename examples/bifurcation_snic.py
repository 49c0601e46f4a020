"""Saddle-node on invariant circle (SNIC): the I_Na,p + I_K model, high-threshold K+.

As I grows, the stable rest state and the saddle coalesce on an invariant circle and vanish
(fold, LP); the circle becomes a limit cycle whose period diverges at the bifurcation, so
firing starts at arbitrarily low frequency (class 1). Left: equilibria (solid stable, dashed
unstable), the cycle's voltage range, and its period. Right: phase portraits before and after.
"""

import _common
import matplotlib.pyplot as plt

import spikejax as sj
from spikejax import analysis, plot

model = sj.models.INaPIK.high_threshold()
I_max = 8.0
rest = analysis.continuation(model, "I", 0.0, I_max, ds=0.3, ds_max=0.6)  # rest, fold, saddle
fp_top = analysis.fixed_points(model, 0.0)[-1]  # the third equilibrium (unstable focus)
top = analysis.continuation(model, "I", 0.0, I_max, y0=fp_top.state)
fold = rest.folds[0]
cycle = analysis.cycle_from_simulation(model, I_max)
cycles = analysis.continue_cycles(
    model,
    cycle,
    bounds=(fold.param, I_max),
    direction=-1,
    max_period=150.0 if _common.full() else 60.0,
    max_steps=120,
)

fig = plt.figure(figsize=(12, 4.6), layout="constrained")
grid = fig.add_gridspec(2, 3)
ax, ax_T = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0])
plot.bifurcation_diagram([rest, top], [cycles], ax=ax, snic=fold.param)
ax.set(xlabel="", ylabel="V (mV)", xlim=(0, I_max), title=f"SNIC at I = {fold.param:.3f}")
ax_T.plot(cycles.params, cycles.periods, "C0")
ax_T.axvline(fold.param, color="r", lw=0.8)
ax_T.set(xlabel="I (uA/cm$^2$)", ylabel="period (ms)", xlim=(0, I_max))
for k, I in enumerate((3.0, 6.0)):
    pp = fig.add_subplot(grid[:, 1 + k])
    plot.phase_portrait(
        model,
        I,
        (-80.0, 20.0),
        (-0.05, 0.75),
        ax=pp,
        arrows=15,
        trajectories=[{"V": -50.0, "n": 0.0}],
        t1=30.0,
    )
    pp.set_title(f"I = {I:g} ({'before' if I < fold.param else 'after'} the SNIC)")
_common.save(fig, "bifurcation_snic")
