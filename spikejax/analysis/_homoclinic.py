r"""Saddle homoclinic orbits by collocation on a truncated interval (Beyn's method).

A homoclinic orbit $x(t) \to x_0$ as $t \to \pm\infty$ of a saddle $x_0$ of $\dot x =
f(x, p)$ is approximated, as in HomCont (Champneys, Kuznetsov & Sandstede 1996) and MatCont's
`Homoclinic` (Dhooge, Govaerts, Kuznetsov, Meijer & Sautois 2008; De Witte, Govaerts,
Kuznetsov & Friedman 2012), on a truncated time interval of length $T$ with **projection
boundary conditions** (Beyn 1990, *IMA J. Numer. Anal.* 10, 379-405): in scaled time
$\tau = t/T \in [0, 1]$,

$$x' = T f(x, p), \qquad f(x_0, p) = 0, \qquad
Y_s^\top (x(0) - x_0) = 0, \qquad Y_u^\top (x(1) - x_0) = 0,$$

so the orbit starts in the unstable and ends in the stable eigenspace of the saddle ($Y_s$,
$Y_u$: bases of the *left* stable and unstable invariant subspaces, $n_s$ and $n_u$
columns, $n_s + n_u = n$), with the integral phase condition $\int_0^1 (x - \hat x)\cdot
\hat x'\,d\tau = 0$ against the previous orbit $\hat x$. The orbit is a piecewise
polynomial on a mesh of $N$ intervals (degree $m$, collocation at the Gauss points: the
building blocks of `continue_cycles_collocation`, without the periodic wrap; the mesh is
re-distributed to equal arclength of the orbit, with a floor in time, every few points, as
the orbit stretches with $T$). The bases are
unknowns too, smooth along the curve (continuation of invariant subspaces):
$$A^\top Y_s = Y_s \Lambda_s, \quad \hat Y_s^\top Y_s = I, \qquad
A^\top Y_u = Y_u \Lambda_u, \quad \hat Y_u^\top Y_u = I, \qquad A = f_x(x_0, p),$$
with $\hat Y$ the previous point's bases (renewed at every step); the eigenvalues of
$\Lambda_s$ and $\Lambda_u$ are the saddle's stable and unstable eigenvalues.

One equation fewer than unknowns leaves a curve for `spikejax.solvers.continue_branch`.
The free quantities are the first parameter and either a second parameter ($T$ fixed: the
homoclinic curve in the plane of two parameters) or $T$ itself (the one-parameter
problem: as $T$ grows, $p$ converges to the homoclinic value $p_{hc}$, exponentially).

**Test functions** along the curve: **NSS** (neutral saddle: the saddle quantity
$\sigma = \mathrm{Re}\,\lambda_s^{lead} + \mathrm{Re}\,\lambda_u^{lead}$, the sum of the
leading stable and unstable eigenvalues, changes sign; $\sigma < 0$: the loop is
attracting in the plane and a stable cycle is born from it) and **SNL** (saddle-node loop: an
eigenvalue of the saddle passes through zero, $\det A = 0$, where the homoclinic curve meets
a curve of folds, and the saddle homoclinic orbit becomes a saddle-node homoclinic orbit,
the end of a SNIC segment of the fold curve). The branch ends just after an SNL point.

**Start**: a cycle of large period (`LimitCycle`, e.g. the last cycle of a
`continue_cycles_collocation` branch that ended with `period_diverged`): it is refined by
collocation, its slowest point gives the saddle (Newton), the part of the orbit within
`radius` of the saddle is cut off, and what remains, of length $T$, is the first guess;
or a `HomoclinicOrbit` from an earlier curve (to continue it in other parameters).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._validation import check_finite, require_float64
from ..models._base import NeuronModel
from ..solvers import newton
from ..solvers._continuation import (
    BranchStatus,
    ContinuationError,
    ContinuationProblem,
    PseudoArclength,
    Segment,
    SpecialPointKind,
    Stop,
    continue_branch,
    solve_at_parameter,
)
from ._codim2 import Codim2Point
from ._collocation import (
    CollocationProblem,
    _lagrange,
    _tables,
)
from ._collocation_options import check_collocation_options
from ._continuation import EquilibriumSystem, _f_and_jac
from ._limit_cycle import LimitCycle, _prepare

__all__ = ["HomoclinicBranch", "HomoclinicOrbit", "HomoclinicProblem", "continue_homoclinic"]

_N_SAVE = 401  # samples per orbit


@dataclasses.dataclass(frozen=True)
class HomoclinicOrbit:
    r"""A (truncated) homoclinic orbit of a saddle.

    **Fields:** `params` (dict: the two free quantities' names -> values; `"T"` when the
    interval length is one of them), `T` (the length of the truncated interval, time
    units), `saddle` (dict state name -> value), `eigenvalues` (the saddle's, complex),
    `saddle_quantity` ($\sigma$, the sum of the leading stable and unstable eigenvalues'
    real parts), `times` (`(401,)`, from 0 to `T`), `trajectory` (`(401, n_states)`),
    `state_names`, `info` (what `continue_homoclinic` needs to start from this orbit).
    """

    params: dict[str, float]
    T: float
    saddle: dict[str, float]
    eigenvalues: np.ndarray
    saddle_quantity: float
    times: np.ndarray
    trajectory: np.ndarray
    state_names: tuple[str, ...]
    info: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True)
class HomoclinicBranch:
    """A continued curve of homoclinic orbits.

    **Fields:** `param_names` (the two free quantities; the second may be `"T"`), `params`
    (m, 2), `periods` (m,): the interval length $T$, `saddle_quantity` (m,),
    `eigenvalues` (m, n) of the saddle, `orbits` (the `HomoclinicOrbit`s),
    `special_points` (`Codim2Point`s of kind "NSS" or "SNL"), `status` (a `BranchStatus`),
    `message`.
    """

    param_names: tuple[str, str]
    params: np.ndarray
    periods: np.ndarray
    saddle_quantity: np.ndarray
    eigenvalues: np.ndarray
    orbits: tuple[HomoclinicOrbit, ...]
    special_points: tuple[Codim2Point, ...]
    status: BranchStatus
    message: str = ""

    def __len__(self) -> int:
        return int(self.params.shape[0])

    def param(self, name: str) -> np.ndarray:
        """The values of `name` (a free parameter or `"T"`) along the curve."""
        if name == "T" and "T" not in self.param_names:
            return self.periods
        return self.params[:, self.param_names.index(name)]

    def points(self, kind: str) -> list[Codim2Point]:
        return [sp for sp in self.special_points if sp.kind == kind]


# ----------------------------------------------------------------------------------------------
# Mesh helpers (the collocation tables without the periodic wrap)
# ----------------------------------------------------------------------------------------------


def _open_index(N: int, m: int) -> np.ndarray:
    """(N, m+1) indices of each interval's nodes into the `N m + 1` nodes of an open mesh."""
    return np.arange(N)[:, None] * m + np.arange(m + 1)[None, :]


def _open_node_times(mesh: np.ndarray, m: int) -> np.ndarray:
    """The `N m + 1` node times of an open mesh (0 to 1)."""
    h = np.diff(mesh)
    inner = mesh[:-1, None] + h[:, None] * np.linspace(0.0, 1.0, m + 1)[None, :-1]
    return np.concatenate([inner.reshape(-1), [mesh[-1]]])


def _open_evaluate(mesh: np.ndarray, X: np.ndarray, m: int, taus: np.ndarray) -> np.ndarray:
    """The piecewise polynomial with open-mesh node values `X` at times `taus` in [0, 1]."""
    N = mesh.size - 1
    taus = np.clip(np.asarray(taus, float), 0.0, 1.0)
    j = np.clip(np.searchsorted(mesh, taus, side="right") - 1, 0, N - 1)
    s = (taus - mesh[j]) / (mesh[j + 1] - mesh[j])
    return np.einsum("ik,ikn->in", _lagrange(m, s), X[_open_index(N, m)[j]])


def _equidistributed(W: np.ndarray, t: np.ndarray, N: int) -> np.ndarray:
    """A mesh of `N` intervals on [0, 1] equidistributing the arclength of the orbit
    sampled as `W` at times `t` (each variable scaled by its range) plus a time floor."""
    scale = np.ptp(W, axis=0) + 1e-300
    arc = np.concatenate([[0.0], np.cumsum(np.max(np.abs(np.diff(W, axis=0)) / scale, axis=1))])
    dens = arc / arc[-1] + 0.3 * t
    mesh = np.interp(np.linspace(0.0, dens[-1], N + 1), dens, t)
    mesh[0], mesh[-1] = 0.0, 1.0
    return mesh


def _with_param(system: EquilibriumSystem, name: str, value) -> EquilibriumSystem:
    """The system with the (second) parameter `name` set to `value`."""
    if name == "I":
        return dataclasses.replace(system, I=value)
    return dataclasses.replace(system, model=system.model.replace(**{name: value}))


def _leading(ev_s: np.ndarray, ev_u: np.ndarray) -> tuple[complex, complex]:
    """The stable eigenvalue with the largest and the unstable one with the smallest real
    part (the leading ones)."""
    return ev_s[int(np.argmax(np.real(ev_s)))], ev_u[int(np.argmin(np.real(ev_u)))]


def _invariant_basis(At: np.ndarray, stable: bool) -> tuple[np.ndarray, np.ndarray]:
    """An orthonormal basis `Y` of the invariant subspace of `At` for its eigenvalues with
    negative (`stable`) or positive real part, and `Lambda = Y^T At Y`."""
    ev, V = np.linalg.eig(At)
    re, im = np.real(ev), np.imag(ev)
    pick = re < 0 if stable else re > 0
    cols = []
    for k in np.flatnonzero(pick):
        if im[k] < 0:
            continue  # the conjugate's real and imaginary parts span both
        cols.append(np.real(V[:, k]))
        if im[k] > 0:
            cols.append(np.imag(V[:, k]))
    Y, _ = np.linalg.qr(np.stack(cols, axis=1))
    return Y, Y.T @ At @ Y


# ----------------------------------------------------------------------------------------------
# The continuation problem
# ----------------------------------------------------------------------------------------------


class HomoclinicProblem(ContinuationProblem):
    r"""Homoclinic orbits of a saddle on a truncated interval (module docstring),
    $u = (X, x_0, Y_s, Y_u, \Lambda_s, \Lambda_u, p_1, q)$ with $X$ the `N m + 1` node values,
    $p_1$ the first parameter and $q$ the second free quantity: the parameter `param2` or,
    when `param2 == "T"`, the interval length.

    **Fields:** `coll` (a `CollocationProblem` holding the system $f(x, p_1)$, the mesh and
    the degree; its periodic parts are not used), `ref_x`, `ref_dot` (the previous orbit
    and its derivative at the Gauss points, `(N, m, n)`), `Ys_ref`, `Yu_ref` (the
    normalisations $\hat Y$), `T_fixed` (the interval length when it is not free),
    `count` (points since the last mesh adaptation), `ns`, `nu`, `param2`, `adapt_every`
    (re-distribute the mesh every that many points; 0: never).
    """

    coll: CollocationProblem
    ref_x: Array
    ref_dot: Array
    Ys_ref: Array
    Yu_ref: Array
    T_fixed: Array
    count: Array
    ns: int = eqx.field(static=True)
    nu: int = eqx.field(static=True)
    param2: str = eqx.field(static=True, default="T")
    adapt_every: int = eqx.field(static=True, default=3)

    @property
    def n(self) -> int:
        return self.ns + self.nu

    @property
    def n_intervals(self) -> int:
        return int(self.coll.mesh.shape[0]) - 1

    @property
    def degree(self) -> int:
        return self.coll.degree

    @property
    def k(self) -> int:
        """The number of orbit unknowns, `(N m + 1) n`."""
        return (self.n_intervals * self.degree + 1) * self.n

    def split(self, u) -> dict[str, Any]:
        """The unknowns by name: `X`, `x0`, `Ys`, `Yu`, `Ls`, `Lu`, `p1`, `q`."""
        n, ns, nu = self.n, self.ns, self.nu
        sizes = [self.k, n, n * ns, n * nu, ns * ns, nu * nu]
        shapes = [(self.k // n, n), (n,), (n, ns), (n, nu), (ns, ns), (nu, nu)]
        out, o = {}, 0
        names = ("X", "x0", "Ys", "Yu", "Ls", "Lu")
        for name, size, shape in zip(names, sizes, shapes, strict=True):
            out[name] = u[o : o + size].reshape(shape)
            o += size
        out["p1"], out["q"] = u[o], u[o + 1]
        return out

    def system_at(self, q) -> EquilibriumSystem:
        """$f(\\cdot, p_1)$ with the second parameter at `q` (unchanged when it is `T`)."""
        sys = self.coll.system
        return sys if self.param2 == "T" else _with_param(sys, self.param2, q)

    def residual(self, u):
        z = self.split(u)
        N, m = self.n_intervals, self.degree
        T = z["q"] if self.param2 == "T" else self.T_fixed
        sys = self.system_at(z["q"])
        coll = dataclasses.replace(self.coll, system=sys)
        X, x0, p1 = z["X"], z["x0"], z["p1"]
        h = jnp.diff(self.coll.mesh)
        R = jax.vmap(coll._interval, in_axes=(0, None, None, 0))(X[_open_index(N, m)], T, p1, h)
        At = jax.jacfwd(sys.f)(x0, p1).T
        Ys, Yu = z["Ys"], z["Yu"]
        _, w, L, _, _ = _tables(m)
        xc = jnp.einsum("ck,jkn->jcn", L, X[_open_index(N, m)])
        phase = jnp.sum(h[:, None] * w[None, :] * jnp.sum((xc - self.ref_x) * self.ref_dot, -1))
        return jnp.concatenate(
            [
                R.reshape(-1),
                sys.f(x0, p1),
                (At @ Ys - Ys @ z["Ls"]).reshape(-1),
                (At @ Yu - Yu @ z["Lu"]).reshape(-1),
                (self.Ys_ref.T @ Ys - jnp.eye(self.ns)).reshape(-1),
                (self.Yu_ref.T @ Yu - jnp.eye(self.nu)).reshape(-1),
                Ys.T @ (X[0] - x0),
                Yu.T @ (X[-1] - x0),
                phase[None],
            ]
        )

    # --- helpers ----------------------------------------------------------------------------

    def eigenvalues(self, u) -> tuple[np.ndarray, np.ndarray]:
        """The saddle's stable and unstable eigenvalues (of $\\Lambda_s$, $\\Lambda_u$)."""
        z = self.split(np.asarray(u, float))
        return np.linalg.eigvals(z["Ls"]), np.linalg.eigvals(z["Lu"])

    def saddle_quantity(self, u) -> float:
        ls, lu = _leading(*self.eigenvalues(u))
        return float(ls.real + lu.real)

    def T_of(self, u) -> float:
        return float(u[-1]) if self.param2 == "T" else float(self.T_fixed)

    def with_reference(self, u) -> HomoclinicProblem:
        """The problem with the phase reference and the normalisations at `u`."""
        z = self.split(np.asarray(u, float))
        N, m = self.n_intervals, self.degree
        _, _, L, D, _ = _tables(m)
        Xj = z["X"][_open_index(N, m)]
        h = np.diff(np.asarray(self.coll.mesh))
        Ys, Yu = z["Ys"], z["Yu"]
        return dataclasses.replace(
            self,
            ref_x=jnp.asarray(np.einsum("ck,jkn->jcn", L, Xj)),
            ref_dot=jnp.asarray(np.einsum("ck,jkn->jcn", D, Xj) / h[:, None, None]),
            Ys_ref=jnp.asarray(Ys @ np.linalg.inv(Ys.T @ Ys)),
            Yu_ref=jnp.asarray(Yu @ np.linalg.inv(Yu.T @ Yu)),
        )

    def orbit(self, u) -> HomoclinicOrbit:
        """The `HomoclinicOrbit` of the point `u`."""
        u = np.asarray(u, float)
        z = self.split(u)
        sys = self.coll.system
        model = sys.model
        taus = np.linspace(0.0, 1.0, _N_SAVE)
        traj = _open_evaluate(np.asarray(self.coll.mesh), z["X"], self.degree, taus)
        full = np.tile(np.asarray(sys.x_template, float), (_N_SAVE, 1))
        act = np.asarray(sys.active)
        full[:, act] = traj
        x0f = np.asarray(sys.x_template, float).copy()
        x0f[act] = z["x0"]
        ev_s, ev_u = self.eigenvalues(u)
        ev = np.concatenate([ev_s, ev_u])
        T = self.T_of(u)
        return HomoclinicOrbit(
            params={self.coll.param_name: float(z["p1"]), self.param2: float(z["q"])},
            T=T,
            saddle={nm: float(x0f[i]) for i, nm in enumerate(model.state_names)},
            eigenvalues=ev,
            saddle_quantity=self.saddle_quantity(u),
            times=T * taus,
            trajectory=full,
            state_names=tuple(model.state_names),
            info={"u": u.copy(), "problem": self},
        )

    # --- driver hooks -----------------------------------------------------------------------

    def update(self, u, jacobian):
        return dataclasses.replace(self.with_reference(u), count=self.count + 1)

    def adapt(self, u, t):
        """Every `adapt_every` points: a new mesh equidistributing the orbit's arclength,
        with the orbit and the tangent interpolated onto it (the orbit stretches as $T$
        grows or the parameters move)."""
        if self.adapt_every <= 0 or int(self.count) < self.adapt_every:
            return None
        mesh, m, n, k = np.asarray(self.coll.mesh), self.degree, self.n, self.k
        X = np.asarray(u[:k]).reshape(-1, n)
        taus = np.linspace(0.0, 1.0, 20 * (mesh.size - 1) * m + 1)
        new_mesh = _equidistributed(_open_evaluate(mesh, X, m, taus), taus, mesh.size - 1)
        nodes = _open_node_times(new_mesh, m)

        def move(v):
            Xv = np.asarray(v[:k]).reshape(-1, n)
            return np.concatenate([_open_evaluate(mesh, Xv, m, nodes).reshape(-1), v[k:]])

        u_new, t_new = move(u), move(t)
        coll = dataclasses.replace(self.coll, mesh=jnp.asarray(new_mesh))
        prob = dataclasses.replace(self, coll=coll, count=jnp.asarray(0))
        return prob.with_reference(u_new), u_new, t_new / np.linalg.norm(t_new)

    def admissible(self, u):
        return self.param2 != "T" or float(u[-1]) > 0

    def test_functions(self):
        def snl(u, t, J):
            ev_s, ev_u = self.eigenvalues(u)
            return float(np.real(np.prod(ev_s) * np.prod(ev_u)))

        return {"NSS": lambda u, t, J: self.saddle_quantity(u), "SNL": snl}

    def point_data(self, u, jacobian) -> HomoclinicOrbit:
        return self.orbit(u)

    def stop_condition(self, u, data, history):
        if not history:
            return None
        first = np.real(np.prod(history[0].eigenvalues))
        if np.sign(np.real(np.prod(data.eigenvalues))) != np.sign(first):
            return Stop(
                BranchStatus.saddle_node,
                "an eigenvalue of the saddle passed through zero: the homoclinic curve met a "
                "fold of equilibria (saddle-node loop point, SNL)",
            )
        return None

    def locate(self, name: str, segment: Segment) -> Codim2Point | None:
        if name not in ("NSS", "SNL"):
            return None
        pt = segment.regula_falsi(name, xtol=1e-12)
        orb = self.orbit(pt.u)
        return Codim2Point(
            SpecialPointKind(name),
            dict(orb.params),
            dict(orb.saddle),
            pt.index,
            orb.eigenvalues,
            {"saddle_quantity": orb.saddle_quantity, "T": orb.T},
            located=pt.located,
        )


# ----------------------------------------------------------------------------------------------
# Starts
# ----------------------------------------------------------------------------------------------


def _saddle(system: EquilibriumSystem, x, p) -> np.ndarray:
    """The equilibrium Newton reaches from `x` (ContinuationError when it does not)."""

    def fn(z):
        F, A, _ = _f_and_jac(system, z, p)
        return F, A

    sol = newton(fn, np.asarray(x, float), rtol=1e-12, atol=1e-12, max_steps=40)
    if not sol.ok:
        raise ContinuationError(
            "no equilibrium found near the slowest point of the cycle: the cycle is not "
            "close to a homoclinic orbit (continue it to a larger period)"
        )
    return sol.value


def _from_cycle(system, traj, T_c, p, radius, n_intervals, m):
    """The first guess of the homoclinic orbit from the samples `traj` (k, n) of a cycle of
    period `T_c` over one period: `(mesh, X, T, x0)`."""
    xs = np.asarray(traj, float)[:-1]  # the last sample repeats the first
    k = xs.shape[0]
    scale = np.ptp(xs, axis=0) + 1e-300
    speed = np.array([np.max(np.abs(_f_and_jac(system, x, p)[0]) / scale) for x in xs])
    i_slow = int(np.argmin(speed))
    x0 = _saddle(system, xs[i_slow], p)
    _, A, _ = _f_and_jac(system, x0, p)
    ev = np.linalg.eigvals(A)
    if not (np.any(ev.real > 0) and np.any(ev.real < 0)) or np.any(ev.real == 0):
        raise ContinuationError(
            f"the equilibrium nearest the cycle is not a hyperbolic saddle (eigenvalues {ev}); "
            "start from a cycle closer to a saddle homoclinic orbit"
        )
    ring = np.concatenate([xs[i_slow:], xs[:i_slow], xs[i_slow : i_slow + 1]])
    d = np.max(np.abs(ring - x0) / scale, axis=1)
    out = np.flatnonzero(d > radius)
    if d[0] > radius or out.size == 0:
        raise ContinuationError(
            f"the cycle passes the saddle at a distance {d.min():.3g} (relative to its "
            f"range), more than radius={radius}: continue it to a larger period first"
        )
    a, b = max(out[0] - 1, 0), min(out[-1] + 1, k)
    W = ring[a : b + 1]
    t = np.linspace(0.0, 1.0, W.shape[0])
    # a mesh equidistributing the orbit's arclength (scaled variables) plus a time floor
    mesh = _equidistributed(W, t, n_intervals)
    nodes = _open_node_times(mesh, m)
    X = np.stack([np.interp(nodes, t, W[:, i]) for i in range(W.shape[1])], axis=1)
    return mesh, X, (b - a) / k * T_c, x0


def _problem(
    system, mesh, X, x0, m, p1, param, param2, T, adapt_every
) -> tuple[HomoclinicProblem, np.ndarray]:
    """The problem and its unknowns from an orbit guess `X` on the open `mesh`."""
    _, A, _ = _f_and_jac(system, x0, p1)
    Ys, Ls = _invariant_basis(A.T, stable=True)
    Yu, Lu = _invariant_basis(A.T, stable=False)
    n = x0.size
    N = mesh.size - 1
    coll = CollocationProblem(
        system, jnp.asarray(mesh), jnp.zeros((N, m, n)), jnp.asarray(0), m, param, math.inf, 0
    )
    zeros = jnp.zeros((N, m, n))
    prob = HomoclinicProblem(
        coll,
        zeros,
        zeros,
        jnp.asarray(Ys),
        jnp.asarray(Yu),
        jnp.asarray(float(T)),
        jnp.asarray(0),
        Ys.shape[1],
        Yu.shape[1],
        param2,
        adapt_every,
    )
    return prob, np.concatenate(
        [X.reshape(-1), x0, Ys.reshape(-1), Yu.reshape(-1), Ls.reshape(-1), Lu.reshape(-1), [p1]]
    )


def continue_homoclinic(
    model: NeuronModel,
    start: LimitCycle | HomoclinicOrbit,
    param2: str,
    stop2: float,
    *,
    param: str = "I",
    I: float = 0.0,
    bounds2: tuple[float, float] | None = None,
    n_intervals: int = 60,
    degree: int = 4,
    radius: float = 0.02,
    adapt_every: int = 3,
    ds: float | None = None,
    ds_max: float | None = None,
    max_steps: int = 200,
    tol: float = 1e-9,
    locate: bool = True,
    throw: bool = False,
) -> HomoclinicBranch:
    r"""Continue a saddle homoclinic orbit (Beyn's method, module docstring) in `param` and
    `param2` towards `param2 = stop2`.

    **Arguments:**

    - `model`, `param`, `I`: the single-cell model, the first free parameter (`"I"` or a
      model field) and the input current when `param` is a field.
    - `start`: a `LimitCycle` of large period near a homoclinic orbit (e.g. the last cycle
      of a `continue_cycles_collocation` branch ending `period_diverged`; its `param`
      value is the first parameter's), or a `HomoclinicOrbit` of an earlier curve (same
      model, same `param`).
    - `param2`, `stop2`, `bounds2`: the second free quantity, a model field or `"I"` (the
      interval length $T$ stays fixed: the homoclinic curve in two parameters), or `"T"`
      (one parameter: $T$ grows towards `stop2` and `param` converges to the homoclinic
      value); where it should end, and the range it may not leave.
    - `n_intervals` ($N$), `degree` ($m$, 2 to 7): the mesh of a cycle start (it takes the
      refined cycle's mesh density); `radius`: the part of the cycle within this distance
      of the saddle (relative to the cycle's range in each variable) is cut off;
      `adapt_every`: re-distribute the mesh (equal arclength) every that many points
      (0: never).
    - `ds`, `ds_max` (arclength steps over all unknowns; defaults 1% and 10% of the distance
      to `stop2`), `max_steps`, `tol` (relative Newton tolerance), `locate` (NSS and SNL
      points), `throw` (raise when the corrector fails).

    **Returns:** a `HomoclinicBranch`.

    **Raises:** `ValueError` for bad arguments or float32; `ContinuationError` when the
    start is not near a saddle homoclinic orbit or the first solve fails (and, with
    `throw=True`, when the corrector fails).
    """
    require_float64("spikejax.analysis.continue_homoclinic")
    if not isinstance(start, LimitCycle | HomoclinicOrbit):
        raise ValueError("start must be a LimitCycle or a HomoclinicOrbit")
    if param2 == param:
        raise ValueError(f"param2 must differ from param, got both {param!r}")
    if param2 not in ("T", "I") and param2 not in model.parameters():
        raise ValueError(
            f"unknown parameter name param2={param2!r} for {type(model).__name__}; "
            f"choose 'T', 'I' or one of {sorted(model.parameters())}"
        )
    check_finite("stop2", stop2)
    check_collocation_options(n_intervals, degree, adapt_every, tol)
    if not (0 < radius < 0.5):
        raise ValueError(f"radius must be in (0, 0.5), got {radius!r}")
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")

    if isinstance(start, HomoclinicOrbit):
        old: HomoclinicProblem = start.info["problem"]
        if old.coll.system.model.state_names != model.state_names or (old.coll.param_name != param):
            raise ValueError("start does not belong to this model and parameter")
        z = old.split(start.info["u"])
        system = old.system_at(z["q"])
        mesh, m = np.asarray(old.coll.mesh), old.degree
        X, x0, p1, T = z["X"], z["x0"], float(z["p1"]), start.T
    else:
        system = _prepare(model, param, I, start.trajectory[0], start.param)
        traj = np.asarray(start.trajectory, float)[:, np.asarray(system.active)]
        m = degree
        mesh, X, T, x0 = _from_cycle(
            system, traj, float(start.period), float(start.param), radius, n_intervals, m
        )
        p1 = float(start.param)
    if param2 == "T":
        q0 = float(T)
    elif param2 == "I":
        q0 = float(np.asarray(system.I))
    else:
        q0 = float(np.asarray(getattr(system.model, param2)))
    stop2 = float(stop2)
    if stop2 == q0:
        raise ValueError(f"stop2 must differ from the current {param2} = {q0}")
    lo, hi = (min(q0, stop2), max(q0, stop2)) if bounds2 is None else map(float, bounds2)
    if not (lo <= q0 <= hi):
        raise ValueError(f"bounds2 must contain the starting {param2} = {q0}")

    prob, u0 = _problem(system, mesh, X, x0, m, p1, param, param2, T, adapt_every)
    u0 = np.concatenate([u0, [q0]])
    prob = prob.with_reference(u0)
    span = abs(stop2 - q0)
    ds = 0.01 * span if ds is None else float(ds)
    ds_max = 0.1 * span if ds_max is None else float(ds_max)
    if not (0 < ds <= ds_max):
        raise ValueError(f"need 0 < ds <= ds_max, got ds={ds}, ds_max={ds_max}")
    algorithm = PseudoArclength(
        ds=ds, ds_min=1e-9 * (span + 1.0), ds_max=ds_max, max_newton=10, rtol=tol, atol=tol
    )
    sol = solve_at_parameter(prob, u0, q0, algorithm, max_steps=40)
    if not algorithm.accept(prob, sol):
        raise ContinuationError(
            f"no homoclinic orbit found near the start at {param}={p1}, {param2}={q0} "
            f"(residual {sol.residual:.3g}): start from a cycle of larger period"
        )
    prob = prob.with_reference(sol.value)
    result = continue_branch(
        prob,
        sol.value,
        algorithm,
        direction=1.0 if stop2 > q0 else -1.0,
        stop=stop2,
        bounds=(lo, hi),
        max_steps=max_steps,
        locate=locate,
        throw=throw,
        param_name=param2,
    )
    orbits: tuple[HomoclinicOrbit, ...] = result.data
    Z = result.points
    return HomoclinicBranch(
        param_names=(param, param2),
        params=Z[:, [-2, -1]].copy(),
        periods=np.array([o.T for o in orbits]),
        saddle_quantity=np.array([o.saddle_quantity for o in orbits]),
        eigenvalues=np.array([o.eigenvalues for o in orbits]),
        orbits=orbits,
        special_points=tuple(result.special_points),
        status=result.status,
        message=result.message,
    )
