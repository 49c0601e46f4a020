r"""Gap junctions: electrical coupling inside the network step.

Neuron $i$ of a population receives $I_i = \sum_j g_{ij} (V_j - V_i)$ from the neurons it is
coupled to, with no delay. The step takes the coupling as a conductance
$g_i = \sum_j g_{ij}$ with reversal potential $E_i = \sum_j g_{ij} V_j / g_i$ (the
partners' potentials at the start of the step, held over it), so it enters the models'
fused exponential Euler steps like a synaptic conductance: the membrane is integrated
exactly for frozen partners, and the coupling is first order in `dt`.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._validation import check_nonnegative
from ._plasticity import ell_layout


class GapJunctions:
    r"""Electrical synapses within one population: $I_i = \sum_j g_{ij} (V_j - V_i)$.

    Give either `pairs` (sparse: each pair `(i, j)` couples both ways with conductance `g`)
    or `matrix` (dense: `matrix[i, j]` is $g_{ij}$, the conductance through which neuron
    $i$ receives from $j$; the diagonal has no effect). Conductances are in the neuron
    model's current unit per mV (for `LIF`, where $R I$ is in mV: $g R$ is dimensionless,
    the coupling relative to the leak).

    **Arguments:**

    - `population`: the population (or its name).
    - `pairs`: `(i, j)` index arrays, or a sequence of `(i, j)` tuples.
    - `g`: conductance of each pair (scalar or one per pair, >= 0).
    - `matrix`: a dense `(n, n)` array of conductances (>= 0), instead of `pairs`.

    **Raises:** `ValueError` naming the argument: both or neither of `pairs` and `matrix`,
    indices out of range or a neuron coupled to itself, negative or non-finite
    conductances, a matrix of the wrong shape (checked when the `Network` is built).
    """

    def __init__(self, population, pairs=None, g: Any = 1.0, *, matrix=None):
        self.population = getattr(population, "name", population)
        if (pairs is None) == (matrix is None):
            raise ValueError("GapJunctions: give exactly one of pairs= and matrix=")
        if matrix is not None:
            m = np.asarray(matrix, dtype=float)
            if m.ndim != 2 or m.shape[0] != m.shape[1]:
                raise ValueError(f"GapJunctions.matrix must be square (n, n), got {m.shape}")
            check_nonnegative("GapJunctions.matrix", m)
            self.matrix, self.pairs, self.g = m, None, None
            return
        p = np.asarray(pairs)
        if p.ndim == 2 and p.shape[0] == 2 and p.shape[1] != 2:
            i, j = p[0], p[1]
        elif p.ndim == 2 and p.shape[1] == 2:
            i, j = p[:, 0], p[:, 1]
        elif p.ndim == 2 and p.shape == (2, 2):
            i, j = p[:, 0], p[:, 1]
        else:
            raise ValueError(
                f"GapJunctions.pairs must be (i, j) index arrays or (i, j) tuples, got shape "
                f"{p.shape}"
            )
        if p.size and not np.issubdtype(p.dtype, np.integer):
            raise ValueError(f"GapJunctions.pairs must be integers, got {p.dtype}")
        if np.any(i == j):
            raise ValueError("GapJunctions.pairs: a neuron cannot be coupled to itself (i == j)")
        gv = np.broadcast_to(np.asarray(g, dtype=float), i.shape).copy()
        check_nonnegative("GapJunctions.g", gv)
        self.pairs = (i.astype(np.int64), j.astype(np.int64))
        self.g, self.matrix = gv, None

    def compile(self, n: int, dtype) -> CompiledGap:
        """The device form for a population of `n` neurons (called by `Network`).

        **Arguments:** `n` (the population size), `dtype` (the network's).

        **Returns:** a `CompiledGap`.

        **Raises:** `ValueError` for indices or a matrix that do not fit `n`.
        """
        return CompiledGap(self, n, dtype)


class CompiledGap(eqx.Module):
    """Device form of `GapJunctions`: `dense` `(n, n)` conductances, or an ELL table of each
    neuron's partners `(n, K)` with their conductances (0 for padding)."""

    dense: Any
    partners: Any
    conductance: Any
    population: str = eqx.field(static=True)

    def __init__(self, gj: GapJunctions, n: int, dtype):
        self.population = gj.population
        if gj.matrix is not None:
            m = gj.matrix
            if m.shape != (n, n):
                raise ValueError(
                    f"GapJunctions.matrix must have shape ({n}, {n}) for population "
                    f"{gj.population!r}, got {m.shape}"
                )
            m = m.copy()
            np.fill_diagonal(m, 0.0)
            self.dense, self.partners, self.conductance = jnp.asarray(m, dtype), None, None
            return
        if gj.pairs is None or gj.g is None:
            raise ValueError("GapJunctions: no pairs")  # unreachable: __init__ sets one form
        i, j = gj.pairs
        g = gj.g
        if i.size and not (min(i.min(), j.min()) >= 0 and max(i.max(), j.max()) < n):
            raise ValueError(
                f"GapJunctions.pairs must be in [0, {n}) for population {gj.population!r}"
            )
        a = np.concatenate([i, j])
        b = np.concatenate([j, i])
        gg = np.concatenate([g, g])
        order, col, K, _ = ell_layout(a, n)
        partners = np.zeros((n, K), np.int32)
        cond = np.zeros((n, K))
        partners[a[order], col] = b[order]
        cond[a[order], col] = gg[order]
        self.dense = None
        self.partners = jnp.asarray(partners)
        self.conductance = jnp.asarray(cond, dtype)

    def conductances(self, V):
        r"""`(g_i, E_i)`: the total coupling conductance of each neuron and the reversal
        potential $E_i = \sum_j g_{ij} V_j / g_i$ ($V_i$ where $g_i = 0$), from the membrane
        potentials `V` `(n,)`, so that $g_i (E_i - V_i) = \sum_j g_{ij}(V_j - V_i)$."""
        if self.dense is not None:
            g_tot = jnp.sum(self.dense, axis=1)
            drive = self.dense @ V
        else:
            g_tot = jnp.sum(self.conductance, axis=1)
            drive = jnp.sum(self.conductance * V[self.partners], axis=1)
        coupled = g_tot > 0
        E = jnp.where(coupled, drive / jnp.where(coupled, g_tot, 1), V)
        return g_tot.astype(V.dtype), E.astype(V.dtype)
