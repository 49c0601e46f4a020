r"""Codimension-two points of equilibria and their normal-form coefficients.

On a curve of folds or Hopf points in two parameters (`bifurcation_curve`) the following
points are detected by test functions and located (regula falsi in arclength on the
curve, or Newton on a minimally extended system):

| point | curve | test function | coefficients |
|---|---|---|---|
| **BT** Bogdanov-Takens | fold | $e_{n-1}(f_x)$, the product of the nonzero eigenvalues | $a, b$ |
| **BT** | Hopf | the curve ends where $\omega \to 0$; Newton on fold + $e_{n-1} = 0$ | $a, b$ |
| **CP** cusp | fold | $a = \tfrac12 \langle p, B(q, q)\rangle$ | $c$ |
| **GH** generalised Hopf (Bautin) | Hopf | $\ell_1$ | $\ell_2$ |
| **ZH** zero-Hopf | fold | $\prod_{i<j} (\lambda_i + \lambda_j)$, nonzero $\lambda$ | $b, c, d$ |
| **ZH** | Hopf | $\det f_x$ | $b, c, d$ |

The coefficients follow Kuznetsov (2004), *Elements of Applied Bifurcation Theory*,
3rd ed., sec. 8.7 (and Kuznetsov 1999, "Numerical normalization techniques for all codim 2
bifurcations of equilibria in ODEs", SIAM J. Numer. Anal. 36), with $B, C, D, E$ the
2nd-5th derivatives of $f$ as multilinear forms (nested forward-mode autodiff, extended to
complex vectors by multilinearity):

* **BT**: $A q_0 = 0$, $A q_1 = q_0$, $A^\top p_1 = 0$, $A^\top p_0 = p_1$,
  $p_0\cdot q_0 = p_1\cdot q_1 = 1$, $p_0\cdot q_1 = p_1\cdot q_0 = 0$, $|q_0| = 1$,
  $q_0\cdot q_1 = 0$ and $q_0$ oriented so that its largest component is positive; the
  normal form $\dot w_0 = w_1$, $\dot w_1 = a w_0^2 + b w_0 w_1$ has
  $a = \tfrac12 p_1\cdot B(q_0, q_0)$, $b = p_0\cdot B(q_0, q_0) + p_1\cdot B(q_0, q_1)$.
  ($a$ and $b$ scale together with $|q_0|$; $\mathrm{sign}(ab)$ and $b/a$ do not.)
* **CP**: $A q = 0$, $A^\top p = 0$, $|q| = 1$, $p\cdot q = 1$; the restriction to the
  centre manifold is $\dot w = a w^2 + c w^3$ with $a = \tfrac12 p\cdot B(q,q)$ (zero at the
  cusp) and $c = \tfrac16 p\cdot[C(q,q,q) + 3B(q, h_2)]$, $A h_2 = -B(q,q) + 2a q$,
  $p\cdot h_2 = 0$.
* **GH**: with $A q = i\omega q$, $\bar p^\top A = i\omega \bar p^\top$, $\bar q^\top q = 1$,
  $\bar p^\top q = 1$, the centre manifold $x = \sum h_{jk} z^j\bar z^k$ and the normal form
  $\dot z = i\omega z + c_1 z|z|^2 + c_2 z|z|^4$ are computed order by order (the
  homological equations to order 5, resonant terms removed with $\bar p^\top h_{21} = 0$);
  $\ell_1 = \mathrm{Re}\,c_1/\omega$, $\ell_2 = \mathrm{Re}\,c_2/\omega$ (Kuznetsov's
  normalisation: $\dot r = \omega r(\beta + \ell_1 r^2 + \ell_2 r^4)$ in the normal form's
  polar coordinates). $\ell_2 < 0$: near the Bautin point the cycles fold (an LPC curve
  is born) on the side where $\ell_1 > 0$.
* **ZH**: $A q_0 = 0$, $A^\top p_0 = 0$, $A q_1 = i\omega q_1$, $\bar p_1^\top A = i\omega
  \bar p_1^\top$, $|q_0| = |q_1| = 1$, $p_0\cdot q_0 = \bar p_1^\top q_1 = 1$; the
  second-order normal form $\dot\xi = b\xi^2 + c|\zeta|^2$,
  $\dot\zeta = i\omega\zeta + d\,\xi\zeta$ has $b = \tfrac12 p_0\cdot B(q_0,q_0)$,
  $c = p_0\cdot B(q_1, \bar q_1)$, $d = \bar p_1^\top B(q_0, q_1)$; the unfolding type is
  set by $s = \mathrm{sign}(bc)$ and $\theta = \mathrm{Re}\,d / b$ (both independent of the
  scaling of $q_0$).
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..solvers._continuation import SpecialPointKind

__all__ = [
    "Codim2Point",
    "bogdanov_takens_basis",
    "bogdanov_takens_coefficients",
    "cusp_coefficients",
    "elementary_symmetric",
    "hopf_coefficients",
    "zero_hopf_coefficients",
]


@dataclasses.dataclass(frozen=True)
class Codim2Point:
    """A codimension-two point on a curve of folds or Hopf points.

    **Fields:** `kind` (a `SpecialPointKind`: "BT", "CP", "GH" or "ZH"), `params` (dict
    parameter name -> value, both parameters), `state` (dict state name -> value), `index`
    (it lies between curve points `index` and `index + 1`), `eigenvalues` (of the Jacobian
    there), `coefficients` (dict: "a", "b" for BT; "a", "c" for CP; "l1", "l2", "omega" for
    GH; "b", "c", "d", "s", "theta", "omega" for ZH, in the conventions of this module),
    `located` (False: the locator failed and the point is the last curve point near it).
    """

    kind: SpecialPointKind
    params: dict[str, float]
    state: dict[str, float]
    index: int
    eigenvalues: np.ndarray
    coefficients: dict[str, Any]
    located: bool = True


# ----------------------------------------------------------------------------------------------
# Multilinear forms by nested forward-mode autodiff
# ----------------------------------------------------------------------------------------------


@eqx.filter_jit
def _jacobian(fm, x):
    return jax.jacfwd(fm)(x)


@eqx.filter_jit
def _derivatives(fm, x, dirs):
    """$D^k f(x)[d_1, \\dots, d_k]$ for a batch `dirs` of shape (T, k, n) (real)."""
    k = dirs.shape[1]

    def nested(y, ds, i):
        if i == k:
            return fm(y)
        return jax.jvp(lambda z: nested(z, ds, i + 1), (y,), (ds[i],))[1]

    return jax.vmap(lambda ds: nested(x, ds, 0))(dirs)


_BATCH = 64


def _forms(fm, x, tuples: list[list[np.ndarray]]) -> list[np.ndarray]:
    """$D^k f(x)[v_1, \\dots, v_k]$ for complex vectors, one per tuple (all of the same
    length k), by multilinearity over real and imaginary parts."""
    if not tuples:
        return []
    k = len(tuples[0])
    masks = list(itertools.product((0, 1), repeat=k))
    dirs, factors = [], []
    for vs in tuples:
        for mask in masks:
            dirs.append([np.imag(v) if b else np.real(v) for v, b in zip(vs, mask, strict=True)])
            factors.append(1j ** sum(mask))
    dirs = np.asarray(dirs)
    m = dirs.shape[0]
    # fixed batches of _BATCH direction tuples: one compilation per order k
    pad = (-m) % _BATCH
    dirs = np.concatenate([dirs, np.zeros((pad, *dirs.shape[1:]))])
    xj = jnp.asarray(x, float)
    out = np.concatenate(
        [
            np.asarray(_derivatives(fm, xj, jnp.asarray(dirs[i : i + _BATCH])))
            for i in range(0, dirs.shape[0], _BATCH)
        ]
    )[:m]
    out = out * np.asarray(factors)[:, None]
    return list(out.reshape(len(tuples), len(masks), -1).sum(axis=1))


def _form(fm, x, *vs) -> np.ndarray:
    return _forms(fm, x, [[np.asarray(v, complex) for v in vs]])[0]


def _real_form(fm, x, *vs) -> np.ndarray:
    return np.real(_form(fm, x, *vs))


def elementary_symmetric(A: Any, k: int) -> Any:
    """$e_k$ of the eigenvalues of the square matrix `A` (the sum of its principal minors of
    order k), smooth in `A` and free of eigenvector orientation (JAX or NumPy arrays)."""
    n = A.shape[0]
    xp = jnp if isinstance(A, jax.Array) else np
    if k == 0:
        return xp.asarray(1.0)
    total = 0.0
    for idx in itertools.combinations(range(n), k):
        ii = np.asarray(idx)
        total = total + xp.linalg.det(A[ii][:, ii])
    return total


def _null_vectors(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit right and left null vectors of a (nearly) singular matrix."""
    U, _, Vt = np.linalg.svd(A)
    return Vt[-1], U[:, -1]


