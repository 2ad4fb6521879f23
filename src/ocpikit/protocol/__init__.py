"""OCPI behaviour without I/O: the storage ports, module handlers, the endpoint table, the
registration and command state machines, the trust decisions (docs/architecture.md). What users
import from here: the storage port types (:class:`Storage`, :class:`ObjectKey`,
:class:`Partner`, ...) and :class:`UrlPolicy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpikit.core.lazy import lazy_members

if TYPE_CHECKING:
    from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus, Storage, StoredObject
    from ocpikit.protocol.url_policy import UrlPolicy, UrlRefused

__all__ = [
    "ObjectKey",
    "Partner",
    "PartnerStatus",
    "Storage",
    "StoredObject",
    "UrlPolicy",
    "UrlRefused",
]

__getattr__ = lazy_members(
    __name__,
    {
        **dict.fromkeys(
            ("ObjectKey", "Partner", "PartnerStatus", "Storage", "StoredObject"),
            "ocpikit.protocol.ports",
        ),
        "UrlPolicy": "ocpikit.protocol.url_policy",
        "UrlRefused": "ocpikit.protocol.url_policy",
    },
)
