"""Network fidelity: Izhikevich (2003)'s `net.m` update, and its network against Brian2.

The truth for the update is a NumPy transcription of the paper's script `net.m`
(Izhikevich 2003, IEEE TNN 14:1569, Fig. 3), written here from the script:

    fired = find(v >= 30); v(fired) = c(fired); u(fired) = u(fired) + d(fired);
    I = I + sum(S(:, fired), 2);
    v = v + 0.5*(0.04*v.^2 + 5*v + 140 - u + I);   % two 0.5 ms steps
    v = v + 0.5*(0.04*v.^2 + 5*v + 140 - u + I);
    u = u + a.*(b.*v - u);                          % one 1 ms step
"""

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikejax import network as nw
from spikejax.models import Izhikevich
from spikejax.solvers import SplitEuler


def _net_m(a, b, c, d, S, I_ext, n_steps):
    """Spike raster (n_steps, N) of the script's loop with a constant thalamic input."""
    v = np.full(a.size, -65.0)
    u = b * v
    raster = np.zeros((n_steps, a.size), bool)
    for t in range(n_steps):
        fired = v >= 30
        v = np.where(fired, c, v)
        u = np.where(fired, u + d, u)
        I = I_ext + S[:, fired].sum(axis=1)
        v = v + 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
        v = v + 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
        u = u + a * (b * v - u)
        # the engine reports the spike at the end of the step in which v crossed 30 (the
        # script finds it at the start of the next)
        raster[t] = v >= 30
    return raster


def test_net_m_scheme_matches_the_script():
    # 60 heterogeneous cells (the paper's E and I parameter laws), all-to-all weights of both
    # signs, constant input per cell; 200 steps of 1 ms in float64: identical rasters (XLA's
    # fused arithmetic rounds differently from NumPy's, and the network is chaotic: the
    # rasters part after about 270 steps, so 200 are compared).
    rng = np.random.default_rng(7)
    n_e, n_i = 48, 12
    re, ri = rng.random(n_e), rng.random(n_i)
    a = np.r_[np.full(n_e, 0.02), 0.02 + 0.08 * ri]
    b = np.r_[np.full(n_e, 0.2), 0.25 - 0.05 * ri]
    c = np.r_[-65 + 15 * re**2, np.full(n_i, -65.0)]
    d = np.r_[8 - 6 * re**2, np.full(n_i, 2.0)]
    S = np.c_[3.0 * rng.random((60, n_e)), -4.0 * rng.random((60, n_i))]
    # weights on a 2^-10 grid: their sums are exact in any order (the engine adds a step's
    # arrivals in its own order), so the rasters can be compared exactly
    S = np.round(S * 1024) / 1024
    I_ext = rng.uniform(2.0, 9.0, 60)
    pop = nw.Population(
        Izhikevich(a=a, b=b, c=c, d=d),
        name="cells",
        I=I_ext,
        method=SplitEuler(2),
        initial={"V": -65.0, "u": b * -65.0},
    )
    post, pre = np.nonzero(np.ones_like(S))
    proj = nw.Projection(
        pop, pop, nw.Explicit(pre, post, weight=S[post, pre]), synapse=nw.CurrentPulse()
    )
    net = nw.Network([pop], [proj], dt=1.0, dtype=jnp.float64)
    res = nw.run(net, 200.0, key=jax.random.key(0), monitors=[nw.SpikeMonitor("cells")])
    i, t = res.spikes["cells"]
    raster = np.zeros((200, 60), bool)
    raster[np.rint(t).astype(int) - 1, i] = True
    ref = _net_m(a, b, c, d, S, I_ext, 200)
    assert ref.sum() > 200  # an active network
    np.testing.assert_array_equal(raster, ref)