def _orient(q: np.ndarray) -> np.ndarray:
    """`q` with its largest-magnitude component positive (a reproducible orientation)."""
    return q if q[np.argmax(np.abs(q))] > 0 else -q


# ----------------------------------------------------------------------------------------------
# Fold and cusp
# ----------------------------------------------------------------------------------------------


def cusp_coefficients(fm, x, q: np.ndarray | None = None) -> dict[str, float]:
    r"""The quadratic coefficient $a$ and the cusp coefficient $c$ at a fold point `x` of
    the vector field `fm` (an `equinox.Module` callable `x -> f(x)`); `q` the null vector's
    orientation (default: `_orient`). $c$ is meaningful where $a = 0$ (a cusp)."""
    x = np.asarray(x, float)
    A = np.asarray(_jacobian(fm, jnp.asarray(x)))
    v, w = _null_vectors(A)
    if q is not None and v @ q < 0:
        v = -v
    elif q is None:
        v = _orient(v)
    p = w / (w @ v)
    Bqq = _real_form(fm, x, v, v)
    a = 0.5 * float(p @ Bqq)
    n = x.size
    M = np.block([[A, v[:, None]], [p[None, :], np.zeros((1, 1))]])
    h2 = np.linalg.solve(M, np.concatenate([-Bqq + 2 * a * v, [0.0]]))[:n]
    c = float(p @ (_real_form(fm, x, v, v, v) + 3 * _real_form(fm, x, v, h2))) / 6.0
    return {"a": a, "c": c}


