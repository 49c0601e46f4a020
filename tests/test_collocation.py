"""Periodic orbits by orthogonal collocation: closed-form cycles, Floquet multipliers, PD and NS
points of systems whose multipliers are known exactly, scipy monodromy for Hodgkin-Huxley, bad
starts."""

from typing import ClassVar

import numpy as np
import pytest
from hh_reference import hh_rhs
from scipy.integrate import solve_ivp

import spikejax as sj
from spikejax.analysis import (
    ContinuationError,
    LimitCycle,
    SpecialPoint,
    continuation,
    continue_cycles,
    continue_cycles_collocation,
)
from spikejax.models import NeuronModel, fill, input_current


class StuartLandau(NeuronModel):
    r"""Hopf normal form $\dot z = (\mu + i(\omega + b|z|^2)) z - c|z|^2 z - |z|^4 z$,
    $z = V + i w$: for $\mu > 0$ (c = 1) the cycle $|z|^2 + |z|^4 = \mu$, period
    $2\pi/(\omega + b|z|^2)$; c = 0 makes the Hopf point degenerate ($\ell_1 = 0$)."""

    mu: float = -0.5
    omega: float = 1.0
    b: float = 0.5
    c: float = 1.0
    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, y, args):
        I = input_current(args)
        x, z = y["V"], y["w"]
        r2 = x * x + z * z
        om = self.omega + self.b * r2
        return {
            "V": self.mu * x - om * z - self.c * r2 * x - r2 * r2 * x + I,
            "w": om * x + self.mu * z - self.c * r2 * z - r2 * r2 * z,
        }

    def resting_state(self):
        return {"V": fill(0.0, self.shape), "w": fill(0.0, self.shape)}


class Twist(NeuronModel):
    r"""The cycle $(V, y) = (\cos t, \sin t)$ (period $2\pi$ for every $\mu$) carrying two
    linear bundles with known multipliers: $w$ turns by half a revolution per period in the
    frame $w = R(t/2) s$, $\dot s = \mathrm{diag}(\mu, -1) s$, so its multipliers are
    $-e^{2\pi\mu}$ and $-e^{-2\pi}$ (PD at $\mu = 0$); $(a, b)$ is a focus with eigenvalues
    $\mu - 0.2 \pm i\beta$ (multipliers $e^{2\pi(\mu - 0.2 \pm i\beta)}$: NS at $\mu = 0.2$,
    angle $2\pi\beta$); the radial multiplier is $e^{-4\pi}$."""

    mu: float = -0.1
    beta: float = 0.3
    state_names: ClassVar[tuple[str, ...]] = ("V", "y", "w1", "w2", "a", "b")
    voltage_unit: ClassVar[str] = "1"

    def vector_field(self, t, s, args):
        I = input_current(args)
        x, y, w1, w2, a, b = (s[k] for k in self.state_names)
        r2 = x * x + y * y
        mu, ww, aa, nu = self.mu, w1 * w1 + w2 * w2, a * a + b * b, self.mu - 0.2
        return {
            "V": x - y - r2 * x + I,
            "y": x + y - r2 * y,
            "w1": -0.5 * w2 + 0.5 * (mu - 1) * w1 + 0.5 * (mu + 1) * (x * w1 + y * w2) - ww * w1,
            "w2": 0.5 * w1 + 0.5 * (mu - 1) * w2 + 0.5 * (mu + 1) * (y * w1 - x * w2) - ww * w2,
            "a": nu * a - self.beta * b - aa * a,
            "b": self.beta * a + nu * b - aa * b,
        }

    def resting_state(self):
        return {k: fill(0.0, self.shape) for k in self.state_names}


def _sampled_cycle(traj, period, param, names, param_name):
    """A `LimitCycle` from samples over one period (as a simulation gives)."""
    return LimitCycle(
        param=param,
        x0=traj[0],
        period=period,
        trajectory=traj,
        v_min=float(traj[:, 0].min()),
        v_max=float(traj[:, 0].max()),
        multipliers=np.ones(traj.shape[1]),
        stable=True,
        state_names=names,
        param_name=param_name,
    )


