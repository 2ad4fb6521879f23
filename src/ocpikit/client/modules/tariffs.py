"""The Tariffs module at a partner (OCPI 2.2.1 ``mod_tariffs``; DIGEST §3.4): the CPO's Sender
list, and the eMSP's Receiver for our Tariffs (the only module with a DELETE of a pushed
object)."""

from __future__ import annotations

from .objects import ObjectsClient

__all__ = ["TariffsClient"]


class TariffsClient(ObjectsClient):
    module = "tariffs"

    __slots__ = ()
