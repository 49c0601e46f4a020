r"""Spike functions with surrogate gradients.

The forward pass is the exact Heaviside step $H(x)$ of the threshold distance $x$ (so the
simulation is unchanged); the backward pass replaces $\delta(x)$ by a smooth surrogate of
width set by `beta` (larger is sharper). Use them where a network or a fit needs gradients
through spike generation.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

__all__ = ["SpikeFunction", "Heaviside", "FastSigmoid", "Sigmoid", "ArcTan", "Triangle"]


def _heaviside(x):
    x = jnp.asarray(x)
    return (x >= 0).astype(jnp.result_type(x, float))


def _make(derivative):
    @jax.custom_jvp
    def spike(x, beta):
        return _heaviside(x)

    @spike.defjvp
    def _jvp(primals, tangents):
        x, beta = primals
        dx, _ = tangents
        return _heaviside(x), derivative(x, beta) * dx

    return spike


_fast_sigmoid = _make(lambda x, beta: beta / (1.0 + beta * jnp.abs(x)) ** 2)
_sigmoid = _make(lambda x, beta: beta * jax.nn.sigmoid(beta * x) * (1 - jax.nn.sigmoid(beta * x)))
_arctan = _make(lambda x, beta: beta / (1.0 + (jnp.pi * beta * x) ** 2))
_triangle = _make(lambda x, beta: beta * jnp.maximum(0.0, 1.0 - beta * jnp.abs(x)))


class SpikeFunction(eqx.Module):
    """Abstract spike function: `fn(x)` returns 0/1 floats, `x` the threshold distance.

    `beta` (> 0) sets the sharpness of the surrogate derivative (unused by `Heaviside`).
    """

    beta: float = 1.0

    @abc.abstractmethod
    def __call__(self, x: ArrayLike) -> Array:
        """$H(x)$ as 0/1 floats of `x`'s floating dtype."""


class Heaviside(SpikeFunction):
    """Exact step with zero gradient (the default for simulation)."""

    def __call__(self, x: ArrayLike) -> Array:
        return jax.lax.stop_gradient(_heaviside(x))


class FastSigmoid(SpikeFunction):
    r"""Surrogate derivative $\beta / (1 + \beta|x|)^2$ (SuperSpike, Zenke & Ganguli 2018)."""

    def __call__(self, x: ArrayLike) -> Array:
        return _fast_sigmoid(x, jnp.asarray(self.beta, dtype=jnp.result_type(x, float)))


class Sigmoid(SpikeFunction):
    r"""Surrogate derivative $\beta\,\sigma(\beta x)(1 - \sigma(\beta x))$."""

    def __call__(self, x: ArrayLike) -> Array:
        return _sigmoid(x, jnp.asarray(self.beta, dtype=jnp.result_type(x, float)))


class ArcTan(SpikeFunction):
    r"""Surrogate derivative $\beta / (1 + (\pi \beta x)^2)$."""

    def __call__(self, x: ArrayLike) -> Array:
        return _arctan(x, jnp.asarray(self.beta, dtype=jnp.result_type(x, float)))


class Triangle(SpikeFunction):
    r"""Surrogate derivative $\beta \max(0, 1 - \beta|x|)$."""

    def __call__(self, x: ArrayLike) -> Array:
        return _triangle(x, jnp.asarray(self.beta, dtype=jnp.result_type(x, float)))
