"""The explorer in a real browser: the system's headless Chromium driven by Playwright (no
browser download). Skipped with the reason when Panel, Playwright or Chromium is missing.

Screenshots of each step are saved to `$SPIKEJAX_SCREENSHOTS` (default: pytest's temporary
directory) as test artefacts. Truths: the equilibria of the I_Na,p + I_K model (three below
the saddle-node on invariant circle at I = 4.51, one above; Izhikevich 2007, fig. 6.7) and the
Hopf point of the Hodgkin-Huxley model at I = 9.78 uA/cm^2 (Rinzel & Miller 1980).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("panel", reason="the explorer needs Panel: pip install 'spikejax[app]'")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser tests need Playwright: pip install playwright"
)

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
if CHROMIUM is None:
    pytest.skip(
        "no Chromium on this machine (Debian: apt-get install chromium)", allow_module_level=True
    )

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT = 400_000  # ms: the first view of a model compiles its analysis (minutes under load)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    d = os.environ.get("SPIKEJAX_SCREENSHOTS")
    path = Path(d) if d else tmp_path_factory.mktemp("explorer_screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def page(shots):
    import spikejax as sj

    server = sj.explore.serve("inapik", port=0, show=False, threaded=True)
    try:
        with sync_api.sync_playwright() as p:
            # Playwright gives the browser a fresh temporary profile (--user-data-dir).
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            pg = browser.new_page(viewport={"width": 1300, "height": 1000})
            pg.set_default_timeout(TIMEOUT)
            pg.goto(server.url, timeout=TIMEOUT)
            _wait_text(pg, "sj-fixed-points", r"fixed point")
            yield pg
            browser.close()
    finally:
        server.stop()


def _text(pg, cls: str) -> str:
    """The text of the Panel pane with CSS class `cls` (its content is in a shadow root)."""
    return pg.locator(f".{cls}").first.evaluate(
        "e => (e.shadowRoot ? e.shadowRoot.textContent : e.textContent) || ''"
    )


def _wait_text(pg, cls: str, pattern: str) -> str:
    """Wait until the pane's text matches `pattern` (the server computes, then updates)."""
    pg.locator(f".{cls}").first.wait_for(state="attached", timeout=TIMEOUT)
    deadline = time.monotonic() + TIMEOUT / 1000
    text = ""
    while time.monotonic() < deadline:
        text = _text(pg, cls)
        if re.search(pattern, text):
            return text
        pg.wait_for_timeout(100)
    raise AssertionError(f"{cls}: {pattern!r} not found in {text!r}")


def _group(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, (pattern, text)
    return found.group(1)


def _type_I(pg, value: str) -> None:
    box = pg.locator(".sj-I-input input").first
    box.fill(value)
    box.press("Enter")


def test_snic_from_three_equilibria_to_one_and_spiking(page, shots):
    _type_I(page, "3")
    fps = _wait_text(page, "sj-fixed-points", r"3 fixed points at I = 3:")
    assert fps.count("V = ") == 3 and "saddle" in fps and "stable" in fps
    assert re.search(r"\b0 spikes", _text(page, "sj-trace-stats"))
    assert "LP fold (saddle-node) at I = 4.51" in _text(page, "sj-special-points")
    page.screenshot(path=str(shots / "inapik_I3_three_equilibria.png"))
    _type_I(page, "5")
    fps = _wait_text(page, "sj-fixed-points", r"1 fixed point at I = 5:")
    assert fps.count("V = ") == 1 and "unstable focus" in fps
    stats = _wait_text(page, "sj-trace-stats", r"I = 5\)")
    n = int(_group(r"(\d+) spike", stats))
    assert n >= 2, stats  # past the SNIC the cell fires repetitively
    page.screenshot(path=str(shots / "inapik_I5_spiking.png"))


def test_click_in_phase_plane_starts_a_trajectory(page, shots):
    before = int(_group(r"(\d+) trajector", _text(page, "sj-plane-info")))
    canvas = page.locator(".sj-plane canvas").first
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 0.45 * box["width"], box["y"] + 0.6 * box["height"])
    info = _wait_text(page, "sj-plane-info", rf"\b{before + 1} trajector")
    assert f"{before + 1} trajector" in info
    page.screenshot(path=str(shots / "inapik_trajectory.png"))


def test_bad_input_shows_a_message(page, shots):
    _type_I(page, "nan")
    msg = _wait_text(page, "sj-message", r"finite")
    assert "I (uA/cm^2) must be a finite number, got 'nan'" in msg
    _type_I(page, "500")
    msg = _wait_text(page, "sj-message", r"outside")
    assert "I (uA/cm^2) = 500 is outside its range [-5, 20]" in msg
    # the panels keep their last good view
    assert "1 fixed point at I = 5" in _text(page, "sj-fixed-points")
    page.screenshot(path=str(shots / "bad_input_message.png"))


def test_branches_follow_a_parameter_drag(page, shots):
    # While the mouse still holds a parameter slider's handle, the bifurcation diagram is
    # recomputed (on the server's worker thread) and redrawn: the fold leaves I = 4.51.
    before = _wait_text(page, "sj-special-points", r"LP fold \(saddle-node\) at I = 4\.51")
    handle = page.locator(".noUi-handle").nth(2)  # gL (0: I, 1: C, which moves no fold)
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 6):  # a drag to the right, in steps
        page.mouse.move(x + 8 * k, y)
        page.wait_for_timeout(50)
    deadline = time.monotonic() + 180.0
    during = before
    while during == before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        during = _text(page, "sj-special-points")
    page.screenshot(path=str(shots / "inapik_branches_during_drag.png"))
    page.mouse.up()
    # redrawn for a larger gL (the fold moves up, out of the diagram's range [0, 8])
    assert during != before and "LP fold (saddle-node) at I = 4.51" not in during
    assert not re.search(r"[A-Z]\w*(Error|Exception): ", _text(page, "sj-message"))


@pytest.mark.slow  # compiling the 4-D model's views takes ~30 s on an idle 2-core machine
def test_hodgkin_huxley_hopf_is_marked(page, shots):
    page.locator(".sj-model select").first.select_option(label="Hodgkin-Huxley")
    text = _wait_text(page, "sj-special-points", r"H Hopf at I = ")
    I_H = float(_group(r"H Hopf at I = ([0-9.]+)", text))
    assert I_H == pytest.approx(9.78, abs=0.01)  # Rinzel & Miller 1980: 9.78
    assert "9.775" in text
    page.screenshot(path=str(shots / "hodgkin_huxley_hopf.png"))
