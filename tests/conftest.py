"""Shared test configuration. Test data lives in ``tests/data`` (see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.testdata import DATA


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The repository's test data folder (``tests/data``)."""
    return DATA
