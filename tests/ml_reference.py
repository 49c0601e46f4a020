"""An independent NumPy Morris-Lecar model (Rinzel & Ermentrout 1989) for the tests: the
vector field, the steady-state current, a finite-difference Jacobian and periods from scipy
simulations."""

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

CLASS1 = dict(gCa=4.0, V3=12.0, V4=17.4, phi=1.0 / 15.0)
CLASS2 = dict(gCa=4.4, V3=2.0, V4=30.0, phi=0.04)
HOMOCLINIC = dict(CLASS1, phi=0.23)


def rhs(p):
    """The Morris-Lecar vector field in NumPy (Rinzel & Ermentrout 1989), `f(t, y, I)`."""

    def f(t, y, I):
        V, w = y
        minf = 0.5 * (1 + np.tanh((V + 1.2) / 18.0))
        winf = 0.5 * (1 + np.tanh((V - p["V3"]) / p["V4"]))
        dV = (I - 2 * (V + 60) - p["gCa"] * minf * (V - 120) - 8 * w * (V + 84)) / 20
        return np.array([dV, p["phi"] * np.cosh((V - p["V3"]) / (2 * p["V4"])) * (winf - w)])

    return f


def i_inf(p, V):
    winf = 0.5 * (1 + np.tanh((V - p["V3"]) / p["V4"]))
    minf = 0.5 * (1 + np.tanh((V + 1.2) / 18.0))
    return 2 * (V + 60) + p["gCa"] * minf * (V - 120) + 8 * winf * (V + 84)


def jac(p, y, I, h=1e-6):
    f = rhs(p)
    return np.stack([(f(0, y + h * e, I) - f(0, y - h * e, I)) / (2 * h) for e in np.eye(2)], 1)


def period(p, I, y0, t_end, t_skip):
    """The period of the attractor reached from `y0`: the mean interval between the last
    upward crossings of 0 mV (event location), or None without spikes."""
    ev = lambda t, y, I: y[0]  # noqa: E731
    ev.direction = 1  # type: ignore[attr-defined]
    s = solve_ivp(rhs(p), (0, t_end), y0, args=(I,), rtol=1e-11, atol=1e-12, events=ev,
                  method="LSODA")  # fmt: skip
    t = s.t_events[0]
    t = t[t > t_skip]
    return None if t.size < 3 else float(np.mean(np.diff(t[-3:])))


def root(f, a, b, xtol=1e-13) -> float:
    """The root of `f` in `[a, b]` (scipy's brentq) as a float."""
    x = brentq(f, a, b, xtol=xtol, full_output=False)
    return float(x)  # pyright: ignore[reportArgumentType]
