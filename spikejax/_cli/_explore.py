"""`spikejax explore`: the interactive explorer in a browser (`spikejax.explore`)."""

from __future__ import annotations

import argparse

from ._args import integer_in


def add_explore_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `spikejax explore`."""
    from ..explore._catalog import SHORT_NAMES

    p.add_argument(
        "--port", type=integer_in(0, 65535), default=5006, help="TCP port (5006; 0: a free one)"
    )
    p.add_argument(
        "--address", default="localhost", help="interface to listen on (localhost: this machine)"
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.add_argument(
        "--model",
        choices=list(SHORT_NAMES),
        default=None,
        help="the model selected first (default: hh)",
    )


def run_explore(args: argparse.Namespace) -> int:
    """Serve the explorer until interrupted; prints its address."""
    from ..explore import serve
    from ..explore._catalog import SHORT_NAMES

    serve(
        None if args.model is None else SHORT_NAMES[args.model],
        port=args.port,
        address=args.address,
        show=not args.no_browser,
    )
    return 0
