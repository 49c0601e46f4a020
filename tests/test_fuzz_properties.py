"""Fuzz suite, part 2: property-based cases (hypothesis). Random invalid values for every
model class's fields, random stimulus parameters, random `(duration, dt)` pairs for
`simulate`, random tolerances and Poisson parameters. Each example either raises an error
that names the parameter and shows its value, or gives the closed-form result.

Budgets are small (`max_examples` 20-30, no deadline, `derandomize=True` so that runs are
reproducible) and the examples that run a simulation reuse a handful of program shapes.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")

from fuzz_common import MODEL_FIELDS, lif_closed_form  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import spikejax as sj  # noqa: E402
from spikejax import stimulus as S  # noqa: E402
from spikejax.models import LIF  # noqa: E402

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
K = jax.random.key(0)


@given(data=st.data())
@FUZZ
def test_model_fields_random_values(data):
    """Any float for any field: either a ValueError naming the field and the value, or a
    model whose field holds that finite value (NaN/inf are never accepted)."""
    cls, name = data.draw(st.sampled_from(MODEL_FIELDS))
    x = data.draw(st.floats(allow_nan=True, allow_infinity=True, width=64))
    try:
        model = cls(**{name: x})
    except ValueError as err:
        msg = str(err)
        assert f"{cls.__name__}.{name}" in msg and repr(float(x)) in msg, msg
        return
    assert math.isfinite(x)
    assert getattr(model, name) == x


@given(
    n=st.integers(1, 4),
    dt=st.sampled_from([0.05, 0.1, 0.25]),
    frac=st.floats(-0.49, 0.49),
    t0=st.sampled_from([0.0, -3.0, 1e4]),
)
@settings(FUZZ, max_examples=20)
def test_simulate_random_dt_duration_pairs(n, dt, frac, t0):
    """Valid `(duration, dt)` pairs: `round(duration / dt)` steps, the documented end time, and
    the closed-form subthreshold LIF trajectory (RK4 error ~ dt^4 / tau^4: < 1e-6 mV)."""
    duration = (n + frac) * dt
    if duration < dt:
        with pytest.raises(ValueError, match="dt must be <= duration"):
            sj.simulate(LIF(), duration=duration, dt=dt, I=10.0, t0=t0)
        return
    res = sj.simulate(LIF(), duration=duration, dt=dt, I=10.0, t0=t0)
    steps = round(duration / dt)
    assert len(res.times) == steps + 1
    assert res.t_final == pytest.approx(t0 + steps * dt, abs=1e-12)
    np.testing.assert_allclose(res.times, t0 + dt * np.arange(steps + 1), atol=1e-9)
    np.testing.assert_allclose(res.states["V"], lif_closed_form(res.times - t0, 10.0), atol=1e-6)
    assert res.n_spikes.sum() == 0


@given(
    duration=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 0)),
    dt=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 0)),
)
@FUZZ
def test_simulate_random_invalid_times_are_named(duration, dt):
    """Random (duration, dt): whatever is invalid is named with its value; never a bare error
    (OverflowError, numpy's), never a run. Valid-looking pairs are filtered to keep it fast."""
    valid = (
        math.isfinite(duration)
        and math.isfinite(dt)
        and duration > 0
        and dt > 0
        and dt <= duration
        and duration / dt < 2**31 - 1
    )
    if valid:
        return
    with pytest.raises(ValueError) as e:
        sj.simulate(LIF(), duration=duration, dt=dt, record=())
    msg = str(e.value)
    assert "duration" in msg or "dt" in msg, msg


@given(
    onset=st.floats(allow_nan=True, allow_infinity=True),
    offset=st.floats(allow_nan=True, allow_infinity=True),
    amplitude=st.floats(allow_nan=True, allow_infinity=True),
)
@FUZZ
def test_step_random_parameters(onset, offset, amplitude):
    """A Step is built only when onset and amplitude are finite and offset > onset; then its
    value at any time is the closed form."""
    try:
        stim = S.Step(onset=onset, offset=offset, amplitude=amplitude)
    except ValueError as err:
        msg = str(err)
        assert "Step." in msg and ("nan" in msg or "inf" in msg or "offset" in msg), msg
        assert not (math.isfinite(onset) and math.isfinite(amplitude) and offset > onset)
        return
    assert math.isfinite(onset) and math.isfinite(amplitude) and offset > onset
    for t in (onset - 1.0, onset, 0.5 * (onset + min(offset, onset + 2.0))):
        expected = amplitude if onset <= t < offset else 0.0
        assert float(stim(jnp.asarray(t, jnp.float64))) == expected


@given(
    start=st.floats(-1e3, 1e3),
    interval=st.floats(allow_nan=True, allow_infinity=True),
    count=st.one_of(st.integers(-3, 6), st.floats(-3, 6)),
)
@FUZZ
def test_pulse_train_regular_random(start, interval, count):
    try:
        train = S.PulseTrain.regular(start, interval, count, width=0.5)
    except ValueError as err:
        msg = str(err)
        assert "interval" in msg or "count" in msg or "width" in msg, msg
        return
    assert isinstance(count, int) and count >= 1 and interval > 0
    np.testing.assert_allclose(np.asarray(train.onsets), start + interval * np.arange(count))


@given(x=st.floats(allow_nan=True, allow_infinity=True))
@FUZZ
def test_default_and_given_tolerances(x):
    try:
        rtol, atol = sj.solvers.Adaptive(rtol=x).tolerances(jnp.float64)
    except ValueError as err:
        assert "rtol" in str(err)
        assert not (x > 10 * np.finfo(np.float64).eps and math.isfinite(x))
        return
    assert rtol == x and atol == 1e-10


@given(
    rate=st.sampled_from([0.0, 50.0]),
    duration=st.sampled_from([1.0, 40.0]),
    t0=st.floats(-1e3, 1e3),
)
@settings(FUZZ, max_examples=15)
def test_poisson_spike_times_count_window(rate, duration, t0):
    """Every returned time lies in [t0, t0 + T), ascending, and the counts match the finite
    entries (no spike dropped or invented at the window's edges)."""
    times, counts = sj.spikes.poisson_spike_times(rate, duration, key=K, shape=(3,), t0=t0)
    finite = np.isfinite(times)
    np.testing.assert_array_equal(finite.sum(axis=-1), counts)
    assert np.all((times[finite] >= t0) & (times[finite] < t0 + duration))
    for row in times:
        assert np.all(np.diff(row[np.isfinite(row)]) > 0)
    if rate == 0.0:
        assert counts.sum() == 0
