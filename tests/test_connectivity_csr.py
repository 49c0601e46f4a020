"""The event tables in compressed-sparse-row form, the microcircuit built pair by pair, its
memory estimate and the command line's refusal of networks that do not fit."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikejax.network as nw
from spikejax.models import LIF
from spikejax.network._microcircuit import _draw_blocks, _merged_rows
from spikejax.network._native import native_delivery
from spikejax.network._projection import deliver_events, spike_words

DT = 0.1
LIF0 = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=2.0)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FULL_N = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
# Connection probabilities, Potjans & Diesmann (2014) Table 5 (rows: target, columns: source)
TABLE5 = np.array(
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
    ]
)


def _random_synapses(rng, n_pre, n_post, n_syn, silent):
    """Random synapses (with multapses) whose pre neurons avoid `silent` (zero out-degree)."""
    allowed = np.setdiff1d(np.arange(n_pre), silent)
    pre = rng.choice(allowed, n_syn)
    post = rng.integers(0, n_post, n_syn)
    w = rng.uniform(-1.0, 2.0, n_syn)
    d = rng.integers(0, 7, n_syn) * DT
    return pre, post, w, d


@pytest.mark.parametrize("delivery", ["single", "scatter", "native", "padded"])
def test_event_delivery_equals_a_dense_float64_reference(delivery):
    # Ring-buffer contributions of one step's spikes against a numpy float64 reference
    # (buffer[(k + 1 + d) % D, col + post] += w for every synapse of every spiking neuron), on
    # a random network with multapses, heterogeneous delays, per-synapse weights, neurons
    # with no synapse at all (some of them spiking) and one neuron with the largest row.
    if delivery == "native" and native_delivery() is None:
        pytest.skip("no C++ compiler for the compiled delivery on this machine")
    rng = np.random.default_rng(7)
    n_pre, n_post = 50, 30
    silent = np.array([0, 3, 17, 49])
    pre, post, w, d = _random_synapses(rng, n_pre, n_post, 400, silent)
    pre = np.concatenate([pre, np.full(40, 21)])  # neuron 21: the widest row
    post = np.concatenate([post, rng.integers(0, n_post, 40)])
    w = np.concatenate([w, rng.uniform(0, 1, 40)])
    d = np.concatenate([d, rng.integers(0, 7, 40) * DT])
    a = nw.Population(LIF0, n_pre, name="A")
    b = nw.Population(LIF0, n_post, name="B")
    pr = nw.Projection(
        a, b, nw.Explicit(pre, post, weight=w, delay=d), synapse=nw.Exponential(5.0),
        propagation="event",
    )  # fmt: skip
    assert pr.out_degrees[silent].sum() == 0 and pr.out_degrees.argmax() == 21
    net = nw.Network(
        [a, b], [pr], dt=DT, dtype=jnp.float64,
        delivery="padded" if delivery == "padded" else "loop",
    )  # fmt: skip
    cp = net.projections[0]
    assert cp.width == pr.out_degrees.max()
    D = net.buffer_depth
    col, _ = net.receptor_columns[cp.receptor_key]
    W = sum(n + 1 for _, n in net.receptor_columns.values())
    spiking = rng.random(n_pre) < 0.5
    spiking[[0, 3, 21, 49]] = True  # silent neurons that spike, and the widest row
    k = 5
    expected = np.zeros((D, W))
    for s in range(pre.size):
        if spiking[pre[s]]:
            expected[(k + 1 + int(round(d[s] / DT))) % D, col + post[s]] += w[s]
    if delivery == "padded":
        idx = jnp.asarray(np.flatnonzero(spiking).astype(np.int32))
        out = cp.deliver(jnp.zeros((D, W)), None, k, col, idx)
    else:
        words = spike_words(jnp.asarray(spiking))
        count = jnp.asarray(int(spiking.sum()), jnp.int32)
        flat = jnp.zeros(D * W)
        out = deliver_events([cp], flat, words, count, k, D, W, [col], kernel=delivery)
        out = out.reshape(D, W)
    real = np.ones((D, W), bool)
    real[:, col + n_post] = False  # the dummy column takes the windows' tails
    np.testing.assert_allclose(np.asarray(out)[real], expected[real], rtol=1e-13, atol=1e-13)
    if delivery == "native":
        # emptying the slot the step read (k % D) first, in place: onto a buffer that was
        # not empty, the old values stay everywhere but in that slot
        old = rng.normal(size=(D, W))
        out = deliver_events(
            [cp], jnp.asarray(old.reshape(-1)), words, count, k, D, W, [col], "native", True
        )
        kept = old.copy()
        kept[k % D] = 0.0
        np.testing.assert_allclose(
            np.asarray(out).reshape(D, W)[real], (kept + expected)[real], rtol=1e-13, atol=1e-13
        )
        with pytest.raises(ValueError, match="clear=True needs kernel 'native'"):
            deliver_events([cp], flat, words, count, k, D, W, [col], "single", True)


def test_csr_table_has_no_padding_between_rows():
    # The table holds n_synapses + K targets (K the largest out-degree) and n_pre + 2 offsets,
    # whatever the spread of the out-degrees: here one row of 200 and 99 rows of 1.
    a = nw.Population(LIF0, 100, name="A")
    pre = np.concatenate([np.zeros(200, int), np.arange(1, 100)])
    post = np.concatenate([np.arange(200) % 100, np.arange(1, 100)])
    pr = nw.Projection(a, a, nw.Explicit(pre, post), propagation="event")
    cp = nw.Network([a], [pr], dt=DT, delivery="loop").projections[0]
    assert cp.width == 200 and cp.rows.dtype == jnp.int32
    assert cp.rows.size == (100 + 2) + 299 + 200  # a padded row table: 101 x 200


def test_explicit_rows_are_taken_as_given_and_checked():
    a = nw.Population(LIF0, 3, name="A")
    rows = nw.ExplicitRows(
        np.array([0, 2, 2, 3]),
        np.array([2, 0, 1], np.int32),
        weight=np.array([1, 2, 3], np.float32),
    )
    pr = nw.Projection(a, a, rows)
    assert pr.post_idx.dtype == np.int32 and pr.weight.dtype == np.float32
    np.testing.assert_array_equal(pr.pre_idx, [0, 0, 2])
    with pytest.raises(ValueError, match="offsets must run from 0 to len"):
        nw.ExplicitRows([0, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="non-decreasing"):
        nw.ExplicitRows([0, 3, 2, 3], [1, 2, 0])
    with pytest.raises(ValueError, match="n_pre \\+ 1 = 4"):
        nw.Projection(a, a, nw.ExplicitRows([0, 1, 2], [0, 1]))
    with pytest.raises(ValueError, match="post indices must be in \\[0, 3\\)"):
        nw.Projection(a, a, nw.ExplicitRows([0, 1, 1, 1], [3]))


def test_merged_rows_equal_the_sorted_concatenation_of_the_pairs():
    # The pair-by-pair build gives exactly the synapses of drawing every pair and sorting
    # their concatenation by (pre, post), stably (the construction before the block build).
    prm = nw.microcircuit_parameters(0.02)
    key = jax.random.key(3)
    offs = np.concatenate([[0], np.cumsum(prm["n"])])
    blocks = _draw_blocks(prm, key, DT)
    pre = np.concatenate([offs[j] + p for i, j, p, *_ in blocks])
    post = np.concatenate([offs[i] + q for i, j, p, q, *_ in blocks])
    w = np.concatenate([b[4] for b in blocks])
    d = np.concatenate([b[5] for b in blocks])
    order = np.lexsort((post, pre))
    rows = _merged_rows(prm, key, DT, 1.0, np.float32)
    assert rows.weight is not None and rows.delay is not None
    np.testing.assert_array_equal(np.repeat(np.arange(offs[-1]), np.diff(rows.offsets)), pre[order])
    np.testing.assert_array_equal(rows.post, post[order])
    np.testing.assert_array_equal(rows.weight, w[order].astype(np.float32))
    np.testing.assert_array_equal(np.rint(rows.delay.astype(float) / DT), np.rint(d[order] / DT))


def test_microcircuit_synapse_counts_and_degrees_follow_fixed_total_number():
    # Potjans & Diesmann's rule: S_ij = round(ln(1 - C_ij) / ln(1 - 1/(N_i N_j)) * k) synapses
    # per (target i, source j) pair (k = scale here), each with a pre and a post neuron drawn
    # uniformly: the count per pair is exact, and the in-degree of a target neuron from
    # source j is Binomial(S_ij, 1/N_i) (mean S/N_i, variance S (1/N_i)(1 - 1/N_i)), the
    # out-degree of a source neuron Binomial(S_ij, 1/N_j).
    scale = 0.05
    n = np.round(FULL_N * scale).astype(int)
    S = np.round(
        np.log(1 - TABLE5) / np.log(1 - 1 / np.outer(FULL_N, FULL_N).astype(float)) * scale**2
    ).astype(int)
    net, _ = nw.microcircuit(scale, key=jax.random.key(0))
    cp = net.projections[0]
    nn = int(n.sum())
    offsets = np.asarray(cp.rows[: nn + 1]).astype(np.int64)
    post = np.asarray(cp.rows[nn + 2 : nn + 2 + offsets[-1]])
    pre = np.repeat(np.arange(nn), np.diff(offsets))
    offs = np.concatenate([[0], np.cumsum(n)])
    gi, gj = np.searchsorted(offs, post, "right") - 1, np.searchsorted(offs, pre, "right") - 1
    counts = np.zeros((8, 8), int)
    np.add.at(counts, (gi, gj), 1)
    np.testing.assert_array_equal(counts, S)
    z_var = []
    for i in range(8):
        for j in range(8):
            if S[i, j] < 1000:
                continue
            sel = (gi == i) & (gj == j)
            for deg, N in (
                (np.bincount(post[sel] - offs[i], minlength=n[i]), n[i]),
                (np.bincount(pre[sel] - offs[j], minlength=n[j]), n[j]),
            ):
                p = 1.0 / N
                mean, var = S[i, j] * p, S[i, j] * p * (1 - p)
                assert deg.sum() == S[i, j] and deg.mean() == pytest.approx(mean, rel=1e-12)
                # the sample variance of N binomial counts: sd about var sqrt(2 / N)
                z_var.append((deg.var(ddof=1) - var) / (var * np.sqrt(2.0 / N)))
    z = np.asarray(z_var)
    assert len(z) > 60 and np.all(np.abs(z) < 5), np.abs(z).max()
    assert abs(np.mean(z)) < 4 / np.sqrt(len(z))


def test_memory_estimate_terms_match_the_arrays_built():
    # The estimate's terms against the bytes of the arrays actually built: the host rows
    # from `_merged_rows` and the device table of the compiled projection.
    from spikejax.network._microcircuit import _memory_parts

    scale = 0.03
    prm = nw.microcircuit_parameters(scale)
    rows = _merged_rows(prm, jax.random.key(0), DT, 1.0, np.float32)
    assert rows.weight is not None and rows.delay is not None
    host = rows.offsets.nbytes + rows.post.nbytes + rows.weight.nbytes + rows.delay.nbytes
    net, _ = nw.microcircuit(scale, key=jax.random.key(0), dtype=jnp.float32)
    cp = net.projections[0]
    device = sum(a.size * a.dtype.itemsize for a in (cp.rows, cp.weight, cp.delays))
    parts = _memory_parts(scale, None, jnp.float32)
    assert parts["host"] == pytest.approx(host, rel=0.01)
    assert parts["device"] == pytest.approx(device, rel=0.01)
    assert nw.microcircuit_memory_estimate(scale, dtype=jnp.float32) == parts["base"] + max(
        parts["drawing"], parts["moving"]
    )


@pytest.mark.slow
def test_memory_estimate_bounds_the_measured_peak():
    # The estimate against the peak resident size (`ru_maxrss`) of a fresh process that
    # builds and runs the network: above it, by less than the process allowance plus twice
    # the tables.
    from spikejax.network._microcircuit import _memory_parts

    scale = 0.05
    parts = _memory_parts(scale, None, jnp.float32)
    est = nw.microcircuit_memory_estimate(scale, dtype=jnp.float32)
    code = (
        "import resource, jax, spikejax.network as nw\n"
        f"net, m = nw.microcircuit({scale}, key=jax.random.key(0))\n"
        "r = nw.run(net, 20.0, key=jax.random.key(1), monitors=m)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_", "JAX_"))}
    env["PYTHONPATH"] = ROOT
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr
    peak = int(proc.stdout.split()[-1])
    assert peak <= est <= peak + parts["base"] + 2 * (parts["host"] + parts["device"])


def test_cli_refuses_a_microcircuit_that_does_not_fit(tmp_path, capsys, monkeypatch):
    # The estimate is printed before building; with too little memory (injected) the job
    # and the command line refuse, naming the scale, the estimate and the available memory.
    from spikejax._cli._network import run_network_job
    from spikejax.cli import main

    est = nw.microcircuit_memory_estimate(1.0)
    assert 4e9 < est < 20e9  # the full-scale microcircuit fits this 24 GiB machine
    with pytest.raises(ValueError) as e:
        run_network_job("microcircuit", scale=1.0, memory_available=10**9, out_dir=str(tmp_path))
    msg = str(e.value)
    assert "scale 1" in msg and f"{est / 1e9:.3g} GB" in msg and "only 1 GB" in msg
    monkeypatch.setenv("SPIKEJAX_MEMORY_AVAILABLE", "2e9")
    with pytest.raises(SystemExit) as ex:
        main(["--network", "microcircuit", "--scale", "1", "--out", str(tmp_path)])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "argument --scale:" in err and "scale 1 (77169 neurons" in err
    assert f"{est / 1e9:.3g} GB" in err and "2 GB is available" in err
    monkeypatch.delenv("SPIKEJAX_MEMORY_AVAILABLE")

    class Built(Exception):
        pass

    def build(*args):  # stop where the network would be built: the estimate is printed
        raise Built

    monkeypatch.setattr("spikejax._cli._network._build", build)
    with pytest.raises(Built):
        run_network_job("microcircuit", scale=0.3, out_dir=str(tmp_path), memory_available=10**10)
    small = nw.microcircuit_memory_estimate(0.3)
    out = capsys.readouterr().out.splitlines()[0]
    assert "microcircuit at scale 0.3 (23151 neurons" in out
    assert f"memory estimate {small / 1e9:.3g} GB (10 GB available)" in out
