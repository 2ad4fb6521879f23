"""The emulated CPO's pushes caused by its charge points, sent one after the other in the order
they arose: an EVSE status PATCH, a Session PUT then its PATCHes, the CDR POST, a
CommandResult (2.2.1 mod_locations §PATCH, mod_sessions §PUT/§PATCH, mod_cdrs §POST,
mod_commands §CommandResult). One queue keeps them in order (a Session's PATCH never overtakes
its PUT) and away from the charger, whose OCPP calls are answered without waiting for the
platform.

The faults that apply to pushes change these too: ``bad-objects`` (the object of a PUT or POST
broken), ``duplicate-cdr`` (a CDR POSTed twice) and ``missing-headers``; a failed push is in
``GET /control/sent`` with its error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from .outbound import OutboundError, break_object, call
from .state import Emulator

__all__ = ["Push", "Pusher"]

#: modules whose pushes the push faults apply to (a CommandResult is sent as it is)
_OBJECT_MODULES = ("locations", "sessions", "cdrs")


@dataclass(frozen=True)
class Push:
    method: str
    url: str
    module: str
    body: Any
    #: our party (``CC-PID``) and the platform's party it is for
    sender: str
    receiver: str | None
    correlation_id: str | None = None


class Pusher:
    """The queue and its worker (started by :meth:`run`)."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._queue: asyncio.Queue[Push] = asyncio.Queue()

    def put(self, push: Push) -> None:
        self._queue.put_nowait(push)

    async def drain(self) -> None:
        """Until every push queued so far is sent (or failed)."""
        await self._queue.join()

    async def run(self, http: httpx.AsyncClient) -> None:
        while True:
            push = await self._queue.get()
            try:
                await self._send(http, push)
            except Exception as exc:  # a push never stops the worker
                self.emu.sent.append({"url": push.url, "error": repr(exc), "module": push.module})
            finally:
                self._queue.task_done()

    async def _send(self, http: httpx.AsyncClient, push: Push) -> None:
        emu = self.emu
        reg = emu.registration
        if reg is None:
            return
        faults = []
        if push.module in _OBJECT_MODULES:
            faults = emu.plan.decide(push.module, "push", outbound=True)
        body = push.body
        if push.method in ("PUT", "POST") and any(t.mode == "bad-objects" for t in faults):
            body = break_object(body)
        times = 2 if push.module == "cdrs" and any(t.mode == "duplicate-cdr" for t in faults) else 1
        for _ in range(times):
            try:
                await call(
                    emu,
                    http,
                    push.method,
                    push.url,
                    token=reg.outbound_token,
                    module=push.module,
                    body=body,
                    sender=push.sender,
                    receiver=push.receiver,
                    faults=faults,
                    correlation_id=push.correlation_id,
                )
            except OutboundError as exc:
                emu.sent.append(
                    {
                        "method": push.method,
                        "url": push.url,
                        "error": str(exc),
                        "module": push.module,
                    }
                )
