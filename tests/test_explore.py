"""The explorer's page, driven in-process (no browser): its panels against closed forms of the
FitzHugh-Nagumo model, bad input, the catalog, the exported code (run in a fresh interpreter),
the `explore` subcommand. Browser tests: tests/test_explore_browser.py."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spikejax as sj

pytest.importorskip("panel", reason="the explorer needs Panel: pip install 'spikejax[app]'")

ROOT = Path(__file__).resolve().parents[1]
A, B, EPS = 0.7, 0.8, 0.08  # FitzHugh-Nagumo defaults


def _group(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, (pattern, text)
    return found.group(1)


def _fhn_equilibrium(I: float) -> float:
    # v - v^3/3 - w + I = 0 and w = (v + a)/b: one real root of a cubic (numpy.roots).
    roots = np.roots([-1.0 / 3.0, 0.0, 1.0 - 1.0 / B, I - A / B])
    real = roots[np.abs(roots.imag) < 1e-9].real
    assert real.size == 1
    return float(real[0])


def _fhn_hopf_current() -> float:
    # trace of the Jacobian 1 - v^2 - eps b = 0 at the equilibrium: v = -sqrt(1 - eps b).
    v = -np.sqrt(1.0 - EPS * B)
    return -(v - v**3 / 3.0 - (v + A) / B)


@pytest.fixture(scope="module")
def fhn():
    # a user's model object (not from the catalog), as `spikejax.explore(model)` takes it
    view = sj.explore.app(sj.models.FitzHughNagumo(a=A, b=B, eps=EPS))
    return view.explorer


def test_import_spikejax_does_not_load_panel():
    code = (
        "import sys, spikejax; assert 'panel' not in sys.modules and 'bokeh' not in sys.modules;"
        "import spikejax.explore as e; assert 'panel' not in sys.modules;"
        "assert callable(spikejax.explore) and spikejax.explore is e; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr


def test_catalog_has_every_builtin_model_and_preset():
    from spikejax.explore import CATALOG, TOUR

    kinds = {type(e.make()) for e in CATALOG.values()}
    for cls in (
        sj.models.HodgkinHuxley,
        sj.models.ReducedHodgkinHuxley,
        sj.models.LIF,
        sj.models.INaP,
        sj.models.INaPIK,
        sj.models.Izhikevich,
        sj.models.FitzHughNagumo,
        sj.models.MorrisLecar,
    ):
        assert cls in kinds, cls
    made = [e.make() for e in CATALOG.values()]
    izh = {(m.a, m.b, m.c, m.d) for m in made if isinstance(m, sj.models.Izhikevich)}
    assert set(sj.models.IZHIKEVICH_PRESETS.values()) <= izh
    inapik = [m for m in made if isinstance(m, sj.models.INaPIK)]
    assert {float(np.asarray(m.n_V_half)) for m in inapik} == {-25.0, -45.0}  # both K+ variants
    for e in CATALOG.values():
        assert e.I.start < e.I.value < e.I.end or e.I.start <= e.I.value <= e.I.end
    for step in TOUR:
        assert step.model in CATALOG and step.stimulus in ("constant", "step", "pulses")


def test_morris_lecar_entries_compute_their_initial_view():
    from spikejax.explore import CATALOG
    from spikejax.explore._catalog import parameter_sliders, resolve
    from spikejax.explore._compute import Settings, equilibria

    ml = sj.models.MorrisLecar
    for short, preset in (("ml-class1", ml.class1()), ("ml-class2", ml.class2())):
        e = CATALOG[resolve(short)]
        s = Settings(e, I=e.I.value)
        model = s.model()
        assert isinstance(model, ml)
        got = {k: float(v) for k, v in model.parameters().items()}
        assert got == pytest.approx({k: float(v) for k, v in preset.parameters().items()})
        sliders = {sl.name: sl for sl in parameter_sliders(model)}
        for name in ("phi", "gCa"):
            sl = sliders[name]
            assert 0 < sl.start < sl.value < sl.end
        # the slope factors V2, V4 must stay positive (the model refuses 0): not +-40 mV
        assert sliders["V2"].start > 0 and sliders["V4"].start > 0
        v1 = sliders["V1"]  # a voltage: +-40 mV, rounded out to the step
        assert v1.start == pytest.approx(float(np.asarray(model.V1)) - 40.0, abs=v1.step)
        # the initial view's equilibria lie on both nullclines in the entry's phase-plane box:
        # I_inf(V) = I and w = w_inf(V) (the model's own steady-state current; a consistency
        # check), and inside the box
        assert e.box is not None
        (x0, x1), (y0, y1) = e.box
        fps = equilibria(s)
        assert len(fps) == (3 if short == "ml-class1" else 1)
        for fp in fps:
            V, w = fp.state["V"], fp.state["w"]
            assert float(model.steady_state_current(V)) == pytest.approx(s.I, abs=1e-8)
            assert w == pytest.approx(float(model.w_inf(V)), abs=1e-10)
            assert x0 < V < x1 and y0 < w < y1
    # the class-1 entry loses its rest state and saddle at the published fold current,
    # Ermentrout & Terman (2010), ch. 3: I = 39.96 uA/cm^2 (three equilibria just below,
    # one just above)
    e1 = CATALOG[resolve("ml-class1")]
    assert e1.I.start < 39.96 < e1.I.end and e1.bif_range[0] < 39.96 < e1.bif_range[1]
    assert len(equilibria(Settings(e1, I=39.955))) == 3
    assert len(equilibria(Settings(e1, I=39.965))) == 1


def test_panels_follow_the_current_fitzhugh_nagumo(fhn):
    assert fhn.model_select.value.startswith("FitzHughNagumo")
    assert fhn.message.object == ""
    text = fhn.fp_list.object
    assert text.startswith("**1 fixed point** at I = 0:")
    V = float(_group(r"V = (-?[0-9.]+)", text))
    assert V == pytest.approx(_fhn_equilibrium(0.0), abs=0.005)  # printed to 2 decimals
    assert "stable focus" in text
    # the bifurcation diagram: the Hopf point at the closed-form current (printed to 3 decimals)
    I_H = _fhn_hopf_current()
    hopfs = [float(x) for x in re.findall(r"H Hopf at I = ([0-9.]+)", fhn.bif_text.object)]
    assert min(abs(h - I_H) for h in hopfs) < 6e-4, (hopfs, I_H)
    # past the Hopf point rest is an unstable focus and the trace fires
    fhn.set_current("0.5")
    assert "unstable focus" in fhn.fp_list.object
    n = int(_group(r"(\d+) spike", fhn.trace_stats.object))
    assert n >= 3
    assert fhn.bif_span.location == 0.5
    # trace-determinant chart: the point at (tau, Delta) of the Jacobian at rest
    v = _fhn_equilibrium(0.5)
    tau, det = 1.0 - v**2 - EPS * B, EPS * (1.0 - v**2) * (-B) + EPS
    pts = fhn.src_td_pts.data
    assert pts["x"][0] == pytest.approx(tau, rel=1e-6)
    assert pts["y"][0] == pytest.approx(det, rel=1e-6)
    fhn.set_current("0")


def test_click_starts_a_trajectory_that_ends_at_the_stable_focus(fhn):
    fhn.click(1.5, 1.5)
    assert "1 trajectories" in fhn.plane_text.object
    xs, ys = fhn.src_traj.data["xs"][0], fhn.src_traj.data["ys"][0]
    assert (xs[0], ys[0]) == pytest.approx((1.5, 1.5))
    v = _fhn_equilibrium(0.0)
    assert (xs[-1], ys[-1]) == pytest.approx((v, (v + A) / B), abs=0.05)  # t1 = 100
    fhn._on_clear()
    assert "0 trajectories" in fhn.plane_text.object


def test_bad_input_shows_a_message_and_keeps_the_view(fhn):
    before = fhn.fp_list.object
    fhn.set_current("nan")
    assert fhn.message.visible and "I must be a finite number, got 'nan'" in fhn.message.object
    fhn.set_current("1e9")
    assert "I = 1e+09 is outside its range [-1, 2]" in fhn.message.object
    fhn.set_parameter("eps", "abc")
    assert "eps: 'abc' is not a number" in fhn.message.object
    assert fhn.fp_list.object == before
    fhn.set_current("0")
    assert not fhn.message.visible


def test_exported_script_runs_and_reproduces_the_view(fhn, tmp_path, monkeypatch, capsys):
    from spikejax.explore import _export

    s = fhn.settings()
    png = _export.png(s)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    code = fhn.code_view.value
    assert code == _export.script(s)
    (tmp_path / "view.py").write_text(code)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    # Run as a script in this interpreter (its compiled functions are warm); the same file
    # runs alone: `python view.py`.
    runpy.run_path(str(tmp_path / "view.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert (tmp_path / "spikejax_view.png").stat().st_size > 10_000
    # the script prints the equilibria and the special points that the page lists
    V = float(_group(r"V = (-?[0-9.]+): stable focus", out))
    assert V == pytest.approx(_fhn_equilibrium(0.0), abs=1e-4)
    hopfs = [float(x) for x in re.findall(r"H at I = ([0-9.]+)", out)]
    assert min(abs(h - _fhn_hopf_current()) for h in hopfs) < 1e-4


@pytest.mark.slow
def test_exported_script_runs_in_a_fresh_interpreter(tmp_path):
    ex = sj.explore.app("inapik").explorer
    ex.set_current("3")
    ex.click(-50.0, 0.1)
    (tmp_path / "view.py").write_text(ex.code_view.value)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "view.py"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "spikejax_view.png").stat().st_size > 10_000
    assert len(re.findall(r"V = ", out.stdout)) == 3  # three equilibria before the SNIC
    fold = float(_group(r"LP at I = ([0-9.]+)", out.stdout))
    assert fold == pytest.approx(4.51, abs=0.01)  # Izhikevich 2007, fig. 6.7


def test_model_without_a_phase_plane_says_so():
    ex = sj.explore.app("lif").explorer
    assert "no phase plane" in ex.plane_box.objects[0].object
    assert ex.message.object == ""
    # LIF: V relaxes to E_L + R I = -45 mV > V_th at I = 20: repetitive firing, no equilibrium
    assert ex.fp_list.object.startswith("**0 fixed points**")
    assert int(_group(r"(\d+) spike", ex.trace_stats.object)) > 0


def test_explore_subcommand_options():
    from spikejax.cli import DEFAULT_JOB, build_parser

    args = build_parser().parse_args(["explore", "--port", "0", "--no-browser", "--model", "hh"])
    assert (args.port, args.no_browser, args.model) == (0, True, "hh")
    with pytest.raises(SystemExit) as err:
        build_parser().parse_args(["explore", "--port", "70000"])
    assert err.value.code == 2
    assert DEFAULT_JOB == "network"  # `spikejax` alone still runs the COBA network


@pytest.mark.slow
def test_every_tour_step_loads_without_a_message():
    from spikejax.explore import TOUR

    ex = sj.explore.app().explorer
    for step in TOUR:
        ex.tour_select.value = step.title
        assert ex.model_select.value == step.model
        assert ex.message.object == "", (step.title, ex.message.object)
        assert ex.tour_text.object == step.text


@pytest.mark.slow
def test_fi_verdicts_of_the_inapik_variants():
    # Izhikevich 2007, ch. 7: the high-threshold K+ variant (SNIC) is a class-1 integrator,
    # the low-threshold one (Hopf) a class-2 resonator.
    ex = sj.explore.app("inapik").explorer
    ex.tabs.active = 1
    assert "Class 1, integrator" in ex.fi_text.object
    ex.set_model("INaPIK (low-threshold K, Hopf)")
    assert "Class 2, resonator" in ex.fi_text.object


def _fhn_hopf_current_at(a: float) -> float:
    v = -np.sqrt(1.0 - EPS * B)
    return -(v - v**3 / 3.0 - (v + a) / B)


def test_branches_follow_a_parameter_drag_without_blocking(fhn, monkeypatch):
    # While a parameter slider is dragged, the bifurcation diagram is recomputed on the
    # worker thread: the other panels follow each move at once, and of the moves made while
    # one computation runs only the newest is computed next (latest wins).
    import threading

    from spikejax.explore import _compute

    gate, calls = threading.Event(), []
    original = _compute.branches

    def held(s):  # the worker waits at the gate: a slow continuation
        calls.append(dict(s.params).get("a", A))
        assert gate.wait(60)
        return original(s)

    monkeypatch.setattr(_compute, "branches", held)
    slider = fhn._param_widgets["a"][0]
    before = fhn.bif_text.object
    for a in (0.72, 0.74, 0.75):
        slider.value = a
        # the equilibria follow at once: w = (v + a)/b on the cubic nullcline at I = 0
        roots = np.roots([-1.0 / 3.0, 0.0, 1.0 - 1.0 / B, -a / B])
        v = float(roots[np.abs(roots.imag) < 1e-9].real[0])
        found = re.search(r"V = (-?[0-9.]+)", fhn.fp_list.object)
        assert found is not None and float(found.group(1)) == pytest.approx(v, abs=0.005)
    assert fhn.bif_text.object == before  # the page did not wait for the branches
    gate.set()
    assert fhn.wait_for_branches(120)
    # the first move, then only the newest (0.74 is skipped); the exported script asks for
    # the shown branches again (a cache hit without the gate)
    assert calls[:2] == [0.72, 0.75] and set(calls) == {0.72, 0.75}
    hopfs = [float(x) for x in re.findall(r"H Hopf at I = ([0-9.]+)", fhn.bif_text.object)]
    assert min(abs(h - _fhn_hopf_current_at(0.75)) for h in hopfs) < 6e-4, hopfs
    assert abs(_fhn_hopf_current_at(0.75) - _fhn_hopf_current_at(A)) > 0.05  # it moved
    assert fhn.timings["branches_live"] > 0
    slider.value = A  # back to the module's view
    assert fhn.wait_for_branches(120)
    hopfs = [float(x) for x in re.findall(r"H Hopf at I = ([0-9.]+)", fhn.bif_text.object)]
    assert min(abs(h - _fhn_hopf_current()) for h in hopfs) < 6e-4
