"""argparse value types for the command line: each rejects a bad value with a one-line usage
error (exit status 2) that names the allowed range; argparse adds the option's name."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def positive_float(unit: str) -> Callable[[str], float]:
    """A finite number > 0 (`unit` names its unit in the message)."""

    def parse(text: str) -> float:
        x = _number(text)
        if not (math.isfinite(x) and x > 0):
            raise argparse.ArgumentTypeError(f"must be a finite number > 0 {unit}, got {text!r}")
        return x

    parse.__name__ = "positive number"
    return parse


def nonnegative_float(unit: str) -> Callable[[str], float]:
    """A finite number >= 0."""

    def parse(text: str) -> float:
        x = _number(text)
        if not (math.isfinite(x) and x >= 0):
            raise argparse.ArgumentTypeError(f"must be a finite number >= 0 {unit}, got {text!r}")
        return x

    parse.__name__ = "non-negative number"
    return parse


def finite_float(text: str) -> float:
    """Any finite number."""
    x = _number(text)
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return x


def integer_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer in `[low, high]` (`high` None: no upper bound). Integral numbers written
    in exponent form (`1e5`) are accepted."""
    allowed = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"

    def parse(text: str) -> int:
        try:
            x = float(text)
        except ValueError:
            x = math.nan
        if not (math.isfinite(x) and x == int(x)):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}")
        n = int(x)
        if not (n >= low and (high is None or n <= high)):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}")
        return n

    parse.__name__ = "integer"
    return parse


def cpu_cores(text: str) -> str:
    """`auto`, `all`, or a number of cores in [1, the cores this process may use]."""
    from ..cpu import available_cpu_cores

    option = text.strip().lower()
    if option in ("auto", "all"):
        return option
    n_max = len(available_cpu_cores())
    try:
        integer_in(1, n_max)(option)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be 'auto', 'all' or an integer in [1, {n_max}], got {text!r}"
        ) from None
    return str(int(float(option)))
