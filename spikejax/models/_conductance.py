"""Conductance-based models assembled from gates and ion currents.

Units follow Hodgkin & Huxley: V in mV, t in ms, conductances in mS/cm^2, currents in
uA/cm^2, capacitance in uF/cm^2.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, ArrayLike

from .._validation import (
    check_finite,
    check_nonnegative,
    check_nonzero,
    check_positive,
    is_concrete,
    to_arrays,
)
from ..solvers._root import default_root_tolerances, root_find
from ._base import NeuronModel, State, fill, input_current


def series_bound(dtype: Any, *, float64: float, float32: float) -> float:
    """The |argument| below which a removable singularity's series branch is used, by dtype:
    the closed form loses about eps/|u| (relative) in its value and eps/u^2 in its slope,
    the truncated series its first omitted term, so the bound that balances the two grows as
    the type's resolution coarsens (float32, and anything coarser, takes `float32`)."""
    return float64 if float(np.finfo(np.dtype(dtype)).eps) < 1e-10 else float32


#: Removable singularities made safe in generated code (`_codegen.make_safe`): the series
#: branch is taken within this distance of the singular point (working units, e.g. mV). For
#: a linoid rate with k = 10 mV: |u| < 0.005 in float64 (the closed form's cancellation,
#: eps/|u| in the value and eps/u^2 in the slope, is below 4e-14 and 1e-11 beyond it) and
#: |u| < 0.2 in float32; the degree-8 series' truncation is below the type's resolution.
SAFE_BOUNDS = {"float64": 0.05, "float32": 2.0}


# u / (1 - e^{-u}) = sum_n B_n^+ u^n / n! = 1 + u/2 + u^2/12 - u^4/720 + u^6/30240 - u^8/1209600
# + O(u^10) (Bernoulli numbers, radius of convergence 2 pi). Omitted term u^10/47900160: below
# 1e-16 (value) and 1e-15 (slope) for |u| < 0.1 in float64, and below float32's resolution for
# |u| < 1, where the closed form's cancellation (eps/|u| in the value, eps/u^2 in the slope)
# would otherwise dominate: float32 slopes were off by up to 25% at |u| ~ 1e-6.
# The even part is evaluated in u^2 (Horner), the odd part is u/2 alone.
_LINOID_EVEN = (1.0, 1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0, -1.0 / 1209600.0)


@functools.partial(jax.checkpoint, static_argnums=(1,))
def _linoid_series(u: Array, coeffs: tuple[float, ...]) -> Array:
    """The series of `linoid` in `u` (finite everywhere: no safe argument needed).

    Rematerialised (`jax.checkpoint`): reverse mode keeps only `u` and recomputes the few
    multiply-adds, instead of storing every Horner intermediate per call (4 more float64
    values per vector-field evaluation of Hodgkin-Huxley, 16 per RK4 step of a fit).
    """
    u2 = u * u
    even = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        even = c + u2 * even
    return even + 0.5 * u


def linoid(x: ArrayLike, k: ArrayLike) -> Array:
    r"""$x / (1 - e^{-x/k})$, finite (values and gradients) at its removable singularity $x = 0$.

    The limit at $x = 0$ is $k$ and the slope there is $1/2$. For $|x/k|$ below a
    dtype-dependent bound the Taylor series is used (to $u^4$ below 0.01 in float64, to $u^8$
    below 1 in float32),
    so values and slopes keep the type's full precision on both sides of the singularity.
    Uses the double-`where` idiom: the unused branch sees a safe argument, so its gradient is
    not NaN.
    """
    u = jnp.asarray(x) / k
    # float64: the series to u^4 below |u| = 0.01 (omitted u^6/30240: 3e-17 relative in the
    # value, 2e-14 in the slope; the closed form's slope loses about eps/|u| = 2e-14 there).
    # float32 and coarser: the series to u^8 below |u| = 1 (see _LINOID_EVEN).
    bound = series_bound(jnp.result_type(u), float64=0.01, float32=1.0)
    coeffs = _LINOID_EVEN[:3] if bound < 0.5 else _LINOID_EVEN
    small = jnp.abs(u) < bound
    u_safe = jnp.where(small, 2.0 * bound, u)
    series = _linoid_series(u, coeffs)
    closed = u_safe / (-jnp.expm1(-u_safe))
    return jnp.asarray(k) * jnp.where(small, series, closed)


