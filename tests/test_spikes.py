"""Spike trains: Poisson generators (statistics within 5 standard errors), spike detection
against exact crossing times, and ISI/CV/Fano statistics on trains with known values."""

import jax
import numpy as np
import pytest

from spikejax.spikes import (
    cv_isi,
    detect_spikes,
    fano_factor,
    firing_rate,
    isi,
    mean_rate,
    poisson_spike_times,
    poisson_spikes,
    population_cv_isi,
    spike_counts,
    spike_trains,
    synchrony_index,
)


def test_poisson_spikes_rate_and_fano(key):
    rate, T, dt, n = 20.0, 1000.0, 0.1, 1000
    s = np.asarray(poisson_spikes(rate, T, dt, key=key, shape=(n,)))
    assert s.shape == (10_000, n) and s.dtype == bool
    p = rate * dt / 1000.0
    total = s.sum()
    mean = s.shape[0] * n * p
    # Sum of Bernoulli(p) draws: standard deviation sqrt(N p (1 - p)); 5 sigma.
    assert abs(total - mean) < 5 * np.sqrt(mean * (1 - p))
    # Fano factor of counts in 100 ms windows: 1 - p for Bernoulli steps. Per-cell estimates
    # from 10 windows have standard error ~ sqrt(2/9); averaged over 1000 cells: 0.015; 5 sigma.
    times = np.where(s.T, (np.arange(s.shape[0]) * dt)[None, :], np.nan)
    F = fano_factor(times, 100.0, 0.0, T)
    assert abs(np.nanmean(F) - (1 - p)) < 5 * np.sqrt(2 / 9) / np.sqrt(n)


def test_poisson_spikes_rate_times_dt_must_be_below_one(key):
    with pytest.raises(ValueError, match=r"rate \* dt must be < 1.*rate=2000.0 Hz \* dt=0.5 ms"):
        poisson_spikes(2000.0, 100.0, 0.5, key=key)
    with pytest.raises(ValueError, match="rate must be finite and >= 0"):
        poisson_spikes(-1.0, 100.0, 0.1, key=key)
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        poisson_spikes(1.0, 100.0, 0.0, key=key)


def test_poisson_spike_times_exact(key):
    rate, T, n = 50.0, 2000.0, 2000
    times, counts = poisson_spike_times(rate, T, key=key, shape=(n,))
    lam = rate * T / 1000.0
    # Poisson counts: mean lam (standard error sqrt(lam / n)) and Fano factor 1 (standard
    # error of a variance/mean ratio ~ sqrt(2 / n)); 5 sigma each.
    assert abs(counts.mean() - lam) < 5 * np.sqrt(lam / n)
    assert abs(counts.var(ddof=1) / counts.mean() - 1) < 5 * np.sqrt(2 / n)
    assert np.all(np.diff(times, axis=-1)[~np.isnan(np.diff(times, axis=-1))] >= 0)
    assert np.nanmin(times) >= 0 and np.nanmax(times) < T
    # ISIs are exponential: CV = 1 (pooled over cells; standard error ~ 1/sqrt(#ISIs)).
    d = np.concatenate([isi(tr) for tr in times[:200]])
    assert abs(d.std() / d.mean() - 1) < 5 / np.sqrt(d.size)


def test_detect_spikes_interpolates_crossings():
    # V = sin(2 pi t / 10): upward zero crossings at t = 10 k. Sampling every 0.01: the
    # linear interpolation error is O(h^2 V''/V') and is zero at these inflection points.
    t = np.linspace(0.0, 40.0, 4001) + 0.003
    V = np.sin(2 * np.pi * t / 10)
    st, n = detect_spikes(t, V, 0.0)
    assert n == 4
    np.testing.assert_allclose(st, [10.0, 20.0, 30.0, 40.0], atol=1e-9)
    # Threshold 0.5: crossings at t = 10 k + 10/12; error <= h^2 max|V''| / (8 |V'|) ~ 1e-5.
    st, _ = detect_spikes(t, V, 0.5)
    np.testing.assert_allclose(st[:3], 10.0 * np.arange(3) + 10 / 12, atol=2e-5)
    # Several traces at once, padded with NaN.
    V2 = np.stack([V, -np.ones_like(V)], axis=1)
    st2, n2 = detect_spikes(t, V2, 0.0)
    assert st2.shape == (2, 4) and list(n2) == [4, 0] and np.all(np.isnan(st2[1]))


