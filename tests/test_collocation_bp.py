"""Branch points of equilibria (BP): detection, location and branch switching against closed
forms (a pitchfork and a transcritical bifurcation)."""

from typing import ClassVar

import numpy as np
import pytest

from spikejax.analysis import continuation, switch_branch
from spikejax.models import NeuronModel, fill, input_current


class Pitchfork(NeuronModel):
    r"""$\dot V = \mu V - V^3$, $\dot y = -y$: the trivial branch $V = 0$ and the branch
    $V^2 = \mu$ cross at the branch point $\mu = 0$."""

    mu: float = -1.0
    state_names: ClassVar[tuple[str, ...]] = ("V", "y")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, s, args):
        V, y = s["V"], s["y"]
        return {"V": self.mu * V - V**3 + input_current(args), "y": -y}

    def resting_state(self):
        return {"V": fill(0.0, self.shape), "y": fill(0.0, self.shape)}


class Transcritical(NeuronModel):
    r"""$\dot V = \mu V - V^2$, $\dot y = V - y$: the branches $V = y = 0$ and $V = y = \mu$
    cross at $\mu = 0$ (second tangent $(1, 1, 1)/\sqrt 3$)."""

    mu: float = -1.0
    state_names: ClassVar[tuple[str, ...]] = ("V", "y")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, s, args):
        V, y = s["V"], s["y"]
        return {"V": self.mu * V - V**2 + input_current(args), "y": V - y}

    def resting_state(self):
        return {"V": fill(0.0, self.shape), "y": fill(0.0, self.shape)}


def test_pitchfork_branch_point_located_and_switched():
    br = continuation(Pitchfork(), "mu", -1.0, 1.0, ds=0.1, ds_max=0.2)
    (bp,) = br.special_points
    assert bp.kind == "BP" and bp.located
    assert bp.param == pytest.approx(0.0, abs=1e-10)  # closed form: mu = 0
    assert abs(bp.state["V"]) < 1e-10
    # the other branch leaves along V (the algebraic branching equation: c12 = 1, c11 = c22 = 0)
    assert np.abs(bp.info["tangent2"]) == pytest.approx([1.0, 0.0, 0.0], abs=1e-10)
    new = switch_branch(Pitchfork(), bp, 1.0, param="mu", ds=0.05, ds_max=0.2)
    assert new.status == "reached_stop" and new.params[-1] == pytest.approx(1.0)
    # on the new branch V^2 = mu (Newton tolerance 1e-10)
    assert np.max(np.abs(new.state("V") ** 2 - new.params)) < 1e-9
    assert np.all(np.abs(new.state("V")) > 0.04) and new.stable.all()


@pytest.mark.slow
def test_transcritical_branch_switch_follows_the_oblique_branch():
    br = continuation(Transcritical(), "mu", -1.0, 1.0, ds=0.1, ds_max=0.2)
    (bp,) = br.points("BP")
    assert bp.param == pytest.approx(0.0, abs=1e-10)
    t2 = bp.info["tangent2"]
    assert np.abs(t2) == pytest.approx(np.full(3, 1 / np.sqrt(3)), abs=1e-8)
    for stop in (1.0, -1.0):  # both halves of the second branch
        new = switch_branch(Transcritical(), bp, stop, param="mu", ds=0.05, ds_max=0.2)
        assert new.status == "reached_stop"
        assert np.max(np.abs(new.state("V") - new.params)) < 1e-9
        assert np.max(np.abs(new.state("y") - new.params)) < 1e-9
    with pytest.raises(ValueError, match="branch point"):
        switch_branch(Transcritical(), br.special_points[0].__class__("H", 0.0, {}, 0), 1.0)
