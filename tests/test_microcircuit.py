"""The Potjans & Diesmann (2014) microcircuit: parameters, structure and rates."""

import hashlib
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import spikejax.network as sn
from spikejax.network._microcircuit import _draw_blocks, _merged_rows, _PerNeuronPoissonInput

POPS = sn.MICROCIRCUIT_POPULATIONS
FULL_N = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
# Connection probabilities, Potjans & Diesmann (2014) Table 5 (rows: target, columns: source),
# typed in again here as an independent copy of the published table.
TABLE5 = np.array(
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
    ]
)


def test_full_scale_numbers():
    p = sn.microcircuit_parameters(1.0)
    assert p["n"].sum() == 77169
    np.testing.assert_array_equal(p["n"], FULL_N)
    # "about 0.3 billion synapses" (paper: ~3e8); the formula gives 2.99e8
    assert 2.9e8 < p["n_synapses"].sum() < 3.05e8
    # The synapse numbers reproduce Table 5: with S synapses placed at random among
    # N_pre * N_post pairs, a pair is connected with probability 1 - (1 - 1/(N_pre N_post))^S.
    prod = np.outer(FULL_N, FULL_N)
    p_conn = 1 - np.exp(p["n_synapses"] * np.log1p(-1.0 / prod))
    np.testing.assert_allclose(p_conn, TABLE5, atol=2e-6)  # rounding S to integers


def test_psc_amplitude_and_weights():
    # PSC of 87.81 pA gives a PSP peak of 0.15 mV: check against a numerical solution of
    # C dV/dt = -C (V - E_L)/tau_m + J exp(-t/tau_s) on a fine grid (independent of the
    # closed form used in the module). Tolerance 1e-4 relative: grid resolution 1e-4 ms.
    p = sn.microcircuit_parameters(1.0)
    J = p["weight"][0, 0]
    C, tau_m, tau_s = 250.0, 10.0, 0.5
    t = np.arange(0, 20, 1e-4)
    v = J / C * tau_m * tau_s / (tau_m - tau_s) * (np.exp(-t / tau_m) - np.exp(-t / tau_s))
    from scipy.integrate import solve_ivp

    sol = solve_ivp(
        lambda s, y: [-y[0] / tau_m + J * np.exp(-s / tau_s) / C],
        (0, 20),
        [0.0],
        t_eval=t[::100],
        rtol=1e-10,
        atol=1e-13,
    )
    np.testing.assert_allclose(sol.y[0], v[::100], atol=1e-9)
    assert abs(v.max() - 0.15) < 1e-4 * 0.15
    assert J == pytest.approx(87.81, abs=0.01)
    W = p["weight"]
    assert np.all(W[:, 1::2] == pytest.approx(-4 * J))  # g = -4
    assert W[0, 2] == pytest.approx(2 * J)  # L4e -> L2/3e doubled
    other = np.delete(W[:, 0::2].ravel(), 1)  # all other excitatory weights
    assert np.all(other == pytest.approx(J))
    # DC background equivalent to 8 Hz x K_ext inputs: I = nu K J tau_s
    d = sn.microcircuit_parameters(1.0, background="dc")
    np.testing.assert_allclose(
        d["dc"], 8.0 * np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]) * J * 0.5e-3
    )


def test_downscaling_compensation():
    # k < 1: weights x 1/sqrt(k) keep K J^2 (the input variance) fixed; DC restores the mean
    # input K J nu tau_s computed with the full-scale rates (written out here per population).
    full, s = sn.microcircuit_parameters(1.0), sn.microcircuit_parameters(0.1)
    np.testing.assert_allclose(s["weight"], full["weight"] / math.sqrt(0.1))
    rates = np.array([sn.MICROCIRCUIT_REFERENCE_RATES[q] for q in POPS])
    K = full["n_synapses"] / FULL_N[:, None]
    K_ext = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
    J = full["weight"]
    mean_full = (K * J) @ rates * 0.5e-3 + K_ext * 8.0 * J[0, 0] * 0.5e-3  # pA
    mean_scaled = (
        (0.1 * K * s["weight"]) @ rates * 0.5e-3
        + (s["k_ext"] * 8.0 * s["weight_ext"] * 0.5e-3)
        + s["dc"]
    )
    # k_ext is rounded to integers: relative error <= 0.5 / 150
    np.testing.assert_allclose(mean_scaled, mean_full, rtol=4e-3)
    with pytest.raises(ValueError, match="scale"):
        sn.microcircuit_parameters(0.0)
    with pytest.raises(ValueError, match="k_scale"):
        sn.microcircuit_parameters(0.1, k_scale=float("nan"))
    with pytest.raises(ValueError, match="background"):
        sn.microcircuit_parameters(0.1, background="x")


