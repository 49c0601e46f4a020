"""Network engine: synapses, delays, connectivity, inputs, propagation paths, runs, I/O, vmap."""

import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikejax import network as nw
from spikejax.models import LIF, HodgkinHuxley
from spikejax.solvers import AbstractScheme, exponential_euler_step

DT = 0.1


# ----- synapse kinetics vs closed form ---------------------------------------------------------
@pytest.mark.parametrize(
    "syn, closed",
    [
        (nw.Exponential(5.0), lambda t: 1.5 * np.exp(-t / 5.0)),
        (nw.Alpha(3.0), lambda t: 1.5 * (t / 3.0) * np.exp(1 - t / 3.0)),
        (
            nw.DualExponential(1.0, 6.0),
            None,  # filled below
        ),
    ],
)
def test_synapse_exact_decay(syn, closed):
    # One arrival of weight 1.5 at t = 0, then exact propagators for 400 steps of dt = 0.1.
    if closed is None:
        tr, td = 1.0, 6.0
        tp = tr * td / (td - tr) * math.log(td / tr)
        peak = np.exp(-tp / td) - np.exp(-tp / tr)

        def closed(t):
            return 1.5 * (np.exp(-t / td) - np.exp(-t / tr)) / peak

    s = syn.init(1, jnp.float64)
    s = syn.arrive(s, jnp.array([1.5]))
    out = []
    for _ in range(400):
        s = syn.decay(s, DT)
        out.append(float(syn.output(s)[0]))
    t = DT * np.arange(1, 401)
    # exact integration of a linear system: only round-off (1e-12 relative) is allowed
    np.testing.assert_allclose(out, closed(t), rtol=1e-11, atol=1e-13)
    # the peak-normalised kinetics peak at the weight (on the 0.1 ms grid within 1e-3)
    if not isinstance(syn, nw.Exponential):
        assert abs(max(out) - 1.5) < 1.5e-3


def _one_spike_net(
    synapse, delay=0.0, weight=1.0, tau_m=10.0, dt=DT, t_spike=1.0, n_post=1, integration="exact"
):
    src = nw.SpikeSource(1, [0], [t_spike], name="src", dt=dt)
    post = nw.Population(
        LIF(tau_m=tau_m, E_L=0.0, V_th=1e6, V_reset=-1.0, t_ref=0.0),
        n_post,
        name="post",
        initial={"V": 0.0},
        synapse_integration=integration,
    )
    pre = np.zeros(n_post, int)
    pr = nw.Projection(
        src,
        post,
        nw.Explicit(pre, np.arange(n_post)),
        weight=weight,
        delay=delay,
        synapse=synapse,
    )
    return nw.Network([src, post], [pr], dt=dt, dtype=jnp.float64)


@pytest.mark.parametrize("dt", [0.1, 0.05])
def test_exponential_psp_closed_form_first_order(dt):
    # Current-based exponential synapse into a passive membrane (tau_m = 10, tau_s = 3):
    # V(s) = w tau_s/(tau_s - tau_m) (e^{-s/tau_s} - e^{-s/tau_m}), s after arrival.
    # With synapse_integration="held" the current is held over each step (exact membrane for
    # that current), so the error is first order in dt: max error < 0.6 * dt * max|V|
    # (measured ~0.3 dt |V|max). The default exact propagators: tests/test_propagators.py.
    net = _one_spike_net(nw.Exponential(3.0), weight=2.0, dt=dt, integration="held")
    res = nw.run(net, 30.0, key=jax.random.key(0), monitors=[nw.StateMonitor("post", "V")])
    t, v = res.states[nw.StateMonitor("post", "V").key]
    v = v[:, 0, 0]
    s = t - 1.0
    ref = np.where(s > 0, 2.0 * 3.0 / (3.0 - 10.0) * (np.exp(-s / 3.0) - np.exp(-s / 10.0)), 0)
    err = np.max(np.abs(v - ref))
    assert err < 0.6 * dt * np.max(np.abs(ref))
    assert np.all(v[s <= 0] == 0)


def test_psp_convergence_order():
    # error(dt)/error(dt/2) ~ 2 for the held (first-order) coupling (between 1.6 and 2.4)
    errs = []
    for dt in (0.2, 0.1):
        net = _one_spike_net(nw.Alpha(2.0), weight=1.0, dt=dt, integration="held")
        mon = nw.StateMonitor("post", "V")
        res = nw.run(net, 20.0, key=jax.random.key(0), monitors=[mon])
        t, v = res.states[mon.key]
        # closed form of a passive membrane driven by an alpha current (tau=2, tau_m=10):
        from scipy.integrate import solve_ivp

        def f(tt, y):
            s = tt - 1.0
            I = (s / 2.0) * np.exp(1 - s / 2.0) if s > 0 else 0.0
            return [(-y[0] + I) / 10.0]

        sol = solve_ivp(f, (0, 20.0), [0.0], t_eval=t, rtol=1e-11, atol=1e-13, max_step=0.01)
        errs.append(np.max(np.abs(v[:, 0, 0] - sol.y[0])))
    assert 1.6 < errs[0] / errs[1] < 2.4


def test_conductance_synapse_reversal():
    # A huge conductance pulls V towards E_rev and never past it.
    net = _one_spike_net(nw.Exponential(5.0, E_rev=-20.0), weight=50.0)
    mon = nw.StateMonitor("post", "V")
    res = nw.run(net, 10.0, key=jax.random.key(0), monitors=[mon])
    v = res.states[mon.key][1][:, 0, 0]
    assert v.min() < -15.0 and v.min() >= -20.0


# ----- delays ---------------------------------------------------------------------------------
def test_heterogeneous_delays_arrive_exactly():
    # One source spike at t = 1.0 ms through Delta synapses with delays 0, 0.5, 1.0, 2.3 ms into
    # four non-leaky neurons: V jumps by w in the step starting at t + d.
    delays = np.array([0.0, 0.5, 1.0, 2.3])
    src = nw.SpikeSource(1, [0], [1.0], name="src", dt=DT)
    post = nw.Population(
        LIF(tau_m=1e9, E_L=0.0, V_th=1e6, V_reset=-1.0, t_ref=0.0),
        4,
        name="post",
        initial={"V": 0.0},
    )
    pr = nw.Projection(
        src,
        post,
        nw.Explicit(np.zeros(4, int), np.arange(4)),
        weight=1.0,
        delay=delays,
        synapse=nw.Delta(),
        propagation="event",
    )
    net = nw.Network([src, post], [pr], dt=DT, dtype=jnp.float64)
    mon = nw.StateMonitor("post", "V")
    res = nw.run(net, 6.0, key=jax.random.key(0), monitors=[mon])
    t, v = res.states[mon.key]
    for j, d in enumerate(delays):
        arrival = 1.0 + d  # the state recorded at time t is before arrivals at t
        first = t[np.argmax(v[:, 0, j] > 0.5)]
        assert abs(first - (arrival + DT)) < 1e-9, (j, first)
    # same with the dense path
    pr2 = nw.Projection(
        src,
        post,
        nw.Explicit(np.zeros(4, int), np.arange(4)),
        weight=1.0,
        delay=delays,
        synapse=nw.Delta(),
        propagation="dense",
    )
    net2 = nw.Network([src, post], [pr2], dt=DT, dtype=jnp.float64)
    res2 = nw.run(net2, 6.0, key=jax.random.key(0), monitors=[mon])
    np.testing.assert_array_equal(res2.states[mon.key][1], v)


