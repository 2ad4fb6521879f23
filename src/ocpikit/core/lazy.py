"""Package namespaces that import their members on first use (PEP 562), so that
``from ocpikit.client import PartnerClient`` works without ``import ocpikit.client.http`` (or
``import ocpikit``) loading every module of the package first."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_members"]


def lazy_members(package: str, members: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``members`` maps each exported name to the
    module that defines it; the value is imported when first asked for, then kept."""

    def getattr_(name: str) -> Any:
        module = members.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals_ = importlib.import_module(package).__dict__
        globals_[name] = value
        return value

    return getattr_
