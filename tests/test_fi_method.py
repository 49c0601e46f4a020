"""F-I curves use the model's own scheme by default (`method="auto"`).

Truths: the closed-form LIF rate $1/(t_\\mathrm{ref} + \\tau_m \\ln\\frac{E_L + RI -
V_r}{E_L + RI - V_\\mathrm{th}})$ for a LIF written as equations (stepped by its `exact`
scheme); for the built-in models (no preference) the default is RK4, bit for bit.
"""

import numpy as np
import pytest

from spikejax.analysis import fi_curve, pulse_response
from spikejax.models import LIF, from_equations

TAU, E_L, V_TH, V_R, T_REF = 20.0, -65.0, -50.0, -65.0, 2.0


def lif_from_text():
    return from_equations(
        "dV/dt = (E_L - V + R*I)/tau_m : 1 (unless refractory)",
        threshold="V > V_th",
        reset="V = V_r",
        refractory="t_ref",
        parameters={"tau_m": TAU, "E_L": E_L, "V_th": V_TH, "V_r": V_R, "t_ref": T_REF, "R": 1.0},
        init={"V": "E_L"},
    )


def lif_rate(I):
    return 1000.0 / (T_REF + TAU * np.log((E_L + I - V_R) / (E_L + I - V_TH)))


def test_equation_model_fi_curve_takes_its_own_scheme():
    m = lif_from_text()
    I = np.array([10.0, 16.0, 30.0])
    fi = fi_curve(m, I, duration=200.0, dt=0.02, transient=50.0)
    assert fi.info["method"] == "exact" and fi.rate_up is not None
    assert fi.rate_up[0] == 0.0  # E_L + R I below threshold
    # Spike times are on the dt grid (error <= dt = 0.02 ms per ISI of >= 12 ms): 0.2% rel.
    np.testing.assert_allclose(fi.rate_up[1:], lif_rate(I[1:]), rtol=2e-3, atol=0)


@pytest.mark.slow
def test_builtin_models_keep_rk4_bit_for_bit():
    I = np.array([16.0, 30.0])
    auto = fi_curve(LIF(), I, duration=50.0, dt=0.1)
    rk4 = fi_curve(LIF(), I, duration=50.0, dt=0.1, method="rk4")
    assert auto.info["method"] == "rk4" and auto.rate_up is not None
    np.testing.assert_array_equal(auto.rate_up, rk4.rate_up)
    assert auto.rate_up[-1] > 0


@pytest.mark.slow
def test_pulse_response_keeps_rk4_for_builtin_models():
    iv = [2.0, 10.0]
    np.testing.assert_array_equal(
        pulse_response(LIF(), iv, amplitude=10.0, width=1.0),
        pulse_response(LIF(), iv, amplitude=10.0, width=1.0, method="rk4"),
    )


def test_bad_method_is_named():
    with pytest.raises(ValueError, match="method must be one of"):
        fi_curve(LIF(), [1.0], duration=10.0, dt=0.1, method="leapfrog")
