"""Spike recording: exact (index, step) records decoded in work proportional to the spikes,
streamed to a zarr store, saved and resumed; checked against closed-form LIF spike times,
NumPy's own bit unpacking, and the per-step spike words of `Network.simulate`."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import spikejax as sj
from spikejax import network as nw
from spikejax.network import _run
from spikejax.network._monitor import nonzero_word_flags, spike_events

DT = 0.1
TAU, T_REF = 20.0, 2.0  # ms
GAP = 15.0  # mV between rest/reset (-65) and threshold (-50)


def _currents() -> np.ndarray:
    """40 constant currents (mV, R = 1) whose first threshold crossing
    $t^* = \\tau \\ln(I / (I - 15))$ falls at least 5 % of a step away from the grid (float32
    rounding of V moves the crossing by < 0.01 step), so the grid step of every spike is
    certain."""
    out = []
    for current in np.linspace(15.8, 60.0, 400):
        x = TAU * np.log(current / (current - GAP)) / DT
        if 0.05 < x - np.floor(x) < 0.95:
            out.append(current)
    return np.asarray(out[:: len(out) // 40][:40])


def _uncoupled(n: int = 200):
    """`n` uncoupled LIF cells, cell `j` driven by `_currents()[j % 40]`: cells of equal
    current spike in the same steps, several in one 32-bit word."""
    lif = sj.models.LIF(tau_m=TAU, E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=T_REF, R=1.0)
    current = np.resize(_currents(), n)
    return nw.Network([nw.Population(lif, n, name="E", I=current)], dt=DT), current


def _closed_form(current: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact (index, step) list: exponential Euler is exact for constant input, so a cell
    first crosses after m = ceil(t*/dt) steps and then every m + t_ref/dt steps (it is held
    at reset for t_ref)."""
    m = np.ceil(TAU * np.log(current / (current - GAP)) / DT).astype(np.int64)
    period = m + round(T_REF / DT)
    idx, steps = [], []
    for j in range(current.size):
        s = np.arange(m[j], n_steps + 1, period[j])
        idx.append(np.full(s.size, j))
        steps.append(s)
    i, s = np.concatenate(idx), np.concatenate(steps)
    order = np.lexsort((i, s))  # by step, then index
    return i[order], s[order]


def test_uncoupled_lif_spikes_are_the_closed_form_list():
    net, current = _uncoupled()
    # 3000 steps in chunks of 750: spikes fall on both sides of every chunk boundary
    res = nw.run(net, 300.0, key=jax.random.key(0), monitors=[nw.SpikeMonitor("E")],
                 chunk_steps=750)  # fmt: skip
    rec = res.spikes["E"]
    want_i, want_s = _closed_form(current, 3000)
    assert want_i.size > 1000
    np.testing.assert_array_equal(rec.indices, want_i)
    np.testing.assert_array_equal(rec.steps, want_s)
    assert rec.indices.dtype == np.int32 and rec.steps.dtype == np.int32
    # the (indices, times) pair of earlier releases, times exactly step * dt in float64
    i, t = rec
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t, want_s * DT)
    assert rec.nbytes == 8 * rec.n_spikes
    assert res.mean_rate("E") == pytest.approx(want_i.size * 1e3 / (200 * 300.0))
    trains = res.spike_trains("E")
    np.testing.assert_array_equal(trains[0][~np.isnan(trains[0])], want_s[want_i == 0] * DT)


def test_a_resumed_run_and_a_stored_run_give_the_unbroken_record(tmp_path):
    net, current = _uncoupled()
    mon = [nw.SpikeMonitor("E")]
    # chunks of 750 steps: one compiled chunk for all runs here
    whole = nw.run(net, n_steps=1500, key=jax.random.key(0), monitors=mon, chunk_steps=750)
    first = nw.run(net, n_steps=750, key=jax.random.key(0), monitors=mon, chunk_steps=750)
    second = nw.run(net, n_steps=750, state=first.state, monitors=mon, chunk_steps=750)
    for k in (0, 1):
        np.testing.assert_array_equal(
            np.concatenate([first.spikes["E"][k], second.spikes["E"][k]]), whole.spikes["E"][k]
        )
    assert second.spikes["E"].steps.min() > 750
    want_i, want_s = _closed_form(current, 1500)
    np.testing.assert_array_equal(whole.spikes["E"].steps, want_s)
    # streamed to a zarr store chunk by chunk: the same record, read from disk
    zarr = pytest.importorskip("zarr")
    stored = nw.run(net, n_steps=1500, key=jax.random.key(0), chunk_steps=750,
                    monitors=[nw.SpikeMonitor("E", store=tmp_path / "spikes")])  # fmt: skip
    rec = stored.spikes["E"]
    assert isinstance(rec.indices, zarr.Array) and rec.nbytes == 0
    np.testing.assert_array_equal(rec.indices[:], want_i)
    np.testing.assert_array_equal(rec.times, want_s * DT)
    assert stored.mean_rate("E") == whole.mean_rate("E")
    again = zarr.open_group(str(tmp_path / "spikes"), mode="r")
    assert again["steps"].dtype == np.int32 and again["indices"].dtype == np.int32
    assert dict(again.attrs) == {"dt_ms": DT, "n_neurons": 200}
    np.testing.assert_array_equal(again["steps"][:], want_s)
    # a result with a stored record saves and loads like one in memory
    nw.save_result(tmp_path / "r.npz", stored)
    back = nw.load_result(tmp_path / "r.npz").spikes["E"]
    np.testing.assert_array_equal(back.steps, want_s)
    np.testing.assert_array_equal(back.indices, want_i)


