"""Model throughput: parse+validate, dump and convert-to-head against orjson, side by side.

Documents: a realistic 2.2.1 Location (3 EVSEs × 2 connectors, opening times, images, ~3 KB)
and a 2.2.1 CDR with 10 charging periods. Each figure is printed as a ratio to ``orjson.loads``
(parse) or ``orjson.dumps`` (dump) of the same document measured in the same run; the machines
are noisy, so only the ratios mean something. Aim (issue 2): dump within 3× of orjson.

Run: ``.venv/bin/python bench/bench_models.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from ocpikit.convert import to_head
from ocpikit.models import model_for


def location_221() -> dict[str, Any]:
    def connector(i: int, evse: int) -> dict[str, Any]:
        return {
            "id": str(i),
            "standard": "IEC_62196_T2" if i == 1 else "IEC_62196_T2_COMBO",
            "format": "SOCKET" if i == 1 else "CABLE",
            "power_type": "AC_3_PHASE" if i == 1 else "DC",
            "max_voltage": 230 if i == 1 else 920,
            "max_amperage": 32 if i == 1 else 400,
            "max_electric_power": 22000 if i == 1 else 150000,
            "tariff_ids": [f"T{evse}{i}", "TPROFILE"],
            "terms_and_conditions": "https://example.com/terms",
            "last_updated": "2024-03-01T10:00:00Z",
        }

    def evse(n: int) -> dict[str, Any]:
        return {
            "uid": f"EVSE-{n}",
            "evse_id": f"NL*ABC*E{1000 + n}",
            "status": "AVAILABLE",
            "status_schedule": [
                {
                    "period_begin": "2024-03-02T08:00:00Z",
                    "period_end": "2024-03-02T10:00:00Z",
                    "status": "BLOCKED",
                }
            ],
            "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE", "RESERVABLE"],
            "connectors": [connector(1, n), connector(2, n)],
            "floor_level": "-1",
            "coordinates": {"latitude": "52.370216", "longitude": "4.895168"},
            "physical_reference": f"P{n}",
            "directions": [{"language": "en", "text": "Enter the garage, second floor"}],
            "parking_restrictions": ["EV_ONLY"],
            "images": [
                {
                    "url": f"https://example.com/img/evse{n}.jpg",
                    "thumbnail": f"https://example.com/img/evse{n}_t.jpg",
                    "category": "CHARGER",
                    "type": "jpeg",
                    "width": 800,
                    "height": 600,
                }
            ],
            "last_updated": "2024-03-01T10:00:00Z",
        }

    return {
        "country_code": "NL",
        "party_id": "ABC",
        "id": "LOC-0001",
        "publish": True,
        "name": "Central Station Garage",
        "address": "Stationsplein 1",
        "city": "Amsterdam",
        "postal_code": "1012AB",
        "country": "NLD",
        "coordinates": {"latitude": "52.378900", "longitude": "4.900500"},
        "parking_type": "PARKING_GARAGE",
        "evses": [evse(1), evse(2), evse(3)],
        "operator": {"name": "ABC Charging", "website": "https://abc.example.com"},
        "facilities": ["TRAIN_STATION", "CAFE"],
        "time_zone": "Europe/Amsterdam",
        "opening_times": {
            "twentyfourseven": False,
            "regular_hours": [
                {"weekday": d, "period_begin": "06:00", "period_end": "23:00"} for d in range(1, 8)
            ],
            "exceptional_closings": [
                {"period_begin": "2024-12-25T00:00:00Z", "period_end": "2024-12-26T00:00:00Z"}
            ],
        },
        "charging_when_closed": False,
        "images": [
            {"url": "https://example.com/img/loc.jpg", "category": "LOCATION", "type": "jpeg"}
        ],
        "energy_mix": {"is_green_energy": True, "supplier_name": "Green Power Co"},
        "last_updated": "2024-03-01T10:00:00Z",
    }


def cdr_221() -> dict[str, Any]:
    periods = [
        {
            "start_date_time": f"2024-03-01T{10 + i // 4:02d}:{(i % 4) * 15:02d}:00Z",
            "dimensions": [
                {"type": "ENERGY", "volume": 2.5 + i / 10},
                {"type": "TIME", "volume": 0.25},
                {"type": "MAX_CURRENT", "volume": 32},
            ],
            "tariff_id": "T11",
        }
        for i in range(10)
    ]
    return {
        "country_code": "NL",
        "party_id": "ABC",
        "id": "CDR-0001",
        "start_date_time": "2024-03-01T10:00:00Z",
        "end_date_time": "2024-03-01T12:30:00Z",
        "session_id": "S-0001",
        "cdr_token": {
            "country_code": "DE",
            "party_id": "EMS",
            "uid": "012345678",
            "type": "RFID",
            "contract_id": "DE8ACC12E46L89",
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC-0001",
            "name": "Central Station Garage",
            "address": "Stationsplein 1",
            "city": "Amsterdam",
            "postal_code": "1012AB",
            "country": "NLD",
            "coordinates": {"latitude": "52.378900", "longitude": "4.900500"},
            "evse_uid": "EVSE-1",
            "evse_id": "NL*ABC*E1001",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "tariffs": [
            {
                "country_code": "NL",
                "party_id": "ABC",
                "id": "T11",
                "currency": "EUR",
                "elements": [
                    {
                        "price_components": [
                            {"type": "ENERGY", "price": 0.35, "vat": 21.0, "step_size": 1}
                        ]
                    }
                ],
                "last_updated": "2024-01-01T00:00:00Z",
            }
        ],
        "charging_periods": periods,
        "total_cost": {"excl_vat": 10.5, "incl_vat": 12.71},
        "total_energy_cost": {"excl_vat": 10.5, "incl_vat": 12.71},
        "total_energy": 29.5,
        "total_time": 2.5,
        "last_updated": "2024-03-01T12:31:00Z",
    }


def rate(fn: Callable[[], object], seconds: float = 1.0) -> float:
    """Calls per second of ``fn``, measured over about ``seconds``."""
    n, start = 0, time.perf_counter()
    batch = 50
    while True:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def bench(name: str, obj: str, doc: dict[str, Any]) -> None:
    raw = orjson.dumps(doc)
    model = model_for("2.2.1", obj)
    instance = model.model_validate_json(raw)
    base_loads = rate(lambda: orjson.loads(raw))
    base_dumps = rate(lambda: orjson.dumps(doc))
    parse = rate(lambda: model.model_validate_json(raw))
    dump = rate(instance.dump_json)
    to_h = rate(lambda: to_head(instance, "2.2.1"))
    print(f"{name} ({len(raw)} bytes)")
    print(f"  orjson.loads          {base_loads:>10.0f}/s   (baseline)")
    print(
        f"  parse+validate        {parse:>10.0f}/s   {base_loads / parse:6.1f}× slower than orjson.loads"
    )
    print(f"  orjson.dumps          {base_dumps:>10.0f}/s   (baseline)")
    print(
        f"  dump                  {dump:>10.0f}/s   {base_dumps / dump:6.1f}× slower than orjson.dumps"
    )
    print(
        f"  convert to head       {to_h:>10.0f}/s   {base_loads / to_h:6.1f}× slower than orjson.loads"
    )


if __name__ == "__main__":
    bench("2.2.1 Location, 3 EVSEs × 2 connectors", "Location", location_221())
    bench("2.2.1 CDR, 10 charging periods", "CDR", cdr_221())
