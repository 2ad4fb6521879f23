"""The partner side of ocpikit: the only package that imports httpx (docs/client.md).

What users import from here: :class:`PartnerClient` (calls to one partner, one small client
per module), :func:`http_client` (the shared HTTP client), pulls (:func:`pull_into_storage`,
:func:`resync`, :func:`reconcile`), the outbox worker (:class:`DeliveryWorker`) and the
registration driver (:func:`drive`, :func:`guarded_driver`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpikit.core.lazy import lazy_members

if TYPE_CHECKING:
    from ocpikit.client.delivery import DeliveryWorker
    from ocpikit.client.http import http_client
    from ocpikit.client.partner import PartnerClient
    from ocpikit.client.registration import drive, guarded_driver
    from ocpikit.client.sync import pull_into_storage, reconcile, resync

__all__ = [
    "DeliveryWorker",
    "PartnerClient",
    "drive",
    "guarded_driver",
    "http_client",
    "pull_into_storage",
    "reconcile",
    "resync",
]

__getattr__ = lazy_members(
    __name__,
    {
        "DeliveryWorker": "ocpikit.client.delivery",
        "PartnerClient": "ocpikit.client.partner",
        "drive": "ocpikit.client.registration",
        "guarded_driver": "ocpikit.client.registration",
        "http_client": "ocpikit.client.http",
        "pull_into_storage": "ocpikit.client.sync",
        "reconcile": "ocpikit.client.sync",
        "resync": "ocpikit.client.sync",
    },
)
