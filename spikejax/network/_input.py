"""External input without materialised synapses: per-target Poisson input and noise current."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite, check_nonnegative
from ..stimulus import Noise
from ._synapse import Delta, Synapse


class PoissonInput(eqx.Module):
    r"""Each neuron of population `target` receives `n_sources` independent Poisson trains of rate
    `rate` (Hz) through synapses of weight `weight`, without storing them: in every step the
    number of arriving spikes is drawn as $\mathrm{Binomial}(n_\mathrm{sources}, \nu\,\Delta t)$
    per neuron (requires $\nu\,\Delta t < 1$), and adds `count * weight` to the receptor
    `receptor` (synapse model `synapse`, default `Delta()`), like Brian2's `PoissonInput`.

    The binomial is sampled by inversion against its CDF truncated at
    $m = \lceil \mu + 12\sqrt{\mu} + 15 \rceil$ ($\mu = n \nu \Delta t$ for the rate given here;
    the neglected tail has probability $< 10^{-30}$), with no control flow (fast inside the
    scanned step). For a `jax.vmap` sweep over rates, construct it with the largest rate."""

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

    def max_count(self, dt: float) -> int:
        mu = self.n_sources * float(self.rate) * dt * 1e-3
        return int(min(self.n_sources, math.ceil(mu + 12 * math.sqrt(mu) + 15)))

    def draw(self, key, n: int, dt: float, dtype, max_count: int | None = None):
        """Spike counts times weight for `n` targets in one step of `dt` ms."""
        m = self.max_count(dt) if max_count is None else max_count
        N = self.n_sources
        p = jnp.asarray(self.rate, dtype) * (dt * 1e-3)
        j = jnp.arange(m, dtype=dtype)
        logpmf = (
            jax.scipy.special.gammaln(N + 1.0)
            - jax.scipy.special.gammaln(j + 1.0)
            - jax.scipy.special.gammaln(N - j + 1.0)
            + j * jnp.log(jnp.where(p > 0, p, 1.0))
            + (N - j) * jnp.log1p(-p)
        )
        pmf = jnp.where(p > 0, jnp.exp(logpmf), (j == 0).astype(dtype))
        cdf = jnp.cumsum(pmf)
        u = jax.random.uniform(key, (n,), dtype)
        return count_at_most(cdf, u).astype(dtype) * jnp.asarray(self.weight, dtype)


#: up to this many table entries, `count_at_most` compares each `u` with every entry (a chain
#: of compare-adds that XLA fuses into one vectorised loop: nearly free next to drawing the
#: uniforms, e.g. 13 entries for 12,500 neurons); beyond, a binary search (about 24 us for
#: the same 13 entries, as its table lookups are gathers; 60 vs 104 us at 40 entries)
_CHAIN_MAX_ENTRIES = 64


def count_at_most(cdf, u, rows=None):
    """For each `u`, the number of entries of the non-decreasing `cdf` (length m) that are
    <= `u` (inverse-CDF sampling: the count is the sampled value). With `rows` (integers,
    the shape of `u`), `cdf` is a table `(G, m)` of CDFs and element `i` is searched in
    row `rows[i]`.

    A single short table (m <= 64) is compared entry by entry; a longer one, or a table
    of rows, is searched by a branchless binary search over the table padded with +inf to
    a power of two: log2(m) + 1 compare-and-select passes over `u`."""
    m = cdf.shape[-1]
    if rows is None and m <= _CHAIN_MAX_ENTRIES:
        count = jnp.zeros(u.shape, jnp.int32)
        for j in range(m):
            count = count + (u >= cdf[j]).astype(jnp.int32)
        return count
    size = 1 << m.bit_length()  # a power of two > m
    pad = jnp.full(cdf.shape[:-1] + (size - m,), jnp.inf, cdf.dtype)
    table = jnp.concatenate([cdf, pad], axis=-1)
    count = jnp.zeros(u.shape, jnp.int32)
    step = size // 2
    while step >= 1:
        probe = count + (step - 1)
        bound = table[probe] if rows is None else table[rows, probe]
        count = jnp.where(u >= bound, count + step, count)
        step //= 2
    return count


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
