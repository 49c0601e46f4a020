"""Physical units of equation-defined models, at build time only (pint).

Units are checked and converted when a model is built; the generated JAX code carries plain
floats in spikejax's working units: time in ms, voltages in mV, and every other quantity in
the unit it was written in, with its voltage and time parts in mV and ms (a rate written in
1/s is held in 1/ms, a conductance written in nS stays in nS). The unit library, pint, is an
optional dependency (`pip install 'spikejax[units]'`): models written without units (every
unit `1` or left out) build without it.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import sympy as sp

from ._equations import UnitError

__all__ = ["UnitError", "registry"]


@functools.cache
def registry() -> Any:
    """The shared pint unit registry, or None when pint is not installed."""
    try:
        import pint
    except ImportError:
        return None
    # pint parses its definitions file on every start unless it may cache the result
    # (in the user's cache folder): 2-3 s against 0.1 s.
    try:
        return pint.UnitRegistry(cache_folder=":auto:")
    except Exception:  # noqa: BLE001 -- no writable cache folder: parse every time
        return pint.UnitRegistry()


def require_registry(what: str) -> Any:
    """The registry; `ImportError` saying how to install pint when it is missing."""
    ureg = registry()
    if ureg is None:
        raise ImportError(
            f"{what} uses physical units, which need the optional dependency pint: "
            "pip install 'spikejax[units]' (or write the model without units, in ms and mV)"
        )
    return ureg


def is_dimensionless_text(text: str) -> bool:
    """True for a unit written as `1` or left out."""
    return text.strip() in ("", "1")


def parse_unit(text: str, where: str) -> Any:
    """The pint unit written in `text` (`mV`, `uA/cm**2`, `uA/cm^2`, `volt`, `1`).

    **Raises:** `UnitError` naming `where` when `text` is not a unit.
    """
    ureg = require_registry(where)
    try:
        q = ureg.parse_expression(text.replace("^", "**"))
    except Exception as err:  # noqa: BLE001 -- pint raises several types for bad text
        raise UnitError(f"{where}: `{text}` is not a unit ({err})") from None
    if not hasattr(q, "units"):
        if isinstance(q, int | float) and q == 1:
            return ureg.dimensionless
        raise UnitError(f"{where}: `{text}` is not a unit")
    if q.magnitude != 1:
        raise UnitError(f"{where}: `{text}` is not a unit (it has a magnitude {q.magnitude})")
    return q.units


def lookup_unit(name: str) -> Any:
    """The pint unit called `name`, or None (no registry, or not a unit)."""
    ureg = registry()
    if ureg is None:
        return None
    try:
        q = ureg.parse_expression(name)
    except Exception:  # noqa: BLE001 -- not a unit name
        return None
    if not hasattr(q, "units") or q.magnitude != 1:
        return None
    return q.units


def si_scale(unit: Any) -> sp.Rational:
    """The exact factor from `unit` to SI base units (mV -> 1/1000, mS/cm**2 -> 10).

    Each component's factor is read from pint as a 15-digit decimal and made an exact
    rational, so that products of prefixes stay exact (pint's float products would not).
    """
    ureg = require_registry("a unit conversion")
    scale = sp.Integer(1)
    for name, power in unit._units.items():
        factor, _ = ureg.get_base_units(name)
        # pint's factors are float products (microfarad: 1.0000000000000002e-06): read to
        # 15 significant digits, they are the exact decimals of the definitions.
        scale = scale * sp.Rational(f"{float(factor):.15g}") ** sp.nsimplify(power)
    return sp.Rational(scale) if scale.is_Rational else scale  # pyright: ignore[reportReturnType]


def working_unit(unit: Any) -> Any:
    """The unit a quantity of `unit` is held in: mV^a ms^b when its dimension is
    voltage^a time^b (so mV, ms, 1/ms, mV/ms, 1/(mV ms)), otherwise `unit` itself."""
    ureg = require_registry("a unit conversion")
    dims = unit.dimensionality
    a = -dims.get("[current]", 0)
    b = dims.get("[time]", 0) + 3 * a
    candidate = ureg.dimensionless
    if a != 0:
        candidate = candidate * ureg.mV**a
    if b != 0:
        candidate = candidate * ureg.ms**b
    if candidate.dimensionality == dims:
        return candidate
    return unit


def display(unit: Any) -> str:
    """`unit` in short form (`mV/ms`, `1` for dimensionless)."""
    if unit is None:
        return "1"
    if unit.dimensionless and si_scale(unit) == 1:
        return "1"
    text = f"{unit:~C}"
    return text or "1"


def same_dimension(a: Any, b: Any) -> bool:
    """True when the units `a` and `b` measure the same dimension (None: dimensionless)."""
    da = {} if a is None else dict(a.dimensionality)
    db = {} if b is None else dict(b.dimensionality)
    return da == db


def to_working(name: str, value: Any) -> tuple[Any, Any]:
    """A parameter value and its unit: `(value in working units, working unit or None)`.

    Accepted: a number or array (already in working units; unit None), a string with a unit
    (`"20 ms"`, `"-65*mV"`), a pair `(value, "unit")`, or a pint quantity.

    **Raises:** `UnitError` naming the parameter for anything else.
    """
    if isinstance(value, str):
        ureg = require_registry(f"parameter {name!r}")
        try:
            q = ureg.Quantity(value.replace("^", "**"))
        except Exception as err:  # noqa: BLE001
            raise UnitError(
                f"parameter {name!r}: cannot read {value!r} as a quantity ({err})"
            ) from None
        if not hasattr(q, "units"):
            return float(q), None
        return _convert(name, q.magnitude, q.units)
    if isinstance(value, tuple):
        if len(value) != 2 or not isinstance(value[1], str):
            raise UnitError(f"parameter {name!r}: a pair must be (value, 'unit'), got {value!r}")
        unit = parse_unit(value[1], f"parameter {name!r}")
        return _convert(name, value[0], unit)
    if hasattr(value, "units") and hasattr(value, "magnitude"):
        return _convert(name, value.magnitude, value.units)
    return value, None


def _convert(name: str, magnitude: Any, unit: Any) -> tuple[Any, Any]:
    if isinstance(magnitude, bool) or not isinstance(magnitude, int | float | np.ndarray):
        try:
            magnitude = np.asarray(magnitude, dtype=float)
        except (TypeError, ValueError):
            raise UnitError(f"parameter {name!r}: {magnitude!r} is not a number") from None
    target = working_unit(unit)
    if target == unit:
        return magnitude, target
    factor = si_scale(unit) / si_scale(target)
    if factor == 1:
        return magnitude, target
    return magnitude * float(factor), target
