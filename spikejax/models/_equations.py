r"""Neuron models written as equations (Brian2's syntax), with physical units.

`from_equations` reads a model written as text, checks its units, makes removable
singularities safe, and generates an ordinary `NeuronModel` subclass whose fields are the
parameters and whose `vector_field` is JAX code printed from the sympy expressions. Every
engine (simulation, networks, analysis, fitting) takes it like a built-in model. sympy (and
pint, for units) are imported when a model is built, not with spikejax.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._validation import check_finite, is_concrete
from ..solvers._schemes import AbstractScheme
from ._base import NeuronModel, State, fill, input_current
from ._conductance import SAFE_BOUNDS, phi1_exp, series_bound

__all__ = ["EquationModel", "SynapticDrive", "UnitError", "drive_matrix", "from_equations"]

_REFRACTORY = "refractory"


class UnitError(ValueError):
    """A model's units are inconsistent (a `ValueError` naming the offending term)."""


@dataclasses.dataclass(frozen=True, eq=False)
class _Spec:
    """What the generated class needs at run time (a class variable, not a field)."""

    states: tuple[str, ...]
    params: tuple[str, ...]
    f: Callable[..., tuple[Any, ...]]
    fa: Callable[..., tuple[Any, ...]]
    constant: tuple[bool, ...]
    threshold: Callable[..., tuple[Any, ...]] | None
    reset: Callable[..., tuple[Any, ...]] | None
    reset_names: tuple[str, ...]
    init: Callable[..., tuple[Any, ...]]
    gates: Callable[..., tuple[Any, ...]] | None
    gate_names: tuple[str, ...]
    denominators: tuple[tuple[str, Callable[..., tuple[Any, ...]]], ...]
    refractory_param: str | None
    units: dict[str, str]
    method: AbstractScheme
    text: str
    # True when the equations (refractory hold aside) are linear with constant coefficients
    # and each depends on its own variable only: exponential Euler is then exact.
    decoupled_linear: bool = False
    # Per state variable: a gate (dx/dt = A - B x with A > 0, B >= A provably), updated as
    # x + (f/a)(e^{a dt} - 1) instead of with phi1's series (the built-in HH step's form).
    gate_form: tuple[bool, ...] = ()
    # tau = -1/a of a membrane dV/dt = a V + c I + b (a, b, c: parameters only; I in no other
    # equation), as (numpy function, jax function) of the parameters; None otherwise.
    membrane_tau: tuple[Callable[..., tuple[Any, ...]], Callable[..., tuple[Any, ...]]] | None = (
        None
    )
    # The entries of A (row by row) and c of dx/dt = A x + c I + b (A, b, c: parameters only;
    # with a refractory period, I only in held equations), as (numpy, jax) functions of the
    # parameters; None otherwise.
    linear_input: tuple[Callable[..., tuple[Any, ...]], Callable[..., tuple[Any, ...]]] | None = (
        None
    )
    # Per state variable (the refractory clock excluded): held during the refractory period.
    held: tuple[bool, ...] = ()


class SynapticDrive(NamedTuple):
    r"""What `EquationModel.synaptic_drive` returns and the model's `vector_field` takes as
    its `args`: the input current `I` and a forcing `g` (shape `(..., n)`, one column per
    state variable other than the refractory clock) added to the right-hand sides, zero
    while a cell is refractory."""

    I: Any
    g: Any


