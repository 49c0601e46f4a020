"""The `spikejax` command line: help and a tiny single-cell run that writes its figure."""

from spikejax.cli import build_parser, main


def test_help_lists_jobs(capsys):
    try:
        main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    assert "cell" in out and "usage: spikejax" in out
    assert build_parser().parse_args(["cell", "--model", "hh"]).model == "hh"


def test_cell_job_writes_png(tmp_path, capsys):
    out = tmp_path / "figs"
    # Default job (no name) = cell; a tiny run (the HH cell is exercised in test_simulate).
    args = ["--model", "izhikevich", "--duration", "50", "--dt", "0.1", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    png = out / "cell.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Izhikevich RS under I = 10 from 5 ms: first spike after ~5 ms, the second 22 ms later.
    assert "Izhikevich RS" in text and "2 spikes" in text
