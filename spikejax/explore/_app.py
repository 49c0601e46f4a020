"""The explorer's page: Panel widgets and Bokeh figures around `_compute` (imported only when
the app is built, so that `import spikejax` does not load Panel or Bokeh)."""

from __future__ import annotations

import io
import math
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import panel as pn
from bokeh.events import Tap
from bokeh.models import ColumnDataSource, HoverTool, Span
from bokeh.plotting import figure

from ..analysis import FixedPointType, trace_determinant_chart_data
from ..models import NeuronModel
from . import _compute, _export
from ._catalog import CATALOG, Entry, Slider, entry_for, parameter_sliders, resolve
from ._tour import TOUR

#: Colours of the equilibrium types (the five planar types first).
TYPE_COLORS = {
    FixedPointType.STABLE_NODE: "#1f77b4",
    FixedPointType.UNSTABLE_NODE: "#d62728",
    FixedPointType.STABLE_FOCUS: "#2ca02c",
    FixedPointType.UNSTABLE_FOCUS: "#ff7f0e",
    FixedPointType.SADDLE: "#9467bd",
    FixedPointType.SADDLE_FOCUS: "#8c564b",
    FixedPointType.NON_HYPERBOLIC: "#111111",
}
_STATE_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
_W, _H = 430, 300


def _fig(title: str, x: str, y: str, **kw) -> Any:
    f = figure(
        title=title,
        x_axis_label=x,
        y_axis_label=y,
        tools="pan,wheel_zoom,box_zoom,reset,save",
        **{"width": _W, "height": _H, **kw},
    )
    f.toolbar.logo = None
    return f


def _points(fps) -> dict[str, Any]:
    return dict(
        x=[float(fp.vector[0]) for fp in fps],
        y=[float(fp.vector[1]) if fp.vector.size > 1 else 0.0 for fp in fps],
        type=[fp.type.value for fp in fps],
        color=[TYPE_COLORS[fp.type] for fp in fps],
        eig=[", ".join(_compute._complex(z) for z in fp.eigenvalues) for fp in fps],
    )


def _cds(**columns: Any) -> Any:
    """A Bokeh data source of the given columns."""
    return ColumnDataSource(data=columns)


def _hover(renderer, xname: str, yname: str) -> HoverTool:
    return HoverTool(
        renderers=[renderer],
        tooltips=[("type", "@type"), (xname, "@x{0.000}"), (yname, "@y{0.0000}"), ("λ", "@eig")],
    )


def _field_segments(X, Y, U, W, xlim, ylim) -> dict[str, Any]:
    """Direction arrows of unit length in box-normalised coordinates."""
    sx, sy = xlim[1] - xlim[0], ylim[1] - ylim[0]
    u, w = U / sx, W / sy
    norm = np.hypot(u, w)
    norm = np.where(norm > 0, norm, 1.0)
    h = 0.4 / (X.shape[0] - 1)
    dx, dy = h * u / norm * sx, h * w / norm * sy
    return dict(x0=X.ravel(), y0=Y.ravel(), x1=(X + dx).ravel(), y1=(Y + dy).ravel())


def _lines(polys) -> dict[str, Any]:
    return dict(xs=[p[:, 0] for p in polys], ys=[p[:, 1] for p in polys])


def _timed(fn, *args) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


