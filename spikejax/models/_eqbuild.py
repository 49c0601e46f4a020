"""Building an `EquationModel` from text: parsing, units, code (see `from_equations`)."""

from __future__ import annotations

import dataclasses
import keyword
import re
from collections.abc import Mapping
from typing import Any

import equinox as eqx
import sympy as sp
from jaxtyping import ArrayLike

from ..solvers._schemes import RK4, AbstractScheme, ExactLinear, ExponentialEuler, get_scheme
from . import _units
from ._codegen import FUNCTIONS, compile_functions, make_safe, parse, sigmoid
from ._equations import _REFRACTORY, EquationModel, _Spec

_FLAGS = ("unless refractory", "constant")


# ----- reading the text -------------------------------------------------------------------------


@dataclasses.dataclass
class _Line:
    kind: str  # "diff", "sub" or "param"
    name: str
    rhs: str
    unit: str
    flags: tuple[str, ...]
    text: str


_DIFF = re.compile(r"^d\s*(?P<name>[A-Za-z_]\w*)\s*/\s*dt\s*=(?P<rest>.*)$")
_SUB = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=(?P<rest>.*)$")
_PARAM = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*:(?P<unit>.*)$")
_FLAG = re.compile(r"\((?P<flags>[a-z ,]+)\)\s*$")


def _logical_lines(text: str) -> list[str]:
    """Lines without comments; a line with unbalanced parentheses continues on the next."""
    out, pending = [], ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip() and not pending:
            continue
        pending = f"{pending} {line.strip()}" if pending else line.strip()
        if pending.count("(") <= pending.count(")"):
            out.append(pending)
            pending = ""
    if pending:
        raise SyntaxError(f"syntax error: unbalanced parentheses in `{pending}`")
    return out


def _unit_and_flags(text: str, where: str) -> tuple[str, tuple[str, ...]]:
    text = text.strip()
    m = _FLAG.search(text)
    flags: tuple[str, ...] = ()
    if m is not None:
        flags = tuple(f.strip() for f in m.group("flags").split(","))
        unknown = [f for f in flags if f not in _FLAGS]
        if unknown:
            raise SyntaxError(f"{where}: unknown flag(s) {unknown}; accepted: {list(_FLAGS)}")
        text = text[: m.start()].strip()
    return text, flags


def _read(equations: str) -> list[_Line]:
    if not isinstance(equations, str):
        raise TypeError(f"equations must be a string, got {equations!r}")
    lines = []
    for line in _logical_lines(equations):
        m = _DIFF.match(line) or _SUB.match(line)
        if m is not None:
            kind = "diff" if m.re is _DIFF else "sub"
            body = m.group("rest")
            rhs, _, unit = body.rpartition(":") if ":" in body else (body, "", "")
            where = f"d{m.group('name')}/dt" if kind == "diff" else f"`{m.group('name')} = ...`"
            unit, flags = _unit_and_flags(unit, where)
            if not rhs.strip():
                raise SyntaxError(f"syntax error in {where}: no right-hand side in `{line}`")
            lines.append(_Line(kind, m.group("name"), rhs.strip(), unit, flags, line))
            continue
        m = _PARAM.match(line)
        if m is not None:
            unit, flags = _unit_and_flags(m.group("unit"), f"`{line}`")
            lines.append(_Line("param", m.group("name"), "", unit, flags, line))
            continue
        raise SyntaxError(
            f"syntax error: `{line}` is not `dx/dt = expression : unit`, "
            "`x = expression : unit` or `x : unit`"
        )
    if not lines:
        raise ValueError("equations: no equations given")
    return lines


def _statements(text: str | None, where: str) -> list[tuple[str, str, str]]:
    """`v = c; u += d` as `[(name, op, expression), ...]` (`;` or new lines separate)."""
    if text is None:
        return []
    if not isinstance(text, str):
        raise TypeError(f"{where} must be a string of statements, got {text!r}")
    out = []
    for part in re.split(r"[;\n]", text):
        part = part.split("#", 1)[0].strip()
        if not part:
            continue
        m = re.match(r"^(?P<name>[A-Za-z_]\w*)\s*(?P<op>[-+*/]?=)(?!=)\s*(?P<rhs>.+)$", part)
        if m is None:
            raise SyntaxError(
                f"syntax error in {where}: `{part}` is not `name = expr` (or +=, -=, *=, /=)"
            )
        out.append((m.group("name"), m.group("op"), m.group("rhs")))
    return out


# ----- the generated model -----------------------------------------------------------------------


# ----- building ----------------------------------------------------------------------------------


