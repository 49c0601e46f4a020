"""Export of the explorer's current view: the Python script that draws it with spikejax's API,
and the PNG of that figure (drawn in this process with the same `spikejax.plot` calls)."""

from __future__ import annotations

import io

import numpy as np

from .. import models
from ..analysis import fixed_points
from ..plot import bifurcation_diagram, phase_line, phase_portrait, plot_trace
from ..plot import trace_determinant_chart as td_chart
from . import _compute
from ._catalog import CATALOG


def _num(x: float) -> str:
    return repr(float(x))


def model_code(s: _compute.Settings) -> tuple[str, str]:
    """`(imports, expression)` building the view's model."""
    model = s.model()
    cls = type(model)
    params = ", ".join(f"{k}={_num(v)}" for k, v in s.params)
    if CATALOG.get(s.entry.name) is s.entry:
        if s.entry.code:
            return "", s.entry.code.format(params=params, sep=", " if params else "")
        return "", f"sj.models.{cls.__name__}({params})"
    allp = ", ".join(
        f"{k}={_num(v)}"
        for k, v in model.parameters().items()
        if np.asarray(v).shape == () and np.issubdtype(np.asarray(v).dtype, np.number)
    )
    if getattr(models, cls.__name__, None) is cls:
        return "", f"sj.models.{cls.__name__}({allp})"
    return f"from {cls.__module__} import {cls.__name__}\n", f"{cls.__name__}({allp})"


def stimulus_code(s: _compute.Settings) -> str:
    """The trace's stimulus as a Python expression."""
    if s.stimulus == "constant":
        return _num(s.I)
    if s.stimulus == "step":
        return f"sj.stimulus.Step({_num(s.onset)}, float('inf'), {_num(s.I)})"
    onsets = ", ".join(_num(t) for t in s.pulse_onsets())
    return (
        f"sj.stimulus.PulseTrain(np.array([{onsets}]), width={_num(s.entry.pulse_width)}, "
        f"amplitude={_num(s.amplitude)}, baseline={_num(s.I)})"
    )


def script(s: _compute.Settings) -> str:
    """The Python script that reproduces the view with spikejax's API: the trace, the
    equilibria (printed), the phase plane or phase line, the bifurcation diagram with the
    current `I` marked, the trace-determinant chart; it saves `spikejax_view.png`."""
    imports, expr = model_code(s)
    e = s.entry
    base = 0.0 if s.stimulus == "step" else s.I
    lines = [
        f'"""spikejax explorer view: {e.name} at I = {s.I:g}."""',
        "",
        "import jax",
        "",
        'jax.config.update("jax_enable_x64", True)  # the analysis needs float64',
        "",
        "import matplotlib",
        "",
        'matplotlib.use("Agg")',
        "import matplotlib.pyplot as plt",
        "import numpy as np",
        "",
        "import spikejax as sj",
        "from spikejax import analysis, plot",
        imports,
        f"model = {expr}",
        f"I = {_num(s.I)}",
        f"stimulus = {stimulus_code(s)}",
        "",
        'fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained")',
        "# the trace, from the lowest stable equilibrium at the stimulus' baseline current",
        f"stable = [fp for fp in analysis.fixed_points(model, {_num(base)}) if fp.stable]",
        "y0 = stable[0].state if stable else None",
        f"result = sj.simulate(model, duration={_num(e.duration)}, dt={_num(e.dt)}, "
        "I=stimulus, y0=y0)",
        "plot.plot_trace(result, ax=axes[0, 0])",
        'print(f"{int(result.n_spikes)} spikes")',
        "# the equilibria at I, their types and eigenvalues",
        "for fp in analysis.fixed_points(model, I):",
        '    print(f"V = {fp.V:.4f}: {fp.type.value}, eigenvalues {fp.eigenvalues}")',
    ]
    planar = _compute.planar_model(s)
    if planar is not None and e.box is not None:
        xn, yn = planar.state_names
        starts = ", ".join(f'{{"{xn}": {_num(x)}, "{yn}": {_num(y)}}}' for x, y in s.starts)
        pm = "analysis.reduce_hh(model)" if e.planar is not None else "model"
        lines += [
            "# the phase plane: vector field, nullclines, equilibria, separatrices, trajectories",
            f"planar = {pm}",
            f"plot.phase_portrait(planar, I, {e.box[0]!r}, {e.box[1]!r}, ax=axes[0, 1], "
            f"trajectories=[{starts}], t1={_num(min(e.duration, 100.0))})",
            "planar_points = analysis.fixed_points(planar, I)",
        ]
    elif s.model().n_states == 1:
        lines += [
            "# the phase line",
            f"plot.phase_line(model, I, V_range={e.V_range!r}, ax=axes[0, 1])",
            "planar_points = []",
        ]
    else:
        lines += ["axes[0, 1].set_axis_off()  # no phase plane", "planar_points = []"]
    lo, hi = e.bif_range
    try:
        branches = _compute.branches(s)
    except ValueError:  # no equilibrium to continue from (the page says why)
        branches = []
    starts = [{n: float(v) for n, v in zip(b.state_names, b.states[0])} for b in branches]
    kw = "".join(f", {k}={v!r}" for k, v in e.continuation_kwargs.items())
    lines += [
        "# the bifurcation diagram in I, from each equilibrium at the start of the range",
        f"starts = {starts!r}",
        "branches = [",
        f'    analysis.continuation(model, "I", {_num(lo)}, {_num(hi)}, y0=y0, '
        f"bounds=({_num(lo)}, {_num(hi)}){kw})",
        "    for y0 in starts",
        "]",
        "plot.bifurcation_diagram(branches, ax=axes[1, 0])",
        'axes[1, 0].axvline(I, color="tab:green")',
        "for branch in branches:",
        "    for point in branch.special_points:",
        '        print(f"{point.kind.value} at I = {point.param:.4f}")',
        "# the trace-determinant chart of the planar equilibria",
        "plot.trace_determinant_chart(planar_points, ax=axes[1, 1])",
        'fig.savefig("spikejax_view.png", dpi=80)',
        "",
    ]
    return "\n".join(lines)


def figure(s: _compute.Settings):
    """The matplotlib figure of the view (the one `script` draws)."""
    import matplotlib.pyplot as plt

    e = s.entry
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained")
    plot_trace(_compute.trace(s), ax=axes[0, 0])
    planar = _compute.planar_model(s)
    points = []
    if planar is not None and e.box is not None:
        xn, yn = planar.state_names
        trajs = [{xn: x, yn: y} for x, y in s.starts]
        t1 = min(e.duration, 100.0)
        phase_portrait(planar, s.I, *e.box, ax=axes[0, 1], trajectories=trajs, t1=t1)
        points = fixed_points(planar, s.I)
    elif s.model().n_states == 1:
        phase_line(s.model(), s.I, V_range=e.V_range, ax=axes[0, 1])
    else:
        axes[0, 1].set_axis_off()
    try:
        branches = _compute.branches(s)
    except ValueError as err:  # no equilibrium to continue from
        branches = []
        axes[1, 0].set_title(str(err)[:60], fontsize=8)
    bifurcation_diagram(branches, ax=axes[1, 0])
    axes[1, 0].axvline(s.I, color="tab:green")
    td_chart(points, ax=axes[1, 1])
    return fig


def png(s: _compute.Settings) -> bytes:
    """The view as PNG bytes (`figure`)."""
    import matplotlib.pyplot as plt

    fig = figure(s)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()
