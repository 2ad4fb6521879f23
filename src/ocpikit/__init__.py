"""ocpikit: an OCPI 2.1.1 / 2.2.1 / 2.3.0 roaming platform.

The public API is curated per package (each defines ``__all__``; docs/architecture.md):

- :mod:`ocpikit.core`: version-independent primitives (status codes, errors, envelope, ...)
- :mod:`ocpikit.models`: wire models per version and the ``OBJECTS`` registry (``model_for``)
- :mod:`ocpikit.convert`: translation between versions with declared losses
- :mod:`ocpikit.tariffs`: the tariff price engine; :mod:`ocpikit.eichrecht`: OCMF checks
- :mod:`ocpikit.protocol`: the storage ports and the OCPI behaviour without I/O
- :mod:`ocpikit.operations`: the platform's use cases
- :mod:`ocpikit.storage`, :mod:`ocpikit.client`, :mod:`ocpikit.server`: SQL storage, partner
  calls, the ASGI app

The most used names are importable from here too (``from ocpikit import model_for``); each is
imported on first use, so ``import ocpikit`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocpikit.client import PartnerClient, http_client
    from ocpikit.convert import convert, from_head, to_head
    from ocpikit.models import model_for
    from ocpikit.server import create_app, load_settings
    from ocpikit.storage import MemoryStorage, SqlStorage, open_storage
    from ocpikit.tariffs import price

__version__ = "0.1.0"
__all__ = [
    "MemoryStorage",
    "PartnerClient",
    "SqlStorage",
    "__version__",
    "convert",
    "create_app",
    "from_head",
    "http_client",
    "load_settings",
    "model_for",
    "open_storage",
    "price",
    "to_head",
]

#: each exported name and the package that defines it
_MEMBERS = {
    "MemoryStorage": "ocpikit.storage",
    "PartnerClient": "ocpikit.client",
    "SqlStorage": "ocpikit.storage",
    "convert": "ocpikit.convert",
    "create_app": "ocpikit.server",
    "from_head": "ocpikit.convert",
    "http_client": "ocpikit.client",
    "load_settings": "ocpikit.server",
    "model_for": "ocpikit.models",
    "open_storage": "ocpikit.storage",
    "price": "ocpikit.tariffs",
    "to_head": "ocpikit.convert",
}


def __getattr__(name: str) -> Any:
    # as ocpikit.core.lazy.lazy_members, without importing ocpikit.core: importing any
    # ocpikit module (the pytest plugin in every test run, ``ocpikit --help``) runs this file
    module = _MEMBERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