def phi1_exp(z: ArrayLike) -> Array:
    r"""$\varphi_1(z) = (e^z - 1)/z$: `exp` form above a dtype-dependent bound (0.1 in
    float64, 0.5 in float32; cancellation error $\lesssim \epsilon/|z|$ in the value,
    $\epsilon/z^2$ in the slope), Taylor series to $z^8$ below (truncation $z^9/10!$:
    $< 3\cdot 10^{-16}$ at 0.1, $< 6\cdot 10^{-10}$ at 0.5). Cheaper on CPU than `expm1` under
    a `where`."""
    z = jnp.asarray(z)
    bound = series_bound(jnp.result_type(z), float64=0.1, float32=0.5)
    small = jnp.abs(z) < bound
    z_safe = jnp.where(small, 1.0, z)
    z_small = jnp.where(small, z, 0.0)
    series = 1.0
    for j in range(9, 1, -1):  # 1 + z/2! + z^2/3! + ... + z^8/9!
        series = 1.0 + z_small / j * series
    return jnp.where(small, series, (jnp.exp(z_safe) - 1.0) / z_safe)


def boltzmann(V: ArrayLike, V_half: ArrayLike, k: ArrayLike) -> Array:
    r"""$1 / (1 + e^{(V_{1/2} - V)/k})$ (written with `jax.nn.sigmoid`, so it never overflows)."""
    return jax.nn.sigmoid((jnp.asarray(V) - V_half) / k)


def _in_volts(V, args):
    F, fargs, slope0 = args
    return F(V, fargs) / slope0


def steady_state_residual(V: Array, model_and_current: tuple[Any, ArrayLike]) -> Array:
    """$I_\\infty(V) - I$ of a model with `steady_state_current` (the residual of
    `equilibrium`); one function, so the compiled solve is reused."""
    model, I = model_and_current
    return model.steady_state_current(V) - I


def solve_voltage(
    F: Callable[[Array, Any], Array],
    V0: Array,
    args: Any = None,
    *,
    max_steps: int = 64,
    throw: bool = True,
) -> Array:
    """Root of the elementwise function `F(V, args) = 0` by Newton's method from `V0`.

    `spikejax.solvers.root_find` with a diagonal Jacobian (one division per cell, any
    population size) and the implicit adjoint, so the root is differentiable with respect to
    `args` (e.g. the model and the current). jit-, vmap- and grad-safe, in float32 and
    float64.

    The residual is divided by its slope at `V0` (a constant), so that Newton's test on the
    residual is in millivolts whatever the size of the currents: it stops when the step and
    the residual are below `100 rtol` mV (`rtol` of `default_root_tolerances`: 1e-8 mV in
    float64, 1e-3 mV in float32, where the currents' round-off is about 1e-5).

    **Raises:** (with `throw=True`, also under `jit`) when Newton does not converge in
    `max_steps` steps.
    """
    # Numbers become arrays so that one compiled solve serves every parameter value; the
    # compiled solve is cached per residual function, model type and shapes.
    args = to_arrays(args)
    return _solve_voltage_jit(F, jnp.asarray(V0), args, max_steps=max_steps, throw=throw)


@eqx.filter_jit
def _solve_voltage_jit(
    F: Callable[[Array, Any], Array], V0: Array, args: Any, *, max_steps: int, throw: bool
) -> Array:
    _, slope0 = jax.jvp(lambda v: F(v, args), (V0,), (jnp.ones_like(V0),))
    slope0 = jnp.where(jnp.isfinite(slope0) & (slope0 != 0), slope0, 1.0)
    rtol, _ = default_root_tolerances(jnp.result_type(V0))
    sol = root_find(
        _in_volts,
        V0,
        (F, args, jax.lax.stop_gradient(slope0)),
        rtol=rtol,
        atol=100.0 * rtol,
        max_steps=max_steps,
        throw=throw,
        tags=frozenset({lx.diagonal_tag}),
    )
    return sol.value


# ----- checks ---------------------------------------------------------------------------------


def _check_nonzero(name: str, value) -> None:
    check_nonzero(name, value, "mV")


# ----- rate functions for alpha/beta gates ----------------------------------------------------


class RateFunction(eqx.Module):
    """Abstract voltage-dependent transition rate (1/ms) of a gate, $r(V)$."""

    @abc.abstractmethod
    def __call__(self, V: ArrayLike) -> Array:
        """The rate at `V` (mV), in 1/ms."""


