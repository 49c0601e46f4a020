"""An equation-defined model in a network `Population`, like the built-in class.

Truth: the built-in `LIF` in the same network (one spike through an exponential current
synapse and a Poisson-free drive), in float32 (the network default): the traces agree to
float32 rounding and the spikes are the same.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax.network as nw
from spikejax.models import LIF, from_equations

pytest.importorskip("pint", reason="units need the optional dependency pint")


def _net(model, dtype):
    src = nw.SpikeSource(1, [0, 0, 0], [1.0, 3.0, 5.0], name="src", dt=0.1)
    # The built-in LIF's exact synaptic propagators are for the LIF class; both populations
    # hold the synaptic current over the step, so the two models see the same input.
    post = nw.Population(model, 3, name="post", initial={"V": -65.0}, synapse_integration="held")
    pr = nw.Projection(
        src,
        post,
        nw.Explicit(np.zeros(3, int), np.arange(3)),
        weight=[20.0, 40.0, 60.0],
        synapse=nw.Exponential(3.0),
    )
    return nw.Network([src, post], [pr], dt=0.1, dtype=dtype)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_population_of_an_equation_model_matches_the_builtin_class(dtype):
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
    out = []
    for model in (eq, ref):
        mon = nw.StateMonitor("post", "V")
        spk = nw.SpikeMonitor("post")
        res = nw.run(_net(model, dtype), 20.0, key=jax.random.key(0), monitors=[mon, spk])
        out.append((np.asarray(res.states[mon.key][1]), res.spikes["post"]))
    (v_eq, s_eq), (v_ref, s_ref) = out
    tol = 1e-4 if dtype == jnp.float32 else 1e-11  # mV: rounding of reordered arithmetic
    np.testing.assert_allclose(v_eq, v_ref, atol=tol)
    for a, b in zip(s_eq, s_ref):  # neuron indices, spike times
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.asarray(s_ref[0]).size > 0
