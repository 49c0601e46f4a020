"""Every ```python block of the README and of `docs/` (recursively) runs as written.

Each block runs in a process of its own with default settings (float32, no `jax_enable_x64`
unless the block enables it), `MPLBACKEND=Agg`, a temporary working directory and a timeout,
as a reader who pastes it into a new session would: a child forked from a server that has
imported JAX (its backend not started), spikejax and matplotlib once (`_fresh.py` says why and
what differs), or a new interpreter for a block that changes `os.environ`. One test per
block, with an id naming the file and the block's first line.

An HTML comment on the line just before the opening fence (invisible in the rendered page and
on GitHub) changes how a block runs; the words may be combined (`<!-- docs-run: continue slow
-->`), and `docs/contributing.md` documents them:

- `<!-- docs-run: skip -->`: the block is deliberately partial (a fragment, or code sized for
  hardware CI does not have); it is not run.
- `<!-- docs-run: continue -->`: the block builds on the page's previous block; it runs after
  that block (and whatever that one continues) in the same interpreter.
- `<!-- docs-run: slow -->`: the block takes more than about 20 s on one CPU core; the test is
  marked `slow` (deselected by default; `pytest -m slow` runs it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from _fresh import fresh_env, needs_new_interpreter

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!--\s*docs-run:\s*(?P<words>[\w\s-]+?)\s*-->\s*$")
WORDS = {"skip", "continue", "slow"}
FENCE = re.compile(r"^(?P<indent>\s*)```python\s*$")
TIMEOUT_S = 600


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    code: str
    words: frozenset[str]
    previous: Block | None  # the block this one continues

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def program(self) -> str:
        chain, b = [], self
        while b is not None:
            chain.append(b)
            b = b.previous
        return "\n\n".join(f"# --- {b.id}\n{b.code}" for b in reversed(chain))


def _blocks(path: Path) -> list[Block]:
    """The ```python blocks of one Markdown file, with their docs-run markers."""
    lines = path.read_text().splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent = len(m["indent"])
        start = i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:])
            i += 1
        words: set[str] = set()
        before = lines[start - 1].strip() if start > 0 else ""
        marker = MARKER.match(before)
        if marker is not None:
            words = set(marker["words"].split())
            unknown = words - WORDS
            if unknown:
                raise ValueError(
                    f"{path}:{start}: unknown docs-run marker word(s) {sorted(unknown)}; "
                    f"allowed: {sorted(WORDS)}"
                )
        previous = out[-1] if ("continue" in words and out) else None
        if "continue" in words and previous is None:
            raise ValueError(f"{path}:{start + 1}: 'continue' on the page's first block")
        out.append(Block(path, start + 1, "\n".join(body) + "\n", frozenset(words), previous))
        i += 1
    return out


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


BLOCKS = [b for p in _documents() for b in _blocks(p)]
RUN = [b for b in BLOCKS if "skip" not in b.words]


def _param(b: Block):
    marks = [pytest.mark.slow] if "slow" in b.words else []
    return pytest.param(b, id=b.id, marks=marks)


@pytest.mark.parametrize("block", [_param(b) for b in RUN])
def test_doc_block_runs(block: Block, tmp_path, fresh_python):
    program = block.program()
    if needs_new_interpreter(program):
        proc = subprocess.run(
            [sys.executable, "-c", program],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            env=fresh_env(),
        )
        status, output = proc.returncode, proc.stdout + proc.stderr
    else:
        status, output = fresh_python.run(program, tmp_path, TIMEOUT_S)
    assert status == 0, f"the code block at {block.id} failed:\n{output[-4000:]}"


def test_programs_run_as_in_a_new_interpreter(tmp_path, fresh_python):
    # float32 and an unstarted backend whatever the test process has set, __main__ fresh each
    # time, failures and exit codes reported, the working directory the one asked for
    probe = (
        "import jax, jax.numpy as jnp, sys\n"
        "assert jnp.zeros(1).dtype == jnp.float32\n"
        "assert 'leak' not in globals()\n"
        "leak = 1\n"
        "open('here.txt', 'w').write('x')\n"
        "print('out'); print('err', file=sys.stderr)\n"
    )
    assert fresh_python.run(probe, tmp_path, 60) == (0, "out\nerr\n")
    assert fresh_python.run(probe, tmp_path, 60)[0] == 0
    assert (tmp_path / "here.txt").read_text() == "x"
    status, output = fresh_python.run("raise ValueError('boom')", tmp_path, 60)
    assert status == 1 and "ValueError: boom" in output and "<program>" in output
    assert fresh_python.run("import sys; sys.exit(3)", tmp_path, 60)[0] == 3
    assert fresh_python.run("import time; time.sleep(30)", tmp_path, 1)[0] == -9
    assert needs_new_interpreter("import os\nos.environ['XLA_FLAGS'] = '...'\n")


def test_blocks_are_found_and_markers_are_known():
    # The collector sees the README's first simulation and at least one block per guide page
    # that has code (a change of fence syntax would otherwise silently test nothing).
    ids = {b.id for b in BLOCKS}
    assert any(i.startswith("README.md:") for i in ids)
    assert len(BLOCKS) >= 15, sorted(ids)
    for b in BLOCKS:
        assert b.words <= WORDS


def test_collector_reads_markers(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    page = tmp_path / "page.md"
    page.write_text(
        "text\n```python\nx = 1\n```\n<!-- docs-run: continue slow -->\n```python\nprint(x)\n```\n"
        "<!-- docs-run: skip -->\n```python\npartial(\n```\n"
    )
    a, b, c = _blocks(page)
    assert (a.line, a.words, a.previous) == (2, frozenset(), None)
    assert b.words == {"continue", "slow"} and b.previous is a
    assert b.program().endswith("x = 1\n\n\n# --- page.md:6\nprint(x)\n")
    assert c.words == {"skip"}
    exec(compile(b.program(), "<doc>", "exec"), {})  # the chain runs: x is defined