class ExpRate(RateFunction):
    r"""$r(V) = A\, e^{(V - V_{1/2})/k}$ (e.g. HH's $\beta_m = 4 e^{-(V+65)/18}$: $A=4$,
    $V_{1/2}=-65$, $k=-18$)."""

    A: ArrayLike
    V_half: ArrayLike
    k: ArrayLike

    def __check_init__(self):
        check_nonnegative("ExpRate.A", self.A, "1/ms")
        check_finite("ExpRate.V_half", self.V_half)
        _check_nonzero("ExpRate.k", self.k)

    def __call__(self, V: ArrayLike) -> Array:
        return jnp.asarray(self.A) * jnp.exp((jnp.asarray(V) - self.V_half) / self.k)


class SigmoidRate(RateFunction):
    r"""$r(V) = A / (1 + e^{-(V - V_{1/2})/k})$ (e.g. HH's $\beta_h$: $A=1$, $V_{1/2}=-35$,
    $k=10$)."""

    A: ArrayLike
    V_half: ArrayLike
    k: ArrayLike

    def __check_init__(self):
        check_nonnegative("SigmoidRate.A", self.A, "1/ms")
        check_finite("SigmoidRate.V_half", self.V_half)
        _check_nonzero("SigmoidRate.k", self.k)

    def __call__(self, V: ArrayLike) -> Array:
        return jnp.asarray(self.A) * boltzmann(V, self.V_half, self.k)


class LinoidRate(RateFunction):
    r"""$r(V) = A (V - V_{1/2}) / (1 - e^{-(V - V_{1/2})/k})$, with the removable singularity at
    $V = V_{1/2}$ (limit $A k$) handled for values and gradients (e.g. HH's $\alpha_m$: $A=0.1$,
    $V_{1/2}=-40$, $k=10$)."""

    A: ArrayLike
    V_half: ArrayLike
    k: ArrayLike

    def __check_init__(self):
        check_finite("LinoidRate.A", self.A)
        check_finite("LinoidRate.V_half", self.V_half)
        _check_nonzero("LinoidRate.k", self.k)

    def __call__(self, V: ArrayLike) -> Array:
        return jnp.asarray(self.A) * linoid(jnp.asarray(V) - self.V_half, self.k)


class FunctionRate(RateFunction):
    """A user function `fn(V) -> rate` (held as static structure: it has no fittable
    parameters; write a `RateFunction` subclass with array fields for those)."""

    fn: Callable[[Array], Array] = eqx.field(static=True)

    def __call__(self, V: ArrayLike) -> Array:
        return self.fn(jnp.asarray(V))


@dataclasses.dataclass(frozen=True, eq=False)
class _Rate:
    """A rate written as text, generated: `fn(V, bound, *params) -> (rate,)`; the
    removable singularities made safe, as `points(*params) -> voltages`; the denominators
    built from the parameters alone, as `(text, function of the parameters)`."""

    fn: Callable[..., tuple[Any, ...]]
    points: Callable[..., tuple[Any, ...]]
    denominators: tuple[tuple[str, Callable[..., tuple[Any, ...]]], ...]


@functools.cache
def _compiled_rate(text: str, names: tuple[str, ...] = ()) -> _Rate:
    """The generated functions of a rate written as text in `V` and the parameters `names`
    (cached per text and names)."""
    import sympy as sp

    from ._codegen import compile_functions, make_safe, parse

    V = sp.Symbol("V", real=True)
    symbols = {"V": V, **{n: sp.Symbol(n, real=True) for n in names}}
    where = f"the rate `{text}`"

    def resolve(name: str):
        if name in symbols:
            return symbols[name]
        raise NameError(
            f"unknown identifier `{name}` in {where}: a parameter of the rate needs a value, "
            f"ExpressionRate(text, {name}=...)"
        )

    expr = parse(text, resolve, where)
    params = [symbols[n] for n in names]
    unused = sorted(str(p) for p in params if p not in expr.free_symbols)
    if unused:
        raise ValueError(f"ExpressionRate: parameter(s) {unused} do not appear in {where}")
    bound = sp.Symbol("series_bound", positive=True)
    safe, made = make_safe(expr, [V], bound)
    dens = {}
    for node in sp.preorder_traversal(expr):
        if node.is_Pow and node.exp.is_negative and node.base.free_symbols:  # pyright: ignore
            base: Any = node.base  # pyright: ignore[reportAttributeAccessIssue]
            if base.free_symbols <= set(params):
                dens[str(base)] = compile_functions(params, [base], numpy=True)
    return _Rate(
        fn=compile_functions([V, bound, *params], [safe]),
        points=compile_functions(params, [x0 for _, _, x0 in made], numpy=True),
        denominators=tuple(dens.items()),
    )


