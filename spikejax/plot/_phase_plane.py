"""Phase portraits, phase lines and the trace-determinant chart. Each returns `(fig, ax)`.

Fixed-point markers: filled = stable, open = unstable, half-filled = saddle (left half) or
non-hyperbolic (bottom half, diamond). Every drawn element carries a `gid` (`"arrows"`,
`"nullcline:<name>"`, `"fixed_point:<type>"`, `"trajectory"`, `"separatrix"`, `"basin"`,
`"flow_arrow"`) so that it can be found and restyled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..analysis._classify import (
    FixedPointType,
    trace_determinant,
    trace_determinant_chart_data,
)
from ..analysis._equilibria import FixedPoint, check_current, check_interval, fixed_points
from ..analysis._phase_plane import (
    basin_of_attraction,
    check_planar,
    nullclines,
    separatrix,
    trajectory,
    vector_field_grid,
)
from ..analysis._phase_plane import (
    phase_line as _phase_line_data,
)

__all__ = ["phase_line", "phase_portrait", "trace_determinant_chart"]

_NULLCLINE_COLORS = ("tab:red", "tab:blue")


def _axes(ax, figsize=(5.5, 4.5)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    return fig, ax


def _marker_style(kind: FixedPointType) -> dict[str, Any]:
    """Filled = stable, open = unstable, half-filled = saddle / non-hyperbolic."""
    base = {
        "markersize": 9,
        "markeredgecolor": "k",
        "markerfacecolor": "k",
        "color": "k",
        "linestyle": "none",
        "zorder": 5,
    }
    if kind.is_stable:
        return {**base, "marker": "o", "fillstyle": "full"}
    if kind in (FixedPointType.UNSTABLE_NODE, FixedPointType.UNSTABLE_FOCUS):
        return {**base, "marker": "o", "fillstyle": "none", "markerfacecolor": "w"}
    if kind in (FixedPointType.SADDLE, FixedPointType.SADDLE_FOCUS):
        return {**base, "marker": "o", "fillstyle": "left", "markerfacecoloralt": "w"}
    return {**base, "marker": "D", "fillstyle": "bottom", "markerfacecoloralt": "w"}


def _draw_fixed_point(ax, x, y, kind: FixedPointType, label: bool = True):
    (line,) = ax.plot([x], [y], **_marker_style(kind))
    line.set_gid(f"fixed_point:{kind.name}")
    if label:
        line.set_label(kind.value)
    return line


def phase_portrait(
    model,
    I: float = 0.0,
    xlim: tuple[float, float] = (-1.0, 1.0),
    ylim: tuple[float, float] = (-1.0, 1.0),
    *,
    ax=None,
    arrows: int | None = 21,
    show_nullclines: bool = True,
    show_fixed_points: bool = True,
    trajectories: Sequence[Any] = (),
    t1: float = 100.0,
    show_separatrix: bool = True,
    basin: Any = None,
    basin_n: int = 41,
    fixed_point_kwargs: dict[str, Any] | None = None,
    legend: bool = True,
):
    r"""Phase portrait of a planar model in the box `xlim` x `ylim` under constant input `I`.

    **Arguments:**

    - `model`: a planar (two-state) single-cell model.
    - `I`: the constant input current (the model's current unit).
    - `xlim`, `ylim`: the box, in the units of the first and second state variables.
    - `ax`: matplotlib axes to draw into (default: a new figure).
    - `arrows`: direction arrows on an `arrows` x `arrows` grid (unit length in box-normalised
      coordinates; None for none).
    - `show_nullclines`, `show_fixed_points`: draw the nullclines and the equilibria (filled =
      stable, open = unstable, half-filled = saddle).
    - `trajectories`: initial states (dicts or arrays); each is integrated for `t1` (ms).
    - `show_separatrix`: draw the stable manifold of every saddle.
    - `basin`: a stable `FixedPoint`, or True for the first stable equilibrium: its basin of
      attraction is shaded on a `basin_n` x `basin_n` grid.
    - `fixed_point_kwargs`: passed to `analysis.fixed_points`.
    - `legend`: show the legend.

    **Returns:** `(fig, ax)`.
    """
    model = check_planar(model)
    I = check_current(I)
    xlim, ylim = check_interval("xlim", xlim), check_interval("ylim", ylim)
    fig, ax = _axes(ax)
    xname, yname = model.state_names
    box = {xname: xlim, yname: ylim}

    fps: list[FixedPoint] = []
    if show_fixed_points or show_separatrix or basin is True:
        kw: dict[str, Any] = {"V_range": xlim} if xname == model.voltage_name else {}
        kw.update(fixed_point_kwargs or {})
        fps = [
            fp
            for fp in fixed_points(model, I, **kw)
            if xlim[0] <= fp.vector[0] <= xlim[1] and ylim[0] <= fp.vector[1] <= ylim[1]
        ]

    if basin is not None and basin is not False:
        target = basin
        if basin is True:
            stable = [fp for fp in fps if fp.stable]
            target = stable[0] if stable else None
        if target is not None:
            X, Y, inside = basin_of_attraction(model, target, I, xlim=xlim, ylim=ylim, n=basin_n)
            mesh = ax.pcolormesh(
                X,
                Y,
                np.where(inside, 1.0, np.nan),
                cmap="Greens",
                vmin=0.0,
                vmax=3.0,
                shading="nearest",
                alpha=0.5,
                zorder=0,
            )
            mesh.set_gid("basin")

    if arrows:
        X, Y, U, W = vector_field_grid(model, I, xlim, ylim, n=arrows)
        sx, sy = xlim[1] - xlim[0], ylim[1] - ylim[0]
        un, wn = U / sx, W / sy
        norm = np.hypot(un, wn)
        with np.errstate(invalid="ignore", divide="ignore"):
            un, wn = np.where(norm > 0, un / norm, 0.0), np.where(norm > 0, wn / norm, 0.0)
        q = ax.quiver(
            X,
            Y,
            un * sx,
            wn * sy,
            angles="xy",
            scale_units="xy",
            scale=arrows / 0.6,
            color="0.6",
            width=0.003,
            zorder=1,
        )
        q.set_gid("arrows")

    if show_nullclines:
        for k, (name, pieces) in enumerate(nullclines(model, I, xlim, ylim).items()):
            for j, p in enumerate(pieces):
                (line,) = ax.plot(
                    p[:, 0],
                    p[:, 1],
                    color=_NULLCLINE_COLORS[k % 2],
                    lw=1.8,
                    zorder=2,
                    label=f"{name}-nullcline" if j == 0 else None,
                )
                line.set_gid(f"nullcline:{name}")

    if show_separatrix:
        for fp in fps:
            if fp.type == FixedPointType.SADDLE:
                for j, br in enumerate(separatrix(model, fp, I, bounds=box)):
                    (line,) = ax.plot(
                        br[:, 0],
                        br[:, 1],
                        "k--",
                        lw=1.2,
                        zorder=3,
                        label="separatrix" if j == 0 else None,
                    )
                    line.set_gid("separatrix")

    for y0 in trajectories:
        _, ys = trajectory(model, y0, I, t1=t1)
        (line,) = ax.plot(ys[:, 0], ys[:, 1], color="tab:purple", lw=1.2, zorder=4)
        line.set_gid("trajectory")
        ax.plot([ys[0, 0]], [ys[0, 1]], ".", color="tab:purple", zorder=4)

    if show_fixed_points:
        seen = set()
        for fp in fps:
            _draw_fixed_point(ax, fp.vector[0], fp.vector[1], fp.type, label=fp.type not in seen)
            seen.add(fp.type)

    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(f"{xname}" + (f" ({model.voltage_unit})" if xname == model.voltage_name else ""))
    ax.set_ylabel(yname)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    return fig, ax


def phase_line(model, I: float = 0.0, *, V_range=None, ax=None, n: int = 1001):
    r"""Phase line of a one-dimensional model: $\dot V$ against $V$, its zeros (filled =
    stable, open = unstable, half-filled = non-hyperbolic) and arrows of the flow on the axis;
    a dotted line marks a hybrid model's spike threshold.

    **Arguments:**

    - `model`: a one-dimensional single-cell model (e.g. `INaP`).
    - `I`: the constant input current (the model's current unit).
    - `V_range`: `(V_min, V_max)` in mV (default: the search range of `analysis.fixed_points`).
    - `ax`: matplotlib axes to draw into (default: a new figure).
    - `n`: number of voltage samples.

    **Returns:** `(fig, ax)`.
    """
    data = _phase_line_data(model, I, V_range=V_range, n=n)
    fig, ax = _axes(ax, figsize=(6.0, 3.5))
    (curve,) = ax.plot(data.V, data.dVdt, color="k", lw=1.5)
    curve.set_gid("dVdt")
    ax.axhline(0.0, color="0.5", lw=0.8)
    span = data.V[-1] - data.V[0]
    for lo, hi, direction in data.intervals:
        if direction == 0 or hi - lo < 1e-3 * span:
            continue
        mid = 0.5 * (lo + hi)
        half = 0.15 * (hi - lo) * direction
        ann = ax.annotate(
            "",
            xy=(mid + half, 0.0),
            xytext=(mid - half, 0.0),
            arrowprops={"arrowstyle": "->", "color": "tab:blue", "lw": 2.0},
        )
        ann.set_gid("flow_arrow")
    for fp in data.fixed_points:
        _draw_fixed_point(ax, fp.vector[0], 0.0, fp.type, label=False)
    if data.threshold is not None:
        ax.axvline(data.threshold, color="tab:red", ls=":", lw=1.0).set_gid("threshold")
    ax.set_xlim(data.V[0], data.V[-1])
    ax.set_xlabel(f"{model.voltage_name} ({model.voltage_unit})")
    ax.set_ylabel(f"d{model.voltage_name}/dt")
    return fig, ax


def trace_determinant_chart(
    fixed_points: Sequence[FixedPoint] = (),
    *,
    ax=None,
    trace_range: tuple[float, float] | None = None,
    annotate: bool = True,
):
    r"""The trace-determinant chart of planar equilibria, with `fixed_points` placed on it.

    Regions: saddles below $\Delta = 0$; above it stable (left, $\tau < 0$) and unstable
    (right) equilibria, foci above the parabola $\Delta = \tau^2/4$ and nodes below it; the
    positive $\Delta$ axis holds centres/Hopf points (non-hyperbolic).

    **Arguments:**

    - `fixed_points`: `FixedPoint`s of planar models, placed at their (trace, determinant).
    - `ax`: matplotlib axes to draw into (default: a new figure).
    - `trace_range`: the horizontal range (default: around the points).
    - `annotate`: label the regions.

    **Returns:** `(fig, ax)`.

    **Raises:** `ValueError` for fixed points with non-planar (not 2 x 2) Jacobians.
    """
    pts = [(trace_determinant(fp.jacobian), fp.type) for fp in fixed_points]
    if trace_range is None:
        w = max(
            [1.0]
            + [1.2 * abs(t) for (t, _), _ in pts]
            + [2.4 * np.sqrt(abs(d)) for (_, d), _ in pts]
        )
        trace_range = (-w, w)
    data = trace_determinant_chart_data(trace_range)
    fig, ax = _axes(ax, figsize=(5.5, 4.5))
    tau, par = data["parabola"]
    ax.plot(tau, par, color="tab:orange", lw=1.5, label=r"$\Delta = \tau^2/4$")[0].set_gid(
        "parabola"
    )
    ax.axhline(0.0, color="k", lw=0.8)
    ax.axvline(0.0, color="k", lw=0.8)
    if annotate:
        for kind, (x, y) in data["labels"].items():
            ax.text(x, y, kind.value, ha="center", va="center", fontsize="small", color="0.35")
    seen = set()
    for (t, d), kind in pts:
        _draw_fixed_point(ax, t, d, kind, label=kind not in seen)
        seen.add(kind)
    w = max(abs(trace_range[0]), abs(trace_range[1]))
    dmax = max([w * w / 4.0] + [1.1 * d for (_, d), _ in pts])
    dmin = min([-w * w / 4.0] + [1.1 * d for (_, d), _ in pts])
    ax.set_xlim(*trace_range)
    ax.set_ylim(dmin, dmax)
    ax.set_xlabel(r"trace $\tau$")
    ax.set_ylabel(r"determinant $\Delta$")
    if pts:
        ax.legend(loc="lower right", fontsize="small")
    return fig, ax
