"""The artificial neuron: y = f(w . x + b), its transfer functions, and what one unit computes.

Left: the unit's transfer functions f. Right: the output of one sigmoid unit with two inputs,
w = (4, 4), b = -6, which computes a soft AND of x1 and x2 (the line w . x + b = 0 is its
decision boundary).
"""

import _common
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt

import spikejax as sj

u = jnp.linspace(-4, 4, 201)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
for activation in ("sigmoid", "tanh", "relu"):
    unit = sj.models.RateUnit(activation=activation)
    ax1.plot(u, unit.transfer(u), label=activation)
ax1.set(
    xlabel="summed input $u = w \\cdot x + b$",
    ylabel="output $f(u)$",
    title="transfer functions",
    ylim=(-1.2, 2.2),
)
ax1.axhline(0, color="0.8", lw=0.8)
ax1.legend()

w, b = jnp.array([4.0, 4.0]), -6.0
x1, x2 = jnp.meshgrid(jnp.linspace(0, 1, 101), jnp.linspace(0, 1, 101))
xs = jnp.stack([x1.ravel(), x2.ravel()], axis=1)
y = jax.vmap(lambda x: sj.models.artificial_neuron(x, w, b))(xs).reshape(x1.shape)
im = ax2.pcolormesh(x1, x2, y, cmap="viridis", shading="auto", vmin=0, vmax=1)
ax2.contour(x1, x2, y, levels=[0.5], colors="w")
corners = jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
for x in corners:
    out = sj.models.artificial_neuron(x, w, b)
    ax2.annotate(
        f"{float(out):.2f}",
        x,
        ha="center",
        va="center",
        color="w",
        bbox=dict(fc="k", alpha=0.5),
        xytext=(0.1 + 0.8 * x[0], 0.1 + 0.8 * x[1]),
    )
fig.colorbar(im, ax=ax2, label="output $y$")
ax2.set(xlabel="$x_1$", ylabel="$x_2$", title="sigmoid unit, $w = (4, 4)$, $b = -6$: soft AND")
_common.save(fig, "artificial_neuron")