# ----- connectivity ---------------------------------------------------------------------------
def test_fixed_probability_counts_binomial():
    n, p = 300, 0.05
    pops = [nw.Population(LIF(), n, name="A")]
    pr = nw.Projection(pops[0], pops[0], nw.FixedProbability(p), key=jax.random.key(3))
    mean, sd = n * n * p, math.sqrt(n * n * p * (1 - p))
    assert abs(pr.n_synapses - mean) < 5 * sd  # 5 sigma: false-failure rate < 1e-6
    # out-degrees are Binomial(n, p): their variance matches n p (1 - p) within 25 %
    out = np.bincount(pr.pre_idx, minlength=n)
    assert abs(out.var() / (n * p * (1 - p)) - 1) < 0.25
    # no duplicate pairs
    assert np.unique(pr.pre_idx * n + pr.post_idx).size == pr.n_synapses


def test_fixed_in_out_degree_exact_and_autapses():
    a = nw.Population(LIF(), 50, name="A")
    b = nw.Population(LIF(), 40, name="B")
    pr = nw.Projection(a, b, nw.FixedInDegree(7), key=jax.random.key(1))
    np.testing.assert_array_equal(np.bincount(pr.post_idx, minlength=40), 7)
    assert np.unique(pr.pre_idx * 40 + pr.post_idx).size == pr.n_synapses
    pr = nw.Projection(a, b, nw.FixedOutDegree(5), key=jax.random.key(1))
    np.testing.assert_array_equal(np.bincount(pr.pre_idx, minlength=50), 5)
    pr = nw.Projection(a, a, nw.FixedInDegree(49, autapses=False), key=jax.random.key(2))
    assert not np.any(pr.pre_idx == pr.post_idx)
    pr = nw.Projection(a, a, nw.AllToAll(autapses=False))
    assert pr.n_synapses == 50 * 49
    pr = nw.Projection(a, a, nw.OneToOne())
    np.testing.assert_array_equal(pr.pre_idx, pr.post_idx)


def test_dale_law_signs():
    e = nw.Population(LIF(), 5, name="E", sign=1)
    i = nw.Population(LIF(), 5, name="I", sign=-1)
    pr = nw.Projection(i, e, nw.AllToAll(), weight=2.0, synapse=nw.Exponential(5.0))
    assert np.all(pr.weight == -2.0)
    with pytest.raises(ValueError, match="Dale"):
        nw.Projection(e, i, nw.AllToAll(), weight=-1.0, synapse=nw.Exponential(5.0))
    with pytest.raises(ValueError, match="conductance"):
        nw.Projection(e, i, nw.AllToAll(), weight=-1.0, synapse=nw.Exponential(5.0, E_rev=0.0))


# ----- Poisson input --------------------------------------------------------------------------
def test_poisson_input_binomial_counts():
    inp = nw.PoissonInput("A", 1000, 20.0, 1.0)
    counts = np.asarray(inp.draw(jax.random.key(5), 200_000, DT, jnp.float64))
    p = 20.0 * DT * 1e-3
    mean, var = 1000 * p, 1000 * p * (1 - p)
    # sample mean within 5 standard errors; Fano factor (1 - p) within 5 % (SE ~ 0.3 %)
    assert abs(counts.mean() - mean) < 5 * math.sqrt(var / counts.size)
    assert abs(counts.var() / counts.mean() - (1 - p)) < 0.05


def test_poisson_population_rate_and_fano():
    src = nw.PoissonPopulation(500, 40.0, name="P")
    net = nw.Network([src], dt=DT)
    res = nw.run(net, 1000.0, key=jax.random.key(2), monitors=[nw.SpikeMonitor("P")])
    i, t = res.spikes["P"]
    counts = np.bincount(i, minlength=500)
    # mean count 40 per neuron; total 20000 +- 5 sqrt(20000)
    assert abs(counts.sum() - 20000) < 5 * math.sqrt(20000)
    # Fano factor of counts ~ 1 - p = 0.996; 500 samples -> SE ~ 0.063; 5 SE
    assert abs(counts.var(ddof=1) / counts.mean() - 1) < 0.32
    assert res.mean_rate("P") == pytest.approx(counts.mean(), rel=1e-12)


def test_poisson_input_drives_membrane_mean():
    # Delta-synapse Poisson drive of a non-spiking LIF: mean V = tau_m * n * nu * w (Campbell).
    pop = nw.Population(
        LIF(tau_m=10.0, E_L=0.0, V_th=1e6, V_reset=-1.0, t_ref=0.0),
        400,
        name="A",
        initial={"V": 0.0},
    )
    inp = nw.PoissonInput("A", 100, 10.0, 0.5)
    net = nw.Network([pop], inputs=[inp], dt=DT, dtype=jnp.float64)
    mon = nw.StateMonitor("A", "V", every=10)
    res = nw.run(net, 300.0, key=jax.random.key(0), monitors=[mon])
    t, v = res.states[mon.key]
    mean_v = v[t > 100].mean()
    expect = 10.0 * 100 * 10.0 * 1e-3 * 0.5  # 5 mV
    assert abs(mean_v - expect) < 0.1  # 400 neurons x 20 independent samples: SE ~ 0.02 mV


