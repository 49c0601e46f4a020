"""Brian2 and `spikejax.models.from_equations` on the same equations, side by side.

The models are Brian2's documented examples (the adaptive exponential integrate-and-fire
neuron of Brette & Gerstner 2005, Izhikevich's model, and the Hodgkin-Huxley type neuron of
Traub & Miles as in Brian2's `COBAHH` example, with `exprel` rates), written in the same
text; both run forward Euler with the same step (0.01 ms, 60 ms). Brian2 computes in SI
units, spikejax in ms and mV, so the traces differ by rounding, amplified during spikes:
the stated tolerance is 1e-6 mV (1e-8 relative to the swing of a spike; gates 1e-8) and
the same spikes, in the same steps.
"""

import numpy as np
import pytest

import spikejax as sj
from spikejax.models import from_equations

pytestmark = [
    pytest.mark.slow,
    # Brian2 uses deprecated pyparsing and numpy names.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
b2 = pytest.importorskip("brian2", reason="the side-by-side test needs Brian2")
pytest.importorskip("pint", reason="units need the optional dependency pint")

DT = 0.01  # ms
DURATION = 60.0  # ms


def _brian2_run(eqs, namespace, init, *, threshold=None, reset=None, I, record):
    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    b2.defaultclock.dt = DT * b2.ms
    group = b2.NeuronGroup(
        1, eqs, threshold=threshold, reset=reset, method="euler", namespace=namespace
    )
    for k, v in init.items():
        setattr(group, k, v)
    group.I = I
    mon = b2.StateMonitor(group, record, record=True)
    spikes = b2.SpikeMonitor(group) if threshold is not None else None
    b2.run(DURATION * b2.ms, namespace=namespace)
    traces = {k: np.asarray(getattr(mon, k)[0]) for k in record}
    return traces, (None if spikes is None else np.asarray(spikes.t / b2.ms))


def _compare(a, b, tol):
    n = min(len(a), len(b))
    np.testing.assert_allclose(a[:n], b[:n], rtol=0, atol=tol)


ADEX = """
dvm/dt = (gL*(EL - vm) + gL*DeltaT*exp((vm - VT)/DeltaT) + I - w)/C : volt
dw/dt = (a*(vm - EL) - w)/tauw : amp
I : amp
"""


def test_adex_against_brian2():
    ms, mV, nS, nA, pF = b2.ms, b2.mV, b2.nS, b2.nA, b2.pF
    ns = {
        "C": 281 * pF,
        "gL": 30 * nS,
        "EL": -70.6 * mV,
        "VT": -50.4 * mV,
        "DeltaT": 2 * mV,
        "Vcut": -40.4 * mV,
        "tauw": 144 * ms,
        "a": 4 * nS,
        "b": 0.0805 * nA,
        "Vr": -70.6 * mV,
    }
    traces, spikes = _brian2_run(
        ADEX,
        ns,
        {"vm": -70.6 * mV},
        threshold="vm > Vcut",
        reset="vm = Vr; w += b",
        I=1 * nA,
        record=["vm", "w"],
    )
    # spikejax: the same text, with the currents held in nA (Brian2 insists on base units).
    model = from_equations(
        ADEX.replace(": amp", ": nA"),
        threshold="vm > Vcut",
        reset="vm = Vr; w += b",
        parameters={
            "C": "281 pF",
            "gL": "30 nS",
            "EL": "-70.6 mV",
            "VT": "-50.4 mV",
            "DeltaT": "2 mV",
            "Vcut": "-40.4 mV",
            "tauw": "144 ms",
            "a": "4 nS",
            "b": "0.0805 nA",
            "Vr": "-70.6 mV",
        },
        init={"vm": "EL"},
    )
    r = sj.simulate(model, duration=DURATION, dt=DT, I=1.0, method="euler")
    _compare(np.asarray(r.states["vm"]), traces["vm"] / 1e-3, 1e-6)
    _compare(np.asarray(r.states["w"]), traces["w"] / 1e-9, 1e-9)
    st = np.asarray(r.spike_times)
    # Brian2 stamps a spike with the start of the step that crossed, spikejax its end.
    np.testing.assert_allclose(st[np.isfinite(st)], spikes + DT, atol=1e-9)
    assert len(spikes) >= 3


IZH = """
dv/dt = (0.04/ms/mV)*v**2 + (5/ms)*v + 140*mV/ms - u + I : volt
du/dt = a*(b*v - u) : volt/second
I : volt/second
"""


def test_izhikevich_against_brian2():
    ms, mV = b2.ms, b2.mV
    ns = {"a": 0.02 / ms, "b": 0.2 / ms, "c": -65 * mV, "d": 8 * mV / ms}
    traces, spikes = _brian2_run(
        IZH,
        ns,
        {"v": -65 * mV, "u": -13 * mV / ms},
        threshold="v > 30*mV",
        reset="v = c; u += d",
        I=10 * mV / ms,
        record=["v", "u"],
    )
    model = from_equations(
        IZH,
        threshold="v > 30*mV",
        reset="v = c; u += d",
        parameters={"a": "0.02/ms", "b": "0.2/ms", "c": "-65 mV", "d": "8 mV/ms"},
        init={"v": "c", "u": "-13*mV/ms"},
    )
    assert model.units["u"] == "mV/ms" and model.units["I"] == "mV/ms"
    r = sj.simulate(model, duration=DURATION, dt=DT, I=10.0, method="euler")
    _compare(np.asarray(r.states["v"]), traces["v"] / 1e-3, 1e-6)
    _compare(np.asarray(r.states["u"]), traces["u"] / 1.0, 1e-6)  # V/s = mV/ms
    st = np.asarray(r.spike_times)
    # Brian2 stamps a spike with the start of the step that crossed, spikejax its end.
    np.testing.assert_allclose(st[np.isfinite(st)], spikes + DT, atol=1e-9)
    assert len(spikes) >= 2


HH = """
dv/dt = (gl*(El - v) - g_na*(m*m*m)*h*(v - ENa) - g_kd*(n*n*n*n)*(v - EK) + I)/Cm : volt
dm/dt = 0.32*(mV**-1)*4*mV/exprel((13.*mV - v + VT)/(4*mV))/ms*(1 - m) - 0.28*(mV**-1)*5*mV/exprel((v - VT - 40.*mV)/(5*mV))/ms*m : 1
dn/dt = 0.032*(mV**-1)*5*mV/exprel((15.*mV - v + VT)/(5*mV))/ms*(1. - n) - .5*exp((10.*mV - v + VT)/(40.*mV))/ms*n : 1
dh/dt = 0.128*exp((17.*mV - v + VT)/(18.*mV))/ms*(1. - h) - 4./(1 + exp((40.*mV - v + VT)/(5.*mV)))/ms*h : 1
I : amp
"""  # noqa: E501


def test_hodgkin_huxley_against_brian2():
    # Brian2's Traub-Miles HH neuron (area 20000 um^2): Cm = 200 pF, gl = 10 nS,
    # g_na = 20 uS, g_kd = 6 uS.
    mV, pF, nS, nA = b2.mV, b2.pF, b2.nS, b2.nA
    ns = {
        "Cm": 200 * pF,
        "gl": 10 * nS,
        "El": -65 * mV,
        "EK": -90 * mV,
        "ENa": 50 * mV,
        "g_na": 20000 * nS,
        "g_kd": 6000 * nS,
        "VT": -63 * mV,
    }
    init = {"v": -65 * mV, "m": 0.05, "h": 0.6, "n": 0.3}
    traces, _ = _brian2_run(HH, ns, init, I=0.7 * nA, record=["v", "m", "h", "n"])
    model = from_equations(
        HH.replace(": amp", ": nA"),
        parameters={
            "Cm": "200 pF",
            "gl": "10 nS",
            "El": "-65 mV",
            "EK": "-90 mV",
            "ENa": "50 mV",
            "g_na": "20000 nS",
            "g_kd": "6000 nS",
            "VT": "-63 mV",
        },
        init={"v": -65.0, "m": 0.05, "h": 0.6, "n": 0.3},
    )
    r = sj.simulate(model, duration=DURATION, dt=DT, I=0.7, method="euler")
    _compare(np.asarray(r.states["v"]), traces["v"] / 1e-3, 1e-6)
    for k in ("m", "h", "n"):
        _compare(np.asarray(r.states[k]), traces[k], 1e-8)
    assert int(r.n_spikes) >= 2
