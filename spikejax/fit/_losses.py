r"""Loss helpers for fitting: voltage traces, spike trains, F-I curves, population rates.

All are differentiable JAX functions returning a scalar.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

__all__ = [
    "fi_curve_error",
    "firing_rate",
    "population_rate",
    "population_rate_error",
    "trace_mse",
    "van_rossum_distance",
]


def _check_positive(name, value):
    try:
        v = float(value)
    except TypeError:
        return
    if not (v > 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")


def trace_mse(prediction: ArrayLike, target: ArrayLike, *, mask: ArrayLike | None = None) -> Array:
    r"""Mean squared error $\frac{1}{N}\sum_k (V_k - \hat V_k)^2$ (mV$^2$ for voltages).

    `mask` (same shape, 0/1) restricts the mean to selected samples.
    """
    d = jnp.asarray(prediction) - jnp.asarray(target)
    if mask is None:
        return jnp.mean(d**2)
    w = jnp.broadcast_to(jnp.asarray(mask, d.dtype), d.shape)
    return jnp.sum(w * d**2) / jnp.maximum(jnp.sum(w), 1.0)


def van_rossum_distance(
    times_a: ArrayLike,
    times_b: ArrayLike,
    *,
    tau: float,
    valid_a: ArrayLike | None = None,
    valid_b: ArrayLike | None = None,
) -> Array:
    r"""Squared van Rossum distance between two spike trains (van Rossum 2001, Neural Comput
    13:751), closed form for the causal exponential kernel $e^{-t/\tau}$ on $(-\infty, \infty)$:

    $$D^2 = \frac{1}{\tau}\int (f_a - f_b)^2 dt = \frac12\Big[\sum_{i,j} e^{-|a_i-a_j|/\tau}
    + \sum_{i,j} e^{-|b_i-b_j|/\tau} - 2\sum_{i,j} e^{-|a_i-b_j|/\tau}\Big].$$

    Smooth in the spike times except where two spikes coincide. `valid_a` / `valid_b` (0/1)
    mask padded entries (as returned by `event_spike_times`). One spike against none gives
    $D^2 = 1/2$. Returns $D^2$ (dimensionless).
    """
    _check_positive("tau", tau)
    a = jnp.asarray(times_a, dtype=jnp.result_type(float))
    b = jnp.asarray(times_b, dtype=jnp.result_type(float))
    wa = jnp.ones_like(a) if valid_a is None else jnp.asarray(valid_a, a.dtype)
    wb = jnp.ones_like(b) if valid_b is None else jnp.asarray(valid_b, b.dtype)

    def k(x, y, wx, wy):
        d = jnp.abs(x[:, None] - y[None, :])
        return jnp.sum(wx[:, None] * wy[None, :] * jnp.exp(-d / tau))

    return 0.5 * (k(a, a, wa, wa) + k(b, b, wb, wb) - 2.0 * k(a, b, wa, wb))


def firing_rate(spikes: ArrayLike, *, dt: float, axis: int = 0) -> Array:
    """Mean firing rate (Hz, time in ms) of a 0/1 spike raster along `axis` (time steps of
    `dt` ms): `1000 * sum(spikes) / (n_steps * dt)`. Surrogate spikes carry their gradient."""
    _check_positive("dt", dt)
    s = jnp.asarray(spikes)
    return 1000.0 * jnp.sum(s, axis=axis) / (s.shape[axis] * dt)


def fi_curve_error(rates: ArrayLike, target_rates: ArrayLike) -> Array:
    r"""Mean squared error of an F-I curve, $\frac1N\sum_i (r_i - \hat r_i)^2$ (Hz$^2$)."""
    return jnp.mean((jnp.asarray(rates) - jnp.asarray(target_rates)) ** 2)


def population_rate(spikes: ArrayLike, *, dt: float, bin_steps: int = 1) -> Array:
    r"""Population rate (Hz) from a raster `(n_steps, n_neurons)`: the fraction of neurons
    spiking per bin of `bin_steps` steps, divided by the bin width; shape
    `(n_steps // bin_steps,)` (a trailing partial bin is dropped)."""
    _check_positive("dt", dt)
    if not (isinstance(bin_steps, int) and bin_steps >= 1):
        raise ValueError(f"bin_steps must be an integer >= 1, got {bin_steps!r}")
    s = jnp.asarray(spikes)
    s = s.reshape(s.shape[0], -1)
    n_bins = s.shape[0] // bin_steps
    binned = s[: n_bins * bin_steps].reshape(n_bins, bin_steps, -1)
    return 1000.0 * jnp.mean(jnp.sum(binned, axis=1), axis=-1) / (bin_steps * dt)


def population_rate_error(rate: ArrayLike, target_rate: ArrayLike) -> Array:
    r"""Mean squared error between a population rate and its target (Hz$^2$)."""
    return jnp.mean((jnp.asarray(rate) - jnp.asarray(target_rate)) ** 2)
