"""The artificial (rate) neuron: a weighted sum of inputs passed through a transfer function."""

from __future__ import annotations

from typing import ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validation import check_finite, check_positive
from ._base import NeuronModel, State, fill, input_current

ACTIVATIONS: tuple[str, ...] = ("sigmoid", "relu", "tanh")


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {activation!r}")


def transfer(
    u: ArrayLike, *, activation: str = "sigmoid", gain: ArrayLike = 1.0, threshold: ArrayLike = 0.0
) -> Array:
    r"""The transfer function $f(u)$ with $z = \mathrm{gain}\,(u - \theta)$:
    `"sigmoid"` $1/(1 + e^{-z})$, `"relu"` $\max(0, z)$, `"tanh"` $\tanh z$."""
    _check_activation(activation)
    z = gain * (jnp.asarray(u) - threshold)
    if activation == "sigmoid":
        return jax.nn.sigmoid(z)
    if activation == "relu":
        return jnp.maximum(z, 0.0)
    return jnp.tanh(z)


def artificial_neuron(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike = 0.0,
    *,
    activation: str = "sigmoid",
    gain: ArrayLike = 1.0,
    threshold: ArrayLike = 0.0,
) -> Array:
    r"""The classic unit $y = f(w \cdot x + b)$ (McCulloch-Pitts / perceptron style).

    `w` of shape `(n_in,)` gives one output; `(n_out, n_in)` gives `n_out` outputs
    (`jnp.dot(w, x)`). Batch over inputs with `jax.vmap`. See `transfer` for `f`.
    """
    u = jnp.dot(jnp.asarray(w), jnp.asarray(x)) + b
    return transfer(u, activation=activation, gain=gain, threshold=threshold)


@final
class RateUnit(NeuronModel):
    r"""A firing-rate unit: $\tau \dot r = -r + f(I)$, with $f$ = `transfer` (`activation`,
    `gain`, `threshold`); its steady state under constant input is $r = f(I)$.

    **Arguments:** `tau` (ms, > 0; 10), `gain` (> 0; 1), `threshold` ($\theta$, input units;
    0), and the static option `activation` (`"sigmoid"`, `"relu"` or `"tanh"`).

    **State:** `r` (rate, dimensionless). **Input:** `I` (the summed weighted input
    $w \cdot x + b$). Rate units do not spike (`spike_detection_threshold` is infinite).
    For the static unit use `model.output(x, w, b)` or `artificial_neuron`.
    """

    tau: ArrayLike = 10.0
    gain: ArrayLike = 1.0
    threshold: ArrayLike = 0.0
    activation: str = eqx.field(static=True, default="sigmoid", kw_only=True)

    state_names: ClassVar[tuple[str, ...]] = ("r",)
    voltage_name: ClassVar[str] = "r"
    spike_detection_threshold: ClassVar[float] = float("inf")
    voltage_unit: ClassVar[str] = "1"
    current_unit: ClassVar[str] = "1"

    def __check_init__(self):
        check_positive("RateUnit.tau", self.tau, "ms")
        check_positive("RateUnit.gain", self.gain)
        check_finite("RateUnit.threshold", self.threshold)
        _check_activation(self.activation)

    def transfer(self, I: ArrayLike) -> Array:
        """$f(I)$, the steady-state rate under constant input `I`."""
        return transfer(I, activation=self.activation, gain=self.gain, threshold=self.threshold)

    def output(self, x: ArrayLike, w: ArrayLike, b: ArrayLike = 0.0) -> Array:
        r"""The static unit $f(w \cdot x + b)$ with this unit's transfer function."""
        return self.transfer(jnp.dot(jnp.asarray(w), jnp.asarray(x)) + b)

    def vector_field(self, t, y: State, args) -> State:
        I = input_current(args)
        return {"r": (-y["r"] + self.transfer(I)) / self.tau}

    def resting_state(self) -> State:
        """The steady state at zero input, $r = f(0)$."""
        return {"r": fill(self.transfer(0.0), self.shape)}
