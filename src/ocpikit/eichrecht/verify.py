"""Verify OCMF signed meter values from any accepted input and build a :class:`Report`.

Entry points, from the most to the least automatic:

* :func:`verify_input`: raw file content (OCMF, SignedData JSON, CDR JSON, SAFE XML);
* :func:`verify_cdr` / :func:`verify_signed_data`: already-decoded OCPI objects;
* :func:`verify_ocmf`: one OCMF string;
* :func:`verify_record`: one parsed record, returning its :class:`RecordResult`.

No function raises for bad data: every problem becomes a status (see :mod:`.result`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ocpikit.eichrecht.curves import parse_algorithm
from ocpikit.eichrecht.errors import (
    OcmfSyntaxError,
    PublicKeyError,
    UnsupportedCurveError,
    UnsupportedFormatError,
)
from ocpikit.eichrecht.keys import PublicKey, load_public_key
from ocpikit.eichrecht.model import OcmfRecord
from ocpikit.eichrecht.parse import parse_ocmf
from ocpikit.eichrecht.readings import DEFAULT_TOLERANCE_KWH, check_energy
from ocpikit.eichrecht.result import RecordResult, Report, Status
from ocpikit.eichrecht.signature import decode_signature_value, verify_payload
from ocpikit.eichrecht.sources import (
    Item,
    Source,
    read_source,
    source_from_cdr,
    source_from_signed_data,
)

__all__ = [
    "verify_cdr",
    "verify_input",
    "verify_ocmf",
    "verify_record",
    "verify_signed_data",
    "verify_source",
]

KeyInput = str | bytes | PublicKey | None


def verify_record(
    record: OcmfRecord,
    public_key: KeyInput,
    *,
    label: str = "OCMF",
    allow_builtin: bool = True,
) -> RecordResult:
    """Check one record's signature with ``public_key``.

    ``allow_builtin=False`` refuses the stdlib verifier, so curves ``cryptography`` lacks
    (secp192k1) come back as ``unsupported_curve``.
    """

    def result(status: Status, message: str, **extra: Any) -> RecordResult:
        return RecordResult(label, status, message, record=record, **extra)

    try:
        algorithm = parse_algorithm(record.signature.SA)
    except UnsupportedCurveError as exc:
        return result(Status.UNSUPPORTED_CURVE, str(exc), algorithm=record.signature.SA)
    info: dict[str, Any] = {"algorithm": algorithm.sa, "curve": algorithm.curve.name}
    backend = algorithm.curve.backend
    if backend is None or (backend == "builtin" and not allow_builtin):
        return result(
            Status.UNSUPPORTED_CURVE,
            f"curve {algorithm.curve.name} is not implemented by the cryptography library",
            **info,
        )
    if public_key is None or (isinstance(public_key, (str, bytes)) and not public_key.strip()):
        return result(Status.NO_PUBLIC_KEY, "no public key given for this record", **info)
    try:
        key = (
            public_key
            if isinstance(public_key, PublicKey)
            else load_public_key(public_key, algorithm.curve)
        )
    except PublicKeyError as exc:
        return result(Status.BAD_PUBLIC_KEY, str(exc), **info)
    except UnsupportedCurveError as exc:
        return result(Status.UNSUPPORTED_CURVE, str(exc), **info)
    if key.curve is None:
        return result(
            Status.UNSUPPORTED_CURVE, f"public key on unsupported curve {key.curve_name}", **info
        )
    if key.curve != algorithm.curve:
        return result(
            Status.KEY_MISMATCH,
            f"SA {algorithm.sa} needs a {algorithm.curve.name} key, got a {key.curve.name} key",
            **info,
        )
    sig = record.signature
    try:
        rs = decode_signature_value(sig.SD, sig.SE, sig.SM, algorithm.curve)
        valid, backend = verify_payload(record.payload_text.encode("utf-8"), rs, algorithm, key)
    except OcmfSyntaxError as exc:
        return result(Status.MALFORMED, str(exc), **info)
    except PublicKeyError as exc:
        return result(Status.BAD_PUBLIC_KEY, str(exc), **info)
    except UnsupportedCurveError as exc:
        return result(Status.UNSUPPORTED_CURVE, str(exc), **info)
    if valid:
        return result(Status.VALID, "signature valid", backend=backend, **info)
    return result(
        Status.INVALID_SIGNATURE,
        "signature does not match the payload and key (tampered data or wrong key)",
        backend=backend,
        **info,
    )


def _verify_item(item: Item, override_key: KeyInput, allow_builtin: bool) -> RecordResult:
    if item.format_name is not None:
        message = f"signed data format not supported: {item.format_name}"
        return RecordResult(
            item.label,
            Status.UNSUPPORTED_FORMAT,
            f"{message} ({item.detail})" if item.detail else message,
            format_name=item.format_name,
        )
    if item.text is None:
        return RecordResult(item.label, Status.MALFORMED, item.detail or "no signed data")
    try:
        record = parse_ocmf(item.text)
    except OcmfSyntaxError as exc:
        return RecordResult(item.label, Status.MALFORMED, f"not a valid OCMF record: {exc}")
    key = override_key if override_key is not None else item.public_key
    return verify_record(record, key, label=item.label, allow_builtin=allow_builtin)


def verify_source(
    source: Source,
    public_key: KeyInput = None,
    *,
    total_energy: Decimal | None = None,
    tolerance_kwh: Decimal = DEFAULT_TOLERANCE_KWH,
    allow_builtin: bool = True,
) -> Report:
    """Verify every item of ``source``; ``public_key`` overrides the keys it carries."""
    results = tuple(_verify_item(i, public_key, allow_builtin) for i in source.items)
    records: Sequence[OcmfRecord] = [r.record for r in results if r.record is not None]
    cdr_kwh = total_energy if total_energy is not None else source.total_energy
    energy = check_energy(records, cdr_kwh, tolerance_kwh) if records else None
    status, message = _overall(results, energy is not None and bool(energy.problems), energy)
    fmt = next((r.format_name for r in results if r.format_name), None)
    return Report(status, message, source.kind, results, energy, fmt, source.warnings)


def _overall(
    results: Sequence[RecordResult], inconsistent: bool, energy: Any
) -> tuple[Status, str]:
    for r in results:
        if r.status.failed:
            return r.status, f"{r.label}: {r.message}"
    for r in results:
        if r.status.unverifiable:
            return r.status, f"{r.label}: {r.message}"
    n = len(results)
    done = f"{n} signed value{'s' if n != 1 else ''} verified"
    if inconsistent:
        return (
            Status.READINGS_INCONSISTENT,
            f"{done}, but the readings disagree: {'; '.join(energy.problems)}",
        )
    if energy is not None and energy.matches is False:
        return (
            Status.ENERGY_MISMATCH,
            f"{done}, but the signed energy {energy.signed_kwh} kWh differs from the CDR's"
            f" total_energy {energy.cdr_kwh} kWh by more than {energy.tolerance_kwh} kWh",
        )
    if energy is not None and energy.matches:
        return Status.VALID, f"{done}; signed energy {energy.signed_kwh} kWh matches total_energy"
    if energy is not None and energy.signed_kwh is not None:
        return Status.VALID, f"{done}; signed energy {energy.signed_kwh} kWh"
    return Status.VALID, done


def _unverifiable(source_kind: str, exc: Exception) -> Report:
    if isinstance(exc, UnsupportedFormatError):
        return Report(Status.UNSUPPORTED_FORMAT, str(exc), source_kind, format_name=exc.format_name)
    return Report(Status.MALFORMED, f"unreadable input: {exc}", source_kind)


def verify_input(
    text: str,
    public_key: KeyInput = None,
    *,
    tolerance_kwh: Decimal = DEFAULT_TOLERANCE_KWH,
    allow_builtin: bool = True,
) -> Report:
    """Verify file content: OCMF string(s), SignedData JSON, CDR JSON or SAFE XML."""
    try:
        source = read_source(text)
    except (OcmfSyntaxError, UnsupportedFormatError) as exc:
        return _unverifiable("unknown", exc)
    return verify_source(
        source, public_key, tolerance_kwh=tolerance_kwh, allow_builtin=allow_builtin
    )


def verify_ocmf(text: str, public_key: KeyInput, *, allow_builtin: bool = True) -> Report:
    """Verify one OCMF string."""
    return verify_source(
        Source("ocmf", (Item("OCMF", text=text),)), public_key, allow_builtin=allow_builtin
    )


def verify_signed_data(
    signed_data: dict[str, Any],
    public_key: KeyInput = None,
    *,
    total_energy: Decimal | None = None,
    tolerance_kwh: Decimal = DEFAULT_TOLERANCE_KWH,
    allow_builtin: bool = True,
) -> Report:
    """Verify an OCPI SignedData object (a dict as decoded from JSON)."""
    try:
        source = source_from_signed_data(signed_data)
    except OcmfSyntaxError as exc:
        return _unverifiable("signed_data", exc)
    return verify_source(
        source,
        public_key,
        total_energy=total_energy,
        tolerance_kwh=tolerance_kwh,
        allow_builtin=allow_builtin,
    )


def verify_cdr(
    cdr: dict[str, Any],
    public_key: KeyInput = None,
    *,
    tolerance_kwh: Decimal = DEFAULT_TOLERANCE_KWH,
    allow_builtin: bool = True,
) -> Report:
    """Verify a CDR's ``signed_data`` and compare its signed energy with ``total_energy``."""
    try:
        source = source_from_cdr(cdr)
    except OcmfSyntaxError as exc:
        return _unverifiable("cdr", exc)
    return verify_source(
        source, public_key, tolerance_kwh=tolerance_kwh, allow_builtin=allow_builtin
    )
