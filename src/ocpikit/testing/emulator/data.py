"""Deterministic data of an emulated partner: locations, tariffs, sessions, CDRs and tokens
of each party it hosts, in the wire form of its OCPI version.

Invariant: the same seed, parties, version and counts give the same objects, byte for byte
(each party and module draws from its own ``random.Random`` seeded by text, which does not
depend on ``PYTHONHASHSEED``). Objects are written by hand for 2.2.1 (mod_locations,
mod_tariffs, mod_sessions, mod_cdrs, mod_tokens object tables) and reshaped here for 2.1.1 and
2.3.0, independently of ``ocpikit.convert``; the models only check the result.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "BASE_TIME",
    "DEFAULT_COUNTS",
    "MODULE_OBJECT",
    "Dataset",
    "Entry",
    "format_time",
    "generate",
    "in_version",
    "location_221",
    "object_id",
    "stamp",
]

#: every generated ``last_updated`` is after this time and before it plus 30 days
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)

#: objects per party and module when not told otherwise
DEFAULT_COUNTS: Mapping[str, int] = {
    "locations": 25,
    "tariffs": 4,
    "sessions": 12,
    "cdrs": 12,
    "tokens": 20,
}

#: the object name (``ocpikit.models.model_for``) of each module's objects
MODULE_OBJECT: Mapping[str, str] = {
    "locations": "Location",
    "tariffs": "Tariff",
    "sessions": "Session",
    "cdrs": "CDR",
    "tokens": "Token",
}

#: modules whose objects a CPO owns; tokens belong to an eMSP
CPO_MODULES = ("locations", "tariffs", "sessions", "cdrs")

_CITIES: Mapping[str, tuple[str, tuple[tuple[str, float, float, str], ...]]] = {
    "NL": (
        "NLD",
        (
            ("Amsterdam", 52.3676, 4.9041, "Europe/Amsterdam"),
            ("Utrecht", 52.0907, 5.1214, "Europe/Amsterdam"),
            ("Rotterdam", 51.9244, 4.4777, "Europe/Amsterdam"),
        ),
    ),
    "DE": (
        "DEU",
        (
            ("Berlin", 52.52, 13.405, "Europe/Berlin"),
            ("Hamburg", 53.5511, 9.9937, "Europe/Berlin"),
            ("Köln", 50.9375, 6.9603, "Europe/Berlin"),
        ),
    ),
    "BE": ("BEL", (("Brussel", 50.8503, 4.3517, "Europe/Brussels"),)),
    "FR": ("FRA", (("Paris", 48.8566, 2.3522, "Europe/Paris"),)),
}
_STREETS = ("Stationsweg", "Kerkstraat", "Marktplein", "Havenkade", "Parkallee", "Ringstraße")
_CONNECTORS = (
    ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 400, 32),
    ("IEC_62196_T2_COMBO", "CABLE", "DC", 920, 200),
    ("CHADEMO", "CABLE", "DC", 500, 125),
)
_STATUSES = ("AVAILABLE", "AVAILABLE", "CHARGING", "OUTOFORDER")


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z`` and whole seconds (transport_and_format §DateTime)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``, with milliseconds when there are any (2.2.1 types
    §DateTime: fractional seconds MAY be used): the times of what charge points do."""
    moment = moment.astimezone(UTC)
    ms = moment.microsecond // 1000
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ms:03d}Z" if ms else "Z")


def object_id(module: str, party: str, n: int) -> str:
    """The id (uid for tokens) of the ``n``-th object of ``party`` (``CC-PID``) in ``module``."""
    cc, pid = party.split("-")
    if module == "tokens":
        return f"{cc}{pid}{n:08X}"
    prefix = {"locations": "LOC", "tariffs": "TAR", "sessions": "SES", "cdrs": "CDR"}[module]
    return f"{pid}-{prefix}-{n:04d}"


@dataclass
class Entry:
    """One object as served: its owner party (``CC-PID``; 2.1.1 objects carry none), its id,
    its ``last_updated`` and its wire form."""

    party: str
    id: str
    last_updated: datetime
    data: dict[str, Any]


def _rng(seed: int, party: str, module: str, n: int) -> random.Random:
    return random.Random(f"{seed}:{party}:{module}:{n}")


def _city(cc: str, rng: random.Random) -> tuple[str, tuple[str, float, float, str]]:
    country, cities = _CITIES.get(cc, _CITIES["NL"])
    return country, rng.choice(cities)


