r"""The whole one-parameter bifurcation diagram in one call.

`bifurcation_diagram(model, param, (lo, hi))` assembles what `continuation` and
`continue_cycles` compute one branch at a time:

1. **Every equilibrium branch.** The equilibria at a few parameter values inside the range
   (`fixed_points`, which brackets every root of the voltage-reduced equation) seed the
   branches; each seed not already on a computed branch is continued to one end of the
   range and from there, through the seed and any folds, to the other end. A seed
   belongs to a branch when it is the equilibrium nearest the branch's point at the seed's
   parameter (a branch's points are equilibria, so at that parameter it passes through one of
   the seeds).
2. **Every Hopf-born cycle family.** From each located Hopf point (in order of the
   parameter) the cycles are continued by orthogonal collocation (`continue_cycles`, LPC,
   PD, NS and BPC points located on the way). A family that shrinks back to an equilibrium at
   another Hopf point (Hodgkin-Huxley's from $I = 9.78$ to $154.5$, FitzHugh-Nagumo's
   between its two Hopf points) is not started again from there.
3. The result, a `BifurcationDiagram`, holds the branches, where each family started, and
   the units; `spikejax.plot.bifurcation_diagram` draws it (voltage and period panels).

Failures are not hidden: a branch whose corrector failed keeps its
`BranchStatus.newton_failed`, a family that could not start is an empty `CycleBranch` with
that status and the reason in its message, `diagram.ok` is False, and `throw=True` raises
`ContinuationError` instead.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .._validation import check_finite, require_float64
from ..models._base import NeuronModel
from ..solvers._continuation import BranchStatus, ContinuationError, SpecialPointKind
from ._continuation import Branch, SpecialPoint, SpecialPointLookup, continuation, make_system
from ._equilibria import fixed_points
from ._limit_cycle import CycleBranch, LimitCycle, continue_cycles

__all__ = ["BifurcationDiagram", "bifurcation_diagram"]


@dataclasses.dataclass(frozen=True)
class BifurcationDiagram(SpecialPointLookup):
    """A one-parameter bifurcation diagram: every equilibrium branch and cycle family.

    **Fields:** `param_name`, `bounds` (the parameter range), `equilibria` (a tuple of
    `Branch`), `cycles` (a tuple of `CycleBranch`, one per family; a family that could not
    start has no points and status `newton_failed`), `origins` (for each family, the Hopf
    `SpecialPoint` or the `LimitCycle` it started from), `ends` (for each family, the Hopf
    point where it shrank back to an equilibrium, or None), `state_names`, `voltage_name`,
    and the units `param_unit`, `voltage_unit`, `time_unit` (empty when unknown).
    """

    param_name: str
    bounds: tuple[float, float]
    equilibria: tuple[Branch, ...]
    cycles: tuple[CycleBranch, ...]
    origins: tuple[SpecialPoint | LimitCycle, ...]
    ends: tuple[SpecialPoint | None, ...]
    state_names: tuple[str, ...]
    voltage_name: str
    param_unit: str = ""
    voltage_unit: str = ""
    time_unit: str = ""

    @property
    def ok(self) -> bool:
        """False when any branch or family ended because its corrector failed."""
        return all(b.status != BranchStatus.newton_failed for b in self.branches)

    @property
    def branches(self) -> tuple[Branch | CycleBranch, ...]:
        """The equilibrium branches, then the cycle families."""
        return (*self.equilibria, *self.cycles)

    @property
    def failures(self) -> list[str]:
        """The messages of the branches and families that failed."""
        return [b.message for b in self.branches if b.status == BranchStatus.newton_failed]

    @property  # read-only here, a field of a `Branch` (both serve `SpecialPointLookup`)
    def special_points(self) -> tuple[SpecialPoint, ...]:  # pyright: ignore[reportIncompatibleVariableOverride]
        """Every special point of every branch, sorted by the parameter."""
        pts = [sp for b in self.branches for sp in b.special_points]
        return tuple(sorted(pts, key=lambda sp: sp.param))

    @property
    def cycle_folds(self) -> list[SpecialPoint]:
        """Folds of cycles (`"LPC"`)."""
        return self.points(SpecialPointKind.LPC)

    def summary(self) -> str:
        """A text table of the special points (kind, parameter, voltage, notes)."""
        unit = f" {self.param_unit}" if self.param_unit not in ("", "1") else ""
        lines = [
            f"{len(self.equilibria)} equilibrium branch(es), {len(self.cycles)} cycle "
            f"family(ies) for {self.param_name} in [{self.bounds[0]:g}, {self.bounds[1]:g}]{unit}"
        ]
        for sp in self.special_points:
            v = sp.state.get(self.voltage_name)
            v = float(sp.info.get("v_max", math.nan)) if v is None else float(v)
            note = ""
            if sp.kind == SpecialPointKind.H and sp.criticality:
                note = f" {sp.criticality} (l1 = {sp.l1:.3g})"
            if "period" in sp.info:
                note = f" period {sp.info['period']:.4g}"
            lines.append(
                f"  {str(sp.kind):4s} {self.param_name} = {sp.param:.6g}  "
                f"{self.voltage_name} = {v:.4g}{note}"
            )
        for message in self.failures:
            lines.append(f"  failed: {message}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Equilibrium branches
# ----------------------------------------------------------------------------------------------


def _reverse_index(sp: SpecialPoint, m: int) -> SpecialPoint:
    return dataclasses.replace(sp, index=m - 2 - sp.index)


def _join(back: Branch, fwd: Branch) -> Branch:
    """One branch from two halves continued from the same start, `back` towards the lower end
    of the range and `fwd` towards the upper; the start point appears once."""
    m = len(back)
    r = slice(None, None, -1)
    arc_back = back.arclength[-1] - back.arclength[r]
    failed = [b for b in (back, fwd) if not b.ok]
    status = failed[0].status if failed else fwd.status
    message = f"one end: {back.status} {back.message}; other end: {fwd.status} {fwd.message}"
    return Branch(
        param_name=fwd.param_name,
        state_names=fwd.state_names,
        voltage_name=fwd.voltage_name,
        params=np.concatenate([back.params[r], fwd.params[1:]]),
        states=np.concatenate([back.states[r], fwd.states[1:]]),
        arclength=np.concatenate([arc_back, arc_back[-1] + fwd.arclength[1:]]),
        eigenvalues=np.concatenate([back.eigenvalues[r], fwd.eigenvalues[1:]]),
        stable=np.concatenate([back.stable[r], fwd.stable[1:]]),
        special_points=(
            *(_reverse_index(sp, m) for sp in reversed(back.special_points)),
            *(dataclasses.replace(sp, index=sp.index + m - 1) for sp in fwd.special_points),
        ),
        status=BranchStatus(status),
        message=message,
    )


def _crossings(branch: Branch, p: float) -> list[np.ndarray]:
    """The branch's states where it crosses the parameter value `p` (linear interpolation)."""
    P, X = branch.params, branch.states
    out = []
    for k in range(len(P) - 1):
        a, b = P[k] - p, P[k + 1] - p
        if a * b <= 0 and P[k] != P[k + 1]:
            w = a / (a - b)
            out.append(X[k] + w * (X[k + 1] - X[k]))
        elif a == 0 and b == 0:
            out.append(X[k])
    return out


