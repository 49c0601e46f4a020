r"""Periodic orbits by single shooting, their continuation, Floquet multipliers and folds.

A periodic orbit of $\dot x = f(x, p)$ with period $T$ is a zero of the shooting map
$$R(x_0, T, p) = \varphi_T(x_0; p) - x_0,$$
with a phase condition $f(x_\mathrm{ref}, p_\mathrm{ref})\cdot(x_0 - x_\mathrm{ref}) = 0$
(Poincare section through the previous orbit). The flow is integrated with diffrax in scaled
time $\tau = t/T \in [0, 1]$ together with its variational equations
$$\dot\Phi = T\,(f_x \Phi + [0 \mid f_p]), \qquad \Phi(0) = [I \mid 0],$$
so one solve gives the monodromy matrix $M = \partial\varphi_T/\partial x_0$ (Floquet multipliers:
its eigenvalues; one is 1), $\partial\varphi_T/\partial p$ and, from $\partial\varphi_T/\partial T =
f(\varphi_T)$, the whole Newton Jacobian (autodiff of $f$ inside the solve).

Cycles are continued by pseudo-arclength in $(x_0, T, p)$. A fold of cycles (**LPC**) is
where the tangent's $p$-component changes sign (located by regula falsi in arclength). When
the period grows without bound, `diagnose_period_divergence` fits $T \approx C/\sqrt{|p - p_{sn}|}$
(saddle-node on an invariant circle, **SNIC**) against $T \approx -\ln|p - p_{hc}|/\lambda + c$
(saddle homoclinic orbit).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._validation import check_finite, check_positive, require_float64
from ..models._base import NeuronModel
from ..solvers import bordered, newton
from ..solvers._continuation import (
    BranchStatus,
    ContinuationError,
    ContinuationProblem,
    PseudoArclength,
    SpecialPointKind,
    Stop,
    continue_branch,
)
from ._continuation import (
    EquilibriumSystem,
    SpecialPoint,
    _f_and_jac,
    _freeze_inert,
    make_system,
)

__all__ = [
    "CycleBranch",
    "LimitCycle",
    "ShootingProblem",
    "continue_cycles",
    "cycle_from_hopf",
    "cycle_from_simulation",
    "diagnose_period_divergence",
    "find_cycle",
]

_N_SAVE = 401  # samples per orbit for min/max V and plots


@eqx.filter_jit
def _shoot(system, x0, T, p, rtol, atol, max_steps: int = 200_000):
    """Integrate the orbit and its variational equations over one period (scaled time);
    the orbit is sampled at `_N_SAVE` points (its last sample is the end point)."""
    n = x0.shape[0]

    def rhs(tau, z, args):
        x = z[:n]
        Phi = z[n:].reshape(n, n + 1)
        fx = jax.jacfwd(system.f, 0)(x, p)
        fp = jax.jacfwd(system.f, 1)(x, p)
        dPhi = fx @ Phi + jnp.concatenate([jnp.zeros((n, n)), fp[:, None]], axis=1)
        return T * jnp.concatenate([system.f(x, p), dPhi.reshape(-1)])

    z0 = jnp.concatenate([x0, jnp.concatenate([jnp.eye(n), jnp.zeros((n, 1))], 1).reshape(-1)])
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(rhs),
        diffrax.Tsit5(),
        0.0,
        1.0,
        1e-3,
        z0,
        saveat=diffrax.SaveAt(ts=jnp.linspace(0.0, 1.0, _N_SAVE)),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        throw=False,
    )
    if sol.ys is None:  # saveat saves ts: an internal invariant
        raise RuntimeError("diffrax returned no saved states")
    zT = sol.ys[-1]
    xT = zT[:n]
    Phi = zT[n:].reshape(n, n + 1)
    ok = sol.result == diffrax.RESULTS.successful
    return xT, Phi[:, :n], Phi[:, n], system.f(xT, p), jax.vmap(system.full)(sol.ys[:, :n]), ok


# The last shot, so that a corrector's final evaluation also serves the orbit's samples
# (`ShootingProblem.point_data`) without integrating again.
_LAST_SHOT: list = []


@dataclasses.dataclass(frozen=True)
class LimitCycle:
    """A periodic orbit.

    **Fields:** `param` (value of the continuation parameter), `x0` (a point on the orbit, the
    active state variables), `period` (time units), `trajectory` (samples over one period,
    `(401, n_states)`), `v_min`, `v_max` (voltage extremes), `multipliers` (Floquet
    multipliers, the trivial one included), `stable`, `state_names`.
    """

    param: float
    x0: np.ndarray
    period: float
    trajectory: np.ndarray
    v_min: float
    v_max: float
    multipliers: np.ndarray
    stable: bool
    state_names: tuple[str, ...]
    param_name: str = "I"

    @property
    def nontrivial_multipliers(self) -> np.ndarray:
        k = int(np.argmin(np.abs(self.multipliers - 1.0)))
        return np.delete(self.multipliers, k)


@dataclasses.dataclass(frozen=True)
class CycleBranch:
    """A continued family of periodic orbits.

    **Fields:** `param_name`, `params`, `periods`, `v_min`, `v_max` (m,), `x0` (m, n),
    `multipliers` (m, n), `stable` (m,), `special_points` ("LPC" folds of cycles), `status`,
    `message`, `period_divergence` (the `diagnose_period_divergence` result when the period
    grew past `max_period`, else None), `cycles` (the `LimitCycle`s).
    """

    param_name: str
    params: np.ndarray
    periods: np.ndarray
    v_min: np.ndarray
    v_max: np.ndarray
    x0: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    special_points: tuple[SpecialPoint, ...]
    status: BranchStatus
    message: str
    cycles: tuple[LimitCycle, ...]
    period_divergence: dict[str, Any] | None = None

    def __len__(self) -> int:
        return int(self.params.shape[0])

    @property
    def folds(self) -> list[SpecialPoint]:
        return [sp for sp in self.special_points if sp.kind == SpecialPointKind.LPC]


# ----------------------------------------------------------------------------------------------


class ShootingProblem(ContinuationProblem):
    r"""Periodic orbits by single shooting, $u = (x_0, T, p)$, for the shared driver.

    Residual $(\varphi_T(x_0; p) - x_0,\ f_\mathrm{ref}\cdot(x_0 - x_\mathrm{ref}))$ ($n + 1$
    equations); its Jacobian from the variational equations (`_shoot`), not autodiff
    through the integrator. `update` moves the phase reference to the accepted orbit;
    `point_data` is the `LimitCycle`; test function **LPC**: the tangent's $p$-component;
    the branch ends when the period exceeds `max_period` (`period_diverged`) or the
    amplitude falls below 1e-3 of its largest value (`amplitude_vanished`).
    """

    system: EquilibriumSystem
    xref: Array
    fref: Array
    rtol: Array
    atol: Array
    param_name: str = eqx.field(static=True, default="I")
    max_period: float = eqx.field(static=True, default=math.inf)

    @property
    def n(self) -> int:
        return len(self.system.active)

    def shoot(self, u):
        """`(x(T), M, dx(T)/dp, f(x(T)), orbit samples, ok)` for `u = (x0, T, p)`."""
        n = self.n
        u = np.asarray(u, float)
        key = (u.tobytes(), float(self.rtol), float(self.atol))
        if _LAST_SHOT and _LAST_SHOT[0] is self.system and _LAST_SHOT[1] == key:
            return _LAST_SHOT[2]
        out = _shoot(
            self.system,
            jnp.asarray(u[:n], float),
            jnp.asarray(u[n], float),
            jnp.asarray(u[n + 1], float),
            self.rtol,
            self.atol,
        )
        xT, M, dp, fT, traj, ok = (np.asarray(o) for o in out)
        shot = (xT, M, dp, fT, traj, bool(ok))
        _LAST_SHOT[:] = [self.system, key, shot]
        return shot

    def residual(self, u):
        n = self.n
        xT = _shoot(self.system, u[:n], u[n], u[n + 1], self.rtol, self.atol)[0]
        return jnp.concatenate([xT - u[:n], jnp.atleast_1d(self.fref @ (u[:n] - self.xref))])

    def residual_and_jacobian(self, u):
        n = self.n
        u = np.asarray(u, float)
        xT, M, dp, fT, _, ok = self.shoot(u)
        R = np.concatenate([xT - u[:n], [np.asarray(self.fref) @ (u[:n] - np.asarray(self.xref))]])
        if not ok:
            R = np.full(n + 1, np.nan)  # a failed integration: Newton reports non_finite
        J = np.zeros((n + 1, n + 2))
        J[:n, :n] = M - np.eye(n)
        J[:n, n] = fT
        J[:n, n + 1] = dp
        J[n, :n] = np.asarray(self.fref)
        return R, J

    def f(self, x, p):
        return np.asarray(self.system.f(jnp.asarray(x, float), jnp.asarray(p, float)))

    def admissible(self, u):
        return bool(u[self.n] > 0)

    def converged(self, sol) -> bool:
        """A Newton solution of the shooting system is a cycle: converged, positive period,
        $\\|\varphi_T(x_0) - x_0\\|_\\infty < 10^{-6}(1 + \\|x_0\\|_\\infty)$."""
        u = sol.value
        return bool(
            sol.ok
            and self.admissible(u)
            and sol.residual < 1e-6 * (1 + np.max(np.abs(u[: self.n])))
        )

    def update(self, u, jacobian):
        n = self.n
        return dataclasses.replace(
            self, xref=jnp.asarray(u[:n].copy()), fref=jnp.asarray(self.f(u[:n], u[n + 1]))
        )

    def test_functions(self):
        return {"LPC": lambda u, t, J: float(t[-1])}

    def point_data(self, u, jacobian) -> LimitCycle:
        n = self.n
        model = self.system.model
        mult = np.linalg.eigvals(np.asarray(jacobian)[:n, :n] + np.eye(n))
        k = int(np.argmin(np.abs(mult - 1.0)))
        others = np.delete(mult, k)
        stable = bool(np.all(np.abs(others) < 1.0 - 1e-6)) if others.size else True
        full = self.shoot(u)[4]
        v = full[:, model.state_names.index(model.voltage_name)]
        return LimitCycle(
            param=float(u[n + 1]),
            x0=np.asarray(u[:n]).copy(),
            period=float(u[n]),
            trajectory=full,
            v_min=float(v.min()),
            v_max=float(v.max()),
            multipliers=mult,
            stable=stable,
            state_names=tuple(model.state_names),
            param_name=self.param_name,
        )

    def stop_condition(self, u, data, history):
        if u[self.n] > self.max_period:
            return Stop(BranchStatus.period_diverged, f"period {u[self.n]:.4g} exceeded max_period")
        amps = [c.v_max - c.v_min for c in (*history, data)]
        if amps[-1] < 1e-3 * max(amps):
            return Stop(
                BranchStatus.amplitude_vanished, "the cycle shrank to an equilibrium (Hopf)"
            )
        return None

    def locate(self, name, segment):
        """LPC: the zero of the tangent's p-component in arclength (regula falsi)."""
        if name != "LPC":
            return None
        pt = segment.regula_falsi("LPC", xtol=1e-9)
        if not pt.located or pt.jacobian is None:  # a located point has its Jacobian
            return SpecialPoint(SpecialPointKind.LPC, float(pt.u[-1]), {}, pt.index, located=False)
        cyc = self.point_data(pt.u, pt.jacobian)
        state = {nm: float(cyc.trajectory[0][i]) for i, nm in enumerate(cyc.state_names)}
        return SpecialPoint(
            SpecialPointKind.LPC,
            cyc.param,
            state,
            pt.index,
            eigenvalues=cyc.multipliers,
            located=True,
            info={"period": cyc.period, "v_min": cyc.v_min, "v_max": cyc.v_max},
        )


