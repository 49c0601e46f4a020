"""Leaky integrate-and-fire neuron with threshold, reset and absolute refractory period."""

from __future__ import annotations

from typing import ClassVar, final

import jax.numpy as jnp
from jaxtyping import ArrayLike

from .._validation import check_finite, check_less, check_nonnegative, check_positive
from ._base import NeuronModel, State, fill, input_current


@final
class LIF(NeuronModel):
    r"""Leaky integrate-and-fire neuron.

    $$\tau_m \dot V = -(V - E_L) + R\,I \quad\text{(outside the refractory period)}$$
    When $V \ge V_\mathrm{th}$: a spike, $V \leftarrow V_\mathrm{reset}$, and $V$ is clamped at
    $V_\mathrm{reset}$ for `t_ref` ms.

    **Arguments:** `tau_m` (ms, > 0; 20), `E_L` (mV; -65), `V_th` (mV; -50), `V_reset` (mV,
    < V_th; -65), `t_ref` (ms, >= 0; 2), `R` (resistance, mV per unit of input; 1, so that `I`
    is in mV, as in Brian2's COBA/CUBA benchmarks).

    **State:** `V` (mV) and `refractory` (ms of refractoriness left; 0 when not refractory).

    Closed form for constant suprathreshold input ($E_L + RI > V_\mathrm{th}$), starting from
    reset:
    $$\nu = 1 \Big/ \left(t_\mathrm{ref} + \tau_m
        \ln\frac{E_L + RI - V_\mathrm{reset}}{E_L + RI - V_\mathrm{th}}\right).$$
    """

    tau_m: ArrayLike = 20.0
    E_L: ArrayLike = -65.0
    V_th: ArrayLike = -50.0
    V_reset: ArrayLike = -65.0
    t_ref: ArrayLike = 2.0
    R: ArrayLike = 1.0

    state_names: ClassVar[tuple[str, ...]] = ("V", "refractory")
    is_hybrid: ClassVar[bool] = True
    fused_conductances: ClassVar[bool] = True
    current_unit: ClassVar[str] = "mV/R"

    def __check_init__(self):
        check_positive("LIF.tau_m", self.tau_m, "ms")
        check_nonnegative("LIF.t_ref", self.t_ref, "ms")
        check_finite("LIF.E_L", self.E_L)
        check_finite("LIF.R", self.R)
        check_finite("LIF.V_th", self.V_th)
        check_finite("LIF.V_reset", self.V_reset)
        check_less("LIF.V_reset", self.V_reset, "LIF.V_th", self.V_th)

    def vector_field(self, t, y: State, args) -> State:
        I = input_current(args)
        V, ref = y["V"], y["refractory"]
        refractory = ref > 0
        dV = (-(V - self.E_L) + self.R * I) / self.tau_m
        return {
            "V": jnp.where(refractory, jnp.zeros_like(dV), dV),
            "refractory": jnp.where(refractory, -jnp.ones_like(ref), jnp.zeros_like(ref)),
        }

    def exponential_euler_step(self, t, y: State, args, dt, conductances=()) -> State | None:
        r"""Fused exponential Euler step (used by `method="exponential_euler"`): exact for the
        membrane with the input and any conductances $g_r$ (reversal $E_r$, entering as the
        current $\sum_r g_r (E_r - V)$) frozen over the step,
        $$V \leftarrow V_\infty + (V - V_\infty)\,e^{-\Delta t\,(1 + R G)/\tau_m},\qquad
          V_\infty = \frac{E_L + R I + R \sum_r g_r E_r}{1 + R G},\quad G = \sum_r g_r;$$
        refractory neurons keep $V$ and count their clock down by $\Delta t$. The same update
        as the generic scheme up to rounding, with one exponential. Returns None for
        subclasses that change `vector_field`, so they get the generic scheme."""
        if type(self).vector_field is not LIF.vector_field:
            return None
        I = input_current(args)
        V, ref = y["V"], y["refractory"]
        drive = self.E_L + self.R * I
        leak = 1.0
        for g, E in conductances:
            drive = drive + self.R * g * E
            leak = leak + self.R * g
        V_inf = drive / leak
        V_new = V_inf + (V - V_inf) * jnp.exp(-dt * leak / self.tau_m)
        refractory = ref > 0
        return {
            "V": jnp.where(refractory, V, V_new).astype(V.dtype),
            "refractory": jnp.where(refractory, ref - dt, ref).astype(ref.dtype),
        }

    def threshold_distance(self, y: State):
        # A refractory neuron cannot spike.
        return jnp.where(y["refractory"] > 0, -jnp.inf, y["V"] - self.V_th)

    def reset(self, y: State) -> State:
        shape = jnp.shape(y["V"])
        return {
            "V": jnp.broadcast_to(self.V_reset, shape).astype(y["V"].dtype),
            "refractory": jnp.broadcast_to(self.t_ref, shape).astype(y["V"].dtype),
        }

    def post_step(self, y: State, dt) -> State:
        # Remove round-off left by counting the refractory clock down in steps of dt.
        ref = y["refractory"]
        return {**y, "refractory": jnp.where(ref < 0.5 * dt, jnp.zeros_like(ref), ref)}

    def resting_state(self) -> State:
        return {"V": fill(self.E_L, self.shape), "refractory": fill(0.0, self.shape)}

    def rate(self, I: ArrayLike) -> ArrayLike:
        """Closed-form firing rate (Hz) for constant input `I`, time in ms."""
        V_inf = self.E_L + self.R * jnp.asarray(I)
        supra = V_inf > self.V_th
        safe = jnp.where(supra, V_inf, self.V_th + 1.0)
        T = self.t_ref + self.tau_m * jnp.log((safe - self.V_reset) / (safe - self.V_th))
        return jnp.where(supra, 1000.0 / T, 0.0)
