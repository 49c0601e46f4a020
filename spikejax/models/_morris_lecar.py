"""The Morris-Lecar model (Morris & Lecar 1981) in the form of Rinzel & Ermentrout (1989)."""

from __future__ import annotations

from typing import ClassVar, final

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validation import check_finite, check_nonnegative, check_positive
from ._base import NeuronModel, State, fill, input_current
from ._conductance import solve_voltage, steady_state_residual

_FIELDS = ("EL", "ECa", "EK", "V1", "V3")


@final
class MorrisLecar(NeuronModel):
    r"""Two-variable model of the barnacle muscle fibre: an instantaneous calcium current
    and a slower potassium current (Morris & Lecar 1981, *Biophys J* 35:193), written as in
    Rinzel & Ermentrout (1989), "Analysis of neural excitability and oscillations", in Koch &
    Segev (eds), *Methods in Neuronal Modeling*, and Ermentrout & Terman (2010),
    *Mathematical Foundations of Neuroscience*, ch. 3:

    $$C \dot V = I - g_L (V - E_L) - g_\mathrm{Ca}\, m_\infty(V) (V - E_\mathrm{Ca})
    - g_\mathrm{K}\, w\, (V - E_\mathrm{K}), \qquad
    \dot w = \varphi \cosh\!\Big(\frac{V - V_3}{2 V_4}\Big)\,(w_\infty(V) - w),$$
    $$m_\infty(V) = \tfrac12\big(1 + \tanh\tfrac{V - V_1}{V_2}\big), \qquad
    w_\infty(V) = \tfrac12\big(1 + \tanh\tfrac{V - V_3}{V_4}\big).$$

    **Arguments:** `C` = 20 uF/cm^2 (> 0); `gL` = 2, `gCa` = 4.4, `gK` = 8 mS/cm^2 (>= 0);
    `EL` = -60, `ECa` = 120, `EK` = -84 mV; `V1` = -1.2, `V2` = 18 (> 0), `V3` = 2,
    `V4` = 30 mV (> 0); `phi` = 0.04 1/ms (> 0). The defaults are the **class-2** set
    (Rinzel & Ermentrout 1989; the "Hopf" set of Ermentrout & Terman 2010, Table 3.1): the
    rest state loses stability in a subcritical Andronov-Hopf bifurcation, and a fold of
    cycles bounds the range where rest and repetitive firing coexist.
    Presets: `MorrisLecar.class2()` (the defaults), `MorrisLecar.class1()` (`gCa` = 4,
    `V3` = 12, `V4` = 17.4, `phi` = 1/15: the rest state disappears in a saddle-node on
    an invariant circle, so firing starts at zero frequency) and `MorrisLecar.homoclinic()`
    (the class-1 set with `phi` = 0.23, Ermentrout & Terman's "homoclinic" set: the cycle
    is born in a saddle homoclinic bifurcation below the saddle-node).

    **State:** `V` (mV), `w` (fraction of open K+ channels). **Input:** `I` (uA/cm^2).
    Spikes are upward crossings of 0 mV.
    """

    C: ArrayLike = 20.0
    gL: ArrayLike = 2.0
    EL: ArrayLike = -60.0
    gCa: ArrayLike = 4.4
    ECa: ArrayLike = 120.0
    gK: ArrayLike = 8.0
    EK: ArrayLike = -84.0
    V1: ArrayLike = -1.2
    V2: ArrayLike = 18.0
    V3: ArrayLike = 2.0
    V4: ArrayLike = 30.0
    phi: ArrayLike = 0.04

    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    spike_detection_threshold: ClassVar[float] = 0.0
    current_unit: ClassVar[str] = "uA/cm^2"

    def __check_init__(self):
        check_positive("MorrisLecar.C", self.C, "uF/cm^2")
        for name in ("gL", "gCa", "gK"):
            check_nonnegative(f"MorrisLecar.{name}", getattr(self, name), "mS/cm^2")
        for name in _FIELDS:
            check_finite(f"MorrisLecar.{name}", getattr(self, name))
        check_positive("MorrisLecar.V2", self.V2, "mV")
        check_positive("MorrisLecar.V4", self.V4, "mV")
        check_positive("MorrisLecar.phi", self.phi, "1/ms")

    @classmethod
    def class2(cls, **overrides) -> MorrisLecar:
        """Class-2 excitability (Andronov-Hopf onset): the defaults."""
        return cls(**{"gCa": 4.4, "V3": 2.0, "V4": 30.0, "phi": 0.04, **overrides})

    @classmethod
    def class1(cls, **overrides) -> MorrisLecar:
        """Class-1 excitability (saddle-node on invariant circle): `gCa` = 4, `V3` = 12,
        `V4` = 17.4 mV, `phi` = 1/15 (Rinzel & Ermentrout 1989)."""
        return cls(**{"gCa": 4.0, "V3": 12.0, "V4": 17.4, "phi": 1.0 / 15.0, **overrides})

    @classmethod
    def homoclinic(cls, **overrides) -> MorrisLecar:
        """The class-1 set with `phi` = 0.23 (Ermentrout & Terman 2010, Table 3.1): firing
        starts in a saddle homoclinic bifurcation, below the saddle-node of the rest state."""
        return cls.class1(**{"phi": 0.23, **overrides})

    def m_inf(self, V: ArrayLike) -> Array:
        r"""$m_\infty(V)$."""
        return 0.5 * (1.0 + jnp.tanh((jnp.asarray(V) - self.V1) / self.V2))

    def w_inf(self, V: ArrayLike) -> Array:
        r"""$w_\infty(V)$."""
        return 0.5 * (1.0 + jnp.tanh((jnp.asarray(V) - self.V3) / self.V4))

    def currents(self, y: State) -> dict[str, Array]:
        """`ICa`, `IK` and `IL` (uA/cm^2, outward positive) in state `y`."""
        V = jnp.asarray(y["V"])
        return {
            "ICa": jnp.asarray(self.gCa * self.m_inf(V) * (V - self.ECa)),
            "IK": jnp.asarray(self.gK * jnp.asarray(y["w"]) * (V - self.EK)),
            "IL": jnp.asarray(self.gL * (V - self.EL)),
        }

    def steady_state_current(self, V: ArrayLike) -> Array:
        r"""$I_\infty(V)$ with $w = w_\infty(V)$; the equilibria under input $I$ solve
        $I_\infty(V) = I$."""
        return jnp.asarray(self._ionic(jnp.asarray(V), self.w_inf(V)))

    def _ionic(self, V, w):
        return (
            self.gCa * self.m_inf(V) * (V - self.ECa)
            + self.gK * w * (V - self.EK)
            + self.gL * (V - self.EL)
        )

    def vector_field(self, t, y: State, args) -> State:
        I = input_current(args)
        V, w = y["V"], y["w"]
        ionic = self._ionic(V, w)
        rate = jnp.asarray(self.phi) * jnp.cosh((V - self.V3) / (2.0 * self.V4))
        return {"V": (I - ionic) / self.C, "w": rate * (self.w_inf(V) - w)}

    def equilibrium(self, I: ArrayLike = 0.0, *, V_guess: ArrayLike | None = None) -> State:
        """The equilibrium that Newton's method reaches from `V_guess` (default `EL`)."""
        V0 = self.EL if V_guess is None else V_guess
        shape = jnp.broadcast_shapes(self.shape, jnp.shape(I), jnp.shape(V0))
        V = solve_voltage(steady_state_residual, fill(V0, shape), (self, I))
        return {"V": V, "w": self.w_inf(V)}

    def resting_state(self) -> State:
        """The equilibrium at $I = 0$ reached from `V = EL` (near -60.9 mV for both sets)."""
        return self.equilibrium(0.0)
