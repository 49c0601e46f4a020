r"""The same Hopf point or fold, located for a whole batch of model variants in one call.

A special point of one model (from `continuation`) moves when the model's parameters change.
`locate_variants(model, point, variants)` finds it for every variant of a population model
(`HodgkinHuxley(gK=36 * scales)`) at once: one jitted function, `jax.vmap` over the variants,
`jax.lax.scan` over a homotopy $\theta(\lambda) = \theta_0 + \lambda(\theta_v - \theta_0)$,
$\lambda = 1/k, 2/k, \dots, 1$, from the model's parameters $\theta_0$ to each variant's
$\theta_v$; at each $\lambda$, Newton (`spikejax.solvers.root_find`) on the extended system
of the point (the same `hopf_equations` and `fold_equations` that locate it on a branch and
follow it in two parameters), started from the solution at the previous $\lambda$.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import require_float64
from ..models._base import NeuronModel
from ..solvers import RESULTS, root_find
from ..solvers._continuation import ContinuationError, SpecialPointKind
from ._continuation import (
    SpecialPoint,
    _fold_residual,
    _freeze_inert,
    _hopf_residual,
    locate_fold,
    locate_hopf,
    make_system,
)
from ._excitability import _split_variants

__all__ = ["VariantPoints", "locate_variants"]


@dataclasses.dataclass(frozen=True)
class VariantPoints:
    """One special point located for every variant of a population model.

    **Fields:** `kind` (`"H"` or `"LP"`), `param_name`, `params` (the parameter value at the
    point, shape of the variants), `states` (`(*shape, n_states)`), `omega` (Hopf angular
    frequency; NaN for folds), `converged` (bool, shape of the variants: every homotopy step's
    Newton converged, and a Hopf point kept $\\omega > 0$), `state_names`.
    """

    kind: SpecialPointKind
    param_name: str
    params: np.ndarray
    states: np.ndarray
    omega: np.ndarray
    converged: np.ndarray
    state_names: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the point was located for every variant."""
        return bool(np.all(self.converged))


def _blend(base, variant, lam):
    """The model with parameters `base + lam (variant - base)` (inexact array leaves)."""

    def f(a, b):
        if eqx.is_inexact_array(a) and eqx.is_inexact_array(b):
            return a + lam * (b - a)
        return b

    return jax.tree.map(f, base, variant)


@eqx.filter_jit
def _kernel(system, variants, z0, c, lams, kind: str, max_newton: int):
    base = system.model
    residual = _hopf_residual if kind == "H" else _fold_residual

    def fn(z, args):
        return residual(args[0], z, args[1])

    def one(variant):
        def step(z, lam):
            s = eqx.tree_at(lambda x: x.model, system, _blend(base, variant, lam))
            sol = root_find(fn, z, (s, c), max_steps=max_newton, throw=False)
            ok = (sol.result == RESULTS.successful) & jnp.all(jnp.isfinite(sol.value))
            return jnp.where(ok, sol.value, z), ok

        z, oks = jax.lax.scan(step, z0, lams)
        full = system.full(z[: c.shape[0]])
        return z, full, jnp.all(oks)

    return jax.vmap(one)(variants)


def locate_variants(
    model: NeuronModel,
    point: SpecialPoint,
    variants: NeuronModel,
    *,
    param: str = "I",
    I: float = 0.0,
    n_homotopy: int = 8,
    max_newton: int = 20,
    throw: bool = False,
) -> VariantPoints:
    r"""Locate the Hopf point or fold `point` of `model` for every variant in `variants`.

    **Arguments:**

    - `model`: the single-cell model `point` belongs to; `point`: a located `"H"` or `"LP"`
      `SpecialPoint` of its continuation in `param` (`"I"`, or a model field with the
      current `I`).
    - `variants`: a population of the same model class (array fields, e.g.
      `FitzHughNagumo(a=np.linspace(0.5, 0.9, 9))`); each element is one variant.
    - `n_homotopy`: steps from `model`'s parameters to each variant's; `max_newton`: Newton
      iterations per step.
    - `throw`: raise `ContinuationError` when some variant failed (else see `converged`).

    **Returns:** a `VariantPoints` (arrays of the variants' shape).

    **Raises:** `ValueError` for a point that is not a located Hopf point or fold, variants of
    another model class, or float32; `ContinuationError` when Newton fails at `point` itself,
    or with `throw=True`.
    """
    require_float64("spikejax.analysis.locate_variants")
    if not (
        isinstance(point, SpecialPoint)
        and point.kind in (SpecialPointKind.H, SpecialPointKind.LP)
        and point.located
    ):
        raise ValueError(
            "point must be a located Hopf point or fold (a SpecialPoint of kind 'H' or 'LP' "
            f"from continuation), got {point!r:.80}"
        )
    if type(variants) is not type(model):
        raise ValueError(
            f"variants must be a population of the model's class {type(model).__name__}, "
            f"got {type(variants).__name__}"
        )
    if not (isinstance(n_homotopy, int) and n_homotopy >= 1):
        raise ValueError(f"n_homotopy must be an integer >= 1, got {n_homotopy!r}")
    if not (isinstance(max_newton, int) and max_newton >= 1):
        raise ValueError(f"max_newton must be an integer >= 1, got {max_newton!r}")
    kind = str(point.kind)
    at = {k: jnp.asarray(v) for k, v in point.state.items()}
    x_full = np.asarray(model.to_vector({**model.resting_state(), **at}), float).reshape(-1)
    system = _freeze_inert(make_system(model, param, I=I), x_full, point.param)
    x = x_full[np.asarray(system.active)]
    n = x.size
    z0: Any
    if kind == "H":
        x, p, omega, q, ok = locate_hopf(system, x, point.param)
        if not ok or q is None:
            raise ContinuationError(f"the Hopf point at {param}={point.param} did not converge")
        q = q * np.exp(-0.5j * np.angle(q @ q))  # Re q orthogonal to Im q
        c = np.real(q) / (np.real(q) @ np.real(q))
        z0 = np.concatenate([x, [p, omega], np.real(q), np.imag(q)])
    else:
        x, p, v, ok = locate_fold(system, x, point.param)
        if not ok:
            raise ContinuationError(f"the fold at {param}={point.param} did not converge")
        c = v / (v @ v)
        z0 = np.concatenate([x, [p], v])
    variants_b, N, shape = _split_variants(variants)
    lams = jnp.linspace(0.0, 1.0, n_homotopy + 1)[1:]
    z, full, ok = _kernel(
        system, variants_b, jnp.asarray(z0), jnp.asarray(c), lams, kind, max_newton
    )
    z, full, ok = np.asarray(z), np.asarray(full), np.asarray(ok)
    omega = np.abs(z[:, n + 1]) if kind == "H" else np.full(N, np.nan)
    if kind == "H":
        ok = ok & (omega > 1e-8)
    if throw and not np.all(ok):
        bad = np.flatnonzero(~ok)
        raise ContinuationError(
            f"the {kind} point was not located for {bad.size} of {N} variants "
            f"(first: flat index {int(bad[0])})"
        )
    return VariantPoints(
        kind=SpecialPointKind(kind),
        param_name=param,
        params=z[:, n].reshape(shape),
        states=full.reshape(*shape, -1),
        omega=omega.reshape(shape),
        converged=ok.reshape(shape),
        state_names=tuple(model.state_names),
    )
