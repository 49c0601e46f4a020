"""The network job behind the `spikejax` command: run a classic network and report."""

from __future__ import annotations

import contextlib
import json
import os
import time

from ._stats import cv_isi


def _build(network: str, n: int, key):
    from . import _classic as c

    if network == "coba":
        return c.coba(n, key=key)
    if network == "cuba":
        return c.cuba(n, key=key)
    if network == "izhikevich":
        n_exc = int(round(0.8 * n))
        return c.izhikevich2003(n_exc, n - n_exc, key=key)
    if network == "brunel":
        return c.brunel2000(int(round(0.8 * n)), key=key)
    raise ValueError(
        f"network must be one of 'coba', 'cuba', 'izhikevich', 'brunel', got {network!r}"
    )


def run_network_job(
    network: str = "coba",
    n: int = 4000,
    duration_ms: float = 1000.0,
    seed: int = 0,
    out_dir: str = "spikejax_output",
    device: str | None = None,
    *,
    progress: bool = True,
    verbose: bool = True,
) -> dict:
    """Build and run a classic network (`"coba"`, `"cuba"`, `"izhikevich"`, `"brunel"`) of `n`
    neurons for `duration_ms` ms; print the mean rate and CV of ISIs per population, the wall
    time split into compile and run, and the real-time factor (run wall time / biological
    time); write `<network>_raster.png` (raster and population rate) and
    `<network>_summary.json` to `out_dir`. `device` is a JAX platform (`"cpu"`, `"gpu"`) or
    None for the default. Returns the summary dict."""
    import jax

    from ..cpu import available_cpu_cores
    from ._run import run

    if not (int(n) == n and n >= 10):
        raise ValueError(f"n must be an integer >= 10, got {n!r}")
    if not (duration_ms > 0):
        raise ValueError(f"duration_ms must be > 0, got {duration_ms!r}")
    ctx = contextlib.nullcontext()
    if device is not None:
        try:
            dev = jax.devices(device)[0]
        except RuntimeError as e:
            raise ValueError(f"device {device!r} is not available: {e}") from None
        ctx = jax.default_device(dev)
    os.makedirs(out_dir, exist_ok=True)
    with ctx:
        t0 = time.perf_counter()
        net, monitors = _build(network, int(n), jax.random.key(seed))
        build_s = time.perf_counter() - t0
        res = run(
            net,
            float(duration_ms),
            key=jax.random.key(seed + 1),
            monitors=monitors,
            progress=progress,
        )
        dev_name = str(jax.devices()[0] if device is None else jax.devices(device)[0])
    pops = {}
    for p, (i, t) in res.spikes.items():
        pops[p] = {
            "n": res.n_neurons[p],
            "rate_hz": res.mean_rate(p),
            "cv_isi": cv_isi(i, t, res.n_neurons[p]),
            "n_spikes": int(i.size),
        }
    total = sum(v["n_spikes"] for v in pops.values())
    summary = {
        "network": network,
        "n": int(n),
        "duration_ms": float(duration_ms),
        "dt_ms": net.dt,
        "seed": seed,
        "device": dev_name,
        "cpu_cores": len(available_cpu_cores()),
        "dtype": str(net.dtype),
        "build_s": build_s,
        "compile_s": res.compile_s,
        "run_s": res.run_s,
        "real_time_factor": res.run_s / (duration_ms * 1e-3),
        "mean_rate_hz": total / (int(n) * duration_ms * 1e-3),
        "populations": pops,
        "spike_buffer_growths": res.spike_buffer_growths,
    }
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        with contextlib.suppress(Exception):
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot._network import plot_network

    fig, _ = plot_network(res, title=f"{network.upper()} ({n} neurons, seed {seed})")
    png = os.path.join(out_dir, f"{network}_raster.png")
    fig.savefig(png, dpi=120)
    plt.close(fig)
    summary["figure"] = png
    with open(os.path.join(out_dir, f"{network}_summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=float)
    if verbose:
        cores = summary["cpu_cores"]
        print(
            f"{network.upper()}: {n} neurons, {duration_ms:g} ms, dt {net.dt} ms on {dev_name} "
            f"({cores} CPU core{'s' if cores > 1 else ''})"
        )
        for p, v in pops.items():
            print(
                f"  {p}: {v['n']} neurons, rate {v['rate_hz']:.2f} Hz, CV(ISI) "
                f"{v['cv_isi']:.3f}, {v['n_spikes']} spikes"
            )
        print(f"  mean rate {summary['mean_rate_hz']:.2f} Hz")
        print(
            f"  build {build_s:.2f} s, compile {res.compile_s:.2f} s, run {res.run_s:.2f} s; "
            f"real-time factor {summary['real_time_factor']:.3f}"
        )
        print(f"  figure: {png}")
    return summary


def add_network_arguments(parser) -> None:
    """argparse options of the network job (for `spikejax.cli`)."""
    parser.add_argument(
        "--network",
        default="coba",
        choices=["coba", "cuba", "izhikevich", "brunel"],
        help="which classic network (coba)",
    )
    parser.add_argument("--n", type=int, default=4000, help="number of neurons (4000)")
    parser.add_argument("--duration", type=float, default=1000.0, help="biological ms (1000)")
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (0)")
    parser.add_argument("--out", default="spikejax_output", help="output folder")
    parser.add_argument("--device", default=None, help="JAX platform: cpu or gpu (default)")
    parser.add_argument(
        "--cpu-cores",
        default="auto",
        help="CPU cores for XLA: a number, 'all', or 'auto' (default: 1 core for networks of "
        "up to 32000 neurons when JAX has no GPU plugin or --device cpu is given, since small "
        "kernels run fastest on one core; see spikejax.cpu)",
    )


def run_network_cli(args) -> int:
    """Run the job from parsed `add_network_arguments` options; returns an exit code."""
    from ..cpu import apply_cores_option

    apply_cores_option(args.cpu_cores, args.device, args.n)
    run_network_job(args.network, args.n, args.duration, args.seed, args.out, args.device)
    return 0


if __name__ == "__main__":  # pragma: no cover
    import argparse

    ap = argparse.ArgumentParser(description="spikejax network job")
    add_network_arguments(ap)
    raise SystemExit(run_network_cli(ap.parse_args()))