def _covered(branches: list[Branch], p: float, seeds: list[np.ndarray], scale: np.ndarray):
    """Which of the equilibria `seeds` at parameter `p` the computed branches pass through:
    each crossing of `p` claims the seed nearest it, if it is nearer than half the distance
    from that seed to any other seed."""
    claimed = np.zeros(len(seeds), bool)
    if not seeds:
        return claimed
    S = np.asarray(seeds) / scale
    for br in branches:
        for x in _crossings(br, p):
            d = np.max(np.abs(S - x / scale), axis=1)
            k = int(np.argmin(d))
            others = np.delete(np.max(np.abs(S - S[k]), axis=1), k)
            # (and within a tenth of the states' scale: a crossing far from every seed is an
            # equilibrium `fixed_points` missed, not this seed)
            if d[k] < 0.1 and (others.size == 0 or d[k] < 0.5 * float(np.min(others))):
                claimed[k] = True
    return claimed


def _whole_branch(model, param, p, lo, hi, kw) -> Branch:
    """The branch through the equilibrium `kw["y0"]` at `p`, end to end: continued from the
    seed to one end of the range, then from that end through the seed to the other end (so
    a special point at the seed itself is not lost at a seam); two halves joined where the
    first end is not an end of the range."""
    back = continuation(model, param, p, lo, **kw)
    e = float(back.params[-1])
    at_end = min(abs(e - lo), abs(e - hi)) <= 1e-12 * (hi - lo)
    if back.ok and len(back) > 1 and at_end:
        y_end = dict(zip(back.state_names, back.states[-1].tolist(), strict=True))
        other = hi if abs(e - lo) <= abs(e - hi) else lo
        whole = continuation(model, param, e, other, **{**kw, "y0": y_end})
        if whole.ok:
            return whole
    return _join(back, continuation(model, param, p, hi, **kw))


