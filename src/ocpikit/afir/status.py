"""The dynamic publication (Mobilithek ``aegiEnergyInfrastructureStatusPublication`` in a
``messageContainer``): every refill point's status and ad hoc prices, as a full snapshot or
as a delta of what changed since a given time.

Feed rules of the Mobilithek guideline for AFIR data offers: deltas at most once per second,
a full snapshot at least every six hours. For a pulling client :func:`delta_window` gives a
``since`` older than six hours (or none) the full snapshot instead of a delta; the server
(``ocpikit.server.nap``) answers the same delta request at most once per second (a repeat
within the second gets the same document).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ocpikit.afir.common import is_open_data, point_id, site_id, station_id
from ocpikit.afir.mobilithek import (
    PROFILE_NAME,
    PROFILE_VERSION,
    Dataset,
    evse_status_entry,
    site,
    table_id,
)
from ocpikit.core.types import format_datetime

__all__ = ["LOOKBACK", "SNAPSHOT_EVERY", "Window", "delta_window", "status_publication"]

#: a consumer whose last data is older than this gets a full snapshot
SNAPSHOT_EVERY = timedelta(hours=6)
#: how far before ``since`` a delta still looks: an object committed after the previous poll
#: read, with a ``last_updated`` stamped before that read (the admin API stamps, then
#: commits), or sent with a clock a little behind ours, is in the next delta, not lost.
#: Statuses are idempotent (a NAP keeps the newest by ``lastUpdated``), so a repeat is harmless.
LOOKBACK = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Window:
    """What one status request covers: ``since`` None is a full snapshot; ``until`` is the
    instant the content is complete up to (the client's next ``since``)."""

    since: datetime | None
    until: datetime

    @property
    def changed_from(self) -> datetime | None:
        """The earliest ``last_updated`` a delta reads: ``since`` less :data:`LOOKBACK`."""
        return None if self.since is None else self.since - LOOKBACK


def delta_window(since: datetime | None, now: datetime) -> Window:
    """The window for a request at ``now`` asking for changes ``since`` (see the module
    docstring). ``since`` in the future is treated as ``until`` (an empty delta)."""
    until = now
    if since is None or now - since > SNAPSHOT_EVERY:
        return Window(None, until)
    return Window(min(since, until), until)


def status_publication(
    ds: Dataset,
    window: Window,
    *,
    changed_tariffs: frozenset[tuple[str, str, str]] = frozenset(),
) -> dict[str, Any]:
    """The status message of ``ds.locations`` (for a delta: the locations changed in the
    window, plus every station whose prices come from one of ``changed_tariffs``, keys
    ``(country_code, party_id, id)`` upper-cased)."""
    site_entries = []
    for loc in ds.locations:
        entry = _site_status(loc, ds, window, changed_tariffs)
        if entry is not None:
            site_entries.append(entry)
    body: dict[str, Any] = {
        "lang": ds.lang,
        "publicationTime": format_datetime(window.until),
        "publicationCreator": ds.creator(),
        "tableReference": [{"targetClass": "EnergyInfrastructureTable", "idG": table_id(ds)}],
        "energyInfrastructureSiteStatus": site_entries,
    }
    payload = {
        "modelBaseVersionG": "3",
        "profileNameG": PROFILE_NAME,
        "profileVersionG": PROFILE_VERSION,
        "aegiEnergyInfrastructureStatusPublication": body,
    }
    protocol = "snapshotPull" if window.since is None else "deltaPull"
    return {
        "messageContainer": {
            "payload": [payload],
            "exchangeInformation": {
                "exchangeContext": {
                    "codedExchangeProtocol": {"value": protocol},
                    "exchangeSpecificationVersion": "3.0",
                    "supplierOrCisRequester": {},
                },
                "dynamicInformation": {
                    "exchangeStatus": {"value": "online"},
                    "messageGenerationTimestamp": format_datetime(ds.now),
                },
            },
        }
    }


def _site_status(
    loc: Mapping[str, Any],
    ds: Dataset,
    window: Window,
    changed_tariffs: frozenset[tuple[str, str, str]],
) -> dict[str, Any] | None:
    """One site's status entry, or None when nothing of it belongs in this message. In a delta,
    a changed location that is no longer open data (``publish`` false, ``publish_allowed_to``
    set) and a changed EVSE now ``REMOVED`` are reported ``removed``, so the NAP drops them."""
    changed_loc = window.since is None or _changed(loc, window)
    if not is_open_data(loc):
        if window.since is None or not changed_loc:
            return None
        entries = [_removed(loc, evse) for evse in loc.get("evses") or []]
        return _site_entry(loc, {"idG": site_id(loc)}, entries)
    static = site(loc, ds)
    stations = {s["idG"]: s for s in static.get("energyInfrastructureStation", [])}
    entries = []
    for evse in loc.get("evses") or []:
        station = stations.get(station_id(loc, evse))
        if station is None:
            if window.since is not None and changed_loc:
                entries.append(_removed(loc, evse))
        elif changed_loc or _uses(loc, evse, changed_tariffs):
            stamp = max((str(evse["last_updated"]), str(loc["last_updated"])), key=_stamp)
            entries.append(evse_status_entry(station, evse, stamp, with_prices=True))
    return _site_entry(loc, static, entries) if entries else None


def _site_entry(
    loc: Mapping[str, Any], static: Mapping[str, Any], entries: list[dict[str, Any]]
) -> dict[str, Any]:
    reference = {"targetClass": "FacilityObject", "idG": static["idG"]}
    if "versionG" in static:
        reference["versionG"] = static["versionG"]
    return {
        "reference": reference,
        "lastUpdated": str(loc["last_updated"]),
        "energyInfrastructureStationStatus": entries,
    }


def _removed(loc: Mapping[str, Any], evse: Mapping[str, Any]) -> dict[str, Any]:
    """A station status saying its refill point is gone (references without versions: the
    static objects are no longer published)."""
    stamp = str(evse.get("last_updated") or loc["last_updated"])
    point = {
        "reference": {"targetClass": "FacilityObject", "idG": point_id(loc, evse)},
        "lastUpdated": stamp,
        "status": {"value": "removed"},
    }
    return {
        "reference": {"targetClass": "FacilityObject", "idG": station_id(loc, evse)},
        "lastUpdated": stamp,
        "refillPointStatus": [{"aegiElectricChargingPointStatus": point}],
    }


def _stamp(text: Any) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _changed(loc: Mapping[str, Any], window: Window) -> bool:
    start = window.changed_from
    assert start is not None
    stamps = [_stamp(loc["last_updated"])] + [
        _stamp(e["last_updated"]) for e in loc.get("evses") or []
    ]
    # no upper bound: a last_updated ahead of our clock is reported now (and again, harmlessly)
    return any(s >= start for s in stamps)


def _uses(
    loc: Mapping[str, Any], evse: Mapping[str, Any], tariffs: frozenset[tuple[str, str, str]]
) -> bool:
    cc, pid = str(loc["country_code"]).upper(), str(loc["party_id"]).upper()
    return any(
        (cc, pid, str(t).upper()) in tariffs
        for con in evse.get("connectors") or []
        for t in con.get("tariff_ids") or []
    )
