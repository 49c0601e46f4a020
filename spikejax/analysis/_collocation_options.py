"""The option checks shared by the collocation solvers (cycles and homoclinic orbits)."""

from __future__ import annotations

from typing import Any

from .._validation import check_positive


def check_collocation_options(n_intervals: Any, degree: Any, adapt_every: Any, tol: Any) -> None:
    """`ValueError` naming the option unless `n_intervals` is an integer >= 4, `degree` one
    from 2 to 7, `adapt_every` an integer >= 0 and `tol` > 0."""
    if not (isinstance(n_intervals, int) and n_intervals >= 4):
        raise ValueError(f"n_intervals must be an integer >= 4, got {n_intervals!r}")
    if not (isinstance(degree, int) and 2 <= degree <= 7):
        raise ValueError(f"degree must be an integer from 2 to 7, got {degree!r}")
    if not (isinstance(adapt_every, int) and adapt_every >= 0):
        raise ValueError(f"adapt_every must be an integer >= 0, got {adapt_every!r}")
    check_positive("tol", tol)
