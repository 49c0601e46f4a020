r"""Precise (off-grid) spike times of LIF populations (`Population(precise=True)`).

Truths, all independent of the network code:

- a LIF under constant input fires at the closed-form first-passage time
  $t_1 = \tau_m \ln\frac{V_\infty - V_0}{V_\infty - V_\mathrm{th}}$ and then with the period
  $t_\mathrm{ref} + \tau_m \ln\frac{V_\infty - V_\mathrm{reset}}{V_\infty - V_\mathrm{th}}$;
- a spike at a known off-grid time through a delay $d$ gives the closed-form PSP of an
  exponential current, $w R \frac{\tau_s}{\tau_s - \tau_m}(e^{-s/\tau_s} - e^{-s/\tau_m})$,
  $s = t - t_\mathrm{spike} - d$, evaluated with mpmath;
- a small recurrent network against an event-driven simulation written here (numpy and
  scipy's brentq: exact solution between events, events in time order, as NEST's `_ps`
  models), and its convergence in `dt`.
"""

import heapq
import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy.optimize import brentq

from spikejax import network as nw
from spikejax.models import LIF, Izhikevich

TAU_M, E_L, V_TH, V_RESET = 10.0, -65.0, -50.0, -65.0
CURRENTS = np.array([16.0, 18.0, 20.0, 25.0, 40.0])  # V_inf = E_L + I above threshold


def _dc_spike_times(I, t_ref, t_stop):
    """Closed-form spike times of an LIF from rest under constant input I."""
    v_inf = E_L + I
    t = TAU_M * math.log((v_inf - E_L) / (v_inf - V_TH))
    period = t_ref + TAU_M * math.log((v_inf - V_RESET) / (v_inf - V_TH))
    out = []
    while t <= t_stop:
        out.append(t)
        t += period
    return np.array(out)


def _dc_network(dt, t_ref, dtype=None, precise=True):
    model = LIF(tau_m=TAU_M, E_L=E_L, V_th=V_TH, V_reset=V_RESET, t_ref=t_ref)
    pop = nw.Population(model, len(CURRENTS), name="P", I=CURRENTS, precise=precise)
    return nw.Network([pop], dt=dt, dtype=dtype)


@pytest.mark.parametrize("dt", [0.01, 0.1, 1.0])
def test_dc_lif_fires_at_the_analytic_times_whatever_dt(dt):
    # t_ref = 2.3 ms is not a whole number of steps at dt = 1: the refractory period ends
    # inside a step, in continuous time
    t_ref, t_stop = 2.3, 60.0
    res = nw.run(_dc_network(dt, t_ref), t_stop, key=jax.random.key(0),
                 monitors=[nw.SpikeMonitor("P")])  # fmt: skip
    i, t = res.spikes["P"]
    assert res.spikes["P"].offsets is not None
    for j, I in enumerate(CURRENTS):
        want = _dc_spike_times(I, t_ref, t_stop)
        got = t[i == j]
        assert got.shape == want.shape, (I, got, want)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_dc_lif_on_the_grid_is_off_by_up_to_a_step():
    # the contrast: without precise=True the spikes sit at the end of their step
    dt, t_ref = 0.1, 2.0
    res = nw.run(_dc_network(dt, t_ref, precise=False), 30.0, key=jax.random.key(0),
                 monitors=[nw.SpikeMonitor("P")])  # fmt: skip
    assert res.spikes["P"].offsets is None
    i, t = res.spikes["P"]
    want = _dc_spike_times(CURRENTS[2], t_ref, 30.0)
    err = np.abs(t[i == 2][: want.size] - want)
    assert err.max() > 1e-3 and err.max() <= 2 * dt


def test_dc_lif_float32_times():
    # float32 states: the offset is a float32 fraction of the step, the step an integer
    t_ref, t_stop, dt = 2.3, 60.0, 0.1
    res = nw.run(_dc_network(dt, t_ref, dtype=jnp.float32), t_stop, key=jax.random.key(0),
                 monitors=[nw.SpikeMonitor("P")])  # fmt: skip
    i, t = res.spikes["P"]
    for j, I in enumerate(CURRENTS):
        want = _dc_spike_times(I, t_ref, t_stop)
        np.testing.assert_allclose(t[i == j], want, rtol=0, atol=2e-4)


