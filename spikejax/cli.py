"""The `spikejax` command line.

    spikejax                 # the default job: the COBA network (4000 LIF neurons, 1 s)
    spikejax network --network brunel --n 5000 --duration 500
    spikejax network --network microcircuit --scale 0.1
    spikejax cell --model hh --amplitude 10 --duration 200 --out spikejax_output/
    spikejax explore --port 5006 --no-browser   # the interactive explorer (`app` extra)

Jobs are argparse subcommands registered in `_JOBS`; `DEFAULT_JOB` runs when none is named.
The jobs live in `spikejax._cli`, the top layer (nothing in the library imports it). A bad
option value is a usage error: one line naming the option, the value and the allowed range,
exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._cli._args import finite_float, nonnegative_float, positive_float
from ._cli._explore import add_explore_arguments, run_explore
from ._cli._network import add_network_arguments, check_network_arguments, run_network_cli

#: The job that `spikejax` runs when no job is named.
DEFAULT_JOB = "network"


@dataclass(frozen=True)
class _Job:
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    help: str
    check: Callable[[argparse.ArgumentParser, argparse.Namespace], None] | None = None


_JOBS: dict[str, _Job] = {}


def register_job(
    name: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
    help: str,
    check: Callable[[argparse.ArgumentParser, argparse.Namespace], None] | None = None,
) -> None:
    """Add a subcommand `spikejax <name>`.

    **Arguments:**

    - `name`: the subcommand.
    - `add_arguments`: adds the job's options to its argparse parser (validate single values
      with `type=`, so that a bad value is a usage error).
    - `run`: runs the job from the parsed options and returns the exit status.
    - `help`: one line for `spikejax --help`.
    - `check`: optional; called with the job's parser and the parsed options before `run`,
      for checks that involve several options (report them with `parser.error`).
    """
    _JOBS[name] = _Job(add_arguments, run, help, check)


# ----- `spikejax cell`: single-cell demo ---------------------------------------------------------
_CELLS = {
    # name: (label, factory, default step amplitude, current unit)
    "hh": ("Hodgkin-Huxley", "HodgkinHuxley", 10.0, "uA/cm^2"),
    "izhikevich": ("Izhikevich RS", "Izhikevich", 10.0, "(dimensionless)"),
}


def _cell_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        choices=[*_CELLS, "both"],
        default="both",
        help="which cell to simulate (default: both)",
    )
    p.add_argument(
        "--duration", type=positive_float("ms"), default=200.0, help="run length in ms (200)"
    )
    p.add_argument("--dt", type=positive_float("ms"), default=0.01, help="time step in ms (0.01)")
    p.add_argument(
        "--amplitude",
        type=finite_float,
        default=None,
        help="step current amplitude (model units; default 10 for both models)",
    )
    p.add_argument(
        "--onset",
        type=nonnegative_float("ms"),
        default=None,
        help="step onset in ms (default: 10%% of the duration)",
    )
    p.add_argument(
        "--method",
        default="rk4",
        choices=["euler", "rk4", "exponential_euler"],
        help="fixed-step scheme (rk4)",
    )
    p.add_argument(
        "--out",
        default="spikejax_output",
        help="output directory for the figure (spikejax_output/)",
    )
    p.add_argument("--float64", action="store_true", help="enable 64-bit floats")


def _run_cell(args: argparse.Namespace) -> int:
    import jax

    if args.float64:
        jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import models, simulate
    from .plot import plot_trace
    from .stimulus import Step

    names = list(_CELLS) if args.model == "both" else [args.model]
    onset = 0.1 * args.duration if args.onset is None else args.onset
    os.makedirs(args.out, exist_ok=True)
    fig, axes = plt.subplots(
        len(names), 1, figsize=(8, 2.8 * len(names)), squeeze=False, layout="constrained"
    )
    for ax, name in zip(axes[:, 0], names):
        label, cls, amp0, unit = _CELLS[name]
        model = getattr(models, cls)()
        amp = amp0 if args.amplitude is None else args.amplitude
        stim = Step(onset, float("inf"), amp)
        kw = dict(duration=args.duration, dt=args.dt, I=stim, method=args.method)
        t = time.perf_counter()
        res = simulate(model, **kw)
        first = time.perf_counter() - t
        t = time.perf_counter()
        res = simulate(model, **kw)
        run = time.perf_counter() - t
        n = int(res.n_spikes)
        rate = float(res.rates(onset, res.t_final)) if res.t_final > onset else 0.0
        print(
            f"{label}: step {amp:g} {unit} from {onset:g} ms, {args.duration:g} ms at "
            f"dt={args.dt:g} ms ({args.method}): {n} spikes, {rate:.1f} Hz during the step; "
            f"compile ~{max(first - run, 0.0):.2f} s, run {run:.3f} s"
        )
        plot_trace(res, ax=ax, color="k", linewidth=0.8)
        ax.set_title(f"{label}, step current {amp:g} {unit}")
    path = os.path.join(args.out, "cell.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"figure written to {path}")
    return 0


def _check_cell(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not (args.dt < args.duration):
        parser.error(
            f"argument --dt: must be smaller than --duration ({args.duration:g} ms), "
            f"got {args.dt:g}"
        )


register_job(
    "cell", _cell_arguments, _run_cell, "single-cell demo under a step current", _check_cell
)


# ----- `spikejax network`: a classic network (the default job) -----------------------------------
register_job(
    "network",
    add_network_arguments,
    run_network_cli,
    "a classic network (COBA by default) or the cortical microcircuit: rates, compile/run "
    "time, real-time factor, figures",
    check_network_arguments,
)


# ----- `spikejax explore`: the interactive explorer --------------------------------------------
register_job(
    "explore",
    add_explore_arguments,
    run_explore,
    "the interactive explorer: models, phase planes, bifurcations and F-I curves, live in a "
    "browser (needs the `app` extra: Panel)",
)


# ----- entry point ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with one subcommand per registered job."""
    parser = argparse.ArgumentParser(
        prog="spikejax",
        description="spikejax: spiking neural networks and neuron dynamics on JAX. "
        f"Without a job name, runs `{DEFAULT_JOB}`.",
    )
    sub = parser.add_subparsers(dest="job", metavar="JOB")
    for name, job in _JOBS.items():
        p = sub.add_parser(name, help=job.help, description=job.help)
        job.add_arguments(p)
        p.set_defaults(job_parser=p)  # for the job's `check` (usage errors name the job)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point `spikejax`.

    **Arguments:**

    - `argv`: the command-line arguments (default: `sys.argv[1:]`); without a job name,
      `DEFAULT_JOB` runs with the given options.

    **Returns:** the job's exit status.

    **Raises:** `SystemExit` with status 2 for a usage error (a bad option or value).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = [DEFAULT_JOB, *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    job = _JOBS[args.job]
    if job.check is not None:
        job.check(args.job_parser, args)
    return job.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
