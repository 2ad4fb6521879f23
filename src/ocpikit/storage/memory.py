"""In-memory storage: the reference behaviour of the ports, for unit tests and the test kit.

Not durable and single-process. It follows the same contract as the SQL backend (the shared
suite in ``tests/storage`` runs on both), including case-insensitive keys, creation order, wire
cache invalidation, outbox coalescing and leases, and exchange-log redaction. Listing scans the
collection (fine for tests; the SQL backend is the one with index-backed pages).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from ocpikit.core.types import ci_key
from ocpikit.protocol.exchanges import stored_size
from ocpikit.protocol.ports import (
    ANY_OWNER,
    CommandDirection,
    CommandRecord,
    CredentialsToken,
    Exchange,
    ExchangeQuery,
    Merge,
    ObjectKey,
    OutboxDepth,
    OutboxEntry,
    OutboxOperation,
    OutboxState,
    OwnerFilter,
    Page,
    Partner,
    PartnerStatus,
    PatchPlan,
    PullResume,
    ReplaceDocument,
    SetFields,
    StoredObject,
    TokenKind,
    WireEntry,
    WirePage,
    dump_document,
    exchange_query,
    patch_plan,
    token_digest,
)
from ocpikit.protocol.push_patches import Changes, PushPatch, coalesce
from ocpikit.storage._common import Clock, last_updated_of, utcnow, wire_page_of
from ocpikit.storage.memory_cdr_builds import MemoryCdrBuilds
from ocpikit.storage.memory_cdr_checks import MemoryCdrChecks
from ocpikit.storage.memory_parties import MemoryParties
from ocpikit.storage.redaction import redact_exchange

__all__ = ["MemoryStorage"]


@dataclasses.dataclass(slots=True)
class _Obj:
    key: ObjectKey
    owner: str | None
    raw: bytes
    last_updated: datetime
    seq: int
    revision: int
    wire: dict[str, bytes] = dataclasses.field(default_factory=dict)

    def view(self, version: str | None) -> StoredObject:
        return StoredObject(
            key=self.key,
            owner=self.owner,
            raw=self.raw,
            last_updated=self.last_updated,
            seq=self.seq,
            revision=self.revision,
            wire=self.wire.get(version) if version is not None else None,
        )


class _State:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.objects: dict[ObjectKey, _Obj] = {}  # insertion order == creation order
        self.seq = itertools.count(1)
        self.partners: dict[str, Partner] = {}
        self.sync_marks: dict[tuple[str, str], datetime] = {}
        self.pull_resumes: dict[tuple[str, str], PullResume] = {}
        #: one more at every change of a partner or a token (``MemoryCredentialsChanges``)
        self.credentials_generation = 0
        self.tokens: dict[str, CredentialsToken] = {}
        self.exchanges: list[Exchange] = []
        self.exchange_ids = itertools.count(1)
        self.outbox: dict[tuple[str, ObjectKey], OutboxEntry] = {}
        self.outbox_ids = itertools.count(1)
        self.commands: dict[tuple[CommandDirection, str], CommandRecord] = {}
        self.cdr_checks = MemoryCdrChecks(clock, self.objects)
        self.cdr_builds = MemoryCdrBuilds(clock, self.objects)

    def enqueue(
        self,
        partner_id: str,
        key: ObjectKey,
        operation: OutboxOperation,
        payload: bytes | None,
        revision: int,
        patch: Changes | None = None,
    ) -> None:
        now = self.clock()
        current = self.outbox.get((partner_id, key))
        changes: bytes | None = None
        if patch is not None:
            merged = coalesce(
                current.operation.value if current is not None else None,
                Changes.loads(current.changes) if current and current.changes else None,
                current is not None and current.state is OutboxState.IN_FLIGHT,
                patch,
            )
            if merged is not None:
                operation, changes = OutboxOperation.PATCH, merged.dumps()
        if current is None:
            self.outbox[(partner_id, key)] = OutboxEntry(
                id=next(self.outbox_ids),
                partner_id=partner_id,
                key=key,
                operation=operation,
                payload=payload,
                revision=revision,
                state=OutboxState.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                changes=changes,
            )
        elif current.state is OutboxState.IN_FLIGHT:
            self.outbox[(partner_id, key)] = dataclasses.replace(
                current,
                operation=operation,
                payload=payload,
                revision=revision,
                updated_at=now,
                changes=changes,
            )
        else:
            self.outbox[(partner_id, key)] = dataclasses.replace(
                current,
                operation=operation,
                payload=payload,
                changes=changes,
                revision=revision,
                state=OutboxState.PENDING,
                attempts=0,
                next_attempt_at=now,
                dead_reason=None,
                updated_at=now,
            )


class MemoryObjects:
    def __init__(self, state: _State) -> None:
        self._s = state
        #: called after a write that queued outbox entries (as ``SqlObjects.push_listeners``)
        self.push_listeners: set[Callable[[], None]] = set()

    def _write(
        self,
        key: ObjectKey,
        raw: bytes,
        last_updated: datetime,
        owner: str | None,
        push_to: Sequence[str],
        push_patch: PushPatch | None = None,
    ) -> StoredObject:
        current = self._s.objects.get(key)
        if current is None:
            obj = _Obj(key, owner, raw, last_updated, next(self._s.seq), 1)
            self._s.objects[key] = obj
        else:
            obj = _Obj(key, owner, raw, last_updated, current.seq, current.revision + 1)
            self._s.objects[key] = obj
        for partner_id in push_to:
            patch = (
                push_patch.changes
                if push_patch is not None and partner_id in push_patch.partners
                else None
            )
            self._s.enqueue(partner_id, key, OutboxOperation.PUT, raw, obj.revision, patch)
        if key.kind == "CDR" and owner is not None:
            self._s.cdr_checks.queue(obj.seq, key, owner, obj.revision, last_updated)
        if key.kind == "Tariff" and owner is not None:
            self._s.cdr_checks.recheck_unverifiable(owner)
        if (
            key.kind == "Session"
            and owner is None
            and b"COMPLETED" in raw
            and orjson.loads(raw).get("status") == "COMPLETED"
        ):
            self._s.cdr_builds.queue(obj.seq, key, last_updated)
        if push_to:
            for listener in list(self.push_listeners):
                listener()
        return obj.view(None)

    async def put(
        self,
        key: ObjectKey,
        document: Mapping[str, Any] | bytes | str,
        *,
        last_updated: datetime,
        owner: str | None,
        push_to: Sequence[str] = (),
    ) -> StoredObject:
        return self._write(key, dump_document(document), last_updated, owner, push_to)

    async def get(self, key: ObjectKey, *, version: str | None = None) -> StoredObject | None:
        obj = self._s.objects.get(key)
        return obj.view(version) if obj is not None else None

    async def get_many(self, keys: Iterable[ObjectKey]) -> dict[ObjectKey, StoredObject]:
        found = {k: self._s.objects.get(k) for k in keys}
        return {k: obj.view(None) for k, obj in found.items() if obj is not None}

    async def patch(
        self,
        key: ObjectKey,
        plan: PatchPlan | Merge,
        *,
        push_to: Sequence[str] = (),
        owner: OwnerFilter = ANY_OWNER,
        push_patch: PushPatch | None = None,
    ) -> StoredObject | None:
        obj = self._s.objects.get(key)
        if obj is None or (owner is not ANY_OWNER and obj.owner != owner):
            return None
        document = orjson.loads(obj.raw)
        match patch_plan(plan):
            case SetFields() as fields:
                merged: Mapping[str, Any] = fields.apply(document)
            case ReplaceDocument(merge=merge):
                merged = merge(document)
        last_updated = last_updated_of(merged)
        return self._write(
            obj.key, dump_document(merged), last_updated, obj.owner, push_to, push_patch
        )

    async def delete(self, key: ObjectKey, *, push_to: Sequence[str] = ()) -> bool:
        obj = self._s.objects.pop(key, None)
        if obj is None:
            return False
        for partner_id in push_to:
            self._s.enqueue(partner_id, key, OutboxOperation.DELETE, None, obj.revision + 1)
        return True

    async def list_page(
        self,
        kind: str,
        *,
        offset: int = 0,
        limit: int,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        owner: OwnerFilter = ANY_OWNER,
        country_code: str | None = None,
        party_id: str | None = None,
        version: str | None = None,
    ) -> Page:
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        cc = ci_key(country_code) if country_code is not None else None
        pid = ci_key(party_id) if party_id is not None else None
        matching = [
            obj
            for obj in self._s.objects.values()
            if obj.key.kind == kind
            and (date_from is None or obj.last_updated >= date_from)
            and (date_to is None or obj.last_updated < date_to)
            and (owner is ANY_OWNER or obj.owner == owner)
            and (cc is None or obj.key.norm[1] == cc)
            and (pid is None or obj.key.norm[2] == pid)
        ]
        items = [obj.view(version) for obj in matching[offset : offset + limit]]
        return Page(items=items, total=len(matching), offset=offset, limit=limit)

    async def list_wire(
        self,
        kind: str,
        *,
        offset: int = 0,
        limit: int,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        owner: OwnerFilter = ANY_OWNER,
        country_code: str | None = None,
        party_id: str | None = None,
        version: str | None = None,
    ) -> WirePage:
        page = await self.list_page(
            kind,
            offset=offset,
            limit=limit,
            date_from=date_from,
            date_to=date_to,
            owner=owner,
            country_code=country_code,
            party_id=party_id,
            version=version,
        )
        return wire_page_of(page, version)

    async def store_wire(self, entries: Iterable[WireEntry]) -> None:
        for entry in entries:
            obj = self._s.objects.get(entry.key)
            if obj is not None and obj.revision == entry.revision:
                obj.wire[entry.version] = entry.body


class MemoryPartners:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def save(
        self,
        partner: Partner,
        *,
        issue: Sequence[tuple[str, TokenKind]] = (),
        revoke: Sequence[str] = (),
    ) -> Partner:
        now = self._s.clock()
        old = self._s.partners.get(partner.id)
        saved = dataclasses.replace(
            partner,
            created_at=old.created_at if old is not None else now,
            updated_at=now,
        )
        self._s.partners[partner.id] = saved
        self._s.credentials_generation += 1
        tokens = MemoryTokens(self._s)
        for token, kind in issue:
            tokens.issue_now(token, kind, partner.id, partner.local_party)
        for token in revoke:
            tokens.revoke_now(token)
        return saved

    async def get(self, partner_id: str) -> Partner | None:
        return self._s.partners.get(partner_id)

    async def all(self, *, status: PartnerStatus | None = None) -> list[Partner]:
        partners = sorted(self._s.partners.values(), key=lambda p: (p.created_at or utcnow(), p.id))
        return [p for p in partners if status is None or p.status is status]

    async def find_by_party(self, country_code: str, party_id: str) -> list[Partner]:
        cc, pid = ci_key(country_code), ci_key(party_id)
        return [
            p
            for p in self._s.partners.values()
            if any(ci_key(r.country_code) == cc and ci_key(r.party_id) == pid for r in p.roles)
        ]

    async def delete(self, partner_id: str) -> bool:
        if self._s.partners.pop(partner_id, None) is None:
            return False
        self._s.credentials_generation += 1
        self._s.tokens = {d: t for d, t in self._s.tokens.items() if t.partner_id != partner_id}
        self._s.outbox = {k: e for k, e in self._s.outbox.items() if k[0] != partner_id}
        self._s.sync_marks = {k: v for k, v in self._s.sync_marks.items() if k[0] != partner_id}
        self._s.pull_resumes = {k: v for k, v in self._s.pull_resumes.items() if k[0] != partner_id}
        return True

    async def get_sync_mark(self, partner_id: str, module: str) -> datetime | None:
        return self._s.sync_marks.get((partner_id, module))

    async def set_sync_mark(self, partner_id: str, module: str, at: datetime) -> None:
        self._s.sync_marks[(partner_id, module)] = at

    async def get_pull_resume(self, partner_id: str, module: str) -> PullResume | None:
        return self._s.pull_resumes.get((partner_id, module))

    async def set_pull_resume(
        self, partner_id: str, module: str, resume: PullResume | None
    ) -> None:
        if resume is None:
            self._s.pull_resumes.pop((partner_id, module), None)
        else:
            self._s.pull_resumes[(partner_id, module)] = resume


class MemoryTokens:
    def __init__(self, state: _State) -> None:
        self._s = state

    def issue_now(
        self,
        token: str,
        kind: TokenKind,
        partner_id: str | None,
        local_party: tuple[str, str] | None,
        expires_at: datetime | None = None,
        expected_party: str | None = None,
    ) -> CredentialsToken:
        record = CredentialsToken(
            digest=token_digest(token),
            kind=kind,
            partner_id=partner_id,
            local_party=local_party,
            hint=token[-4:],
            created_at=self._s.clock(),
            expires_at=expires_at,
            expected_party=expected_party,
        )
        self._s.tokens[record.digest] = record
        self._s.credentials_generation += 1
        return record

    def revoke_now(self, token: str) -> bool:
        digest = token_digest(token)
        record = self._s.tokens.get(digest)
        if record is None or record.revoked_at is not None:
            return False
        self._s.tokens[digest] = dataclasses.replace(record, revoked_at=self._s.clock())
        self._s.credentials_generation += 1
        return True

    async def issue(
        self,
        token: str,
        kind: TokenKind,
        *,
        partner_id: str | None = None,
        local_party: tuple[str, str] | None = None,
        expires_at: datetime | None = None,
        expected_party: str | None = None,
    ) -> CredentialsToken:
        return self.issue_now(token, kind, partner_id, local_party, expires_at, expected_party)

    def _active(self, record: CredentialsToken | None) -> bool:
        if record is None or record.revoked_at is not None:
            return False
        return record.expires_at is None or record.expires_at > self._s.clock()

    async def lookup(self, token: str) -> CredentialsToken | None:
        record = self._s.tokens.get(token_digest(token))
        return record if record is not None and self._active(record) else None

    async def invites(self) -> list[CredentialsToken]:
        found = [r for r in self._s.tokens.values() if r.kind is TokenKind.A and self._active(r)]
        return sorted(found, key=lambda r: r.created_at)

    async def revoke_invite(self, token_id: str) -> int:
        if len(token_id) < 8:
            return 0
        count = 0
        for record in await self.invites():
            if record.digest.startswith(token_id.lower()):
                self._s.tokens[record.digest] = dataclasses.replace(
                    record, revoked_at=self._s.clock()
                )
                count += 1
        self._s.credentials_generation += count
        return count

    async def revoke(self, token: str) -> bool:
        return self.revoke_now(token)

    async def revoke_partner(self, partner_id: str, kind: TokenKind | None = None) -> int:
        now = self._s.clock()
        count = 0
        for digest, record in list(self._s.tokens.items()):
            if (
                record.partner_id == partner_id
                and record.revoked_at is None
                and (kind is None or record.kind is kind)
            ):
                self._s.tokens[digest] = dataclasses.replace(record, revoked_at=now)
                count += 1
        self._s.credentials_generation += count
        return count


class MemoryExchangeLog:
    def __init__(self, state: _State, max_body_bytes: int) -> None:
        self._s = state
        self._max = max_body_bytes

    async def record(self, exchanges: Sequence[Exchange]) -> None:
        for exchange in exchanges:
            safe = redact_exchange(exchange, max_body_bytes=self._max)
            self._s.exchanges.append(dataclasses.replace(safe, id=next(self._s.exchange_ids)))

    async def recent(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        partner_id: str | None = None,
        query: ExchangeQuery | None = None,
    ) -> list[Exchange]:
        q = exchange_query(query, before_id=before_id, partner_id=partner_id)
        q.status_bounds()  # ValueError for a status that is none
        out: list[Exchange] = []
        for exchange in reversed(self._s.exchanges):
            if not q.matches(exchange):
                continue
            out.append(exchange)
            if len(out) >= limit:
                break
        return out

    async def prune(self, before: datetime) -> int:
        kept = [e for e in self._s.exchanges if e.started_at >= before]
        removed = len(self._s.exchanges) - len(kept)
        self._s.exchanges = kept
        return removed

    async def prune_to(self, max_bytes: int) -> int:
        total = sum(stored_size(e) for e in self._s.exchanges)
        removed = 0
        while self._s.exchanges and total > max_bytes:
            total -= stored_size(self._s.exchanges.pop(0))
            removed += 1
        return removed


class MemoryOutbox:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def enqueue(
        self,
        partner_id: str,
        key: ObjectKey,
        operation: OutboxOperation,
        payload: Mapping[str, Any] | bytes | str | None,
        *,
        revision: int = 0,
    ) -> None:
        raw = dump_document(payload) if payload is not None else None
        self._s.enqueue(partner_id, key, operation, raw, revision)

    async def claim(
        self,
        worker: str,
        *,
        limit: int,
        lease: timedelta,
        skip_partners: Collection[str] = (),
    ) -> list[OutboxEntry]:
        now = self._s.clock()
        skip = set(skip_partners)
        due = sorted(
            (
                e
                for e in self._s.outbox.values()
                if e.partner_id not in skip
                and (
                    (e.state is OutboxState.PENDING and e.next_attempt_at <= now)
                    or (
                        e.state is OutboxState.IN_FLIGHT
                        and e.lease_until is not None
                        and e.lease_until < now
                    )
                )
            ),
            key=lambda e: (e.next_attempt_at, e.id),
        )[:limit]
        claimed = []
        for e in due:
            leased = dataclasses.replace(
                e,
                state=OutboxState.IN_FLIGHT,
                lease_owner=worker,
                lease_until=now + lease,
                attempts=e.attempts + 1,
                updated_at=now,
            )
            self._s.outbox[(e.partner_id, e.key)] = leased
            claimed.append(leased)
        return claimed

    def _leased(self, entry: OutboxEntry) -> OutboxEntry | None:
        current = self._s.outbox.get((entry.partner_id, entry.key))
        if (
            current is None
            or current.id != entry.id
            or current.state is not OutboxState.IN_FLIGHT
            or current.lease_owner != entry.lease_owner
        ):
            return None
        return current

    async def complete(self, entry: OutboxEntry) -> bool:
        current = self._leased(entry)
        if current is None:
            return False
        if current.revision == entry.revision:
            del self._s.outbox[(entry.partner_id, entry.key)]
        else:
            self._s.outbox[(entry.partner_id, entry.key)] = dataclasses.replace(
                current,
                state=OutboxState.PENDING,
                attempts=0,
                next_attempt_at=self._s.clock(),
                lease_owner=None,
                lease_until=None,
                last_error=None,
                updated_at=self._s.clock(),
            )
        return True

    async def complete_many(self, entries: Sequence[OutboxEntry]) -> list[bool]:
        return [await self.complete(e) for e in entries]

    async def retry_later(
        self, entry: OutboxEntry, *, at: datetime, error: str, attempted: bool = True
    ) -> bool:
        current = self._leased(entry)
        if current is None:
            return False
        self._s.outbox[(entry.partner_id, entry.key)] = dataclasses.replace(
            current,
            attempts=current.attempts if attempted else max(0, current.attempts - 1),
            state=OutboxState.PENDING,
            next_attempt_at=at,
            lease_owner=None,
            lease_until=None,
            last_error=error,
            updated_at=self._s.clock(),
        )
        return True

    async def bury(self, entry: OutboxEntry, *, reason: str) -> bool:
        current = self._leased(entry)
        if current is None:
            return False
        self._s.outbox[(entry.partner_id, entry.key)] = dataclasses.replace(
            current,
            state=OutboxState.DEAD,
            lease_owner=None,
            lease_until=None,
            dead_reason=reason,
            updated_at=self._s.clock(),
        )
        return True

    async def replay(self, *, entry_id: int | None = None, partner_id: str | None = None) -> int:
        now = self._s.clock()
        count = 0
        for k, e in list(self._s.outbox.items()):
            if (
                e.state is OutboxState.DEAD
                and (entry_id is None or e.id == entry_id)
                and (partner_id is None or e.partner_id == partner_id)
            ):
                self._s.outbox[k] = dataclasses.replace(
                    e,
                    state=OutboxState.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    dead_reason=None,
                    updated_at=now,
                )
                count += 1
        return count

    async def drop(self, *, entry_id: int | None = None, partner_id: str | None = None) -> int:
        doomed = [
            k
            for k, e in self._s.outbox.items()
            if e.state is OutboxState.DEAD
            and (entry_id is None or e.id == entry_id)
            and (partner_id is None or e.partner_id == partner_id)
        ]
        for k in doomed:
            del self._s.outbox[k]
        return len(doomed)

    async def entries(
        self,
        *,
        state: OutboxState | None = None,
        partner_id: str | None = None,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[OutboxEntry]:
        found = sorted(
            (
                e
                for e in self._s.outbox.values()
                if e.id > after_id
                and (state is None or e.state is state)
                and (partner_id is None or e.partner_id == partner_id)
            ),
            key=lambda e: e.id,
        )
        return found[:limit]

    async def counts(self) -> dict[OutboxState, int]:
        counts = dict.fromkeys(OutboxState, 0)
        for e in self._s.outbox.values():
            counts[e.state] += 1
        return counts

    async def depths(self) -> list[OutboxDepth]:
        groups: dict[tuple[str, OutboxState], list[datetime]] = {}
        for e in self._s.outbox.values():
            groups.setdefault((e.partner_id, e.state), []).append(e.created_at)
        return [
            OutboxDepth(partner, state, len(times), min(times))
            for (partner, state), times in sorted(groups.items())
        ]


class MemoryCommands:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def save(self, record: CommandRecord) -> CommandRecord:
        now = self._s.clock()
        old = self._s.commands.get((record.direction, record.id))
        saved = dataclasses.replace(
            record, created_at=old.created_at if old is not None else now, updated_at=now
        )
        self._s.commands[(record.direction, record.id)] = saved
        return saved

    async def get(self, direction: CommandDirection, command_id: str) -> CommandRecord | None:
        return self._s.commands.get((direction, command_id))

    async def due(self, *, before: datetime, limit: int = 100) -> list[CommandRecord]:
        due = [
            c
            for c in self._s.commands.values()
            if not c.final and c.deadline is not None and c.deadline < before
        ]
        due.sort(key=lambda c: (c.deadline or before, c.id))
        return due[:limit]


class MemoryFacts:
    """:class:`~ocpikit.protocol.ports.PlatformFacts` in a dictionary."""

    def __init__(self) -> None:
        self._facts: dict[str, str] = {}

    async def get(self, name: str) -> str | None:
        return self._facts.get(name)

    async def set(self, name: str, value: str) -> None:
        self._facts[name] = value

    async def delete(self, name: str) -> None:
        self._facts.pop(name, None)


class MemoryHubCounters:
    """:class:`~ocpikit.protocol.ports.HubCounterStore` in a dictionary."""

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = {}

    async def add(self, increments: Mapping[tuple[str, str], int]) -> None:
        for (pid, name), n in increments.items():
            if n:
                row = self._counts.setdefault(pid, {})
                row[name[:200]] = row.get(name[:200], 0) + n

    async def all(self) -> dict[str, dict[str, int]]:
        return {pid: dict(row) for pid, row in self._counts.items()}


class MemoryCredentialsChanges:
    """:class:`~ocpikit.protocol.ports.CredentialsChanges` of one in-memory store: its
    generation, one more at every change of a partner or a token."""

    def __init__(self, state: _State) -> None:
        self._s = state

    async def mark(self) -> int:
        return self._s.credentials_generation


class MemoryStorage:
    """All repositories over plain dictionaries. ``clock`` gives "now" (aware UTC)."""

    def __init__(self, *, clock: Clock = utcnow, max_body_bytes: int = 256 * 1024) -> None:
        state = _State(clock)
        self._objects = MemoryObjects(state)
        self._partners = MemoryPartners(state)
        self._tokens = MemoryTokens(state)
        self._exchanges = MemoryExchangeLog(state, max_body_bytes)
        self._outbox = MemoryOutbox(state)
        self._commands = MemoryCommands(state)
        self._facts = MemoryFacts()
        self._hub_counters = MemoryHubCounters()
        self._parties = MemoryParties(clock, state.partners)
        self._credentials_changes = MemoryCredentialsChanges(state)
        self._cdr_checks = state.cdr_checks
        self._cdr_builds = state.cdr_builds

    @property
    def objects(self) -> MemoryObjects:
        return self._objects

    @property
    def partners(self) -> MemoryPartners:
        return self._partners

    @property
    def tokens(self) -> MemoryTokens:
        return self._tokens

    @property
    def exchanges(self) -> MemoryExchangeLog:
        return self._exchanges

    @property
    def outbox(self) -> MemoryOutbox:
        return self._outbox

    @property
    def commands(self) -> MemoryCommands:
        return self._commands

    @property
    def facts(self) -> MemoryFacts:
        return self._facts

    @property
    def parties(self) -> MemoryParties:
        return self._parties

    @property
    def hub_counters(self) -> MemoryHubCounters:
        return self._hub_counters

    @property
    def cdr_checks(self) -> MemoryCdrChecks:
        return self._cdr_checks

    @property
    def cdr_builds(self) -> MemoryCdrBuilds:
        return self._cdr_builds

    @property
    def credentials_changes(self) -> MemoryCredentialsChanges:
        return self._credentials_changes

    async def readiness(self) -> list[str]:
        return []

    async def aclose(self) -> None:
        return None
