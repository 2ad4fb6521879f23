"""Sessions whose charging periods cross a tariff boundary, with hand-computed totals.

Each scenario is one 2.2.1 tariff and one 2.2.1 CDR (a single long period, as a CPO that does
not split would send it), the zone, the expected total excl. VAT with splitting (the default)
and the total when each period is priced by its start (``period_split=none``). The arithmetic
is in each scenario's ``why``. ``as_2_1_1`` / ``as_2_3_0`` give the same inputs in the other
versions' shapes (the CLI tests price them through ``ocpikit tariff price --json``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

AMS = "Europe/Amsterdam"


def tariff(tid: str, *elements: dict[str, Any]) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "ABC",
        "id": tid,
        "currency": "EUR",
        "elements": list(elements),
        "last_updated": "2024-01-01T00:00:00Z",
    }


def el(*components: tuple[str, float, int], **restrictions: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "price_components": [{"type": t, "price": p, "step_size": s} for t, p, s in components]
    }
    if restrictions:
        out["restrictions"] = restrictions
    return out


def cdr(tid: str, start: str, end: str, *periods: tuple[str, dict[str, float]]) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "ABC",
        "id": f"CDR-{tid}",
        "start_date_time": start,
        "end_date_time": end,
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": s,
                "dimensions": [{"type": k, "volume": v} for k, v in dims.items()],
                "tariff_id": tid,
            }
            for s, dims in periods
        ],
    }


@dataclass(frozen=True)
class Scenario:
    name: str
    tariff: dict[str, Any]
    cdr: dict[str, Any]
    zone: str
    total: str  # expected total_cost excl. VAT (default policy)
    by_start: str  # the same with period_split=none (and kwh_split=period_start)
    subs: int  # sub-periods of the first period
    why: str


SCENARIOS = [
    Scenario(
        "day_night",
        tariff(
            "DN",
            el(("ENERGY", 0.40, 1), start_time="07:00", end_time="23:00"),
            el(("ENERGY", 0.25, 1)),
        ),
        cdr(
            "DN",
            "2024-01-15T21:30:00Z",
            "2024-01-15T23:30:00Z",
            ("2024-01-15T21:30:00Z", {"ENERGY": 20, "TIME": 2}),
        ),
        AMS,
        "5.75",
        "8.00",
        2,
        "22:30-00:30 CET, 20 kWh at constant power (10 kWh/h). 22:30-23:00 day: 5 kWh x 0.40 = "
        "2.00; 23:00-00:30 night: 15 kWh x 0.25 = 3.75; total 5.75. By the period start (22:30, "
        "day): 20 x 0.40 = 8.00.",
    ),
    Scenario(
        "midnight_weekend",
        tariff(
            "WE", el(("TIME", 2.00, 1), day_of_week=["SATURDAY", "SUNDAY"]), el(("TIME", 1.00, 1))
        ),
        cdr(
            "WE",
            "2024-01-19T21:00:00Z",
            "2024-01-20T01:00:00Z",
            ("2024-01-19T21:00:00Z", {"ENERGY": 30, "TIME": 4}),
        ),
        AMS,
        "6.00",
        "4.00",
        2,
        "Fri 22:00 - Sat 02:00 CET. Friday 22:00-24:00: 2 h x 1.00 = 2.00; Saturday 00:00-02:00 "
        "(local midnight switches day_of_week): 2 h x 2.00 = 4.00; total 6.00. By the period "
        "start (Friday): 4 h x 1.00 = 4.00.",
    ),
    Scenario(
        "dst_spring_forward",
        tariff(
            "SF",
            el(("ENERGY", 0.20, 1), start_time="23:00", end_time="02:30"),
            el(("ENERGY", 0.40, 1), ("TIME", 1.00, 1)),
        ),
        cdr(
            "SF",
            "2024-03-31T00:00:00Z",
            "2024-03-31T02:00:00Z",
            ("2024-03-31T00:00:00Z", {"ENERGY": 10, "TIME": 2}),
        ),
        AMS,
        "5.00",
        "4.00",
        2,
        "2024-03-31: 02:00 CET jumps to 03:00 CEST at 01:00Z, so 02:30 never happens and the "
        "night window ends at the jump. 00:00Z-01:00Z (01:00-02:00 CET) night: 5 kWh x 0.20 = "
        "1.00; 01:00Z-02:00Z (03:00-04:00 CEST) day: 5 kWh x 0.40 = 2.00; TIME is real time, "
        "2 h x 1.00 = 2.00 (not 3 wall-clock hours); total 5.00. By the start (night): "
        "10 x 0.20 + 2.00 = 4.00.",
    ),
    Scenario(
        "dst_fall_back",
        tariff(
            "FB",
            el(("ENERGY", 0.20, 1), start_time="23:00", end_time="02:30"),
            el(("ENERGY", 0.40, 1)),
        ),
        cdr(
            "FB",
            "2024-10-27T00:00:00Z",
            "2024-10-27T02:00:00Z",
            ("2024-10-27T00:00:00Z", {"ENERGY": 12, "TIME": 2}),
        ),
        AMS,
        "3.60",
        "2.40",
        4,
        "2024-10-27: 03:00 CEST goes back to 02:00 CET at 01:00Z, so 02:00-03:00 is lived twice. "
        "6 kWh/h. 00:00Z-00:30Z (02:00-02:30 CEST) night 3 kWh x 0.20 = 0.60; 00:30Z-01:00Z "
        "(02:30-03:00 CEST) day 3 x 0.40 = 1.20; 01:00Z-01:30Z (02:00-02:30 CET, again) night "
        "0.60; 01:30Z-02:00Z (02:30-03:00 CET) day 1.20; total 3.60. By the start: "
        "12 x 0.20 = 2.40.",
    ),
    Scenario(
        "max_duration",
        tariff(
            "MD",
            el(("TIME", 0.00, 900), max_duration=1800),
            el(("TIME", 3.00, 900)),
            el(("ENERGY", 0.25, 1)),
        ),
        cdr(
            "MD",
            "2024-01-15T10:00:00Z",
            "2024-01-15T10:40:00Z",
            ("2024-01-15T10:00:00Z", {"ENERGY": 8}),
        ),
        AMS,
        "2.75",
        "2.00",
        2,
        "TIME from the timestamps, 40 min. The first 30 min are free (max_duration 1800 s is "
        "reached inside the period), 10 min at 3.00/h. step_size applies once to the session's "
        "TIME total (DIGEST 4.3 rules 1, 3, 5): 40 -> 45 min, the extra 5 min billed at the last "
        "(paid) price: 15 min x 3.00/h = 0.75; energy 8 x 0.25 = 2.00; total 2.75. By the start "
        "(free element, step 900 -> 45 min x 0.00): 2.00.",
    ),
    Scenario(
        "max_kwh",
        tariff(
            "MK",
            el(("ENERGY", 0.50, 1), max_kwh=10),
            el(("ENERGY", 0.30, 1)),
            el(("TIME", 2.00, 1), min_kwh=10),
        ),
        cdr(
            "MK",
            "2024-01-15T10:00:00Z",
            "2024-01-15T12:00:00Z",
            ("2024-01-15T10:00:00Z", {"ENERGY": 16, "TIME": 2}),
        ),
        AMS,
        "8.30",
        "8.00",
        2,
        "16 kWh in 2 h at constant power (8 kWh/h): 10 kWh is reached after 75 min (11:15Z). "
        "Energy 10 x 0.50 = 5.00 + 6 x 0.30 = 1.80; TIME priced only from 10 kWh on: 45 min x "
        "2.00/h = 1.50; total 8.30. kWh read at the period start (0 kWh): 16 x 0.50 = 8.00 and "
        "TIME free.",
    ),
    Scenario(
        "flat_at_night",
        tariff(
            "FN",
            el(("FLAT", 1.00, 1), start_time="22:00", end_time="06:00"),
            el(("ENERGY", 0.25, 1)),
        ),
        cdr(
            "FN",
            "2024-01-15T20:00:00Z",
            "2024-01-15T22:00:00Z",
            ("2024-01-15T20:00:00Z", {"ENERGY": 4, "TIME": 2}),
        ),
        AMS,
        "2.00",
        "1.00",
        2,
        "21:00-23:00 CET. The FLAT becomes active at 22:00 inside the period and is charged "
        "once (policy flat=once): 1.00 + 4 kWh x 0.25 = 1.00; total 2.00. By the start (21:00, "
        "no FLAT active): 1.00.",
    ),
]


def as_2_1_1(s: Scenario) -> dict[str, Any]:
    """The CDR in 2.1.1 shape, embedding the tariff and a Location with the time zone."""
    t = copy.deepcopy(s.tariff)
    t.pop("country_code")
    t.pop("party_id")
    c = copy.deepcopy(s.cdr)
    for key in ("country_code", "party_id"):
        c.pop(key)
    for p in c["charging_periods"]:
        p.pop("tariff_id")
    c["stop_date_time"] = c.pop("end_date_time")
    c["auth_id"] = "DE8ACC12E46L89"
    c["auth_method"] = "WHITELIST"
    c["location"] = {
        "id": "LOC1",
        "type": "ON_STREET",
        "address": "Stationsplein 1",
        "city": "Amsterdam",
        "postal_code": "1012AB",
        "country": "NLD",
        "coordinates": {"latitude": "52.378900", "longitude": "4.900300"},
        "time_zone": s.zone,
        "evses": [
            {
                "uid": "3256",
                "evse_id": "NL*ABC*E3256",
                "status": "AVAILABLE",
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "format": "SOCKET",
                        "power_type": "AC_3_PHASE",
                        "voltage": 230,
                        "amperage": 32,
                        "last_updated": "2024-01-01T00:00:00Z",
                    }
                ],
                "last_updated": "2024-01-01T00:00:00Z",
            }
        ],
        "last_updated": "2024-01-01T00:00:00Z",
    }
    c["meter_id"] = "M1"
    c["tariffs"] = [t]
    c["total_cost"] = 0
    c["total_energy"] = 0
    c["total_time"] = 0
    c["last_updated"] = "2024-01-01T00:00:00Z"
    return c


def as_2_3_0(s: Scenario) -> tuple[dict[str, Any], dict[str, Any]]:
    """(tariff, CDR) in 2.3.0 shape: ``tax_included``, Price with ``before_taxes``."""
    t = {**copy.deepcopy(s.tariff), "tax_included": "NO"}
    c = copy.deepcopy(s.cdr)
    c["total_cost"] = {"before_taxes": 0}
    c["session_id"] = f"S-{c['id']}"
    c["cdr_token"] = {
        "country_code": "NL",
        "party_id": "EMP",
        "uid": "012345678",
        "type": "RFID",
        "contract_id": "NL-EMP-C12345678-X",
    }
    c["auth_method"] = "WHITELIST"
    c["cdr_location"] = {
        "id": "LOC1",
        "address": "Stationsplein 1",
        "city": "Amsterdam",
        "postal_code": "1012AB",
        "country": "NLD",
        "coordinates": {"latitude": "52.378900", "longitude": "4.900300"},
        "evse_uid": "3256",
        "evse_id": "NL*ABC*E3256",
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_3_PHASE",
    }
    c["total_energy"] = 0
    c["total_time"] = 0
    c["last_updated"] = "2024-01-01T00:00:00Z"
    return t, c