def _equilibrium_branches(model, param, I, lo, hi, n_seeds, max_steps, throw):
    values = np.linspace(lo, hi, n_seeds + 2)[1:-1]
    seeds = []
    for p in values:
        fps = (
            fixed_points(model, float(p))
            if param == "I"
            else fixed_points(model, I, params={param: float(p)})
        )
        seeds.append([np.asarray(fp.vector, float) for fp in fps])
    allx = [x for s in seeds for x in s]
    if not allx:
        raise ContinuationError(
            f"no equilibrium found at any of {param} = {np.round(values, 6).tolist()}"
        )
    scale = np.max(np.abs(np.asarray(allx)), axis=0) + 1e-3
    branches: list[Branch] = []
    for p, xs in zip(values, seeds, strict=True):
        while True:
            claimed = _covered(branches, float(p), xs, scale)
            free = np.flatnonzero(~claimed)
            if free.size == 0:
                break
            y0 = dict(zip(model.state_names, xs[int(free[0])].tolist(), strict=True))
            kw: dict[str, Any] = dict(y0=y0, bounds=(lo, hi), max_steps=max_steps, throw=throw)
            if param != "I":
                kw["I"] = I
            branches.append(_whole_branch(model, param, float(p), lo, hi, kw))
            if not _covered(branches, float(p), xs, scale)[int(free[0])]:
                break  # cannot happen for a branch through the seed; never loop forever
    return branches


# ----------------------------------------------------------------------------------------------
# Cycle families
# ----------------------------------------------------------------------------------------------


def _failed_family(param: str, message: str) -> CycleBranch:
    e = np.zeros(0)
    return CycleBranch(
        param_name=param,
        params=e,
        periods=e,
        v_min=e,
        v_max=e,
        x0=np.zeros((0, 0)),
        multipliers=np.zeros((0, 0), complex),
        stable=np.zeros(0, bool),
        special_points=(),
        status=BranchStatus.newton_failed,
        message=message,
        cycles=(),
    )


def _same_hopf(a: SpecialPoint, b: SpecialPoint, span: float) -> bool:
    if abs(a.param - b.param) > 1e-6 * (span + abs(a.param)):
        return False
    return all(abs(a.state[k] - b.state[k]) <= 1e-6 * (1 + abs(a.state[k])) for k in a.state)


def _end_hopf(cb: CycleBranch, hopfs: list[SpecialPoint], voltage: str, span: float):
    """The Hopf point where the family shrank back to an equilibrium (None if it did not)."""
    if cb.status != BranchStatus.amplitude_vanished or len(cb) < 2:
        return None
    p_end = float(cb.params[-1])
    amp = cb.v_max - cb.v_min
    v_end = 0.5 * float(cb.v_max[-1] + cb.v_min[-1])
    best, dist = None, math.inf
    for h in hopfs:
        dp = abs(h.param - p_end)
        dv = abs(h.state[voltage] - v_end)
        if dp <= 0.01 * span and dv <= 0.2 * float(np.max(amp)) and dp < dist:
            best, dist = h, dp
    return best


def _cycle_families(
    model, param, I, lo, hi, hopfs, cycle_starts, options, max_period, throw, voltage
):
    span = hi - lo
    families: list[CycleBranch] = []
    origins: list[SpecialPoint | LimitCycle] = []
    ends: list[SpecialPoint | None] = []
    done: list[SpecialPoint] = []
    for h in hopfs:
        if any(_same_hopf(h, d, span) for d in done):
            continue
        done.append(h)
        if not (h.located and h.omega is not None and np.isfinite(h.omega) and h.omega > 0):
            continue
        T_H = 2.0 * math.pi / h.omega
        mp = 50.0 * T_H if max_period is None else max_period
        try:
            cb = continue_cycles(
                model, h, param=param, I=I, bounds=(lo, hi), max_period=mp, **options
            )
        except ContinuationError as err:
            if throw:
                raise
            cb = _failed_family(
                param, f"cycles from the Hopf point at {param}={h.param:.6g}: {err}"
            )
        if throw and cb.status == BranchStatus.newton_failed:
            raise ContinuationError(cb.message)
        end = _end_hopf(cb, [x for x in hopfs if x is not h], voltage, span)
        if end is not None:
            done.append(end)
        families.append(cb)
        origins.append(h)
        ends.append(end)
    for c in cycle_starts:
        if not isinstance(c, LimitCycle):
            raise ValueError(f"cycle_starts must hold LimitCycles, got {type(c).__name__}")
        for direction in (-1, 1):
            mp = 50.0 * c.period if max_period is None else max_period
            try:
                cb = continue_cycles(
                    model,
                    c,
                    param=param,
                    I=I,
                    bounds=(lo, hi),
                    direction=direction,
                    max_period=mp,
                    throw=throw,
                    **options,
                )
            except ContinuationError as err:
                if throw:
                    raise
                cb = _failed_family(param, f"cycles from the cycle at {param}={c.param:.6g}: {err}")
            families.append(cb)
            origins.append(c)
            ends.append(_end_hopf(cb, hopfs, voltage, span))
    return families, origins, ends


