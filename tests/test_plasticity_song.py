"""Song, Miller & Abbott (2000): 1000 Poisson inputs onto an integrate-and-fire neuron with
additive STDP develop a bimodal weight distribution; spikejax side by side with Brian2's
implementation of the same model (Brian2's documentation example, same parameters)."""

import os
import subprocess
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikejax import network as nw
from spikejax.models import LIF

N, RATE, GMAX, DURATION_S = 1000, 15.0, 0.01, 100.0

BRIAN2 = r"""
import sys
import numpy as np
from brian2 import *
set_device("cpp_standalone", directory=sys.argv[4])
seed(int(sys.argv[1])); np.random.seed(int(sys.argv[1]))
duration = float(sys.argv[2]) * second
N = 1000; taum = 10*ms; taupre = 20*ms; taupost = taupre; Ee = 0*mV; vt = -54*mV
vr = -60*mV; El = -74*mV; taue = 5*ms; F = 15*Hz; gmax = .01
dApre = .01; dApost = -dApre * taupre / taupost * 1.05; dApost *= gmax; dApre *= gmax
eqs = '''dv/dt = (ge * (Ee-v) + El - v) / taum : volt
dge/dt = -ge / taue : 1'''
inp = PoissonGroup(N, rates=F)
neuron = NeuronGroup(1, eqs, threshold='v>vt', reset='v = vr', method='euler')
neuron.v = vr
S = Synapses(inp, neuron, '''w : 1
dApre/dt = -Apre / taupre : 1 (event-driven)
dApost/dt = -Apost / taupost : 1 (event-driven)''',
             on_pre='''ge += w
Apre += dApre
w = clip(w + Apost, 0, gmax)''',
             on_post='''Apost += dApost
w = clip(w + Apre, 0, gmax)''')
S.connect()
S.w = 'rand() * gmax'
run(duration)
np.save(sys.argv[3], np.asarray(S.w[:]))
"""


def song_spikejax(seed: int, duration_s: float) -> np.ndarray:
    inputs = nw.PoissonPopulation(N, RATE, name="in")
    cell = nw.Population(
        LIF(tau_m=10.0, E_L=-74.0, V_th=-54.0, V_reset=-60.0, t_ref=0.0),
        1,
        name="cell",
        initial={"V": -60.0},
    )
    rule = nw.PairSTDP(
        A_plus=0.01 * GMAX, A_minus=0.0105 * GMAX, tau_plus=20.0, tau_minus=20.0, w_max=GMAX
    )
    syn = nw.Projection(
        inputs,
        cell,
        nw.AllToAll(),
        weight=lambda rng, n: rng.uniform(0.0, GMAX, n),
        synapse=nw.Exponential(5.0, E_rev=0.0),
        plasticity=rule,
        name="syn",
        key=jax.random.key(seed),
    )
    net = nw.Network([inputs, cell], [syn], dt=0.1, dtype=jnp.float32)
    res = nw.run(net, duration_s * 1e3, key=jax.random.key(seed + 100), chunk_steps=100_000)
    return net.plastic_weights(res.state, "syn")[2]


def song_brian2(seed: int, duration_s: float) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        script, out = os.path.join(tmp, "song.py"), os.path.join(tmp, "w.npy")
        with open(script, "w") as f:
            f.write(BRIAN2)
        proc = subprocess.run(
            [sys.executable, script, str(seed), str(duration_s), out, os.path.join(tmp, "b")],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        return np.load(out)


def _summary(w):
    """Fractions of weights in the lowest and highest tenth of [0, gmax], the mean weight
    (/ gmax), and the largest fraction in one of the eight middle tenths."""
    x = np.asarray(w) / GMAX
    counts = np.histogram(x, bins=np.linspace(0.0, 1.0, 11))[0] / x.size
    return np.array([counts[0], counts[-1], np.mean(x), counts[1:-1].max()])


@pytest.mark.slow
def test_song_miller_abbott_bimodal_like_brian2():
    pytest.importorskip("brian2")
    # two seeds each, 100 s from uniform weights: the distribution becomes bimodal (the
    # lowest and highest tenths of [0, gmax] each hold more than any middle tenth, and
    # together more than 0.35 instead of 0.2), and spikejax's fractions and mean agree with
    # Brian2's within the seed spread plus 0.05 (independent Poisson draws; Euler vs
    # exponential Euler membranes). One seed measured: spikejax 0.256 / 0.207 / 0.474,
    # Brian2 0.249 / 0.186 / 0.475 (lowest tenth / highest tenth / mean).
    sj = np.array([_summary(song_spikejax(s, DURATION_S)) for s in (0, 1)])
    b2 = np.array([_summary(song_brian2(s, DURATION_S)) for s in (0, 1)])
    for out in (sj, b2):
        assert np.all(out[:, 0] + out[:, 1] > 0.35), out
        assert np.all(np.minimum(out[:, 0], out[:, 1]) > out[:, 3]), out
    spread = np.abs(sj[0] - sj[1]) + np.abs(b2[0] - b2[1])
    assert np.all(np.abs(sj.mean(0) - b2.mean(0))[:3] <= spread[:3] + 0.05), (sj, b2)