def _synapse_generator(synapse: Any, state: dict, dtype: Any) -> tuple[Any, Any]:
    r"""The generator $S$ ($k \times k$: $\dot s = S s$) and output row $o$ ($I = o \cdot s$)
    of a linear synapse, from its exact propagator `synapse.decay(s, u)`: $S$ is its
    derivative in `u` at 0 on the unit states (one `jax.jvp` over all of them at once; a
    current held over the step and cleared after it, as `CurrentPulse`'s, has $S = 0$)."""
    names = tuple(state)
    # evaluated now, not staged into a traced step (a constant of the step when the
    # synapse's time constants are)
    with jax.ensure_compile_time_eval():
        eye = jnp.eye(len(names), dtype=dtype)
        units = {m: eye[i] for i, m in enumerate(names)}  # column j: the unit state j
        zero, one = jnp.asarray(0.0, dtype), jnp.asarray(1.0, dtype)
        _, d = jax.jvp(lambda u: synapse.decay(units, u), (zero,), (one,))
        S = jnp.stack([jnp.broadcast_to(jnp.asarray(d[m], dtype), eye[0].shape) for m in names])
        o = jnp.broadcast_to(jnp.asarray(synapse.output(units), dtype), eye[0].shape)
    return S, o


#: Squarings of the traced `_expm`: norms up to 2^39 (a step of 1e9 time constants).
_MAX_SQUARINGS = 40


def _expm(M: Any, xp: Any) -> Any:
    r"""$e^M$ of a stack of small matrices: scaling and squaring with the Taylor series of
    degree 18 (truncation below $0.5^{19}/19! \approx 2 \cdot 10^{-23}$ once $\|M\| / 2^s
    \le 1/2$). NumPy (float64, on the host) or `jax.numpy` (traced parameters): cheap to
    compile, unlike `jax.scipy.linalg.expm` (seconds for a 5 x 5 matrix)."""
    norm = xp.max(xp.sum(xp.abs(M), axis=-1))
    steps = xp.maximum(xp.ceil(xp.log2(xp.maximum(norm, 1e-300) / 0.5)), 0.0)
    X = M / 2.0**steps
    eye = xp.broadcast_to(xp.eye(M.shape[-1], dtype=M.dtype), M.shape)
    E = eye
    for j in range(18, 0, -1):
        E = eye + (X @ E) / j
    if xp is np:
        for _ in range(int(steps)):
            E = E @ E
        return E

    # traced: a fixed number of squarings (differentiable), those beyond `steps` skipped
    def square(F, i):
        return jnp.where(i < steps, F @ F, F), None

    return jax.lax.scan(square, E, jnp.arange(_MAX_SQUARINGS, dtype=steps.dtype))[0]


def _gamma(A: Any, dt: Any) -> Any:
    r"""$\Gamma = \int_0^{\Delta t} e^{A u} du$: the top-right block of
    $\exp([[A, 1], [0, 0]]\,\Delta t)$ (float64 NumPy when concrete)."""
    xp = np if is_concrete((A, dt)) else jnp
    A = xp.asarray(A, dtype=np.float64) if xp is np else jnp.asarray(A)
    n = A.shape[-1]
    top = xp.concatenate([A, xp.broadcast_to(xp.eye(n, dtype=A.dtype), A.shape)], axis=-1)
    M = xp.concatenate([top, xp.zeros_like(top)], axis=-2)
    return _expm(M * dt, xp)[..., :n, n:]