def _check_name(name: str, what: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(f"{what} `{name}` is not a valid name (a Python identifier, no `_` first)")
    if name in FUNCTIONS:
        raise ValueError(f"{what} `{name}` is the name of a function; choose another name")


class _Builder:
    def __init__(self, lines: list[_Line], parameters: Mapping[str, Any], current: str):
        self.lines = lines
        self.current = current
        self.diff = [ln for ln in lines if ln.kind == "diff"]
        self.subs = {ln.name: ln for ln in lines if ln.kind == "sub"}
        self.decl = {ln.name: ln for ln in lines if ln.kind == "param"}
        if not self.diff:
            raise ValueError("equations: no differential equation (`dx/dt = ...`)")
        seen: dict[str, str] = {}
        for ln in lines:
            what = {"diff": "state variable", "sub": "subexpression", "param": "parameter"}
            _check_name(ln.name, what[ln.kind])
            if ln.name in seen:
                raise ValueError(
                    f"equations: `{ln.name}` is defined twice (`{seen[ln.name]}` and `{ln.text}`)"
                )
            seen[ln.name] = ln.text
            if ln.name in ("t", "dt"):
                raise ValueError(f"equations: `{ln.name}` is reserved (time and time step)")
        if current in {ln.name for ln in self.diff} | set(self.subs):
            raise ValueError(
                f"equations: `{current}` is the input current (current={current!r}); it cannot "
                "be a state variable or a subexpression"
            )
        self.states = tuple(ln.name for ln in self.diff)
        self.values: dict[str, Any] = {}
        self.value_units: dict[str, Any] = {}
        for name, value in parameters.items():
            if not isinstance(name, str):
                raise TypeError(f"parameters: names must be strings, got {name!r}")
            _check_name(name, "parameter")
            if name in self.states or name in self.subs:
                raise ValueError(f"parameters: `{name}` is a state variable or subexpression")
            if name == current or name in ("t", "dt"):
                raise ValueError(f"parameters: `{name}` is reserved")
            v, unit = _units.to_working(name, value)
            if isinstance(v, int) and not isinstance(v, bool):
                v = float(v)
            self.values[name] = v
            self.value_units[name] = unit
        undeclared = [n for n in self.decl if n not in self.values and n != current]
        if undeclared:
            raise ValueError(
                f"parameter(s) {undeclared} are declared in the equations but have no value; "
                "give them in parameters={...}"
            )
        unit_texts = [ln.unit for ln in lines]
        self.with_units = any(not _units.is_dimensionless_text(u) for u in unit_texts) or any(
            u is not None for u in self.value_units.values()
        )
        if self.with_units:
            _units.require_registry("the model")
        self.unit_symbols: dict[Any, Any] = {}
        self.symbols = {n: sp.Symbol(n, real=True) for n in (*self.states, *self.subs)}
        for n in self.values:
            self.symbols[n] = sp.Symbol(n, real=True)
        self.symbols["t"] = sp.Symbol("t", real=True)
        self.symbols[current] = sp.Symbol(current, real=True)
        self.used: set[str] = set()

    # identifiers ---------------------------------------------------------------------------
    def resolve(self, name: str):
        if name in self.symbols:
            self.used.add(name)
            return self.symbols[name]
        if self.with_units:
            unit = _units.lookup_unit(name)
            if unit is not None:
                # Model names shadow unit names, so a unit's symbol never meets a model
                # symbol of the same name; it is told apart by `unit_symbols`.
                sym = sp.Symbol(name, real=True, positive=True)
                self.unit_symbols[sym] = unit
                return sym
        return None

    def parse(self, text: str, where: str) -> Any:
        return parse(text, self.resolve, where)  # pyright: ignore[reportReturnType]

    # units -----------------------------------------------------------------------------------
    def declared_units(self) -> None:
        u = {}
        if not self.with_units:
            self.units = {}
            return
        ureg = _units.require_registry("the model")
        for ln in self.lines:
            if ln.kind == "param" and ln.name not in self.values and ln.name != self.current:
                continue
            unit = (
                ureg.dimensionless
                if _units.is_dimensionless_text(ln.unit)
                else _units.parse_unit(ln.unit, f"`{ln.text}`")
            )
            u[ln.name] = unit
        for name, unit in self.value_units.items():
            if name in u and ln_declared(self.decl, name):
                if unit is not None and not _units.same_dimension(unit, u[name]):
                    raise _units.UnitError(
                        f"parameter `{name}` is declared with units {_units.display(u[name])} "
                        f"but its value has units {_units.display(unit)}"
                    )
                if unit is None:
                    u[name] = _units.working_unit(u[name])
                else:
                    u[name] = unit
            else:
                u[name] = ureg.dimensionless if unit is None else unit
        u["t"] = ureg.ms
        if self.current not in u:
            u[self.current] = None  # undeclared: an error if it is used with units
        self.units = u

    def unit_of(self, sym: Any, where: str):
        name = sym.name
        if sym in self.unit_symbols:
            return self.unit_symbols[sym]
        unit = self.units.get(name)
        if unit is None and name == self.current:
            raise _units.UnitError(
                f"the input current `{name}` is used in {where} but has no unit: declare it "
                f"with a line `{name} : <unit>` (e.g. `{name} : nA` or `{name} : uA/cm**2`)"
            )
        if name in self.subs:
            return self.units[name]
        return unit

    def dims(self, e: Any, where: str):
        """The unit of `e` (pint), checking every sum, function and comparison in it."""
        ureg = _units.require_registry("the model")
        one = ureg.dimensionless
        if e.is_Symbol:
            return self.unit_of(e, where)  # pyright: ignore[reportArgumentType]
        if e.is_Number or e in (sp.true, sp.false):
            return None if e in (sp.oo, -sp.oo, sp.zoo, sp.Integer(0)) else one
        if isinstance(e, sp.Add | sp.Min | sp.Max):
            parts = [(a, self.dims(a, where)) for a in e.args]
            ref = next(((a, u) for a, u in parts if u is not None), None)
            if ref is None:
                return None
            for a, u in parts:
                if u is not None and not _units.same_dimension(u, ref[1]):
                    raise _units.UnitError(
                        f"in {where}: the terms `{ref[0]}` ({_units.display(ref[1])}) and "
                        f"`{a}` ({_units.display(u)}) have different units"
                    )
            return ref[1]
        if e.is_Mul:
            out = one
            for a in e.args:
                u = self.dims(a, where)
                if u is not None:
                    out = out * u
            return out
        if e.is_Pow:
            base, ex = e.args  # pyright: ignore[reportAttributeAccessIssue]
            ub = self.dims(base, where)
            if ex.is_Number:
                return None if ub is None else ub ** float(ex)
            ue = self.dims(ex, where)
            for part, u in ((base, ub), (ex, ue)):
                if u is not None and not u.dimensionless:
                    raise _units.UnitError(
                        f"in {where}: `{part}` in `{e}` has units {_units.display(u)}; "
                        "a power with a non-numeric exponent needs dimensionless operands"
                    )
            return one
        if isinstance(e, sp.Piecewise):
            values = []
            for value, cond in e.args:  # pyright: ignore[reportGeneralTypeIssues]
                self.dims(cond, where)
                values.append(value)
            return (
                self.dims(sp.Add(*values, evaluate=False), where)
                if len(values) > 1
                else (self.dims(values[0], where))
            )
        if isinstance(e, sp.core.relational.Relational):
            self.dims(sp.Add(e.lhs, -e.rhs, evaluate=False), where)  # pyright: ignore
            return one
        if isinstance(e, sp.Abs | sp.floor | sp.ceiling):
            return self.dims(e.args[0], where)
        if isinstance(e, sp.sign):
            self.dims(e.args[0], where)
            return one
        if isinstance(e, sp.Function):
            for a in e.args:
                u = self.dims(a, where)
                if u is not None and not u.dimensionless:
                    raise _units.UnitError(
                        f"in {where}: the argument `{a}` of {type(e).__name__} has units "
                        f"{_units.display(u)}; it must be dimensionless"
                    )
            return one
        raise _units.UnitError(f"in {where}: cannot determine the units of `{e}`")

    def check(self, expr: Any, expected, where: str, lhs: str) -> None:
        if not self.with_units:
            return
        got = self.dims(expr, where)
        if got is not None and not _units.same_dimension(got, expected):
            prefix = "" if where == lhs else f"{where}: "
            raise _units.UnitError(
                f"{prefix}{lhs} has units {_units.display(expected)} but the right-hand side "
                f"`{expr}` has units {_units.display(got)}"
            )

    def working_scale(self, name: str):
        if not self.with_units:
            return sp.Integer(1)
        unit = self.units.get(name)
        if unit is None:
            return sp.Integer(1)
        return _units.si_scale(_units.working_unit(unit))

    def to_si(self, expr: Any) -> Any:
        """`expr` with every symbol scaled from its working unit to SI (exact rationals)."""
        if not self.with_units:
            return expr
        rep: dict[Any, Any] = {}
        for s in expr.free_symbols:
            if s in self.unit_symbols:
                rep[s] = _units.si_scale(self.unit_symbols[s])
            elif s.name not in self.subs:  # pyright: ignore[reportAttributeAccessIssue]
                rep[s] = self.working_scale(s.name) * s  # pyright: ignore
        return expr.xreplace(rep)


def ln_declared(decl: dict[str, _Line], name: str) -> bool:
    return name in decl


def _as_quantity_expr(value: Any, what: str, builder: _Builder) -> Any:
    """A threshold value, refractory period or initial value given as a number or text."""
    if isinstance(value, str):
        return builder.parse(value, what)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return sp.Float(value) if isinstance(value, float) else sp.Integer(value)
    raise TypeError(f"{what} must be a number or an expression string, got {value!r}")


def build(equations: str, **options: Any) -> EquationModel:
    """`spikejax.models.from_equations` (documented there; `options` are its keywords)."""
    threshold, reset, refractory = options["threshold"], options["reset"], options["refractory"]
    parameters, init, name = options["parameters"], options["init"], options["name"]
    voltage, current, method = options["voltage"], options["current"], options["method"]
    spike_detection_threshold = options["spike_detection_threshold"]
    lines = _read(equations)
    parameters = {} if parameters is None else dict(parameters)
    if not isinstance(current, str) or not current.isidentifier():
        raise ValueError(f"current must be a name, got {current!r}")
    if (threshold is None) != (reset is None):
        given, missing = ("threshold", "reset") if reset is None else ("reset", "threshold")
        raise ValueError(
            f"{given}={threshold if reset is None else reset!r} is given without {missing}: a "
            "hybrid model needs both (a continuous model detects spikes with "
            "spike_detection_threshold=)"
        )
    if refractory is not None and threshold is None:
        raise ValueError("refractory= needs threshold= and reset= (a hybrid model)")
    b = _Builder(lines, parameters, current)
    if refractory is not None and _REFRACTORY in b.symbols:
        raise ValueError(f"`{_REFRACTORY}` is reserved for the refractory clock")
    refractory_param = None
    if refractory is not None:
        if isinstance(refractory, str) and refractory in b.values:
            refractory_param = refractory
        else:
            refractory_param = "t_ref"
            if "t_ref" in b.symbols:
                raise ValueError(
                    "refractory: give the name of a parameter (refractory='t_ref'), or rename "
                    "the parameter `t_ref`, which the refractory period would take"
                )
            b.values["t_ref"], b.value_units["t_ref"] = _units.to_working(
                "refractory", refractory if not isinstance(refractory, int) else float(refractory)
            )
            if not b.with_units and b.value_units["t_ref"] is not None:
                b.with_units = True
            b.symbols["t_ref"] = sp.Symbol("t_ref", real=True)
        b.used.add(refractory_param)
    b.declared_units()
    if b.with_units and refractory_param is not None:
        u = b.units[refractory_param]
        if u is not None and not _units.same_dimension(u, b.units["t"]):
            raise _units.UnitError(
                f"refractory period `{refractory_param}` has units {_units.display(u)}, "
                "not units of time"
            )

    # parse ------------------------------------------------------------------------------
    sub_exprs = {n: b.parse(ln.rhs, f"`{n} = {ln.rhs}`") for n, ln in b.subs.items()}
    rhs = {ln.name: b.parse(ln.rhs, f"d{ln.name}/dt") for ln in b.diff}
    for n, ln in b.subs.items():
        b.check(sub_exprs[n], b.units.get(n), f"`{n} = {ln.rhs}`", f"subexpression {n}")
    for ln in b.diff:
        expected = b.units[ln.name] / b.units["t"] if b.with_units else None
        b.check(rhs[ln.name], expected, f"d{ln.name}/dt", f"d{ln.name}/dt")

    # subexpressions, in SI -------------------------------------------------------------------
    si_subs: dict[str, Any] = {}

    state_syms = [b.symbols[n] for n in b.states]
    bound = sp.Symbol("series_bound", positive=True)

    def expand(n: str, stack: tuple[str, ...]) -> Any:
        if n in si_subs:
            return si_subs[n]
        if n in stack:
            raise ValueError(f"subexpressions refer to each other in a cycle: {' -> '.join(stack)}")
        e = b.to_si(sub_exprs[n])
        e = e.xreplace(
            {b.symbols[m]: expand(m, (*stack, n)) for m in b.subs if b.symbols[m] in e.free_symbols}
        )
        # Each subexpression (a rate function, typically) is made safe on its own, before it
        # is substituted into the equations.
        e, _ = make_safe(e, state_syms, bound)
        si_subs[n] = e
        return e

    def working(expr: Any) -> Any:
        e = b.to_si(expr)
        return e.xreplace(
            {b.symbols[m]: expand(m, ()) for m in b.subs if b.symbols[m] in e.free_symbols}
        )

    sym_t, sym_I = b.symbols["t"], b.symbols[current]
    f_raw: dict[str, Any] = {}
    for n in b.states:
        scale = b.working_scale("t") / b.working_scale(n)
        f_raw[n] = working(rhs[n]) * scale

    # denominators that depend on parameters only (checked nonzero when the model is made)
    param_names = set(b.values)
    denominators: dict[str, Any] = {}
    for e in list(sub_exprs.values()) + list(rhs.values()):
        for node in sp.preorder_traversal(e):
            if node.is_Pow and node.exp.is_negative and node.base.free_symbols:  # pyright: ignore
                free = node.base.free_symbols  # pyright: ignore[reportAttributeAccessIssue]
                names = {s.name for s in free if s not in b.unit_symbols}
                if names and names <= param_names:
                    denominators[str(node.base)] = b.to_si(node.base)  # pyright: ignore

    # voltage ----------------------------------------------------------------------------------
    voltage_name = _voltage(b, voltage)

    # removable singularities and refractoriness ---------------------------------------------
    f_safe = {}
    for n in b.states:
        f_safe[n], _ = make_safe(f_raw[n], state_syms, bound)
    states = list(b.states)
    ref_sym = None
    if refractory_param is not None:
        ref_sym = sp.Symbol(_REFRACTORY, real=True)
        states.append(_REFRACTORY)
        held = {ln.name for ln in b.diff if "unless refractory" in ln.flags}
        for n in held:
            f_safe[n] = sp.Piecewise((0, ref_sym > 0), (f_safe[n], True))
        f_safe[_REFRACTORY] = sp.Piecewise((-1, ref_sym > 0), (0, True))
        state_syms.append(ref_sym)
    elif any("unless refractory" in ln.flags for ln in b.diff):
        raise ValueError("an equation is flagged (unless refractory) but refractory= is not given")

    # the scheme ----------------------------------------------------------------------------------
    if method is None:
        chosen = _pick_method(f_raw, [b.symbols[n] for n in b.states])
    else:
        chosen = get_scheme(method)  # pyright: ignore[reportArgumentType]

    # threshold, reset, init -------------------------------------------------------------------
    threshold_fn = reset_fn = None
    reset_names: tuple[str, ...] = ()
    params = tuple(b.values)
    param_syms = [b.symbols[p] for p in params]

    # linear structure (the refractory hold aside): a diagonal system, a linear membrane ----
    raw_states = [b.symbols[n] for n in b.states]
    decoupled = _decoupled_linear(f_raw, raw_states)
    tau_expr = _membrane_tau(f_raw, raw_states, b.symbols[voltage_name], sym_I, set(param_syms))
    try:
        gates_x = _gate_form(f_raw, raw_states, b.symbols[voltage_name], bound)
    except (TypeError, ValueError, AttributeError, NotImplementedError, sp.PolynomialError):
        gates_x = ()  # the generic update: a detection that fails only costs speed
    held_names = None
    if refractory_param is not None:
        held_names = {ln.name for ln in b.diff if "unless refractory" in ln.flags}
    linear = _linear_input(f_raw, raw_states, sym_I, set(param_syms), held_names)
    linear_input = None
    if linear is not None:
        linear_input = (
            compile_functions(param_syms, linear, numpy=True),
            compile_functions(param_syms, linear),
        )
    membrane_tau = None
    if tau_expr is not None:
        membrane_tau = (
            compile_functions(param_syms, [tau_expr], numpy=True),
            compile_functions(param_syms, [tau_expr]),
        )
    args = [sym_t, sym_I, bound, *state_syms, *param_syms]
    if threshold is not None:
        cond: Any = b.parse(threshold, "threshold")
        rel_op = getattr(cond, "rel_op", None)
        if rel_op not in (">", ">=", "<", "<="):
            raise ValueError(f"threshold `{threshold}` must be one comparison such as `V > V_th`")
        if b.with_units:
            b.dims(cond, f"threshold `{threshold}`")
        lhs: Any = cond.lhs
        rhs_t: Any = cond.rhs
        diff = lhs - rhs_t if rel_op in (">", ">=") else rhs_t - lhs
        scale = sp.Integer(1)
        if b.with_units:
            u = b.dims(lhs, "threshold") or b.dims(rhs_t, "threshold")
            if u is not None:
                scale = _units.si_scale(_units.working_unit(u))
        dist = working(diff) / scale
        threshold_fn = compile_functions(args, [dist])
        reset_map: dict[str, Any] = {}
        for target, op, text in _statements(reset, "reset"):
            where = f"reset `{target} {op} {text}`"
            if target not in b.states:
                raise ValueError(f"{where}: `{target}` is not a state variable")
            value = b.parse(text, where)
            if b.with_units:
                _check_statement(b, target, op, value, where)
            v = working(value) / b.working_scale(target)
            if op in ("*=", "/="):
                v = working(value)
            cur = reset_map.get(target, b.symbols[target])
            new = {"=": v, "+=": cur + v, "-=": cur - v, "*=": cur * v, "/=": cur / v}[op]
            reset_map[target] = new.xreplace({b.symbols[k]: e for k, e in reset_map.items()})
        reset_names = tuple(reset_map)
        reset_fn = compile_functions(args, [reset_map[k] for k in reset_names])
    init = {} if init is None else dict(init)
    unknown = sorted(set(init) - set(b.states))
    if unknown:
        raise ValueError(f"init: {unknown} are not state variables; state variables: {b.states}")
    init_exprs = []
    known: dict[Any, Any] = {}
    for n in states:
        if n in init:
            e = _as_quantity_expr(init[n], f"init of `{n}`", b)
            if b.with_units and isinstance(init[n], str):
                _check_statement(b, n, "=", e, f"init `{n} = {init[n]}`")
            if isinstance(init[n], str):  # numbers are in working units already
                e = working(e) / b.working_scale(n)
            e = e.xreplace(known)
            bad = (e.free_symbols - set(param_syms)) if e.free_symbols else set()
            if bad:
                raise ValueError(
                    f"init of `{n}` refers to {sorted(str(s) for s in bad)}, which are not "
                    "parameters or earlier state variables"
                )
        else:
            e = sp.Integer(0)
        known[b.symbols.get(n, ref_sym)] = e
        init_exprs.append(e)
    init_fn = compile_functions(param_syms, init_exprs)

    # undefined and unused names ------------------------------------------------------------------
    unused = sorted(set(b.values) - b.used)
    if unused:
        raise ValueError(
            f"parameter(s) {unused} are not used in the equations, threshold or reset "
            "(a misspelt name?)"
        )

    # generated functions --------------------------------------------------------------------------
    fs = [f_safe[n] for n in states]
    diag = [sp.diff(f_safe[n], s) for n, s in zip(states, state_syms)]
    # One function for f and its diagonal: under jit, the unused outputs are pruned.
    fa_fn = compile_functions(args, fs + diag)
    n_states = len(fs)

    def f_fn(*a):
        return fa_fn(*a)[:n_states]

    constant = tuple(not (f.free_symbols & set(state_syms)) for f in fs)
    gates_fn, gate_names = _gates(
        b, f_safe, dict(zip(states, diag)), voltage_name, param_syms, bound
    )
    dens = tuple((text, compile_functions(param_syms, [e])) for text, e in denominators.items())

    # spike detection ------------------------------------------------------------------------------
    sdt = 0.0
    if spike_detection_threshold is not None:
        if threshold is not None:
            raise ValueError("spike_detection_threshold is for continuous models (no threshold=)")
        if isinstance(spike_detection_threshold, str):
            v, unit = _units.to_working("spike_detection_threshold", spike_detection_threshold)
            sdt = float(v)
        else:
            sdt = float(spike_detection_threshold)

    units_text = {}
    if b.with_units:
        for n in (*params, *b.states, current):
            u = b.units.get(n)
            units_text[n] = _units.display(_units.working_unit(u)) if u is not None else "1"
        if refractory_param is not None:
            units_text[_REFRACTORY] = "ms"
    spec = _Spec(
        states=tuple(states),
        params=params,
        f=f_fn,
        fa=fa_fn,
        constant=constant,
        threshold=threshold_fn,
        reset=reset_fn,
        reset_names=reset_names,
        init=init_fn,
        gates=gates_fn,
        gate_names=gate_names,
        denominators=dens,
        refractory_param=refractory_param,
        units=units_text,
        method=chosen,
        text=equations,
        decoupled_linear=decoupled,
        gate_form=tuple(n in gates_x for n in states),
        membrane_tau=membrane_tau,
        linear_input=linear_input,
        held=tuple(n in held_names for n in b.states) if held_names is not None else (),
    )
    return _make_class(name, spec, b, voltage_name, threshold is not None, sdt)()


def _check_statement(b: _Builder, target: str, op: str, value: Any, where: str) -> None:
    if op in ("=", "+=", "-="):
        b.check(value, b.units[target], where, f"`{target}`")
    else:
        got = b.dims(value, where)
        if got is not None and not got.dimensionless:
            raise _units.UnitError(
                f"{where}: the factor `{value}` has units {_units.display(got)}; "
                f"{op} needs a dimensionless factor"
            )


def _voltage(b: _Builder, voltage: str | None) -> str:
    if voltage is not None:
        if voltage not in b.states:
            raise ValueError(
                f"voltage={voltage!r} is not a state variable; state variables: {b.states}"
            )
        return voltage
    if b.with_units:
        ureg = _units.require_registry("the model")
        volts = [n for n in b.states if _units.same_dimension(b.units[n], ureg.mV)]
        if len(volts) == 1:
            return volts[0]
    for cand in ("V", "v", "Vm", "vm", "v_m"):
        if cand in b.states:
            return cand
    return b.states[0]


def _pick_method(f: dict[str, Any], states: list[Any]) -> AbstractScheme:
    """`ExactLinear` for a system linear in its state (coefficients free of the state and
    of t), `ExponentialEuler` when each equation is linear in its own variable, else RK4."""
    state_set = set(states)
    for n, s in zip(f, states):
        if s in sp.diff(f[n], s).free_symbols:
            return RK4()
    t = sp.Symbol("t", real=True)
    for n in f:
        for x in states:
            coeff = sp.diff(f[n], x)
            if coeff.free_symbols & state_set or coeff.has(t):
                return ExponentialEuler()
    return ExactLinear()


def _decoupled_linear(f: dict[str, Any], states: list[Any]) -> bool:
    """Whether every equation is linear in its own variable with a constant coefficient and
    free of the other variables and of t (a diagonal linear system)."""
    state_set = set(states)
    t = sp.Symbol("t", real=True)
    for n, s in zip(f, states):
        a = sp.diff(f[n], s)
        if a.free_symbols & state_set or a.has(t):
            return False
        rest = sp.expand(f[n] - a * s)
        if rest.free_symbols & state_set or rest.has(t):
            return False
    return True


def _positive(e: Any, bound: Any) -> bool:
    r"""Whether `e` is positive for every real value of its symbols, by a few sufficient
    rules: sympy's own assumptions (numbers, `exp`), sums and products of positive terms,
    the logistic function, a conditional whose branches are all positive (for a removable
    singularity made safe by `make_safe`, whose switch uses `bound`: the closed form, the
    series being its expansion), and $c\,w/(e^w - 1)$ with $c > 0$ (the reciprocal of
    `exprel`: the linoid rates of Hodgkin-Huxley models)."""
    # Structural rules only: sympy's `is_positive` on a large expression is slow.
    if e.is_Number:
        return bool(e > 0)
    if e.is_Symbol:
        return bool(e.is_positive)
    if isinstance(e, sp.exp | sigmoid):  # every symbol here is real
        return True
    if isinstance(e, sp.Piecewise):
        pairs: Any = e.args
        if any(bound in cond.free_symbols for _, cond in pairs):
            closed = pairs[-1][0].replace(
                lambda q: isinstance(q, sp.Piecewise), lambda q: q.args[-1][0]
            )
            return _positive(closed, bound)
        return all(_positive(value, bound) for value, _ in pairs)
    if e.is_Pow:
        base, ex = e.args  # pyright: ignore[reportAttributeAccessIssue]
        return ex.is_Number and _positive(base, bound)
    if (e.is_Add or e.is_Mul) and all(_positive(a, bound) for a in e.args):
        return True
    if not (e.is_Add or e.is_Mul):
        return False
    # c w / (e^w - 1): the sign of e^w - 1 is that of w
    n, d = sp.fraction(sp.together(e))
    c, core = sp.expand(d, power_exp=False).as_coeff_Add()
    c, core = (1, d) if c == 0 else (c, core)
    # d = c + k e^u: the sign of d is that of u when c = -k
    k, ex = core.as_coeff_Mul()
    ex = sp.powsimp(ex, combine="exp")
    if not isinstance(ex, sp.exp) or not abs(float(k + c)) <= 1e-12 * abs(float(c)):
        return False
    w = ex.args[0]
    # d = k (e^w - 1): e/(positive) = n / (k w) * (w / (e^w - 1)), the last factor > 0
    # decimal constants as the rationals they spell, so that factors cancel exactly
    ratio = sp.cancel(sp.nsimplify(n / (k * w)))
    return _positive(ratio, bound)


def _gate_form(f: dict[str, Any], states: list[Any], V: Any, bound: Any) -> tuple[str, ...]:
    r"""The variables whose equation is $\dot x = A - B x$ with $A > 0$ and $B - A \ge 0$
    provably (by `_positive`) for every membrane potential: gates
    $\alpha(1 - x) - \beta x$, whose $x_\infty = A/B$ lies in $(0, 1]$, so the update
    $x + (f/a)(e^{a\Delta t} - 1)$ ($a = -B$) is as accurate as the $\varphi_1$ form and
    cheaper (the built-in Hodgkin-Huxley step's)."""
    out = []
    for n, x in zip(f, states):
        if x == V:
            continue
        B = -sp.diff(f[n], x)
        if x in B.free_symbols:
            continue
        A = f[n].xreplace({x: sp.Integer(0)})  # f = A - B x: linear in x
        rest = B - A  # like terms cancel: alpha + beta - alpha = beta
        if _positive(A, bound) and (rest == 0 or _positive(rest, bound)):
            out.append(n)
    return tuple(out)


def _membrane_tau(
    f: dict[str, Any], states: list[Any], V: Any, I: Any, params: set[Any]
) -> Any | None:
    """`-1/a` for a membrane `dV/dt = a V + c I + b` with `a`, `b`, `c` built from the
    parameters only, when `I` is in no other equation; None otherwise."""
    t = sp.Symbol("t", real=True)
    for n, s in zip(f, states):
        if s != V and I in f[n].free_symbols:
            return None
    fv = f[V.name]
    a, c = sp.diff(fv, V), sp.diff(fv, I)
    b = sp.expand(fv - a * V - c * I)
    for part in (a, c, b):
        if part.has(t) or not part.free_symbols <= params:
            return None
    a = sp.simplify(a)
    if a == 0:
        return None
    return sp.simplify(-1 / a)


def _linear_input(
    f: dict[str, Any], states: list[Any], I: Any, params: set[Any], held: set[str] | None
) -> list[Any] | None:
    """The entries of `A` (row by row) then of `c` for equations `dx/dt = A x + c I + b`
    with `A`, `b`, `c` built from the parameters only (no `t`), when the input enters only
    `held` equations (those held during a refractory period; `held` None: no refractory
    period); None otherwise."""
    t = sp.Symbol("t", real=True)
    rows, c = [], []
    for n in f:
        row = [sp.diff(f[n], x) for x in states]
        ci = sp.diff(f[n], I)
        b = sp.expand(f[n] - sum((a * x for a, x in zip(row, states)), sp.Integer(0)) - ci * I)
        for part in (*row, ci, b):
            if part.has(t) or not part.free_symbols <= params:
                return None
        if held is not None and ci != 0 and n not in held:
            return None  # the input would act on a variable that runs on while held
        rows += row
        c.append(ci)
    return rows + c


def _gates(b: _Builder, f: dict[str, Any], diag: dict[str, Any], vname: str, param_syms, bound):
    """x_inf(V) = -b(V)/a(V) for each variable x != V with dx/dt = a(V) x + b(V)
    (`diag`: the derivatives a)."""
    V = b.symbols[vname]
    allowed = {V, *param_syms, bound}
    names, exprs = [], []
    for n in b.states:
        if n == vname:
            continue
        x = b.symbols[n]
        a = diag[n]
        rest = f[n].subs(x, 0)
        if not (a.free_symbols <= allowed and rest.free_symbols <= allowed):
            continue
        if a == 0:
            continue
        names.append(n)
        exprs.append(-rest / a)
    if not names:
        return None, ()
    return compile_functions([V, bound, *param_syms], exprs), tuple(names)


def _make_class(
    name: str, spec: _Spec, b: _Builder, voltage_name: str, hybrid: bool, sdt: float
) -> type[EquationModel]:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a class name, got {name!r}")
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for p in spec.params:
        value = b.values[p]
        annotations[p] = ArrayLike
        if isinstance(value, int | float):
            namespace[p] = value
        else:
            namespace[p] = eqx.field(default_factory=lambda v=value: v)
    voltage_unit = "mV"
    if b.with_units:
        ureg = _units.require_registry("the model")
        if not _units.same_dimension(b.units[voltage_name], ureg.mV):
            voltage_unit = _units.display(_units.working_unit(b.units[voltage_name]))
    else:
        line = next(ln for ln in b.diff if ln.name == voltage_name)
        if line.unit.strip() == "1":
            voltage_unit = "1"
    current_unit = spec.units.get(b.current, "")
    namespace.update(
        __annotations__=annotations,
        __module__="spikejax.models",
        __qualname__=name,
        __doc__=f"A model generated by `spikejax.models.from_equations`:\n\n{spec.text}",
        _spec=spec,
        state_names=spec.states,
        voltage_name=voltage_name,
        is_hybrid=hybrid,
        spike_detection_threshold=sdt,
        voltage_unit=voltage_unit,
        current_unit=current_unit,
    )
    return type(name, (EquationModel,), namespace)