class Explorer:
    """The explorer for one browser session or notebook cell.

    **Arguments:**

    - `model`: optional: a `NeuronModel` to explore (added to the model picker and selected),
      or the name of a catalog model.

    The page is `self.view` (a Panel layout); `settings()` is the current view as
    `_compute.Settings`; `set_model`, `set_current`, `set_parameter`, `click` drive it as
    the widgets do. While a parameter slider is dragged, the bifurcation diagram follows on
    a worker thread (`request_branches`; `live_branches = False` recomputes it on release
    only); `timings` holds the seconds of the last update of each panel.
    """

    live_branches: bool = True

    def __init__(self, model: NeuronModel | str | None = None):
        self.entries: dict[str, Entry] = dict(CATALOG)
        first = next(iter(self.entries))
        if isinstance(model, str):
            first = resolve(model)
        elif model is not None:
            entry = entry_for(model)
            self.entries = {entry.name: entry, **self.entries}
            first = entry.name
        self._busy = False
        self.params: dict[str, float] = {}
        self.starts: list[tuple[float, float]] = []
        self.timings: dict[str, float] = {}
        self._last: _compute.Settings | None = None
        self._branch_params: tuple[tuple[str, float], ...] | None = None
        self._branch_entry: Entry | None = None
        # Live branches: one worker thread computes the bifurcation diagram while a
        # parameter slider is dragged; the newest request waits while one runs (latest wins).
        self._branch_lock = threading.RLock()
        self._branch_pool: ThreadPoolExecutor | None = None
        self._branch_job: Future | None = None
        self._branch_next: _compute.Settings | None = None
        self._branch_idle = threading.Event()
        self._branch_idle.set()

        self.message = pn.pane.Alert(
            "", alert_type="danger", visible=False, css_classes=["sj-message"], width=330
        )
        self.model_select = pn.widgets.Select(
            label="Model",
            options=list(self.entries),
            value=first,
            width=330,
            css_classes=["sj-model"],
        )
        self.tour_select = pn.widgets.Select(
            label="Guided tour", options=["(choose a step)", *[t.title for t in TOUR]], width=330
        )
        self.tour_text = pn.pane.Markdown("", width=330, css_classes=["sj-tour"])
        self.I_slider = pn.widgets.FloatSlider(label="I", start=0, end=1, value=0, width=330)
        self.I_text = pn.widgets.TextInput(
            label="type I", value="0", width=120, css_classes=["sj-I-input"]
        )
        self.stim_select = pn.widgets.RadioButtonGroup(
            label="stimulus", options=list(_compute.STIMULI), value="constant", width=330
        )
        self.pulse_amp = pn.widgets.FloatInput(label="pulse amplitude", value=1.0, width=105)
        self.pulse_interval = pn.widgets.FloatInput(
            label="interval", value=5.0, start=0.01, width=105
        )
        self.n_pulses = pn.widgets.IntInput(label="pulses", value=2, start=1, end=20, width=90)
        self.params_box = pn.Column(width=340)
        self.clear_button = pn.widgets.Button(label="Clear trajectories", width=160)
        self.png_download = pn.widgets.FileDownload(
            callback=self._png, filename="spikejax_view.png", label="Export PNG", width=160
        )
        self.code_download = pn.widgets.FileDownload(
            callback=self._code, filename="spikejax_view.py", label="Export Python", width=160
        )
        self.code_view = pn.widgets.TextAreaInput(
            label="Python code of this view", height=150, width=330, css_classes=["sj-code"]
        )

        self.trace_stats = pn.pane.Markdown("", css_classes=["sj-trace-stats"], width=_W)
        self.fp_list = pn.pane.Markdown("", css_classes=["sj-fixed-points"], width=_W)
        self.bif_text = pn.pane.Markdown("", css_classes=["sj-special-points"], width=_W)
        self.fi_text = pn.pane.Markdown("", css_classes=["sj-fi-verdict"], width=_W)
        self.plane_text = pn.pane.Markdown("", css_classes=["sj-plane-info"], width=_W)
        self.trace_box = pn.Column()
        self.plane_box = pn.Column(css_classes=["sj-plane"])
        self.bif_box = pn.Column()
        self.td_box = pn.Column()
        self.fi_box = pn.Column(
            pn.widgets.Button(label="Compute the F-I curve and the class", width=300)
        )
        self.tabs = pn.Tabs(
            ("Trace-determinant", pn.Column(self.td_box)),
            ("F-I curve and class", pn.Column(self.fi_box, self.fi_text)),
            dynamic=False,
        )

        self.model_select.param.watch(self._on_model, "value")
        self.tour_select.param.watch(self._on_tour, "value")
        self.I_slider.param.watch(self._on_I_slider, "value")
        self.I_text.param.watch(self._on_I_text, "value")
        self.stim_select.param.watch(self._on_stimulus, "value")
        for w in (self.pulse_amp, self.pulse_interval, self.n_pulses):
            w.param.watch(self._on_stimulus, "value")
        self.clear_button.on_click(self._on_clear)
        self.tabs.param.watch(self._on_tab, "active")

        controls = pn.Column(
            pn.pane.Markdown("## spikejax explorer", width=330),
            self.message,
            self.model_select,
            self.tour_select,
            self.tour_text,
            self.I_slider,
            self.I_text,
            pn.pane.Markdown("**Stimulus of the trace**", width=330),
            self.stim_select,
            pn.Row(self.pulse_amp, self.pulse_interval, self.n_pulses),
            pn.pane.Markdown("**Parameters** (slider, or type a value and press Enter)"),
            self.params_box,
            self.clear_button,
            pn.Row(self.png_download, self.code_download),
            self.code_view,
            width=350,
        )
        main = pn.Column(
            pn.Row(
                pn.Column(self.trace_box, self.trace_stats),
                pn.Column(self.plane_box, self.plane_text, self.fp_list),
            ),
            pn.Row(pn.Column(self.bif_box, self.bif_text), self.tabs),
        )
        self.view = pn.Row(controls, main, css_classes=["sj-explorer"])
        self.set_model(first)

    # ----- state ------------------------------------------------------------------------
    @property
    def entry(self) -> Entry:
        return self.entries[self.model_select.value]

    def settings(self) -> _compute.Settings:
        """The current view."""
        defaults = {s.name: s.value for s in self._sliders}
        changed = tuple((k, v) for k, v in self.params.items() if v != defaults.get(k))
        return _compute.Settings(
            self.entry,
            changed,
            float(self.I_slider.value),
            self.stim_select.value,
            float(self.pulse_amp.value),
            float(self.pulse_interval.value),
            int(self.n_pulses.value or 1),
            tuple(self.starts),
        )

    def _say(self, text: str) -> None:
        self.message.object = text
        self.message.visible = bool(text)

    def _guard(self, what: str, fn, *args) -> bool:
        """Run one panel's update; an error becomes a message in the page."""
        try:
            fn(*args)
            return True
        except Exception as err:  # shown to the user; the page stays usable
            detail = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
            self._errors.append(f"{what}: {type(err).__name__}: {detail}")
            if not isinstance(err, (ValueError, TypeError)):
                traceback.print_exc()
            return False

    # ----- model --------------------------------------------------------------------------
    def set_model(self, name: str) -> None:
        """Select a model of the picker by name (as the picker does)."""
        if self.model_select.value != name:
            self.model_select.value = name  # calls back into _on_model
        else:
            self._on_model()

    def _on_model(self, *_):
        with pn.io.hold():
            self._switch_model()

    def _switch_model(self) -> None:
        entry = self.entry
        with self._branch_lock:
            self._branch_next = None  # a live request for the previous model is dropped
        self._branch_params = self._branch_entry = None  # new figures: nothing shown yet
        self._busy = True
        try:
            model = entry.make()
            self._sliders: list[Slider] = parameter_sliders(model)
            self.params = {s.name: s.value for s in self._sliders}
            self.starts = []
            I = entry.I
            self.I_slider.label = I.label
            self.I_slider.start, self.I_slider.end = I.start, I.end
            self.I_slider.step = I.step
            self.I_slider.value = I.value
            self.I_text.value = f"{I.value:g}"
            self.pulse_amp.value = entry.pulse_amplitude
            self._build_parameter_widgets()
            self._build_figures(model)
        finally:
            self._busy = False
        self.refresh(slow=True)

    def _build_parameter_widgets(self) -> None:
        rows = []
        self._param_widgets = {}
        for s in self._sliders:
            slider = pn.widgets.FloatSlider(
                label=s.label, start=s.start, end=s.end, step=s.step, value=s.value, width=220
            )
            text = pn.widgets.TextInput(value=f"{s.value:g}", width=90)
            slider.param.watch(lambda e, n=s.name: self._on_param_slider(n, e), "value")
            slider.param.watch(lambda e: self._on_param_release(), "value_throttled")
            text.param.watch(lambda e, n=s.name: self._on_param_text(n, e), "value")
            self._param_widgets[s.name] = (slider, text)
            rows.append(pn.Row(slider, text))
        self.params_box.objects = rows

    # ----- figures ------------------------------------------------------------------------
    def _build_figures(self, model: NeuronModel) -> None:
        entry = self.entry
        tu, vu, cu = model.time_unit, model.voltage_unit, model.current_unit
        f = _fig("trace", f"t ({tu})", f"{model.voltage_name} ({vu})")
        self.src_trace = _cds(t=[], v=[])
        f.line("t", "v", source=self.src_trace, color="black", line_width=1.2)
        self.src_spikes = _cds(t=[], v=[])
        f.scatter("t", "v", source=self.src_spikes, marker="inverted_triangle", color="red")
        others = [n for n in model.state_names if n != model.voltage_name]
        g = _fig("other state variables", f"t ({tu})", "", height=170, x_range=f.x_range)
        self.src_states = _cds(t=[], **{n: [] for n in others})
        for k, n in enumerate(others):
            g.line("t", n, source=self.src_states, legend_label=n, color=_STATE_COLORS[k % 5])
        if others:
            g.legend.location = "top_left"
        self.trace_box.objects = [f, g] if others else [f]

        self.src_field = _cds(x0=[], y0=[], x1=[], y1=[])
        self.src_null = [_cds(xs=[], ys=[]) for _ in range(2)]
        self.src_sep = _cds(xs=[], ys=[])
        self.src_traj = _cds(xs=[], ys=[])
        self.src_fp = _cds(**_points([]))
        self.src_line = _cds(x=[], y=[])
        planar = _compute.planar_model(self.settings())
        if planar is not None and entry.box is not None:
            (x0, x1), (y0, y1) = entry.box
            xn, yn = planar.state_names
            p = _fig(
                "phase plane (click to start a trajectory)",
                f"{xn} ({planar.voltage_unit})",
                yn,
                x_range=(x0, x1),
                y_range=(y0, y1),
            )
            p.segment("x0", "y0", "x1", "y1", source=self.src_field, color="#999999")
            p.scatter("x1", "y1", source=self.src_field, size=2, color="#999999")
            for k, (name, color) in enumerate(zip(planar.state_names, ("#d62728", "#1f77b4"))):
                p.multi_line(
                    "xs",
                    "ys",
                    source=self.src_null[k],
                    color=color,
                    line_width=2,
                    legend_label=f"{name}-nullcline",
                )
            p.multi_line(
                "xs", "ys", source=self.src_sep, color="#9467bd", line_dash="dashed", line_width=2
            )
            p.multi_line("xs", "ys", source=self.src_traj, color="black", line_width=1.5)
            r = p.scatter(
                "x",
                "y",
                source=self.src_fp,
                size=12,
                color="color",
                line_color="black",
                legend_field="type",
            )
            p.add_tools(_hover(r, xn, yn))
            p.legend.location = "top_left"
            p.legend.label_text_font_size = "8pt"
            p.on_event(Tap, self._on_tap)
            self.plane_fig = p
            self.plane_box.objects = [p]
        elif model.n_states == 1:
            lo, hi = entry.V_range or (-100.0, 50.0)
            p = _fig("phase line", f"{model.voltage_name} ({vu})", f"d{model.voltage_name}/dt")
            p.line("x", "y", source=self.src_line, color="black", line_width=1.5)
            p.add_layout(Span(location=0, dimension="width", line_color="#999999"))
            r = p.scatter("x", "y", source=self.src_fp, size=12, color="color", line_color="black")
            p.add_tools(_hover(r, model.voltage_name, "dV/dt"))
            self.plane_fig = p
            self.plane_box.objects = [p]
        else:
            self.plane_fig = None
            msg = entry.no_plane or f"{type(model).__name__}: no phase plane"
            self.plane_box.objects = [
                pn.pane.Alert(msg, alert_type="info", width=_W, css_classes=["sj-no-plane"])
            ]

        b = _fig("bifurcation diagram", f"I ({cu})", f"{model.voltage_name} ({vu})")
        self.src_bif_stable = _cds(xs=[], ys=[])
        self.src_bif_unstable = _cds(xs=[], ys=[])
        self.src_bif_special = _cds(x=[], y=[], kind=[], text=[])
        self.src_bif_now = _cds(**_points([]))
        b.multi_line("xs", "ys", source=self.src_bif_stable, color="black", line_width=2)
        b.multi_line("xs", "ys", source=self.src_bif_unstable, color="black", line_dash="dashed")
        b.scatter("x", "y", source=self.src_bif_special, size=9, color="red")
        b.text("x", "y", text="kind", source=self.src_bif_special, text_font_size="9pt", x_offset=4)
        r = b.scatter("x", "y", source=self.src_bif_now, size=9, color="color", line_color="black")
        b.add_tools(_hover(r, "I", model.voltage_name))
        self.bif_span = Span(location=0.0, dimension="height", line_color="#2ca02c", line_width=2)
        b.add_layout(self.bif_span)
        self.bif_box.objects = [b]

        t = _fig(
            "trace-determinant chart",
            "trace τ",
            "determinant Δ",
            height=260,
            x_range=(-1.0, 1.0),
            y_range=(-0.1, 0.3),
        )
        self.src_td_par = _cds(x=[], y=[])
        self.src_td_pts = _cds(**_points([]))
        t.line("x", "y", source=self.src_td_par, color="#777777")
        t.add_layout(Span(location=0, dimension="width", line_color="#777777"))
        t.add_layout(Span(location=0, dimension="height", line_color="#777777"))
        r = t.scatter("x", "y", source=self.src_td_pts, size=12, color="color", line_color="black")
        t.add_tools(_hover(r, "τ", "Δ"))
        self.td_fig = t
        self.td_box.objects = [t]

        fi = _fig("F-I curve", f"I ({cu})", "rate")
        self.src_fi_up = _cds(x=[], y=[])
        self.src_fi_down = _cds(x=[], y=[])
        fi.line("x", "y", source=self.src_fi_up, legend_label="from rest", color="black")
        fi.line("x", "y", source=self.src_fi_down, legend_label="from firing", line_dash="dashed")
        fi.legend.location = "top_left"
        self.fi_fig = fi
        button = pn.widgets.Button(label="Compute the F-I curve and the class", width=300)
        button.on_click(lambda e: self.refresh_fi())
        self.fi_box.objects = [button, fi]
        self.fi_text.object = ""

    # ----- updates ------------------------------------------------------------------------
    def refresh(self, slow: bool = False) -> None:
        """Recompute the panels: the fast ones (trace, equilibria, phase plane, the current
        on the bifurcation diagram, the trace-determinant chart) always, the bifurcation
        branches when `slow` (after a parameter change), the F-I curve if its tab is open."""
        if self._busy:
            return
        # The Bokeh data sources change under the session's document lock, sent at once.
        with pn.io.hold():
            self._refresh(slow)

    def _refresh(self, slow: bool) -> None:
        self._errors: list[str] = []
        try:
            s = self.settings()
            s.model()  # the model's own checks name a bad parameter
        except Exception as err:
            self._say(f"{type(err).__name__}: {err}")
            return
        t0 = time.perf_counter()
        self._guard("trace", self._update_trace, s)
        t1 = time.perf_counter()
        self._guard("equilibria", self._update_equilibria, s)
        t2 = time.perf_counter()
        if slow:
            self._guard("bifurcation diagram", self._update_branches, s)
        t3 = time.perf_counter()
        self.timings = dict(trace=t1 - t0, analysis=t2 - t1, total=t3 - t0)
        if slow:
            self.timings["branches"] = t3 - t2
        if slow:
            self.fi_text.object = ""
            self.src_fi_up.data = dict(x=[], y=[])
            self.src_fi_down.data = dict(x=[], y=[])
            if self.tabs.active == 1:
                self.refresh_fi()
        self._last = s
        if s.params == self._branch_params and s.entry == self._branch_entry:
            # The script lists the branches' starting states: rewritten once they are shown
            # (by the worker, when they were computed live).
            self._guard("Python export", self._update_code, s)
        self._say("\n\n".join(self._errors))

    def _update_code(self, s: _compute.Settings) -> None:
        self.code_view.value = _export.script(s)

    def _update_trace(self, s: _compute.Settings) -> None:
        res = _compute.trace(s)
        model = s.model()
        v = np.asarray(res.states[model.voltage_name]).reshape(-1)
        t = np.asarray(res.times)
        self.src_trace.data = dict(t=t, v=v)
        st = np.asarray(res.spike_times).reshape(-1)
        st = st[np.isfinite(st)]
        self.src_spikes.data = dict(t=st, v=np.full(st.shape, float(np.nanmax(v))))
        others = {n: np.asarray(res.states[n]).reshape(-1) for n in model.state_names}
        others.pop(model.voltage_name)
        self.src_states.data = dict(t=t, **others)
        n = int(res.n_spikes)
        stim = {"constant": "constant I", "step": f"step to I at t = {s.onset:g}"}.get(
            s.stimulus, f"{s.n_pulses} pulses of {s.amplitude:g}, {s.pulse_interval:g} apart, on I"
        )
        self.trace_stats.object = (
            f"**{n} spike{'s' * (n != 1)}** in {s.entry.duration:g} {model.time_unit} "
            f"({stim}, I = {s.I:g})"
        )

    def _update_equilibria(self, s: _compute.Settings) -> None:
        fps = _compute.equilibria(s)
        n = len(fps)
        lines = [f"**{n} fixed point{'s' * (n != 1)}** at I = {s.I:g}:"]
        lines += [f"- {_compute.describe_point(fp)}" for fp in fps]
        self.fp_list.object = "\n".join(lines)
        self.src_bif_now.data = {
            **_points(fps),
            "x": [s.I] * n,
            "y": [fp.V for fp in fps],
        }
        self.bif_span.location = s.I
        planar_fps = fps
        if self.plane_fig is not None and s.entry.box is not None:
            plane = _compute.plane(s)
            planar_fps = plane.fixed_points
            X, Y, U, W = plane.field
            self.src_field.data = _field_segments(X, Y, U, W, plane.xlim, plane.ylim)
            for k, name in enumerate(plane.model.state_names):
                self.src_null[k].data = _lines(plane.nullclines[name])
            self.src_sep.data = _lines(plane.separatrices)
            self.src_traj.data = _lines(plane.trajectories)
            self.src_fp.data = _points(plane.fixed_points)
            note = f" {s.entry.planar_note}." if s.entry.planar_note else ""
            self.plane_text.object = (
                f"{len(plane.trajectories)} trajectories, {len(plane.separatrices)} separatrix "
                f"branches.{note}"
            )
        elif self.plane_fig is not None:
            pl = _compute.line(s)
            self.src_line.data = dict(x=pl.V, y=pl.dVdt)
            self.src_fp.data = {**_points(pl.fixed_points), "y": [0.0] * len(pl.fixed_points)}
            arrows = ", ".join(
                f"{'→' if d > 0 else '←'} on ({a:.1f}, {b:.1f})" for a, b, d in pl.intervals
            )
            self.plane_text.object = f"Flow: {arrows}."
        planar = [fp for fp in planar_fps if fp.jacobian.shape == (2, 2)]
        taus = [fp.trace for fp in planar]
        dets = [fp.determinant for fp in planar]
        w = max([1e-3, *(abs(x) for x in taus), *(math.sqrt(abs(d)) for d in dets)]) * 1.3
        par = trace_determinant_chart_data((-w, w))["parabola"]
        self.src_td_par.data = dict(x=par[0], y=par[1])
        self.src_td_pts.data = {**_points(planar), "x": taus, "y": dets}
        self.td_fig.x_range.start, self.td_fig.x_range.end = -w, w
        top = max([w * w / 4.0, *dets]) * 1.15
        self.td_fig.y_range.start = min([-0.25 * top, *(1.15 * d for d in dets)])
        self.td_fig.y_range.end = top

    def _update_branches(self, s: _compute.Settings) -> None:
        if s.params == self._branch_params and s.entry == self._branch_entry:
            return  # shown already (computed live while the slider moved)
        with self._branch_lock:
            if self._branch_job is not None and not self._branch_job.done():
                self._branch_next = s  # the worker shows them next: the page is not blocked
                return
        self.src_bif_stable.data = dict(xs=[], ys=[])
        self.src_bif_unstable.data = dict(xs=[], ys=[])
        self.src_bif_special.data = dict(x=[], y=[], kind=[], text=[])
        self.bif_text.object = "computing the branches ..."
        self._show_branches(s, _compute.branches(s))

    # ----- live branches ----------------------------------------------------------------------
    def request_branches(self, s: _compute.Settings | None = None) -> None:
        """Recompute the bifurcation diagram for `s` (default: the current view) on the
        worker thread, without blocking the other panels: a parameter slider's drag calls it
        at every move. While one computation runs, only the newest request waits (latest
        wins); each result is shown when it is ready (in a server session, on the session's
        next tick, under its document lock). `wait_for_branches` waits for the worker."""
        s = self.settings() if s is None else s
        with self._branch_lock:
            if self._branch_job is not None and not self._branch_job.done():
                self._branch_next = s
                return
            if s.params == self._branch_params and s.entry == self._branch_entry:
                return
            self._start_branches(s)

    def wait_for_branches(self, timeout: float = 120.0) -> bool:
        """Wait until the worker has shown the newest requested branches; False on timeout."""
        return self._branch_idle.wait(timeout)

    def _start_branches(self, s: _compute.Settings, doc: Any = None) -> None:
        # called with the lock held; `doc`: the session's document (default: the current one)
        if self._branch_pool is None:
            self._branch_pool = ThreadPoolExecutor(1, thread_name_prefix="spikejax-branches")
        self._branch_idle.clear()
        doc = pn.state.curdoc if doc is None else doc
        job = self._branch_pool.submit(_timed, _compute.branches, s)
        job.add_done_callback(lambda j: self._branches_done(j, s, doc))
        self._branch_job = job

    def _branches_done(self, job: Future, s: _compute.Settings, doc: Any) -> None:
        def show() -> None:
            try:
                current = self.settings()
                fresh = not (
                    self._branch_params == current.params and self._branch_entry == current.entry
                )
                if s.entry == self.entry and fresh:
                    err = job.exception()
                    with pn.io.hold():
                        if err is None:
                            branches, seconds = job.result()
                            self.timings["branches_live"] = seconds
                            self._show_branches(s, branches)
                            if s.params == current.params:
                                self.code_view.value = _export.script(s)
                        else:
                            self.bif_text.object = (
                                f"bifurcation diagram: {type(err).__name__}: {err}"
                            )
            finally:
                with self._branch_lock:
                    nxt, self._branch_next = self._branch_next, None
                    if nxt is not None and nxt.entry == self.entry:
                        self._start_branches(nxt, doc)
                    else:
                        self._branch_idle.set()

        if doc is not None and getattr(doc, "session_context", None) is not None:
            doc.add_next_tick_callback(show)
        else:  # no server session (a test, a script): show from the worker
            show()

    def _show_branches(self, s: _compute.Settings, branches) -> None:
        self._branch_params = s.params
        self._branch_entry = s.entry
        st, un = dict(xs=[], ys=[]), dict(xs=[], ys=[])
        sp = dict(x=[], y=[], kind=[], text=[])
        for br in branches:
            V = br.voltage
            stable = np.asarray(br.stable)
            cuts = np.flatnonzero(np.diff(stable.astype(int))) + 1
            for seg in np.split(np.arange(len(V)), cuts):
                lo, hi = seg[0], min(seg[-1] + 2, len(V))
                target = st if stable[seg[0]] else un
                target["xs"].append(br.params[lo:hi])
                target["ys"].append(V[lo:hi])
            for p in br.special_points:
                v = p.state.get(br.voltage_name, np.nan)
                sp["x"].append(p.param)
                sp["y"].append(v)
                sp["kind"].append(str(p.kind.value))
                sp["text"].append(_special_text(p))
        self.src_bif_stable.data = st
        self.src_bif_unstable.data = un
        self.src_bif_special.data = sp
        if sp["text"]:
            self.bif_text.object = "Special points: " + "; ".join(sorted(set(sp["text"])))
        else:
            lo, hi = s.entry.bif_range
            self.bif_text.object = f"No bifurcation of equilibria for I in [{lo:g}, {hi:g}]."

    def refresh_fi(self) -> None:
        """Compute the F-I curve, Hodgkin's class and the integrator / resonator verdict."""
        with pn.io.hold():
            self._refresh_fi()

    def _refresh_fi(self) -> None:
        s = self.settings()
        self.fi_text.object = "computing ..."
        self._errors = []
        if self._guard("F-I curve", self._update_fi, s):
            self._say("")
        else:
            self.fi_text.object = ""
            self._say("\n\n".join(self._errors))

    def _update_fi(self, s: _compute.Settings) -> None:
        rep = _compute.excitability(s)
        fi = rep.fi
        up = fi.rate_up if fi.rate_up is not None else np.zeros_like(fi.currents)
        self.src_fi_up.data = dict(x=fi.currents, y=up)
        if fi.rate_down is not None:
            self.src_fi_down.data = dict(x=fi.currents, y=fi.rate_down)
        self.fi_fig.yaxis.axis_label = f"rate ({fi.unit})"
        cls = "no spikes in the range" if rep.hodgkin_class is None else rep.hodgkin_class
        self.fi_text.object = (
            f"**Class {cls}, {rep.kind}**; onset: {rep.onset_bifurcation}. "
            f"Rheobase {_fmt(rep.rheobase)}, firing from I = {_fmt(rep.firing_onset)}."
        )

    # ----- callbacks ------------------------------------------------------------------------
    def _on_tour(self, event) -> None:
        step = next((t for t in TOUR if t.title == event.new), None)
        if step is None:
            self.tour_text.object = ""
            return
        self._busy = True
        try:
            self.model_select.value = step.model
        finally:
            self._busy = False
        self._on_model()
        self._busy = True
        try:
            self.stim_select.value = step.stimulus
            if step.pulse_amplitude is not None:
                self.pulse_amp.value = step.pulse_amplitude
            self.pulse_interval.value = step.pulse_interval
            self.n_pulses.value = step.n_pulses
            self.I_slider.value = step.I
            self.I_text.value = f"{step.I:g}"
        finally:
            self._busy = False
        self.tour_text.object = step.text
        self.refresh()

    def set_current(self, value: Any) -> None:
        """Set `I` as typed into its box (a message for a non-number or out of range)."""
        self.I_text.value = str(value)

    def set_parameter(self, name: str, value: Any) -> None:
        """Set a parameter as typed into its box (a message for a bad value)."""
        self._param_widgets[name][1].value = str(value)

    def click(self, x: float, y: float) -> None:
        """Start a trajectory at `(x, y)` of the phase plane, as a click does."""
        self.starts.append((float(x), float(y)))
        self.refresh()

    def _on_tap(self, event) -> None:
        if event.x is not None and event.y is not None:
            self.click(event.x, event.y)

    def _on_clear(self, *_):
        self.starts = []
        self.refresh()

    def _on_I_slider(self, event) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self.I_text.value = f"{event.new:g}"
        finally:
            self._busy = False
        self.refresh()

    def _parse(self, label: str, text: str, lo: float, hi: float) -> float | None:
        try:
            v = float(str(text).strip())
        except ValueError:
            self._say(f"{label}: {text!r} is not a number")
            return None
        if not math.isfinite(v):
            self._say(f"{label} must be a finite number, got {text!r}")
            return None
        if not (lo <= v <= hi):
            self._say(f"{label} = {v:g} is outside its range [{lo:g}, {hi:g}]")
            return None
        return v

    def _on_I_text(self, event) -> None:
        if self._busy:
            return
        I = self.entry.I
        v = self._parse(I.label, event.new, I.start, I.end)
        if v is None:
            return
        self._say("")
        self._busy = True
        try:
            self.I_slider.value = v
        finally:
            self._busy = False
        self.refresh()

    def _on_param_slider(self, name: str, event) -> None:
        if self._busy:
            return
        self.params[name] = float(event.new)
        self._busy = True
        try:
            self._param_widgets[name][1].value = f"{event.new:g}"
        finally:
            self._busy = False
        self.refresh()
        if self.live_branches:
            self._guard("bifurcation diagram", self.request_branches)

    def _on_param_release(self) -> None:
        if not self._busy:
            self.refresh(slow=True)

    def _on_param_text(self, name: str, event) -> None:
        if self._busy:
            return
        s = next(s for s in self._sliders if s.name == name)
        v = self._parse(s.label, event.new, s.start, s.end)
        if v is None:
            return
        try:
            self.entry.make().replace(**{**self.params, name: v})
        except (ValueError, TypeError) as err:
            self._say(str(err))
            return
        self._say("")
        self.params[name] = v
        self._busy = True
        try:
            self._param_widgets[name][0].value = v
        finally:
            self._busy = False
        self.refresh(slow=True)

    def _on_stimulus(self, *_):
        if not self._busy:
            self.refresh()

    def _on_tab(self, event) -> None:
        if event.new == 1 and not self.fi_text.object:
            self.refresh_fi()

    # ----- export ---------------------------------------------------------------------------
    def _png(self) -> io.BytesIO:
        return io.BytesIO(_export.png(self.settings()))

    def _code(self) -> io.StringIO:
        return io.StringIO(_export.script(self.settings()))


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.4g}"


def _special_text(p) -> str:
    names = {"LP": "fold (saddle-node)", "H": "Hopf", "TH": "threshold", "LPC": "fold of cycles"}
    kind = str(p.kind.value)
    extra = f", {p.criticality}" if kind == "H" and p.criticality else ""
    return f"{kind} {names.get(kind, kind)} at I = {p.param:.3f}{extra}"
