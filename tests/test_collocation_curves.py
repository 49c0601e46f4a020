"""Curves of folds of cycles (LPC), period doublings (PD) and Neimark-Sacker points (NS) in
two parameters (`cycle_bifurcation_curve`, minimally extended collocation systems) against
closed forms: the Bautin normal form's LPC curve, a 4-D system whose flip multiplier is known
exactly, a cycle carrying a focus whose multipliers are known exactly; branch points of
cycles located and switched (a pitchfork of cycles with closed-form branches). float64."""

from typing import ClassVar

import numpy as np
import pytest

from spikejax.analysis import (
    LimitCycle,
    SpecialPoint,
    continue_cycles_collocation,
    cycle_bifurcation_curve,
)
from spikejax.models import NeuronModel, fill, input_current
from spikejax.solvers import SpecialPointKind


def _circle(param, names, param_name):
    """The cycle (cos t, sin t, 0, ...) sampled over one period, as a simulation gives."""
    tau = np.linspace(0.0, 1.0, 201)
    traj = np.zeros((tau.size, len(names)))
    traj[:, 0], traj[:, 1] = np.cos(2 * np.pi * tau), np.sin(2 * np.pi * tau)
    return LimitCycle(
        param=param,
        x0=traj[0],
        period=2 * np.pi,
        trajectory=traj,
        v_min=-1.0,
        v_max=1.0,
        multipliers=np.ones(len(names)),
        stable=True,
        state_names=names,
        param_name=param_name,
    )


class Bautin(NeuronModel):
    r"""$\dot z = (I + i)z + \beta z|z|^2 + s z|z|^4$ ($z = V + iw$): cycles where
    $I + \beta r^2 + s r^4 = 0$, period $2\pi$; for $s < 0$, $\beta > 0$ the stable and the
    unstable cycle meet in a fold at $I = \beta^2/(4s)$, $r^2 = -\beta/(2s)$."""

    beta: float = 1.0
    s: float = -1.0
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        x, z = y["V"], y["w"]
        r2 = x * x + z * z
        g = input_current(args) + self.beta * r2 + self.s * r2 * r2
        return {"V": g * x - z, "w": x + g * z}

    def resting_state(self):
        return {"V": fill(0.0, self.shape), "w": fill(0.0, self.shape)}


def located_point(kind, orbit, period, param, names, n_intervals=12, degree=4, **extra):
    """A special point in the layout of a located collocation point (uniform mesh, node
    values `orbit(tau)` at the scaled node times, period, parameter; `extra` info)."""
    mesh = np.linspace(0.0, 1.0, n_intervals + 1)
    tau = (np.arange(n_intervals)[:, None] + np.arange(degree)[None, :] / degree).reshape(-1)
    X = orbit(tau / n_intervals)
    u = np.concatenate([X.reshape(-1), [period, param]])
    info = {"mesh": mesh, "degree": degree, "active": tuple(range(len(names))), "u": u, **extra}
    state = {k: float(v) for k, v in zip(names, X[0], strict=True)}
    return SpecialPoint(SpecialPointKind(kind), param, state, 0, info=info)


def circle(tau, n, r=1.0):
    """(r cos 2 pi tau, r sin 2 pi tau, 0, ...) in `n` dimensions."""
    X = np.zeros((tau.size, n))
    X[:, 0], X[:, 1] = r * np.cos(2 * np.pi * tau), r * np.sin(2 * np.pi * tau)
    return X


def _lpc_point():
    """The Bautin form's LPC at beta = 1 (I = -1/4, the circle r^2 = 1/2)."""
    return located_point(
        "LPC", lambda t: circle(t, 2, np.sqrt(0.5)), 2 * np.pi, -0.25, Bautin.state_names
    )


