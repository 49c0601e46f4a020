"""Stimuli: values against their definitions, noise statistics, sums, input errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax as sj
from spikejax.models import LIF
from spikejax.stimulus import (
    Constant,
    Function,
    Noise,
    PulseTrain,
    Sampled,
    Step,
    Sum,
    as_stimulus,
)


def test_deterministic_stimuli_values():
    t = jnp.array([0.0, 9.999, 10.0, 20.0, 29.999, 30.0, 50.0])
    np.testing.assert_array_equal(Step(10.0, 30.0, 2.5)(t), [0, 0, 2.5, 2.5, 2.5, 0, 0])
    np.testing.assert_array_equal(Constant(3.0)(t), 3.0)
    p = PulseTrain.regular(10.0, 20.0, 2, width=1.0, amplitude=4.0)
    np.testing.assert_array_equal(
        p(jnp.array([9.9, 10.0, 10.99, 11.0, 30.5, 31.0, 50.5])), [0, 4, 4, 0, 4, 0, 0]
    )
    f = Function(lambda t: jnp.sin(t))
    np.testing.assert_allclose(f(t), np.sin(t))
    s = Step(10.0, 30.0, 2.5) + 1.0 + Function(lambda t: t)
    assert isinstance(s, Sum) and len(s.terms) == 3
    np.testing.assert_allclose(s(t), np.array([0, 0, 2.5, 2.5, 2.5, 0, 0]) + 1.0 + t)
    assert s.discontinuities() == (10.0, 30.0)
    assert isinstance(as_stimulus(2.0), Constant)


def test_array_amplitude_makes_a_population():
    res = sj.simulate(
        LIF(),
        duration=50.0,
        dt=0.1,
        I=Step(5.0, amplitude=jnp.array([10.0, 30.0])),
        method="exponential_euler",
    )
    assert res.V.shape == (501, 2)
    # Step at 5 ms: V(t) = E_L + A (1 - exp(-(t-5)/tau)) before any spike (exact scheme).
    t = res.times
    exact = -65.0 + 10.0 * (1 - np.exp(-np.clip(t - 5.0, 0, None) / 20.0))
    np.testing.assert_allclose(res.V[:, 0], exact, atol=1e-10)


def test_white_noise_statistics(key):
    # Samples are N(mean, sigma^2/dt): with 10^5 draws the sample mean's standard error is
    # sigma/sqrt(dt n) = 0.02 and the sample std's is about std/sqrt(2n) = 0.2%; 5 sigma.
    n, dt = 100_000, 0.25
    noise = Noise(sigma=2.0, mean=1.0)
    st = noise.init((n,), jnp.float64, key=key)
    I, _ = noise.sample(st, 0.0, dt, key=jax.random.fold_in(key, 3))
    I = np.asarray(I)
    assert abs(I.mean() - 1.0) < 5 * 2.0 / np.sqrt(dt * n)
    assert abs(I.std() / (2.0 / np.sqrt(dt)) - 1) < 5 * np.sqrt(1 / (2 * n))


def test_ou_noise_stationary_and_autocorrelation(key):
    # Exact OU update: stationary std sigma, lag-k autocorrelation exp(-k dt / tau).
    # 20,000 independent processes, 200 steps: standard errors ~1/sqrt(2 n) = 0.5% on the std
    # and ~1/sqrt(n) = 0.007 on the correlation; tolerances 5 sigma.
    n, dt, tau, sigma = 20_000, 0.5, 10.0, 3.0
    noise = Noise(sigma=sigma, mean=-1.0, tau=tau)
    st = noise.init((n,), jnp.float64, key=key)

    def body(st, k):
        I, st = noise.sample(st, k * dt, dt, key=jax.random.fold_in(key, k))
        return st, I

    _, I = jax.lax.scan(body, st, jnp.arange(200))
    I = np.asarray(I)
    assert abs(I[-1].std() / sigma - 1) < 5 / np.sqrt(2 * n)
    assert abs(I[-1].mean() + 1.0) < 5 * sigma / np.sqrt(n)
    x, y = I[100] + 1.0, I[110] + 1.0
    rho = np.mean(x * y) / np.sqrt(np.mean(x * x) * np.mean(y * y))
    assert abs(rho - np.exp(-10 * dt / tau)) < 5 / np.sqrt(n)


def test_step_onsets_in_fixed_step_simulation():
    # The current is sampled at the start of each step: a step at 10 ms acts from step 100.
    res = sj.simulate(
        LIF(V_th=100.0),
        duration=20.0,
        dt=0.1,
        I=Step(10.0, amplitude=5.0),
        method="exponential_euler",
    )
    assert np.all(res.V[res.times <= 10.0 + 1e-9] == -65.0)
    assert res.V[101] > -65.0


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Step(10.0, 5.0), "Step.offset must be > Step.onset"),
        (lambda: Step(float("nan")), "Step.onset must be finite"),
        (lambda: PulseTrain.regular(0.0, -1.0, 3), "interval must be finite and > 0"),
        (lambda: PulseTrain.regular(0.0, 1.0, 0), "count must be an integer >= 1"),
        (lambda: PulseTrain([1.0], width=0.0), "PulseTrain.width must be finite and > 0"),
        (lambda: Noise(sigma=-1.0), "Noise.sigma must be finite and >= 0"),
        (lambda: Noise(tau=0.0), "Noise.tau must be finite and > 0"),
        (lambda: as_stimulus(lambda t: t), "wrap a function"),
        (lambda: as_stimulus("a"), "I must be"),
    ],
)
def test_bad_stimuli(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_abstract_bases_cannot_be_instantiated():
    from spikejax.stimulus import Stimulus
    from spikejax.surrogate import SpikeFunction

    for cls in (Stimulus, SpikeFunction):
        with pytest.raises(TypeError, match="abstract"):
            cls()


def test_sampled_table_values_domain_and_errors():
    s = Sampled(jnp.array([1.0, 2.0, 3.0]), dt=0.5, t0=1.0)
    # values[k] is held over [t0 + k dt, t0 + (k+1) dt)
    np.testing.assert_array_equal(s(jnp.array([1.0, 1.49, 1.5, 2.0, 2.49])), [1, 1, 2, 3, 3])
    assert s.discontinuities() == (1.5, 2.0) and s.domain() == (1.0, 2.5)
    # a fixed step reads the entry of its own interval (at its middle), robust to the
    # rounding of its start time
    I, _ = s.sample(None, 1.5 - 1e-12, 0.5)
    assert float(I) == 2.0
    pop = Sampled(np.ones((4, 3)), dt=0.1)
    assert pop.shape() == (3,)
    with pytest.raises(ValueError, match="leading axis"):
        Sampled(np.ones(()), dt=0.1)
    with pytest.raises(ValueError, match="Sampled.dt"):
        Sampled(np.ones(3), dt=0.0)
    with pytest.raises(ValueError, match="Sampled.values must be finite"):
        Sampled(np.array([1.0, np.nan]), dt=0.1)
    # a run beyond the table is refused, naming I and the covered range
    with pytest.raises(ValueError, match=r"I is defined for 1.0 <= t < 2.5 ms"):
        sj.simulate(LIF(), duration=2.0, dt=0.5, I=s, t0=1.0)
