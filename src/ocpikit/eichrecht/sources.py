"""Recognise what a user handed us and pull out the signed values.

Accepted: an OCMF string (one per line for several), an OCPI ``SignedData`` object (2.2.1 and
2.3.0 share its shape, mod_cdrs SignedData/SignedValue), a CDR carrying ``signed_data`` (bare or
in an OCPI response envelope), and the SAFE e.V. transparency-software XML container
(``<values><value><signedData/><publicKey/></value></values>``).

``SignedValue.signed_data`` is documented as base64, but CPOs send the OCMF text as is as often
as base64 of it; both are read. Anything that is not OCMF becomes an item carrying the name of
its format, so the verifier can say "not supported: Alfen Eichrecht" rather than "malformed".
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ocpikit.eichrecht.errors import OcmfSyntaxError, UnsupportedFormatError

__all__ = [
    "Item",
    "Source",
    "guess_format",
    "read_source",
    "source_from_cdr",
    "source_from_signed_data",
]

#: SignedData.encoding_method names (2.2.1 mod_cdrs, table under SignedData) other than OCMF
KNOWN_FORMATS = {
    "alfen eichrecht": "Alfen Eichrecht",
    "edl40 e-mobility extension": "EDL40 E-Mobility Extension",
    "edl40 mennekes": "EDL40 Mennekes",
}


@dataclass(frozen=True)
class Item:
    """One signed value: an OCMF string, or the name of a format we do not read."""

    label: str
    text: str | None = None
    public_key: str | None = None
    format_name: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Source:
    kind: str  # "ocmf", "signed_data", "cdr" or "safe_xml"
    items: tuple[Item, ...]
    total_energy: Decimal | None = None
    warnings: tuple[str, ...] = field(default=())


def guess_format(data: str) -> str:
    """Name the signed-meter format of a string that is not OCMF."""
    text = data.strip()
    if text.startswith("AP;"):
        return "Alfen Eichrecht"
    if text.upper().startswith("1B1B1B1B"):
        return "SML (EDL40)"
    if "OCMF|" in text:
        kind = "XML" if text.startswith("<") else "JSON" if text[:1] in "{[" else "text"
        return f"OCMF inside a {kind} wrapper"
    if text.startswith("<"):
        return "XML (unknown signed-meter format)"
    return "unknown (not OCMF)"


def _maybe_base64_text(data: str) -> str | None:
    compact = "".join(data.split())
    if not compact or not re.fullmatch(r"[A-Za-z0-9+/_-]+=*", compact):
        return None
    try:
        raw = base64.b64decode(
            compact + "=" * (-len(compact) % 4),
            altchars=b"-_" if "-" in compact or "_" in compact else None,
        )
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _signed_value_item(value: Any, label: str, encoding_method: str, key: str | None) -> Item:
    method = encoding_method.strip()
    if method.upper() != "OCMF":
        name = KNOWN_FORMATS.get(method.lower(), method or "unnamed encoding_method")
        return Item(label, public_key=key, format_name=name, detail=f"encoding_method {method!r}")
    if not isinstance(value, str):
        return Item(label, text=None, public_key=key, detail="signed_data is not a string")
    text = value.strip()
    if text.startswith("OCMF|"):
        return Item(label, text=text, public_key=key)
    decoded = _maybe_base64_text(text)
    if decoded is not None and decoded.strip().startswith("OCMF|"):
        return Item(label, text=decoded.strip(), public_key=key)
    inner = decoded if decoded is not None and "OCMF|" in decoded else text
    if "OCMF|" in inner:
        return Item(
            label, public_key=key, format_name=guess_format(inner), detail="encoding_method 'OCMF'"
        )
    # Declared OCMF but not OCMF at all: a broken value rather than another format.
    return Item(label, text=text, public_key=key)


def source_from_signed_data(data: dict[str, Any], kind: str = "signed_data") -> Source:
    """Items of an OCPI SignedData object."""
    method = data.get("encoding_method")
    if not isinstance(method, str):
        raise OcmfSyntaxError("missing or not a string", "signed_data.encoding_method")
    values = data.get("signed_values")
    if not isinstance(values, list) or not values:
        raise OcmfSyntaxError("must be a non-empty list", "signed_data.signed_values")
    key = data.get("public_key")
    if key is not None and not isinstance(key, str):
        raise OcmfSyntaxError("must be a string", "signed_data.public_key")
    items = []
    for i, value in enumerate(values):
        if not isinstance(value, dict):
            raise OcmfSyntaxError("must be an object", f"signed_data.signed_values[{i}]")
        nature = value.get("nature")
        label = f"signed_values[{i}]" + (f" ({nature})" if isinstance(nature, str) else "")
        items.append(_signed_value_item(value.get("signed_data"), label, method, key or None))
    return Source(kind, tuple(items))


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise OcmfSyntaxError("must be a number", path)
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise OcmfSyntaxError(f"{value!r} is not a number", path) from None


def source_from_cdr(cdr: dict[str, Any]) -> Source:
    """Items of a CDR's ``signed_data`` plus its ``total_energy`` (kWh)."""
    signed = cdr.get("signed_data")
    if signed is None:
        raise OcmfSyntaxError("the CDR has no signed_data to verify", "signed_data")
    if not isinstance(signed, dict):
        raise OcmfSyntaxError("must be an object", "signed_data")
    base = source_from_signed_data(signed, "cdr")
    energy = cdr.get("total_energy")
    total = None if energy is None else _decimal(energy, "total_energy")
    return Source("cdr", base.items, total)


