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
    re, im = np.real(ev), np.imag(ev)
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
    return int(np.sum(np.real(ev) > tol))


def describe(eigenvalues, *, rtol: float = 1e-9, atol: float = 1e-12) -> str:
    """A label such as `"saddle-focus, 2 unstable directions"` (type plus unstable dimension)."""
    kind = classify(eigenvalues, rtol=rtol, atol=atol)
    k = unstable_dimension(eigenvalues, rtol=rtol, atol=atol)
    return f"{kind.value}, {k} unstable direction{'s' if k != 1 else ''}"


def trace_determinant(jacobian) -> tuple[float, float]:
    """`(trace, determinant)` of a 2 x 2 Jacobian (`ValueError` for any other shape)."""
    J = np.asarray(jacobian, dtype=float)
    if J.shape != (2, 2):
        raise ValueError(
            f"the trace-determinant chart applies to planar (2 x 2) Jacobians, got shape {J.shape}"
        )
    return float(J[0, 0] + J[1, 1]), float(J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0])


def planar_type(trace: float, det: float, *, atol: float = 1e-12) -> FixedPointType:
    r"""Type of a planar equilibrium from the trace $\tau$ and determinant $\Delta$.

    $\Delta < 0$: saddle; $\Delta > 0$: stable ($\tau < 0$) or unstable ($\tau > 0$), a focus
    when $\tau^2 < 4\Delta$ and a node otherwise; $|\Delta| \le$ `atol` or ($\Delta > 0$ and
    $|\tau| \le$ `atol`): non-hyperbolic (a zero or purely imaginary eigenvalue pair).
    """
    if abs(det) <= atol or (det > 0 and abs(trace) <= atol):
        return FixedPointType.NON_HYPERBOLIC
    if det < 0:
        return FixedPointType.SADDLE
    focus = trace * trace < 4.0 * det
    if trace < 0:
        return FixedPointType.STABLE_FOCUS if focus else FixedPointType.STABLE_NODE
    return FixedPointType.UNSTABLE_FOCUS if focus else FixedPointType.UNSTABLE_NODE


def trace_determinant_chart_data(
    trace_range: tuple[float, float] = (-2.0, 2.0), *, n: int = 201
) -> dict:
    r"""Curves and region anchors of the trace-determinant chart of planar equilibria.

    **Returns:** a dict with `"parabola"` (`(tau, tau^2/4)` arrays: nodes below it, foci
    above), `"det_zero"` (the $\Delta = 0$ line: saddles below it) and `"labels"`
    (`FixedPointType` -> `(tau, Delta)` positions for region labels, inside each region).
    """
    lo, hi = (float(v) for v in trace_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"trace_range must be a finite (lo, hi) with lo < hi, got {trace_range!r}")
    tau = np.linspace(lo, hi, n)
    w = max(abs(lo), abs(hi))
    d_top = w * w / 4.0
    labels = {
        FixedPointType.SADDLE: (0.0, -0.5 * d_top),
        FixedPointType.STABLE_NODE: (-0.75 * w, 0.5 * (0.75 * w) ** 2 / 4.0),
        FixedPointType.UNSTABLE_NODE: (0.75 * w, 0.5 * (0.75 * w) ** 2 / 4.0),
        FixedPointType.STABLE_FOCUS: (-0.3 * w, 0.75 * d_top),
        FixedPointType.UNSTABLE_FOCUS: (0.3 * w, 0.75 * d_top),
    }
    return {
        "parabola": (tau, tau * tau / 4.0),
        "det_zero": (np.array([lo, hi]), np.zeros(2)),
        "labels": labels,
    }
