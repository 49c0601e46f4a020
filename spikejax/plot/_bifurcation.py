"""Bifurcation diagrams and F-I curves."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["bifurcation_diagram", "fi_plot"]


def _runs(mask):
    """Contiguous runs of equal values in a boolean array: list of (start, stop, value)."""
    mask = np.asarray(mask, bool)
    out, start = [], 0
    for k in range(1, mask.size + 1):
        if k == mask.size or mask[k] != mask[start]:
            out.append((start, k, bool(mask[start])))
            start = k
    return out


_LABEL_OFFSETS = ((4, 4), (4, -12), (-22, 4), (-22, -12))


def _label_points(ax, points, color):
    """Mark the special points `(kind, x, y)` and write their kinds beside them; points that
    fall on the same spot (a fold of cycles with a period doubling next to it) share one
    label, "LPC/PD"."""
    groups: list[tuple[list[str], float, float]] = []
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for kind, x, y in points:
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        for kinds, gx, gy in groups:
            if abs(gx - x) <= 0.01 * (x1 - x0) and abs(gy - y) <= 0.02 * (y1 - y0):
                if kind not in kinds:
                    kinds.append(kind)
                break
        else:
            groups.append(([kind], x, y))
    for i, (kinds, x, y) in enumerate(groups):
        ax.plot(x, y, "s", color=color, ms=5, zorder=5)
        ax.annotate(
            "/".join(kinds),
            (x, y),
            textcoords="offset points",
            xytext=_LABEL_OFFSETS[i % len(_LABEL_OFFSETS)],
            color=color,
            fontsize=8,
        )


def _with_unit(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit and unit != "1" else name


def bifurcation_diagram(
    branches=(),
    cycles=(),
    *,
    variable: str | None = None,
    ax=None,
    period_ax=None,
    period: bool | None = None,
    label_points: bool = True,
    legend: bool | None = None,
    snic: float | None = None,
):
    """Bifurcation diagram: equilibrium branches (solid: stable, dashed: unstable), cycle
    families (the minimum and maximum of the voltage over the orbit, in colour; solid:
    stable, dashed: unstable), labelled special points (H, LP, BP, TH on equilibria; LPC, PD,
    NS, BPC on cycles) and, optionally, the cycles' periods in a second panel.

    **Arguments:**

    - `branches`: a `BifurcationDiagram` (from `analysis.bifurcation_diagram`: everything in
      it is drawn, with its units), a `Branch` of equilibria (from `analysis.continuation`)
      or a sequence of them.
    - `cycles`: a `CycleBranch` (from `analysis.continue_cycles`) or a sequence of them.
    - `variable`: the state variable on the vertical axis (default: the voltage; cycles always
      show the voltage range).
    - `ax`: matplotlib axes to draw into (default: a new figure).
    - `period`: draw the period panel (default: when there are cycles and `ax` is not given,
      or `period_ax` is); `period_ax`: axes for it.
    - `label_points`: mark and label the special points; `legend`: a legend outside the data
      (right of the axes; default: for a `BifurcationDiagram`).
    - `snic`: mark a saddle-node on invariant circle at this parameter value.

    **Returns:** `(fig, ax)`, or `(fig, (ax, period_ax))` when the period panel is drawn.
    """
    from ..analysis import BifurcationDiagram

    units = {"param": "", "voltage": "", "time": ""}
    if legend is None:
        legend = isinstance(branches, BifurcationDiagram)
    if isinstance(branches, BifurcationDiagram):
        d = branches
        branches, cycles = (
            d.equilibria,
            tuple(c for c in d.cycles if len(c))
            + tuple(cycles if isinstance(cycles, (list, tuple)) else (cycles,)),
        )
        units = {"param": d.param_unit, "voltage": d.voltage_unit, "time": d.time_unit}
    if not isinstance(branches, (list, tuple)):
        branches = (branches,)
    if not isinstance(cycles, (list, tuple)):
        cycles = (cycles,)
    if period is None:
        period = period_ax is not None or (ax is None and any(len(c) for c in cycles))
    if ax is None:
        import matplotlib.pyplot as plt

        if period and period_ax is None:
            fig, (ax, period_ax) = plt.subplots(
                2,
                1,
                figsize=(7.5, 6),
                sharex=True,
                height_ratios=(2, 1),
                layout="constrained",
            )
        else:
            fig, ax = plt.subplots(figsize=(7.5, 4), layout="constrained")
    else:
        fig = ax.figure
    if period and period_ax is None:
        raise ValueError("period=True with ax given needs period_ax (the axes for the periods)")
    pname = "I"
    eq_points: list[tuple[str, float, float]] = []
    for br in branches:
        pname = br.param_name
        y = br.voltage if variable is None else br.state(variable)
        for a, b, st in _runs(br.stable):
            sl = slice(a, min(b + 1, len(br)))
            ax.plot(br.params[sl], y[sl], "k-" if st else "k--", lw=1.5 if st else 1.0)
        name = variable or br.voltage_name
        eq_points += [(str(sp.kind), sp.param, sp.state[name]) for sp in br.special_points]
    cyc_points: list[tuple[str, float, float]] = []
    for k, cb in enumerate(cycles):
        pname = cb.param_name
        color = f"C{k % 10}"
        for a, b, st in _runs(cb.stable):
            sl = slice(a, min(b + 1, len(cb)))
            style: dict[str, Any] = dict(color=color, ls="-" if st else "--", lw=1.3)
            ax.plot(cb.params[sl], cb.v_max[sl], **style)
            ax.plot(cb.params[sl], cb.v_min[sl], **style)
            if period_ax is not None:
                period_ax.plot(cb.params[sl], cb.periods[sl], **style)
        for sp in cb.special_points:
            cyc_points.append((str(sp.kind), sp.param, sp.info.get("v_max", np.nan)))
            if period_ax is not None and label_points and "period" in sp.info:
                period_ax.plot(sp.param, sp.info["period"], "s", color="tab:green", ms=4)
    if label_points:
        _label_points(ax, eq_points, "tab:red")
        _label_points(ax, cyc_points, "tab:green")
    if snic is not None:
        ax.axvline(snic, color="purple", lw=0.8, ls=":")
        ax.annotate("SNIC", (snic, ax.get_ylim()[1]), color="purple", va="top")
    xlabel = _with_unit(pname, units["param"])
    vname = branches[0].voltage_name if branches else "V"
    ax.set_ylabel(_with_unit(variable or vname, units["voltage"] if variable is None else ""))
    if legend and (branches or cycles):
        from matplotlib.lines import Line2D

        handles = []
        if branches:
            handles += [
                Line2D([], [], color="k", ls="-", lw=1.5, label="stable equilibria"),
                Line2D([], [], color="k", ls="--", lw=1.0, label="unstable equilibria"),
            ]
        if cycles:
            handles += [
                Line2D([], [], color="C0", ls="-", label="stable cycles (min, max V)"),
                Line2D([], [], color="C0", ls="--", label="unstable cycles"),
            ]
        if label_points:
            handles += [
                Line2D([], [], color="tab:red", ls="none", marker="s", label="equilibrium points"),
                Line2D([], [], color="tab:green", ls="none", marker="s", label="cycle points"),
            ]
        ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False
        )
    if period_ax is not None:
        period_ax.set_xlabel(xlabel)
        period_ax.set_ylabel(_with_unit("period", units["time"]))
        return fig, (ax, period_ax)
    ax.set_xlabel(xlabel)
    return fig, ax


def fi_plot(fi, *, cycles=None, ax=None, time_unit: str = "ms"):
    """F-I curve: rates from rest ("up") and from firing ("down"), and optionally the rates
    $1/T$ of continued stable cycles.

    **Arguments:**

    - `fi`: an `FICurve` (from `analysis.fi_curve`).
    - `cycles`: optionally a `CycleBranch`; its stable cycles are drawn at rate $1/T$.
    - `ax`: matplotlib axes to draw into (default: a new figure).
    - `time_unit`: the model's time unit (`"ms"`: rates in Hz).

    **Returns:** `(fig, ax)`.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 4))
    else:
        fig = ax.figure
    if fi.rate_up is not None:
        ax.plot(fi.currents, fi.rate_up, "o-", ms=3, label="from rest")
    if fi.rate_down is not None:
        ax.plot(fi.currents, fi.rate_down, "s--", ms=3, mfc="none", label="from firing")
    if cycles is not None:
        from ..analysis._fi_curve import fi_from_cycles

        I, r = fi_from_cycles(cycles, time_unit=time_unit)
        ax.plot(I, r, "k.", ms=2, label="stable cycles")
    ax.set_xlabel("I")
    ax.set_ylabel(f"rate ({fi.unit})")
    ax.legend()
    return fig, ax
