"""Pricing throughput vs model validation, side by side in one run.

Document: a 2.2.1 CDR with 10 charging periods (Monday to Tuesday in Europe/Amsterdam: currents
below and above 32 A, parking inside and outside the 09:00-18:00 window, a midnight crossing)
that embeds the spec's complex tariff ``tariff_4_complex.json`` (read from the repository's
copy of the spec examples, ``tests/data/spec``).

Measured, each as CDRs per second:

- validation: ``CDR.model_validate`` of the 2.2.1 JSON (the baseline);
- pricing from JSON: ``ocpikit.tariffs.price`` on the same dict (normalise + price + explain);
- pricing head models: the same on the validated head CDR and Tariff (the engine's normal input).

Every call is a full ``price()``: the session is normalised, split, selected, rounded and costed
afresh (nothing is cached per session). What the engine derives from a tariff alone (its
normalised form, per-dimension candidate elements, restriction boundaries per element group) is
built on first use and reused for every session priced against that tariff, as for the CLI, the
CDR builder and reconciliation.

Aim (issue 5): pricing costs at most 2x validation. Machines are noisy: only the ratios mean
something. Run: ``.venv/bin/python bench/bench_tariffs.py``
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ocpikit.convert import to_head
from ocpikit.core.types import format_datetime
from ocpikit.models import model_for
from ocpikit.tariffs import price

ROOT = Path(__file__).resolve().parent.parent
SPEC_EXAMPLES = ROOT / "tests" / "data" / "spec"
ZONE = "Europe/Amsterdam"


def complex_tariff() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (SPEC_EXAMPLES / "2.2.1" / "examples" / "tariff_4_complex.json").read_text()
    )
    return data


def cdr_10_periods(tariff: dict[str, Any]) -> dict[str, Any]:
    start = datetime(2024, 1, 15, 8, 0, tzinfo=UTC)  # Monday 09:00 in Amsterdam
    plan = [  # (minutes, kind, kWh, amps)
        (40, "TIME", 7.0, 16),
        (35, "TIME", 12.0, 40),
        (30, "TIME", 4.0, 20),
        (45, "PARKING_TIME", 0, 0),
        (60, "TIME", 15.0, 48),
        (120, "PARKING_TIME", 0, 0),
        (300, "PARKING_TIME", 0, 0),
        (90, "TIME", 9.0, 25),
        (50, "TIME", 11.0, 63),
        (25, "PARKING_TIME", 0, 0),
    ]
    periods = []
    t = start
    energy = 0.0
    parking = 0.0
    for minutes, kind, kwh, amps in plan:
        dims: list[dict[str, Any]] = [{"type": kind, "volume": round(minutes / 60, 4)}]
        if kind == "TIME":
            dims += [
                {"type": "ENERGY", "volume": kwh},
                {"type": "MIN_CURRENT", "volume": amps},
                {"type": "MAX_CURRENT", "volume": amps},
            ]
            energy += kwh
        else:
            parking += minutes / 60
        periods.append(
            {"start_date_time": format_datetime(t), "dimensions": dims, "tariff_id": tariff["id"]}
        )
        t += timedelta(minutes=minutes)
    return {
        "country_code": "NL",
        "party_id": "ABC",
        "id": "CDR-BENCH-1",
        "start_date_time": format_datetime(start),
        "end_date_time": format_datetime(t),
        "session_id": "S-BENCH-1",
        "cdr_token": {
            "country_code": "NL",
            "party_id": "EMP",
            "uid": "012345678",
            "type": "RFID",
            "contract_id": "NL-EMP-C12345678-X",
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC1",
            "name": "Bench location",
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
        },
        "currency": "EUR",
        "tariffs": [tariff],
        "charging_periods": periods,
        "total_cost": {"excl_vat": 40.0, "incl_vat": 47.0},
        "total_energy": energy,
        "total_time": round((t - start).total_seconds() / 3600, 4),
        "total_parking_time": round(parking, 4),
        "last_updated": format_datetime(t),
    }


def rate(fn: Callable[[], object], seconds: float = 1.5) -> float:
    """Calls per second of ``fn`` (best of three rounds)."""
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        deadline = start + seconds / 3
        while True:
            for _ in range(20):
                fn()
            n += 20
            now = time.perf_counter()
            if now >= deadline:
                best = max(best, n / (now - start))
                break
    return best


def main() -> None:
    tariff = complex_tariff()
    cdr = cdr_10_periods(tariff)
    model = model_for("2.2.1", "CDR")
    head_cdr, _ = to_head(cdr, "2.2.1", "CDR")
    head_tariff, _ = to_head(tariff, "2.2.1", "Tariff")

    result = price(cdr, time_zone=ZONE)
    print(f"priced CDR: total {result.total_cost.excl} excl / {result.total_cost.incl} incl EUR")
    validate = rate(lambda: model.model_validate(cdr))
    from_json = rate(lambda: price(cdr, time_zone=ZONE))
    from_head = rate(lambda: price(head_cdr, head_tariff, time_zone=ZONE, origin="2.2.1"))
    with_json_out = rate(lambda: price(head_cdr, head_tariff, time_zone=ZONE).to_json())

    print(f"{'validate 2.2.1 CDR (baseline)':<42} {validate:>10.0f} CDRs/s")
    for label, value in (
        ("price from JSON", from_json),
        ("price head models", from_head),
        ("price head models + JSON explanation", with_json_out),
    ):
        print(f"{label:<42} {value:>10.0f} CDRs/s   cost {validate / value:.2f}x validation")
    ok = validate / from_head <= 2.0
    print(f"target pricing <= 2x validation: {'met' if ok else 'NOT met'} (head models)")


if __name__ == "__main__":
    main()
