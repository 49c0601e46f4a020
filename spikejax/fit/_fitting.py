r"""The fitting API: gradient descent on selected model parameters with any optax optimiser.

Trainable parameters are optimised in unconstrained coordinates $z$:
* box bounds $(l, u)$: $\theta = l + (u - l)\,\sigma(z)$;
* positivity: $\theta = e^z$ (`positive_transform="log"`, the default: steps are relative,
  so parameters of different scales train at one learning rate) or
  $\theta = \log(1 + e^z)$ (`"softplus"`);
* otherwise $\theta = z$.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array

__all__ = ["FitResult", "fit", "fit_many", "stack_models"]

_POSITIVE_MSG = "positive must be 'auto', a bool or a collection of names, got {!r}"


class FitResult(eqx.Module):
    """Result of `fit` / `fit_many`.

    **Fields:** `model` (the fitted model), `loss_history` (loss before each step, shape
    `(steps,)`; `(batch, steps)` from `fit_many`), `params_history` (trainable values before
    each step: a dict name -> array of leading shape `(steps,)` (or `(batch, steps)`) when
    parameters are chosen by name, else a stacked pytree), `final_loss` (loss of `model`).
    """

    model: Any
    loss_history: Array
    params_history: Any
    final_loss: Array


def _get(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _field_names(model) -> list[str]:
    if hasattr(model, "parameters"):
        return sorted(model.parameters())
    return sorted(k for k in vars(model) if not k.startswith("_"))


def _has_path(model, path: str) -> bool:
    try:
        _get(model, path)
    except AttributeError:
        return False
    return True


def _bounded(lo, hi):
    lo, hi = float(lo), float(hi)

    def fwd(z):
        return lo + (hi - lo) * jax.nn.sigmoid(z)

    def inv(x):
        p = (x - lo) / (hi - lo)
        return jnp.log(p) - jnp.log1p(-p)

    return fwd, inv


def _log():
    return jnp.exp, jnp.log


def _softplus():
    def inv(x):
        return x + jnp.log(-jnp.expm1(-x))

    return jax.nn.softplus, inv


def _identity():
    return (lambda z: z), (lambda x: x)


class _Spec:
    """How trainable values map to/from the optimiser's unconstrained coordinates."""

    def __init__(self, model, params, bounds, positive, positive_transform):
        if positive_transform not in ("log", "softplus"):
            raise ValueError(
                f"positive_transform must be 'log' or 'softplus', got {positive_transform!r}"
            )
        pos_tf = _log if positive_transform == "log" else _softplus
        bounds = {} if bounds is None else dict(bounds)
        if callable(params):
            if bounds:
                raise ValueError("bounds need parameters chosen by name (params=('gNa', ...))")
            if positive not in (True, False, "auto"):
                raise ValueError("with a filter, positive must be True, False or 'auto'")
            self.names = None
            self.filter_spec = jax.tree_util.tree_map(params, model)
            train, _ = eqx.partition(model, self.filter_spec)
            leaves = jax.tree_util.tree_leaves(train)
            if not leaves:
                raise ValueError("params filter selected no leaves of the model")
            use_pos = positive is True or (
                positive == "auto" and all(bool(jnp.all(jnp.asarray(v) > 0)) for v in leaves)
            )
            if positive is True and not all(bool(jnp.all(jnp.asarray(v) > 0)) for v in leaves):
                raise ValueError("positive=True needs every selected value > 0")
            self.tf = pos_tf() if use_pos else _identity()
            return
        if isinstance(params, str) or not isinstance(params, Sequence) or not params:
            raise ValueError(
                f"params must be a non-empty sequence of parameter names or a filter callable, "
                f"got {params!r}"
            )
        names = list(params)
        unknown = [n for n in names if not _has_path(model, n)]
        if unknown:
            raise ValueError(
                f"params {unknown} are not fields of {type(model).__name__}; "
                f"known: {_field_names(model)}"
            )
        extra = sorted(set(bounds) - set(names))
        if extra:
            raise ValueError(f"bounds given for non-trainable parameters {extra}; params={names}")
        if isinstance(positive, str) and positive != "auto":
            raise ValueError(
                f"positive must be 'auto', a bool or a collection of names, got {positive!r}"
            )
        self.names = names
        self.tfs = {}
        self.kinds = {}
        for n in names:
            value = jnp.asarray(_get(model, n), dtype=jnp.result_type(float))
            if n in bounds:
                lo, hi = bounds[n]
                if not (float(lo) < float(hi)):
                    raise ValueError(f"bounds[{n!r}] must satisfy lo < hi, got ({lo}, {hi})")
                if not bool(jnp.all((value > lo) & (value < hi))):
                    raise ValueError(
                        f"initial {n} must lie strictly inside bounds ({lo}, {hi}), got {value}"
                    )
                self.tfs[n] = _bounded(lo, hi)
                self.kinds[n] = (lo, hi)
                continue
            all_pos = bool(jnp.all(value > 0))
            if positive == "auto":
                want = all_pos
            elif isinstance(positive, bool):
                want = positive
            elif isinstance(positive, Collection):
                want = n in positive
            else:
                raise ValueError(
                    f"positive must be 'auto', a bool or a collection of names, got {positive!r}"
                )
            if want and not all_pos:
                raise ValueError(f"{n} is constrained positive but its initial value is {value}")
            self.tfs[n] = pos_tf() if want else _identity()
            self.kinds[n] = (0.0, float("inf")) if want else None

    # raw <-> values -------------------------------------------------------------------------
    def init_raw(self, model):
        if self.names is None:
            train, _ = eqx.partition(model, self.filter_spec)
            return jax.tree_util.tree_map(lambda v: self.tf[1](jnp.asarray(v, float)), train)
        return {
            n: self.tfs[n][1](jnp.asarray(_get(model, n), dtype=jnp.result_type(float)))
            for n in self.names
        }

    def values(self, raw):
        if self.names is None:
            return jax.tree_util.tree_map(self.tf[0], raw)
        return {n: self.tfs[n][0](raw[n]) for n in self.names}

    def build(self, model, raw):
        vals = self.values(raw)
        names = self.names
        if names is None:
            _, static = eqx.partition(model, self.filter_spec)
            return eqx.combine(vals, static)
        return eqx.tree_at(lambda m: [_get(m, n) for n in names], model, [vals[n] for n in names])


