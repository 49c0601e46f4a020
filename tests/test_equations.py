"""Models written as equations (`spikejax.models.from_equations`) against the built-in classes.

Each built-in model written as text gives the same vector field (1e-12 relative in float64:
the generated code evaluates the same arithmetic, reordered by sympy, so they differ by a
few rounding errors), the same simulation, the same equilibria, bifurcation points and F-I
curve points; the generated class behaves as a `NeuronModel` under `replace`, `tree_at`,
`vmap` and the variant classifier.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax as sj
from spikejax.analysis import classify_variants, continuation, fi_curve, fixed_points
from spikejax.models import (
    LIF,
    FitzHughNagumo,
    HodgkinHuxley,
    INaP,
    INaPIK,
    Izhikevich,
    from_equations,
)
from spikejax.solvers import ExactLinear, ExponentialEuler

pint = pytest.importorskip("pint", reason="units need the optional dependency pint")

# ----- the explainer's models as text (the units are checked and converted) -----------------

LIF_EQS = """
dV/dt = (-(V - E_L) + R*I)/tau_m : mV (unless refractory)
I : mV   # the built-in LIF takes its input in mV (R = 1)
"""


def lif_model():
    return from_equations(
        LIF_EQS,
        threshold="V > V_th",
        reset="V = V_reset",
        refractory="t_ref",
        parameters={
            "tau_m": "20 ms",
            "E_L": "-65 mV",
            "V_th": "-50 mV",
            "V_reset": "-65 mV",
            "t_ref": "2 ms",
            "R": 1.0,
        },
        init={"V": "E_L"},
        name="LIFEq",
    )


IZH_EQS = """
dV/dt = 0.04*V**2 + 5*V + 140 - u + I : 1
du/dt = a*(b*V - u) : 1
"""


def izh_model():
    return from_equations(
        IZH_EQS,
        threshold="V >= v_peak",
        reset="V = c; u += d",
        parameters={"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0, "v_peak": 30.0},
        init={"V": -65.0, "u": "b*V"},
        name="IzhEq",
    )


FHN_EQS = """
dV/dt = V - V**3/3 - w + I : 1
dw/dt = eps*(V + a - b*w) : 1
"""


def fhn_model():
    return from_equations(
        FHN_EQS,
        parameters={"a": 0.7, "b": 0.8, "eps": 0.08},
        init={"V": -1.1994, "w": -0.6243},
        spike_detection_threshold=1.0,
        name="FHNEq",
    )


INAP_EQS = """
dV/dt = (I - gL*(V - EL) - gNa*m_inf*(V - ENa))/C : mV
m_inf = sigmoid((V - m_V_half)/m_k) : 1
I : uA/cm**2
"""

INAP_PARAMS = {
    "C": "10 uF/cm**2",
    "gL": "19 mS/cm**2",
    "EL": "-67 mV",
    "gNa": "74 mS/cm**2",
    "ENa": "60 mV",
    "m_V_half": "1.5 mV",
    "m_k": "16 mV",
    "V_peak": "20 mV",
    "V_reset": "-60 mV",
}


def inap_model():
    return from_equations(
        INAP_EQS,
        threshold="V > V_peak",
        reset="V = V_reset",
        parameters=INAP_PARAMS,
        init={"V": -52.5},
        name="INaPEq",
    )


INAPIK_EQS = """
dV/dt = (I - gL*(V - EL) - gNa*m_inf*(V - ENa) - gK*n*(V - EK))/C : mV
dn/dt = (n_inf - n)/tau_n : 1
m_inf = sigmoid((V - m_V_half)/m_k) : 1
n_inf = sigmoid((V - n_V_half)/n_k) : 1
I : uA/cm**2
"""

INAPIK_PARAMS = {
    "C": "1 uF/cm**2",
    "gL": "8 mS/cm**2",
    "EL": "-80 mV",
    "gNa": "20 mS/cm**2",
    "ENa": "60 mV",
    "gK": "10 mS/cm**2",
    "EK": "-90 mV",
    "m_V_half": "-20 mV",
    "m_k": "15 mV",
    "n_V_half": "-25 mV",
    "n_k": "5 mV",
    "tau_n": "1 ms",
}


def inapik_model():
    return from_equations(
        INAPIK_EQS,
        parameters=INAPIK_PARAMS,
        init={"V": -65.95, "n": "1/(1 + exp((n_V_half - V)/n_k))"},
        spike_detection_threshold=-20.0,
        name="INaPIKEq",
    )


HH_EQS = """
dV/dt = (I - gNa*m**3*h*(V - ENa) - gK*n**4*(V - EK) - gL*(V - EL))/C : mV
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
alpha_m = 0.1/mV*(V + 40*mV)/(1 - exp(-(V + 40*mV)/(10*mV)))/ms : 1/ms
beta_m = 4*exp(-(V + 65*mV)/(18*mV))/ms : 1/ms
alpha_h = 0.07*exp(-(V + 65*mV)/(20*mV))/ms : 1/ms
beta_h = 1/(1 + exp(-(V + 35*mV)/(10*mV)))/ms : 1/ms
alpha_n = 0.01/mV*(V + 55*mV)/(1 - exp(-(V + 55*mV)/(10*mV)))/ms : 1/ms
beta_n = 0.125*exp(-(V + 65*mV)/(80*mV))/ms : 1/ms
I : uA/cm**2
"""

HH_PARAMS = {
    "C": "1 uF/cm**2",
    "gNa": "120 mS/cm**2",
    "gK": "36 mS/cm**2",
    "gL": "0.3 mS/cm**2",
    "ENa": "50 mV",
    "EK": "-77 mV",
    "EL": "-54.387 mV",
}


def hh_model():
    return from_equations(
        HH_EQS,
        parameters=HH_PARAMS,
        init={"V": -65.0, "m": 0.0529, "h": 0.5961, "n": 0.3177},
        name="HHEq",
    )


MODELS = {
    "LIF": (lif_model, LIF, {"V": (-80.0, -40.0), "refractory": (0.0, 2.0)}),
    "Izhikevich": (izh_model, Izhikevich, {"V": (-80.0, 30.0), "u": (-20.0, 10.0)}),
    "FitzHughNagumo": (fhn_model, FitzHughNagumo, {"V": (-2.5, 2.5), "w": (-1.0, 2.0)}),
    "INaP": (inap_model, INaP, {"V": (-90.0, 40.0)}),
    "INaPIK": (inapik_model, INaPIK, {"V": (-90.0, 40.0), "n": (0.0, 1.0)}),
    "HodgkinHuxley": (
        hh_model,
        HodgkinHuxley,
        {"V": (-90.0, 50.0), "m": (0.0, 1.0), "h": (0.0, 1.0), "n": (0.0, 1.0)},
    ),
}


@pytest.fixture(scope="module")
def built():
    return {k: (make(), cls()) for k, (make, cls, _) in MODELS.items()}


def _random_states(ranges, n, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(lo, hi, n) for k, (lo, hi) in ranges.items()}


def _close(got, want, rtol):
    for k in want:
        g, w = np.asarray(got[k]), np.asarray(want[k])
        scale = np.max(np.abs(w)) + 1e-300
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale, err_msg=k)


@pytest.mark.parametrize("name", list(MODELS))
def test_vector_field_matches_the_builtin_class(built, name):
    eq, ref = built[name]
    assert eq.state_names == ref.state_names
    y = _random_states(MODELS[name][2], 200)
    if name == "LIF":
        y["refractory"] = np.where(np.arange(200) % 2 == 0, 0.0, y["refractory"])
    for I in (0.0, 3.7, -2.0):
        # Same arithmetic, reordered: a few rounding errors of the largest term apart.
        _close(eq.vector_field(0.0, y, I), ref.vector_field(0.0, y, I), 1e-12)


@pytest.mark.slow
def test_the_singular_points_of_hh_rates_are_finite_and_exact(built):
    eq, ref = built["HodgkinHuxley"]
    # alpha_m at V = -40 and alpha_n at V = -55: 0/0 as written, limits 1 and 0.1 (1/ms);
    # exactly there and next to them, values and slopes equal the built-in's series.
    V = jnp.array([-40.0, -55.0, -40.0 + 1e-9, -55.0 - 1e-7, -40.05, -39.0])
    y = {"V": V, "m": jnp.full(6, 0.3), "h": jnp.full(6, 0.4), "n": jnp.full(6, 0.5)}
    _close(eq.vector_field(0.0, y, 0.0), ref.vector_field(0.0, y, 0.0), 1e-12)

    def slopes(m):
        # Cells are independent: the gradient of the sum is each cell's own slope.
        def total(v, gate):
            return jnp.sum(m.vector_field(0.0, {**y, "V": v}, 0.0)[gate])

        return np.asarray([jax.grad(total)(V, gate) for gate in ("m", "n")])

    got, want = slopes(eq), slopes(ref)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    "name,method,duration,I,tol",
    [
        # The same vector field, the same scheme: the trajectories agree to round-off
        # amplified over the run (bounded here by 1e-8 of the state's scale).
        ("LIF", "exponential_euler", 100.0, 20.0, 1e-9),
        ("Izhikevich", "rk4", 100.0, 10.0, 1e-8),
        pytest.param("FitzHughNagumo", "rk4", 100.0, 0.5, 1e-9, marks=pytest.mark.slow),
        pytest.param("INaP", "rk4", 50.0, 20.0, 1e-8, marks=pytest.mark.slow),
        pytest.param("INaPIK", "rk4", 50.0, 5.0, 1e-8, marks=pytest.mark.slow),
        pytest.param("HodgkinHuxley", "rk4", 30.0, 10.0, 1e-8, marks=pytest.mark.slow),
        ("HodgkinHuxley", "exponential_euler", 30.0, 10.0, 1e-8),
    ],
)
def test_simulation_matches_the_builtin_class(built, name, method, duration, I, tol):
    eq, ref = built[name]
    y0 = ref.resting_state()
    r_eq = sj.simulate(eq, duration=duration, dt=0.02, I=I, y0=y0, method=method)
    r_ref = sj.simulate(ref, duration=duration, dt=0.02, I=I, y0=y0, method=method)
    for k in ref.state_names:
        a, b = np.asarray(r_eq.states[k]), np.asarray(r_ref.states[k])
        np.testing.assert_allclose(a, b, atol=tol * (np.max(np.abs(b)) + 1.0), err_msg=k)
    np.testing.assert_array_equal(r_eq.n_spikes, r_ref.n_spikes)
    assert int(np.sum(r_ref.n_spikes)) > 0


@pytest.mark.parametrize(
    "name,I",
    [
        pytest.param("INaP", 0.0, marks=pytest.mark.slow),
        pytest.param("INaPIK", 0.0, marks=pytest.mark.slow),
        pytest.param("FitzHughNagumo", 0.3, marks=pytest.mark.slow),
    ],
)
def test_fixed_points_match_the_builtin_class(built, name, I):
    eq, ref = built[name]
    got, want = fixed_points(eq, I), fixed_points(ref, I)
    assert len(got) == len(want) >= 1
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.vector, b.vector, rtol=1e-9, atol=1e-10)
        assert a.type == b.type


@pytest.mark.slow
def test_hh_hopf_point_matches_the_builtin_class(built):
    eq, ref = built["HodgkinHuxley"]
    h_eq = continuation(eq, start=0.0, stop=12.0, y0=ref.resting_state()).hopf_points
    h_ref = continuation(ref, start=0.0, stop=12.0).hopf_points
    assert len(h_eq) == len(h_ref) == 1
    # Both are located by Newton on the same extended system: 1e-8 uA/cm^2.
    assert abs(h_eq[0].param - h_ref[0].param) < 1e-8
    assert 9.0 < h_ref[0].param < 10.5


@pytest.mark.slow
def test_inap_fold_matches_the_builtin_class(built):
    eq, ref = built["INaP"]
    lp_eq = continuation(eq, start=0.0, stop=20.0, y0=ref.resting_state()).folds
    lp_ref = continuation(ref, start=0.0, stop=20.0).folds
    assert len(lp_eq) == len(lp_ref) >= 1
    assert abs(lp_eq[0].param - lp_ref[0].param) < 1e-8
    assert abs(lp_ref[0].param - 15.8) < 0.1  # Izhikevich (2007), ch. 3


@pytest.mark.slow
def test_fi_curve_points_match_the_builtin_class(built):
    eq, ref = built["LIF"]
    currents = [10.0, 20.0, 40.0]
    a = fi_curve(eq, currents, duration=200.0, dt=0.05, method="exponential_euler")
    b = fi_curve(ref, currents, duration=200.0, dt=0.05, method="exponential_euler")
    np.testing.assert_array_equal(a.rate_up, b.rate_up)
    assert a.rate_up[0] == 0.0 and a.rate_up[-1] > 0.0


def test_generated_class_is_an_ordinary_model(built):
    eq, _ = built["HodgkinHuxley"]
    assert isinstance(eq, sj.models.NeuronModel)
    assert set(eq.parameters()) == set(HH_PARAMS)
    assert eq.gNa == 120.0 and eq.C == 1.0 and eq.EL == -54.387  # working units
    assert eq.units["gNa"] == "mS/cm**2" and eq.units["V"] == "mV"
    assert isinstance(eq.default_scheme, ExponentialEuler)
    m2 = eq.replace(gK=30.0)
    assert m2.gK == 30.0 and type(m2) is type(eq)
    with pytest.raises(ValueError, match="no parameter"):
        eq.replace(gk=30.0)
    m3 = eqx.tree_at(lambda m: m.gNa, eq, 100.0)
    y = eq.resting_state()
    dv = jax.vmap(lambda g: eq.replace(gNa=g).vector_field(0.0, y, 0.0)["V"])(
        jnp.array([100.0, 120.0])
    )
    np.testing.assert_allclose(dv[0], m3.vector_field(0.0, y, 0.0)["V"], rtol=1e-14)


@pytest.mark.slow
def test_variant_classifier_takes_an_equation_model(built):
    # The variant classifier on a population of equation-defined models: the same
    # equilibria and types as for the built-in class.
    eq, _ = built["HodgkinHuxley"]
    scales = jnp.array([0.8, 1.0, 1.2])
    got = classify_variants(eq.replace(gK=36.0 * scales), 0.0)
    want = classify_variants(HodgkinHuxley(gK=36.0 * scales), 0.0)
    np.testing.assert_allclose(got.states, want.states, rtol=1e-10)
    assert list(got.types) == list(want.types)


def test_method_is_picked_from_the_equations(built):
    assert isinstance(built["Izhikevich"][0].default_scheme, sj.solvers.RK4)
    # INaP+IK: m_inf(V) (V - ENa) is not linear in V, so no exponential Euler.
    assert isinstance(built["INaPIK"][0].default_scheme, sj.solvers.RK4)
    assert isinstance(built["HodgkinHuxley"][0].default_scheme, ExponentialEuler)
    assert isinstance(built["LIF"][0].default_scheme, ExactLinear)
    named = from_equations("dV/dt = -V/tau : 1", parameters={"tau": 10.0}, method="rk4")
    assert isinstance(named.default_scheme, sj.solvers.RK4)
