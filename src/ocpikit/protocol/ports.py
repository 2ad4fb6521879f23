"""Storage ports: what the protocol layer needs from persistence, declared without any I/O
(DESIGN §1 "storage implements the ports that protocol declares", §4 storage; docs/storage.md).

The protocol layer depends only on these ``typing.Protocol`` classes; ``ocpikit.storage`` holds
the implementations (in-memory for tests, SQLAlchemy for SQLite and PostgreSQL). Every method is
``async`` so that a server or worker can await storage without blocking its event loop; the SQL
implementation runs each call as one short transaction on a worker thread.

One :class:`Storage` groups six repositories:

- :class:`ObjectRepository`: OCPI objects (head documents, DESIGN §2) keyed by
  :class:`ObjectKey` ``(kind, country_code, party_id, id)``. Key parts are CiStrings
  (types §CiString): compared case-insensitively, stored and returned in their original case.
  Listing is the pagination primitive of every module's GET list (transport §Pagination):
  ``date_from`` inclusive, ``date_to`` exclusive, offset/limit, a total count and a stable
  order, the creation order. Each object records its ``owner``: ``None`` for our own objects,
  else the id of the partner that pushed it. Per-version wire bytes can be cached next to the
  document so that serving a page does not re-convert; any write invalidates them.
- :class:`PartnerRepository`: registered (or invited) partners, their roles, negotiated
  version, endpoint cache, the token we send them, and sync marks for incremental pulls.
- :class:`TokenRepository`: the credentials tokens partners present to us (token A for
  registration, token C afterwards). Only a SHA-256 digest is stored, see :func:`token_digest`.
- :class:`ExchangeLog`: every OCPI request/response; ``Authorization`` values and credentials
  tokens are redacted before anything is written.
- :class:`Outbox`: the durable push queue (one entry per partner and object, coalesced to the
  latest state, leased by exactly one worker at a time).
- :class:`CommandStore`: asynchronous commands and charging-profile requests, sent or received,
  with their ``response_url`` and result, so that they survive restarts.

Beside them, :class:`CredentialsChanges` tells a process cheaply whether any process changed a
token or a partner (what the server's auth cache needs to forget at once).

Times are aware UTC ``datetime`` values. "Now" comes from the clock the implementation was
built with (DESIGN §3 "injected clock").
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

import orjson

from ocpikit.core.types import ci_key
from ocpikit.protocol.cdr_builds import CdrBuildStore
from ocpikit.protocol.cdr_checks import CdrCheckStore
from ocpikit.protocol.exchanges import (
    Exchange,
    ExchangeDirection,
    ExchangeLog,
    ExchangeQuery,
    exchange_query,
)
from ocpikit.protocol.party_records import Learned, RemoteParty
from ocpikit.protocol.push_patches import PushPatch

__all__ = [
    "ANY_OWNER",
    "BASE_URL_FACT",
    "AnyOwner",
    "CommandDirection",
    "CommandRecord",
    "CommandStore",
    "CredentialsChanges",
    "CredentialsToken",
    "Endpoint",
    "Exchange",
    "ExchangeDirection",
    "ExchangeLog",
    "ExchangeQuery",
    "HubCounterStore",
    "Merge",
    "ObjectKey",
    "ObjectRepository",
    "OutboxDepth",
    "OutboxEntry",
    "OutboxOperation",
    "OutboxState",
    "OwnerFilter",
    "Page",
    "Partner",
    "PartnerRepository",
    "PartnerStatus",
    "PartyDirectory",
    "PartyRole",
    "PatchPlan",
    "PlatformFacts",
    "PullResume",
    "ReplaceDocument",
    "SetFields",
    "Storage",
    "StoredObject",
    "TokenKind",
    "TokenRepository",
    "WireEntry",
    "WirePage",
    "dump_document",
    "exchange_query",
    "patch_plan",
    "token_digest",
]


# --- objects ---------------------------------------------------------------------------------


class ObjectKey:
    """``(kind, country_code, party_id, id)`` of one OCPI object.

    ``kind`` is the head object name (``"Location"``, ``"Session"``, ``"CDR"``, ``"Tariff"``,
    ``"Token"``, ...) and is compared exactly. The other three parts are CiStrings: equality and
    hashing ignore case, while the attributes keep the case they were given in.
    """

    __slots__ = ("_norm", "country_code", "id", "kind", "party_id")

    def __init__(self, kind: str, country_code: str, party_id: str, id: str) -> None:
        self.kind = kind
        self.country_code = country_code
        self.party_id = party_id
        self.id = id
        self._norm = (kind, ci_key(country_code), ci_key(party_id), ci_key(id))

    @property
    def norm(self) -> tuple[str, str, str, str]:
        """The normalised key (CiString parts upper-cased), as indexed by storage."""
        return self._norm

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectKey) and self._norm == other._norm

    def __hash__(self) -> int:
        return hash(self._norm)

    def __repr__(self) -> str:
        return f"ObjectKey({self.kind!r}, {self.country_code!r}, {self.party_id!r}, {self.id!r})"


class StoredObject:
    """One stored object as read back.

    ``raw`` is the head document's JSON text exactly as the backend returns it; ``document``
    parses it on first use, so a page served from ``wire`` never pays for parsing.
    ``seq`` is the creation order (never changes on update); ``revision`` counts writes (1 on
    creation). ``wire`` holds the cached serialized form for the version a listing or
    :meth:`ObjectRepository.get` asked for, when one is cached for the current revision.
    """

    __slots__ = ("_doc", "key", "last_updated", "owner", "raw", "revision", "seq", "wire")

    def __init__(
        self,
        *,
        key: ObjectKey,
        owner: str | None,
        raw: bytes,
        last_updated: datetime,
        seq: int,
        revision: int,
        wire: bytes | None = None,
    ) -> None:
        self.key = key
        self.owner = owner
        self.raw = raw
        self.last_updated = last_updated
        self.seq = seq
        self.revision = revision
        self.wire = wire
        self._doc: dict[str, Any] | None = None

    @property
    def document(self) -> dict[str, Any]:
        """The head document (parsed lazily from :attr:`raw`; do not mutate)."""
        if self._doc is None:
            doc = orjson.loads(self.raw)
            if not isinstance(doc, dict):
                raise TypeError(f"stored document of {self.key!r} is not a JSON object")
            self._doc = doc
        return self._doc

    @property
    def created(self) -> bool:
        """True when this write created the object (revision 1)."""
        return self.revision == 1

    def __repr__(self) -> str:
        return f"StoredObject({self.key!r}, seq={self.seq}, revision={self.revision})"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing: ``items`` in creation order and ``total``, the number of objects
    matching the filters (the ``X-Total-Count`` header, transport §Pagination)."""

    items: list[StoredObject]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class WirePage:
    """One page of a listing as wire bytes (:meth:`ObjectRepository.list_wire`): ``items`` in
    creation order, each either the bytes to send (the fresh cached form in the requested
    version, or the head document itself when no version was asked) or, when no fresh cache
    entry exists, the :class:`StoredObject` to convert (then cache it with
    :meth:`ObjectRepository.store_wire`). ``total`` as in :class:`Page`. ``wire``: the store
    knows every item to be bytes (the caller need not look at each)."""

    items: list[bytes | StoredObject]
    total: int
    offset: int
    limit: int
    wire: bool = False


