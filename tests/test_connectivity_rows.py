"""Connectivity rules build compressed rows in int32, in bounded memory.

Truths: the defining property of each rule (exact in- or out-degrees, distinct partners, no
autapses when asked, Binomial out-degrees for `FixedProbability`) and the host memory of a
build, measured with `tracemalloc`, against the bytes of the final tables.
"""

from __future__ import annotations

import tracemalloc

import jax
import numpy as np
import pytest

from spikejax import network as nw
from spikejax.models import LIF
from spikejax.network._connectivity import Connectivity


def _pairs(offsets, post):
    pre = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    return pre, post.astype(np.int64)


def _check_rows(offsets, post, n_pre, n_post):
    assert offsets.dtype == np.int64 and post.dtype == np.int32
    assert offsets.shape == (n_pre + 1,) and offsets[0] == 0 and offsets[-1] == post.size
    assert np.all(np.diff(offsets) >= 0)
    assert post.size == 0 or (post.min() >= 0 and post.max() < n_post)
    for i in range(n_pre):  # sorted and distinct within every row
        row = post[offsets[i] : offsets[i + 1]]
        assert np.all(np.diff(row) > 0)


@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_in_degree_gives_every_post_neuron_k_distinct_sources(autapses):
    n, k = 300, 25
    offsets, post = nw.FixedInDegree(k, autapses=autapses).rows(
        n, n, np.random.default_rng(1), True
    )
    _check_rows(offsets, post, n, n)
    pre, post64 = _pairs(offsets, post)
    assert np.all(np.bincount(post64, minlength=n) == k)
    assert autapses or not np.any(pre == post64)


@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_out_degree_gives_every_pre_neuron_k_distinct_targets(autapses):
    n, k = 300, 25
    offsets, post = nw.FixedOutDegree(k, autapses=autapses).rows(
        n, n, np.random.default_rng(2), True
    )
    _check_rows(offsets, post, n, n)
    assert np.all(np.diff(offsets) == k)
    pre, post64 = _pairs(offsets, post)
    assert autapses or not np.any(pre == post64)


def test_fixed_probability_out_degrees_are_binomial():
    n_pre, n_post, p = 2000, 400, 0.1
    offsets, post = nw.FixedProbability(p, autapses=False).rows(
        n_pre, n_post, np.random.default_rng(3), False
    )
    _check_rows(offsets, post, n_pre, n_post)
    deg = np.diff(offsets)
    mean, var = n_post * p, n_post * p * (1 - p)
    # sample mean and variance of 2000 Binomial(400, 0.1) draws: 5 standard errors
    assert abs(deg.mean() - mean) < 5 * np.sqrt(var / n_pre)
    assert abs(deg.var() - var) < 5 * var * np.sqrt(2 / n_pre)


def test_all_to_all_and_one_to_one_rows():
    o, post = nw.AllToAll(autapses=False).rows(5, 5, np.random.default_rng(0), True)
    _check_rows(o, post, 5, 5)
    pre, p64 = _pairs(o, post)
    assert {(a, b) for a, b in zip(pre, p64)} == {
        (a, b) for a in range(5) for b in range(5) if a != b
    }
    o, post = nw.AllToAll().rows(3, 4, np.random.default_rng(0), False)
    assert post.tolist() == [0, 1, 2, 3] * 3
    o, post = nw.OneToOne().rows(4, 4, np.random.default_rng(0), False)
    assert o.tolist() == [0, 1, 2, 3, 4] and post.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "rule",
    [nw.FixedInDegree(7), nw.FixedOutDegree(7, autapses=False), nw.FixedProbability(0.05)],
    ids=["in", "out", "prob"],
)
def test_build_and_rows_draw_the_same_synapses(rule):
    a = _pairs(*rule.rows(120, 120, np.random.default_rng(5), True))
    b = rule.build(120, 120, np.random.default_rng(5), True)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_a_user_rule_with_only_build_keeps_its_weights_in_its_order():
    class Reversed(Connectivity):
        def build(self, n_pre, n_post, rng, same_population):
            return np.array([2, 1, 0]), np.array([0, 0, 0])

    a = nw.Population(LIF(), 3, name="a")
    b = nw.Population(LIF(), 1, name="b")
    proj = nw.Projection(a, b, Reversed(), weight=np.array([3.0, 2.0, 1.0]))
    # synapse order is by pre neuron: 0 (weight 1), 1 (2), 2 (3)
    assert proj.offsets.tolist() == [0, 1, 2, 3]
    assert np.asarray(proj.weight).tolist() == [1.0, 2.0, 3.0]

    class Nothing(Connectivity):
        pass

    with pytest.raises(NotImplementedError, match="neither build nor rows"):
        Nothing().rows(1, 1, np.random.default_rng(0), False)


def test_building_a_projection_holds_about_the_final_table_bytes(monkeypatch):
    """A 2.4 M-synapse FixedInDegree projection, its counting sort in blocks of 64k synapses:
    the peak host memory of the build stays within 1.3x of the indices it must hold (the
    drawn `(n_post, k)` int32 sources and the int32 targets: 8 bytes a synapse) plus 8 MB,
    where int64 pairs and a lexsort take over 40 bytes a synapse."""
    from spikejax.network import _connectivity

    monkeypatch.setattr(_connectivity, "_BLOCK", 1 << 16)
    n, k = 12_000, 200
    pop = nw.Population(LIF(), n, name="e")
    tracemalloc.start()
    try:
        proj = nw.Projection(pop, pop, nw.FixedInDegree(k), key=jax.random.key(0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    s = n * k
    assert proj.post_idx.dtype == np.int32 and proj.n_synapses == s
    assert proj.post_idx.nbytes == 4 * s
    assert peak < 1.3 * 8 * s + (8 << 20), f"{peak / s:.1f} bytes per synapse"
