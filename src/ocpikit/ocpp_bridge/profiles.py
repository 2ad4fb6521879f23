"""OCPI charging profiles ↔ OCPP charging profiles (OCPI 2.2.1 mod_chargingprofiles §14.4.2
ChargingProfile, §14.4.1 ActiveChargingProfile; OCPP 1.6 §7.7 ChargingProfile, §7.13
ChargingSchedule; OCPP 2.0.1 §2.10 ChargingProfileType, §2.13 ChargingScheduleType, §2.16
CompositeScheduleType). An OCPI profile for a Session is an OCPP ``TxProfile`` of that
transaction, stack level 0; OCPI ``start_date_time`` makes it ``Absolute`` (else
``Relative``). Keys are snake_case: the ``ocpp`` library writes them camelCase.

Results (OCPI ChargingProfileResultType): Accepted → ACCEPTED, Rejected → REJECTED, anything
else (no answer, NotSupported, Unknown) → UNKNOWN.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

__all__ = ["active_profile", "ocpp_profile", "profile_result"]


def _periods(profile: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"start_period": int(p.get("start_period", 0)), "limit": float(p.get("limit", 0))}
        for p in profile.get("charging_profile_period") or []
        if isinstance(p, Mapping)
    ]


def ocpp_profile(version: str, profile: Mapping[str, Any], tx_id: str) -> dict[str, Any]:
    """The OCPP TxProfile of OCPI ``profile`` for transaction ``tx_id``."""
    profile_id = zlib.crc32(tx_id.encode()) % 1_000_000 + 1
    schedule: dict[str, Any] = {
        "charging_rate_unit": str(profile.get("charging_rate_unit", "W")),
        "charging_schedule_period": _periods(profile),
    }
    for ocpi_key, ocpp_key in (
        ("start_date_time", "start_schedule"),
        ("duration", "duration"),
        ("min_charging_rate", "min_charging_rate"),
    ):
        if profile.get(ocpi_key) is not None:
            schedule[ocpp_key] = profile[ocpi_key]
    kind = "Absolute" if profile.get("start_date_time") else "Relative"
    if version == "1.6":
        return {
            "charging_profile_id": profile_id,
            "transaction_id": int(tx_id),
            "stack_level": 0,
            "charging_profile_purpose": "TxProfile",
            "charging_profile_kind": kind,
            "charging_schedule": schedule,
        }
    return {
        "id": profile_id,
        "transaction_id": tx_id,
        "stack_level": 0,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": kind,
        "charging_schedule": [{"id": profile_id, **schedule}],
    }


def active_profile(
    schedule_start: str | None, schedule: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The OCPI ActiveChargingProfile of an OCPP composite schedule (1.6: the answer's
    ``schedule_start`` and ``charging_schedule``; 2.0.1: ``schedule`` holds both)."""
    if not isinstance(schedule, Mapping):
        return None
    periods = [
        {"start_period": int(p.get("start_period", 0)), "limit": float(p.get("limit", 0))}
        for p in schedule.get("charging_schedule_period") or []
        if isinstance(p, Mapping)
    ]
    profile: dict[str, Any] = {
        "charging_rate_unit": str(schedule.get("charging_rate_unit", "W")),
        "charging_profile_period": periods,
    }
    if schedule.get("duration") is not None:
        profile["duration"] = int(schedule["duration"])
    start = schedule_start or schedule.get("schedule_start")
    if not isinstance(start, str):
        return None
    return {"start_date_time": start, "charging_profile": profile}


def profile_result(answer: str | None) -> str:
    """The OCPI ChargingProfileResultType of a charger's answer."""
    return {"Accepted": "ACCEPTED", "Rejected": "REJECTED"}.get(answer or "", "UNKNOWN")