def _source_from_json(value: Any) -> Source:
    if isinstance(value, dict) and "data" in value and "status_code" in value:
        value = value["data"]  # an OCPI response envelope
    if isinstance(value, list):
        if len(value) != 1:
            raise OcmfSyntaxError(f"a list of {len(value)} objects; pass one CDR or SignedData")
        value = value[0]
    if isinstance(value, str):
        return read_source(value)
    if not isinstance(value, dict):
        raise OcmfSyntaxError("expected a CDR or SignedData object")
    if "signed_values" in value:
        return source_from_signed_data(value)
    if "signed_data" in value or "total_energy" in value or "cdr_token" in value:
        return source_from_cdr(value)
    raise OcmfSyntaxError("a JSON object that is neither a CDR nor a SignedData")


def _source_from_safe_xml(text: str) -> Source:
    try:
        root = ET.fromstring(text.lstrip("\ufeff").strip())
    except ET.ParseError as exc:
        raise OcmfSyntaxError(f"not well-formed XML: {exc}") from exc
    values = root.findall("value") if root.tag == "values" else []
    if not values:
        raise UnsupportedFormatError(guess_format(text))
    items = []
    for i, value in enumerate(values):
        node = value.find("signedData")
        key_node = value.find("publicKey")
        key = (key_node.text or "").strip() or None if key_node is not None else None
        context = value.get("context")
        label = f"value[{i}]" + (f" ({context})" if context else "")
        data = (node.text or "").strip() if node is not None else ""
        fmt = node.get("format", "OCMF") if node is not None else "OCMF"
        if node is not None and node.get("encoding", "plain").lower() == "base64":
            data = _maybe_base64_text(data) or data
        items.append(_signed_value_item(data, label, fmt, key))
    return Source("safe_xml", tuple(items))


def read_source(text: str) -> Source:
    """Recognise an input file's content. Raises OcmfSyntaxError or UnsupportedFormatError."""
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        raise OcmfSyntaxError("the input is empty")
    if stripped.startswith("OCMF|"):
        lines = [line.strip() for line in stripped.splitlines() if line.strip()]
        if len(lines) > 1 and all(line.startswith("OCMF|") for line in lines):
            return Source(
                "ocmf", tuple(Item(f"line {i + 1}", text=ln) for i, ln in enumerate(lines))
            )
        return Source("ocmf", (Item("OCMF", text=stripped),))
    if stripped[0] in '{["':
        try:
            value = json.loads(stripped, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise OcmfSyntaxError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        return _source_from_json(value)
    if stripped.startswith("<"):
        return _source_from_safe_xml(stripped)
    decoded = _maybe_base64_text(stripped)
    if decoded is not None and decoded.strip().startswith("OCMF|"):
        return Source("ocmf", (Item("OCMF (base64)", text=decoded.strip()),))
    raise UnsupportedFormatError(guess_format(stripped))
