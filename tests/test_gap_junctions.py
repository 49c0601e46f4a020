"""Gap junctions: two coupled passive cells against the closed-form two-compartment
solution (with the first-order convergence of the step), synchrony of coupled spiking cells
as the coupling grows, and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikejax import network as nw
from spikejax.models import LIF, FitzHughNagumo


def _passive_error(dt, gR=0.5, tau=10.0, T=20.0):
    # cells 0-1 coupled by a sparse pair, cells 2-3 by a dense matrix (same g), V(0) = 10, 0
    cells = nw.Population(
        LIF(tau_m=tau, E_L=0.0, V_th=1e6, V_reset=0.0, t_ref=0.0),
        4,
        name="c",
        initial={"V": jnp.asarray([10.0, 0.0, 10.0, 0.0])},
    )
    m = np.zeros((4, 4))
    m[2, 3] = m[3, 2] = gR
    gaps = [nw.GapJunctions(cells, [(0, 1)], g=gR), nw.GapJunctions(cells, matrix=m)]
    net = nw.Network([cells], gap_junctions=gaps, dt=dt, dtype=jnp.float32)
    mon = nw.StateMonitor("c", "V")
    res = nw.run(net, T, key=jax.random.key(0), monitors=[mon])
    t, V = res.states[mon.key]
    V = V[:, 0, :]
    # tau V' = -V + R g (V_other - V): the sum decays with tau, the difference with
    # tau / (1 + 2 R g)
    S = 10.0 * np.exp(-t / tau)
    D = 10.0 * np.exp(-(1 + 2 * gR) * t / tau)
    exact = np.stack([(S + D) / 2, (S - D) / 2], axis=1)
    np.testing.assert_allclose(V[:, :2], V[:, 2:], rtol=1e-6, atol=1e-6)  # sparse == dense
    return np.abs(V[:, :2] - exact).max()


def test_two_passive_cells_closed_form_first_order():
    e1, e2 = _passive_error(0.02), _passive_error(0.01)
    # the coupling is frozen over a step (first order): halving dt halves the error
    assert e2 < 5e-3, e2
    assert 1.8 < e1 / e2 < 2.2, (e1, e2)


def test_coupled_spiking_cells_synchronise():
    # four pairs of identical FitzHugh-Nagumo oscillators (I = 0.5) started out of phase,
    # coupled with g = 0, 0.002, 0.005, 0.02: uncoupled, the phase lag persists (a neutral
    # phase); coupled, it shrinks with g, down to the same step
    g = np.array([0.0, 0.002, 0.005, 0.02])
    cells = nw.Population(
        FitzHughNagumo(),
        8,
        name="c",
        I=0.5,
        initial={"V": jnp.asarray(np.tile([-1.2, 1.5], 4))},
        method="rk4",
    )
    pairs = np.stack([np.arange(0, 8, 2), np.arange(1, 8, 2)], axis=1)
    net = nw.Network([cells], gap_junctions=[nw.GapJunctions(cells, pairs, g=g)], dt=0.1)
    res = nw.run(net, 600.0, key=jax.random.key(0), monitors=[nw.SpikeMonitor("c")])
    i, t = res.spikes["c"]
    lags = []
    for p in range(4):
        a, b = t[(i == 2 * p) & (t > 450)], t[(i == 2 * p + 1) & (t > 450)]
        assert a.size >= 3 and b.size >= 3  # oscillating (period about 39.5)
        lags.append(np.abs(a[:, None] - b[None, :]).min())
    lags = np.array(lags)
    assert lags[0] > 1.5, lags
    assert np.all(np.diff(lags) < 0) or lags[-1] == 0, lags
    assert lags[1] > lags[2] > lags[3] - 1e-9, lags
    assert lags[-1] < 0.05, lags  # the same step


def test_gap_junction_bad_input():
    cells = nw.Population(LIF(), 3, name="c")
    with pytest.raises(ValueError, match="exactly one of pairs= and matrix="):
        nw.GapJunctions(cells)
    with pytest.raises(ValueError, match="coupled to itself"):
        nw.GapJunctions(cells, [(1, 1)])
    with pytest.raises(ValueError, match="GapJunctions.g must be finite and >= 0"):
        nw.GapJunctions(cells, [(0, 1)], g=-1.0)
    with pytest.raises(ValueError, match=r"GapJunctions.pairs must be in \[0, 3\)"):
        nw.Network([cells], gap_junctions=[nw.GapJunctions(cells, [(0, 5)])])
    with pytest.raises(ValueError, match=r"GapJunctions.matrix must have shape \(3, 3\)"):
        nw.Network([cells], gap_junctions=[nw.GapJunctions(cells, matrix=np.zeros((2, 2)))])
    src = nw.PoissonPopulation(3, 5.0, name="p")
    with pytest.raises(ValueError, match="'p' is not a neuron population"):
        nw.Network([cells, src], gap_junctions=[nw.GapJunctions(src, [(0, 1)])])