@dataclass(frozen=True, slots=True)
class WireEntry:
    """Serialized form of one object revision in one OCPI version, to be cached."""

    key: ObjectKey
    revision: int
    version: str
    body: bytes


class AnyOwner(enum.Enum):
    """Sentinel type for "any owner" in listings."""

    ANY = "any"


ANY_OWNER: Final = AnyOwner.ANY
OwnerFilter = str | None | AnyOwner
"""``None``: our own objects; a partner id: what that partner pushed; :data:`ANY_OWNER`: all."""

Merge = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""A PATCH merge: current head document in, new head document out (the caller applies the
PATCH rules and validates; storage only runs it inside the write transaction)."""


@dataclass(frozen=True, slots=True)
class ReplaceDocument:
    """PATCH plan: replace the stored document with ``merge(document)`` (OCPI 2.2.1 transport
    §PATCH: the merge rules live in :mod:`ocpikit.core.patch` and the handler).

    Invariant: ``merge`` is a pure function of the document it gets. A store may call it more
    than once (SQLite's group commit runs a transaction again after another write of the group
    failed half way), and calls it inside the write transaction."""

    merge: Merge


@dataclass(frozen=True, slots=True)
class SetFields:
    """PATCH plan: set these top-level ``fields`` of the stored document, i.e. the merge is
    exactly ``{**document, **fields}`` (:meth:`apply`): existing keys keep their place, new
    ones are appended, so every store writes the same bytes.

    Invariant (checked here): no value is ``null`` or an object (those need the PATCH rules:
    a ``null`` may clear a required field, an object merges field by field), and
    ``last_updated`` is among them as an OCPI DateTime string (it becomes the indexed
    timestamp). A store may then merge without reading the document into Python (SQLite:
    ``json_patch`` in the UPDATE, RFC 7396, which gives the same bytes for such values)."""

    fields: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.fields.get("last_updated"), str):
            raise ValueError("SetFields needs last_updated as a DateTime string")
        for name, value in self.fields.items():
            if value is None or isinstance(value, dict):  # JSON objects are dicts
                raise ValueError(f"SetFields cannot set {name!r} to null or an object")

    def apply(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """The patched document (the reference every store's result must equal)."""
        return {**document, **self.fields}


PatchPlan = ReplaceDocument | SetFields
"""How a PATCH changes a stored object, decided once by its caller (the PATCH handler) and
carried out by each store: :class:`ReplaceDocument` or :class:`SetFields`."""


def patch_plan(plan: PatchPlan | Merge) -> PatchPlan:
    """``plan`` as a :data:`PatchPlan`: a bare merge function is :class:`ReplaceDocument`."""
    if isinstance(plan, ReplaceDocument | SetFields):
        return plan
    return ReplaceDocument(plan)


def dump_document(document: Mapping[str, Any] | bytes | str) -> bytes:
    """The JSON bytes of a document: bytes pass through, ``str`` is encoded, a mapping is
    dumped compactly (a ``Decimal`` would need the caller's JSON dump first)."""
    if isinstance(document, bytes):
        return document
    if isinstance(document, str):
        return document.encode()
    return orjson.dumps(document)


class ObjectRepository(Protocol):
    """OCPI objects as head documents (DESIGN §4)."""

    async def put(
        self,
        key: ObjectKey,
        document: Mapping[str, Any] | bytes | str,
        *,
        last_updated: datetime,
        owner: str | None,
        push_to: Sequence[str] = (),
    ) -> StoredObject:
        """Insert or fully replace the object (keeping its creation order ``seq``); cached wire
        forms are dropped. For every partner id in ``push_to`` an outbox ``PUT`` entry with this
        revision is written in the same transaction (transactional outbox)."""
        ...

    async def get(self, key: ObjectKey, *, version: str | None = None) -> StoredObject | None:
        """The object, or ``None``; with ``version``, ``wire`` is filled from the cache."""
        ...

    async def get_many(self, keys: Iterable[ObjectKey]) -> dict[ObjectKey, StoredObject]:
        """The head objects of ``keys`` that exist, by key (one read, whatever the number of
        keys; no ``wire``): the set-based form of :meth:`get` for batch work."""
        ...

    async def patch(
        self,
        key: ObjectKey,
        plan: PatchPlan | Merge,
        *,
        push_to: Sequence[str] = (),
        owner: OwnerFilter = ANY_OWNER,
        push_patch: PushPatch | None = None,
    ) -> StoredObject | None:
        """Read-merge-write in one transaction, as ``plan`` says (:data:`PatchPlan`; a bare
        merge function is :class:`ReplaceDocument`); the new document's ``last_updated``
        becomes the indexed timestamp. ``None`` when the object does not exist, or when
        ``owner`` is given and the object's owner is not that one (``None``: our own objects),
        so a receiver checks ownership without a read of its own. ``push_to`` as in
        :meth:`put` (the full merged state is queued, so a delivery can coalesce); the partners
        of ``push_patch`` get a ``PATCH`` entry instead, its changes coalesced with the entry
        already queued (:func:`~ocpikit.protocol.push_patches.coalesce`)."""
        ...

    async def delete(self, key: ObjectKey, *, push_to: Sequence[str] = ()) -> bool:
        """Remove the object and its cached wire forms; ``False`` when it did not exist.
        ``push_to`` queues a ``DELETE`` entry per partner in the same transaction."""
        ...

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
        """A page in creation order: ``date_from <= last_updated < date_to``, optionally only
        one owner and/or one party (CiString match). With ``version``, each item's ``wire`` is
        filled from the cache when present. Index-backed; never loads the collection."""
        ...

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
        """The page :meth:`list_page` would return, as bytes to serve: the cached wire form in
        ``version`` where a fresh one exists (``None``: the head document's bytes, the head
        version's wire form), else the object to convert. The serving hot path: a backend
        reads no head document it does not need and builds no object it can avoid."""
        ...

    async def store_wire(self, entries: Iterable[WireEntry]) -> None:
        """Cache serialized forms; an entry whose revision is no longer current is ignored."""
        ...


# --- partners and tokens ----------------------------------------------------------------------


class PartnerStatus(enum.StrEnum):
    """Lifecycle of a partner connection (credentials module)."""

    PENDING = "PENDING"  # invited or registration under way
    REGISTERED = "REGISTERED"
    SUSPENDED = "SUSPENDED"  # kept, but no traffic (e.g. operator decision)
    UNREGISTERED = "UNREGISTERED"


@dataclass(frozen=True, slots=True)
class PartyRole:
    """One ``CredentialsRole`` (2.2+) or the single party of a 2.1.1 partner."""

    role: str
    country_code: str
    party_id: str
    business_details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One entry of the partner's version details (``role`` is ``None`` in 2.1.1)."""

    identifier: str
    url: str
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner platform. ``id`` is ours (chosen by the caller, stable, not an OCPI value).

    ``outbound_token`` is the token the partner gave us (token B, or their later rotation) and
    that we send in our requests; it is stored as given because we must send it
    (docs/storage.md "Tokens"). ``local_party`` is ``(country_code, party_id)`` of our own party
    the partner registered with, when the platform hosts several. ``settings`` holds
    per-partner switches (quirks, push policy) as JSON.
    """

    id: str
    status: PartnerStatus
    roles: tuple[PartyRole, ...] = ()
    version: str | None = None
    versions_url: str | None = None
    endpoints: tuple[Endpoint, ...] = ()
    outbound_token: str | None = None
    local_party: tuple[str, str] | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PullResume:
    """Where an unfinished pull of one module from one partner goes on (OCPI 2.2.1
    ``transport_and_format`` §Pagination): ``url``, the partner's next-page URL after the last
    page that was stored whole; ``date_from``, the window that walk asked for (``None``: a pull
    of everything), so a pull with another window starts afresh; ``offset`` and ``pages``: the
    objects and pages the walk had read; ``started_at``: when the interrupted pull started,
    the sync mark the pull sets once it completes (so nothing changed meanwhile is skipped)."""

    url: str
    date_from: datetime | None
    offset: int
    pages: int
    started_at: datetime


class TokenKind(enum.StrEnum):
    """Inbound credentials tokens we issued (token B is the partner's: ``outbound_token``)."""

    A = "A"  # registration token, valid until the partner has registered
    C = "C"  # the partner's token for every later call


@dataclass(frozen=True, slots=True)
class CredentialsToken:
    """An inbound token as stored: never the token itself, only its digest and a hint."""

    digest: str
    kind: TokenKind
    partner_id: str | None
    local_party: tuple[str, str] | None
    hint: str
    created_at: datetime
    revoked_at: datetime | None = None
    #: a token A stops working then (None: never)
    expires_at: datetime | None = None
    #: a token A bound to the party (``CC-PID``) that must register with it
    expected_party: str | None = None

    @property
    def id(self) -> str:
        """How the operator names the token (``ocpikit invite --list``, ``--revoke``): the
        first 12 hex digits of its digest."""
        return self.digest[:12]


def token_digest(token: str) -> str:
    """SHA-256 hex digest of a token as presented (after the Authorization codec decoded it).

    Tokens we issue are random with at least 128 bits of entropy, so a fast unsalted hash is
    enough against a leaked database and keeps lookup a single index probe.
    """
    return hashlib.sha256(token.encode()).hexdigest()


class PartnerRepository(Protocol):
    async def save(
        self,
        partner: Partner,
        *,
        issue: Sequence[tuple[str, TokenKind]] = (),
        revoke: Sequence[str] = (),
    ) -> Partner:
        """Insert or replace the partner; in the same transaction issue the given inbound tokens
        for it and revoke the given ones (e.g. register: save + issue C + revoke A). Returns it
        with ``created_at``/``updated_at`` set."""
        ...

    async def get(self, partner_id: str) -> Partner | None: ...

    async def all(self, *, status: PartnerStatus | None = None) -> list[Partner]: ...

    async def find_by_party(self, country_code: str, party_id: str) -> list[Partner]:
        """Partners that registered the party (CiString match), any role."""
        ...

    async def delete(self, partner_id: str) -> bool:
        """Remove the partner with its tokens, outbox entries, sync marks and pull resumes."""
        ...

    async def get_sync_mark(self, partner_id: str, module: str) -> datetime | None:
        """When the last successful pull of ``module`` from the partner started."""
        ...

    async def set_sync_mark(self, partner_id: str, module: str, at: datetime) -> None: ...

    async def get_pull_resume(self, partner_id: str, module: str) -> PullResume | None:
        """Where the last unfinished pull of ``module`` from the partner stopped, if any."""
        ...

    async def set_pull_resume(
        self, partner_id: str, module: str, resume: PullResume | None
    ) -> None:
        """Record where a pull stands after a page stored whole; ``None`` clears it (the pull
        completed)."""
        ...


class TokenRepository(Protocol):
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
        """Store a token we hand out (only its digest is kept); issuing a known token again
        makes it active again with these values."""
        ...

    async def lookup(self, token: str) -> CredentialsToken | None:
        """The active (neither revoked nor expired) record for a presented token, or ``None``."""
        ...

    async def revoke(self, token: str) -> bool:
        """Revoke an active token; True for exactly one of concurrent callers (a token A is
        claimed this way: single use)."""
        ...

    async def invites(self) -> list[CredentialsToken]:
        """The active tokens A, oldest first."""
        ...

    async def revoke_invite(self, token_id: str) -> int:
        """Revoke the active tokens A whose :attr:`CredentialsToken.id` (or digest) starts
        with ``token_id`` (at least 8 characters); returns how many."""
        ...

    async def revoke_partner(self, partner_id: str, kind: TokenKind | None = None) -> int:
        """Revoke every active token of a partner (optionally one kind); returns how many."""
        ...


class CredentialsChanges(Protocol):
    """Whether a credentials token or a partner changed, in any process using the same database.

    Invariant: two calls of :meth:`mark` return equal values only if no change to a token or a
    partner was committed between the first call's start and the second call's end; a change
    committed before a call starts always shows in that call (in-process or not). A mark may
    also change when nothing did (a reconnect): that only costs a cache its answers. Cheap
    enough to ask on every request (no round trip to the database while it can be avoided)."""

    async def mark(self) -> Hashable: ...


# --- outbox -----------------------------------------------------------------------------------


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DEAD = "dead"


class OutboxOperation(enum.StrEnum):
    PUT = "PUT"  # send the object's full state (PUT, or POST for a CDR)
    PATCH = "PATCH"  # send only what changed (``changes``: protocol/push_patches.py)
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One pending delivery of one object to one partner.

    There is at most one entry per ``(partner_id, key)``: a newer change replaces the payload
    (coalescing to the latest state). If the entry is in flight meanwhile, it stays leased and
    returns to pending when the worker completes the older revision.
    """

    id: int
    partner_id: str
    key: ObjectKey
    operation: OutboxOperation
    payload: bytes | None
    revision: int
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    lease_owner: str | None = None
    lease_until: datetime | None = None
    last_error: str | None = None
    dead_reason: str | None = None
    #: a ``PATCH`` entry's changed fields (JSON of :class:`~ocpikit.protocol.push_patches.
    #: Changes`); ``payload`` still holds the full state (a fallback PUT sends it)
    changes: bytes | None = None


@dataclass(frozen=True, slots=True)
class OutboxDepth:
    """How many entries one partner has in one state, and the oldest one's ``created_at``."""

    partner_id: str
    state: OutboxState
    count: int
    oldest: datetime


class Outbox(Protocol):
    async def enqueue(
        self,
        partner_id: str,
        key: ObjectKey,
        operation: OutboxOperation,
        payload: Mapping[str, Any] | bytes | str | None,
        *,
        revision: int = 0,
    ) -> None:
        """Queue (or coalesce into the existing entry) a delivery, outside an object write."""
        ...

    async def claim(
        self,
        worker: str,
        *,
        limit: int,
        lease: timedelta,
        skip_partners: Collection[str] = (),
    ) -> list[OutboxEntry]:
        """Lease up to ``limit`` due entries (pending and due, or in flight with an expired
        lease) to ``worker``, in one statement; ``attempts`` is incremented. Entries of
        ``skip_partners`` (partners the worker has paused) are left alone, so their attempts
        are not counted. On PostgreSQL concurrent claimers never receive the same entry
        (``FOR UPDATE SKIP LOCKED``)."""
        ...

    async def complete(self, entry: OutboxEntry) -> bool:
        """Delivery succeeded: remove the entry, or return it to pending when a newer revision
        arrived meanwhile. ``False`` when the lease was lost (another worker took it)."""
        ...

    async def complete_many(self, entries: Sequence[OutboxEntry]) -> list[bool]:
        """:meth:`complete` for many entries in one transaction; one result per entry, in
        order."""
        ...

    async def retry_later(
        self, entry: OutboxEntry, *, at: datetime, error: str, attempted: bool = True
    ) -> bool:
        """Delivery failed: pending again at ``at``; ``False`` when the lease was lost.
        ``attempted=False``: nothing was sent (the partner is paused), so the claim's attempt
        is given back."""
        ...

    async def bury(self, entry: OutboxEntry, *, reason: str) -> bool:
        """Give up: the entry becomes a visible dead letter."""
        ...

    async def replay(self, *, entry_id: int | None = None, partner_id: str | None = None) -> int:
        """Dead letters back to pending (one, one partner's, or all); returns how many."""
        ...

    async def drop(self, *, entry_id: int | None = None, partner_id: str | None = None) -> int:
        """Delete dead letters (one, one partner's, or all; never a pending or in-flight
        entry); returns how many."""
        ...

    async def entries(
        self,
        *,
        state: OutboxState | None = None,
        partner_id: str | None = None,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[OutboxEntry]: ...

    async def counts(self) -> dict[OutboxState, int]: ...

    async def depths(self) -> list[OutboxDepth]:
        """Per partner and state: how many entries, and when the oldest was queued (the
        metrics' queue gauges, read at scrape time)."""
        ...


# --- commands ---------------------------------------------------------------------------------


class CommandDirection(enum.StrEnum):
    SENT = "sent"  # we (eMSP, or party setting a charging profile) asked a partner
    RECEIVED = "received"  # a partner asked us (CPO)
    RELAYED = "relayed"  # a hub forwarded it with its own response_url (the original kept)


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """An asynchronous request awaiting its result: a command (START_SESSION, ...) or a
    charging-profile request (SET/GET/CLEAR_PROFILE). ``state`` is the name of the state in the
    caller's state machine; ``final`` marks it as done so ``due`` skips it. ``deadline`` is when
    a TIMEOUT result is due."""

    id: str
    direction: CommandDirection
    command: str
    state: str
    partner_id: str | None = None
    request: Mapping[str, Any] | None = None
    response_url: str | None = None
    response: Mapping[str, Any] | None = None
    result: Mapping[str, Any] | None = None
    final: bool = False
    deadline: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class CommandStore(Protocol):
    async def save(self, record: CommandRecord) -> CommandRecord:
        """Insert or replace by ``(direction, id)``; timestamps are set by storage."""
        ...

    async def get(self, direction: CommandDirection, command_id: str) -> CommandRecord | None: ...

    async def due(self, *, before: datetime, limit: int = 100) -> list[CommandRecord]:
        """Records not final whose deadline is before ``before``, oldest deadline first."""
        ...


# --- what the platform records about itself --------------------------------------------------

#: the fact name of the public base URL the running ``ocpikit serve`` answers on
BASE_URL_FACT = "base_url"


class PlatformFacts(Protocol):
    """Named text facts the running platform records about itself, for other processes of the
    same platform (the CLI) to read: e.g. :data:`BASE_URL_FACT`. A later ``set`` of the same
    name replaces the value."""

    async def get(self, name: str) -> str | None: ...

    async def set(self, name: str, value: str) -> None: ...

    async def delete(self, name: str) -> None:
        """Forget the fact (nothing happens when there is none)."""
        ...


class HubCounterStore(Protocol):
    """A hub's durable counters per connection (``{partner id: {counter: count}}``): ``add``
    adds a batch of increments in one transaction (docs/hubs.md "Hub operations")."""

    async def add(self, increments: Mapping[tuple[str, str], int]) -> None: ...

    async def all(self) -> dict[str, dict[str, int]]: ...


# --- the party directory ---------------------------------------------------------------------


class PartyDirectory(Protocol):
    """The learned part of the party directory (:mod:`ocpikit.protocol.parties`): parties
    behind hub connections, and the connection each routed object keeps."""

    async def learn(self, entries: Sequence[RemoteParty]) -> None:
        """Record (or refresh: status, source, time) entries, keyed by connection, party and
        role. Direct entries are not stored (they come from the partner rows)."""
        ...

    async def learned(self, *, partner_id: str | None = None) -> list[RemoteParty]: ...

    async def forget(self, partner_id: str, *, learned: Learned | None = None) -> int:
        """Drop a connection's learned entries (of one source, or all); returns how many."""
        ...

    async def pin(
        self, kind: str, country_code: str, party_id: str, object_id: str, to: str
    ) -> str:
        """Bind an object (a Session) to the connection ``to`` unless it is bound already;
        returns the connection it is bound to (OCPI 2.2.1 transport_and_format §Message
        Routing: a session keeps its path until its CDR is delivered)."""
        ...

    async def pinned(
        self, kind: str, country_code: str, party_id: str, object_id: str
    ) -> str | None: ...


# --- the whole storage ------------------------------------------------------------------------


class Storage(Protocol):
    """Everything the platform persists; one implementation object per database."""

    @property
    def objects(self) -> ObjectRepository: ...

    @property
    def partners(self) -> PartnerRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def exchanges(self) -> ExchangeLog: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def commands(self) -> CommandStore: ...

    @property
    def facts(self) -> PlatformFacts: ...

    @property
    def parties(self) -> PartyDirectory: ...

    @property
    def hub_counters(self) -> HubCounterStore: ...

    @property
    def cdr_checks(self) -> CdrCheckStore: ...

    @property
    def cdr_builds(self) -> CdrBuildStore: ...

    @property
    def credentials_changes(self) -> CredentialsChanges: ...

    async def readiness(self) -> list[str]:
        """What keeps the storage from serving: the database cannot be reached, or its schema
        is not the newest migration (``GET /ready``); empty when ready. Never raises."""
        ...

    async def aclose(self) -> None: ...