def _twist_start():
    """`Twist`'s cycle (cos t, sin t, 0, 0, 0, 0) sampled at mu = -0.1."""
    tau = np.linspace(0, 1, 401)
    traj = np.zeros((401, 6))
    traj[:, 0], traj[:, 1] = np.cos(2 * np.pi * tau), np.sin(2 * np.pi * tau)
    return _sampled_cycle(traj, 2 * np.pi, -0.1, Twist.state_names, "mu")


def test_stuart_landau_cycles_from_hopf_match_closed_form():
    m = StuartLandau()
    hopf = continuation(m, "mu", -0.5, 0.5).hopf_points[0]
    assert hopf.param == pytest.approx(0.0, abs=1e-12)
    cb = continue_cycles_collocation(
        m, hopf, param="mu", bounds=(-1.0, 0.6), n_intervals=20, ds=0.1, ds_max=0.4
    )
    assert cb.status == "left_bounds" and cb.params[-1] == pytest.approx(0.6)
    # the first cycle is built from the normal form (l1 = -2 here) at 1% amplitude: its mu is
    # amplitude^2 to first order, and the branch grows from it
    assert 0 < cb.params[0] < 1e-3 and np.all(np.diff(cb.params) > 0)
    assert not cb.special_points
    for c in cb.cycles:
        mu = c.param
        r = np.hypot(c.trajectory[:, 0], c.trajectory[:, 1])
        # closed forms; 20 intervals of degree 4: the orbit between nodes to ~1e-8 (O(h^5)),
        # the period (superconvergent, O(h^8)) to 1e-10
        r2 = 0.5 * (np.sqrt(1 + 4 * mu) - 1)  # mu = |z|^2 + |z|^4
        assert np.max(np.abs(r - np.sqrt(r2))) < 1e-8
        assert c.period == pytest.approx(2 * np.pi / (1 + 0.5 * r2), rel=1e-10)
        # radial multiplier exp(T d/dr (mu r - r^3 - r^5))
        exact = np.exp(-(2 * r2 + 4 * r2**2) * c.period)
        assert abs(c.nontrivial_multipliers[0] - exact) < 1e-9
        assert c.stable


def test_period_doubling_and_neimark_sacker_located_at_closed_form_values():
    m, start = Twist(), _twist_start()
    cb = continue_cycles_collocation(
        m, start, param="mu", bounds=(-0.1, 0.3), n_intervals=20, ds=0.1, ds_max=0.2
    )
    kinds = [str(sp.kind) for sp in cb.special_points]
    assert kinds == ["PD", "NS"]
    pd, ns = cb.special_points
    # exact values: PD at mu = 0 (multiplier -e^{2 pi mu}), NS at mu = 0.2 with angle
    # 2 pi beta; the collocation transfer matrices are exact to ~1e-13 here (smooth orbit)
    assert pd.param == pytest.approx(0.0, abs=1e-8)
    assert pd.info["multiplier"] == pytest.approx(-1.0, abs=1e-8)
    assert ns.param == pytest.approx(0.2, abs=1e-8)
    assert ns.info["theta"] == pytest.approx(2 * np.pi * 0.3, abs=1e-8)
    for c in cb.cycles:
        mu = c.param
        exact = np.concatenate(
            [
                [1.0, -np.exp(2 * np.pi * mu), -np.exp(-2 * np.pi), np.exp(-4 * np.pi)],
                np.exp(2 * np.pi * (mu - 0.2 + 0.3j * np.array([1, -1]))),
            ]
        )
        got = np.sort_complex(c.multipliers)
        assert np.max(np.abs(got - np.sort_complex(exact))) < 1e-9
        assert c.period == pytest.approx(2 * np.pi, rel=1e-10)


