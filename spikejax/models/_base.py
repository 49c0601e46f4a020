"""The abstract neuron model that every spikejax model implements.

One model object serves three uses: simulation (fixed-step loops and diffrax), analysis
(equilibria, Jacobians, continuation) and fitting (gradients with respect to its fields).

Conventions
-----------
* A model is an immutable `equinox.Module`; its fields are its parameters. A field may be a
  Python float or an array: array fields make one module a heterogeneous population whose
  shape is the broadcast shape of all fields (`model.shape`).
* The state is a `dict` mapping each name in `model.state_names` to an array of the
  population's shape (a pytree, so diffrax and `jax.vmap` handle it directly).
* `model.vector_field(t, y, I)` follows diffrax's `f(t, y, args)` convention; `args` is the
  external input current `I` (a scalar or an array broadcastable to the population shape,
  in the model's current unit). Analysis varies `I` through this argument.
* Hybrid (threshold-reset) models set `is_hybrid = True` and define `threshold_distance`
  (zero at the spike threshold, positive beyond it) and `reset`. Continuous models (HH, FHN)
  spike by upward crossing of `spike_detection_threshold` in the membrane potential.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from .._validation import broadcast_shape

if TYPE_CHECKING:
    from ..solvers._schemes import AbstractScheme

#: A model state: state-variable name -> array of the population's shape.
State = dict[str, Array]


class NeuronModel(eqx.Module):
    """Abstract base class of all neuron models (not instantiable).

    A model is written with public names only: subclass `NeuronModel`, declare the parameters
    as fields and the class variable `state_names`, and define the abstract methods
    `vector_field` and `resting_state` (`spikejax.models.input_current` reads the current
    from `args`, `spikejax.models.fill` broadcasts a value to `self.shape`). Optional:
    `voltage_name`, `spike_detection_threshold`, units, and for hybrid models `is_hybrid`,
    `threshold_distance` and `reset`. Every built-in model is final (not meant to be
    subclassed).
    """

    # Required of every subclass (a class variable; `ConductanceModel` derives it per
    # instance with a property, which `eqx.AbstractClassVar` would turn into a field).
    state_names: ClassVar[tuple[str, ...]]
    voltage_name: ClassVar[str] = "V"
    is_hybrid: ClassVar[bool] = False
    # True when the model's `exponential_euler_step(t, y, I, dt, conductances=...)` also takes
    # synaptic conductances `[(g, E_rev), ...]` (networks then use it for conductance input).
    fused_conductances: ClassVar[bool] = False
    # Upward crossings of this membrane potential count as spikes (continuous models).
    spike_detection_threshold: ClassVar[float] = 0.0
    # Units, for documentation and plots.
    time_unit: ClassVar[str] = "ms"
    voltage_unit: ClassVar[str] = "mV"
    current_unit: ClassVar[str] = ""

    def __check_init__(self):
        # Parameter shapes must broadcast together (raises ValueError naming them otherwise).
        # Equinox runs every class's __check_init__, so subclasses need not repeat this.
        self.shape  # noqa: B018

    # ----- to be implemented by subclasses -------------------------------------------------
    @abc.abstractmethod
    def vector_field(self, t: ArrayLike, y: State, args: ArrayLike | None) -> State:
        """Time derivative of the state, `dy/dt = f(t, y, I)` with `args = I`."""

    @abc.abstractmethod
    def resting_state(self) -> State:
        """The default initial state, broadcast to the population shape."""

    # ----- hybrid rule (overridden by threshold-reset models) -------------------------------
    def threshold_distance(self, y: State) -> Array:
        """Zero at the spike threshold, negative below it (used for event location)."""
        return y[self.voltage_name] - self.spike_detection_threshold

    def spike_condition(self, y: State) -> Bool[Array, ...]:
        """True where a hybrid model's state has reached its spike threshold."""
        return self.threshold_distance(y) >= 0

    def reset(self, y: State) -> State:
        """The state after a spike (hybrid models); identity for continuous models."""
        return y

    def diagonal_jacobian(self, t: ArrayLike, y: State, args: ArrayLike | None) -> State:
        """$\\partial f_i / \\partial x_i$ for every state variable, per cell.

        The default uses one `jax.jvp` per state variable (cells are independent, so a tangent
        of ones gives every cell's entry at once). Models override it with closed forms to make
        the exponential Euler scheme cheaper.
        """

        def f(state):
            return self.vector_field(t, state, args)

        out = {}
        for name in y:
            tangent = {n: (jnp.ones_like(y[n]) if n == name else jnp.zeros_like(y[n])) for n in y}
            _, df = jax.jvp(f, (y,), (tangent,))
            out[name] = df[name]
        return out

    @property
    def default_scheme(self) -> AbstractScheme | None:
        """The fixed-step scheme this model asks for under `method="auto"` (the default of
        `spikejax.simulate`, `spikejax.fit.solve_fixed` and network populations), or None:
        no preference, so each engine keeps its own default (RK4 for `simulate` and
        `solve_fixed`, exponential Euler for populations).

        The built-in models return None, so their results under `"auto"` are the same, bit
        for bit, as before `"auto"` existed. A model written as equations returns the scheme
        picked from its equations (`spikejax.models.from_equations`). A custom model may
        override this property with any `spikejax.solvers` scheme object.
        """
        return None

    def post_step(self, y: State, dt: ArrayLike) -> State:
        """Clean-up after a fixed step of size `dt` (e.g. snapping refractory clocks)."""
        return y

    # ----- generic helpers --------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Population shape: the broadcast shape of all parameter fields."""
        return broadcast_shape(type(self).__name__, self.parameters())

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    def parameters(self) -> dict[str, Any]:
        """The parameter fields as a name -> value dict."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if not f.metadata.get("static", False)
        }

    def replace(self, **changes: Any) -> NeuronModel:
        """A copy with some parameters changed; unknown names raise `ValueError`."""
        known = self.parameters()
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} has no parameter(s) {unknown}; known: {sorted(known)}"
            )
        return dataclasses.replace(self, **changes)

    def full_state(self, **values: ArrayLike) -> State:
        """The resting state with some variables overridden, broadcast to `self.shape`."""
        unknown = sorted(set(values) - set(self.state_names))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} has no state variable(s) {unknown}; "
                f"state variables: {list(self.state_names)}"
            )
        y = dict(self.resting_state())
        for k, v in values.items():
            y[k] = jnp.broadcast_to(jnp.asarray(v, dtype=jnp.result_type(float)), self.shape)
        return y

    def to_vector(self, y: State) -> Float[Array, "n_states ..."]:
        """Stack a state dict into an array of shape `(n_states, *population_shape)`."""
        return jnp.stack([jnp.asarray(y[name]) for name in self.state_names], axis=0)

    def from_vector(self, x: Float[Array, "n_states ..."]) -> State:
        """Inverse of `to_vector`."""
        return {name: x[i] for i, name in enumerate(self.state_names)}

    def vector_field_array(self, t: ArrayLike, x: Array, I: ArrayLike | None = None) -> Array:
        """`vector_field` on stacked arrays (`(n_states, ...)` in and out), for analysis."""
        return self.to_vector(self.vector_field(t, self.from_vector(x), I))

    def __call__(self, t: ArrayLike, y: State, args: ArrayLike | None) -> State:
        return self.vector_field(t, y, args)


def input_current(args: ArrayLike | None) -> Array:
    """The external current carried in `vector_field`'s `args` (diffrax's convention), as an
    array; None means zero. Use it in a custom model's `vector_field`:
    `I = input_current(args)`."""
    return jnp.asarray(0.0 if args is None else args)


def fill(value: ArrayLike, shape: tuple[int, ...]) -> Array:
    """A float array of `shape` filled with `value` (broadcast), in JAX's default float dtype.
    Use it in a custom model's `resting_state`: `{"V": fill(-65.0, self.shape), ...}`."""
    return jnp.broadcast_to(jnp.asarray(value, dtype=jnp.result_type(float)), shape)