def _location(party: str, n: int, seed: int, when: datetime) -> dict[str, Any]:
    rng = _rng(seed, party, "locations", n)
    cc, pid = party.split("-")
    country, (city, lat, lon, tz) = _city(cc, rng)
    evses = []
    for e in range(1, rng.randint(1, 3) + 1):
        connectors = []
        for c in range(1, rng.randint(1, 2) + 1):
            standard, fmt, power, volts, amps = rng.choice(_CONNECTORS)
            connectors.append(
                {
                    "id": str(c),
                    "standard": standard,
                    "format": fmt,
                    "power_type": power,
                    "max_voltage": volts,
                    "max_amperage": amps,
                    "tariff_ids": [object_id("tariffs", party, rng.randint(1, 2))],
                    "last_updated": format_time(when),
                }
            )
        evses.append(
            {
                "uid": f"{object_id('locations', party, n)}-E{e}",
                "evse_id": f"{cc}*{pid}*E{n:04d}{e}",
                "status": rng.choice(_STATUSES),
                "connectors": connectors,
                "last_updated": format_time(when),
            }
        )
    return {
        "country_code": cc,
        "party_id": pid,
        "id": object_id("locations", party, n),
        "publish": True,
        "name": f"{city} {rng.choice(_STREETS)} {n}",
        "address": f"{rng.choice(_STREETS)} {rng.randint(1, 200)}",
        "city": city,
        "postal_code": f"{rng.randint(1000, 9999)}",
        "country": country,
        "coordinates": {
            "latitude": f"{lat + rng.uniform(-0.05, 0.05):.6f}",
            "longitude": f"{lon + rng.uniform(-0.05, 0.05):.6f}",
        },
        "parking_type": rng.choice(("ON_STREET", "PARKING_LOT", "PARKING_GARAGE")),
        "evses": evses,
        "time_zone": tz,
        "last_updated": format_time(when),
    }


def _tariff(party: str, n: int, seed: int, when: datetime) -> dict[str, Any]:
    rng = _rng(seed, party, "tariffs", n)
    cc, pid = party.split("-")
    energy = round(rng.uniform(0.25, 0.65), 2)
    return {
        "country_code": cc,
        "party_id": pid,
        "id": object_id("tariffs", party, n),
        "currency": "EUR",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": energy, "step_size": 1}]},
            {
                "price_components": [{"type": "PARKING_TIME", "price": 2.0, "step_size": 300}],
                "restrictions": {"min_duration": 7200},
            },
        ],
        "last_updated": format_time(when),
    }


def _token(party: str, n: int, seed: int, when: datetime) -> dict[str, Any]:
    rng = _rng(seed, party, "tokens", n)
    cc, pid = party.split("-")
    return {
        "country_code": cc,
        "party_id": pid,
        "uid": object_id("tokens", party, n),
        "type": "RFID",
        "contract_id": f"{cc}-{pid}-C{n:08d}-{rng.randint(0, 9)}",
        "visual_number": f"{cc}-{pid}-{n:06d}",
        "issuer": f"{pid} Mobility",
        "valid": n % 10 != 0,
        "whitelist": "ALLOWED",
        "language": "en",
        "last_updated": format_time(when),
    }


def _charge(
    party: str, n: int, seed: int, module: str, token_party: str, when: datetime
) -> dict[str, Any]:
    """The parts a Session and a CDR share: one charge at a generated location."""
    rng = _rng(seed, party, module, n)
    location = _location(party, rng.randint(1, 5), seed, when)
    evse = location["evses"][0]
    connector = evse["connectors"][0]
    start = when - timedelta(minutes=rng.randint(30, 240))
    kwh = round(rng.uniform(3, 60), 3)
    tcc, tpid = token_party.split("-")
    token_n = rng.randint(1, 5)
    return {
        "start": start,
        "end": when,
        "kwh": kwh,
        "location": location,
        "evse": evse,
        "connector": connector,
        "cost": round(kwh * 0.45, 2),
        "cdr_token": {
            "country_code": tcc,
            "party_id": tpid,
            "uid": object_id("tokens", token_party, token_n),
            "type": "RFID",
            "contract_id": f"{tcc}-{tpid}-C{token_n:08d}-0",
        },
    }


