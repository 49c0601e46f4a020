"""An independent numpy Hodgkin-Huxley right-hand side (Hodgkin & Huxley 1952 as in
REFERENCES.md), shared by the tests that compare spikejax against scipy solves. Written
separately from `spikejax.models.HodgkinHuxley`; the 0/0 points of alpha_m (-40 mV) and
alpha_n (-55 mV) take their analytic limits."""

import numpy as np


def _linoid(x, k):
    """x / (1 - exp(-x/k)), with its limit k + x/2 near x = 0."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-9
    xs = np.where(small, 1.0, x)
    return np.where(small, k + x / 2, xs / (1 - np.exp(-xs / k)))


def hh_rhs(x, I=0.0):
    """d(V, m, h, n)/dt in mV/ms and 1/ms for input current I (uA/cm^2)."""
    V, m, h, n = x
    am, bm = 0.1 * _linoid(V + 40, 10), 4 * np.exp(-(V + 65) / 18)
    ah, bh = 0.07 * np.exp(-(V + 65) / 20), 1 / (1 + np.exp(-(V + 35) / 10))
    an, bn = 0.01 * _linoid(V + 55, 10), 0.125 * np.exp(-(V + 65) / 80)
    dV = I - 120 * m**3 * h * (V - 50) - 36 * n**4 * (V + 77) - 0.3 * (V + 54.387)
    return np.array([dV, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n])
