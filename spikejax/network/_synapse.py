r"""Synapse models: instantaneous jumps and linear kinetics integrated exactly.

Every kinetic synapse is a linear system driven by spikes; between arrivals it is advanced
with its exact propagator $e^{A\,\Delta t}$, so the decay is exact for any step `dt`.
A synapse with `E_rev=None` is current-based (its variable is a current, added to the
neuron's input); with a reversal potential it is conductance-based and contributes
$g\,(E_\mathrm{rev} - V)$ (conductance in units of the neuron's input per mV, e.g. of the
leak conductance for `LIF(R=1)`).
"""

from __future__ import annotations

import math
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .._validation import check_finite, check_less, check_positive


class Synapse(eqx.Module):
    """Abstract synapse model (per post-synaptic neuron and receptor)."""

    state_names: ClassVar[tuple[str, ...]] = ()
    #: Name of the variable read as the synaptic current or conductance.
    output_name: ClassVar[str] = ""

    @property
    def conductance_based(self) -> bool:
        return getattr(self, "E_rev", None) is not None

    def init(self, n: int, dtype) -> dict:
        return {name: jnp.zeros((n,), dtype) for name in self.state_names}

    def arrive(self, s: dict, x):
        """Add the summed weights `x` of the spikes arriving now."""
        raise NotImplementedError

    def decay(self, s: dict, dt) -> dict:
        """Advance by `dt` with no input (exact propagator)."""
        raise NotImplementedError

    def output(self, s: dict):
        return s[self.output_name]


class Delta(Synapse):
    r"""Instantaneous jump: each arriving spike of weight $w$ adds $w$ (mV) to the post-synaptic
    membrane potential (not during a `refractory` period of the neuron). Brunel (2000),
    Izhikevich (2003)."""

    def decay(self, s, dt):
        return s


class Exponential(Synapse):
    r"""Exponentially decaying current or conductance:
    $\dot g = -g/\tau$; a spike of weight $w$ makes $g \leftarrow g + w$.
    Exact update $g \leftarrow g\,e^{-\Delta t/\tau}$. `tau` in ms (> 0); `E_rev` in mV or
    `None` (current-based)."""

    tau: float = 5.0
    E_rev: float | None = None

    state_names: ClassVar[tuple[str, ...]] = ("g",)
    output_name: ClassVar[str] = "g"

    def __check_init__(self):
        check_positive("Exponential.tau", self.tau, "ms")
        if self.E_rev is not None:
            check_finite("Exponential.E_rev", self.E_rev)

    def arrive(self, s, x):
        return {"g": s["g"] + x}

    def decay(self, s, dt):
        return {"g": s["g"] * jnp.exp(-dt / jnp.asarray(self.tau, s["g"].dtype))}


class DualExponential(Synapse):
    r"""Difference of exponentials (rise `tau_rise` < decay `tau_decay`, ms), peak-normalised:
    $$\dot x = -x/\tau_r, \qquad \dot g = -g/\tau_d + x,$$
    a spike of weight $w$ adds $w\,\eta$ to $x$ with $\eta$ chosen so that the response
    $g(t) = w\,\eta\,\frac{\tau_r\tau_d}{\tau_d-\tau_r}(e^{-t/\tau_d} - e^{-t/\tau_r})$
    peaks at $w$.
    Integrated exactly (the system is linear and triangular)."""

    tau_rise: float = 1.0
    tau_decay: float = 5.0
    E_rev: float | None = None

    state_names: ClassVar[tuple[str, ...]] = ("x", "g")
    output_name: ClassVar[str] = "g"

    def __check_init__(self):
        check_positive("DualExponential.tau_rise", self.tau_rise, "ms")
        check_positive("DualExponential.tau_decay", self.tau_decay, "ms")
        check_less(
            "DualExponential.tau_rise", self.tau_rise, "DualExponential.tau_decay", self.tau_decay
        )
        if self.E_rev is not None:
            check_finite("DualExponential.E_rev", self.E_rev)

    def _norm(self):
        tr, td = float(self.tau_rise), float(self.tau_decay)
        t_peak = tr * td / (td - tr) * math.log(td / tr)
        peak = tr * td / (td - tr) * (math.exp(-t_peak / td) - math.exp(-t_peak / tr))
        return 1.0 / peak

    def arrive(self, s, x):
        return {"x": s["x"] + self._norm() * x, "g": s["g"]}

    def decay(self, s, dt):
        tr, td = float(self.tau_rise), float(self.tau_decay)
        er, ed = jnp.exp(-dt / tr), jnp.exp(-dt / td)
        c = tr * td / (td - tr)
        return {"x": s["x"] * er, "g": s["g"] * ed + s["x"] * (c * (ed - er))}


class Alpha(Synapse):
    r"""Alpha function $g(t) = w\,\frac{t}{\tau} e^{1 - t/\tau}$ (peak $w$ at $t = \tau$):
    $\dot x = -x/\tau$, $\dot g = -g/\tau + x$, a spike adds $w\,e/\tau$ to $x$.
    Exact update: $g \leftarrow (g + \Delta t\,x) e^{-\Delta t/\tau}$,
    $x \leftarrow x e^{-\Delta t/\tau}$."""

    tau: float = 5.0
    E_rev: float | None = None

    state_names: ClassVar[tuple[str, ...]] = ("x", "g")
    output_name: ClassVar[str] = "g"

    def __check_init__(self):
        check_positive("Alpha.tau", self.tau, "ms")
        if self.E_rev is not None:
            check_finite("Alpha.E_rev", self.E_rev)

    def arrive(self, s, x):
        return {"x": s["x"] + (math.e / float(self.tau)) * x, "g": s["g"]}

    def decay(self, s, dt):
        e = jnp.exp(-dt / float(self.tau))
        return {"x": s["x"] * e, "g": (s["g"] + dt * s["x"]) * e}