def _session(party: str, n: int, seed: int, token_party: str, when: datetime) -> dict[str, Any]:
    cc, pid = party.split("-")
    c = _charge(party, n, seed, "sessions", token_party, when)
    done = n % 3 != 0
    session: dict[str, Any] = {
        "country_code": cc,
        "party_id": pid,
        "id": object_id("sessions", party, n),
        "start_date_time": format_time(c["start"]),
        "kwh": c["kwh"],
        "cdr_token": c["cdr_token"],
        "auth_method": "WHITELIST",
        "location_id": c["location"]["id"],
        "evse_uid": c["evse"]["uid"],
        "connector_id": c["connector"]["id"],
        "currency": "EUR",
        "status": "COMPLETED" if done else "ACTIVE",
        "last_updated": format_time(when),
    }
    if done:
        session["end_date_time"] = format_time(c["end"])
        session["total_cost"] = {"excl_vat": c["cost"]}
    return session


def _cdr(party: str, n: int, seed: int, token_party: str, when: datetime) -> dict[str, Any]:
    cc, pid = party.split("-")
    c = _charge(party, n, seed, "cdrs", token_party, when)
    loc, evse, conn = c["location"], c["evse"], c["connector"]
    return {
        "country_code": cc,
        "party_id": pid,
        "id": object_id("cdrs", party, n),
        "start_date_time": format_time(c["start"]),
        "end_date_time": format_time(c["end"]),
        "cdr_token": c["cdr_token"],
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": loc["id"],
            "address": loc["address"],
            "city": loc["city"],
            "postal_code": loc["postal_code"],
            "country": loc["country"],
            "coordinates": loc["coordinates"],
            "evse_uid": evse["uid"],
            "evse_id": evse["evse_id"],
            "connector_id": conn["id"],
            "connector_standard": conn["standard"],
            "connector_format": conn["format"],
            "connector_power_type": conn["power_type"],
        },
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": format_time(c["start"]),
                "dimensions": [{"type": "ENERGY", "volume": c["kwh"]}],
            }
        ],
        "total_cost": {"excl_vat": c["cost"]},
        "total_energy": c["kwh"],
        "total_time": round((c["end"] - c["start"]).total_seconds() / 3600, 4),
        "last_updated": format_time(when),
    }


# --- the other versions -------------------------------------------------------------------


def _location_v211(loc: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in loc.items() if k not in ("country_code", "party_id", "publish")}
    out.pop("time_zone")
    out["type"] = out.pop("parking_type", "ON_STREET")
    out["evses"] = [
        {
            **{k: v for k, v in evse.items()},
            "connectors": [
                {
                    **{k: v for k, v in c.items() if k not in ("max_voltage", "max_amperage")},
                    "voltage": c["max_voltage"],
                    "amperage": c["max_amperage"],
                    "tariff_id": c["tariff_ids"][0],
                }
                for c in evse["connectors"]
            ],
        }
        for evse in loc["evses"]
    ]
    for evse in out["evses"]:
        for c in evse["connectors"]:
            c.pop("tariff_ids")
    return out


def _one_evse(loc: Mapping[str, Any], evse_uid: str) -> dict[str, Any]:
    return {**loc, "evses": [e for e in loc["evses"] if e["uid"] == evse_uid]}


#: Session and CDR fields 2.2 added (2.1.1 mod_sessions, mod_cdrs object tables)
_NOT_IN_V211 = (
    "session_id",
    "authorization_reference",
    "signed_data",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)


def _v211(module: str, obj: dict[str, Any], loc: Mapping[str, Any]) -> dict[str, Any]:
    """The 2.1.1 form of a generated 2.2.1 object (2.1.1 mod_* object tables); ``loc`` is the
    location of a session or CDR (2.1.1 embeds the whole Location)."""
    if module == "locations":
        return _location_v211(obj)
    out = {k: v for k, v in obj.items() if k not in ("country_code", "party_id")}
    if module == "tariffs":
        return out
    if module == "tokens":
        out["auth_id"] = out.pop("contract_id")
        return out
    token = out.pop("cdr_token")
    out["auth_id"] = token["contract_id"]
    for key in _NOT_IN_V211:
        out.pop(key, None)
    if out.get("auth_method") == "COMMAND":  # 2.1.1 AuthMethod has no COMMAND
        out["auth_method"] = "AUTH_REQUEST"
    if module == "sessions":
        out["start_datetime"] = out.pop("start_date_time")
        if "end_date_time" in out:
            out["end_datetime"] = out.pop("end_date_time")
        if "total_cost" in out:
            out["total_cost"] = out["total_cost"]["excl_vat"]
        evse_uid = out.pop("evse_uid")
        out.pop("location_id")
        out.pop("connector_id")
        out["location"] = _location_v211(_one_evse(loc, evse_uid))
        return out
    out["stop_date_time"] = out.pop("end_date_time")
    out["total_cost"] = out["total_cost"]["excl_vat"]
    cdr_loc = out.pop("cdr_location")
    out["location"] = _location_v211(_one_evse(loc, cdr_loc["evse_uid"]))
    return out