# ----- propagation paths, runs, determinism ---------------------------------------------------
def _small_net(
    propagation="auto", spike_buffer=None, we=0.5, dtype=jnp.float64, n=120, delivery="loop"
):
    # Weights and drive are binary fractions, so every summation order gives the same result.
    lif = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=2.0)
    rng = np.random.default_rng(0)
    e = nw.Population(lif, n, name="E", initial={"V": -60 + 10 * rng.random(n)}, I=11.0)
    i = nw.Population(lif, n // 4, name="I", initial={"V": -60 + 10 * rng.random(n // 4)}, I=11.0)
    kw = dict(propagation=propagation, spike_buffer=spike_buffer)
    d = lambda r, m: r.integers(1, 20, m) * 0.1  # noqa: E731  heterogeneous delays
    projs = [
        nw.Projection(
            e,
            e,
            nw.FixedProbability(0.1),
            weight=we,
            delay=d,
            synapse=nw.Exponential(5.0),
            receptor="exc",
            key=jax.random.key(1),
            **kw,
        ),
        nw.Projection(
            e,
            i,
            nw.FixedProbability(0.1),
            weight=0.5,
            delay=0.5,
            synapse=nw.Exponential(5.0),
            receptor="exc",
            key=jax.random.key(2),
            **kw,
        ),
        nw.Projection(
            i,
            e,
            nw.FixedProbability(0.2),
            weight=-1.0,
            delay=d,
            synapse=nw.Exponential(10.0),
            receptor="inh",
            key=jax.random.key(3),
            **kw,
        ),
        nw.Projection(
            i, i, nw.FixedInDegree(5), weight=-0.75, synapse=nw.Delta(), key=jax.random.key(4), **kw
        ),
    ]
    inputs = [nw.PoissonInput("E", 50, 20.0, 0.25, synapse=nw.Exponential(5.0), receptor="exc")]
    return nw.Network([e, i], projs, inputs, dt=DT, dtype=dtype, delivery=delivery)


MONS = (
    nw.SpikeMonitor("E"),
    nw.SpikeMonitor("I"),
    nw.RateMonitor("E"),
    nw.StateMonitor("E", ["V"], indices=[0, 5, 7], every=3),
)


def _assert_same(r1, r2):
    for p in ("E", "I"):
        np.testing.assert_array_equal(r1.spikes[p][0], r2.spikes[p][0])
        np.testing.assert_array_equal(r1.spikes[p][1], r2.spikes[p][1])
    for k in r1.states:
        np.testing.assert_array_equal(r1.states[k][0], r2.states[k][0])
        np.testing.assert_array_equal(r1.states[k][1], r2.states[k][1])
    jax.tree_util.tree_map(np.testing.assert_array_equal, r1.state, r2.state)


def test_dense_equals_event_exactly():
    nd, ne = _small_net("dense"), _small_net("event")
    assert all(p.mode == "dense" for p in nd.projections)
    assert all(p.mode == "event" for p in ne.projections)
    r1 = nw.run(nd, 100.0, key=jax.random.key(7), monitors=MONS)
    r2 = nw.run(ne, 100.0, key=jax.random.key(7), monitors=MONS)
    assert r1.spikes["E"][0].size > 200  # the network is active
    for p in ("E", "I"):
        np.testing.assert_array_equal(r1.spikes[p][0], r2.spikes[p][0])
        np.testing.assert_array_equal(r1.spikes[p][1], r2.spikes[p][1])
    np.testing.assert_array_equal(r1.states[MONS[3].key][1], r2.states[MONS[3].key][1])


def test_loop_and_padded_event_delivery_equal_dense():
    # The three delivery schemes add the same binary-fraction weights (exact in any order):
    # spikes, monitored voltages and synaptic states must be bit-identical.
    nd = _small_net("dense")
    nl = _small_net("event")
    npd = _small_net("event", delivery="padded")
    # loop delivery takes every spike by default (buffer = population size); padded: 4 %/32
    assert nl.spike_buffers == {"E": 120, "I": 30}
    assert npd.spike_buffers == {"E": 32, "I": 30}
    r = [nw.run(x, 100.0, key=jax.random.key(7), monitors=MONS) for x in (nd, nl, npd)]
    assert r[0].spikes["E"][0].size > 200  # the network is active
    assert r[1].spike_buffer_growths == 0
    for other in r[1:]:
        for p in ("E", "I"):
            np.testing.assert_array_equal(r[0].spikes[p][0], other.spikes[p][0])
            np.testing.assert_array_equal(r[0].spikes[p][1], other.spikes[p][1])
        np.testing.assert_array_equal(r[0].states[MONS[3].key][1], other.states[MONS[3].key][1])
        jax.tree_util.tree_map(
            np.testing.assert_array_equal, r[0].state["synapses"], other.state["synapses"]
        )


def test_event_delivery_per_synapse_weights_and_vmap():
    # Per-synapse weights (binary fractions: exact in any summation order) and heterogeneous
    # delays on the event path: loop delivery, padded delivery and the dense matrices give
    # identical spikes; a vmap over the weight tables equals the separate runs bit for bit.
    lif = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=2.0)
    rng = np.random.default_rng(3)
    a = nw.Population(lif, 80, name="A", initial={"V": -60 + 10 * rng.random(80)}, I=10.5)

    def make(propagation, delivery):
        pr = nw.Projection(
            a,
            a,
            nw.FixedProbability(0.1),
            weight=lambda r, m: r.integers(1, 8, m) * 0.125,
            delay=lambda r, m: r.integers(0, 10, m) * 0.1,
            synapse=nw.Exponential(5.0),
            propagation=propagation,
            key=jax.random.key(5),
        )
        return nw.Network([a], [pr], dt=DT, dtype=jnp.float64, delivery=delivery)

    mons = (nw.SpikeMonitor("A"),)
    nets = [make("dense", "loop"), make("event", "loop"), make("event", "padded")]
    r = [nw.run(x, 60.0, key=jax.random.key(2), monitors=mons) for x in nets]
    assert r[0].spikes["A"][0].size > 50
    for other in r[1:]:
        np.testing.assert_array_equal(r[0].spikes["A"][0], other.spikes["A"][0])
        np.testing.assert_array_equal(r[0].spikes["A"][1], other.spikes["A"][1])
    net = nets[1]
    w0 = net.projections[0].weight
    ws = jnp.stack([w0, 2 * w0, 0.5 * w0])
    st = net.init_state(key=jax.random.key(2))

    def one(w):
        return net.with_weights(**{"A->A": w}).simulate(st, 400, mons)

    bst, bout = jax.jit(jax.vmap(one))(ws)
    for j in range(3):
        sst, sout = jax.jit(one)(ws[j])
        np.testing.assert_array_equal(bout[mons[0].key][j], sout[mons[0].key])
        np.testing.assert_array_equal(bst["buffer"][j], sst["buffer"])


def test_spike_buffer_overflow_is_handled_exactly():
    big = nw.run(_small_net("event"), 100.0, key=jax.random.key(7), monitors=MONS)
    small_net = _small_net("event", spike_buffer=1)
    small = nw.run(small_net, 100.0, key=jax.random.key(7), monitors=MONS, chunk_steps=500)
    assert small.spike_buffer_growths > 0
    assert big.spike_buffer_growths == 0
    _assert_same_spikes = [
        np.testing.assert_array_equal(big.spikes[p][k], small.spikes[p][k])
        for p in ("E", "I")
        for k in (0, 1)
    ]
    assert len(_assert_same_spikes) == 4
    # the pure simulate() reports the overflow in its state
    st, _ = jax.jit(lambda s: small_net.simulate(s, 500))(
        small_net.init_state(key=jax.random.key(7))
    )
    assert int(st["overflow"]["E"]) > 0 and int(st["max_spikes"]["E"]) > 1


