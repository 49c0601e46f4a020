"""Neuromodulated (three-factor) plasticity: reward-modulated STDP against its closed form
(one pairing, one reward pulse), no reward -> no change, a baseline, NEST's
`stdp_dopamine_synapse` side by side, forward-mode derivatives against finite differences,
bad input."""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_plasticity_dopamine import nest_rule, nest_synapse

from spikejax import network as nw
from spikejax.models import LIF

DT = 0.5  # ms: every spike time here is on this grid
TAU_C, TAU_D = 1000.0, 200.0
TAU_S = TAU_C * TAU_D / (TAU_C + TAU_D)
STDP: dict[str, Any] = dict(A_plus=0.01, A_minus=0.012, tau_plus=17.0, tau_minus=34.0)


def _net(pre_times, post_times, rules, *, extra=(), dtype=jnp.float32, w0=0.5, delivery="auto"):
    """Synapse `m` connects source `m` (spikes at `pre_times[m]`, delay 0: they arrive then)
    to LIF `m`, which a strong kick makes spike exactly at each of `post_times[m]`; one
    plastic projection `syn{r}` per rule, one-to-one. `extra`: more populations (the
    modulators' sources). The plastic weights barely move the LIFs (threshold 20)."""
    n = len(pre_times)

    def source(times_per, name, shift=0.0):
        idx = np.concatenate([np.full(len(t), i) for i, t in enumerate(times_per)]).astype(int)
        times = np.concatenate([np.asarray(t, float) for t in times_per]) + shift
        return nw.SpikeSource(n, idx, times, name=name, dt=DT)

    pre, drive = source(pre_times, "pre"), source(post_times, "drive", -DT)
    post = nw.Population(LIF(tau_m=1.0, E_L=0.0, V_th=20.0, V_reset=0.0, t_ref=0.0), n, name="post")
    projs = [
        nw.Projection(pre, post, nw.OneToOne(), weight=w0, plasticity=r, name=f"syn{i}")
        for i, r in enumerate(rules)
    ]
    kick = nw.Projection(drive, post, nw.OneToOne(), weight=100.0)
    pops = [pre, drive, *extra, post]
    return nw.Network(pops, [*projs, kick], dt=DT, dtype=dtype, delivery=delivery)


def _stdp(dt_pair):
    """The pair window of `STDP` at post - pre = `dt_pair` (the eligibility's jump)."""
    return np.where(
        dt_pair >= 0,
        STDP["A_plus"] * np.exp(-dt_pair / STDP["tau_plus"]),
        -STDP["A_minus"] * np.exp(dt_pair / STDP["tau_minus"]),
    )


def _closed_form(dt_pair, t2, t_reward, amount, T, b=0.0):
    """Weight change at `T` after one pair (eligibility STDP(dt_pair) from its later spike
    `t2`) and one reward pulse raising d by `amount` at `t_reward` (> t2):
    c(t) = STDP e^{-(t - t2)/tau_c}, d(t) = amount e^{-(t - t_r)/tau_d}, so
    int c d = STDP amount e^{-(t_r - t2)/tau_c} tau_s (1 - e^{-(T - t_r)/tau_s}), and the
    baseline adds -b int c = -b STDP tau_c (1 - e^{-(T - t2)/tau_c})."""
    s = _stdp(dt_pair)
    reward = s * amount * np.exp(-(t_reward - t2) / TAU_C) * TAU_S
    reward = reward * (1 - np.exp(-(T - t_reward) / TAU_S))
    return reward - b * s * TAU_C * (1 - np.exp(-(T - t2) / TAU_C))


# one pair per synapse: post - pre = lag, both signs, the later spike at t2, so that a reward
# at T_REWARD comes D = T_REWARD - t2 from 20 to 1500 ms later
LAGS = np.array([5.0, -5.0, 20.0, -20.0, 40.0, -12.0, 3.0, -30.0])
T2 = np.array([1480.0, 1400.0, 1200.0, 1000.0, 700.0, 400.0, 200.0, 100.0])
T_REWARD, AMOUNT, T_END = 1500.0, 0.5, 2500.0