def _price_v230(price: Mapping[str, Any]) -> dict[str, Any]:
    return {"before_taxes": price["excl_vat"]}


#: the Price fields of a Session or CDR (2.2.1 mod_cdrs §CDR Object)
_PRICES = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)


def _v230(module: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The 2.3.0 form of a generated 2.2.1 object (2.3.0 mod_tariffs: ``tax_included``; Price
    with ``before_taxes``)."""
    out = dict(obj)
    if module == "tariffs":
        out["tax_included"] = "NO"
    for name in _PRICES:
        if name in out:
            out[name] = _price_v230(out[name])
    return out


_MAKERS = {
    "locations": lambda party, n, seed, tp, when: _location(party, n, seed, when),
    "tariffs": lambda party, n, seed, tp, when: _tariff(party, n, seed, when),
    "tokens": lambda party, n, seed, tp, when: _token(party, n, seed, when),
    "sessions": _session,
    "cdrs": _cdr,
}


def location_221(party: str, n: int, seed: int, when: datetime | None = None) -> dict[str, Any]:
    """The ``n``-th Location of ``party`` in its 2.2.1 form (what :func:`in_version` reshapes)."""
    return _location(
        party, n, seed, when if when is not None else BASE_TIME + timedelta(minutes=37 * n)
    )


def in_version(
    module: str, obj: dict[str, Any], version: str, location: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``version``'s wire form of a 2.2.1-form object of ``module``; ``location`` is the 2.2.1
    Location of a Session or CDR (2.1.1 embeds it, limited to the EVSE used)."""
    if version == "2.1.1":
        return _v211(module, obj, location or {})
    if version == "2.3.0":
        return _v230(module, obj)
    return obj


def make_object(
    module: str,
    party: str,
    n: int,
    *,
    seed: int,
    version: str,
    token_party: str = "NL-EMS",
    when: datetime | None = None,
) -> dict[str, Any]:
    """The ``n``-th object of ``party`` in ``module``, in ``version``'s wire form."""
    moment = when if when is not None else BASE_TIME + timedelta(minutes=37 * n)
    obj: dict[str, Any] = _MAKERS[module](party, n, seed, token_party, moment)
    if version == "2.1.1":
        loc: Mapping[str, Any] = {}
        if module in ("sessions", "cdrs"):
            loc = _charge(party, n, seed, module, token_party, moment)["location"]
        return _v211(module, obj, loc)
    if version == "2.3.0":
        return _v230(module, obj)
    return obj


@dataclass
class Dataset:
    """The objects an emulated partner serves, per module in creation order (oldest first:
    transport_and_format §Pagination advises that order)."""

    version: str
    seed: int
    token_party: str = "NL-EMS"
    modules: dict[str, list[Entry]] = field(default_factory=dict)
    next_n: dict[tuple[str, str], int] = field(default_factory=dict)

    def entries(self, module: str) -> list[Entry]:
        return self.modules.setdefault(module, [])

    def create(self, module: str, party: str, when: datetime | None = None) -> Entry:
        """Append the next object of ``party`` in ``module`` (``when`` = its last_updated)."""
        n = self.next_n.get((module, party), 1)
        self.next_n[module, party] = n + 1
        data = make_object(
            module,
            party,
            n,
            seed=self.seed,
            version=self.version,
            token_party=self.token_party,
            when=when,
        )
        moment = when if when is not None else BASE_TIME + timedelta(minutes=37 * n)
        entry = Entry(party, object_id(module, party, n), moment.replace(microsecond=0), data)
        self.entries(module).append(entry)
        return entry

    def find(self, module: str, object_id_: str) -> Entry | None:
        return next((e for e in self.entries(module) if e.id == object_id_), None)


def generate(
    version: str,
    seed: int,
    owners: Mapping[str, list[str]],
    counts: Mapping[str, int] = DEFAULT_COUNTS,
    token_party: str = "NL-EMS",
) -> Dataset:
    """The initial data: ``counts[module]`` objects for each party in ``owners[module]``."""
    data = Dataset(version=version, seed=seed, token_party=token_party)
    for module in MODULE_OBJECT:
        for party in owners.get(module, []):
            for _ in range(counts.get(module, 0)):
                data.create(module, party)
        data.entries(module).sort(key=lambda e: (e.last_updated, e.party, e.id))
    return data
