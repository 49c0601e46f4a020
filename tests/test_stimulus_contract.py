"""One stimulus contract: every stimulus type reaches the model identically in every engine.

Each engine in `ENGINES` drives a passive LIF membrane (threshold out of reach, so the
membrane is linear: $\\tau \\dot V = -(V - E_L) + R I$) with a stimulus and returns the
membrane potential after each step. The truth is an independent numpy integration: the
current of step $k$ is computed here from the stimulus' definition at $t_k = t_0 + k\\,dt$
(held over the step), and the membrane is advanced by its exact solution for a constant
current, $V \\leftarrow V_\\infty + (V - V_\\infty) e^{-dt/\\tau}$, $V_\\infty = E_L + R I_k$.
For noise the same standard normal numbers are drawn here with `jax.random` from the
documented keys (step $k$: `fold_in(key, round(t0/dt) + k)`; the OU initial state:
`fold_in(key, 2**31 - 1)`; term $i$ of a `Sum`: a further `fold_in(., i)`), and the white
or Ornstein-Uhlenbeck update is written out in numpy.

The engines: `simulate`, `fit.solve_fixed` and a network population driven by
`I=<Stimulus>` (which samples from `fold_in(key, 2**21 + j)` for population `j`). A new
engine is one more entry in `ENGINES`: a function `(model, I, dt, n_steps, key, t0) -> V` of
shape `(n_steps, *pop)`.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax as sj
from spikejax import fit as F
from spikejax.models import LIF
from spikejax.stimulus import (
    Constant,
    Function,
    Noise,
    PulseTrain,
    Sampled,
    Step,
)

TAU, E_L, R = 20.0, -65.0, 1.0
MODEL = LIF(tau_m=TAU, E_L=E_L, R=R, V_th=1e6, t_ref=0.0)  # a linear membrane
DT, N = 0.1, 400  # 40 ms
INIT = 0x7FFFFFFF


# ----- engines --------------------------------------------------------------------------------


def _simulate(model, I, dt, n_steps, key, t0=0.0):
    res = sj.simulate(model, duration=n_steps * dt, dt=dt, I=I, key=key, t0=t0,
                      method="exponential_euler", record="V")  # fmt: skip
    return np.asarray(res.V[1:], float)


def _solve_fixed(model, I, dt, n_steps, key, t0=0.0):
    shape = np.broadcast_shapes(model.shape, sj.stimulus.as_stimulus(I).shape())
    y0 = {k: jnp.broadcast_to(v, shape) for k, v in model.resting_state().items()}
    sol = F.solve_fixed(model, y0, I, dt=dt, n_steps=n_steps, t0=t0, key=key,
                        method="exponential_euler")  # fmt: skip
    return np.asarray(sol.ys["V"], float)


def _network(model, I, dt, n_steps, key, t0=0.0):
    from test_network_stimulus import network_engine

    shape = np.broadcast_shapes(model.shape, sj.stimulus.as_stimulus(I).shape())
    V = network_engine(model, I, dt, n_steps, key, t0)  # (n_steps, n): a population of n >= 1
    return V.reshape(n_steps, *shape)


ENGINES = {"simulate": _simulate, "fit.solve_fixed": _solve_fixed, "network": _network}


def _stimulus_key(engine, key):
    """The key an engine samples its stimulus from when run with `key`: `simulate` and
    `solve_fixed` use it as it is; population `j` of a network uses `fold_in(key, 2**21 + j)`
    (so that populations draw independently)."""
    return jax.random.fold_in(key, 2**21) if engine == "network" else key


# ----- the independent truth ------------------------------------------------------------------


def _membrane(I_k, dt):
    """Exact passive membrane under the held currents `I_k` (n_steps, *shape), from rest."""
    a = np.exp(-dt / TAU)
    V = np.full(I_k.shape[1:], E_L)
    out = []
    for Ik in I_k:
        V_inf = E_L + R * Ik
        V = V_inf + (V - V_inf) * a
        out.append(V)
    return np.array(out)


def _times(t0, dt, n, dtype):
    # The engines compute t_k = t0 + k dt in the state's dtype.
    d = np.dtype(dtype)
    return (d.type(t0) + np.arange(n).astype(d) * d.type(dt)).astype(float)


def _normals(key, ks, shape, dtype, fold=None):
    """The standard normals of steps `ks` (optionally of `Sum` term `fold`)."""

    def one(k):
        kk = jax.random.fold_in(key, k)
        if fold is not None:
            kk = jax.random.fold_in(kk, fold)
        return jax.random.normal(kk, shape, dtype)

    return np.asarray(jax.vmap(one)(jnp.asarray(ks, jnp.int32)), float)


def _white(key, k0, n, shape, dtype, mean, sigma, dt, fold=None):
    xi = _normals(key, k0 + np.arange(n), shape, dtype, fold)
    return mean + sigma * xi / np.sqrt(dt)


def _ou(key, k0, n, shape, dtype, mean, sigma, tau, dt, fold=None):
    kinit = jax.random.fold_in(key, INIT)
    if fold is not None:
        kinit = jax.random.fold_in(kinit, fold)
    x = mean + sigma * np.asarray(jax.random.normal(kinit, shape, dtype), float)
    xi = _normals(key, k0 + np.arange(n), shape, dtype, fold)
    decay, spread = np.exp(-dt / tau), sigma * np.sqrt(-np.expm1(-2 * dt / tau))
    out = []
    for k in range(n):
        out.append(x)
        x = mean + (x - mean) * decay + spread * xi[k]
    return np.array(out)


VALUES = np.random.default_rng(0).uniform(-5.0, 25.0, size=N)
PULSES = np.array([3.03, 11.53, 25.07])

# name -> (stimulus, current(t, key, k0, dtype) -> (n_steps, *shape) held currents)
CASES = {
    "Constant": (Constant(12.0), lambda t, key, k0, dt_: np.full(t.shape, 12.0)),
    "Step": (
        Step(onset=5.03, offset=30.07, amplitude=20.0, baseline=2.0),
        lambda t, key, k0, dt_: np.where((t >= 5.03) & (t < 30.07), 20.0, 2.0),
    ),
    "Step population": (
        Step(onset=5.03, amplitude=np.array([10.0, 30.0])),
        lambda t, key, k0, dt_: np.where(t[:, None] >= 5.03, [10.0, 30.0], 0.0),
    ),
    "PulseTrain": (
        PulseTrain(PULSES, width=2.0, amplitude=40.0, baseline=1.0),
        lambda t, key, k0, dt_: np.where(
            np.any((t[:, None] >= PULSES) & (t[:, None] < PULSES + 2.0), axis=1), 40.0, 1.0
        ),
    ),
    "Function": (
        Function(lambda t: 10.0 + 8.0 * jnp.sin(t / 3.0)),
        lambda t, key, k0, dt_: 10.0 + 8.0 * np.sin(t / 3.0),
    ),
    "Sampled": (
        Sampled(np.concatenate([VALUES, VALUES]), dt=DT),  # covers t0 = 0 and t0 = 5 ms
        lambda t, key, k0, dt_: np.concatenate([VALUES, VALUES])[k0 : k0 + N],
    ),
    "Noise white": (
        Noise(sigma=2.0, mean=15.0),
        lambda t, key, k0, dt_: _white(key, k0, N, (), dt_, 15.0, 2.0, DT),
    ),
    "Noise OU": (
        Noise(sigma=4.0, mean=12.0, tau=3.0),
        lambda t, key, k0, dt_: _ou(key, k0, N, (), dt_, 12.0, 4.0, 3.0, DT),
    ),
    "Noise OU population": (
        Noise(sigma=np.array([1.0, 4.0, 0.0]), mean=12.0, tau=3.0),
        lambda t, key, k0, dt_: _ou(
            key, k0, N, (3,), dt_, 12.0, np.array([1.0, 4.0, 0.0]), 3.0, DT
        ),  # fmt: skip
    ),
    "Sum": (
        Step(onset=10.03, amplitude=10.0) + Noise(sigma=3.0, mean=5.0, tau=2.0) + 1.5,
        lambda t, key, k0, dt_: (
            np.where(t >= 10.03, 10.0, 0.0)
            + _ou(key, k0, N, (), dt_, 5.0, 3.0, 2.0, DT, fold=1)
            + 1.5
        ),
    ),
}

# float64: both sides compute the same exact update; differences are rounding (measured
# worst 6e-14 mV), bound 1e-9 mV. float32: the engines round every step in float32
# (7.6e-6 mV at 65 mV) over 400 steps of a contracting map (factor e^{-dt/tau} = 0.995) and
# draw float32 normals; measured worst 6.4e-5 mV, bound 5e-4 mV.
TOL = {"float64": 1e-9, "float32": 5e-4}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("t0", [0.0, 5.0])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("engine", list(ENGINES))
def test_stimulus_reaches_the_model_identically(engine, case, t0, dtype):
    stim, current = CASES[case]
    key = jax.random.key(7)
    with jax.enable_x64(dtype == "float64"):
        V = ENGINES[engine](MODEL, stim, DT, N, key, t0)
        k0 = int(round(t0 / DT))
        I_k = current(_times(t0, DT, N, dtype), _stimulus_key(engine, key), k0, dtype)
    expected = _membrane(np.asarray(I_k, float), DT)
    assert V.shape == expected.shape
    np.testing.assert_allclose(V, expected, rtol=0, atol=TOL[dtype])


def test_engines_agree_bit_for_bit_on_noise():
    # The two engines share one sampling path: the same key gives the same trace exactly.
    stim = Step(onset=10.03, amplitude=10.0) + Noise(sigma=3.0, mean=5.0, tau=2.0)
    key = jax.random.key(3)
    a, b = (ENGINES[e](MODEL, stim, DT, N, key, 2.0) for e in ("simulate", "fit.solve_fixed"))
    np.testing.assert_array_equal(a, b)


def test_noise_moves_the_fit_engine():
    # Regression: solve_fixed once returned the trace of Constant(mean) for Noise.
    key = jax.random.key(0)
    noisy = _solve_fixed(MODEL, Noise(sigma=5.0, mean=1.0), DT, N, key)
    flat = _solve_fixed(MODEL, Constant(1.0), DT, N, key)
    assert np.max(np.abs(noisy - flat)) > 0.5


@pytest.mark.parametrize("engine", ["simulate", "fit.solve_fixed"])
def test_contract_errors(engine):
    run = ENGINES[engine]
    with pytest.raises(ValueError, match="key"):
        run(MODEL, Noise(sigma=1.0), DT, 10, None)
    with pytest.raises(ValueError, match="key"):
        run(MODEL, Step(1.0) + Noise(sigma=1.0, tau=2.0), DT, 10, None)
    # a table that does not cover the run
    with pytest.raises(ValueError, match="defined for"):
        run(MODEL, Sampled(np.ones(5), dt=DT), DT, 10, None)
    with pytest.raises(ValueError, match="wrap a function"):
        run(MODEL, lambda t: t, DT, 10, None)


def test_fit_per_step_arrays_need_a_table():
    # A raw per-step array would silently be a population of constant currents: refused,
    # pointing to Sampled, which gives the per-step meaning.
    y0 = MODEL.resting_state()
    with pytest.raises(ValueError, match="Sampled"):
        F.solve_fixed(MODEL, y0, np.ones(N), dt=DT, n_steps=N)
    V = F.solve_fixed(MODEL, y0, Sampled(VALUES, dt=DT), dt=DT, n_steps=N).ys["V"]
    np.testing.assert_allclose(V, _membrane(VALUES, DT), rtol=0, atol=1e-9)


def test_adaptive_engines_refuse_noise():
    y0 = MODEL.resting_state()
    with pytest.raises(ValueError, match="fixed-step"):
        sj.simulate(MODEL, duration=1.0, dt=0.1, I=Noise(), method="adaptive")
    with pytest.raises(ValueError, match="stochastic"):
        F.solve_adaptive(MODEL, y0, Noise(), t0=0.0, t1=1.0)
    with pytest.raises(ValueError, match="stochastic"):
        F.event_spike_times(MODEL, y0, Noise(), t0=0.0, t1=1.0, max_spikes=1)


def test_adaptive_engines_read_deterministic_stimuli():
    # solve_adaptive of the linear membrane under a Sum of Step and Sampled: the solve steps
    # onto the jumps, so it matches the exact piecewise solution to the solver tolerance.
    stim = Step(onset=5.03, amplitude=10.0) + Sampled(VALUES[:100], dt=0.4)
    ts = jnp.linspace(0.4, 40.0, 100)
    sol = F.solve_adaptive(MODEL, MODEL.resting_state(), stim, t0=0.0, t1=40.0, ts=ts,
                           rtol=1e-10, atol=1e-10, max_steps=100_000)  # fmt: skip
    # the exact solution at the grid: integrate the exact membrane over 0.01 ms pieces
    t = np.arange(4000) * 0.01
    I_k = (
        np.where(t >= 5.03 - 1e-12, 10.0, 0.0) + VALUES[:100][np.floor(t / 0.4 + 1e-9).astype(int)]
    )
    exact = _membrane(I_k, 0.01)[39::40]
    np.testing.assert_allclose(np.asarray(sol.ys["V"]), exact, rtol=0, atol=1e-6)