def test_lpc_curve_of_the_bautin_normal_form():
    # Truth: the LPC curve I = beta^2 / (4 s) (s = -1), r^2 = beta / 2, period 2 pi. The
    # orbits are circles, which 12 intervals of degree 4 resolve to ~1e-10: tolerance 1e-9.
    m = Bautin()
    curve = cycle_bifurcation_curve(m, _lpc_point(), "beta", 2.0, max_steps=40)
    assert curve.status == "reached_stop" and curve.kind == "LPC" and len(curve) > 3
    beta, current = curve.param("beta"), curve.param("I")
    assert beta[-1] == pytest.approx(2.0, abs=1e-12)
    np.testing.assert_allclose(current, -(beta**2) / 4, atol=1e-9)
    np.testing.assert_allclose(curve.v_max, np.sqrt(beta / 2), atol=1e-6)  # node maximum
    np.testing.assert_allclose(curve.periods, 2 * np.pi, rtol=1e-9)


@pytest.mark.slow
def test_lpc_located_on_a_branch_then_continued():
    # The chain from a one-parameter collocation branch: its LPC at I = -1/4 (beta = 1)
    # continued backwards in beta to 0.5: I = -beta^2/4 (1e-9).
    m = Bautin()
    cb = continue_cycles_collocation(
        m,
        _circle(0.0, Bautin.state_names, "I"),
        bounds=(-1.0, 0.5),
        n_intervals=12,
        direction=-1,
        ds=0.05,
        ds_max=0.1,
    )
    (lpc,) = [sp for sp in cb.special_points if sp.kind == "LPC"]
    assert lpc.param == pytest.approx(-0.25, abs=1e-9)
    curve = cycle_bifurcation_curve(m, lpc, "beta", 0.5, max_steps=40)
    assert curve.status == "reached_stop"
    np.testing.assert_allclose(curve.param("I"), -(curve.param("beta") ** 2) / 4, atol=1e-9)


class Flip(NeuronModel):
    r"""The cycle $(V, y) = (\cos t, \sin t)$ carrying a bundle $w$ that turns by half a
    revolution per period in the frame $w = R(t/2)s$, $\dot s = \mathrm{diag}(\mu -
    \kappa^2, -1)s$: multipliers $-e^{2\pi(\mu - \kappa^2)}$ and $-e^{-2\pi}$, so the
    period doubles on the curve $\mu = \kappa^2$."""

    mu: float = -0.1
    kappa: float = 0.2
    state_names: ClassVar[tuple[str, ...]] = ("V", "y", "w1", "w2")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, s, args):
        x, y, w1, w2 = (s[k] for k in self.state_names)
        r2 = x * x + y * y
        mu, ww = self.mu - self.kappa**2, w1 * w1 + w2 * w2
        return {
            "V": x - y - r2 * x + input_current(args),
            "y": x + y - r2 * y,
            "w1": -0.5 * w2 + 0.5 * (mu - 1) * w1 + 0.5 * (mu + 1) * (x * w1 + y * w2) - ww * w1,
            "w2": 0.5 * w1 + 0.5 * (mu - 1) * w2 + 0.5 * (mu + 1) * (y * w1 - x * w2) - ww * w2,
        }

    def resting_state(self):
        return {k: fill(0.0, self.shape) for k in self.state_names}


@pytest.mark.slow
def test_pd_curve_matches_the_closed_form_flip_multiplier():
    # Truth: PD on mu = kappa^2 (the multiplier -exp(2 pi (mu - kappa^2)) reaches -1);
    # tolerance 1e-9 (the transfer matrices are exact to ~1e-13 on this smooth orbit).
    m = Flip()
    cb = continue_cycles_collocation(
        m,
        _circle(-0.1, Flip.state_names, "mu"),
        param="mu",
        bounds=(-0.1, 0.1),
        n_intervals=12,
        ds=0.05,
        ds_max=0.1,
    )
    (pd,) = [sp for sp in cb.special_points if sp.kind == "PD"]
    assert pd.param == pytest.approx(0.04, abs=1e-9)
    curve = cycle_bifurcation_curve(m, pd, "kappa", 0.6, param="mu", max_steps=40)
    assert curve.status == "reached_stop" and curve.kind == "PD"
    kappa, mu = curve.param("kappa"), curve.param("mu")
    assert kappa[-1] == pytest.approx(0.6, abs=1e-12) and len(curve) > 3
    np.testing.assert_allclose(mu, kappa**2, atol=1e-9)
    np.testing.assert_allclose(curve.periods, 2 * np.pi, rtol=1e-9)


