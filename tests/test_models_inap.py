"""Model-level tests of the persistent sodium models (Izhikevich 2007, ch. 3-4): vector
fields, equilibria against independent numpy/scipy solves, stability, presets and the reset."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

from spikejax.models import ConductanceModel, Gate, INaP, INaPIK, IonCurrent


def bz(V, vh, k):
    return 1 / (1 + np.exp((vh - V) / k))


def inap_I_inf(V, C=10, gL=19, EL=-67, gNa=74, ENa=60, vh=1.5, k=16):
    return gL * (V - EL) + gNa * bz(V, vh, k) * (V - ENa)


def inapik_I_inf(V, EL=-80.0, n_vh=-25.0):
    return 8 * (V - EL) + 20 * bz(V, -20, 15) * (V - 60) + 10 * bz(V, n_vh, 5) * (V + 90)


def roots(f, lo=-100.0, hi=80.0, n=18001):
    """All sign changes of f on a fine grid, refined by brentq (xtol 1e-12)."""
    V = np.linspace(lo, hi, n)
    s = np.sign(f(V))
    idx = np.nonzero(s[:-1] * s[1:] < 0)[0]
    return [brentq(f, V[i], V[i + 1], xtol=1e-12) for i in idx]


def jac(model, y, I=0.0):
    return np.atleast_2d(
        np.asarray(jax.jacfwd(lambda x: model.vector_field_array(0.0, x, I))(model.to_vector(y)))
    )


# ----- INaP (1-D) ---------------------------------------------------------------------------


def test_inap_vector_field_matches_formula():
    model = INaP()
    for V in [-80.0, -52.0, -40.0, 0.0, 25.0]:
        for I in [0.0, 10.0]:
            got = float(model.vector_field(0.0, {"V": jnp.asarray(V)}, I)["V"])
            # Same formula in numpy: round-off agreement.
            assert got == pytest.approx((I - inap_I_inf(V)) / 10.0, rel=1e-12, abs=1e-12)
    assert model.state_names == ("V",) and model.is_hybrid


def test_inap_three_equilibria_and_stability():
    model = INaP()
    eqs = roots(inap_I_inf)
    assert len(eqs) == 3
    # Values quoted in the docstring.
    np.testing.assert_allclose(eqs, [-52.5123, -40.2855, 30.8632], atol=1e-4)  # 4 decimals
    rest = model.resting_state()
    assert float(rest["V"]) == pytest.approx(eqs[0], abs=1e-9)
    for V_guess, V_star, stable in zip([-50.0, -41.0, 20.0], eqs, [True, False, True]):
        y = model.equilibrium(0.0, V_guess=V_guess)
        assert float(y["V"]) == pytest.approx(V_star, abs=1e-9)
        slope = jac(model, y)[0, 0]
        assert (slope < 0) == stable
        # The 1-D Jacobian is -I_inf'(V)/C; compare with a numpy central difference
        # (h = 1e-4 mV: truncation ~1e-8, round-off ~1e-10 relative to slopes of order 1).
        fd = -(inap_I_inf(V_star + 1e-4) - inap_I_inf(V_star - 1e-4)) / 2e-4 / 10.0
        assert slope == pytest.approx(fd, rel=1e-6)


def test_inap_saddle_node_current():
    # The rest state disappears where I_inf has its local maximum (saddle-node): there are
    # three equilibria just below it and one just above.
    res = minimize_scalar(
        lambda V: -inap_I_inf(V), bounds=(-50.0, -42.0), method="bounded", options={"xatol": 1e-9}
    )
    I_sn = -res.fun
    assert I_sn == pytest.approx(15.776, abs=1e-2)
    model = INaP()
    for I, n in [(I_sn - 0.05, 3), (I_sn + 0.05, 1)]:
        eqs = roots(lambda V, I=I: inap_I_inf(V) - I)
        assert len(eqs) == n
        y = model.equilibrium(I, V_guess=eqs[0])
        assert abs(float(model.vector_field(0.0, y, I)["V"])) < 1e-10


def test_inap_reset_and_validation():
    model = INaP()
    y = {"V": jnp.array([10.0, 20.0, 25.0])}
    np.testing.assert_array_equal(np.asarray(model.spike_condition(y)), [False, True, True])
    np.testing.assert_array_equal(np.asarray(model.reset(y)["V"]), [-60.0, -60.0, -60.0])
    assert model.V_reset < float(model.resting_state()["V"])  # reset lies below rest
    assert model.spike_detection_threshold == model.V_peak
    with pytest.raises(ValueError, match="INaP.V_reset"):
        INaP(V_reset=30.0)
    with pytest.raises(ValueError, match="INaP.m_k"):
        INaP(m_k=0.0)
    with pytest.raises(ValueError, match="INaP.C"):
        INaP(C=float("nan"))
    c = model.currents({"V": jnp.asarray(-52.0)})
    assert set(c) == {"INa", "IL"}
    assert float(c["IL"]) == pytest.approx(19 * 15.0, rel=1e-15)


# ----- INaPIK (2-D) -------------------------------------------------------------------------


def test_inapik_presets():
    hi, lo = INaPIK.high_threshold(), INaPIK.low_threshold()
    # Izhikevich (2007) Fig. 4.1 values (REFERENCES.md).
    assert (
        INaPIK().parameters()
        == hi.parameters()
        == {
            "C": 1.0,
            "gL": 8.0,
            "EL": -80.0,
            "gNa": 20.0,
            "ENa": 60.0,
            "gK": 10.0,
            "EK": -90.0,
            "m_V_half": -20.0,
            "m_k": 15.0,
            "n_V_half": -25.0,
            "n_k": 5.0,
            "tau_n": 1.0,
        }
    )
    assert lo.n_V_half == -45.0 and lo.EL == -78.0 and lo.gK == 10.0
    assert INaPIK.low_threshold(gK=12.0).gK == 12.0
    with pytest.raises(ValueError, match="INaPIK.tau_n"):
        INaPIK(tau_n=-1.0)
    with pytest.raises(ValueError, match="INaPIK.n_k"):
        INaPIK(n_k=float("nan"))


def test_inapik_vector_field_matches_formula():
    rng = np.random.default_rng(2)
    for model, n_vh in [(INaPIK.high_threshold(), -25.0), (INaPIK.low_threshold(), -45.0)]:
        EL = float(model.EL)
        for _ in range(4):
            V, n, I = rng.uniform(-90, 20), rng.uniform(0, 1), rng.uniform(-5, 40)
            f = model.vector_field(0.0, {"V": jnp.asarray(V), "n": jnp.asarray(n)}, I)
            dV = I - 8 * (V - EL) - 20 * bz(V, -20, 15) * (V - 60) - 10 * n * (V + 90)
            assert float(f["V"]) == pytest.approx(dV, rel=1e-12, abs=1e-11)
            assert float(f["n"]) == pytest.approx(bz(V, n_vh, 5) - n, rel=1e-12, abs=1e-14)
    # Equal to the same model assembled by hand with the builder.
    m = Gate.boltzmann("m", -20.0, 15.0, instantaneous=True)
    n = Gate.boltzmann("n", -25.0, 5.0, 1.0)
    by_hand = ConductanceModel(
        [IonCurrent("Na", 20.0, 60.0, [m]), IonCurrent("K", 10.0, -90.0, [n])],
        C=1.0,
        gL=8.0,
        EL=-80.0,
    )
    x = jnp.array([-55.0, 0.2])
    np.testing.assert_allclose(
        np.asarray(by_hand.vector_field_array(0.0, x, 2.0)),
        np.asarray(INaPIK().vector_field_array(0.0, x, 2.0)),
        rtol=1e-15,
    )


def test_high_threshold_three_equilibria():
    model = INaPIK.high_threshold()
    eqs = roots(inapik_I_inf)
    assert len(eqs) == 3
    np.testing.assert_allclose(eqs, [-65.953, -56.140, -27.281], atol=1e-3)
    rest = model.resting_state()
    assert float(rest["V"]) == pytest.approx(eqs[0], abs=1e-9)
    kinds = []
    for V_star in eqs:
        y = model.equilibrium(0.0, V_guess=V_star + 0.5)
        assert float(y["V"]) == pytest.approx(V_star, abs=1e-9)
        assert float(y["n"]) == pytest.approx(bz(V_star, -25, 5), rel=1e-9)
        ev = np.linalg.eigvals(jac(model, y))
        kinds.append(
            "stable" if np.all(ev.real < 0) else "saddle" if np.prod(ev.real) < 0 else "unstable"
        )
        if V_star == eqs[0]:
            # A stable node (real eigenvalues), as expected before a saddle-node onset.
            assert np.all(np.abs(ev.imag) < 1e-12)
    assert kinds == ["stable", "saddle", "unstable"]
    # The stable rest near -63.8 mV is the one at I = 3 uA/cm^2 (at I = 0 it is -65.95 mV).
    y3 = model.equilibrium(3.0)
    assert float(y3["V"]) == pytest.approx(
        brentq(lambda V: inapik_I_inf(V) - 3.0, -70, -60), abs=1e-9
    )
    assert float(y3["V"]) == pytest.approx(-63.805, abs=1e-3)
    assert np.all(np.linalg.eigvals(jac(model, y3, 3.0)).real < 0)


def test_onset_type_signatures():
    # Saddle-node onset needs a fold of the steady-state I-V curve (I_inf non-monotone);
    # a monotone I_inf leaves only an Andronov-Hopf onset (Izhikevich 2007, ch. 6).
    V = np.linspace(-90.0, 0.0, 9001)
    hi = INaPIK.high_threshold().steady_state_current(jnp.asarray(V))
    lo = INaPIK.low_threshold().steady_state_current(jnp.asarray(V))
    np.testing.assert_allclose(np.asarray(hi), inapik_I_inf(V), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(
        np.asarray(lo), inapik_I_inf(V, -78.0, -45.0), rtol=1e-12, atol=1e-10
    )
    assert np.any(np.diff(np.asarray(hi)) < 0)
    assert np.all(np.diff(np.asarray(lo)) > 0)
    # Low-threshold: the single equilibrium at I = 0 is a stable focus (complex eigenvalues,
    # a resonator's damped oscillation).
    model = INaPIK.low_threshold()
    eqs = roots(lambda V: inapik_I_inf(V, -78.0, -45.0))
    assert len(eqs) == 1
    y = model.resting_state()
    assert float(y["V"]) == pytest.approx(eqs[0], abs=1e-9)
    ev = np.linalg.eigvals(jac(model, y))
    assert np.all(ev.real < 0) and np.all(np.abs(ev.imag) > 0.1)


def test_inapik_transformations_and_currents():
    model = INaPIK()
    y = {"V": jnp.asarray(-50.0), "n": jnp.asarray(0.1)}
    c = model.currents(y)
    assert float(c["IK"]) == pytest.approx(10 * 0.1 * 40.0, rel=1e-15)
    # d(dV/dt)/d(gK) = -n (V - EK) / C, exactly.
    g = jax.jit(jax.grad(lambda gK: model.replace(gK=gK).vector_field(0.0, y, 0.0)["V"]))(10.0)
    assert float(g) == pytest.approx(-0.1 * 40.0, rel=1e-14)
    pop = INaPIK(n_V_half=jnp.array([-25.0, -45.0]), EL=jnp.array([-80.0, -78.0]))
    rest = pop.resting_state()
    np.testing.assert_allclose(
        np.asarray(rest["V"]),
        [
            float(INaPIK.high_threshold().resting_state()["V"]),
            float(INaPIK.low_threshold().resting_state()["V"]),
        ],
        atol=1e-10,
    )
    out = jax.vmap(lambda vh: INaPIK(n_V_half=vh).resting_state()["V"])(jnp.array([-25.0, -30.0]))
    assert out.shape == (2,) and float(out[0]) == pytest.approx(float(rest["V"][0]), abs=1e-10)
