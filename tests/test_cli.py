"""The `spikejax` command line: help and a tiny single-cell run that writes its figure."""

from spikejax.cli import build_parser, main


def test_help_lists_jobs(capsys):
    try:
        main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    assert "cell" in out and "network" in out and "usage: spikejax" in out
    assert build_parser().parse_args(["cell", "--model", "hh"]).model == "hh"


def test_cell_job_writes_png(tmp_path, capsys):
    out = tmp_path / "figs"
    # A tiny run (the HH cell is exercised in test_simulate).
    args = ["cell", "--model", "izhikevich", "--duration", "50", "--dt", "0.1", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    png = out / "cell.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Izhikevich RS under I = 10 from 5 ms: first spike after ~5 ms, the second 22 ms later.
    assert "Izhikevich RS" in text and "2 spikes" in text


def test_default_job_is_the_network_run(tmp_path, capsys):
    """`spikejax` with options only runs the network job; a small, short COBA run prints its
    rate, compile/run split and real-time factor, and writes its figure."""
    out = tmp_path / "net"
    assert main(["--n", "400", "--duration", "50", "--out", str(out)]) == 0
    text = capsys.readouterr().out.lower()
    assert "compile" in text and "real-time" in text and "hz" in text
    pngs = list(out.glob("*.png"))
    assert pngs and pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_importing_spikejax_leaves_plotting_and_progress_libraries_alone():
    # `import spikejax` must not import matplotlib (nor switch its backend, which would break
    # notebooks) or tqdm: both load when a plot or progress bar is first asked for.
    import subprocess
    import sys

    code = "import sys, spikejax; print('matplotlib' in sys.modules, 'tqdm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
