"""The Hodgkin-Huxley model of the squid giant axon (Hodgkin & Huxley 1952, J Physiol 117:500)."""

from __future__ import annotations

from typing import ClassVar, final

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validation import check_finite, check_nonnegative, check_positive
from ._base import NeuronModel, State, fill, input_current
from ._conductance import (
    ConductanceModel,
    ExpRate,
    Gate,
    IonCurrent,
    LinoidRate,
    SigmoidRate,
    linoid,
    phi1_exp,
    solve_voltage,
    steady_state_residual,
)

# ----- rate functions (1/ms, V in mV; the modern convention with rest near -65 mV) -------------


def alpha_m(V: ArrayLike) -> Array:
    r"""$\alpha_m = 0.1 (V+40) / (1 - e^{-(V+40)/10})$; equals 1.0 at $V = -40$ (limit)."""
    return 0.1 * linoid(jnp.asarray(V) + 40.0, 10.0)


def beta_m(V: ArrayLike) -> Array:
    r"""$\beta_m = 4 e^{-(V+65)/18}$."""
    return 4.0 * jnp.exp(-(jnp.asarray(V) + 65.0) / 18.0)


def alpha_h(V: ArrayLike) -> Array:
    r"""$\alpha_h = 0.07 e^{-(V+65)/20}$."""
    return 0.07 * jnp.exp(-(jnp.asarray(V) + 65.0) / 20.0)


def beta_h(V: ArrayLike) -> Array:
    r"""$\beta_h = 1 / (1 + e^{-(V+35)/10})$."""
    return 1.0 / (1.0 + jnp.exp(-(jnp.asarray(V) + 35.0) / 10.0))


def alpha_n(V: ArrayLike) -> Array:
    r"""$\alpha_n = 0.01 (V+55) / (1 - e^{-(V+55)/10})$; equals 0.1 at $V = -55$ (limit)."""
    return 0.01 * linoid(jnp.asarray(V) + 55.0, 10.0)


def beta_n(V: ArrayLike) -> Array:
    r"""$\beta_n = 0.125 e^{-(V+65)/80}$."""
    return 0.125 * jnp.exp(-(jnp.asarray(V) + 65.0) / 80.0)


def hh_rates(V: ArrayLike) -> dict[str, Array]:
    """All six rate functions at `V`, keyed `alpha_m`, `beta_m`, ..., `beta_n` (1/ms)."""
    return {
        "alpha_m": alpha_m(V),
        "beta_m": beta_m(V),
        "alpha_h": alpha_h(V),
        "beta_h": beta_h(V),
        "alpha_n": alpha_n(V),
        "beta_n": beta_n(V),
    }


def _inf(a, b):
    return a / (a + b)


