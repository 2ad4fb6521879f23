"""What the emulated CPO's fleet asks of a connected charger, whatever its OCPP version: the
calls of a central system (OCPP 1.6 §5.11 RemoteStartTransaction, §5.12
RemoteStopTransaction, §5.18 UnlockConnector, §5.13 ReserveNow, §5.3 CancelReservation; OCPP
2.0.1 F01 RequestStartTransaction, F03 RequestStopTransaction, F05 UnlockConnector, H01
ReserveNow, H02 CancelReservation), implemented per version in :mod:`.central`.

Invariant: a call never raises; no answer (a CALLERROR, a timeout, a closed connection) is
None, which the CommandResult reads as FAILED.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Link"]

log = logging.getLogger("ocpikit.emulator.ocpp")


class Link:
    """What the fleet asks of a connected charger (both versions); each call gives the
    charger's ``status`` answer, None for none (a CALLERROR, a timeout, a closed socket)."""

    ocpp: str = ""
    #: the ``ocpp`` library's ChargePoint.call (the class this one is mixed into)
    call: Callable[..., Awaitable[Any]]

    async def _status(self, payload: Any) -> str | None:
        try:
            answer = await self.call(payload)
        except Exception as exc:  # a timeout or a closed connection: no answer
            log.warning("ocpp: %s: %r", type(payload).__name__, exc)
            return None
        return None if answer is None else str(answer.status)

    async def remote_start(self, n: int, id_tag: str, remote_id: int) -> str | None:
        raise NotImplementedError

    async def remote_stop(self, tx_id: str) -> str | None:
        raise NotImplementedError

    async def unlock(self, n: int) -> str | None:
        raise NotImplementedError

    async def reserve(
        self, n: int | None, id_tag: str, reservation_id: int, expiry: str
    ) -> str | None:
        """Reserve connector (1.6) or EVSE (2.0.1) ``n``; None: the charge point as a whole."""
        raise NotImplementedError

    async def cancel_reservation(self, reservation_id: int) -> str | None:
        raise NotImplementedError