# ----------------------------------------------------------------------------------------------
# Bogdanov-Takens
# ----------------------------------------------------------------------------------------------


def bogdanov_takens_basis(A: np.ndarray) -> tuple[np.ndarray, ...]:
    """The Jordan chains $(q_0, q_1, p_0, p_1)$ of the Jacobian `A` at a BT point, normalised
    as in the module docstring."""
    q0, p1 = _null_vectors(A)
    q0 = _orient(q0)
    # A q1 = q0 with q0 . q1 = 0 (consistent at a BT point, where q0 lies in range(A))
    q1 = np.linalg.lstsq(np.vstack([A, q0[None, :]]), np.concatenate([q0, [0.0]]), rcond=None)[0]
    p1 = p1 / (p1 @ q1)
    p0 = np.linalg.lstsq(np.vstack([A.T, q0[None, :]]), np.concatenate([p1, [1.0]]), rcond=None)[0]
    p0 = p0 - (p0 @ q1) * p1
    return q0, q1, p0, p1


def bogdanov_takens_ab(basis: tuple[np.ndarray, ...], B) -> tuple[float, float]:
    r"""$(a, b)$ from the Jordan chains `basis` (`bogdanov_takens_basis`) and the second
    derivative `B(v, w)` $= D^2 f[v, w]$ (real) at the BT point."""
    q0, q1, p0, p1 = basis
    Bq0q0 = B(q0, q0)
    return 0.5 * float(p1 @ Bq0q0), float(p0 @ Bq0q0 + p1 @ B(q0, q1))


def bogdanov_takens_coefficients(fm, x) -> dict[str, float]:
    r"""$(a, b)$ of the Bogdanov-Takens normal form at `x` (module docstring)."""
    x = np.asarray(x, float)
    basis = bogdanov_takens_basis(np.asarray(_jacobian(fm, jnp.asarray(x))))
    a, b = bogdanov_takens_ab(basis, lambda v, w: _real_form(fm, x, v, w))
    return {"a": a, "b": b}


# ----------------------------------------------------------------------------------------------
# Hopf normal form to fifth order (l1, l2)
# ----------------------------------------------------------------------------------------------


def _multisets(keys: list[tuple[int, int]], target: tuple[int, int], min_size: int):
    """Multisets (as sorted tuples of key indices) of `keys` summing to `target`."""
    out = []

    def rec(start, remaining, chosen):
        if remaining == (0, 0):
            if len(chosen) >= min_size:
                out.append(tuple(chosen))
            return
        for i in range(start, len(keys)):
            j, k = keys[i]
            if j <= remaining[0] and k <= remaining[1]:
                rec(i, (remaining[0] - j, remaining[1] - k), [*chosen, i])

    rec(0, target, [])
    return out


def _nonlinear_coefficient(fm, x, h: dict[tuple[int, int], np.ndarray], target) -> np.ndarray:
    r"""The coefficient of $z^j \bar z^k$ (`target`) in $f(x + \sum h_{jk} z^j\bar z^k)$
    from the derivatives of order $\ge 2$: $\sum_m \frac{1}{m!} D^m f[P, \dots, P]$ collected
    over the multisets of monomials (weight $1/\prod \mathrm{mult}!$)."""
    keys = [key for key in h if sum(key) < sum(target)]
    by_order: dict[int, list[tuple[float, list[np.ndarray]]]] = {}
    for ms in _multisets(keys, target, 2):
        weight = 1.0
        for i in set(ms):
            weight /= float(np.prod(np.arange(1, ms.count(i) + 1)))
        by_order.setdefault(len(ms), []).append((weight, [h[keys[i]] for i in ms]))
    total = np.zeros(np.asarray(x).size, complex)
    for terms in by_order.values():
        vals = _forms(fm, x, [vs for _, vs in terms])
        for (weight, _), val in zip(terms, vals, strict=True):
            total = total + weight * val
    return total