def test_split_euler_is_the_script_for_one_cell():
    # SplitEuler(2) alone: one step from (v, u) by hand
    m = Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0)
    y = {"V": jnp.array(-60.0), "u": jnp.array(-12.0)}
    out = SplitEuler(2).step(m, 0.0, y, 4.0, 1.0)
    v = -60.0 + 0.5 * (0.04 * 3600 - 300 + 140 + 12 + 4)
    v = v + 0.5 * (0.04 * v**2 + 5 * v + 140 + 12 + 4)
    assert float(out["V"]) == pytest.approx(v, rel=1e-14)
    assert float(out["u"]) == pytest.approx(-12 + 0.02 * (0.2 * v + 12), rel=1e-14)
    with pytest.raises(ValueError, match="voltage_substeps"):
        SplitEuler(0)


def _brian2_rates(seed, duration_ms=1000.0):
    """Mean rate (Hz) of all 1000 cells of the paper's network in Brian2 (numpy target),
    following net.m: thresholds, then the fired cells' weights into the input, the reset, and
    the update of v (two half steps) and u at the end of each 1 ms step."""
    import brian2 as b2

    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    b2.seed(seed)
    b2.defaultclock.dt = 1 * b2.ms
    ne, ni = 800, 200
    rng = np.random.default_rng(seed)
    re, ri = rng.random(ne), rng.random(ni)
    G = b2.NeuronGroup(
        ne + ni,
        "v : 1\nu : 1\na : 1\nb : 1\nc : 1\nd : 1\nIsyn : 1\nsigma : 1",
        threshold="v >= 30",
        reset="v = c; u = u + d",
        method="euler",
    )
    G.a = np.r_[np.full(ne, 0.02), 0.02 + 0.08 * ri]
    G.b = np.r_[np.full(ne, 0.2), 0.25 - 0.05 * ri]
    G.c = np.r_[-65 + 15 * re**2, np.full(ni, -65.0)]
    G.d = np.r_[8 - 6 * re**2, np.full(ni, 2.0)]
    G.sigma = np.r_[np.full(ne, 5.0), np.full(ni, 2.0)]
    G.v = -65.0
    G.u = G.b * -65.0
    W = np.c_[0.5 * rng.random((ne + ni, ne)), -rng.random((ne + ni, ni))]
    syn = b2.Synapses(G, G, "w : 1", on_pre="Isyn_post += w")
    syn.connect()
    syn.w = W.T.ravel()  # i (pre) major
    G.run_regularly(
        "I = sigma * randn() + Isyn\n"
        "v = v + 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)\n"
        "v = v + 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)\n"
        "u = u + a * (b * v - u)\n"
        "Isyn = 0",
        when="end",
    )
    mon = b2.SpikeMonitor(G)
    b2.run(duration_ms * b2.ms)
    return mon.num_spikes / (ne + ni) / (duration_ms * 1e-3)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # brian2's use of pyparsing
@pytest.mark.skipif(importlib.util.find_spec("brian2") is None, reason="brian2 not installed")
def test_izhikevich2003_rates_match_brian2_over_seeds():
    # 1000 cells, 1 s, five seeds each, side by side: the mean rates over seeds differ by less
    # than 3 combined standard errors, and no spikejax seed runs away (Brian2: 7.4-7.8 Hz)
    ours, theirs = [], []
    for seed in range(5):
        net, mons = nw.izhikevich2003(key=jax.random.key(seed))
        res = nw.run(net, 1000.0, key=jax.random.key(100 + seed), monitors=mons)
        n_spikes = res.spikes["E"][0].size + res.spikes["I"][0].size
        ours.append(n_spikes / 1000 / 1.0)
        theirs.append(_brian2_rates(seed))
    ours, theirs = np.array(ours), np.array(theirs)
    print("spikejax", ours, "brian2", theirs)  # shown with pytest -s
    se = np.sqrt(ours.var(ddof=1) / ours.size + theirs.var(ddof=1) / theirs.size)
    assert abs(ours.mean() - theirs.mean()) < 3 * se, (ours, theirs)
    assert ours.max() < 15.0
