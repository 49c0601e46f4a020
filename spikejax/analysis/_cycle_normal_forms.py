r"""Normal-form coefficients of the codimension-one bifurcations of cycles: LPC, PD, NS.

**Method: periodic normalisation on the collocation mesh** (Iooss 1988; Kuznetsov,
Govaerts, Doedel & Dhooge 2005, *SIAM J. Numer. Anal.* 43, 1407-1435), as MatCont does. It
reuses the collocation discretisation of the located cycle: its Jacobian is the operator
$\frac{d}{d\tau} - T f_x(x(\tau))$ at the Gauss points, so every boundary-value problem of
the method is one linear solve with that matrix (periodic, antiperiodic or
$e^{i\theta}$-wrapped), and every adjoint integral $\int_0^1 \langle\varphi^*, g\rangle
d\tau$ is the left null vector of the discrete operator applied to $g$ at the Gauss points
(the discrete adjoint; no adjoint equation is integrated). The multilinear forms $B$, $C$ are
nested `jax.jvp`s of the vector field. The alternative, derivatives of the Poincaré map by
autodiff of an integrated flow, was not taken: it needs a section and a return time, and it
integrates over a whole period, which loses everything on orbits with multipliers of
$10^8$ (Hodgkin-Huxley), where the collocation operator stays well conditioned. Accuracy: that
of the collocation solution (on the smooth test orbits, 12-20 intervals of degree 4, the
coefficients agree with their closed forms to about $10^{-8}$ relative).

On the centre manifold $x = x_0(\sigma) + \xi v(\sigma) + O(\xi^2)$ of the cycle $x_0$
(period $T$, time $t$, phase $\sigma$), with $F = \dot x_0$ and $A(t) = f_x(x_0(t))$:

* **LPC** (multiplier 1 with a Jordan block): $\dot\sigma = 1 - \xi + \dots$, $\dot\xi =
  b\,\xi^2 + \dots$; $v$ solves $\dot v - Av = F$ (periodic), so $b$ needs no
  normalisation: $b = \tfrac12\int\langle\psi^*, B(v, v) + 2Av\rangle dt /
  \int\langle\psi^*, v\rangle dt$ ($\psi^*$ the periodic adjoint eigenfunction). $b \neq 0$:
  a nondegenerate fold.
* **PD** (multiplier $-1$): $\dot\sigma = 1 + a\,\xi^2$, $\dot\xi = c\,\xi^3$ (on the
  doubled cover), $v$ the antiperiodic eigenfunction with mean square 1,
  $\frac1T\int_0^T|v|^2dt = 1$. $a = \tfrac12\int\langle\psi^*, B(v,v)\rangle dt$ with
  $\int\langle\psi^*, F\rangle dt = 1$; $\dot h_2 - Ah_2 = B(v, v) - 2aF$ (periodic,
  $\int\langle\psi^*, h_2\rangle = 0$); $c = \frac16\int\langle v^*, C(v,v,v) +
  3B(v, h_2) - 6aAv\rangle dt$ with $v^*$ the antiperiodic adjoint, $\int\langle v^*,
  v\rangle dt = 1$. $c < 0$: supercritical (a stable doubled cycle where the cycle has lost
  stability), $c > 0$: subcritical.
* **NS** (multipliers $e^{\pm i\theta}$): $\dot\sigma = 1 + a|\xi|^2$, $\dot\xi =
  i\omega\xi + d\,\xi|\xi|^2$, $\omega = \theta/T$, $v$ with $\dot v - Av + i\omega v = 0$
  (periodic, mean square 1); $a = \int\langle\psi^*, B(v,\bar v)\rangle$; $h_{11}$: $\dot h -
  Ah = B(v, \bar v) - aF$; $h_{20}$: $\dot h - Ah + 2i\omega h = B(v, v)$; $d =
  \int\langle v^*, \tfrac12C(v,v,\bar v) + B(v, h_{11}) + \tfrac12B(\bar v, h_{20}) - aAv
  \rangle dt + i\omega a$. $\mathrm{Re}\,d < 0$: supercritical (a stable torus where the
  cycle has lost stability).

$a$, $c$ and $d$ scale with the normalisation of $v$ (mean square 1 in the model's
coordinates); their signs and $b$ do not. Computed in scaled time $\tau = t/T$, then
converted ($c$, $d$, $b$ carry a factor $1/T$).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import require_float64
from ..models._base import NeuronModel
from ..solvers._continuation import ContinuationError, SpecialPointKind
from ._collocation import (
    CollocationProblem,
    _collocation_f_and_jac,
    _gauss_matrix,
    _point_system,
    _problem,
    _tables,
    _wrapped,
    floquet_multipliers,
)
from ._continuation import SpecialPoint

__all__ = ["cycle_normal_form", "normal_form_coefficients"]

_MULT_TOL = 1e-4  # a located PD or NS point has its critical multiplier within ~1e-9
# at a fold the double multiplier 1 is a Jordan block: a location error splits it by about
# the square root of that error times the cycle's sensitivity (Hodgkin-Huxley's fold at
# I = 7.918, multipliers up to 3e3, located to 1e-10: a pair 0.99996 +- 0.0087i)
_LPC_TOL = 0.05


@eqx.filter_jit
def _derivatives(system, xg, p, a, b, c):
    r"""$(f_x a, B(a, b), C(a, b, c))$ at each Gauss point (rows of `xg`, `a`, `b`, `c`):
    one compiled kernel of three nested `jax.jvp`s, whose primal parts are the lower
    derivatives."""

    def one(x, r, s, w):
        def fa(y):
            return jax.jvp(lambda z: system.f(z, p), (y,), (r,))[1]

        def fab(y):
            return jax.jvp(fa, (y,), (s,))

        (Aa, Bab), (_, Cabc) = jax.jvp(fab, (x,), (w,))
        return Aa, Bab, Cabc

    return jax.vmap(one)(xg, a, b, c)


class _Forms:
    """$T f_x$, $T B$, $T C$ at the Gauss points `xg` ((M, n)) for flattened (M n,) real or
    complex arguments (multilinearity over real and imaginary parts)."""

    def __init__(self, system, xg, p, T):
        self.system, self.xg, self.p, self.T = system, jnp.asarray(xg), jnp.asarray(p), T
        self.shape = xg.shape

    def _r(self, a):
        return jnp.asarray(np.ascontiguousarray(a).reshape(self.shape))

    def _d(self, a, b=None, c=None):
        zero = np.zeros(self.shape)
        a, b, c = (zero if z is None else z for z in (a, b, c))
        out = _derivatives(self.system, self.xg, self.p, self._r(a), self._r(b), self._r(c))
        return [self.T * np.asarray(o).reshape(-1) for o in out]

    def A(self, a):
        a = np.asarray(a)
        out = self._d(np.real(a))[0]
        if np.iscomplexobj(a):
            out = out + 1j * self._d(np.imag(a))[0]
        return out

    def _b(self, r, s):
        return self._d(r, s)[1]

    def B(self, a, b):
        a, b = np.asarray(a), np.asarray(b)
        if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
            return self._b(a, b)
        ar, ai, br, bi = np.real(a), np.imag(a), np.real(b), np.imag(b)
        return self._b(ar, br) - self._b(ai, bi) + 1j * (self._b(ar, bi) + self._b(ai, br))

    def C3(self, a):
        """$C(a, a, a)$ for real `a`."""
        return self._d(a, a, a)[2]

    def C_qqqbar(self, q):
        r"""$C(q, q, \bar q)$ for complex `q`."""

        def C(x, y, z):
            return self._d(x, y, z)[2]

        a, b = q.real, q.imag
        return C(a, a, a) + C(a, b, b) + 1j * (C(a, a, b) + C(b, b, b))


def _null(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right and left null vectors of a (nearly) singular square matrix, `M v = 0`,
    `y^H M = 0`, by two steps of inverse iteration (a full SVD costs seconds at the sizes
    of a cycle's collocation matrix)."""
    k = M.shape[0]
    # a shift far below the location tolerance keeps an exactly singular pivot finite
    Ms = M + (1e-14 * float(np.max(np.abs(M)))) * np.eye(k)
    start = 1.0 + 0.1 * np.cos(np.arange(k, dtype=float))
    v, y = start.astype(M.dtype), start.astype(M.dtype)
    for _ in range(2):
        v = np.linalg.solve(Ms, v)
        v = v / np.linalg.norm(v)
        y = np.linalg.solve(Ms.conj().T, y)
        y = y / np.linalg.norm(y)
    return v, y


