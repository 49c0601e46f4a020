"""Phase-plane figures (Agg backend): they build without error and contain the expected
artists (markers per fixed point with the right fill, nullclines, separatrix, basin...)."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from spikejax import plot
from spikejax.analysis import (
    FixedPointType,
    fixed_points,
    planar_type,
    trace_determinant,
    trace_determinant_chart_data,
)
from spikejax.models import FitzHughNagumo, INaP, Izhikevich

# The Agg backend is selected in tests/conftest.py (MPLBACKEND=Agg).
T = FixedPointType


def by_gid(ax, prefix):
    return [a for a in ax.get_children() if (a.get_gid() or "").startswith(prefix)]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_izhikevich_portrait_artists():
    fig, ax = plot.phase_portrait(
        Izhikevich(),
        0.0,
        (-80.0, -30.0),
        (-20.0, 0.0),
        trajectories=[{"V": -60.0, "u": -16.0}],
        t1=100.0,
        basin=True,
        basin_n=21,
    )
    assert isinstance(fig, matplotlib.figure.Figure)
    node = by_gid(ax, "fixed_point:STABLE_NODE")
    saddle = by_gid(ax, "fixed_point:SADDLE")
    assert len(node) == 1 and len(saddle) == 1
    assert node[0].get_fillstyle() == "full"
    assert saddle[0].get_fillstyle() == "left"  # half-filled
    np.testing.assert_allclose(node[0].get_xydata()[0], [-70.0, -14.0], atol=1e-9)
    np.testing.assert_allclose(saddle[0].get_xydata()[0], [-50.0, -10.0], atol=1e-9)
    assert len(by_gid(ax, "separatrix")) == 2
    assert len(by_gid(ax, "trajectory")) == 1
    assert len(by_gid(ax, "basin")) == 1
    assert len(by_gid(ax, "arrows")) == 1
    assert by_gid(ax, "nullcline:V") and by_gid(ax, "nullcline:u")
    fig.canvas.draw()


def test_fhn_portrait_unstable_focus_is_open():
    fig, ax = plot.phase_portrait(FitzHughNagumo(), 0.5, (-2.5, 2.5), (-1.0, 2.0), arrows=9)
    (fp,) = by_gid(ax, "fixed_point:")
    assert fp.get_gid() == "fixed_point:UNSTABLE_FOCUS" and fp.get_fillstyle() == "none"
    assert not by_gid(ax, "separatrix")  # no saddle
    fig.canvas.draw()


def test_phase_line_artists():
    fig, ax = plot.phase_line(INaP(), 0.0, V_range=(-80.0, 30.0))
    fps = by_gid(ax, "fixed_point:")
    assert [a.get_gid() for a in fps] == ["fixed_point:STABLE_NODE", "fixed_point:UNSTABLE_NODE"]
    assert [a.get_fillstyle() for a in fps] == ["full", "none"]
    assert len(by_gid(ax, "flow_arrow")) == 3
    assert len(by_gid(ax, "threshold")) == 1
    fig.canvas.draw()


def test_trace_determinant_chart():
    fps = fixed_points(FitzHughNagumo(b=2.0), 0.35) + fixed_points(Izhikevich(), 0.0)
    fig, ax = plot.trace_determinant_chart(fps)
    markers = by_gid(ax, "fixed_point:")
    assert len(markers) == 5
    for m, fp in zip(markers, fps):
        tr, det = m.get_xydata()[0]
        # Placed at (trace, det) of the Jacobian, and the chart's region agrees with the type.
        assert tr == pytest.approx(np.trace(fp.jacobian), abs=1e-12)
        assert det == pytest.approx(np.linalg.det(fp.jacobian), abs=1e-12)
        assert planar_type(tr, det) == fp.type
    assert len(by_gid(ax, "parabola")) == 1
    fig.canvas.draw()
    # Chart data: the node/focus boundary is det = tr^2 / 4.
    tau, d = trace_determinant_chart_data((-3.0, 3.0))["parabola"]
    np.testing.assert_allclose(d, tau**2 / 4)
    # A non-planar (here one-dimensional) fixed point cannot be placed on the chart.
    with pytest.raises(ValueError, match="2 x 2"):
        plot.trace_determinant_chart(fixed_points(INaP(), 0.0))
    with pytest.raises(ValueError, match="2 x 2"):
        trace_determinant(np.eye(3))


def test_planar_type_regions():
    assert planar_type(0.5, -1.0) == T.SADDLE  # det < 0: a saddle whatever the trace
    assert planar_type(-3.0, 1.0) == T.STABLE_NODE  # tr^2 = 9 > 4
    assert planar_type(-1.0, 1.0) == T.STABLE_FOCUS  # tr^2 = 1 < 4
    assert planar_type(3.0, 1.0) == T.UNSTABLE_NODE
    assert planar_type(1.0, 1.0) == T.UNSTABLE_FOCUS
    assert planar_type(0.0, 1.0) == T.NON_HYPERBOLIC  # centre / Hopf point
    assert planar_type(1.0, 0.0) == T.NON_HYPERBOLIC  # zero eigenvalue (saddle-node)
