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


@needs_native
def test_clearing_the_read_slot_in_the_kernel_under_vmap_and_grad():
    # `clear=True` empties the slot k % D before delivering: per member under vmap (members
    # with their own step, and members with their own weights, which go to the XLA loop),
    # and the buffer's gradient is the cotangent with that slot zeroed (it no longer
    # depends on the old values there).
    import equinox as eqx
    import jax.numpy as jnp

    from spikejax.models import LIF
    from spikejax.network._projection import clear_slots, deliver_events, spike_words

    lif = LIF(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=2.0)
    a = nw.Population(lif, 70, name="A")
    pr = nw.Projection(
        a, a, nw.FixedProbability(0.2), weight=lambda r, m: r.uniform(0.1, 1.0, m),
        delay=lambda r, m: r.integers(0, 6, m) * 0.1, propagation="event",
        key=jax.random.key(1),
    )  # fmt: skip
    net = nw.Network([a], [pr], dt=0.1, dtype=jnp.float64)
    cols = [net.receptor_columns[cp.receptor_key][0] for cp in net.projections]
    D, W = net.buffer_depth, sum(n + 1 for _, n in net.receptor_columns.values())
    assert D > 3
    rng = np.random.default_rng(0)
    flats = jnp.asarray(rng.normal(size=(3, D * W)))
    words = jnp.stack([spike_words(jnp.asarray(rng.random(70) < 0.3)) for _ in range(3)])
    counts = jnp.sum(jax.lax.population_count(words), axis=1, dtype=jnp.int32)
    ks = jnp.asarray([3, 4, 9], jnp.int32)

    def deliver(kernel, clear, f, wd, c, k, projections=net.projections):
        return deliver_events(projections, f, wd, c, k, D, W, cols, kernel, clear)

    native = jax.vmap(lambda f, wd, c, k: deliver("native", True, f, wd, c, k))
    xla = jax.vmap(lambda f, wd, c, k: deliver("single", False, clear_slots(f, k, D, W), wd, c, k))
    np.testing.assert_array_equal(native(flats, words, counts, ks), xla(flats, words, counts, ks))
    for j in range(3):
        slot = int(ks[j]) % D
        out = np.asarray(native(flats, words, counts, ks)[j]).reshape(D, W)
        assert not np.any(out[slot] == np.asarray(flats[j]).reshape(D, W)[slot])
    # members with their own weights: the XLA loop, which must clear too
    scale = jnp.asarray([1.0, 0.5, 2.0])

    def scaled(kn, clear, f, wd, c, k, s):
        first = eqx.tree_at(lambda cp: cp.weight, net.projections[0], net.projections[0].weight * s)
        return deliver(kn, clear, f, wd, c, k, (first,))

    out = jax.vmap(lambda *x: scaled("native", True, *x))(flats, words, counts, ks, scale)
    ref = jax.vmap(
        lambda f, wd, c, k, s: scaled("single", False, clear_slots(f, k, D, W), wd, c, k, s)
    )(flats, words, counts, ks, scale)
    np.testing.assert_array_equal(out, ref)
    # the gradient with respect to the buffer: the cotangent, zero in the emptied slot
    cot = jnp.asarray(rng.normal(size=D * W))
    g = jax.grad(lambda f: jnp.sum(cot * deliver("native", True, f, words[0], counts[0], 3)))(
        flats[0]
    )
    expected = np.asarray(cot).reshape(D, W).copy()
    expected[3 % D] = 0.0
    np.testing.assert_array_equal(np.asarray(g).reshape(D, W), expected)


@needs_native
def test_a_sharded_batch_of_large_networks_delivers_natively():
    # `simulate_batch` (shard_map over 2 virtual CPU devices, vmap inside) with networks
    # large enough for the compiled delivery: each member's spikes equal the same network
    # run alone with the XLA loop
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import os
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        import copy, jax, numpy as np
        import spikejax.network as sn
        net, mons = sn.coba({NATIVE_MIN_NEURONS}, key=jax.random.key(0))
        assert set(dict(net.event_kernels_).values()) == {{"native"}}
        keys = jax.random.split(jax.random.key(3), 2)
        _, out = sn.simulate_batch(net, sn.init_batch(net, keys), 60,
                                   mesh=sn.device_mesh(2, axis_name="b"), monitors=mons)
        xla = copy.copy(net)
        object.__setattr__(xla, "event_kernels_", (("E", "single"), ("I", "single")))
        same, n = True, 0
        for b in range(2):
            _, alone = xla.simulate(xla.init_state(key=keys[b]), 60, mons)
            for k in alone:
                same &= bool((np.asarray(out[k])[b] == np.asarray(alone[k])).all())
                n += int(np.bitwise_count(np.asarray(alone[k])).sum())
        print("RESULT", same, n)
    """)
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env
    )
    assert r.returncode == 0, r.stderr[-3000:]
    _, same, n = r.stdout.strip().splitlines()[-1].split()
    assert same == "True" and int(n) > 100


@needs_native
def test_the_kernel_boundary_is_the_identity_for_values_derivatives_and_batches():
    # `boundary` (the call XLA cannot fuse across): the identity, bit for bit, in float32
    # and float64, under jit and vmap; its derivative is the identity (d/dx sum(b(x)^2) = 2x)
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    for dtype in (jnp.float32, jnp.float64):
        x = jnp.asarray(rng.normal(size=(3, 257)), dtype)
        np.testing.assert_array_equal(jax.jit(_native.boundary)(x), x)
        np.testing.assert_array_equal(jax.vmap(_native.boundary)(x), x)
        g = jax.grad(lambda v: jnp.sum(_native.boundary(v * 1.5) ** 2))(x)
        rtol = 1e-6 if dtype == jnp.float32 else 1e-14
        np.testing.assert_allclose(g, 4.5 * np.asarray(x), rtol=rtol)
        t = jax.jvp(_native.boundary, (x,), (2 * x,))[1]
        np.testing.assert_array_equal(t, 2 * x)


@needs_native
def test_the_boundary_computes_the_new_potential_once_without_copying_it():
    # In a network on the compiled delivery, each population's integrated potential passes
    # the boundary: XLA's step computes it in one kernel and no longer copies the new
    # potential into place (without the boundary: one copy per population, see
    # `_native`'s docstring). A consistency check of the mechanism; the values are checked
    # bit-identical to the XLA loop in the test above.
    import re

    net, mons = nw.coba(NATIVE_MIN_NEURONS, key=jax.random.key(0))
    state = net.init_state(key=jax.random.key(1))
    sizes = {p.n for p in net.populations.values()}

    def copies(hlo: str) -> int:
        # whole-population copies in the loop body (the computation with the deliveries)
        (body,) = [c for c in hlo.split("\n\n") if 'target="spikejax_deliver"' in c]
        shapes = re.findall(r"= f(?:32|64)\[(\d+)\]\{0\} copy\(", body)
        return sum(int(s) in sizes for s in shapes)

    def compiled(n):
        from spikejax.cpu import compiler_options

        f = jax.jit(lambda s: net.simulate(s, n, mons), compiler_options=compiler_options())
        return f.lower(state).compile().as_text() or ""

    with_boundary = compiled(5)
    assert with_boundary.count('custom_call_target="spikejax_boundary"') == 2
    assert copies(with_boundary) == 0
    identity = _native.boundary
    try:
        _native.boundary = lambda x: x  # pyright: ignore[reportAttributeAccessIssue]
        assert copies(compiled(6)) == 2
    finally:
        _native.boundary = identity