def test_chunked_and_continued_runs_equal_unbroken(tmp_path):
    net = _small_net()
    full = nw.run(net, 100.0, key=jax.random.key(3), monitors=MONS)
    chunked = nw.run(net, 100.0, key=jax.random.key(3), monitors=MONS, chunk_steps=250)
    _assert_same(full, chunked)
    first = nw.run(net, 50.0, key=jax.random.key(3), monitors=MONS)
    nw.save_state(tmp_path / "half.npz", first.state)
    state = nw.load_state(tmp_path / "half.npz")
    second = nw.run(net, 50.0, state=state, monitors=MONS)
    for p in ("E", "I"):
        np.testing.assert_array_equal(
            np.concatenate([first.spikes[p][1], second.spikes[p][1]]), full.spikes[p][1]
        )
        np.testing.assert_array_equal(
            np.concatenate([first.spikes[p][0], second.spikes[p][0]]), full.spikes[p][0]
        )
    k = MONS[3].key
    np.testing.assert_array_equal(
        np.concatenate([first.states[k][0], second.states[k][0]]), full.states[k][0]
    )
    np.testing.assert_array_equal(
        np.concatenate([first.states[k][1], second.states[k][1]]), full.states[k][1]
    )
    jax.tree_util.tree_map(np.testing.assert_array_equal, second.state, full.state)


def test_save_load_result_roundtrip(tmp_path):
    res = nw.run(_small_net(), 100.0, key=jax.random.key(3), monitors=MONS)
    nw.save_result(tmp_path / "r.npz", res)
    back = nw.load_result(tmp_path / "r.npz")
    _assert_same(res, back)
    np.testing.assert_array_equal(res.rates["E"][1], back.rates["E"][1])
    assert back.dt == res.dt and back.t_stop == res.t_stop
    # the file holds no pickled objects
    with np.load(tmp_path / "r.npz", allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)


def test_rate_monitor_matches_spikes():
    res = nw.run(_small_net(), 100.0, key=jax.random.key(3), monitors=MONS)
    t, r = res.rates["E"]
    counts = np.bincount(np.rint(res.spikes["E"][1] / DT).astype(int) - 1, minlength=t.size)
    np.testing.assert_allclose(r, counts / (120 * DT * 1e-3), rtol=1e-12)


def test_determinism_and_key_dependence():
    net = _small_net()
    a = nw.run(net, 100.0, key=jax.random.key(11), monitors=MONS)
    b = nw.run(net, 100.0, key=jax.random.key(11), monitors=MONS)
    c = nw.run(net, 100.0, key=jax.random.key(12), monitors=MONS)
    _assert_same(a, b)
    assert not np.array_equal(a.states[MONS[3].key][1], c.states[MONS[3].key][1])


@pytest.mark.parametrize("delivery", ["loop", "padded"])
def test_vmap_over_weights_equals_separate_runs(delivery):
    # "padded" is the default delivery on GPUs; both must batch exactly
    net = _small_net(dtype=jnp.float64, propagation="event", delivery=delivery)
    st = net.init_state(key=jax.random.key(4))
    ws = jnp.array([0.25, 0.5, 0.75, 1.0])
    mons = (nw.RateMonitor("E"),)

    def one(w):
        return net.with_weights(**{"E->E": w}).simulate(st, 300, mons)

    bst, bout = jax.jit(jax.vmap(one))(ws)
    for j, w in enumerate(ws):
        sst, sout = jax.jit(one)(w)
        np.testing.assert_array_equal(bout[mons[0].key][j], sout[mons[0].key])
        np.testing.assert_array_equal(bst["neurons"]["E"]["V"][j], sst["neurons"]["E"]["V"])
    # different weights give different activity, and every spike was delivered
    assert len({float(jnp.sum(bout[mons[0].key][j])) for j in range(4)}) > 1
    assert all(int(jnp.max(v)) == 0 for v in bst["overflow"].values())


def test_surrogate_gradient_flows_through_network():
    from spikejax.surrogate import FastSigmoid

    lif = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=0.0)
    a = nw.Population(
        lif,
        20,
        name="A",
        I=12.0,
        spike_fn=FastSigmoid(beta=5.0),
        initial={"V": np.linspace(-60, -51, 20)},
    )

    def make(v_th_b, spike_fn):
        b = nw.Population(lif.replace(V_th=v_th_b), 10, name="B", spike_fn=spike_fn)
        pr = nw.Projection(
            a, b, nw.AllToAll(), weight=1.0, synapse=nw.Exponential(5.0), propagation="dense"
        )
        net = nw.Network([a, b], [pr], dt=DT, dtype=jnp.float64)
        st = net.init_state(key=jax.random.key(0))

        def loss(w):
            s, _ = net.with_weights(**{"A->B": w}).simulate(st, 300)
            return jnp.sum(s["neurons"]["B"]["V"])

        return loss

    # B never spikes (threshold 0 mV) and uses the exact Heaviside: the loss is linear in w and
    # the gradient through the dense synapses is exact (central differences: round-off only)
    loss = make(0.0, None)
    g = jax.grad(loss)(0.3)
    eps = 1e-4
    fd = (loss(0.3 + eps) - loss(0.3 - eps)) / (2 * eps)
    assert g != 0 and abs(g - fd) < 1e-6 * max(1.0, abs(fd))
    # B spikes: the surrogate gives a finite, nonzero gradient through spike and reset
    g2 = jax.grad(make(-50.0, FastSigmoid(beta=5.0)))(0.3)
    assert np.isfinite(g2) and g2 != 0


