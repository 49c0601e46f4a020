r"""Frequency-current (F-I) curves by simulation, vmapped over the currents.

Each current gets its own fixed-step simulation (`lax.scan`, nothing recorded: the scan only
counts spikes after a transient and keeps the first and last spike times), all currents in one
`vmap`. The rate is $(n - 1)/(t_\mathrm{last} - t_\mathrm{first})$ for $n \ge 2$ spikes after
the transient (the mean inverse interspike interval, exact for periodic firing), else
$n / (\text{duration} - \text{transient})$. Rates are in Hz when the model's time unit is ms,
otherwise in 1/time unit.

`direction="up"` starts each current at the equilibrium of the resting branch at that current
(slightly perturbed), so it shows where rest stops being the attractor; `"down"` sweeps the currents
from the largest down (one run per current, each started from the previous run's final
state, the current ramped from the previous value over the first half of the transient;
sequential, not vmapped), so it follows the firing state and shows where firing stops
being an attractor. With bistability (HH between its fold of cycles and its Hopf point) the
two differ.

Precision: these are simulations and run in float32 or float64; in float32 the equilibrium at
each current is accepted only if its residual is below 1e-8, so "up" runs usually start from
the resting state instead (`info["rest_found"]` says which).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite, check_positive
from ..models._base import NeuronModel
from ..solvers._root import RESULTS
from ..solvers._schemes import AUTO, AbstractScheme, get_scheme
from ..solvers._step import advance
from ._equilibria import equilibrium_solve

__all__ = ["FICurve", "equilibrium_newton", "fi_curve", "fi_from_cycles", "spike_counts"]


def equilibrium_newton(model: NeuronModel, x0, I, *, n_iter: int = 60):
    r"""Equilibrium of `model` at current `I` by Newton's method from `x0` (jit/vmap-safe):
    `equilibrium_solve` with at most `n_iter` steps. Returns `(x, converged)`, `converged`
    meaning the solve succeeded (`RESULTS.successful`) with $\max|f| < 10^{-8}$."""
    sol = equilibrium_solve(model, x0, I, max_steps=n_iter)
    x = sol.value
    res = jnp.max(jnp.abs(model.vector_field_array(0.0, x, I)))
    return x, (sol.result == RESULTS.successful) & jnp.isfinite(res) & (res < 1e-8)


def _spike_scan(model, scheme, y0, I, dt, n_steps: int, n_transient: int, threshold, I_from=None):
    """Count spikes (after `n_transient` steps) in a fixed-step run (`spikejax.solvers.advance`,
    the one fixed step); returns (n, t_first, t_last, final state). With `I_from`, the current
    ramps linearly from `I_from` to `I` over the first half of the transient."""
    n_ramp = max(n_transient // 2, 1)

    def body(carry, k):
        y, n, t_first, t_last = carry
        t = k * dt
        if I_from is None:
            Ik = I
        else:
            Ik = I_from + (I - I_from) * jnp.minimum(1.0, k / n_ramp)
        out = advance(model, scheme, t, y, Ik, dt, threshold=threshold)
        spiked = out.spikes > 0.5
        t_spk = (k + out.offset) * dt
        counted = spiked & (k >= n_transient)
        t_first = jnp.where(counted & (n == 0), t_spk, t_first)
        t_last = jnp.where(counted, t_spk, t_last)
        n = n + counted.astype(n.dtype)
        return (out.state, n, t_first, t_last), None

    init = (y0, jnp.asarray(0, jnp.int32), jnp.asarray(0.0), jnp.asarray(0.0))
    (y, n, t_first, t_last), _ = jax.lax.scan(body, init, jnp.arange(n_steps))
    return n, t_first, t_last, y


@eqx.filter_jit
def _batched_counts(model, scheme, Y0, currents, dt, n_steps, n_transient, threshold):
    def one(y0, I):
        return _spike_scan(model, scheme, y0, I, dt, n_steps, n_transient, threshold)

    return jax.vmap(one)(Y0, currents)


@eqx.filter_jit
def _sweep_counts(model, scheme, y0, currents, dt, n_steps, n_transient, threshold):
    def seg(carry, I):
        y, I_prev = carry
        n, t1, t2, y1 = _spike_scan(
            model, scheme, y, I, dt, n_steps, n_transient, threshold, I_from=I_prev
        )
        return (y1, I), (n, t1, t2)

    _, out = jax.lax.scan(seg, (y0, currents[0]), currents)
    return out


def spike_counts(
    model: NeuronModel,
    currents,
    y0: dict,
    *,
    duration: float,
    dt: float,
    transient: float = 0.0,
    method: str | AbstractScheme = AUTO,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Spike counts and first/last spike times after `transient` for each current in
    `currents` (all in one vmapped scan); `y0` is one state dict or a batch (leading axis =
    currents); `method` as in `fi_curve`. Returns a dict with `count`, `t_first`, `t_last`
    (NumPy arrays) and `final_state` (a state dict of NumPy arrays)."""
    currents = jnp.atleast_1d(jnp.asarray(currents, float))
    check_finite("currents", currents)
    check_positive("duration", duration)
    check_positive("dt", dt)
    if not (0.0 <= transient < duration):
        raise ValueError(f"transient must be in [0, duration={duration}), got {transient}")
    n_steps = int(round(duration / dt))
    n_tr = int(round(transient / dt))
    m = currents.shape[0]
    Y0 = {
        k: jnp.broadcast_to(jnp.asarray(v, float), (m,)) if jnp.ndim(v) == 0 else jnp.asarray(v)
        for k, v in y0.items()
    }
    th = model.spike_detection_threshold if threshold is None else threshold
    n, t1, t2, yf = _batched_counts(
        model,
        get_scheme(method, model, default="rk4"),
        Y0,
        currents,
        jnp.asarray(dt, float),
        n_steps,
        n_tr,
        jnp.asarray(th, float),
    )
    return {
        "count": np.asarray(n),
        "t_first": np.asarray(t1),
        "t_last": np.asarray(t2),
        "final_state": {k: np.asarray(v) for k, v in yf.items()},
    }


