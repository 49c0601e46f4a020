"""Units and malformed models in `spikejax.models.from_equations`.

Every malformed model raises an error that names the offending term; quantities written in
any unit are converted to the working units (ms, mV, and the unit written for the rest), so
that the same model written in different units is the same model.
"""

import re

import numpy as np
import pytest

from spikejax.models import UnitError, from_equations

pytest.importorskip("pint", reason="units need the optional dependency pint")

LEAK = "dv/dt = (E_L - v)/tau : mV"
LEAK_P = {"E_L": "-65 mV", "tau": "10 ms"}


def _raises(exc, fragments, *args, **kwargs):
    with pytest.raises(exc) as info:
        from_equations(*args, **kwargs)
    msg = str(info.value)
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)
    return msg


# ----- at least ten malformed models, each error naming its term -------------------------------


def test_wrong_dimensions_of_a_derivative():
    _raises(
        UnitError,
        ["dv/dt has units mV/ms", "right-hand side `E_L - v` has units mV"],
        "dv/dt = E_L - v : mV",
        parameters={"E_L": "-65 mV"},
    )


def test_sum_of_different_units():
    msg = _raises(
        UnitError,
        ["in dv/dt", "different units", "nA"],
        "dv/dt = (E_L - v + I)/tau : mV\nI : nA",
        parameters=LEAK_P,
    )
    assert "`I`" in msg


def test_dimensional_argument_of_exp():
    _raises(
        UnitError,
        ["argument `v` of exp", "mV", "dimensionless"],
        "dv/dt = (E_L - v)/tau + exp(v)*mV/ms : mV",
        parameters=LEAK_P,
    )


def test_unknown_identifier():
    _raises(
        NameError,
        ["unknown identifier `E_l`", "dv/dt"],
        "dv/dt = (E_l - v)/tau : mV",
        parameters=LEAK_P,
    )


def test_unknown_function():
    _raises(
        NameError,
        ["unknown identifier `expp`"],
        "dv/dt = expp(-v/mV)*mV/tau : mV",
        parameters={"tau": "10 ms"},
    )


def test_threshold_without_reset():
    _raises(
        ValueError,
        ["threshold='v > -50*mV'", "without reset"],
        LEAK,
        parameters=LEAK_P,
        threshold="v > -50*mV",
    )


def test_reset_without_threshold():
    _raises(
        ValueError,
        ["reset='v = E_L'", "without threshold"],
        LEAK,
        parameters=LEAK_P,
        reset="v = E_L",
    )


def test_reset_of_an_undefined_variable():
    _raises(
        ValueError,
        ["reset `w = 0*mV`", "`w` is not a state variable"],
        LEAK,
        parameters=LEAK_P,
        threshold="v > -50*mV",
        reset="w = 0*mV",
    )


def test_equation_for_a_variable_that_is_a_parameter():
    _raises(
        ValueError,
        ["`tau` is a state variable"],
        "dv/dt = (E_L - v)/tau : mV\ndtau/dt = -tau/ms : ms",
        parameters=LEAK_P,
    )


def test_init_of_an_undefined_variable():
    _raises(
        ValueError,
        ["init", "['w']", "not state variables"],
        LEAK,
        parameters=LEAK_P,
        init={"w": 0.0},
    )


def test_division_by_a_parameter_that_is_zero():
    model = from_equations(LEAK, parameters=LEAK_P)
    with pytest.raises(ValueError, match=re.escape("divide by `tau`, which is 0 for tau=0.0")):
        model.replace(tau=0.0)
    _raises(ValueError, ["divide by `tau`", "tau=0.0"], LEAK, parameters={**LEAK_P, "tau": "0 ms"})
    # An expression of parameters: a - b = 0.
    _raises(
        ValueError, ["divide by `a - b`"], "dv/dt = -v/(a - b) : 1", parameters={"a": 2.0, "b": 2.0}
    )


def test_syntax_error():
    _raises(
        SyntaxError,
        ["syntax error in dv/dt", "(E_L - v + * 2)/tau"],
        "dv/dt = (E_L - v + * 2)/tau : mV",
        parameters=LEAK_P,
    )


