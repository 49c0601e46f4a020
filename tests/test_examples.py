"""Every script in `examples/` runs at its default (small) size and writes its PNG.

Each example runs in a fresh subprocess (as a user would run it) with a temporary output
folder passed through `SPIKEJAX_EXAMPLES_OUT`. Examples listed in `SLOW` take longer than a
few seconds on one CPU core and are marked `slow`.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))

# Examples whose default run takes more than ~10 s of CPU on one core (measured on the 2-core
# development machine: continuation and limit cycles compile many functions; the fit runs 60
# gradient steps). The default ones together use about 45 s of CPU.
SLOW: set[str] = {
    # kept out of the default suite for its time budget; `lif_trace` and
    # `hh_action_potential` stay in it as the smoke test of every example's path
    "artificial_neuron",
    "bifurcation_saddle_node",
    "coba_network",
    "inap_phase_line",
    "izhikevich_firing_patterns",
    "poisson_spike_train",
    "trace_determinant",
    "bifurcation_hopf_subcritical",
    "bifurcation_hopf_supercritical",
    "bifurcation_snic",
    "fi_curves",
    "fit_hh_conductances",
    "fitzhugh_nagumo_phase_portrait",
    "inapik_phase_portrait",
    "integrator_vs_resonator",
    "izhikevich_phase_portrait",
    "two_parameter_bifurcations",
}


def _png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header; raises if the file is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", head[16:24])


def _run(script: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    # Warnings raised by the example script itself are errors (those from dependencies, such
    # as JAX noting the absent accelerator, are not the example's fault).
    env.update(SPIKEJAX_EXAMPLES_OUT=str(out), MPLBACKEND="Agg", PYTHONWARNINGS="error:::__main__")
    env.pop("SPIKEJAX_EXAMPLES_FULL", None)
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _params():
    return [
        pytest.param(s, id=s.stem, marks=[pytest.mark.slow] if s.stem in SLOW else [])
        for s in SCRIPTS
    ]


def test_there_are_examples():
    assert len(SCRIPTS) >= 3, f"expected the example scripts in {EXAMPLES}"


@pytest.mark.parametrize("script", _params())
def test_example_writes_png(script: Path, tmp_path: Path):
    proc = _run(script, tmp_path)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"
    pngs = sorted(tmp_path.glob("*.png"))
    assert pngs == [tmp_path / f"{script.stem}.png"], f"{script.name} wrote {pngs}"
    w, h = _png_size(pngs[0])
    assert 200 <= w <= 2000 and 150 <= h <= 2000, f"unexpected figure size {w}x{h}"
    # Small enough for the gallery (the committed copies must stay < 150 KB).
    assert pngs[0].stat().st_size < 150_000


@pytest.mark.slow  # a whole example run for the argv path; the default ones cover the rest
def test_output_folder_from_argv(tmp_path: Path):
    # A folder given on the command line wins over the environment variable.
    script = EXAMPLES / "trace_determinant.py"
    argv_out = tmp_path / "argv"
    proc = _run(script, tmp_path / "env", str(argv_out))
    assert proc.returncode == 0, proc.stderr
    assert (argv_out / "trace_determinant.png").exists()
    assert not (tmp_path / "env").exists()


def test_every_example_is_in_the_gallery():
    gallery = (EXAMPLES.parent / "docs" / "gallery.md").read_text()
    for script in SCRIPTS:
        assert f"gallery/{script.stem}.png" in gallery, f"{script.name} missing from gallery.md"
        assert f"examples/{script.name}" in gallery, f"gallery.md does not name {script.name}"