def _bordered_solve(L, y, c, rhs):
    """Solve $L h = $ `rhs` on the complement of $\\ker L$: $(L, y; c^\\top, 0)(h, \\lambda) =
    (\\text{rhs}, 0)$ with $y$ the left null vector and the constraint $c\\cdot h = 0$."""
    k = L.shape[0]
    M = np.zeros((k + 1, k + 1), dtype=np.result_type(L, y, c, rhs))
    M[:k, :k], M[:k, k], M[k, :k] = L, y, c
    return np.linalg.solve(M, np.concatenate([rhs, [0.0]]))[:k]


def normal_form_coefficients(
    problem: CollocationProblem, u: np.ndarray, kind: str, *, theta: float | None = None
) -> dict[str, float | complex]:
    r"""The normal-form coefficients of the cycle bifurcation `kind` ("LPC", "PD" or "NS",
    with the critical angle `theta` in $(0, \pi)$) at the collocation solution `u` of
    `problem` (module docstring).

    **Returns:** LPC: `{"b"}`; PD: `{"a", "c"}`; NS: `{"a", "d"}` (`d` complex).

    **Raises:** `ValueError` for an unknown kind or a missing/invalid `theta`;
    `ContinuationError` when the point is not that bifurcation: no multiplier within
    `_MULT_TOL` of $-1$ (PD) or $e^{i\theta}$ (NS), or not two within `_LPC_TOL` of 1 (LPC,
    where a Jordan block splits the pair by the square root of the location error).
    """
    kind = str(kind)
    if kind not in (SpecialPointKind.LPC, SpecialPointKind.PD, SpecialPointKind.NS):
        raise ValueError(f"kind must be 'LPC', 'PD' or 'NS', got {kind!r}")
    if kind == "NS" and not (theta is not None and 0.0 < float(theta) < np.pi):
        raise ValueError(f"theta must be in (0, pi) for a Neimark-Sacker point, got {theta!r}")
    N, m, n = problem.n_intervals, problem.degree, problem.n
    k = N * m * n
    u = np.asarray(u, float)
    X, T, p = problem.split(u)
    T, p = float(T), float(p)
    _, J = _collocation_f_and_jac(problem, jnp.asarray(u))
    L = np.asarray(J)[:k, :k]  # d/dtau - T f_x at the Gauss points, periodic
    P = _gauss_matrix(np.asarray(problem.mesh), m, n)  # node values -> Gauss values
    xg = (P @ np.asarray(X).reshape(-1)).reshape(N * m, n)
    Fg = np.asarray(problem.derivative_at_gauss(np.asarray(X))).reshape(-1)  # x' = T f
    h = np.diff(np.asarray(problem.mesh))
    wq = np.repeat((h[:, None] * _tables(m)[1][None, :]).reshape(-1), n)
    forms = _Forms(problem.system, xg, p, T)

    mult = floquet_multipliers(np.asarray(J), N, m, n)
    if kind == "NS":
        target = complex(np.exp(1j * float(theta or 0.0)))
    else:
        target = 1.0 + 0j if kind == "LPC" else -1.0 + 0j
    dist = np.sort(np.abs(mult - target))
    err = dist[1] if kind == "LPC" else dist[0]
    if not (err < (_LPC_TOL if kind == "LPC" else _MULT_TOL)):
        raise ContinuationError(
            f"not a {kind} point: the nearest multipliers to {target:.4g} are "
            f"{dist[: 2 if kind == 'LPC' else 1]} away"
        )
    _, y_per = _null(L)  # left null vector: the periodic adjoint
    if kind == "LPC":
        y = np.real(y_per)
        # v' - A v = F, with the constraint int <F, v> = 0 (b does not depend on it)
        v = _bordered_solve(L, y, P.T @ (wq * Fg), Fg)
        vg = P @ v
        b = 0.5 * (y @ (forms.B(vg, vg) + 2.0 * forms.A(vg))) / (y @ vg)
        return {"b": float(b) / T}

    psi = np.real(y_per) / (np.real(y_per) @ Fg)  # int <psi*, F> = 1
    c_psi = P.T @ psi  # the constraint int <psi*, h> = 0
    if kind == "PD":
        La, Pa = _wrapped(L, N, m, n, -1.0), _wrapped(P, N, m, n, -1.0)
        v, y = _null(La)
        v, y = np.real(v), np.real(y)
        vg = Pa @ v
        scale = 1.0 / np.sqrt(wq @ vg**2)  # mean square 1
        v, vg = scale * v, scale * vg
        a = 0.5 * (psi @ forms.B(vg, vg))
        h2 = _bordered_solve(L, psi, c_psi, forms.B(vg, vg) - 2.0 * a * Fg)
        h2g = P @ h2
        g = forms.C3(vg) + 3.0 * forms.B(vg, h2g) - 6.0 * a * forms.A(vg)
        c = (y @ g) / (6.0 * (y @ vg))
        return {"a": float(a), "c": float(c) / T}

    th = float(theta)  # type: ignore[arg-type]
    z1, z2 = np.exp(1j * th), np.exp(2j * th)
    Lw, Pw = _wrapped(L, N, m, n, z1), _wrapped(P, N, m, n, z1)
    q, y = _null(Lw)  # q(1) = e^{i theta} q(0): v = e^{-i theta tau} q
    qg = Pw @ q
    scale = 1.0 / np.sqrt(wq @ np.abs(qg) ** 2)
    q, qg = scale * q, scale * qg
    Bqqb = forms.B(qg, qg.conj()).real
    a = psi @ Bqqb
    h11 = _bordered_solve(L, psi, c_psi, Bqqb - a * Fg)
    H20 = np.linalg.solve(_wrapped(L, N, m, n, z2), forms.B(qg, qg))  # h20 e^{2 i theta tau}
    H20g = _wrapped(P, N, m, n, z2) @ H20
    g = (
        0.5 * forms.C_qqqbar(qg)
        + forms.B(qg, P @ h11)
        + 0.5 * forms.B(qg.conj(), H20g)
        - a * forms.A(qg)
    )
    d = (y.conj() @ g) / (y.conj() @ qg) + 1j * th * a
    return {"a": float(a), "d": complex(d) / T}


