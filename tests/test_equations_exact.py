"""Exact integration of linear equations, and gradients through equation-defined models.

Truths: the closed-form membrane potential of a LIF driven by an exponentially decaying
current; scipy's matrix exponential for a coupled linear system; the convergence order of
the exponential Rosenbrock-Euler step on a nonlinear model; central finite differences of
the closed form for gradients; and a fit that recovers a time constant.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.linalg

import spikejax as sj
from spikejax.models import from_equations
from spikejax.solvers import RK4, ExactLinear, ExponentialEuler

pytest.importorskip("pint", reason="units need the optional dependency pint")

EXP_LIF = """
dv/dt = (E_L - v + R*I_syn)/tau_m : mV
dI_syn/dt = -I_syn/tau_s : nA
"""
EXP_LIF_P = {"E_L": "-65 mV", "R": "100 Mohm", "tau_m": "20 ms", "tau_s": "5 ms"}


def exp_lif(**params):
    return from_equations(
        EXP_LIF, parameters={**EXP_LIF_P, **params}, init={"v": "E_L", "I_syn": "0.2*nA"}
    )


def exp_lif_closed_form(t, *, E_L=-65.0, R=100.0, tau_m=20.0, tau_s=5.0, I0=0.2):
    r"""$v(t) = E_L + R I_0 \tau_s/(\tau_s - \tau_m)(e^{-t/\tau_s} - e^{-t/\tau_m})$ from
    $v(0) = E_L$ (R in MOhm times nA gives mV)."""
    return E_L + R * I0 * tau_s / (tau_s - tau_m) * (np.exp(-t / tau_s) - np.exp(-t / tau_m))


def test_linear_system_is_detected_and_integrated_exactly():
    m = exp_lif()
    assert isinstance(m.default_scheme, ExactLinear)
    r = sj.simulate(m, duration=50.0, dt=0.1)  # method="auto": the model's ExactLinear
    t = np.asarray(r.times)
    # Exact up to the matrix exponential's rounding, accumulated over 500 steps.
    np.testing.assert_allclose(r.states["v"], exp_lif_closed_form(t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.states["I_syn"], 0.2 * np.exp(-t / 5.0), rtol=0, atol=1e-15)
    # Exponential Euler freezes I_syn over each step: first order, visibly off.
    r_ee = sj.simulate(m, duration=50.0, dt=0.1, method="exponential_euler")
    assert np.max(np.abs(r_ee.states["v"] - exp_lif_closed_form(t))) > 1e-4


def test_exact_scheme_on_a_coupled_system_matches_scipy_expm():
    # dx/dt = -a x - w + I, dw/dt = k (x - w): complex eigenvalues, not diagonal.
    m = from_equations(
        "dx/dt = -a*x - w + I : 1\ndw/dt = k*(x - w) : 1",
        parameters={"a": 0.5, "k": 0.2},
        init={"x": 1.0, "w": -1.0},
    )
    assert isinstance(m.default_scheme, ExactLinear)
    I, T = 1.5, 10.0
    r = sj.simulate(m, duration=T, dt=0.5, I=I, method="exact")
    J = np.array([[-0.5, -1.0], [0.2, -0.2]])
    xs = np.full(2, I / 1.5)
    exact = xs + scipy.linalg.expm(J * T) @ (np.array([1.0, -1.0]) - xs)
    got = [float(r.final_state["x"]), float(r.final_state["w"])]
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-13)


@pytest.mark.slow
def test_exact_scheme_is_second_order_on_a_nonlinear_model():
    # FitzHugh-Nagumo: the exponential Rosenbrock-Euler step, against RK4 at a tiny step.
    m = sj.models.FitzHughNagumo()
    y0 = {"V": 0.5, "w": 0.0}
    ref = sj.simulate(m, duration=4.0, dt=1e-3, I=0.5, y0=y0, method="rk4").final_state["V"]
    errs = []
    for dt in (0.1, 0.05, 0.025):
        got = sj.simulate(m, duration=4.0, dt=dt, I=0.5, y0=y0, method=ExactLinear())
        errs.append(abs(float(got.final_state["V"]) - float(ref)))
    orders = np.log2(np.asarray(errs[:-1]) / np.asarray(errs[1:]))
    assert np.all((orders > 1.8) & (orders < 2.3)), (errs, orders)


def test_scheme_choice():
    assert isinstance(from_equations("dv/dt = -v**2 : 1").default_scheme, RK4)  # not linear in v
    assert isinstance(
        from_equations("dv/dt = -v*exp(-u) : 1\ndu/dt = -u*v : 1").default_scheme, ExponentialEuler
    )  # each linear in itself, coupled nonlinearly
    assert isinstance(
        from_equations("dv/dt = -v + u : 1\ndu/dt = -u : 1").default_scheme, ExactLinear
    )


def test_gradient_matches_finite_differences_of_the_closed_form():
    T = 20.0

    def final_v(tau_s):
        m = exp_lif().replace(tau_s=tau_s)
        sol = sj.fit.solve_fixed(m, m.resting_state(), 0.0, dt=0.1, n_steps=200, method="exact")
        return sol.final_state["v"]

    g = float(jax.grad(final_v)(jnp.asarray(5.0)))
    h = 1e-5
    fd = (exp_lif_closed_form(T, tau_s=5.0 + h) - exp_lif_closed_form(T, tau_s=5.0 - h)) / (2 * h)
    # The exact scheme's derivative is the derivative of the exact solution (up to
    # rounding); the central difference errs by about h^2 |v'''| ~ 1e-10.
    assert abs(g - fd) < 1e-8 * abs(fd), (g, fd)


@pytest.mark.slow
def test_fit_recovers_a_time_constant():
    # Data from tau_m = 20 ms; start from 14 ms and fit the trace with the gradient.
    target = exp_lif_closed_form(np.arange(1, 201) * 0.1)  # v after each step

    def loss(m):
        sol = sj.fit.solve_fixed(m, m.resting_state(), 0.0, dt=0.1, n_steps=200, method="exact")
        return jnp.mean((sol.ys["v"] - target) ** 2)

    res = sj.fit.fit(
        exp_lif(tau_m="14 ms"), loss, params=["tau_m"], optimizer=optax.adam(0.05), steps=150
    )
    assert abs(float(res.model.tau_m) - 20.0) < 0.05, float(res.model.tau_m)
