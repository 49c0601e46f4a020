r"""Periodic orbits by orthogonal collocation, their Floquet multipliers and bifurcations.

A periodic orbit of $\dot x = f(x, p)$ with period $T$ is, in scaled time $\tau = t/T$, a
1-periodic solution of $x' = T f(x, p)$. As in AUTO and MatCont (Doedel, Keller & Kernevez
1991; Dhooge, Govaerts & Kuznetsov 2003), $[0, 1]$ is cut into $N$ mesh intervals
$[\tau_j, \tau_{j+1}]$, on each of which $x$ is the polynomial of degree $m$ through its values
at $m + 1$ equally spaced nodes (neighbouring intervals share their end nodes; the last node
is the first, which makes the orbit periodic). The unknowns are
$$u = (x_{0}, \dots, x_{Nm - 1}, T, p) \in \mathbb{R}^{Nmn + 2},$$
and the residual is the differential equation at the $m$ Gauss-Legendre points
$\zeta_{j,c}$ of every interval, $x'(\zeta_{j,c}) - T f(x(\zeta_{j,c}), p) = 0$ ($Nmn$
equations), with the integral phase condition against the previous orbit $\tilde x$,
$\int_0^1 x(\tau)\cdot\tilde x'(\tau)\,d\tau = 0$ (Gauss quadrature), one equation fewer
than unknowns: a curve for `spikejax.solvers.continue_branch`. The residual is one jitted
function; its Jacobian comes from `jax.jacfwd` (dense: the sizes used here, $Nmn$ up to a
few thousand, solve in milliseconds).

**Mesh adaptation** (`CollocationProblem.adapt`, every `adapt_every` steps): the mesh
equidistributes $\int |x^{(m+1)}|^{1/(m+1)}\,d\tau$, with $x^{(m+1)}$ estimated from the jumps
of the (piecewise constant) $m$-th derivative between neighbouring intervals, as AUTO does;
the orbit and the tangent are interpolated onto the new mesh.

**Floquet multipliers** from the collocation Jacobian's block structure: on interval $j$,
the linearised collocation equations in the interval's interior and end nodes, solved for
the start node, give the transfer matrix $M_j$ of the discretised variational equation
(condensation of parameters); the monodromy matrix is $M_{N-1}\cdots M_0$. Each $M_j$ is
well conditioned (one short interval), so multipliers as large as $10^6$ (unstable
Hodgkin-Huxley cycles) come with a relative error near $10^{-12}$ and the trivial multiplier
within $|\mu_\max|\,10^{-15}$ of 1.

**Special points** (test functions on the branch, located by regula falsi in arclength):
LPC (fold of cycles: the tangent's $p$-component), PD (a real multiplier crosses $-1$:
$\prod (\mu_i + 1)$ over the nontrivial multipliers), NS (a complex pair crosses the unit
circle: $\prod_{i<j} (\mu_i\mu_j - 1)$, kept only where the critical pair is complex),
BPC (the sign of the tangent-bordered Jacobian's determinant, kept where $F_u$ is rank
deficient). LPC, PD and NS points carry their normal-form coefficients
(`spikejax.analysis._cycle_normal_forms`); a BPC point starts the other branch (the
algebraic branching equation in the kernel of $F_u$).

References: Doedel, Keller & Kernevez (1991), *Int. J. Bifurcation Chaos* 1, 493-520 and
745-772; Kuznetsov (2004), *Elements of Applied Bifurcation Theory*, ch. 10.3;
Dhooge, Govaerts & Kuznetsov (2003), *ACM TOMS* 29, 141-164 (MatCont).
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._validation import check_positive, require_float64
from ..models._base import NeuronModel
from ..solvers._continuation import (
    BranchStatus,
    ContinuationError,
    ContinuationProblem,
    Segment,
    SpecialPointKind,
    Stop,
    continue_branch,
    solve_at_parameter,
)
from ._collocation_options import check_collocation_options
from ._continuation import (
    EquilibriumSystem,
    SpecialPoint,
    _f_and_jac,
    branching_directions,
    first_lyapunov_coefficient,
)
from ._limit_cycle import (
    _N_SAVE,
    CycleBranch,
    LimitCycle,
    _check_cycle_options,
    _cycle_algorithm,
    _cycle_branch,
    _prepare,
)

__all__ = [
    "CollocationProblem",
    "continue_cycles_collocation",
    "floquet_multipliers",
    "hopf_normal_form",
]


_HOPF_END = 0.05  # a family whose amplitude has a minimum below 5% of its largest: a Hopf point
# A located point is kept only where the multipliers confirm it: the trivial multiplier within
# _TRIVIAL_TOL of 1 (the mesh resolves the orbit), the critical one within _CRIT_TOL of -1 (PD)
# or of the unit circle (NS), a second one within _LPC_MULT_TOL of 1 (LPC: a double multiplier
# 1; the split grows as the square root of the distance in arclength).
_TRIVIAL_TOL = 1e-3
_CRIT_TOL = 1e-3
_LPC_MULT_TOL = 0.05
_LPC_MULTIPLIER = "LPC_multiplier"  # the second test function of folds of cycles
_FLOQUET_CACHE: dict[str, Any] = {}  # the last multipliers computed (`CollocationProblem._floquet`)

# ----------------------------------------------------------------------------------------------
# Tables of the piecewise polynomials
# ----------------------------------------------------------------------------------------------


@cache
def _tables(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For degree `m` on $[0, 1]$: the Gauss points `z` (m,), weights `w` (m,), the Lagrange
    basis of the equally spaced nodes at the Gauss points `L` (m, m+1), its derivative `D`
    (m, m+1) and its (constant) m-th derivative `Dm` (m+1,)."""
    x, w = np.polynomial.legendre.leggauss(m)
    z, w = 0.5 * (x + 1.0), 0.5 * w
    s = np.linspace(0.0, 1.0, m + 1)
    C = np.linalg.inv(np.vander(s, m + 1, increasing=True))  # l_k(z) = sum_i C[i, k] z^i
    powers = np.arange(m + 1)
    Vz = z[:, None] ** powers[None, :]
    dVz = np.where(
        powers[None, :] > 0, powers[None, :] * z[:, None] ** np.maximum(powers - 1, 0), 0
    )
    L = Vz @ C
    D = dVz @ C
    Dm = math.factorial(m) * C[m]
    return z, w, L, D, Dm


def _lagrange(m: int, s: np.ndarray) -> np.ndarray:
    """The Lagrange basis of the `m + 1` equally spaced nodes at local points `s` ((k, m+1))."""
    nodes = np.linspace(0.0, 1.0, m + 1)
    C = np.linalg.inv(np.vander(nodes, m + 1, increasing=True))
    return (np.asarray(s, float)[:, None] ** np.arange(m + 1)[None, :]) @ C


def _node_index(N: int, m: int) -> np.ndarray:
    """(N, m+1) indices of the nodes of each interval into the `N m` stored nodes."""
    return (np.arange(N)[:, None] * m + np.arange(m + 1)[None, :]) % (N * m)


