"""Fuzz suite, part 3: networks (populations, sources, projections, inputs, `run`), result and
state files (empty, truncated, corrupted, pickled, foreign), analysis and fitting entry points
and the command line, driven with bad and edge inputs.

Each case raises an error naming the parameter (or the file) and what is wrong, or gives a
correct result; never a bare NumPy/JAX error, a silent NaN, a hang or an allocation that
takes the machine down.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax as sj
from spikejax import network as N
from spikejax.models import LIF, FitzHughNagumo, HodgkinHuxley

KEY = jax.random.key(0)


def _pop(**kw):
    return N.Population(LIF(), 4, name="E", **kw)


E = _pop()


def _net_with(projection):
    return N.Network([E], [projection])


# ----- network building -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "build, fragments",
    [
        (lambda: N.Population(LIF(), 0, name="E"), ["population size n", "0"]),
        (lambda: N.Population(LIF(), 2.5, name="E"), ["population size n", "2.5"]),
        (lambda: N.Population(LIF(), "4", name="E"), ["population size n", "'4'"]),
        (lambda: N.Population(LIF(), 4, name=""), ["population name", "''"]),
        (lambda: N.Population(LIF(), 4, name="a/b"), ["population name", "'a/b'"]),
        (lambda: N.Population("LIF", 4, name="E"), ["Population.model", "str"]),
        (lambda: _pop(I=np.nan), ["Population 'E'", "nan"]),
        (lambda: _pop(I="x"), ["Population 'E'", "I must be"]),
        (lambda: _pop(I=np.ones(3)), ["Population 'E'", "(3,)", "(4,)"]),
        (lambda: _pop(initial={"V": np.nan}), ["initial['V']", "nan"]),
        (lambda: _pop(initial={"W": 1.0}), ["unknown state variable", "'W'"]),
        (lambda: _pop(initial={"V": "a"}), ["initial['V']", "'a'"]),
        (lambda: _pop(initial={"V": np.zeros(3)}), ["initial['V']", "(3,)"]),
        (lambda: _pop(method="foo"), ["method", "'foo'"]),
        (lambda: _pop(sign=2), ["sign", "2"]),
        (lambda: N.PoissonPopulation(4, -1.0, name="P"), ["rate", "-1.0", ">= 0"]),
        (lambda: N.PoissonPopulation(4, np.nan, name="P"), ["rate", "nan"]),
        (lambda: N.PoissonPopulation(4, np.ones(3), name="P"), ["rate", "(3,)"]),
        (lambda: N.SpikeSource(3, [0.5], [1.0], name="S"), ["indices must be integers"]),
        (lambda: N.SpikeSource(3, [3], [1.0], name="S"), ["indices", "[0, 3)"]),
        (lambda: N.SpikeSource(3, [-1], [1.0], name="S"), ["indices", "[0, 3)"]),
        (lambda: N.SpikeSource(3, [0], [np.nan], name="S"), ["times", "nan at index 0"]),
        (lambda: N.SpikeSource(3, [0], ["a"], name="S"), ["times", "'a'"]),
        (lambda: N.SpikeSource(3, [0, 1], [1.0], name="S"), ["same length", "(2,)", "(1,)"]),
        (lambda: N.SpikeSource(3, [0], [1.0], name="S", dt=0), ["SpikeSource.dt", "0"]),
        (
            lambda: N.Network([N.SpikeSource(3, [0], [1.0], name="S", dt=0.5), E], dt=0.1),
            ["dt=0.5", "dt=0.1"],
        ),
        (lambda: N.Network([N.SpikeSource(3, [0], [0.0], name="S"), E]), ["times must be >= dt"]),
        (lambda: N.FixedProbability(1.5), ["FixedProbability.p", "1.5", "[0, 1]"]),
        (lambda: N.FixedProbability(np.nan), ["FixedProbability.p", "nan"]),
        (lambda: N.FixedInDegree(-1), ["FixedInDegree.k", "-1"]),
        (lambda: N.FixedInDegree("a"), ["FixedInDegree.k", "'a'"]),
        (lambda: N.FixedInDegree(np.nan), ["FixedInDegree.k", "nan"]),
        (lambda: N.FixedOutDegree(2.5), ["FixedOutDegree.k", "2.5"]),
        (lambda: N.Explicit([0, 1], [1]), ["Explicit", "(2,)", "(1,)"]),
        (
            lambda: _net_with(N.Projection(E, E, N.FixedInDegree(10), weight=1.0)),
            ["FixedInDegree.k", "10", "<= 4"],
        ),
        (
            lambda: _net_with(N.Projection(E, E, N.Explicit([0.5], [1]), weight=1.0)),
            ["Explicit", "integers", "float64"],
        ),
        (
            lambda: _net_with(N.Projection(E, E, N.Explicit([0], [9]), weight=1.0)),
            ["Explicit", "out of range", "[0, 4)"],
        ),
        (
            lambda: _net_with(N.Projection(E, E, N.OneToOne(), weight=np.nan)),
            ["Projection weight", "nan"],
        ),
        (
            lambda: _net_with(N.Projection(E, E, N.OneToOne(), weight="a")),
            ["Projection weight", "'a'"],
        ),
        (
            lambda: _net_with(N.Projection(E, E, N.OneToOne(), weight=1.0, delay=-1.0)),
            ["delay", ">= 0"],
        ),
        (
            lambda: _net_with(N.Projection(E, E, N.OneToOne(), weight=1.0, delay=np.nan)),
            ["Projection delay", "nan"],
        ),
        (
            lambda: _net_with(N.Projection(E, E, N.OneToOne(), weight=1.0, delay=1e12)),
            ["delay buffer", "GiB", "E->E", "ms"],
        ),
        (
            lambda: _net_with(N.Projection(E, E, N.FixedProbability(0.5), weight=1.0, key=0)),
            ["Projection key", "jax.random.key", "got 0"],
        ),
        (lambda: N.Projection(E, E, "all", weight=1.0), ["connectivity", "str"]),
        (lambda: N.Exponential(tau=0.0), ["Exponential.tau", "0.0", "> 0"]),
        (lambda: N.PoissonInput("E", -1, 10.0, 1.0), ["n_sources", "-1"]),
        (lambda: N.PoissonInput("E", 2.5, 10.0, 1.0), ["n_sources", "2.5"]),
        (lambda: N.PoissonInput("E", 10, -1.0, 1.0), ["PoissonInput.rate", "-1.0"]),
        (lambda: N.PoissonInput("E", 10, 10.0, np.nan), ["PoissonInput.weight", "nan"]),
        (
            lambda: N.Network([E], inputs=[N.PoissonInput("X", 10, 10.0, 1.0)]),
            ["target 'X'"],
        ),
        (
            lambda: N.Network([E], inputs=[N.PoissonInput("E", 10, 2e4, 1.0)]),
            ["rate * dt", "< 1", "2.0"],
        ),
        (lambda: N.Network([E], dt=0), ["Network.dt", "0", "> 0"]),
        (lambda: N.Network([E], dt=np.nan), ["Network.dt", "nan"]),
        (lambda: N.Network([E], dtype=jnp.int32), ["Network.dtype", "int32"]),
        (lambda: N.Network([E], dtype=jnp.bfloat16), ["Network.dtype", "bfloat16"]),
        (lambda: N.Network([E], dtype="float16"), ["Network.dtype", "float16"]),
        (lambda: N.Network([E, _pop()]), ["duplicate population name 'E'"]),
        (lambda: N.Network(E), ["Network.populations", "list"]),
        (
            lambda: N.Network([N.Population(LIF(), 10**12, name="Big")]),
            ["neuron states", "GiB", "'Big': 1000000000000"],
        ),
    ],
)
def test_network_building_bad_inputs(build, fragments):
    with pytest.raises((ValueError, TypeError)) as e:
        build()
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


# ----- run ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def net():
    return N.Network([N.Population(LIF(), 4, name="E", I=20.0)], dt=0.1)


@pytest.mark.parametrize(
    "kw, fragments",
    [
        (dict(duration=-1.0), ["duration", "-1.0", "> 0"]),
        (dict(duration=np.nan), ["duration", "nan"]),
        (dict(duration=np.inf), ["duration", "inf"]),
        (dict(duration="5"), ["duration", "'5'"]),
        (dict(duration=0.01), ["shorter than half a step"]),
        (dict(), ["exactly one of duration"]),
        (dict(duration=1.0, n_steps=10), ["exactly one of duration"]),
        (dict(n_steps=0), ["n_steps", "0", ">= 1"]),
        (dict(n_steps=2.5), ["n_steps", "2.5"]),
        (dict(n_steps=float("inf")), ["n_steps", "inf"]),
        (dict(duration=1.0, key=0), ["key", "jax.random.key", "got 0"]),
        (dict(duration=1.0, key=None), ["PRNG key"]),
        (dict(duration=1.0, chunk_steps=0), ["chunk_steps", "0"]),
        (dict(duration=1e15), ["int32", "n_steps=10000000000000000"]),
        (dict(n_steps=2**31), ["int32", "2147483647"]),
        (dict(duration=1.0, state={"x": 1}), ["does not belong to this network", "'x'"]),
        (dict(duration=1.0, state="x"), ["does not belong", "dict", "str"]),
        (dict(duration=1.0, monitors=[N.StateMonitor("E", "W")]), ["W"]),
        (dict(duration=1.0, monitors=[N.SpikeMonitor("X")]), ["X"]),
        (
            dict(duration=1.0, monitors=[N.StateMonitor("E", "V", indices=[7])]),
            ["indices", "[0, 4)"],
        ),
    ],
)
def test_run_bad_inputs(net, kw, fragments):
    kw = {"key": KEY, **kw}
    with pytest.raises(ValueError) as e:
        N.run(net, **kw)
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_run_state_of_another_network_is_named(net):
    other = N.Network([N.Population(LIF(), 5, name="E")], dt=0.1).init_state(key=KEY)
    with pytest.raises(ValueError, match="does not belong to this network"):
        N.run(net, 1.0, state=other)


def test_monitor_bad_options():
    with pytest.raises(ValueError, match=r"StateMonitor.every must be an integer >= 1, got 0"):
        N.StateMonitor("E", "V", every=0)


def test_run_spike_counts_match_closed_form(net):
    # 4 identical LIF cells at I = 20 mV (R = 1) from rest (-65 mV; threshold -50 mV,
    # V_inf = -45 mV): the threshold is reached tau ln(20 / 5) = 27.73 ms after each reset,
    # exactly so with exponential Euler (exact for constant input). On the 0.1 ms grid a
    # spike is stamped at the end of its step (27.8 ms); the cell then stays refractory for
    # t_ref = 20 steps and crosses again 278 steps later: spikes at 27.8 + 29.8 k ms.
    res = N.run(net, 100.0, key=KEY, monitors=[N.SpikeMonitor("E")])
    i, t = res.spikes["E"]
    dt = 0.1
    first = dt * np.ceil(20.0 * np.log(4.0) / dt)
    isi = 2.0 + dt * np.ceil(20.0 * np.log(4.0) / dt)
    expected = first + isi * np.arange(int((100.0 - first) // isi) + 1)
    assert len(t) == 4 * len(expected)
    for cell in range(4):
        np.testing.assert_allclose(np.sort(t[i == cell]), expected, atol=1e-9)


# ----- result and state files ------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory, net):
    d = tmp_path_factory.mktemp("io")
    res = N.run(net, 1.0, key=KEY, monitors=[N.SpikeMonitor("E")])
    N.save_result(d / "r.npz", res)
    N.save_state(d / "s.npz", res.state)
    return d, res


def _write(d, name, data: bytes):
    p = d / name
    p.write_bytes(data)
    return p


_MARKER = "spikejax_fuzz_pickle_executed"


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {_MARKER}",))


@pytest.mark.parametrize("loader", ["load_result", "load_state"])
@pytest.mark.parametrize(
    "make, fragments",
    [
        (lambda d, raw: _write(d, "empty.npz", b""), ["empty", "0 bytes"]),
        (lambda d, raw: _write(d, "half.npz", raw[: len(raw) // 2]), ["truncated or corrupted"]),
        (
            lambda d, raw: _write(
                d, "flip.npz", raw[:100] + bytes(b ^ 0xFF for b in raw[100:400]) + raw[400:]
            ),
            ["flip.npz"],
        ),
        (lambda d, raw: _write(d, "text.npz", b"hello world"), ["text.npz", "not a readable"]),
        (lambda d, raw: _write(d, "pickle.npz", pickle.dumps(_Exploit())), ["pickle.npz"]),
        (lambda d, raw: d / "missing.npz", ["missing.npz", "no such"]),
        (lambda d, raw: d, [str(os.sep)]),
    ],
    ids=["empty", "truncated", "corrupted", "text", "pickle", "missing", "directory"],
)
def test_loading_bad_files_is_named(files, loader, make, fragments, tmp_path, monkeypatch):
    d, _ = files
    monkeypatch.chdir(tmp_path)
    raw = (d / "r.npz").read_bytes()
    path = make(tmp_path, raw)
    with pytest.raises((ValueError, OSError)) as e:
        getattr(N, loader)(path)
    msg = str(e.value)
    assert str(path.name) in msg or str(path) in msg, msg
    for frag in fragments:
        assert frag in msg, (frag, msg)
    assert not (tmp_path / _MARKER).exists()  # the pickle never ran


@pytest.mark.parametrize(
    "meta, loader, fragments",
    [
        (None, "load_state", ["__meta__"]),
        ("{not json", "load_state", ["metadata"]),
        (json.dumps({"format": "other"}), "load_state", ["not a spikejax network state"]),
        (json.dumps({"format": "spikejax.network.state", "version": 99}), "load_state",
         ["version", "99"]),
        (json.dumps({"format": "spikejax.network.result", "version": 1, "spikes": ["E"]}),
         "load_result", ["incomplete", "metadata"]),
    ],
)  # fmt: skip
def test_loading_foreign_archives_is_named(tmp_path, meta, loader, fragments):
    path = tmp_path / "f.npz"
    if meta is None:
        np.savez(path, a=np.zeros(3))
    else:
        np.savez(path, __meta__=np.asarray(meta))
    with pytest.raises(ValueError) as e:
        getattr(N, loader)(path)
    msg = str(e.value)
    assert "f.npz" in msg, msg
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_object_arrays_in_an_archive_are_refused(tmp_path):
    path = tmp_path / "obj.npz"
    meta = json.dumps({"format": "spikejax.network.state", "version": 1})
    np.savez(path, __meta__=np.asarray(meta), **{"state/x": np.array([_Exploit()], dtype=object)})
    monkey_cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(ValueError) as e:
            N.load_state(path)
    finally:
        os.chdir(monkey_cwd)
    assert "obj.npz" in str(e.value)
    assert not (tmp_path / _MARKER).exists()


def test_state_file_round_trip_is_exact(files, net):
    d, res = files
    state = N.load_state(d / "s.npz")
    a = N.run(net, 1.0, state=state, monitors=[N.SpikeMonitor("E")])
    b = N.run(net, 1.0, state=res.state, monitors=[N.SpikeMonitor("E")])
    for x, y in zip(a.spikes["E"], b.spikes["E"]):
        np.testing.assert_array_equal(x, y)


# ----- analysis ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: sj.analysis.fixed_points(FitzHughNagumo(), I=np.nan), ["I must be a finite"]),
        (lambda: sj.analysis.fixed_points(FitzHughNagumo(), I="x"), ["I"]),
        (lambda: sj.analysis.fixed_points("FHN"), ["model"]),
        (lambda: sj.analysis.fixed_points(FitzHughNagumo(), n_grid=1), ["n_grid", "1"]),
        (lambda: sj.analysis.fixed_points(FitzHughNagumo(), V_range=(1.0, -1.0)), ["V_range"]),
        (lambda: sj.analysis.fixed_points(FitzHughNagumo(), V_range=(np.nan, 1.0)), ["V_range"]),
        (lambda: sj.analysis.vector_field_grid(FitzHughNagumo(), n=1), ["n", "1"]),
        (lambda: sj.analysis.vector_field_grid(FitzHughNagumo(), xlim=(1.0, 1.0)), ["xlim"]),
        (lambda: sj.analysis.vector_field_grid(HodgkinHuxley()), ["planar", "2"]),
        (lambda: sj.analysis.nullclines(FitzHughNagumo(), I=np.inf), ["I", "inf"]),
        (lambda: sj.analysis.trajectory(FitzHughNagumo(), {"V": 0.0, "w": 0.0}, t1=-1.0), ["t1"]),
        (lambda: sj.analysis.trajectory(FitzHughNagumo(), {"V": np.nan, "w": 0.0}, t1=1.0),
         ["nan"]),
        (lambda: sj.analysis.fi_curve(LIF(), [10.0, 20.0], duration=-1.0, dt=0.1), ["duration"]),
        (lambda: sj.analysis.fi_curve(LIF(), [10.0, np.nan], duration=10.0, dt=0.1),
         ["currents", "nan"]),
        (lambda: sj.analysis.fi_curve(LIF(), [10.0], duration=10.0, dt=0.1, direction="left"),
         ["direction", "'left'"]),
        (lambda: sj.analysis.excitability(LIF(), I_max=-1.0), ["I_max"]),
        (lambda: sj.analysis.excitability(LIF(), I_max=20.0, n_currents=1), ["n_currents"]),
    ],
)  # fmt: skip
def test_analysis_bad_inputs(call, fragments):
    with pytest.raises((ValueError, TypeError)) as e:
        call()
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_fixed_points_edge_case_against_closed_form():
    # FitzHugh-Nagumo at I = 0 with a = 0.7, b = 0.8: one equilibrium, the real root of
    # v - v^3/3 - (v + a)/b = 0 (numpy's polynomial roots as the independent truth).
    fps = sj.analysis.fixed_points(FitzHughNagumo(), I=0.0)
    roots = np.roots([-1 / 3, 0.0, 1 - 1 / 0.8, -0.7 / 0.8])
    real = roots[np.abs(roots.imag) < 1e-12].real
    assert len(fps) == len(real) == 1
    assert float(fps[0].state["V"]) == pytest.approx(real[0], abs=1e-9)


def test_float64_analysis_refuses_float32_with_the_x64_message():
    # One subprocess: JAX in its default float32, as a user's fresh program is.
    code = textwrap.dedent(
        """
        import spikejax as sj
        from spikejax.models import FitzHughNagumo
        try:
            sj.analysis.fixed_points(FitzHughNagumo())
        except ValueError as e:
            print("ERR", e)
        """
    )
    env = {**os.environ, "JAX_ENABLE_X64": "0", "JAX_PLATFORMS": "cpu"}
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert out.returncode == 0, out.stderr
    assert "ERR" in out.stdout and "jax_enable_x64" in out.stdout, out.stdout


# ----- fitting -----------------------------------------------------------------------------------
def _loss(model):
    return (model.tau_m - 10.0) ** 2


@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: sj.fit.fit(LIF(), _loss, params=("tau_m",), steps=0), ["steps", "0"]),
        (lambda: sj.fit.fit(LIF(), _loss, params=("nope",), steps=1), ["nope"]),
        (lambda: sj.fit.fit(LIF(), _loss, params=("tau_m",), bounds={"tau_m": (30.0, 10.0)},
                            steps=1), ["tau_m", "30.0", "10.0"]),
        (lambda: sj.fit.fit(LIF(), _loss, params=("tau_m",), bounds={"tau_m": (1.0, 5.0)},
                            steps=1), ["tau_m", "20.0"]),
        (lambda: sj.fit.fit(LIF(), _loss, params=("tau_m",), positive_transform="exp", steps=1),
         ["positive_transform", "'exp'"]),
        (lambda: sj.fit.solve_fixed(LIF(), LIF().resting_state(), dt=0.0, n_steps=10), ["dt"]),
        (lambda: sj.fit.solve_fixed(LIF(), LIF().resting_state(), dt=0.1, n_steps=-1),
         ["n_steps", "-1"]),
        (lambda: sj.fit.solve_fixed(LIF(), LIF().resting_state(), dt=0.1, n_steps=2.5),
         ["n_steps", "2.5"]),
        (lambda: sj.fit.solve_fixed(LIF(), {"V": 0.0}, dt=0.1, n_steps=10), ["y0", "refractory"]),
        (lambda: sj.fit.solve_fixed(LIF(), LIF().resting_state(), I=np.nan, dt=0.1, n_steps=10),
         ["I", "nan"]),
        (lambda: sj.fit.solve_fixed(LIF(), LIF().resting_state(), dt=0.1, n_steps=10,
                                    method="foo"), ["method", "'foo'"]),
        (lambda: sj.fit.trace_mse(jnp.zeros(3), jnp.zeros(4)), ["(3,)", "(4,)"]),
    ],
)  # fmt: skip
def test_fit_bad_inputs(call, fragments):
    with pytest.raises((ValueError, TypeError)) as e:
        call()
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_solve_fixed_matches_the_closed_form():
    # Subthreshold LIF under a constant 10 mV: V(t) = E_L + I (1 - exp(-t / tau)).
    sol = sj.fit.solve_fixed(LIF(), LIF().resting_state(), 10.0, dt=0.1, n_steps=50)
    V = np.asarray(sol.ys["V"])
    t = 0.1 * np.arange(1, 51)
    np.testing.assert_allclose(V[-50:], -65.0 + 10.0 * (1 - np.exp(-t / 20.0)), atol=1e-6)


# ----- command line ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, option",
    [
        (["--duration", "abc"], "--duration"),
        (["--duration", ""], "--duration"),
        (["--duration", "1e400"], "--duration"),
        (["--n", "-5"], "--n"),
        (["--n", "1e30"], "--n"),
        (["--seed", "1.5"], "--seed"),
        (["cell", "--dt", "nan"], "--dt"),
        (["cell", "--duration", "-inf"], "--duration"),
        (["cell", "--model", "lif"], "--model"),
        (["cell", "--method", "rk5"], "--method"),
        (["--network", "nope"], "--network"),
    ],
)
def test_cli_bad_values_are_one_line_usage_errors(argv, option, capsys):
    from spikejax.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    assert f"argument {option}:" in err[-1], err


def test_solve_fixed_checks_dt_under_jit():
    # Traced dt: the check is compiled in (eqx.error_if) and raises when the program runs.
    y0 = LIF().resting_state()

    @jax.jit
    def final_v(dt):
        return sj.fit.solve_fixed(LIF(), y0, 10.0, dt=dt, n_steps=5).ys["V"][-1]

    assert float(final_v(0.1)) == pytest.approx(-65.0 + 10.0 * (1 - np.exp(-0.5 / 20.0)), abs=1e-6)
    with pytest.raises(Exception, match=r"dt must be finite and > 0 ms"):
        final_v(-0.1).block_until_ready()


# ----- continuation ------------------------------------------------------------------------------
FHN = FitzHughNagumo()


@pytest.fixture(scope="module")
def hopf():
    branch = sj.analysis.continuation(FHN, "I", 0.0, 1.5)
    points = [p for p in branch.special_points if p.kind.value == "H"]
    # Independent truth: FHN's Hopf points where the trace 1 - v^2 - eps b vanishes,
    # v = -sqrt(1 - eps b), I = (v + a)/b - v + v^3/3 (a = 0.7, b = 0.8, eps = 0.08).
    v = -np.sqrt(1 - 0.08 * 0.8)
    assert points[0].param == pytest.approx((v + 0.7) / 0.8 - v + v**3 / 3, abs=1e-8)
    return points[0]


@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda h: sj.analysis.continuation(FHN, "zz", 0.0, 1.0), ["'zz'", "'I'", "'eps'"]),
        (lambda h: sj.analysis.continuation(FHN, "I", "a", 1.0), ["start", "'a'"]),
        (lambda h: sj.analysis.continuation(FHN, "I", np.nan, 1.0), ["start", "nan"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, np.inf), ["stop", "inf"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, 0.0), ["start and stop", "0.0"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, 1.0, bounds=(1.0, -1.0)),
         ["bounds", "(1.0, -1.0)"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 5.0, 6.0, bounds=(-1.0, 1.0)),
         ["bounds", "[start, stop]"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, 1.0, ds=0.0), ["ds", "0.0"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, 1.0, ds_min=1.0, ds_max=0.1),
         ["ds_min <= ds <= ds_max"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, 1.0, max_steps=1.5),
         ["max_steps", "1.5"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, 1.0, tol=-1.0), ["tol", "-1.0"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, 1.0, y0={"V": np.nan, "w": 0.0}),
         ["y0", "nan at index 0"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, 1.0, y0={"Q": 0.0}), ["'Q'"]),
        (lambda h: sj.analysis.continuation(FHN, "I", 0.0, 1.0, y0={"V": 1e6, "w": 1e6}),
         ["no equilibrium found near y0"]),
        (lambda h: sj.analysis.continuation(FitzHughNagumo(a=np.array([0.7, 0.8])), "I", 0.0,
                                            1.0), ["single cell", "(2,)"]),
        (lambda h: sj.analysis.bifurcation_curve(FHN, h, "zz", 1.0), ["param2='zz'"]),
        (lambda h: sj.analysis.bifurcation_curve(FHN, h, "I", 1.0), ["param2", "'I'"]),
        (lambda h: sj.analysis.bifurcation_curve(FHN, h, "a", np.nan), ["stop2", "nan"]),
        (lambda h: sj.analysis.bifurcation_curve(FHN, h, "a", 1.0, bounds2=(1.0, 0.0)),
         ["bounds2", "0.7"]),
        (lambda h: sj.analysis.bifurcation_curve(FHN, "H", "a", 1.0), ["SpecialPoint"]),
        (lambda h: sj.analysis.continue_cycles(FHN, h, bounds=(2.0, 0.0)),
         ["bounds", "(2.0, 0.0)"]),
        (lambda h: sj.analysis.continue_cycles(FHN, h, bounds=(np.nan, 2.0)), ["bounds", "nan"]),
        (lambda h: sj.analysis.continue_cycles(FHN, h, bounds=(0.0, 2.0), ds=-1.0),
         ["ds", "-1.0"]),
        (lambda h: sj.analysis.continue_cycles(FHN, h, bounds=(0.0, 2.0), direction=0),
         ["direction", "0"]),
        (lambda h: sj.analysis.continue_cycles(FHN, h, bounds=(0.0, 2.0), max_period=-1.0),
         ["max_period", "-1.0"]),
        (lambda h: sj.analysis.continue_cycles(FHN, "H", bounds=(0.0, 2.0)),
         ["LimitCycle or a Hopf SpecialPoint"]),
        (lambda h: sj.analysis.continue_cycles(FHN, h, bounds=(5.0, 6.0)),
         ["start's I", "outside bounds=(5.0, 6.0)"]),
    ],
)  # fmt: skip
def test_continuation_bad_starts_and_bounds(hopf, call, fragments):
    with pytest.raises((ValueError, TypeError)) as e:
        call(hopf)
    msg = str(e.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)