@pytest.mark.parametrize(
    "text,token",
    [
        ("dv/dt = __import__('os') : 1", "__import__"),
        ("dv/dt = v.real : 1", "."),
        ("dv/dt = [v][0] : 1", "["),
        ("dv/dt = 'v' : 1", "'v'"),
        ("dv/dt = lambda: v : 1", "lambda"),
        ("dv/dt = -v == 0 : 1", "=="),
    ],
)
def test_text_outside_the_grammar_is_refused_before_parsing(text, token):
    _raises(SyntaxError, [f"`{token}`"], text)


def test_unused_parameter():
    _raises(ValueError, ["['tau_x']", "not used"], LEAK, parameters={**LEAK_P, "tau_x": 1.0})


def test_declared_parameter_without_value():
    _raises(ValueError, ["['g']", "no value"], LEAK + "\ng : nS", parameters=LEAK_P)


def test_parameter_value_of_the_wrong_dimension():
    _raises(
        UnitError,
        ["parameter `tau`", "ms", "mV"],
        LEAK + "\ntau : ms",
        parameters={**LEAK_P, "tau": "5 mV"},
    )


def test_threshold_and_reset_of_the_wrong_units():
    _raises(
        UnitError,
        ["threshold `v > -50`", "different units"],
        LEAK,
        parameters=LEAK_P,
        threshold="v > -50",
        reset="v = E_L",
    )
    _raises(
        UnitError,
        ["reset `v = 5*ms`", "`v` has units mV", "ms"],
        LEAK,
        parameters=LEAK_P,
        threshold="v > -50*mV",
        reset="v = 5*ms",
    )


def test_input_current_without_a_unit():
    _raises(
        UnitError,
        ["input current `I`", "`I : <unit>`"],
        "dv/dt = (E_L - v + R*I)/tau : mV",
        parameters={**LEAK_P, "R": "1 Mohm"},
    )


def test_not_a_unit():
    _raises(
        UnitError,
        ["`furlongs_x`", "not a unit"],
        "dv/dt = -v/tau : furlongs_x",
        parameters={"tau": "1 ms"},
    )


def test_cycle_of_subexpressions():
    _raises(ValueError, ["cycle", "a", "b"], "dv/dt = -a : 1\na = b : 1\nb = a : 1")


def test_unless_refractory_without_refractory():
    _raises(
        ValueError,
        ["(unless refractory)", "refractory="],
        "dv/dt = -v/tau : 1 (unless refractory)",
        parameters={"tau": 1.0},
    )


# ----- units are converted, not just checked ----------------------------------------------------


def test_the_same_model_in_other_units_is_the_same_model():
    a = from_equations(LEAK, parameters={"E_L": "-65 mV", "tau": "10 ms"})
    b = from_equations(LEAK, parameters={"E_L": "-0.065 volt", "tau": "0.01 second"})
    c = from_equations(
        LEAK.replace(": mV", ": volt"), parameters={"E_L": (-65e3, "uV"), "tau": (1e4, "us")}
    )
    y = {"v": np.array([-70.0, -60.0])}
    for m in (b, c):
        assert m.tau == pytest.approx(10.0, rel=1e-15) and m.E_L == pytest.approx(-65.0)
        np.testing.assert_allclose(
            m.vector_field(0.0, y, 0.0)["v"], a.vector_field(0.0, y, 0.0)["v"], rtol=1e-14
        )
    assert a.units == {"E_L": "mV", "tau": "ms", "v": "mV", "I": "1"}


def test_point_neuron_units_convert_exactly():
    # C dv/dt = gL (EL - v) + I with C in pF, gL in nS, I in pA: dv/dt (mV/ms)
    # = (gL[nS] (EL - v)[mV] + I[pA]) / C[pF], since nS mV = pA and pA/pF = mV/ms.
    m = from_equations(
        "dv/dt = (gL*(EL - v) + I)/C : volt\nI : pA",
        parameters={"C": "281 pF", "gL": "30 nS", "EL": "-70.6 mV"},
    )
    assert (m.C, m.gL, m.EL) == (281.0, 30.0, -70.6)
    assert m.units["C"] == "pF" and m.units["I"] == "pA" and m.units["v"] == "mV"
    v = np.array([-80.0, -50.0])
    got = m.vector_field(0.0, {"v": v}, 500.0)["v"]
    np.testing.assert_allclose(got, (30.0 * (-70.6 - v) + 500.0) / 281.0, rtol=1e-14)
    q = m.to_quantities({"v": v})
    assert str(q["v"].units) == "millivolt"
