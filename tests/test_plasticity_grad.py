"""Reverse-mode derivatives through plastic projections: `jax.grad` of a loss on the final
weights and on the post-synaptic membrane potentials, with respect to learning rates, time
constants, short-term plasticity parameters and the initial weights, against central finite
differences of the run (float64) and `jax.jacfwd`, for both forms of the plastic step (event
loops, `delivery="loop"`, differentiated through the dense form; dense, `delivery="padded"`)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikejax import network as nw
from spikejax.models import LIF

DT = 0.5  # ms: every spike time is on this grid
T_END = 150.0  # ms
N_PRE, N_POST = 5, 3


def _rules(full: bool):
    """The plastic rules and their delays: all four (`full`) or two (the default test's, to
    keep its compilation short): pair STDP with heterogeneous delays and reward-modulated
    nearest-spike triplet STDP."""
    bounds = dict(w_min=-10.0, w_max=10.0)
    stdp = dict(A_plus=0.01, A_minus=0.012, tau_plus=17.0, tau_minus=34.0)
    reward = nw.Modulator(200.0, reward_times=[100.0], reward_amounts=0.5)
    pair = nw.PairSTDP(**stdp, **bounds)
    delays = np.random.default_rng(4).choice([0.0, 1.0], N_PRE * N_POST)
    if not full:
        triplet = nw.TripletSTDP.hippocampal("nearest")
        return [pair, nw.Neuromodulated(triplet, reward, tau_c=300.0, **bounds)], [delays, 0.5]
    rules = [
        pair,
        nw.TripletSTDP.hippocampal("nearest", **bounds),
        nw.Neuromodulated(nw.PairSTDP(**stdp), reward, tau_c=300.0, **bounds),
        nw.TsodyksMarkram(U=0.4, tau_d=150.0, tau_f=50.0),
    ]
    return rules, [delays, 0.5, 0.0, 1.0]


def _net(delivery: str, dtype=jnp.float64, full: bool = True):
    """Five sources (scripted spikes) onto three LIFs (tau_m = 10 ms), all-to-all through the
    plastic projections of `_rules`. A strong kick makes each LIF spike at scripted times;
    the plastic inputs (15 synapses per projection, weights about 0.5) stay far below the
    threshold of 20, so the spike trains do not depend on the parameters and the run is
    smooth in them."""
    rng = np.random.default_rng(5)
    grid = lambda a: np.round(np.asarray(a) / DT) * DT  # noqa: E731
    pre_idx = np.repeat(np.arange(N_PRE), 6)
    pre_t = grid(rng.uniform(2.0, T_END - 2.0, pre_idx.size))
    post_idx = np.repeat(np.arange(N_POST), 5)
    post_t = grid(rng.uniform(5.0, T_END - 5.0, post_idx.size))
    pre = nw.SpikeSource(N_PRE, pre_idx, pre_t, name="pre", dt=DT)
    drive = nw.SpikeSource(N_POST, post_idx, post_t - DT, name="drive", dt=DT)
    lif = LIF(tau_m=10.0, E_L=0.0, V_th=20.0, V_reset=0.0, t_ref=0.0)
    post = nw.Population(lif, N_POST, name="post")
    rules, delays = _rules(full)
    projs = [
        nw.Projection(pre, post, nw.AllToAll(), weight=0.5, delay=d, plasticity=r, name=f"syn{i}")
        for i, (r, d) in enumerate(zip(rules, delays))
    ]
    kick = nw.Projection(drive, post, nw.OneToOne(), weight=100.0)
    return nw.Network([pre, drive, post], [*projs, kick], dt=DT, dtype=dtype, delivery=delivery)


def _where_full(n):
    r = [cp.rule for cp in n.plastic]
    return (r[0].A_plus, r[0].tau_minus, r[1].A3_plus, r[2].tau_c, r[3].U, r[3].tau_d)


def _where_small(n):
    r = [cp.rule for cp in n.plastic]
    return (r[0].A_plus, r[0].tau_minus, r[1].stdp.A3_plus, r[1].tau_c)


P_FULL = np.array([0.01, 34.0, 9.1e-3, 300.0, 0.4, 150.0])
P_SMALL = np.array([0.01, 34.0, 9.1e-3, 300.0])


def _loss(net, full: bool = True):
    """The loss of parameters `p` (`_where_full` / `_where_small`) and initial weights `w0`
    of `syn0`: a fixed combination of the final weights of the learning projections plus the
    sum of the final membrane potentials (which the transmitted values of all reach)."""
    where, n_learn = (_where_full, 3) if full else (_where_small, 2)
    state = net.init_state(key=jax.random.key(0))
    n_steps = round(T_END / DT)
    c = np.random.default_rng(1).normal(size=(n_learn, N_PRE * N_POST))

    def loss(p, w0):
        n = eqx.tree_at(where, net, tuple(p[i] for i in range(p.shape[0])))
        plastic = dict(state["plastic"])
        plastic["syn0"] = {**plastic["syn0"], "w": w0}
        final = n.simulate({**state, "plastic": plastic}, n_steps)[0]
        out = sum(jnp.dot(c[r], final["plastic"][f"syn{r}"]["w"]) for r in range(n_learn))
        return out + jnp.sum(final["neurons"]["post"]["V"])

    return loss, state["plastic"]["syn0"]["w"]


def _finite_differences(f, p0, w0, synapses):
    """Central differences of `f` in each parameter (step 1e-6 relative) and in the initial
    weights of `synapses` (step 1e-6), float64: truncation O(h^2) ~ 1e-12, rounding
    ~ 1e-16 / 1e-6 ~ 1e-10 of the loss."""
    p0 = np.asarray(p0)
    fd_p = []
    for i in range(p0.size):
        e = np.zeros(p0.size)
        e[i] = h = 1e-6 * p0[i]
        fd_p.append((float(f(p0 + e, w0)) - float(f(p0 - e, w0))) / (2 * h))
    fd_w = []
    for s in synapses:
        e = np.zeros(w0.shape[0])
        e[s] = 1e-6
        fd_w.append((float(f(p0, w0 + e)) - float(f(p0, w0 - e))) / 2e-6)
    return np.array(fd_p), np.array(fd_w)


def test_grad_through_plastic_run_equals_finite_differences():
    """`jax.grad` (the CPU's event-driven step, differentiated through its dense form) of the
    loss in pair STDP's A+ and tau-, the modulated triplet rule's A3+ and tau_c, and three
    initial weights, float64, against central finite differences of the run: 1e-6 relative
    plus 1e-9 absolute (the derivatives are O(1e-5-100))."""
    loss, w0 = _loss(_net("loop", full=False), full=False)
    # one compilation serves the gradient and the finite differences
    value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    _, (gp, gw) = value_and_grad(jnp.asarray(P_SMALL), w0)
    synapses = [0, 7, 14]
    fd_p, fd_w = _finite_differences(lambda p, w: value_and_grad(p, w)[0], P_SMALL, w0, synapses)
    assert np.all(np.abs(fd_p) > 1e-5), fd_p  # every parameter matters
    np.testing.assert_allclose(np.asarray(gp), fd_p, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.asarray(gw)[synapses], fd_w, rtol=1e-6, atol=1e-9)


@pytest.mark.slow
def test_grad_both_forms_and_jacfwd_equal_finite_differences():
    """Four rules (pair STDP with heterogeneous delays, nearest-spike triplet, reward-modulated
    pair STDP, Tsodyks-Markram), six parameters and all 15 initial weights of `syn0`:
    `jax.grad` of the event form and of the dense form (`delivery="padded"`) and `jax.jacfwd`
    equal central finite differences (1e-6 relative plus 1e-9), and the two forms run the
    same loss."""
    loss_loop, w0 = _loss(_net("loop"))
    loss_dense, _ = _loss(_net("padded"))
    p0 = jnp.asarray(P_FULL)
    grads = {
        "loop": jax.jit(jax.grad(loss_loop, argnums=(0, 1)))(p0, w0),
        "dense": jax.jit(jax.grad(loss_dense, argnums=(0, 1)))(p0, w0),
        "jacfwd": jax.jit(jax.jacfwd(loss_loop, argnums=(0, 1)))(p0, w0),
    }
    f = jax.jit(loss_loop)
    # the same run (to the summation order of simultaneous arrivals)
    np.testing.assert_allclose(float(f(p0, w0)), float(jax.jit(loss_dense)(p0, w0)), rtol=1e-13)
    fd_p, fd_w = _finite_differences(f, P_FULL, w0, range(w0.shape[0]))
    assert np.all(np.abs(fd_p) > 1e-5), fd_p
    for name, (gp, gw) in grads.items():
        np.testing.assert_allclose(np.asarray(gp), fd_p, rtol=1e-6, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(np.asarray(gw), fd_w, rtol=1e-6, atol=1e-9, err_msg=name)


@pytest.mark.slow
def test_grad_float32_follows_float64():
    """The same gradient in float32 (the networks' default) against float64's: 1e-3 of its
    largest component (float32 round-off accumulated over 300 steps of traces and weights)."""
    g = {}
    for dtype in (jnp.float32, jnp.float64):
        loss, w0 = _loss(_net("loop", dtype=dtype))
        g[dtype] = jax.jit(jax.grad(loss))(jnp.asarray(P_FULL, dtype), w0)
    want = np.asarray(g[jnp.float64])
    got = np.asarray(g[jnp.float32])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-3 * np.abs(want).max())


@pytest.mark.slow
@pytest.mark.parametrize("delivery", ["loop", "padded"])
def test_vmap_of_grad_over_learning_rates(delivery):
    """`jax.vmap(jax.grad(...))` over three parameter vectors equals the separate gradients."""
    loss, w0 = _loss(_net(delivery))
    ps = jnp.stack([jnp.asarray(P_FULL) * s for s in (0.5, 1.0, 2.0)])
    batched = jax.jit(jax.vmap(jax.grad(loss), in_axes=(0, None)))(ps, w0)
    single = jax.jit(jax.grad(loss))
    for i in range(3):
        np.testing.assert_allclose(batched[i], single(ps[i], w0), rtol=1e-10, atol=1e-12)
