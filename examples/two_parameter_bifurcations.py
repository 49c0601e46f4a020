"""Two-parameter bifurcation diagram: Izhikevich's simple model in the (I, b) plane.

One-parameter continuation in I at b = 0.2 finds a Hopf point (I = 3.7975) and a fold
(I = 4). `analysis.bifurcation_curve` follows both as b changes.
- **Fold curve:** I = (5 - b)^2 / 0.16 - 140.
- **Hopf curve:** it ends at b = a = 0.02, where its frequency sqrt(a (b - a)) vanishes:
  a Bogdanov-Takens point. For b < a the rest state is lost at a fold only.
- **Between the curves** (b > a) the rest state is an unstable focus.

Left: both curves, drawn as the distance I - I_LP(b) from the closed-form fold curve so that
they can be told apart. Right: the Hopf frequency along the curve. Dashed lines: the closed
forms.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

import spikejax as sj
from spikejax import analysis

model = sj.models.Izhikevich()  # a = 0.02, b = 0.2
branch = analysis.continuation(model, "I", 0.0, 6.0)
fold, hopf = branch.folds[0], branch.hopf_points[0]
kw = dict(ds_max=1.0)  # small steps: smooth curves for the figure
fold_curves = [analysis.bifurcation_curve(model, fold, "b", s, **kw) for s in (0.3, -0.05)]
hopf_down = analysis.bifurcation_curve(model, hopf, "b", 0.0, **kw)  # ends at the BT point
hopf_up = analysis.bifurcation_curve(model, hopf, "b", 0.3, **kw)


def fold_current(b):
    """The closed-form fold curve."""
    return (5 - b) ** 2 / 0.16 - 140


a, v_h = 0.02, (0.02 - 5) / 0.08
b = np.linspace(a, 0.3, 200)
hopf_current = -(0.04 * v_h**2 + (5 - b) * v_h + 140)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
ax = axes[0]
for c in fold_curves:
    ax.plot(c.param("b"), c.param("I") - fold_current(c.param("b")), "C0", lw=2)
for c in (hopf_down, hopf_up):
    ax.plot(c.param("b"), c.param("I") - fold_current(c.param("b")), "C3", lw=2)
ax.plot(b, hopf_current - fold_current(b), "k--", lw=0.8, label="closed form")
b_bt = hopf_down.param("b")[-1]
ax.plot(b_bt, hopf_down.param("I")[-1] - fold_current(b_bt), "ko", ms=6, label="Bogdanov-Takens")
ax.plot([], [], "C0", lw=2, label="fold (LP) curve")
ax.plot([], [], "C3", lw=2, label="Hopf (H) curve")
ax.text(0.16, -0.12, "rest: unstable focus", fontsize=8)
ax.text(0.16, 0.05, "no equilibrium", fontsize=8)
ax.text(0.0, -0.3, "rest: stable", fontsize=8)
ax.set(xlabel="b", ylabel=r"$I - I_\mathrm{LP}(b)$", title="LP and H curves in the (I, b) plane")
ax.set_ylim(top=0.1)
ax.legend(fontsize=8, loc="lower left")

ax = axes[1]
ax.plot(hopf_down.param("b"), hopf_down.omega, "C3", lw=2, label="along the Hopf curve")
ax.plot(hopf_up.param("b"), hopf_up.omega, "C3", lw=2)
ax.plot(b, np.sqrt(a * (b - a)), "k--", lw=0.8, label=r"$\sqrt{a(b-a)}$")
ax.set(xlabel="b", ylabel=r"Hopf frequency $\omega$ (rad/ms)", title="ω vanishes at b = a")
ax.legend(fontsize=8)
_common.save(fig, "two_parameter_bifurcations")
