"""Floquet multipliers through strong growth and decay along the orbit, and confirmed LPC/PD
points at FitzHugh-Nagumo's canard explosion.

Truths: Liouville's formula (a planar cycle's nontrivial multiplier is exp of the divergence's
integral over the period) in closed form; FitzHugh-Nagumo's Hopf points in closed form; the
theorem that a planar flow has no period doubling; scipy simulations for bistability next to
each fold of cycles."""

from typing import ClassVar

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from test_bifurcation import fhn_hopf_closed_form

from spikejax.analysis import bifurcation_diagram
from spikejax.analysis._collocation import _node_times, _problem, floquet_multipliers
from spikejax.analysis._continuation import make_system
from spikejax.models import FitzHughNagumo, NeuronModel, fill, input_current


class Squeeze(NeuronModel):
    r"""The unit circle, run at angular speed 1, with a radial rate $c + K\cos\theta$:
    $\dot\theta = 1 + s(r - 1)$, $\dot r = (r - 1)(c + K \cos\theta)$. Along the cycle
    the normal direction grows by $e^{2K}$ ($10^7$) over $|\theta| < \pi/2$ and shrinks by
    $e^{-2K}$ over the other half, as on a canard's repelling and attracting slow manifolds,
    and the shear $s$ feeds it into the phase (a non-normal monodromy matrix); the nontrivial
    multiplier is $e^{2\pi c}$ (Liouville), the period $2\pi$."""

    c: float = -0.1
    K: float = 8.0
    s: float = 1.0
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        I = input_current(args)
        x, z = y["V"], y["w"]
        r = jnp.sqrt(x * x + z * z)
        radial = (r - 1.0) * (self.c + self.K * x / r) / r
        turn = 1.0 + self.s * (r - 1.0)
        return {"V": radial * x - turn * z + I, "w": radial * z + turn * x}

    def resting_state(self):
        return {"V": fill(1.0, self.shape), "w": fill(0.0, self.shape)}


def test_multipliers_through_growth_and_decay_against_liouville():
    # the collocation Jacobian at the exact cycle (no continuation: one compiled call)
    model, c, N, m = Squeeze(), -0.1, 40, 4
    system = make_system(model, "c")
    mesh = np.linspace(0.0, 1.0, N + 1)
    theta = 2 * np.pi * _node_times(mesh, m)
    X = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    prob = _problem(system, mesh, X, m, "c", np.inf, 0)
    u = np.concatenate([X.reshape(-1), [2 * np.pi, c]])
    F, J = prob.residual_and_jacobian(u)
    assert np.max(np.abs(F)) < 1e-6  # the exact cycle solves the collocation equations
    exact = np.array([1.0, np.exp(2 * np.pi * c)])  # Liouville: int_0^T (c + K cos t) dt
    f_mesh = np.stack([-np.sin(theta[::m]), np.cos(theta[::m])], axis=1)  # f on the cycle
    mu = floquet_multipliers(J, N, m, 2, f_mesh)
    assert np.max(np.abs(mu - exact)) < 1e-6 and np.all(np.imag(mu) == 0)
    assert np.max(np.abs(prob.multipliers(J, u) - exact)) < 1e-6  # the branch's own path
    # the eigenvalues of the formed monodromy matrix lose them (rounding 1e-16 e^{4K} ~ 1e-2)
    plain = floquet_multipliers(J, N, m, 2)
    assert np.max(np.abs(np.sort(np.real(plain)) - np.sort(exact))) > 1e-4


A, B, EPS = 0.7, 0.8, 0.08  # FitzHugh-Nagumo's defaults: a canard explosion near each Hopf point


def _fhn(I):
    def f(t, y):
        v, w = y
        return [v - v**3 / 3 - w + I, EPS * (v + A - B * w)]

    return f


def _settles_to_rest(I, y0, t_end=3000.0):
    """Whether the scipy trajectory from `y0` ends at rest (V's range over the last 500 time
    units below 0.05) rather than on the relaxation cycle (range about 3.7)."""
    sol = solve_ivp(_fhn(I), (0, t_end), y0, rtol=1e-9, atol=1e-9, dense_output=True)
    V = sol.sol(np.linspace(t_end - 500, t_end, 4001))[0]
    span = float(np.ptp(V))
    assert span < 0.05 or span > 3.0, span  # one or the other, nothing in between
    return span < 0.05