def _make_step(spec, loss_fn, optimizer, has_args):
    def objective(raw, model, args):
        m = spec.build(model, raw)
        return loss_fn(m, args) if has_args else loss_fn(m)

    def step(raw, opt_state, model, args):
        loss, grads = jax.value_and_grad(objective)(raw, model, args)
        updates, opt_state = optimizer.update(
            grads,
            opt_state,
            raw,
            value=loss,
            grad=grads,
            value_fn=lambda r: objective(r, model, args),
        )
        return optax.apply_updates(raw, updates), opt_state, loss, spec.values(raw)

    return objective, step


def _check_steps(steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or not (steps >= 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")


def _run(spec, loss_fn, model, args, optimizer, steps, progress, batched):
    optimizer = optax.with_extra_args_support(optax.adam(1e-2) if optimizer is None else optimizer)
    has_args = args is not None
    objective, step = _make_step(spec, loss_fn, optimizer, has_args)
    init = lambda m: (lambda r: (r, optimizer.init(r)))(spec.init_raw(m))  # noqa: E731
    if batched:
        raw, opt_state = jax.vmap(init)(model)
        step_fn = jax.jit(jax.vmap(step))
        final_fn = jax.jit(jax.vmap(objective))
    else:
        raw, opt_state = init(model)
        step_fn = jax.jit(step)
        final_fn = jax.jit(objective)
    losses, hist = [], []
    from tqdm.auto import tqdm

    bar = tqdm(range(steps), disable=not progress, desc="fit", leave=False)
    for _ in bar:
        raw, opt_state, loss, vals = step_fn(raw, opt_state, model, args)
        losses.append(loss)
        hist.append(vals)
        if progress:
            bar.set_postfix(loss=float(jnp.mean(loss)))
    bar.close()
    axis = 1 if batched else 0
    loss_history = jnp.stack(losses, axis=axis)
    params_history = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs, axis=axis), *hist)
    final_loss = final_fn(raw, model, args)
    fitted = spec.build(model, raw)
    fitted = jax.tree_util.tree_map(lambda x: x, fitted)  # concrete copy
    return FitResult(
        model=fitted,
        loss_history=loss_history,
        params_history=params_history,
        final_loss=final_loss,
    )