def _rates(counts, t_first, t_last, window, time_unit):
    counts = np.asarray(counts)
    span = np.asarray(t_last) - np.asarray(t_first)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(counts >= 2, (counts - 1) / np.where(span > 0, span, np.inf), counts / window)
    return r * (1000.0 if time_unit == "ms" else 1.0)


@dataclasses.dataclass(frozen=True)
class FICurve:
    """An F-I curve. `rate_up` (from rest) and `rate_down` (from firing) are None when not
    computed; `count_up`/`count_down` are the spike counts after the transient; `unit` is
    "Hz" (time in ms) or "1/<time unit>"."""

    currents: np.ndarray
    rate_up: np.ndarray | None
    rate_down: np.ndarray | None
    count_up: np.ndarray | None
    count_down: np.ndarray | None
    unit: str
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def bistable(self) -> np.ndarray:
        """Currents where the rest-started and firing-started runs disagree (firing vs not)."""
        if self.count_up is None or self.count_down is None:
            raise ValueError("bistable needs direction='both'")
        return self.currents[(self.count_up >= 2) != (self.count_down >= 2)]


def rest_states(model: NeuronModel, currents, y0: dict | None = None, *, kick: float = 1e-3):
    """Equilibria of the resting branch at each current (Newton from rest, vmapped), with the
    voltage raised by `kick` (in voltage units) so that unstable equilibria are left; where
    Newton fails (no equilibrium), the resting state itself."""
    y0 = model.resting_state() if y0 is None else {**model.resting_state(), **y0}
    x0 = model.to_vector(y0).reshape(-1)
    currents = jnp.atleast_1d(jnp.asarray(currents, float))
    X, ok = jax.jit(jax.vmap(lambda I: equilibrium_newton(model, x0, I)))(currents)
    X = jnp.where(ok[:, None], X, x0[None, :])
    iv = model.state_names.index(model.voltage_name)
    X = X.at[:, iv].add(kick)
    return {name: X[:, i] for i, name in enumerate(model.state_names)}, np.asarray(ok)