def drive_matrix(A: Any, c: Any, S: Any, o: Any, dt: Any) -> Any:
    r"""$D = \Gamma^{-1} \Phi$ (shape `(..., n, k)`): the forcing $g = D s$, held over a step
    of $\Delta t$ in the linear system $\dot x = A x + c I + g$, that moves it exactly as the
    synaptic current $I(u) = o^\top e^{S u} s$ does, with
    $\Phi = \int_0^{\Delta t} e^{A(\Delta t - u)} c\, o^\top e^{S u} du$ and
    $\Gamma = \int_0^{\Delta t} e^{A u} du$: the top-right blocks of one matrix exponential
    of $[[A, c\,o^\top, 1], [0, S, 0], [0, 0, 0]]\,\Delta t$ (Van Loan 1978). For a
    one-dimensional membrane $g = c \bar I$, the mean current of Rotter & Diesmann (1999).
    $\Gamma$ is invertible when no eigenvalue of $A \Delta t$ is a nonzero multiple of
    $2\pi i$ (always for real eigenvalues). Computed in float64 NumPy when every input is
    concrete, else with `jax.numpy`."""
    xp = np if is_concrete((A, c, S, o, dt)) else jnp
    if xp is np:
        A, c, S, o = (np.asarray(v, dtype=np.float64) for v in (A, c, S, o))
        dtype = np.float64
    else:
        A, c, S, o = (jnp.asarray(v) for v in (A, c, S, o))
        dtype = jnp.result_type(A, c, S, o, dt)
        A, c, S, o = (v.astype(dtype) for v in (A, c, S, o))
    n, k = A.shape[-1], S.shape[-1]
    batch = np.broadcast_shapes(A.shape[:-2], c.shape[:-1])
    m = 2 * n + k
    top = xp.concatenate(
        [
            xp.broadcast_to(A, (*batch, n, n)),
            xp.broadcast_to(c[..., :, None] * o, (*batch, n, k)),
            xp.broadcast_to(xp.eye(n, dtype=dtype), (*batch, n, n)),
        ],
        axis=-1,
    )
    middle = xp.concatenate(
        [
            xp.zeros((*batch, k, n), dtype),
            xp.broadcast_to(S, (*batch, k, k)),
            xp.zeros((*batch, k, n), dtype),
        ],
        axis=-1,
    )
    M = xp.concatenate([top, middle, xp.zeros((*batch, n, m), dtype)], axis=-2)
    E = _expm(M * dt, xp)
    phi, gamma = E[..., :n, n : n + k], E[..., :n, n + k :]
    return xp.linalg.solve(gamma, phi)


