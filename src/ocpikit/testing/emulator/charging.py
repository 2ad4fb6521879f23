"""One transaction on a simulated charge point as the emulated CPO's Session and CDR.

The Session (2.2.1 mod_sessions §Session Object) is created ACTIVE when the transaction starts;
each newer energy reading appends a charging period from the previous reading to this one with
its ENERGY (kWh) and TIME (h) and the connector's tariff; the end of the transaction appends the
last period and completes it (``end_date_time``, ``total_cost``). The CDR (2.2.1 mod_cdrs §CDR
Object) repeats what must agree with the Session (DIGEST §5.6: id, token, location, auth method
and reference, times, energy, periods), is priced from the emulator's Tariff
(:mod:`.pricing`), embeds that Tariff, and carries the charger's OCMF signed readings as
``signed_data`` (§SignedData: nature Start, Intermediate, End).

Invariants: readings are whole Wh, so every ENERGY volume is exact to the Wh and the volumes
add up to ``kwh`` (the last reading minus the first); timestamps keep milliseconds, so two
readings a few milliseconds apart still make a period of their own; a reading that is not newer
than the last one (in time or energy) adds nothing, except the last one, which is moved a
millisecond past the previous reading when it carries energy. Everything is built in the 2.2.1
form; :func:`~.data.in_version` gives the emulator's version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .data import stamp
from .pricing import Costs, price
from .sites import CONNECTOR_ID, Site

__all__ = ["Charge", "session_id"]

_HOURS = Decimal("0.000001")


def session_id(cp_id: str, tx_id: str) -> str:
    """The Session (and CDR) id of a transaction: ``{charge point}-{transaction}``, shortened
    with a hash beyond 36 characters (CiString(36))."""
    ident = f"{cp_id}-{tx_id}"
    if len(ident) <= 36:
        return ident
    return f"{cp_id[:14]}-{hashlib.sha256(ident.encode()).hexdigest()[:21]}"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass
class Charge:
    """One transaction, from its start reading on."""

    site: Site
    number: int
    tx_id: str
    #: the CdrToken (2.2.1 form) of the driver's token
    token: dict[str, Any]
    auth_method: str
    authorization_reference: str | None
    start: datetime
    #: the meter at the start (None: the first reading will be)
    start_wh: Decimal | None
    currency: str = "EUR"
    last: datetime = field(init=False)
    last_wh: Decimal = field(init=False)
    periods: list[dict[str, Any]] = field(default_factory=list)
    #: the OCMF records the charger signed, oldest first, and its public key when known
    signed: list[str] = field(default_factory=list)
    public_key: str | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        self.last, self.last_wh = self.start, self.start_wh or Decimal(0)

    @property
    def id(self) -> str:
        return session_id(self.site.id, self.tx_id)

    @property
    def evse_uid(self) -> str:
        return self.site.evse_uids[self.number - 1]

    @property
    def kwh(self) -> Decimal:
        return Decimal(0) if self.start_wh is None else (self.last_wh - self.start_wh) / 1000

    def reading(self, wh: Decimal, at: datetime) -> dict[str, Any] | None:
        """Append the period up to this reading; it, or None when the reading is not newer
        (or is the first of a transaction that started without one)."""
        if self.start_wh is None:
            self.start_wh = self.last_wh = wh
            return None
        if at <= self.last or wh < self.last_wh:
            return None
        hours = (Decimal(str((at - self.last).total_seconds())) / 3600).quantize(_HOURS)
        period: dict[str, Any] = {
            "start_date_time": stamp(self.last),
            "dimensions": [
                {"type": "ENERGY", "volume": _number((wh - self.last_wh) / 1000)},
                {"type": "TIME", "volume": _number(hours)},
            ],
        }
        if self.site.tariff_id is not None:
            period["tariff_id"] = self.site.tariff_id
        self.periods.append(period)
        self.last, self.last_wh = at, wh
        return period

    def finish(self, wh: Decimal | None, at: datetime) -> dict[str, Any] | None:
        """The transaction's end: its last period (if it adds one) and ``end``."""
        end = max(at, self.last)
        added = None
        if wh is not None and wh > self.last_wh:
            end = max(end, self.last + timedelta(milliseconds=1))
            added = self.reading(wh, end)
        self.end = end
        return added

    # --- the OCPI objects (2.2.1 form) -----------------------------------------------------
    def _common(self) -> dict[str, Any]:
        cc, pid = self.site.party.split("-")
        out: dict[str, Any] = {"country_code": cc, "party_id": pid, "id": self.id}
        out["start_date_time"] = stamp(self.start)
        return out

    def _auth(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cdr_token": dict(self.token), "auth_method": self.auth_method}
        if self.authorization_reference:
            out["authorization_reference"] = self.authorization_reference
        return out

    def session(self, costs: Costs | None = None) -> dict[str, Any]:
        """The whole Session now (COMPLETED with its end and cost once :meth:`finish`\\ ed)."""
        out = self._common()
        out.update(
            {
                "kwh": _number(self.kwh),
                **self._auth(),
                "location_id": self.site.location_id,
                "evse_uid": self.evse_uid,
                "connector_id": CONNECTOR_ID,
                "meter_id": f"{self.site.id}-meter",
                "currency": self.currency,
                "charging_periods": list(self.periods),
                "status": "ACTIVE",
                "last_updated": stamp(self.last),
            }
        )
        out.update(self._ending(costs))
        return out

    def _ending(self, costs: Costs | None) -> dict[str, Any]:
        if self.end is None:
            return {}
        out: dict[str, Any] = {"status": "COMPLETED", "end_date_time": stamp(self.end)}
        out["last_updated"] = stamp(self.end)
        if costs is not None:
            out["total_cost"] = {"excl_vat": _number(costs.total)}
        return out

    def session_patch(
        self, periods: list[dict[str, Any]], costs: Costs | None = None
    ) -> dict[str, Any]:
        """A Session PATCH (2.2.1 mod_sessions §PATCH: ``last_updated`` required, the
        ``charging_periods`` given are appended): the new periods, ``kwh``, and the end."""
        out: dict[str, Any] = {"kwh": _number(self.kwh), "last_updated": stamp(self.last)}
        if periods:
            out["charging_periods"] = periods
        out.update(self._ending(costs))
        return out

    def costs(self, tariff: dict[str, Any] | None) -> Costs | None:
        """The price of the charge under ``tariff`` (None without one)."""
        if tariff is None:
            return None
        return price(tariff, self.periods, self.start)

    def signed_data(self) -> dict[str, Any] | None:
        """The SignedData of the charger's OCMF records (None when it signed nothing)."""
        if not self.signed:
            return None
        values = []
        for i, record in enumerate(self.signed):
            last = len(self.signed) - 1
            nature = "Start" if i == 0 else "End" if i == last else "Intermediate"
            plain = record.split("|")[1] if record.count("|") >= 2 else ""
            values.append({"nature": nature, "plain_data": plain, "signed_data": record})
        out: dict[str, Any] = {"encoding_method": "OCMF", "signed_values": values}
        if self.public_key:
            out["public_key"] = self.public_key
        return out

    def cdr(self, tariff: dict[str, Any] | None, costs: Costs | None) -> dict[str, Any]:
        """The CDR of the ended charge (``tariff``: the served Tariff, embedded)."""
        if self.end is None:
            raise ValueError(f"transaction {self.tx_id} has not ended")
        loc = self.site.location
        evse = self.site.evse(self.number)
        conn = evse["connectors"][0]
        out = self._common()
        out.update({"end_date_time": stamp(self.end), "session_id": self.id, **self._auth()})
        out["cdr_location"] = {
            **{k: loc[k] for k in ("id", "name", "address", "city", "postal_code", "country")},
            "coordinates": loc["coordinates"],
            "evse_uid": evse["uid"],
            "evse_id": evse["evse_id"],
            "connector_id": conn["id"],
            "connector_standard": conn["standard"],
            "connector_format": conn["format"],
            "connector_power_type": conn["power_type"],
        }
        out["meter_id"] = f"{self.site.id}-meter"
        out["currency"] = self.currency
        if tariff is not None:
            out["tariffs"] = [tariff]
        out["charging_periods"] = list(self.periods)
        signed = self.signed_data()
        if signed is not None:
            out["signed_data"] = signed
        zero = Decimal(0)
        total = costs.total if costs is not None else zero
        out["total_cost"] = {"excl_vat": _number(total)}
        if costs is not None:
            for name, amount in (
                ("total_fixed_cost", costs.fixed),
                ("total_energy_cost", costs.energy),
                ("total_time_cost", costs.time),
                ("total_parking_cost", costs.parking),
            ):
                if amount:
                    out[name] = {"excl_vat": _number(amount)}
        out["total_energy"] = _number(self.kwh)
        hours = Decimal(str((self.end - self.start).total_seconds())) / 3600
        out["total_time"] = _number(hours.quantize(_HOURS))
        out["last_updated"] = stamp(self.end)
        return out