def _shooting_problem(model, system, rtol, atol, xref, fref, param, max_period=math.inf):
    return ShootingProblem(
        system,
        jnp.asarray(xref, float),
        jnp.asarray(fref, float),
        jnp.asarray(rtol, float),
        jnp.asarray(atol, float),
        param,
        float(max_period),
    )


def _fixed_row(size: int, index: int) -> np.ndarray:
    row = np.zeros(size)
    row[index] = 1.0
    return row


def _prepare(model, param, I, x_guess, p):
    system = make_system(model, param, I=I)
    system = _freeze_inert(system, np.asarray(x_guess, float), p)
    return system


def find_cycle(
    model: NeuronModel,
    value: float,
    y0: dict,
    period: float,
    *,
    param: str = "I",
    I: float = 0.0,
    rtol: float = 1e-10,
    atol: float = 1e-10,
    tol: float = 1e-9,
    max_newton: int = 15,
) -> LimitCycle:
    """Periodic orbit at `param = value` by Newton shooting from a guess `(y0, period)`.

    **Raises:** `ContinuationError` when Newton does not converge (no cycle near the guess).
    """
    require_float64("spikejax.analysis.find_cycle")
    check_positive("period", period)
    check_finite("value", value)
    x_full = np.asarray(model.to_vector({**model.resting_state(), **y0}), float).reshape(-1)
    system = _prepare(model, param, I, x_full, value)
    x0 = x_full[np.asarray(system.active)]
    n = x0.size
    f0 = np.asarray(system.f(jnp.asarray(x0), jnp.asarray(value, float)))
    problem = _shooting_problem(model, system, rtol, atol, x0, f0, param)
    sol = newton(
        bordered(problem.residual_and_jacobian, _fixed_row(n + 2, n + 1), float(value)),
        np.concatenate([x0, [period, value]]),
        rtol=tol,
        atol=tol,
        max_steps=max_newton,
    )
    if not problem.converged(sol):
        raise ContinuationError(
            f"no periodic orbit found near the guess (period {period}) at {param}={value}"
        )
    return problem.point_data(sol.value, sol.jacobian[:-1])