def test_structure_at_small_scale():
    scale, dt = 0.02, 0.1
    p = sn.microcircuit_parameters(scale)
    np.testing.assert_array_equal(p["n"], np.round(FULL_N * scale))
    blocks = _draw_blocks(p, jax.random.key(3), dt)
    assert len(blocks) == int(np.sum(TABLE5 > 0))
    for i, j, pre, post, w, d in blocks:
        n_pre, n_post = p["n"][j], p["n"][i]
        S = pre.size
        # fixed total number S = round(S_full * N_scaling * K_scaling); the in-degree S / n_post
        # is K_full * scale up to the rounding of S and of n_post = round(N_full * scale)
        assert abs(S - p["full_n_synapses"][i, j] * scale**2) <= 0.5
        K_full = p["full_n_synapses"][i, j] / FULL_N[i]
        assert S / n_post == pytest.approx(K_full * scale, rel=0.5 / n_post + 0.5 / S)
        assert pre.min() >= 0 and pre.max() < n_pre and post.min() >= 0 and post.max() < n_post
        if S >= 2000:
            # targets uniform: per-neuron in-degrees are multinomial (S, 1/n_post); check
            # their variance, S (1/n)(1 - 1/n), within 5 sd of the sample variance
            # (sd of a sample variance of ~Poisson counts ~ var sqrt(2/n)).
            deg = np.bincount(post, minlength=n_post)
            var = S / n_post * (1 - 1 / n_post)
            assert abs(deg.var() - var) < 5 * var * math.sqrt(2 / n_post) + 0.5
        # weights: truncated normal (redrawn at 0) with sd 0.1 |mean|: the truncation is at
        # 10 sd, so mean and sd are those of the normal; 6 standard errors
        wm = p["weight"][i, j]
        assert np.all(np.sign(w) == np.sign(wm))
        assert abs(w.mean() - wm) < 6 * 0.1 * abs(wm) / math.sqrt(S)
        # delays: normal(mu, 0.5 mu) redrawn below dt/2 -> truncated normal (scipy)
        mu = 1.5 if j % 2 == 0 else 0.75
        tn = stats.truncnorm((0.5 * dt - mu) / (0.5 * mu), np.inf, loc=mu, scale=0.5 * mu)
        assert d.min() >= 0.5 * dt
        assert abs(d.mean() - tn.mean()) < 6 * tn.std() / math.sqrt(S)


def test_merged_rows_are_the_sorted_pairs():
    # The merged layout is defined as the pairs of `_draw_blocks` in global indices, sorted
    # stably by (pre, post) (multapses keep their draw order), weights times the charge
    # correction, delays rounded to whole steps: built here with numpy's lexsort, against
    # `_merged_rows`' sorted int64 keys. float64 weights, so nothing is hidden by a cast.
    p = sn.microcircuit_parameters(0.02)
    key, dt, corr = jax.random.key(5), 0.1, 0.9
    rows = _merged_rows(p, key, dt, corr, np.float64)
    offs = np.concatenate([[0], np.cumsum(p["n"])])
    blocks = _draw_blocks(p, key, dt)
    pre = np.concatenate([b[2] + offs[b[1]] for b in blocks])
    post = np.concatenate([b[3] + offs[b[0]] for b in blocks])
    order = np.lexsort((post, pre))
    np.testing.assert_array_equal(
        rows.offsets, np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=offs[-1]))])
    )
    np.testing.assert_array_equal(rows.post, post[order])
    w = np.concatenate([b[4] for b in blocks])
    d = np.concatenate([b[5] for b in blocks])
    np.testing.assert_array_equal(rows.weight, corr * w[order])
    np.testing.assert_array_equal(rows.delay, (np.rint(d / dt) * dt)[order].astype(np.float32))
    # the connectivity of this key as built by the previous (lexsort) implementation: the
    # integer streams are numpy's PCG64, the same on every platform
    h = hashlib.sha256(rows.offsets.astype(np.int64).tobytes())
    h.update(rows.post.astype(np.int32).tobytes())
    assert rows.post.size == 119548
    assert h.hexdigest() == "1adf8ce3ac200e81fd180a4a064c064ee6019ae0212b95d0e8608a1ca200496c"


