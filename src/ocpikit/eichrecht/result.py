"""Verification results: one status per record, one for the whole input, and an exit code.

Statuses fall into three outcomes, which the CLI maps to its exit codes:

* ``valid`` → 0.
* failed (the data does not hold up) → 1: ``invalid_signature``, ``key_mismatch`` (the key's
  curve is not the ``SA`` curve), ``readings_inconsistent`` (an end reading below its begin
  reading, readings of different meters paired), ``energy_mismatch`` (signed energy ≠ the CDR's
  ``total_energy`` beyond the tolerance).
* cannot be verified here → 2: ``no_public_key``, ``bad_public_key``, ``unsupported_curve``,
  ``unsupported_format`` (Alfen, EDL40, OCMF inside another wrapper, ...), ``malformed``.

The overall status is the first failed record's status if any record failed (a proven
tampering outranks data we could not check), else the first unverifiable one, else the readings
and energy checks decide.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ocpikit.eichrecht.model import OcmfRecord, Reading

__all__ = ["EnergyCheck", "RecordResult", "Report", "Status", "Transaction"]


class Status(enum.StrEnum):
    VALID = "valid"
    INVALID_SIGNATURE = "invalid_signature"
    KEY_MISMATCH = "key_mismatch"
    READINGS_INCONSISTENT = "readings_inconsistent"
    ENERGY_MISMATCH = "energy_mismatch"
    NO_PUBLIC_KEY = "no_public_key"
    BAD_PUBLIC_KEY = "bad_public_key"
    UNSUPPORTED_CURVE = "unsupported_curve"
    UNSUPPORTED_FORMAT = "unsupported_format"
    MALFORMED = "malformed"

    @property
    def failed(self) -> bool:
        return self in _FAILED

    @property
    def unverifiable(self) -> bool:
        return self in _UNVERIFIABLE

    @property
    def exit_code(self) -> int:
        if self is Status.VALID:
            return 0
        return 1 if self.failed else 2


_FAILED = frozenset(
    {
        Status.INVALID_SIGNATURE,
        Status.KEY_MISMATCH,
        Status.READINGS_INCONSISTENT,
        Status.ENERGY_MISMATCH,
    }
)
_UNVERIFIABLE = frozenset(
    {
        Status.NO_PUBLIC_KEY,
        Status.BAD_PUBLIC_KEY,
        Status.UNSUPPORTED_CURVE,
        Status.UNSUPPORTED_FORMAT,
        Status.MALFORMED,
    }
)


@dataclass(frozen=True)
class RecordResult:
    """The signature check of one signed value."""

    label: str
    status: Status
    message: str
    record: OcmfRecord | None = None
    algorithm: str | None = None
    curve: str | None = None
    backend: str | None = None
    format_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "status": self.status.value,
            "message": self.message,
        }
        for key in ("algorithm", "curve", "backend", "format_name"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.record is not None:
            p = self.record.payload
            out["meter"] = {k: v for k, v in (("MS", p.MS), ("GI", p.GI), ("GS", p.GS)) if v}
            out["pagination"] = p.PG
            out["readings"] = [r.to_dict() for r in p.RD]
            if self.record.warnings:
                out["warnings"] = list(self.record.warnings)
        return out


@dataclass(frozen=True)
class Transaction:
    """A begin and an end reading of one energy register (possibly from two records)."""

    register: str | None
    unit: str | None
    begin: Reading
    end: Reading

    @property
    def kwh(self) -> Decimal:
        begin, end = self.begin.kwh, self.end.kwh
        assert begin is not None and end is not None
        return end - begin

    def to_dict(self) -> dict[str, Any]:
        return {
            "register": self.register,
            "begin": self.begin.to_dict(),
            "end": self.end.to_dict(),
            "kwh": str(self.kwh),
        }


@dataclass(frozen=True)
class EnergyCheck:
    """Signed energy (end − begin) and, for a CDR, its comparison with ``total_energy``."""

    transactions: tuple[Transaction, ...]
    signed_kwh: Decimal | None
    cdr_kwh: Decimal | None = None
    tolerance_kwh: Decimal | None = None
    matches: bool | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "signed_kwh": None if self.signed_kwh is None else str(self.signed_kwh),
            "transactions": [t.to_dict() for t in self.transactions],
        }
        if self.cdr_kwh is not None:
            out["cdr_total_energy"] = str(self.cdr_kwh)
            out["tolerance_kwh"] = str(self.tolerance_kwh)
            out["matches"] = self.matches
        if self.problems:
            out["problems"] = list(self.problems)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True)
class Report:
    """Everything the verifier found about one input."""

    status: Status
    message: str
    source: str
    records: tuple[RecordResult, ...] = ()
    energy: EnergyCheck | None = None
    format_name: str | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        return self.status.exit_code

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.value,
            "valid": self.status is Status.VALID,
            "exit_code": self.exit_code,
            "message": self.message,
            "source": self.source,
            "records": [r.to_dict() for r in self.records],
        }
        if self.format_name is not None:
            out["format_name"] = self.format_name
        if self.energy is not None:
            out["energy"] = self.energy.to_dict()
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out
