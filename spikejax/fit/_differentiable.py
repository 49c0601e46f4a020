r"""Differentiable simulation: fixed-step scans, adaptive diffrax solves, event-located spikes.

Three routes, each differentiable with respect to every array field of the model (and the
input):

* `solve_fixed` -- a fixed-step `lax.scan` (Euler, RK4, exponential Euler). Hybrid models
  reset with the surrogate-friendly rule $y \leftarrow (1 - s)\,y + s\,\mathrm{reset}(y)$,
  $s = \mathrm{spike\_fn}(\mathrm{threshold\_distance}(y))$, so a surrogate `spike_fn`
  carries gradients through spike generation while the forward pass stays exact. With
  `checkpoint_every=k` the scan is nested (outer over segments of `k` steps, inner
  `jax.checkpoint`-ed), so the backward pass stores one state per segment plus one segment's
  intermediates: memory $O(n/k + k)$ instead of $O(n)$.
* `solve_adaptive` -- an adaptive diffrax solve (continuous models such as HH) with
  `RecursiveCheckpointAdjoint` (binomial checkpointing, bounded number of checkpoints).
* `event_spike_times` -- spike times of hybrid models located by a diffrax `Event` (root
  finding on `threshold_distance`), differentiated by the implicit function theorem:
  for $g(y(t^*;\theta);\theta) = 0$,
  $$\frac{dt^*}{d\theta} = -\frac{\partial g/\partial\theta}{dg/dt}, \qquad
  \frac{dg}{dt} = \nabla_y g \cdot f(t^*, y^*).$$
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, ArrayLike

from ..solvers._schemes import AbstractScheme, get_scheme
from ..models._base import NeuronModel, State
from ..surrogate import Heaviside, SpikeFunction

__all__ = [
    "FixedStepSolution",
    "SpikeTimes",
    "event_spike_times",
    "scan_checkpointed",
    "solve_adaptive",
    "solve_fixed",
]


def _check_int(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (value >= lo):
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return value


def _check_pos(name: str, value: Any) -> None:
    try:
        v = float(value)
    except (TypeError, jax.errors.ConcretizationTypeError):
        return  # traced: checked at the concrete outer call
    if not (v > 0) or v == float("inf"):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


# ----- checkpointed scan --------------------------------------------------------------------


def scan_checkpointed(
    step: Callable[[Any, Any], tuple[Any, Any]],
    carry: Any,
    xs: Any,
    *,
    length: int,
    checkpoint_every: int | None = None,
) -> tuple[Any, Any]:
    """`lax.scan(step, carry, xs, length)` with segment-wise `jax.checkpoint`.

    With `checkpoint_every=k` the first `(length // k) * k` steps run as an outer scan over
    segments whose inner `k`-step scan is wrapped in `jax.checkpoint`: reverse-mode AD stores
    only the carry at segment boundaries and recomputes each segment's intermediates during
    the backward pass (memory $O(\\mathrm{length}/k + k)$ per carried state, at the cost of one
    extra forward pass). A remainder of `length % k` steps runs unsegmented. `xs` is a pytree
    of arrays with leading axis `length` (or None). Outputs are stacked as by `lax.scan`.
    """
    _check_int("length", length, 0)
    if checkpoint_every is None or checkpoint_every >= length:
        return jax.lax.scan(step, carry, xs, length=length)
    k = _check_int("checkpoint_every", checkpoint_every, 1)
    n_seg, rem = divmod(length, k)

    def split(a):
        main = a[: n_seg * k].reshape((n_seg, k) + a.shape[1:])
        return main, a[n_seg * k :]

    leaves, treedef = jax.tree_util.tree_flatten(xs)
    parts = [split(a) for a in leaves]
    xs_main = jax.tree_util.tree_unflatten(treedef, [p[0] for p in parts])
    xs_rem = jax.tree_util.tree_unflatten(treedef, [p[1] for p in parts])

    @jax.checkpoint
    def segment(c, x):
        return jax.lax.scan(step, c, x, length=k)

    carry, out = jax.lax.scan(segment, carry, xs_main, length=n_seg)
    out = jax.tree_util.tree_map(lambda a: a.reshape((n_seg * k,) + a.shape[2:]), out)
    if rem:
        carry, out_rem = jax.lax.scan(step, carry, xs_rem, length=rem)
        out = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), out, out_rem)
    return carry, out


# ----- fixed-step differentiable simulation --------------------------------------------------


class FixedStepSolution(eqx.Module):
    """Result of `solve_fixed`.

    **Fields:** `ts` (times after each step, $t_0 + (k+1)\\Delta t$, shape `(n_steps,)`),
    `ys` (the `observe` outputs stacked along a leading axis of length `n_steps`, or summed
    over steps when `accumulate=True`), `final_state` (the state dict after the last step).
    """

    ts: Array
    ys: Any
    final_state: State


def _default_observe(model: NeuronModel):
    vname = model.voltage_name

    def observe(t, y, spikes, data):
        return {vname: y[vname], "spikes": spikes}

    return observe


def _stimulus_parts(stimulus, n_steps):
    """(per-step array or None, callable-or-constant)."""
    if stimulus is None:
        return None, 0.0
    if callable(stimulus):
        return None, stimulus
    arr = jnp.asarray(stimulus)
    if arr.ndim == 0:
        return None, arr
    if arr.shape[0] != n_steps:
        raise ValueError(
            f"stimulus array must have leading axis n_steps={n_steps} (one input per step), "
            f"got shape {arr.shape}; pass a callable I(t) for a constant population input"
        )
    return arr, None


def solve_fixed(
    model: NeuronModel,
    y0: State,
    stimulus: Callable[[Array], ArrayLike] | ArrayLike | None = None,
    *,
    dt: float,
    n_steps: int,
    t0: float = 0.0,
    method: str | AbstractScheme = "rk4",
    spike_fn: SpikeFunction = Heaviside(),  # noqa: B008  (immutable module)
    checkpoint_every: int | None = None,
    observe: Callable[..., Any] | None = None,
    data: Any = None,
    accumulate: bool = False,
    detach_reset: bool = False,
) -> FixedStepSolution:
    r"""Differentiable fixed-step simulation of `model` from `y0`.

    Each step (time $t_k = t_0 + k\Delta t$ from the integer step count):
    `y = scheme.step(model, t_k, y, I_k, dt)`, `y = model.post_step(y, dt)`, then for hybrid
    models $s = \mathrm{spike\_fn}(\mathrm{threshold\_distance}(y))$ and
    $y \leftarrow (1-s)\,y + s\,\mathrm{reset}(y)$; for continuous models $s$ marks upward
    crossings of `spike_detection_threshold` (`spike_fn` of the voltage distance, gated by
    the previous step being below threshold).

    **Arguments:**
    - `stimulus`: the input current: None (zero), a scalar, a callable `I(t)`, or an array
      with leading axis `n_steps` (the input held over step k).
    - `dt` (ms, > 0), `n_steps` (>= 0), `t0`, `method` (`"euler"`, `"rk4"`,
      `"exponential_euler"` or a scheme object).
    - `spike_fn`: a `spikejax.surrogate` spike function (default exact `Heaviside`, no
      gradient through the threshold).
    - `checkpoint_every`: segment length for `jax.checkpoint` (None: no checkpointing).
    - `observe(t, y, spikes, data_k)`: what to record after each step (default: voltage and
      spikes); `data` is a pytree of per-step arrays (leading axis `n_steps`) handed to it,
      e.g. a target trace; with `accumulate=True` the outputs are summed over steps instead of
      stacked (constant memory, e.g. for a running loss).
    - `detach_reset`: stop the surrogate gradient through the reset (use
      $\mathrm{sg}[s]$ in the reset rule; the emitted spikes keep their surrogate gradient).
      Often better-behaved for rate losses (Zenke & Vogels 2021, Neural Comput 33:899).

    **Returns:** a `FixedStepSolution`.
    """
    _check_int("n_steps", n_steps, 0)
    _check_pos("dt", dt)
    scheme = get_scheme(method)
    if not isinstance(spike_fn, SpikeFunction):
        raise ValueError(f"spike_fn must be a spikejax.surrogate.SpikeFunction, got {spike_fn!r}")
    per_step, const = _stimulus_parts(stimulus, n_steps)
    observe = _default_observe(model) if observe is None else observe
    vname = model.voltage_name
    thr = model.spike_detection_threshold
    dtype = jnp.result_type(float)
    y0 = {k: jnp.asarray(v, dtype=dtype) for k, v in y0.items()}
    dt_arr = jnp.asarray(dt, dtype=dtype)
    t0_arr = jnp.asarray(t0, dtype=dtype)

    def advance(y, k, I_k):
        t = t0_arr + k * dt_arr
        if I_k is None:
            I_k = const(t) if callable(const) else const
        y_new = scheme.step(model, t, y, I_k, dt_arr)
        y_new = model.post_step(y_new, dt_arr)
        if model.is_hybrid:
            s = spike_fn(model.threshold_distance(y_new))
            r = model.reset(y_new)
            sr = jax.lax.stop_gradient(s) if detach_reset else s
            y_new = {n: (1.0 - sr) * y_new[n] + sr * r[n] for n in y_new}
        else:
            below = jax.lax.stop_gradient((y[vname] < thr).astype(dtype))
            s = spike_fn(y_new[vname] - thr) * below
        return y_new, s, t + dt_arr

    ks = jnp.arange(n_steps)
    xs = (ks, per_step, data)

    if accumulate:
        y_s, s_s, t_s = jax.eval_shape(
            lambda y: advance(
                y, ks[0] if n_steps else 0, None if per_step is None else per_step[0]
            ),
            y0,
        )
        d_s = None if data is None else jax.tree_util.tree_map(lambda a: a[0], data)
        acc_shape = jax.eval_shape(observe, t_s, y_s, s_s, d_s)
        acc0 = jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), acc_shape)

        def step(carry, x):
            y, acc = carry
            k, I_k, d_k = x
            y, s, t = advance(y, k, I_k)
            obs = observe(t, y, s, d_k)
            return (y, jax.tree_util.tree_map(jnp.add, acc, obs)), None

        (y_final, ys), _ = scan_checkpointed(
            step, (y0, acc0), xs, length=n_steps, checkpoint_every=checkpoint_every
        )
    else:

        def step(y, x):
            k, I_k, d_k = x
            y, s, t = advance(y, k, I_k)
            return y, observe(t, y, s, d_k)

        y_final, ys = scan_checkpointed(
            step, y0, xs, length=n_steps, checkpoint_every=checkpoint_every
        )
    ts = t0_arr + (ks + 1) * dt_arr
    return FixedStepSolution(ts=ts, ys=ys, final_state=y_final)


# ----- adaptive diffrax solve ---------------------------------------------------------------


def _input_fn(stimulus):
    if stimulus is None:
        return lambda t: 0.0
    if callable(stimulus):
        return stimulus
    arr = jnp.asarray(stimulus)
    return lambda t: arr


def solve_adaptive(
    model: NeuronModel,
    y0: State,
    stimulus: Callable[[Array], ArrayLike] | ArrayLike | None = None,
    *,
    t0: float,
    t1: float,
    ts: ArrayLike | None = None,
    solver: diffrax.AbstractSolver | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    dt0: float | None = 0.01,
    max_steps: int = 16384,
    checkpoints: int | None = None,
    adjoint: diffrax.AbstractAdjoint | None = None,
    jump_ts: ArrayLike | None = None,
) -> diffrax.Solution:
    """Adaptive diffrax solve of a continuous model, differentiable by reverse mode.

    Integrates `model.vector_field(t, y, I(t))` with `solver` (default `Tsit5`) and a
    `PIDController(rtol, atol, jump_ts=jump_ts)` (give the times of input discontinuities as
    `jump_ts`), saving at `ts` (default: `t1` only). The default adjoint is
    `RecursiveCheckpointAdjoint(checkpoints)`: discretise-then-optimise with a binomial
    checkpointing schedule holding at most `checkpoints` states (None: diffrax's choice from
    `max_steps`), so memory is bounded however long the trace. Hybrid models' resets are not
    applied here; use `solve_fixed` or `event_spike_times` for them.

    **Returns:** the `diffrax.Solution` (`sol.ts`, `sol.ys` a state dict of stacked arrays).
    """
    _check_int("max_steps", max_steps, 1)
    I_of_t = _input_fn(stimulus)
    term = diffrax.ODETerm(lambda t, y, args: model.vector_field(t, y, I_of_t(t)))
    solver = diffrax.Tsit5() if solver is None else solver
    adjoint = diffrax.RecursiveCheckpointAdjoint(checkpoints) if adjoint is None else adjoint
    saveat = diffrax.SaveAt(ts=jnp.asarray(ts)) if ts is not None else diffrax.SaveAt(t1=True)
    controller = diffrax.PIDController(
        rtol=rtol, atol=atol, jump_ts=None if jump_ts is None else jnp.asarray(jump_ts)
    )
    dtype = jnp.result_type(float)
    y0 = {k: jnp.asarray(v, dtype=dtype) for k, v in y0.items()}
    return diffrax.diffeqsolve(
        term,
        solver,
        t0=t0,
        t1=t1,
        dt0=dt0,
        y0=y0,
        saveat=saveat,
        stepsize_controller=controller,
        adjoint=adjoint,
        max_steps=max_steps,
    )


# ----- event-located spike times with implicit-function gradients ----------------------------


class SpikeTimes(eqx.Module):
    """Event-located spike times (`times`, shape `(max_spikes, *pop)`, padded with `t1`) and
    `valid` (bool, True for real spikes). Padded entries carry zero gradient."""

    times: Array
    valid: Array

    @property
    def count(self) -> Array:
        return jnp.sum(self.valid, axis=0)


def _straight_through_root(t_root, g_of_t, dg_dt):
    r"""Value `t_root`; first derivative $-(\partial g/\partial\theta) / (dg/dt)$ (IFT)."""
    g = g_of_t(t_root)
    return t_root - (g - jax.lax.stop_gradient(g)) / jax.lax.stop_gradient(dg_dt)


def event_spike_times(
    model: NeuronModel,
    y0: State,
    stimulus: Callable[[Array], ArrayLike] | ArrayLike | None = None,
    *,
    t0: float,
    t1: float,
    max_spikes: int,
    solver: diffrax.AbstractSolver | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    dt0: float = 0.01,
    max_steps: int = 4096,
) -> SpikeTimes:
    r"""Spike times of a single hybrid cell, located by diffrax events, differentiable.

    Between spikes the model is integrated adaptively until `threshold_distance` crosses
    zero upward (a diffrax `Event` refined by Newton root finding); then the state is reset
    and integration resumes, for at most `max_spikes` spikes in $[t_0, t_1]$.

    Gradients follow the implicit function theorem. Spike k is the root of
    $g(t) = \mathrm{threshold\_distance}(\Phi(t; t_{k-1}, y^+_{k-1}, \theta))$, with $\Phi$
    the flow from the previous reset. The returned time is
    $t_k = t^\circ_k - (g(t^\circ_k) - \mathrm{sg}[g(t^\circ_k)]) / \mathrm{sg}[\dot g(t^\circ_k)]$
    ($\mathrm{sg}$ = stop-gradient, $t^\circ$ the located root): its value is the root and
    its derivative $dt_k/d\theta = -(\partial g/\partial\theta)/\dot g$, where
    $\partial g / \partial\theta$ includes the dependence on earlier spike times and resets
    through the re-solved flow $\Phi$ (differentiated by diffrax). Only first derivatives
    are exact. A spike time is differentiable where the crossing is transversal
    ($\dot g > 0$); a spike appearing or vanishing is a discontinuity no gradient captures.
    Padded (absent) spikes have time `t1` and zero gradient.

    Continuous-time only; `post_step` and refractory clocks of fixed-step loops are not
    modelled (use Izhikevich-type models, or LIF with `t_ref = 0`).
    """
    if not model.is_hybrid:
        raise ValueError(f"event_spike_times needs a hybrid model, got {type(model).__name__}")
    _check_int("max_spikes", max_spikes, 1)
    I_of_t = _input_fn(stimulus)
    solver = diffrax.Tsit5() if solver is None else solver
    dtype = jnp.result_type(float)
    y0 = {k: jnp.asarray(v, dtype=dtype) for k, v in y0.items()}
    t1_arr = jnp.asarray(t1, dtype=dtype)

    def field(t, y, args):
        m = args
        return m.vector_field(t, y, I_of_t(t))

    term = diffrax.ODETerm(field)
    controller = diffrax.PIDController(rtol=rtol, atol=atol)

    def cond_fn(t, y, args, **kwargs):
        return args.threshold_distance(y)

    event = diffrax.Event(cond_fn, root_finder=optx.Newton(rtol=1e-12, atol=1e-12))

    def flow(m, ts_, ys_, te):
        """State at time te starting at (ts_, ys_): differentiable in all inputs."""
        sol = diffrax.diffeqsolve(
            term, solver, t0=ts_, t1=te, dt0=dt0, y0=ys_, args=m,
            stepsize_controller=controller, max_steps=max_steps,
            saveat=diffrax.SaveAt(t1=True), throw=False,
        )  # fmt: skip
        return jax.tree_util.tree_map(lambda a: a[-1], sol.ys)

    def body(carry, _):
        t_start, y_start, alive = carry
        # 1. locate the next crossing (no gradient needed here).
        m_c, ts_c, ys_c = jax.lax.stop_gradient((model, t_start, y_start))
        sol = diffrax.diffeqsolve(
            term, solver, t0=ts_c, t1=t1_arr, dt0=dt0, y0=ys_c, args=m_c,
            stepsize_controller=controller, max_steps=max_steps, event=event,
            saveat=diffrax.SaveAt(t1=True), throw=False,
        )  # fmt: skip
        t_root = sol.ts[-1]
        found = alive & (sol.event_mask is not None) & jnp.asarray(sol.event_mask)
        found = found & (t_root < t1_arr)
        # 2. implicit-function-theorem derivative of the root.
        t_safe = jnp.where(found, t_root, jnp.minimum(t_start + 1.0, t1_arr))
        t_safe = jax.lax.stop_gradient(jnp.maximum(t_safe, ts_c))
        y_star_c = flow(m_c, ts_c, ys_c, t_safe)
        gdot = jax.jvp(
            model.threshold_distance,
            (y_star_c,),
            (m_c.vector_field(t_safe, y_star_c, I_of_t(t_safe)),),
        )[1]
        gdot = jnp.where(found, gdot, 1.0)

        def g_of_t(t):
            return model.threshold_distance(flow(model, t_start, y_start, t))

        t_spike = _straight_through_root(t_safe, g_of_t, gdot)
        t_spike = jnp.where(found, t_spike, jax.lax.stop_gradient(t1_arr))
        # 3. reset at the spike (differentiable through the flow up to t_spike).
        y_star = flow(model, t_start, y_start, jnp.where(found, t_spike, t_safe))
        y_next = model.reset(y_star)
        y_next = jax.tree_util.tree_map(lambda a, b: jnp.where(found, a, b), y_next, y_start)
        t_next = jnp.where(found, t_spike, t_start)
        return (t_next, y_next, found), (t_spike, found)

    init = (jnp.asarray(t0, dtype=dtype), y0, jnp.asarray(True))
    _, (times, valid) = jax.lax.scan(body, init, None, length=max_spikes)
    return SpikeTimes(times=times, valid=valid)