def fi_curve(
    model: NeuronModel,
    currents,
    *,
    duration: float,
    dt: float,
    transient: float | None = None,
    direction: str = "up",
    method: str | AbstractScheme = AUTO,
    y0: dict | None = None,
    kick: float = 1e-3,
    threshold: float | None = None,
) -> FICurve:
    """F-I curve of `model` for constant `currents` by simulation (vmapped).

    **Arguments:** `duration`, `dt` and `transient` (default: half of `duration`) in the model's
    time unit; `direction` "up" (from the resting branch at each current, vmapped), "down"
    (a downward sweep carrying the firing state) or "both"; `method`: the fixed-step scheme,
    `"auto"` (default: the model's `default_scheme`, e.g. the scheme picked for a model
    written as equations; RK4 for a model without a preference, every built-in model),
    `"euler"`, `"rk4"`, `"exponential_euler"`, `"exact"` or a scheme object (the scheme used
    is `info["method"]`); `y0`: initial guess of rest; `kick`: voltage perturbation from the
    equilibrium; `threshold`: spike detection level for continuous models (default
    `model.spike_detection_threshold`).
    """
    if direction not in ("up", "down", "both"):
        raise ValueError(f"direction must be 'up', 'down' or 'both', got {direction!r}")
    currents = np.atleast_1d(np.asarray(currents, float))
    if currents.ndim != 1 or currents.size == 0:
        raise ValueError(f"currents must be a non-empty 1-d array, got shape {currents.shape}")
    check_finite("currents", currents)
    check_positive("duration", duration)
    check_positive("dt", dt)
    transient = 0.5 * duration if transient is None else float(transient)
    window = duration - transient
    if not (window > 0 and transient >= 0):
        raise ValueError(f"transient must be in [0, duration), got {transient}")
    unit = "Hz" if model.time_unit == "ms" else f"1/{model.time_unit}"
    scheme = get_scheme(method, model, default="rk4")
    rate_up = count_up = rate_down = count_down = None
    info: dict[str, Any] = {"method": scheme.name}
    if direction in ("up", "both"):
        Y0, ok = rest_states(model, currents, y0, kick=kick)
        r = spike_counts(
            model,
            currents,
            Y0,
            duration=duration,
            dt=dt,
            transient=transient,
            method=scheme,
            threshold=threshold,
        )
        count_up = r["count"]
        rate_up = _rates(count_up, r["t_first"], r["t_last"], window, model.time_unit)
        info["rest_found"] = ok
    if direction in ("down", "both"):
        # a quasi-static sweep from the largest current down, carrying the state between
        # currents (the firing state is followed as long as it exists)
        order = np.argsort(-currents)
        y_start = model.resting_state() if y0 is None else {**model.resting_state(), **y0}
        th = model.spike_detection_threshold if threshold is None else threshold
        n, t1, t2 = _sweep_counts(
            model,
            scheme,
            {k: jnp.asarray(v, float) for k, v in y_start.items()},
            jnp.asarray(currents[order]),
            jnp.asarray(dt, float),
            int(round(duration / dt)),
            int(round(transient / dt)),
            jnp.asarray(th, float),
        )
        inv = np.argsort(order)
        count_down = np.asarray(n)[inv]
        rate_down = _rates(
            count_down, np.asarray(t1)[inv], np.asarray(t2)[inv], window, model.time_unit
        )
    return FICurve(currents, rate_up, rate_down, count_up, count_down, unit, info)


def fi_from_cycles(cycle_branch, *, stable_only: bool = True, time_unit: str = "ms"):
    """F-I points from continued periodic orbits: `(currents, rates)` with rate $= 1/T$
    (times 1000, i.e. Hz, when the time unit is ms); unstable cycles dropped if `stable_only`."""
    P = np.asarray(cycle_branch.params)
    T = np.asarray(cycle_branch.periods)
    keep = np.asarray(cycle_branch.stable) if stable_only else np.ones(P.shape, bool)
    scale = 1000.0 if time_unit == "ms" else 1.0
    return P[keep], scale / T[keep]
