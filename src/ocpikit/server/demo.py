"""A generated sample dataset (deterministic seed): locations in several cities with EVSEs,
connectors, opening times and tariffs for a CPO party, and tokens for an eMSP party.

Nothing is copied from the spec examples; every object is built here and validated against
the head model before it is stored, so the demo also exercises the converters when partners
pull it in 2.1.1 or 2.2.1.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ocpikit.core.types import format_datetime
from ocpikit.models import model_for
from ocpikit.protocol.ports import ObjectKey, Storage

__all__ = [
    "CITIES",
    "demo_locations",
    "demo_sessions_and_cdrs",
    "demo_tariffs",
    "demo_tokens",
    "load_demo",
]

#: (city, country ISO alpha-3, country code, postal prefix, lat, lon, time zone, street names)
CITIES: tuple[tuple[str, str, str, str, float, float, str, tuple[str, ...]], ...] = (
    (
        "Amsterdam",
        "NLD",
        "NL",
        "10",
        52.3676,
        4.9041,
        "Europe/Amsterdam",
        ("Keizersgracht", "Prinsengracht", "Damrak", "Overtoom", "Ferdinand Bolstraat"),
    ),
    (
        "Rotterdam",
        "NLD",
        "NL",
        "30",
        51.9244,
        4.4777,
        "Europe/Amsterdam",
        ("Coolsingel", "Witte de Withstraat", "Meent", "Blaak", "Kruiskade"),
    ),
    (
        "Utrecht",
        "NLD",
        "NL",
        "35",
        52.0907,
        5.1214,
        "Europe/Amsterdam",
        ("Oudegracht", "Biltstraat", "Amsterdamsestraatweg", "Vredenburg"),
    ),
    (
        "Berlin",
        "DEU",
        "DE",
        "10",
        52.5200,
        13.4050,
        "Europe/Berlin",
        ("Unter den Linden", "Kastanienallee", "Torstrasse", "Sonnenallee", "Karl-Marx-Allee"),
    ),
    (
        "Munich",
        "DEU",
        "DE",
        "80",
        48.1351,
        11.5820,
        "Europe/Berlin",
        ("Leopoldstrasse", "Sendlinger Strasse", "Maximilianstrasse", "Lindwurmstrasse"),
    ),
    (
        "Brussels",
        "BEL",
        "BE",
        "10",
        50.8503,
        4.3517,
        "Europe/Brussels",
        ("Rue Neuve", "Avenue Louise", "Chaussee d'Ixelles", "Boulevard Anspach"),
    ),
    (
        "Paris",
        "FRA",
        "FR",
        "75",
        48.8566,
        2.3522,
        "Europe/Paris",
        ("Rue de Rivoli", "Boulevard Voltaire", "Rue de la Roquette", "Avenue de Clichy"),
    ),
)

_FACILITIES = ("HOTEL", "RESTAURANT", "CAFE", "MALL", "SUPERMARKET", "PARKING_LOT", "MUSEUM")
_PARKING = ("ON_STREET", "PARKING_LOT", "PARKING_GARAGE", "UNDERGROUND_GARAGE")
_AC = (
    ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 400, 32),
    ("IEC_62196_T2", "SOCKET", "AC_1_PHASE", 230, 16),
)
_DC = (("IEC_62196_T2_COMBO", "CABLE", "DC", 920, 200), ("CHADEMO", "CABLE", "DC", 500, 125))
_EPOCH = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def _opening_times(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.6:
        return {"twentyfourseven": True}
    begin, end = rng.choice((("07:00", "22:00"), ("08:00", "20:00"), ("06:30", "23:30")))
    return {
        "twentyfourseven": False,
        "regular_hours": [
            {"weekday": d, "period_begin": begin, "period_end": end} for d in range(1, 8)
        ],
    }


def demo_tariffs(country_code: str, party_id: str) -> list[dict[str, Any]]:
    """Three tariffs: AC energy, AC energy + parking time, DC energy with a session fee."""
    stamp = format_datetime(_EPOCH)

    def element(type_: str, price: float, step: int, **restrictions: Any) -> dict[str, Any]:
        el: dict[str, Any] = {
            "price_components": [{"type": type_, "price": price, "step_size": step}]
        }
        if restrictions:
            el["restrictions"] = restrictions
        return el

    return [
        {
            "country_code": country_code,
            "party_id": party_id,
            "id": "AC-STD",
            "currency": "EUR",
            "tax_included": "NO",
            "elements": [element("ENERGY", 0.39, 1)],
            "last_updated": stamp,
        },
        {
            "country_code": country_code,
            "party_id": party_id,
            "id": "AC-PARK",
            "currency": "EUR",
            "tax_included": "NO",
            "elements": [
                element("ENERGY", 0.35, 1),
                element("PARKING_TIME", 2.0, 300, start_time="09:00", end_time="18:00"),
            ],
            "last_updated": stamp,
        },
        {
            "country_code": country_code,
            "party_id": party_id,
            "id": "DC-FAST",
            "currency": "EUR",
            "tax_included": "NO",
            "elements": [element("FLAT", 0.5, 1), element("ENERGY", 0.59, 1)],
            "last_updated": stamp,
        },
    ]


def demo_locations(
    country_code: str, party_id: str, count: int = 300, *, seed: int = 20250106
) -> Iterator[dict[str, Any]]:
    """``count`` head Locations spread over :data:`CITIES`, ``last_updated`` one minute apart."""
    rng = random.Random(seed)
    for n in range(count):
        city, country, _cc, postal, lat, lon, tz, streets = CITIES[n % len(CITIES)]
        stamp = format_datetime(_EPOCH + timedelta(minutes=n))
        loc_id = f"LOC{n + 1:05d}"
        dc = rng.random() < 0.3
        evses = []
        for e in range(rng.randint(1, 4)):
            standards = _DC if dc and e < 2 else _AC
            connectors = []
            for c, (std, fmt, power, volt, amp) in enumerate(
                rng.sample(standards, k=rng.randint(1, len(standards)))
            ):
                connectors.append(
                    {
                        "id": str(c + 1),
                        "standard": std,
                        "format": fmt,
                        "power_type": power,
                        "max_voltage": volt,
                        "max_amperage": amp,
                        "max_electric_power": volt * amp * (3 if power == "AC_3_PHASE" else 1),
                        "tariff_ids": [
                            "DC-FAST" if power == "DC" else rng.choice(("AC-STD", "AC-PARK"))
                        ],
                        "last_updated": stamp,
                    }
                )
            evses.append(
                {
                    "uid": f"{loc_id}-E{e + 1}",
                    "evse_id": f"{country_code}*{party_id}*E{n + 1:05d}{e + 1}",
                    "status": rng.choice(
                        ("AVAILABLE", "AVAILABLE", "AVAILABLE", "CHARGING", "OUTOFORDER")
                    ),
                    "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
                    "connectors": connectors,
                    "parking_restrictions": [] if rng.random() < 0.8 else ["CUSTOMERS"],
                    "last_updated": stamp,
                }
            )
        yield {
            "country_code": country_code,
            "party_id": party_id,
            "id": loc_id,
            "publish": True,
            "name": f"{city} {streets[n % len(streets)]} {n // len(CITIES) + 1}",
            "address": f"{streets[(n // len(CITIES)) % len(streets)]} {rng.randint(1, 250)}",
            "city": city,
            "postal_code": f"{postal}{rng.randint(10, 99)} {chr(65 + n % 26)}{chr(65 + (n * 7) % 26)}",
            "country": country,
            "coordinates": {
                "latitude": f"{lat + rng.uniform(-0.05, 0.05):.6f}",
                "longitude": f"{lon + rng.uniform(-0.08, 0.08):.6f}",
            },
            "parking_type": rng.choice(_PARKING),
            "evses": evses,
            "operator": {"name": "ocpikit demo charging"},
            "facilities": rng.sample(_FACILITIES, k=rng.randint(0, 3)),
            "time_zone": tz,
            "opening_times": _opening_times(rng),
            "charging_when_closed": rng.random() < 0.5,
            "last_updated": stamp,
        }


def demo_tokens(country_code: str, party_id: str, count: int = 50) -> list[dict[str, Any]]:
    stamp = format_datetime(_EPOCH)
    return [
        {
            "country_code": country_code,
            "party_id": party_id,
            "uid": f"{0x1000_0000 + n * 7919:08X}",
            "type": "RFID",
            "contract_id": f"{country_code}-{party_id}-C{n:08d}",
            "visual_number": f"DEMO-{n:04d}",
            "issuer": "ocpikit demo mobility",
            "valid": n % 10 != 9,
            "whitelist": "ALLOWED",
            "language": "en",
            "last_updated": stamp,
        }
        for n in range(count)
    ]


def demo_sessions_and_cdrs(
    country_code: str, party_id: str, count: int = 40, *, seed: int = 7
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` completed Sessions on demo locations with the matching CDRs (AC-STD tariff:
    0.39 EUR/kWh excl. VAT, 21 % VAT), one every 90 minutes from the demo epoch."""
    rng = random.Random(seed)
    sessions: list[dict[str, Any]] = []
    cdrs: list[dict[str, Any]] = []
    tariff = demo_tariffs(country_code, party_id)[0]
    for n in range(count):
        loc_n = rng.randrange(0, 50)
        city, country, _cc, postal, lat, lon, _tz, streets = CITIES[loc_n % len(CITIES)]
        start = _EPOCH + timedelta(minutes=90 * n)
        minutes = rng.randint(20, 240)
        end = start + timedelta(minutes=minutes)
        kwh = round(rng.uniform(3, 45), 2)
        cost = round(kwh * 0.39, 2)
        token = {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": f"{0x1000_0000 + n * 7919:08X}",
            "type": "RFID",
            "contract_id": f"DE-MSP-C{n:08d}",
        }
        loc_id, evse_uid = f"LOC{loc_n + 1:05d}", f"LOC{loc_n + 1:05d}-E1"
        period = {
            "start_date_time": format_datetime(start),
            "dimensions": [{"type": "ENERGY", "volume": kwh}],
            "tariff_id": tariff["id"],
        }
        total = {
            "before_taxes": cost,
            "taxes": [{"name": "VAT", "percentage": 21, "amount": round(cost * 0.21, 2)}],
        }
        sessions.append(
            {
                "country_code": country_code,
                "party_id": party_id,
                "id": f"SES{n + 1:05d}",
                "start_date_time": format_datetime(start),
                "end_date_time": format_datetime(end),
                "kwh": kwh,
                "cdr_token": token,
                "auth_method": "WHITELIST",
                "location_id": loc_id,
                "evse_uid": evse_uid,
                "connector_id": "1",
                "currency": "EUR",
                "charging_periods": [period],
                "total_cost": total,
                "status": "COMPLETED",
                "last_updated": format_datetime(end),
            }
        )
        cdrs.append(
            {
                "country_code": country_code,
                "party_id": party_id,
                "id": f"CDR{n + 1:05d}",
                "start_date_time": format_datetime(start),
                "end_date_time": format_datetime(end),
                "session_id": f"SES{n + 1:05d}",
                "cdr_token": token,
                "auth_method": "WHITELIST",
                "cdr_location": {
                    "id": loc_id,
                    "address": f"{streets[0]} 1",
                    "city": city,
                    "postal_code": f"{postal}00 AA",
                    "country": country,
                    "coordinates": {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"},
                    "evse_uid": evse_uid,
                    "evse_id": f"{country_code}*{party_id}*E{loc_n + 1:05d}1",
                    "connector_id": "1",
                    "connector_standard": "IEC_62196_T2",
                    "connector_format": "SOCKET",
                    "connector_power_type": "AC_3_PHASE",
                },
                "currency": "EUR",
                "tariffs": [tariff],
                "charging_periods": [period],
                "total_cost": total,
                "total_energy": kwh,
                "total_time": round(minutes / 60, 4),
                "last_updated": format_datetime(end + timedelta(minutes=5)),
            }
        )
    return sessions, cdrs


async def _store(storage: Storage, kind: str, docs: list[dict[str, Any]], id_field: str) -> int:
    model = model_for("2.3.0", kind)
    for doc in docs:
        head = model.model_validate(doc).dump()
        await storage.objects.put(
            ObjectKey(kind, head["country_code"], head["party_id"], str(head[id_field])),
            orjson.dumps(head),
            last_updated=datetime.fromisoformat(head["last_updated"].replace("Z", "+00:00")),
            owner=None,
        )
    return len(docs)


async def load_demo(
    storage: Storage,
    parties: list[tuple[str, str, tuple[str, ...]]],
    *,
    locations: int = 300,
) -> dict[str, int]:
    """Store the dataset for our parties ``(country_code, party_id, roles)``: locations and
    tariffs for each CPO, tokens for each eMSP. Idempotent (same ids every time)."""
    counts = {"Location": 0, "Tariff": 0, "Token": 0, "Session": 0, "CDR": 0}
    for cc, pid, roles in parties:
        if "CPO" in roles:
            counts["Tariff"] += await _store(storage, "Tariff", demo_tariffs(cc, pid), "id")
            counts["Location"] += await _store(
                storage, "Location", list(demo_locations(cc, pid, locations)), "id"
            )
            sessions, cdrs = demo_sessions_and_cdrs(cc, pid)
            counts["Session"] += await _store(storage, "Session", sessions, "id")
            counts["CDR"] += await _store(storage, "CDR", cdrs, "id")
        if "EMSP" in roles:
            counts["Token"] += await _store(storage, "Token", demo_tokens(cc, pid), "uid")
    return counts