def _node_times(mesh: np.ndarray, m: int) -> np.ndarray:
    """The `N m` node times in $[0, 1)$."""
    h = np.diff(mesh)
    return (mesh[:-1, None] + h[:, None] * np.linspace(0.0, 1.0, m + 1)[None, :-1]).reshape(-1)


def _evaluate(mesh: np.ndarray, X: np.ndarray, m: int, taus: np.ndarray) -> np.ndarray:
    """The piecewise polynomial with node values `X` (N m, n) at times `taus` (mod 1)."""
    mesh = np.asarray(mesh, float)
    N = mesh.size - 1
    taus = np.mod(np.asarray(taus, float), 1.0)
    j = np.clip(np.searchsorted(mesh, taus, side="right") - 1, 0, N - 1)
    s = (taus - mesh[j]) / (mesh[j + 1] - mesh[j])
    Lb = _lagrange(m, s)  # (k, m+1)
    Xj = X[_node_index(N, m)[j]]  # (k, m+1, n)
    return np.einsum("ik,ikn->in", Lb, Xj)


def _adapted_mesh(mesh: np.ndarray, X: np.ndarray, m: int) -> np.ndarray:
    r"""A mesh of the same size equidistributing $|x^{(m+1)}|^{1/(m+1)}$ (AUTO's monitor)."""
    N = mesh.size - 1
    h = np.diff(mesh)
    Dm = _tables(m)[4]
    dm = np.einsum("k,jkn->jn", Dm, X[_node_index(N, m)]) / h[:, None] ** m
    # (m+1)-th derivative at each mesh point from the jump of the m-th (periodic)
    jump = np.max(np.abs(dm - np.roll(dm, 1, axis=0)), axis=1) / (0.5 * (h + np.roll(h, 1)))
    d = 0.5 * (jump + np.roll(jump, -1))  # per interval: average of its two end points
    rho = d ** (1.0 / (m + 1))
    rho = rho + 0.05 * max(float(np.mean(rho)), 1e-300)  # a floor: no interval collapses
    cum = np.concatenate([[0.0], np.cumsum(rho * h)])
    cum /= cum[-1]
    new = np.interp(np.linspace(0.0, 1.0, N + 1), cum, mesh)
    new[0], new[-1] = 0.0, 1.0
    return new


# ----------------------------------------------------------------------------------------------
# Floquet multipliers by condensation of the collocation Jacobian
# ----------------------------------------------------------------------------------------------


def _condensed(J: np.ndarray, N: int, m: int, n: int) -> np.ndarray:
    """(N, m n, n): for each interval, its interior and end nodes as linear functions of its
    start node, from the linearised collocation equations (condensation of parameters)."""
    idx = _node_index(N, m)
    cols = (idx[:, :, None] * n + np.arange(n)[None, None, :]).reshape(N, (m + 1) * n)
    rows = np.arange(N * m * n).reshape(N, m * n)
    blocks = J[rows[:, :, None], cols[:, None, :]]  # (N, m n, (m+1) n)
    A, B = blocks[:, :, n:], blocks[:, :, :n]
    return np.linalg.solve(A, -B)


def _transfer_matrices(J: np.ndarray, N: int, m: int, n: int) -> np.ndarray:
    """(N, n, n): for each interval, the map from its start node to its end node of the
    linearised collocation equations (the interior nodes eliminated)."""
    return _condensed(J, N, m, n)[:, -n:, :]


def _wrapped(M: np.ndarray, N: int, m: int, n: int, factor: complex) -> np.ndarray:
    """A copy of `M` (rows: the `N m n` Gauss-point equations; columns: the node values)
    with the last interval's end node, stored as node 0, multiplied by `factor`: the
    periodic wrap $x(1) = x(0)$ becomes $v(1) = $ `factor` $v(0)$ (-1: antiperiodic)."""
    out = np.array(M, dtype=np.result_type(M, factor), copy=True)
    rows = np.arange((N - 1) * m * n, N * m * n)
    out[rows[:, None], np.arange(n)[None, :]] *= factor
    return out


def _gauss_matrix(mesh: np.ndarray, m: int, n: int) -> np.ndarray:
    """(N m n, N m n): node values to values at the Gauss points (same layout as the
    collocation equations)."""
    N = mesh.size - 1
    L = _tables(m)[2]
    idx = _node_index(N, m)
    rows = (np.arange(N)[:, None, None, None] * m + np.arange(m)[None, :, None, None]) * n
    rows = rows + np.arange(n)[None, None, None, :]
    cols = idx[:, None, :, None] * n + np.arange(n)[None, None, None, :]
    rows, cols = np.broadcast_arrays(rows, cols)  # (N, m, m + 1, n)
    vals = np.broadcast_to(L[None, :, :, None], rows.shape)
    P = np.zeros((N * m * n, N * m * n))
    np.add.at(P, (rows.reshape(-1), cols.reshape(-1)), vals.reshape(-1))
    return P


def _floquet_function(J: np.ndarray, N: int, m: int, n: int, target: complex):
    """The multiplier nearest `target` and the real part of its eigenfunction at the `N m`
    nodes (max-norm 1), propagated interval by interval from the monodromy's eigenvector."""
    S = _condensed(J, N, m, n)
    M = np.eye(n)
    for Sj in S:
        M = Sj[-n:] @ M
    ev, V = np.linalg.eig(M)
    k = int(np.argmin(np.abs(ev - target)))
    cur = np.real(V[:, k])
    nodes = np.zeros((N * m, n))
    for j in range(N):
        nodes[j * m] = cur
        inner = S[j] @ cur
        nodes[j * m + 1 : (j + 1) * m] = inner[:-n].reshape(m - 1, n)
        cur = inner[-n:]
    return ev[k], nodes / np.max(np.abs(nodes))


def floquet_multipliers(
    jacobian: np.ndarray,
    n_intervals: int,
    degree: int,
    n: int,
    directions: np.ndarray | None = None,
) -> np.ndarray:
    r"""Floquet multipliers of a collocation solution from its Jacobian (the trivial one
    included), sorted by decreasing modulus.

    **Arguments:** `jacobian`: $F_u$ of `CollocationProblem` at the orbit (at least its first
    $Nmn$ rows and columns); `n_intervals` ($N$), `degree` ($m$), `n` (state dimension);
    `directions`: optional, $f(x(\tau_j))$ at the $N$ mesh points, `(N, n)`.

    **Returns:** without `directions`, the eigenvalues of $M = M_{N-1}\cdots M_0$, the
    product of the intervals' transfer matrices (complex, shape `(n,)`). With `directions`,
    the trivial multiplier is deflated: in orthogonal frames $Q_j$ whose first column is
    along $f(x(\tau_j))$, $Q_{j+1}^\top M_j Q_j$ is block upper triangular up to the
    discretisation error (the flow carries $f$ along the orbit), so the trivial multiplier is
    the product of the $(0, 0)$ entries and the others are the eigenvalues of the product of
    the lower $(n-1)\times(n-1)$ blocks. The eigenvalues of $M$ itself lose every multiplier
    of order one where the orbit's neighbours grow by $e^{K}$ and then shrink by $e^{-K}$
    with a shear between the two directions (a canard's repelling and attracting slow
    manifolds: a non-normal $M$, rounding errors near $10^{-16} e^{2K}$); the deflated
    product does not (`CollocationProblem.multipliers` passes the directions).
    """
    trivial, others = _deflated(jacobian, n_intervals, degree, n, directions)
    mu = others if trivial is None else np.concatenate([[trivial], others])
    return mu[np.argsort(-np.abs(mu))]


