"""Expressions as text: checked parsing to sympy, removable singularities, JAX code.

Parsing: the text is split into Python tokens and checked before sympy sees it: only
numbers, the operators `+ - * / ** ^ ( ) , < > <= >=`, and identifiers that the caller
declares (model names, units) or that name a function of `FUNCTIONS` are accepted;
anything else (attribute access, brackets, strings, keywords, names starting with `_`) is
an error naming the token. The checked text is then read by
`sympy.parsing.sympy_parser.parse_expr` with a local dictionary that maps every identifier
to its symbol or function and a global dictionary holding only sympy's number and symbol
constructors, so the text cannot reach Python's built-ins.

Code: `compile_functions` prints sympy expressions to a Python function of `jax.numpy`
calls (sympy's `lambdify` with common subexpressions eliminated, and a printer that writes
conditionals as `jnp.where`), so the generated code has no Python control flow on values
and runs under `jit`, `vmap` and `grad`.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import sympy as sp
from sympy.parsing.sympy_parser import auto_number, convert_xor, parse_expr
from sympy.printing.numpy import JaxPrinter

__all__ = ["FUNCTIONS", "compile_functions", "make_safe", "parse", "sigmoid"]


class sigmoid(sp.Function):
    r"""The logistic function $1/(1 + e^{-x})$ (printed as `jax.nn.sigmoid`, which never
    overflows)."""

    def fdiff(self, argindex=1):
        s: Any = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))


def _where(cond, a, b):
    return sp.Piecewise((a, cond), (b, True))


def _clip(x, lo, hi):
    return sp.Min(sp.Max(x, lo), hi)


def _exprel(x):
    # Brian2's exprel(x) = (e^x - 1)/x; its removable singularity at x = 0 is made safe by
    # `make_safe` like any other.
    return (sp.exp(x) - 1) / x


#: The functions an expression may call, by name.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": sp.exp,
    "log": sp.log,
    "log10": lambda x: sp.log(x) / sp.log(10),
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "arctan": sp.atan,
    "floor": sp.floor,
    "ceil": sp.ceiling,
    "sign": sp.sign,
    "minimum": sp.Min,
    "maximum": sp.Max,
    "clip": _clip,
    "where": _where,
    "sigmoid": sigmoid,
    "exprel": _exprel,
}

_OPERATORS = {"+", "-", "*", "/", "**", "^", "(", ")", ",", "<", ">", "<=", ">="}


def check_tokens(text: str, where: str) -> list[str]:
    """The identifiers in `text`, after checking every token against the accepted set.

    **Raises:** `SyntaxError` naming `where` and the offending token.
    """
    if not isinstance(text, str):
        raise TypeError(f"{where}: an expression must be a string, got {text!r}")
    names: list[str] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text.strip()).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as err:
        raise SyntaxError(f"syntax error in {where}: `{text.strip()}` ({err})") from None
    skip = {tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT}
    for tok in tokens:
        if tok.type in skip:
            continue
        if tok.type == tokenize.NUMBER:
            if any(c in tok.string.lower() for c in "jxob_"):
                raise SyntaxError(
                    f"syntax error in {where}: `{tok.string}` is not a real decimal number"
                )
            continue
        if tok.type == tokenize.NAME:
            if keyword.iskeyword(tok.string) or tok.string.startswith("_"):
                raise SyntaxError(
                    f"syntax error in {where}: `{tok.string}` is not allowed in an expression"
                )
            names.append(tok.string)
            continue
        if tok.type == tokenize.OP and tok.string in _OPERATORS:
            continue
        raise SyntaxError(
            f"syntax error in {where}: `{tok.string}` is not allowed in an expression "
            f"(accepted: numbers, names, {' '.join(sorted(_OPERATORS))} and function calls)"
        )
    return names


_GLOBALS = {
    "Integer": sp.Integer,
    "Float": sp.Float,
    "Rational": sp.Rational,
    "Symbol": Any,
    "__builtins__": {},
}


def parse(text: str, resolve: Callable[[str], Any], where: str) -> Any:
    """`text` as a sympy expression; `resolve(name)` gives each identifier's symbol (or None
    for an unknown name, which is an error naming it).

    **Raises:** `SyntaxError` for text outside the accepted grammar (naming the token),
    `NameError` for an unknown identifier, `TypeError` for a function called wrongly.
    """
    names = check_tokens(text, where)
    local: dict[str, Any] = {}
    for name in names:
        if name in local:
            continue
        if name in FUNCTIONS:
            local[name] = FUNCTIONS[name]
            continue
        symbol = resolve(name)
        if symbol is None:
            raise NameError(f"unknown identifier `{name}` in {where}: `{text.strip()}`")
        local[name] = symbol
    try:
        expr = parse_expr(
            text.strip(),
            local_dict=local,
            global_dict=dict(_GLOBALS),
            transformations=(auto_number, convert_xor),
        )
    except SyntaxError as err:
        raise SyntaxError(f"syntax error in {where}: `{text.strip()}` ({err.msg})") from None
    except TypeError as err:
        raise TypeError(f"in {where}: `{text.strip()}`: {err}") from None
    if not isinstance(expr, sp.Basic):
        raise SyntaxError(f"syntax error in {where}: `{text.strip()}` is not an expression")
    if isinstance(expr, sp.Tuple | tuple):
        raise SyntaxError(f"syntax error in {where}: `{text.strip()}` is not one expression")
    return expr


# ----- removable singularities --------------------------------------------------------------

#: Degree of the series that replaces a term near its removable singularity.
SERIES_DEGREE = 8


def _denominators(term: Any) -> list[Any]:
    factors: list[Any] = list(sp.Mul.make_args(term))
    return [f.base for f in factors if f.is_Pow and f.exp == -1]


def _taylor(expr: Any, x: Any, x0: Any, n: int) -> list[Any]:
    out, d = [], expr
    for i in range(n):
        out.append(_simplest(d.subs(x, x0)) / sp.factorial(i))
        d = sp.diff(d, x)
    return out


def _simplest(e: Any) -> Any:
    """`e` simplified when it holds symbols (numbers are left as they are: fast)."""
    return e if e.is_number else sp.simplify(e)


def _safe_term(term: Any, x: Any, others: set[Any], bound: Any) -> tuple[Any, Any] | None:
    """`term` with the removable singularity of its denominator in `x` made safe (a series
    branch and the closed form at a safe argument), or None when it has none."""
    dens = [d for d in _denominators(term) if x in d.free_symbols]
    if len(dens) != 1:
        return None
    d = dens[0]
    if d.free_symbols & others:
        return None
    zeros = sp.solveset(d, x, domain=sp.S.Reals)
    if not isinstance(zeros, sp.FiniteSet) or len(zeros) != 1:
        return None
    (x0,) = tuple(zeros)
    factors: list[Any] = list(sp.Mul.make_args(term))
    numerator = sp.Mul(*[f for f in factors if not (f.is_Pow and f.base == d)])
    if _simplest(numerator.subs(x, x0)) != 0:
        return None  # a pole, not a removable singularity
    w = sp.Dummy("w", real=True)
    limit = sp.limit(term.subs(x, x0 + w), w, 0)
    if not limit.is_finite:
        return None
    n = SERIES_DEGREE + 2
    dc = _taylor(d, x, x0, n)
    nc = _taylor(numerator, x, x0, n)
    if dc[1] == 0:
        return None  # a multiple zero: left as written
    # term = N/d with N(x0) = d(x0) = 0: divide both series by w, then divide the series.
    M, D = nc[1:], dc[1:]
    q: list[Any] = []
    for i in range(SERIES_DEGREE + 1):
        qi = (M[i] - sum((q[j] * D[i - j] for j in range(i)), sp.Integer(0))) / D[0]
        q.append(_simplest(qi))
    u = x - x0
    series = sp.Integer(0)
    for c in reversed(q):
        series = c + u * series
    # The switch is a distance in x's working unit (no second evaluation of d).
    small = sp.Abs(x - x0) < bound
    x_safe = sp.Piecewise((x0 + 1 / dc[1], small), (x, True))
    closed = term.subs(x, x_safe)
    return sp.Piecewise((series, small), (closed, True)), x0


def make_safe(
    expr: Any, states: Sequence[Any], bound: Any
) -> tuple[Any, list[tuple[Any, Any, Any]]]:
    r"""`expr` with every removable singularity in one state variable made safe.

    A term $N(x)/d(x)$ (one denominator depending on one state variable $x$ and parameters)
    whose denominator has one real zero $x_0$ (sympy's `solveset`) where the numerator
    vanishes too and the limit is finite (sympy's `limit`) is replaced by
    `where(|x - x_0| < bound, series, N(x_s)/d(x_s))` (`bound` in $x$'s working unit)
    with the Taylor series of the term to
    degree `SERIES_DEGREE` about $x_0$ and the safe argument
    $x_s$ = `where(small, x0 + 1/d'(x0), x)`: the double-`where` idiom, so that values and
    gradients are finite at the singular point.

    **Returns:** the safe expression and the list of `(term, x, x0)` made safe.
    """
    made: list[tuple[Any, Any, Any]] = []
    state_set = set(states)

    def visit(e):
        if e.is_Atom or isinstance(e, sp.Piecewise):  # conditionals (made safe) as they are
            return e
        args = [visit(a) for a in e.args]
        e = e.func(*args) if tuple(args) != e.args else e
        if e.is_Mul:
            for x in sorted(state_set & e.free_symbols, key=str):
                safe = _safe_term(e, x, state_set - {x}, bound)
                if safe is not None:
                    made.append((e, x, safe[1]))
                    return safe[0]
        return e

    return visit(expr), made


# ----- code ------------------------------------------------------------------------------------


class _Printer(JaxPrinter):
    """sympy's JAX printer with conditionals as nested `where`, min/max as nested
    `minimum`/`maximum`, floats to full precision and the logistic function."""

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Piecewise(self, expr) -> str:
        out = "nan"
        for value, cond in reversed(expr.args):
            v = self._print(value)
            if cond == sp.true:
                out = v
            else:
                out = f"where({self._print(cond)}, {v}, {out})"
        return out

    def _nested(self, name, args):
        out = self._print(args[0])
        for a in args[1:]:
            out = f"{name}({out}, {self._print(a)})"
        return out

    def _print_Min(self, expr):
        return self._nested("minimum", expr.args)

    def _print_Max(self, expr):
        return self._nested("maximum", expr.args)

    def _print_sigmoid(self, expr):
        return f"sigmoid({self._print(expr.args[0])})"

    def _print_Relational(self, expr):
        return f"({self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)})"


_NAMESPACE = {
    "where": jnp.where,
    "minimum": jnp.minimum,
    "maximum": jnp.maximum,
    "sigmoid": jax.nn.sigmoid,
    "nan": jnp.nan,
}


def compile_functions(
    args: Sequence[Any], exprs: Sequence[Any], *, numpy: bool = False
) -> Callable[..., tuple[Any, ...]]:
    """A Python function `f(*args) -> tuple of values` evaluating `exprs` with `jax.numpy`
    (common subexpressions computed once), or with NumPy (`numpy=True`, float64 on the host,
    for expressions of the parameters). The code is printed from the sympy trees, never from
    user text."""
    if numpy:
        fn = sp.lambdify(list(args), list(exprs), modules="numpy", cse=True, docstring_limit=0)
        return lambda *a: tuple(fn(*a))
    fn = sp.lambdify(
        list(args),
        list(exprs),
        modules=[_NAMESPACE, "jax"],
        printer=_Printer({"fully_qualified_modules": False, "inline": True, "user_functions": {}}),
        cse=True,
        dummify=True,
        docstring_limit=0,
    )
    return lambda *a: tuple(fn(*a))
