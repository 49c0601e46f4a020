"""Stimuli given to a network population reach the model as in an independent numpy integration.

The model is a passive LIF (threshold out of reach, no synapses), whose exponential Euler step
with the current held over the step is exact:
$V_{k+1} = V_\\infty + (V_k - V_\\infty)\\,a$, $a = e^{-\\Delta t/\\tau_m}$,
$V_\\infty = E_L + R\\,I(t_k)$. The reference evaluates each stimulus from its definition in
numpy (never through `stim(t)`); the noise stimuli are checked against the closed-form
stationary moments of the resulting linear stochastic recursions.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from spikejax import network as nw
from spikejax import stimulus as st
from spikejax.models import LIF

DT = 0.1
TAU, E_L, R = 10.0, -65.0, 2.0
N_STEPS = 120
LIF_PASSIVE = LIF(tau_m=TAU, E_L=E_L, V_th=1e6, V_reset=-70.0, t_ref=0.0, R=R)


def _numpy_currents(kind, t, n):
    """The current at times `t` (ms, `(n_steps,)`) for `n` cells, from the stimulus
    definitions written out in numpy."""
    t = t[:, None]
    ramp = np.linspace(-1.0, 2.0, n)[None, :]
    if kind == "constant":
        return np.broadcast_to(3.0, (t.size, n))
    if kind == "constant_array":
        return np.broadcast_to(ramp, (t.size, n))
    if kind == "step":
        return np.broadcast_to(np.where((t >= 2.05) & (t < 6.05), 4.0, 0.5), (t.size, n))
    if kind == "pulse_train":
        on = np.zeros_like(t, dtype=bool)
        for o in (1.05, 4.05, 8.05):
            on |= (t >= o) & (t < o + 1.5)
        return np.broadcast_to(np.where(on, 5.0, 0.0), (t.size, n))
    if kind == "function":
        return np.broadcast_to(2.0 * np.sin(t / 2.0), (t.size, n))
    if kind == "sum":
        return np.where((t >= 2.05) & (t < 6.05), 4.0, 0.5) + ramp
    raise AssertionError(kind)


def _stimulus(kind, n):
    ramp = np.linspace(-1.0, 2.0, n)
    return {
        "constant": 3.0,
        "constant_array": ramp,
        "step": st.Step(2.05, 6.05, amplitude=4.0, baseline=0.5),
        "pulse_train": st.PulseTrain([1.05, 4.05, 8.05], width=1.5, amplitude=5.0),
        "function": st.Function(lambda t: 2.0 * jnp.sin(t / 2.0)),
        "sum": st.Step(2.05, 6.05, amplitude=4.0, baseline=0.5) + st.Constant(ramp),
    }[kind]


def _reference_v(currents, V0):
    a = np.exp(-DT / TAU)
    V = np.empty((currents.shape[0] + 1, currents.shape[1]))
    V[0] = V0
    for k in range(currents.shape[0]):
        v_inf = E_L + R * currents[k]
        V[k + 1] = v_inf + (V[k] - v_inf) * a
    return V


def _passive_net(I, n, dtype, **kw):
    pop = nw.Population(LIF_PASSIVE, n, name="P", I=I, initial={"V": -60.0})
    return nw.Network([pop], dt=DT, dtype=dtype, **kw)


@pytest.mark.parametrize(
    "kind", ["constant", "constant_array", "step", "pulse_train", "function", "sum"]
)
@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_deterministic_stimuli_reach_the_model_as_in_numpy(kind, dtype):
    # float64: the same recursion up to round-off (1e-11 mV on |V| ~ 65 mV over 120 steps);
    # float32: 20 float32 ulps of 65 mV (accumulated rounding of the recursion).
    n = 5
    net = _passive_net(_stimulus(kind, n), n, dtype)
    mon = nw.StateMonitor("P", "V")
    res = nw.run(net, n_steps=N_STEPS, key=jax.random.key(0), monitors=[mon], chunk_steps=50)
    times, V = res.states[mon.key]
    t_k = np.arange(N_STEPS) * DT
    ref = _reference_v(_numpy_currents(kind, t_k, n), -60.0)
    np.testing.assert_allclose(times, np.arange(1, N_STEPS + 1) * DT, rtol=1e-12)
    atol = 1e-11 if dtype == jnp.float64 else 20 * 65 * np.finfo(np.float32).eps
    np.testing.assert_allclose(V[:, 0, :], ref[1:], rtol=0, atol=atol)


def _stationary_v_white(sigma, a):
    # V_{k+1} = a V_k + (1 - a) (E_L + R mu) + (1 - a) R sigma xi / sqrt(dt)
    return (R * sigma) ** 2 * (1 - a) ** 2 / DT / (1 - a**2)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_white_noise_stimulus_gives_the_closed_form_stationary_moments(dtype):
    # 20000 independent cells, started at the stationary mean, sampled after 10 tau_m: the
    # sample mean is within 5 standard errors and the sample variance within 5 % (its
    # standard error is sqrt(2/n) = 1 %).
    n, sigma, mu = 20_000, 1.5, 2.0
    a = np.exp(-DT / TAU)
    pop = nw.Population(
        LIF_PASSIVE, n, name="P", I=st.Noise(sigma=sigma, mean=mu), initial={"V": E_L + R * mu}
    )
    net = nw.Network([pop], dt=DT, dtype=dtype)
    res = nw.run(net, duration=10 * TAU, key=jax.random.key(1))
    V = np.asarray(res.state["neurons"]["P"]["V"], float)
    var = _stationary_v_white(sigma, a)
    assert abs(V.mean() - (E_L + R * mu)) < 5 * np.sqrt(var / n)
    assert V.var() == pytest.approx(var, rel=0.05)


def test_ornstein_uhlenbeck_stimulus_gives_the_closed_form_stationary_moments():
    # OU current x (tau_n = 3 ms, stationary sd sigma, exact update) filtered by the membrane:
    # the pair (x_k, V_k) is a linear Gaussian recursion z' = A z + c + B xi with stationary
    # covariance from the discrete Lyapunov equation (scipy). The OU state lives in the network
    # state, so its stationary sd is checked too; tolerances as in the white-noise test.
    n, sigma, mu, tau_n = 20_000, 1.2, -1.0, 3.0
    a, b = np.exp(-DT / TAU), np.exp(-DT / tau_n)
    A = np.array([[b, 0.0], [(1 - a) * R, a]])
    B = np.array([[sigma * np.sqrt(1 - b**2)], [0.0]])
    cov = scipy.linalg.solve_discrete_lyapunov(A, B @ B.T)
    pop = nw.Population(
        LIF_PASSIVE,
        n,
        name="P",
        I=st.Noise(sigma=sigma, mean=mu, tau=tau_n),
        initial={"V": E_L + R * mu},
    )
    net = nw.Network([pop], dt=DT, dtype=jnp.float64)
    res = nw.run(net, duration=10 * TAU, key=jax.random.key(2))
    V = np.asarray(res.state["neurons"]["P"]["V"])
    x = np.asarray(res.state["stimuli"]["P"]["0"])
    assert abs(V.mean() - (E_L + R * mu)) < 5 * np.sqrt(cov[1, 1] / n)
    assert V.var() == pytest.approx(cov[1, 1], rel=0.05)
    assert x.std() == pytest.approx(sigma, rel=0.05)
    assert np.corrcoef(x, V)[0, 1] == pytest.approx(
        cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]), abs=0.03
    )


def test_noisy_stimulus_runs_are_exact_when_chunked_resumed_and_vmapped(tmp_path):
    # The stimulus state is part of the network state and the draws come from fold_in(key, k):
    # chunked, saved-and-resumed and vmapped runs equal one unbroken run bit for bit.
    n = 50
    I = st.Noise(sigma=1.0, mean=1.0, tau=2.0) + st.Step(3.0, 8.0, amplitude=2.0)
    net = _passive_net(I, n, jnp.float64)
    whole = nw.run(net, n_steps=200, key=jax.random.key(3), chunk_steps=200)
    first = nw.run(net, n_steps=70, key=jax.random.key(3), chunk_steps=33)
    nw.save_state(tmp_path / "s.npz", first.state)
    rest = nw.run(net, n_steps=130, state=nw.load_state(tmp_path / "s.npz"), chunk_steps=40)
    for a, b in zip(jax.tree.leaves(whole.state), jax.tree.leaves(rest.state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    keys = jax.random.split(jax.random.key(4), 2)
    batch = jax.vmap(lambda k: net.simulate(net.init_state(key=k), 200)[0])(keys)
    for i in range(2):
        one = nw.run(net, n_steps=200, key=keys[i])
        np.testing.assert_array_equal(
            np.asarray(batch["neurons"]["P"]["V"][i]), np.asarray(one.state["neurons"]["P"]["V"])
        )


@pytest.mark.parametrize("hold", [1, 2])
def test_noise_current_has_the_closed_form_stationary_variance(hold):
    # NoiseCurrent: I = mu + sigma xi held for `hold` steps (white stimulus.Noise sampled once
    # per hold). Sampled at the end of a hold period, V follows the exact recursion over
    # hold * dt: V' = a_h V + (1 - a_h)(E_L + R I), a_h = a**hold, so
    # Var V = R^2 sigma^2 (1 - a_h)^2 / (1 - a_h^2). Tolerances as in the white-noise test.
    n, sigma, mu = 20_000, 2.0, 1.0
    a_h = np.exp(-hold * DT / TAU)
    pop = nw.Population(LIF_PASSIVE, n, name="P", initial={"V": E_L + R * mu})
    net = nw.Network([pop], [], [nw.NoiseCurrent("P", sigma, mean=mu, hold_steps=hold)], dt=DT)
    res = nw.run(net, n_steps=1000, key=jax.random.key(5))
    V = np.asarray(res.state["neurons"]["P"]["V"], float)
    var = (R * sigma) ** 2 * (1 - a_h) ** 2 / (1 - a_h**2)
    assert abs(V.mean() - (E_L + R * mu)) < 5 * np.sqrt(var / n)
    assert V.var() == pytest.approx(var, rel=0.05)


def test_population_input_is_refused_clearly():
    with pytest.raises(ValueError, match=r"stimulus.Function"):
        nw.Population(LIF_PASSIVE, 3, name="P", I=lambda t: 1.0)
    with pytest.raises(ValueError, match=r"Population 'P'.*finite"):
        nw.Population(LIF_PASSIVE, 3, name="P", I=float("nan"))
    with pytest.raises(ValueError, match=r"Population 'P'.*finite"):
        nw.Population(LIF_PASSIVE, 3, name="P", I=np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match=r"shape \(\) or \(3,\)"):
        nw.Population(LIF_PASSIVE, 3, name="P", I=np.ones(4))
    with pytest.raises(ValueError, match=r"shape \(\) or \(3,\)"):
        nw.Population(LIF_PASSIVE, 3, name="P", I=st.Constant(np.ones(2)))
    with pytest.raises(ValueError, match=r"initial\['V'\].*finite"):
        nw.Population(LIF_PASSIVE, 3, name="P", initial={"V": np.nan})


def network_engine(model, I, dt, n_steps, key, t0=0.0):
    """The membrane potential `(n_steps, n)` of a one-population network driven by `I`
    (the population is population 0 of a network run from step `round(t0 / dt)`; its
    stimulus draws from `network_stimulus_key(key)`, simulate's convention for that key)."""
    shape = np.broadcast_shapes(model.shape, st.as_stimulus(I).shape())
    n = shape[0] if shape else 1
    y0 = {k: jnp.broadcast_to(v, (n,)) for k, v in model.resting_state().items()}
    pop = nw.Population(model, n, name="P", I=I, initial=y0)
    net = nw.Network([pop], dt=dt, dtype=jnp.result_type(float))
    state = net.init_state(key=key)
    state["step"] = jnp.asarray(int(round(t0 / dt)), jnp.int32)
    mon = nw.StateMonitor("P", "V")
    res = nw.run(net, n_steps=n_steps, state=state, monitors=[mon], chunk_steps=n_steps)
    return np.asarray(res.states[mon.key][1][:, 0, :], float)


def network_stimulus_key(key, j=0):
    """The key population `j` of a network run with `key` samples its stimulus from."""
    return jax.random.fold_in(key, 2**21 + j)


@pytest.mark.parametrize("t0", [0.0, 5.0])
@pytest.mark.parametrize(
    "I",
    [st.Noise(sigma=1.0, mean=1.0, tau=2.0) + st.Step(3.05, 8.05, amplitude=2.0),
     st.Noise(sigma=0.5, mean=np.linspace(0.0, 2.0, 4))],
    ids=["ou_plus_step", "white_array_mean"],
)  # fmt: skip
def test_network_engine_equals_simulate_for_its_stimulus_key(I, t0):
    # The same draws and the same exponential Euler step as simulate, from step round(t0/dt):
    # float64 round-off (1e-10 mV).
    import spikejax as sj

    key = jax.random.key(9)
    V = network_engine(LIF_PASSIVE, I, DT, 60, key, t0)
    ref = sj.simulate(LIF_PASSIVE, duration=60 * DT, dt=DT, I=I, t0=t0, method="exponential_euler",
                      key=network_stimulus_key(key))  # fmt: skip
    np.testing.assert_allclose(V, np.asarray(ref.V, float)[1:].reshape(V.shape), atol=1e-10)


@pytest.mark.parametrize(
    "I",
    [st.Noise(sigma=1.0, mean=1.0, tau=2.0) + st.Step(3.05, 8.05, amplitude=2.0),
     st.Noise(sigma=0.5, mean=2.0)],
    ids=["ou_plus_step", "white"],
)  # fmt: skip
def test_population_draws_the_same_noise_as_simulate(I):
    # Population j samples its stimulus with simulate's key convention from the key
    # fold_in(key, 2**21 + j): the network's V trace equals simulate's for that key (the same
    # draws and the same exponential Euler step; float64 round-off, 1e-10 mV).
    import spikejax as sj

    n, n_steps = 8, 100
    lif = LIF(tau_m=jnp.full(n, TAU), E_L=E_L, V_th=1e6, V_reset=-70.0, t_ref=0.0, R=R)
    other = nw.Population(LIF_PASSIVE, 3, name="O", I=st.Noise(sigma=1.0))
    pop = nw.Population(lif, n, name="P", I=I, initial={"V": -60.0})
    net = nw.Network([other, pop], dt=DT, dtype=jnp.float64)
    key = jax.random.key(7)
    mon = nw.StateMonitor("P", "V")
    res = nw.run(net, n_steps=n_steps, key=key, monitors=[mon], chunk_steps=30)
    ref = sj.simulate(
        lif,
        duration=n_steps * DT,
        dt=DT,
        I=I,
        y0={"V": jnp.full(n, -60.0), "refractory": jnp.zeros(n)},
        method="exponential_euler",
        key=jax.random.fold_in(key, 2**21 + 1),
    )
    np.testing.assert_allclose(res.states[mon.key][1][:, 0, :], np.asarray(ref.V)[1:], atol=1e-10)