def test_network_layouts_hold_every_synapse():
    net, mons = sn.microcircuit(0.02, key=jax.random.key(0))
    p = sn.microcircuit_parameters(0.02)
    assert [m.population for m in mons] == [sn.MICROCIRCUIT_NAME]
    assert net.populations[sn.MICROCIRCUIT_NAME].n == p["n"].sum()
    assert sum(c.n_synapses for c in net.projections) == p["n_synapses"].sum()
    net8, mons8 = sn.microcircuit(
        0.02, key=jax.random.key(0), layout="populations", background="dc"
    )
    assert [m.population for m in mons8] == list(POPS)
    for i, q in enumerate(POPS):
        assert net8.populations[q].n == p["n"][i]
    by_name = {c.name: c.n_synapses for c in net8.projections}
    for i in range(8):
        for j in range(8):
            assert by_name.get(f"{POPS[j]}->{POPS[i]}", 0) == p["n_synapses"][i, j]
    with pytest.raises(ValueError, match="layout"):
        sn.microcircuit(0.02, key=jax.random.key(0), layout="x")


def test_per_neuron_poisson_input_counts():
    # Binomial(K_g, nu dt) counts per group: compare mean and variance with scipy's binomial
    # over 400 draws x 500 neurons per group (standard errors ~ 0.2 %; 5 % tolerance is
    # generous but catches a wrong K or p, which change them by >= 30 %).
    groups = np.repeat(np.arange(3), 500)
    K = (160, 1500, 2900)
    inp = _PerNeuronPoissonInput("x", groups, K, 8.0, 1.0)
    keys = jax.random.split(jax.random.key(0), 400)
    x = np.asarray(jax.vmap(lambda k: inp.draw(k, groups.size, 0.1, jnp.float64))(keys))
    for g, k in enumerate(K):
        c = x[:, groups == g]
        ref = stats.binom(k, 8.0 * 1e-4)
        assert c.mean() == pytest.approx(ref.mean(), rel=0.05)
        assert c.var() == pytest.approx(ref.var(), rel=0.05)


def test_rates_small_scale():
    # scale 0.05 (3858 neurons, 7.5e5 synapses), 0.6 s; rates after a 200 ms transient.
    # Down-scaling the in-degrees 20x (weights x 4.5, DC compensation of the mean) lowers the
    # rates (measured: 0.3-0.8 of the published full-scale values at scale 0.05, 0.55-0.92 at
    # 0.1; at 0.02 the upper layers nearly fall silent), so the band here is [0.2, 1.3] x
    # published for every population, plus the published ordering features: L2/3e and L6e
    # are the two slowest populations, and every inhibitory population fires faster than the
    # excitatory population of its layer.
    scale = 0.05
    net, mons = sn.microcircuit(scale, key=jax.random.key(0))
    res = sn.run(net, 600.0, key=jax.random.key(1), monitors=mons)
    r = sn.microcircuit_rates(res, sn.microcircuit_parameters(scale)["n"], t_start=200.0)
    ref = sn.MICROCIRCUIT_REFERENCE_RATES
    for q in POPS:
        assert 0.2 * ref[q] <= r[q] <= 1.3 * ref[q], (q, r[q], ref[q])
    assert sorted(r, key=lambda q: r[q])[:2] in (["L23E", "L6E"], ["L6E", "L23E"])
    for layer in ("L23", "L4", "L5", "L6"):
        assert r[layer + "I"] > r[layer + "E"]


@pytest.mark.slow
def test_rates_scale_01():
    # scale 0.1 (7,717 neurons, 3e6 synapses), 1.2 s: measured rates are 0.55-0.92 of the
    # published ones (closer for the deep layers); band [0.4, 1.3].
    scale = 0.1
    net, mons = sn.microcircuit(scale, key=jax.random.key(0))
    res = sn.run(net, 1200.0, key=jax.random.key(1), monitors=mons)
    r = sn.microcircuit_rates(res, sn.microcircuit_parameters(scale)["n"], t_start=200.0)
    for q in POPS:
        assert (
            0.4 * sn.MICROCIRCUIT_REFERENCE_RATES[q]
            <= r[q]
            <= 1.3 * (sn.MICROCIRCUIT_REFERENCE_RATES[q])
        ), (q, r[q])
