"""The ``[ocpp]`` section of the configuration: whether ``ocpikit serve`` runs the OCPP
central system endpoint, and which charge point feeds which of our Locations and EVSEs.

```toml
[ocpp]
enabled = true
[[ocpp.charge_points]]
id = "CP-1"                      # the charge point identity in /ocpp/{id}
location_id = "LOC00001"         # our Location
evse_uids = ["LOC00001-E1", "LOC00001-E2"]   # OCPP connector (1.6) / EVSE (2.0.1) 1, 2, ...
party = "NL-CPO"                 # optional: which of our parties owns the Location
password = "..."                 # optional: HTTP Basic password (OCPP security profile 1)
```

Invariants: every charge point id is unique; ``evse_uids`` is not empty; the party is one of
ours with the CPO role (checked by :func:`ocpp_config` against the parties given).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChargePointConfig", "OcppConfig", "ocpp_config"]


@dataclass(frozen=True, slots=True)
class ChargePointConfig:
    """One charge point: its OCPP identity, our Location and the EVSE uid of each OCPP
    connector (1.6) or EVSE (2.0.1) number, number ``n`` being ``evse_uids[n - 1]``."""

    id: str
    location_id: str
    evse_uids: tuple[str, ...]
    country_code: str
    party_id: str

    def evse_uid(self, number: int) -> str | None:
        """The EVSE uid of OCPP connector/EVSE ``number`` (1-based), or None."""
        return self.evse_uids[number - 1] if 1 <= number <= len(self.evse_uids) else None

    def number_of(self, evse_uid: str) -> int | None:
        """The OCPP connector/EVSE number of ``evse_uid`` (case-insensitive), or None."""
        for i, uid in enumerate(self.evse_uids):
            if uid.upper() == evse_uid.upper():
                return i + 1
        return None


@dataclass(frozen=True, slots=True)
class OcppConfig:
    enabled: bool = False
    charge_points: tuple[ChargePointConfig, ...] = ()
    #: how often (seconds) the bridge looks for received OCPI commands for its charge points
    command_poll: float = 0.2
    #: seconds a charge point has to answer a call of ours (a CommandResult TIMEOUT after)
    call_timeout: float = 20.0
    #: the Heartbeat interval given in BootNotification answers
    heartbeat_interval: int = 300
    #: charge point id -> its Basic authentication password, for those that have one
    passwords: Mapping[str, str] = field(default_factory=dict, repr=False)

    def charge_point(self, cp_id: str) -> ChargePointConfig | None:
        return next((c for c in self.charge_points if c.id == cp_id), None)

    def at(self, location_id: str, evse_uid: str | None) -> ChargePointConfig | None:
        """The charge point feeding ``location_id`` (and ``evse_uid`` when given)."""
        for cp in self.charge_points:
            if cp.location_id.upper() != location_id.upper():
                continue
            if evse_uid is None or cp.number_of(evse_uid) is not None:
                return cp
        return None


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: a non-empty string is required")
    return value.strip()


def ocpp_config(extra: Mapping[str, Any], parties: Sequence[tuple[str, str]]) -> OcppConfig:
    """Parse ``extra["ocpp"]``; ``parties``: our CPO parties (``(country_code, party_id)``),
    the first one owning charge points that name none. ``ValueError`` names the bad key."""
    section = extra.get("ocpp") or {}
    if not isinstance(section, Mapping):
        raise ValueError("[ocpp] must be a table")
    enabled = section.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ValueError("ocpp.enabled: true or false")
    points: list[ChargePointConfig] = []
    passwords: dict[str, str] = {}
    for i, raw in enumerate(section.get("charge_points") or []):
        where = f"ocpp.charge_points[{i}]"
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: a table is required")
        uids = raw.get("evse_uids")
        if not isinstance(uids, list) or not uids:
            raise ValueError(f"{where}.evse_uids: a non-empty list of EVSE uids is required")
        party = raw.get("party")
        if party is None:
            if not parties:
                raise ValueError(f"{where}: none of our parties is a CPO")
            cc, pid = parties[0]
        else:
            cc, _, pid = _text(party, f"{where}.party").partition("-")
            if (cc.upper(), pid.upper()) not in {(c.upper(), p.upper()) for c, p in parties}:
                raise ValueError(f"{where}.party: {party} is not one of our CPO parties")
        cp = ChargePointConfig(
            id=_text(raw.get("id"), f"{where}.id"),
            location_id=_text(raw.get("location_id"), f"{where}.location_id"),
            evse_uids=tuple(_text(u, f"{where}.evse_uids") for u in uids),
            country_code=cc,
            party_id=pid,
        )
        if any(p.id == cp.id for p in points):
            raise ValueError(f"{where}.id: charge point {cp.id} is configured twice")
        points.append(cp)
        if raw.get("password") is not None:
            passwords[cp.id] = _text(raw.get("password"), f"{where}.password")
    numbers = {}
    for key, default in (
        ("command_poll", 0.2),
        ("call_timeout", 20.0),
        ("heartbeat_interval", 300),
    ):
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError(f"ocpp.{key}: a positive number is required")
        numbers[key] = value
    return OcppConfig(
        enabled=enabled,
        charge_points=tuple(points),
        command_poll=float(numbers["command_poll"]),
        call_timeout=float(numbers["call_timeout"]),
        heartbeat_interval=int(numbers["heartbeat_interval"]),
        passwords=passwords,
    )