def test_decoding_equals_numpy_unpacking_of_the_words():
    # NumPy's unpackbits is the independent truth; words with every bit pattern: empty,
    # single bits (bit 31 included), full words, dense and sparse rows, a partial last word
    rng = np.random.default_rng(1)
    for n, n_steps, p in [(1000, 300, 0.002), (64, 50, 0.5), (33, 7, 1.0), (4000, 100, 0.0)]:
        flags = rng.random((n_steps, n)) < p
        words = np.zeros((n_steps, -(-n // 32)), np.uint32)
        for b in range(32):
            cols = flags[:, b::32]
            words[:, : cols.shape[1]] |= cols.astype(np.uint32) << np.uint32(b)
        np.testing.assert_array_equal(nw.unpack_spikes(words, n), flags)
        want_rows, want_idx = np.nonzero(flags)
        summary = np.asarray(jax.jit(nonzero_word_flags)(words))
        for s in (summary, None):
            rows, idx = spike_events(words, s)
            np.testing.assert_array_equal(rows, want_rows)
            np.testing.assert_array_equal(idx, want_idx)
            assert idx.dtype == np.int32


def test_records_equal_the_spike_words_of_simulate_for_a_coba_network(monkeypatch):
    # a recurrent network; the reference decodes Network.simulate's per-step words with
    # unpack_spikes (the decoding of earlier releases). Chunks shortened by the spike-word
    # budget (here 3 chunks of 100 steps) change nothing.
    net, mons = nw.coba(1000, key=jax.random.key(0))
    monkeypatch.setattr(_run, "SPIKE_WORDS_CHUNK_BYTES", 15_000)
    res = nw.run(net, n_steps=300, key=jax.random.key(1), monitors=mons)
    assert _run._chunk_length(net, mons, 300, 10_000) == 100
    _, outs = net.simulate(net.init_state(key=jax.random.key(1)), 300, mons)
    total = 0
    for m in mons:
        rows, idx = np.nonzero(nw.unpack_spikes(outs[m.key], net.populations[m.population].n))
        np.testing.assert_array_equal(res.spikes[m.population].indices, idx)
        np.testing.assert_array_equal(res.spikes[m.population].steps, rows + 1)
        total += idx.size
    assert total > 300  # the network is active


def test_version_1_result_files_still_load(tmp_path):
    # results saved before int32 steps stored float64 times
    meta = {"format": "spikejax.network.result", "version": 1, "dt": DT, "t_start": 0.0,
            "t_stop": 1.0, "n_neurons": {"E": 3}, "spikes": ["E"], "rates": [],
            "states": []}  # fmt: skip
    np.savez(tmp_path / "old.npz", __meta__=np.asarray(json.dumps(meta)),
             **{"spikes/E/i": np.array([2, 0], np.int32), "spikes/E/t": np.array([0.3, 0.7]),
                "state/step": np.asarray(10)})  # fmt: skip
    rec = nw.load_result(tmp_path / "old.npz").spikes["E"]
    np.testing.assert_array_equal(rec.steps, [3, 7])
    np.testing.assert_array_equal(rec[1], [0.1 * 3, 0.1 * 7])


def test_bad_spike_monitor_and_record_input_is_named():
    with pytest.raises(ValueError, match=r"SpikeMonitor.store must be a directory path.*3"):
        nw.SpikeMonitor("E", store=3)  # pyright: ignore[reportArgumentType]
    with pytest.raises(ValueError, match=r"SpikeMonitor.store must be a directory path"):
        nw.SpikeMonitor("E", store="")
    with pytest.raises(ValueError, match=r"population .* or its name, got 7"):
        nw.SpikeMonitor(7)
    with pytest.raises(ValueError, match=r"indices and steps must be 1-D of equal length"):
        nw.SpikeRecord(np.zeros(3, np.int32), np.zeros(2, np.int32), 0.1)
    with pytest.raises(ValueError, match=r"SpikeRecord.dt must be > 0 ms, got nan"):
        nw.SpikeRecord(np.zeros(1, np.int32), np.zeros(1, np.int32), float("nan"))
    rec = nw.SpikeRecord(np.array([1], np.int32), np.array([4], np.int32), 0.1)
    with pytest.raises(IndexError, match=r"unpacks as \(indices, times\)"):
        rec[2]
    # `.index` is not the indices (Sequence's method would silently stand in for them)
    with pytest.raises(AttributeError, match=r"no 'index'.*`\.indices`"):
        rec.index  # noqa: B018
    assert rec.indices.tolist() == [1]
    net, _ = _uncoupled(10)
    with pytest.raises(ValueError, match=r"unknown population 'X'"):
        nw.run(net, 1.0, key=jax.random.key(0), monitors=[nw.SpikeMonitor("X")])
    with pytest.raises(ValueError, match=r"duplicate monitors"):
        nw.run(net, 1.0, key=jax.random.key(0),
               monitors=[nw.SpikeMonitor("E"), nw.SpikeMonitor("E", store="x")])  # fmt: skip
