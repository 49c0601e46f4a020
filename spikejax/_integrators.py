"""Fixed-step integration schemes for `jax.lax.scan` loops.

Each scheme is an `equinox.Module` with an `order` (its global convergence order) and a
`step(model, t, y, I, dt)` method that advances the state dict `y` of `model` by `dt` under
the input current `I` held over the step. Hybrid models' threshold/reset is applied by the
caller (`spikejax.simulate`, the network engine), not by the scheme.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .models._base import NeuronModel, State


def _axpy(y: State, dt, k: State) -> State:
    return {name: y[name] + dt * k[name] for name in y}


class FixedStepScheme(eqx.Module):
    """Abstract fixed-step scheme."""

    order: ClassVar[int] = 0
    name: ClassVar[str] = ""

    def step(self, model: NeuronModel, t, y: State, I, dt) -> State:
        raise NotImplementedError


class Euler(FixedStepScheme):
    r"""Forward Euler: $y_{n+1} = y_n + \Delta t\, f(t_n, y_n)$ (order 1)."""

    order: ClassVar[int] = 1
    name: ClassVar[str] = "euler"

    def step(self, model, t, y, I, dt):
        return _axpy(y, dt, model.vector_field(t, y, I))


class RK4(FixedStepScheme):
    """Classical fourth-order Runge-Kutta (order 4); `I` is held constant over the step."""

    order: ClassVar[int] = 4
    name: ClassVar[str] = "rk4"

    def step(self, model, t, y, I, dt):
        f = model.vector_field
        k1 = f(t, y, I)
        k2 = f(t + dt / 2, _axpy(y, dt / 2, k1), I)
        k3 = f(t + dt / 2, _axpy(y, dt / 2, k2), I)
        k4 = f(t + dt, _axpy(y, dt, k3), I)
        return {n: y[n] + dt / 6 * (k1[n] + 2 * k2[n] + 2 * k3[n] + k4[n]) for n in y}


def _phi1(z):
    """$(e^z - 1)/z$ with the removable singularity at 0 handled (values and gradients)."""
    small = jnp.abs(z) < 1e-6
    z_safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 + z / 2 + z * z / 6, jnp.expm1(z_safe) / z_safe)


class ExponentialEuler(FixedStepScheme):
    r"""Exponential Euler (order 1), exact for variables whose equation is linear in themselves.

    For each state variable $x_i$ with $\dot x_i = f_i(x)$ and $a_i = \partial f_i/\partial x_i$
    (from autodiff, other variables frozen over the step):
    $$x_i \leftarrow x_i + \Delta t\,\varphi_1(a_i \Delta t)\, f_i(x),
      \qquad \varphi_1(z) = (e^z - 1)/z.$$
    For gating variables $\dot x = (x_\infty - x)/\tau$ this is the classic update
    $x \leftarrow x_\infty + (x - x_\infty) e^{-\Delta t/\tau}$; for the LIF membrane it is exact.
    The diagonal entries come from `model.diagonal_jacobian` (closed form where the model
    provides one, else one JVP per state variable). A model may provide a fused
    `exponential_euler_step(t, y, I, dt)` (same update, fewer operations); it is used when it
    returns a state rather than None.
    """

    order: ClassVar[int] = 1
    name: ClassVar[str] = "exponential_euler"

    def step(self, model, t, y, I, dt):
        fused = getattr(model, "exponential_euler_step", None)
        if fused is not None:
            y1 = fused(t, y, I, dt)
            if y1 is not None:
                return y1
        return exponential_euler_step(model, t, y, I, dt)


def exponential_euler_step(model: NeuronModel, t, y: State, I, dt) -> State:
    r"""The generic exponential Euler step $x_i + \Delta t\,\varphi_1(a_i \Delta t) f_i(x)$.

    `ExponentialEuler` uses a model's own `exponential_euler_step(t, y, I, dt)` instead when
    the model defines one and it returns a state (not None); this is the fallback.
    """
    fy = model.vector_field(t, y, I)
    a = model.diagonal_jacobian(t, y, I)
    return {name: y[name] + dt * _phi1(a[name] * dt) * fy[name] for name in y}


SCHEMES: dict[str, FixedStepScheme] = {s.name: s for s in (Euler(), RK4(), ExponentialEuler())}


def get_scheme(method: str | FixedStepScheme) -> FixedStepScheme:
    """Look up a fixed-step scheme by name (`"euler"`, `"rk4"`, `"exponential_euler"`)."""
    if isinstance(method, FixedStepScheme):
        return method
    if method not in SCHEMES:
        raise ValueError(f"unknown fixed-step method {method!r}; choose one of {sorted(SCHEMES)}")
    return SCHEMES[method]