class ExpressionRate(RateFunction):
    r"""A rate written as text, in `V` (mV), numbers and named parameters, in 1/ms: e.g.
    HH's $\alpha_m$ as `"0.1*(V + 40)/(1 - exp(-(V + 40)/10))"`, or with its rate constants
    as parameters, `ExpressionRate("A*(V - V_h)/(1 - exp(-(V - V_h)/k))", A=0.1,
    V_h=-40.0, k=10.0)`.

    The text is read by `spikejax.models.from_equations`' expression reader (the same
    grammar and functions, no units). Every name other than `V` is a parameter and needs a
    value (a keyword argument; an unknown name without one is a `NameError` naming it). The
    parameters are fields of the rate (`rate.A`; in a `ConductanceModel` flat names such as
    `"Na.m.alpha.A"`), so `replace`, `jax.grad`, `vmap` and fitting reach them like the fields
    of `LinoidRate`. A removable singularity (a denominator with one real zero where the
    numerator vanishes too, such as $\alpha_m$ at $V = -40$, or at $V = V_h$ with
    parameters) is detected symbolically (sympy's `solveset` and `limit`) and replaced near
    its point by the term's Taylor series (degree 8) with the double-`where` idiom, so that
    values and gradients (in `V` and in the parameters) are finite and accurate there:
    `singular_points` lists the voltages handled. The text is static structure.

    **Raises:** `SyntaxError` or `NameError` (naming the term) for text outside the
    grammar; `ValueError` for a parameter that is not in the text, not finite, or that makes
    a denominator built from parameters alone zero (naming it).
    """

    text: str = eqx.field(static=True)
    parameters: dict[str, ArrayLike]

    def __init__(self, text: str, **parameters: ArrayLike):
        self.text = text
        self.parameters = dict(sorted(parameters.items()))

    def __check_init__(self):
        if not isinstance(self.text, str):
            raise TypeError(f"ExpressionRate.text must be a string, got {self.text!r}")
        for name, value in self.parameters.items():
            check_finite(f"ExpressionRate.{name}", value)
        rate = self._rate()
        values = tuple(self.parameters.values())
        if not all(is_concrete(v) for v in values):
            return
        for den, fn in rate.denominators:
            (value,) = fn(*[np.asarray(v, dtype=float) for v in values])
            if np.any(np.asarray(value) == 0):
                given = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
                raise ValueError(
                    f"ExpressionRate `{self.text}`: divides by `{den}`, which is 0 for "
                    f"{given}; choose values that make it nonzero"
                )

    def __getattr__(self, name: str):
        # `rate.A` is the parameter named "A".
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            params = object.__getattribute__(self, "parameters")
        except AttributeError:
            raise AttributeError(name) from None
        if name in params:
            return params[name]
        raise AttributeError(f"ExpressionRate has no attribute or parameter named {name!r}")

    def _rate(self) -> _Rate:
        return _compiled_rate(self.text, tuple(self.parameters))

    @property
    def singular_points(self) -> tuple[float, ...]:
        """The voltages (mV) of the removable singularities made safe (at the parameters'
        values; cells of an array-valued parameter: the first)."""
        values = [np.ravel(np.asarray(v, dtype=float))[0] for v in self.parameters.values()]
        return tuple(float(np.ravel(x)[0]) for x in self._rate().points(*values))

    def __call__(self, V: ArrayLike) -> Array:
        V = jnp.asarray(V, dtype=jnp.result_type(V, float))
        bound = series_bound(V.dtype, **SAFE_BOUNDS)
        (rate,) = self._rate().fn(V, bound, *self.parameters.values())
        return rate + jnp.zeros_like(V)


def _as_rate(name: str, r: RateFunction | Callable[[Array], Array] | str) -> RateFunction:
    if isinstance(r, RateFunction):
        return r
    if isinstance(r, str):
        return ExpressionRate(r)
    if callable(r):
        return FunctionRate(r)
    raise ValueError(
        f"{name} must be a RateFunction, a callable V -> rate or an expression string, got {r!r}"
    )


# ----- gates ----------------------------------------------------------------------------------


