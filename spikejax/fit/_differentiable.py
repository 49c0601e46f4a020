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
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike

from .._simulate import _time_to_threshold
from .._validation import is_concrete, positive_under_jit
from ..models._base import NeuronModel, State
from ..solvers import (
    RESULTS,
    AbstractScheme,
    Adaptive,
    advance,
    default_root_tolerances,
    get_scheme,
    promote_diffrax,
)
from ..stimulus import (
    Stimulus,
    as_stimulus,
    check_domain,
    initial_state,
    sample_step,
)
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
    over steps when `accumulate=True`), `final_state` (the state dict after the last step),
    `final_stimulus_state` (the stimulus' internal state after the last step, e.g. OU noise).
    """

    ts: Array
    ys: Any
    final_state: State
    final_stimulus_state: Any = None


def _default_observe(model: NeuronModel):
    vname = model.voltage_name

    def observe(t, y, spikes, data):
        return {vname: y[vname], "spikes": spikes}

    return observe


def _state_shape(model: NeuronModel, y0: State, stim: Stimulus) -> tuple[int, ...]:
    """The state's shape: `y0` and the model's parameters broadcast; `I` must fit into it."""
    if not isinstance(y0, dict) or set(y0) != set(model.state_names):
        got = sorted(y0) if isinstance(y0, dict) else type(y0).__name__
        raise ValueError(
            f"y0 must be a dict of every state variable of {type(model).__name__} "
            f"{list(model.state_names)} (e.g. model.resting_state()), got {got}"
        )
    try:
        shape = tuple(np.broadcast_shapes(model.shape, *(jnp.shape(v) for v in y0.values())))
    except ValueError:
        shapes = {k: jnp.shape(v) for k, v in y0.items()}
        raise ValueError(
            f"y0 shapes {shapes} do not broadcast with the shape {model.shape} of "
            f"{type(model).__name__}"
        ) from None
    ishape = tuple(stim.shape())
    try:
        fits = tuple(np.broadcast_shapes(shape, ishape)) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"I of shape {ishape} does not fit the state shape {shape} (the model's parameters "
            "and y0 broadcast); a per-step input array (leading axis n_steps) is "
            "spikejax.stimulus.Sampled(values, dt=dt, t0=t0)"
        )
    return shape


def solve_fixed(
    model: NeuronModel,
    y0: State,
    I: Stimulus | ArrayLike | None = None,
    *,
    dt: float,
    n_steps: int,
    t0: float = 0.0,
    method: str | AbstractScheme = "auto",
    spike_fn: SpikeFunction = Heaviside(),  # noqa: B008  (immutable module)
    checkpoint_every: int | None = None,
    observe: Callable[..., Any] | None = None,
    data: Any = None,
    accumulate: bool = False,
    detach_reset: bool = False,
    key: Any = None,
) -> FixedStepSolution:
    r"""Differentiable fixed-step simulation of `model` from `y0`.

    Step $k$ starts at $t_k = t_0 + k\Delta t$ (from the integer step count); its current is
    `spikejax.stimulus.sample_step` of `I` (held over the step, the same sampling and keys as
    `spikejax.simulate`) and the step is `spikejax.solvers.advance`: `scheme.step`,
    `model.post_step`, then for hybrid models
    $s = \mathrm{spike\_fn}(\mathrm{threshold\_distance}(y))$ and the reset (a `where` for the
    exact `Heaviside`; $y \leftarrow (1-s)\,y + s\,\mathrm{reset}(y)$ for a surrogate, same
    values, gradients through $s$); for continuous models $s$ marks upward crossings of
    `spike_detection_threshold` (`spike_fn` of the voltage distance, gated by the previous
    step being below threshold).

    **Arguments:**

    - `I`: the input current: a `spikejax.stimulus.Stimulus`, a number or an array
      broadcastable to the state (a constant), or None (zero). A per-step table (leading
      axis `n_steps`) is `spikejax.stimulus.Sampled(values, dt=dt, t0=t0)`. Stochastic
      stimuli (`Noise`) need `key`.
    - `dt` (ms, > 0), `n_steps` (>= 0), `t0` (ms), `method` (`"auto"`: the model's
      `default_scheme`, RK4 for a model without one, every built-in model; `"euler"`,
      `"rk4"`, `"exponential_euler"`, `"exact"` or a scheme object).
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
    - `key`: PRNG key for stochastic stimuli (keyword-only); step $k$ draws with
      `fold_in(key, round(t0/dt) + k)`, as in `spikejax.simulate`.

    **Returns:** a `FixedStepSolution`.

    **Raises:** `ValueError` for a non-positive `dt`, a negative `n_steps`, an unknown
    `method`, an `I` that does not fit the state shape or does not cover the run, or a
    stochastic `I` without `key`.
    """
    _check_int("n_steps", n_steps, 0)
    dt = positive_under_jit("dt", dt, "ms")
    scheme = get_scheme(method, model, default="rk4")
    if not isinstance(spike_fn, SpikeFunction):
        raise ValueError(f"spike_fn must be a spikejax.surrogate.SpikeFunction, got {spike_fn!r}")
    stim = as_stimulus(I)
    observe = _default_observe(model) if observe is None else observe
    dtype = jnp.result_type(float)
    shape = _state_shape(model, y0, stim)
    y0 = {k: jnp.broadcast_to(jnp.asarray(v, dtype=dtype), shape) for k, v in y0.items()}
    if is_concrete((t0, dt)):
        check_domain(stim, float(t0), float(t0) + n_steps * float(dt))
        koffset = jnp.asarray(int(round(float(t0) / float(dt))), jnp.int32)
    else:
        koffset = jnp.round(jnp.asarray(t0) / dt).astype(jnp.int32)
    sstate0 = initial_state(stim, shape, dtype, key=key)
    dt_arr = jnp.asarray(dt, dtype=dtype)
    t0_arr = jnp.asarray(t0, dtype=dtype)

    def sample(sstate, k):
        t = t0_arr + k.astype(dtype) * dt_arr
        return sample_step(stim, sstate, t, dt_arr, koffset + k, key=key)

    ks = jnp.arange(n_steps, dtype=jnp.int32)
    # A deterministic stimulus is sampled for every step at once, outside the loop (the same
    # `sample_step` values), and read as the scan's per-step input: no table lookups and no
    # stimulus work inside the differentiated loop.
    table = None
    if not stim.is_stochastic and n_steps > 0:
        table = jax.vmap(lambda k: sample(sstate0, k)[0])(ks)

    def one_step(y, sstate, k, I_k):
        t = t0_arr + k.astype(dtype) * dt_arr
        if I_k is None:
            I_k, sstate = sample(sstate, k)
        out = advance(
            model, scheme, t, y, I_k, dt_arr, spike_fn=spike_fn, detach_reset=detach_reset
        )
        return out.state, sstate, out.spikes, t + dt_arr

    xs = (ks, data, table)

    if accumulate:
        y_s, _, s_s, t_s = jax.eval_shape(
            lambda y, st: one_step(
                y, st, jnp.zeros((), jnp.int32), None if table is None else table[0]
            ),
            y0,
            sstate0,
        )
        d_s = None if data is None else jax.tree_util.tree_map(lambda a: a[0], data)
        acc_shape = jax.eval_shape(observe, t_s, y_s, s_s, d_s)
        acc0 = jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), acc_shape)

        def accumulate_step(carry, x):
            y, sstate, acc = carry
            k, d_k, I_k = x
            y, sstate, s, t = one_step(y, sstate, k, I_k)
            obs = observe(t, y, s, d_k)
            return (y, sstate, jax.tree_util.tree_map(jnp.add, acc, obs)), None

        (y_final, s_final, ys), _ = scan_checkpointed(
            accumulate_step,
            (y0, sstate0, acc0),
            xs,
            length=n_steps,
            checkpoint_every=checkpoint_every,
        )
    else:

        def record_step(carry, x):
            y, sstate = carry
            k, d_k, I_k = x
            y, sstate, s, t = one_step(y, sstate, k, I_k)
            return (y, sstate), observe(t, y, s, d_k)

        (y_final, s_final), ys = scan_checkpointed(
            record_step, (y0, sstate0), xs, length=n_steps, checkpoint_every=checkpoint_every
        )
    ts = t0_arr + (ks + 1).astype(dtype) * dt_arr
    return FixedStepSolution(ts=ts, ys=ys, final_state=y_final, final_stimulus_state=s_final)


# ----- adaptive diffrax solve ---------------------------------------------------------------


def _deterministic(I: Any, where: str) -> Stimulus:
    """`I` as a deterministic `Stimulus` for an adaptive solve."""
    stim = as_stimulus(I)
    if stim.is_stochastic:
        raise ValueError(
            f"I: {where} is an adaptive solve and cannot sample a stochastic stimulus "
            f"({type(stim).__name__}); use spikejax.fit.solve_fixed(..., key=...)"
        )
    return stim


def _jumps(stim: Stimulus, t0: Any, t1: Any) -> Array | None:
    """The stimulus' discontinuities strictly inside (t0, t1), for the step-size controller."""
    if not is_concrete((t0, t1)):
        return None
    inside = sorted(x for x in stim.discontinuities() if float(t0) < x < float(t1))
    return jnp.asarray(inside, dtype=jnp.result_type(float)) if inside else None


def _controller(
    rtol: Any, atol: Any, jumps: Array | None
) -> diffrax.PIDController | diffrax.ClipStepSizeController:
    """The PID step-size controller, stepping exactly onto `jumps` when there are any."""
    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    if jumps is None:
        return controller
    return diffrax.ClipStepSizeController(controller, jump_ts=jumps)


def solve_adaptive(
    model: NeuronModel,
    y0: State,
    I: Stimulus | ArrayLike | None = None,
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
    throw: bool = True,
) -> diffrax.Solution:
    """Adaptive diffrax solve of a continuous model, differentiable by reverse mode.

    Integrates `model.vector_field(t, y, I(t))` with `solver` (default `Tsit5`) and a
    `PIDController(rtol, atol, jump_ts=jump_ts)`, saving at `ts` (default: `t1` only). The
    default adjoint is `RecursiveCheckpointAdjoint(checkpoints)`: discretise-then-optimise
    with a binomial checkpointing schedule holding at most `checkpoints` states (None:
    diffrax's choice from `max_steps`), so memory is bounded however long the trace. Hybrid
    models' resets are not applied here; use `solve_fixed` or `event_spike_times` for them.

    **Arguments:**

    - `I`: a deterministic `spikejax.stimulus.Stimulus`, a number or an array (constant), or
      None (zero).
    - `jump_ts`: times where the input jumps (ms); None takes `I.discontinuities()`.
    - `throw`: raise if the solve fails (diffrax's convention); with `throw=False` the
      failure is in `solution.result`.

    **Returns:** the `diffrax.Solution` (`sol.ts`, `sol.ys` a state dict of stacked arrays).

    **Raises:** `ValueError` for a stochastic `I` (use `solve_fixed` with `key=`).
    """
    _check_int("max_steps", max_steps, 1)
    stim = _deterministic(I, "solve_adaptive")
    term = diffrax.ODETerm(lambda t, y, args: model.vector_field(t, y, stim(t)))
    solver = diffrax.Tsit5() if solver is None else solver
    adjoint = diffrax.RecursiveCheckpointAdjoint(checkpoints) if adjoint is None else adjoint
    saveat = diffrax.SaveAt(ts=jnp.asarray(ts)) if ts is not None else diffrax.SaveAt(t1=True)
    jumps = _jumps(stim, t0, t1) if jump_ts is None else jnp.asarray(jump_ts)
    controller = _controller(rtol, atol, jumps)
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
        throw=throw,
    )