def test_reward_pulse_closed_form_float32():
    """Four projections over the same pairs (float32): a reward schedule (one pulse of 0.5 at
    1500 ms), the same pulse from a spike of a dopaminergic population (amount 0.5), no
    reward at all, and no reward with a baseline b (w' = -b c). Each weight change equals
    the closed form; without reward and baseline the weights do not move (exactly).
    Tolerance: float32 round-off over 5,000 exact steps; c and d decay by 1 - q with q
    from expm1 (a rounding per step, unbiased) and the weight sums with compensation, so
    the error stays near 1e-6 of the change (rtol 2e-5)."""
    pre = [[t2 - max(lag, 0.0)] for lag, t2 in zip(LAGS, T2)]
    post = [[t2 - max(-lag, 0.0)] for lag, t2 in zip(LAGS, T2)]
    da = nw.SpikeSource(2, [1], [T_REWARD], name="da", dt=DT)
    window = nw.PairSTDP(**STDP)
    rules = [
        nw.Neuromodulated(
            window,
            nw.Modulator(TAU_D, reward_times=[T_REWARD], reward_amounts=AMOUNT),
            w_min=-10.0,
            w_max=10.0,
        ),
        nw.Neuromodulated(
            window,
            nw.Modulator(TAU_D, population=da, amount=np.array([3.0, AMOUNT])),
            w_min=-10.0,
            w_max=10.0,
        ),
        nw.Neuromodulated(window, nw.Modulator(TAU_D, reward_times=[T_END + 1.0]), w_max=10.0),
        nw.Neuromodulated(
            window, nw.Modulator(TAU_D, reward_times=[T_END + 1.0]), b=0.002, w_min=-10.0
        ),
    ]
    net = _net(pre, post, rules, extra=[da])
    res = nw.run(net, T_END, key=jax.random.key(0), monitors=[nw.SpikeMonitor("post")])
    i, t = res.spikes["post"]
    for m, want in enumerate(post):  # the pairs happened as scripted
        np.testing.assert_allclose(t[i == m], want, atol=1e-9)
    dw = [net.plastic_weights(res.state, f"syn{r}")[2] - np.float32(0.5) for r in range(4)]
    want = _closed_form(LAGS, T2, T_REWARD, AMOUNT, T_END)
    assert np.all(np.sign(want) == np.sign(LAGS)) and np.abs(want).min() > 1e-3
    np.testing.assert_allclose(dw[0], want, rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(dw[1], want, rtol=2e-5, atol=1e-7)
    np.testing.assert_array_equal(dw[2], 0.0)  # no reward, no change
    # the eligibility traces are there all the same: c = STDP e^{-(T - t2)/tau_c}
    c = np.asarray(res.state["plastic"]["syn2"]["syn"]["c"])
    np.testing.assert_allclose(c, _stdp(LAGS) * np.exp(-(T_END - T2) / TAU_C), rtol=2e-5)
    base = _closed_form(LAGS, T2, T_END, 0.0, T_END, b=0.002)
    np.testing.assert_allclose(dw[3], base, rtol=2e-5, atol=1e-7)


def test_reward_before_the_pairing_does_nothing_and_bounds_hold():
    # a reward that has decayed before the pairing leaves d = amount e^{-(t2 - t_r)/tau_d}:
    # the closed form with the roles swapped (c starts at t2 with d already decaying):
    # int = STDP amount e^{-(t2 - t_r)/tau_d} tau_s (1 - e^{-(T - t2)/tau_s}); huge
    # amplitudes stop at the bounds
    t_r, t2, T = 100.0, 900.0, 1500.0
    pre, post = [[t2 - 10.0]], [[t2]]
    mod = nw.Modulator(TAU_D, reward_times=[t_r], reward_amounts=AMOUNT)
    rules = [
        nw.Neuromodulated(nw.PairSTDP(**STDP), mod, w_min=-1.0, w_max=1.0),
        nw.Neuromodulated(nw.PairSTDP(A_plus=1e6), mod, w_min=0.2, w_max=0.7),
    ]
    net = _net(pre, post, rules, dtype=jnp.float64)
    res = nw.run(net, T, key=jax.random.key(0))
    dw = net.plastic_weights(res.state, "syn0")[2] - 0.5
    s = _stdp(np.array([10.0]))
    want = s * AMOUNT * np.exp(-(t2 - t_r) / TAU_D) * TAU_S * (1 - np.exp(-(T - t2) / TAU_S))
    np.testing.assert_allclose(dw, want, rtol=1e-10, atol=1e-15)
    np.testing.assert_array_equal(net.plastic_weights(res.state, "syn1")[2], 0.7)


def test_against_nest_stdp_dopamine_synapse():
    """NEST 3.10's `stdp_dopamine_synapse` on a scripted train (parrot neurons), side by side
    in float64, weights at every pre-synaptic spike (NEST's `weight_recorder`) equal to
    1e-9 relative. NEST's conventions, mapped onto ours (`nest_synapse` in
    test_plasticity_dopamine.py): its delay is dendritic (a post spike at t is seen at
    t + d by the synapse, a pre spike at its emission time), the volume transmitter sees a
    dopamine spike at its arrival (emission + delay), and each raises n by 1/tau_n (our
    modulator's amount). A baseline b = 0.004 and all-to-all pairs of 12 pre and 15 post
    spikes over 2 s with 6 dopamine spikes. No post spike lies within 0.5 ms of a pre spike:
    on this grid that keeps out NEST's split pairings (docs/plasticity.md, "NEST's
    stdp_dopamine_synapse"), tested in test_plasticity_dopamine.py."""
    rng = np.random.default_rng(7)
    grid = lambda a: np.round(np.asarray(a) / DT) * DT  # noqa: E731
    pre_t = grid(np.sort(rng.uniform(20.0, 2000.0, 12)))
    post_t = grid(np.sort(rng.uniform(20.0, 2000.0, 15)))
    post_t = post_t[np.min(np.abs(post_t[:, None] - pre_t[None, :]), axis=1) > 0.5]
    da_t = grid(np.sort(rng.uniform(50.0, 2000.0, 6)))
    T = 2100.0
    w_nest, _ = nest_synapse(pre_t, post_t, da_t, T, dt=DT)

    src = nw.SpikeSource(1, np.zeros(da_t.size, int), da_t, name="da", dt=DT)
    rule = nest_rule()
    net = _net([list(pre_t)], [list(post_t)], [rule], extra=[src], dtype=jnp.float64, w0=1.0)
    mon = nw.WeightMonitor("syn0", every=1)
    res = nw.run(net, T, key=jax.random.key(0), monitors=[mon])
    t, w = res.states[mon.key]
    ours = w[np.searchsorted(t, pre_t - 1e-6), 0]
    assert np.ptp(w_nest) > 0.05  # the weight did move, both ways
    assert np.any(np.diff(w_nest) > 0) and np.any(np.diff(w_nest) < 0)
    np.testing.assert_allclose(ours, w_nest, rtol=1e-9, atol=1e-12)


def test_forward_derivatives_against_finite_differences():
    """d(final weight)/d(tau_c, A_plus, modulator amount) for one pair and one dopamine
    spike with the spike trains fixed, float64, by `jax.jacfwd` through the network run:
    equal to central finite differences of the run (step 1e-4 relative, error O(h^2) ~
    1e-8) and, for A_plus and the amount (linear), to the closed form's derivative."""
    da = nw.SpikeSource(1, [0], [300.0], name="da", dt=DT)
    rule = nw.Neuromodulated(
        nw.PairSTDP(**STDP),
        nw.Modulator(TAU_D, population="da", amount=AMOUNT),
        w_min=-10.0,
        w_max=10.0,
    )
    net = _net([[10.0]], [[20.0]], [rule], extra=[da], dtype=jnp.float64)
    state = net.init_state(key=jax.random.key(0))
    where = lambda n: (  # noqa: E731
        n.plastic[0].rule.tau_c,
        n.plastic[0].rule.stdp.A_plus,
        n.plastic[0].rule.modulator.amount,
    )

    @jax.jit
    def final_weight(p):
        n = eqx.tree_at(where, net, (p[0], p[1], p[2]))
        return n.simulate(state, round(500.0 / DT))[0]["plastic"]["syn0"]["w"][0]

    p0 = np.array([TAU_C, STDP["A_plus"], AMOUNT])
    grad = np.asarray(jax.jacfwd(final_weight)(jnp.asarray(p0)))
    fd = []
    for i in range(3):
        h = 1e-4 * p0[i]
        up, down = p0.copy(), p0.copy()
        up[i] += h
        down[i] -= h
        fd.append(
            (float(final_weight(jnp.asarray(up))) - float(final_weight(jnp.asarray(down))))
            / (2 * h)
        )
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    dw = _closed_form(np.array(10.0), 20.0, 300.0, AMOUNT, 500.0)
    np.testing.assert_allclose(grad[1:], [dw / STDP["A_plus"], dw / AMOUNT], rtol=1e-10)
    assert grad[0] > 0  # a longer eligibility keeps more of the pairing until the reward


def test_bad_input_named_errors():
    with pytest.raises(ValueError, match="Modulator.tau"):
        nw.Modulator(-1.0, reward_times=[1.0])
    with pytest.raises(ValueError, match="give a source"):
        nw.Modulator(200.0)
    with pytest.raises(ValueError, match="Modulator.reward_amounts must be one number or one"):
        nw.Modulator(reward_times=[1.0, 2.0], reward_amounts=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Modulator.reward_times"):
        nw.Modulator(reward_times=[np.nan])
    mod = nw.Modulator(reward_times=[5.0])
    with pytest.raises(ValueError, match="Neuromodulated.tau_c"):
        nw.Neuromodulated(nw.PairSTDP(), mod, tau_c=0.0)
    with pytest.raises(ValueError, match="Neuromodulated.stdp must change weights additively"):
        nw.Neuromodulated(nw.PairSTDP(multiplicative=True), mod)
    with pytest.raises(ValueError, match="Neuromodulated.stdp must change weights additively"):
        nw.Neuromodulated(nw.TsodyksMarkram(), mod)
    with pytest.raises(ValueError, match="Neuromodulated.modulator must be a Modulator"):
        nw.Neuromodulated(nw.PairSTDP(), 0.5)  # pyright: ignore[reportArgumentType]
    with pytest.raises(ValueError, match="Neuromodulated.w_min must be < Neuromodulated.w_max"):
        nw.Neuromodulated(nw.PairSTDP(), mod, w_min=1.0, w_max=0.0)
    rule = nw.Neuromodulated(nw.PairSTDP(), nw.Modulator(population="dopa"))
    with pytest.raises(ValueError, match="Modulator.population 'dopa' is not a population"):
        _net([[10.0]], [[20.0]], [rule])
    src = nw.SpikeSource(3, [0], [5.0], name="dopa", dt=DT)
    rule = nw.Neuromodulated(nw.PairSTDP(), nw.Modulator(population="dopa", amount=[1.0, 2.0]))
    with pytest.raises(ValueError, match="Modulator.amount must be one number or one per neuron"):
        _net([[10.0]], [[20.0]], [rule], extra=[src])
    rule = nw.Neuromodulated(nw.PairSTDP(), nw.Modulator(reward_times=[0.01]))
    with pytest.raises(ValueError, match="Modulator.reward_times must be >= dt"):
        _net([[10.0]], [[20.0]], [rule])


def _chunk_net():
    rng = np.random.default_rng(3)
    pre = [list(np.sort(rng.uniform(5.0, 600.0, 8)).round()) for _ in range(4)]
    post = [list(np.sort(rng.uniform(5.0, 600.0, 6)).round() + 0.5) for _ in range(4)]
    da = nw.SpikeSource(1, [0, 0, 0], [100.0, 300.0, 450.0], name="da", dt=DT)
    mod = nw.Modulator(TAU_D, population="da", amount=0.3, reward_times=[200.0, 500.0])
    rule = nw.Neuromodulated(nw.PairSTDP(**STDP), mod, b=0.001, w_min=-10.0, w_max=10.0)
    return _net(pre, post, [rule], extra=[da])


def test_chunked_and_resumed_runs_are_bit_exact(tmp_path):
    """The eligibility traces, the compensation term and the modulator's concentration are
    state like the weights: a run in chunks, and one saved and resumed halfway, equal the
    unbroken run bit for bit."""
    net = _chunk_net()
    key = jax.random.key(0)
    whole = nw.run(net, 600.0, key=key, chunk_steps=1200)
    chunked = nw.run(net, 600.0, key=key, chunk_steps=400)
    first = nw.run(net, 300.0, key=key, chunk_steps=400)
    nw.save_state(tmp_path / "s.npz", first.state)
    second = nw.run(net, 300.0, state=nw.load_state(tmp_path / "s.npz"), chunk_steps=400)
    jax.tree.map(np.testing.assert_array_equal, whole.state, chunked.state)
    jax.tree.map(np.testing.assert_array_equal, whole.state, second.state)
    assert np.abs(net.plastic_weights(whole.state, "syn0")[2] - 0.5).max() > 1e-4


@pytest.mark.slow
def test_vmap_over_the_modulator_equals_separate_runs():
    net = _chunk_net()
    state = net.init_state(key=jax.random.key(0))

    def final(a):
        n = eqx.tree_at(lambda n: n.plastic[0].rule.modulator.amount, net, a)
        return n.simulate(state, 1200)[0]["plastic"]["syn0"]["w"]

    amounts = jnp.asarray([0.0, 0.3, 1.0], jnp.float32)
    batched = jax.jit(jax.vmap(final))(amounts)
    for i, a in enumerate(amounts):
        np.testing.assert_allclose(batched[i], jax.jit(final)(a), rtol=1e-6, atol=1e-7)
    assert float(jnp.abs(batched[2] - batched[0]).max()) > 1e-4


@pytest.mark.slow
def test_reinforcing_a_synapse():
    """Izhikevich (2007)'s first experiment, feed-forward: 50 Poisson inputs (2 Hz) onto one
    LIF (plus background), all synapses reward-modulated (A- = 1.5 A+, tau_c = 1 s,
    tau_d = 0.2 s, weights 1 of at most 4 mV, a small tonic level -b). Whenever the post
    neuron fires within 10 ms after input 0's spike arrives (a coincidence detector), a
    reward follows 2 s later (the paper: 1-3 s). Over 600 s the rewarded synapse grows to
    the bound, the others stay far below on average."""
    inputs = nw.PoissonPopulation(50, 2.0, name="in")
    lif = dict(E_L=0.0, V_reset=0.0)
    post = nw.Population(LIF(tau_m=10.0, V_th=17.0, t_ref=2.0, **lif), 1, name="post")
    # detector: input 0 adds 0.3, the post spike 0.9 to a threshold of 1 with
    # tau = 10 / ln 3 ms: it fires when the post spike follows within 10 ms (the reverse
    # order within 2.3 ms only)
    det = nw.Population(LIF(tau_m=10.0 / np.log(3.0), V_th=1.0, t_ref=0.0, **lif), 1, name="det")
    dopa = nw.Population(LIF(tau_m=1.0, V_th=1.0, t_ref=0.0, **lif), 1, name="dopa")
    rule = nw.Neuromodulated(
        nw.PairSTDP(A_plus=0.1, A_minus=0.15, tau_plus=20.0, tau_minus=20.0),
        nw.Modulator(200.0, population="dopa", amount=0.05),
        tau_c=1000.0,
        b=-0.001,
        w_min=0.0,
        w_max=4.0,
    )
    projs = [
        nw.Projection(
            inputs, post, nw.AllToAll(), weight=1.0, delay=1.0, plasticity=rule, name="syn"
        ),
        nw.Projection(inputs, det, nw.Explicit([0], [0]), weight=0.3, delay=1.0),
        nw.Projection(post, det, nw.OneToOne(), weight=0.9),
        nw.Projection(det, dopa, nw.OneToOne(), weight=10.0, delay=2000.0),
    ]
    background = nw.PoissonInput("post", 100, 10.0, 1.0)
    net = nw.Network([inputs, post, det, dopa], projs, [background], dt=1.0, dtype=jnp.float32)
    mon = nw.WeightMonitor("syn", every=100_000)
    mons = [mon, nw.RateMonitor("dopa")]
    res = nw.run(net, 600_000.0, key=jax.random.key(1), monitors=mons, chunk_steps=100_000)
    _, w = res.states[mon.key]
    assert res.mean_rate("dopa") * 600 > 20, res.mean_rate("dopa")  # rewards were delivered
    assert w[-1, 0] > 3.5, w[:, 0]  # the rewarded synapse reached the bound
    assert np.mean(w[-1, 1:]) < 2.0 and np.median(w[-1, 1:]) < 2.0, w[-1]
    # the others did not grow while it did (measured: 0.89, 1.00, 1.18 while it went
    # 1.26, 1.93, 3.50 over the first 300 s; at 600 s 4.0 against a mean of 1.68)
    assert np.all(w[:3, 1:].mean(axis=1) < 1.3) and w[2, 0] > 3.0