def _hh_monodromy(traj, T, I, n_seg=1):
    """Multipliers by scipy: the variational equations with a central-difference Jacobian of
    the independent numpy HH right-hand side, integrated over `n_seg` pieces of the period,
    each started on the orbit's sample `traj[k]` (multiple shooting: an orbit with a
    multiplier of 1e8 is not followed over a whole period from one point)."""

    def jac(x):
        H = np.diag(1e-6 * np.maximum(1.0, np.abs(x)))
        X = np.concatenate([x[:, None] + H, x[:, None] - H], axis=1)  # one vectorised call
        F = hh_rhs(X, I)
        return (F[:, :4] - F[:, 4:]) / (2 * np.diag(H))[None, :]

    def rhs(t, z):
        x, P = z[:4], z[4:].reshape(4, 4)
        return np.concatenate([hh_rhs(x, I), (jac(x) @ P).reshape(-1)])

    M = np.eye(4)
    step = (traj.shape[0] - 1) // n_seg
    for k in range(n_seg):
        sol = solve_ivp(
            rhs,
            (0, T / n_seg),
            np.concatenate([traj[k * step], np.eye(4).reshape(-1)]),
            rtol=1e-11,
            atol=1e-11,
            method="DOP853",
        )
        M = sol.y[4:, -1].reshape(4, 4) @ M
    return np.linalg.eigvals(M)


@pytest.mark.slow
def test_hh_floquet_multipliers_against_scipy_monodromy():
    hh = sj.models.HodgkinHuxley()
    # a firing orbit at I = 8 from a scipy run (the start "from a simulated cycle")
    run = solve_ivp(
        lambda t, x: hh_rhs(x, 8.0),
        (0, 200),
        [-30.0, 0.5, 0.3, 0.5],
        rtol=1e-9,
        atol=1e-9,
        dense_output=True,
        max_step=0.1,
    )
    t = np.linspace(100, 200, 20001)
    V = run.sol(t)[0]
    up = np.where((V[:-1] < 0) & (V[1:] >= 0))[0]
    tc = t[up] - V[up] * (t[up + 1] - t[up]) / (V[up + 1] - V[up])  # interpolated crossings
    T = float(np.mean(np.diff(tc[-4:])))
    traj = run.sol(np.linspace(t[up[-2]], t[up[-2]] + T, 401)).T
    start = _sampled_cycle(traj, T, 8.0, hh.state_names, "I")
    cb = continue_cycles_collocation(hh, start, bounds=(7.0, 9.0), max_steps=1, ds=0.2)
    c = cb.cycles[0]
    mu_ref = _hh_monodromy(c.trajectory, c.period, 8.0)
    # period against the scipy run's crossings (2e-6: linear crossing interpolation); multipliers:
    # the two not tiny ones (1 and ~0.07) to 1e-6 (scipy's tolerance 1e-11 over 16 ms)
    assert c.period == pytest.approx(T, rel=2e-6)
    for mu in np.sort(np.abs(mu_ref))[-2:]:
        assert np.min(np.abs(np.abs(c.multipliers) - mu)) < 1e-6
    assert c.stable


