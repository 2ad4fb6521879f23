"""Parse ``OCMF|{payload}|{signature}`` into :class:`~ocpikit.eichrecht.model.OcmfRecord`.

Strict about structure (three sections, JSON objects, no duplicate keys, ``SD`` present,
numeric reading values) and tolerant about types that do not change meaning (``"FV": 1.0``,
``"RV": "0.000"``); each tolerance is recorded in ``OcmfRecord.warnings``. The payload text is
kept verbatim because it is what the signature covers.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ocpikit.eichrecht.errors import OcmfSyntaxError
from ocpikit.eichrecht.model import OcmfRecord, Payload, Reading, Signature

__all__ = ["parse_ocmf", "parse_time"]

_STRING_FIELDS = (
    "FV",
    "GI",
    "GS",
    "GV",
    "PG",
    "MV",
    "MM",
    "MS",
    "MF",
    "IL",
    "IT",
    "ID",
    "TT",
    "CF",
    "CT",
    "CI",
)
_READING_STRINGS = ("TM", "TX", "RI", "RU", "RT", "EF", "ST")
_TM = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[,.](\d{1,9}))?"
    r"\s*(Z|[+-]\d{2}:?\d{2})\s*([UISR])?$"
)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            # Two values for one key could show a verifier and a display different readings.
            raise OcmfSyntaxError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _load_object(text: str, path: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates)
    except OcmfSyntaxError as exc:
        raise OcmfSyntaxError(str(exc), path) from exc
    except json.JSONDecodeError as exc:
        raise OcmfSyntaxError(f"not valid JSON ({exc.msg} at column {exc.colno})", path) from exc
    if not isinstance(value, dict):
        raise OcmfSyntaxError("must be a JSON object", path)
    return value


def parse_time(text: str) -> tuple[datetime, str | None] | None:
    """OCMF ``TM`` (``2021-08-25T10:01:04,000+0200 I``) → (aware datetime, sync status)."""
    match = _TM.match(text.strip())
    if match is None:
        return None
    date, hh, mm, ss, frac, offset, status = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    if offset == "Z":
        tz = UTC
    else:
        digits = offset.replace(":", "")
        minutes = int(digits[1:3]) * 60 + int(digits[3:5])
        tz = timezone(timedelta(minutes=-minutes if digits[0] == "-" else minutes))
    try:
        year, month, day = (int(p) for p in date.split("-"))
        when = datetime(year, month, day, int(hh), int(mm), int(ss), micro, tzinfo=tz)
    except ValueError:
        return None
    return when, status


class _Reader:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def string(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        value = obj.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            self.warnings.append(f"{path}{key}: number {value} read as a string")
            return str(value)
        raise OcmfSyntaxError(f"must be a string, not {type(value).__name__}", f"{path}{key}")

    def number(self, obj: dict[str, Any], key: str, path: str) -> Decimal | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            raise OcmfSyntaxError("must be a number, not a boolean", f"{path}{key}")
        if isinstance(value, (int, Decimal)):
            return Decimal(value)
        if isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                raise OcmfSyntaxError(f"{value!r} is not a number", f"{path}{key}") from None
            if not number.is_finite():
                raise OcmfSyntaxError(f"{value!r} is not a finite number", f"{path}{key}")
            self.warnings.append(f"{path}{key}: string {value!r} read as a number")
            return number
        raise OcmfSyntaxError(f"must be a number, not {type(value).__name__}", f"{path}{key}")

    def readings(self, raw: Any) -> tuple[Reading, ...]:
        if raw is None:
            raise OcmfSyntaxError("missing (OCMF requires the readings list)", "RD")
        if not isinstance(raw, list):
            raise OcmfSyntaxError("must be a list", "RD")
        out: list[Reading] = []
        time: datetime | None = None
        status: str | None = None
        tx: str | None = None
        for i, item in enumerate(raw):
            path = f"RD[{i}]."
            if not isinstance(item, dict):
                raise OcmfSyntaxError("must be an object", f"RD[{i}]")
            fields = {k: self.string(item, k, path) for k in _READING_STRINGS}
            tm = fields["TM"]
            if tm is not None:
                parsed = parse_time(tm)
                if parsed is None:
                    self.warnings.append(f"{path}TM: unreadable time {tm!r}")
                    time, status = None, None
                else:
                    time, status = parsed
            if fields["TX"] is not None:
                tx = fields["TX"]
            known = {*_READING_STRINGS, "RV", "CL"}
            out.append(
                Reading(
                    TM=tm,
                    TX=fields["TX"],
                    RV=self.number(item, "RV", path),
                    RI=fields["RI"],
                    RU=fields["RU"],
                    RT=fields["RT"],
                    CL=self.number(item, "CL", path),
                    EF=fields["EF"],
                    ST=fields["ST"],
                    extra={k: v for k, v in item.items() if k not in known},
                    time=time,
                    time_status=status,
                    tx=tx,
                )
            )
        return tuple(out)

    def payload(self, obj: dict[str, Any]) -> Payload:
        strings = {k: self.string(obj, k, "") for k in _STRING_FIELDS}
        is_value = obj.get("IS")
        if is_value is not None and not isinstance(is_value, bool):
            if isinstance(is_value, str) and is_value.lower() in ("true", "false"):
                self.warnings.append(f"IS: string {is_value!r} read as a boolean")
                is_value = is_value.lower() == "true"
            else:
                raise OcmfSyntaxError("must be a boolean", "IS")
        flags = obj.get("IF")
        if flags is None:
            flags = []
        if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            raise OcmfSyntaxError("must be a list of strings", "IF")
        lc = obj.get("LC")
        if lc is not None and not isinstance(lc, dict):
            raise OcmfSyntaxError("must be an object", "LC")
        known = {*_STRING_FIELDS, "IS", "IF", "LC", "RD"}
        return Payload(
            **strings,
            IS=is_value,
            IF=tuple(flags),
            LC=lc,
            RD=self.readings(obj.get("RD")),
            extra={k: v for k, v in obj.items() if k not in known},
        )

    def signature(self, obj: dict[str, Any]) -> Signature:
        sd = obj.get("SD")
        if not isinstance(sd, str) or not sd.strip():
            raise OcmfSyntaxError("missing or not a string", "signature.SD")
        values = {k: self.string(obj, k, "signature.") for k in ("SA", "SE", "SM")}
        return Signature(
            SD=sd,
            **values,
            extra={k: v for k, v in obj.items() if k not in ("SD", "SA", "SE", "SM")},
        )


def parse_ocmf(text: str) -> OcmfRecord:
    """Parse one OCMF string. Raises :class:`OcmfSyntaxError` naming the faulty part."""
    stripped = text.strip().lstrip("\ufeff").strip()
    if not stripped.startswith("OCMF|"):
        raise OcmfSyntaxError("an OCMF record starts with 'OCMF|'", "header")
    last = stripped.rfind("|")
    if last <= 4:
        raise OcmfSyntaxError("missing the signature section after the payload", "signature")
    payload_text = stripped[5:last]
    reader = _Reader()
    payload = reader.payload(_load_object(payload_text, "payload"))
    signature = reader.signature(_load_object(stripped[last + 1 :], "signature"))
    return OcmfRecord(
        text=stripped,
        payload_text=payload_text,
        payload=payload,
        signature=signature,
        warnings=tuple(reader.warnings),
    )