# ----- bad input ------------------------------------------------------------------------------
def test_bad_input_raises():
    lif = LIF()
    a = nw.Population(lif, 10, name="A")
    with pytest.raises(ValueError, match="dt"):
        nw.Network([a], dt=0.0)
    with pytest.raises(ValueError, match="delivery"):
        nw.Network([a], delivery="scatter")
    with pytest.raises(ValueError, match="dt"):
        nw.Network([a], dt=float("nan"))
    with pytest.raises(ValueError, match="rate"):
        nw.Network([nw.PoissonPopulation(5, 20000.0, name="P")], dt=0.1)
    with pytest.raises(ValueError, match="rate"):
        nw.Network([a], inputs=[nw.PoissonInput("A", 10, 1e4, 1.0)], dt=0.1)
    with pytest.raises(ValueError, match="rate"):
        nw.PoissonInput("A", 10, -1.0, 1.0)
    with pytest.raises(ValueError, match="pre and post"):
        nw.Explicit([0, 1], [0])
    with pytest.raises(ValueError, match="weight"):
        nw.Projection(a, a, nw.OneToOne(), weight=np.ones(3))
    with pytest.raises(ValueError, match="delay"):
        nw.Projection(a, a, nw.OneToOne(), delay=-1.0)
    with pytest.raises(ValueError, match="initial"):
        nw.Population(lif, 10, name="B", initial={"V": np.zeros(3)})
    with pytest.raises(ValueError, match="shape"):
        nw.Population(LIF(tau_m=np.ones(4) * 10), 5, name="C")
    with pytest.raises(ValueError, match="p must be"):
        nw.FixedProbability(1.5)
    with pytest.raises(ValueError, match="p must be"):
        nw.FixedProbability(float("nan"))
    with pytest.raises(ValueError, match="FixedInDegree.k"):
        nw.Projection(a, a, nw.FixedInDegree(11))
    with pytest.raises(ValueError, match="out of range"):
        nw.Projection(a, a, nw.Explicit([0, 12], [0, 1]))
    with pytest.raises(ValueError, match="duration"):
        nw.run(nw.Network([a]), -1.0, key=jax.random.key(0))
    with pytest.raises(ValueError, match="unknown population"):
        nw.run(nw.Network([a]), 1.0, key=jax.random.key(0), monitors=[nw.SpikeMonitor("Z")])
    with pytest.raises(ValueError, match="no variable"):
        nw.run(nw.Network([a]), 1.0, key=jax.random.key(0), monitors=[nw.StateMonitor("A", "w")])


def test_heterogeneous_population_parameters():
    # Each neuron its own threshold: constant drive, rates follow the LIF closed form.
    v_th = np.linspace(-55.0, -52.0, 4)
    lif = LIF(tau_m=10.0, E_L=-65.0, V_th=v_th, V_reset=-65.0, t_ref=2.0)
    pop = nw.Population(lif, name="H", I=15.0)
    res = nw.run(
        nw.Network([pop], dt=0.01, dtype=jnp.float64),
        2000.0,
        key=jax.random.key(0),
        monitors=[nw.SpikeMonitor("H")],
    )
    counts = np.bincount(res.spikes["H"][0], minlength=4) / 2.0
    expect = np.asarray(lif.rate(15.0))
    # time discretisation: each ISI is quantised to the dt grid (0.01 ms): < 1 % error
    np.testing.assert_allclose(counts, expect, rtol=0.01)


