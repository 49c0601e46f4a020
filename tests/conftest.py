"""Test configuration: float64 (precision is the point of most tests), warnings as errors
(pyproject), and a fixed PRNG seed helper."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import pytest  # noqa: E402
from _fresh import FreshInterpreter, fresh_env  # noqa: E402

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def key():
    return jax.random.key(0)


@pytest.fixture(scope="session")
def fresh_python():
    """Runs programs as a new interpreter would (float32, JAX's defaults), sharing one set of
    imports across the test process (`_fresh.py`)."""
    server = FreshInterpreter(fresh_env())
    yield server
    server.close()
