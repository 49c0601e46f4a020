"""Persistent sodium models of Izhikevich (2007), *Dynamical Systems in Neuroscience*, ch. 3-4.

Both are defined by named fields and evaluated through the `ConductanceModel` builder
(`model.as_conductance_model()`), so the built-ins and user-assembled models share one code
path. Units: mV, ms, uA/cm^2, mS/cm^2, uF/cm^2.
"""

from __future__ import annotations

from typing import ClassVar, final

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validation import check_finite, check_less, check_nonnegative, check_positive
from ._base import NeuronModel, State
from ._conductance import ConductanceModel, Gate, IonCurrent, boltzmann


def _check_k(name: str, k) -> None:
    # Slopes of activation curves are positive (mV).
    check_positive(name, k, "mV")


@final
class INaP(NeuronModel):
    r"""One-dimensional persistent sodium ($I_\mathrm{Na,p}$) model with an artificial reset.

    $$C \dot V = I - g_L (V - E_L) - g_\mathrm{Na}\, m_\infty(V) (V - E_\mathrm{Na}), \qquad
    m_\infty(V) = \frac{1}{1 + e^{(V_{1/2} - V)/k}}$$
    and, because a one-dimensional flow cannot come back down by itself, when
    $V \ge V_\mathrm{peak}$: $V \leftarrow V_\mathrm{reset}$ (the artificial reset that
    Izhikevich 2007, ch. 3-4, adds to make this one-dimensional model spike).

    **Arguments:** `C` (uF/cm^2, > 0), `gL`, `gNa` (mS/cm^2, >= 0), `EL`, `ENa` (mV),
    `m_V_half` (mV), `m_k` (mV, > 0), `V_peak` (mV; 20), `V_reset` (mV, < V_peak; -60);
    defaults: the $I_\mathrm{Na,p}$ model figures of Izhikevich 2007, ch. 3: $C = 10$,
    $g_L = 19$, $E_L = -67$, $g_\mathrm{Na} = 74$, $V_{1/2} = 1.5$, $k = 16$,
    $E_\mathrm{Na} = 60$.
    With these values and $I = 0$ there are three equilibria (stable rest near -52.5 mV,
    a saddle near -40.3 mV and a stable excited state near +30.9 mV); the rest state
    disappears in a saddle-node bifurcation at $I \approx 15.8$.
    `V_peak` = 20 mV and `V_reset` = -60 mV are this library's choice, not the book's: the
    peak lies above the saddle and below the excited state (so it is reached in finite time),
    the reset below the rest state.

    **State:** `V` (mV). **Input:** `I` (uA/cm^2).
    """

    C: ArrayLike = 10.0
    gL: ArrayLike = 19.0
    EL: ArrayLike = -67.0
    gNa: ArrayLike = 74.0
    ENa: ArrayLike = 60.0
    m_V_half: ArrayLike = 1.5
    m_k: ArrayLike = 16.0
    V_peak: ArrayLike = 20.0
    V_reset: ArrayLike = -60.0

    state_names: ClassVar[tuple[str, ...]] = ("V",)
    is_hybrid: ClassVar[bool] = True
    spike_detection_threshold: ClassVar[float] = 20.0
    current_unit: ClassVar[str] = "uA/cm^2"

    def __check_init__(self):
        check_positive("INaP.C", self.C, "uF/cm^2")
        check_nonnegative("INaP.gL", self.gL, "mS/cm^2")
        check_nonnegative("INaP.gNa", self.gNa, "mS/cm^2")
        check_finite("INaP.EL", self.EL)
        check_finite("INaP.ENa", self.ENa)
        check_finite("INaP.m_V_half", self.m_V_half)
        _check_k("INaP.m_k", self.m_k)
        check_finite("INaP.V_peak", self.V_peak)
        check_finite("INaP.V_reset", self.V_reset)
        check_less("INaP.V_reset", self.V_reset, "INaP.V_peak", self.V_peak)

    def as_conductance_model(self) -> ConductanceModel:
        """This model's flow as a `ConductanceModel` (the reset is not part of it)."""
        m = Gate.boltzmann("m", self.m_V_half, self.m_k, instantaneous=True)
        return ConductanceModel(
            [IonCurrent("Na", self.gNa, self.ENa, [m])], C=self.C, gL=self.gL, EL=self.EL
        )

    def m_inf(self, V: ArrayLike) -> Array:
        r"""$m_\infty(V)$."""
        return boltzmann(V, self.m_V_half, self.m_k)

    def currents(self, y: State) -> dict[str, Array]:
        """`INa` and `IL` (uA/cm^2, outward positive) in state `y`."""
        return self.as_conductance_model().ionic_currents(y)

    def steady_state_current(self, V: ArrayLike) -> Array:
        r"""$I_\infty(V) = g_L(V - E_L) + g_\mathrm{Na} m_\infty(V)(V - E_\mathrm{Na})$; the
        equilibria under input $I$ solve $I_\infty(V) = I$."""
        return self.as_conductance_model().steady_state_current(V)

    def vector_field(self, t, y: State, args) -> State:
        return self.as_conductance_model().vector_field(t, y, args)

    def threshold_distance(self, y: State):
        return y["V"] - self.V_peak

    def reset(self, y: State) -> State:
        return {"V": jnp.broadcast_to(self.V_reset, jnp.shape(y["V"])).astype(y["V"].dtype)}

    def equilibrium(self, I: ArrayLike = 0.0, *, V_guess: ArrayLike | None = None) -> State:
        """The equilibrium that Newton's method reaches from `V_guess` (default `EL`)."""
        return self.as_conductance_model().equilibrium(I, V_guess=V_guess)

    def resting_state(self) -> State:
        """The stable rest state at $I = 0$ (about -52.5 mV for the defaults), computed."""
        return self.equilibrium(0.0)


