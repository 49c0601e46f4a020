"""HH rate functions at and near their removable singularities (V = -40 mV for alpha_m,
-55 mV for alpha_n): values and derivatives in float32 and float64 against the analytic
functions evaluated with mpmath at 50 significant digits.

The truth is taken at the voltage actually represented in each dtype (V + 40 is rounded
to float32's grid of about 4e-6 mV near -40 mV), so the comparison measures the rate
function's own error, not the rounding of its argument."""

import textwrap

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from spikejax.models._hodgkin_huxley import HodgkinHuxley, alpha_m, alpha_n

mpmath.mp.dps = 50

# Exactly at the singularity, a sweep over 1e-5..1e-1 mV on both sides (where float32 slopes
# were up to 25% off), and points well away from it.
_SWEEP = [float(d) for d in np.geomspace(1e-5, 1e-1, 17)]
OFFSETS = [0.0, 1e-7, *_SWEEP, *[-d for d in _SWEEP], -0.7, 3.0, 9.0, -11.0]


def _linoid_rate(c, V_half, k):
    """c x / (1 - e^{-x/k}) with x = V - V_half, and its analytic derivative
    c [(1 - e^{-u}) - u e^{-u}] / (1 - e^{-u})^2 (u = x/k); limits c k and c/2 at x = 0."""

    def f(V):
        x = mpmath.mpf(float(V)) - V_half
        if x == 0:
            return c * k, c / 2
        u = x / k
        e = mpmath.exp(-u)
        return c * x / (1 - e), c * ((1 - e) - u * e) / (1 - e) ** 2

    return f


_alpha_m = _linoid_rate(mpmath.mpf("0.1"), -40, 10)
_alpha_n = _linoid_rate(mpmath.mpf("0.01"), -55, 10)


def _truth(f, V):
    """Value and derivative at the exact (binary) V, at 50 significant digits."""
    val, slope = f(V)
    return float(val), float(slope)


@pytest.mark.parametrize("name,f,truth,V0", [
    ("alpha_m", alpha_m, _alpha_m, -40.0),
    ("alpha_n", alpha_n, _alpha_n, -55.0),
])  # fmt: skip
def test_rate_and_slope_near_singularity_float64(name, f, truth, V0):
    grad = jax.grad(lambda v: f(v))
    for d in OFFSETS:
        V = np.float64(V0 + d)
        val, slope = _truth(truth, V)
        # float64: a few ulps in the value and the slope.
        assert abs(float(f(jnp.asarray(V))) - val) <= 1e-14 * abs(val), (name, d)
        assert abs(float(grad(jnp.asarray(V))) - slope) <= 1e-13 * abs(slope), (name, d)


def test_rate_and_slope_near_singularity_float32(fresh_python, tmp_path):
    # A float32 interpreter (JAX's default), as a user's program runs.
    code = textwrap.dedent(
        """
        import jax, jax.numpy as jnp, numpy as np
        assert not jax.config.read("jax_enable_x64")
        from spikejax.models._hodgkin_huxley import alpha_m, alpha_n
        out = []
        for f, V0 in ((alpha_m, -40.0), (alpha_n, -55.0)):
            for d in {offsets!r}:
                V = jnp.float32(V0 + d)
                out.append((float(V), float(f(V)), float(jax.grad(f)(V))))
        print(repr(out))
        """
    ).format(offsets=OFFSETS)
    status, out = fresh_python.run(code, tmp_path, 300)
    assert status == 0, out[-2000:]
    got = eval(out.strip().splitlines()[-1])  # noqa: S307 -- our own repr of floats
    n = len(OFFSETS)
    for i, (V, val, slope) in enumerate(got):
        truth = _alpha_m if i < n else _alpha_n
        tv, ts = _truth(truth, V)
        # float32: values within 4 ulps (relative 5e-7) and slopes within 2e-6 relative (the
        # closed form's eps/u^2 at the series bound); before, slopes were up to 25% off.
        assert abs(val - tv) <= 5e-7 * abs(tv), (i, V, val, tv)
        assert abs(slope - ts) <= 2e-6 * abs(ts), (i, V, slope, ts)


def test_fused_hh_step_rates_keep_precision_near_singularity():
    # The fused exponential Euler step's phi1 branch: its rates at V = -40 + d agree with
    # hh_rates' (linoid) to round-off in float64, on both sides of the series bound.
    from spikejax.models._conductance import phi1_exp

    for d in OFFSETS:
        z = -(d) / 10.0
        got = 1.0 / float(phi1_exp(jnp.asarray(z)))
        want = float(alpha_m(jnp.asarray(-40.0 + d)))
        assert abs(got - want) <= 1e-14 * abs(want), d
    assert HodgkinHuxley().shape == ()