def cycle_normal_form(
    model: NeuronModel, point: SpecialPoint, *, param: str = "I", I: float = 0.0
) -> dict[str, float | complex]:
    r"""The normal-form coefficients of a located "LPC", "PD" or "NS" `SpecialPoint` of
    `continue_cycles_collocation` (the same numbers its `info["normal_form"]` carries;
    module docstring for the method and the conventions).

    **Arguments:** `model`, and `param`, `I` as given to the cycle continuation; `point`.

    **Returns:** LPC: `{"b": b}` ($\dot\xi = b\xi^2$); PD: `{"a": a, "c": c}`
    ($\dot\xi = c\xi^3$; $c < 0$ supercritical); NS: `{"a": a, "d": d}` (complex $d$,
    $\dot\xi = i\omega\xi + d\xi|\xi|^2$; $\mathrm{Re}\,d < 0$ supercritical).

    **Raises:** `ValueError` for a point that is not a located LPC, PD or NS point of a
    collocation branch of this model, or float32; `ContinuationError` when the point's
    multipliers are not critical.
    """
    require_float64("spikejax.analysis.cycle_normal_form")
    if not (
        isinstance(point, SpecialPoint)
        and point.kind in ("LPC", "PD", "NS")
        and point.located
        and {"mesh", "degree", "active", "u"} <= set(point.info)
        and (point.kind != "NS" or "theta" in point.info)
    ):
        raise ValueError(
            "point must be a located SpecialPoint of kind 'LPC', 'PD' or 'NS' from "
            "continue_cycles_collocation"
        )
    system, mesh, m, u = _point_system(model, point, param, I)
    n = len(system.active)
    prob = _problem(system, mesh, u[:-2].reshape(-1, n), m, param, np.inf, 0)
    return normal_form_coefficients(prob, u, str(point.kind), theta=point.info.get("theta"))
