"""What the explorer shows, computed with spikejax's own functions (`simulate`, `analysis`):
no numerics here, only the choice of calls for a view and their caching.

Every computation is compiled once per model structure: the analysis and simulation functions
jit with the parameters as array arguments (`analysis` turns float fields into arrays), so a
slider move re-runs compiled code."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

from .. import analysis, stimulus
from .._simulate import SimulationResult, simulate
from .._validation import to_arrays
from ..analysis import Branch, ExcitabilityReport, FixedPoint, PhaseLine
from ..models import NeuronModel
from ._catalog import Entry

#: The stimulus kinds of the trace panel.
STIMULI = ("constant", "step", "pulses")


@dataclasses.dataclass(frozen=True)
class Settings:
    """One view of the explorer: the model entry, its parameter values, the current `I`, the
    stimulus of the trace, and the clicked trajectory starts of the phase plane.

    Stimuli (of the trace only; the analysis panels take `I` as a constant input):
    `"constant"` `I`; `"step"` from 0 to `I` at a tenth of the duration; `"pulses"`:
    `n_pulses` square pulses of `pulse_amplitude` and the entry's width, `pulse_interval`
    apart from a tenth of the duration, on top of `I`.
    """

    entry: Entry
    params: tuple[tuple[str, float], ...] = ()
    I: float = 0.0
    stimulus: str = "constant"
    pulse_amplitude: float | None = None
    pulse_interval: float = 5.0
    n_pulses: int = 2
    starts: tuple[tuple[float, float], ...] = ()

    def model(self) -> NeuronModel:
        """The entry's model with the parameter values set (checked by the model)."""
        return _model(self.entry, self.params)

    @property
    def amplitude(self) -> float:
        amp = self.pulse_amplitude
        return self.entry.pulse_amplitude if amp is None else amp

    @property
    def onset(self) -> float:
        return 0.1 * self.entry.duration

    def pulse_onsets(self) -> np.ndarray:
        return self.onset + self.pulse_interval * np.arange(self.n_pulses)

    def stimulus_object(self) -> Any:
        """The trace's input as a `spikejax.stimulus` object (or the number `I`)."""
        if self.stimulus == "constant":
            return self.I
        if self.stimulus == "step":
            return stimulus.Step(self.onset, math.inf, self.I)
        if self.stimulus == "pulses":
            return stimulus.PulseTrain(
                self.pulse_onsets(),
                width=self.entry.pulse_width,
                amplitude=self.amplitude,
                baseline=self.I,
            )
        raise ValueError(f"stimulus must be one of {STIMULI}, got {self.stimulus!r}")


@functools.lru_cache(maxsize=64)
def _model(entry: Entry, params: tuple[tuple[str, float], ...]) -> NeuronModel:
    model = entry.make()
    model = model.replace(**dict(params)) if params else model
    # Fields as JAX arrays once: the analysis functions' own conversion is then a no-op.
    return to_arrays(model)


def planar_model(s: Settings) -> NeuronModel | None:
    """The planar model of the phase plane (the model, or its reduction), None if none."""
    if s.entry.box is None:
        return None
    model = s.model()
    return s.entry.planar(model) if s.entry.planar is not None else model


@dataclasses.dataclass
class Plane:
    """A phase plane: the vector field grid, nullclines, equilibria, separatrices, clicked
    trajectories (each `(m, 2)`)."""

    model: NeuronModel
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    field: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    nullclines: dict[str, list[np.ndarray]]
    fixed_points: list[FixedPoint]
    separatrices: list[np.ndarray]
    trajectories: list[np.ndarray]


def trace(s: Settings) -> SimulationResult:
    """The trace panel: `simulate` under the stimulus, from the lowest stable equilibrium at
    the stimulus' baseline current (0 for a step, else `I`) where there is one, else from the
    model's resting state."""
    base = 0.0 if s.stimulus == "step" else s.I
    y0 = None
    try:
        stable = [fp for fp in _fixed_points(s.entry, s.params, base) if fp.stable]
    except ValueError:  # no equilibria to start from (the model's checks name why)
        stable = []
    if stable:
        y0 = stable[0].state
    return simulate(
        s.model(), duration=s.entry.duration, dt=s.entry.dt, I=s.stimulus_object(), y0=y0
    )


def equilibria(s: Settings) -> list[FixedPoint]:
    """The equilibria of the model at `I` (`analysis.fixed_points`)."""
    return list(_fixed_points(s.entry, s.params, s.I))


@functools.lru_cache(maxsize=64)
def _fixed_points(entry: Entry, params: tuple[tuple[str, float], ...], I: float):
    return tuple(analysis.fixed_points(_model(entry, params), I))