def _deflated(J, N: int, m: int, n: int, directions) -> tuple[complex | None, np.ndarray]:
    """`(trivial, others)`: the deflated trivial multiplier and the others (`(None, all)`
    without `directions` or where $f$ vanishes at a mesh point)."""
    Ms = _transfer_matrices(np.asarray(J, float), N, m, n)
    Q = None if directions is None else _orbit_frames(directions)
    if Q is None:
        M = np.eye(n)
        for Mj in Ms:
            M = Mj @ M
        return None, np.linalg.eigvals(M).astype(complex)
    # in the frames, M_j is block upper triangular up to the discretisation error in its
    # first column (the flow carries f(x(tau_j)) to a multiple of f(x(tau_j+1))): the
    # trivial multiplier is the product of the (0, 0) entries, the others the eigenvalues of
    # the product of the lower blocks, and the growth along the orbit no longer swamps them
    Tj = np.einsum("jab,jac,jcd->jbd", np.roll(Q, -1, axis=0), Ms, Q)
    B = np.eye(n - 1)
    for Bj in Tj[:, 1:, 1:]:
        B = Bj @ B
    return complex(np.prod(Tj[:, 0, 0])), np.linalg.eigvals(B).astype(complex)


def _orbit_frames(directions: np.ndarray) -> np.ndarray | None:
    r"""(N, n, n): at each mesh point an orthogonal matrix (a Householder reflection) whose
    first column is the unit vector along `directions[j]` ($f(x(\tau_j))$); None where $f$
    vanishes or is not finite."""
    f0 = np.asarray(directions, float)
    N, n = f0.shape
    norm = np.linalg.norm(f0, axis=1)
    if not (np.all(np.isfinite(norm)) and np.all(norm > 1e-12 * max(float(norm.max()), 1e-300))):
        return None
    e0 = np.zeros(n)
    e0[0] = 1.0
    v = f0 / norm[:, None] - e0[None, :]
    vv = np.einsum("jn,jn->j", v, v)
    H = np.broadcast_to(np.eye(n), (N, n, n)).copy()
    big = vv > 1e-30
    H[big] -= 2.0 * v[big, :, None] * v[big, None, :] / vv[big, None, None]
    return H


def _nontrivial(mu: np.ndarray) -> np.ndarray:
    k = int(np.argmin(np.abs(mu - 1.0)))
    return np.delete(mu, k)


def _pd_test(mu: np.ndarray) -> float:
    r"""$\prod (\mu_i + 1)/\max(1, |\mu_i|)$ over the nontrivial multipliers: changes sign where
    a real multiplier crosses $-1$ (a complex pair contributes $|\mu + 1|^2 > 0$)."""
    val = np.prod([(x + 1.0) / max(1.0, abs(x)) for x in _nontrivial(mu)])
    return float(np.real(val))


def _ns_test(mu: np.ndarray) -> float:
    r"""$\prod_{i<j} (\mu_i\mu_j - 1)/\max(1, |\mu_i\mu_j|)$ over the nontrivial multipliers:
    changes sign where a pair with $\mu_i\mu_j = 1$ appears (a complex pair on the unit circle,
    or a neutral saddle pair $\mu, 1/\mu$, which `locate` drops)."""
    r = _nontrivial(mu)
    val = 1.0 + 0j
    for i in range(r.size):
        for j in range(i + 1, r.size):
            q = r[i] * r[j]
            val *= (q - 1.0) / max(1.0, abs(q))
    return float(np.real(val))


def _bpc_test(J: np.ndarray, t: np.ndarray) -> float:
    r"""The sign of $\det\begin{pmatrix} F_u \\ t^\top\end{pmatrix}$ (the cycle Jacobian
    bordered by the tangent): it keeps its sign through folds of cycles and changes it at a
    simple branch point of cycles (Allgower & Georg 2003, sec. 8.1)."""
    sign, _ = np.linalg.slogdet(np.vstack([np.asarray(J, float), np.asarray(t, float)[None, :]]))
    return float(sign)


def _is_branch_point(J: np.ndarray, rtol: float = 1e-6) -> bool:
    """A located BPC must make $F_u$ rank deficient (a second kernel vector): a sign change
    of `_bpc_test` from a change of coordinates (mesh adaptation) does not."""
    s = np.linalg.svd(np.asarray(J, float), compute_uv=False)
    return bool(s[-1] < rtol * s[0])


# ----------------------------------------------------------------------------------------------
# The continuation problem
# ----------------------------------------------------------------------------------------------


