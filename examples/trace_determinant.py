"""The trace-determinant chart: the five types of a planar fixed point.

A linear system x' = A x with trace T and determinant D has eigenvalues
(T +- sqrt(T^2 - 4D)) / 2. Each (T, D) is classified with `spikejax.analysis.classify`;
small panels show one phase portrait of each type.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from spikejax.analysis import FixedPointType, classify

T, D = np.meshgrid(np.linspace(-2, 2, 161), np.linspace(-1, 1.5, 126))
types = list(FixedPointType)
colors = {t: c for t, c in zip(types, plt.cm.tab10.colors)}


def companion(tr, det):
    """A matrix with trace `tr` and determinant `det`."""
    return np.array([[0.0, 1.0], [-det, tr]])


label = np.vectorize(
    lambda tr, det: types.index(classify(np.linalg.eigvals(companion(tr, det)), atol=1e-9))
)(T, D)

fig = plt.figure(figsize=(9, 5), layout="constrained")
grid = fig.add_gridspec(3, 4)
ax = fig.add_subplot(grid[:, :2])
ax.pcolormesh(
    T,
    D,
    label,
    cmap=plt.matplotlib.colors.ListedColormap([colors[t] for t in types]),
    vmin=-0.5,
    vmax=len(types) - 0.5,
    alpha=0.5,
    shading="auto",
)
t = np.linspace(-2, 2, 200)
ax.plot(t, t**2 / 4, "k-", lw=1, label="$D = T^2/4$ (node | focus)")
ax.axhline(0, color="k", lw=1)
ax.axvline(0, color="k", lw=1, ls=":")
ax.set(xlabel="trace T", ylabel="determinant D", title="trace-determinant chart")
ax.legend(loc="lower left", fontsize=8)

examples = {  # (T, D) of one system of each type
    FixedPointType.STABLE_NODE: (-1.5, 0.3),
    FixedPointType.STABLE_FOCUS: (-0.6, 1.0),
    FixedPointType.SADDLE: (0.0, -0.6),
    FixedPointType.UNSTABLE_FOCUS: (0.6, 1.0),
    FixedPointType.UNSTABLE_NODE: (1.5, 0.3),
}
x, y = np.meshgrid(np.linspace(-1, 1, 21), np.linspace(-1, 1, 21))
for i, (kind, (tr, det)) in enumerate(examples.items()):
    ax.plot(tr, det, "o", color=colors[kind], mec="k")
    A = companion(tr, det)
    sub = fig.add_subplot(grid[i // 2, 2 + i % 2])
    sub.streamplot(
        x,
        y,
        A[0, 0] * x + A[0, 1] * y,
        A[1, 0] * x + A[1, 1] * y,
        color=colors[kind],
        density=0.5,
        linewidth=0.8,
        arrowsize=0.7,
    )
    sub.plot(0, 0, "ko", ms=4)
    sub.set(xticks=[], yticks=[], title=kind.value)
    assert classify(np.linalg.eigvals(A)) is kind

_common.save(fig, "trace_determinant")
