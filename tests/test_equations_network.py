"""An equation-defined model in a network `Population`, like the built-in class.

Truths: the closed-form PSP of a current-based LIF receiving one exponential synaptic
current, $V - E_L = \frac{w}{C}\frac{\tau_m\tau_s}{\tau_m - \tau_s}
(e^{-t/\tau_m} - e^{-t/\tau_s})$, which the exact synaptic propagators give at every grid
time whatever the step; and the built-in `LIF` in the same network, on the exact and on the
held path, in float32 (the network default) and float64 (a consistency check: the traces
agree to rounding and the spikes are the same).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax.network as nw
from spikejax.models import LIF, from_equations

pytest.importorskip("pint", reason="units need the optional dependency pint")


def _net(model, dtype, integration):
    src = nw.SpikeSource(1, [0, 0, 0], [1.0, 3.0, 5.0], name="src", dt=0.1)
    post = nw.Population(
        model, 3, name="post", initial={"V": -65.0}, synapse_integration=integration
    )
    pr = nw.Projection(
        src,
        post,
        nw.Explicit(np.zeros(3, int), np.arange(3)),
        weight=[20.0, 40.0, 60.0],
        synapse=nw.Exponential(3.0),
    )
    return nw.Network([src, post], [pr], dt=0.1, dtype=dtype)


@pytest.mark.parametrize("integration", ["exact", "held"])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_population_of_an_equation_model_matches_the_builtin_class(dtype, integration):
    eq = from_equations(
        "dV/dt = (-(V - E_L) + R*I)/tau_m : mV (unless refractory)\nI : mV",
        threshold="V > V_th",
        reset="V = V_reset",
        refractory="t_ref",
        parameters={
            "tau_m": "10 ms",
            "E_L": "-65 mV",
            "V_th": "-55 mV",
            "V_reset": "-70 mV",
            "t_ref": "2 ms",
            "R": 1.0,
        },
        init={"V": "E_L"},
    )
    ref = LIF(tau_m=10.0, E_L=-65.0, V_th=-55.0, V_reset=-70.0, t_ref=2.0)
    assert eq.membrane_time_constant() == 10.0
    out = []
    for model in (eq, ref):
        net = _net(model, dtype, integration)
        post = net.populations["post"]
        assert post.exact_synapses(False) == (integration == "exact")
        mon = nw.StateMonitor("post", "V")
        spk = nw.SpikeMonitor("post")
        res = nw.run(net, 20.0, key=jax.random.key(0), monitors=[mon, spk])
        out.append((np.asarray(res.states[mon.key][1]), res.spikes["post"]))
    (v_eq, s_eq), (v_ref, s_ref) = out
    tol = 1e-4 if dtype == jnp.float32 else 1e-11  # mV: rounding of reordered arithmetic
    np.testing.assert_allclose(v_eq, v_ref, atol=tol)
    for a, b in zip(s_eq, s_ref):  # neuron indices, spike times
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.asarray(s_ref[0]).size > 0


E_L, C, TAU_M, TAU_S, W, T_ARRIVE = -65.0, 2.0, 10.0, 3.0, 1.5, 1.0


def current_lif():
    return from_equations(
        "dV/dt = (E_L - V)/tau_m + I/C : mV\nI : nA",
        parameters={"E_L": "-65 mV", "tau_m": "10 ms", "C": "2 nF"},
        init={"V": "E_L"},
    )


def _psp_trace(model, dt, dtype, integration="exact"):
    src = nw.SpikeSource(1, [0], [T_ARRIVE], name="src", dt=dt)
    post = nw.Population(model, 1, name="post", synapse_integration=integration)
    pr = nw.Projection(
        src, post, nw.Explicit(np.zeros(1, int), np.arange(1)), weight=W,
        synapse=nw.Exponential(TAU_S),
    )  # fmt: skip
    mon = nw.StateMonitor("post", "V")
    net = nw.Network([src, post], [pr], dt=dt, dtype=dtype)
    res = nw.run(net, 20.0, key=jax.random.key(0), monitors=[mon])
    t, v = res.states[mon.key]
    return np.asarray(t), np.asarray(v)[:, 0, 0]


def psp_closed_form(t):
    s = np.maximum(np.asarray(t) - T_ARRIVE, 0.0)  # the current jumps at the arrival
    k = W / C * TAU_M * TAU_S / (TAU_M - TAU_S)
    return E_L + k * (np.exp(-s / TAU_M) - np.exp(-s / TAU_S))


@pytest.mark.parametrize("dt", [0.01, 0.1, 1.0])
def test_equation_lif_psp_is_exact_at_any_dt(dt):
    m = current_lif()
    assert m.membrane_time_constant() == TAU_M  # dV/dt = a V + c I + b: linear membrane
    t, v = _psp_trace(m, dt, jnp.float64)
    assert np.max(v - E_L) > 1.0  # a PSP of a fair size (peak 1.34 mV)
    # rounding only (measured 1.4e-14 to 8.5e-14 mV)
    np.testing.assert_allclose(v, psp_closed_form(t), rtol=0, atol=1e-12)
    if dt == 0.1:
        _, held = _psp_trace(m, dt, jnp.float64, integration="held")
        assert np.max(np.abs(held - psp_closed_form(t))) > 1e-2  # first order in dt


def test_equation_lif_psp_float32():
    t, v = _psp_trace(current_lif(), 0.1, jnp.float32)
    # float32: within 5e-5 mV (7 units of float32's resolution at |V| = 65 mV, 7.6e-6: the
    # rounding of V accumulated over the decay; measured 2.0e-5), the built-in LIF's bound
    np.testing.assert_allclose(v, psp_closed_form(t), rtol=0, atol=5e-5)


def test_which_equation_models_get_exact_propagators():
    # dV/dt = a V + c I + b with a, b, c built from parameters, I in no other equation
    assert current_lif().membrane_time_constant() is not None
    coupled = from_equations(
        "dV/dt = (-V - w + I)/tau : 1\ndw/dt = (V - w)/tau_w : 1",
        parameters={"tau": 10.0, "tau_w": 100.0},
    )
    assert coupled.membrane_time_constant() is None  # V coupled to w
    into_w = from_equations("dV/dt = -V/tau : 1\ndw/dt = (I - w)/tau : 1", parameters={"tau": 10.0})
    assert into_w.membrane_time_constant() is None  # I drives another variable
    quadratic = from_equations("dV/dt = (V**2 + I)/tau : 1", parameters={"tau": 10.0})
    assert quadratic.membrane_time_constant() is None
    gain = from_equations("dV/dt = (-V + V*I)/tau : 1", parameters={"tau": 10.0})
    assert gain.membrane_time_constant() is None  # the input's coefficient depends on V
    integrator = from_equations(
        "dV/dt = -g*V + I : 1", parameters={"g": 0.0}
    )  # fmt: skip
    assert integrator.membrane_time_constant() is None  # a = 0: the held path
    g01 = integrator.replace(g=0.1)
    assert g01.membrane_time_constant() == pytest.approx(10.0)  # pyright: ignore[reportAttributeAccessIssue]
    # coupled but linear with constant coefficients: every state variable driven exactly
    # (tests/test_equations_coupled.py)
    pop = nw.Population(coupled, 2, name="p")
    assert coupled.linear_input() is not None and pop.drives_states()
    assert pop.exact_synapses(False)
    assert not nw.Population(quadratic, 2, name="s").exact_synapses(False)
    assert nw.Population(current_lif(), 2, name="q").exact_synapses(False)
    assert not nw.Population(current_lif(), 2, name="r", method="rk4").exact_synapses(False)
