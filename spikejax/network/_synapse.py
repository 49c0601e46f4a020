r"""Synapse models: instantaneous jumps and linear kinetics integrated exactly.

Every kinetic synapse is a linear system driven by spikes; between arrivals it is advanced
with its exact propagator $e^{A\,\Delta t}$, so the decay is exact for any step `dt`.
A synapse with `E_rev=None` is current-based (its variable is a current, added to the
neuron's input); with a reversal potential it is conductance-based and contributes
$g\,(E_\mathrm{rev} - V)$ (conductance in units of the neuron's input per mV, e.g. of the
leak conductance for `LIF(R=1)`).

**Exact propagators for current synapses (Rotter & Diesmann 1999).** An LIF membrane
($\tau_m \dot V = -(V - E_L) + R\,I$) driven by a current synapse is a linear system; its
exact step is $V \leftarrow E_L + (V - E_L) e^{-\Delta t/\tau_m} + R \int_0^{\Delta t}
e^{-(\Delta t - s)/\tau_m} I(s)\,ds/\tau_m$, and the integral is a fixed linear combination
of the synapse's state at the start of the step. `Synapse.membrane_current` returns it as the
constant current $\bar I$ that, held over the step in the membrane's exact constant-input
update (`LIF.exponential_euler_step`), gives this exact step, so the PSP is the closed-form
PSP at every grid time, whatever `dt`. The coefficients are the integrals
$$A(\tau) = \frac{1}{\tau_m}\int_0^{\Delta t} e^{-(\Delta t - s)/\tau_m} e^{-s/\tau} ds
 = a\,e^{-\min(a, b)}\,\varphi_1(-|a - b|),\quad
 B(\tau) = \frac{1}{\tau_m}\int_0^{\Delta t} e^{-(\Delta t - s)/\tau_m} s\,e^{-s/\tau} ds,$$
$a = \Delta t/\tau_m$, $b = \Delta t/\tau$, written so that no exponential can overflow and
the degenerate case $\tau = \tau_m$ needs no special branch ($\varphi_1(0) = 1$; $B$ uses
the series of $\int_0^1 u\,e^{yu}du$ near $y = 0$). They are computed in float64 on the
host when the time constants are concrete (once per population, when the step is traced),
else with `jax.numpy` in the state's dtype.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite, check_less, check_positive, is_concrete
from ..solvers import phi1


def _array_module(*values: Any) -> Any:
    """`numpy` (float64 on the host) when every value is concrete, else `jax.numpy`."""
    return np if is_concrete(values) else jnp


def _ramp_moment(y: Any, xp: Any) -> Any:
    r"""$\psi(y) = \int_0^1 u\,e^{y u}\,du$ for $y \le 0$: $(e^y (y - 1) + 1)/y^2$, and its
    series $\sum_m y^m / (m!\,(m + 2))$ for $|y| < 1/2$ (18 terms: truncation below
    $10^{-21}$), where the closed form cancels."""
    small = xp.abs(y) < 0.5
    ys = xp.where(small, -1.0, y)
    closed = (xp.exp(ys) * (ys - 1.0) + 1.0) / (ys * ys)
    yt = xp.where(small, y, 0.0)
    series, term = 0.0, 1.0
    for m in range(18):
        series = series + term / (m + 2)
        term = term * yt / (m + 1)
    return xp.where(small, series, closed)


def exp_kernel_integral(dt: Any, tau_m: Any, tau: Any, xp: Any = jnp) -> Any:
    r"""$A = \frac{1}{\tau_m}\int_0^{\Delta t} e^{-(\Delta t - s)/\tau_m} e^{-s/\tau} ds$:
    the membrane's response over one step to a unit current decaying with `tau`
    (`tau = tau_m` included: no division by $\tau - \tau_m$)."""
    a, b = dt / xp.asarray(tau_m), dt / xp.asarray(tau)
    return a * xp.exp(-xp.minimum(a, b)) * phi1(-xp.abs(a - b), xp)


def ramp_kernel_integral(dt: Any, tau_m: Any, tau: Any, xp: Any = jnp) -> Any:
    r"""$B = \frac{1}{\tau_m}\int_0^{\Delta t} e^{-(\Delta t - s)/\tau_m}\,s\,e^{-s/\tau} ds$
    (ms): the same for the current $s\,e^{-s/\tau}$ (the alpha kernel's second term). With
    $x = a - b$: $\Delta t\,a\,e^{-a}\psi(x)$ for $x \le 0$ and
    $\Delta t\,a\,e^{-b}(\varphi_1(-x) - \psi(-x))$ for $x > 0$."""
    a, b = dt / xp.asarray(tau_m), dt / xp.asarray(tau)
    x = a - b
    y = -xp.abs(x)
    psi = _ramp_moment(y, xp)
    return dt * a * xp.where(x <= 0, xp.exp(-a) * psi, xp.exp(-b) * (phi1(y, xp) - psi))


def _membrane_norm(dt: Any, tau_m: Any, xp: Any) -> Any:
    r"""$1 - e^{-\Delta t/\tau_m}$: the weight of a constant current in the exact step."""
    return -xp.expm1(-dt / xp.asarray(tau_m))


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

    def membrane_coefficients(self, dt: Any, tau_m: Any, xp: Any = jnp) -> dict:
        r"""Coefficients $c_k$ of the exact step's mean current
        $\bar I = \sum_k c_k s_k$ over the synapse's state at the start of a step of `dt`,
        for an LIF membrane of time constant `tau_m` (see the module docstring).

        **Returns:** a dict state name -> coefficient (array module `xp`).

        **Raises:** `NotImplementedError` for a synapse without a linear current kernel.
        """
        raise NotImplementedError(f"{type(self).__name__} has no exact membrane propagator")

    def membrane_current(self, s: dict, dt: Any, tau_m: Any) -> Any:
        r"""The constant current that, held over a step of `dt` in the exact constant-input
        update of an LIF membrane of time constant `tau_m`, moves it exactly as this
        synapse's current $I(t)$ does over the step:
        $\bar I = \int_0^{\Delta t} e^{-(\Delta t - s)/\tau_m} I(s)\,ds \big/
        \int_0^{\Delta t} e^{-(\Delta t - s)/\tau_m} ds$ (Rotter & Diesmann 1999).

        **Arguments:** `s`: the synapse's state at the start of the step (after arrivals);
        `dt`: the step (ms); `tau_m`: the membrane time constant (ms, scalar or per neuron).

        **Returns:** the current, in the dtype of the state.
        """
        xp = _array_module(dt, tau_m, self)
        coef = self.membrane_coefficients(dt, tau_m, xp)
        out = 0.0
        for name, c in coef.items():
            v = s[name]
            out = out + jnp.asarray(c, v.dtype) * v
        return out


class Delta(Synapse):
    r"""Instantaneous jump: each arriving spike of weight $w$ adds $w$ (mV) to the post-synaptic
    membrane potential (not during a `refractory` period of the neuron). Brunel (2000),
    Izhikevich (2003)."""

    def decay(self, s, dt):
        return s


class CurrentPulse(Synapse):
    r"""A current for one step: the summed weight $w$ of the spikes arriving at a step is
    added to the neuron's input current over that step only (charge $w\,\Delta t$), then
    cleared. This is how Izhikevich's (2003) `net.m` delivers spikes: the weights of the
    neurons that fired are added to the input `I` of the same 1 ms step
    (`I = I + sum(S(:, fired), 2)`). Current-based only."""

    state_names: ClassVar[tuple[str, ...]] = ("g",)
    output_name: ClassVar[str] = "g"

    def arrive(self, s, x):
        return {"g": s["g"] + x}

    def decay(self, s, dt):
        return {"g": jnp.zeros_like(s["g"])}

    def membrane_coefficients(self, dt, tau_m, xp=jnp):
        """`g`: 1 (the current is constant over the step, so holding it is exact)."""
        return {"g": xp.ones_like(xp.asarray(tau_m, dtype=float))}


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

    def membrane_coefficients(self, dt, tau_m, xp=jnp):
        r"""`g`: $A(\tau) / (1 - e^{-\Delta t/\tau_m})$ (see the module docstring)."""
        norm = _membrane_norm(dt, tau_m, xp)
        return {"g": exp_kernel_integral(dt, tau_m, self.tau, xp) / norm}


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

    def membrane_coefficients(self, dt, tau_m, xp=jnp):
        r"""With $g(s) = g_0 e^{-s/\tau_d} + x_0 c\,(e^{-s/\tau_d} - e^{-s/\tau_r})$,
        $c = \tau_r\tau_d/(\tau_d - \tau_r)$: `g`: $A(\tau_d)$, `x`:
        $c\,(A(\tau_d) - A(\tau_r))$, both over $1 - e^{-\Delta t/\tau_m}$."""
        tr, td = float(self.tau_rise), float(self.tau_decay)
        norm = _membrane_norm(dt, tau_m, xp)
        a_d = exp_kernel_integral(dt, tau_m, td, xp)
        a_r = exp_kernel_integral(dt, tau_m, tr, xp)
        c = tr * td / (td - tr)
        return {"x": c * (a_d - a_r) / norm, "g": a_d / norm}


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

    def membrane_coefficients(self, dt, tau_m, xp=jnp):
        r"""With $g(s) = (g_0 + s\,x_0) e^{-s/\tau}$: `g`: $A(\tau)$, `x`: $B(\tau)$, both
        over $1 - e^{-\Delta t/\tau_m}$."""
        norm = _membrane_norm(dt, tau_m, xp)
        tau = float(self.tau)
        return {
            "x": ramp_kernel_integral(dt, tau_m, tau, xp) / norm,
            "g": exp_kernel_integral(dt, tau_m, tau, xp) / norm,
        }