# ---------------------------------------------------------------------------------------------
TAU_S, W, R_POST = 2.0, 3.0, 1.5


def _psp(s, tau_m):
    """The closed-form PSP (mV) s ms after the arrival, weight W (mpmath, 50 digits)."""
    if s <= 0:
        return 0.0
    mp.mp.dps = 50
    s, tm, ts = mp.mpf(s), mp.mpf(tau_m), mp.mpf(TAU_S)
    return float(W * R_POST * ts * (mp.exp(-s / ts) - mp.exp(-s / tm)) / (ts - tm))


@pytest.mark.parametrize("dt", [pytest.param(0.1, marks=pytest.mark.slow), 1.0])
def test_off_grid_spike_through_a_continuous_delay_gives_the_closed_form_psp(dt):
    # the presynaptic cell fires once, at the off-grid analytic time t1; cell 0 of the
    # target gets it through a single delay of 1.55 ms (not a whole number of steps), cell 1
    # through a per-synapse delay of 2 ms, cell 2 gets a grid spike (a SpikeSource at 3 ms)
    I_pre, t_ref_pre = 20.0, 500.0
    t1 = TAU_M * math.log(I_pre / (I_pre - (V_TH - E_L)))
    pre = nw.Population(LIF(tau_m=TAU_M, E_L=E_L, V_th=V_TH, V_reset=V_RESET, t_ref=t_ref_pre),
                        1, name="pre", I=I_pre, precise=True)  # fmt: skip
    src = nw.SpikeSource(1, [0], [3.0], name="src")
    tau_post = 7.0
    post = nw.Population(LIF(tau_m=tau_post, E_L=E_L, V_th=100.0, R=R_POST), 3, name="post",
                         precise=True)  # fmt: skip
    syn = nw.Exponential(TAU_S)
    projs = [
        nw.Projection(pre, post, nw.Explicit([0], [0]), weight=W, delay=1.55, synapse=syn,
                      name="a"),
        nw.Projection(pre, post, nw.Explicit([0], [1]), weight=W, delay=np.array([2.0]),
                      synapse=syn, name="b"),
        nw.Projection(src, post, nw.Explicit([0], [2]), weight=W, delay=1.0, synapse=syn,
                      name="c"),
    ]  # fmt: skip
    net = nw.Network([pre, src, post], projs, dt=dt)
    res = nw.run(net, 30.0, key=jax.random.key(0),
                 monitors=[nw.SpikeMonitor("pre"), nw.StateMonitor("post", ["V"])])  # fmt: skip
    _, t_pre = res.spikes["pre"]
    np.testing.assert_allclose(t_pre, [t1], rtol=0, atol=1e-10)
    times, v = res.states[nw.StateMonitor("post", ["V"]).key]
    arrivals = [t1 + 1.55, t1 + 2.0, 4.0]
    for cell, t_arr in enumerate(arrivals):
        want = np.array([E_L + _psp(tk - t_arr, tau_post) for tk in times])
        np.testing.assert_allclose(v[:, 0, cell], want, rtol=0, atol=1e-9)
    assert np.max(v[:, 0, 0] - E_L) > 0.5  # a PSP of a few mV was there to compare