@pytest.mark.slow
def test_fitzhugh_nagumo_canard_branch_has_only_confirmed_folds_and_no_pd():
    d = bifurcation_diagram(FitzHughNagumo(a=A, b=B, eps=EPS), "I", (0.0, 2.0))
    (I_H1, I_H2), _ = fhn_hopf_closed_form(A, B, EPS)
    assert [h.param for h in d.hopf_points] == pytest.approx([I_H1, I_H2], abs=1e-9)
    assert d.ok and len(d.cycles) == 1
    cb = d.cycles[0]
    # the family runs from one Hopf point to the other (closed form) through both canards
    assert cb.params[0] == pytest.approx(I_H1, abs=1e-3)
    assert d.ends[0] is not None and d.ends[0].param == pytest.approx(I_H2, abs=1e-9)
    assert cb.params[-1] == pytest.approx(I_H2, abs=1e-2)
    assert cb.v_max.max() - cb.v_min.min() > 3.5  # the relaxation cycles were reached
    # planar: no PD, NS or BPC by theorem (one nontrivial multiplier, exp of div's integral)
    assert {str(sp.kind) for sp in cb.special_points} <= {"LPC"}
    # multipliers along the whole branch, canards included: the trivial one within 1e-4 of 1,
    # the other real and positive (Liouville: exp of div f's integral over the period) and,
    # at every 4th cycle, equal to that exponential with the integral from scipy (the orbit
    # and the integral of div f as one ODE from the cycle's first point, rtol 1e-11; kept
    # where scipy's orbit closes to 1e-4, i.e. where the orbit's instability lets it): to
    # 1e-3 where it is above 1e-3 (the formed monodromy matrix gave 232 for 1 there)
    checked = 0
    for i, c in enumerate(cb.cycles):
        k = int(np.argmin(np.abs(c.multipliers - 1.0)))
        assert abs(c.multipliers[k] - 1.0) < 1e-4
        other = np.delete(c.multipliers, k)[0]
        assert other.imag == 0.0 and other.real > 0
        if i % 4:
            continue
        rhs = _fhn(float(c.param))
        run = solve_ivp(
            lambda t, y, rhs=rhs: [*rhs(t, y[:2]), 1 - y[0] ** 2 - EPS * B],
            (0, c.period),
            [*c.trajectory[0], 0.0],
            rtol=1e-11,
            atol=1e-11,
            method="DOP853",
        )
        if np.max(np.abs(run.y[:2, -1] - c.trajectory[0])) < 1e-4:
            checked += 1
            ref = float(np.exp(run.y[2, -1]))
            if ref > 1e-3:  # relative 1e-3 (the canards' unstable cycles: up to 150)
                assert other.real == pytest.approx(ref, rel=1e-3)
            else:  # the relaxation cycles' tiny multipliers: far from 1, as they should be
                assert other.real < 1e-3
    assert checked >= 20
    # exactly one fold of cycles per canard explosion, each with a double multiplier 1
    folds = sorted(sp.param for sp in cb.special_points if sp.kind == "LPC")
    assert len(folds) == 2
    assert folds[0] == pytest.approx(0.3241785, abs=1e-5)
    # FHN's symmetry (V, w, I) -> (-V, 2a/b - w, 2a/b - I) maps one fold onto the other
    assert folds[0] + folds[1] == pytest.approx(2 * A / B, abs=1e-8)
    for sp in cb.special_points:
        assert sp.eigenvalues is not None
        assert np.sort(np.abs(sp.eigenvalues - 1.0))[1] < 0.05
    # scipy: bistable between each fold and its Hopf point (rest and the relaxation cycle),
    # rest only on the fold's other side
    big = [2.0, 1.0]  # a start outside the small cycles: it reaches the relaxation cycle
    for I_fold, inside in ((folds[0], 1), (folds[1], -1)):
        I_in = I_fold + inside * 2e-3
        roots = np.roots([-1.0 / 3.0, 0.0, 1.0 - 1.0 / B, I_in - A / B])  # the one equilibrium
        v_eq = float(roots[np.abs(roots.imag) < 1e-9].real[0])
        assert _settles_to_rest(I_in, [v_eq + 0.01, (v_eq + A) / B])
        assert not _settles_to_rest(I_in, big)
        assert _settles_to_rest(I_fold - inside * 2e-3, big)
    # unconfirmed sign changes of the parameter's tangent component are reported, not kept
    assert "unconfirmed points dropped" in cb.message or len(cb.special_points) == 2
