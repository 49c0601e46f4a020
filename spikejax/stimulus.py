r"""Input currents: the one stimulus contract of every engine (time in ms).

Every stimulus is an immutable `equinox.Module`; its fields are its parameters, so new
amplitudes or onsets do not recompile a jitted simulation. `stim(t)` returns the current at
time `t` (ms), broadcastable to the population shape, in the model's current unit.
Stimuli add: `Step(10, 50, 5.0) + Constant(1.0)` is a `Sum`. Plain floats and arrays given as
`I=` mean `Constant` (`as_stimulus`); a table of per-step values is `Sampled`.

**The fixed-step contract.** `spikejax.simulate` and `spikejax.fit.solve_fixed` drive a model
through the same two functions of this module, so a stimulus reaches the model identically
in both:

- `initial_state(stim, shape, dtype, key=key)`: the stimulus' internal state (OU noise),
  drawn with the key `fold_in(key, 2**31 - 1)`;
- `sample_step(stim, state, t, dt, k, key=key)`: the current of the step that starts at
  `t = t0 + k_run dt`, held over the step, where `k` is the *absolute* step index
  `round(t0/dt) + k_run`; stochastic stimuli draw with the key `fold_in(key, k)`, so results
  are reproducible and independent of how a run is split into chunks.

Adaptive (diffrax) solvers evaluate `stim(t)` and step exactly onto
`stim.discontinuities()`; they refuse stochastic stimuli.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ._validation import check_finite, check_key, check_nonnegative, check_positive, is_concrete

__all__ = [
    "Stimulus",
    "Constant",
    "Step",
    "PulseTrain",
    "Function",
    "Noise",
    "Sampled",
    "Sum",
    "as_stimulus",
    "check_domain",
    "initial_state",
    "sample_step",
]


class Stimulus(eqx.Module):
    """Abstract stimulus: `stim(t)` is the input current at time `t` (ms).

    Subclasses implement `__call__`; stochastic ones also override `is_stochastic`, `init` and
    `sample`. Engines never call `sample` directly: they go through `initial_state` and
    `sample_step`, which derive the keys.
    """

    @abc.abstractmethod
    def __call__(self, t: ArrayLike) -> Array:
        """The (deterministic part of the) current at time `t` (ms)."""

    @property
    def is_stochastic(self) -> bool:
        """True if the stimulus needs a PRNG key (`Noise`, or a sum containing one)."""
        return False

    def init(self, shape: tuple[int, ...], dtype, *, key: Any = None) -> Any:
        """Initial internal state of the stimulus (a pytree; `None` if stateless)."""
        return None

    def sample(
        self, state: Any, t: ArrayLike, dt: ArrayLike, *, key: Any = None
    ) -> tuple[Array, Any]:
        """`(I, new_state)` for the fixed step starting at `t` of size `dt`."""
        return self(t), state

    def shape(self) -> tuple[int, ...]:
        """The shape of the current (broadcast shape of the array parameters)."""
        return jnp.shape(jax.eval_shape(self, 0.0))

    def discontinuities(self) -> tuple[float, ...]:
        """Times (ms) where the current jumps; adaptive solvers step exactly onto them."""
        return ()

    def domain(self) -> tuple[float, float]:
        """`(start, stop)` (ms): the times where the stimulus is defined (default: all)."""
        return (-float("inf"), float("inf"))

    def __add__(self, other: Any) -> Sum:
        return Sum((self, as_stimulus(other)))

    def __radd__(self, other: Any) -> Sum:
        return Sum((as_stimulus(other), self))


def as_stimulus(I: Any) -> Stimulus:
    """A `Stimulus` from `I`: stimuli pass through, numbers and arrays become `Constant`.

    **Raises:** `ValueError` if `I` is neither (naming `I`) or contains NaN/inf.
    """
    if isinstance(I, Stimulus):
        return I
    if I is None:
        return Constant(0.0)
    if callable(I):
        raise ValueError(
            "I must be a number, an array or a spikejax.stimulus.Stimulus; wrap a function "
            "of t as spikejax.stimulus.Function(fn)"
        )
    try:
        arr = jnp.asarray(I)
    except TypeError as err:
        raise ValueError(f"I must be a number, an array or a Stimulus, got {type(I)}") from err
    if not jnp.issubdtype(arr.dtype, jnp.number) or jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise ValueError(f"I must be real numbers, got dtype {arr.dtype}")
    check_finite("I", arr)
    return Constant(arr)


def _float(x: ArrayLike) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _scalar(x: ArrayLike) -> float:
    """A concrete scalar parameter as a Python float."""
    return float(np.asarray(x))


class Constant(Stimulus):
    """A constant current `amplitude` (scalar or array)."""

    amplitude: ArrayLike = 0.0

    def __check_init__(self):
        check_finite("Constant.amplitude", self.amplitude)

    def __call__(self, t):
        return _float(self.amplitude)


class Step(Stimulus):
    r"""$I(t) = A$ for `onset` $\le t <$ `offset` (ms), else `baseline` (default 0).

    **Arguments:**

    - `onset`: the time the step switches on (ms).
    - `offset`: the time it switches off (ms, > `onset`; the default `inf` for a step that
      stays on).
    - `amplitude`: the current $A$ while on (default 1).
    - `baseline`: the current otherwise (default 0).
    """

    onset: ArrayLike
    offset: ArrayLike = float("inf")
    amplitude: ArrayLike = 1.0
    baseline: ArrayLike = 0.0

    def __check_init__(self):
        check_finite("Step.onset", self.onset)
        check_finite("Step.amplitude", self.amplitude)
        check_finite("Step.baseline", self.baseline)
        if is_concrete(self.offset) and is_concrete(self.onset):
            if not np.all(np.asarray(self.offset, float) > np.asarray(self.onset, float)):
                raise ValueError(
                    f"Step.offset must be > Step.onset, got onset={self.onset}, "
                    f"offset={self.offset}"
                )

    def __call__(self, t):
        t = jnp.asarray(t)
        on = (t >= self.onset) & (t < self.offset)
        return jnp.where(on, _float(self.amplitude), _float(self.baseline))

    def discontinuities(self):
        if not (is_concrete(self.onset) and is_concrete(self.offset)):
            return ()
        times = np.concatenate([np.ravel(self.onset), np.ravel(self.offset)])
        return tuple(float(x) for x in times if np.isfinite(x))


class PulseTrain(Stimulus):
    r"""Rectangular pulses of `width` (ms) and `amplitude` starting at `onsets` (ms).

    $I(t) = A$ if $o_j \le t < o_j + w$ for some onset $o_j$, else `baseline`.
    Build regular trains with `PulseTrain.regular(start, interval, count, width, amplitude)`.
    Overlapping pulses do not add.
    """

    onsets: ArrayLike
    width: ArrayLike = 1.0
    amplitude: ArrayLike = 1.0
    baseline: ArrayLike = 0.0

    def __check_init__(self):
        check_finite("PulseTrain.onsets", self.onsets)
        check_positive("PulseTrain.width", self.width, "ms")
        check_finite("PulseTrain.amplitude", self.amplitude)
        if is_concrete(self.onsets) and np.ndim(self.onsets) != 1:
            raise ValueError(
                f"PulseTrain.onsets must be a 1-D sequence of times (ms), got shape "
                f"{np.shape(self.onsets)}"
            )

    @classmethod
    def regular(
        cls,
        start: float,
        interval: float,
        count: int,
        *,
        width: ArrayLike = 1.0,
        amplitude: ArrayLike = 1.0,
        baseline: ArrayLike = 0.0,
    ) -> PulseTrain:
        """`count` pulses at `start + j * interval` (ms), `j = 0 .. count-1`."""
        check_positive("PulseTrain.regular interval", interval, "ms")
        if not (isinstance(count, int | np.integer) and count >= 1):
            raise ValueError(f"PulseTrain.regular count must be an integer >= 1, got {count!r}")
        onsets = start + interval * np.arange(count, dtype=float)
        return cls(onsets, width=width, amplitude=amplitude, baseline=baseline)

    def __call__(self, t):
        onsets = _float(self.onsets)
        t = _float(t)
        inside = (t[..., None] >= onsets) & (t[..., None] < onsets + self.width)
        on = jnp.any(inside, axis=-1)
        return jnp.where(on, _float(self.amplitude), _float(self.baseline))

    def discontinuities(self):
        if not (is_concrete(self.onsets) and is_concrete(self.width)):
            return ()
        o = np.asarray(self.onsets, float)
        return tuple(float(x) for x in np.concatenate([o, o + float(np.max(self.width))]))


class Function(Stimulus):
    """Wraps a user function `fn(t) -> I` of time (ms); it must be traceable by JAX."""

    fn: Callable = eqx.field(static=True)

    def __check_init__(self):
        if not callable(self.fn):
            raise TypeError(f"Function.fn must be a callable fn(t) -> I, got {self.fn!r}")

    def __call__(self, t):
        return _float(self.fn(t))


class Noise(Stimulus):
    r"""Gaussian white or Ornstein-Uhlenbeck noise current.

    White (`tau=None`): on each step of size $\Delta t$ the current is
    $I = \mu + \sigma \xi / \sqrt{\Delta t}$, $\xi \sim N(0,1)$, so that the integrated
    input over a step has variance $\sigma^2 \Delta t$ (units: current $\cdot$ ms$^{1/2}$ for
    $\sigma$).

    Ornstein-Uhlenbeck (`tau` in ms): $\tau\,\dot x = -(x - \mu) + \sigma\sqrt{2\tau}\,\eta(t)$
    with stationary standard deviation $\sigma$ (current units), updated exactly:
    $x \leftarrow \mu + (x - \mu) e^{-\Delta t/\tau} + \sigma\sqrt{1 - e^{-2\Delta t/\tau}}\,\xi$.
    The process starts from its stationary distribution.

    Needs `key=` in `simulate` and `fit.solve_fixed`; independent across cells (the shape of
    the population). Only fixed-step methods accept it.
    """

    sigma: ArrayLike = 1.0
    mean: ArrayLike = 0.0
    tau: ArrayLike | None = None

    def __check_init__(self):
        check_nonnegative("Noise.sigma", self.sigma)
        check_finite("Noise.mean", self.mean)
        if self.tau is not None:
            check_positive("Noise.tau", self.tau, "ms")

    @property
    def is_stochastic(self):
        return True

    def __call__(self, t):
        # The deterministic part (used for shape inference and by adaptive solvers' checks).
        return jnp.broadcast_to(_float(self.mean), self.shape())

    def shape(self):
        # An array sigma or tau makes a population as an array mean does.
        parts = [self.mean, self.sigma] + ([] if self.tau is None else [self.tau])
        return tuple(np.broadcast_shapes(*(jnp.shape(p) for p in parts)))

    def init(self, shape, dtype, *, key=None):
        if key is None:
            raise ValueError("key: Noise needs a PRNG key; pass key=jax.random.key(...)")
        if self.tau is None:
            # White noise keeps no memory; the zeros only carry the shape and dtype.
            return jnp.zeros(shape, dtype)
        xi = jax.random.normal(key, shape, dtype)
        return (self.mean + self.sigma * xi).astype(dtype)

    def sample(self, state, t, dt, *, key=None):
        if key is None:
            raise ValueError("key: Noise needs a PRNG key; pass key=jax.random.key(...)")
        xi = jax.random.normal(key, jnp.shape(state), state.dtype)
        # `jnp.asarray` keeps a Python scalar weakly typed: the promotion is the operators'.
        mean = jnp.asarray(self.mean)
        if self.tau is None:
            return (mean + self.sigma * xi / jnp.sqrt(dt)).astype(state.dtype), state
        decay = jnp.exp(-(dt / self.tau))
        spread = self.sigma * jnp.sqrt(-jnp.expm1(-2 * dt / self.tau))
        new = mean + (state - mean) * decay + spread * xi
        # The current over this step is the value at its start (held, like other stimuli).
        return state, new.astype(state.dtype)


class Sampled(Stimulus):
    r"""A table of currents, one value per step: `values[k]` is held over
    $t_0 + k\,\Delta t \le t < t_0 + (k+1)\,\Delta t$.

    The per-step input of a recorded or precomputed current (e.g. a target experiment's
    protocol). A fixed-step engine whose step equals `dt` receives `values[k]` on its step
    `k` after `t0`: the table is read at the middle of the engine's step, so rounding in the
    step's start time never selects the neighbouring entry. Adaptive solvers read it at `t` and
    step exactly onto its jumps.

    **Arguments:**

    - `values`: `(n, *shape)` currents (n >= 1; `shape` broadcasts with the population).
    - `dt`: the table's step (ms, > 0).
    - `t0`: the start time of entry 0 (ms; default 0).

    Defined on $[t_0, t_0 + n\,\Delta t)$ (`domain()`); engines refuse runs outside it.
    The entry is selected from the step's time in the run's float dtype: in float32 that is
    exact for runs of up to about $4 \times 10^6$ steps (where float32 time still resolves a
    fraction of a step).
    """

    values: ArrayLike
    dt: ArrayLike
    t0: ArrayLike = 0.0

    def __check_init__(self):
        if np.ndim(self.values) < 1 or np.shape(self.values)[0] < 1:
            raise ValueError(
                "Sampled.values must have a leading axis of at least one step, got shape "
                f"{np.shape(self.values)}"
            )
        check_finite("Sampled.values", self.values)
        check_positive("Sampled.dt", self.dt, "ms")
        check_finite("Sampled.t0", self.t0)

    def _at(self, x):
        n = jnp.shape(self.values)[0]
        k = jnp.clip(jnp.floor(x), 0, n - 1).astype(jnp.int32)
        # A dynamic slice rather than a gather: its transpose (a dynamic update of one row)
        # keeps differentiated loops as fast as reading a per-step input.
        if k.ndim == 0:
            return jax.lax.dynamic_index_in_dim(_float(self.values), k, axis=0, keepdims=False)
        return _float(self.values)[k]  # several times at once (plots, adaptive solvers)

    def __call__(self, t):
        return self._at((_float(t) - self.t0) / self.dt)

    def sample(self, state, t, dt, *, key=None):
        return self._at((_float(t) + 0.5 * dt - self.t0) / self.dt), state

    def shape(self):
        return tuple(jnp.shape(self.values)[1:])

    def discontinuities(self):
        if not (is_concrete(self.dt) and is_concrete(self.t0)):
            return ()
        n = np.shape(self.values)[0]
        t0, dt = _scalar(self.t0), _scalar(self.dt)
        return tuple(float(x) for x in t0 + dt * np.arange(1, n))

    def domain(self):
        if not (is_concrete(self.dt) and is_concrete(self.t0)):
            return (-float("inf"), float("inf"))
        n = np.shape(self.values)[0]
        t0, dt = _scalar(self.t0), _scalar(self.dt)
        return (t0, t0 + n * dt)


class Sum(Stimulus):
    """The sum of several stimuli (built by `+`)."""

    terms: tuple[Stimulus, ...]

    def __init__(self, terms):
        flat: list[Stimulus] = []
        for s in terms:
            s = as_stimulus(s)
            flat.extend(s.terms if isinstance(s, Sum) else (s,))
        self.terms = tuple(flat)

    @property
    def is_stochastic(self):
        return any(s.is_stochastic for s in self.terms)

    def __call__(self, t):
        total = self.terms[0](t)
        for s in self.terms[1:]:
            total = total + s(t)
        return total

    def init(self, shape, dtype, *, key=None):
        keys = [None if key is None else jax.random.fold_in(key, i) for i in range(len(self.terms))]
        return tuple(s.init(shape, dtype, key=k) for s, k in zip(self.terms, keys))

    def sample(self, state, t, dt, *, key=None):
        currents, new_state = [], []
        for i, (s, st) in enumerate(zip(self.terms, state)):
            k = None if key is None else jax.random.fold_in(key, i)
            I, st = s.sample(st, t, dt, key=k)
            currents.append(I)
            new_state.append(st)
        total = currents[0]
        for I in currents[1:]:
            total = total + I
        return total, tuple(new_state)

    def discontinuities(self):
        return tuple(sorted({x for s in self.terms for x in s.discontinuities()}))

    def domain(self):
        ranges = [s.domain() for s in self.terms]
        return (max(a for a, _ in ranges), min(b for _, b in ranges))


#: The `fold_in` index of the key that draws a stimulus' initial state.
_INIT_FOLD = 0x7FFFFFFF


def _require_key(stim: Stimulus, key: Any) -> None:
    if stim.is_stochastic and key is None:
        raise ValueError(
            f"key: the stimulus is stochastic ({type(stim).__name__}); pass key=jax.random.key(...)"
        )
    if key is not None:
        check_key("key", key)


def initial_state(stim: Stimulus, shape: tuple[int, ...], dtype: Any, *, key: Any = None) -> Any:
    """The internal state a fixed-step run of `stim` starts from.

    **Arguments:**

    - `stim`: a `Stimulus`.
    - `shape`, `dtype`: the population's shape and floating dtype.
    - `key`: the run's PRNG key (needed by stochastic stimuli); the state is drawn with
      `fold_in(key, 2**31 - 1)`, a key no step uses.

    **Returns:** the state pytree (None for stateless stimuli).

    **Raises:** `ValueError` naming `key` if `stim` is stochastic and `key` is None.
    """
    _require_key(stim, key)
    init_key = jax.random.fold_in(key, _INIT_FOLD) if stim.is_stochastic else None
    return stim.init(shape, dtype, key=init_key)


def sample_step(
    stim: Stimulus, state: Any, t: ArrayLike, dt: ArrayLike, k: ArrayLike, *, key: Any = None
) -> tuple[Array, Any]:
    """The current held over one fixed step, and the stimulus' next state.

    **Arguments:**

    - `stim`, `state`: the stimulus and its current state (`initial_state`).
    - `t`: the step's start time (ms); `dt`: the step (ms).
    - `k`: the absolute step index, `round(t0/dt)` plus the step's index in the run; a
      stochastic stimulus draws with `fold_in(key, k)`.
    - `key`: the run's PRNG key.

    **Returns:** `(I, new_state)`.

    **Raises:** `ValueError` naming `key` if `stim` is stochastic and `key` is None.
    """
    _require_key(stim, key)
    skey = jax.random.fold_in(key, k) if stim.is_stochastic else None
    return stim.sample(state, t, dt, key=skey)


def check_domain(stim: Stimulus, t_start: float, t_stop: float) -> None:
    """Raise `ValueError` naming `I` unless `stim` is defined over `[t_start, t_stop)` (ms)."""
    a, b = stim.domain()
    tol = 1e-9 * max(1.0, abs(t_start), abs(t_stop))
    if not (a <= t_start + tol and t_stop <= b + tol):
        raise ValueError(
            f"I is defined for {a} <= t < {b} ms only, but the run covers "
            f"[{t_start}, {t_stop}) ms; give a table covering the run (Sampled values, dt, t0)"
        )