class Gate(eqx.Module):
    r"""Abstract gating variable $x \in [0, 1]$ with $\dot x = (x_\infty(V) - x)/\tau(V)$.

    Every gate has a `name` (its state-variable name) and an `instantaneous` flag: an
    instantaneous gate is always at steady state, $x = x_\infty(V)$, and is not a state
    variable (like $m$ of the persistent sodium current). Build gates with `Gate.boltzmann`
    (`BoltzmannGate`) or `Gate.alpha_beta` (`RateGate`).
    """

    # The state-variable name and the instantaneous flag (static fields of the subclasses).
    name: eqx.AbstractVar[str]
    instantaneous: eqx.AbstractVar[bool]

    @abc.abstractmethod
    def steady_state(self, V: ArrayLike) -> Array:
        r"""$x_\infty(V)$."""

    @abc.abstractmethod
    def time_constant(self, V: ArrayLike) -> Array:
        r"""$\tau(V)$ in ms."""

    def derivative(self, V: ArrayLike, x: ArrayLike) -> Array:
        r"""$\dot x = (x_\infty(V) - x) / \tau(V)$."""
        return (self.steady_state(V) - x) / self.time_constant(V)

    @staticmethod
    def boltzmann(
        name: str, V_half: ArrayLike, k: ArrayLike, tau: ArrayLike = 1.0, **kwargs: Any
    ) -> BoltzmannGate:
        """A `BoltzmannGate` (see there for the keyword arguments)."""
        return BoltzmannGate(name, V_half, k, tau, **kwargs)

    @staticmethod
    def alpha_beta(name: str, alpha, beta, *, instantaneous: bool = False) -> RateGate:
        """A `RateGate` with opening rate `alpha(V)` and closing rate `beta(V)` (1/ms)."""
        return RateGate(name, alpha, beta, instantaneous=instantaneous)


class BoltzmannGate(Gate):
    r"""Gate with a Boltzmann steady state and a constant or bell-shaped time constant.

    $$x_\infty(V) = \frac{1}{1 + e^{(V_{1/2} - V)/k}}, \qquad
    \tau(V) = \tau + \tau_\mathrm{amp}\, e^{-(V_\mathrm{max} - V)^2/\sigma^2}$$
    (Izhikevich 2007, eqs. 2.9-2.10). $k > 0$ gives an activation gate, $k < 0$ an
    inactivation gate. With `tau_amp = 0` (default) the time constant is the constant `tau`.

    **Arguments:** `name` (state name), `V_half` (mV), `k` (mV, nonzero), `tau` (ms, > 0;
    1), `tau_amp` (ms, >= 0; 0), `V_max` (mV; 0), `sigma` (mV, > 0; 1), keyword-only
    `instantaneous` (False).
    """

    name: str = eqx.field(static=True)
    V_half: ArrayLike
    k: ArrayLike
    tau: ArrayLike = 1.0
    tau_amp: ArrayLike = 0.0
    V_max: ArrayLike = 0.0
    sigma: ArrayLike = 1.0
    instantaneous: bool = eqx.field(static=True, default=False, kw_only=True)

    def __check_init__(self):
        n = f"BoltzmannGate({self.name!r})"
        check_finite(f"{n}.V_half", self.V_half)
        _check_nonzero(f"{n}.k", self.k)
        check_positive(f"{n}.tau", self.tau, "ms")
        check_nonnegative(f"{n}.tau_amp", self.tau_amp, "ms")
        check_finite(f"{n}.V_max", self.V_max)
        check_positive(f"{n}.sigma", self.sigma, "mV")

    def steady_state(self, V: ArrayLike) -> Array:
        return boltzmann(V, self.V_half, self.k)

    def time_constant(self, V: ArrayLike) -> Array:
        V = jnp.asarray(V)
        tau, tau_amp = jnp.asarray(self.tau), jnp.asarray(self.tau_amp)
        return tau + tau_amp * jnp.exp(-(((self.V_max - V) / self.sigma) ** 2))


class RateGate(Gate):
    r"""Gate with opening and closing rates (Hodgkin-Huxley form).

    $$\dot x = \alpha(V)(1 - x) - \beta(V)\, x, \quad x_\infty = \frac{\alpha}{\alpha + \beta},
    \quad \tau = \frac{1}{\alpha + \beta}$$
    `alpha` and `beta` are `RateFunction`s (`ExpRate`, `SigmoidRate`, `LinoidRate`: their
    fields are fittable), plain callables `V -> rate` (1/ms; held as static structure) or
    expressions in `V` as text (`ExpressionRate`, removable singularities made safe).
    """

    name: str = eqx.field(static=True)
    alpha: RateFunction
    beta: RateFunction
    instantaneous: bool = eqx.field(static=True, default=False, kw_only=True)

    def __init__(self, name: str, alpha, beta, *, instantaneous: bool = False):
        self.name = name
        self.alpha = _as_rate(f"RateGate({name!r}).alpha", alpha)
        self.beta = _as_rate(f"RateGate({name!r}).beta", beta)
        self.instantaneous = instantaneous

    def steady_state(self, V: ArrayLike) -> Array:
        a = self.alpha(V)
        return a / (a + self.beta(V))

    def time_constant(self, V: ArrayLike) -> Array:
        return 1.0 / (self.alpha(V) + self.beta(V))

    def derivative(self, V: ArrayLike, x: ArrayLike) -> Array:
        return self.alpha(V) * (1.0 - x) - self.beta(V) * x