def test_plot_and_job(tmp_path):
    import json

    import matplotlib.pyplot as plt

    from spikejax._cli._network import run_network_job
    from spikejax.plot import plot_network

    summary = run_network_job(
        "coba", 400, 100.0, seed=1, out_dir=str(tmp_path), progress=False, verbose=False
    )
    assert (tmp_path / "coba_raster.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "coba_summary.json").read_text())
    assert saved["n"] == 400 and saved["real_time_factor"] == pytest.approx(summary["run_s"] / 0.1)
    # mean rate = all spikes / (n * duration), consistent with the per-population numbers
    pops = summary["populations"]
    total = sum(p["n_spikes"] for p in pops.values())
    assert summary["mean_rate_hz"] == pytest.approx(total / (400 * 0.1))
    res = nw.run(_small_net(), 100.0, key=jax.random.key(3), monitors=MONS)
    fig, (ax_r, ax_p) = plot_network(res, bin_ms=2.0)
    assert len(ax_r.lines) == 2 and len(ax_p.lines) == 2
    # the rate curve of E integrates to its spike count: sum(rate * n * bin) = n_spikes
    y = ax_p.lines[0].get_ydata()
    assert np.sum(y) * 120 * 2.0e-3 == pytest.approx(res.spikes["E"][0].size)
    plt.close(fig)
    with pytest.raises(ValueError, match="network"):
        run_network_job("nope", 100, 10.0, out_dir=str(tmp_path), progress=False)


def test_spike_words_round_trip_through_unpack_spikes():
    # Device packing (spike_words, bit b of word w = neuron 32 w + b) and host decoding
    # (unpack_spikes) are inverse for sizes that do and do not fill the last word.
    from spikejax.network._projection import spike_words

    rng = np.random.default_rng(3)
    for n in (1, 31, 32, 33, 77, 4000):
        s = rng.random((5, n)) < 0.2
        words = jax.vmap(spike_words)(jnp.asarray(s))
        assert words.shape == (5, -(-n // 32)) and words.dtype == jnp.uint32
        np.testing.assert_array_equal(nw.unpack_spikes(words, n), s)
        # neuron 32 w + b is bit b of word w
        j = int(np.argmax(s[0])) if s[0].any() else None
        if j is not None:
            assert (int(words[0, j // 32]) >> (j % 32)) & 1 == 1


# scalar weights run by default; per-synapse weights (14 s on the CI machine) are slow
@pytest.mark.parametrize("weights", ["scalar", pytest.param("per_synapse", marks=pytest.mark.slow)])
def test_reverse_mode_gradient_through_loop_delivery(weights):
    # The loop delivery's custom VJP gives the same weight gradients as the padded delivery
    # (plain autodiff through one scatter) and matches central finite differences (1e-6
    # relative: the loss is smooth in the weights between spike-time changes; eps = 1e-5).
    rng = np.random.default_rng(0)
    lif = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=2.0)
    a = nw.Population(lif, 60, name="A", I=12.0, initial={"V": rng.uniform(-60, -51, 60)})
    b = nw.Population(lif, 40, name="B")
    w_ab = 0.7 if weights == "scalar" else (lambda r, m: r.uniform(0.2, 1.0, m))
    syn = nw.Exponential(5.0, E_rev=0.0)

    def make(delivery):
        projs = [
            nw.Projection(
                a,
                b,
                nw.FixedProbability(0.2),
                weight=w_ab,
                synapse=syn,
                propagation="event",
                delay=lambda r, m: r.integers(0, 5, m) * 0.1,
                key=jax.random.key(3),
            ),
            nw.Projection(
                a,
                a,
                nw.FixedProbability(0.1),
                weight=0.3,
                synapse=syn,
                propagation="event",
                key=jax.random.key(4),
            ),
        ]
        return nw.Network([a, b], projs, dt=DT, dtype=jnp.float64, delivery=delivery)

    def loss_fn(net):
        st = net.init_state(key=jax.random.key(0))
        w0 = net.projection("A->B").weight

        def loss(scale, w_aa):
            s, _ = net.with_weights(**{"A->B": w0 * scale, "A->A": w_aa}).simulate(st, 300)
            return jnp.sum(s["neurons"]["B"]["V"]) + jnp.sum(s["neurons"]["A"]["V"])

        return loss

    loop, padded = jax.jit(loss_fn(make("loop"))), jax.jit(loss_fn(make("padded")))
    g_loop = jax.grad(loop, argnums=(0, 1))(1.0, 0.3)
    g_pad = jax.grad(padded, argnums=(0, 1))(1.0, 0.3)
    assert g_loop[0] != 0 and g_loop[1] != 0
    np.testing.assert_allclose(g_loop, g_pad, rtol=1e-12)
    eps = 1e-5
    fd = (
        (loop(1 + eps, 0.3) - loop(1 - eps, 0.3)) / (2 * eps),
        (loop(1.0, 0.3 + eps) - loop(1.0, 0.3 - eps)) / (2 * eps),
    )
    np.testing.assert_allclose(g_loop, fd, rtol=1e-6)
    # and under vmap: per-member gradients of a weight sweep equal the single ones
    scales = jnp.asarray([0.5, 1.0, 1.5])
    g_batch = jax.vmap(jax.grad(loop), in_axes=(0, None))(scales, 0.3)
    for j in range(3):
        np.testing.assert_allclose(g_batch[j], jax.grad(loop)(scales[j], 0.3), rtol=1e-12)


@pytest.mark.slow  # > 20 s on a 2-core machine; run with -m slow
def test_binary_search_count_equals_counting_all_thresholds():
    # PoissonInput samples counts by inverse CDF: count = #{j : u >= cdf[j]}. The compare
    # chain and the branchless binary search must give exactly the direct count, for every
    # table length (powers of two and not), ties in the table, and u equal to a table entry.
    from spikejax.spikes import count_at_most

    rng = np.random.default_rng(8)
    for m in (1, 2, 3, 7, 8, 9, 35, 64, 65, 100):  # entry by entry up to 64, then a search
        cdf = np.sort(rng.random(m))
        if m > 3:
            cdf[2] = cdf[3]  # a tie
        u = np.concatenate([rng.random(500), cdf, [0.0, np.nextafter(1.0, 0.0)]])
        direct = np.sum(u[:, None] >= cdf[None, :], axis=1)
        np.testing.assert_array_equal(count_at_most(jnp.asarray(cdf), jnp.asarray(u)), direct)
        # a table of CDFs, one row per element (the microcircuit's per-population inputs)
        table = np.sort(rng.random((4, m)), axis=1)
        rows = rng.integers(0, 4, u.size)
        direct = np.sum(u[:, None] >= table[rows], axis=1)
        got = count_at_most(jnp.asarray(table), jnp.asarray(u), rows=jnp.asarray(rows))
        np.testing.assert_array_equal(got, direct)


def test_auto_delivery_follows_the_backend():
    a = nw.Population(LIF(), 10, name="A")
    expected = "loop" if jax.default_backend() == "cpu" else "padded"
    assert nw.Network([a]).delivery == expected
    assert nw.Network([a], delivery="padded").delivery == "padded"
    assert nw.Network([a], delivery="loop").delivery == "loop"


@pytest.mark.slow  # > 20 s on a 2-core machine; run with -m slow
def test_heterogeneous_delays_are_stored_in_the_narrowest_integer_type():
    # 1 byte per synapse for delays below 128 steps, 2 below 32768; the delivered spikes are
    # the same as with the dense path (checked for short delays in the equality tests above;
    # here a delay of 200 steps, int16, against the dense matrices).
    lif = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=2.0)
    rng = np.random.default_rng(2)
    a = nw.Population(lif, 60, name="A", I=10.5, initial={"V": rng.uniform(-60, -51, 60)})

    def make(propagation, max_steps):
        pr = nw.Projection(
            a, a, nw.FixedProbability(0.1), weight=0.25, synapse=nw.Exponential(5.0),
            delay=lambda r, m: r.integers(0, max_steps + 1, m) * DT,
            propagation=propagation, key=jax.random.key(1),
        )  # fmt: skip
        return nw.Network([a], [pr], dt=DT, dtype=jnp.float64)

    assert make("event", 100).projections[0].delays.dtype == jnp.int8
    event, dense = make("event", 200), make("dense", 200)
    assert event.projections[0].delays.dtype == jnp.int16
    mons = (nw.SpikeMonitor("A"),)
    r = [nw.run(x, 150.0, key=jax.random.key(0), monitors=mons) for x in (event, dense)]
    assert r[0].spikes["A"][0].size > 40
    np.testing.assert_array_equal(r[0].spikes["A"][0], r[1].spikes["A"][0])
    np.testing.assert_array_equal(r[0].spikes["A"][1], r[1].spikes["A"][1])


@pytest.mark.parametrize(
    ("weights", "dtype"), [("scalar", jnp.float64), ("per_synapse", jnp.float32)]
)
def test_single_kernel_scatter_and_native_delivery_add_the_same(weights, dtype):
    # The forms of the loop delivery (single-element updates for loops that XLA compiles
    # into one kernel, a scatter per spike otherwise, and the compiled C++ kernel) add the
    # same values at the same places in the same order: ring buffers agree bit for bit, for
    # two projections from one population with heterogeneous delays, a spike cap below the
    # spike count, and under vmap (members with their own step; and members with their own
    # weights, which the compiled kernel hands back to the XLA loop).
    from spikejax.network._native import native_delivery
    from spikejax.network._projection import deliver_events, spike_words

    kernels = ("single", "scatter") + (("native",) if native_delivery() else ())

    lif = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=2.0)
    a = nw.Population(lif, 70, name="A")
    b = nw.Population(lif, 40, name="B")
    w = 0.3 if weights == "scalar" else (lambda r, m: r.uniform(0.1, 1.0, m))
    kw = dict(weight=w, synapse=nw.Exponential(5.0), propagation="event")
    projs = [
        nw.Projection(a, a, nw.FixedProbability(0.2), delay=lambda r, m: r.integers(0, 6, m) * DT,
                      key=jax.random.key(1), **kw),
        nw.Projection(a, b, nw.FixedProbability(0.3), delay=0.2, key=jax.random.key(2), **kw),
    ]  # fmt: skip
    net = nw.Network([a, b], projs, dt=DT, dtype=dtype)
    cols = [net.receptor_columns[cp.receptor_key][0] for cp in net.projections]
    D = net.buffer_depth
    W = sum(n + 1 for _, n in net.receptor_columns.values())
    rng = np.random.default_rng(0)
    flats = jnp.asarray(rng.normal(size=(3, D * W)), dtype)
    words = jnp.stack([spike_words(jnp.asarray(rng.random(70) < 0.3)) for _ in range(3)])
    counts = jnp.sum(jax.lax.population_count(words), axis=1, dtype=jnp.int32)
    assert int(counts.min()) > 10

    # the dummy column after each receptor's columns takes the padding of the scatter form
    # (and is never read): compared are the real columns
    real = np.ones((D, W), bool)
    for c, n in net.receptor_columns.values():
        real[:, c + n] = False

    def deliver(kernel, flat, wd, count, k, projections=net.projections):
        out = deliver_events(projections, flat, wd, count, k, D, W, cols, kernel=kernel)
        return out.reshape(D, W)[real]

    for kernel in kernels:
        assert deliver(kernel, flats[0], words[0], counts[0], 3).shape == (int(real.sum()),)
    for count in (counts[0], counts[0] - 5):  # all spikes, and the first ones only
        out = [jax.jit(deliver, static_argnums=0)(kn, flats[0], words[0], count, jnp.int32(3))
               for kn in kernels]  # fmt: skip
        for o in out[1:]:
            np.testing.assert_array_equal(out[0], o)
        assert not np.array_equal(out[0], flats[0].reshape(D, W)[real])
    ks = jnp.asarray([3, 4, 9], jnp.int32)
    out = [jax.jit(jax.vmap(lambda f, wd, c, k, kn=kn: deliver(kn, f, wd, c, k)))(
        flats, words, counts, ks) for kn in kernels]  # fmt: skip
    for o in out[1:]:
        np.testing.assert_array_equal(out[0], o)
    for j in range(3):
        single = deliver("scatter", flats[j], words[j], counts[j], ks[j])
        np.testing.assert_array_equal(out[0][j], single)
    # members with their own weights (the first projection's scaled per member)
    scale = jnp.asarray([1.0, 0.5, 2.0], dtype)

    def scaled(kn, f, wd, c, s):
        first = eqx.tree_at(lambda cp: cp.weight, net.projections[0], net.projections[0].weight * s)
        return deliver(kn, f, wd, c, 3, (first,) + tuple(net.projections[1:]))

    out = [jax.jit(jax.vmap(lambda f, wd, c, s, kn=kn: scaled(kn, f, wd, c, s)))(
        flats, words, counts, scale) for kn in kernels]  # fmt: skip
    for o in out[1:]:
        np.testing.assert_array_equal(out[0], o)
    np.testing.assert_array_equal(out[0][2], scaled("single", flats[2], words[2], counts[2], 2.0))
    with pytest.raises(ValueError, match="kernel must be one of"):
        deliver("vector", flats[0], words[0], counts[0], 3)


def test_auto_propagation_prefers_events_with_the_loop_delivery():
    # A dense step costs every matrix entry whatever the activity: with the loop delivery
    # (CPU) "auto" takes the event path for all but tiny projections (<= 4096 entries, delay
    # groups included); with the padded delivery (GPU) small or dense projections stay dense.
    loop, _ = nw.izhikevich2003(key=jax.random.key(0))
    if jax.default_backend() == "cpu":  # the default delivery is the loop: all-to-all by events
        assert loop.delivery == "loop" and all(p.mode == "event" for p in loop.projections)
    modes = {
        d: {p.name: p.mode for p in nw.Network(
            list(loop.populations.values()),
            [nw.Projection(loop.populations[a], loop.populations[b], nw.AllToAll(),
                           weight=0.5, key=jax.random.key(1)) for a, b in (("E", "I"), ("I", "I"))],
            dt=0.5, delivery=d).projections}
        for d in ("loop", "padded")
    }  # fmt: skip
    assert modes["loop"] == {"E->I": "event", "I->I": "event"}  # 800 x 200 and 200 x 200
    assert modes["padded"] == {"E->I": "dense", "I->I": "dense"}
    lif = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=2.0)
    a, b = nw.Population(lif, 64, name="A"), nw.Population(lif, 65, name="B")
    tiny = [nw.Projection(a, a, nw.AllToAll(), key=jax.random.key(2)),  # 4096 entries
            nw.Projection(a, b, nw.AllToAll(), key=jax.random.key(3))]  # 4160  # fmt: skip
    assert [p.mode for p in nw.Network([a, b], tiny, delivery="loop").projections] == [
        "dense", "event"]  # fmt: skip


# ----- the one step: fused and generic exponential Euler agree ---------------------------------
class _GenericExponentialEuler(AbstractScheme):
    """Exponential Euler through the generic phi1 formula (autodiff diagonal of the driven
    vector field), never the models' fused steps."""

    order: ClassVar[int] = 1
    name: ClassVar[str] = "generic_exponential_euler"

    def step(self, model, t, y, I, dt):
        return exponential_euler_step(model, t, y, I, dt)


def _hh_conductance_network(method):
    rng = np.random.default_rng(3)
    n = 40
    pop = nw.Population(
        HodgkinHuxley(),
        n,
        name="H",
        I=8.0,
        initial={"V": rng.uniform(-70, -55, n)},
        method=method,
    )
    conn = nw.FixedProbability(0.2)
    exc = nw.Exponential(3.0, E_rev=0.0)
    proj = nw.Projection(pop, pop, conn, weight=0.05, synapse=exc, key=jax.random.key(4))
    return nw.Network([pop], [proj], dt=0.01, dtype=jnp.float64)


@pytest.mark.parametrize("which", ["coba_lif", "hh"])
def test_fused_and_generic_exponential_euler_agree_in_a_network(which):
    # Populations advance with spikejax.solvers.advance; with conductance synapses the LIF and
    # HH exponential Euler steps take the conductances in their fused formulas. The generic
    # step (phi1 with the autodiff diagonal of solvers.Driven's vector field) shares no code
    # with them. float64: states agree to round-off accumulated over the run (1e-9 mV, 1e-11
    # for gates) and the spikes are identical.
    if which == "coba_lif":
        build = lambda m: nw.coba(200, key=jax.random.key(5), dtype=jnp.float64, method=m)[0]  # noqa: E731
        n_steps = 400
    else:
        build = _hh_conductance_network
        n_steps = 1500
    nets = [build("exponential_euler"), build(_GenericExponentialEuler())]
    finals, spikes = [], []
    for net in nets:
        pops = [p for p in net.populations]
        mons = tuple(nw.SpikeMonitor(p) for p in pops)
        st, outs = jax.jit(lambda s, net=net, mons=mons: net.simulate(s, n_steps, mons))(
            net.init_state(key=jax.random.key(6))
        )
        finals.append(st["neurons"])
        spikes.append([np.asarray(outs[m.key]) for m in mons])
    total = sum(int(np.unpackbits(s.view(np.uint8)).sum()) for s in spikes[0])
    assert total > 10  # the comparison covers spikes and resets
    for a, b in zip(spikes[0], spikes[1]):
        np.testing.assert_array_equal(a, b)
    for p in finals[0]:
        for v in finals[0][p]:
            atol = 1e-9 if v == "V" else 1e-11
            np.testing.assert_allclose(finals[0][p][v], finals[1][p][v], rtol=0, atol=atol)


def test_delivery_kernel_is_decided_when_the_network_is_built(monkeypatch):
    # The loop delivery's form depends on process-wide XLA settings; the network reads them
    # once, when built, and tracing its step never does (here: it would raise).
    import spikejax.cpu

    net, mons = nw.coba(200, key=jax.random.key(0), delivery="loop")
    kinds = dict(net.event_kernels_)
    assert set(kinds) == {"E", "I"} and set(kinds.values()) <= {"single", "scatter", "native"}

    def fail():
        raise AssertionError("loop_kernels_active read while tracing")

    monkeypatch.setattr(spikejax.cpu, "loop_kernels_active", fail)
    st, _ = jax.jit(lambda s: net.simulate(s, 20))(net.init_state(key=jax.random.key(1)))
    assert int(st["step"]) == 20


# ----- bad and edge inputs: named errors, never a silent wrong result ---------------------------
def test_spike_source_times_follow_the_network_grid():
    # A source stores times: without its own dt it takes the network's (the spikes come out
    # at the given times); built with another dt than its network's it is refused.
    times = [1.0, 2.3, 2.3, 4.5]
    src = nw.SpikeSource(3, [0, 1, 2, 0], times, name="src")
    net = nw.Network([src], dt=0.1)
    res = nw.run(net, 5.0, key=jax.random.key(0), monitors=[nw.SpikeMonitor("src")])
    i, t = res.spikes["src"]
    order = np.lexsort((i, t))
    np.testing.assert_allclose(t[order], times, atol=1e-9)
    np.testing.assert_array_equal(i[order], [0, 1, 2, 0])
    with pytest.raises(ValueError, match=r"built with dt=0.5 ms but its network steps by dt=0.1"):
        nw.Network([nw.SpikeSource(1, [0], [1.0], name="s", dt=0.5)], dt=0.1)
    with pytest.raises(ValueError, match=r"times must be >= dt"):
        nw.Network([nw.SpikeSource(1, [0], [0.01], name="s")], dt=0.1)
    with pytest.raises(ValueError, match=r"indices must be integers"):
        nw.SpikeSource(2, [0.0, 1.5], [1.0, 2.0], name="s")
    with pytest.raises(ValueError, match=r"times must be finite"):
        nw.SpikeSource(1, [0], [np.nan], name="s")


def test_network_refuses_non_float_and_unavailable_dtypes():
    pop = nw.Population(LIF(), 3, name="A", I=20.0)
    for bad in (jnp.int32, jnp.bfloat16, jnp.float16):
        with pytest.raises(ValueError, match=r"Network.dtype must be float32 or float64"):
            nw.Network([pop], dt=0.1, dtype=bad)
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(ValueError, match=r"jax_enable_x64"):
            nw.Network([pop], dt=0.1, dtype=jnp.float64)
    finally:
        jax.config.update("jax_enable_x64", True)


def test_run_refuses_bad_duration_key_and_foreign_state():
    net, mons = nw.coba(100, key=jax.random.key(0))
    for bad in (float("inf"), float("nan"), -1.0, "10"):
        with pytest.raises(ValueError, match=r"duration must be finite and > 0 ms"):
            nw.run(net, bad, key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"shorter than half a step"):
        nw.run(net, 0.01, key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"key must be a JAX PRNG key"):
        nw.run(net, 1.0, key=0)
    other, _ = nw.coba(200, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"does not belong to this network.*shape"):
        nw.run(net, 1.0, state=other.init_state(key=jax.random.key(1)))
    state = dict(net.init_state(key=jax.random.key(1)))
    del state["stimuli"]
    with pytest.raises(ValueError, match=r"does not belong to this network.*no \['stimuli'\]"):
        nw.run(net, 1.0, state=state)
    with pytest.raises(ValueError, match=r"Explicit: pre indices must be integers"):
        nw.Explicit([0.0, 1.7], [1, 2])


def test_corrupted_state_and_result_files_are_named(tmp_path):
    net, mons = nw.coba(100, key=jax.random.key(0))
    res = nw.run(net, 2.0, key=jax.random.key(1), monitors=mons)
    good_state, good_result = tmp_path / "s.npz", tmp_path / "r.npz"
    nw.save_state(good_state, res.state)
    nw.save_result(good_result, res)
    data = good_state.read_bytes()
    cases = {
        "empty.npz": (b"", r"empty \(0 bytes\)"),
        "truncated.npz": (data[: len(data) // 2], r"truncated or corrupted"),
        "garbage.npz": (b"not a zip file at all" * 10, r"truncated or corrupted|not a"),
    }
    for name, (content, msg) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        for load in (nw.load_state, nw.load_result):
            with pytest.raises(ValueError, match=rf"{name}.*({msg})"):
                load(path)
    # a flipped byte inside a stored array: its CRC fails when it is read
    corrupt = bytearray(data)
    pos = data.find(b"state/neurons/E/V") + 200
    corrupt[pos] ^= 0xFF
    (tmp_path / "crc.npz").write_bytes(bytes(corrupt))
    with pytest.raises(ValueError, match=r"crc.npz.*(corrupted|truncated)"):
        nw.load_state(tmp_path / "crc.npz")
    # a state file is not a result file, and a plain npz is neither
    with pytest.raises(ValueError, match=r"s.npz: not a spikejax network result file"):
        nw.load_result(good_state)
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match=r"plain.npz: not a spikejax network state file"):
        nw.load_state(tmp_path / "plain.npz")
    # the good files still load
    np.testing.assert_array_equal(nw.load_state(good_state)["neurons"]["E"]["V"],
                                  res.state["neurons"]["E"]["V"])  # fmt: skip
    assert nw.load_result(good_result).spikes["E"][0].size == res.spikes["E"][0].size


def test_state_monitor_of_everything_warns_with_its_memory_estimate(monkeypatch):
    import spikejax.network._run as run_module

    net, _ = nw.coba(100, key=jax.random.key(0))
    monkeypatch.setattr(run_module, "STATE_MONITOR_WARN_BYTES", 10_000)
    mon = nw.StateMonitor("E", ["V", "refractory"])
    # 21 rows x 2 variables x 80 neurons x 4 or 8 bytes > 10 kB
    with pytest.warns(ResourceWarning, match=r"StateMonitor records .* GiB"):
        nw.run(net, n_steps=20, key=jax.random.key(1), monitors=[mon])


def test_continued_runs_split_time_as_t_start_exclusive_t_stop_inclusive():
    # (t_start, t_stop]: a spike stamped exactly at the first run's t_stop belongs to it,
    # and the continued run starts after it (no spike counted twice or lost).
    src = nw.SpikeSource(1, [0, 0, 0], [1.0, 2.0, 2.1], name="src")
    net = nw.Network([src], dt=0.1)
    mon = [nw.SpikeMonitor("src")]
    a = nw.run(net, 2.0, key=jax.random.key(0), monitors=mon)
    b = nw.run(net, 1.0, state=a.state, monitors=mon)
    np.testing.assert_allclose(a.spikes["src"][1], [1.0, 2.0], atol=1e-9)
    np.testing.assert_allclose(b.spikes["src"][1], [2.1], atol=1e-9)
    assert (a.t_start, a.t_stop, b.t_start) == pytest.approx((0.0, 2.0, 2.0))
