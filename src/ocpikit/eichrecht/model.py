"""Typed OCMF records (SAFE e.V. Open Charge Metering Format, 1.x).

Field names are OCMF's own two-letter keys, verbatim (house rule 4): ``Payload.GI`` is the
gateway identification, ``Reading.RV`` the reading value and so on. Unknown keys are kept in
``extra`` (tolerant when receiving). ``Reading.time`` and ``Reading.tx`` are the *effective*
time and transaction type: OCMF lets a reading that follows another at the same instant omit
``TM`` and ``TX`` (a second register, as in the VW/LEM and KEBA samples), so they are carried
forward from the previous reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = ["OcmfRecord", "Payload", "Reading", "Signature"]

#: units of energy registers and their factor to kWh
ENERGY_UNITS: dict[str, Decimal] = {
    "mwh": Decimal("0.000001"),  # milliwatt-hours; "MWh" is told apart before lower-casing
    "wh": Decimal("0.001"),
    "kwh": Decimal(1),
}


@dataclass(frozen=True)
class Reading:
    """One entry of ``RD``."""

    TM: str | None = None
    TX: str | None = None
    RV: Decimal | None = None
    RI: str | None = None
    RU: str | None = None
    RT: str | None = None
    CL: Decimal | None = None
    EF: str | None = None
    ST: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: effective timestamp (aware) and time-sync status (U, I, S, R), carried forward
    time: datetime | None = None
    time_status: str | None = None
    #: effective transaction type (B, C, X, E, L, R, A, P, S, T), carried forward
    tx: str | None = None

    @property
    def kwh(self) -> Decimal | None:
        """The value in kWh when ``RU`` is an energy unit (Wh, kWh, mWh, MWh), else None."""
        if self.RV is None or self.RU is None:
            return None
        if self.RU == "MWh":
            return self.RV * 1000
        factor = ENERGY_UNITS.get(self.RU.lower())
        return None if factor is None else self.RV * factor

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("TM", "TX", "RV", "RI", "RU", "RT", "CL", "EF", "ST"):
            value = getattr(self, key)
            if value is not None:
                out[key] = str(value) if isinstance(value, Decimal) else value
        return out


@dataclass(frozen=True)
class Payload:
    """The payload section: general, user-assignment and readings data."""

    FV: str | None = None
    GI: str | None = None
    GS: str | None = None
    GV: str | None = None
    PG: str | None = None
    MV: str | None = None
    MM: str | None = None
    MS: str | None = None
    MF: str | None = None
    IS: bool | None = None
    IL: str | None = None
    IF: tuple[str, ...] = ()
    IT: str | None = None
    ID: str | None = None
    TT: str | None = None
    CF: str | None = None
    CT: str | None = None
    CI: str | None = None
    LC: dict[str, Any] | None = None
    RD: tuple[Reading, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Signature:
    """The signature section."""

    SD: str
    SA: str | None = None
    SE: str | None = None
    SM: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OcmfRecord:
    """A parsed ``OCMF|{payload}|{signature}`` string.

    ``payload_text`` is the payload section exactly as received: the bytes that were signed.
    ``warnings`` lists each tolerance applied while reading (a number where OCMF wants a string,
    a reading value sent as a string, ...).
    """

    text: str
    payload_text: str
    payload: Payload
    signature: Signature
    warnings: tuple[str, ...] = ()
