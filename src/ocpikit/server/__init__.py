"""The platform as an ASGI app: the only package that imports the web framework
(docs/server.md). What users import from here: :func:`create_app` (and :func:`admin_app` for
the backend API on a listener of its own), :class:`Settings` and :func:`load_settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpikit.core.lazy import lazy_members

if TYPE_CHECKING:
    from ocpikit.server.app import admin_app, create_app
    from ocpikit.server.settings import Settings, load_settings

__all__ = ["Settings", "admin_app", "create_app", "load_settings"]

__getattr__ = lazy_members(
    __name__,
    {
        "Settings": "ocpikit.server.settings",
        "admin_app": "ocpikit.server.app",
        "create_app": "ocpikit.server.app",
        "load_settings": "ocpikit.server.settings",
    },
)
