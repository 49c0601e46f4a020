"""FitzHugh-Nagumo model (FitzHugh 1961; Nagumo, Arimoto & Yoshizawa 1962)."""

from __future__ import annotations

from typing import ClassVar, final

import jax.numpy as jnp
from jaxtyping import ArrayLike

from .._validation import check_finite, check_positive
from ._base import NeuronModel, State, fill, input_current


@final
class FitzHughNagumo(NeuronModel):
    r"""Two-variable relaxation oscillator, in dimensionless units.

    $$\dot v = v - v^3/3 - w + I, \qquad \dot w = \varepsilon\,(v + a - b\,w)$$

    **Arguments:** `a` (0.7), `b` (0.8), `eps` (0.08, > 0); all dimensionless.

    **State:** `V` (fast, voltage-like) and `w` (slow recovery). **Input:** `I` (dimensionless).
    Spikes are upward crossings of `V = 1`.
    """

    a: ArrayLike = 0.7
    b: ArrayLike = 0.8
    eps: ArrayLike = 0.08

    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    spike_detection_threshold: ClassVar[float] = 1.0
    time_unit: ClassVar[str] = "1"
    voltage_unit: ClassVar[str] = "1"
    current_unit: ClassVar[str] = "1"

    def __check_init__(self):
        check_finite("FitzHughNagumo.a", self.a)
        check_finite("FitzHughNagumo.b", self.b)
        check_positive("FitzHughNagumo.eps", self.eps)

    def vector_field(self, t, y: State, args) -> State:
        I = input_current(args)
        v, w = y["V"], y["w"]
        return {"V": v - v**3 / 3 - w + I, "w": jnp.asarray(self.eps) * (v + self.a - self.b * w)}

    def resting_state(self) -> State:
        # The equilibrium at I = 0 for the default parameters (v = -1.1994, w = -0.6243).
        return {"V": fill(-1.1994, self.shape), "w": fill(-0.6243, self.shape)}
