"""What the DATEX II writers share: which locations are published, object identifiers and
versions, opening hours, time zone offsets and the ad hoc price of a tariff.

Identifiers (DATEX II ``idG``/``id``) are stable and readable: a site is
``CC-PID-<location id>``, a station ``<site>-<EVSE uid>-station`` (one station per EVSE:
OCPI 2.3.0 has no station layer), a refill point ``<site>-<EVSE uid>``, an energy rate
``CC-PID-<tariff id>``. Versions are a short hash of the object's static content, so a status
change (dynamic data) keeps them and a static change bumps them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

__all__ = [
    "DAYS",
    "is_open_data",
    "point_id",
    "published",
    "rate_id",
    "rate_policy",
    "site_id",
    "station_id",
    "utc_offset",
    "version_of",
    "weekly_hours",
]

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def is_open_data(doc: Mapping[str, Any]) -> bool:
    """A Location or Tariff anyone may see: ``publish`` true (Locations; Tariffs have no such
    flag) and no ``publish_allowed_to`` restriction (OCPI 2.3.0 mod_locations §Location:
    ``publish_allowed_to`` limits who may see an object that is published)."""
    return doc.get("publish", True) is True and not doc.get("publish_allowed_to")


def published(locations: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The locations a NAP publication contains, in the order given."""
    return [loc for loc in locations if is_open_data(loc)]


def site_id(loc: Mapping[str, Any]) -> str:
    return f"{loc['country_code']}-{loc['party_id']}-{loc['id']}".upper()


def point_id(loc: Mapping[str, Any], evse: Mapping[str, Any]) -> str:
    return f"{site_id(loc)}-{evse['uid']}"


def station_id(loc: Mapping[str, Any], evse: Mapping[str, Any]) -> str:
    return f"{point_id(loc, evse)}-station"


def rate_id(tariff: Mapping[str, Any]) -> str:
    return f"{tariff['country_code']}-{tariff['party_id']}-{tariff['id']}".upper()


def version_of(static: Any) -> str:
    """A version that changes exactly when ``static`` (JSON-able) changes."""
    blob = orjson.dumps(_without_times(static), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:12]


def _without_times(value: Any) -> Any:
    """``value`` without ``lastUpdated``/``versionG`` keys (they follow from, not make up, the
    content: a status change touches ``last_updated`` but not the static data)."""
    if isinstance(value, dict):
        return {
            k: _without_times(v)
            for k, v in value.items()
            if k not in ("lastUpdated", "versionG", "timeZone")
        }
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def utc_offset(time_zone: str, at: datetime) -> str | None:
    """``+01:00`` for an IANA zone at ``at`` (DATEX II TimeZone), None for an unknown zone."""
    try:
        offset = at.astimezone(ZoneInfo(time_zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def weekly_hours(opening_times: Mapping[str, Any]) -> list[tuple[str, str, list[str]]]:
    """OCPI ``regular_hours`` grouped by period: ``(begin, end, [weekday names])`` with times
    as ``HH:MM:00`` (local time of the location; OCPI weekday 1 = Monday)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for rh in opening_times.get("regular_hours") or []:
        key = (f"{rh['period_begin']}:00", f"{rh['period_end']}:00")
        groups.setdefault(key, []).append(DAYS[int(rh["weekday"]) - 1])
    return [(b, e, days) for (b, e), days in groups.items()]


def rate_policy(tariff: Mapping[str, Any]) -> str:
    """``adHoc`` for an AD_HOC_PAYMENT tariff or one without a type (the price for everyone),
    ``contract`` for the others (REGULAR, PROFILE_*: prices under a contract)."""
    return "adHoc" if tariff.get("type") in (None, "AD_HOC_PAYMENT") else "contract"
