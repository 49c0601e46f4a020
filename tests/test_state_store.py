"""StateMonitor records streamed to disk (a zarr store) equal the records kept in memory."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax as sj
from spikejax import network as nw

zarr = pytest.importorskip("zarr")


def _net():
    lif = sj.models.LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=2.0)
    pop = nw.Population(lif, 50, name="E", I=sj.stimulus.Noise(sigma=3.0, mean=12.0, tau=5.0))
    return nw.Network([pop], dt=0.1, dtype=jnp.float64)


def test_streamed_records_equal_the_records_in_memory(tmp_path):
    net = _net()
    key = jax.random.key(3)
    kept = nw.StateMonitor("E", ("V", "refractory"), every=3)
    streamed = nw.StateMonitor("E", ("V", "refractory"), every=3, store=tmp_path / "rec")
    # Chunks of 70 steps: records straddle chunk ends (every=3), so the appends are ragged.
    a = nw.run(net, 50.0, key=key, monitors=[kept], chunk_steps=70)
    b = nw.run(net, 50.0, key=key, monitors=[streamed], chunk_steps=70)
    ta, va = a.states[kept.key]
    tb, vb = b.states[streamed.key]
    assert isinstance(vb, zarr.Array)
    np.testing.assert_array_equal(ta, tb)
    np.testing.assert_array_equal(va, vb[:])
    # Times are multiples of 3 steps: 0.3, 0.6, ... ms, one record per 3 steps of 500.
    np.testing.assert_allclose(tb, 0.3 * np.arange(1, 167))
    # The store is on disk and reads back in a fresh handle.
    again = zarr.open_group(str(tmp_path / "rec"), mode="r")
    np.testing.assert_array_equal(again["values"][:], va)
    np.testing.assert_array_equal(again["times"][:], ta)


def test_streamed_monitors_do_not_count_in_the_memory_warning(tmp_path, monkeypatch):
    from spikejax.network import _run

    monkeypatch.setattr(_run, "STATE_MONITOR_WARN_BYTES", 1000)
    net = _net()
    with pytest.warns(ResourceWarning, match=r"store=path"):
        nw.run(net, 5.0, key=jax.random.key(0), monitors=[nw.StateMonitor("E", "V")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nw.run(net, 5.0, key=jax.random.key(0),
               monitors=[nw.StateMonitor("E", "V", store=tmp_path / "v")])  # fmt: skip


def test_store_must_be_a_path():
    with pytest.raises(ValueError, match="StateMonitor.store must be a directory path"):
        nw.StateMonitor("E", "V", store=3)