class EquationModel(NeuronModel):
    """A model generated by `spikejax.models.from_equations` (the base of every generated
    class; not instantiable itself).

    Its fields are the parameters (plain floats or arrays in working units: ms, mV, and
    the unit each other quantity was written in), so `model.replace`, `eqx.tree_at`,
    `jax.vmap` and fitting work as for the built-in models. `model.units` maps every
    parameter, state variable and the input current to its unit; `model.default_scheme` is
    the integration scheme chosen for the equations (`ExactLinear` for a linear system,
    `ExponentialEuler` when every equation is linear in its own variable, else `RK4`),
    which every engine uses under its default `method="auto"`; `model.equations` is the
    text it was built from.
    """

    _spec: ClassVar[_Spec]

    def __check_init__(self):
        spec = type(self)._spec
        params = [getattr(self, p) for p in spec.params]
        for p, value in zip(spec.params, params):
            check_finite(f"{type(self).__name__}.{p}", value)
        if not all(is_concrete(v) for v in params):
            return
        for text, fn in spec.denominators:
            (value,) = fn(*params)
            arr = np.asarray(value, dtype=float)
            if np.any(arr == 0):
                names = ", ".join(f"{p}={getattr(self, p)!r}" for p in spec.params if p in text)
                raise ValueError(
                    f"{type(self).__name__}: the equations divide by `{text}`, which is 0 "
                    f"for {names}; choose values that make it nonzero"
                )

    # ----- read-only descriptions ----------------------------------------------------------
    @property
    def units(self) -> dict[str, str]:
        """The unit of every parameter, state variable and the input current (`1`:
        dimensionless; empty when the model was written without units)."""
        return dict(type(self)._spec.units)

    @property
    def default_scheme(self) -> AbstractScheme:
        """The scheme picked for these equations (or the one named at build time with
        `from_equations(..., method=...)`); engines use it under `method="auto"`."""
        return type(self)._spec.method

    def membrane_time_constant(self) -> Any:
        r"""$\tau = -1/a$ (ms) when the membrane equation is linear with constant
        coefficients, $\dot V = a V + c I + b$ ($a$, $b$, $c$ functions of the parameters
        only; the refractory hold aside) and the input current $I$ appears in no other
        equation; None otherwise, or when $a = 0$ for some cell (a perfect integrator).

        Network populations then integrate current synapses exactly (the same propagators as
        for `spikejax.models.LIF`, `spikejax.network.Synapse.membrane_current`). A float64
        NumPy value when the parameters are concrete, else a JAX array.
        """
        spec = type(self)._spec
        if spec.membrane_tau is None:
            return None
        params = [getattr(self, p) for p in spec.params]
        if all(is_concrete(v) for v in params):
            with np.errstate(divide="ignore", invalid="ignore"):  # a = 0: infinite tau
                (tau,) = spec.membrane_tau[0](*[np.asarray(v, np.float64) for v in params])
            tau = np.asarray(tau, dtype=np.float64)
            return None if not np.all(np.isfinite(tau)) else tau
        (tau,) = spec.membrane_tau[1](*params)
        return tau

    def linear_input(self) -> tuple[Any, Any] | None:
        r"""$(A, c)$ when the equations are linear with constant coefficients,
        $\dot x = A x + c I + b$ ($A$, $b$, $c$ functions of the parameters only, no `t`;
        the refractory hold aside) and, for a model with a refractory period, the input
        current $I$ enters only the equations held during it (`(unless refractory)`); None
        otherwise. $A$ has shape `(*shape, n, n)` and $c$ `(*shape, n)`, over the state
        variables other than the refractory clock in the order of `state_names`.

        Network populations of such a model stepped with `"exact"` (`ExactLinear`, what
        `"auto"` picks for it) integrate current synapses exactly even where the membrane
        is coupled to other variables (an adaptation current): `synaptic_drive`.
        """
        spec = type(self)._spec
        if spec.linear_input is None:
            return None
        params = [getattr(self, p) for p in spec.params]
        (np_fn, jax_fn), xp = spec.linear_input, jnp
        if all(is_concrete(v) for v in params):
            values, xp = np_fn(*[np.asarray(v, np.float64) for v in params]), np
        else:
            values = jax_fn(*params)
        values = xp.broadcast_arrays(*[xp.asarray(v, dtype=float) for v in values])
        n = len(spec.states) - (spec.refractory_param is not None)
        stacked = xp.stack(values, axis=-1)
        A = stacked[..., : n * n].reshape((*stacked.shape[:-1], n, n))
        return A, stacked[..., n * n :]

    def synaptic_drive(self, I: Any, synapses: Sequence[tuple[Any, dict]], dt: Any) -> Any:
        r"""The `args` of one step of `dt` for a model with `linear_input()` receiving
        current synapses: the input `I` and the forcing $g = \sum_r D_r s_r$
        (`drive_matrix`) that, held over the step in the model's exact step
        (`ExactLinear`), moves every state variable exactly as the synaptic currents do
        (a `SynapticDrive`).

        **Arguments:** `I`: the input current held over the step; `synapses`: pairs
        `(synapse, state)`: a linear synapse (`synapse.decay(state, u)` its exact
        propagator over `u` ms, `synapse.output(state)` its current, in the model's current
        unit) and its state at the start of the step; `dt`: the step (ms).

        **Raises:** `ValueError` for a model without `linear_input()`.
        """
        linear = self.linear_input()
        if linear is None:
            raise ValueError(
                f"{type(self).__name__}.synaptic_drive needs equations linear with constant "
                "coefficients (linear_input() is None)"
            )
        A, c = linear
        g = 0.0
        for synapse, state in synapses:
            values = [jnp.asarray(state[m]) for m in state]
            dtype = jnp.result_type(*values)
            S, o = _synapse_generator(synapse, state, dtype)
            D = jnp.asarray(drive_matrix(A, c, S, o, dt), dtype)
            g = g + jnp.einsum("...nk,...k->...n", D, jnp.stack(values, axis=-1))
        return SynapticDrive(I, g)

    @property
    def equations(self) -> str:
        """The equations this model was built from."""
        return type(self)._spec.text

    # ----- evaluation ----------------------------------------------------------------------
    def _call(self, fn, t, y: State, args) -> tuple[Any, ...]:
        spec = type(self)._spec
        states = [jnp.asarray(y[n]) for n in spec.states]
        bound = series_bound(jnp.result_type(*states), **SAFE_BOUNDS)
        params = [getattr(self, p) for p in spec.params]
        I = args.I if isinstance(args, SynapticDrive) else args
        return fn(t, input_current(I), bound, *states, *params)

    def _forced(self, y: State, f: State, args) -> State:
        """`f` plus the forcing of a `SynapticDrive` (none while refractory)."""
        if not isinstance(args, SynapticDrive):
            return f
        spec = type(self)._spec
        g = args.g
        if spec.refractory_param is not None:
            g = jnp.where((jnp.asarray(y[_REFRACTORY]) > 0)[..., None], 0.0, g)
        out = dict(f)
        for i, n in enumerate(spec.states[: jnp.shape(g)[-1]]):
            out[n] = f[n] + g[..., i].astype(jnp.result_type(f[n]))
        return out

    def _shaped(self, y: State, values: Sequence[Any]) -> State:
        spec = type(self)._spec
        out = {}
        for n, v, const in zip(spec.states, values, spec.constant):
            out[n] = v + jnp.zeros_like(y[n]) if const else v
        return out

    def vector_field(self, t, y: State, args) -> State:
        return self._forced(y, self._shaped(y, self._call(type(self)._spec.f, t, y, args)), args)

    def diagonal_jacobian(self, t, y: State, args) -> State:
        """$\\partial f_i/\\partial x_i$ from the symbolic derivative of each equation."""
        spec = type(self)._spec
        vals = self._call(spec.fa, t, y, args)
        n = len(spec.states)
        return self._shaped(y, vals[n:])

    def exponential_euler_step(self, t, y: State, args, dt, conductances=()) -> State | None:
        r"""Exponential Euler with the symbolic diagonal: $x_i + \Delta t\,\varphi_1(a_i
        \Delta t)\, f_i$, one generated function for $f$ and $a$ (the same update as
        `spikejax.solvers.exponential_euler_step`). Conductances take the generic step."""
        if conductances:
            return None
        spec = type(self)._spec
        vals = self._call(spec.fa, t, y, args)
        n = len(spec.states)
        f = self._forced(y, self._shaped(y, vals[:n]), args)
        a = self._shaped(y, vals[n:])
        out = {}
        gates = spec.gate_form or (False,) * n
        for k, gate in zip(spec.states, gates):
            if gate:
                # x_inf + (x - x_inf) e^{a dt}, as the built-in HH step updates its gates;
                # the absolute rounding error is eps (|x| + |x_inf|), x_inf in (0, 1].
                # a = -B < 0; it reaches 0 only if both rates underflow (then f ~ 0 too):
                # the bound keeps the quotient finite at one operation's cost
                ak = jnp.minimum(a[k], -jnp.finfo(jnp.result_type(a[k])).tiny)
                out[k] = y[k] + f[k] / ak * (jnp.exp(ak * dt) - 1.0)
            else:
                # phi1 by `exp` and a series (the built-in HH's fused step): cheaper on CPU
                # than `expm1` under a `where`.
                out[k] = y[k] + dt * phi1_exp(a[k] * dt) * f[k]
        return out

    def exact_linear_step(self, t, y: State, args, dt) -> State | None:
        r"""`ExactLinear`'s step for decoupled linear equations (each linear in its own
        variable only, constant coefficients): one exponential per variable,
        $x_i + \Delta t\,\varphi_1(a_i \Delta t) f_i$, which is then the exact solution
        (the matrix exponential of a diagonal system). None (the matrix exponential) for
        any other system."""
        spec = type(self)._spec
        if spec.decoupled_linear:
            return self.exponential_euler_step(t, y, args, dt)
        linear = self.linear_input()
        if linear is None:
            return None
        # x + Gamma f(x), Gamma = int_0^dt e^{A u} du: the exact step of dx/dt = A x + r with
        # r held (what the matrix exponential of ExactLinear gives), Gamma computed once
        n = len(spec.states) - (spec.refractory_param is not None)
        A = linear[0]
        f = self.vector_field(t, y, args)
        fx = jnp.stack(jnp.broadcast_arrays(*[f[k] for k in spec.states[:n]]), axis=-1)
        dtype = jnp.result_type(*[y[k] for k in spec.states[:n]])
        inc = jnp.einsum("...ij,...j->...i", jnp.asarray(_gamma(A, dt), dtype), fx)
        out = dict(y)
        if spec.refractory_param is not None:
            # while refractory the held rows are 0: the system of the other variables
            keep = np.asarray([not h for h in spec.held], dtype=float)
            gamma = jnp.asarray(_gamma(A * keep[:, None], dt), dtype)
            inc_ref = jnp.einsum("...ij,...j->...i", gamma, fx)
            inc = jnp.where((jnp.asarray(y[_REFRACTORY]) > 0)[..., None], inc_ref, inc)
            out[_REFRACTORY] = y[_REFRACTORY] + dt * f[_REFRACTORY]
        for i, k in enumerate(spec.states[:n]):
            out[k] = (y[k] + inc[..., i]).astype(jnp.result_type(y[k]))
        return out

    def resting_state(self) -> State:
        """The initial values given at build time (`init=`; 0 where none was given)."""
        spec = type(self)._spec
        params = [getattr(self, p) for p in spec.params]
        values = spec.init(*params)
        return {n: fill(v, self.shape) for n, v in zip(spec.states, values)}

    def threshold_distance(self, y: State) -> Array:
        spec = type(self)._spec
        if spec.threshold is None:
            return super().threshold_distance(y)
        (d,) = self._call(spec.threshold, 0.0, y, None)
        if spec.refractory_param is not None:
            d = jnp.where(y[_REFRACTORY] > 0, -jnp.inf, d)
        return d

    def reset(self, y: State) -> State:
        spec = type(self)._spec
        if spec.reset is None:
            return y
        values = self._call(spec.reset, 0.0, y, None)
        out = dict(y)
        for n, v in zip(spec.reset_names, values):
            out[n] = jnp.broadcast_to(v, jnp.shape(y[n])).astype(jnp.result_type(y[n]))
        if spec.refractory_param is not None:
            ref = y[_REFRACTORY]
            t_ref = getattr(self, spec.refractory_param)
            out[_REFRACTORY] = jnp.broadcast_to(t_ref, jnp.shape(ref)).astype(ref.dtype)
        return out

    def post_step(self, y: State, dt) -> State:
        if type(self)._spec.refractory_param is None:
            return y
        # Remove round-off left by counting the refractory clock down in steps of dt.
        ref = y[_REFRACTORY]
        return {**y, _REFRACTORY: jnp.where(ref < 0.5 * dt, jnp.zeros_like(ref), ref)}

    def steady_state_gates(self, V: ArrayLike) -> dict[str, Array]:
        r"""$x_\infty(V)$ of every variable whose equation is linear in itself with
        coefficients that depend on the membrane potential only (gates): a starting guess
        for the analysis."""
        spec = type(self)._spec
        if spec.gates is None:
            return {}
        V = jnp.asarray(V)
        params = [getattr(self, p) for p in spec.params]
        bound = series_bound(jnp.result_type(V), **SAFE_BOUNDS)
        values = spec.gates(V, bound, *params)
        return dict(zip(spec.gate_names, values))

    def to_quantities(self, y: Mapping[str, ArrayLike]) -> dict[str, Any]:
        """A state (or any dict of state variables, e.g. a simulation's trace) as pint
        quantities in the model's units.

        **Raises:** `ImportError` without pint; `KeyError` for a name that is not a state
        variable.
        """
        from . import _units

        ureg = _units.require_registry("to_quantities")
        units = type(self)._spec.units
        return {k: ureg.Quantity(np.asarray(v), units.get(k, "1")) for k, v in y.items()}


