"""Energy readings out of OCPP meter values: the ``Energy.Active.Import.Register`` samples
(the default measurand when a sample names none) in Wh, both versions (OCPP 1.6 §7.31
MeterValue / §7.45 SampledValue, ``value`` a string, ``unit`` Wh or kWh; OCPP 2.0.1 §2.44
MeterValueType / §2.47 SampledValueType, ``value`` a number, ``unitOfMeasure.unit`` and
``multiplier``). Samples of other measurands, phases or unparsable values are skipped; a sample
with another context than a periodic or end reading still counts (it is a reading all the
same)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ocpikit.core.types import parse_datetime

__all__ = ["energy_readings", "signed_readings"]

_ENERGY = "Energy.Active.Import.Register"


def _wh(sample: Mapping[str, Any]) -> float | None:
    if sample.get("measurand", _ENERGY) != _ENERGY or sample.get("phase"):
        return None
    if sample.get("format") == "SignedData":
        return None
    try:
        value = float(sample.get("value"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    unit = sample.get("unit")
    multiplier = 0
    unit_of_measure = sample.get("unit_of_measure")
    if isinstance(unit_of_measure, Mapping):
        unit = unit_of_measure.get("unit", unit)
        multiplier = int(unit_of_measure.get("multiplier", 0) or 0)
    value *= 10**multiplier
    return float(value * 1000 if unit == "kWh" else value)


def energy_readings(meter_values: Iterable[Any]) -> list[tuple[datetime, float]]:
    """``(timestamp, Wh)`` of each meter value with an energy register sample, oldest
    first (snake_case keys, as the ``ocpp`` library hands them)."""
    out: list[tuple[datetime, float]] = []
    for mv in meter_values or []:
        if not isinstance(mv, Mapping):
            continue
        try:
            at = parse_datetime(str(mv.get("timestamp")))
        except ValueError:
            continue
        for sample in mv.get("sampled_value") or []:
            wh = _wh(sample) if isinstance(sample, Mapping) else None
            if wh is not None:
                out.append((at, wh))
                break
    out.sort(key=lambda r: r[0])
    return out


def signed_readings(meter_values: Iterable[Any]) -> list[tuple[str, str | None]]:
    """``(OCMF record, public key or None)`` of each signed sample: OCPP 1.6 ``SignedData``
    samples (the record is the value) and OCPP 2.0.1 ``signed_meter_value`` with encoding
    OCMF; others (other encodings, non-OCMF text) are skipped."""
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
