"""Izhikevich (2003, 2004) presets reproduce their named firing patterns, measured from the
spike trains of `spikejax.simulate`. Protocols follow Izhikevich (2003, Fig. 2): from rest
(v = -65 mV, u = b v), a step of I = 10 at t = 10 ms; TC: release from a hyperpolarising
step; RZ: trains of three brief pulses. Euler at dt = 0.1 ms (the paper uses 0.5-1 ms)."""

import jax.numpy as jnp
import numpy as np
import pytest

import spikejax as sj
from spikejax.models import Izhikevich
from spikejax.stimulus import PulseTrain, Step

NAMES = ["RS", "IB", "CH", "FS", "LTS", "TC", "RZ"]


@pytest.fixture(scope="module")
def step_trains():
    """All seven presets as one population under the same step (one compiled run)."""
    p = np.array([Izhikevich.preset(n) for n in NAMES], dtype=object)
    model = Izhikevich(
        a=jnp.array([m.a for m in p]),
        b=jnp.array([m.b for m in p]),
        c=jnp.array([m.c for m in p]),
        d=jnp.array([m.d for m in p]),
    )
    res = sj.simulate(
        model, duration=400.0, dt=0.1, I=Step(10.0, amplitude=10.0), method="euler", record=()
    )
    return dict(zip(NAMES, res.spike_trains()))


def _bursts(train, gap):
    """Split a train into bursts separated by ISIs longer than `gap` ms."""
    return np.split(train, np.nonzero(np.diff(train) > gap)[0] + 1)


def test_rs_regular_spiking_adapts(step_trains):
    isis = np.diff(step_trains["RS"])
    # Spike-frequency adaptation: the ISI lengthens (first ISI < 0.7 x the steady ISI),
    # then stays regular (CV of the last five ISIs < 5%); no ISI shorter than 10 ms (no burst).
    assert isis[0] < 0.7 * isis[-1]
    assert np.std(isis[-5:]) / np.mean(isis[-5:]) < 0.05
    assert isis.min() > 10.0


def test_ib_initial_burst_then_tonic(step_trains):
    bursts = _bursts(step_trains["IB"], gap=10.0)
    # First a burst of >= 2 spikes with ISIs < 10 ms, then single spikes (tonic).
    assert len(bursts[0]) >= 2
    assert all(len(b) == 1 for b in bursts[1:]) and len(bursts) >= 5


def test_ch_repetitive_bursts(step_trains):
    bursts = _bursts(step_trains["CH"], gap=15.0)
    # Chattering: repeated bursts of >= 3 closely spaced spikes (ISI < 10 ms).
    assert len(bursts) >= 4
    assert all(len(b) >= 3 for b in bursts)
    assert all(np.diff(b).max() < 10.0 for b in bursts)


def test_fs_fast_without_adaptation(step_trains):
    fs, rs = np.diff(step_trains["FS"]), np.diff(step_trains["RS"])
    # Fast: steady rate > 100 Hz and > 4x RS's; little adaptation after the first 3 ISIs
    # (last/4th ISI ratio < 1.1, versus RS's ~2 over its whole train).
    assert 1000.0 / fs[-5:].mean() > 100.0
    assert fs[-5:].mean() < rs[-5:].mean() / 4
    assert fs[-1] / fs[3] < 1.1


def test_lts_high_frequency_onset_then_adaptation(step_trains):
    lts, rs = np.diff(step_trains["LTS"]), np.diff(step_trains["RS"])
    # Low threshold: a high-frequency start (first ISI < 5 ms, far below RS's) that adapts
    # (steady ISI > 2.5 x the first).
    assert lts[0] < 5.0 and lts[0] < rs[0] / 3
    assert lts[-5:].mean() > 2.5 * lts[0]


def test_tc_rebound_burst():
    m = Izhikevich.preset("TC")
    # I = -10 for 200 ms, then 0: silent while hyperpolarised, a rebound burst on release.
    res = sj.simulate(
        m, duration=400.0, dt=0.1, I=Step(0.0, 200.0, amplitude=-10.0), method="euler", record=()
    )
    st = res.spike_trains()[0]
    assert st.size >= 2 and st.min() > 200.0
    assert np.sum(st < 230.0) >= 2  # at least two spikes within 30 ms of the release
    # Control: without the hyperpolarising step the cell stays silent at I = 0.
    assert sj.simulate(m, duration=400.0, dt=0.1, I=0.0, method="euler").n_spikes == 0


def test_rz_resonates():
    m = Izhikevich.preset("RZ")
    b = 0.26
    # Rest: the lower root of 0.04 v^2 + (5 - b) v + 140 = 0 (a stable focus, -62.5 mV):
    # eigenvalues -0.052 +- 0.154i /ms, i.e. damped oscillations with period 41 ms.
    v = (-(5 - b) - np.sqrt((5 - b) ** 2 - 4 * 0.04 * 140)) / (2 * 0.04)
    y0 = {"V": v, "u": b * v}
    # One small pulse: V overshoots, then undershoots below rest (an integrator would relax
    # monotonically) about half a period later.
    r = sj.simulate(
        m,
        duration=100.0,
        dt=0.1,
        I=PulseTrain([20.0], width=2.0, amplitude=0.5),
        method="euler",
        y0=y0,
    )
    after = r.times > 22.0
    t_min = r.times[after][np.argmin(r.V[after])]
    assert r.V[after].min() < v - 0.2 and 35.0 < t_min < 50.0
    # Three pulses of amplitude 1.15: they fire the cell when spaced near the period (40 ms)
    # but not at 20 or 30 ms, although closer pulses would sum more for an integrator.
    res = {}
    for interval in [20.0, 30.0, 40.0]:
        stim = PulseTrain.regular(20.0, interval, 3, width=2.0, amplitude=1.15)
        res[interval] = int(
            sj.simulate(
                m, duration=200.0, dt=0.1, I=stim, method="euler", y0=y0, record=()
            ).n_spikes
        )
    assert res[20.0] == 0 and res[30.0] == 0 and res[40.0] >= 1
