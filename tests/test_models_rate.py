"""Tests of the artificial neuron (static unit) and the rate-unit NeuronModel."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikejax.models import RateUnit, artificial_neuron
from spikejax.models._rate_unit import transfer

U = np.linspace(-10.0, 10.0, 41)


def test_transfer_functions_match_numpy():
    # Round-off agreement with the textbook formulas, z = gain (u - threshold).
    z = 2.0 * (U - 1.0)
    np.testing.assert_allclose(
        np.asarray(transfer(U, activation="sigmoid", gain=2.0, threshold=1.0)),
        1 / (1 + np.exp(-z)),
        rtol=1e-14,
    )
    np.testing.assert_allclose(
        np.asarray(transfer(U, activation="relu", gain=2.0, threshold=1.0)), np.maximum(z, 0)
    )
    np.testing.assert_allclose(
        np.asarray(transfer(U, activation="tanh", gain=2.0, threshold=1.0)),
        np.tanh(z),
        rtol=1e-14,
    )
    with pytest.raises(ValueError, match="activation"):
        transfer(U, activation="softplus")


def test_artificial_neuron_weighted_sum():
    x = np.array([1.0, -2.0, 0.5])
    w = np.array([0.3, 0.1, -0.4])
    b = 0.25
    u = 0.3 - 0.2 - 0.2 + 0.25  # w.x + b by hand = 0.15
    assert float(artificial_neuron(x, w, b)) == pytest.approx(1 / (1 + np.exp(-u)), rel=1e-14)
    assert float(artificial_neuron(x, w, b, activation="relu")) == pytest.approx(u, rel=1e-14)
    # Perceptron-style threshold unit: a steep sigmoid approximates a step at w.x + b = 0.
    assert float(artificial_neuron(x, w, -1.0, gain=1e3)) < 1e-100
    W = np.stack([w, -w])
    out = artificial_neuron(x, W, b, activation="tanh")
    np.testing.assert_allclose(np.asarray(out), np.tanh(W @ x + b), rtol=1e-14)
    # Batching with vmap.
    X = np.random.default_rng(0).normal(size=(5, 3))
    batched = jax.vmap(lambda xi: artificial_neuron(xi, w, b))(jnp.asarray(X))
    np.testing.assert_allclose(np.asarray(batched), 1 / (1 + np.exp(-(X @ w + b))), rtol=1e-14)
    # Gradient w.r.t. the weights: s (1 - s) x (analytic), vs autodiff.
    s = 1 / (1 + np.exp(-u))
    g = jax.grad(lambda w: artificial_neuron(x, w, b))(jnp.asarray(w))
    np.testing.assert_allclose(np.asarray(g), s * (1 - s) * x, rtol=1e-13)


def test_rate_unit_model():
    model = RateUnit(tau=5.0, gain=2.0, threshold=1.0)
    assert model.state_names == ("r",) and model.voltage_name == "r"
    rest = model.resting_state()
    # r = f(0) = sigmoid(2 * (0 - 1)).
    assert float(rest["r"]) == pytest.approx(1 / (1 + np.exp(2.0)), rel=1e-14)
    f = model.vector_field(0.0, {"r": jnp.asarray(0.2)}, 3.0)
    assert float(f["r"]) == pytest.approx((-0.2 + 1 / (1 + np.exp(-4.0))) / 5.0, rel=1e-14)
    # The steady state under constant input I is f(I): the vector field vanishes there.
    for I in [-3.0, 0.5, 4.0]:
        r_star = model.transfer(I)
        assert abs(float(model.vector_field(0.0, {"r": r_star}, I)["r"])) < 1e-16
    # Linear relaxation with rate 1/tau: d(dr/dt)/dr = -1/tau.
    J = jax.jacfwd(lambda x: model.vector_field_array(0.0, x, 1.0))(jnp.array([0.3]))
    assert float(J[0, 0]) == pytest.approx(-0.2, rel=1e-15)
    assert float(model.output(np.array([1.0, 2.0]), np.array([0.5, 0.5]), 0.5)) == pytest.approx(
        1 / (1 + np.exp(-2.0 * (2.0 - 1.0))), rel=1e-14
    )
    # Rate units never spike.
    assert not bool(model.spike_condition({"r": jnp.asarray(1e6)}))


def test_rate_unit_validation_population_and_grad():
    with pytest.raises(ValueError, match="RateUnit.tau"):
        RateUnit(tau=0.0)
    with pytest.raises(ValueError, match="RateUnit.gain"):
        RateUnit(gain=float("nan"))
    with pytest.raises(ValueError, match="activation"):
        RateUnit(activation="step")
    with pytest.raises(ValueError, match="activation"):
        RateUnit().replace(activation="relu")  # static option, not a parameter
    pop = RateUnit(tau=jnp.array([1.0, 2.0, 4.0]), activation="relu")
    assert pop.shape == (3,)
    f = pop.vector_field(0.0, pop.resting_state(), 2.0)
    np.testing.assert_allclose(np.asarray(f["r"]), 2.0 / np.array([1.0, 2.0, 4.0]), rtol=1e-15)
    # d(dr/dt)/d(gain) at r = 0 for the sigmoid: s (1 - s) (I - theta) / tau.
    I, s = 1.5, 1 / (1 + np.exp(-1.5))
    g = jax.jit(
        jax.grad(
            lambda gain: RateUnit(gain=gain).vector_field(0.0, {"r": jnp.asarray(0.0)}, I)["r"]
        )
    )(1.0)
    assert float(g) == pytest.approx(s * (1 - s) * I / 10.0, rel=1e-13)