def bifurcation_diagram(
    model: NeuronModel,
    param: str = "I",
    bounds: tuple[float, float] = (0.0, 1.0),
    *,
    I: float = 0.0,
    n_seeds: int = 5,
    cycles: bool = True,
    cycle_starts: tuple[LimitCycle, ...] = (),
    max_steps: int = 1000,
    cycle_max_steps: int = 300,
    n_intervals: int = 40,
    degree: int = 4,
    ds: float | None = None,
    ds_max: float | None = None,
    max_period: float | None = None,
    throw: bool = False,
) -> BifurcationDiagram:
    r"""The one-parameter bifurcation diagram of `model` over `bounds`: every equilibrium
    branch and every cycle family born at a Hopf point, with their special points.

    **Arguments:**

    - `model`: a single-cell `NeuronModel`; `param`: `"I"` (the input current) or the name of
      a model field (the current is then `I`); `bounds`: `(lo, hi)`, the parameter range.
    - `n_seeds`: the number of parameter values, evenly spaced inside the range, where all
      equilibria are computed (`fixed_points`) to seed the branches. A branch that exists
      only between two seed values is missed: raise `n_seeds` for narrow ones.
    - `cycles`: continue the cycle families (`False`: equilibria only; hybrid models, whose
      cycles pass through a reset, never get them). `cycle_starts`: further `LimitCycle`s
      (e.g. from `cycle_from_simulation`) whose families are continued both ways, for
      cycles not born at a Hopf point inside the range (a saddle-node on invariant circle).
    - `max_steps`: per half of an equilibrium branch; `cycle_max_steps`, `n_intervals`,
      `degree`, `ds`, `ds_max`: per cycle family (`continue_cycles` with
      `method="collocation"`; `ds` defaults there). `max_period`: end a family where its
      period exceeds this (default: 50 times the period at its Hopf point).
    - `throw`: raise `ContinuationError` at the first failure instead of recording it.

    **Returns:** a `BifurcationDiagram`.

    **Raises:** `ValueError` for bad arguments or float32 (enable float64 with
    `jax.config.update('jax_enable_x64', True)`); `ContinuationError` when no equilibrium is
    found at any seed value, or with `throw=True` at a failure.
    """
    require_float64("spikejax.analysis.bifurcation_diagram")
    if not isinstance(model, NeuronModel):
        raise ValueError(f"model must be a spikejax NeuronModel, got {type(model).__name__}")
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError) as err:
        raise ValueError(f"bounds must be (lo, hi) with lo < hi, got {bounds!r}") from err
    check_finite("bounds", np.array([lo, hi]))
    if not (lo < hi):
        raise ValueError(f"bounds must be (lo, hi) with lo < hi, got {bounds!r}")
    if not (isinstance(n_seeds, int) and n_seeds >= 1):
        raise ValueError(f"n_seeds must be an integer >= 1, got {n_seeds!r}")
    if max_period is not None and not (max_period > 0):
        raise ValueError(f"max_period must be > 0 (None: 50 Hopf periods), got {max_period!r}")
    check_finite("I", I)
    make_system(model, param, I=I)  # a known parameter name and a single cell, or ValueError
    eq = _equilibrium_branches(model, param, I, lo, hi, n_seeds, max_steps, throw)
    hopfs = sorted((h for br in eq for h in br.hopf_points), key=lambda h: h.param)
    families: list[CycleBranch] = []
    origins: list[SpecialPoint | LimitCycle] = []
    ends: list[SpecialPoint | None] = []
    if cycles and not model.is_hybrid:
        options: dict[str, Any] = dict(
            method="collocation",
            n_intervals=n_intervals,
            degree=degree,
            max_steps=cycle_max_steps,
        )
        if ds is not None:
            options["ds"] = ds
        if ds_max is not None:
            options["ds_max"] = ds_max
        families, origins, ends = _cycle_families(
            model,
            param,
            I,
            lo,
            hi,
            hopfs,
            tuple(cycle_starts),
            options,
            max_period,
            throw,
            model.voltage_name,
        )
    return BifurcationDiagram(
        param_name=param,
        bounds=(lo, hi),
        equilibria=tuple(eq),
        cycles=tuple(families),
        origins=tuple(origins),
        ends=tuple(ends),
        state_names=tuple(model.state_names),
        voltage_name=model.voltage_name,
        param_unit=model.current_unit if param == "I" else "",
        voltage_unit=model.voltage_unit,
        time_unit=model.time_unit,
    )
