r"""One fixed step of a neuron model: the contract every engine calls.

`advance(model, scheme, t, y, I, dt)` is the single implementation of a fixed time step in
spikejax. `spikejax.simulate`, `spikejax.fit.solve_fixed`, `spikejax.analysis.fi_curve`,
`spikejax.analysis.pulse_response` and the network's populations all call it. It does, in
order:

1. integrate: `scheme.step(model, t, y, I, dt)`; with `conductances=[(g, E), ...]` the model
   is driven by the extra current $\sum_r g_r (E_r - V)$ with $g$ frozen over the step (the
   model's fused exponential Euler step takes them directly when it declares
   `fused_conductances`);
2. `model.post_step(y, dt)` (e.g. refractory clocks);
3. detect a spike:
   - hybrid models: $s = $ `spike_fn(threshold_distance(y))`, then the reset: where $s = 1$
     the state becomes `reset(y)`. With the exact `Heaviside` spike function the reset is a
     `where`; with a surrogate it is $y \leftarrow (1-s)y + s\,\mathrm{reset}(y)$ (same
     values, gradients through $s$). The spike is at the end of the step (offset 1).
   - continuous models: an upward crossing of the detection threshold (the model's
     `spike_detection_threshold` or `threshold=`) between the start and the end of the step,
     $s = $ `spike_fn(V_1 - \theta)` gated by $V_0 < \theta$; its time is linearly
     interpolated, offset $(\theta - V_0)/(V_1 - V_0) \in (0, 1]$ of the step.

Spike times are returned as an offset within the step (a fraction of `dt`), so an engine can
keep time as an integer step count plus an offset and never accumulate it in float32.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ..surrogate import Heaviside, SpikeFunction
from ._schemes import AbstractScheme

__all__ = ["Driven", "StepOutput", "advance"]

State = dict[str, Array]


class Driven:
    r"""A model whose input current adds conductance currents $\sum_r g_r (E_r - V)$.

    The conductances are frozen over the step, so the $V$-dependence of the synaptic
    current sits inside the vector field and exponential Euler integrates a linear membrane
    exactly. A plain Python wrapper: it is built inside a traced step, never stored.
    """

    def __init__(self, model: Any, conductances: Sequence[tuple[ArrayLike, ArrayLike]]):
        self.model = model
        self.conductances = tuple(conductances)

    def _current(self, y: State, I: ArrayLike) -> Array:
        V = y[self.model.voltage_name]
        total = jnp.asarray(I)
        for g, E in self.conductances:
            total = total + g * (E - V)
        return total

    def vector_field(self, t: ArrayLike, y: State, I: ArrayLike) -> State:
        return self.model.vector_field(t, y, self._current(y, I))

    def exponential_euler_step(self, t: ArrayLike, y: State, I: ArrayLike, dt: ArrayLike):
        """The model's fused exponential Euler step with the conductances, when it takes them
        (`fused_conductances`); None (the generic scheme) otherwise."""
        if not getattr(self.model, "fused_conductances", False):
            return None
        return self.model.exponential_euler_step(t, y, I, dt, conductances=self.conductances)

    def diagonal_jacobian(self, t: ArrayLike, y: State, I: ArrayLike) -> State:
        r"""The model's diagonal entries at the total current, plus the conductance term
        $\partial f_V/\partial I \cdot (-\sum g)$ for the membrane potential."""
        name = self.model.voltage_name
        I_tot = self._current(y, I)
        a = dict(self.model.diagonal_jacobian(t, y, I_tot))
        _, dfdI = jax.jvp(
            lambda J: self.model.vector_field(t, y, J)[name], (I_tot,), (jnp.ones_like(I_tot),)
        )
        g_tot = sum(g for g, _ in self.conductances)
        a[name] = a[name] - dfdI * g_tot
        return a


class StepOutput(eqx.Module):
    """What `advance` returns.

    **Fields:**

    - `state`: the state after the step (after the reset for hybrid models), in the dtypes
      of the state before it.
    - `spikes`: 0/1 per cell in the state's float dtype (with the surrogate gradient of the
      spike function, if any).
    - `offset`: where in the step each spike happened, as a fraction of `dt` in (0, 1]
      (1 where there was no spike): the spike time is `t + offset * dt`.
    """

    state: State
    spikes: Array
    offset: Array


def _blend(s: Array, a: State, b: State) -> State:
    return {n: (1 - s) * b[n] + s * a[n] for n in b}


def advance(
    model: Any,
    scheme: AbstractScheme,
    t: ArrayLike,
    y: State,
    I: ArrayLike,
    dt: ArrayLike,
    *,
    spike_fn: SpikeFunction | None = None,
    threshold: ArrayLike | None = None,
    conductances: Sequence[tuple[ArrayLike, ArrayLike]] = (),
    detach_reset: bool = False,
    boundary: Callable[[Array], Array] | None = None,
) -> StepOutput:
    r"""Advance `model` by one fixed step: integrate, `post_step`, detect spikes, reset.

    **Arguments:**

    - `model`: a `spikejax.models.NeuronModel`.
    - `scheme`: a fixed-step scheme object (`spikejax.solvers.Euler()`, `RK4()`,
      `ExponentialEuler()`).
    - `t`: the time at the start of the step (ms); `y`: the state dict; `I`: the input current
      held over the step; `dt`: the step (ms).
    - `spike_fn`: a `spikejax.surrogate.SpikeFunction` (default `Heaviside()`: exact, no
      gradient through the threshold).
    - `threshold`: continuous models only: the detection threshold (default the model's
      `spike_detection_threshold`).
    - `conductances`: `[(g, E_rev), ...]` synaptic conductances frozen over the step.
    - `detach_reset`: hybrid models with a surrogate: stop the gradient through the reset
      (the spikes keep theirs).
    - `boundary`: an identity applied to the membrane potential after integration and
      `post_step`, before detection (the network passes `spikejax.network._native.boundary`
      on the CPU, so that XLA computes the integration once rather than in each kernel that
      reads the new potential).

    **Returns:** a `StepOutput` `(state, spikes, offset)`.
    """
    spike_fn = Heaviside() if spike_fn is None else spike_fn
    exact = isinstance(spike_fn, Heaviside)
    driven = Driven(model, conductances) if conductances else model
    y1 = scheme.step(driven, t, y, I, dt)
    y1 = model.post_step(y1, dt)
    vname = model.voltage_name
    if boundary is not None:
        y1 = {**y1, vname: boundary(y1[vname])}
    dtype = jnp.result_type(y[vname])
    if model.is_hybrid:
        distance = model.threshold_distance(y1)
        s = spike_fn(distance).astype(dtype)
        reset = model.reset(y1)
        if exact:
            fired = distance >= 0
            y1 = {n: jnp.where(fired, reset[n], y1[n]) for n in y1}
        else:
            y1 = _blend(jax.lax.stop_gradient(s) if detach_reset else s, reset, y1)
        offset = jnp.ones_like(s)
    else:
        thr = model.spike_detection_threshold if threshold is None else threshold
        v0, v1 = y[vname], y1[vname]
        below = v0 < thr
        s = spike_fn(v1 - thr).astype(dtype) * jax.lax.stop_gradient(below.astype(dtype))
        crossed = below & (v1 >= thr)
        denom = jnp.where(crossed, v1 - v0, 1.0)
        offset = jnp.where(crossed, (thr - v0) / denom, 1.0)
        offset = jax.lax.stop_gradient(jnp.clip(offset, 0.0, 1.0)).astype(dtype)
    y1 = {n: jnp.asarray(y1[n]).astype(jnp.result_type(y[n])) for n in y}
    return StepOutput(state=y1, spikes=s, offset=offset)
