"""Shared helpers for the example scripts: where to write figures, and the size switch.

Each example writes one PNG into the output folder: the first command-line argument that is
not a flag, else `$SPIKEJAX_EXAMPLES_OUT`, else `examples/output/`. `--full` (or
`SPIKEJAX_EXAMPLES_FULL=1`) selects the larger, slower version of an example.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: examples only write files

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # float64: the analyses below are precision work

DPI = 80  # keeps each gallery PNG well under 150 KB


def full() -> bool:
    """True when the larger version of the example was asked for."""
    return "--full" in sys.argv[1:] or os.environ.get("SPIKEJAX_EXAMPLES_FULL", "") == "1"


def output_dir() -> Path:
    """The folder the figure goes to (created if needed)."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if args:
        out = Path(args[0])
    elif os.environ.get("SPIKEJAX_EXAMPLES_OUT"):
        out = Path(os.environ["SPIKEJAX_EXAMPLES_OUT"])
    else:
        out = Path(__file__).resolve().parent / "output"
    out.mkdir(parents=True, exist_ok=True)
    return out


def save(fig, name: str) -> Path:
    """Save `fig` as `<output>/<name>.png` and print the path."""
    path = output_dir() / f"{name}.png"
    fig.savefig(path, dpi=DPI)
    print(f"wrote {path}")
    return path
