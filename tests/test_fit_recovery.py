"""Parameter recovery and training with the fitting API (float64)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from spikejax import fit as F
from spikejax.models import LIF, HodgkinHuxley, Izhikevich
from spikejax.solvers import Euler
from spikejax.stimulus import Sampled
from spikejax.surrogate import FastSigmoid


class HHPhi(HodgkinHuxley):
    """HH with a kinetic rate scale `phi` multiplying every gating rate (a temperature factor)."""

    phi: float = 1.0

    def vector_field(self, t, y, args):
        f = super().vector_field(t, y, args)
        return {"V": f["V"], "m": self.phi * f["m"], "h": self.phi * f["h"], "n": self.phi * f["n"]}


HH_NAMES = ("gNa", "gK", "gL", "phi")


def _hh_problem(n_steps, perturb):
    true = HHPhi()
    y0 = true.resting_state()
    dt = 0.025
    t = jnp.arange(n_steps) * dt
    # 10 uA/cm^2 from 5 ms (spikes), a hyperpolarising -6 from the middle (leak-dominated part).
    I = jnp.where(t >= 5.0, 10.0, 0.0) + jnp.where(t >= n_steps * dt / 2, -6.0, 0.0)

    def sim(m):
        sol = F.solve_fixed(m, y0, Sampled(I, dt=dt), dt=dt, n_steps=n_steps, checkpoint_every=50)
        return sol.ys["V"]

    noise = 0.5 * jax.random.normal(jax.random.key(1), (n_steps,))  # 0.5 mV Gaussian noise
    target = jax.jit(sim)(true) + noise
    factors = dict(zip(HH_NAMES, perturb))
    start = HHPhi(**{n: getattr(true, n) * factors[n] for n in HH_NAMES})
    return true, start, lambda m: F.trace_mse(sim(m), target)


def _check_hh(true, fitted, names=HH_NAMES):
    rel = {n: float(getattr(fitted, n) / getattr(true, n) - 1.0) for n in names}
    # 1% on each parameter (the criterion); the noise-limited error is ~0.1%.
    assert all(abs(v) < 0.01 for v in rel.values()), rel


def test_hh_recovery_short_trace_three_parameters():
    # Default (cheapest) variant: 25 ms, gNa, gK and the rate scale phi from 10% off (gL is
    # the ill-conditioned direction and needs L-BFGS: see the slow tests). Adam, 100 steps
    # (measured: within 0.3% of each, in 7 s on one core).
    true, start, loss = _hh_problem(1000, (1.1, 0.9, 1.0, 0.9))
    names = ("gNa", "gK", "phi")
    res = F.fit(start, loss, params=names, optimizer=optax.adam(0.01), steps=100)
    _check_hh(true, res.model, names)
    # The residual is the noise: MSE -> sigma^2 = 0.25 mV^2 (within sampling error).
    assert float(res.final_loss) < 0.3


@pytest.mark.slow
def test_hh_recovery_short_trace():
    # 25 ms, all four parameters from 10% off, L-BFGS.
    true, start, loss = _hh_problem(1000, (1.1, 0.9, 1.1, 0.9))
    res = F.fit(start, loss, params=HH_NAMES, optimizer=optax.lbfgs(), steps=25)
    _check_hh(true, res.model)
    assert float(res.final_loss) < 0.3
    assert float(res.loss_history[0]) > 10 * float(res.final_loss)


@pytest.mark.slow
def test_hh_recovery_50ms_from_30_percent():
    true, start, loss = _hh_problem(2000, (1.3, 0.7, 1.3, 0.7))
    res = F.fit(start, loss, params=HH_NAMES, optimizer=optax.adam(0.03), steps=300)
    res = F.fit(res.model, loss, params=HH_NAMES, optimizer=optax.lbfgs(), steps=30)
    _check_hh(true, res.model)
    assert float(res.final_loss) < 0.3


# ----- Izhikevich: a, b, c, d to a target spike train ---------------------------------------


@pytest.mark.slow
def test_izhikevich_fit_to_target_spike_train():
    true = Izhikevich.preset("RS")
    I, t1, n_max = 10.0, 120.0, 6

    def times(m):
        return F.event_spike_times(m, m.resting_state(), I, t0=0.0, t1=t1, max_spikes=n_max)

    target = jax.jit(times)(true)
    n_target = int(target.count)
    assert n_target >= 3

    def loss(m):
        st = times(m)
        return F.van_rossum_distance(st.times, target.times, tau=10.0, valid_a=st.valid,
                                     valid_b=target.valid)  # fmt: skip

    # Start: a -15%, b -5%, c -3 mV, d +12% (3 spikes instead of 4). One spike train does
    # not identify all four parameters; the criterion is reproducing the train.
    start = Izhikevich(a=0.017, b=0.19, c=-68.0, d=9.0)
    assert int(jax.jit(times)(start).count) != n_target
    res = F.fit(start, loss, params=("a", "b", "c", "d"), bounds={"c": (-75.0, -50.0)},
                optimizer=optax.adam(0.01), steps=100)  # fmt: skip
    fitted = jax.jit(times)(res.model)
    assert int(fitted.count) == n_target
    assert float(res.final_loss) < 0.05 * float(res.loss_history[0])  # measured 0.044 / 2.0
    # Spike times reproduced to within 0.5 ms (measured 0.2 ms; ISIs here are 23-45 ms).
    dt_max = np.max(np.abs(np.asarray(fitted.times - target.times)[:n_target]))
    assert dt_max < 0.5, dt_max


# ----- an F-I curve of a LIF population ------------------------------------------------------


def test_lif_population_fi_curve_fit_with_surrogate_counts():
    currents = jnp.linspace(18.0, 40.0, 8)
    dt, n_steps = 0.1, 3000  # 300 ms

    def rates(m):
        pop = m.replace(E_L=jnp.full(currents.shape, -65.0))
        sol = F.solve_fixed(pop, pop.resting_state(), currents, dt=dt,
                            n_steps=n_steps, method="exponential_euler",
                            spike_fn=FastSigmoid(beta=1.0), checkpoint_every=100,
                            detach_reset=True)  # fmt: skip
        return F.firing_rate(sol.ys["spikes"], dt=dt)

    true = LIF(tau_m=12.0, R=1.3)
    target = jax.jit(rates)(true)
    start = LIF(tau_m=18.0, R=1.0)
    res = F.fit(start, lambda m: F.fi_curve_error(rates(m), target), params=("tau_m", "R"),
                optimizer=optax.adam(0.03), steps=80)  # fmt: skip
    # The reset is detached: with it, surrogate gradients through 10-50 resets per cell
    # explode (|(V_r - V) sigma'| > 1 compounds). Counts in 300 ms resolve rates to 3.3 Hz:
    # the fitted curve matches within 1 count, and the closed-form F-I curves (LIF.rate) of
    # fitted and true parameters agree to 5%.
    err = np.abs(np.asarray(jax.jit(rates)(res.model) - target))
    assert err.max() <= 3.4, err
    r_fit, r_true = np.asarray(res.model.rate(currents)), np.asarray(true.rate(currents))
    assert np.max(np.abs(r_fit - r_true) / r_true) < 0.05
    assert float(res.loss_history[0]) > 50 * max(float(res.final_loss), 1.0)


# ----- a network of 100 LIF neurons trained to a population-rate time course -----------------

N_NET, N_IN, DT, N_T, BIN = 100, 12, 0.5, 240, 10  # 120 ms, 5 ms bins


class Readin(eqx.Module):
    W: jax.Array  # (N_NET, N_IN) input weights, mV


def _net_rate(model, bias, V0):
    t = jnp.arange(N_T) * DT
    centers = jnp.linspace(0.0, N_T * DT, N_IN)
    basis = jnp.exp(-0.5 * ((t[:, None] - centers[None, :]) / 8.0) ** 2)  # (N_T, N_IN)
    lif = LIF(tau_m=10.0, t_ref=2.0, E_L=jnp.full(N_NET, -65.0))
    scheme, sf = Euler(), FastSigmoid(beta=1.0)

    def step(y, x):
        k, b = x
        I = bias + model.W @ b
        y = lif.post_step(scheme.step(lif, k * DT, y, I, DT), DT)
        s = sf(lif.threshold_distance(y))
        r, sr = lif.reset(y), jax.lax.stop_gradient(s)  # detached reset (see the F-I test)
        return {n: (1 - sr) * y[n] + sr * r[n] for n in y}, s

    y0 = {"V": V0, "refractory": jnp.zeros(N_NET)}
    _, spikes = F.scan_checkpointed(step, y0, (jnp.arange(N_T), basis), length=N_T,
                                    checkpoint_every=40)  # fmt: skip
    return F.population_rate(spikes, dt=DT, bin_steps=BIN)


def test_network_of_100_neurons_learns_population_rate():
    kb, kv, kw = jax.random.split(jax.random.key(7), 3)
    bias = jax.random.uniform(kb, (N_NET,), minval=8.0, maxval=18.0)  # offsets; threshold is at 15
    V0 = jax.random.uniform(kv, (N_NET,), minval=-65.0, maxval=-52.0)
    tb = (jnp.arange(N_T // BIN) + 0.5) * BIN * DT
    target = 40.0 + 30.0 * jnp.sin(2 * jnp.pi * tb / 60.0)  # Hz
    model = Readin(W=0.5 * jax.random.normal(kw, (N_NET, N_IN)))

    def loss(m):
        return F.population_rate_error(_net_rate(m, bias, V0), target)

    res = F.fit(model, loss, params=("W",), positive=False, optimizer=optax.adam(0.1), steps=200)
    l0, l1 = float(res.loss_history[0]), float(res.final_loss)
    # Stated criteria: the loss falls at least 20-fold and the final RMS rate error is below
    # 6 Hz (the target swings 10..70 Hz; 100 neurons in 5 ms bins resolve 2 Hz). Measured:
    # 1332 -> 15 Hz^2 (RMS 3.9 Hz); surrogate-gradient training is noisy, hence the margins.
    assert l1 < l0 / 20, (l0, l1)
    assert np.sqrt(l1) < 6.0, np.sqrt(l1)


# ----- many fits at once --------------------------------------------------------------------


def test_fit_many_over_initial_guesses_reaches_saddle_node_target():
    # Target rheobase (saddle-node current) 5.0 for Izhikevich: (5 - b)^2/0.16 - 140 = 5
    # gives b = 5 - sqrt(0.16 * 145) exactly (closed form, the root with b < 5).
    b_true = 5.0 - np.sqrt(0.16 * 145.0)

    def loss(m):
        return (F.saddle_node_current(m, I_guess=3.0).I - 5.0) ** 2

    starts = F.stack_models([Izhikevich(b=b) for b in (0.1, 0.15, 0.25)])
    res = F.fit_many(starts, loss, params=("b",), optimizer=optax.adam(0.05), steps=150)
    assert res.loss_history.shape == (3, 150)
    assert res.params_history["b"].shape == (3, 150)
    # Adam in log-coordinates converges to ~1e-6 in b here: 1e-4 allows for its last jitter.
    np.testing.assert_allclose(np.asarray(res.model.b), b_true, atol=1e-4)
