"""The regimes of Izhikevich (2004, Fig. 1) against a transcription of the paper's script.

The truth is a plain NumPy transcription of `figure1.m` (www.izhikevich.org/publications/
figure1.m), written here from the script, independent of the library: for each step of
`tau`, `V = V + tau*(0.04*V^2+5*V+140-u+I)`, `u = u + tau*a*(b*V-u)`, and `if V > 30`:
a spike, `V = c`, `u = u + d`.
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import spikejax as sj
from spikejax.models import IZHIKEVICH_2004, Izhikevich
from spikejax.solvers import SplitEuler


def _figure1(regime):
    """Spike times (ms, the end of the step) of the script's loop, in float64."""
    a, b, c, d = regime.a, regime.b, regime.c, regime.d
    tau = regime.dt
    V, u = regime.V0, regime.u0
    spikes = []
    n = int(round(regime.duration / tau))
    currents = np.asarray(regime.current(jnp.arange(n) * tau), float)  # I(t) on the grid
    for k in range(n):
        t = k * tau
        I = currents[k]
        V = V + tau * (0.04 * V**2 + 5 * V + 140 - u + I)
        u = u + tau * a * (b * V - u)
        if V > 30:
            spikes.append(t + tau)
            V, u = c, u + d
    return np.array(spikes)


def _by_step():
    groups = {}
    for name, r in IZHIKEVICH_2004.items():
        groups.setdefault(r.dt, []).append(name)
    return groups


@pytest.mark.parametrize("dt", sorted(_by_step()))
def test_regimes_match_the_papers_script(dt):
    # all regimes of one step size in one heterogeneous population: SplitEuler(1) is the
    # script's update, so the spike times agree on the grid (to rounding: 1e-9 ms)
    names = _by_step()[dt]
    regimes = [IZHIKEVICH_2004[n] for n in names]
    model = Izhikevich(
        a=np.array([r.a for r in regimes]),
        b=np.array([r.b for r in regimes]),
        c=np.array([r.c for r in regimes]),
        d=np.array([r.d for r in regimes]),
    )
    duration = max(r.duration for r in regimes)
    I = sj.stimulus.Function(lambda t: jnp.stack([r.current(t) for r in regimes]))
    y0 = {"V": np.array([r.V0 for r in regimes]), "u": np.array([r.u0 for r in regimes])}
    res = sj.simulate(model, duration=duration, dt=dt, I=I, y0=y0, method=SplitEuler(1))
    for j, (name, r) in enumerate(zip(names, regimes)):
        ref = _figure1(r)
        got = res.spike_times[j]
        got = got[np.isfinite(got) & (got <= r.duration + 1e-9)]
        assert got.size == ref.size, (name, got, ref)
        np.testing.assert_allclose(got, ref, atol=1e-9, err_msg=name)


def test_regime_signatures():
    # the qualitative features the figure shows, on the script's own spike trains
    s = {name: _figure1(r) for name, r in IZHIKEVICH_2004.items()}
    assert s["phasic_spiking"].size == 1  # one spike at the step's onset (t = 20)
    assert s["tonic_spiking"].size >= 5
    isi = np.diff(s["tonic_spiking"])
    assert np.ptp(isi[2:]) <= 0.25 + 1e-9  # regular after the first spikes
    assert s["spike_latency"].size == 1 and s["spike_latency"][0] > 13.0  # after the pulse
    assert s["rebound_spike"].size == 1 and s["rebound_spike"][0] > 25.0  # after inhibition
    assert s["rebound_burst"].size >= 2 and s["rebound_burst"][0] > 25.0
    assert s["subthreshold_oscillations"].size == 1
    for name in ("inhibition_induced_spiking", "inhibition_induced_bursting"):
        t = s[name]
        assert t.size >= 2 and np.all((t >= 50.0) & (t <= 260.0)), name  # spikes only when
        # the input is lowered (a < 0, b < 0: the published parameter set)
    burst = s["inhibition_induced_bursting"]
    assert np.max(np.diff(burst)) > 5 * np.min(np.diff(burst))  # grouped into bursts
    adapt = np.diff(s["spike_frequency_adaptation"])
    assert adapt[-1] > 2 * adapt[0]


def test_published_parameters_accepted_and_other_forms_named():
    for name, r in IZHIKEVICH_2004.items():
        m = Izhikevich.preset(name)
        assert (m.a, m.b, m.c, m.d) == (r.a, r.b, r.c, r.d)
        assert r.u0 == pytest.approx(r.b * r.V0)
    assert len(IZHIKEVICH_2004) == 17
    assert sorted(r.panel for r in IZHIKEVICH_2004.values()) == sorted("ABCDEFHIJKMNOPQST")
    with pytest.raises(ValueError, match="4.1 v"):
        Izhikevich.preset("integrator")
    with pytest.raises(ValueError, match=r"a b \(v \+ 65\)"):
        Izhikevich.preset("accommodation")
    # a < 0, b < 0, d < 0 are valid ODEs; NaN and inf are not; nor a reset at the peak
    Izhikevich(a=-0.026, b=-1.0, c=-45.0, d=-2.0)
    for bad in (dict(a=math.nan), dict(b=math.inf), dict(d=-math.inf), dict(c=30.0)):
        with pytest.raises(ValueError):
            Izhikevich(**bad)
