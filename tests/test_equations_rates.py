"""Rate functions written as text in the conductance builder (`ExpressionRate`).

Truths: the closed-form rate classes (`LinoidRate`, `ExpRate`, `SigmoidRate`) and the
built-in Hodgkin-Huxley model; the limits and slopes at the removable singularities
($\\alpha_m(-40) = 1$, $\\alpha_m'(-40) = 0.05$; $\\alpha_n(-55) = 0.1$, slope 0.005, from
$A k$ and $A/2$ of the linoid $A x/(1 - e^{-x/k})$).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikejax.models import (
    ConductanceModel,
    ExpRate,
    ExpressionRate,
    Gate,
    HodgkinHuxley,
    IonCurrent,
    LinoidRate,
)

ALPHA_M = "0.1*(V + 40)/(1 - exp(-(V + 40)/10))"
ALPHA_N = "0.01*(V + 55)/(1 - exp(-(V + 55)/10))"


def test_text_rate_matches_the_closed_form_rate():
    V = np.random.default_rng(0).uniform(-100.0, 60.0, 500)
    for text, ref in (
        (ALPHA_M, LinoidRate(0.1, -40.0, 10.0)),
        (ALPHA_N, LinoidRate(0.01, -55.0, 10.0)),
    ):
        np.testing.assert_allclose(ExpressionRate(text)(V), ref(V), rtol=1e-12)
    np.testing.assert_allclose(
        ExpressionRate("4*exp(-(V + 65)/18)")(V), ExpRate(4.0, -65.0, -18.0)(V), rtol=1e-14
    )


@pytest.mark.parametrize(
    "text,V0,value,slope", [(ALPHA_M, -40.0, 1.0, 0.05), (ALPHA_N, -55.0, 0.1, 0.005)]
)
def test_singularity_is_detected_and_exact_at_its_point(text, V0, value, slope):
    rate = ExpressionRate(text)
    assert rate.singular_points == (V0,)
    # Exactly at the singular point, and on either side of the switch to the series.
    # The series is taken within 0.05 mV of the point (float64). On either side of the
    # switch: the closed form as written, 1 - exp(-u), cancels: a few eps/|u| relative
    # (2e-16/0.005 = 4e-14; 1.2e-13 observed at u = -0.005).
    for V in (V0, V0 + 1e-12, V0 - 1e-7, V0 + 0.0499, V0 - 0.0501, V0 + 0.2):
        got = float(rate(jnp.asarray(V)))
        ref = float(LinoidRate(value / 10.0, V0, 10.0)(V))
        assert abs(got - ref) <= 3e-13 * abs(ref), (V, got, ref)
    g = jax.grad(lambda v: rate(v))(jnp.asarray(V0))
    g2 = jax.grad(jax.grad(lambda v: rate(v)))(jnp.asarray(V0))
    assert np.isfinite(g) and np.isfinite(g2)
    assert abs(float(g) - slope) < 1e-15
    # Second derivative: 2 * A / (12 k) from the series u/(1 - e^-u) = 1 + u/2 + u^2/12 + ...
    assert abs(float(g2) - 2 * (value / 10.0) / (12 * 10.0)) < 1e-15


def test_singularity_is_finite_in_float32():
    rate = ExpressionRate(ALPHA_M)
    V = jnp.asarray([-40.0, -40.0 + 1e-5, -39.5], dtype=jnp.float32)
    got = rate(V)
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(got, LinoidRate(0.1, -40.0, 10.0)(np.asarray(V, float)), rtol=1e-6)
    g = jax.vmap(jax.grad(lambda v: rate(v)))(V)
    assert np.all(np.isfinite(g))
    ref = LinoidRate(0.1, -40.0, 10.0)
    want = jax.vmap(jax.grad(lambda v: ref(v)))(jnp.asarray(V, dtype=jnp.float64))
    # float32 slopes: the series branch is exact to float32 resolution.
    np.testing.assert_allclose(g, want, rtol=1e-5)


def test_a_pole_is_not_a_removable_singularity():
    rate = ExpressionRate("1/(V + 40)")
    assert rate.singular_points == ()
    assert not np.isfinite(float(rate(-40.0)))


def test_hh_from_text_rates_matches_the_builtin_model():
    m = Gate.alpha_beta("m", ALPHA_M, "4*exp(-(V + 65)/18)")
    h = Gate.alpha_beta("h", "0.07*exp(-(V + 65)/20)", "1/(1 + exp(-(V + 35)/10))")
    n = Gate.alpha_beta("n", ALPHA_N, "0.125*exp(-(V + 65)/80)")
    model = ConductanceModel(
        [IonCurrent("Na", 120.0, 50.0, [(m, 3), h]), IonCurrent("K", 36.0, -77.0, [(n, 4)])],
        C=1.0,
        gL=0.3,
        EL=-54.387,
    )
    ref = HodgkinHuxley()
    rng = np.random.default_rng(1)
    y = {"V": rng.uniform(-90, 50, 300), **{k: rng.uniform(0, 1, 300) for k in "mhn"}}
    y["V"][:2] = (-40.0, -55.0)
    state = {k: jnp.asarray(v) for k, v in y.items()}
    got, want = model.vector_field(0.0, state, 5.0), ref.vector_field(0.0, state, 5.0)
    for k in want:
        np.testing.assert_allclose(
            got[k], want[k], rtol=1e-12, atol=1e-12 * np.max(np.abs(want[k]))
        )


def test_bad_text_names_the_term():
    with pytest.raises(NameError, match="unknown identifier `v`"):
        ExpressionRate("0.1*(v + 40)")
    with pytest.raises(SyntaxError, match="syntax error"):
        Gate.alpha_beta("m", "0.1*(V + ", "1")


def test_gates_are_detected_and_updated_like_the_builtin_step():
    # dx/dt = alpha (1 - x) - beta x with rates provably positive (exp, the linoid
    # w/(e^w - 1), the logistic) takes the built-in HH step's x_inf form; a rate whose sign
    # is not provable (a parameter, a rate that can change sign) keeps the phi1 form
    import sympy as sp

    from spikejax.models import from_equations
    from spikejax.models._eqbuild import _positive
    from spikejax.solvers import exponential_euler_step

    v, b = sp.Symbol("v", real=True), sp.Symbol("series_bound", positive=True)
    assert _positive(v / (sp.exp(v) - 1), b) and _positive(v / (1 - sp.exp(-v)), b)
    assert not _positive(-v / (sp.exp(v) - 1), b) and not _positive(v / (sp.exp(-v) - 1), b)
    assert not _positive(v, b) and not _positive(sp.exp(v) - 1, b)
    m = from_equations(
        f"dV/dt = -gL*(V + 65) - gK*n**4*(V + 77) + I : 1\n"
        f"dn/dt = a_n*(1 - n) - b_n*n : 1\n"
        f"dq/dt = k*(1 - q) - q : 1\n"
        f"a_n = {ALPHA_N} : 1\n"
        "b_n = 0.125*exp(-(V + 65)/80) : 1",
        parameters={"gL": 0.3, "gK": 36.0, "k": 0.5},
        init={"V": -65.0, "n": 0.3, "q": 0.1},
    )
    assert type(m)._spec.gate_form == (False, True, False)  # q: k's sign is not known
    rng = np.random.default_rng(1)
    y = {
        "V": jnp.asarray(rng.uniform(-90.0, 40.0, 200)).at[0].set(-55.0),  # a_n's singularity
        "n": jnp.asarray(rng.uniform(0.0, 1.0, 200)),
        "q": jnp.asarray(rng.uniform(0.0, 1.0, 200)),
    }
    for dt in (0.01, 0.1):
        fused = m.exponential_euler_step(0.0, y, 5.0, dt)
        assert fused is not None
        generic = exponential_euler_step(m, 0.0, y, 5.0, dt)  # phi1 with expm1
        for k in y:
            np.testing.assert_allclose(fused[k], generic[k], rtol=0, atol=1e-13)


# ----- rates with parameters (rate constants as fields) -------------------------------------

LINOID = "A*(V - V_h)/(1 - exp(-(V - V_h)/k))"


def _linoid_closed_form(V, A, V_h, k):
    u = np.asarray(V, float) - V_h
    return A * u / (-np.expm1(-u / k))


def test_rate_with_parameters_matches_its_closed_form():
    rate = ExpressionRate(LINOID, A=0.01, V_h=-55.0, k=10.0)
    assert rate.A == 0.01 and rate.parameters == {"A": 0.01, "V_h": -55.0, "k": 10.0}
    assert rate.singular_points == (-55.0,)  # V = V_h, found with V_h a symbol
    V = np.random.default_rng(2).uniform(-100.0, 60.0, 400)
    V = V[np.abs(V + 55.0) > 0.1]
    np.testing.assert_allclose(rate(V), _linoid_closed_form(V, 0.01, -55.0, 10.0), rtol=1e-13)
    # at the singular point: the limit A k, and the slope A/2
    assert abs(float(rate(jnp.asarray(-55.0))) - 0.1) < 1e-16
    assert abs(float(jax.grad(rate)(jnp.asarray(-55.0))) - 0.005) < 1e-16
    # a new value moves the singular point with it
    assert ExpressionRate(LINOID, A=0.1, V_h=-40.0, k=10.0).singular_points == (-40.0,)


def _k_model(alpha, beta):
    n = Gate.alpha_beta("n", alpha, beta)
    m = Gate.alpha_beta("m", ALPHA_M, "4*exp(-(V + 65)/18)")
    h = Gate.alpha_beta("h", "0.07*exp(-(V + 65)/20)", "1/(1 + exp(-(V + 35)/10))")
    return ConductanceModel(
        [IonCurrent("Na", 120.0, 50.0, [(m, 3), h]), IonCurrent("K", 36.0, -77.0, [(n, 4)])],
        C=1.0,
        gL=0.3,
        EL=-54.387,
    )


def test_conductance_model_with_rate_parameters():
    model = _k_model(
        ExpressionRate(LINOID, A=0.01, V_h=-55.0, k=10.0),
        ExpressionRate("B*exp(-(V - V_h)/s)", B=0.125, V_h=-65.0, s=80.0),
    )
    names = {"K.n.alpha.A", "K.n.alpha.V_h", "K.n.alpha.k", "K.n.beta.B", "K.n.beta.s"}
    assert names <= set(model.parameters())
    assert model.K.n.alpha.k == 10.0
    # the built-in Hodgkin-Huxley model's vector field (rate constants as written there)
    y = {"V": np.array([-55.0, -20.0, -70.0]), "m": 0.1, "h": 0.6, "n": 0.3}
    got, want = model.vector_field(0.0, y, 5.0), HodgkinHuxley().vector_field(0.0, y, 5.0)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-13)
    other = model.replace(**{"K.n.alpha.A": 0.02})
    assert other.K.n.alpha.A == 0.02 and model.K.n.alpha.A == 0.01
    with pytest.raises(ValueError, match=r"divides by `k`, which is 0"):
        model.replace(**{"K.n.alpha.k": 0.0})
    with pytest.raises(ValueError, match="ExpressionRate.A must be finite"):
        ExpressionRate(LINOID, A=float("nan"), V_h=-55.0, k=10.0)


def test_gradients_of_the_vector_field_wrt_rate_parameters():
    base = _k_model(
        ExpressionRate(LINOID, A=0.01, V_h=-55.0, k=10.0),
        ExpressionRate("B*exp(-(V - V_h)/s)", B=0.125, V_h=-65.0, s=80.0),
    )
    # alpha_n's singular point, either side of the series switch, and far from it
    y = {"V": jnp.array([-55.0, -55.04, -54.9, -20.0]), "m": 0.05, "h": 0.6, "n": 0.32}
    names = ("K.n.alpha.A", "K.n.alpha.V_h", "K.n.alpha.k", "K.n.beta.s")

    def dn(values):
        model = base.replace(**dict(zip(names, values)))
        tau = model.time_constants(y["V"])["n"]
        return model.vector_field(0.0, y, 0.0)["n"] + tau

    x = jnp.array([0.01, -55.0, 10.0, 80.0])
    jac = np.asarray(jax.jit(jax.jacobian(dn))(x))  # (4 voltages, 4 parameters)
    assert np.all(np.isfinite(jac))
    f = jax.jit(dn)
    for i in range(len(names)):
        h = 1e-6 * abs(float(x[i]))
        fd = (np.asarray(f(x.at[i].add(h))) - np.asarray(f(x.at[i].add(-h)))) / (2 * h)
        # central differences: truncation h^2 f(3)/6, rounding eps |f| / h
        np.testing.assert_allclose(jac[:, i], fd, rtol=1e-6, atol=1e-8, err_msg=names[i])


@pytest.mark.slow
def test_gradients_wrt_rate_parameters_match_finite_differences():
    from spikejax.fit import solve_fixed

    base = _k_model(
        ExpressionRate(LINOID, A=0.01, V_h=-55.0, k=10.0),
        ExpressionRate("B*exp(-(V - V_h)/s)", B=0.125, V_h=-65.0, s=80.0),
    )
    # starts at alpha_n's singular point
    y0 = {k: jnp.asarray(v) for k, v in {"V": -55.0, "m": 0.05, "h": 0.6, "n": 0.32}.items()}
    names = ("K.n.alpha.A", "K.n.alpha.V_h", "K.n.alpha.k", "K.n.beta.s")

    def v_end(values):
        model = base.replace(**dict(zip(names, values)))
        sol = solve_fixed(model, y0, 8.0, dt=0.01, n_steps=400, method="rk4")
        return sol.final_state["V"]

    x = jnp.array([0.01, -55.0, 10.0, 80.0])
    grad = np.asarray(jax.jit(jax.grad(v_end))(x))
    f = jax.jit(v_end)
    for i in range(len(names)):
        h = 1e-6 * abs(float(x[i]))
        fd = (float(f(x.at[i].add(h))) - float(f(x.at[i].add(-h)))) / (2 * h)
        # central differences: truncation h^2 f''' and rounding eps |V| / h
        assert grad[i] == pytest.approx(fd, rel=1e-6, abs=1e-9), names[i]
    assert np.all(np.abs(grad) > 1e-4)  # every parameter moves the trace


def test_rate_parameter_names_are_checked():
    with pytest.raises(NameError, match=r"unknown identifier `V_h`.*V_h=\.\.\."):
        ExpressionRate(LINOID, A=0.01, k=10.0)
    with pytest.raises(ValueError, match=r"parameter\(s\) \['q'\] do not appear"):
        ExpressionRate("0.1*exp(V/10)", q=1.0)
