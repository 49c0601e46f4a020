"""The explorer's model catalog: every built-in model and preset, with the ranges of its
sliders, its phase-plane box and its bifurcation range; `entry_for` derives the same for a
user's model object."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import models
from ..models import NeuronModel


@dataclasses.dataclass(frozen=True)
class Slider:
    """One slider: the parameter's name, unit, range, step and default value."""

    name: str
    unit: str
    start: float
    end: float
    value: float

    @property
    def step(self) -> float:
        return _nice_step((self.end - self.start) / 200.0)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit not in ("", "1") else self.name


@dataclasses.dataclass(frozen=True, eq=False)
class Entry:
    """A model of the catalog and how the explorer shows it.

    `make` builds the model; `I` is the slider of the input current; `box` the phase-plane
    box `(xlim, ylim)` of the planar view (None: no plane); `planar` maps the model to the
    planar model of its phase plane (the model itself, or a reduction such as Rinzel's for
    Hodgkin-Huxley); `V_range` the voltage range of a phase line; `duration`, `dt` of the
    trace (model time units); `bif_range` the current interval of the bifurcation diagram
    and the F-I curve; `continuation_kwargs` extra step options for `analysis.continuation`.
    """

    name: str
    make: Callable[[], NeuronModel]
    I: Slider
    box: tuple[tuple[float, float], tuple[float, float]] | None
    duration: float
    dt: float
    bif_range: tuple[float, float]
    planar: Callable[[NeuronModel], NeuronModel] | None = None
    planar_note: str = ""
    V_range: tuple[float, float] | None = None
    continuation_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    pulse_amplitude: float = 1.0
    pulse_width: float = 1.0
    no_plane: str = ""
    code: str = ""  # how the exported script builds the model (empty: from its class)