def from_equations(
    equations: str,
    *,
    threshold: str | None = None,
    reset: str | None = None,
    refractory: str | float | None = None,
    parameters: Mapping[str, Any] | None = None,
    init: Mapping[str, Any] | None = None,
    name: str = "EquationModel",
    voltage: str | None = None,
    current: str = "I",
    spike_detection_threshold: float | str | None = None,
    method: str | AbstractScheme | None = None,
) -> EquationModel:
    r"""A neuron model from its equations, written in Brian2's syntax.

    ```python
    lif = from_equations(
        "dV/dt = (E_L - V + R*I)/tau_m : mV (unless refractory)\n"
        "I : mV",
        threshold="V > V_th", reset="V = V_reset", refractory="t_ref",
        parameters={"tau_m": "20 ms", "E_L": "-65 mV", "V_th": "-50 mV",
                    "V_reset": "-65 mV", "t_ref": "2 ms", "R": 1.0},
        init={"V": "E_L"},
    )
    ```

    One line per equation (`#` starts a comment; a line with unbalanced parentheses
    continues on the next):

    - `dx/dt = expression : unit` — a state variable; optional flag `(unless refractory)`
      (the variable is held during the refractory period).
    - `x = expression : unit` — a subexpression (substituted where it is used).
    - `x : unit` — declares the unit of a parameter (its value comes from `parameters`) or
      of the input current (`I : nA`).

    Expressions: numbers, names (state variables, parameters, subexpressions, `t` (ms), the
    input current, unit names such as `mV`, `ms`, `nS`, `uA/cm**2` when the model has
    units), `+ - * / ** ^ ( ) < > <= >=` and the functions `exp log log10 sqrt abs sin
    cos tan sinh cosh tanh arctan floor ceil sign minimum maximum clip(x, lo, hi)
    where(condition, a, b) sigmoid exprel`. Nothing else is accepted (see
    `spikejax.models._codegen`): the text is never evaluated as Python.

    **Arguments:**

    - `equations`: the text.
    - `threshold`: a condition such as `"V > V_th"` (hybrid models; needs `reset`). The
      spike happens when `lhs - rhs >= 0`, the model's `threshold_distance`.
    - `reset`: statements `"V = c; u += d"` (`=`, `+=`, `-=`, `*=`, `/=`; `;` or new lines
      between them; applied in order), needs `threshold`.
    - `refractory`: the refractory period: a parameter name, a number (ms) or a quantity
      (`"2 ms"`); adds the state variable `refractory` (ms left) that blocks the threshold
      and holds the `(unless refractory)` variables, as in `spikejax.models.LIF`.
    - `parameters`: name -> value: a string with a unit (`"20 ms"`), a pair
      `(20.0, "ms")`, a pint quantity, or a number or array: dimensionless, or in the working
      unit of the parameter's declared unit (`tau : second` and `tau=20.0` mean 20 ms). In
      a model without units, numbers are in ms, mV and the model's own units. They become
      the model's fields, converted to working units.
    - `init`: state variable -> initial value (number or expression in the parameters and
      earlier state variables); `resting_state()` returns these (0 where none is given).
    - `name`: the name of the generated class.
    - `voltage`: the membrane potential's name (default: the one state variable with units
      of voltage, else the first of `V`, `v`, `Vm`, `vm`, `v_m`, else the first variable).
    - `current`: the name of the input current in the equations (default `I`).
    - `spike_detection_threshold`: continuous models: upward crossings of this voltage count
      as spikes (a number in mV or a quantity; default 0).
    - `method`: the integration scheme the model reports as `model.default_scheme`
      (default: picked from the equations, see `EquationModel`), which `simulate`,
      `fit.solve_fixed` and network populations use under their default `method="auto"`.

    **Returns:** an instance (default parameter values) of a generated `EquationModel`
    subclass whose fields are the parameters.

    **Raises:** `SyntaxError` for text outside the grammar, `NameError` for an unknown
    identifier, `spikejax.models.UnitError` (a `ValueError`) for inconsistent units,
    `ValueError` for a threshold without reset (or the reverse), an equation for an
    undefined variable, a parameter without value or unused, or a division by an expression
    of parameters that is zero; each message names the offending term.
    """
    options = dict(locals())  # the keywords above, as given
    from ._eqbuild import build

    return build(options.pop("equations"), **options)