def trajectory_from(s: Settings, model: NeuronModel, start: tuple[float, float]) -> np.ndarray:
    """A trajectory of the planar flow from a clicked point, until it leaves the box (twice
    its size) or reaches a hybrid model's threshold (`analysis.trajectory`)."""
    if s.entry.box is None:
        raise ValueError("this model has no phase plane")
    (x0, x1), (y0, y1) = s.entry.box
    names = model.state_names
    w, h = x1 - x0, y1 - y0
    bounds = {names[0]: (x0 - w, x1 + w), names[1]: (y0 - h, y1 + h)}
    t1 = min(s.entry.duration, 100.0)
    y = {names[0]: start[0], names[1]: start[1]}
    _, ys = analysis.trajectory(model, y, s.I, t1=t1, n_save=801, bounds=bounds)
    return ys[np.all(np.isfinite(ys), axis=1)]


def plane(s: Settings, *, n_arrows: int = 21, n_null: int = 401) -> Plane:
    """The phase plane of the planar view at `I` (`analysis.vector_field_grid`,
    `nullclines`, `fixed_points`, `separatrix` of each saddle, `trajectory` per click)."""
    model = planar_model(s)
    if model is None or s.entry.box is None:
        raise ValueError(s.entry.no_plane or "this model has no phase plane")
    xlim, ylim = s.entry.box
    field = analysis.vector_field_grid(model, s.I, xlim, ylim, n=n_arrows)
    null = analysis.nullclines(model, s.I, xlim, ylim, n=n_null)
    if s.entry.planar is None:
        fps = equilibria(s)  # the model itself is planar: its (cached) equilibria
    else:
        fps = analysis.fixed_points(model, s.I)
    names = model.state_names
    seps = []
    for fp in fps:
        if fp.type == analysis.FixedPointType.SADDLE:
            bounds = {names[0]: xlim, names[1]: ylim}
            seps += analysis.separatrix(model, fp, bounds=bounds, n_save=401)
    trajs = [trajectory_from(s, model, p) for p in s.starts]
    return Plane(model, xlim, ylim, field, null, fps, seps, trajs)


def line(s: Settings) -> PhaseLine:
    """The phase line of a one-dimensional model at `I` (`analysis.phase_line`)."""
    return analysis.phase_line(s.model(), s.I, V_range=s.entry.V_range, n=401)


def branches(s: Settings) -> list[Branch]:
    """Branches of equilibria in `I` over the entry's range (`analysis.continuation` from every
    equilibrium at the start of the range that no earlier branch passed through)."""
    return list(_branches(s.entry, s.params))


@functools.lru_cache(maxsize=32)
def _branches(entry: Entry, params: tuple[tuple[str, float], ...]) -> tuple[Branch, ...]:
    model = _model(entry, params)
    lo, hi = entry.bif_range
    kw = entry.continuation_kwargs
    out: list[Branch] = []
    for fp in analysis.fixed_points(model, lo):
        x = fp.vector
        scale = np.maximum(1.0, np.abs(x))
        if any(np.min(np.max(np.abs(b.states - x) / scale, axis=1)) < 1e-4 for b in out):
            continue  # already on a branch (the rest branch folds back onto the saddle)
        out.append(analysis.continuation(model, "I", lo, hi, y0=fp.state, bounds=(lo, hi), **kw))
    return tuple(out)


def excitability(s: Settings) -> ExcitabilityReport:
    """The F-I curve (from rest and from firing), Hodgkin's class and the integrator /
    resonator verdict over the entry's current range (`analysis.excitability`)."""
    return _excitability(s.entry, s.params)


@functools.lru_cache(maxsize=16)
def _excitability(entry: Entry, params: tuple[tuple[str, float], ...]) -> ExcitabilityReport:
    model = _model(entry, params)
    lo, hi = entry.bif_range
    duration = 200.0 if model.time_unit == "ms" else 400.0
    return analysis.excitability(
        model, I_min=lo, I_max=hi, n_currents=10, refine=1, duration=duration, dt=entry.dt
    )


def describe_point(fp: FixedPoint) -> str:
    """One line: the voltage, the type and the Jacobian's eigenvalues."""
    ev = ", ".join(_complex(z) for z in fp.eigenvalues)
    return f"V = {fp.V:.2f}: {fp.type.value} (eigenvalues {ev})"


def _complex(z: complex) -> str:
    z = complex(z)
    if abs(z.imag) <= 1e-12 * max(1.0, abs(z)):
        return f"{z.real:.4g}"
    sign = "+" if z.imag >= 0 else "-"
    return f"{z.real:.4g} {sign} {abs(z.imag):.4g}i"