# ---------------------------------------------------------------------------------------------
def test_precise_is_refused_where_it_does_not_apply():
    lif = LIF(t_ref=2.0)
    with pytest.raises(ValueError, match="needs an LIF model"):
        nw.Population(Izhikevich(), 2, name="x", precise=True)
    with pytest.raises(ValueError, match="one tau_m"):
        nw.Population(LIF(tau_m=jnp.array([10.0, 20.0])), 2, name="x", precise=True)
    with pytest.raises(ValueError, match="method"):
        nw.Population(lif, 2, name="x", method="rk4", precise=True)
    with pytest.raises(ValueError, match="synapse_integration"):
        nw.Population(lif, 2, name="x", synapse_integration="held", precise=True)
    with pytest.raises(ValueError, match="precise must be True or False"):
        nw.Population(lif, 2, name="x", precise="yes")  # pyright: ignore[reportArgumentType]
    a = nw.Population(lif, 2, name="a", I=20.0, precise=True)
    b = nw.Population(lif, 2, name="b", precise=True)
    with pytest.raises(ValueError, match="t_ref >= dt"):
        nw.Network([nw.Population(LIF(t_ref=0.5), 2, name="c", precise=True)], dt=1.0)
    bad = {
        "current-based Exponential": dict(synapse=nw.Exponential(5.0, E_rev=0.0)),
        "current-based Exponential ": dict(synapse=nw.Alpha(5.0)),
        "delays must be >= dt": dict(synapse=nw.Exponential(5.0), delay=0.05),
        "whole steps": dict(synapse=nw.Exponential(5.0), delay=np.array([1.0, 1.25, 1, 1])),
        "cannot be plastic": dict(synapse=nw.Exponential(5.0), plasticity=nw.PairSTDP()),
        "propagation": dict(synapse=nw.Exponential(5.0), propagation="dense"),
    }
    for msg, kw in bad.items():
        kw = {"delay": 1.0, **kw}
        with pytest.raises(ValueError, match=msg.strip()):
            pr = nw.Projection(a, b, nw.AllToAll(), weight=1.0, **kw)
            nw.Network([a, b], [pr], dt=0.1)
    with pytest.raises(ValueError, match="PoissonInput"):
        nw.Network([b], inputs=[nw.PoissonInput("b", 10, 5.0, 1.0, synapse=nw.Exponential(5.0))],
                   dt=0.1)  # fmt: skip
    with pytest.raises(ValueError, match="gap junctions"):
        nw.Network([b], gap_junctions=[nw.GapJunctions("b", [(0, 1)], 0.1)], dt=0.1)


# ---------------------------------------------------------------------------------------------
# A small recurrent network against an event-driven simulation written here
N_NET, T_NET, TAU_NET_S, DELAY_NET, T_REF_NET = 5, 200.0, 3.0, 1.3, 2.0
I_NET = np.array([15.5, 17.0, 19.0, 22.0, 26.0])
W_NET = np.array(
    [
        [0.0, 1.2, -2.0, 0.8, 1.5],
        [-1.0, 0.0, 1.4, -1.8, 0.6],
        [1.6, -0.7, 0.0, 1.1, -1.3],
        [0.9, 1.3, -1.5, 0.0, 0.7],
        [-1.2, 0.5, 1.7, -0.9, 0.0],
    ]
)  # W_NET[i, j]: from i to j


