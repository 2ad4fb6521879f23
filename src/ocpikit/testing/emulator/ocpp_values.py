"""OCPP values as the emulated CPO reads them, written here rather than taken from ocpikit's OCPP
bridge (the emulator is an independent counterpart of ocpikit):

- a connector status (OCPP 1.6 §7.7 ChargePointStatus; OCPP 2.0.1 §3.21
  ConnectorStatusEnumType) → an OCPI EVSE status (2.2.1 mod_locations §Status);
- an OCPI AllowedType (2.2.1 mod_tokens §AllowedType) → the charger's authorization status
  (OCPP 1.6 §7.2 AuthorizationStatus; OCPP 2.0.1 §3.10 AuthorizationStatusEnumType);
- a charger's answer to a remote call → an OCPI CommandResultType (2.2.1 mod_commands
  §CommandResultType);
- the energy readings and OCMF signed readings of meter values (OCPP 1.6 §7.31 MeterValue,
  §7.45 SampledValue: ``value`` a string, ``unit`` Wh or kWh, ``format`` SignedData; OCPP 2.0.1
  §2.44 MeterValueType, §2.47 SampledValueType: ``value`` a number, ``unitOfMeasure`` with a
  ``multiplier``, ``signedMeterValue``), with the snake_case keys the ``ocpp`` library hands a
  handler.

Invariant: a sample of another measurand, a phase, a signed sample's text or a value that is
not a number is never read as an energy reading; readings are whole Decimals in Wh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = [
    "AUTH_16",
    "AUTH_201",
    "authorization_status",
    "command_result",
    "energy_readings",
    "evse_status",
    "parse_time",
    "signed_records",
]

#: OCPP 1.6 ChargePointStatus → OCPI EVSE Status (a plugged-in or finishing EV keeps it in use)
_STATUS_16: Final = {
    "Available": "AVAILABLE",
    "Preparing": "CHARGING",
    "Charging": "CHARGING",
    "SuspendedEVSE": "CHARGING",
    "SuspendedEV": "CHARGING",
    "Finishing": "CHARGING",
    "Reserved": "RESERVED",
    "Unavailable": "INOPERATIVE",
    "Faulted": "OUTOFORDER",
}

#: OCPP 2.0.1 ConnectorStatusEnumType → OCPI EVSE Status
_STATUS_201: Final = {
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

_RESULTS: Final = {
    "Accepted": "ACCEPTED",
    "Unlocked": "ACCEPTED",
    "Rejected": "REJECTED",
    "UnlockFailed": "FAILED",
    "OngoingAuthorizedTransaction": "REJECTED",
    "UnknownConnector": "REJECTED",
    "Occupied": "EVSE_OCCUPIED",
    "Faulted": "EVSE_INOPERATIVE",
    "Unavailable": "EVSE_INOPERATIVE",
    "NotSupported": "NOT_SUPPORTED",
}

_ENERGY = "Energy.Active.Import.Register"


def evse_status(ocpp: str, status: str) -> str:
    """The OCPI EVSE status of an OCPP connector status; UNKNOWN for a word the version does
    not define."""
    return (_STATUS_16 if ocpp == "1.6" else _STATUS_201).get(status, "UNKNOWN")


def authorization_status(ocpp: str, allowed: str) -> str:
    """The charger's authorization status for an OCPI AllowedType (Invalid for one it lacks)."""
    return (AUTH_16 if ocpp == "1.6" else AUTH_201).get(allowed, "Invalid")


def command_result(answer: str | None) -> str:
    """The CommandResultType of a charger's ``status`` answer; no answer (a CALLERROR, a
    timeout, a lost connection) is FAILED."""
    return _RESULTS.get(answer or "", "FAILED")


def parse_time(text: Any) -> datetime | None:
    """An OCPP timestamp (RFC 3339) as an aware UTC datetime; None when unreadable."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _wh(sample: Mapping[str, Any]) -> Decimal | None:
    if sample.get("measurand", _ENERGY) != _ENERGY or sample.get("phase"):
        return None
    if sample.get("format") == "SignedData" or isinstance(sample.get("value"), bool):
        return None
    try:
        value = Decimal(str(sample.get("value")))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    unit = sample.get("unit")
    measure = sample.get("unit_of_measure")
    multiplier = 0
    if isinstance(measure, Mapping):
        unit = measure.get("unit", unit)
        raw = measure.get("multiplier", 0)
        multiplier = raw if isinstance(raw, int) and not isinstance(raw, bool) else 0
    value = value.scaleb(multiplier)
    return value * 1000 if unit == "kWh" else value


def energy_readings(meter_values: Iterable[Any]) -> list[tuple[datetime, Decimal]]:
    """``(timestamp, Wh)`` of each meter value with an energy register sample, oldest first."""
    out: list[tuple[datetime, Decimal]] = []
    for mv in meter_values or []:
        if not isinstance(mv, Mapping):
            continue
        at = parse_time(mv.get("timestamp"))
        if at is None:
            continue
        for sample in mv.get("sampled_value") or []:
            wh = _wh(sample) if isinstance(sample, Mapping) else None
            if wh is not None:
                out.append((at, wh))
                break
    out.sort(key=lambda r: r[0])
    return out


def signed_records(meter_values: Iterable[Any]) -> list[tuple[str, str | None]]:
    """``(OCMF record, public key or None)`` of each signed sample: a 1.6 ``SignedData``
    sample's value, a 2.0.1 ``signed_meter_value`` encoded OCMF; other texts are skipped."""
    out: list[tuple[str, str | None]] = []
    for mv in meter_values or []:
        if not isinstance(mv, Mapping):
            continue
        for sample in mv.get("sampled_value") or []:
            if not isinstance(sample, Mapping):
                continue
            signed = sample.get("signed_meter_value")
            if isinstance(signed, Mapping) and str(signed.get("encoding_method")).upper() == "OCMF":
                key = signed.get("public_key")
                out.append((str(signed.get("signed_meter_data")), str(key) if key else None))
            elif sample.get("format") == "SignedData":
                out.append((str(sample.get("value")), None))
    return [(text, key) for text, key in out if text.startswith("OCMF|")]
