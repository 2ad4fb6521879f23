"""The curated public API: every name a package exports resolves, lazily where declared so."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = [
    "ocpikit",
    "ocpikit.core",
    "ocpikit.models",
    "ocpikit.convert",
    "ocpikit.tariffs",
    "ocpikit.eichrecht",
    "ocpikit.protocol",
    "ocpikit.operations",
    "ocpikit.storage",
    "ocpikit.client",
    "ocpikit.server",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, package
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_the_top_level_names_are_the_packages_own() -> None:
    import ocpikit
    from ocpikit.client.partner import PartnerClient
    from ocpikit.models import model_for

    assert ocpikit.model_for is model_for and ocpikit.PartnerClient is PartnerClient
    with pytest.raises(AttributeError):
        _ = ocpikit.no_such_name  # type: ignore[attr-defined]


def test_importing_ocpikit_loads_no_framework() -> None:
    code = "import ocpikit, sys; print(sorted(m for m in ('starlette', 'httpx', 'sqlalchemy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
