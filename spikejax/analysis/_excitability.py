r"""Excitability: Hodgkin's classes, integrators versus resonators, onset bifurcations, and
classification of many parameter variants in one vmapped call.

* **Hodgkin's class** (Hodgkin 1948; Izhikevich 2007, ch. 1 and 7): class 1, the F-I curve is
  continuous and firing starts at arbitrarily low rates; class 2, firing starts at a non-zero
  rate (discontinuous F-I); class 3, a single spike for constant input (no repetitive firing).
* **Integrator / resonator**: the leading eigenvalues of the resting state are real (integrator,
  no subthreshold oscillations) or a complex pair (resonator, damped oscillations at
  $\omega = \mathrm{Im}\,\lambda$). The onset bifurcation agrees in the textbook cases:
  saddle-node (on or off an invariant circle) for integrators, Andronov-Hopf for resonators.

Precision: `excitability` and `classify_variants` (continuation, eigenvalue classification)
need float64 and raise a `ValueError` naming `jax_enable_x64` otherwise; `pulse_response` (and
`fi_curve`, `spike_counts`) simulate, and run in float32 as `simulate` does.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite, check_positive, require_float64
from ..models._base import NeuronModel
from ..solvers._schemes import get_scheme
from ..solvers._step import advance
from ._classify import FixedPointType
from ._continuation import Branch, ContinuationError, SpecialPoint, continuation
from ._fi_curve import FICurve, equilibrium_newton, fi_curve, spike_counts

__all__ = [
    "ExcitabilityReport",
    "VariantClassification",
    "classify_variants",
    "excitability",
    "pulse_response",
]

_TYPES = list(FixedPointType)


@dataclasses.dataclass(frozen=True)
class ExcitabilityReport:
    """What `excitability` found, with the evidence for each answer.

    **Fields:** `hodgkin_class` (1, 2, 3 or None when no spike in the range), `kind`
    ("integrator" / "resonator"), `onset_bifurcation` (text), `onset_point` (the `SpecialPoint`
    where rest loses stability, or None), `rheobase` (smallest step current from rest that
    evokes a spike), `firing_onset` (smallest current with sustained firing, from the firing
    state), `onset_rate`, `max_rate` (F-I rates there and at `I_max`), `rest_eigenvalues`,
    `branch`, `fi`, `evidence` (a short sentence per answer).
    """

    hodgkin_class: int | None
    kind: str
    onset_bifurcation: str
    onset_point: SpecialPoint | None
    rheobase: float | None
    firing_onset: float | None
    onset_rate: float | None
    max_rate: float | None
    rest_eigenvalues: np.ndarray
    branch: Branch | None
    fi: FICurve
    evidence: dict[str, str]


_Rates = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _both_ways(fi: FICurve) -> _Rates:
    """`(rate_up, rate_down, count_up, count_down)` of an F-I curve computed both ways."""
    if fi.rate_up is None or fi.rate_down is None or fi.count_up is None or fi.count_down is None:
        raise ValueError("the F-I curve was not computed with direction='both'")
    return fi.rate_up, fi.rate_down, fi.count_up, fi.count_down


def _first_firing(currents, counts, min_count=2):
    idx = np.where(np.asarray(counts) >= min_count)[0]
    return None if idx.size == 0 else int(idx[0])


def excitability(
    model: NeuronModel,
    *,
    I_max: float,
    I_min: float = 0.0,
    n_currents: int = 16,
    refine: int = 2,
    duration: float = 1000.0,
    dt: float = 0.05,
    transient: float | None = None,
    method: str = "auto",
    y0: dict | None = None,
    class1_fraction: float = 0.5,
) -> ExcitabilityReport:
    r"""Classify the excitability of `model` for constant currents in `[I_min, I_max]`.

    Steps: (1) continue the resting equilibrium from `I_min` to `I_max` (stability, LP / H / TH
    points, $\ell_1$); (2) the eigenvalues at rest decide integrator (real leading eigenvalue) or
    resonator (complex pair); (3) F-I curves from rest and from the firing state (vmapped
    simulations of `duration`, step `dt`), refined `refine` times around the lowest firing
    current; (4) class 1 if the rate there is below `class1_fraction` of the rate at the first
    firing current of the coarse grid (refining towards the onset lowers the rate: it goes to
    zero) or if $f^2$, extrapolated linearly through those two points (square-root law of a
    SNIC), reaches zero within one refined step below the onset; class 2 if neither (the rate
    stays finite), class 3 if the model never fires repetitively
    but a step from rest evokes a spike; (5) the rheobase: the smallest step from rest that
    evokes a spike (same refinement).
    """
    require_float64("spikejax.analysis.excitability")
    check_finite("I_min", I_min)
    check_finite("I_max", I_max)
    if not (I_max > I_min):
        raise ValueError(f"I_max must be > I_min, got I_min={I_min}, I_max={I_max}")
    if not (isinstance(n_currents, int) and n_currents >= 3):
        raise ValueError(f"n_currents must be an integer >= 3, got {n_currents!r}")
    check_positive("class1_fraction", class1_fraction)
    evidence: dict[str, str] = {}

    # (1) the resting branch
    branch: Branch | None
    try:
        branch = continuation(model, "I", I_min, I_max, y0)
    except ContinuationError as err:
        branch = None
        evidence["branch"] = f"no resting equilibrium at I={I_min}: {err}"
    onset_point = None
    if branch is not None:
        evidence["branch"] = f"continuation status {branch.status}: {branch.message}"
        stable_run = np.where(~branch.stable)[0]
        for sp in branch.special_points:
            if sp.kind in ("LP", "H", "TH"):
                onset_point = sp
                break
        if onset_point is None and stable_run.size:
            evidence["onset"] = "rest is unstable within the range but no special point located"

    # (2) integrator or resonator: the leading eigenvalue of rest, at I_min and at the last
    # stable point before the onset (near threshold, where the distinction matters)
    if branch is not None:
        ev = branch.eigenvalues[0]
        k_last = 0
        if onset_point is not None:
            k_last = onset_point.index
            while k_last > 0 and not branch.stable[k_last]:
                k_last -= 1
        ev_near = branch.eigenvalues[k_last]
        I_near = float(branch.params[k_last])
    else:
        x0 = model.to_vector(model.resting_state() if y0 is None else y0).reshape(-1)
        x, _ = equilibrium_newton(model, x0, I_min)
        ev = np.linalg.eigvals(
            np.asarray(jax.jacfwd(lambda z: model.vector_field_array(0.0, z, I_min))(x))
        )
        ev_near, I_near = ev, I_min

    def leading(e):
        e = np.asarray(e)
        e = e[np.abs(e) > 1e-12] if np.any(np.abs(e) > 1e-12) else e
        return e[np.argmax(np.real(e))]

    ev = np.asarray(ev)
    lead0, lead1 = leading(ev), leading(ev_near)
    resonator = bool(abs(lead1.imag) > 1e-9 * (1 + abs(lead1)))
    kind = "resonator" if resonator else "integrator"
    evidence["kind"] = (
        f"leading eigenvalue of rest is {lead0:.4g} at I={I_min} and {lead1:.4g} at "
        f"I={I_near:.6g} (last stable point before the onset): "
        + (
            f"a complex pair, damped oscillations at {abs(lead1.imag) / (2 * np.pi):.4g} "
            f"cycles per {model.time_unit}"
            if resonator
            else "real, no subthreshold oscillation"
        )
    )

    # (3) F-I curves, refined around the lowest firing current (from the firing state)
    def fi_both_ways(currents: np.ndarray) -> tuple[FICurve, _Rates]:
        curve = fi_curve(
            model,
            currents,
            direction="both",
            duration=duration,
            dt=dt,
            transient=transient,
            method=method,
            y0=y0,
        )
        return curve, _both_ways(curve)

    grid = np.linspace(I_min, I_max, n_currents)
    fi, (rate_up, rate_down, count_up, count_down) = fi_both_ways(grid)
    max_rate = float(rate_down[-1])
    i_f = _first_firing(grid, count_down)
    firing_onset = onset_rate = None
    # (current, rate) at the first firing current of the coarse grid, and the refined
    # (firing onset, rate there, last silent current)
    coarse: tuple[float, float] | None = None
    onset: tuple[float, float, float] | None = None
    cur_list, up_list, down_list = [fi.currents], [rate_up], [rate_down]
    cu_list, cd_list = [count_up], [count_down]
    if i_f is not None:
        coarse = (float(grid[i_f]), float(rate_down[i_f]))
        lo_I = grid[i_f - 1] if i_f > 0 else grid[0]
        hi_I = grid[i_f]
        for _ in range(refine if i_f > 0 else 0):
            sub = np.linspace(lo_I, hi_I, n_currents)[:-1]
            above = grid[grid >= hi_I]  # the sweep comes down through these (firing)
            nsub = sub.size
            fr, (r_up, r_down, c_up, c_down) = fi_both_ways(np.concatenate([sub, above]))
            cur_list.append(fr.currents[:nsub])
            up_list.append(r_up[:nsub])
            down_list.append(r_down[:nsub])
            cu_list.append(c_up[:nsub])
            cd_list.append(c_down[:nsub])
            j = _first_firing(sub, c_down[:nsub])
            if j is None:
                break
            lo_I, hi_I = (sub[j - 1] if j > 0 else sub[0]), sub[j]
        firing_onset = float(hi_I)
        last_silent = float(lo_I)
        allI = np.concatenate(cur_list)
        order = np.argsort(allI)
        allI = allI[order]
        rd = np.concatenate(down_list)[order]
        onset_rate = float(rd[np.searchsorted(allI, firing_onset)])
        onset = (firing_onset, onset_rate, last_silent)
        fi = FICurve(
            allI,
            np.concatenate(up_list)[order],
            rd,
            np.concatenate(cu_list)[order],
            np.concatenate(cd_list)[order],
            fi.unit,
            fi.info,
        )

    # (4) Hodgkin's class
    if coarse is not None and onset is not None:
        coarse_I, coarse_rate = coarse
        firing_onset, onset_rate, last_silent = onset
        ratio = onset_rate / coarse_rate if coarse_rate > 0 else np.inf
        # square-root law (SNIC): f^2 linear in I; extrapolate f^2 through the two firing
        # points to zero and compare with the last silent current
        I_zero = -np.inf
        if coarse_I > firing_onset and coarse_rate > onset_rate:
            I_zero = firing_onset - onset_rate**2 * (coarse_I - firing_onset) / (
                coarse_rate**2 - onset_rate**2
            )
        sqrt_law = I_zero >= last_silent - (firing_onset - last_silent)
        hclass = 1 if (ratio < class1_fraction or sqrt_law or onset_rate == 0) else 2
        evidence["class"] = (
            f"sustained firing from I={firing_onset:.6g} at {onset_rate:.4g} {fi.unit}, "
            f"{ratio:.3g} of the rate {coarse_rate:.4g} {fi.unit} at I={coarse_I:.6g} "
            f"(rate at I_max={I_max}: {max_rate:.4g} {fi.unit}); f^2 extrapolates to 0 at "
            f"I={I_zero:.6g}, last silent current {last_silent:.6g}: "
            + (
                "rates fall towards zero (continuous F-I)"
                if hclass == 1
                else "firing starts at a non-zero rate (discontinuous F-I)"
            )
        )
    else:
        rest = model.resting_state() if y0 is None else {**model.resting_state(), **y0}
        single = spike_counts(model, [I_max], rest, duration=duration, dt=dt, method=method)
        if single["count"][0] >= 1:
            hclass = 3
            evidence["class"] = (
                f"no sustained firing up to I_max={I_max}, but a step to I_max from rest evokes "
                f"{int(single['count'][0])} spike(s)"
            )
        else:
            hclass = None
            evidence["class"] = f"no spike for steps up to I_max={I_max}"

    # (5) rheobase: smallest step from rest evoking a spike
    rest = model.resting_state() if y0 is None else {**model.resting_state(), **y0}

    def step_counts(currents: np.ndarray) -> np.ndarray:
        return spike_counts(model, currents, rest, duration=duration, dt=dt, method=method)["count"]

    counts = step_counts(grid)
    j = _first_firing(grid, counts, min_count=1)
    rheobase = None
    if j is not None:
        lo_I, hi_I = (grid[j - 1] if j > 0 else grid[0]), grid[j]
        for _ in range(refine if j > 0 else 0):
            sub = np.linspace(lo_I, hi_I, n_currents)
            c = step_counts(sub)
            k = _first_firing(sub, c, min_count=1)
            if k is None:
                break
            lo_I, hi_I = (sub[k - 1] if k > 0 else sub[0]), sub[k]
        rheobase = float(hi_I)
        evidence["rheobase"] = (
            f"a step from rest to I={rheobase:.6g} evokes a spike, to I={lo_I:.6g} does not"
        )

    # onset bifurcation
    if onset_point is None:
        label = "none found"
    elif onset_point.kind == "LP":
        if hclass == 1:
            label = "saddle-node on invariant circle (SNIC)"
        else:
            label = "saddle-node off invariant circle"
    elif onset_point.kind == "H":
        crit = onset_point.criticality
        label = f"{crit} Andronov-Hopf" if crit else "Andronov-Hopf"
    else:
        label = "threshold crossing (equilibrium reaches the spike threshold)"
    if onset_point is not None:
        extra = ""
        if onset_point.kind == "H":
            extra = f", omega={onset_point.omega:.4g}, l1={onset_point.l1}"
        evidence["onset"] = f"rest loses stability at a {onset_point.kind} point at " + (
            f"I={onset_point.param:.6g}{extra}"
        )
    return ExcitabilityReport(
        hodgkin_class=hclass,
        kind=kind,
        onset_bifurcation=label,
        onset_point=onset_point,
        rheobase=rheobase,
        firing_onset=firing_onset,
        onset_rate=onset_rate,
        max_rate=max_rate,
        rest_eigenvalues=ev,
        branch=branch,
        fi=fi,
        evidence=evidence,
    )


# ----------------------------------------------------------------------------------------------
# Pulse demonstrations
# ----------------------------------------------------------------------------------------------


@eqx.filter_jit
def _pulse_counts(
    model,
    scheme,
    y0,
    intervals,
    amplitude,
    width,
    n_pulses: int,
    I_hold,
    dt,
    n_steps: int,
    threshold,
):
    """Spike counts of fixed-step runs (`spikejax.solvers.advance`) under pulse trains, one run
    per inter-pulse interval (vmapped)."""

    def run(interval):
        def body(carry, k):
            y, n = carry
            t = k * dt
            j = jnp.floor(t / interval)
            in_pulse = (j < n_pulses) & (t - j * interval < width)
            I = I_hold + jnp.where(in_pulse, amplitude, 0.0)
            out = advance(model, scheme, t, y, I, dt, threshold=threshold)
            return (out.state, n + (out.spikes > 0.5).astype(jnp.int32)), None

        (_, n), _ = jax.lax.scan(body, (y0, jnp.asarray(0, jnp.int32)), jnp.arange(n_steps))
        return n

    return jax.vmap(run)(intervals)


def pulse_response(
    model: NeuronModel,
    intervals,
    *,
    amplitude: float,
    width: float,
    n_pulses: int = 3,
    I_hold: float = 0.0,
    t_after: float = 50.0,
    dt: float = 0.01,
    method: str = "auto",
    y0: dict | None = None,
) -> np.ndarray:
    """Spike counts for trains of `n_pulses` square pulses (height `amplitude`, `width`) at each
    inter-pulse interval in `intervals`, from the rest state at `I_hold` (vmapped over intervals).

    An integrator fires when pulses come close together (summation); a resonator fires when
    the interval matches its damped-oscillation period $2\\pi/\\omega$ and not for others.
    """
    iv = np.atleast_1d(np.asarray(intervals, float))
    check_positive("intervals", iv)
    check_positive("width", width)
    check_positive("dt", dt)
    check_finite("amplitude", amplitude)
    if not (isinstance(n_pulses, int) and n_pulses >= 1):
        raise ValueError(f"n_pulses must be an integer >= 1, got {n_pulses!r}")
    rest = model.resting_state() if y0 is None else {**model.resting_state(), **y0}
    x0 = model.to_vector(rest).reshape(-1)
    x, ok = equilibrium_newton(model, x0, I_hold)
    if bool(ok):
        rest = model.from_vector(x)
    n_steps = int(np.ceil((iv.max() * n_pulses + width + t_after) / dt))
    counts = _pulse_counts(
        model,
        get_scheme(method, model),
        rest,
        jnp.asarray(iv),
        jnp.asarray(amplitude, float),
        jnp.asarray(width, float),
        n_pulses,
        jnp.asarray(I_hold, float),
        jnp.asarray(dt, float),
        n_steps,
        jnp.asarray(model.spike_detection_threshold, float),
    )
    return np.asarray(counts)


# ----------------------------------------------------------------------------------------------
# Many variants in one call
# ----------------------------------------------------------------------------------------------


def _classify_codes(ev, rtol=1e-9, atol=1e-12):
    """jnp version of `classify`: index into `list(FixedPointType)`."""
    tol = atol + rtol * jnp.max(jnp.abs(ev))
    re, im = jnp.real(ev), jnp.imag(ev)
    nonhyp = jnp.any(jnp.abs(re) <= tol)
    n_unst = jnp.sum(re > 0)
    cplx = jnp.any(jnp.abs(im) > tol)
    n = ev.shape[0]
    idx = {t: _TYPES.index(t) for t in _TYPES}
    stable = jnp.where(cplx, idx[FixedPointType.STABLE_FOCUS], idx[FixedPointType.STABLE_NODE])
    unstable = jnp.where(
        cplx, idx[FixedPointType.UNSTABLE_FOCUS], idx[FixedPointType.UNSTABLE_NODE]
    )
    saddle = jnp.where(cplx, idx[FixedPointType.SADDLE_FOCUS], idx[FixedPointType.SADDLE])
    code = jnp.where(n_unst == 0, stable, jnp.where(n_unst == n, unstable, saddle))
    return jnp.where(nonhyp, idx[FixedPointType.NON_HYPERBOLIC], code)


@dataclasses.dataclass(frozen=True)
class VariantClassification:
    """Per-variant results of `classify_variants` (leading axis: variants).

    `states` (N, n_states), `eigenvalues` (N, n_states), `codes` (N,) indices into
    `list(FixedPointType)` (`types` gives the enums), `converged` (N,), `resonator` (N,),
    and, when `currents` were given, `onset_current` (N,: first current at which rest is
    unstable, linearly interpolated in max Re lambda; NaN if none) and `onset_kind`
    (N,: "H" when a complex pair crosses, "LP" when a real eigenvalue does or the branch ends).
    """

    states: np.ndarray
    eigenvalues: np.ndarray
    codes: np.ndarray
    converged: np.ndarray
    resonator: np.ndarray
    onset_current: np.ndarray | None = None
    onset_kind: np.ndarray | None = None

    @property
    def types(self) -> list[FixedPointType]:
        return [_TYPES[int(c)] for c in self.codes]


def _split_variants(model):
    shape = model.shape
    N = int(np.prod(shape)) if shape else 1
    params = {
        k: jnp.broadcast_to(jnp.asarray(v, float), shape).reshape(N)
        for k, v in model.parameters().items()
    }
    return model.replace(**params), N, shape


@eqx.filter_jit
def _variants_kernel(model_b, x0, I, currents, n_iter: int):
    def one(m):
        def jac(x, Ik):
            return jax.jacfwd(lambda z: m.vector_field_array(0.0, z, Ik))(x)

        x, ok = equilibrium_newton(m, x0, I, n_iter=n_iter)
        ev = jnp.linalg.eigvals(jac(x, I))
        code = _classify_codes(ev)
        if currents is None:
            return x, ev, code, ok, None, None

        def step(xprev, Ik):
            xk, okk = equilibrium_newton(m, xprev, Ik, n_iter=12)
            evk = jnp.linalg.eigvals(jac(xk, Ik))
            k = jnp.argmax(jnp.real(evk))
            return xk, (jnp.where(okk, jnp.real(evk[k]), jnp.inf), jnp.abs(jnp.imag(evk[k])))

        _, (lead_re, lead_im) = jax.lax.scan(step, x, currents)
        return x, ev, code, ok, lead_re, lead_im

    return jax.vmap(one)(model_b)


def classify_variants(
    model: NeuronModel,
    I: float = 0.0,
    y0: dict | None = None,
    *,
    currents=None,
    n_iter: int = 60,
) -> VariantClassification:
    r"""Equilibrium, eigenvalues and type for every variant of a population model, in one
    jitted, vmapped call (fixed-size arrays, fixed Newton iteration counts).

    `model` has array fields (e.g. `HodgkinHuxley(gK=36 * scales)`); each element is one
    variant. With `currents` (increasing 1-d grid) each variant's resting branch is also
    followed over the grid (natural-parameter continuation, warm-started Newton) and the
    current where rest first becomes unstable is reported, with the kind of crossing.
    """
    require_float64("spikejax.analysis.classify_variants")
    check_finite("I", I)
    model_b, N, shape = _split_variants(model)
    proto = model.replace(
        **{k: jnp.asarray(v, float).reshape(-1)[0] for k, v in model_b.parameters().items()}
    )
    rest = proto.resting_state() if y0 is None else {**proto.resting_state(), **y0}
    x0 = proto.to_vector(rest).reshape(-1)
    cur = None
    if currents is not None:
        cur = jnp.asarray(np.atleast_1d(np.asarray(currents, float)))
        check_finite("currents", cur)
        if cur.ndim != 1 or cur.shape[0] < 2 or not np.all(np.diff(np.asarray(cur)) > 0):
            raise ValueError("currents must be an increasing 1-d grid of at least 2 values")
    x, ev, code, ok, lead_re, lead_im = _variants_kernel(
        model_b, x0, jnp.asarray(I, float), cur, n_iter
    )
    ev = np.asarray(ev)
    lead = ev[np.arange(ev.shape[0]), np.argmax(np.real(ev), axis=1)]
    resonator = np.abs(np.imag(lead)) > 1e-9 * (1 + np.abs(lead))
    onset = kinds = None
    if cur is not None:
        lr, li = np.asarray(lead_re), np.asarray(lead_im)
        c = np.asarray(cur)
        onset = np.full(N, np.nan)
        kinds = np.full(N, "", dtype=object)
        for i in range(N):
            k = np.where(lr[i] > 0)[0]
            if k.size == 0 or k[0] == 0:
                continue
            k = int(k[0])
            a, b = lr[i, k - 1], lr[i, k]
            if np.isfinite(b):
                onset[i] = c[k - 1] + (c[k] - c[k - 1]) * (-a) / (b - a)
                kinds[i] = "H" if li[i, k] > 1e-9 else "LP"
            else:
                onset[i] = c[k]
                kinds[i] = "LP"
        onset = onset.reshape(shape)
        kinds = kinds.reshape(shape)
    return VariantClassification(
        states=np.asarray(x).reshape(*shape, -1),
        eigenvalues=ev.reshape(*shape, -1),
        codes=np.asarray(code).reshape(shape),
        converged=np.asarray(ok).reshape(shape),
        resonator=resonator.reshape(shape),
        onset_current=onset,
        onset_kind=kinds,
    )
