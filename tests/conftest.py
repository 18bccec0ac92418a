"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest

POSTGRES_URL = os.environ.get(
    "DYNASPINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def rng() -> object:
    """A seeded NumPy random generator, so synthetic data is the same on every run."""
    import numpy as np

    return np.random.default_rng(20261122)
