"""Populations: a neuron model (possibly heterogeneous) of `n` cells, or a Poisson source."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..solvers._schemes import AbstractScheme, get_scheme
from .._validation import check_nonnegative
from ..models._base import NeuronModel
from ..surrogate import Heaviside, SpikeFunction


def _check_name(name):
    if not (isinstance(name, str) and name and "/" not in name and ":" not in name):
        raise ValueError(
            f"population name must be a non-empty str without '/' or ':', got {name!r}"
        )


def _check_n(n):
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"population size n must be an integer > 0, got {n!r}")


class Population(eqx.Module):
    r"""`n` neurons of one model. Array-valued model fields of shape `(n,)` give every neuron its
    own parameters (a heterogeneous population).

    **Arguments:**
    - `model`: any `spikejax.models.NeuronModel` (shape `()` or `(n,)`).
    - `n`: number of neurons (default: `model.shape[0]`).
    - `name`: unique name within a network.
    - `I_ext`: constant injected current per neuron (scalar or `(n,)`, model's current unit), or a
      function `I_ext(t)` of time in ms returning a scalar or `(n,)` array (jax-traceable).
    - `initial`: initial values of state variables, name -> scalar or `(n,)` array.
    - `method`: fixed-step scheme (`"exponential_euler"` default, `"euler"`, `"rk4"`).
    - `spike_fn`: spike nonlinearity of the threshold distance (`Heaviside()` exact; a
      surrogate from `spikejax.surrogate` for gradients). Reset is
      $y \leftarrow (1-s)\,y + s\,\mathrm{reset}(y)$.
    - `sign`: Dale's law: `+1` (excitatory) or `-1` (inhibitory) or `None`; projections from a
      signed population into current-based synapses get weights of that sign.
    """

    model: NeuronModel
    I_ext: Any
    initial: dict
    spike_fn: SpikeFunction
    n: int = eqx.field(static=True)
    name: str = eqx.field(static=True)
    method: AbstractScheme = eqx.field(static=True)
    sign: int | None = eqx.field(static=True)
    current_fn: Callable | None = eqx.field(static=True)

    def __init__(
        self,
        model: NeuronModel,
        n: int | None = None,
        *,
        name: str,
        I_ext: Any = 0.0,
        initial: dict | None = None,
        method: str | AbstractScheme = "exponential_euler",
        spike_fn: SpikeFunction | None = None,
        sign: int | None = None,
    ):
        _check_name(name)
        if not isinstance(model, NeuronModel):
            raise ValueError(f"Population.model must be a NeuronModel, got {type(model).__name__}")
        shape = model.shape
        if n is None:
            if len(shape) != 1:
                raise ValueError(
                    f"Population {name!r}: give n, or a model of shape (n,); model shape {shape}"
                )
            n = shape[0]
        _check_n(n)
        if shape not in ((), (n,)):
            raise ValueError(f"Population {name!r}: model shape {shape} does not match n={n}")
        if sign not in (None, 1, -1):
            raise ValueError(f"Population.sign must be +1, -1 or None, got {sign!r}")
        self.model = model
        self.n = int(n)
        self.name = name
        self.method = get_scheme(method)
        self.spike_fn = Heaviside() if spike_fn is None else spike_fn
        self.sign = sign
        if callable(I_ext):
            self.current_fn = I_ext
            self.I_ext = 0.0
        else:
            self.current_fn = None
            if np.shape(I_ext) not in ((), (self.n,)):
                raise ValueError(
                    f"Population {name!r}: I_ext must be a scalar or shape ({self.n},), "
                    f"got {np.shape(I_ext)}"
                )
            self.I_ext = I_ext
        initial = dict(initial or {})
        unknown = sorted(set(initial) - set(model.state_names))
        if unknown:
            raise ValueError(
                f"Population {name!r}: initial has unknown state variable(s) {unknown}; "
                f"state variables: {list(model.state_names)}"
            )
        for k, v in initial.items():
            if np.shape(v) not in ((), (self.n,)):
                raise ValueError(
                    f"Population {name!r}: initial[{k!r}] must be scalar or ({self.n},), "
                    f"got {np.shape(v)}"
                )
        self.initial = initial

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.model.state_names

    def init_state(self, dtype) -> dict:
        y = self.model.resting_state()
        y = {k: jnp.broadcast_to(jnp.asarray(v, dtype), (self.n,)) for k, v in y.items()}
        for k, v in self.initial.items():
            y[k] = jnp.broadcast_to(jnp.asarray(v, dtype), (self.n,))
        return y


class PoissonPopulation(eqx.Module):
    r"""`n` independent Poisson spike sources with rate `rate` (Hz, scalar or `(n,)`): in each
    step of `dt` ms a source spikes with probability $\nu\,\Delta t$
    (requires $\nu \Delta t < 1$)."""

    rate: Any
    n: int = eqx.field(static=True)
    name: str = eqx.field(static=True)
    sign: int | None = eqx.field(static=True)

    state_names = ()

    def __init__(self, n: int, rate, *, name: str, sign: int | None = None):
        _check_name(name)
        _check_n(n)
        check_nonnegative(f"PoissonPopulation({name!r}).rate", rate, "Hz")
        if np.shape(rate) not in ((), (n,)):
            raise ValueError(
                f"PoissonPopulation {name!r}: rate must be scalar or ({n},), got {np.shape(rate)}"
            )
        if sign not in (None, 1, -1):
            raise ValueError(f"PoissonPopulation.sign must be +1, -1 or None, got {sign!r}")
        self.n = int(n)
        self.name = name
        self.rate = rate
        self.sign = sign

    def init_state(self, dtype) -> dict:
        return {}


class SpikeSource(eqx.Module):
    """`n` sources that spike at given times: source `indices[j]` at `times[j]` (ms). A time is
    rounded to the step grid; the spike is emitted at the end of the step that ends there (so
    it reaches a synapse of delay $d$ at `times[j] + d`)."""

    steps: Any
    indices: Any
    n: int = eqx.field(static=True)
    name: str = eqx.field(static=True)
    sign: int | None = eqx.field(static=True)
    dt: float = eqx.field(static=True)

    state_names = ()

    def __init__(self, n: int, indices, times, *, name: str, dt: float, sign: int | None = None):
        _check_name(name)
        _check_n(n)
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        t = np.asarray(times, dtype=float).reshape(-1)
        if idx.shape != t.shape:
            raise ValueError(
                f"SpikeSource {name!r}: indices and times must have the same length, got "
                f"{idx.shape} and {t.shape}"
            )
        if idx.size and not (idx.min() >= 0 and idx.max() < n):
            raise ValueError(f"SpikeSource {name!r}: indices must be in [0, {n})")
        if not (dt > 0):
            raise ValueError(f"SpikeSource.dt must be > 0 ms, got {dt!r}")
        if idx.size and not (t.min() >= dt):
            raise ValueError(f"SpikeSource {name!r}: times must be >= dt (the first step's end)")
        self.n, self.name, self.sign, self.dt = int(n), name, sign, float(dt)
        self.steps = jnp.asarray(np.rint(t / dt).astype(np.int32))
        self.indices = jnp.asarray(idx.astype(np.int32))

    def spikes(self, k, dtype):
        """0/1 spikes emitted at the end of step `k` (time `(k + 1) dt`)."""
        hit = (self.steps == k + 1).astype(dtype)
        return jnp.zeros((self.n,), dtype).at[self.indices].add(hit).clip(0, 1)

    def init_state(self, dtype) -> dict:
        return {}