def hopf_coefficients(fm, x, omega: float, *, order: int = 5) -> dict[str, float]:
    r"""$\ell_1$ (and with `order=5`, $\ell_2$) at a Hopf point `x` with frequency `omega`
    of the vector field `fm`, by the homological equations (module docstring)."""
    x = np.asarray(x, float)
    A = np.asarray(_jacobian(fm, jnp.asarray(x)))
    n = x.size
    ev, V = np.linalg.eig(A)
    k = int(np.argmin(np.abs(ev - 1j * omega)))
    q = V[:, k] / np.linalg.norm(V[:, k])
    evT, W = np.linalg.eig(A.T)
    p = W[:, int(np.argmin(np.abs(evT + 1j * omega)))]
    p = p / np.conj(np.vdot(p, q))  # vdot(p, q) = conj(p) . q = 1
    eye = np.eye(n)
    h: dict[tuple[int, int], np.ndarray] = {(1, 0): q, (0, 1): np.conj(q)}

    def N(j, k_):
        return _nonlinear_coefficient(fm, x, h, (j, k_))

    def put(key, val):
        h[key] = val
        if key[0] != key[1]:
            h[(key[1], key[0])] = np.conj(val)

    def bordered(rhs):
        """(A - i omega) y = rhs with vdot(p, y) = 0 (rhs in the range)."""
        M = np.block([[A - 1j * omega * eye, q[:, None]], [np.conj(p)[None, :], np.zeros((1, 1))]])
        return np.linalg.solve(M, np.concatenate([rhs, [0.0]]))[:n]

    put((2, 0), np.linalg.solve(A - 2j * omega * eye, -N(2, 0)))
    put((1, 1), np.linalg.solve(A.astype(complex), -N(1, 1)))
    N21 = N(2, 1)
    c1 = complex(np.vdot(p, N21))
    out = {"l1": c1.real / omega, "omega": float(omega)}
    if order < 5:
        return out
    put((3, 0), np.linalg.solve(A - 3j * omega * eye, -N(3, 0)))
    put((2, 1), bordered(-N21 + c1 * q))
    put((3, 1), np.linalg.solve(A - 2j * omega * eye, -N(3, 1) + 2 * c1 * h[(2, 0)]))
    put((2, 2), np.linalg.solve(A.astype(complex), -N(2, 2) + 2 * c1.real * h[(1, 1)]))
    c2 = complex(np.vdot(p, N(3, 2)))
    out["l2"] = c2.real / omega
    return out


# ----------------------------------------------------------------------------------------------
# Zero-Hopf
# ----------------------------------------------------------------------------------------------


def zero_hopf_coefficients(fm, x) -> dict[str, Any]:
    r"""$b, c, d$ and the invariants $s$, $\theta$ at a zero-Hopf point (module docstring)."""
    x = np.asarray(x, float)
    A = np.asarray(_jacobian(fm, jnp.asarray(x)))
    ev, V = np.linalg.eig(A)
    k0 = int(np.argmin(np.abs(ev)))
    rest = [i for i in range(ev.size) if i != k0]
    pairs = [i for i in rest if ev[i].imag > 0]
    if not pairs:
        raise ValueError("no complex pair of eigenvalues: not a zero-Hopf point")
    k1 = min(pairs, key=lambda i: abs(ev[i].real))
    omega = float(abs(ev[k1].imag))
    q0, p0 = _null_vectors(A)
    q0 = _orient(q0)
    p0 = p0 / (p0 @ q0)
    q1 = V[:, k1] if ev[k1].imag > 0 else np.conj(V[:, k1])
    q1 = q1 / np.linalg.norm(q1)
    evT, W = np.linalg.eig(A.T)
    p1 = W[:, int(np.argmin(np.abs(evT + 1j * omega)))]
    p1 = p1 / np.conj(np.vdot(p1, q1))
    b = 0.5 * float(p0 @ _real_form(fm, x, q0, q0))
    c = float(np.real(p0 @ _form(fm, x, q1, np.conj(q1))))
    d = complex(np.vdot(p1, _form(fm, x, q0, q1)))
    return {
        "b": b,
        "c": c,
        "d": d,
        "s": float(np.sign(b * c)),
        "theta": d.real / b if b != 0 else float("nan"),
        "omega": omega,
    }