def _named_child(obj, name: str, field: str):
    """`obj.<field>`'s element called `name` (for attribute access like `model.Na.m`)."""
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        children = object.__getattribute__(obj, field)
    except AttributeError:
        raise AttributeError(name) from None
    for c in children:
        if getattr(c, "name", None) == name:
            return c
    raise AttributeError(f"{type(obj).__name__} has no attribute or {field[:-1]} named {name!r}")


# ----- ion currents ---------------------------------------------------------------------------


class IonCurrent(eqx.Module):
    r"""An ionic current $I = \bar g \prod_j x_j^{p_j} (V - E)$ (uA/cm^2, outward positive).

    **Arguments:** `name` (e.g. `"Na"`; the current is reported as `"INa"`), `g_max`
    (maximal conductance, mS/cm^2, >= 0), `E_rev` (reversal potential, mV), `gates`: a
    sequence of `Gate`s or `(Gate, exponent)` pairs, e.g. `[(m, 3), h]` for $m^3 h$.
    """

    name: str = eqx.field(static=True)
    g_max: ArrayLike
    E_rev: ArrayLike
    gates: tuple[Gate, ...]
    exponents: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, name: str, g_max, E_rev, gates=()):
        gs, ps = [], []
        for item in gates:
            gate, p = item if isinstance(item, tuple) else (item, 1)
            if not isinstance(gate, Gate):
                raise ValueError(f"IonCurrent({name!r}).gates must hold Gates, got {gate!r}")
            if isinstance(p, bool) or not isinstance(p, int) or p < 1:
                raise ValueError(
                    f"IonCurrent({name!r}): exponent of gate {gate.name!r} must be an int >= 1, "
                    f"got {p!r}"
                )
            gs.append(gate)
            ps.append(p)
        self.name = name
        self.g_max = g_max
        self.E_rev = E_rev
        self.gates = tuple(gs)
        self.exponents = tuple(ps)

    def __getattr__(self, name: str):
        # `current.m` is the gate named "m".
        return _named_child(self, name, "gates")

    def __check_init__(self):
        check_nonnegative(f"IonCurrent({self.name!r}).g_max", self.g_max, "mS/cm^2")
        check_finite(f"IonCurrent({self.name!r}).E_rev", self.E_rev)

    def conductance(self, gate_values: dict[str, Array]) -> Array:
        r"""$\bar g \prod_j x_j^{p_j}$ (mS/cm^2) for gate values keyed by gate name."""
        g = jnp.asarray(self.g_max)
        for gate, p in zip(self.gates, self.exponents):
            g = g * gate_values[gate.name] ** p
        return g

    def current(self, V: ArrayLike, gate_values: dict[str, Array]) -> Array:
        """The current (uA/cm^2, outward positive) at `V` for the given gate values."""
        return self.conductance(gate_values) * (jnp.asarray(V) - self.E_rev)


# ----- parameter paths (flat names like "Na.g_max", "Na.m.V_half") ------------------------------


def _flat_parameters(obj, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if f.metadata.get("static", False):
            continue
        value = getattr(obj, f.name)
        if isinstance(value, tuple):  # named children (currents, gates)
            for child in value:
                out.update(_flat_parameters(child, f"{prefix}{child.name}."))
        elif isinstance(value, eqx.Module):
            out.update(_flat_parameters(value, f"{prefix}{f.name}."))
        elif isinstance(value, dict):  # named parameters (ExpressionRate)
            out.update({prefix + k: v for k, v in value.items()})
        else:
            out[prefix + f.name] = value
    return out


def _child(obj, part: str):
    """Field `part` of `obj`, or the element named `part` of one of its tuple fields."""
    names = {f.name for f in dataclasses.fields(obj)}
    if part in names:
        return getattr(obj, part)
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, tuple):
            for c in value:
                if getattr(c, "name", None) == part:
                    return c
        if isinstance(value, dict) and part in value:
            return value[part]
    raise KeyError(part)


