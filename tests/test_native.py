"""The compiled CPU spike delivery (`spikejax/network/_native.py`): chosen for large networks,
bit-identical to the XLA loop in a whole network run, cached between processes, and absent
(with a warning where it failed) without a compiler or when switched off. Its sums against
an independent numpy reference: `test_connectivity_csr.py`."""

import os

import jax
import numpy as np
import pytest

import spikejax.network as nw
from spikejax.network import _native
from spikejax.network._projection import NATIVE_MIN_NEURONS, event_kernel

needs_native = pytest.mark.skipif(
    _native.native_delivery() is None, reason="no C++ compiler for the compiled delivery"
)


@pytest.fixture
def fresh_native(monkeypatch):
    """`native_delivery` decided anew in the test, and again for the tests after it."""
    _native.native_delivery.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    _native.native_delivery.cache_clear()


def test_switched_off_or_without_a_compiler_networks_keep_the_xla_loop(fresh_native, tmp_path):
    net, _ = nw.coba(200, key=jax.random.key(0), delivery="loop")
    group = [cp for cp in net.projections if cp.pre == "E"]
    fresh_native.setenv(_native.NATIVE_ENV, "0")
    assert _native.native_delivery() is None
    assert event_kernel(group, 10 * NATIVE_MIN_NEURONS) in ("single", "scatter")
    # a compiler that fails: a warning naming the cause, and the XLA loop
    _native.native_delivery.cache_clear()
    fresh_native.setenv(_native.NATIVE_ENV, "1")
    fresh_native.setenv("CXX", "false")
    fresh_native.setenv("SPIKEJAX_CACHE_DIR", str(tmp_path))
    with pytest.warns(RuntimeWarning, match="compiled CPU spike delivery is unavailable"):
        assert _native.native_delivery() is None
    assert event_kernel(group, 10 * NATIVE_MIN_NEURONS) in ("single", "scatter")
    assert not list(tmp_path.rglob("*.so"))  # nothing half-built left behind


def test_the_library_is_built_once_and_then_loaded_from_the_cache(fresh_native, tmp_path):
    # a stand-in compiler that logs its compilations: the second build of the same source
    # finds the cached library; another source (or compiler) compiles into another file
    log = tmp_path / "log"
    cxx = tmp_path / "cxx"
    cxx.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --version ]; then echo stand-in 1.0; exit 0; fi\n'
        f'echo compiled >> "{log}"\n'
        'while [ $# -gt 1 ]; do if [ "$1" = -o ]; then echo lib > "$2"; fi; shift; done\n'
    )
    cxx.chmod(0o755)
    fresh_native.setenv("SPIKEJAX_CACHE_DIR", str(tmp_path / "cache"))
    path = _native._build(b"int a;", str(cxx))
    assert os.path.dirname(path) == str(tmp_path / "cache" / "native") and os.path.exists(path)
    assert _native._build(b"int a;", str(cxx)) == path
    assert log.read_text().count("compiled") == 1
    assert _native._build(b"int b;", str(cxx)) != path
    assert log.read_text().count("compiled") == 2
    assert [p.name for p in (tmp_path / "cache" / "native").iterdir() if p.is_dir()] == []


@needs_native
def test_large_networks_deliver_natively_with_the_same_spikes():
    # COBA just above the size from which the compiled kernel is chosen: the same run with
    # the XLA loop gives the same spikes and final state, bit for bit (same sums, same order)
    import copy

    net, mons = nw.coba(NATIVE_MIN_NEURONS, key=jax.random.key(0))
    assert set(dict(net.event_kernels_).values()) == {"native"}
    xla = copy.copy(net)
    object.__setattr__(xla, "event_kernels_", tuple((p, "single") for p, _ in net.event_kernels_))
    runs = [nw.run(x, 30.0, key=jax.random.key(1), monitors=mons) for x in (net, xla)]
    assert runs[0].spikes["E"][0].size > 500
    for p in ("E", "I"):
        for a, b in zip(runs[0].spikes[p], runs[1].spikes[p]):
            np.testing.assert_array_equal(a, b)
    finals = [jax.tree.leaves(r.state["neurons"]) for r in runs]
    for a, b in zip(*finals):
        np.testing.assert_array_equal(a, b)
