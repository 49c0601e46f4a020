"""Supercritical Andronov-Hopf: the I_Na,p + I_K model with low-threshold K+.

The rest state is a stable focus (damped oscillations). At the Hopf point its complex pair of
eigenvalues crosses the imaginary axis and, the first Lyapunov coefficient being negative,
a stable limit cycle is born with zero amplitude that grows with I (amplitude ~ sqrt(I - I_H)).
Left: equilibria (solid stable, dashed unstable) and the cycle's voltage range. Right: phase
portraits before and after.
"""

import _common
import matplotlib.pyplot as plt

import spikejax as sj
from spikejax import analysis, plot

model = sj.models.INaPIK.low_threshold()
I_max = 30.0
branch = analysis.continuation(model, "I", 0.0, I_max)
hopf = branch.hopf_points[0]
cycles = analysis.continue_cycles(
    model, hopf, bounds=(0.0, I_max), max_steps=200 if _common.full() else 60
)

fig = plt.figure(figsize=(12, 4.4), layout="constrained")
grid = fig.add_gridspec(1, 3)
ax = fig.add_subplot(grid[0])
plot.bifurcation_diagram([branch], [cycles], ax=ax)  # cycles: min and max of V
ax.set_title(f"Hopf at I = {hopf.param:.2f}: {hopf.criticality}, $\\ell_1$ = {hopf.l1:.1e}")
ax.set(xlabel="I (uA/cm$^2$)", ylabel="V (mV)")
for k, I in enumerate((hopf.param - 4.0, hopf.param + 4.0)):
    pp = fig.add_subplot(grid[1 + k])
    plot.phase_portrait(
        model,
        I,
        (-75.0, -30.0),
        (-0.05, 0.5),
        ax=pp,
        arrows=15,
        trajectories=[{"V": -48.0, "n": 0.1}],
        t1=40.0,
    )
    pp.set_title(f"I = {I:.2f} ({'before' if k == 0 else 'after'} the Hopf point)")
_common.save(fig, "bifurcation_hopf_supercritical")