class CollocationProblem(ContinuationProblem):
    r"""Periodic orbits by orthogonal collocation, $u = (x_0, \dots, x_{Nm-1}, T, p)$.

    **Fields:** `system` (the vector field $f(x, p)$: an `EquilibriumSystem`), `mesh` ($N + 1$
    times from 0 to 1), `ref_dot` ($\tilde x'$ of the phase reference at the Gauss points,
    `(N, m, n)`), `degree` ($m$), `param_name`, `max_period`, `adapt_every` (adapt the mesh
    every that many accepted points; 0: never), `count` (accepted points since the last
    adaptation).

    Test functions: **BPC** (the sign of the tangent-bordered Jacobian's determinant),
    **LPC** (the tangent's $p$-component), **PD**, **NS** (on the Floquet
    multipliers, `floquet_multipliers`). `point_data` is the `LimitCycle`.
    """

    system: EquilibriumSystem
    mesh: Array
    ref_dot: Array
    count: Array
    degree: int = eqx.field(static=True, default=4)
    param_name: str = eqx.field(static=True, default="I")
    max_period: float = eqx.field(static=True, default=math.inf)
    adapt_every: int = eqx.field(static=True, default=3)

    @property
    def n_intervals(self) -> int:
        return int(self.mesh.shape[0]) - 1

    @property
    def n(self) -> int:
        return int(self.ref_dot.shape[2])

    @property
    def n_nodes(self) -> int:
        return self.n_intervals * self.degree

    def split(self, u) -> tuple[Any, Any, Any]:
        """`(X, T, p)`: node values `(N m, n)`, period, parameter."""
        k = self.n_nodes * self.n
        return u[:k].reshape(self.n_nodes, self.n), u[k], u[k + 1]

    def _interval(self, Xj, T, p, h):
        """The collocation equations of one interval, `(m n,)`, from its `(m + 1, n)` nodes."""
        _, _, L, D, _ = _tables(self.degree)
        xc = jnp.asarray(L) @ Xj
        fc = jax.vmap(lambda x: self.system.f(x, p))(xc)
        return ((jnp.asarray(D) @ Xj) / h - T * fc).reshape(-1)

    def _phase(self, u):
        N, m = self.n_intervals, self.degree
        _, w, L, _, _ = _tables(m)
        X, _, _ = self.split(u)
        xc = jnp.einsum("ck,jkn->jcn", L, X[_node_index(N, m)])
        h = jnp.diff(self.mesh)
        return jnp.sum(h[:, None] * w[None, :] * jnp.sum(xc * self.ref_dot, axis=-1))

    def residual(self, u):
        N, m = self.n_intervals, self.degree
        X, T, p = self.split(u)
        R = jax.vmap(self._interval, in_axes=(0, None, None, 0))(
            X[_node_index(N, m)], T, p, jnp.diff(self.mesh)
        )
        return jnp.concatenate([R.reshape(-1), self._phase(u)[None]])

    def residual_and_jacobian(self, u):
        """$(F, F_u)$: the Jacobian assembled from the intervals' blocks (each interval's
        equations depend on its $m + 1$ nodes, $T$ and $p$), one jitted call."""
        F, J = _collocation_f_and_jac(self, jnp.asarray(np.asarray(u, float)))
        return np.asarray(F), np.asarray(J)

    # --- orbit helpers ----------------------------------------------------------------------

    def derivative_at_gauss(self, X: np.ndarray) -> np.ndarray:
        """$x'$ at the Gauss points `(N, m, n)` of the orbit with node values `X`."""
        N, m = self.n_intervals, self.degree
        D = _tables(m)[3]
        h = np.diff(np.asarray(self.mesh))
        return np.einsum("ck,jkn->jcn", D, np.asarray(X)[_node_index(N, m)]) / h[:, None, None]

    def with_reference(self, u: np.ndarray) -> CollocationProblem:
        """The problem with the phase reference set to the orbit in `u`."""
        X, _, _ = self.split(np.asarray(u, float))
        return dataclasses.replace(self, ref_dot=jnp.asarray(self.derivative_at_gauss(X)))

    def sample(self, u: np.ndarray, n_save: int = _N_SAVE) -> np.ndarray:
        """The orbit at `n_save` equally spaced times over one period (active states)."""
        X, _, _ = self.split(np.asarray(u, float))
        return _evaluate(np.asarray(self.mesh), X, self.degree, np.linspace(0.0, 1.0, n_save))

    def multipliers(self, jacobian: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Floquet multipliers from the Jacobian at the point `u` of the branch (the trivial
        one deflated along $f$ at the mesh points, `floquet_multipliers`)."""
        trivial, others = self._floquet(jacobian, u)
        mu = others if trivial is None else np.concatenate([[trivial], others])
        return mu[np.argsort(-np.abs(mu))]

    def nontrivial_multipliers(self, jacobian: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The multipliers other than the (deflated) trivial one."""
        trivial, others = self._floquet(jacobian, u)
        return others if trivial is not None else _nontrivial(others)

    def _floquet(self, jacobian: np.ndarray, u: np.ndarray) -> tuple[complex | None, np.ndarray]:
        """`_deflated` at `(jacobian, u)`; the last result is reused (the driver asks for the
        multipliers of each point once per test function and once for its `LimitCycle`)."""
        u = np.asarray(u, float)
        key = (id(jacobian), self.n_intervals, self.degree, u.tobytes())
        if _FLOQUET_CACHE.get("key") == key and _FLOQUET_CACHE.get("jacobian") is jacobian:
            return _FLOQUET_CACHE["value"]
        value = _deflated(jacobian, self.n_intervals, self.degree, self.n, self._mesh_f(u))
        _FLOQUET_CACHE.update(key=key, jacobian=jacobian, value=value)
        return value

    def _mesh_f(self, u: np.ndarray) -> np.ndarray:
        """$f(x(\tau_j))$ at the mesh points `(N, n)`."""
        X, _, p = self.split(jnp.asarray(np.asarray(u, float)))
        return np.asarray(_vector_field_at(self.system, X[:: self.degree], p))

    # --- driver hooks -----------------------------------------------------------------------

    def admissible(self, u):
        return bool(u[self.n_nodes * self.n] > 0)

    def update(self, u, jacobian):
        return dataclasses.replace(self.with_reference(u), count=self.count + 1)

    def adapt(self, u, t):
        if self.adapt_every <= 0 or int(self.count) < self.adapt_every:
            return None
        mesh = np.asarray(self.mesh)
        m, k = self.degree, self.n_nodes * self.n
        X, _, _ = self.split(np.asarray(u, float))
        new_mesh = _adapted_mesh(mesh, X, m)
        taus = _node_times(new_mesh, m)

        def move(v):
            Xv = np.asarray(v[:k]).reshape(self.n_nodes, self.n)
            return np.concatenate([_evaluate(mesh, Xv, m, taus).reshape(-1), v[k:]])

        u_new = move(u)
        t_new = move(t)
        t_new = t_new / np.linalg.norm(t_new)
        prob = dataclasses.replace(self, mesh=jnp.asarray(new_mesh), count=jnp.asarray(0))
        return prob.with_reference(u_new), u_new, t_new

    def test_functions(self):
        tests = {
            "LPC": lambda u, t, J: float(t[-1]),
            "PD": lambda u, t, J: _pd_test(self.multipliers(J, u)),
            "NS": lambda u, t, J: _ns_test(self.multipliers(J, u)),
            "BPC": lambda u, t, J: _bpc_test(J, t),
            # a real multiplier crossing 1: a fold of cycles where the parameter's tangent
            # component misses it (a canard, flat in the parameter to 1e-11), or a BPC
            _LPC_MULTIPLIER: lambda u, t, J: _lpc_multiplier_test(self, u, J),
        }
        if self.n <= 2:
            # a planar cycle's one nontrivial multiplier is exp(T int_0^1 div f) > 0 (Liouville):
            # no PD, no NS
            del tests["PD"], tests["NS"]
        return tests

    def point_data(self, u, jacobian) -> LimitCycle:
        return self.cycle(u, self.multipliers(jacobian, u))

    def cycle(self, u: np.ndarray, mult: np.ndarray) -> LimitCycle:
        """The `LimitCycle` of the point `u` with multipliers `mult`."""
        model = self.system.model
        _, T, p = self.split(np.asarray(u, float))
        traj = self.sample(u)
        full = np.tile(np.asarray(self.system.x_template, float), (traj.shape[0], 1))
        full[:, np.asarray(self.system.active)] = traj
        v = full[:, model.state_names.index(model.voltage_name)]
        others = _nontrivial(mult)
        return LimitCycle(
            param=float(p),
            x0=traj[0].copy(),
            period=float(T),
            trajectory=full,
            v_min=float(v.min()),
            v_max=float(v.max()),
            multipliers=mult,
            stable=bool(np.all(np.abs(others) < 1.0 - 1e-6)) if others.size else True,
            state_names=tuple(model.state_names),
            param_name=self.param_name,
        )

    def stop_condition(self, u, data, history):
        T = float(u[self.n_nodes * self.n])
        if T > self.max_period:
            return Stop(BranchStatus.period_diverged, f"period {T:.4g} exceeded max_period")
        amps = [c.v_max - c.v_min for c in (*history, data)]
        if amps[-1] < 1e-3 * max(amps):
            return Stop(BranchStatus.amplitude_vanished, "the cycle shrank to an equilibrium")
        if len(amps) >= 3 and amps[-2] < _HOPF_END * max(amps) and amps[-1] > amps[-2] < amps[-3]:
            # the family passed through zero amplitude (a Hopf point) and grows again: the
            # same cycles, half a period shifted; end at the smallest one
            return Stop(
                BranchStatus.amplitude_vanished,
                f"the cycle shrank to an equilibrium (Hopf point) near {self.param_name}="
                f"{history[-1].param:.6g}",
                keep=False,
            )
        return None

    def _unconfirmed(self, name: str, mult: np.ndarray) -> str:
        """Why the multipliers at a located LPC, PD or NS point do not confirm it ('' if
        they do)."""
        trivial = mult[int(np.argmin(np.abs(mult - 1.0)))]
        if not abs(trivial - 1.0) < _TRIVIAL_TOL:
            return (
                f"the trivial multiplier is {complex(trivial):.6g}, not within {_TRIVIAL_TOL:g} "
                "of 1: the mesh does not resolve the orbit there"
            )
        r = _nontrivial(mult)
        if name == "LPC":
            d = float(np.min(np.abs(r - 1.0))) if r.size else np.inf
            if not d < _LPC_MULT_TOL:
                return (
                    f"no second multiplier at 1 (nearest {d:.3g} away): the parameter's "
                    "tangent component changed sign without a fold of cycles"
                )
        elif name == "PD":
            d = float(np.min(np.abs(r + 1.0))) if r.size else np.inf
            if not d < _CRIT_TOL:
                return f"no multiplier at -1 (nearest {d:.3g} away): the test function jumped"
        elif name == "NS":
            d = float(np.min(np.abs(np.abs(r[np.abs(np.imag(r)) > 0]) - 1.0), initial=np.inf))
            if not d < _CRIT_TOL:
                return f"no complex multiplier on the unit circle (nearest {d:.3g} away)"
        return ""

    def locate(self, name: str, segment: Segment) -> SpecialPoint | None:
        """LPC, PD, NS: the test function's zero in arclength (regula falsi), kept where the
        multipliers confirm it (`_unconfirmed`; else returned with `info["dropped"]`); an LPC
        not confirmed moves to where a multiplier crosses 1 in the same segment, if one does.
        `"LPC_multiplier"`: a multiplier crossing 1 where neither the parameter's tangent
        component nor the BPC test changed sign (bisection). BPC: bisection on the sign of the
        bordered determinant, kept only where $F_u$ is rank deficient."""
        if name == _LPC_MULTIPLIER:
            if any(segment.values0[k] * segment.values1[k] < 0 for k in ("LPC", "BPC")):
                return None  # a fold or branch point that the other test functions locate
            alt = _multiplier_crossing(segment, self)
            if alt is None:
                return None
            return self._special_point("LPC", alt)
        if name not in ("LPC", "PD", "NS", "BPC"):
            return None
        if name == "BPC":
            pt = segment.bisect(name, n_bisect=50, xtol=1e-12)
            if not pt.located or pt.jacobian is None or not _is_branch_point(pt.jacobian):
                return None
        else:
            pt = segment.regula_falsi(name, xtol=1e-10)
        return self._special_point(name, pt, segment)

    def _special_point(self, name: str, pt, segment: Segment | None = None) -> SpecialPoint | None:
        """The `SpecialPoint` of a located point `pt` (LPC, PD and NS: confirmed by the
        multipliers, else returned with the reason in `info["dropped"]`; None for an NS test
        zero from a neutral saddle pair)."""
        if not pt.located or pt.jacobian is None:
            return SpecialPoint(
                SpecialPointKind(name), float(pt.u[-1]), {}, pt.index, located=False
            )
        mult = self.multipliers(pt.jacobian, pt.u)
        if name != "BPC":
            why = self._unconfirmed(name, mult)
            if why and name == "LPC" and segment is not None:
                # the parameter is flat along the branch (a canard: it varies by 1e-11 while
                # the orbit changes completely) and its tangent component changes sign by
                # rounding; the fold is where a multiplier crosses 1
                alt = _multiplier_crossing(segment, self)
                if alt is not None and alt.jacobian is not None:
                    pt = alt
                    mult = self.multipliers(alt.jacobian, alt.u)
                    why = self._unconfirmed(name, mult)
            if why:
                return SpecialPoint(
                    SpecialPointKind(name),
                    float(pt.u[-1]),
                    {},
                    pt.index,
                    eigenvalues=mult,
                    located=False,
                    info={"dropped": why},
                )
        info: dict[str, Any] = {}
        if name in ("PD", "NS"):
            r = _nontrivial(mult)
            if name == "PD":
                crit = r[int(np.argmin(np.abs(r + 1.0)))]
            else:
                # the pair whose product is nearest 1 must be complex (else: neutral saddle)
                best, crit = np.inf, r[0]
                for i in range(r.size):
                    for j in range(i + 1, r.size):
                        d = abs(r[i] * r[j] - 1.0)
                        if d < best:
                            best, crit = d, r[i]
                if abs(crit.imag) < 1e-8 * max(1.0, abs(crit)):
                    return None
                info["theta"] = float(abs(np.angle(crit)))  # rotation number x 2 pi
            info["multiplier"] = complex(crit)
            if name == "PD":  # what `continue_cycles_collocation` needs to start the doubled cycle
                info.update(
                    mesh=np.asarray(self.mesh).copy(),
                    degree=self.degree,
                    active=tuple(self.system.active),
                    jacobian=np.asarray(pt.jacobian),
                )
        # the mesh and variables of the point: what `cycle_bifurcation_curve` starts from
        info.update(
            mesh=np.asarray(self.mesh).copy(),
            degree=self.degree,
            active=tuple(self.system.active),
        )
        l1 = None
        if name in ("LPC", "PD", "NS"):
            # the normal form builds on this module's discretisation (imported here: no cycle)
            from ._cycle_normal_forms import normal_form_coefficients

            try:
                nf = normal_form_coefficients(self, pt.u, name, theta=info.get("theta"))
            except (ContinuationError, np.linalg.LinAlgError):
                nf = None  # not singular enough there: no coefficient rather than a wrong one
            info["normal_form"] = nf
            if nf is not None and name == "PD":
                l1 = float(np.real(nf["c"]))
            elif nf is not None and name == "NS":
                l1 = float(np.real(nf["d"]))
        else:  # BPC: the branch's tangent, for switching to the other branch
            info["tangent"] = np.asarray(pt.tangent, float).copy()
        cyc = self.cycle(pt.u, mult)
        state = {nm: float(cyc.trajectory[0][i]) for i, nm in enumerate(cyc.state_names)}
        info.update(
            {"period": cyc.period, "v_min": cyc.v_min, "v_max": cyc.v_max, "u": pt.u.copy()}
        )
        return SpecialPoint(
            SpecialPointKind(name),
            cyc.param,
            state,
            pt.index,
            eigenvalues=mult,
            l1=l1,
            located=True,
            info=info,
        )


def _lpc_multiplier_test(problem: CollocationProblem, u, J) -> float:
    r"""$\prod (\mu_i - 1)/\max(1, |\mu_i|)$ over the nontrivial multipliers: changes sign
    where a real multiplier crosses 1 (a fold of cycles, or a branch point)."""
    r = problem.nontrivial_multipliers(J, u)
    return float(np.real(np.prod([(x - 1.0) / max(1.0, abs(x)) for x in r])))


def _multiplier_crossing(segment: Segment, problem: CollocationProblem):
    """The point of `segment` where a real multiplier crosses 1 (bisection), None if none
    does."""
    length = float(segment.t0 @ (segment.u1 - segment.u0))
    ends = [segment.point(1e-12 * length), segment.point(length)]
    if any(e is None for e in ends):
        return None
    g = [_lpc_multiplier_test(problem, e[0], e[2]) for e in ends if e is not None]
    if not g[0] * g[1] < 0:
        return None
    pt = segment.bisect(lambda u, t, J: _lpc_multiplier_test(problem, u, J), n_bisect=45)
    return pt if pt.located and pt.jacobian is not None else None


@eqx.filter_jit
def _vector_field_at(system: EquilibriumSystem, X, p):
    """$f(x, p)$ at the rows of `X`."""
    return jax.vmap(lambda x: system.f(x, p))(X)


@eqx.filter_jit
def _collocation_f_and_jac(problem: CollocationProblem, u):
    N, m, n = problem.n_intervals, problem.degree, problem.n
    X, T, p = problem.split(u)
    Xj = X[_node_index(N, m)]
    h = jnp.diff(problem.mesh)
    jac = jax.vmap(jax.jacfwd(problem._interval, argnums=(0, 1, 2)), in_axes=(0, None, None, 0))
    R = jax.vmap(problem._interval, in_axes=(0, None, None, 0))(Xj, T, p, h)
    dX, dT, dp = jac(Xj, T, p, h)  # (N, m n, m + 1, n), (N, m n), (N, m n)
    k = N * m * n
    idx = _node_index(N, m)
    cols = (idx[:, :, None] * n + np.arange(n)[None, None, :]).reshape(N, (m + 1) * n)
    rows = np.arange(k).reshape(N, m * n)
    J = jnp.zeros((k + 1, k + 2), dtype=u.dtype)
    J = J.at[rows[:, :, None], cols[:, None, :]].set(dX.reshape(N, m * n, (m + 1) * n))
    J = J.at[:k, k].set(dT.reshape(-1)).at[:k, k + 1].set(dp.reshape(-1))
    J = J.at[k].set(jax.grad(problem._phase)(u))
    F = jnp.concatenate([R.reshape(-1), problem._phase(u)[None]])
    return F, J


def _problem(system, mesh, X, degree, param_name, max_period, adapt_every) -> CollocationProblem:
    prob = CollocationProblem(
        system,
        jnp.asarray(mesh, float),
        jnp.zeros((mesh.size - 1, degree, X.shape[1])),
        jnp.asarray(0),
        degree,
        param_name,
        float(max_period),
        int(adapt_every),
    )
    return prob.with_reference(np.concatenate([X.reshape(-1), [1.0, 0.0]]))


# ----------------------------------------------------------------------------------------------
# Starts
# ----------------------------------------------------------------------------------------------


@eqx.filter_jit
def _dA_dp(system, x, p, xp):
    """$\\frac{d}{ds} f_x(x + s x_p, p + s)$ at $s = 0$ (the Jacobian's total p-derivative)."""

    def A(s):
        return jax.jacfwd(system.f, 0)(x + s * xp, p + s)

    return jax.jvp(A, (jnp.asarray(0.0),), (jnp.asarray(1.0),))[1]


def hopf_normal_form(system: EquilibriumSystem, x, p, omega: float, l1: float | None = None):
    r"""The data of the small cycles born at a Hopf point $(x, p)$ with frequency $\omega$.

    With $A q = i\omega q$, $\bar q^\top q = 1$, $A^\top \bar w = -i\omega \bar w$,
    $\bar w^\top q = 1$, the critical eigenvalue moves as $\alpha'(p) = \mathrm{Re}\,
    \bar w^\top (dA/dp)\, q$ (with $x$ following the equilibrium, $x_p = -A^{-1} f_p$), and
    the cycle at $p = p_H + \delta$ is $x(t) \approx x_H + \delta x_p + 2\,\mathrm{Re}(z q
    e^{i\omega t})$ with $|z|^2 = -\alpha'\delta / (\ell_1\omega)$ (Kuznetsov 2004, sec. 3.5).

    **Returns:** `(q, x_p, alpha_prime, l1)`.
    """
    x = np.asarray(x, float)
    _, A, fp = _f_and_jac(system, x, p)
    ev, V = np.linalg.eig(A)
    k = int(np.argmin(np.abs(ev - 1j * omega)))
    q = V[:, k] / np.linalg.norm(V[:, k])
    evT, W = np.linalg.eig(A.T)
    wv = W[:, int(np.argmin(np.abs(evT + 1j * omega)))]
    wv = wv / np.conj(np.vdot(wv, q))
    xp = -np.linalg.solve(A, fp)
    dA = np.asarray(_dA_dp(system, jnp.asarray(x), jnp.asarray(float(p)), jnp.asarray(xp)))
    alpha = float(np.real(np.vdot(wv, dA @ q)))
    if l1 is None:
        l1 = first_lyapunov_coefficient(system, x, p, omega, q)
    return q, xp, alpha, float(l1)


def _start_from_hopf(model, hopf, param, I, N, m, amplitude, algorithm, max_period, adapt_every):
    if (
        not isinstance(hopf, SpecialPoint)
        or hopf.kind != SpecialPointKind.H
        or hopf.omega is None
        or not np.isfinite(hopf.omega)
        or not hopf.located
    ):
        raise ValueError("start must be a located Hopf point (a SpecialPoint of kind 'H')")
    at = {k: jnp.asarray(v) for k, v in hopf.state.items()}
    x_full = np.asarray(model.to_vector({**model.resting_state(), **at}), float)
    system = _prepare(model, param, I, x_full, hopf.param)
    xs = x_full[np.asarray(system.active)]
    omega = float(hopf.omega)
    q, xp, alpha, l1 = hopf_normal_form(system, xs, hopf.param, omega, hopf.l1)
    if not (abs(alpha) > 1e-12):
        raise ContinuationError(
            f"degenerate Hopf point at {param}={hopf.param}: the eigenvalues cross the "
            f"imaginary axis with zero speed (alpha' = {alpha:.3g})"
        )
    if not (abs(l1) > 1e-12):
        raise ContinuationError(
            f"degenerate Hopf point at {param}={hopf.param}: first Lyapunov coefficient "
            f"l1 = {l1:.3g} ~ 0 (a Bautin point); start from a simulated cycle instead"
        )
    eps = 1e-2 * (1.0 + float(np.max(np.abs(xs)))) if amplitude is None else float(amplitude)
    check_positive("amplitude", eps)
    r = eps / (2.0 * float(np.max(np.abs(q))))
    delta = -l1 * omega * r * r / alpha
    taus = np.linspace(0.0, 1.0, N + 1)
    nodes = _node_times(taus, m)
    ring = 2.0 * r * np.real(q[None, :] * np.exp(2j * np.pi * nodes)[:, None])
    X = xs[None, :] + delta * xp[None, :] + ring
    prob = _problem(system, taus, X, m, param, max_period, adapt_every)
    u0 = np.concatenate([X.reshape(-1), [2.0 * np.pi / omega, hopf.param + delta]])
    sol = solve_at_parameter(prob, u0, hopf.param + delta, algorithm, max_steps=30)
    if not algorithm.accept(prob, sol):
        raise ContinuationError(f"no small cycle found near the Hopf point at {param}={hopf.param}")
    Xs, _, _ = prob.split(sol.value)
    amp = float(np.max(np.ptp(Xs, axis=0)))
    if not (amp > 0.1 * eps):
        raise ContinuationError(
            f"the cycle near the Hopf point at {param}={hopf.param} collapsed to the equilibrium"
        )
    return prob.with_reference(sol.value), sol.value, float(np.sign(delta))


def _point_system(model, point, param, I):
    """`(system, mesh, degree, u)` of a located special point of a collocation branch."""
    info = point.info
    mesh, m = np.asarray(info["mesh"], float), int(info["degree"])
    u = np.asarray(info["u"], float)
    at = {k: jnp.asarray(v) for k, v in point.state.items()}
    x_full = np.asarray(model.to_vector({**model.resting_state(), **at}), float)
    system = dataclasses.replace(
        _prepare(model, param, I, x_full, point.param),
        active=tuple(info["active"]),
    )
    if u.size != (mesh.size - 1) * m * len(system.active) + 2:
        raise ValueError("start does not belong to this model and parameter")
    return system, mesh, m, u


@eqx.filter_jit
def _second_derivative(problem: CollocationProblem, u, a, b):
    """$F_{uu}[a, b]$ of the collocation residual."""
    return jax.jvp(lambda y: jax.jvp(problem.residual, (y,), (a,))[1], (u,), (b,))[1]


def _start_from_bpc(model, bpc, param, I, algorithm, max_period, adapt_every, ds, direction):
    """The first cycle of the other branch through a located BPC: the roots of the
    algebraic branching equation (`branching_directions`) in the 2-D kernel of $F_u$ there;
    a predictor step `ds` along the root that is not the known branch's tangent, and one
    corrector on the hyperplane normal to it. `direction` picks the side: the parameter's
    sense, or, where the new branch leaves at a constant parameter (a pitchfork of cycles),
    the sign of the new tangent's largest component."""
    system, mesh, m, u = _point_system(model, bpc, param, I)
    X = u[:-2].reshape(-1, len(system.active))
    prob = _problem(system, mesh, X, m, param, max_period, adapt_every).with_reference(u)
    _, J = prob.residual_and_jacobian(u)

    def second(a, b):
        return np.asarray(_second_derivative(prob, jnp.asarray(u), jnp.asarray(a), jnp.asarray(b)))

    t_known = np.asarray(bpc.info["tangent"], float)
    if t_known.size != u.size:
        raise ValueError("start does not belong to this model and parameter")
    _, t2 = branching_directions(J, t_known, second)
    scale = float(np.max(np.abs(t2)))
    if abs(t2[-1]) > 1e-6 * scale:
        t2 = t2 * np.sign(t2[-1]) * direction
    else:
        t2 = t2 * np.sign(t2[int(np.argmax(np.abs(t2)))]) * direction
    sol = algorithm.correct(prob, u + ds * t2, t2)
    if not algorithm.accept(prob, sol) or np.linalg.norm(sol.value - u) < 0.5 * ds:
        raise ContinuationError(
            f"could not enter the other branch of cycles at the BPC at {param}={bpc.param}"
        )
    return prob.with_reference(sol.value), sol.value, t2


def _start_from_pd(model, pd, param, I, algorithm, max_period, adapt_every, amplitude):
    """The doubled cycle next to a located PD point: the orbit traversed twice, displaced by
    `amplitude` along the (-1)-multiplier's eigenfunction, which changes sign from one turn to
    the next; on the doubled period, the branch leaves the PD point along that eigenfunction
    (a pitchfork of the doubled system), so one corrector on the hyperplane normal to it
    lands on the new branch."""
    system, mesh, m, u = _point_system(model, pd, param, I)
    N, n = mesh.size - 1, len(system.active)
    mu, V = _floquet_function(np.asarray(pd.info["jacobian"]), N, m, n, -1.0)
    if not (abs(mu + 1.0) < 1e-3):
        raise ContinuationError(f"no multiplier -1 at the PD point (nearest: {complex(mu):.6g})")
    X = u[: N * m * n].reshape(N * m, n)
    T, p = float(u[-2]), float(u[-1])
    mesh2 = np.concatenate([0.5 * mesh, 0.5 + 0.5 * mesh[1:]])
    X2 = np.concatenate([X, X])
    V2 = np.concatenate([V, -V])
    scale = 1e-2 * (1.0 + float(np.max(np.abs(X))))
    eps = scale if amplitude is None else float(amplitude)
    check_positive("amplitude", eps)
    prob = _problem(system, mesh2, X2, m, param, max_period, adapt_every)
    t2 = np.concatenate([V2.reshape(-1), [0.0, 0.0]])
    t2 /= np.linalg.norm(t2)
    u2 = np.concatenate([X2.reshape(-1), [2.0 * T, p]])
    eps_u = eps * np.linalg.norm(V2) / np.max(np.abs(V2))  # state amplitude eps
    sol = algorithm.correct(prob, u2 + eps_u * t2, t2)
    if not algorithm.accept(prob, sol):
        raise ContinuationError(f"no doubled cycle found next to the PD point at {param}={p}")
    X_new = prob.split(sol.value)[0]
    if not (np.max(np.abs(X_new[: N * m] - X_new[N * m :])) > 0.1 * eps):
        raise ContinuationError(
            f"the corrector fell back onto the original cycle at the PD point at {param}={p}"
        )
    return prob.with_reference(sol.value), sol.value, t2


def _start_from_cycle(model, cyc, param, I, N, m, algorithm, max_period, adapt_every):
    system = _prepare(model, param, I, cyc.trajectory[0], cyc.param)
    act = np.asarray(system.active)
    traj = np.asarray(cyc.trajectory, float)[:, act]
    s = np.linspace(0.0, 1.0, traj.shape[0])
    mesh = np.linspace(0.0, 1.0, N + 1)
    u = None
    prob = None
    for _ in range(3):  # solve, adapt the mesh to the orbit, solve again
        nodes = _node_times(mesh, m)
        if u is None:
            X = np.stack([np.interp(nodes, s, traj[:, i]) for i in range(traj.shape[1])], 1)
        else:
            X = _evaluate(np.asarray(prob.mesh), prob.split(u)[0], m, nodes)  # type: ignore[union-attr]
        prob = _problem(system, mesh, X, m, param, max_period, adapt_every)
        T0 = cyc.period if u is None else float(u[-2])
        sol = solve_at_parameter(
            prob,
            np.concatenate([X.reshape(-1), [T0, cyc.param]]),
            cyc.param,
            algorithm,
            max_steps=30,
        )
        if not algorithm.accept(prob, sol):
            raise ContinuationError(
                f"the start is not a periodic orbit at {param}={cyc.param}: collocation Newton "
                f"did not converge (residual {sol.residual:.3g})"
            )
        u = sol.value
        mesh = _adapted_mesh(np.asarray(prob.mesh), prob.split(u)[0], m)
    if prob is None or u is None:  # the loop ran: an internal invariant
        raise RuntimeError("no start cycle")
    return prob.with_reference(u), u


def continue_cycles_collocation(
    model: NeuronModel,
    start: LimitCycle | SpecialPoint,
    *,
    param: str = "I",
    I: float = 0.0,
    bounds: tuple[float, float],
    n_intervals: int = 40,
    degree: int = 4,
    adapt_every: int = 3,
    amplitude: float | None = None,
    ds: float = 0.5,
    ds_min: float = 1e-6,
    ds_max: float = 5.0,
    max_steps: int = 300,
    max_period: float = np.inf,
    direction: int = 1,
    tol: float = 1e-9,
    max_newton: int = 8,
    locate: bool = True,
    throw: bool = False,
) -> CycleBranch:
    r"""Continue periodic orbits by orthogonal collocation (`CollocationProblem`).

    **Arguments:**

    - `model`, `param`, `I`: the single-cell model, the continuation parameter (`"I"` or a
      model field) and the input current when `param` is a field.
    - `start`: a `LimitCycle` (from `cycle_from_simulation`, `find_cycle` or another branch),
      a located Hopf `SpecialPoint` of an equilibrium branch, or a located PD point of a
      collocation branch. From a Hopf point the first cycle is built from the normal form
      (critical eigenvector, $\ell_1$), at state amplitude `amplitude` (default 1% of the
      state's scale), and the branch runs the way the amplitude grows; from a PD point, the
      doubled cycle (twice the period, `2 n_intervals` intervals) displaced by `amplitude`
      along the eigenfunction of the multiplier $-1$; from a located BPC point, the other
      branch through it (a first step `ds` along its tangent; `direction` picks the side:
      the parameter's sense, or where the new branch leaves at a constant parameter, the
      sign of its tangent's largest component).
    - `bounds`: the parameter interval. `n_intervals` ($N$), `degree` ($m$, 2 to 7): the mesh;
      `adapt_every`: re-distribute the mesh every that many points (0: fixed mesh).
    - `ds`, `ds_min`, `ds_max`, `max_steps`, `tol`, `max_newton`: the pseudo-arclength steps
      (Euclidean norm over all $Nmn + 2$ unknowns), their number and the corrector's
      tolerance (relative step) and iterations.
    - `max_period`: end when the period exceeds it. `direction`: +1 / -1, the sense of the
      parameter at a cycle or BPC start (ignored from a Hopf point).
    - `locate`: locate LPC, PD, NS and BPC points. `throw`: raise when the corrector fails.

    **Returns:** a `CycleBranch`; its `special_points` are `SpecialPoint`s of kind `"LPC"`,
    `"PD"`, `"NS"` or `"BPC"` (with the critical multiplier in `info["multiplier"]`); LPC,
    PD and NS points carry their normal-form coefficients in `info["normal_form"]`
    (`cycle_normal_form`; None where they could not be computed), and PD and NS points the
    one that decides criticality in `l1` ($c$, $\mathrm{Re}\,d$: negative is
    supercritical).

    **Raises:** `ValueError` for bad arguments or float32; `ContinuationError` when the start
    is not a cycle (collocation Newton fails), the Hopf point is degenerate ($\ell_1 \approx
    0$) or, with `throw=True`, when the corrector fails.
    """
    require_float64("spikejax.analysis.continue_cycles_collocation")
    if not isinstance(start, SpecialPoint | LimitCycle):
        raise ValueError("start must be a LimitCycle, a Hopf, a PD or a BPC SpecialPoint")
    lo, hi = _check_cycle_options(start, param, bounds, ds, ds_min, ds_max, direction, max_period)
    check_collocation_options(n_intervals, degree, adapt_every, tol)
    algorithm = _cycle_algorithm(ds, ds_min, ds_max, max_newton, tol, 3, 6)
    orient: float | np.ndarray
    if isinstance(start, SpecialPoint) and start.kind == SpecialPointKind.BPC:
        if not (start.located and "tangent" in start.info):
            raise ValueError("a BPC start must be a located BPC point of a collocation branch")
        prob, u0, orient = _start_from_bpc(
            model, start, param, I, algorithm, max_period, adapt_every, ds, float(direction)
        )
    elif isinstance(start, SpecialPoint) and start.kind == SpecialPointKind.PD:
        if not (start.located and "jacobian" in start.info):
            raise ValueError("a PD start must be a located PD point of a collocation branch")
        prob, u0, orient = _start_from_pd(
            model, start, param, I, algorithm, max_period, adapt_every, amplitude
        )
    elif isinstance(start, SpecialPoint):
        prob, u0, orient = _start_from_hopf(
            model,
            start,
            param,
            I,
            n_intervals,
            degree,
            amplitude,
            algorithm,
            max_period,
            adapt_every,
        )
    else:
        prob, u0 = _start_from_cycle(
            model, start, param, I, n_intervals, degree, algorithm, max_period, adapt_every
        )
        orient = float(direction)
    result = continue_branch(
        prob,
        u0,
        algorithm,
        direction=orient,
        bounds=(lo, hi),
        max_steps=max_steps,
        locate=locate,
        throw=throw,
        param_name=param,
    )
    cycles = result.data
    specials = tuple(sp for sp in result.special_points if "dropped" not in sp.info)
    dropped = [sp for sp in result.special_points if "dropped" in sp.info]
    if result.status == BranchStatus.amplitude_vanished and cycles:
        # a fold of the parameter at zero amplitude is the Hopf point, not an LPC (located or
        # not: the corrector may fail that close to the equilibrium)
        amp = np.array([c.v_max - c.v_min for c in cycles])
        small = _HOPF_END * float(np.max(amp))
        specials = tuple(
            sp
            for sp in specials
            if not (
                sp.kind == SpecialPointKind.LPC
                and sp.index >= len(cycles) - 3
                and float(np.min(amp[sp.index : sp.index + 2])) < small
            )
        )
    if dropped:
        notes = "; ".join(
            f"{sp.kind} near {param}={sp.param:.10g}: {sp.info['dropped']}" for sp in dropped
        )
        result = dataclasses.replace(
            result, message=f"{result.message}; unconfirmed points dropped: {notes}"
        )
    return _cycle_branch(param, result, specials)
