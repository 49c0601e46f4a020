"""The precision policy of the analysis: functions whose results need float64 refuse float32
with a message naming `jax_enable_x64`; the drawing and simulation tools work in float32.

Each check runs as a new interpreter with JAX's default settings (float32) would, as a user's
script does (the test session itself runs in float64; the `fresh_python` fixture)."""

import textwrap

import pytest


def test_float64_analysis_refuses_float32_naming_the_switch(fresh_python, tmp_path):
    code = """
        import jax
        assert not jax.config.read("jax_enable_x64")
        import spikejax as sj
        from spikejax import analysis, fit

        fhn, iz = sj.models.FitzHughNagumo(), sj.models.Izhikevich()
        calls = {
            "analysis.fixed_points": lambda: analysis.fixed_points(fhn, 0.0),
            "analysis.phase_line": lambda: analysis.phase_line(sj.models.INaP(), 0.0),
            "analysis.separatrix": lambda: analysis.separatrix(iz, {"V": -60.0, "u": -12.0}, 4.0),
            "analysis.excitability": lambda: analysis.excitability(iz, I_min=0.0, I_max=10.0),
            "analysis.classify_variants": lambda: analysis.classify_variants(iz, [0.0, 1.0]),
            "fit.saddle_node_current": lambda: fit.saddle_node_current(iz, I_guess=3.0),
            "fit.hopf_current": lambda: fit.hopf_current(sj.models.HodgkinHuxley(), I_guess=9.0),
        }
        for name, call in calls.items():
            try:
                call()
            except ValueError as e:
                msg = str(e)
                assert "spikejax." + name in msg, (name, msg)
                assert "jax.config.update('jax_enable_x64', True)" in msg, (name, msg)
            else:
                raise AssertionError(name + " ran in float32")
        print("ok", len(calls))
    """
    status, out = fresh_python.run(textwrap.dedent(code), tmp_path, 600)
    assert status == 0, out[-3000:]
    assert "ok 7" in out


@pytest.mark.slow  # > 20 s on a 2-core machine; run with -m slow
def test_float32_safe_analysis_works_in_float32(fresh_python, tmp_path):
    # FitzHugh-Nagumo (a = 0.7, b = 0.8, I = 0): the v-nullcline is w = v - v^3/3 + I (a
    # cubic, exact), the w-nullcline w = (v + a)/b; the Jacobian at any state is
    # [[1 - v^2, -1], [eps, -eps b]] (closed forms). A LIF driven above threshold fires at
    # 1 / (t_ref + tau ln((RI) / (RI - (V_th - E_L)))) (closed form).
    code = """
        import math
        import jax, jax.numpy as jnp, numpy as np
        assert not jax.config.read("jax_enable_x64")
        import spikejax as sj
        from spikejax import analysis

        m = sj.models.FitzHughNagumo()
        a, b, eps = float(m.a), float(m.b), float(m.eps)
        J = analysis.jacobian(m, {"V": 0.5, "w": 0.1}, 0.0)
        assert J.dtype == jnp.float32
        np.testing.assert_allclose(J, [[1 - 0.25, -1.0], [eps, -eps * b]], rtol=1e-6)

        nc = analysis.nullclines(m, 0.0, (-2.5, 2.5), (-1.0, 2.0), n=201)
        for p in nc["V"]:
            np.testing.assert_allclose(p[:, 1], p[:, 0] - p[:, 0] ** 3 / 3, atol=1e-5)
        for p in nc["w"]:
            np.testing.assert_allclose(p[:, 1], (p[:, 0] + a) / b, atol=1e-5)

        g = analysis.vector_field_grid(m, 0.0, (-2.0, 2.0), (-1.0, 1.0), n=5)
        tr = analysis.trajectory(m, {"V": -1.0, "w": 0.0}, 0.0, t1=10.0)

        # The reduction to the voltage: for HH, g(V) = (I - I_inf(V)) / C (closed form in the
        # gates' steady states), and the slaved gates are m_inf, h_inf, n_inf.
        hh = sj.models.HodgkinHuxley()
        V = jnp.linspace(-80.0, -40.0, 9)
        g = analysis.reduced_rhs(hh, V, 2.0)
        assert g.dtype == jnp.float32
        np.testing.assert_allclose(g, 2.0 - hh.steady_state_current(V), rtol=1e-4, atol=1e-4)
        x = analysis.state_at_voltage(hh, V, 2.0)
        gates = hh.steady_state_gates(V)
        for i, name in enumerate(hh.state_names[1:], start=1):
            np.testing.assert_allclose(x[i], gates[name], atol=1e-6)

        lif = sj.models.LIF()
        I = 20.0
        fi = analysis.fi_curve(lif, [I], duration=500.0, dt=0.01)
        rate = 1000.0 / (2.0 + 20.0 * math.log(I / (I - 15.0)))
        assert abs(float(fi.rate_up[0]) - rate) < 0.01 * rate, (fi.rate_up, rate)
        print("ok")
    """
    status, out = fresh_python.run(textwrap.dedent(code), tmp_path, 600)
    assert status == 0, out[-3000:]
    assert "ok" in out
