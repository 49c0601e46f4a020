"""Run a Python program as a new interpreter would, without paying the imports every time.

The docs tests run every code block "as a reader who pastes it into a new session would": in a
process of its own, with default settings (float32, no `jax_enable_x64`). Starting a new
interpreter and importing JAX, spikejax and matplotlib costs about 5 s of CPU each time, which
for the few dozen blocks of the default suite was a tenth of its time on the CI machine.

A `FreshInterpreter` starts one server process that imports those modules once, in a clean
environment, *without starting JAX's backend* (so no XLA thread exists yet and forking is
safe; the server checks this). Each program then runs in a child forked from the server: a
process of its own with a fresh `__main__`, its own working directory, its output captured,
JAX's configuration at its defaults and the backend started by the program itself (so
`XLA_FLAGS` set by `spikejax.cpu` or by the program before its first computation still take
effect). What differs from a new interpreter is only that the modules above are already
imported; a program that changes the environment that import reads (`os.environ` before
importing JAX) must run with `subprocess` instead, and `needs_new_interpreter` says which.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

# The server: import once, then fork one child per request (a JSON line on stdin: code, cwd,
# log). It answers each request with two JSON lines: the child's pid, then its exit code.
_SERVER = r"""
import json, linecache, os, sys, traceback
import numpy, scipy, jax, jax.numpy
import matplotlib, matplotlib.pyplot
import spikejax, spikejax.analysis, spikejax.network, spikejax.plot, spikejax.fit
from jax._src import xla_bridge
if xla_bridge.backends_are_initialized():
    raise SystemExit("importing spikejax started JAX's backend: forking would not be safe")
protocol = os.fdopen(os.dup(1), "w")
for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.chdir(req["cwd"])
            sys.argv = ["-c"]
            name = "<program>"
            linecache.cache[name] = (len(req["code"]), None, req["code"].splitlines(True), name)
            main = {"__name__": "__main__", "__builtins__": __builtins__}
            exec(compile(req["code"], name, "exec"), main)
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if not isinstance(e.code, int | None):
                print(e.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
            status = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    print(json.dumps({"pid": pid}), file=protocol, flush=True)
    _, st = os.waitpid(pid, 0)
    print(json.dumps({"status": os.waitstatus_to_exitcode(st)}), file=protocol, flush=True)
"""


def fresh_env() -> dict[str, str]:
    """The environment of a new interpreter as a user starts it: none of pytest's or JAX's
    variables, matplotlib off screen, this checkout's spikejax first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "JAX_", "XLA_"))}
    env["MPLBACKEND"] = "Agg"
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def needs_new_interpreter(code: str) -> bool:
    """Whether a program changes what importing JAX reads (its environment), so that it must
    run in a new interpreter rather than in a child of the server."""
    return "os.environ" in code or "putenv" in code


class FreshInterpreter:
    """One server per test process; `run` is safe to call from one thread at a time."""

    def __init__(self, env: dict[str, str]):
        self._env = env
        self._proc: subprocess.Popen[str] | None = None
        self._log_dir = tempfile.mkdtemp(prefix="spikejax-fresh-")

    def _server(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _SERVER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=self._env,
                text=True,
            )
            atexit.register(self.close)
        return self._proc

    def _answer(self, proc: subprocess.Popen[str], timeout: float | None) -> dict:
        assert proc.stdout is not None
        if timeout is not None:
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:
                raise TimeoutError
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the interpreter server exited with {proc.wait()}")
        return json.loads(line)

    def run(self, code: str, cwd: Path, timeout: float) -> tuple[int, str]:
        """Run `code` as `python -c code` would in `cwd`; returns (exit code, stdout+stderr).
        A program past `timeout` seconds is killed and reported with exit code -9."""
        proc = self._server()
        assert proc.stdin is not None
        log = os.path.join(self._log_dir, "out.txt")
        proc.stdin.write(json.dumps({"code": code, "cwd": str(cwd), "log": log}) + "\n")
        proc.stdin.flush()
        pid = self._answer(proc, 120.0)["pid"]
        try:
            status = self._answer(proc, timeout)["status"]
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            status = self._answer(proc, 60.0)["status"]
        with open(log) as f:
            return status, f.read()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the server's loop ends at the end of its input
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