def _reference_network():
    """Spike times of the network, event by event: the exact solution between events,
    arrivals and refractory ends in time order, threshold crossings located by brentq."""
    tm, ts = TAU_M, TAU_NET_S
    c = ts / (ts - tm)
    V = np.full(N_NET, E_L)
    g = np.zeros(N_NET)
    ref_end = np.full(N_NET, -np.inf)
    queue: list = []
    spikes = []
    t = 0.0

    def advance(V, g, free, s):
        V_inf = E_L + I_NET.reshape(np.shape(V)[:1] + (1,) * (np.ndim(V) - 1))
        Vn = V_inf + (V - V_inf) * np.exp(-s / tm) + g * c * (np.exp(-s / ts) - np.exp(-s / tm))
        return np.where(free, Vn, V), g * np.exp(-s / ts)

    while t < T_NET:
        t_next = min(queue[0][0] if queue else T_NET, T_NET)
        ends = ref_end[(ref_end > t) & (ref_end < t_next)]
        t_seg = min(t_next, ends.min()) if ends.size else t_next
        free = ref_end <= t
        # the earliest crossing in (t, t_seg]
        first, who = np.inf, -1
        grid = np.linspace(0.0, t_seg - t, 65)[1:]
        vs = advance(V[:, None], g[:, None], free[:, None], grid[None, :])[0]
        for i in np.flatnonzero(free):
            above = np.flatnonzero(vs[i] >= V_TH)
            if above.size:
                j = above[0]
                lo = grid[j - 1] if j else 0.0

                def fn(s, i=i, V=V, g=g, free=free):
                    return advance(V, g, free, s)[0][i] - V_TH

                root = brentq(fn, lo, grid[j], xtol=1e-15, rtol=4 * np.finfo(float).eps)
                tc = float(root)  # pyright: ignore[reportArgumentType]
                if tc < first:
                    first, who = tc, i
        if who >= 0:
            V, g = advance(V, g, free, first)
            t = t + first
            spikes.append((who, t))
            V[who] = V_RESET
            ref_end[who] = t + T_REF_NET
            for j in range(N_NET):
                if W_NET[who, j]:
                    heapq.heappush(queue, (t + DELAY_NET, j, W_NET[who, j]))
            continue
        V, g = advance(V, g, free, t_seg - t)
        t = t_seg
        while queue and queue[0][0] <= t:
            _, j, w = heapq.heappop(queue)
            g[j] += w
    return spikes


def _precise_network(dt, precise=True, delivery="auto"):
    model = LIF(tau_m=TAU_M, E_L=E_L, V_th=V_TH, V_reset=V_RESET, t_ref=T_REF_NET)
    pop = nw.Population(model, N_NET, name="P", I=I_NET, precise=precise)
    pre, post = np.nonzero(W_NET)
    # spike_buffer=1: the padded delivery's buffer overflows and grows (the chunk repeated)
    pr = nw.Projection(pop, pop, nw.Explicit(pre, post), weight=W_NET[pre, post],
                       delay=DELAY_NET, synapse=nw.Exponential(TAU_NET_S),
                       spike_buffer=1 if delivery == "padded" else None)  # fmt: skip
    net = nw.Network([pop], [pr], dt=dt, delivery=delivery)
    res = nw.run(net, T_NET, key=jax.random.key(0), monitors=[nw.SpikeMonitor("P")])
    return res.spikes["P"]


def _errors(rec, ref):
    i, t = rec
    out = []
    for n in range(N_NET):
        want = np.array([s for j, s in ref if j == n])
        got = t[i == n]
        if got.shape != want.shape:
            return None
        out.append(np.abs(got - want))
    return np.concatenate(out)


@pytest.fixture(scope="module")
def reference():
    return _reference_network()


def test_small_network_matches_the_event_driven_reference(reference):
    assert len(reference) > 40
    # precise: exact (round-off) at every dt below the network's closest coincidence of an
    # arrival with a spike or refractory end in one step (at dt = 0.4 ms there is one)
    # the loop delivery (CPU default) at 0.2 ms, the padded one (GPU default) at 0.05 ms
    for dt, delivery in ((0.2, "loop"), (0.05, "padded")):
        err = _errors(_precise_network(dt, delivery=delivery), reference)
        assert err is not None and err.max() < 1e-9, (dt, err)


@pytest.mark.slow
def test_small_network_on_the_grid_converges_at_order_1(reference):
    # the grid path, for contrast: first order (spikes at the end of their step)
    ref = reference
    dts = np.array([0.1, 0.05, 0.025])
    mean = []
    for dt in dts:
        err = _errors(_precise_network(dt, precise=False), ref)
        assert err is not None, dt
        mean.append(err.mean())
    order = np.polyfit(np.log(dts), np.log(mean), 1)[0]
    assert 0.8 < order < 1.3, (mean, order)


