r"""Differentiable bifurcation currents via the implicit function theorem.

A codimension-one bifurcation of the equilibria of $\dot x = F(x, I; \theta)$ is the root of
the extended system
$$R(z;\theta) = \begin{pmatrix} F(x, I;\theta) \\ \tau(J_x(x, I;\theta)) \end{pmatrix} = 0,
\qquad z = (x, I),$$
with the test function $\tau$:
* saddle-node (fold; the rheobase of class-1 excitable models): $\tau(J) = \det J$;
* Hopf: $\tau(J) = \Delta_{n-1}(J)$, the $(n-1)$-th Hurwitz determinant of the
  characteristic polynomial of $J$, which vanishes when a pair of eigenvalues is
  $\pm i\omega$ (it also vanishes at neutral saddles, $\lambda_1 = -\lambda_2$ real;
  `hopf_current` reports $\omega^2$ so callers can check $\omega^2 > 0$).

The root is found by `spikejax.solvers.root_find` (Newton's method on $R$, optimistix) with
the implicit adjoint: no gradient through the iterations, the derivative is the
implicit-function-theorem one, $dz/d\theta = -(\partial R/\partial z)^{-1}
\partial R/\partial\theta$ (under `jit` and `vmap`).

These are single solves for fitting; `spikejax.analysis` has the full continuation
machinery. Both need float64 (the test functions are determinants whose round-off in float32
exceeds Newton's tolerances) and raise a `ValueError` naming `jax_enable_x64` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validation import require_float64
from ..models._base import NeuronModel, State
from ..solvers._root import RESULTS, root_find

__all__ = [
    "BifurcationPoint",
    "charpoly",
    "hopf_current",
    "hurwitz_determinant",
    "saddle_node_current",
]


def charpoly(J: Array) -> Array:
    r"""Coefficients $(1, a_1, \dots, a_n)$ of $\det(\lambda I - J) = \lambda^n + a_1\lambda^{n-1}
    + \dots + a_n$ by the Faddeev-LeVerrier recursion (differentiable, no eigensolver)."""
    n = J.shape[-1]
    eye = jnp.eye(n, dtype=J.dtype)
    coeffs = [jnp.ones((), J.dtype)]
    M = jnp.zeros_like(J)
    for k in range(1, n + 1):
        M = J @ M + coeffs[-1] * eye
        coeffs.append(-jnp.trace(J @ M) / k)
    return jnp.stack(coeffs)


def hurwitz_determinant(J: Array) -> Array:
    r"""$\Delta_{n-1}$, the $(n-1)$-th leading principal minor of the Hurwitz matrix of
    $\det(\lambda I - J)$; zero when $J$ has eigenvalues $\pm i\omega$ (Liu's Hopf criterion).
    For $n = 2$ it is $a_1 = -\mathrm{tr}\,J$."""
    a = charpoly(J)
    n = J.shape[-1]
    m = n - 1

    def coef(k):
        return a[k] if 0 <= k <= n else jnp.zeros((), J.dtype)

    H = jnp.stack([jnp.stack([coef(2 * (i + 1) - (j + 1)) for j in range(m)]) for i in range(m)])
    return jnp.linalg.det(H)


class BifurcationPoint(eqx.Module):
    """A located bifurcation: the current `I`, the equilibrium `state` there, and `omega2`
    ($\\omega^2$ of the critical pair for Hopf points, from the characteristic polynomial; NaN
    for saddle-nodes). All fields are differentiable with respect to the model parameters.
    `result` is the solve's `spikejax.solvers.RESULTS` value (`RESULTS.successful`, or why
    Newton failed when the call was made with `throw=False`)."""

    I: Array
    state: State
    omega2: Array
    result: RESULTS


def _extended_residual(model_template: NeuronModel, test: Callable[[Array], Array]):
    def residual(z, model):
        x, I = z[:-1], z[-1]

        def F(xx):
            return model.vector_field_array(0.0, xx, I)

        J = jax.jacfwd(F)(x)
        return jnp.concatenate([F(x), test(J)[None]])

    return residual


def _equilibrium_residual(x, args):
    model, I = args
    return model.vector_field_array(0.0, x, I)


def _initial_guess(model, I_guess, y_guess, max_steps):
    r"""Start of the extended solve: Newton on $F(x, I_\mathrm{guess}) = 0$ from `y_guess` (or
    rest). Only a guess: when there is no equilibrium at `I_guess` (beyond a fold) the last
    iterate is used and the extended solve decides."""
    y = model.resting_state() if y_guess is None else model.full_state(**y_guess)
    x0 = model.to_vector(y).reshape(-1)
    I = jnp.asarray(I_guess, dtype=x0.dtype)
    sol = root_find(_equilibrium_residual, x0, (model, I), max_steps=max_steps, throw=False)
    x = jnp.where(jnp.all(jnp.isfinite(sol.value)), sol.value, x0)
    return jnp.concatenate([x, I[None]])


def _locate(model, test, I_guess, y_guess, n_iter, throw) -> tuple[Array, State, RESULTS]:
    if model.shape != ():
        raise ValueError(
            f"bifurcation currents need a single cell (model.shape == ()), got {model.shape}; "
            "use jax.vmap over cells"
        )
    if not (isinstance(n_iter, int) and n_iter >= 1):
        raise ValueError(f"n_iter must be an integer >= 1, got {n_iter!r}")
    z0 = _initial_guess(jax.lax.stop_gradient(model), I_guess, y_guess, n_iter)
    residual = _extended_residual(model, test)
    sol = root_find(residual, z0, model, max_steps=n_iter, throw=throw)
    # `root_find` returns spikejax `RESULTS` in the optimistix Solution's `result` field.
    return sol.value, model.from_vector(sol.value[:-1]), cast(RESULTS, sol.result)


def saddle_node_current(
    model: NeuronModel,
    *,
    I_guess: ArrayLike,
    y_guess: dict[str, ArrayLike] | None = None,
    n_iter: int = 50,
    throw: bool = True,
) -> BifurcationPoint:
    r"""Saddle-node (fold) of equilibria: solve $F(x, I) = 0$, $\det J_x = 0$ near `I_guess`.

    For class-1 models this current is the rheobase. Newton starts from the equilibrium at
    `I_guess` (found from `y_guess`, default the resting state) and needs `I_guess` close to
    the fold from the side where the equilibrium exists. Differentiable with respect to the
    model's fields by the implicit function theorem (first derivatives).
    Izhikevich: $I_\mathrm{SN} = (5 - b)^2 / 0.16 - 140$.

    `n_iter` is the most Newton steps (`spikejax.solvers.root_find`). With `throw=True` a
    failed solve raises (also under `jit`); with `throw=False` it is reported in the returned
    point's `result`.
    """
    require_float64("spikejax.fit.saddle_node_current")
    z, state, result = _locate(model, jnp.linalg.det, I_guess, y_guess, n_iter, throw)
    nan = jnp.asarray(jnp.nan, z.dtype)
    return BifurcationPoint(I=z[-1], state=state, omega2=nan, result=result)


def hopf_current(
    model: NeuronModel,
    *,
    I_guess: ArrayLike,
    y_guess: dict[str, ArrayLike] | None = None,
    n_iter: int = 50,
    throw: bool = True,
) -> BifurcationPoint:
    r"""Hopf point of the equilibrium branch: solve $F(x, I) = 0$, $\Delta_{n-1}(J_x) = 0$.

    Newton starts from the equilibrium at `I_guess`. `omega2` is $\omega^2 = a_{n-1}/\Delta_{n-2}$
    from the characteristic polynomial (for $n = 4$, $a_3 / a_1$); check it is positive (a
    negative value means the root is a neutral saddle, not a Hopf point). Differentiable with
    respect to the model's fields by the implicit function theorem (first derivatives). For
    the Hodgkin-Huxley defaults the Hopf current is about 9.8 uA/cm^2. `n_iter` and `throw`
    as in `saddle_node_current`.
    """
    require_float64("spikejax.fit.hopf_current")
    z, state, result = _locate(model, hurwitz_determinant, I_guess, y_guess, n_iter, throw)
    x, I = z[:-1], z[-1]
    J = jax.jacfwd(lambda xx: model.vector_field_array(0.0, xx, I))(x)
    a = charpoly(J)
    n = J.shape[-1]
    # lambda = i*omega solves the characteristic polynomial; its imaginary part gives
    # omega^2 = a_2 (n = 2), a_3 / a_1 (n = 3 and n = 4).
    if n == 2:
        omega2 = a[2]
    elif n in (3, 4):
        omega2 = a[3] / a[1]
    else:
        omega2 = jnp.asarray(jnp.nan, x.dtype)
    return BifurcationPoint(I=I, state=state, omega2=omega2, result=result)
