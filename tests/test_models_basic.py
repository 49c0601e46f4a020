"""Vector-field-level tests of LIF, Izhikevich and FitzHugh-Nagumo: closed forms, equilibria,
presets, parameter validation, population broadcasting and jit/vmap/grad through fields."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikejax.models import IZHIKEVICH_PRESETS, LIF, FitzHughNagumo, Izhikevich

# ----- LIF ------------------------------------------------------------------------------------


def test_lif_vector_field_refractory_and_reset():
    model = LIF(tau_m=10.0, E_L=-70.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0, R=2.0)
    y = {"V": jnp.array([-60.0, -60.0]), "refractory": jnp.array([0.0, 1.0])}
    f = model.vector_field(0.0, y, 5.0)
    # tau dV/dt = -(V - E_L) + R I = -10 + 10 = 0 when not refractory; clamped when refractory.
    np.testing.assert_allclose(np.asarray(f["V"]), [0.0, 0.0], atol=1e-15)
    f = model.vector_field(0.0, y, 8.0)
    np.testing.assert_allclose(np.asarray(f["V"]), [0.6, 0.0], rtol=1e-14)
    np.testing.assert_allclose(np.asarray(f["refractory"]), [0.0, -1.0])
    y2 = {"V": jnp.array([-49.0, -49.0]), "refractory": jnp.array([0.0, 0.5])}
    np.testing.assert_array_equal(np.asarray(model.spike_condition(y2)), [True, False])
    r = model.reset(y2)
    np.testing.assert_array_equal(np.asarray(r["V"]), [-65.0, -65.0])
    np.testing.assert_array_equal(np.asarray(r["refractory"]), [2.0, 2.0])
    # post_step snaps a clock below dt/2 to zero.
    p = model.post_step({"V": y2["V"], "refractory": jnp.array([0.04, 0.06])}, 0.1)
    np.testing.assert_array_equal(np.asarray(p["refractory"]), [0.0, 0.06])
    rest = model.resting_state()
    assert float(rest["V"]) == -70.0 and float(rest["refractory"]) == 0.0


def test_lif_rate_closed_form():
    model = LIF()  # tau 20, E_L -65, V_th -50, V_reset -65, t_ref 2, R 1
    # Hand computation: V_inf = -65 + 30 = -35; T = 2 + 20 ln(30/15) ms.
    T = 2.0 + 20.0 * np.log(30.0 / 15.0)
    assert float(model.rate(30.0)) == pytest.approx(1000.0 / T, rel=1e-14)
    assert float(model.rate(10.0)) == 0.0  # subthreshold
    # Time to threshold from the exact solution V(t) = V_inf + (V_reset - V_inf) e^{-t/tau}:
    t_hit = 20.0 * np.log((-35.0 + 65.0) / (-35.0 + 50.0))
    V_at = -35.0 + (-65.0 + 35.0) * np.exp(-t_hit / 20.0)
    assert V_at == pytest.approx(-50.0, abs=1e-12)


# ----- Izhikevich -----------------------------------------------------------------------------


def test_izhikevich_presets_match_references():
    # Izhikevich (2003) Fig. 2 / REFERENCES.md table.
    table = {
        "RS": (0.02, 0.2, -65, 8),
        "IB": (0.02, 0.2, -55, 4),
        "CH": (0.02, 0.2, -50, 2),
        "FS": (0.1, 0.2, -65, 2),
        "LTS": (0.02, 0.25, -65, 2),
        "TC": (0.02, 0.25, -65, 0.05),
        "RZ": (0.1, 0.26, -65, 2),
    }
    assert IZHIKEVICH_PRESETS == table
    for name, (a, b, c, d) in table.items():
        m = Izhikevich.preset(name.lower())
        assert (m.a, m.b, m.c, m.d) == (a, b, c, d)
    assert Izhikevich.preset("RS", d=4.0).d == 4.0
    with pytest.raises(ValueError, match="preset"):
        Izhikevich.preset("XX")


@pytest.mark.parametrize("name", sorted(IZHIKEVICH_PRESETS))
def test_izhikevich_equilibria_quadratic_formula(name):
    model = Izhikevich.preset(name)
    b = model.b
    # (Depolarizing I removes the equilibria of b >= 0.25 cells: disc < 0 at I = 2 there.)
    for I in [0.0, -5.0]:
        # u = b v and 0.04 v^2 + (5 - b) v + 140 + I = 0.
        A, B, C = 0.04, 5.0 - b, 140.0 + I
        disc = B * B - 4 * A * C
        assert disc > 0
        for v in [(-B - np.sqrt(disc)) / (2 * A), (-B + np.sqrt(disc)) / (2 * A)]:
            y = {"V": jnp.asarray(v), "u": jnp.asarray(b * v)}
            f = model.vector_field(0.0, y, I)
            # Terms of size ~100 cancel: round-off ~1e-13.
            assert abs(float(f["V"])) < 1e-11 and abs(float(f["u"])) < 1e-13
    if name == "RS":
        # The textbook RS values: rest -70 mV and threshold -50 mV at I = 0.
        roots = np.sort(np.roots([0.04, 4.8, 140.0]).real)
        np.testing.assert_allclose(roots, [-70.0, -50.0], atol=1e-10)


def test_izhikevich_vector_field_reset():
    model = Izhikevich()
    y = {"V": jnp.asarray(-60.0), "u": jnp.asarray(-10.0)}
    f = model.vector_field(0.0, y, 5.0)
    assert float(f["V"]) == pytest.approx(0.04 * 3600 - 300 + 140 + 10 + 5, rel=1e-14)
    assert float(f["u"]) == pytest.approx(0.02 * (0.2 * -60 + 10), rel=1e-14)
    y = {"V": jnp.asarray(31.0), "u": jnp.asarray(-10.0)}
    assert bool(model.spike_condition(y))
    r = model.reset(y)
    assert float(r["V"]) == -65.0 and float(r["u"]) == -2.0


# ----- FitzHugh-Nagumo ------------------------------------------------------------------------


def test_fhn_equilibrium_is_cubic_root():
    model = FitzHughNagumo()
    a, b = 0.7, 0.8
    # v - v^3/3 - (v + a)/b = 0  <=>  -v^3/3 + (1 - 1/b) v - a/b = 0.
    r = np.roots([-1.0 / 3.0, 0.0, 1.0 - 1.0 / b, -a / b])
    real = r[np.abs(r.imag) < 1e-12].real
    assert len(real) == 1
    v = real[0]
    w = (v + a) / b
    rest = model.resting_state()
    # The stored rest state is rounded to 4 decimals.
    assert float(rest["V"]) == pytest.approx(v, abs=1e-4)
    assert float(rest["w"]) == pytest.approx(w, abs=1e-4)
    f = model.vector_field(0.0, {"V": jnp.asarray(v), "w": jnp.asarray(w)}, None)
    assert abs(float(f["V"])) < 1e-14 and abs(float(f["w"])) < 1e-14
    # Stable: trace < 0 and det > 0 of the analytic Jacobian [[1 - v^2, -1], [eps, -eps b]].
    J = np.asarray(jax.jacfwd(lambda x: model.vector_field_array(0.0, x, 0.0))(jnp.array([v, w])))
    np.testing.assert_allclose(J, [[1 - v * v, -1.0], [0.08, -0.064]], rtol=1e-13)
    assert np.trace(J) < 0 and np.linalg.det(J) > 0


# ----- shared contract: replace, validation, populations, transformations ----------------------


@pytest.mark.parametrize("model", [LIF(), Izhikevich(), FitzHughNagumo()])
def test_replace_unknown_name(model):
    with pytest.raises(ValueError, match="nonexistent"):
        model.replace(nonexistent=1.0)
    with pytest.raises(ValueError, match="state variable"):
        model.full_state(zzz=1.0)


@pytest.mark.parametrize(
    "ctor,match",
    [
        (lambda: LIF(tau_m=-1.0), "LIF.tau_m"),
        (lambda: LIF(tau_m=float("nan")), "LIF.tau_m"),
        (lambda: LIF(t_ref=-0.1), "LIF.t_ref"),
        (lambda: LIF(V_reset=-50.0, V_th=-50.0), "LIF.V_reset"),
        (lambda: LIF(V_reset=-40.0), "LIF.V_reset"),
        (lambda: LIF(E_L=float("nan")), "LIF.E_L"),
        (lambda: LIF(tau_m=jnp.ones(3) * 10, E_L=-jnp.ones(4) * 65), "tau_m"),
        (lambda: Izhikevich(a=float("nan")), "Izhikevich.a"),
        (lambda: Izhikevich(c=40.0), "Izhikevich.c"),
        (lambda: Izhikevich(a=jnp.full(2, 0.02), d=jnp.full(3, 8.0)), "a"),
        (lambda: FitzHughNagumo(eps=-0.1), "FitzHughNagumo.eps"),
        (lambda: FitzHughNagumo(a=float("inf")), "FitzHughNagumo.a"),
    ],
)
def test_bad_parameters_raise_value_error(ctor, match):
    with pytest.raises(ValueError, match=match):
        ctor()


@pytest.mark.parametrize(
    "ctor,message",
    [
        (lambda: LIF(tau_m=[20.0, float("nan")]), "LIF.tau_m must be finite and > 0 ms, got array "
         "of shape (2,) with nan at index 1"),
        (lambda: LIF(tau_m=[[20.0, 5.0], [-1.0, -2.0]]), "with -1.0 at index (1, 0) (and 1 more)"),
        (lambda: LIF(E_L=[-65.0, -65.0, float("inf")]), "LIF.E_L must be finite, got array of "
         "shape (3,) with inf at index 2"),
        (lambda: LIF(V_reset=[-65.0, -40.0]), "LIF.V_reset=array of shape (2,) with -40.0 at "
         "index 1"),
    ],
)  # fmt: skip
def test_bad_array_parameter_names_the_offending_element_and_index(ctor, message):
    with pytest.raises(ValueError) as info:
        ctor()
    assert message in str(info.value)


def test_population_shape_broadcasting():
    model = LIF(tau_m=jnp.array([10.0, 20.0, 30.0]), E_L=jnp.array([[-65.0], [-70.0]]))
    assert model.shape == (2, 3)
    y = model.resting_state()
    assert y["V"].shape == (2, 3)
    np.testing.assert_array_equal(np.asarray(y["V"][:, 0]), [-65.0, -70.0])
    f = model.vector_field(0.0, model.full_state(V=-60.0), 0.0)
    np.testing.assert_allclose(
        np.asarray(f["V"]),
        -(-60.0 - np.array([[-65.0], [-70.0]])) / np.array([10.0, 20.0, 30.0]),
        rtol=1e-14,
    )
    x = model.to_vector(y)
    assert x.shape == (2, 2, 3)
    assert jax.tree_util.tree_all(jax.tree.map(jnp.array_equal, model.from_vector(x), y))
    izh = Izhikevich(a=jnp.array([0.02, 0.1]))
    assert izh.resting_state()["u"].shape == (2,)
    fhn = FitzHughNagumo(eps=jnp.array([0.08, 0.1, 0.2, 0.3]))
    assert fhn.vector_field(0.0, fhn.resting_state(), 0.5)["w"].shape == (4,)


def test_jit_vmap_grad_through_fields():
    y = {"V": jnp.asarray(-55.0), "refractory": jnp.asarray(0.0)}

    def dV(tau):
        return LIF(tau_m=tau).vector_field(0.0, y, 0.0)["V"]

    # dV/dt = -(V - E_L)/tau = -10/tau; d/dtau = 10/tau^2 exactly.
    assert float(jax.jit(jax.grad(dV))(20.0)) == pytest.approx(10.0 / 400.0, rel=1e-14)
    taus = jnp.array([5.0, 10.0, 20.0])
    np.testing.assert_allclose(np.asarray(jax.vmap(dV)(taus)), -10.0 / np.asarray(taus), rtol=1e-14)

    izh = Izhikevich()
    yi = {"V": jnp.asarray(-60.0), "u": jnp.asarray(-10.0)}
    grads = jax.grad(lambda m: m.vector_field(0.0, yi, 0.0)["u"])(izh)
    # du/dt = a (b v - u): d/da = b v - u = -2, d/db = a v = -1.2.
    assert float(grads.a) == pytest.approx(-2.0, rel=1e-14)
    assert float(grads.b) == pytest.approx(-1.2, rel=1e-14)

    fhn = FitzHughNagumo()
    yf = fhn.resting_state()
    out = jax.jit(lambda m: m.vector_field(0.0, yf, 0.0))(fhn)
    ref = fhn.vector_field(0.0, yf, 0.0)
    for k in out:
        assert float(out[k]) == pytest.approx(float(ref[k]), abs=1e-15)
