"""External input without materialised synapses: per-target Poisson input and noise current."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite, check_nonnegative
from ..spikes._poisson import binomial_cdf_table, binomial_counts
from ..stimulus import Noise
from ._synapse import Delta, Synapse


class PoissonInput(eqx.Module):
    r"""Each neuron of population `target` receives `n_sources` independent Poisson trains of rate
    `rate` (Hz) through synapses of weight `weight`, without storing them: in every step the
    number of arriving spikes is drawn as $\mathrm{Binomial}(n_\mathrm{sources}, \nu\,\Delta t)$
    per neuron (requires $\nu\,\Delta t < 1$), and adds `count * weight` to the receptor
    `receptor` (synapse model `synapse`, default `Delta()`), like Brian2's `PoissonInput`.

    The binomial is sampled by inversion (`spikejax.spikes.binomial_counts`, the sampler
    shared with the microcircuit's background input) against its CDF, computed in float64
    when the `Network` is built (`spikejax.spikes.binomial_cdf_table`), whatever the state's
    dtype: exact up to the resolution of the uniforms (float32: about $10^{-7}$ per count
    value), with no control flow inside the scanned step. The table is part of the network,
    built for the `rate` given here: to sweep rates, build one network per rate."""

    rate: float
    weight: float
    target: str = eqx.field(static=True)
    n_sources: int = eqx.field(static=True)
    synapse: Synapse = eqx.field(static=True)
    receptor: str = eqx.field(static=True)

    def __init__(self, target, n_sources: int, rate, weight, *, synapse=None, receptor=None):
        if not (int(n_sources) == n_sources and n_sources >= 1):
            raise ValueError(f"PoissonInput.n_sources must be an integer >= 1, got {n_sources!r}")
        check_nonnegative("PoissonInput.rate", rate, "Hz")
        check_finite("PoissonInput.weight", weight)
        if np.ndim(rate) or np.ndim(weight):
            raise ValueError("PoissonInput.rate and PoissonInput.weight must be scalars")
        self.target = target if isinstance(target, str) else target.name
        self.n_sources = int(n_sources)
        self.rate = rate
        self.weight = weight
        self.synapse = Delta() if synapse is None else synapse
        self.receptor = receptor or f"poisson_input_{self.target}"

    def count_table(self, dt: float, dtype) -> np.ndarray:
        """The inverse-CDF table of the per-step count (`spikejax.spikes.binomial_cdf_table`,
        float64 on the host, rounded to `dtype`); `Network` builds it once."""
        return binomial_cdf_table(self.n_sources, float(self.rate) * dt * 1e-3, dtype)

    def draw(self, key, n: int, dt: float, dtype, table=None):
        """Spike counts times weight for `n` targets in one step of `dt` ms (`table`: the
        `count_table(dt, dtype)`, built here when None)."""
        table = self.count_table(dt, dtype) if table is None else table
        counts = binomial_counts(key, table, (n,), dtype)
        return counts.astype(dtype) * jnp.asarray(self.weight, dtype)


class NoiseCurrent(eqx.Module):
    r"""Gaussian current $I = \mu + \sigma\,\xi$ injected into population `target`, with $\xi$
    redrawn every `hold_steps` steps (independent per neuron), e.g. Izhikevich's (2003)
    thalamic input held for 1 ms.

    A way to apply a `spikejax.stimulus.Noise` to a population that is also driven by
    another stimulus: it is white `Noise(sigma=σ √(hold_steps Δt), mean=μ)` sampled (by
    `Noise.sample`, the one noise implementation) once every `hold_steps` steps of the
    network's $\Delta t$ and held in between, so the current has standard deviation
    $\sigma$ (the model's current unit). For Ornstein-Uhlenbeck noise give the population
    `I=spikejax.stimulus.Noise(tau=...)` (or a sum containing one).

    **Arguments:**

    - `target`: the population (or its name).
    - `sigma`: the standard deviation of the current (>= 0).
    - `mean`: its mean (default 0).
    - `hold_steps`: steps each draw is held for (integer >= 1).
    """

    mean: float
    sigma: float
    target: str = eqx.field(static=True)
    hold_steps: int = eqx.field(static=True)

    def __init__(self, target, sigma, *, mean=0.0, hold_steps: int = 1):
        check_nonnegative("NoiseCurrent.sigma", sigma)
        check_finite("NoiseCurrent.mean", mean)
        if not (int(hold_steps) == hold_steps and hold_steps >= 1):
            raise ValueError(f"NoiseCurrent.hold_steps must be an integer >= 1, got {hold_steps!r}")
        self.target = target if isinstance(target, str) else target.name
        self.mean = mean
        self.sigma = sigma
        self.hold_steps = int(hold_steps)

    def noise(self, dt: float) -> Noise:
        """The white `stimulus.Noise` sampled once per `hold_steps * dt` ms."""
        return Noise(sigma=self.sigma * math.sqrt(self.hold_steps * dt), mean=self.mean)

    def draw(self, base_key, k, n: int, dt: float, dtype):
        """The current of step `k` for `n` neurons: one `Noise.sample` per hold period,
        keyed by `fold_in(base_key, k // hold_steps)`."""
        key = jax.random.fold_in(base_key, k // self.hold_steps)
        shape = jnp.zeros((n,), dtype)
        t = (k // self.hold_steps).astype(dtype) * (self.hold_steps * dt)
        current, _ = self.noise(dt).sample(shape, t, self.hold_steps * dt, key=key)
        return current
