"""Subcritical Andronov-Hopf: the Hodgkin-Huxley model.

At the Hopf point (I about 9.78 uA/cm^2) the rest state loses stability by absorbing an
unstable limit cycle (positive first Lyapunov coefficient). That unstable cycle bends back and
meets the stable spiking cycle at a fold of cycles (LPC, about 6.3): between the two the cell
is bistable (rest and repetitive firing coexist), and firing starts at a non-zero frequency.
Left: equilibria and cycles (voltage range). Right: (V, n) projections of trajectories
before (bistable) and after the Hopf point. At the default size both cycle branches are
followed part of the way (30 steps each); `--full` follows them further.
"""

import _common
import matplotlib.pyplot as plt

import spikejax as sj
from spikejax import analysis, plot

model = sj.models.HodgkinHuxley()
branch = analysis.continuation(model, "I", 0.0, 15.0)
hopf = branch.hopf_points[0]
steps = 200 if _common.full() else 30
# cycles born at the Hopf point (unstable), and the spiking cycle followed down from I = 12
from_hopf = analysis.continue_cycles(model, hopf, bounds=(0.0, 15.0), max_steps=steps)
spiking = analysis.cycle_from_simulation(model, 12.0)
from_spiking = analysis.continue_cycles(
    model, spiking, bounds=(0.0, 15.0), direction=-1, max_steps=steps
)

fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), layout="constrained")
plot.bifurcation_diagram([branch], [from_hopf, from_spiking], ax=axes[0])
lpc = from_spiking.folds[0]
axes[0].set(
    xlabel="I (uA/cm$^2$)",
    ylabel="V (mV)",
    title=f"Hopf ({hopf.criticality}) at {hopf.param:.2f}, LPC at {lpc.param:.2f}",
)

for ax, I in zip(axes[1:], (8.0, 12.0)):
    rest = analysis.fixed_points(model, I)[0]
    for dV, color in ((2.0, "C2"), (12.0, "k")):
        ts, ys = analysis.trajectory(model, {**rest.state, "V": rest.V + dV}, I, t1=60.0)
        ax.plot(ys[:, 0], ys[:, 3], color=color, lw=1, label=f"kick of {dV:g} mV")
    ax.plot(
        rest.V,
        rest.state["n"],
        "o",
        mec="k",
        mfc="k" if rest.stable else "w",
        ms=8,
        label=rest.type.value,
    )
    when = "before" if I < hopf.param else "after"
    ax.set(xlabel="V (mV)", ylabel="n", title=f"I = {I:g} ({when} the Hopf point)")
    ax.legend(loc="upper right", fontsize=8)
_common.save(fig, "bifurcation_hopf_subcritical")