def fit(
    model: Any,
    loss_fn: Callable[..., Array],
    *,
    params: Sequence[str] | Callable[[Any], bool] = ("gNa", "gK"),
    bounds: dict[str, tuple[float, float]] | None = None,
    positive: bool | str | Collection[str] = "auto",
    positive_transform: str = "log",
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 100,
    args: Any = None,
    progress: bool = False,
) -> FitResult:
    r"""Fit the parameters `params` of `model` by minimising `loss_fn` with `optimizer`.

    **Arguments:**

    - `loss_fn(model)` (or `loss_fn(model, args)` when `args` is given) -> scalar.
    - `params`: names of fields to train (dotted paths reach nested modules, e.g.
      `"synapse.tau"`), or a filter callable on leaves (as for `eqx.partition`, e.g.
      `eqx.is_inexact_array`) selecting the trainable leaves.
    - `bounds`: `{name: (lo, hi)}` box constraints, enforced by $\theta = l + (u-l)\sigma(z)$;
      initial values must lie strictly inside.
    - `positive`: `"auto"` (default: every named parameter without bounds whose initial value
      is > 0 stays positive), True, False, or a collection of names; enforced by
      `positive_transform` (`"log"`: $\theta = e^z$, or `"softplus"`).
    - `optimizer`: any optax `GradientTransformation` acting on the unconstrained
      coordinates (default `optax.adam(1e-2)`, i.e. about 1% relative steps for
      log-parametrised values); optimisers needing `value`, `grad`, `value_fn` in `update`
      (e.g. `optax.lbfgs()`) receive them.
    - `steps` (>= 1), `progress` (a tqdm bar showing the loss).

    **Returns:** a `FitResult` with the fitted model, the loss and parameter histories.
    """
    _check_steps(steps)
    spec = _Spec(model, params, bounds, positive, positive_transform)
    return _run(spec, loss_fn, model, args, optimizer, steps, progress, batched=False)


def stack_models(models: Sequence[Any]) -> Any:
    """Stack models of one type into one whose every leaf has a leading batch axis (for
    `fit_many`); a field that is a float becomes an array of shape `(batch,)`."""
    if not models:
        raise ValueError("stack_models needs at least one model")
    return jax.tree_util.tree_map(
        lambda *xs: jnp.stack([jnp.asarray(x, dtype=jnp.result_type(float)) for x in xs]),
        *models,
    )


def fit_many(
    models: Any,
    loss_fn: Callable[..., Array],
    *,
    params: Sequence[str] | Callable[[Any], bool] = ("gNa", "gK"),
    bounds: dict[str, tuple[float, float]] | None = None,
    positive: bool | str | Collection[str] = "auto",
    positive_transform: str = "log",
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 100,
    args: Any = None,
    progress: bool = False,
) -> FitResult:
    """Many independent fits at once, by `jax.vmap` of `fit`'s step.

    `models`: a model whose every leaf has a leading batch axis (`stack_models([...])`):
    different initial guesses, or different cells. `args` (optional): a pytree whose every
    leaf has the same leading batch axis (e.g. one target per cell), handed to
    `loss_fn(model, args_i)`. Other arguments as for `fit`; the returned histories have a
    leading batch axis.
    """
    _check_steps(steps)
    leaves = jax.tree_util.tree_leaves(models)
    sizes = {jnp.shape(x)[0] if jnp.ndim(x) else None for x in leaves}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(
            "fit_many needs every leaf of models to have the same leading batch axis "
            f"(use stack_models); got leading sizes {sorted(map(str, sizes))}"
        )
    # Build the spec from the first member (values are elementwise transforms).
    first = jax.tree_util.tree_map(lambda x: x[0], models)
    spec = _Spec(first, params, bounds, positive, positive_transform)
    if spec.names is not None:  # the spec was checked on the first member: check them all
        for n, kind in spec.kinds.items():
            if kind is None:
                continue
            v = jnp.asarray(_get(models, n))
            if not bool(jnp.all((v > kind[0]) & (v < kind[1]))):
                raise ValueError(f"initial {n} of every member must lie in {kind} (open interval)")
    return _run(spec, loss_fn, models, args, optimizer, steps, progress, batched=True)
