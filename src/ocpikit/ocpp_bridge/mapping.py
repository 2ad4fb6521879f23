"""OCPP values → OCPI values, both OCPP versions (docs/ocpp.md has the table).

- Connector status (OCPP 1.6 §7.7 ChargePointStatus; OCPP 2.0.1 §3.21 ConnectorStatusEnumType)
  → OCPI EVSE status (OCPI 2.2.1 mod_locations §8.4.22 Status).
- OCPI AllowedType (mod_tokens §12.4.1) → OCPP 1.6 AuthorizationStatus (§7.2) / 2.0.1
  AuthorizationStatusEnumType (§3.10).
- OCPI command results (mod_commands §13.4.2 CommandResultType) from the charger's answers.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AUTH_16",
    "AUTH_201",
    "STATUS_16",
    "STATUS_201",
    "command_result",
    "ocpi_status",
]

#: OCPP 1.6 ChargePointStatus → OCPI EVSE Status
STATUS_16: Final = {
    "Available": "AVAILABLE",
    "Preparing": "CHARGING",  # a driver is plugged in or authorized: the EVSE is in use
    "Charging": "CHARGING",
    "SuspendedEVSE": "CHARGING",
    "SuspendedEV": "CHARGING",
    "Finishing": "CHARGING",
    "Reserved": "RESERVED",
    "Unavailable": "INOPERATIVE",
    "Faulted": "OUTOFORDER",
}

#: OCPP 2.0.1 ConnectorStatusEnumType → OCPI EVSE Status
STATUS_201: Final = {
    "Available": "AVAILABLE",
    "Occupied": "CHARGING",
    "Reserved": "RESERVED",
    "Unavailable": "INOPERATIVE",
    "Faulted": "OUTOFORDER",
}

#: OCPI AllowedType → OCPP 1.6 AuthorizationStatus
AUTH_16: Final = {
    "ALLOWED": "Accepted",
    "BLOCKED": "Blocked",
    "EXPIRED": "Expired",
    "NO_CREDIT": "Invalid",
    "NOT_ALLOWED": "Invalid",
}

#: OCPI AllowedType → OCPP 2.0.1 AuthorizationStatusEnumType
AUTH_201: Final = {
    "ALLOWED": "Accepted",
    "BLOCKED": "Blocked",
    "EXPIRED": "Expired",
    "NO_CREDIT": "NoCredit",
    "NOT_ALLOWED": "Invalid",
}


def ocpi_status(version: str, ocpp_status: str) -> str:
    """The OCPI EVSE status of an OCPP connector status (UNKNOWN for one OCPP does not
    define)."""
    table = STATUS_16 if version == "1.6" else STATUS_201
    return table.get(ocpp_status, "UNKNOWN")


def command_result(answer: str | None) -> str:
    """The OCPI CommandResultType of a charger's answer to a call (``status`` of
    RemoteStart/Stop, RequestStart/Stop, UnlockConnector, ReserveNow, CancelReservation); None
    (no answer, or a CALLERROR) is FAILED."""
    if answer in ("Accepted", "Unlocked"):
        return "ACCEPTED"
    return _RESULTS.get(answer or "", "FAILED")


_RESULTS: Final = {
    "Rejected": "REJECTED",
    "UnlockFailed": "FAILED",
    "OngoingAuthorizedTransaction": "REJECTED",
    "UnknownConnector": "REJECTED",
    "Occupied": "EVSE_OCCUPIED",
    "Faulted": "EVSE_INOPERATIVE",
    "Unavailable": "EVSE_INOPERATIVE",
    "NotSupported": "NOT_SUPPORTED",
}
