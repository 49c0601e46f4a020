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

**Saddle-node homoclinic orbits** (`kind="saddle_node"`, HomCont's and MatCont's HSN;
Champneys, Kuznetsov & Sandstede 1996; the SNIC of class-1 excitability): the equilibrium
has one zero eigenvalue, so $Y_s$ and $Y_u$ span the left invariant subspaces of the
nonzero eigenvalues ($n_s + n_u = n - 1$): the orbit starts in the centre-unstable and
ends in the centre-stable subspace, leaving and returning along the centre direction.
The fold condition $f_x v = 0$, $c\cdot v = 1$ (the null vector $v$ as an unknown, $c$ the
previous point's) replaces the lost boundary condition, so the curve lies on a fold curve
in the two parameters. The approach along the centre manifold is algebraic ($\sim 1/t$),
not exponential: the truncation error decays like $1/T$. The curve ends at a saddle-node
loop point (**SNL**, where the homoclinic curve of a saddle meets the fold curve), where
the orbit returns along the strong stable manifold instead: the test function
$\psi = p\cdot(x(1) - x_0) / p\cdot(x(0) - x_0)$ ($p$ the left null vector; negative
while the orbit leaves and returns on the two sides of the centre manifold) changes sign,
and the branch stops there with status `saddle_node`.

**Start**: a cycle of large period (`LimitCycle`, e.g. the last cycle of a
`continue_cycles_collocation` branch that ended with `period_diverged`): it is refined by
collocation, its slowest point gives the saddle (Newton), the part of the orbit within
`radius` of the saddle is cut off, and what remains, of length $T$, is the first guess
(for `kind="saddle_node"` a cycle just past the fold, e.g. a SNIC's slow spiking: Newton on
the fold conditions from its slowest point gives the saddle-node and the first parameter);
or a `HomoclinicOrbit` from an earlier curve (to continue it in other parameters).

**Start from a BT point** (as MatCont's `init_BT_Hom`; Al-Hdaibat, Govaerts, Kuznetsov &
Meijer 2016, *SIAM J. Appl. Dyn. Syst.* 15, 952-980; Kuznetsov 2004, sec. 8.4): near a
Bogdanov-Takens point $(x^*, \alpha^*)$ the system is, on its parameter-dependent centre
manifold $x = x^* + H(w, \beta)$, $\alpha = \alpha^* + K(\beta)$, the smooth normal form
$\dot w_0 = w_1$, $\dot w_1 = \beta_1 + \beta_2 w_1 + a w_0^2 + b w_0 w_1 + \dots$ (the
Jordan chains $q_0, q_1, p_0, p_1$ and $a, b$ of `bogdanov_takens_coefficients`). The
homological equations with parameters give, to the order needed,
$K_{10}$ ($p_1\cdot f_\alpha K_{10} = 1$), $K_{01}$ and $H_{0001}$
($f_x H_{0001} + f_\alpha K_{01} = 0$ with the solvability of the $w_0\beta_2$ and
$w_1\beta_2$ terms: no $\beta_2 w_0$ term, unit $\beta_2 w_1$ coefficient) and $K_{02}$
($p_1\cdot[f_\alpha K_{02} + D^2 f(h, h)] = 0$, $h = (H_{0001}, K_{01})$: no
$\beta_2^2$ term). Blown up by $w_0 = \varepsilon^2 u/a$, $w_1 = \varepsilon^3 v/a$,
$\xi = \varepsilon t$, $\beta_1 = -4\varepsilon^4/a$,
$\beta_2 = \tfrac{b}{a}\tau\varepsilon^2$, the normal form reads
$u'' = u^2 - 4 + \varepsilon\tfrac{b}{a}(\tau + u)u'$; its homoclinic orbit is
$u = u_0 + \varepsilon u_1 + O(\varepsilon^2)$ with $u_0 = 2 - 6\,\mathrm{sech}^2\xi$,
$u_1 = -\tfrac{72}{7}\tfrac{b}{a}\ln(\cosh\xi)\,\mathrm{sech}^2\xi\tanh\xi$ and
$\tau = \tfrac{10}{7} + O(\varepsilon^2)$ (Melnikov), so the homoclinic curve is
$\beta_1 = -\tfrac{49a}{25b^2}\beta_2^2 + O(\beta_2^3)$. The predictor
$\alpha = \alpha^* + K_{10}\beta_1 + K_{01}\beta_2 + \tfrac12 K_{02}\beta_2^2$,
$x(t) = x^* + H_{0001}\beta_2 + q_0 w_0 + q_1 w_1$ on $\xi \in [-L, L]$
($\mathrm{sech}^2 L$ = `radius`, $T = 2L/\varepsilon$) has parameter errors
$O(\varepsilon^6)$ and orbit errors $O(\varepsilon^4)$ against sizes $\varepsilon^4$ and
$\varepsilon^2$ (`homoclinic_from_bogdanov_takens`; the amplitude is the loop's size
$6\varepsilon^2/|a|$ for $|q_0| = 1$).
"""

from __future__ import annotations

import dataclasses
import enum
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
from ._codim2 import (
    Codim2Point,
    _jacobian,
    _real_form,
    bogdanov_takens_ab,
    bogdanov_takens_basis,
)
from ._collocation import (
    CollocationProblem,
    _lagrange,
    _tables,
)
from ._collocation_options import check_collocation_options
from ._continuation import EquilibriumSystem, _f_and_jac, locate_fold
from ._limit_cycle import LimitCycle, _prepare
from ._two_parameter import _TwoParameterSystem

__all__ = [
    "HomoclinicBranch",
    "HomoclinicKind",
    "HomoclinicOrbit",
    "HomoclinicProblem",
    "continue_homoclinic",
    "homoclinic_from_bogdanov_takens",
]

_N_SAVE = 401  # samples per orbit


class HomoclinicKind(enum.StrEnum):
    """The equilibrium a homoclinic orbit returns to. Members compare equal to their strings."""

    saddle = "saddle"  # hyperbolic (HomCont's HHS)
    saddle_node = "saddle_node"  # one zero eigenvalue, on a fold curve (HomCont's HSN)


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


def _invariant_basis(
    At: np.ndarray, stable: bool, centre: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """An orthonormal basis `Y` of the invariant subspace of `At` for its eigenvalues with
    negative (`stable`) or positive real part, and `Lambda = Y^T At Y`; with `centre`, the
    eigenvalue nearest zero (a saddle-node's) is left out of both."""
    ev, V = np.linalg.eig(At)
    re, im = np.real(ev), np.imag(ev)
    pick = re < 0 if stable else re > 0
    if centre:
        pick[int(np.argmin(np.abs(ev)))] = False
    cols = []
    for k in np.flatnonzero(pick):
        if im[k] < 0:
            continue  # the conjugate's real and imaginary parts span both
        cols.append(np.real(V[:, k]))
        if im[k] > 0:
            cols.append(np.imag(V[:, k]))
    if not cols:
        return np.zeros((At.shape[0], 0)), np.zeros((0, 0))
    Y, _ = np.linalg.qr(np.stack(cols, axis=1))
    return Y, Y.T @ At @ Y


def _dual(Y: np.ndarray) -> np.ndarray:
    """`Y (Y^T Y)^{-1}` (so that its transpose times `Y` is the identity)."""
    return Y @ np.linalg.inv(Y.T @ Y) if Y.shape[1] else Y


def _eigvals(L: np.ndarray) -> np.ndarray:
    return np.linalg.eigvals(L) if L.size else np.zeros(0, complex)


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
    kind: HomoclinicKind = eqx.field(static=True, default=HomoclinicKind.saddle)
    c_ref: Array | None = None  # saddle_node: the normalisation of the null vector

    @property
    def saddle_node(self) -> bool:
        return self.kind == HomoclinicKind.saddle_node

    @property
    def n(self) -> int:
        return self.ns + self.nu + int(self.saddle_node)

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
        """The unknowns by name: `X`, `x0`, `Ys`, `Yu`, `Ls`, `Lu`, (`v`: the null vector of
        a saddle-node,) `p1`, `q`."""
        n, ns, nu = self.n, self.ns, self.nu
        sizes = [self.k, n, n * ns, n * nu, ns * ns, nu * nu]
        shapes = [(self.k // n, n), (n,), (n, ns), (n, nu), (ns, ns), (nu, nu)]
        names: tuple[str, ...] = ("X", "x0", "Ys", "Yu", "Ls", "Lu")
        if self.saddle_node:
            sizes, shapes, names = [*sizes, n], [*shapes, (n,)], (*names, "v")
        out, o = {}, 0
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
        fold = []
        if self.saddle_node:  # one zero eigenvalue: A v = 0, c . v = 1
            fold = [At.T @ z["v"], (self.c_ref @ z["v"] - 1.0)[None]]
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
                *fold,
            ]
        )

    # --- helpers ----------------------------------------------------------------------------

    def eigenvalues(self, u) -> tuple[np.ndarray, np.ndarray]:
        """The saddle's stable and unstable eigenvalues (of $\\Lambda_s$, $\\Lambda_u$)."""
        z = self.split(np.asarray(u, float))
        return _eigvals(z["Ls"]), _eigvals(z["Lu"])

    def saddle_quantity(self, u) -> float:
        r"""$\sigma$ (NaN for a saddle-node, whose leading eigenvalue is zero)."""
        if self.saddle_node:
            return math.nan
        ls, lu = _leading(*self.eigenvalues(u))
        return float(ls.real + lu.real)

    def return_side(self, u) -> float:
        r"""A saddle-node orbit's $\psi = rac{p\cdot(x(1) - x_0)}{p\cdot(x(0) - x_0)}$,
        $p$ the left null vector: negative while the orbit leaves and returns along the
        centre manifold (from its two sides), zero where it returns along the strong stable
        manifold (the saddle-node loop point, SNL, the end of the HSN curve)."""
        z = self.split(np.asarray(u, float))
        _, A, _ = _f_and_jac(self.system_at(z["q"]), z["x0"], z["p1"])
        U = np.linalg.svd(A)[0]
        pc = U[:, -1]
        return float(pc @ (z["X"][-1] - z["x0"]) / (pc @ (z["X"][0] - z["x0"])))

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
        c_ref = self.c_ref
        if self.saddle_node:
            c_ref = jnp.asarray(z["v"] / (z["v"] @ z["v"]))
        return dataclasses.replace(
            self,
            ref_x=jnp.asarray(np.einsum("ck,jkn->jcn", L, Xj)),
            ref_dot=jnp.asarray(np.einsum("ck,jkn->jcn", D, Xj) / h[:, None, None]),
            Ys_ref=jnp.asarray(_dual(Ys)),
            Yu_ref=jnp.asarray(_dual(Yu)),
            c_ref=c_ref,
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
        ev = np.concatenate([ev_s, ev_u, np.zeros(int(self.saddle_node))])
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
        if self.saddle_node:
            return {"SNL": lambda u, t, J: self.return_side(u)}

        def snl(u, t, J):
            ev_s, ev_u = self.eigenvalues(u)
            return float(np.real(np.prod(ev_s) * np.prod(ev_u)))

        return {"NSS": lambda u, t, J: self.saddle_quantity(u), "SNL": snl}

    def point_data(self, u, jacobian) -> HomoclinicOrbit:
        return self.orbit(u)

    def stop_condition(self, u, data, history):
        if not history:
            return None
        if self.saddle_node:
            if self.return_side(u) * self.return_side(history[0].info["u"]) < 0:
                return Stop(
                    BranchStatus.saddle_node,
                    "the saddle-node homoclinic orbit returns along the strong stable "
                    "manifold: a saddle-node loop point (SNL), the end of the HSN curve",
                )
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


def _saddle(system: EquilibriumSystem, x, p, where: str = "") -> np.ndarray:
    """The equilibrium Newton reaches from `x` (ContinuationError when it does not)."""

    def fn(z):
        F, A, _ = _f_and_jac(system, z, p)
        return F, A

    sol = newton(fn, np.asarray(x, float), rtol=1e-12, atol=1e-12, max_steps=40)
    if not sol.ok:
        raise ContinuationError(
            where
            or "no equilibrium found near the slowest point of the cycle: the cycle is not "
            "close to a homoclinic orbit (continue it to a larger period)"
        )
    return sol.value


def _fold(system, x, p) -> tuple[np.ndarray, float]:
    """The fold of equilibria (saddle-node) Newton reaches from `(x, p)`, moving `p`."""
    x0, p0, _, ok = locate_fold(system, x, p)
    if not ok:
        raise ContinuationError(
            "no fold of equilibria found near the slowest point of the cycle: the cycle is "
            "not close to a saddle-node homoclinic orbit (SNIC)"
        )
    return x0, p0


def _from_cycle(system, traj, T_c, p, radius, n_intervals, m, saddle_node=False):
    """The first guess of the homoclinic orbit from the samples `traj` (k, n) of a cycle of
    period `T_c` over one period: `(mesh, X, T, x0, p)` (`p` moves to the fold of a
    `saddle_node` orbit)."""
    xs = np.asarray(traj, float)[:-1]  # the last sample repeats the first
    k = xs.shape[0]
    scale = np.ptp(xs, axis=0) + 1e-300
    speed = np.array([np.max(np.abs(_f_and_jac(system, x, p)[0]) / scale) for x in xs])
    i_slow = int(np.argmin(speed))
    if saddle_node:
        x0, p = _fold(system, xs[i_slow], p)
    else:
        x0 = _saddle(system, xs[i_slow], p)
    _, A, _ = _f_and_jac(system, x0, p)
    ev = np.linalg.eigvals(A)
    hyperbolic_saddle = np.any(ev.real > 0) and np.any(ev.real < 0) and not np.any(ev.real == 0)
    if not (saddle_node or hyperbolic_saddle):
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
    return mesh, X, (b - a) / k * T_c, x0, p


class _Extended(eqx.Module):
    r"""$z = (x, p_1, p_2) \mapsto f(x; p_1, p_2)$: the vector field and its parameters as one
    argument (their mixed derivatives by `_real_form`)."""

    system: _TwoParameterSystem

    def __call__(self, z):
        n = z.shape[0] - 2
        return self.system.f(z[:n], z[n], z[n + 1])


def _bogdanov_takens_unfolding(system: _TwoParameterSystem, x, p1: float, p2: float):
    r"""The parameter-dependent centre manifold of a Bogdanov-Takens point to the order the
    homoclinic predictor needs (module docstring, *Start from a BT point*): a dict with
    `a`, `b`, `q0`, `q1`, `K10`, `K01`, `K02`, `H01` ($H_{0001}$)."""
    x = np.asarray(x, float)
    n = x.size
    z0 = np.concatenate([x, [p1, p2]])
    ext = _Extended(system)
    J = np.asarray(_jacobian(ext, jnp.asarray(z0)))
    A, J1 = J[:, :n], J[:, n:]
    basis = bogdanov_takens_basis(A)
    q0, q1, p0, p1v = basis

    def pad(v, k=(0.0, 0.0)):
        return np.concatenate([v, k])

    def D2(v, w):
        return _real_form(ext, z0, v, w)[:n]

    Q0, Q1 = pad(q0), pad(q1)
    a, b = bogdanov_takens_ab(basis, lambda v, w: D2(pad(v), pad(w)))
    g = J1.T @ p1v
    scale = float(np.linalg.norm(J) * np.linalg.norm(p1v))
    if not np.linalg.norm(g) > 1e-9 * scale:
        raise ValueError(
            "the two parameters do not unfold the Bogdanov-Takens point (p1 . f_alpha = 0): "
            "no homoclinic predictor"
        )
    K10 = g / (g @ g)
    kperp = np.array([-g[1], g[0]]) / np.linalg.norm(g)
    hp = np.linalg.lstsq(A, -J1 @ kperp, rcond=None)[0]
    Hk = pad(hp, kperp)
    c1 = float(p1v @ D2(Q0, Hk))
    c2 = float(p1v @ D2(Q1, Hk) + p0 @ D2(Q0, Hk))
    M = np.array([[c1, 2 * a], [c2, b]])
    if not abs(np.linalg.det(M)) > 1e-12 * (abs(c1 * b) + abs(2 * a * c2) + 1e-300):
        raise ValueError("degenerate Bogdanov-Takens unfolding (the beta2 term cannot be scaled)")
    s_, gamma = np.linalg.solve(M, [0.0, 1.0])
    H01 = s_ * hp + gamma * q0
    K01 = s_ * kperp
    h01 = pad(H01, K01)
    K02 = -float(p1v @ D2(h01, h01)) * g / (g @ g)
    return {"a": a, "b": b, "q0": q0, "q1": q1, "K10": K10, "K01": K01, "K02": K02, "H01": H01}


def _from_bogdanov_takens(model, point, param, other, I, amplitude, radius, n_intervals, m):
    """The second-order predictor of the homoclinic orbit near the BT `point` (module
    docstring): `(system, mesh, X, T, x0, p1, p2)` with `system` in `param` at `other = p2`."""
    p1_0, p2_0 = float(point.params[param]), float(point.params[other])
    x_full = np.asarray(model.to_vector({**model.resting_state(), **point.state}), float)
    x_full = x_full.reshape(-1)
    base = _prepare(model, param, I, x_full, p1_0)
    two = _TwoParameterSystem(base, other)
    x_bt = x_full[np.asarray(base.active)]
    nf = _bogdanov_takens_unfolding(two, x_bt, p1_0, p2_0)
    a, b = nf["a"], nf["b"]
    if not (abs(a) > 1e-12 and abs(b) > 1e-12):
        raise ValueError(
            f"degenerate Bogdanov-Takens point (a = {a:.3g}, b = {b:.3g}): no homoclinic predictor"
        )
    # the normal form's scaled homoclinic orbit: w0 = eps^2 u0(xi) / a, w1 = eps^3 v0(xi) / a
    # at beta2 = (10/7)(b/a) eps^2, beta1 = -4 eps^4 / a, with xi = eps t
    eps2 = amplitude * abs(a) / 6.0
    eps = math.sqrt(eps2)
    beta1, beta2 = -4.0 * eps2 * eps2 / a, (10.0 / 7.0) * (b / a) * eps2
    alpha = np.array([p1_0, p2_0]) + nf["K10"] * beta1 + nf["K01"] * beta2
    alpha = alpha + 0.5 * nf["K02"] * beta2 * beta2
    L = 0.5 * math.log(4.0 / radius)  # sech^2(L) = radius: the ends' relative distance
    xi = np.linspace(-L, L, 40 * n_intervals * m + 1)
    S, th, lc = 1.0 / np.cosh(xi) ** 2, np.tanh(xi), np.log(np.cosh(xi))
    # u = u0 + eps u1 + O(eps^2) solves u'' = u^2 - 4 + eps (b/a)(10/7 + u) u'
    u0, v0 = 2.0 - 6.0 * S, 12.0 * S * th
    c = -72.0 / 7.0 * b / a
    u1, v1 = c * lc * S * th, c * (S * th * th + lc * S * (S - 2.0 * th * th))
    shift = x_bt + nf["H01"] * beta2
    W = shift + np.outer(eps2 * (u0 + eps * u1) / a, nf["q0"])
    W = W + np.outer(eps2 * eps * (v0 + eps * v1) / a, nf["q1"])
    t = (xi + L) / (2 * L)
    mesh = _equidistributed(W, t, n_intervals)
    nodes = _open_node_times(mesh, m)
    X = np.stack([np.interp(nodes, t, W[:, i]) for i in range(W.shape[1])], axis=1)
    system = _with_param(base, other, jnp.asarray(float(alpha[1])))
    x0 = _saddle(
        system,
        shift + 2.0 * eps2 / a * nf["q0"],
        float(alpha[0]),
        f"no saddle found at the predicted parameters: amplitude={amplitude} is too large",
    )
    return system, mesh, X, 2 * L / eps, x0, float(alpha[0]), float(alpha[1])


def homoclinic_from_bogdanov_takens(
    model: NeuronModel,
    point: Codim2Point,
    amplitude: float,
    *,
    param: str = "I",
    I: float = 0.0,
    radius: float = 1e-3,
    n_intervals: int = 60,
    degree: int = 4,
) -> HomoclinicOrbit:
    r"""The predicted homoclinic orbit near a Bogdanov-Takens point (module docstring,
    *Start from a BT point*), not yet corrected: the start `continue_homoclinic` takes.

    **Arguments:** `model`; `point`: a located BT `Codim2Point` (from a fold or Hopf curve of
    `bifurcation_curve`, or built from a closed form) whose two parameters are `param` and
    one other; `amplitude`: the orbit's size (the distance from the saddle to the far end
    of the loop, state units; $6arepsilon^2/|a|$ with $|q_0| = 1$), small; `I`: the input
    current when neither parameter is `"I"`; `radius`: the ends of the truncated orbit lie
    at this fraction of the amplitude from the saddle ($\mathrm{sech}^2 L$);
    `n_intervals`, `degree`: the collocation mesh.

    **Returns:** a `HomoclinicOrbit` with the predicted parameters, the saddle (Newton at
    those parameters) and the predicted orbit.

    **Raises:** `ValueError` for bad arguments, float32, or a degenerate BT point ($a$ or
    $b$ zero, or parameters that do not unfold it); `ContinuationError` when Newton finds
    no saddle at the predicted parameters (the amplitude is too large).
    """
    require_float64("spikejax.analysis.homoclinic_from_bogdanov_takens")
    if not (isinstance(point, Codim2Point) and point.kind == SpecialPointKind.BT):
        raise ValueError(f"point must be a BT Codim2Point, got {point!r}")
    if param not in point.params or len(point.params) != 2:
        raise ValueError(f"param={param!r} must be one of the BT point's {tuple(point.params)}")
    if not (0 < amplitude < math.inf):
        raise ValueError(f"amplitude must be finite and > 0 (state units), got {amplitude!r}")
    if not (0 < radius < 0.5):
        raise ValueError(f"radius must be in (0, 0.5), got {radius!r}")
    check_collocation_options(n_intervals, degree, 0, 1.0)
    (other,) = (k for k in point.params if k != param)
    system, mesh, X, T, x0, p1, p2 = _from_bogdanov_takens(
        model, point, param, other, I, float(amplitude), radius, n_intervals, degree
    )
    prob, u0 = _problem(system, mesh, X, x0, degree, p1, param, other, T, 3)
    u0 = np.concatenate([u0, [p2]])
    return prob.with_reference(u0).orbit(u0)


def _problem(
    system, mesh, X, x0, m, p1, param, param2, T, adapt_every, kind=HomoclinicKind.saddle
) -> tuple[HomoclinicProblem, np.ndarray]:
    """The problem and its unknowns from an orbit guess `X` on the open `mesh`."""
    _, A, _ = _f_and_jac(system, x0, p1)
    centre = kind == HomoclinicKind.saddle_node
    Ys, Ls = _invariant_basis(A.T, stable=True, centre=centre)
    Yu, Lu = _invariant_basis(A.T, stable=False, centre=centre)
    v = np.linalg.svd(A)[2][-1] if centre else np.zeros(0)
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
        HomoclinicKind(kind),
        jnp.asarray(v),
    )
    parts = [X.reshape(-1), x0, Ys.reshape(-1), Yu.reshape(-1), Ls.reshape(-1), Lu.reshape(-1)]
    return prob, np.concatenate([*parts, v, [p1]])


def continue_homoclinic(
    model: NeuronModel,
    start: LimitCycle | HomoclinicOrbit | Codim2Point,
    param2: str,
    stop2: float,
    *,
    param: str = "I",
    I: float = 0.0,
    bounds2: tuple[float, float] | None = None,
    n_intervals: int = 60,
    degree: int = 4,
    radius: float | None = None,
    amplitude: float | None = None,
    adapt_every: int = 3,
    ds: float | None = None,
    ds_max: float | None = None,
    max_steps: int = 200,
    tol: float = 1e-9,
    locate: bool = True,
    throw: bool = False,
    kind: str | None = None,
) -> HomoclinicBranch:
    r"""Continue a saddle homoclinic orbit (Beyn's method, module docstring) in `param` and
    `param2` towards `param2 = stop2`.

    **Arguments:**

    - `model`, `param`, `I`: the single-cell model, the first free parameter (`"I"` or a
      model field) and the input current when `param` is a field.
    - `start`: a `LimitCycle` of large period near a homoclinic orbit (e.g. the last cycle
      of a `continue_cycles_collocation` branch ending `period_diverged`; its `param`
      value is the first parameter's), a `HomoclinicOrbit` of an earlier curve (same
      model, same `param`) or of `homoclinic_from_bogdanov_takens`, or a BT
      `Codim2Point` (whose parameters are `param` and `param2`; started with
      `homoclinic_from_bogdanov_takens` at `amplitude`).
    - `param2`, `stop2`, `bounds2`: the second free quantity, a model field or `"I"` (the
      interval length $T$ stays fixed: the homoclinic curve in two parameters), or `"T"`
      (one parameter: $T$ grows towards `stop2` and `param` converges to the homoclinic
      value); where it should end, and the range it may not leave.
    - `n_intervals` ($N$), `degree` ($m$, 2 to 7): the mesh of a cycle start (it takes the
      refined cycle's mesh density); `radius`: the part of the cycle within this distance
      of the saddle (relative to the cycle's range in each variable) is cut off (default
      0.02; for a BT start, `homoclinic_from_bogdanov_takens`'s, default 1e-3);
      `amplitude`: the predicted orbit's size for a BT start; `kind`: `"saddle"` or
      `"saddle_node"` (a `HomoclinicKind`; module docstring; default: the start orbit's kind,
      else `"saddle"`; a saddle `HomoclinicOrbit` near its SNL point starts a saddle-node
      curve at the fold nearby);
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
    if not isinstance(start, LimitCycle | HomoclinicOrbit | Codim2Point):
        raise ValueError("start must be a LimitCycle, a HomoclinicOrbit or a BT Codim2Point")
    amp = math.nan  # a BT start's amplitude
    if isinstance(start, Codim2Point):
        if start.kind != SpecialPointKind.BT:
            raise ValueError(f"a Codim2Point start must be a BT point, got kind {start.kind!s}")
        if param not in start.params or (param2 != "T" and param2 not in start.params):
            raise ValueError(
                f"param={param!r} and param2={param2!r} must be the BT point's parameters "
                f"{tuple(start.params)} (param2 may also be 'T')"
            )
        if amplitude is None:
            raise ValueError("a BT start needs the amplitude (the predicted orbit's size)")
        amp = float(amplitude)
    if kind is None:
        kind = start.info["problem"].kind if isinstance(start, HomoclinicOrbit) else "saddle"
    if kind not in tuple(HomoclinicKind):
        raise ValueError(f"kind must be one of {[str(k) for k in HomoclinicKind]}, got {kind!r}")
    kind = HomoclinicKind(kind)
    if (
        kind == HomoclinicKind.saddle
        and isinstance(start, HomoclinicOrbit)
        and start.info["problem"].saddle_node
    ):
        raise ValueError("start is a saddle-node homoclinic orbit: kind must be 'saddle_node'")
    if kind == HomoclinicKind.saddle_node and isinstance(start, Codim2Point):
        raise ValueError("a BT start gives a saddle homoclinic orbit: use kind='saddle'")
    if param2 == param:
        raise ValueError(f"param2 must differ from param, got both {param!r}")
    if param2 not in ("T", "I") and param2 not in model.parameters():
        raise ValueError(
            f"unknown parameter name param2={param2!r} for {type(model).__name__}; "
            f"choose 'T', 'I' or one of {sorted(model.parameters())}"
        )
    check_finite("stop2", stop2)
    check_collocation_options(n_intervals, degree, adapt_every, tol)
    if radius is None:
        radius = 1e-3 if isinstance(start, Codim2Point) else 0.02
    if not (0 < radius < 0.5):
        raise ValueError(f"radius must be in (0, 0.5), got {radius!r}")
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")

    if isinstance(start, Codim2Point):
        start = homoclinic_from_bogdanov_takens(
            model, start, amp, param=param, I=I, radius=radius,
            n_intervals=n_intervals, degree=degree,
        )  # fmt: skip
    if isinstance(start, HomoclinicOrbit):
        old: HomoclinicProblem = start.info["problem"]
        if old.coll.system.model.state_names != model.state_names or (old.coll.param_name != param):
            raise ValueError("start does not belong to this model and parameter")
        z = old.split(start.info["u"])
        system = old.system_at(z["q"])
        mesh, m = np.asarray(old.coll.mesh), old.degree
        X, x0, p1, T = z["X"], z["x0"], float(z["p1"]), start.T
        if kind == HomoclinicKind.saddle_node and not old.saddle_node:
            # from a saddle homoclinic orbit near its SNL point: the saddle-node nearby
            x0, p1 = _fold(system, x0, p1)
    else:
        system = _prepare(model, param, I, start.trajectory[0], start.param)
        traj = np.asarray(start.trajectory, float)[:, np.asarray(system.active)]
        m = degree
        mesh, X, T, x0, p1 = _from_cycle(
            system, traj, float(start.period), float(start.param), radius, n_intervals, m,
            saddle_node=kind == HomoclinicKind.saddle_node,
        )  # fmt: skip
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

    prob, u0 = _problem(system, mesh, X, x0, m, p1, param, param2, T, adapt_every, kind)
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
