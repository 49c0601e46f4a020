"""Fuzz suite, part 1: models, `simulate`, stimuli, solvers and spike trains driven with bad and
edge inputs (non-finite, negative, zero, wrong shape, wrong dtype, wrong type, mismatched or
huge sizes).

Each case either raises an error that names the parameter and shows the bad value (or the
allowed range), or gives a correct result, checked against an independent truth (closed
forms, `scipy.integrate.solve_ivp`, counting). Most cases stop in the validation layer, before
anything is compiled; the few that run reuse one program shape, so the module stays fast.
Property-based cases (hypothesis) are in `test_fuzz_properties.py`.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fuzz_common import MODEL_FIELDS, MODELS, fields, lif_closed_form

import spikejax as sj
from spikejax import stimulus as S
from spikejax.models import (
    LIF,
    BoltzmannGate,
    ExpRate,
    IonCurrent,
    Izhikevich,
    LinoidRate,
    RateUnit,
    SigmoidRate,
)


def test_every_model_hasfields():
    for cls in MODELS:
        assert fields(cls), cls


# ----- models: every field refuses non-finite values, naming itself and the value ------------
@pytest.mark.parametrize("cls, name", MODEL_FIELDS, ids=lambda x: getattr(x, "__name__", x))
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_model_field_refuses_non_finite(cls, name, bad):
    with pytest.raises(ValueError) as e:
        cls(**{name: bad})
    msg = str(e.value)
    assert f"{cls.__name__}.{name}" in msg and repr(bad) in msg, msg


@pytest.mark.parametrize("cls, name", MODEL_FIELDS, ids=lambda x: getattr(x, "__name__", x))
@pytest.mark.parametrize(
    "bad",
    ["abc", "5", None, 1 + 2j, True, print, object()],
    ids=["str", "numeric-str", "None", "complex", "bool", "callable", "obj"],
)
def test_model_field_refuses_wrong_types(cls, name, bad):
    # Strings, None, complex, bool and objects are not real numbers: NumPy would turn some
    # of them into numbers silently ("5" -> 5.0, True -> 1.0, None -> nan, 1+2j -> 1.0).
    with pytest.raises(TypeError) as e:
        cls(**{name: bad})
    msg = str(e.value)
    assert f"{cls.__name__}.{name}" in msg and "real number" in msg, msg


@pytest.mark.parametrize("cls, name", MODEL_FIELDS, ids=lambda x: getattr(x, "__name__", x))
def test_model_field_nan_in_array_names_its_index(cls, name):
    default = getattr(cls(), name)
    value = np.array([default, default, np.nan])
    with pytest.raises(ValueError) as e:
        cls(**{name: value})
    msg = str(e.value)
    assert f"{cls.__name__}.{name}" in msg and "nan at index 2" in msg, msg


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_model_fields_of_clashing_shapes_are_named(cls):
    a, b = fields(cls)[:2]
    kw = {a: np.full(2, getattr(cls(), a)), b: np.full(3, getattr(cls(), b))}
    with pytest.raises(ValueError) as e:
        cls(**kw)
    msg = str(e.value)
    assert a in msg and b in msg and "(2,)" in msg and "(3,)" in msg, msg


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", [np.int32, jnp.bfloat16, np.float32], ids=str)
def test_model_accepts_real_dtypes_of_any_width(cls, dtype):
    # int and narrow floats are real numbers: accepted, and the checks see their values.
    name = fields(cls)[0]
    default = getattr(cls(), name)
    if dtype is np.int32 and default != int(default):
        default = float(int(default)) or 1.0
    try:
        model = cls(**{name: jnp.asarray(default, dtype)})
    except ValueError as err:  # a range check may refuse the rounded value: it must say so
        assert f"{cls.__name__}.{name}" in str(err)
        return
    assert model.shape == ()


def test_izhikevich_negative_a_is_a_published_regime():
    # Izhikevich (2004, Fig. 1 S, inhibition-induced spiking): a = -0.02, b = -1, c = -60,
    # d = 8, held at I = 80. Negative a defines a valid ODE and must be accepted; the
    # trajectory (no spike within 20 ms from v = -63.8, u = b v) is checked against scipy.
    from scipy.integrate import solve_ivp

    a, b, c, d, I = -0.02, -1.0, -60.0, 8.0, 80.0
    model = Izhikevich(a=a, b=b, c=c, d=d)
    v0 = -63.8
    res = sj.simulate(model, duration=20.0, dt=0.01, I=I, y0={"V": v0, "u": b * v0})

    def f(t, y):
        v, u = y
        return [0.04 * v * v + 5 * v + 140 - u + I, a * (b * v - u)]

    ref = solve_ivp(f, (0, 20.0), [v0, b * v0], rtol=1e-11, atol=1e-11, t_eval=res.times)
    assert res.n_spikes.sum() == 0 and np.all(ref.y[0] < 30)
    # RK4 at dt = 0.01 ms: global error ~ C dt^4, well below 1e-6 mV here.
    np.testing.assert_allclose(res.states["V"], ref.y[0], atol=1e-6)
    np.testing.assert_allclose(res.states["u"], ref.y[1], atol=1e-6)


def test_izhikevich_zero_a_and_b_are_valid():
    model = Izhikevich(a=0.0, b=0.0)
    dy = model.vector_field(0.0, {"V": jnp.asarray(-65.0), "u": jnp.asarray(3.0)}, 0.0)
    assert float(dy["u"]) == 0.0
    assert float(dy["V"]) == pytest.approx(0.04 * 65**2 - 5 * 65 + 140 - 3.0)


@pytest.mark.parametrize(
    "ctor, fragments",
    [
        (lambda: Izhikevich(v_peak=float("inf")), ["Izhikevich.v_peak", "inf"]),
        (lambda: Izhikevich.preset("XX"), ["'XX'", "RS"]),
        (lambda: Izhikevich.preset(3), ["preset", "3", "RS"]),
        (lambda: LIF(V_reset=-40.0), ["LIF.V_reset", "-40.0", "LIF.V_th"]),
        (lambda: RateUnit(activation="cubic"), ["cubic"]),
        (lambda: ExpRate(A=-1.0, V_half=0.0, k=1.0), ["ExpRate.A", "-1.0", ">= 0"]),
        (lambda: SigmoidRate(A=1.0, V_half=0.0, k=0.0), ["SigmoidRate.k", "0.0"]),
        (lambda: LinoidRate(A=1.0, V_half=float("nan"), k=1.0), ["LinoidRate.V_half", "nan"]),
        (lambda: BoltzmannGate("m", V_half=0.0, k=1.0, tau=0.0), ["tau", "0.0", "> 0"]),
        (lambda: IonCurrent("na", g_max=-1.0, E_rev=50.0), ["g_max", "-1.0", ">= 0"]),
        (lambda: IonCurrent("na", g_max=1.0, E_rev="x"), ["E_rev", "real number"]),
    ],
)
def test_model_parts_bad_values(ctor, fragments):
    with pytest.raises((ValueError, TypeError)) as e:
        ctor()
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


@pytest.mark.parametrize("name", sorted(sj.models.IZHIKEVICH_PRESETS))
def test_izhikevich_presets_construct(name):
    model = Izhikevich.preset(name.lower())
    assert (model.a, model.b, model.c, model.d) == sj.models.IZHIKEVICH_PRESETS[name]


# ----- simulate: every option, validated before anything compiles -----------------------------
_BAD_SIMULATE = [
    (dict(duration=-1.0), ValueError, ["duration", "-1.0", "> 0"]),
    (dict(duration=0.0), ValueError, ["duration", "0.0", "> 0"]),
    (dict(duration=float("nan")), ValueError, ["duration", "nan"]),
    (dict(duration=float("inf")), ValueError, ["duration", "inf"]),
    (dict(duration="10"), TypeError, ["duration", "'10'", "real number"]),
    (dict(duration=None), TypeError, ["duration", "None"]),
    (dict(duration=True), TypeError, ["duration", "True"]),
    (dict(duration=1j), TypeError, ["duration", "1j"]),
    (dict(dt=0.0), ValueError, ["dt", "0.0", "> 0"]),
    (dict(dt=-0.1), ValueError, ["dt", "-0.1"]),
    (dict(dt=float("nan")), ValueError, ["dt", "nan"]),
    (dict(dt=[0.1, 0.2]), ValueError, ["dt"]),
    (dict(dt=2.0, duration=1.0), ValueError, ["dt must be <= duration", "dt=2.0"]),
    (dict(duration=1e300, dt=1e-10), ValueError, ["duration / dt", "steps"]),
    (dict(duration=1e12, dt=0.1), ValueError, ["duration / dt", "1e+13", "int32"]),
    (dict(t0=1e12), ValueError, ["t0 / dt", "t0=1000000000000.0"]),
    (dict(t0=float("nan")), ValueError, ["t0", "nan"]),
    (dict(t0=float("-inf")), ValueError, ["t0", "-inf"]),
    (dict(t0="0"), TypeError, ["t0", "'0'"]),
    (dict(record_every=0), ValueError, ["record_every", "0", ">= 1"]),
    (dict(record_every=1.5), ValueError, ["record_every", "1.5", "integer"]),
    (dict(record_every=True), ValueError, ["record_every", "True"]),
    (dict(chunk_steps=0), ValueError, ["chunk_steps", "0", ">= 1"]),
    (dict(chunk_steps="10"), ValueError, ["chunk_steps", "'10'"]),
    (dict(max_spikes=0), ValueError, ["max_spikes", "0", ">= 1"]),
    (dict(max_spikes=-3), ValueError, ["max_spikes", "-3"]),
    (dict(y0=[1.0]), ValueError, ["y0", "dict"]),
    (dict(y0={"W": 1.0}), ValueError, ["y0", "'W'", "['V', 'refractory']"]),
    (dict(y0={"V": float("nan")}), ValueError, ["y0['V']", "nan"]),
    (dict(y0={"V": [-65.0, np.inf]}), ValueError, ["y0['V']", "inf at index 1"]),
    (dict(y0={"V": "a"}), TypeError, ["y0['V']", "'a'"]),
    (dict(y0={"V": 1j}), TypeError, ["y0['V']", "1j"]),
    (dict(y0={"V": np.zeros(3)}, I=np.zeros(2)), ValueError, ["(2,)", "(3,)"]),
    (dict(I=float("nan")), ValueError, ["I must be finite", "nan"]),
    (dict(I=[0.0, -np.inf]), ValueError, ["I", "-inf at index 1"]),
    (dict(I="x"), ValueError, ["I must be"]),
    (dict(I=1j), ValueError, ["I must be real", "complex"]),
    (dict(I=True), ValueError, ["I must be real", "bool"]),
    (dict(I=lambda t: t), ValueError, ["I must be", "Function(fn)"]),
    (dict(method="foo"), ValueError, ["method", "'foo'", "rk4"]),
    (dict(method=None), ValueError, ["method", "None"]),
    (dict(method=4), ValueError, ["method", "4"]),
    (dict(method="adaptive", rtol=-1.0), ValueError, ["rtol", "-1.0", "> 0"]),
    (dict(method="adaptive", atol=float("nan")), ValueError, ["atol", "nan"]),
    (dict(method="adaptive", max_steps=0), ValueError, ["max_steps", "0"]),
    (dict(method="adaptive", dt0=0.0), ValueError, ["dt0", "0.0"]),
    (dict(record="W"), ValueError, ["record", "'W'"]),
    (dict(key=0), TypeError, ["key", "jax.random.key", "got 0"]),
    (dict(key="seed"), TypeError, ["key", "'seed'"]),
    (dict(I=S.Noise(), key=1.5), TypeError, ["key", "1.5"]),
    (dict(I=S.Noise()), ValueError, ["key", "stochastic", "Noise"]),
    (
        dict(I=S.Noise(), method="adaptive", key=jax.random.key(0)),
        ValueError,
        ["Noise", "fixed-step"],
    ),
    (dict(I=S.Sampled(values=np.zeros(3), dt=0.1)), ValueError, ["defined for", "[0.0, 1.0)"]),
]


@pytest.mark.parametrize("kw, exc, fragments", _BAD_SIMULATE, ids=lambda x: None)
def test_simulate_bad_options(kw, exc, fragments):
    args = dict(duration=1.0, dt=0.1)
    args.update(kw)
    with pytest.raises(exc) as e:
        sj.simulate(LIF(), **args)
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_simulate_refuses_non_models():
    for bad in ["LIF", None, LIF, 3.0]:
        with pytest.raises(ValueError, match="model must be a spikejax NeuronModel"):
            sj.simulate(bad, duration=1.0, dt=0.1)  # type: ignore[arg-type]


def test_simulate_refuses_a_record_larger_than_memory():
    # 10**9 cells x 2 variables x ~10**4 records: refused up front with the estimate, instead of
    # running and then failing on the host.
    with pytest.raises(ValueError) as e:
        sj.simulate(LIF(tau_m=np.full(10**6, 20.0)), duration=1e5, dt=0.1)
    msg = str(e.value)
    assert "record" in msg and "GiB" in msg and "record_every" in msg, msg


def test_simulate_integer_and_float32_inputs_are_values():
    # int currents and float32 arrays are numbers: the same result as the float64 value.
    a = sj.simulate(LIF(), duration=1.0, dt=0.1, I=np.array([20, 30]))
    b = sj.simulate(LIF(), duration=1.0, dt=0.1, I=np.array([20.0, 30.0], np.float32))
    np.testing.assert_allclose(a.states["V"], b.states["V"], rtol=1e-12)
    np.testing.assert_allclose(a.states["V"][:, 0], lif_closed_form(a.times, 20.0), atol=1e-6)


# ----- stimuli ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ctor, exc, fragments",
    [
        (lambda: S.Constant(float("nan")), ValueError, ["Constant.amplitude", "nan"]),
        (lambda: S.Constant("1"), TypeError, ["Constant.amplitude", "'1'"]),
        (lambda: S.Constant(1j), TypeError, ["Constant.amplitude", "1j"]),
        (lambda: S.Step(onset=5.0, offset=1.0), ValueError, ["Step.offset", "Step.onset", "5.0"]),
        (lambda: S.Step(onset=5.0, offset=float("nan")), ValueError, ["Step.offset", "nan"]),
        (lambda: S.Step(onset=float("inf")), ValueError, ["Step.onset", "inf"]),
        (lambda: S.Step(onset="a"), TypeError, ["Step.onset", "'a'"]),
        (lambda: S.Step(onset=1.0, amplitude=None), TypeError, ["Step.amplitude", "None"]),
        (lambda: S.PulseTrain(onsets=np.ones((2, 2))), ValueError, ["onsets", "1-D", "(2, 2)"]),
        (lambda: S.PulseTrain(onsets=[1.0], width=0.0), ValueError, ["width", "0.0", "> 0"]),
        (lambda: S.PulseTrain(onsets=[1.0, np.nan]), ValueError, ["onsets", "nan at index 1"]),
        (lambda: S.PulseTrain.regular(0.0, -1.0, 3), ValueError, ["interval", "-1.0"]),
        (lambda: S.PulseTrain.regular(0.0, 1.0, 0), ValueError, ["count", "0"]),
        (lambda: S.PulseTrain.regular(0.0, 1.0, 2.5), ValueError, ["count", "2.5"]),
        (lambda: S.Noise(sigma=-1.0), ValueError, ["Noise.sigma", "-1.0", ">= 0"]),
        (lambda: S.Noise(tau=0.0), ValueError, ["Noise.tau", "0.0", "> 0"]),
        (lambda: S.Noise(mean=float("nan")), ValueError, ["Noise.mean", "nan"]),
        (lambda: S.Sampled(values=np.zeros(0), dt=0.1), ValueError, ["Sampled.values", "(0,)"]),
        (lambda: S.Sampled(values=3.0, dt=0.1), ValueError, ["Sampled.values", "()"]),
        (lambda: S.Sampled(values=np.zeros(3), dt=0.0), ValueError, ["Sampled.dt", "0.0"]),
        (lambda: S.Sampled(values=[0.0, np.nan], dt=0.1), ValueError, ["nan at index 1"]),
        (lambda: S.Function(fn=3), TypeError, ["Function.fn", "callable", "3"]),
        (lambda: S.Sum([1.0, "x"]), ValueError, ["I must be"]),
        (lambda: S.as_stimulus(1j), ValueError, ["I must be real", "complex"]),
    ],
)
def test_stimulus_bad_values(ctor, exc, fragments):
    with pytest.raises(exc) as e:
        ctor()
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_function_stimulus_returning_nan_is_simulated_as_given():
    # A user function is not evaluated until the run; its values are the user's (here finite).
    res = sj.simulate(LIF(), duration=1.0, dt=0.1, I=S.Function(lambda t: 10.0 + 0.0 * t))
    np.testing.assert_allclose(res.states["V"], lif_closed_form(res.times, 10.0), atol=1e-6)


# ----- solvers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [None, "RK4", "rk5", 4, object()])
def test_get_scheme_bad(bad):
    with pytest.raises(ValueError) as e:
        sj.solvers.get_scheme(bad)
    assert "method must be one of" in str(e.value) and "rk4" in str(e.value)


@pytest.mark.parametrize(
    "kw, exc, fragments",
    [
        (dict(rtol=-1.0), ValueError, ["Adaptive.rtol", "-1.0", "> 0"]),
        (dict(rtol=float("nan")), ValueError, ["Adaptive.rtol", "nan"]),
        (dict(atol=0.0), ValueError, ["Adaptive.atol", "0.0"]),
        (dict(rtol="1e-6"), TypeError, ["Adaptive.rtol", "'1e-6'"]),
        (dict(dt0=-0.1), ValueError, ["Adaptive.dt0", "-0.1"]),
        (dict(max_steps=0), ValueError, ["Adaptive.max_steps", "0"]),
        (dict(max_steps=10.5), ValueError, ["Adaptive.max_steps", "10.5"]),
        (dict(solver="tsit5"), TypeError, ["Adaptive.solver", "'tsit5'", "diffrax"]),
    ],
)
def test_adaptive_bad_options(kw, exc, fragments):
    with pytest.raises(exc) as e:
        sj.solvers.Adaptive(**kw)
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_adaptive_tolerance_below_resolution():
    with pytest.raises(ValueError, match=r"rtol=1e-09 is below what float32.*enable float64"):
        sj.solvers.Adaptive(rtol=1e-9).tolerances(jnp.float32)
    # In float64 there is nothing to enable: the message asks for a looser rtol only.
    with pytest.raises(ValueError) as e:
        sj.solvers.Adaptive(rtol=1e-30).tolerances(jnp.float64)
    assert "float64 can resolve" in str(e.value) and "enable" not in str(e.value)


def test_root_find_failure_is_a_result_or_raises():
    def fn(y, args):
        return y**2 + 1.0  # no real root

    sol = sj.solvers.root_find(fn, jnp.asarray(1.0), throw=False, max_steps=16)
    assert sol.result != sj.solvers.RESULTS.successful
    with pytest.raises(Exception, match="maximum number of steps"):
        sj.solvers.root_find(fn, jnp.asarray(1.0), max_steps=16)
    # A solvable case to the default float64 tolerance (independent truth: sqrt(2)).
    sol = sj.solvers.root_find(lambda y, a: y**2 - 2.0, jnp.asarray(1.0))
    assert float(sol.value) == pytest.approx(math.sqrt(2.0), rel=1e-12)


@pytest.mark.parametrize(
    "kw, fragments",
    [
        (dict(rtol=-1.0), ["rtol", "-1.0"]),
        (dict(atol=float("nan")), ["atol", "nan"]),
        (dict(max_steps=0), ["max_steps", "0"]),
        (dict(max_steps=2.0), ["max_steps", "2.0"]),
    ],
)
def test_root_find_and_newton_bad_options(kw, fragments):
    for call in (
        lambda: sj.solvers.root_find(lambda y, a: y - 1.0, jnp.asarray(0.0), **kw),
        lambda: sj.solvers.newton(lambda z: (z - 1.0, np.eye(1)), np.zeros(1), **kw),
    ):
        with pytest.raises(ValueError) as e:
            call()
        for frag in fragments:
            assert frag in str(e.value), (frag, str(e.value))


def test_newton_failures_are_results():
    R = sj.solvers.RESULTS
    sol = sj.solvers.newton(lambda z: (z * np.nan, np.eye(1)), np.ones(1))
    assert not sol.ok and sol.result == R.non_finite
    sol = sj.solvers.newton(lambda z: (z - 1.0, np.zeros((1, 1))), np.full(1, 3.0))
    assert not sol.ok
    with pytest.raises(RuntimeError, match="Newton failed"):
        sj.solvers.newton(lambda z: (z - 1.0, np.zeros((1, 1))), np.full(1, 3.0), throw=True)
    sol = sj.solvers.newton(lambda z: (z**2 - 2.0, np.diag(2 * z)), np.ones(1))
    assert sol.ok and sol.value[0] == pytest.approx(math.sqrt(2.0), rel=1e-12)


# ----- spike trains ----------------------------------------------------------------------------
K = jax.random.key(0)


@pytest.mark.parametrize(
    "call, exc, fragments",
    [
        (lambda: sj.spikes.poisson_spikes(10.0, 10.0, 0.1, key=0), TypeError, ["key", "got 0"]),
        (lambda: sj.spikes.poisson_spikes(np.nan, 10.0, 0.1, key=K), ValueError, ["rate", "nan"]),
        (lambda: sj.spikes.poisson_spikes(-1.0, 10.0, 0.1, key=K), ValueError, ["rate", "-1.0"]),
        (lambda: sj.spikes.poisson_spikes(1e4, 10.0, 0.1, key=K), ValueError, ["rate * dt", "< 1"]),
        (
            lambda: sj.spikes.poisson_spikes(10.0, 0.01, 0.1, key=K),
            ValueError,
            ["dt must be <= duration"],
        ),
        (lambda: sj.spikes.poisson_spikes(10.0, 10.0, 0.0, key=K), ValueError, ["dt", "0.0"]),
        (lambda: sj.spikes.poisson_spikes("10", 10.0, 0.1, key=K), TypeError, ["rate", "'10'"]),
        (
            lambda: sj.spikes.poisson_spikes(np.ones(3), 10.0, 0.1, key=K, shape=(2,)),
            ValueError,
            ["rate", "(3,)", "(2,)"],
        ),
        (
            lambda: sj.spikes.poisson_spikes(10.0, 1e9, 0.1, key=K, shape=(100,)),
            ValueError,
            ["poisson_spikes", "limit"],
        ),
        (
            lambda: sj.spikes.poisson_spike_times(1e12, 1e6, key=K),
            ValueError,
            ["poisson_spike_times", "expected spikes", "limit"],
        ),
        (lambda: sj.spikes.poisson_spike_times(10.0, 10.0, key="k"), TypeError, ["key", "'k'"]),
        (
            lambda: sj.spikes.poisson_spike_times(10.0, 10.0, key=K, t0=np.nan),
            ValueError,
            ["t0", "nan"],
        ),
        (
            lambda: sj.spikes.poisson_spike_times(10.0, -1.0, key=K),
            ValueError,
            ["duration", "-1.0"],
        ),
        (
            lambda: sj.spikes.detect_spikes(np.arange(3.0), np.arange(4.0)),
            ValueError,
            ["times", "(3,)", "(4,)"],
        ),
        (
            lambda: sj.spikes.spike_counts([np.array([1.0])], 5, 0),
            ValueError,
            ["t_stop", "t_start"],
        ),
        (
            lambda: sj.spikes.fano_factor([np.array([1.0])], window=0.0, t_start=0, t_stop=10),
            ValueError,
            ["window", "0.0", "> 0"],
        ),
    ],
)
def test_spike_functions_bad_inputs(call, exc, fragments):
    with pytest.raises(exc) as e:
        call()
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_spike_function_edges_are_correct():
    # Zero rate: no spikes; a legacy uint32 key works as the typed key does.
    assert not np.any(np.asarray(sj.spikes.poisson_spikes(0.0, 10.0, 0.1, key=K, shape=(3,))))
    legacy = jax.random.PRNGKey(0)
    assert sj.spikes.poisson_spikes(10.0, 10.0, 0.1, key=legacy).shape == (100,)
    times, counts = sj.spikes.poisson_spike_times(0.0, 100.0, key=K, shape=(2,))
    assert times.shape == (2, 0) and np.all(counts == 0)
    # CV is undefined (documented NaN) below two intervals; one interval of a sorted train.
    assert math.isnan(sj.spikes.cv_isi(np.array([1.0])))
    assert math.isnan(sj.spikes.cv_isi(np.array([1.0, 2.0])))
    np.testing.assert_array_equal(sj.spikes.isi(np.array([1.0, 4.0])), [3.0])
