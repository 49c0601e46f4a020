"""The Morris-Lecar model: its class-1 saddle-node on invariant circle and its class-2
subcritical Hopf bifurcation and fold of cycles, against published values (Ermentrout &
Terman 2010, *Mathematical Foundations of Neuroscience*, ch. 3: SNIC at I = 39.96, Hopf at
I = 93.86, fold of cycles at I = 88.29 uA/cm^2) and against an independent NumPy/SciPy
model (tests/ml_reference.py; brentq roots, solve_ivp simulations). float64."""

import jax.numpy as jnp
import numpy as np
import pytest
from ml_reference import CLASS1, CLASS2, i_inf, jac, period, rhs, root

from spikejax.analysis import continuation, continue_cycles_collocation
from spikejax.models import MorrisLecar


def test_presets_parameters_and_rest():
    m = MorrisLecar()
    assert (m.gCa, m.V3, m.V4, m.phi) == (4.4, 2.0, 30.0, 0.04)
    c1 = MorrisLecar.class1()
    assert (c1.gCa, c1.V3, c1.V4, c1.phi) == (4.0, 12.0, 17.4, pytest.approx(1 / 15))
    assert MorrisLecar.homoclinic().phi == 0.23 and MorrisLecar.class2(gK=9.0).gK == 9.0
    bads = [("C", 0.0), ("V2", -1.0), ("phi", np.nan), ("gK", -1.0)]
    for name, value in bads:
        with pytest.raises(ValueError, match=f"MorrisLecar.{name}"):
            MorrisLecar(**{name: value})
    # truth: the root of I_inf(V) = 0 by brentq on the NumPy model (1e-8 mV: Newton's tolerance)
    for model, p in [(MorrisLecar.class1(), CLASS1), (MorrisLecar.class2(), CLASS2)]:
        V = root(lambda v, p=p: i_inf(p, v), -70.0, -50.0)
        y = model.resting_state()
        assert float(y["V"]) == pytest.approx(V, abs=1e-8)
        f = model.vector_field(0.0, y, 0.0)
        assert abs(float(f["V"])) < 1e-9 and abs(float(f["w"])) < 1e-12
    x = np.array([-20.0, 0.3])
    got = MorrisLecar.class1().vector_field_array(0.0, jnp.asarray(x), 30.0)
    np.testing.assert_allclose(np.asarray(got), rhs(CLASS1)(0, x, 30.0), rtol=1e-13)


def test_class1_saddle_node_on_invariant_circle():
    m = MorrisLecar.class1()
    br = continuation(m, "I", 0.0, 60.0)
    (lp,) = br.folds
    # truth 1: the local maximum of I_inf(V) (brentq on its derivative), 1e-7
    dI = lambda v: (i_inf(CLASS1, v + 1e-5) - i_inf(CLASS1, v - 1e-5)) / 2e-5  # noqa: E731
    V_sn = root(dI, -40.0, -20.0, xtol=1e-12)
    I_sn = i_inf(CLASS1, V_sn)
    assert lp.param == pytest.approx(I_sn, abs=1e-7)
    assert lp.state["V"] == pytest.approx(V_sn, abs=1e-4)
    # truth 2: published, Ermentrout & Terman (2010), ch. 3: I = 39.96
    assert lp.param == pytest.approx(39.96, abs=0.005)
    # truth 3 (SNIC): scipy simulations just above the fold fire with the period of the
    # saddle-node bottleneck, T = pi / sqrt(a b dI) + c, with the normal form
    # x' = a x^2 + b dI on the centre manifold (a = p.B(q, q)/2, b = p.f_I, NumPy finite
    # differences). Two currents fit (A, c); A agrees with pi/sqrt(ab) within 1%.
    y_sn = np.array([V_sn, 0.5 * (1 + np.tanh((V_sn - 12.0) / 17.4))])
    A = jac(CLASS1, y_sn, I_sn)
    ev, R = np.linalg.eig(A)
    q = np.real(R[:, np.argmin(np.abs(ev))])
    evl, L = np.linalg.eig(A.T)
    pv = np.real(L[:, np.argmin(np.abs(evl))])
    pv = pv / (pv @ q)
    f, h = rhs(CLASS1), 1e-3
    Bqq = (f(0, y_sn + h * q, I_sn) - 2 * f(0, y_sn, I_sn) + f(0, y_sn - h * q, I_sn)) / h**2
    a, b = 0.5 * pv @ Bqq, pv @ np.array([1 / 20.0, 0.0])
    dIs = np.array([0.04, 0.01])
    Ts = [period(CLASS1, I_sn + d, y_sn + [5.0, 0.0], 6000.0, 1000.0) for d in dIs]
    assert all(T is not None for T in Ts)
    coef = np.linalg.solve(np.stack([dIs**-0.5, np.ones(2)], 1), np.asarray(Ts, float))
    assert coef[0] == pytest.approx(np.pi / np.sqrt(a * b), rel=0.01)
    # below the fold the same start settles at rest
    assert period(CLASS1, I_sn - 0.05, y_sn + [5.0, 0.0], 3000.0, 1000.0) is None


@pytest.mark.slow
def test_class2_subcritical_hopf_and_fold_of_cycles():
    m = MorrisLecar.class2()
    br = continuation(m, "I", 0.0, 150.0)
    (h,) = br.hopf_points

    # truth 1: the trace of the NumPy Jacobian vanishes on the equilibrium curve (brentq)
    def trace(I):
        V = root(lambda v: i_inf(CLASS2, v) - I, -80.0, 60.0)
        y = np.array([V, 0.5 * (1 + np.tanh((V - 2.0) / 30.0))])
        return np.trace(jac(CLASS2, y, I))

    I_h = root(trace, 80.0, 110.0, xtol=1e-10)
    assert h.param == pytest.approx(I_h, abs=1e-6)  # central differences: 1e-8 in the trace
    assert h.l1 is not None and h.l1 > 0 and h.criticality == "subcritical"
    # truth 2: published (Ermentrout & Terman 2010, ch. 3): Hopf 93.86, fold of cycles 88.29
    assert h.param == pytest.approx(93.86, abs=0.005)
    cb = continue_cycles_collocation(m, h, bounds=(0.0, 150.0), max_steps=120, ds=1.0,
                                     ds_max=10.0)  # fmt: skip
    lpc = [sp for sp in cb.special_points if sp.kind == "LPC"]
    assert len(lpc) == 1
    I_lpc = lpc[0].param
    assert I_lpc == pytest.approx(88.29, abs=0.005)
    # truth 3: scipy simulations from a point of the large cycle: it persists above the fold
    # of cycles and decays to rest below it (0.3 on either side)
    y_big = np.array([lpc[0].state["V"], lpc[0].state["w"]])  # on the cycle at the fold
    assert period(CLASS2, I_lpc + 0.3, y_big, 4000.0, 2000.0) is not None
    assert period(CLASS2, I_lpc - 0.3, y_big, 8000.0, 6000.0) is None
