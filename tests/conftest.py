"""Shared test configuration.

``OCPIKIT_SHARED`` points at the shared folder (spec, tariff cases, OCMF samples); the default is
``../shared`` next to the checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ocpikit.testing import shared_path

ROOT = Path(__file__).resolve().parent.parent
SHARED = shared_path(ROOT)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared folder not found at {SHARED}; set OCPIKIT_SHARED")
    return SHARED
