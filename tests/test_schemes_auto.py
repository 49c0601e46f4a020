"""`method="auto"`: every engine asks the model for its scheme (`NeuronModel.default_scheme`).

Truths: the closed-form membrane potential of a linear LIF under a constant current,
$V(t) = E_L + R I (1 - e^{-t/\\tau})$, which the scheme picked for the equations must
reproduce to rounding at any step while forward Euler errs by $O(\\Delta t)$; and the
built-in models' results before `"auto"` existed (their engines' former defaults, RK4 for
`simulate`/`solve_fixed` and exponential Euler for populations), which must be unchanged
bit for bit (a consistency check of the dispatch).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax as sj
import spikejax.network as nw
from spikejax.models import LIF, HodgkinHuxley, Izhikevich, from_equations
from spikejax.solvers import RK4, ExactLinear, ExponentialEuler, get_scheme

pytest.importorskip("pint", reason="units need the optional dependency pint")

E_L, R, TAU, I_IN = -65.0, 1.0, 20.0, 10.0


def linear_lif():
    return from_equations(
        "dV/dt = (E_L - V + R*I)/tau_m : mV\nI : mV",
        parameters={"E_L": "-65 mV", "tau_m": "20 ms", "R": 1.0},
        init={"V": "E_L"},
    )


def closed_form(t):
    return E_L + R * I_IN * (1.0 - np.exp(-np.asarray(t) / TAU))


@pytest.mark.parametrize("dt", [0.01, 0.1, 1.0, 7.0])
def test_auto_integrates_a_linear_lif_exactly_at_any_dt(dt):
    m = linear_lif()
    assert isinstance(m.default_scheme, ExactLinear)
    r = sj.simulate(m, duration=70.0, dt=dt, I=I_IN)  # method="auto" is the default
    assert r.method == "exact"
    err = np.max(np.abs(r.states["V"] - closed_form(r.times)))
    # rounding of |V| ~ 65 mV (1.4e-14 per step), damped by the membrane: measured
    # 2e-14 to 1.2e-13 mV
    assert err < 1e-12, err
    euler = sj.simulate(m, duration=70.0, dt=dt, I=I_IN, method="euler")
    # forward Euler's global error is ~ dt/(2 tau) * R I / e (9e-4 mV at dt = 0.01)
    assert np.max(np.abs(euler.states["V"] - closed_form(euler.times))) > 5e-4


def test_auto_in_solve_fixed_uses_the_models_scheme():
    m = linear_lif()
    sol = sj.fit.solve_fixed(m, m.resting_state(), I_IN, dt=0.5, n_steps=100)
    t = 0.5 * np.arange(1, 101)
    np.testing.assert_allclose(sol.ys["V"], closed_form(t), rtol=0, atol=1e-12)
    # and its gradient is the closed form's: dV(T)/dtau = -R I T/tau^2 e^{-T/tau}
    g = jax.grad(
        lambda tau: sj.fit.solve_fixed(
            m.replace(tau_m=tau), m.resting_state(), I_IN, dt=0.5, n_steps=100
        ).final_state["V"]
    )(jnp.asarray(TAU))
    T = 50.0
    np.testing.assert_allclose(g, -R * I_IN * T / TAU**2 * np.exp(-T / TAU), rtol=1e-12)


def test_decoupled_and_coupled_linear_systems():
    # a diagonal system takes one exponential per variable inside ExactLinear; a coupled
    # one the matrix exponential: both exact for the linear system
    assert type(linear_lif())._spec.decoupled_linear
    coupled = from_equations("dx/dt = -x + w : 1\ndw/dt = -w : 1", init={"x": 0.0, "w": 1.0})
    assert not type(coupled)._spec.decoupled_linear
    r = sj.simulate(coupled, duration=4.0, dt=0.5)
    t = r.times
    np.testing.assert_allclose(r.states["x"], t * np.exp(-t), rtol=0, atol=1e-14)


def _built_ins():
    return [
        (LIF(), 1.5),
        (HodgkinHuxley(), 10.0),
        (Izhikevich(), 10.0),
    ]


@pytest.mark.parametrize("k", range(3))
def test_builtin_models_are_unchanged_under_auto_in_simulate(k):
    model, I = _built_ins()[k]
    assert model.default_scheme is None
    assert isinstance(get_scheme("auto", model), RK4)
    a = sj.simulate(model, duration=20.0, dt=0.05, I=I)
    b = sj.simulate(model, duration=20.0, dt=0.05, I=I, method="rk4")
    assert a.method == "rk4"
    for name in a.states:
        np.testing.assert_array_equal(a.states[name], b.states[name])
    np.testing.assert_array_equal(a.spike_times, b.spike_times)


def test_builtin_models_are_unchanged_under_auto_in_solve_fixed():
    model = Izhikevich()
    a = sj.fit.solve_fixed(model, model.resting_state(), 10.0, dt=0.1, n_steps=300)
    b = sj.fit.solve_fixed(model, model.resting_state(), 10.0, dt=0.1, n_steps=300, method="rk4")
    assert float(a.ys["spikes"].sum()) > 0
    np.testing.assert_array_equal(a.ys["V"], b.ys["V"])


def test_builtin_population_is_unchanged_under_auto():
    def run(**kw):
        src = nw.PoissonPopulation(20, 200.0, name="src")
        post = nw.Population(LIF(), 10, name="post", I=14.0, **kw)
        pr = nw.Projection(
            src, post, nw.FixedProbability(0.5), weight=2.0, synapse=nw.Exponential(2.0)
        )
        assert isinstance(post.method, ExponentialEuler)
        net = nw.Network([src, post], [pr], dt=0.1)
        mon, spk = nw.StateMonitor("post", "V"), nw.SpikeMonitor("post")
        res = nw.run(net, 30.0, key=jax.random.key(3), monitors=[mon, spk])
        assert np.asarray(res.spikes["post"][0]).size > 0
        return np.asarray(res.states[mon.key][1]), res.spikes["post"]

    (va, sa), (vb, sb) = run(), run(method="exponential_euler")
    np.testing.assert_array_equal(va, vb)
    for x, y in zip(sa, sb):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_bad_method_names_list_the_allowed_ones():
    allowed = "['auto', 'euler', 'exact', 'exponential_euler', 'rk4']"
    with pytest.raises(ValueError, match=r"method must be one of .*got 'rk5'") as err:
        get_scheme("rk5")
    assert allowed in str(err.value)
    with pytest.raises(ValueError, match="adaptive.*got 'Euler'"):
        sj.simulate(LIF(), duration=1.0, dt=0.1, method="Euler")
    with pytest.raises(ValueError, match=r"method must be one of \['auto'.*got 'rk'"):
        sj.fit.solve_fixed(LIF(), LIF().resting_state(), 0.0, dt=0.1, n_steps=2, method="rk")
    with pytest.raises(ValueError, match=r"method must be one of \['auto'.*got 3"):
        nw.Population(LIF(), 2, name="p", method=3)  # pyright: ignore[reportArgumentType]
    with pytest.raises(ValueError, match="pass the model"):
        get_scheme("auto")
