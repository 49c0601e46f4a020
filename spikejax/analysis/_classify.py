"""Classification of equilibria from the eigenvalues of their Jacobian.

Labels are decided with explicit tolerances, never exact float equality.
"""

from __future__ import annotations

import enum

import numpy as np


class FixedPointType(enum.Enum):
    """Type of an equilibrium.

    The five planar types of the explainer, their n-dimensional generalisations, and
    `NON_HYPERBOLIC` when an eigenvalue's real part is within tolerance of zero.
    """

    STABLE_NODE = "stable node"
    UNSTABLE_NODE = "unstable node"
    STABLE_FOCUS = "stable focus"
    UNSTABLE_FOCUS = "unstable focus"
    SADDLE = "saddle"
    SADDLE_FOCUS = "saddle-focus"
    NON_HYPERBOLIC = "non-hyperbolic"

    @property
    def is_stable(self) -> bool:
        return self in (FixedPointType.STABLE_NODE, FixedPointType.STABLE_FOCUS)


def classify(eigenvalues, *, rtol: float = 1e-9, atol: float = 1e-12) -> FixedPointType:
    """Type of an equilibrium from its Jacobian eigenvalues.

    An eigenvalue counts as having zero real part when $|\\mathrm{Re}\\,\\lambda| \\le$
    `atol` + `rtol` $\\max|\\lambda|$, and as complex when $|\\mathrm{Im}\\,\\lambda|$ exceeds the
    same bound. With all real parts negative (positive) the point is a stable (unstable) node,
    or a focus if any eigenvalue is complex; with both signs it is a saddle, or a saddle-focus
    if any eigenvalue is complex (possible for n >= 3).
    """
    ev = np.asarray(eigenvalues, dtype=complex).reshape(-1)
    if ev.size == 0:
        raise ValueError("eigenvalues must be non-empty")
    if not np.all(np.isfinite(ev)):
        raise ValueError(f"eigenvalues must be finite, got {ev}")
    scale = float(np.max(np.abs(ev)))
    tol = atol + rtol * scale
    re, im = ev.real, ev.imag
    if np.any(np.abs(re) <= tol):
        return FixedPointType.NON_HYPERBOLIC
    n_unstable = int(np.sum(re > 0))
    complex_pair = bool(np.any(np.abs(im) > tol))
    if n_unstable == 0:
        return FixedPointType.STABLE_FOCUS if complex_pair else FixedPointType.STABLE_NODE
    if n_unstable == ev.size:
        return FixedPointType.UNSTABLE_FOCUS if complex_pair else FixedPointType.UNSTABLE_NODE
    return FixedPointType.SADDLE_FOCUS if complex_pair else FixedPointType.SADDLE


def unstable_dimension(eigenvalues, *, rtol: float = 1e-9, atol: float = 1e-12) -> int:
    """Number of eigenvalues with real part clearly > 0 (the unstable manifold's dimension)."""
    ev = np.asarray(eigenvalues, dtype=complex).reshape(-1)
    tol = atol + rtol * float(np.max(np.abs(ev)))
    return int(np.sum(ev.real > tol))