def test_bad_starts_raise_named_errors():
    m = StuartLandau()
    branch = continuation(m, "mu", -0.5, 0.5)
    hopf = branch.hopf_points[0]
    not_hopf = SpecialPoint(hopf.kind.__class__("LP"), hopf.param, hopf.state, 0)
    with pytest.raises(ValueError, match="located Hopf point"):
        continue_cycles_collocation(m, not_hopf, param="mu", bounds=(-1, 1))
    # a degenerate Hopf point (the cubic coefficient c = 0: l1 = 0, a Bautin point)
    m0 = StuartLandau(c=0.0)
    h0 = continuation(m0, "mu", -0.5, 0.5).hopf_points[0]
    with pytest.raises(ContinuationError, match="l1"):
        continue_cycles_collocation(m0, h0, param="mu", bounds=(-1, 1))
    # a constant "orbit" (an equilibrium) is not a cycle
    flat = _sampled_cycle(np.zeros((401, 2)), 6.0, 0.3, StuartLandau.state_names, "mu")
    with pytest.raises(ContinuationError, match="not a periodic orbit"):
        continue_cycles_collocation(m, flat, param="mu", bounds=(-1, 1))
    with pytest.raises(ValueError, match="n_intervals"):
        continue_cycles_collocation(m, hopf, param="mu", bounds=(-1, 1), n_intervals=2)
    with pytest.raises(ValueError, match="method"):
        continue_cycles(m, hopf, param="mu", bounds=(-1, 1), method="multiple shooting")
    # continue_cycles hands method="collocation" to continue_cycles_collocation
    cb = continue_cycles(m, hopf, param="mu", bounds=(-1, 1), method="collocation", max_steps=2)
    assert len(cb) == 3 and cb.multipliers.shape == (3, 2)


@pytest.mark.slow
def test_hh_cycles_from_subcritical_hopf_reach_fold_and_upper_hopf():
    import time

    hh = sj.models.HodgkinHuxley()
    eq = continuation(hh, "I", 0.0, 200.0)
    h_low, h_up = eq.hopf_points
    t0 = time.perf_counter()
    cb = continue_cycles_collocation(hh, h_low, bounds=(0.0, 200.0), ds=1.0, ds_max=20.0)
    elapsed = time.perf_counter() - t0
    print(f"HH cycle branch: {len(cb)} points in {elapsed:.1f} s")
    assert cb.status == "amplitude_vanished"  # ends at the upper Hopf point
    assert cb.params[-1] == pytest.approx(h_up.param, abs=0.5)
    lpc_points = [sp for sp in cb.special_points if sp.kind == "LPC"]
    lpcs = [sp.param for sp in lpc_points]
    pds = [sp for sp in cb.special_points if sp.kind == "PD"]
    # the unstable family's two folds near 7.84 and 7.92 (with the period doublings next to
    # them, Guckenheimer & Labouriau 1993), then the fold that bounds bistability
    assert len(lpcs) == 3 and len(pds) == 2
    for sp in cb.special_points:  # every fold and flip carries its normal form
        print(sp.kind, round(sp.param, 4), sp.info["normal_form"], sp.criticality)
        assert sp.info["normal_form"] is not None
    assert lpcs[0] == pytest.approx(7.84, abs=0.01) and lpcs[1] == pytest.approx(7.92, abs=0.01)
    lpc = lpcs[2]
    assert lpc == pytest.approx(6.26, abs=0.01)  # Rinzel & Miller (1980): 6.26
    # stable spiking cycles above the fold up to near the upper Hopf point
    after = np.arange(len(cb)) > lpc_points[2].index
    assert cb.stable[after & (cb.params > lpc + 0.05) & (cb.params < 150)].all()
    assert not cb.stable[~after].any()
    # independent: scipy runs started on the firing orbit keep firing 0.02 above the fold and
    # stop 0.02 below it (600 ms; the slow passage near the fold is shorter than that there)
    k = int(np.argmin(np.where(after, np.abs(cb.params - (lpc + 0.5)), np.inf)))
    x_fire = cb.cycles[k].trajectory[0]

    def fires(I):
        sol = solve_ivp(
            lambda t, x: hh_rhs(x, I), (0, 600), x_fire, rtol=1e-8, atol=1e-8, max_step=0.1
        )
        return sol.y[0][sol.t > 500].max() > 0.0

    assert fires(lpc + 0.02) and not fires(lpc - 0.02)
    # the PD multiplier -1 and a huge multiplier against scipy's monodromy
    pd = pds[0]
    i_pd = pd.index
    c_pd = cb.cycles[i_pd]
    mu_ref = _hh_monodromy(c_pd.trajectory, c_pd.period, c_pd.param, 40)
    for mu in c_pd.multipliers:
        if abs(mu) > 1e-3:
            assert np.min(np.abs(mu_ref - mu)) < 1e-5 * max(1.0, abs(mu))
    big = max(cb.cycles, key=lambda c: np.abs(c.multipliers).max())
    mu_big = np.abs(big.multipliers).max()
    assert mu_big > 1e6
    mu_ref = np.abs(_hh_monodromy(big.trajectory, big.period, big.param, 40)).max()
    # 40 intervals: the multiplier ~6e8 to 3e-3 (the mesh's discretisation error, measured
    # 1.2e-3); the same orbit on 160 intervals to 1e-6 (measured 1e-8): the condensed
    # monodromy itself loses nothing to the size of the multiplier
    assert mu_big == pytest.approx(mu_ref, rel=3e-3)
    fine = continue_cycles_collocation(
        hh, big, bounds=(0.0, 200.0), n_intervals=160, max_steps=1, ds=1e-3
    )
    assert np.abs(fine.cycles[0].multipliers).max() == pytest.approx(mu_ref, rel=1e-6)
    assert np.min(np.abs(fine.cycles[0].multipliers - 1.0)) < 1e-7
    # a twice finer mesh moves the bistability fold by less than 1e-5
    near = cb.cycles[int(np.argmin(np.where(after, np.abs(cb.params - (lpc + 0.2)), np.inf)))]
    fine = continue_cycles_collocation(
        hh, near, bounds=(6.0, 6.6), n_intervals=80, direction=-1, ds=0.5, max_steps=40
    )
    (lpc_fine,) = [sp.param for sp in fine.special_points if sp.kind == "LPC"]
    assert lpc_fine == pytest.approx(lpc, abs=1e-5)


