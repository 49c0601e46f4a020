"""Connectivity rules: each builds `(pre, post)` index arrays (numpy, int64) on the host.

Rules are deterministic given a `numpy.random.Generator` (derived from a JAX key by
`Projection`). They return synapses sorted by `(pre, post)` index.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "AllToAll",
    "Connectivity",
    "Explicit",
    "ExplicitRows",
    "FixedInDegree",
    "FixedOutDegree",
    "FixedProbability",
    "OneToOne",
]


def _check_prob(name, p):
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {p!r}")


def _sort(pre, post, *extra):
    order = np.lexsort((post, pre))
    return (pre[order], post[order], *[None if e is None else e[order] for e in extra])


def _check_count(name: str, k) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer | float | np.floating):
        raise ValueError(f"{name} must be an integer >= 0, got {k!r}")
    if not (np.isfinite(k) and int(k) == k and k >= 0):
        raise ValueError(f"{name} must be an integer >= 0, got {k!r}")


class Connectivity:
    """Abstract connectivity rule."""

    def build(self, n_pre: int, n_post: int, rng: np.random.Generator, same_population: bool):
        raise NotImplementedError


class AllToAll(Connectivity):
    """Every pre neuron to every post neuron (`autapses=False` drops i->i within a population)."""

    def __init__(self, *, autapses: bool = True):
        self.autapses = autapses

    def build(self, n_pre, n_post, rng, same_population):
        pre, post = np.divmod(np.arange(n_pre * n_post, dtype=np.int64), n_post)
        if same_population and not self.autapses:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post


class OneToOne(Connectivity):
    """Neuron i to neuron i (`n_pre == n_post` required)."""

    def build(self, n_pre, n_post, rng, same_population):
        if n_pre != n_post:
            raise ValueError(f"OneToOne needs equal population sizes, got {n_pre} and {n_post}")
        i = np.arange(n_pre, dtype=np.int64)
        return i, i.copy()


class FixedProbability(Connectivity):
    """Each pair connected independently with probability `p` (Bernoulli; Brian2's `p=`)."""

    def __init__(self, p: float, *, autapses: bool = True):
        _check_prob("FixedProbability.p", p)
        self.p = float(p)
        self.autapses = autapses

    def build(self, n_pre, n_post, rng, same_population):
        # Number of post targets per pre neuron ~ Binomial(n_post, p), then a uniform subset.
        pre_l, post_l = [], []
        counts = rng.binomial(n_post, self.p, size=n_pre)
        for i in range(n_pre):
            k = int(counts[i])
            if k == 0:
                continue
            if same_population and not self.autapses:
                t = rng.choice(n_post - 1, size=min(k, n_post - 1), replace=False)
                t = t + (t >= i)
            else:
                t = rng.choice(n_post, size=k, replace=False)
            pre_l.append(np.full(t.size, i, np.int64))
            post_l.append(np.sort(t).astype(np.int64))
        if not pre_l:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(pre_l), np.concatenate(post_l)


class FixedInDegree(Connectivity):
    """Each post neuron receives exactly `k` synapses from distinct random pre neurons."""

    def __init__(self, k: int, *, autapses: bool = True):
        _check_count("FixedInDegree.k", k)
        self.k = int(k)
        self.autapses = autapses

    def build(self, n_pre, n_post, rng, same_population):
        avail = n_pre - (1 if same_population and not self.autapses else 0)
        if self.k > avail:
            raise ValueError(f"FixedInDegree.k must be <= {avail} (pre neurons), got {self.k}")
        # random keys per row, argpartition: k distinct sources per target, vectorised
        pre = np.empty((n_post, self.k), np.int64)
        for j in range(n_post):
            if same_population and not self.autapses:
                t = rng.choice(n_pre - 1, size=self.k, replace=False)
                pre[j] = t + (t >= j)
            else:
                pre[j] = rng.choice(n_pre, size=self.k, replace=False)
        post = np.repeat(np.arange(n_post, dtype=np.int64), self.k)
        pre, post = _sort(pre.reshape(-1), post)
        return pre, post


class FixedOutDegree(Connectivity):
    """Each pre neuron sends exactly `k` synapses to distinct random post neurons."""

    def __init__(self, k: int, *, autapses: bool = True):
        _check_count("FixedOutDegree.k", k)
        self.k = int(k)
        self.autapses = autapses

    def build(self, n_pre, n_post, rng, same_population):
        post_t, pre_t = FixedInDegree(self.k, autapses=self.autapses).build(
            n_post, n_pre, rng, same_population
        )
        pre, post = _sort(pre_t, post_t)
        return pre, post


class Explicit(Connectivity):
    """Explicit synapse list: `pre`, `post` index arrays and optional per-synapse `weight`
    and `delay` (ms) arrays of the same length."""

    def __init__(self, pre, post, weight=None, delay=None):
        self.pre = np.asarray(pre)
        self.post = np.asarray(post)
        for name, idx in (("pre", self.pre), ("post", self.post)):
            if idx.size and not np.issubdtype(idx.dtype, np.integer):
                raise ValueError(
                    f"Explicit: {name} indices must be integers, got dtype {idx.dtype} "
                    "(float indices would be truncated)"
                )
        if self.pre.ndim != 1 or self.pre.shape != self.post.shape:
            raise ValueError(
                f"Explicit: pre and post must be 1-d of equal length, got shapes "
                f"{self.pre.shape} and {self.post.shape}"
            )
        for name, v in (("weight", weight), ("delay", delay)):
            if v is not None and np.shape(v) not in ((), self.pre.shape):
                raise ValueError(
                    f"Explicit: {name} must be a scalar or have shape {self.pre.shape}, "
                    f"got {np.shape(v)}"
                )
        self.weight = None if weight is None else np.asarray(weight, dtype=float)
        self.delay = None if delay is None else np.asarray(delay, dtype=float)

    def build(self, n_pre, n_post, rng, same_population):
        if self.pre.size and not (
            self.pre.min() >= 0
            and self.pre.max() < n_pre
            and self.post.min() >= 0
            and self.post.max() < n_post
        ):
            raise ValueError(
                f"Explicit: indices out of range: pre must be in [0, {n_pre}), "
                f"post in [0, {n_post})"
            )
        return self.pre.astype(np.int64), self.post.astype(np.int64)


class ExplicitRows(Connectivity):
    """Explicit synapses grouped by pre neuron (compressed sparse rows): pre neuron `i` has
    the synapses `offsets[i]:offsets[i + 1]`, with post indices `post[...]` and optional
    per-synapse `weight` and `delay` (ms) arrays in the same order. Nothing is copied or
    re-sorted: the form in which large networks are built block by block, in their final
    types (int32 `post`, float32 `weight` and `delay` stay so; `Projection` keeps them)."""

    def __init__(self, offsets, post, weight=None, delay=None):
        self.offsets = np.asarray(offsets)
        self.post = np.asarray(post)
        if self.offsets.ndim != 1 or self.offsets.size < 1:
            raise ValueError(
                f"ExplicitRows: offsets must be 1-d with n_pre + 1 entries, got shape "
                f"{self.offsets.shape}"
            )
        if not np.issubdtype(self.offsets.dtype, np.integer) or (
            self.post.size and not np.issubdtype(self.post.dtype, np.integer)
        ):
            raise ValueError(
                f"ExplicitRows: offsets and post must be integers, got dtypes "
                f"{self.offsets.dtype} and {self.post.dtype}"
            )
        n = self.post.size
        if self.post.ndim != 1 or self.offsets[0] != 0 or self.offsets[-1] != n:
            raise ValueError(
                f"ExplicitRows: offsets must run from 0 to len(post) = {n}, got "
                f"{self.offsets[0]}..{self.offsets[-1]}"
            )
        if np.any(np.diff(self.offsets) < 0):
            raise ValueError("ExplicitRows: offsets must be non-decreasing")
        for name, v in (("weight", weight), ("delay", delay)):
            if v is not None and np.shape(v) not in ((), (n,)):
                raise ValueError(
                    f"ExplicitRows: {name} must be a scalar or have shape ({n},), got {np.shape(v)}"
                )
        self.weight = weight
        self.delay = delay

    def rows(self, n_pre: int, n_post: int):
        """`(offsets int64, post int32)` after checking them against the population sizes."""
        if self.offsets.size != n_pre + 1:
            raise ValueError(
                f"ExplicitRows: offsets must have n_pre + 1 = {n_pre + 1} entries, got "
                f"{self.offsets.size}"
            )
        if self.post.size and not (self.post.min() >= 0 and self.post.max() < n_post):
            raise ValueError(f"ExplicitRows: post indices must be in [0, {n_post})")
        post = self.post if self.post.dtype == np.int32 else self.post.astype(np.int32)
        return self.offsets.astype(np.int64), post

    def build(self, n_pre, n_post, rng, same_population):
        offsets, post = self.rows(n_pre, n_post)
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(offsets))
        return pre, post.astype(np.int64)