@eqx.filter_jit
def _simulate_for_cycle(system, x0, p, t_end, n_save: int):
    def rhs(t, x, args):
        return system.f(x, p)

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(rhs),
        diffrax.Tsit5(),
        0.0,
        t_end,
        0.01,
        x0,
        saveat=diffrax.SaveAt(ts=jnp.linspace(0.0, t_end, n_save)),
        stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-8),
        max_steps=1_000_000,
        throw=False,
    )
    return sol.ys, sol.result == diffrax.RESULTS.successful


def cycle_from_simulation(
    model: NeuronModel,
    value: float,
    *,
    param: str = "I",
    I: float = 0.0,
    y0: dict | None = None,
    duration: float = 500.0,
    n_save: int = 20001,
    **kwargs,
) -> LimitCycle:
    """Periodic orbit at `param = value` started from a simulated one.

    Simulates `duration` time units from `y0` (default: resting state with V raised by 10%
    of its magnitude), takes the last two upward crossings of the voltage mid-level as the
    period guess, and refines it by `find_cycle`. `ContinuationError` if the simulation does
    not oscillate.
    """
    require_float64("spikejax.analysis.cycle_from_simulation")
    check_positive("duration", duration)
    y0 = model.resting_state() if y0 is None else {**model.resting_state(), **y0}
    x_full = np.asarray(model.to_vector(y0), float).reshape(-1)
    system = _prepare(model, param, I, x_full, value)
    n_iv = model.state_names.index(model.voltage_name)
    iv = system.active.index(n_iv)
    x0 = x_full[np.asarray(system.active)]
    ys, ok = _simulate_for_cycle(
        system, jnp.asarray(x0), jnp.asarray(value, float), float(duration), int(n_save)
    )
    ys = np.asarray(ys)
    if not bool(ok) or not np.all(np.isfinite(ys)):
        raise ContinuationError(f"simulation failed at {param}={value}")
    ts = np.linspace(0.0, duration, n_save)
    late = ys[n_save // 2 :]
    v = late[:, iv]
    mid = 0.5 * (v.max() + v.min())
    if v.max() - v.min() < 1e-6 * (1 + abs(mid)):
        raise ContinuationError(f"no oscillation in a simulation at {param}={value}")
    up = np.where((v[:-1] < mid) & (v[1:] >= mid))[0]
    if up.size < 3:
        raise ContinuationError(
            f"fewer than 3 cycles in the second half of a {duration}-long simulation at "
            f"{param}={value}; increase duration"
        )
    i1, i2 = up[-2], up[-1]
    period = float(ts[n_save // 2 + i2] - ts[n_save // 2 + i1])
    xg = late[i2]
    yg = dict(model.from_vector(jnp.asarray(np.asarray(system.full(jnp.asarray(xg))))))
    return find_cycle(model, value, yg, period, param=param, I=I, **kwargs)


def cycle_from_hopf(
    model: NeuronModel,
    hopf: SpecialPoint,
    *,
    param: str = "I",
    I: float = 0.0,
    amplitude: float | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-10,
    tol: float = 1e-9,
    max_newton: int = 15,
    ramp_steps: int = 12,
    ramp_until: float = 0.05,
) -> tuple[LimitCycle, np.ndarray]:
    r"""The small cycle born at a Hopf point, at amplitude `amplitude` along the critical
    eigenvector (default: 0.1% of the state's scale), with its parameter solved for.

    The amplitude is then doubled (at most `ramp_steps` times) until a nontrivial Floquet
    multiplier differs from 1 by `ramp_until`. Returns the last cycle and the unit direction
    (in $(x_0, T, p)$) in which amplitude grows.
    """
    require_float64("spikejax.analysis.cycle_from_hopf")
    if hopf.kind != "H" or hopf.omega is None or not np.isfinite(hopf.omega):
        raise ValueError("hopf must be a located Hopf point (SpecialPoint with kind 'H')")
    at_hopf = {k: jnp.asarray(v) for k, v in hopf.state.items()}
    x_full = np.asarray(model.to_vector({**model.resting_state(), **at_hopf}), float)
    system = _prepare(model, param, I, x_full, hopf.param)
    xs = x_full[np.asarray(system.active)]
    n = xs.size
    _, A, _ = _f_and_jac(system, jnp.asarray(xs), jnp.asarray(hopf.param, float))
    ev, V = np.linalg.eig(np.asarray(A))
    k = int(np.argmin(np.abs(ev - 1j * hopf.omega)))
    q = V[:, k]
    q = q * np.exp(-0.5j * np.angle(q @ q))
    qr, qi = np.real(q) / np.linalg.norm(np.real(q)), np.imag(q)
    qi = qi - (qi @ qr) * qr
    qi = qi / max(np.linalg.norm(qi), 1e-300)
    eps = 1e-3 * (1.0 + np.max(np.abs(xs))) if amplitude is None else float(amplitude)
    check_positive("amplitude", eps)
    T0 = 2 * math.pi / hopf.omega
    # phase: no displacement along Im q (section through the maximum along Re q)
    problem = _shooting_problem(model, system, rtol, atol, xs, qi, param)
    U = np.concatenate([xs + eps * qr, [T0, hopf.param]])
    amp_row = np.concatenate([qr, [0.0, 0.0]])

    # Grow the amplitude geometrically (the shooting Jacobian is nearly singular for tiny
    # cycles: two multipliers near 1) until the cycle's nontrivial multiplier leaves 1 by
    # `ramp_until`; the secant of the last two cycles gives the direction for continuation.
    # Each cycle: Newton on the shooting system bordered by the amplitude q_r.(x0 - xs) = eps.
    history = []
    sol = None
    for _ in range(ramp_steps):
        sol = newton(
            bordered(problem.residual_and_jacobian, amp_row, float(eps + qr @ xs)),
            U,
            rtol=tol,
            atol=tol,
            max_steps=max_newton,
        )
        if not problem.converged(sol):
            if history:
                break
            raise ContinuationError(
                f"no small cycle found near the Hopf point at {param}={hopf.param}"
            )
        U, J = sol.value, sol.jacobian[:-1]
        history.append((U.copy(), J))
        mult = np.linalg.eigvals(J[:n, :n] + np.eye(n))
        rest = np.delete(mult, int(np.argmin(np.abs(mult - 1.0))))
        if rest.size == 0 or np.min(np.abs(rest - 1.0)) > ramp_until:
            break
        eps *= 2.0
        if len(history) >= 2:  # linear extrapolation in the amplitude
            U = history[-1][0] + 2.0 * (history[-1][0] - history[-2][0])
        else:
            U = U.copy()
            U[:n] = U[:n] + 0.5 * eps * qr
    U, J = history[-1]
    if len(history) >= 2:
        t = history[-1][0] - history[-2][0]
    else:
        _, _, Vt = np.linalg.svd(J)
        t = Vt[-1] if qr @ Vt[-1][:n] >= 0 else -Vt[-1]
    t = t / np.linalg.norm(t)
    return problem.point_data(U, J), t


def continue_cycles(
    model: NeuronModel,
    start: LimitCycle | SpecialPoint,
    *,
    param: str = "I",
    I: float = 0.0,
    bounds: tuple[float, float],
    ds: float = 0.5,
    ds_min: float = 1e-6,
    ds_max: float = 5.0,
    max_steps: int = 200,
    max_period: float = np.inf,
    direction: int = 1,
    rtol: float = 1e-10,
    atol: float = 1e-10,
    tol: float = 1e-9,
    max_newton: int = 8,
    locate_folds: bool = True,
    fold_params: tuple[float, ...] = (),
    throw: bool = False,
    method: str = "collocation",
    n_intervals: int = 40,
    degree: int = 4,
) -> CycleBranch:
    r"""Continue periodic orbits by pseudo-arclength in $(x_0, T, p)$.

    **Arguments:**

    - `start`: a `LimitCycle` (e.g. from `cycle_from_simulation`) or a Hopf `SpecialPoint`
      (the branch then starts with growing amplitude).
    - `bounds`: the parameter interval; the branch stops when it leaves it.
    - `ds`, `ds_min`, `ds_max`, `max_steps`: arclength steps and their number. The steps are
      measured in the norm of one orbit point, the period and the parameter, $(x_0, T, p)$:
      shooting's unknowns; collocation, whose unknowns are the orbit's $N m$ nodes, takes them
      times $\sqrt{N m}$ (about the same change of the orbit per step).
    - `max_period`: stop when the period exceeds it (approach to SNIC or homoclinic orbit;
      `period_divergence` then holds the diagnosis, using `fold_params`, the fold points of
      the equilibria).
    - `direction`: +1 / -1, the sense along the branch (from a cycle: sign of the initial
      $dp$; from a Hopf point: ignored, amplitude grows).
    - `throw`: raise `ContinuationError` when the corrector fails (else
      `status=BranchStatus.newton_failed`).
    - `method`: `"collocation"` (default) hands the options to `continue_cycles_collocation`
      (`rtol`, `atol` unused; `n_intervals`, `degree`: its mesh): it follows strongly unstable
      orbits that single shooting cannot (Hodgkin-Huxley's, multipliers up to $10^9$) and
      also locates PD, NS and BPC points. `"shooting"`: single shooting (`ShootingProblem`;
      `n_intervals`, `degree` unused), LPC points only.

    A `CollocationProblem` or a `ShootingProblem` on the shared driver
    (`spikejax.solvers.continue_branch`); the phase reference moves to each accepted orbit.

    **Returns:** a `CycleBranch` with its special points located in arclength (regula
    falsi); with `period_divergence` when the period passed `max_period`.

    **Raises:** `ValueError` for bad arguments or float32 (enable float64 with
    `jax.config.update('jax_enable_x64', True)`); `ContinuationError` when the start is not
    a cycle (or the start cycle cannot be integrated), or with `throw=True`.
    """
    require_float64("spikejax.analysis.continue_cycles")
    if not isinstance(start, SpecialPoint | LimitCycle):
        raise ValueError(
            "start must be a LimitCycle or a Hopf SpecialPoint (collocation also takes a PD "
            f"point), got {type(start).__name__}"
        )
    if method not in ("shooting", "collocation"):
        raise ValueError(f"method must be 'collocation' or 'shooting', got {method!r}")
    lo, hi = _check_cycle_options(start, param, bounds, ds, ds_min, ds_max, direction, max_period)
    if method == "collocation":
        from ._collocation import continue_cycles_collocation

        if not (isinstance(n_intervals, int) and n_intervals >= 4):
            raise ValueError(f"n_intervals must be an integer >= 4, got {n_intervals!r}")
        if not (isinstance(degree, int) and 2 <= degree <= 7):
            raise ValueError(f"degree must be an integer from 2 to 7, got {degree!r}")
        nodes = math.sqrt(n_intervals * degree)
        cb = continue_cycles_collocation(
            model,
            start,
            param=param,
            I=I,
            bounds=bounds,
            n_intervals=n_intervals,
            degree=degree,
            ds=ds * nodes,
            ds_min=ds_min * nodes,
            ds_max=ds_max * nodes,
            max_steps=max_steps,
            max_period=max_period,
            direction=direction,
            tol=tol,
            max_newton=max_newton,
            locate=locate_folds,
            throw=throw,
        )
        if cb.status == BranchStatus.period_diverged:
            diag = diagnose_period_divergence(cb.params, cb.periods, fold_params=fold_params)
            cb = dataclasses.replace(cb, period_divergence=diag)
        return cb
    # `orient`: the first step's direction, the unit vector in which the amplitude grows from
    # a Hopf point, the sign of the initial dp from a cycle.
    orient: float | np.ndarray
    if isinstance(start, SpecialPoint):
        cyc, orient = cycle_from_hopf(model, start, param=param, I=I, rtol=rtol, atol=atol, tol=tol)
    else:
        cyc, orient = start, float(direction)
    full0 = cyc.trajectory[0]
    system = _prepare(model, param, I, full0, cyc.param)
    U = np.concatenate([cyc.x0, [cyc.period, cyc.param]])
    n = cyc.x0.size
    f0 = np.asarray(system.f(jnp.asarray(U[:n]), jnp.asarray(U[n + 1])))
    problem = _shooting_problem(model, system, rtol, atol, U[:n], f0, param, max_period)
    if not np.all(np.isfinite(problem.residual_and_jacobian(U)[0])):
        raise ContinuationError("the start cycle could not be integrated")
    algorithm = _cycle_algorithm(ds, ds_min, ds_max, max_newton, tol, 4, 7)
    result = continue_branch(
        problem,
        U,
        algorithm,
        direction=orient,
        bounds=(lo, hi),
        max_steps=max_steps,
        locate=locate_folds,
        throw=throw,
        param_name=param,
    )
    P = np.array([c.param for c in result.data])
    T = np.array([c.period for c in result.data])
    diag = None
    if result.status == BranchStatus.period_diverged:
        diag = diagnose_period_divergence(P, T, fold_params=fold_params)
    return _cycle_branch(param, result, result.special_points, diag)


def _check_cycle_options(start, param, bounds, ds, ds_min, ds_max, direction, max_period):
    """The options common to shooting and collocation continuation; returns `(lo, hi)`."""
    lo, hi = float(bounds[0]), float(bounds[1])
    if not (lo < hi):
        raise ValueError(f"bounds must be (lo, hi) with lo < hi, got {bounds!r}")
    for name, val in (("ds", ds), ("ds_min", ds_min), ("ds_max", ds_max)):
        check_positive(name, val)
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    if not (max_period > 0):
        raise ValueError(f"max_period must be > 0 (np.inf: no limit), got {max_period!r}")
    if isinstance(start, SpecialPoint | LimitCycle) and not (lo <= float(start.param) <= hi):
        raise ValueError(
            f"the start's {param} = {float(start.param)!r} is outside bounds=({lo}, {hi})"
        )
    return lo, hi


def _cycle_algorithm(ds, ds_min, ds_max, max_newton, tol, fast, slow) -> PseudoArclength:
    return PseudoArclength(
        ds=ds,
        ds_min=ds_min,
        ds_max=max(ds_max, ds),
        max_newton=max_newton,
        rtol=tol,
        atol=tol,
        grow=1.5,
        fast_newton=fast,
        slow_newton=slow,
    )


def _cycle_branch(param, result, specials, diag=None) -> CycleBranch:
    """The `CycleBranch` view of a `ContinuationResult` whose point data are `LimitCycle`s."""
    cycles = result.data
    return CycleBranch(
        param_name=param,
        params=np.array([c.param for c in cycles]),
        periods=np.array([c.period for c in cycles]),
        v_min=np.array([c.v_min for c in cycles]),
        v_max=np.array([c.v_max for c in cycles]),
        x0=np.array([c.x0 for c in cycles]),
        multipliers=np.array([c.multipliers for c in cycles]),
        stable=np.array([c.stable for c in cycles]),
        special_points=tuple(specials),
        status=result.status,
        message=result.message,
        cycles=tuple(cycles),
        period_divergence=diag,
    )


def diagnose_period_divergence(
    params, periods, *, fold_params=(), n_fit: int = 6, sqrt_tol: float = 0.05
) -> dict[str, Any]:
    r"""Tell a SNIC from a saddle homoclinic orbit by how the period diverges.

    Fits, over the last `n_fit` points, (a) $T^{-2} = (p - p_\ast)/C^2$, linear in $p$
    (SNIC: $T \approx C/\sqrt{|p - p_{sn}|}$), and (b) $e^{-\lambda T}$ linear in $p$ for the best
    $\lambda$ (homoclinic: $T \approx -\ln|p - p_{hc}|/\lambda$; one more free parameter, so it
    is not preferred on fit error alone). The kind is "SNIC" when the square-root law fits
    (relative rms residual below `sqrt_tol`) and its extrapolated $p_\ast$ lies within 1% of
    the span of the fit (or 1e-3 absolute) of a fold of equilibria in `fold_params` (the fold
    lies on the cycle); otherwise "homoclinic" when the logarithmic law fits better, else
    "unknown".
    """
    P = np.asarray(params, float)[-n_fit:]
    T = np.asarray(periods, float)[-n_fit:]
    if P.size < 4:
        return {"kind": "unknown", "reason": "too few points"}

    def linfit(x, y):
        A = np.vstack([x, np.ones_like(x)]).T
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        r = y - A @ coef
        return coef, float(np.sqrt(np.mean(r**2)) / (np.ptp(y) + 1e-300))

    (a, b), err_sqrt = linfit(P, T**-2.0)
    p_sn = -b / a if a != 0 else float("nan")
    C = 1.0 / math.sqrt(abs(a)) if a != 0 else float("nan")
    best = (np.inf, float("nan"), float("nan"))
    for lam in np.geomspace(1e-3, 10.0, 200) / max(np.median(T), 1e-12) * 10:
        y = np.exp(-lam * (T - T.min()))
        (a2, b2), err = linfit(P, y)
        if err < best[0]:
            best = (err, lam, -b2 / a2 if a2 != 0 else float("nan"))
    err_log, lam, p_hc = best
    span = float(np.ptp(P)) + 1e-300
    near_fold = [fp for fp in fold_params if abs(fp - p_sn) <= max(1e-3, 0.01 * abs(span) + 1e-3)]
    if near_fold and err_sqrt < sqrt_tol:
        kind = "SNIC"
    elif err_log < err_sqrt:
        kind = "homoclinic"
    else:
        kind = "unknown"
    return {
        "kind": kind,
        "p_sn": float(p_sn),
        "C": float(C),
        "sqrt_fit_error": err_sqrt,
        "p_hc": float(p_hc),
        "lambda": float(lam),
        "log_fit_error": err_log,
        "fold_params": tuple(float(f) for f in fold_params),
    }
