"""Connectivity rules: each builds its synapses on the host, grouped by pre neuron.

`rows` returns compressed sparse rows, the form `Projection` keeps: `offsets` (int64,
`n_pre + 1` entries) and `post` (int32), pre neuron `i` owning `post[offsets[i]:offsets[i+1]]`,
sorted by post index within a row. The built-in rules build them row by row (or in blocks of
post neurons) straight into int32, so building a projection of `S` synapses holds about
`4 S` bytes of indices, with no full-size int64 temporary. `build` returns the same synapses
as `(pre, post)` int64 pairs, for user code and for rules that only define `build` (a user's
subclass needs only `build`; its `rows` then sorts the pairs).

Rules are deterministic given a `numpy.random.Generator` (derived from a JAX key by
`Projection`); `rows` and `build` draw the same numbers, so either gives the same synapses
for the same generator state.
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


#: synapses per block of the in-degree counting sort: its temporaries take about 50 bytes
#: a synapse of the block (sort order, ranks, positions), 13 MB at this size
_BLOCK = 1 << 18


def _check_count(name: str, k) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer | float | np.floating):
        raise ValueError(f"{name} must be an integer >= 0, got {k!r}")
    if not (np.isfinite(k) and int(k) == k and k >= 0):
        raise ValueError(f"{name} must be an integer >= 0, got {k!r}")


def _pairs(offsets: np.ndarray, post: np.ndarray):
    """`(pre, post)` int64 pairs of compressed sparse rows."""
    pre = np.repeat(np.arange(offsets.size - 1, dtype=np.int64), np.diff(offsets))
    return pre, post.astype(np.int64)


def _offsets(counts) -> np.ndarray:
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    return out


class Connectivity:
    """Abstract connectivity rule: define `build` (pairs) or `rows` (compressed rows)."""

    def build(self, n_pre: int, n_post: int, rng: np.random.Generator, same_population: bool):
        """`(pre, post)` int64 arrays of equal length, one entry per synapse."""
        if type(self).rows is Connectivity.rows:
            raise NotImplementedError(f"{type(self).__name__} defines neither build nor rows")
        return _pairs(*self.rows(n_pre, n_post, rng, same_population))

    def rows(self, n_pre: int, n_post: int, rng: np.random.Generator, same_population: bool):
        """`(offsets int64 (n_pre + 1,), post int32)`: the synapses grouped by pre neuron,
        sorted by post index within a row (see the module's docstring)."""
        if type(self).build is Connectivity.build:
            raise NotImplementedError(f"{type(self).__name__} defines neither build nor rows")
        pre, post = self.build(n_pre, n_post, rng, same_population)
        order = np.lexsort((post, pre))
        return _offsets(np.bincount(pre, minlength=n_pre)), post[order].astype(np.int32)


class AllToAll(Connectivity):
    """Every pre neuron to every post neuron (`autapses=False` drops i->i within a population)."""

    def __init__(self, *, autapses: bool = True):
        self.autapses = autapses

    def rows(self, n_pre, n_post, rng, same_population):
        row = np.arange(n_post, dtype=np.int32)
        if same_population and not self.autapses:
            # row i is 0..n-1 without i: the first i entries of 1..n-1 shifted down by one
            post = np.empty((n_pre, max(n_post - 1, 0)), np.int32)
            for i in range(n_pre):
                post[i, :i] = row[:i]
                post[i, i:] = row[i + 1 :]
            return np.arange(n_pre + 1, dtype=np.int64) * (n_post - 1), post.reshape(-1)
        return np.arange(n_pre + 1, dtype=np.int64) * n_post, np.tile(row, n_pre)


class OneToOne(Connectivity):
    """Neuron i to neuron i (`n_pre == n_post` required)."""

    def rows(self, n_pre, n_post, rng, same_population):
        if n_pre != n_post:
            raise ValueError(f"OneToOne needs equal population sizes, got {n_pre} and {n_post}")
        return np.arange(n_pre + 1, dtype=np.int64), np.arange(n_pre, dtype=np.int32)


class FixedProbability(Connectivity):
    """Each pair connected independently with probability `p` (Bernoulli; Brian2's `p=`)."""

    def __init__(self, p: float, *, autapses: bool = True):
        _check_prob("FixedProbability.p", p)
        self.p = float(p)
        self.autapses = autapses

    def rows(self, n_pre, n_post, rng, same_population):
        # Number of post targets per pre neuron ~ Binomial(n_post, p), then a uniform subset,
        # each row drawn straight into its place in the int32 table (4 bytes a synapse)
        drawn = rng.binomial(n_post, self.p, size=n_pre)
        no_self = same_population and not self.autapses
        counts = np.minimum(drawn, n_post - 1) if no_self else drawn
        offsets = _offsets(counts)
        post = np.empty(int(offsets[-1]), np.int32)
        for i in np.flatnonzero(drawn):
            a, b = int(offsets[i]), int(offsets[i + 1])
            if no_self:
                t = rng.choice(n_post - 1, size=b - a, replace=False)
                t += t >= i
            else:
                t = rng.choice(n_post, size=b - a, replace=False)
            t.sort()
            post[a:b] = t
        return offsets, post


class FixedInDegree(Connectivity):
    """Each post neuron receives exactly `k` synapses from distinct random pre neurons."""

    def __init__(self, k: int, *, autapses: bool = True):
        _check_count("FixedInDegree.k", k)
        self.k = int(k)
        self.autapses = autapses

    def _sources(self, n_pre, n_post, rng, same_population) -> np.ndarray:
        """`(n_post, k)` int32: the k distinct pre neurons of every post neuron."""
        avail = n_pre - (1 if same_population and not self.autapses else 0)
        if self.k > avail:
            raise ValueError(f"FixedInDegree.k must be <= {avail} (pre neurons), got {self.k}")
        pre = np.empty((n_post, self.k), np.int32)
        for j in range(n_post):
            if same_population and not self.autapses:
                t = rng.choice(n_pre - 1, size=self.k, replace=False)
                pre[j] = t + (t >= j)
            else:
                pre[j] = rng.choice(n_pre, size=self.k, replace=False)
        return pre

    def rows(self, n_pre, n_post, rng, same_population):
        sources = self._sources(n_pre, n_post, rng, same_population)
        block = max(1, _BLOCK // max(self.k, 1))
        counts = np.zeros(n_pre, np.int64)
        for j0 in range(0, n_post, block):  # (bincount copies its input to int64)
            counts += np.bincount(sources[j0 : j0 + block].reshape(-1), minlength=n_pre)
        offsets = _offsets(counts)
        # a counting sort by pre neuron, in blocks of post neurons (post ascending within a
        # row because blocks and the stable sort inside them keep post order)
        post = np.empty(int(offsets[-1]), np.int32)
        cursor = offsets[:-1].copy()
        for j0 in range(0, n_post, block):
            src = sources[j0 : j0 + block].reshape(-1)
            tgt = np.repeat(np.arange(j0, j0 + src.size // max(self.k, 1), dtype=np.int32), self.k)
            order = np.argsort(src, kind="stable")
            src_sorted = src[order]
            first = np.searchsorted(src_sorted, src_sorted, side="left")
            rank = np.arange(src_sorted.size) - first
            post[cursor[src_sorted] + rank] = tgt[order]
            cursor += np.bincount(src, minlength=n_pre)
        return offsets, post


class FixedOutDegree(Connectivity):
    """Each pre neuron sends exactly `k` synapses to distinct random post neurons."""

    def __init__(self, k: int, *, autapses: bool = True):
        _check_count("FixedOutDegree.k", k)
        self.k = int(k)
        self.autapses = autapses

    def rows(self, n_pre, n_post, rng, same_population):
        # each pre neuron's k targets, drawn as FixedInDegree draws sources
        targets = FixedInDegree(self.k, autapses=self.autapses)._sources(
            n_post, n_pre, rng, same_population
        )
        targets.sort(axis=1)
        return np.arange(n_pre + 1, dtype=np.int64) * self.k, targets.reshape(-1)


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

    def rows(self, n_pre: int, n_post: int, rng=None, same_population: bool = False):
        """`(offsets int64, post int32)` after checking them against the population sizes
        (`rng` and `same_population` are not used)."""
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
        return _pairs(*self.rows(n_pre, n_post))