def test_bad_input():
    m = Bautin()
    h = SpecialPoint("H", 0.0, {"V": 0.0, "w": 0.0}, 0, omega=1.0)
    with pytest.raises(ValueError, match="kind 'LPC', 'PD' or 'NS'"):
        cycle_bifurcation_curve(m, h, "beta", 2.0)
    lpc = SpecialPoint("LPC", -0.25, {"V": 0.7, "w": 0.0}, 0, info={"mesh": np.linspace(0, 1, 5)})
    with pytest.raises(ValueError, match="param2 must differ"):
        cycle_bifurcation_curve(m, lpc, "I", 2.0)
    with pytest.raises(ValueError, match="unknown parameter name param2='bogus'"):
        cycle_bifurcation_curve(m, lpc, "bogus", 2.0)
    with pytest.raises(ValueError, match="stop2 must differ"):
        cycle_bifurcation_curve(m, lpc, "beta", 1.0)


class CyclePitchfork(NeuronModel):
    r"""The cycle $(V, y) = (\cos t, \sin t)$ with $\dot w = \mu w - w^3$: the multiplier
    $e^{2\pi\mu}$ of $w$ crosses 1 at $\mu = 0$, where the cycles $w = \pm\sqrt\mu$ branch
    off the cycle $w = 0$ (a branch point of cycles, BPC)."""

    mu: float = -0.2
    state_names: ClassVar[tuple[str, ...]] = ("V", "y", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, s, args):
        x, y, w = (s[k] for k in self.state_names)
        r2 = x * x + y * y
        return {
            "V": x - y - r2 * x + input_current(args),
            "y": x + y - r2 * y,
            "w": self.mu * w - w**3,
        }

    def resting_state(self):
        return {k: fill(0.0, self.shape) for k in self.state_names}


@pytest.mark.slow
def test_branch_point_of_cycles_located():
    # Truth: the BPC at mu = 0 (multiplier exp(2 pi mu) = 1); tolerance 1e-8 (bisection in
    # arclength to 1e-12, the Jacobian exact on the circle to ~1e-10).
    m = CyclePitchfork()
    cb = continue_cycles_collocation(
        m,
        _circle(-0.2, CyclePitchfork.state_names, "mu"),
        param="mu",
        bounds=(-0.2, 0.2),
        n_intervals=12,
        ds=0.05,
        ds_max=0.1,
    )
    kinds = [str(sp.kind) for sp in cb.special_points]
    assert kinds == ["BPC"]
    assert cb.special_points[0].param == pytest.approx(0.0, abs=1e-8)


class Torus(NeuronModel):
    r"""The cycle $(V, y) = (\cos t, \sin t)$ carrying a focus $\dot z = (\mu - \kappa^2 +
    i\beta)z - |z|^2 z$, $\beta = 0.3 + 0.1\kappa$: multipliers $e^{2\pi(\mu - \kappa^2
    \pm i\beta)}$, so a Neimark-Sacker curve $\mu = \kappa^2$ with angle $2\pi\beta$."""

    mu: float = 0.04
    kappa: float = 0.2
    state_names: ClassVar[tuple[str, ...]] = ("V", "y", "a", "b")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, s, args):
        x, y, a, b = (s[k] for k in self.state_names)
        r2, zz = x * x + y * y, a * a + b * b
        nu, beta = self.mu - self.kappa**2, 0.3 + 0.1 * self.kappa
        return {
            "V": x - y - r2 * x + input_current(args),
            "y": x + y - r2 * y,
            "a": nu * a - beta * b - zz * a,
            "b": beta * a + nu * b - zz * b,
        }

    def resting_state(self):
        return {k: fill(0.0, self.shape) for k in self.state_names}


def _ns_point():
    """`Torus`'s NS point at kappa = 0.2 (mu = 0.04, angle 2 pi 0.32)."""
    return located_point(
        "NS", lambda t: circle(t, 4), 2 * np.pi, 0.04, Torus.state_names, theta=2 * np.pi * 0.32
    )


