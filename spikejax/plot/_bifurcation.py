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


def bifurcation_diagram(
    branches=(),
    cycles=(),
    *,
    variable: str | None = None,
    ax=None,
    label_points: bool = True,
    snic: float | None = None,
):
    """Bifurcation diagram: equilibrium branches (solid: stable, dashed: unstable), cycle
    branches (min and max of the voltage; filled dots stable, open unstable) and labelled
    special points (LP, H, LPC, TH).

    **Arguments:**

    - `branches`: a `Branch` of equilibria (from `analysis.continuation`) or a sequence of them.
    - `cycles`: a `CycleBranch` (from `analysis.continue_cycles`) or a sequence of them.
    - `variable`: the state variable on the vertical axis (default: the voltage).
    - `ax`: matplotlib axes to draw into (default: a new figure).
    - `label_points`: annotate the special points with their kind.
    - `snic`: mark a saddle-node on invariant circle at this parameter value.

    **Returns:** `(fig, ax)`.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    if not isinstance(branches, (list, tuple)):
        branches = (branches,)
    if not isinstance(cycles, (list, tuple)):
        cycles = (cycles,)
    pname = "I"
    for br in branches:
        pname = br.param_name
        y = br.voltage if variable is None else br.state(variable)
        for a, b, st in _runs(br.stable):
            sl = slice(a, min(b + 1, len(br)))
            ax.plot(br.params[sl], y[sl], "k-" if st else "k--", lw=1.5 if st else 1.0)
        if label_points:
            iv = br.state_names.index(variable or br.voltage_name)
            for sp in br.special_points:
                ax.plot(sp.param, sp.state[br.state_names[iv]], "rs", ms=5)
                ax.annotate(
                    sp.kind,
                    (sp.param, sp.state[br.state_names[iv]]),
                    textcoords="offset points",
                    xytext=(4, 4),
                    color="r",
                )
    for cb in cycles:
        pname = cb.param_name
        for a, b, st in _runs(cb.stable):
            sl = slice(a, b)
            style: dict[str, Any] = dict(
                color="tab:blue", marker="o", ms=3, ls="none", mfc="tab:blue" if st else "none"
            )
            ax.plot(cb.params[sl], cb.v_max[sl], **style)
            ax.plot(cb.params[sl], cb.v_min[sl], **style)
        if label_points:
            for sp in cb.special_points:
                vmax = sp.info.get("v_max", np.nan)
                ax.plot(sp.param, vmax, "gs", ms=5)
                ax.annotate(
                    sp.kind, (sp.param, vmax), textcoords="offset points", xytext=(4, 4), color="g"
                )
    if snic is not None:
        ax.axvline(snic, color="purple", lw=0.8, ls=":")
        ax.annotate("SNIC", (snic, ax.get_ylim()[1]), color="purple", va="top")
    ax.set_xlabel(pname)
    ax.set_ylabel(variable or "V")
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
