"""Time-stepping algorithms as objects: fixed-step schemes and the adaptive wrapper.

Every fixed-step scheme is a final `equinox.Module` with an `order` (its global convergence
order, which the convergence-order test loops over) and a `step(model, t, y, I, dt)` method
that advances the state dict `y` of `model` by `dt` under the input current `I` held over the
step. A scheme only integrates: `post_step`, spike detection and reset belong to
`spikejax.solvers.advance`, which every engine calls.

`Adaptive` holds a diffrax solver and its tolerances; its defaults depend on the floating
point type, because a tolerance below the type's resolution can never be met.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from jaxtyping import Array, ArrayLike

from .._validation import check_positive

__all__ = [
    "AbstractScheme",
    "Adaptive",
    "Euler",
    "ExactLinear",
    "ExponentialEuler",
    "RK4",
    "SCHEMES",
    "SplitEuler",
    "default_tolerances",
    "exponential_euler_step",
    "get_scheme",
    "phi1",
]

State = dict[str, Array]


def _axpy(y: State, dt, k: State) -> State:
    return {name: y[name] + dt * k[name] for name in y}


class AbstractScheme(eqx.Module):
    """A fixed-step integration scheme.

    Subclasses set the class variables `order` (global convergence order) and `name` (the
    string accepted by `get_scheme`) and implement `step`.
    """

    order: ClassVar[int]
    name: ClassVar[str]

    @abc.abstractmethod
    def step(self, model: Any, t: ArrayLike, y: State, I: ArrayLike, dt: ArrayLike) -> State:
        """The state after one step of `dt` from `(t, y)` with the current `I` held.

        **Arguments:**

        - `model`: an object with `vector_field(t, y, I)` (a `NeuronModel`).
        - `t`: the time at the start of the step (ms).
        - `y`: the state dict.
        - `I`: the input current over the step.
        - `dt`: the step (ms).

        **Returns:** the new state dict.
        """


class Euler(AbstractScheme):
    r"""Forward Euler: $y_{n+1} = y_n + \Delta t\, f(t_n, y_n)$ (order 1)."""

    order: ClassVar[int] = 1
    name: ClassVar[str] = "euler"

    def step(self, model, t, y, I, dt):
        return _axpy(y, dt, model.vector_field(t, y, I))


class RK4(AbstractScheme):
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


def phi1(z: ArrayLike, xp: Any = jnp) -> Array:
    """$(e^z - 1)/z$ with the removable singularity at 0 handled (values and gradients).

    The series branch $1 + z/2 + z^2/6$ is used for $|z| < 10^{-6}$, where its truncation
    error $z^3/24$ is below float64 resolution. `xp`: the array module (`jax.numpy`, or
    `numpy` for float64 constants computed on the host).
    """
    z = xp.asarray(z)
    small = xp.abs(z) < 1e-6
    z_safe = xp.where(small, 1.0, z)
    return xp.where(small, 1.0 + z / 2 + z * z / 6, xp.expm1(z_safe) / z_safe)


class ExponentialEuler(AbstractScheme):
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


def exponential_euler_step(model: Any, t: ArrayLike, y: State, I: ArrayLike, dt: ArrayLike):
    r"""The generic exponential Euler step $x_i + \Delta t\,\varphi_1(a_i \Delta t) f_i(x)$.

    `ExponentialEuler` uses a model's own `exponential_euler_step(t, y, I, dt)` instead when
    the model defines one and it returns a state (not None); this is the fallback, and the
    reference the fused steps are tested against.
    """
    fy = model.vector_field(t, y, I)
    a = model.diagonal_jacobian(t, y, I)
    return {name: y[name] + dt * phi1(a[name] * dt) * fy[name] for name in y}


class ExactLinear(AbstractScheme):
    r"""Exact for linear systems: $x \leftarrow x + \Delta t\,\varphi_1(J \Delta t)\, f(x)$
    with the full Jacobian $J = \partial f/\partial x$ of each cell (Brian2's `exact`).

    For a vector field that is affine in the state, $f(x) = J x + b$ with $J$ and $b$
    constant over the step (the input current is held), this is the exact solution
    $x(t + \Delta t) = e^{J \Delta t} x + \int_0^{\Delta t} e^{J s} ds\, b$, computed as one
    matrix exponential of the augmented matrix $[[J, f], [0, 0]]\,\Delta t$ (Van Loan 1978),
    so a singular $J$ (an integrator, a clock) needs no special case. For a nonlinear vector
    field it is the exponential Rosenbrock-Euler method (Hochbruck, Ostermann & Schweitzer
    2009), order 2. The Jacobian takes one forward-mode derivative per state variable (cells
    are independent), and each cell one $(n+1) \times (n+1)$ matrix exponential
    (`jax.scipy.linalg.expm`).
    """

    order: ClassVar[int] = 2
    name: ClassVar[str] = "exact"

    def step(self, model, t, y, I, dt):
        # A model whose linear system is decoupled (diagonal Jacobian) may provide the same
        # exact update with one exponential per variable instead of a matrix exponential.
        fused = getattr(model, "exact_linear_step", None)
        if fused is not None:
            y1 = fused(t, y, I, dt)
            if y1 is not None:
                return y1
        names = list(y)

        def f(state):
            out = model.vector_field(t, state, I)
            return jnp.stack(jnp.broadcast_arrays(*[out[n] for n in names]), axis=-1)

        fx = f(y)
        cols = []
        for name in names:
            tangent = {n: (jnp.ones_like(y[n]) if n == name else jnp.zeros_like(y[n])) for n in y}
            cols.append(jax.jvp(f, (y,), (tangent,))[1])
        J = jnp.stack(cols, axis=-1)  # (..., n, n): J[..., i, j] = df_i/dx_j
        n = len(names)
        dt = jnp.asarray(dt, dtype=fx.dtype)
        top = jnp.concatenate([J * dt, (fx * dt)[..., None]], axis=-1)
        M = jnp.concatenate([top, jnp.zeros_like(top[..., :1, :])], axis=-2)
        expm = jnp.vectorize(jsl.expm, signature="(m,m)->(m,m)")
        inc = expm(M)[..., :n, n]
        return {
            name: (y[name] + inc[..., i]).astype(jnp.result_type(y[name]))
            for i, name in enumerate(names)
        }


class SplitEuler(AbstractScheme):
    r"""Izhikevich's update (2003, `net.m`; 2004, `figure1.m`): explicit Euler for the
    membrane potential in `voltage_substeps` sub-steps of $\Delta t / n$ with every other
    variable frozen, then one explicit Euler step of $\Delta t$ for the other variables
    evaluated at the **new** potential (order 1):
    $$v \leftarrow v + \tfrac{\Delta t}{n} f_v(v, u, I)\ (n\text{ times}),\qquad
      u \leftarrow u + \Delta t\, f_u(v, u).$$
    `SplitEuler(2)` at $\Delta t = 1$ ms is the 2003 network's scheme ("two 0.5 ms steps for
    $v$ for numerical stability", one 1 ms step for $u$); `SplitEuler(1)` is the scheme of
    the 2004 paper's figure script. The voltage is the model's `voltage_name`.

    **Arguments:** `voltage_substeps`: the number $n \ge 1$ of voltage sub-steps.
    """

    voltage_substeps: int = eqx.field(default=2, static=True)

    order: ClassVar[int] = 1
    name: ClassVar[str] = "split_euler"

    def __check_init__(self):
        n = self.voltage_substeps
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"SplitEuler.voltage_substeps must be an integer >= 1, got {n!r}")

    def step(self, model, t, y, I, dt):
        vname = model.voltage_name
        n = int(self.voltage_substeps)
        h = dt / n
        y = dict(y)
        for j in range(n):
            y[vname] = y[vname] + h * model.vector_field(t + j * h, y, I)[vname]
        f = model.vector_field(t, y, I)
        return {k: v if k == vname else v + dt * f[k] for k, v in y.items()}


#: The built-in fixed-step schemes by name (the strings `method=` accepts, besides `"auto"`).
SCHEMES: dict[str, AbstractScheme] = {
    s.name: s for s in (Euler(), RK4(), ExponentialEuler(), ExactLinear())
}

#: The method name that asks the model for its scheme (`NeuronModel.default_scheme`).
AUTO = "auto"


def get_scheme(
    method: str | AbstractScheme,
    model: Any = None,
    *,
    default: str | AbstractScheme = "rk4",
) -> AbstractScheme:
    """A fixed-step scheme from its name, itself, or `"auto"`: the model's own choice.

    This is the one place where every engine (`spikejax.simulate`,
    `spikejax.fit.solve_fixed`, network populations) turns its `method=` into a scheme.
    `"auto"` takes `model.default_scheme` (an equation-defined model's scheme, e.g.
    `ExactLinear` for linear equations); a model without a preference (None, every
    built-in model) gets the engine's `default`, so `"auto"` reproduces the engine's
    historical default for the built-in models bit for bit.

    **Arguments:**

    - `method`: `"auto"`, `"euler"`, `"rk4"`, `"exponential_euler"`, `"exact"`, or a scheme
      object (returned as it is).
    - `model`: the model to be stepped (needed for `"auto"`).
    - `default`: the engine's scheme for a model without a preference (not `"auto"`).

    **Returns:** the scheme object.

    **Raises:** `ValueError` naming the allowed names for any other `method`, for `"auto"`
    without a model, or for a model whose `default_scheme` is not a scheme.
    """
    if isinstance(method, AbstractScheme):
        return method
    if isinstance(method, str) and method == AUTO:
        if model is None:
            raise ValueError(
                "method='auto' takes the model's own scheme (model.default_scheme): pass the "
                "model, get_scheme('auto', model)"
            )
        preferred = getattr(model, "default_scheme", None)
        if preferred is None:
            if isinstance(default, str) and default == AUTO:
                raise ValueError("get_scheme: default must name a scheme, not 'auto'")
            return get_scheme(default)
        if not isinstance(preferred, AbstractScheme):
            raise ValueError(
                f"{type(model).__name__}.default_scheme must be a spikejax.solvers scheme "
                f"object or None, got {preferred!r}"
            )
        return preferred
    if not isinstance(method, str) or method not in SCHEMES:
        raise ValueError(
            f"method must be one of {[AUTO, *sorted(SCHEMES)]} or a spikejax.solvers scheme "
            f"object, got {method!r}"
        )
    return SCHEMES[method]


def default_tolerances(dtype: Any) -> tuple[float, float]:
    """`(rtol, atol)` defaults for adaptive solves in `dtype`.

    float64: `(1e-8, 1e-10)`. float32: `(1e-5, 1e-6)`, about 100 units of float32's
    resolution (1.2e-7), the tightest a float32 error estimate can meet reliably.
    """
    eps = float(np.finfo(np.dtype(dtype)).eps)
    if eps < 1e-10:
        return 1e-8, 1e-10
    return 1e-5, 1e-6


def _check_tolerance(name: str, value: float | None, dtype: Any) -> None:
    if value is None:
        return
    eps = float(np.finfo(np.dtype(dtype)).eps)
    if not (value > 0) or not np.isfinite(value):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    if name == "rtol" and value < 10 * eps:
        raise ValueError(
            f"rtol={value!r} is below what {np.dtype(dtype).name} can resolve (>= {10 * eps:.1e}); "
            + (
                "loosen rtol"
                if eps < 1e-10
                else "enable float64 (jax.config.update('jax_enable_x64', True)) or loosen rtol"
            )
        )


class Adaptive(eqx.Module):
    """An adaptive diffrax solver with its tolerances (`rtol`, `atol`; None: dtype defaults).

    **Arguments:**

    - `solver`: any `diffrax.AbstractSolver` (default `diffrax.Tsit5()`).
    - `rtol`, `atol`: error tolerances; None takes `default_tolerances(dtype)` at solve time.
    - `dt0`: the first step (ms); None lets diffrax choose.
    - `max_steps`: the most steps per solve.
    """

    solver: diffrax.AbstractSolver = eqx.field(default_factory=diffrax.Tsit5)
    rtol: float | None = None
    atol: float | None = None
    dt0: float | None = None
    max_steps: int = 1_000_000

    def __check_init__(self):
        if not isinstance(self.solver, diffrax.AbstractSolver):
            raise TypeError(
                f"Adaptive.solver must be a diffrax.AbstractSolver (e.g. diffrax.Tsit5()), "
                f"got {self.solver!r}"
            )
        for name in ("rtol", "atol", "dt0"):
            value = getattr(self, name)
            if value is not None:
                check_positive(f"Adaptive.{name}", value, "ms" if name == "dt0" else "")
        m = self.max_steps
        if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 1:
            raise ValueError(f"Adaptive.max_steps must be an integer >= 1, got {m!r}")

    @property
    def order(self) -> int:
        """The order of the wrapped solver (of its ODE term)."""
        return int(self.solver.order(diffrax.ODETerm(lambda t, y, a: y)))  # type: ignore[arg-type]

    def tolerances(self, dtype: Any) -> tuple[float, float]:
        """`(rtol, atol)` for a solve in `dtype`.

        **Raises:** `ValueError` if `rtol` is below what `dtype` resolves.
        """
        rtol0, atol0 = default_tolerances(dtype)
        rtol = rtol0 if self.rtol is None else float(self.rtol)
        atol = atol0 if self.atol is None else float(self.atol)
        _check_tolerance("rtol", rtol, dtype)
        _check_tolerance("atol", atol, dtype)
        return rtol, atol
