"""Test configuration: float64 (precision is the point of most tests), warnings as errors
(pyproject), and a fixed PRNG seed helper."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def key():
    return jax.random.key(0)
