"""Model-level tests of the conductance-model builder: gates, rate functions, ion currents,
the assembled vector field, flat parameter names, validation and jit/vmap/grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from spikejax.models import (
    BoltzmannGate,
    ConductanceModel,
    ExpRate,
    FunctionRate,
    Gate,
    HodgkinHuxley,
    INaPIK,
    IonCurrent,
    LinoidRate,
    RateGate,
    SigmoidRate,
)
from spikejax.models._conductance import boltzmann, linoid

V_GRID = np.linspace(-100.0, 50.0, 301) + 0.0625  # avoids the HH singular points exactly


def hh_builder(**kw):
    m = Gate.alpha_beta("m", LinoidRate(0.1, -40.0, 10.0), ExpRate(4.0, -65.0, -18.0))
    h = Gate.alpha_beta("h", ExpRate(0.07, -65.0, -20.0), SigmoidRate(1.0, -35.0, 10.0))
    n = Gate.alpha_beta("n", LinoidRate(0.01, -55.0, 10.0), ExpRate(0.125, -65.0, -80.0))
    return ConductanceModel(
        [IonCurrent("Na", 120.0, 50.0, [(m, 3), h]), IonCurrent("K", 36.0, -77.0, [(n, 4)])],
        C=1.0,
        gL=0.3,
        EL=-54.387,
        **kw,
    )


def random_states(rng, names, k):
    return [
        {n: jnp.asarray(rng.uniform(-90, 40) if n == "V" else rng.uniform(0, 1)) for n in names}
        for _ in range(k)
    ]


# ----- helpers and rate functions ---------------------------------------------------------------


def test_boltzmann_and_linoid_match_numpy():
    # Direct numpy formulas, away from x = 0 for linoid; round-off level agreement.
    np.testing.assert_allclose(
        np.asarray(boltzmann(V_GRID, -20.0, 15.0)),
        1 / (1 + np.exp((-20.0 - V_GRID) / 15.0)),
        rtol=1e-14,
    )
    x = V_GRID + 40.0
    np.testing.assert_allclose(np.asarray(linoid(x, 10.0)), x / (1 - np.exp(-x / 10.0)), rtol=1e-12)
    # Boltzmann with k < 0 is a decreasing (inactivation) curve; no overflow far out.
    assert float(boltzmann(-1e4, 0.0, 1.0)) == 0.0
    assert float(boltzmann(0.0, -60.0, -6.0)) < 1e-4


def test_rate_functions():
    V = jnp.asarray(V_GRID)
    np.testing.assert_allclose(
        np.asarray(ExpRate(4.0, -65.0, -18.0)(V)), 4 * np.exp(-(V_GRID + 65) / 18), rtol=1e-14
    )
    np.testing.assert_allclose(
        np.asarray(SigmoidRate(1.0, -35.0, 10.0)(V)),
        1 / (1 + np.exp(-(V_GRID + 35) / 10)),
        rtol=1e-14,
    )
    lin = LinoidRate(0.1, -40.0, 10.0)
    np.testing.assert_allclose(
        np.asarray(lin(V)), 0.1 * (V_GRID + 40) / (1 - np.exp(-(V_GRID + 40) / 10)), rtol=1e-12
    )
    # Removable singularity: limit A*k and slope A/2, from jax.grad and jax.jacfwd.
    assert float(lin(-40.0)) == pytest.approx(1.0, abs=1e-15)
    assert abs(float(jax.grad(lin)(-40.0)) - 0.05) < 1e-15
    assert abs(float(jax.jacfwd(lin)(-40.0)) - 0.05) < 1e-15
    # Gradient w.r.t. the rate's own parameter V_half at the singular point is finite and
    # equals -d/dV (central FD, h = 1e-3: error ~1e-9).
    g = jax.grad(lambda vh: LinoidRate(0.1, vh, 10.0)(-40.0))(-40.0)
    fd = (float(lin(-40.0 + 1e-3)) - float(lin(-40.0 - 1e-3))) / 2e-3
    assert abs(float(g) + fd) < 1e-9


# ----- gates ------------------------------------------------------------------------------------


def test_boltzmann_gate_constant_and_bell_tau():
    g = Gate.boltzmann("n", -25.0, 5.0, 2.0)
    assert isinstance(g, BoltzmannGate) and not g.instantaneous
    np.testing.assert_allclose(np.asarray(g.time_constant(jnp.asarray(V_GRID))), 2.0)
    bell = BoltzmannGate("h", -60.0, -7.0, tau=1.0, tau_amp=5.0, V_max=-70.0, sigma=20.0)
    V = jnp.asarray(V_GRID)
    # Izhikevich (2007) eq. 2.10: tau = C_base + C_amp exp(-(V_max - V)^2 / sigma^2).
    np.testing.assert_allclose(
        np.asarray(bell.time_constant(V)),
        1.0 + 5.0 * np.exp(-((-70.0 - V_GRID) ** 2) / 400.0),
        rtol=1e-14,
    )
    assert float(bell.time_constant(-70.0)) == pytest.approx(6.0, rel=1e-15)  # the peak
    np.testing.assert_allclose(
        np.asarray(bell.steady_state(V)), 1 / (1 + np.exp((-60.0 - V_GRID) / -7.0)), rtol=1e-14
    )
    x = 0.3
    np.testing.assert_allclose(
        np.asarray(bell.derivative(V, x)),
        (np.asarray(bell.steady_state(V)) - x) / np.asarray(bell.time_constant(V)),
        rtol=1e-14,
    )


def test_rate_gate_forms_agree():
    g = Gate.alpha_beta("n", LinoidRate(0.01, -55.0, 10.0), ExpRate(0.125, -65.0, -80.0))
    assert isinstance(g, RateGate)
    V = jnp.asarray(V_GRID)
    a = 0.01 * (V_GRID + 55) / (1 - np.exp(-(V_GRID + 55) / 10))
    b = 0.125 * np.exp(-(V_GRID + 65) / 80)
    np.testing.assert_allclose(np.asarray(g.steady_state(V)), a / (a + b), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g.time_constant(V)), 1 / (a + b), rtol=1e-12)
    # alpha (1 - x) - beta x == (x_inf - x) / tau, algebraically; round-off agreement.
    for x in [0.0, 0.4, 1.0]:
        np.testing.assert_allclose(
            np.asarray(g.derivative(V, x)),
            np.asarray((g.steady_state(V) - x) / g.time_constant(V)),
            rtol=1e-11,
            atol=1e-14,
        )


def test_plain_callable_rates_are_static_and_jittable():
    g = RateGate("q", lambda V: 0.1 * jnp.exp(V / 20.0), lambda V: 0.2 * jnp.ones_like(V))
    assert isinstance(g.alpha, FunctionRate)
    model = ConductanceModel([IonCurrent("X", 1.0, -80.0, [g])], gL=0.1, EL=-70.0)
    y = {"V": jnp.asarray(-50.0), "q": jnp.asarray(0.2)}
    out = jax.jit(lambda m: m.vector_field(0.0, y, 0.0))(model)
    a, b = 0.1 * np.exp(-50.0 / 20.0), 0.2
    assert float(out["q"]) == pytest.approx(a * 0.8 - b * 0.2, rel=1e-13)
    assert "X.q.alpha.fn" not in model.parameters()
    with pytest.raises(ValueError, match="alpha"):
        RateGate("q", 3.0, ExpRate(1.0, 0.0, 1.0))


# ----- ion currents and the assembled model ------------------------------------------------------


def test_ion_current_formula_and_exponent_checks():
    m = Gate.boltzmann("m", -40.0, 9.0)
    h = Gate.boltzmann("h", -62.0, -7.0)
    cur = IonCurrent("Na", 120.0, 50.0, [(m, 3), h])
    assert cur.exponents == (3, 1)
    vals = {"m": jnp.asarray(0.5), "h": jnp.asarray(0.4)}
    # 120 * 0.125 * 0.4 * (-20 - 50) = -420 exactly.
    assert float(cur.current(-20.0, vals)) == pytest.approx(-420.0, rel=1e-15)
    with pytest.raises(ValueError, match="exponent"):
        IonCurrent("Na", 1.0, 50.0, [(m, 0)])
    with pytest.raises(ValueError, match="exponent"):
        IonCurrent("Na", 1.0, 50.0, [(m, 1.5)])
    with pytest.raises(ValueError, match="g_max"):
        IonCurrent("Na", -1.0, 50.0, [m])
    with pytest.raises(ValueError, match="E_rev"):
        IonCurrent("Na", 1.0, float("nan"), [m])


def test_builder_hodgkin_huxley_equals_named_model():
    hh = HodgkinHuxley()
    cm = hh_builder()
    assert cm.state_names == hh.state_names == ("V", "m", "h", "n")
    rng = np.random.default_rng(0)
    for y in random_states(rng, cm.state_names, 10) + [hh.full_state(V=-40.0)]:
        a = np.asarray(cm.vector_field_array(0.0, cm.to_vector(y), 3.0))
        b = np.asarray(hh.vector_field_array(0.0, hh.to_vector(y), 3.0))
        # Same arithmetic in a different order: agreement to a few ulps.
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    # Also through HodgkinHuxley.as_conductance_model (follows changed parameters).
    hh2 = hh.replace(gNa=100.0, EL=-60.0)
    y = random_states(rng, cm.state_names, 1)[0]
    np.testing.assert_allclose(
        np.asarray(hh2.as_conductance_model().vector_field_array(0.0, hh.to_vector(y), 1.0)),
        np.asarray(hh2.vector_field_array(0.0, hh.to_vector(y), 1.0)),
        rtol=1e-13,
        atol=1e-13,
    )
    r1, r2 = cm.resting_state(), hh.resting_state()
    for k in r1:
        assert float(r1[k]) == pytest.approx(float(r2[k]), abs=1e-12)
    c = cm.ionic_currents(r1)
    assert set(c) == {"INa", "IK", "IL"}
    assert abs(float(sum(c.values()))) < 1e-10  # no net current at rest


def test_instantaneous_gates_are_not_states():
    model = INaPIK().as_conductance_model()
    assert model.state_names == ("V", "n")
    assert [g.name for g in model.gates] == ["m", "n"]
    y = {"V": jnp.asarray(-50.0), "n": jnp.asarray(0.1)}
    f = model.vector_field(0.0, y, 5.0)
    assert set(f) == {"V", "n"}
    minf = 1 / (1 + np.exp((-20 + 50) / 15))
    ninf = 1 / (1 + np.exp((-25 + 50) / 5))
    dV = 5.0 - 8 * (-50 + 80) - 20 * minf * (-50 - 60) - 10 * 0.1 * (-50 + 90)
    assert float(f["V"]) == pytest.approx(dV, rel=1e-13)
    assert float(f["n"]) == pytest.approx(ninf - 0.1, rel=1e-13)


def test_equilibrium_matches_independent_root():
    # A custom model: Boltzmann Na (m^3 h) + K (n^4) + leak; independent brentq solve in numpy.
    m = Gate.boltzmann("m", -40.0, 9.0, 0.1)
    h = Gate.boltzmann("h", -62.0, -7.0, 5.0)
    n = Gate.boltzmann("n", -53.0, 15.0, 4.0)
    model = ConductanceModel(
        [IonCurrent("Na", 120.0, 55.0, [(m, 3), h]), IonCurrent("K", 36.0, -77.0, [(n, 4)])],
        C=1.0,
        gL=0.3,
        EL=-65.0,
    )

    def bz(V, vh, k):
        return 1 / (1 + np.exp((vh - V) / k))

    def I_inf(V):
        return (
            120 * bz(V, -40, 9) ** 3 * bz(V, -62, -7) * (V - 55)
            + 36 * bz(V, -53, 15) ** 4 * (V + 77)
            + 0.3 * (V + 65)
        )

    V_star = brentq(I_inf, -80.0, -60.0, xtol=1e-13)
    y = model.resting_state()
    # Newton to round-off; brentq's xtol is 1e-13.
    assert float(y["V"]) == pytest.approx(V_star, abs=1e-9)
    f = model.vector_field(0.0, y, 0.0)
    assert max(abs(float(v)) for v in f.values()) < 1e-10
    assert float(y["h"]) == pytest.approx(bz(V_star, -62, -7), rel=1e-9)
    assert abs(float(model.steady_state_current(V_star)) - I_inf(V_star)) < 1e-10


# ----- parameters, replace, validation -----------------------------------------------------------


def test_flat_parameter_names_and_replace():
    cm = hh_builder()
    p = cm.parameters()
    for name in [
        "C",
        "gL",
        "EL",
        "Na.g_max",
        "Na.E_rev",
        "K.g_max",
        "Na.m.alpha.A",
        "Na.h.beta.V_half",
        "K.n.beta.k",
    ]:
        assert name in p
    assert p["Na.g_max"] == 120.0 and p["K.n.alpha.A"] == 0.01
    cm2 = cm.replace(**{"Na.g_max": 100.0, "K.n.alpha.A": 0.02, "gL": 0.5})
    assert cm2.currents[0].g_max == 100.0
    assert cm2.currents[1].gates[0].alpha.A == 0.02
    assert cm2.gL == 0.5 and cm.currents[0].g_max == 120.0  # original untouched
    # Every flat name is also an attribute path (model.Na.m.alpha.A), as fitting code uses.
    for name, value in p.items():
        obj = cm
        for part in name.split("."):
            obj = getattr(obj, part)
        assert obj is value
    assert not hasattr(cm, "Ca") and not hasattr(cm.Na, "q")
    with pytest.raises(ValueError, match="Na.gmax"):
        cm.replace(**{"Na.gmax": 1.0})
    with pytest.raises(ValueError, match="g_max"):
        cm.replace(**{"K.g_max": -1.0})
    with pytest.raises(ValueError, match="k"):
        cm.replace(**{"K.n.beta.k": 0.0})


def test_validation_errors_name_the_parameter():
    m = Gate.boltzmann("m", -40.0, 9.0)
    with pytest.raises(ValueError, match="ConductanceModel.C"):
        ConductanceModel([IonCurrent("Na", 1.0, 50.0, [m])], C=0.0)
    with pytest.raises(ValueError, match="ConductanceModel.gL"):
        ConductanceModel([], gL=-0.1)
    with pytest.raises(ValueError, match="ConductanceModel.EL"):
        ConductanceModel([], EL=float("nan"))
    with pytest.raises(ValueError, match=r"\.k"):
        Gate.boltzmann("m", -40.0, 0.0)
    with pytest.raises(ValueError, match=r"\.tau"):
        Gate.boltzmann("m", -40.0, 9.0, tau=float("nan"))
    with pytest.raises(ValueError, match=r"\.sigma"):
        BoltzmannGate("m", -40.0, 9.0, sigma=0.0)
    with pytest.raises(ValueError, match=r"\.V_half"):
        Gate.boltzmann("m", float("inf"), 9.0)
    other_m = Gate.boltzmann("m", -30.0, 9.0)
    with pytest.raises(ValueError, match="unique"):
        ConductanceModel(
            [IonCurrent("Na", 1.0, 50.0, [m]), IonCurrent("NaP", 1.0, 50.0, [other_m])]
        )
    with pytest.raises(ValueError, match="duplicate"):
        ConductanceModel([IonCurrent("Na", 1.0, 50.0, [m]), IonCurrent("Na", 1.0, 50.0, [])])
    with pytest.raises(ValueError, match="clash"):
        ConductanceModel([IonCurrent("Na", 1.0, 50.0, [Gate.boltzmann("V", 0.0, 1.0)])])
    with pytest.raises(ValueError, match="g_max"):
        # Mismatched population shapes name the parameters.
        ConductanceModel(
            [IonCurrent("Na", jnp.ones(3), 50.0, [m]), IonCurrent("K", jnp.ones(4), -77.0, [])]
        )


# ----- transformations ---------------------------------------------------------------------------


def test_jit_vmap_grad_through_conductances():
    cm = hh_builder()
    y = {
        "V": jnp.asarray(-30.0),
        "m": jnp.asarray(0.3),
        "h": jnp.asarray(0.4),
        "n": jnp.asarray(0.5),
    }

    def dV(model):
        return model.vector_field(0.0, y, 1.0)["V"]

    grads = jax.jit(jax.grad(dV))(cm)
    # d(dV/dt)/d gNa = -m^3 h (V - ENa) / C; d/d gK = -n^4 (V - EK) / C (exact).
    assert float(grads.currents[0].g_max) == pytest.approx(-(0.3**3) * 0.4 * (-80.0), rel=1e-13)
    assert float(grads.currents[1].g_max) == pytest.approx(-(0.5**4) * 47.0, rel=1e-13)

    # A gate parameter: d(dm/dt)/d(alpha_m.A) vs central finite difference (exact for a
    # quantity linear in A, so only round-off remains).
    def dm(A):
        return cm.replace(**{"Na.m.alpha.A": A}).vector_field(0.0, y, 1.0)["m"]

    fd = (float(dm(0.1 + 1e-4)) - float(dm(0.1 - 1e-4))) / 2e-4
    assert abs(float(jax.grad(dm)(0.1)) - fd) < 1e-9

    gnas = jnp.array([80.0, 120.0, 160.0])
    out = jax.vmap(lambda g: dV(cm.replace(**{"Na.g_max": g})))(gnas)
    pop = cm.replace(**{"Na.g_max": gnas})
    assert pop.shape == (3,)
    np.testing.assert_allclose(np.asarray(dV(pop)), np.asarray(out), rtol=1e-14)
    rest = pop.resting_state()
    assert rest["V"].shape == (3,) and rest["n"].shape == (3,)
    f = pop.vector_field(0.0, rest, 0.0)
    assert float(jnp.max(jnp.abs(f["V"]))) < 1e-10
