"""The one pseudo-arclength driver (`spikejax.solvers.continue_branch`) on a problem with a
closed-form solution curve, its statuses and failures, and the precision policy of the
continuation functions built on it."""

import jax.numpy as jnp
import numpy as np
import pytest

from spikejax.solvers import (
    BranchStatus,
    ContinuationError,
    ContinuationProblem,
    LocatedPoint,
    PseudoArclength,
    SpecialPointKind,
    Stop,
    continue_branch,
)


class Circle(ContinuationProblem):
    """$x^2 + p^2 = 1$ in $u = (x, p)$: folds in $p$ at $(0, \\pm 1)$."""

    def residual(self, u):
        return jnp.atleast_1d(u[0] ** 2 + u[1] ** 2 - 1.0)

    def test_functions(self):
        return {"LP": lambda u, t, J: float(t[-1])}


class StopAtNegativeX(Circle):
    """The circle, ending (without the point) where x becomes negative."""

    def stop_condition(self, u, data, history):
        if u[0] < 0:
            return Stop(BranchStatus.omega_zero, "x < 0", keep=False)
        return None


def test_folds_of_a_circle_located_in_arclength():
    # Truth: the curve is the unit circle (every point to the Newton tolerance, 1e-10) and
    # its folds in p are (0, +1) and (0, -1); the default locator (regula falsi in
    # arclength to 1e-10) puts them within 1e-8 in x.
    alg = PseudoArclength(ds=0.1, ds_min=1e-8, ds_max=0.2)
    res = continue_branch(Circle(), np.array([1.0, 0.0]), alg, max_steps=60)
    assert res.status == "max_steps" and isinstance(res.status, BranchStatus) and res.ok
    np.testing.assert_allclose(np.sum(res.points**2, axis=1), 1.0, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(res.tangents, axis=1), 1.0, rtol=1e-12)
    assert np.all(np.diff(res.arclength) > 0)
    assert res.points[1, 1] > 0  # direction=+1: p increases first
    folds = [sp for sp in res.special_points if sp.kind == "LP"]
    assert len(folds) >= 2 and all(isinstance(sp, LocatedPoint) and sp.located for sp in folds)
    for sp, p in zip(folds[:2], (1.0, -1.0), strict=True):
        assert abs(sp.u[0]) < 1e-8 and sp.u[1] == pytest.approx(p, abs=1e-12)
    assert res.test_values["LP"].shape == (len(res),)


def test_stop_and_bounds_end_exactly():
    alg = PseudoArclength(ds=0.1, ds_min=1e-8, ds_max=0.2)
    res = continue_branch(Circle(), np.array([1.0, 0.0]), alg, stop=0.5)
    assert res.status == BranchStatus.reached_stop
    assert res.points[-1, 1] == 0.5 and res.points[-1, 0] == pytest.approx(np.sqrt(0.75), 1e-12)
    res = continue_branch(Circle(), np.array([1.0, 0.0]), alg, direction=-1.0, bounds=(-0.5, 2.0))
    assert res.status == "left_bounds" and res.points[-1, 1] == -0.5


def test_problem_stop_condition_drops_the_point():
    alg = PseudoArclength(ds=0.1, ds_min=1e-8, ds_max=0.2)
    res = continue_branch(StopAtNegativeX(), np.array([1.0, 0.0]), alg, max_steps=100)
    assert res.status == "omega_zero" and res.message == "x < 0"
    assert np.all(res.points[:, 0] >= 0)


def test_corrector_failure_status_and_throw():
    # One Newton iteration cannot meet 1e-10 from a predictor 0.5 off the circle.
    alg = PseudoArclength(ds=0.5, ds_min=0.2, ds_max=0.5, max_newton=1)
    res = continue_branch(Circle(), np.array([1.0, 0.0]), alg, max_steps=10)
    assert res.status == "newton_failed" and not res.ok and "Newton" in res.message
    with pytest.raises(ContinuationError, match="Newton"):
        continue_branch(Circle(), np.array([1.0, 0.0]), alg, max_steps=10, throw=True)


def test_enums_equal_todays_strings():
    assert [str(s) for s in BranchStatus] == [
        "reached_stop",
        "left_bounds",
        "max_steps",
        "newton_failed",
        "period_diverged",
        "amplitude_vanished",
        "omega_zero",
        "saddle_node",
    ]
    assert {str(k) for k in SpecialPointKind} == {
        *("LP", "H", "TH", "LPC", "PD", "NS", "BP"),
        *("BPC", "BT", "CP", "GH", "ZH", "NSS", "SNL"),
    }
    assert BranchStatus("reached_stop") is BranchStatus.reached_stop


def test_bad_algorithm_settings():
    with pytest.raises(ValueError, match="ds_min <= ds <= ds_max"):
        PseudoArclength(ds=1.0, ds_min=0.1, ds_max=0.5)
    with pytest.raises(ValueError, match="ds must be finite"):
        PseudoArclength(ds=float("nan"), ds_min=0.1, ds_max=0.5)
    with pytest.raises(ValueError, match="max_newton"):
        PseudoArclength(ds=0.1, ds_min=0.1, ds_max=0.5, max_newton=0)


_FLOAT32_SCRIPT = """
import numpy as np
from spikejax import analysis
from spikejax.models import FitzHughNagumo
m = FitzHughNagumo()
hopf = analysis.SpecialPoint("H", 0.3, {"v": -1.0, "w": -0.4}, 0, omega=0.28)
calls = {
    "continuation": lambda: analysis.continuation(m, start=0.0, stop=1.0),
    "bifurcation_curve": lambda: analysis.bifurcation_curve(m, hopf, "a", 1.0),
    "continue_cycles": lambda: analysis.continue_cycles(m, hopf, bounds=(0.0, 1.0)),
    "find_cycle": lambda: analysis.find_cycle(m, 0.5, {"v": 1.0}, 30.0),
}
for name, call in calls.items():
    try:
        call()
        print(name, "NO ERROR")
    except ValueError as e:
        print(name, "enable_x64" in str(e) and name in str(e))
"""


def test_float32_gets_the_enable_float64_message(fresh_python, tmp_path):
    # A fresh interpreter in JAX's default float32: every continuation entry point says how
    # to enable float64 instead of failing later with a misleading cause.
    status, out = fresh_python.run(_FLOAT32_SCRIPT, tmp_path, 600)
    assert status == 0, out
    lines = out.split("\n")
    for name in ("continuation", "bifurcation_curve", "continue_cycles", "find_cycle"):
        assert f"{name} True" in lines, out