# ----- event-located spike times with implicit-function gradients ----------------------------


class SpikeTimes(eqx.Module):
    """Event-located spike times.

    **Fields:**

    - `times`: shape `(max_spikes, *pop)`, padded with `t1` (ms).
    - `valid`: bool, True for real spikes. Padded entries carry zero gradient.
    - `result`: a `spikejax.solvers.RESULTS` value: `RESULTS.successful`, or the first
      failure among the solves (then the spikes after it are missing, not absent).
    """

    times: Array
    valid: Array
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.successful)

    @property
    def count(self) -> Array:
        return jnp.sum(self.valid, axis=0)


def _straight_through_root(t_root, g_of_t, dg_dt):
    r"""Value `t_root`; first derivative $-(\partial g/\partial\theta) / (dg/dt)$ (IFT)."""
    g = g_of_t(t_root)
    return t_root - (g - jax.lax.stop_gradient(g)) / jax.lax.stop_gradient(dg_dt)


def _first_failure(res: RESULTS, new: RESULTS) -> RESULTS:
    return RESULTS.where(res == RESULTS.successful, new, res)


def event_spike_times(
    model: NeuronModel,
    y0: State,
    I: Stimulus | ArrayLike | None = None,
    *,
    t0: float,
    t1: float,
    max_spikes: int,
    solver: diffrax.AbstractSolver | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    dt0: float = 0.01,
    max_steps: int = 4096,
    throw: bool = True,
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

    **Arguments:**

    - `I`: a deterministic `spikejax.stimulus.Stimulus`, a number or an array, or None; the
      controller steps onto its discontinuities.
    - `rtol`, `atol`: the solve's tolerances (None: `spikejax.solvers.default_tolerances`
      of the float dtype); the event's Newton iteration uses
      `spikejax.solvers.default_root_tolerances`.
    - `throw`: raise if a solve fails (the default, as diffrax and optimistix do); with
      `throw=False` the failure is in `SpikeTimes.result` and never reads as "no spike".

    **Returns:** a `SpikeTimes`.

    **Raises:** `ValueError` for a continuous model or a stochastic `I`; with `throw=True`,
    an error carrying the `RESULTS` message when a solve fails (e.g. `max_steps` too small).
    """
    if not model.is_hybrid:
        raise ValueError(f"event_spike_times needs a hybrid model, got {type(model).__name__}")
    _check_int("max_spikes", max_spikes, 1)
    _check_int("max_steps", max_steps, 1)
    stim = _deterministic(I, "event_spike_times")
    solver = diffrax.Tsit5() if solver is None else solver
    dtype = jnp.result_type(float)
    rtol, atol = Adaptive(rtol=rtol, atol=atol).tolerances(dtype)
    root_rtol, root_atol = default_root_tolerances(dtype)
    y0 = {k: jnp.asarray(v, dtype=dtype) for k, v in y0.items()}
    t1_arr = jnp.asarray(t1, dtype=dtype)

    def field(t, y, args):
        m = args
        return m.vector_field(t, y, stim(t))

    term = diffrax.ODETerm(field)
    controller = _controller(rtol, atol, _jumps(stim, t0, t1))

    def cond_fn(t, y, args, **kwargs):
        # The threshold distance over its rate of change: a time (ms), so Newton's residual
        # tolerance is a time tolerance whatever the slope of the upstroke.
        return _time_to_threshold(args, stim, t, y)

    if is_concrete((t0, t1)):
        root_atol = max(root_atol, root_rtol * max(abs(float(t0)), abs(float(t1))))
    event = diffrax.Event(cond_fn, root_finder=optx.Newton(rtol=root_rtol, atol=root_atol))

    def flow(m, ts_, ys_, te):
        """State at time te starting at (ts_, ys_): differentiable in all inputs."""
        sol = diffrax.diffeqsolve(
            term, solver, t0=ts_, t1=te, dt0=dt0, y0=ys_, args=m,
            stepsize_controller=controller, max_steps=max_steps,
            saveat=diffrax.SaveAt(t1=True), throw=False,
        )  # fmt: skip
        return jax.tree_util.tree_map(lambda a: a[-1], sol.ys), sol.result

    def body(carry, _):
        t_start, y_start, alive, res = carry
        # 1. locate the next crossing (no gradient needed here).
        m_c, ts_c, ys_c = jax.lax.stop_gradient((model, t_start, y_start))
        sol = diffrax.diffeqsolve(
            term, solver, t0=ts_c, t1=t1_arr, dt0=dt0, y0=ys_c, args=m_c,
            stepsize_controller=controller, max_steps=max_steps, event=event,
            saveat=diffrax.SaveAt(t1=True), throw=False,
        )  # fmt: skip
        res = _first_failure(res, RESULTS.where(alive, promote_diffrax(sol.result), res))
        ok = res == RESULTS.successful
        if sol.ts is None:  # saveat saves t1: an internal invariant, not user input
            raise RuntimeError("diffrax returned no save times")
        t_root = sol.ts[-1]
        found = alive & ok & (sol.event_mask is not None) & jnp.asarray(sol.event_mask)
        found = found & (t_root < t1_arr)
        # 2. implicit-function-theorem derivative of the root.
        t_safe = jnp.where(found, t_root, jnp.minimum(t_start + 1.0, t1_arr))
        t_safe = jax.lax.stop_gradient(jnp.maximum(t_safe, ts_c))
        y_star_c, _ = flow(m_c, ts_c, ys_c, t_safe)
        gdot = jax.jvp(
            model.threshold_distance,
            (y_star_c,),
            (m_c.vector_field(t_safe, y_star_c, stim(t_safe)),),
        )[1]
        gdot = jnp.where(found, gdot, 1.0)

        def g_of_t(t):
            return model.threshold_distance(flow(model, t_start, y_start, t)[0])

        t_spike = _straight_through_root(t_safe, g_of_t, gdot)
        t_spike = jnp.where(found, t_spike, jax.lax.stop_gradient(t1_arr))
        # 3. reset at the spike (differentiable through the flow up to t_spike).
        y_star, res_flow = flow(model, t_start, y_start, jnp.where(found, t_spike, t_safe))
        res = _first_failure(res, RESULTS.where(found, promote_diffrax(res_flow), res))
        y_next = model.reset(y_star)
        y_next = jax.tree_util.tree_map(lambda a, b: jnp.where(found, a, b), y_next, y_start)
        t_next = jnp.where(found, t_spike, t_start)
        return (t_next, y_next, found, res), (t_spike, found)

    init = (jnp.asarray(t0, dtype=dtype), y0, jnp.asarray(True), RESULTS.successful)
    (_, _, _, result), (times, valid) = jax.lax.scan(body, init, None, length=max_spikes)
    if throw:
        times = result.error_if(times, result != RESULTS.successful)
    # `RESULTS.successful` in `init` types as a literal of optimistix's RESULTS (pyright reads
    # equinox Enumeration members as enum members of the base class): a false positive.
    return SpikeTimes(times=times, valid=valid, result=result)  # pyright: ignore[reportArgumentType]