def test_train_statistics_on_known_trains():
    regular = np.arange(10.0, 1000.0, 10.0)  # 99 spikes, 100 Hz
    assert firing_rate(regular, 0.0, 1000.0) == pytest.approx(99.0)
    np.testing.assert_allclose(isi(regular), 10.0)
    assert cv_isi(regular) == pytest.approx(0.0, abs=1e-12)
    # A regular train has the same count in each 100 ms window (10): Fano factor 0.
    assert fano_factor(np.arange(5.0, 1000.0, 10.0), 100.0, 0.0, 1000.0) == pytest.approx(0.0)
    assert np.isnan(cv_isi([5.0]))
    padded = np.array([[1.0, 2.0, np.nan], [0.5, 1.5, 2.5]])
    np.testing.assert_array_equal(spike_counts(padded, 0.0, 2.0), [1, 2])
    # Alternating ISIs 1 and 3: mean 2, std 1 -> CV 0.5.
    alt = np.concatenate([[0.0], np.cumsum(np.tile([1.0, 3.0], 50))])
    assert cv_isi(alt) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="t_stop must be > t_start"):
        firing_rate(regular, 5.0, 5.0)
    with pytest.raises(ValueError, match="window must be finite and > 0"):
        fano_factor(regular, 0.0, 0.0, 10.0)


def test_poisson_same_key_same_train():
    k = jax.random.key(7)
    a = poisson_spikes(30.0, 100.0, 0.1, key=k, shape=(3,))
    b = poisson_spikes(30.0, 100.0, 0.1, key=k, shape=(3,))
    np.testing.assert_array_equal(a, b)


def test_raster_and_trace_plots_show_the_data():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import spikejax as sj
    from spikejax.models import LIF
    from spikejax.plot import plot_trace, raster

    padded = np.array([[1.0, 2.0, np.nan], [0.5, 1.5, 2.5]])
    fig, ax = raster(padded)
    line = ax.lines[0]
    np.testing.assert_array_equal(line.get_xdata(), [1.0, 2.0, 0.5, 1.5, 2.5])
    np.testing.assert_array_equal(line.get_ydata(), [0, 0, 1, 1, 1])
    plt.close(fig)
    fig, ax = raster([2.0, 1.0], neurons=[3, 4])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [3, 4])
    plt.close(fig)
    res = sj.simulate(LIF(), duration=50.0, dt=0.1, I=20.0, method="exponential_euler")
    fig, ax = plot_trace(res)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), res.V)
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), res.spike_times)  # spike markers
    plt.close(fig)
    with pytest.raises(ValueError, match="was not recorded"):
        plot_trace(res, "w")


def test_event_lists_become_padded_trains_and_population_statistics():
    # Events (indices, times) as networks record them, in scrambled order.
    trains = {
        0: np.arange(10.0, 1000.0, 10.0),  # regular: CV 0
        2: np.concatenate([[0.0], np.cumsum(np.tile([1.0, 3.0], 50))]),  # alternating: CV 0.5
        3: np.array([5.0, 7.0]),  # one interval: excluded from the mean, NaN on its own
    }
    i = np.concatenate([np.full(v.size, k) for k, v in trains.items()])
    t = np.concatenate(list(trains.values()))
    perm = np.random.default_rng(0).permutation(i.size)
    padded = spike_trains(i[perm], t[perm], 5)
    assert padded.shape == (5, 101)
    for k, v in trains.items():
        np.testing.assert_array_equal(padded[k, : v.size], v)
        assert np.all(np.isnan(padded[k, v.size :]))
    assert np.all(np.isnan(padded[[1, 4]]))
    cvs = cv_isi(padded)
    assert cvs.shape == (5,) and cvs[0] == pytest.approx(0.0, abs=1e-12)
    assert cvs[2] == pytest.approx(0.5) and np.isnan(cvs[3]) and np.isnan(cvs[1])
    assert population_cv_isi(i[perm], t[perm], 5) == pytest.approx(0.25)
    assert np.isnan(population_cv_isi([3, 3], [1.0, 2.0], 5))
    # mean rate: 99 + 101 + 2 spikes of 5 neurons in 1 s
    assert mean_rate(i, 5, 1000.0) == pytest.approx(202 / 5)
    with pytest.raises(ValueError, match=r"indices must be in \[0, 5\)"):
        spike_trains([5], [1.0], 5)
    with pytest.raises(ValueError, match="same length"):
        spike_trains([0, 1], [1.0], 5)


def test_synchrony_index_closed_forms():
    # n neurons firing together once per 10 ms, bins of 1 ms over [0, 100]: counts are n in
    # 10 of 100 bins, 0 elsewhere: mean n/10, variance n^2 (1/10)(9/10), Fano 0.9 n.
    n = 50
    t = np.repeat(np.arange(0.5, 100.0, 10.0), n)
    i = np.tile(np.arange(n), 10)
    assert synchrony_index(i, t, n, 0.0, 100.0) == pytest.approx(0.9 * n)
    # independent Poisson trains: Fano ~ 1 (Poisson count per bin); 2e5 events in 1000 bins
    rng = np.random.default_rng(1)
    t = rng.uniform(0.0, 1000.0, 200_000)
    assert synchrony_index(np.zeros(t.size, int), t, 1, 0.0, 1000.0) == pytest.approx(1.0, abs=0.1)
