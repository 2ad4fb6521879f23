"""OCPP transactions as our OCPI Sessions (OCPI 2.2.1 mod_sessions §9.3.1; OCPP 1.6 §4.8
StartTransaction, §4.7 MeterValues, §4.10 StopTransaction; OCPP 2.0.1 E01-E07
TransactionEvent), written through the platform's own operations
(:func:`~ocpikit.operations.put_own_object` for the new Session, :func:`~ocpikit.operations.
patch_own_object` for each meter reading), so the Session reaches the token's eMSP as a PUT,
then as PATCHes that append charging periods (:mod:`ocpikit.protocol.push_patches`).

Invariants: the Session id is ``{charge point id}-{transaction id}``; each charging period
starts where the previous one ended and carries the ENERGY (kWh) and TIME (hours) consumed in
it, with the tariff of the connector; ``kwh`` is the meter reading minus the start reading; an
ended transaction is ``COMPLETED`` with ``end_date_time`` (the CDR is built from it by the
platform's CDR feature, not here). A reading older than the previous one is ignored; one that
adds no energy less than :data:`MIN_PERIOD_SECONDS` after the previous one adds no period.

An open transaction survives a restart of the platform: what its Session does not hold (the
charge point and transaction ids, the connector number, the start reading, the tariff, the
signed records so far) is kept as a platform fact (:func:`transaction_fact`) from its start to
its end; the last reading and its time are the Session's ``kwh`` and ``last_updated``. A
process that does not hold the transaction in memory reads it back on its next event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocpikit.core.types import format_datetime, parse_datetime
from ocpikit.operations import patch_own_object, put_own_object
from ocpikit.operations.cdr_builds import keep_signed_data
from ocpikit.operations.evse_updates import find_child
from ocpikit.protocol.parties import RoutingRules
from ocpikit.protocol.ports import ObjectKey, Storage

from .config import ChargePointConfig

__all__ = ["MIN_PERIOD_SECONDS", "Transaction", "Transactions", "session_id", "transaction_fact"]

#: a reading that adds no energy opens a charging period only this long after the last one
MIN_PERIOD_SECONDS = 1.0


def session_id(cp_id: str, tx_id: str) -> str:
    """Our Session id of a transaction (CiString(36): a long one is shortened by a hash)."""
    ident = f"{cp_id}-{tx_id}"
    if len(ident) <= 36:
        return ident
    return f"{cp_id[:14]}-{hashlib.sha256(ident.encode()).hexdigest()[:21]}"


def transaction_fact(key: ObjectKey) -> str:
    """The platform fact that keeps the open transaction of our Session ``key``."""
    return f"ocpp-transaction/{key.country_code.upper()}/{key.party_id.upper()}/{key.id}"


@dataclass(slots=True)
class Transaction:
    key: ObjectKey
    cp_id: str
    tx_id: str
    number: int
    start_wh: float | None
    last_wh: float
    last_at: datetime
    tariff_id: str | None
    #: the OCMF records the charger signed in this transaction, with its public key if given
    signed: list[tuple[str, str | None]] = field(default_factory=list)


class Transactions:
    """The open transactions of the connected charge points and their Sessions."""

    def __init__(self, storage: Storage, rules: RoutingRules | None = None) -> None:
        self._storage = storage
        self._rules = rules
        self._open: dict[tuple[str, str], Transaction] = {}
        self._signed: dict[ObjectKey, dict[str, Any]] = {}

    #: how many ended transactions keep their signed data (:meth:`signed_data`)
    KEEP_SIGNED = 1000

    def find(self, cp_id: str, tx_id: str) -> Transaction | None:
        """The open transaction held in this process (:meth:`open_transaction` also reads
        one back that another process, or this one before a restart, opened)."""
        return self._open.get((cp_id, tx_id))

    async def open_transaction(self, cp: ChargePointConfig, tx_id: str) -> Transaction | None:
        """The open transaction ``tx_id`` of the charge point ``cp``, held or read back."""
        held = self._open.get((cp.id, tx_id))
        if held is not None:
            return held
        key = ObjectKey("Session", cp.country_code, cp.party_id, session_id(cp.id, tx_id))
        return await self._read_back(key)

    async def of_session(
        self, ident: str, parties: list[tuple[str, str]]
    ) -> tuple[str, str] | None:
        """The ``(charge point id, transaction id)`` of our open Session ``ident``, held here
        or read back for one of our ``parties`` (``(country_code, party_id)``)."""
        for (cp_id, tx_id), tx in self._open.items():
            if tx.key.id.upper() == ident.upper():
                return cp_id, tx_id
        for cc, pid in parties:
            back = await self._read_back(ObjectKey("Session", cc, pid, ident))
            if back is not None:
                return back.cp_id, back.tx_id
        return None

    async def _save(self, tx: Transaction) -> None:
        state = {
            "cp_id": tx.cp_id,
            "tx_id": tx.tx_id,
            "number": tx.number,
            "start_wh": tx.start_wh,
            "tariff_id": tx.tariff_id,
            "signed": tx.signed,
        }
        await self._storage.facts.set(transaction_fact(tx.key), json.dumps(state))

    async def _read_back(self, key: ObjectKey) -> Transaction | None:
        """The open transaction of Session ``key`` from its fact and the stored Session (its
        last reading is the start reading plus ``kwh``); None when either is gone or the
        Session is not ours or not ACTIVE."""
        text = await self._storage.facts.get(transaction_fact(key))
        if not text:
            return None
        stored = await self._storage.objects.get(key)
        if stored is None or stored.owner is not None or stored.document.get("status") != "ACTIVE":
            return None
        try:
            state = json.loads(text)
            doc = stored.document
            start_wh = state["start_wh"]
            last_wh = (start_wh or 0.0) + float(doc.get("kwh") or 0) * 1000
            tx = Transaction(
                stored.key,
                str(state["cp_id"]),
                str(state["tx_id"]),
                int(state["number"]),
                start_wh,
                last_wh,
                parse_datetime(str(doc["last_updated"])),
                state.get("tariff_id"),
                [(str(r), k) for r, k in state.get("signed") or []],
            )
        except (ValueError, KeyError, TypeError):
            return None
        self._open[(tx.cp_id, tx.tx_id)] = tx
        return tx

    async def _connector(
        self, cp: ChargePointConfig, evse_uid: str, connector: int | None
    ) -> tuple[str, str | None, str]:
        """The OCPI connector id, its tariff id and the currency of that tariff."""
        key = ObjectKey("Location", cp.country_code, cp.party_id, cp.location_id)
        stored = await self._storage.objects.get(key)
        evses = stored.document.get("evses") if stored is not None else None
        i = find_child(evses, "uid", evse_uid)
        connectors = (evses[i].get("connectors") or []) if evses and i >= 0 else []
        j = (connector - 1) if connector and connector <= len(connectors) else 0
        chosen: Mapping[str, Any] = connectors[j] if connectors else {}
        tariff_ids = chosen.get("tariff_ids") or []
        tariff_id = str(tariff_ids[0]) if tariff_ids else None
        currency = "EUR"
        if tariff_id is not None:
            tkey = ObjectKey("Tariff", cp.country_code, cp.party_id, tariff_id)
            tariff = await self._storage.objects.get(tkey)
            if tariff is not None and isinstance(tariff.document.get("currency"), str):
                currency = tariff.document["currency"]
        return str(chosen.get("id", "1")), tariff_id, currency

    async def start(
        self,
        cp: ChargePointConfig,
        number: int,
        tx_id: str,
        *,
        cdr_token: Mapping[str, Any],
        auth_method: str,
        authorization_reference: str | None,
        meter_wh: float | None,
        at: datetime,
        connector: int | None = None,
    ) -> ObjectKey:
        """Open the transaction and store its ACTIVE Session (queued for the token's eMSP);
        ``meter_wh`` None: the first reading is the start. ``ValueError`` for a connector/EVSE
        number the configuration does not map (nothing stored)."""
        evse_uid = cp.evse_uid(number)
        if evse_uid is None:
            raise ValueError(f"{cp.id}: connector/EVSE {number} is not mapped to an EVSE")
        connector_id, tariff_id, currency = await self._connector(cp, evse_uid, connector)
        key = ObjectKey("Session", cp.country_code, cp.party_id, session_id(cp.id, tx_id))
        doc: dict[str, Any] = {
            "country_code": cp.country_code,
            "party_id": cp.party_id,
            "id": key.id,
            "start_date_time": format_datetime(at),
            "kwh": 0,
            "cdr_token": dict(cdr_token),
            "auth_method": auth_method,
            "location_id": cp.location_id,
            "evse_uid": evse_uid,
            "connector_id": connector_id,
            "currency": currency,
            "charging_periods": [],
            "status": "ACTIVE",
            "last_updated": format_datetime(at),
        }
        if authorization_reference:
            doc["authorization_reference"] = authorization_reference
        tx = Transaction(key, cp.id, tx_id, number, meter_wh, meter_wh or 0.0, at, tariff_id)
        await self._save(tx)  # first: a Session never lacks its fact while it is open
        await put_own_object(self._storage, key, doc, rules=self._rules)
        self._open[(cp.id, tx_id)] = tx
        return key

    async def meter(self, cp: ChargePointConfig, tx_id: str, meter_wh: float, at: datetime) -> bool:
        """Append the charging period up to this reading; False when the transaction is not
        open or the reading is not newer."""
        tx = await self.open_transaction(cp, tx_id)
        if tx is not None and tx.start_wh is None:
            tx.start_wh = tx.last_wh = meter_wh
            await self._save(tx)
        if tx is None or at <= tx.last_at or meter_wh < tx.last_wh:
            return False
        await self._append(tx, meter_wh, at, {})
        return True

    async def stop(
        self, cp: ChargePointConfig, tx_id: str, meter_wh: float | None, at: datetime
    ) -> bool:
        """The last period and the COMPLETED Session; False when not open. A transaction whose
        fact is gone (opened by a version of the bridge that kept none) still has its stored
        ACTIVE Session ended, without a last period."""
        tx = await self.open_transaction(cp, tx_id)
        if tx is None:
            return await self._end_stored(cp, tx_id, at)
        del self._open[(tx.cp_id, tx.tx_id)]
        self._keep_signed(tx)
        signed = self._signed.get(tx.key)
        if signed is not None:  # before the session completes: its CDR build reads it
            await keep_signed_data(self._storage, tx.key, signed)
        wh = meter_wh if meter_wh is not None and meter_wh >= tx.last_wh else tx.last_wh
        end = max(at, tx.last_at)
        await self._append(
            tx, wh, end, {"status": "COMPLETED", "end_date_time": format_datetime(end)}
        )
        await self._storage.facts.delete(transaction_fact(tx.key))
        return True

    async def add_signed(
        self, cp: ChargePointConfig, tx_id: str, records: list[tuple[str, str | None]]
    ) -> None:
        """OCMF records the charger signed in an open transaction."""
        if not records:
            return
        tx = await self.open_transaction(cp, tx_id)
        if tx is not None:
            tx.signed.extend(records)
            await self._save(tx)

    def signed_data(self, key: ObjectKey) -> dict[str, Any] | None:
        """The OCPI SignedData (OCPI 2.2.1 mod_cdrs §10.4.7: ``encoding_method`` OCMF, a
        ``signed_values`` item per record, nature ``Start`` for the first, ``End`` for the last,
        ``Intermediate`` between) of the ended transaction of our Session ``key``, for the
        platform's CDR; None when its charger signed nothing (or it ended long ago)."""
        return self._signed.get(key)

    def _keep_signed(self, tx: Transaction) -> None:
        if not tx.signed:
            return
        values = []
        for i, (record, _key) in enumerate(tx.signed):
            nature = "Start" if i == 0 else "End" if i == len(tx.signed) - 1 else "Intermediate"
            plain = record.split("|")[1] if record.count("|") >= 2 else ""
            values.append({"nature": nature, "plain_data": plain[:512], "signed_data": record})
        data: dict[str, Any] = {"encoding_method": "OCMF", "signed_values": values}
        key = next((k for _r, k in tx.signed if k), None)
        if key is not None:
            data["public_key"] = key
        self._signed[tx.key] = data
        while len(self._signed) > self.KEEP_SIGNED:
            del self._signed[next(iter(self._signed))]

    async def _end_stored(self, cp: ChargePointConfig, tx_id: str, at: datetime) -> bool:
        key = ObjectKey("Session", cp.country_code, cp.party_id, session_id(cp.id, tx_id))
        stored = await self._storage.objects.get(key)
        if stored is None or stored.owner is not None or stored.document.get("status") != "ACTIVE":
            return False
        stamp = format_datetime(at)

        def merge(current: Mapping[str, Any]) -> Mapping[str, Any]:
            end = {"status": "COMPLETED", "end_date_time": stamp, "last_updated": stamp}
            return {**current, **end}

        return await patch_own_object(self._storage, key, merge, self._rules) is not None

    async def _append(
        self, tx: Transaction, meter_wh: float, at: datetime, extra: Mapping[str, Any]
    ) -> None:
        period: dict[str, Any] | None = None
        energy = round((meter_wh - tx.last_wh) / 1000, 4)
        seconds = (at - tx.last_at).total_seconds()
        hours = round(seconds / 3600, 6)
        # a reading right after another (the stop a few milliseconds after the last sample)
        # that adds no energy adds no period: the next one starts where the last one ended
        if at > tx.last_at and (energy or seconds >= MIN_PERIOD_SECONDS):
            period = {
                "start_date_time": format_datetime(tx.last_at),
                "dimensions": [
                    {"type": "ENERGY", "volume": energy},
                    {"type": "TIME", "volume": hours},
                ],
            }
            if tx.tariff_id is not None:
                period["tariff_id"] = tx.tariff_id
        kwh = round((meter_wh - (tx.start_wh or meter_wh)) / 1000, 4)
        stamp = format_datetime(at)

        def merge(current: Mapping[str, Any]) -> Mapping[str, Any]:
            periods = list(current.get("charging_periods") or [])
            if period is not None:
                periods.append(period)
            return {
                **current,
                **extra,
                "kwh": kwh,
                "charging_periods": periods,
                "last_updated": stamp,
            }

        await patch_own_object(self._storage, tx.key, merge, self._rules)
        if period is not None:
            tx.last_wh, tx.last_at = meter_wh, at