def _nice_step(x: float) -> float:
    if not (x > 0 and math.isfinite(x)):
        return 0.01
    e = 10 ** math.floor(math.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * e >= x:
            return m * e
    return 10 * e


# Units of the built-in models' parameter names (the models declare their current, voltage and
# time units; their field docstrings give these).
_UNITS = {
    "C": "uF/cm^2",
    "tau_m": "ms",
    "t_ref": "ms",
    "tau_n": "ms",
    "a": "1",
    "b": "1",
    "eps": "1",
    "R": "1",
}


def unit_of(model: NeuronModel, name: str) -> str:
    """The unit of parameter `name` (from the model's declared units and the naming
    convention of the built-in models: `g*` conductances, `E*`/`V*`/`*_V_half`/`*_k`
    voltages; "1" when unknown)."""
    if name in _UNITS and type(model).__module__.startswith("spikejax."):
        if isinstance(model, models.Izhikevich) and name == "a":
            return "1/ms"
        return _UNITS[name]
    v = model.voltage_unit
    if name.startswith("g") and v == "mV":
        return "mS/cm^2"
    if name.startswith(("E", "V", "v_")) or name.endswith(("_V_half", "_k")) or name == "c":
        return v
    if name.startswith(("tau", "t_")):
        return model.time_unit
    return "1"


def _accepts(model: NeuronModel, name: str, value: float) -> bool:
    """Whether the model's own checks accept `value` for parameter `name`."""
    try:
        model.replace(**{name: value})
    except ValueError:
        return False
    return True


def parameter_slider(model: NeuronModel, name: str, value: float) -> Slider:
    """A slider for one parameter around its default `value`: voltages +-40 mV (from a tenth
    to three times where the model refuses the lower end, as a positive slope factor), other
    positive values from a tenth to three times, zero to +-1."""
    unit = unit_of(model, name)
    if unit == "mV" and value > 0 and not _accepts(model, name, value - 40.0):
        lo, hi = value / 10.0, 3.0 * value
    elif unit == "mV":
        lo, hi = value - 40.0, value + 40.0
    elif value > 0:
        lo, hi = value / 10.0, 3.0 * value
    elif value < 0:
        lo, hi = 3.0 * value, -value
    else:
        lo, hi = -1.0, 1.0
    step = _nice_step((hi - lo) / 200.0)
    lo, hi = step * math.floor(lo / step), step * math.ceil(hi / step)
    return Slider(name, unit, float(lo), float(hi), float(value))


def parameter_sliders(model: NeuronModel) -> list[Slider]:
    """One slider per scalar float parameter of `model` (its fields, from `parameters()`)."""
    out = []
    for name, value in model.parameters().items():
        arr = np.asarray(value)
        if arr.shape != () or not np.issubdtype(arr.dtype, np.number):
            continue
        out.append(parameter_slider(model, name, float(arr)))
    return out


def _reduced_hh(model: NeuronModel) -> NeuronModel:
    from ..analysis import reduce_hh

    if not isinstance(model, models.HodgkinHuxley):
        raise ValueError(f"the reduced view needs a HodgkinHuxley model, got {type(model)}")
    return reduce_hh(model)


def _izh(name: str) -> Callable[[], NeuronModel]:
    return lambda: models.Izhikevich.preset(name)


_IZH_LABELS = {
    "RS": "regular spiking",
    "IB": "intrinsically bursting",
    "CH": "chattering",
    "FS": "fast spiking",
    "LTS": "low-threshold spiking",
    "TC": "thalamo-cortical",
    "RZ": "resonator",
}


def _catalog() -> dict[str, Entry]:
    entries = [
        Entry(
            "Hodgkin-Huxley",
            models.HodgkinHuxley,
            Slider("I", "uA/cm^2", -5.0, 30.0, 0.0),
            ((-80.0, 40.0), (0.2, 0.8)),
            duration=100.0,
            dt=0.01,
            bif_range=(0.0, 15.0),
            planar=_reduced_hh,
            planar_note="Rinzel's reduction (m at m_inf(V), h = 0.89 - 1.1 n): an approximation "
            "of the 4-D model, whose own equilibria are listed",
            pulse_amplitude=10.0,
        ),
        Entry(
            "Hodgkin-Huxley reduced (V, n)",
            lambda: _reduced_hh(models.HodgkinHuxley()),
            Slider("I", "uA/cm^2", -5.0, 30.0, 0.0),
            ((-80.0, 40.0), (0.2, 0.8)),
            duration=100.0,
            dt=0.01,
            bif_range=(0.0, 15.0),
            pulse_amplitude=10.0,
            code="analysis.reduce_hh(sj.models.HodgkinHuxley({params}))",
        ),
        Entry(
            "LIF",
            models.LIF,
            Slider("I", "mV/R", -10.0, 40.0, 20.0),
            None,
            duration=200.0,
            dt=0.05,
            bif_range=(0.0, 30.0),
            no_plane="LIF: the state is V and a refractory clock (one-dimensional "
            "dynamics below threshold); no phase plane",
            pulse_amplitude=20.0,
        ),
        Entry(
            "INaP (1-D)",
            models.INaP,
            Slider("I", "uA/cm^2", -10.0, 40.0, 0.0),
            None,
            duration=100.0,
            dt=0.01,
            bif_range=(-10.0, 40.0),
            V_range=(-80.0, 60.0),
            continuation_kwargs=dict(ds=0.5, ds_max=1.0),
            pulse_amplitude=40.0,
        ),
        Entry(
            "INaPIK (high-threshold K, SNIC)",
            models.INaPIK.high_threshold,
            Slider("I", "uA/cm^2", -5.0, 20.0, 0.0),
            ((-80.0, 20.0), (-0.05, 0.75)),
            duration=60.0,
            dt=0.01,
            bif_range=(0.0, 8.0),
            continuation_kwargs=dict(ds=0.3, ds_max=0.6),
            pulse_amplitude=18.0,
            pulse_width=0.5,
            code="sj.models.INaPIK.high_threshold({params})",
        ),
        Entry(
            "INaPIK (low-threshold K, Hopf)",
            models.INaPIK.low_threshold,
            Slider("I", "uA/cm^2", -5.0, 40.0, 0.0),
            ((-80.0, 20.0), (-0.05, 0.75)),
            duration=60.0,
            dt=0.01,
            bif_range=(0.0, 40.0),
            pulse_amplitude=16.0,
            pulse_width=0.5,
            code="sj.models.INaPIK.low_threshold({params})",
        ),
        *[
            Entry(
                f"Izhikevich {k} ({label})",
                _izh(k),
                Slider("I", "1", -5.0, 20.0, 0.0),
                ((-80.0, -30.0), (-20.0, 0.0)),
                duration=200.0,
                dt=0.05,
                bif_range=(0.0, 8.0),
                continuation_kwargs=dict(ds=0.3, ds_max=0.6),
                pulse_amplitude=10.0,
                code=f"sj.models.Izhikevich.preset({k!r}{{sep}}{{params}})",
            )
            for k, label in _IZH_LABELS.items()
        ],
        Entry(
            "Morris-Lecar class 1 (SNIC)",
            models.MorrisLecar.class1,
            Slider("I", "uA/cm^2", -20.0, 120.0, 0.0),
            ((-80.0, 50.0), (-0.05, 0.7)),
            duration=500.0,
            dt=0.05,
            bif_range=(0.0, 100.0),
            continuation_kwargs=dict(ds=1.0, ds_max=2.0),
            pulse_amplitude=60.0,
            pulse_width=2.0,
            code="sj.models.MorrisLecar.class1({params})",
        ),
        Entry(
            "Morris-Lecar class 2 (Hopf)",
            models.MorrisLecar.class2,
            Slider("I", "uA/cm^2", -20.0, 200.0, 0.0),
            ((-80.0, 50.0), (-0.05, 0.7)),
            duration=500.0,
            dt=0.05,
            bif_range=(0.0, 150.0),
            continuation_kwargs=dict(ds=1.0, ds_max=2.0),
            pulse_amplitude=100.0,
            pulse_width=2.0,
            code="sj.models.MorrisLecar.class2({params})",
        ),
        Entry(
            "FitzHugh-Nagumo",
            models.FitzHughNagumo,
            Slider("I", "1", -1.0, 2.0, 0.0),
            ((-2.5, 2.5), (-1.0, 2.0)),
            duration=200.0,
            dt=0.05,
            bif_range=(0.0, 1.5),
            pulse_amplitude=1.0,
        ),
    ]
    return {e.name: e for e in entries}


#: The explorer's built-in models, by the name shown in its model picker.
CATALOG: dict[str, Entry] = _catalog()

#: Short names of the catalog's models (for the command line).
SHORT_NAMES: dict[str, str] = {
    "hh": "Hodgkin-Huxley",
    "hh-reduced": "Hodgkin-Huxley reduced (V, n)",
    "lif": "LIF",
    "inap": "INaP (1-D)",
    "inapik": "INaPIK (high-threshold K, SNIC)",
    "inapik-hopf": "INaPIK (low-threshold K, Hopf)",
    **{f"izhikevich-{k.lower()}": f"Izhikevich {k} ({v})" for k, v in _IZH_LABELS.items()},
    "fhn": "FitzHugh-Nagumo",
    "ml-class1": "Morris-Lecar class 1 (SNIC)",
    "ml-class2": "Morris-Lecar class 2 (Hopf)",
}


def resolve(name: str) -> str:
    """The catalog name of `name` (a catalog name or a short name).

    **Raises:** `ValueError` naming the choices.
    """
    if name in CATALOG:
        return name
    if name.lower() in SHORT_NAMES:
        return SHORT_NAMES[name.lower()]
    raise ValueError(
        f"unknown model {name!r}; choose one of {sorted(SHORT_NAMES)} or {list(CATALOG)}"
    )


def _box_from_simulation(model: NeuronModel, I_hi: float, duration: float, dt: float):
    """A phase-plane box around a trajectory at the top of the current range and the rest."""
    from .._simulate import simulate

    res = simulate(model, duration=duration, dt=dt, I=I_hi)
    y = np.stack([np.asarray(res.states[n]).reshape(-1) for n in model.state_names])
    rest = model.to_vector(model.resting_state()).reshape(-1, 1)
    y = np.concatenate([y, np.asarray(rest)], axis=1)
    y = np.where(np.isfinite(y), y, np.nan)
    lims = []
    for row in y[:2]:
        lo, hi = float(np.nanmin(row)), float(np.nanmax(row))
        pad = 0.1 * (hi - lo) if hi > lo else max(1.0, abs(lo))
        lims.append((lo - pad, hi + pad))
    return tuple(lims)


def entry_for(model: NeuronModel, name: str | None = None) -> Entry:
    """A catalog entry for a user's model object: current range from the model's units
    (-5..20 for models in mV, -1..2 otherwise), trace length 100 time units, and (planar
    models) a phase-plane box around the rest state and a simulated trajectory."""
    if not isinstance(model, NeuronModel):
        raise TypeError(f"model must be a spikejax NeuronModel, got {type(model).__name__}")
    if model.shape != ():
        raise ValueError(f"model must be a single cell (shape ()), got shape {model.shape}")
    mv = model.voltage_unit == "mV"
    I = Slider("I", model.current_unit, -5.0, 20.0, 0.0) if mv else Slider("I", "1", -1, 2, 0.0)
    dt = 0.01 if mv else 0.05
    box = None
    if model.n_states == 2:
        box = _box_from_simulation(model, I.end / 2.0, 100.0, dt)
    return Entry(
        name or f"{type(model).__name__} (your model)",
        lambda: model,
        I,
        box,  # type: ignore[arg-type]
        duration=100.0,
        dt=dt,
        bif_range=(I.start, I.end),
        no_plane=""
        if model.n_states in (1, 2)
        else f"{type(model).__name__} has "
        f"{model.n_states} state variables: no phase plane (pass a planar model)",
        pulse_amplitude=I.end / 2.0,
    )
