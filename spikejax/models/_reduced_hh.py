r"""Rinzel's planar reduction of the Hodgkin-Huxley model, state $(V, n)$ (an approximation,
for phase-plane pictures).

Rinzel 1985, *Lecture Notes in Biomathematics* 66; Izhikevich 2007, *Dynamical Systems in
Neuroscience*, sec. 5.2: the fast sodium activation is set to its steady state,
$m = m_\infty(V)$, and the slow variables are tied by $h \approx h_0 - h_1 n$ (along HH
trajectories $h + n$ is nearly constant). With Izhikevich's $h = 0.89 - 1.1\,n$:

$$C \dot V = I - \bar g_\mathrm{Na} m_\infty(V)^3 (h_0 - h_1 n)(V - E_\mathrm{Na})
- \bar g_\mathrm{K} n^4 (V - E_\mathrm{K}) - g_L (V - E_L),\qquad
\dot n = \alpha_n(V)(1 - n) - \beta_n(V) n.$$

Its equilibria, thresholds and bifurcation currents differ from the full model's; use it to
draw and reason, and `HodgkinHuxley` for numbers. `spikejax.analysis.reduce_hh` builds one
from a `HodgkinHuxley` model.
"""

from __future__ import annotations

from typing import ClassVar, final

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validation import check_finite, check_nonnegative, check_positive
from ._base import NeuronModel, State, fill, input_current
from ._conductance import solve_voltage, steady_state_residual
from ._hodgkin_huxley import hh_rates

__all__ = ["ReducedHodgkinHuxley"]


@final
class ReducedHodgkinHuxley(NeuronModel):
    r"""Rinzel's planar reduction of the HH model, state `(V, n)` (see the module docstring).

    **Arguments:** the HH parameters `C`, `gNa`, `gK`, `gL`, `ENa`, `EK`, `EL` (same units
    and defaults as `HodgkinHuxley`) and the coefficients of $h = h_0 - h_1 n$: `h0` (0.89),
    `h1` (1.1). $h$ is not clipped to [0, 1] (for $n > h_0/h_1 \approx 0.81$ it is negative).

    **State:** `V` (mV), `n`. **Input:** `I` (uA/cm^2). Spikes: upward crossings of 0 mV.
    """

    C: ArrayLike = 1.0
    gNa: ArrayLike = 120.0
    gK: ArrayLike = 36.0
    gL: ArrayLike = 0.3
    ENa: ArrayLike = 50.0
    EK: ArrayLike = -77.0
    EL: ArrayLike = -54.387
    h0: ArrayLike = 0.89
    h1: ArrayLike = 1.1

    state_names: ClassVar[tuple[str, ...]] = ("V", "n")
    spike_detection_threshold: ClassVar[float] = 0.0
    current_unit: ClassVar[str] = "uA/cm^2"

    def __check_init__(self):
        check_positive("ReducedHodgkinHuxley.C", self.C, "uF/cm^2")
        for name in ("gNa", "gK", "gL"):
            check_nonnegative(f"ReducedHodgkinHuxley.{name}", getattr(self, name), "mS/cm^2")
        for name in ("ENa", "EK", "EL", "h0", "h1"):
            check_finite(f"ReducedHodgkinHuxley.{name}", getattr(self, name))

    @staticmethod
    def m_inf(V: ArrayLike) -> Array:
        r"""$m_\infty(V) = \alpha_m / (\alpha_m + \beta_m)$."""
        r = hh_rates(V)
        return r["alpha_m"] / (r["alpha_m"] + r["beta_m"])

    @staticmethod
    def steady_state_gates(V: ArrayLike) -> dict[str, Array]:
        r"""$n_\infty(V)$ (the only dynamic gate), keyed `n`."""
        r = hh_rates(V)
        return {"n": r["alpha_n"] / (r["alpha_n"] + r["beta_n"])}

    def h(self, n: ArrayLike) -> Array:
        """The sodium inactivation tied to `n`: $h_0 - h_1 n$."""
        return jnp.asarray(self.h0) - self.h1 * jnp.asarray(n)

    def vector_field(self, t, y: State, args) -> State:
        I = input_current(args)
        V, n = y["V"], y["n"]
        r = hh_rates(V)
        m = r["alpha_m"] / (r["alpha_m"] + r["beta_m"])
        I_ion = (
            jnp.asarray(self.gNa) * m**3 * self.h(n) * (V - self.ENa)
            + self.gK * n**4 * (V - self.EK)
            + self.gL * (V - self.EL)
        )
        return {
            "V": (I - I_ion) / self.C,
            "n": r["alpha_n"] * (1.0 - n) - r["beta_n"] * n,
        }

    def steady_state_current(self, V: ArrayLike) -> Array:
        r"""$I_\infty(V)$ with $n = n_\infty(V)$; the equilibria under input $I$ solve
        $I_\infty(V) = I$."""
        V = jnp.asarray(V, dtype=jnp.result_type(float))
        n = self.steady_state_gates(V)["n"]
        return -jnp.asarray(self.C) * self.vector_field(0.0, {"V": V, "n": n}, 0.0)["V"]

    def resting_state(self) -> State:
        """The equilibrium at $I = 0$ reached by Newton's method from -65 mV."""
        V = solve_voltage(steady_state_residual, fill(-65.0, self.shape), (self, 0.0))
        return {"V": V, "n": self.steady_state_gates(V)["n"]}