def test_an_arrival_after_the_crossing_in_its_step_costs_first_order_in_dt():
    # The one approximation: the arrivals of a step are taken to precede the neuron's own
    # event in that step. Here the target crosses threshold at the analytic t_c, in the
    # middle of its step, and a spike arrives a quarter step later: the exact spike time is
    # t_c (the arrival comes after it); the computed one is off by O(w dt), so it converges
    # at order 1 on dts that keep this geometry (dt = t_c / (m + 1/2)).
    I_pre, I_post = 100.0, 20.0
    t_p = TAU_M * math.log(I_pre / (I_pre - (V_TH - E_L)))
    t_c = TAU_M * math.log(I_post / (I_post - (V_TH - E_L)))
    errs, dts = [], []
    for m in (10, 20, 40):
        dt = t_c / (m + 0.5)
        lif = LIF(tau_m=TAU_M, E_L=E_L, V_th=V_TH, V_reset=V_RESET, t_ref=100.0)
        # cell 0 the presynaptic one, cell 1 the target (one population: one compilation)
        pop = nw.Population(lif, 2, name="P", I=np.array([I_pre, I_post]), precise=True)
        pr = nw.Projection(pop, pop, nw.Explicit([0], [1]), weight=2.0,
                           delay=t_c + dt / 4 - t_p, synapse=nw.Exponential(TAU_S))  # fmt: skip
        res = nw.run(nw.Network([pop], [pr], dt=dt), 20.0, key=jax.random.key(0),
                     monitors=[nw.SpikeMonitor("P")])  # fmt: skip
        i, t = res.spikes["P"]
        np.testing.assert_allclose(t[i == 0], [t_p], rtol=0, atol=1e-10)
        errs.append(abs(t[i == 1][0] - t_c))
        dts.append(dt)
    order = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert 0.9 < order < 1.1, (errs, order)
    assert max(np.array(errs) / dts) < 0.1  # a small fraction of the step


def test_offsets_survive_chunks_resume_save_and_store(tmp_path):
    net = _dc_network(0.1, 2.3)
    mon = [nw.SpikeMonitor("P")]
    # chunks of 250 and 100 steps in all three runs (two compilations)
    whole = nw.run(net, 60.0, key=jax.random.key(0), monitors=mon, chunk_steps=250)
    first = nw.run(net, 25.0, key=jax.random.key(0), monitors=mon, chunk_steps=250)
    second = nw.run(net, 35.0, state=first.state, monitors=mon, chunk_steps=250)
    for part in ("indices", "steps", "offsets"):
        joined = np.concatenate([getattr(r.spikes["P"], part) for r in (first, second)])
        np.testing.assert_array_equal(joined, getattr(whole.spikes["P"], part))
    nw.save_result(tmp_path / "r.npz", whole)
    back = nw.load_result(tmp_path / "r.npz").spikes["P"]
    np.testing.assert_array_equal(back.times, whole.spikes["P"].times)
    pytest.importorskip("zarr")
    stored = nw.run(net, 60.0, key=jax.random.key(0), chunk_steps=250,
                    monitors=[nw.SpikeMonitor("P", store=tmp_path / "s")])  # fmt: skip
    np.testing.assert_array_equal(stored.spikes["P"].times, whole.spikes["P"].times)


@pytest.mark.slow
def test_small_network_in_float32(reference):
    # float32: the offsets are float32 fractions of a step and the synaptic and refractory
    # states round at each step; measured max 0.6 us at dt 0.2 and 1.8 us at dt 0.05
    model = LIF(tau_m=TAU_M, E_L=E_L, V_th=V_TH, V_reset=V_RESET, t_ref=T_REF_NET)
    pop = nw.Population(model, N_NET, name="P", I=I_NET, precise=True)
    pre, post = np.nonzero(W_NET)
    pr = nw.Projection(pop, pop, nw.Explicit(pre, post), weight=W_NET[pre, post],
                       delay=DELAY_NET, synapse=nw.Exponential(TAU_NET_S))  # fmt: skip
    for dt in (0.2, 0.05):
        net = nw.Network([pop], [pr], dt=dt, dtype=jnp.float32)
        res = nw.run(net, T_NET, key=jax.random.key(0), monitors=[nw.SpikeMonitor("P")])
        err = _errors(res.spikes["P"], reference)
        assert err is not None and err.max() < 5e-3, (dt, err)