def _getter(path: str):
    parts = path.split(".")

    def get(obj):
        for part in parts:
            obj = _child(obj, part)
        return obj

    return get


# ----- the model --------------------------------------------------------------------------------


@final
class ConductanceModel(NeuronModel):
    r"""A single-compartment conductance-based model assembled from ion currents.

    $$C \dot V = I - g_L (V - E_L) - \sum_k \bar g_k \prod_j x_{kj}^{p_{kj}} (V - E_k), \qquad
    \dot x = (x_\infty(V) - x)/\tau(V)$$
    for each gate $x$ that is not instantaneous (instantaneous gates are $x_\infty(V)$).

    **Arguments:** `currents` (sequence of `IonCurrent`), `C` (uF/cm^2, > 0; 1), `gL`
    (leak conductance, mS/cm^2, >= 0; 0), `EL` (leak reversal, mV; -65).

    **State:** `"V"` (mV) followed by the names of the non-instantaneous gates, in the order
    they first appear. **Input:** `I` (uA/cm^2). Spikes are upward crossings of 0 mV.

    Parameters are leaves of the pytree (jit/vmap/grad work through them) and have flat
    names: `"C"`, `"gL"`, `"EL"`, `"<current>.g_max"`, `"<current>.E_rev"` and
    `"<current>.<gate>.<field>"` (e.g. `"Na.m.alpha.A"`); `model.parameters()` lists them and
    `model.replace(**{"Na.g_max": 100.0})` changes them. Currents and gates are also reachable
    as attributes by name: `model.Na.g_max`, `model.Na.m.alpha.A`.

    Example (Hodgkin-Huxley potassium current):

        n = Gate.alpha_beta("n", LinoidRate(0.01, -55.0, 10.0), ExpRate(0.125, -65.0, -80.0))
        model = ConductanceModel([IonCurrent("K", 36.0, -77.0, [(n, 4)])], gL=0.3, EL=-54.4)
    """

    currents: tuple[IonCurrent, ...]
    C: ArrayLike = 1.0
    gL: ArrayLike = 0.0
    EL: ArrayLike = -65.0

    current_unit: ClassVar[str] = "uA/cm^2"

    def __init__(
        self,
        currents: Iterable[IonCurrent] = (),
        C: ArrayLike = 1.0,
        gL: ArrayLike = 0.0,
        EL: ArrayLike = -65.0,
    ):
        self.currents = tuple(currents)
        self.C = C
        self.gL = gL
        self.EL = EL

    def __getattr__(self, name: str):
        # `model.Na` is the current named "Na" (so `model.Na.m.alpha.A` reaches a parameter).
        return _named_child(self, name, "currents")

    def __check_init__(self):
        check_positive("ConductanceModel.C", self.C, "uF/cm^2")
        check_nonnegative("ConductanceModel.gL", self.gL, "mS/cm^2")
        check_finite("ConductanceModel.EL", self.EL)
        seen_gates: dict[str, Gate] = {}
        current_names = set()
        for cur in self.currents:
            if not isinstance(cur, IonCurrent):
                raise ValueError(f"ConductanceModel.currents must hold IonCurrents, got {cur!r}")
            if cur.name in current_names:
                raise ValueError(f"ConductanceModel: duplicate current name {cur.name!r}")
            current_names.add(cur.name)
            for gate in cur.gates:
                if gate.name in seen_gates and seen_gates[gate.name] is not gate:
                    raise ValueError(
                        f"ConductanceModel: two different gates are named {gate.name!r}; "
                        "gate names must be unique (they name state variables)"
                    )
                seen_gates[gate.name] = gate
        fields = {"currents", "C", "gL", "EL", "g_max", "E_rev", "gates", "exponents"}
        clash = sorted(current_names & fields)
        if clash:
            raise ValueError(f"ConductanceModel: current name(s) {clash} are reserved")
        clash = sorted(set(seen_gates) & (fields | current_names | {"V"}))
        if clash:
            raise ValueError(
                f"ConductanceModel: gate name(s) {clash} clash with 'V', a parameter name "
                "or a current name"
            )

    # ----- structure --------------------------------------------------------------------------
    @property
    def gates(self) -> tuple[Gate, ...]:
        """All distinct gates, in order of first appearance."""
        out: dict[str, Gate] = {}
        for cur in self.currents:
            for gate in cur.gates:
                out.setdefault(gate.name, gate)
        return tuple(out.values())

    @property
    def state_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("V",) + tuple(g.name for g in self.gates if not g.instantaneous)

    def parameters(self) -> dict[str, Any]:
        """Flat name -> value dict of all parameters (see the class docstring)."""
        return _flat_parameters(self, "")

    def replace(self, **changes: Any) -> ConductanceModel:
        """A copy with some parameters (flat names) changed; unknown names raise `ValueError`."""
        known = self.parameters()
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} has no parameter(s) {unknown}; known: {sorted(known)}"
            )
        out = self
        for name, value in changes.items():
            out = eqx.tree_at(_getter(name), out, value)
        # tree_at bypasses __init__: re-run the checks on the new values.
        for cls in type(out).__mro__:
            check = cls.__dict__.get("__check_init__")
            if check is not None:
                check(out)
        for child in _modules(out):
            for cls in type(child).__mro__:
                check = cls.__dict__.get("__check_init__")
                if check is not None:
                    check(child)
        return out

    # ----- pieces -----------------------------------------------------------------------------
    def gate_values(self, y: State) -> dict[str, Array]:
        """Values of all gates in state `y` (instantaneous gates at $x_\\infty(V)$)."""
        V = y["V"]
        return {g.name: g.steady_state(V) if g.instantaneous else y[g.name] for g in self.gates}

    def steady_state_gates(self, V: ArrayLike) -> dict[str, Array]:
        r"""$x_\infty(V)$ of every gate."""
        return {g.name: g.steady_state(V) for g in self.gates}

    def time_constants(self, V: ArrayLike) -> dict[str, Array]:
        r"""$\tau(V)$ (ms) of every gate (instantaneous ones included, for plots)."""
        return {g.name: g.time_constant(V) for g in self.gates}

    def currents_at(self, V: ArrayLike, gate_values: dict[str, Array]) -> dict[str, Array]:
        """Each ionic current `I<name>` and the leak `IL` (uA/cm^2, outward positive)."""
        out = {f"I{c.name}": c.current(V, gate_values) for c in self.currents}
        out["IL"] = jnp.asarray(self.gL) * (jnp.asarray(V) - self.EL)
        return out

    def ionic_currents(self, y: State) -> dict[str, Array]:
        """The currents `I<name>` and `IL` (uA/cm^2, outward positive) in state `y`."""
        return self.currents_at(y["V"], self.gate_values(y))

    def steady_state_current(self, V: ArrayLike) -> Array:
        r"""Net ionic current with every gate at steady state, $I_\infty(V)$ (uA/cm^2).

        The equilibria under constant input $I$ are the solutions of $I_\infty(V) = I$.
        """
        V = jnp.asarray(V, dtype=jnp.result_type(float))
        c = self.currents_at(V, self.steady_state_gates(V))
        return sum(c.values(), jnp.zeros_like(V))

    # ----- the model contract -----------------------------------------------------------------
    def vector_field(self, t, y: State, args) -> State:
        I = input_current(args)
        V = y["V"]
        x = self.gate_values(y)
        c = self.currents_at(V, x)
        dV = (I - sum(c.values(), jnp.zeros_like(V))) / self.C
        out = {"V": dV}
        for g in self.gates:
            if not g.instantaneous:
                out[g.name] = g.derivative(V, y[g.name])
        return out

    def equilibrium(self, I: ArrayLike = 0.0, *, V_guess: ArrayLike | None = None) -> State:
        r"""An equilibrium under constant input `I`: the root of $I_\infty(V) = I$ found by
        Newton's method (`solve_voltage`) from `V_guess` (default `EL`), with gates at steady
        state.

        Models with several equilibria (bistable ones) give the one Newton reaches from
        `V_guess`; check with `vector_field` when it matters.
        """
        V0 = self.EL if V_guess is None else V_guess
        shape = jnp.broadcast_shapes(self.shape, jnp.shape(I), jnp.shape(V0))
        V = solve_voltage(steady_state_residual, fill(V0, shape), (self, I))
        x = self.steady_state_gates(V)
        return {"V": V, **{g.name: x[g.name] for g in self.gates if not g.instantaneous}}

    def resting_state(self) -> State:
        """The equilibrium at $I = 0$ reached from `V = EL` (see `equilibrium`)."""
        return self.equilibrium(0.0)


def _modules(obj) -> list[eqx.Module]:
    """All eqx.Module descendants of `obj` (not `obj` itself)."""
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        children = value if isinstance(value, tuple) else (value,)
        for c in children:
            if isinstance(c, eqx.Module):
                out.append(c)
                out.extend(_modules(c))
    return out
