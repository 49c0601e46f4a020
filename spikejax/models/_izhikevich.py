"""Izhikevich's simple model (Izhikevich 2003, IEEE TNN 14:1569; 2004, IEEE TNN 15:1063)."""

from __future__ import annotations

from typing import ClassVar, final

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


@final
class Izhikevich(NeuronModel):
    r"""The simple model, with time in ms, voltage in mV and dimensionless current.

    $$\dot v = 0.04 v^2 + 5 v + 140 - u + I, \qquad \dot u = a (b v - u)$$
    and when $v \ge v_\mathrm{peak}$ (30 mV): $v \leftarrow c$, $u \leftarrow u + d$.

    **Arguments:** `a` (1/ms; negative in some published cell types), `b` (1), `c` (mV,
    reset), `d` (reset jump of `u`),
    `v_peak` (mV, 30). Defaults are the RS preset; `Izhikevich.preset(name)` gives the named
    cell types RS, IB, CH, FS, LTS, TC and RZ.

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
        """The named cell type `name` (RS, IB, CH, FS, LTS, TC, RZ), with optional overrides."""
        if not isinstance(name, str):
            raise TypeError(
                f"name must be a preset name, one of {sorted(IZHIKEVICH_PRESETS)}, got {name!r}"
            )
        key = name.upper()
        if key not in IZHIKEVICH_PRESETS:
            raise ValueError(
                f"unknown Izhikevich preset {name!r}; choose one of {sorted(IZHIKEVICH_PRESETS)}"
            )
        a, b, c, d = IZHIKEVICH_PRESETS[key]
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