@pytest.mark.slow
def test_doubled_cycle_from_period_doubling_matches_closed_form():
    m, start = Twist(), _twist_start()
    cb = continue_cycles_collocation(
        m, start, param="mu", bounds=(-0.1, 0.1), n_intervals=20, ds=0.1, ds_max=0.2
    )
    (pd,) = cb.special_points
    doubled = continue_cycles_collocation(
        m, pd, param="mu", bounds=(-0.1, 0.15), n_intervals=20, ds=0.05, ds_max=1.0
    )
    assert doubled.status == "left_bounds" and doubled.params[-1] == pytest.approx(0.15)
    assert np.all(doubled.params > 0)  # supercritical: the doubled cycles exist for mu > 0
    for c in doubled.cycles:
        # closed form: w = R(t/2) (sqrt(mu), 0), period 4 pi, stable for 0 < mu < 0.2
        w = np.hypot(c.trajectory[:, 2], c.trajectory[:, 3])
        assert np.max(np.abs(w - np.sqrt(c.param))) < 1e-9
        assert c.period == pytest.approx(4 * np.pi, rel=1e-10)
        assert c.stable
    # a start that is not a PD point of a collocation branch
    with pytest.raises(ValueError, match="PD"):
        continue_cycles_collocation(
            m, SpecialPoint(pd.kind, pd.param, pd.state, 0), param="mu", bounds=(-1, 1)
        )


@pytest.mark.slow
def test_forward_and_backward_continuation_find_the_same_points():
    m, start = Twist(), _twist_start()
    fwd = continue_cycles_collocation(
        m, start, param="mu", bounds=(-0.1, 0.3), n_intervals=20, ds=0.1, ds_max=0.2
    )
    end = fwd.cycles[-1]
    bwd = continue_cycles_collocation(
        m, end, param="mu", bounds=(-0.1, 0.3), n_intervals=20, direction=-1, ds=0.1, ds_max=0.2
    )
    assert [str(sp.kind) for sp in bwd.special_points] == ["NS", "PD"]
    for a, b in zip(fwd.special_points, bwd.special_points[::-1], strict=True):
        assert a.param == pytest.approx(b.param, abs=1e-10)
