"""The one Poisson source (`spikejax.spikes`): binomial counts against scipy's binomial law,
Bernoulli trains, and the network's Poisson inputs and populations sharing them."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from spikejax import network as nw
from spikejax import spikes
from spikejax.models import LIF


def _chi_square_p(counts, law, min_expected=20.0):
    """Pearson chi-square p-value of integer `counts` against the discrete `law` (scipy),
    with the tails merged into bins of expected count >= `min_expected`."""
    n = counts.size
    lo, hi = int(law.ppf(1e-12)), int(law.isf(1e-12)) + 1
    values = np.arange(lo, hi + 1)
    expected = n * law.pmf(values)
    expected[0] += n * law.cdf(lo - 1)
    expected[-1] += n * law.sf(hi)
    observed = np.bincount(np.clip(counts, lo, hi) - lo, minlength=values.size).astype(float)
    # merge from both ends until every bin expects >= min_expected draws
    edges_o, edges_e, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(observed, expected):
        acc_o += o
        acc_e += e
        if acc_e >= min_expected:
            edges_o.append(acc_o)
            edges_e.append(acc_e)
            acc_o = acc_e = 0.0
    edges_o[-1] += acc_o
    edges_e[-1] += acc_e
    return stats.chisquare(edges_o, edges_e).pvalue


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize(
    "n_sources, rate, n_draws",
    [(1000, 20.0, 4_000_000), (100_000, 10.0, 1_000_000)],
    ids=["brunel_1000x20Hz", "1e5x10Hz"],
)
def test_poisson_input_counts_follow_the_binomial_law(n_sources, rate, n_draws, dtype):
    # PoissonInput's per-step count is Binomial(K, nu dt) (dt = 0.1 ms): chi-square against
    # scipy.stats.binom (p > 1e-3: a fixed key, so this is deterministic), mean within 5
    # standard errors, variance within 5 of its standard errors (2 var^2 / n for a nearly
    # normal law). The float32 table used to miss the upper tail (spurious counts at its cap:
    # ~1e-5 of the draws at 34 for K = 1000; mean 116.5, var 2058 for K = 1e5).
    dt = 0.1
    inp = nw.PoissonInput("A", n_sources, rate, 1.0)
    table = inp.count_table(dt, dtype)
    assert table.dtype == np.dtype(dtype) and np.all(table < 1)
    counts = np.asarray(
        jax.jit(lambda k: spikes.binomial_counts(k, table, (n_draws,), dtype), static_argnums=())(
            jax.random.key(11)
        )
    )
    law = stats.binom(n_sources, rate * dt * 1e-3)
    assert abs(counts.mean() - law.mean()) < 5 * np.sqrt(law.var() / n_draws)
    assert abs(counts.var() - law.var()) < 5 * law.var() * np.sqrt(2.0 / n_draws)
    assert _chi_square_p(counts, law) > 1e-3
    # no count the law makes (nearly) impossible: P(X >= law.isf(1e-12)) * n_draws < 1e-5
    assert counts.max() < law.isf(1e-12)


def test_poisson_input_weights_counts_and_network_uses_the_float64_table():
    # draw = count * weight; the network stores the table built by count_table in its dtype
    inp = nw.PoissonInput("A", 1000, 20.0, 0.25)
    x = np.asarray(inp.draw(jax.random.key(1), 1000, 0.1, jnp.float32))
    assert np.allclose(x / 0.25, np.round(x / 0.25))
    pop = nw.Population(LIF(), 10, name="A")
    net = nw.Network([pop], inputs=[inp], dt=0.1, dtype=jnp.float32)
    np.testing.assert_array_equal(net.poisson_tables[0], inp.count_table(0.1, jnp.float32))
    # the float64 computation: compare with scipy's CDF (rounded to float32)
    ref = stats.binom(1000, 20.0 * 0.1 * 1e-3).cdf(np.arange(net.poisson_tables[0].size))
    np.testing.assert_allclose(net.poisson_tables[0], ref, rtol=0, atol=1e-7)


def test_binomial_cdf_table_rows_and_bad_input():
    # rows for several source counts (the microcircuit's background input), padded with 1
    ks = (0, 160, 2900)
    p = 8.0 * 0.1 * 1e-3
    table = spikes.binomial_cdf_table(ks, p, np.float64)
    assert table.shape[0] == 3 and np.all(table[0] == 1.0)
    for row, k in zip(table[1:], ks[1:]):
        m = int(np.sum(row < 1))
        np.testing.assert_allclose(row[:m], stats.binom(k, p).cdf(np.arange(m)), rtol=1e-12)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        spikes.binomial_cdf_table(10, 1.0, np.float32)
    with pytest.raises(ValueError, match="n_sources"):
        spikes.binomial_cdf_table(2.5, 0.1, np.float32)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_bernoulli_spikes_and_poisson_population_share_one_sampler(dtype):
    # poisson_spikes and PoissonPopulation both draw u < nu dt: the spike count of 2e6
    # Bernoulli(p) trials is binomial (within 5 standard errors), and a PoissonPopulation's
    # spikes in one network step equal bernoulli_spikes with that step's key.
    p_rate, dt = 40.0, 0.1
    s = np.asarray(spikes.bernoulli_spikes(jax.random.key(2), p_rate, dt, (2_000_000,), dtype))
    p = p_rate * dt * 1e-3
    assert abs(s.sum() - s.size * p) < 5 * np.sqrt(s.size * p * (1 - p))
    src = nw.PoissonPopulation(500, p_rate, name="P")
    net = nw.Network([src], dt=dt, dtype=dtype)
    state = net.init_state(key=jax.random.key(3))
    _, out = net.step(state)
    step_key = jax.random.fold_in(jax.random.wrap_key_data(state["key"]), 0)
    ref = spikes.bernoulli_spikes(jax.random.fold_in(step_key, 2**20), p_rate, dt, (500,), dtype)
    np.testing.assert_array_equal(np.asarray(out["P"]) > 0, np.asarray(ref))
