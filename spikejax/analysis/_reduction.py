r"""Planar reductions of the Hodgkin-Huxley model (approximations, for phase-plane pictures).

Rinzel's reduction (Rinzel 1985, *Lecture Notes in Biomathematics* 66; see also Izhikevich
2007, *Dynamical Systems in Neuroscience*, sec. 5.2): the fast sodium activation is set to
its steady state, $m = m_\infty(V)$, and the slow variables $h$ and $n$ are tied by a linear
relation $h \approx h_0 - h_1 n$ (along HH trajectories $h + n$ is nearly constant). With
Izhikevich's $h = 0.89 - 1.1\,n$ the four-dimensional model becomes the planar system

$$C \dot V = I - \bar g_\mathrm{Na} m_\infty(V)^3 (h_0 - h_1 n)(V - E_\mathrm{Na})
- \bar g_\mathrm{K} n^4 (V - E_\mathrm{K}) - g_L (V - E_L),\qquad
\dot n = \alpha_n(V)(1 - n) - \beta_n(V) n.$$

This is an **approximation**: its equilibria, thresholds and bifurcation currents differ
from the full model's (e.g. the rest state at $I = 0$ moves from -65.0 mV); use it to draw and
reason, and the full `HodgkinHuxley` model for numbers.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..models._hodgkin_huxley import HodgkinHuxley
from ..models._reduced_hh import ReducedHodgkinHuxley

__all__ = ["reduce_hh"]


def reduce_hh(
    model: HodgkinHuxley | None = None,
    *,
    h_relation: str = "izhikevich",
    V_fit: tuple[float, float] = (-80.0, 40.0),
) -> ReducedHodgkinHuxley:
    r"""Rinzel's planar reduction of a `HodgkinHuxley` model (an approximation).

    **Arguments:**

    - `model`: the full model (default `HodgkinHuxley()`); its parameters are copied.
    - `h_relation`: `"izhikevich"` for $h = 0.89 - 1.1 n$, or `"fit"` for the least-squares
      line through the steady-state curve $(n_\infty(V), h_\infty(V))$ on 241 voltages
      spaced evenly over `V_fit` (mV).

    **Returns:** a `spikejax.models.ReducedHodgkinHuxley` with state `(V, n)`.
    """
    model = HodgkinHuxley() if model is None else model
    if not isinstance(model, HodgkinHuxley):
        raise ValueError(f"model must be a HodgkinHuxley model, got {type(model).__name__}")
    params = {k: model.parameters()[k] for k in ("C", "gNa", "gK", "gL", "ENa", "EK", "EL")}
    if h_relation == "izhikevich":
        h0, h1 = 0.89, 1.1
    elif h_relation == "fit":
        lo, hi = V_fit
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise ValueError(
                f"V_fit must be a finite interval (lo, hi) with lo < hi, got {V_fit!r}"
            )
        V = jnp.linspace(lo, hi, 241)
        g = HodgkinHuxley.steady_state_gates(V)
        slope, intercept = np.polyfit(np.asarray(g["n"]), np.asarray(g["h"]), 1)
        h0, h1 = float(intercept), float(-slope)
    else:
        raise ValueError(f"h_relation must be 'izhikevich' or 'fit', got {h_relation!r}")
    return ReducedHodgkinHuxley(**params, h0=h0, h1=h1)