def test_ns_curve_matches_the_closed_form():
    # Truth: NS on mu = kappa^2 with angle theta = 2 pi (0.3 + 0.1 kappa), period 2 pi;
    # tolerance 1e-9 (the circle on 12 intervals of degree 4 and its transfer matrices are
    # exact to ~1e-10)
    m = Torus()
    curve = cycle_bifurcation_curve(m, _ns_point(), "kappa", 0.6, param="mu", max_steps=40)
    assert curve.status == "reached_stop" and curve.kind == "NS" and len(curve) > 3
    kappa, mu = curve.param("kappa"), curve.param("mu")
    assert kappa[-1] == pytest.approx(0.6, abs=1e-12)
    np.testing.assert_allclose(mu, kappa**2, atol=1e-9)
    assert curve.theta is not None
    np.testing.assert_allclose(curve.theta, 2 * np.pi * (0.3 + 0.1 * kappa), atol=1e-9)
    np.testing.assert_allclose(curve.periods, 2 * np.pi, rtol=1e-9)


def _bpc_point():
    """`CyclePitchfork`'s branch point of cycles (mu = 0, w = 0, period 2 pi); the trivial
    branch's tangent is d/dmu."""
    tangent = np.zeros(12 * 4 * 3 + 2)
    tangent[-1] = 1.0
    return located_point(
        "BPC", lambda t: circle(t, 3), 2 * np.pi, 0.0, CyclePitchfork.state_names, tangent=tangent
    )


def _check_pitchfork_branch(new, sign):
    """The switched branch of `CyclePitchfork`: w = sign sqrt(mu), constant along each orbit,
    period 2 pi, stable, up to the bound mu = 0.2 (1e-8: Newton tolerance 1e-9, the circle
    exact to ~1e-10 on 12 intervals)."""
    assert new.status == "left_bounds" and new.params[-1] == pytest.approx(0.2)
    w = np.array([c.trajectory[:, 2] for c in new.cycles])
    assert np.max(np.ptp(w, axis=1)) < 1e-8
    np.testing.assert_allclose(w[:, 0] ** 2, new.params, atol=1e-8)
    assert np.all(sign * w[:, 0] > 0) and np.all(new.params > 0) and new.stable.all()
    np.testing.assert_allclose(new.periods, 2 * np.pi, rtol=1e-9)


def test_switching_at_the_closed_form_branch_point_of_cycles():
    # Truth: the cycles w = sqrt(mu) (period 2 pi, w-multiplier exp(-4 pi mu): stable);
    # Newton tolerance 1e-9 and the circle exact to ~1e-10 on 12 intervals: 1e-8
    m = CyclePitchfork()
    new = continue_cycles_collocation(
        m, _bpc_point(), param="mu", bounds=(-0.2, 0.2), n_intervals=12, ds=0.05, ds_max=0.1
    )
    _check_pitchfork_branch(new, 1)


@pytest.mark.slow
def test_branch_point_of_cycles_switched_to_the_pitchfork_branch():
    # Truth: the cycles w = +-sqrt(mu) (period 2 pi, w-multiplier exp(-4 pi mu): stable)
    # branch off w = 0 at mu = 0; Newton tolerance 1e-9 and the circle exact to ~1e-10 on
    # 12 intervals: w^2 = mu to 1e-8
    m = CyclePitchfork()
    cb = continue_cycles_collocation(
        m,
        _circle(-0.2, CyclePitchfork.state_names, "mu"),
        param="mu",
        bounds=(-0.2, 0.2),
        n_intervals=12,
        ds=0.1,
        ds_max=0.2,
    )
    (bpc,) = cb.special_points
    assert bpc.kind == "BPC" and bpc.param == pytest.approx(0.0, abs=1e-8)
    for direction in (1, -1):
        new = continue_cycles_collocation(
            m,
            bpc,
            param="mu",
            bounds=(-0.2, 0.2),
            n_intervals=12,
            direction=direction,
            ds=0.05,
            ds_max=0.1,
        )
        _check_pitchfork_branch(new, direction)
    with pytest.raises(ValueError, match="BPC"):
        continue_cycles_collocation(
            m, SpecialPoint(bpc.kind, 0.0, bpc.state, 0), param="mu", bounds=(-1, 1)
        )