@final
class INaPIK(NeuronModel):
    r"""The $I_\mathrm{Na,p} + I_\mathrm{K}$ model (Izhikevich 2007, ch. 4).

    $$C \dot V = I - g_L (V - E_L) - g_\mathrm{Na} m_\infty(V) (V - E_\mathrm{Na})
    - g_\mathrm{K}\, n\, (V - E_\mathrm{K}), \qquad \dot n = (n_\infty(V) - n)/\tau_n$$
    with Boltzmann $m_\infty$, $n_\infty$ ($x_\infty = 1/(1 + e^{(V_{1/2} - V)/k})$).

    **Arguments:** `C` = 1 uF/cm^2, `gL` = 8, `gNa` = 20, `gK` = 10 mS/cm^2, `EL` = -80,
    `ENa` = 60, `EK` = -90 mV, `m_V_half` = -20, `m_k` = 15, `n_V_half` = -25, `n_k` = 5 mV,
    `tau_n` = 1 ms (defaults: the high-threshold K+ variant of Izhikevich 2007, Fig. 4.1).
    Presets: `INaPIK.high_threshold()` (these values; saddle-node on
    invariant circle onset, an integrator) and `INaPIK.low_threshold()` (`n_V_half` = -45 mV,
    `EL` = -78 mV, as in the book's low-threshold K+ figures of ch. 4 and 6; Andronov-Hopf
    onset, a resonator; one equilibrium at $I = 0$, near -60.87 mV).
    With the high-threshold defaults and $I = 0$ there are three equilibria, near -65.95
    (stable rest), -56.14 (saddle) and -27.28 mV; at $I = 3$ the rest is near -63.81 mV.

    **State:** `V` (mV), `n`. **Input:** `I` (uA/cm^2). Spikes are upward crossings of
    -20 mV (spikes peak near +10 mV; small oscillations near the Hopf onset of the
    low-threshold variant stay below it).
    """

    C: ArrayLike = 1.0
    gL: ArrayLike = 8.0
    EL: ArrayLike = -80.0
    gNa: ArrayLike = 20.0
    ENa: ArrayLike = 60.0
    gK: ArrayLike = 10.0
    EK: ArrayLike = -90.0
    m_V_half: ArrayLike = -20.0
    m_k: ArrayLike = 15.0
    n_V_half: ArrayLike = -25.0
    n_k: ArrayLike = 5.0
    tau_n: ArrayLike = 1.0

    state_names: ClassVar[tuple[str, ...]] = ("V", "n")
    spike_detection_threshold: ClassVar[float] = -20.0
    current_unit: ClassVar[str] = "uA/cm^2"

    def __check_init__(self):
        check_positive("INaPIK.C", self.C, "uF/cm^2")
        check_nonnegative("INaPIK.gL", self.gL, "mS/cm^2")
        check_nonnegative("INaPIK.gNa", self.gNa, "mS/cm^2")
        check_nonnegative("INaPIK.gK", self.gK, "mS/cm^2")
        for name in ("EL", "ENa", "EK", "m_V_half", "n_V_half"):
            check_finite(f"INaPIK.{name}", getattr(self, name))
        _check_k("INaPIK.m_k", self.m_k)
        _check_k("INaPIK.n_k", self.n_k)
        check_positive("INaPIK.tau_n", self.tau_n, "ms")

    @classmethod
    def high_threshold(cls, **overrides) -> INaPIK:
        """High-threshold K+ variant (n: V_half = -25 mV; EL = -80 mV): SNIC onset."""
        return cls(**{"n_V_half": -25.0, "EL": -80.0, **overrides})

    @classmethod
    def low_threshold(cls, **overrides) -> INaPIK:
        """Low-threshold K+ variant (n: V_half = -45 mV; EL = -78 mV): Andronov-Hopf onset."""
        return cls(**{"n_V_half": -45.0, "EL": -78.0, **overrides})

    def as_conductance_model(self) -> ConductanceModel:
        """The same model assembled with the `ConductanceModel` builder."""
        m = Gate.boltzmann("m", self.m_V_half, self.m_k, instantaneous=True)
        n = Gate.boltzmann("n", self.n_V_half, self.n_k, self.tau_n)
        return ConductanceModel(
            [IonCurrent("Na", self.gNa, self.ENa, [m]), IonCurrent("K", self.gK, self.EK, [n])],
            C=self.C,
            gL=self.gL,
            EL=self.EL,
        )

    def m_inf(self, V: ArrayLike) -> Array:
        r"""$m_\infty(V)$."""
        return boltzmann(V, self.m_V_half, self.m_k)

    def n_inf(self, V: ArrayLike) -> Array:
        r"""$n_\infty(V)$."""
        return boltzmann(V, self.n_V_half, self.n_k)

    def currents(self, y: State) -> dict[str, Array]:
        """`INa`, `IK` and `IL` (uA/cm^2, outward positive) in state `y`."""
        return self.as_conductance_model().ionic_currents(y)

    def steady_state_current(self, V: ArrayLike) -> Array:
        r"""$I_\infty(V)$ with $n = n_\infty(V)$; the equilibria under input $I$ solve
        $I_\infty(V) = I$."""
        return self.as_conductance_model().steady_state_current(V)

    def vector_field(self, t, y: State, args) -> State:
        return self.as_conductance_model().vector_field(t, y, args)

    def equilibrium(self, I: ArrayLike = 0.0, *, V_guess: ArrayLike | None = None) -> State:
        """The equilibrium that Newton's method reaches from `V_guess` (default `EL`)."""
        return self.as_conductance_model().equilibrium(I, V_guess=V_guess)

    def resting_state(self) -> State:
        """The rest state at $I = 0$ reached from `V = EL` (-65.95 mV for the defaults)."""
        return self.equilibrium(0.0)