@final
class HodgkinHuxley(NeuronModel):
    r"""Hodgkin & Huxley (1952) squid-axon model (6.3 degC), with rest near -65 mV.

    $$C \dot V = I - \bar g_\mathrm{Na} m^3 h (V - E_\mathrm{Na})
    - \bar g_\mathrm{K} n^4 (V - E_\mathrm{K}) - g_L (V - E_L)$$
    $$\dot x = \alpha_x(V) (1 - x) - \beta_x(V)\, x, \quad x \in \{m, h, n\}$$
    with the rate functions `alpha_m`, ..., `beta_n` of this module (1/ms).

    **Arguments:** `C` (uF/cm^2, > 0; 1), `gNa` (mS/cm^2, >= 0; 120), `gK` (36), `gL` (0.3),
    `ENa` (mV; 50), `EK` (-77), `EL` (-54.387).

    **State:** `V` (mV), `m`, `h`, `n` (dimensionless). **Input:** `I` (uA/cm^2).
    Spikes are upward crossings of 0 mV.

    `resting_state()` is the equilibrium at $I = 0$, computed by Newton's method on the
    steady-state current (about -65.0 mV for the defaults), not a rounded constant.
    """

    C: ArrayLike = 1.0
    gNa: ArrayLike = 120.0
    gK: ArrayLike = 36.0
    gL: ArrayLike = 0.3
    ENa: ArrayLike = 50.0
    EK: ArrayLike = -77.0
    EL: ArrayLike = -54.387

    state_names: ClassVar[tuple[str, ...]] = ("V", "m", "h", "n")
    spike_detection_threshold: ClassVar[float] = 0.0
    current_unit: ClassVar[str] = "uA/cm^2"

    def __check_init__(self):
        check_positive("HodgkinHuxley.C", self.C, "uF/cm^2")
        check_nonnegative("HodgkinHuxley.gNa", self.gNa, "mS/cm^2")
        check_nonnegative("HodgkinHuxley.gK", self.gK, "mS/cm^2")
        check_nonnegative("HodgkinHuxley.gL", self.gL, "mS/cm^2")
        check_finite("HodgkinHuxley.ENa", self.ENa)
        check_finite("HodgkinHuxley.EK", self.EK)
        check_finite("HodgkinHuxley.EL", self.EL)

    # ----- pieces, exposed for plots and analysis ------------------------------------------
    @staticmethod
    def rates(V: ArrayLike) -> dict[str, Array]:
        """The six rate functions at `V` (1/ms); see `hh_rates`."""
        return hh_rates(V)

    @staticmethod
    def steady_state_gates(V: ArrayLike) -> dict[str, Array]:
        r"""$x_\infty(V) = \alpha_x / (\alpha_x + \beta_x)$ for `m`, `h`, `n`."""
        r = hh_rates(V)
        return {
            "m": _inf(r["alpha_m"], r["beta_m"]),
            "h": _inf(r["alpha_h"], r["beta_h"]),
            "n": _inf(r["alpha_n"], r["beta_n"]),
        }

    @staticmethod
    def time_constants(V: ArrayLike) -> dict[str, Array]:
        r"""$\tau_x(V) = 1 / (\alpha_x + \beta_x)$ (ms) for `m`, `h`, `n`."""
        r = hh_rates(V)
        return {
            "m": 1.0 / (r["alpha_m"] + r["beta_m"]),
            "h": 1.0 / (r["alpha_h"] + r["beta_h"]),
            "n": 1.0 / (r["alpha_n"] + r["beta_n"]),
        }

    def currents(self, y: State) -> dict[str, Array]:
        """The ionic currents `INa`, `IK`, `IL` (uA/cm^2, outward positive) in state `y`."""
        V, m, h, n = y["V"], y["m"], y["h"], y["n"]
        return {
            "INa": jnp.asarray(self.gNa) * m**3 * h * (V - self.ENa),
            "IK": jnp.asarray(self.gK) * n**4 * (V - self.EK),
            "IL": jnp.asarray(self.gL) * (V - self.EL),
        }

    def steady_state_current(self, V: ArrayLike) -> Array:
        r"""Net ionic current with all gates at steady state, $I_\infty(V)$ (uA/cm^2).

        Equilibria under a constant input $I$ are the solutions of $I_\infty(V) = I$.
        """
        V = jnp.asarray(V, dtype=jnp.result_type(float))
        g = self.steady_state_gates(V)
        c = self.currents({"V": V, **g})
        return c["INa"] + c["IK"] + c["IL"]

    # ----- the model contract -------------------------------------------------------------
    def vector_field(self, t, y: State, args) -> State:
        I = input_current(args)
        V, m, h, n = y["V"], y["m"], y["h"], y["n"]
        c = self.currents(y)
        r = hh_rates(V)
        return {
            "V": (I - c["INa"] - c["IK"] - c["IL"]) / self.C,
            "m": r["alpha_m"] * (1.0 - m) - r["beta_m"] * m,
            "h": r["alpha_h"] * (1.0 - h) - r["beta_h"] * h,
            "n": r["alpha_n"] * (1.0 - n) - r["beta_n"] * n,
        }

    def diagonal_jacobian(self, t, y: State, args) -> State:
        r"""Closed-form $\partial f_x/\partial x$.

        $-g_\mathrm{tot}/C$ for V and $-(\alpha_x+\beta_x)$ for each gate x (1/ms).
        """
        m, h, n = y["m"], y["h"], y["n"]
        r = hh_rates(y["V"])
        g_total = jnp.asarray(self.gNa) * m**3 * h + self.gK * n**4 + self.gL
        return {
            "V": -g_total / self.C,
            "m": -(r["alpha_m"] + r["beta_m"]),
            "h": -(r["alpha_h"] + r["beta_h"]),
            "n": -(r["alpha_n"] + r["beta_n"]),
        }

    fused_conductances: ClassVar[bool] = True

    def exponential_euler_step(self, t, y: State, args, dt, conductances=()) -> State | None:
        r"""Fused exponential Euler step (used by `method="exponential_euler"`).

        Gates: $x \leftarrow x_\infty + (x - x_\infty)\,e^{-(\alpha_x+\beta_x)\Delta t}$,
        $x_\infty = \alpha_x/(\alpha_x+\beta_x)$; V: $V + \Delta t\,\varphi_1(-g\Delta t/C)
        \dot V$ with $g = \bar g_\mathrm{Na} m^3 h + \bar g_\mathrm{K} n^4 + g_L + \sum_r g_r$
        (synaptic `conductances` $[(g_r, E_r), ...]$ add $\sum_r g_r (E_r - V)$). The same
        update as the generic scheme (equal up to rounding), with each rate evaluated once.
        Returns None for subclasses that change `vector_field` or `diagonal_jacobian`, so they
        get the generic scheme.
        """
        cls = type(self)
        if (
            cls.vector_field is not HodgkinHuxley.vector_field
            or cls.diagonal_jacobian is not HodgkinHuxley.diagonal_jacobian
            or cls.currents is not HodgkinHuxley.currents
            or cls.rates is not HodgkinHuxley.rates
        ):
            return None
        I = input_current(args)
        V, m, h, n = y["V"], y["m"], y["h"], y["n"]
        dt = jnp.asarray(dt)
        # Rates as in `hh_rates`, with linoid(x, k) = k / phi1(-x/k).
        rates = {
            "m": (1.0 / phi1_exp(-(V + 40.0) / 10.0), 4.0 * jnp.exp(-(V + 65.0) / 18.0)),
            "h": (0.07 * jnp.exp(-(V + 65.0) / 20.0), 1.0 / (1.0 + jnp.exp(-(V + 35.0) / 10.0))),
            "n": (0.1 / phi1_exp(-(V + 55.0) / 10.0), 0.125 * jnp.exp(-(V + 65.0) / 80.0)),
        }
        out = {}
        for x, (a, b) in rates.items():
            s = a + b
            x_inf = a / s
            out[x] = x_inf + (y[x] - x_inf) * jnp.exp(-dt * s)
        g_na = self.gNa * m**3 * h
        g_k = self.gK * n**4
        g_syn = 0.0
        for g, E in conductances:
            I = I + g * (E - V)
            g_syn = g_syn + g
        fV = (I - g_na * (V - self.ENa) - g_k * (V - self.EK) - self.gL * (V - self.EL)) / self.C
        out["V"] = V + dt * phi1_exp(-(g_na + g_k + self.gL + g_syn) / self.C * dt) * fV
        return {k: out[k] for k in y}

    def equilibrium(self, I: ArrayLike = 0.0, *, V_guess: ArrayLike = -65.0) -> State:
        """The equilibrium under constant input `I` reached by Newton's method from `V_guess`.

        For the default parameters there is one equilibrium for each `I` below the Hopf
        onset; in general this is the root of $I_\\infty(V) = I$ nearest `V_guess` along Newton.
        """
        shape = jnp.broadcast_shapes(self.shape, jnp.shape(I), jnp.shape(V_guess))
        V = solve_voltage(steady_state_residual, fill(V_guess, shape), (self, I))
        return {"V": V, **self.steady_state_gates(V)}

    def as_conductance_model(self) -> ConductanceModel:
        """The same model assembled with the `ConductanceModel` builder (same vector field;
        its parameters are named `"Na.g_max"`, `"K.E_rev"`, `"Na.m.alpha.A"`, ...)."""
        m = Gate.alpha_beta("m", LinoidRate(0.1, -40.0, 10.0), ExpRate(4.0, -65.0, -18.0))
        h = Gate.alpha_beta("h", ExpRate(0.07, -65.0, -20.0), SigmoidRate(1.0, -35.0, 10.0))
        n = Gate.alpha_beta("n", LinoidRate(0.01, -55.0, 10.0), ExpRate(0.125, -65.0, -80.0))
        return ConductanceModel(
            [
                IonCurrent("Na", self.gNa, self.ENa, [(m, 3), h]),
                IonCurrent("K", self.gK, self.EK, [(n, 4)]),
            ],
            C=self.C,
            gL=self.gL,
            EL=self.EL,
        )

    def resting_state(self) -> State:
        """The equilibrium at $I = 0$ (about -65.0 mV for the defaults), computed."""
        return self.equilibrium(0.0)
