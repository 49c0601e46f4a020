"""Model-level tests of the Hodgkin-Huxley model: rate functions, their removable
singularities, the computed resting state, currents, parameters and transformations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from spikejax.models import HodgkinHuxley
from spikejax.models._hodgkin_huxley import (
    alpha_h,
    alpha_m,
    alpha_n,
    beta_h,
    beta_m,
    beta_n,
)

# Independent numpy versions of the 1952 rate functions (REFERENCES.md), valid away from the
# singular points.
NP_RATES = {
    "alpha_m": lambda V: 0.1 * (V + 40) / (1 - np.exp(-(V + 40) / 10)),
    "beta_m": lambda V: 4 * np.exp(-(V + 65) / 18),
    "alpha_h": lambda V: 0.07 * np.exp(-(V + 65) / 20),
    "beta_h": lambda V: 1 / (1 + np.exp(-(V + 35) / 10)),
    "alpha_n": lambda V: 0.01 * (V + 55) / (1 - np.exp(-(V + 55) / 10)),
    "beta_n": lambda V: 0.125 * np.exp(-(V + 65) / 80),
}
JAX_RATES = {
    "alpha_m": alpha_m,
    "beta_m": beta_m,
    "alpha_h": alpha_h,
    "beta_h": beta_h,
    "alpha_n": alpha_n,
    "beta_n": beta_n,
}


def np_vector_field(
    V, m, h, n, I=0.0, C=1.0, gNa=120.0, gK=36.0, gL=0.3, ENa=50.0, EK=-77.0, EL=-54.387
):
    r = {k: f(V) for k, f in NP_RATES.items()}
    dV = (I - gNa * m**3 * h * (V - ENa) - gK * n**4 * (V - EK) - gL * (V - EL)) / C
    dm = r["alpha_m"] * (1 - m) - r["beta_m"] * m
    dh = r["alpha_h"] * (1 - h) - r["beta_h"] * h
    dn = r["alpha_n"] * (1 - n) - r["beta_n"] * n
    return np.array([dV, dm, dh, dn])


def test_rates_match_formulas_away_from_singularities():
    # Grid avoids -40 and -55 by >= 0.25 mV, where numpy's direct formula loses at most
    # ~1e-14 relative accuracy; 1e-12 covers that.
    V = np.linspace(-100.0, 60.0, 641) + 0.125
    for name, f in JAX_RATES.items():
        np.testing.assert_allclose(np.asarray(f(jnp.asarray(V))), NP_RATES[name](V), rtol=1e-12)


@pytest.mark.parametrize(
    "fn,V0,scale,k",
    [(alpha_m, -40.0, 0.1, 10.0), (alpha_n, -55.0, 0.01, 10.0)],
)
def test_removable_singularity_values_and_gradients(fn, V0, scale, k):
    # alpha = scale * x / (1 - exp(-x/k)), x = V - V0: limit scale*k, slope scale/2,
    # curvature scale/(6k) (from u/(1-e^-u) = 1 + u/2 + u^2/12 - u^4/720 + ...).
    limit, slope = scale * k, scale / 2
    assert float(fn(V0)) == pytest.approx(limit, abs=1e-15)
    g = jax.grad(fn)(V0)
    gf = jax.jacfwd(fn)(V0)
    assert np.isfinite(g) and np.isfinite(gf)
    # Exact analytic slope; round-off only.
    assert abs(float(g) - slope) < 1e-15
    assert abs(float(gf) - slope) < 1e-15
    # Second derivative is finite too (Newton/Jacobian users differentiate twice).
    assert float(jax.grad(jax.grad(fn))(V0)) == pytest.approx(scale / (6 * k), rel=1e-9)

    # Near the singular point, on both sides of the series/closed-form switch
    # (|x/k| = 1e-6): compare with the series through u^4 (error < u^6 ~ 1e-18 relative).
    dx = np.array([1e-9, -1e-9, 5e-6, 1e-5, 2e-5, -2e-5, 1e-3, -1e-3])
    u = dx / k
    truth = scale * k * (1 + u / 2 + u**2 / 12 - u**4 / 720)
    np.testing.assert_allclose(np.asarray(fn(jnp.asarray(V0 + dx))), truth, rtol=1e-13)

    # Central finite differences (h = 1e-3 mV: truncation ~ h^2 f'''/6 ~ 1e-10, round-off
    # ~ eps/h ~ 1e-13) agree with autodiff at and around the singular point (vectorized
    # with vmap to keep the test fast; V0 itself is in the batch).
    h = 1e-3
    Vs = jnp.asarray([V0, V0 + 1e-7, V0 - 2e-5, V0 + 0.3, V0 - 0.3])
    fd = (np.asarray(fn(Vs + h)) - np.asarray(fn(Vs - h))) / (2 * h)
    np.testing.assert_allclose(np.asarray(jax.vmap(jax.grad(fn))(Vs)), fd, rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.asarray(jax.vmap(jax.jacfwd(fn))(Vs)), fd, rtol=0, atol=1e-9)


def test_vector_field_gradient_finite_at_singular_voltages():
    model = HodgkinHuxley()

    def f(x):
        return model.vector_field_array(0.0, x, 0.0)

    jf, jr = jax.jit(jax.jacfwd(f)), jax.jit(jax.jacrev(f))
    for V in [-40.0, -55.0]:
        x = jnp.array([V, 0.1, 0.5, 0.4])
        J = jf(x)
        assert np.all(np.isfinite(np.asarray(J)))
        Jr = jr(x)
        # Forward and reverse mode agree to round-off.
        np.testing.assert_allclose(np.asarray(J), np.asarray(Jr), rtol=1e-12, atol=1e-14)


def test_vector_field_matches_numpy():
    model = HodgkinHuxley()
    rng = np.random.default_rng(1)
    for _ in range(5):
        V = rng.uniform(-90, 40)
        m, h, n = rng.uniform(0, 1, 3)
        I = rng.uniform(-5, 20)
        y = {"V": jnp.asarray(V), "m": jnp.asarray(m), "h": jnp.asarray(h), "n": jnp.asarray(n)}
        got = np.asarray(model.vector_field_array(0.0, model.to_vector(y), I))
        # Same formulas, different library: agreement to round-off.
        np.testing.assert_allclose(got, np_vector_field(V, m, h, n, I), rtol=1e-12, atol=1e-12)


def test_resting_state_is_the_equilibrium():
    model = HodgkinHuxley()
    y = model.resting_state()
    assert set(y) == {"V", "m", "h", "n"}
    # The 1952 model rests near -65 mV (EL = -54.387 was chosen for that).
    assert -65.5 < float(y["V"]) < -64.5
    f = model.vector_field(0.0, y, None)
    for name in model.state_names:
        # Newton converges to round-off; dV is a sum of terms of size ~10 uA/cm^2.
        assert abs(float(f[name])) < 1e-10, name

    # Independent solve: steady-state current written in numpy, root by brentq.
    def I_inf(V):
        r = {k: f(V) for k, f in NP_RATES.items()}
        m = r["alpha_m"] / (r["alpha_m"] + r["beta_m"])
        h = r["alpha_h"] / (r["alpha_h"] + r["beta_h"])
        n = r["alpha_n"] / (r["alpha_n"] + r["beta_n"])
        return 120 * m**3 * h * (V - 50) + 36 * n**4 * (V + 77) + 0.3 * (V + 54.387)

    V_rest = brentq(I_inf, -70.0, -60.0, xtol=1e-13)
    assert float(y["V"]) == pytest.approx(V_rest, abs=1e-9)

    # The rest state is stable: all Jacobian eigenvalues have negative real parts.
    J = jax.jacfwd(lambda x: model.vector_field_array(0.0, x, 0.0))(model.to_vector(y))
    assert np.max(np.linalg.eigvals(np.asarray(J)).real) < 0


def test_equilibrium_under_input_and_population_rest():
    model = HodgkinHuxley(gL=jnp.array([0.2, 0.3, 0.4]))
    y = model.resting_state()
    assert y["V"].shape == (3,) and model.shape == (3,)
    f = model.vector_field(0.0, y, None)
    assert float(jnp.max(jnp.abs(f["V"]))) < 1e-10
    eq = HodgkinHuxley().equilibrium(5.0)
    assert float(jnp.abs(HodgkinHuxley().vector_field(0.0, eq, 5.0)["V"])) < 1e-10
    # More depolarizing input gives a more depolarized equilibrium.
    assert float(eq["V"]) > float(HodgkinHuxley().resting_state()["V"])


def test_currents_and_steady_state_current():
    model = HodgkinHuxley()
    y = {
        "V": jnp.asarray(-20.0),
        "m": jnp.asarray(0.5),
        "h": jnp.asarray(0.3),
        "n": jnp.asarray(0.6),
    }
    c = model.currents(y)
    # Hand values: 120*0.125*0.3*(-70), 36*0.1296*57, 0.3*34.387.
    assert float(c["INa"]) == pytest.approx(-315.0, rel=1e-14)
    assert float(c["IK"]) == pytest.approx(265.9392, rel=1e-14)
    assert float(c["IL"]) == pytest.approx(10.3161, rel=1e-14)
    dV = model.vector_field(0.0, y, 2.0)["V"]
    assert float(dV) == pytest.approx(2.0 - (-315.0 + 265.9392 + 10.3161), rel=1e-13)
    # The steady-state current is zero at rest.
    assert abs(float(model.steady_state_current(model.resting_state()["V"]))) < 1e-10
    g = HodgkinHuxley.steady_state_gates(-30.0)
    tau = HodgkinHuxley.time_constants(-30.0)
    r = HodgkinHuxley.rates(-30.0)
    assert float(g["m"]) == pytest.approx(float(r["alpha_m"] * tau["m"]), rel=1e-14)


def test_replace_validation_and_units():
    model = HodgkinHuxley()
    assert model.replace(gNa=100.0).gNa == 100.0
    with pytest.raises(ValueError, match="gCa"):
        model.replace(gCa=1.0)
    with pytest.raises(ValueError, match="HodgkinHuxley.C"):
        HodgkinHuxley(C=0.0)
    with pytest.raises(ValueError, match="HodgkinHuxley.gK"):
        HodgkinHuxley(gK=-1.0)
    with pytest.raises(ValueError, match="HodgkinHuxley.ENa"):
        HodgkinHuxley(ENa=float("nan"))
    with pytest.raises(ValueError, match="gNa"):
        HodgkinHuxley(gNa=jnp.ones(3), gK=jnp.ones(4))
    assert HodgkinHuxley.spike_detection_threshold == 0.0
    assert HodgkinHuxley.state_names == ("V", "m", "h", "n")
    defaults = HodgkinHuxley().parameters()
    # The 1952 values (REFERENCES.md).
    assert defaults == {
        "C": 1.0,
        "gNa": 120.0,
        "gK": 36.0,
        "gL": 0.3,
        "ENa": 50.0,
        "EK": -77.0,
        "EL": -54.387,
    }


def test_jit_vmap_grad_through_fields():
    model = HodgkinHuxley()
    y = model.full_state(V=-50.0)

    @jax.jit
    def dV(m):
        return m.vector_field(0.0, y, 1.0)["V"]

    assert float(dV(model)) == pytest.approx(float(model.vector_field(0.0, y, 1.0)["V"]))
    # d(dV/dt)/d(gNa) = -m^3 h (V - ENa) / C exactly.
    g = jax.grad(lambda gNa: dV(model.replace(gNa=gNa)))(120.0)
    expected = -(y["m"] ** 3) * y["h"] * (-50.0 - 50.0)
    assert float(g) == pytest.approx(float(expected), rel=1e-12)
    gks = jnp.array([30.0, 36.0, 40.0])
    out = jax.vmap(lambda gk: dV(model.replace(gK=gk)))(gks)
    assert out.shape == (3,)
    pop = HodgkinHuxley(gK=gks)
    # Same state in every cell (full_state would use each cell's own rest gates).
    y_pop = {k: jnp.broadcast_to(v, (3,)) for k, v in y.items()}
    np.testing.assert_allclose(
        np.asarray(pop.vector_field(0.0, y_pop, 1.0)["V"]), np.asarray(out), rtol=1e-13
    )
    # Gradient of the resting potential w.r.t. gL vs central finite difference (h=1e-4:
    # error ~1e-8 relative to a slope of order 10 mV/(mS/cm^2)).
    f = lambda gL: HodgkinHuxley(gL=gL).resting_state()["V"]  # noqa: E731
    fd = (float(f(0.3 + 1e-4)) - float(f(0.3 - 1e-4))) / 2e-4
    assert abs(float(jax.grad(f)(0.3)) - fd) < 1e-6


def test_closed_form_diagonal_jacobian_matches_autodiff():
    """HH's closed-form diagonal Jacobian (used by exponential Euler) equals the generic JVP one
    from the base class, to round-off (1e-12), at rest, mid-spike and at the rate singularities."""
    import jax.numpy as jnp

    from spikejax.models import HodgkinHuxley, NeuronModel

    hh = HodgkinHuxley()
    V = jnp.array([-65.0, -40.0, -55.0, 10.0])
    y = {"V": V, "m": jnp.full(4, 0.3), "h": jnp.full(4, 0.5), "n": jnp.full(4, 0.4)}
    closed = hh.diagonal_jacobian(0.0, y, 3.0)
    generic = NeuronModel.diagonal_jacobian(hh, 0.0, y, 3.0)
    for name in hh.state_names:
        np.testing.assert_allclose(closed[name], generic[name], rtol=1e-12, atol=1e-12)
