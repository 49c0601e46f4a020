"""Izhikevich's simple model (Izhikevich 2003, IEEE TNN 14:1569; 2004, IEEE TNN 15:1063)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import ArrayLike

from .._validation import check_finite, check_less
from ._base import NeuronModel, State, fill, input_current

#: Named cell types of Izhikevich (2003, Fig. 2; 2004): (a, b, c, d).
IZHIKEVICH_PRESETS: dict[str, tuple[float, float, float, float]] = {
    "RS": (0.02, 0.2, -65.0, 8.0),  # regular spiking
    "IB": (0.02, 0.2, -55.0, 4.0),  # intrinsically bursting
    "CH": (0.02, 0.2, -50.0, 2.0),  # chattering
    "FS": (0.1, 0.2, -65.0, 2.0),  # fast spiking
    "LTS": (0.02, 0.25, -65.0, 2.0),  # low-threshold spiking
    "TC": (0.02, 0.25, -65.0, 0.05),  # thalamo-cortical
    "RZ": (0.1, 0.26, -65.0, 2.0),  # resonator
}


def _window(t, lo, hi):
    """1 where lo < t < hi (figure1.m's strict comparisons), else 0."""
    return jnp.where((t > lo) & (t < hi), 1.0, 0.0)


def _between(t):
    """1 where 50 <= t <= 250 (the inhibition of panels S and T), else 0."""
    return jnp.where((t >= 50.0) & (t <= 250.0), 1.0, 0.0)


def _after(t, t1):
    return jnp.where(t > t1, 1.0, 0.0)


class IzhikevichRegime(eqx.Module):
    r"""One neuro-computational regime of Izhikevich (2004, Fig. 1) as the figure's script
    (`figure1.m`) runs it: parameters, initial state, step and input protocol.

    **Fields:** `panel` (the figure's panel letter), `a`, `b`, `c`, `d` (the model's
    parameters), `V0`, `u0` (initial state), `dt` (the script's Euler step, ms), `duration`
    (ms), `current` (the input $I(t)$, a JAX-traceable function of `t` in ms, as the script
    defines it with strict comparisons; wrap it as `spikejax.stimulus.Function(current)`).

    The script steps with `spikejax.solvers.SplitEuler(1)`: $v$ first, then $u$ with the new
    $v$, a spike when $v > 30$ after the step.
    """

    panel: str
    a: float
    b: float
    c: float
    d: float
    V0: float
    u0: float
    dt: float
    duration: float
    current: Callable = eqx.field(static=True)

    def model(self) -> Izhikevich:
        """The `Izhikevich` model with this regime's parameters.

        **Returns:** an `Izhikevich`.
        """
        return Izhikevich(a=self.a, b=self.b, c=self.c, d=self.d)

    def initial(self) -> dict:
        """The initial state `{"V": V0, "u": u0}` (as a `y0` for `spikejax.simulate`).

        **Returns:** a dict.
        """
        return {"V": self.V0, "u": self.u0}


def _regime(panel, a, b, c, d, V0, dt, duration, current, u0=None):
    u0 = b * V0 if u0 is None else u0
    return IzhikevichRegime(panel, a, b, c, d, V0, u0, dt, duration, current)


_OTHER_EQUATIONS = {
    "class_1_excitable": "dv/dt = 0.04 v^2 + 4.1 v + 108 - u + I",
    "integrator": "dv/dt = 0.04 v^2 + 4.1 v + 108 - u + I",
    "accommodation": "du/dt = a b (v + 65)",
}


#: The 17 of the 20 regimes of Izhikevich (2004, IEEE TNN 15:1063, Fig. 1) that the simple
#: model expresses, with the parameters, initial states, steps and inputs of the paper's MATLAB
#: script `figure1.m` (www.izhikevich.org/publications/figure1.m). Three panels use other
#: equations and are not here: (G) class 1 excitability and (L) integrator use
#: $\dot v = 0.04 v^2 + 4.1 v + 108 - u + I$, and (R) accommodation uses
#: $\dot u = a\,b\,(v + 65)$ (no decay of $u$); write them as custom models (a
#: `NeuronModel` subclass, see "Writing a model" in the models documentation).
IZHIKEVICH_2004: dict[str, IzhikevichRegime] = {
    "tonic_spiking": _regime(
        "A", 0.02, 0.2, -65.0, 6.0, -70.0, 0.25, 100.0, lambda t: 14.0 * _after(t, 10.0)
    ),
    "phasic_spiking": _regime(
        "B", 0.02, 0.25, -65.0, 6.0, -64.0, 0.25, 200.0, lambda t: 0.5 * _after(t, 20.0)
    ),
    "tonic_bursting": _regime(
        "C", 0.02, 0.2, -50.0, 2.0, -70.0, 0.25, 220.0, lambda t: 15.0 * _after(t, 22.0)
    ),
    "phasic_bursting": _regime(
        "D", 0.02, 0.25, -55.0, 0.05, -64.0, 0.2, 200.0, lambda t: 0.6 * _after(t, 20.0)
    ),
    "mixed_mode": _regime(
        "E", 0.02, 0.2, -55.0, 4.0, -70.0, 0.25, 160.0, lambda t: 10.0 * _after(t, 16.0)
    ),
    "spike_frequency_adaptation": _regime(
        "F", 0.01, 0.2, -65.0, 8.0, -70.0, 0.25, 85.0, lambda t: 30.0 * _after(t, 8.5)
    ),
    "class_2_excitable": _regime(
        "H",
        0.2,
        0.26,
        -65.0,
        0.0,
        -64.0,
        0.25,
        300.0,
        lambda t: -0.5 + 0.015 * (t - 30.0) * _after(t, 30.0),
    ),
    "spike_latency": _regime(
        "I", 0.02, 0.2, -65.0, 6.0, -70.0, 0.2, 100.0, lambda t: 7.04 * _window(t, 10.0, 13.0)
    ),
    "subthreshold_oscillations": _regime(
        "J", 0.05, 0.26, -60.0, 0.0, -62.0, 0.25, 200.0, lambda t: 2.0 * _window(t, 20.0, 25.0)
    ),
    "resonator": _regime(
        "K",
        0.1,
        0.26,
        -60.0,
        -1.0,
        -62.0,
        0.25,
        400.0,
        lambda t: (
            0.65
            * (
                _window(t, 40.0, 44.0)
                + _window(t, 60.0, 64.0)
                + _window(t, 280.0, 284.0)
                + _window(t, 320.0, 324.0)
            )
        ),
    ),
    "rebound_spike": _regime(
        "M", 0.03, 0.25, -60.0, 4.0, -64.0, 0.2, 200.0, lambda t: -15.0 * _window(t, 20.0, 25.0)
    ),
    "rebound_burst": _regime(
        "N", 0.03, 0.25, -52.0, 0.0, -64.0, 0.2, 200.0, lambda t: -15.0 * _window(t, 20.0, 25.0)
    ),
    "threshold_variability": _regime(
        "O",
        0.03,
        0.25,
        -60.0,
        4.0,
        -64.0,
        0.25,
        100.0,
        lambda t: _window(t, 10.0, 15.0) + _window(t, 80.0, 85.0) - 6.0 * _window(t, 70.0, 75.0),
    ),
    "bistability": _regime(
        "P",
        0.1,
        0.26,
        -60.0,
        0.0,
        -61.0,
        0.25,
        300.0,
        lambda t: 0.24 + _window(t, 37.5, 42.5) + _window(t, 216.0, 221.0),
    ),
    "depolarizing_after_potential": _regime(
        "Q", 1.0, 0.2, -60.0, -21.0, -70.0, 0.1, 50.0, lambda t: 20.0 * _window(t, 9.0, 11.0)
    ),
    "inhibition_induced_spiking": _regime(
        "S", -0.02, -1.0, -60.0, 8.0, -63.8, 0.5, 350.0, lambda t: 80.0 - 5.0 * _between(t)
    ),
    "inhibition_induced_bursting": _regime(
        "T", -0.026, -1.0, -45.0, -2.0, -63.8, 0.5, 350.0, lambda t: 80.0 - 5.0 * _between(t)
    ),
}


@final
class Izhikevich(NeuronModel):
    r"""The simple model, with time in ms, voltage in mV and dimensionless current.

    $$\dot v = 0.04 v^2 + 5 v + 140 - u + I, \qquad \dot u = a (b v - u)$$
    and when $v \ge v_\mathrm{peak}$ (30 mV): $v \leftarrow c$, $u \leftarrow u + d$.

    **Arguments:** `a` (1/ms; negative in some published cell types), `b` (1), `c` (mV,
    reset), `d` (reset jump of `u`),
    `v_peak` (mV, 30). Defaults are the RS preset; `Izhikevich.preset(name)` gives the named
    cell types RS, IB, CH, FS, LTS, TC and RZ and the 17 regimes of Izhikevich (2004, Fig. 1)
    in `IZHIKEVICH_2004`. Any finite a, b, c < v_peak, d define a valid ODE and are accepted
    (the 2004 paper's inhibition-induced regimes use a < 0, b < 0, d < 0).

    **State:** `V` (mV) and `u`. **Input:** `I` (dimensionless, as in the 2003 paper).
    """

    a: ArrayLike = 0.02
    b: ArrayLike = 0.2
    c: ArrayLike = -65.0
    d: ArrayLike = 8.0
    v_peak: ArrayLike = 30.0

    state_names: ClassVar[tuple[str, ...]] = ("V", "u")
    is_hybrid: ClassVar[bool] = True
    spike_detection_threshold: ClassVar[float] = 30.0

    def __check_init__(self):
        # `a` and `b` may be zero or negative: Izhikevich (2004, Fig. 1) uses a = -0.02,
        # b = -1 for inhibition-induced spiking; any finite values define a valid ODE.
        check_finite("Izhikevich.a", self.a)
        check_finite("Izhikevich.b", self.b)
        check_finite("Izhikevich.d", self.d)
        check_finite("Izhikevich.c", self.c)
        check_finite("Izhikevich.v_peak", self.v_peak)
        check_less("Izhikevich.c (reset)", self.c, "Izhikevich.v_peak", self.v_peak)

    @classmethod
    def preset(cls, name: str, **overrides) -> Izhikevich:
        """The named cell type `name` (RS, IB, CH, FS, LTS, TC, RZ of `IZHIKEVICH_PRESETS`)
        or regime of Izhikevich (2004, Fig. 1; `IZHIKEVICH_2004`, e.g.
        `"inhibition_induced_spiking"`), with optional overrides.

        **Raises:** `ValueError` for an unknown name (the three regimes of the figure that
        use other equations are named with a pointer to custom models).
        """
        names = sorted(IZHIKEVICH_PRESETS) + sorted(IZHIKEVICH_2004)
        if not isinstance(name, str):
            raise TypeError(f"name must be a preset name, one of {names}, got {name!r}")
        if name in IZHIKEVICH_2004:
            r = IZHIKEVICH_2004[name]
            a, b, c, d = r.a, r.b, r.c, r.d
        elif name.upper() in IZHIKEVICH_PRESETS:
            a, b, c, d = IZHIKEVICH_PRESETS[name.upper()]
        elif name in _OTHER_EQUATIONS:
            raise ValueError(
                f"Izhikevich (2004) regime {name!r} uses {_OTHER_EQUATIONS[name]}, outside this "
                "model's equations; write it as a NeuronModel subclass (see 'Writing a model' "
                "in the models documentation)"
            )
        else:
            raise ValueError(f"unknown Izhikevich preset {name!r}; choose one of {names}")
        return cls(**{"a": a, "b": b, "c": c, "d": d, **overrides})

    def vector_field(self, t, y: State, args) -> State:
        I = input_current(args)
        v, u = y["V"], y["u"]
        return {
            "V": 0.04 * v**2 + 5.0 * v + 140.0 - u + I,
            "u": jnp.asarray(self.a) * (self.b * v - u),
        }

    def threshold_distance(self, y: State):
        return y["V"] - self.v_peak

    def reset(self, y: State) -> State:
        return {
            "V": jnp.broadcast_to(self.c, jnp.shape(y["V"])).astype(y["V"].dtype),
            "u": y["u"] + self.d,
        }

    def resting_state(self) -> State:
        # Starting point used by Izhikevich (2003): v = -65 mV, u = b v.
        v0 = fill(-65.0, self.shape)
        return {"V": v0, "u": jnp.asarray(self.b) * v0}
