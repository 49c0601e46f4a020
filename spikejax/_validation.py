"""Input checks that name the offending parameter and its allowed range.

Checks run only on concrete values: inside `jax.jit`, `jax.vmap` or `jax.grad` the values are
tracers and are checked where they were created (at the outer, concrete call). Every range
check is written as `not (x > 0)` so that NaN fails it too.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer


def is_concrete(value: Any) -> bool:
    """True if `value` holds concrete numbers (not a JAX tracer)."""
    leaves = jax.tree_util.tree_leaves(value)
    return not any(isinstance(leaf, Tracer) for leaf in leaves)


def _as_array(name: str, value: Any) -> np.ndarray:
    """`value` as a float64 NumPy array; `TypeError` naming `name` unless it is a real number
    or an array of real numbers (int or float of any width, bfloat16 included; not bool,
    complex, strings, None or other objects, which NumPy would convert silently or with an
    error that does not say which parameter)."""
    if value is None or isinstance(value, str | bytes | bool | np.bool_) or callable(value):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a real number or an array of real numbers, got {value!r}"
        ) from err
    kind = arr.dtype.kind
    real = kind in "iuf" or (kind == "V" and jax.numpy.issubdtype(arr.dtype, jax.numpy.floating))
    if not real:
        raise TypeError(
            f"{name} must be a real number or an array of real numbers, got "
            f"{_short(value)} of dtype {arr.dtype}"
        )
    return arr.astype(float)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(value: np.ndarray, bad: np.ndarray | None = None) -> str:
    """The value for an error message: a scalar as itself; an array by its shape and its first
    offending element with its index (`bad`: the elements that fail the check; default the
    non-finite ones), else its minimum."""
    if value.ndim == 0:
        return repr(float(value))
    flat = value.reshape(-1)
    bad = ~np.isfinite(flat) if bad is None else np.asarray(bad).reshape(-1)
    where = np.flatnonzero(bad)
    if where.size:
        idx = np.unravel_index(int(where[0]), value.shape)
        index = int(idx[0]) if len(idx) == 1 else tuple(int(i) for i in idx)
        more = f" (and {where.size - 1} more)" if where.size > 1 else ""
        return f"array of shape {value.shape} with {float(flat[where[0]])!r} at index {index}{more}"
    low = np.nanmin(flat) if np.any(np.isfinite(flat)) else flat[0]
    return f"array of shape {value.shape} (min {float(low)!r})"


def check_finite(name: str, value: Any) -> None:
    """Raise `ValueError` unless every element of `value` is finite."""
    if not is_concrete(value):
        return
    arr = _as_array(name, value)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {_describe(arr)}")


def check_positive(name: str, value: Any, unit: str = "") -> None:
    """Raise `ValueError` unless every element of `value` is finite and > 0."""
    if not is_concrete(value):
        return
    arr = _as_array(name, value)
    bad = ~((arr > 0) & np.isfinite(arr))
    if np.any(bad):
        suffix = f" {unit}" if unit else ""
        raise ValueError(f"{name} must be finite and > 0{suffix}, got {_describe(arr, bad)}")


def positive_under_jit(name: str, value: Any, unit: str = "") -> Any:
    """`value`, checked finite and > 0: at call time (`check_positive`) when concrete, and
    under `jax.jit`/`grad`/`vmap` (traced) with `eqx.error_if`, which raises when the compiled
    program runs. For scalars that engines take as traced values (e.g. `dt` in
    `spikejax.fit.solve_fixed`): one comparison per call, a negligible cost."""
    if is_concrete(value):
        check_positive(name, value, unit)
        return value
    suffix = f" {unit}" if unit else ""
    value = jnp.asarray(value)
    return eqx.error_if(
        value, ~(jnp.isfinite(value) & (value > 0)), f"{name} must be finite and > 0{suffix}"
    )


def check_nonnegative(name: str, value: Any, unit: str = "") -> None:
    """Raise `ValueError` unless every element of `value` is finite and >= 0."""
    if not is_concrete(value):
        return
    arr = _as_array(name, value)
    bad = ~((arr >= 0) & np.isfinite(arr))
    if np.any(bad):
        suffix = f" {unit}" if unit else ""
        raise ValueError(f"{name} must be finite and >= 0{suffix}, got {_describe(arr, bad)}")


def check_nonzero(name: str, value: Any, unit: str = "") -> None:
    """Raise `ValueError` unless every element of `value` is finite and != 0."""
    if not is_concrete(value):
        return
    arr = _as_array(name, value)
    bad = ~((arr != 0) & np.isfinite(arr))
    if np.any(bad):
        suffix = f" ({unit})" if unit else ""
        raise ValueError(f"{name} must be finite and nonzero{suffix}, got {_describe(arr, bad)}")


def check_scalar(name: str, value: Any) -> None:
    """Raise `ValueError` unless `value` is a single number (a 0-d array or a Python number)."""
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a single number, got shape {np.shape(value)}")


def check_less(name_lo: str, lo: Any, name_hi: str, hi: Any) -> None:
    """Raise `ValueError` unless `lo < hi` elementwise."""
    if not (is_concrete(lo) and is_concrete(hi)):
        return
    a, b = _as_array(name_lo, lo), _as_array(name_hi, hi)
    if not np.all(a < b):
        bad = ~(a < b)
        raise ValueError(
            f"{name_lo} must be < {name_hi}, got {name_lo}={_describe(a, _bad_of(a, bad))}, "
            f"{name_hi}={_describe(b, _bad_of(b, bad))}"
        )


def _bad_of(value: np.ndarray, bad: np.ndarray) -> np.ndarray | None:
    """`bad` (broadcast over both sides of a comparison) restricted to `value`'s shape, when
    the shapes match; else None (describe `value` by its non-finite elements)."""
    return bad if bad.shape == value.shape else None


def broadcast_shape(owner: str, named_values: dict[str, Any]) -> tuple[int, ...]:
    """The common broadcast shape of parameters; `ValueError` naming them if incompatible."""
    shapes = {k: np.shape(v) for k, v in named_values.items()}
    try:
        return tuple(np.broadcast_shapes(*shapes.values())) if shapes else ()
    except ValueError:
        nonscalar = {k: s for k, s in shapes.items() if s != ()}
        raise ValueError(
            f"{owner}: parameter shapes do not broadcast together: {nonscalar}"
        ) from None


def check_key(name: str, key: Any) -> None:
    """Raise `TypeError` unless `key` is a JAX PRNG key (`jax.random.key(seed)`, or a legacy
    `jax.random.PRNGKey(seed)` uint32 array of shape `(..., 2)`)."""
    if not is_concrete(key):
        return
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return
    if (
        isinstance(key, jax.Array | np.ndarray)
        and key.dtype == np.uint32
        and key.ndim >= 1
        and key.shape[-1] == 2
    ):
        return
    raise TypeError(
        f"{name} must be a JAX PRNG key, e.g. {name}=jax.random.key(0), got {_short(key)}"
    )


def float64_enabled() -> bool:
    """True when JAX computes in float64 (`jax_enable_x64` is on)."""
    return bool(jax.config.read("jax_enable_x64"))


def require_float64(where: str) -> None:
    """Raise `ValueError` unless float64 is enabled, saying how to enable it.

    Used by the analysis functions whose results need double precision (equilibria,
    continuation, limit cycles, normal forms): in float32 their Newton solves stall at the
    type's resolution and would report a wrong cause ("no equilibrium near y0").
    """
    if not float64_enabled():
        raise ValueError(
            f"{where} computes in float64 and JAX is in float32: enable float64 with "
            "jax.config.update('jax_enable_x64', True) at the start of the program"
        )


def to_arrays(tree: Any) -> Any:
    """`tree` with its Python and NumPy number leaves as float JAX arrays (bools kept).

    `equinox.filter_jit` treats Python numbers as static, so a model with float fields would
    compile anew for every parameter value; with arrays one compiled program serves them all.
    """
    import jax.numpy as jnp

    def conv(x: Any) -> Any:
        if isinstance(x, bool):
            return x
        if isinstance(x, float | int | np.ndarray | np.generic):
            arr = np.asarray(x)
            if arr.dtype.kind in "fiu":
                return jnp.asarray(arr, dtype=jnp.result_type(float))
        return x

    return jax.tree_util.tree_map(conv, tree)
