"""A model written by a user with public names only (`spikejax.models.NeuronModel`,
`input_current`, `fill`) simulates, analyses and differentiates like a built-in one; the
abstract base cannot be instantiated."""

from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import spikejax as sj
from spikejax.analysis import fixed_points, jacobian
from spikejax.models import NeuronModel, fill, input_current


class Linear2(NeuronModel):
    r"""$\dot V = -a V - w + I$, $\dot w = k (V - w)$: a linear planar system with the
    equilibrium $V^* = w^* = I / (1 + a)$ and Jacobian $[[-a, -1], [k, -k]]$."""

    a: float = 0.5
    k: float = 0.2

    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        I = input_current(args)
        V, w = y["V"], y["w"]
        return {"V": -self.a * V - w + I, "w": self.k * (V - w)}

    def resting_state(self):
        return {"V": fill(0.0, self.shape), "w": fill(0.0, self.shape)}


def _exact(a, k, I, t, x0=(0.0, 0.0)):
    """Closed-form solution x(t) = x* + expm(J t)(x0 - x*) (scipy's matrix exponential)."""
    J = np.array([[-a, -1.0], [k, -k]])
    xs = np.full(2, I / (1.0 + a))
    return xs + scipy.linalg.expm(J * t) @ (np.asarray(x0) - xs)


def test_abstract_base_is_not_instantiable():
    with pytest.raises(TypeError, match="abstract"):
        NeuronModel()  # pyright: ignore[reportAbstractUsage]


def test_custom_model_simulates_against_the_matrix_exponential():
    m, I = Linear2(), 1.5
    res = sj.simulate(m, duration=10.0, dt=0.01, I=I, method="rk4")
    # RK4 at dt = 0.01 on eigenvalues of size < 1: global error ~ dt^4 = 1e-8.
    exact = _exact(0.5, 0.2, I, 10.0)
    np.testing.assert_allclose([res.final_state["V"], res.final_state["w"]], exact, atol=1e-7)


def test_custom_model_fixed_point_and_jacobian_match_closed_form():
    m, I = Linear2(), 1.5
    fps = fixed_points(m, I, V_range=(-10.0, 10.0))
    assert len(fps) == 1
    np.testing.assert_allclose(fps[0].vector, [I / 1.5, I / 1.5], rtol=1e-12)
    np.testing.assert_allclose(jacobian(m, fps[0].vector, I), [[-0.5, -1.0], [0.2, -0.2]])
    # tr = -0.7, det = 0.1 + 0.2 = 0.3, tr^2 < 4 det: a stable focus.
    assert fps[0].stable and fps[0].type.name == "STABLE_FOCUS"


def test_custom_model_differentiates_against_finite_differences_of_the_closed_form():
    I, T = 1.5, 5.0

    def final_V(a):
        sol = sj.fit.solve_fixed(Linear2(a=a), Linear2().resting_state(), I, dt=0.01, n_steps=500)
        return sol.final_state["V"]

    g = float(jax.grad(final_V)(jnp.asarray(0.5)))
    h = 1e-5
    fd = (_exact(0.5 + h, 0.2, I, T)[0] - _exact(0.5 - h, 0.2, I, T)[0]) / (2 * h)
    # RK4 error ~1e-8 in the state; central difference of the exact solution ~h^2 = 1e-10.
    assert abs(g - fd) < 1e-6, (g, fd)
