"""Shared test configuration. Test data lives in ``tests/data`` (see its README)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.testdata import DATA

# the test kit's pytest plugin (ocpi_cpo, ocpi_emsp, ocpi_hub, ...) comes through its pytest11
# entry point once ocpikit is installed with it; from a source tree without that, load it here
if "ocpikit.testing.pytest_plugin" not in sys.modules:
    pytest_plugins = ["ocpikit.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The repository's test data folder (``tests/data``)."""
    return DATA
