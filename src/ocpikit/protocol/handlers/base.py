"""What every module handler works with: the call, the reply, the services, and the edge
conversions between a partner's version and the head documents in storage (DESIGN §2).

Handlers are pure with respect to I/O frameworks: they get a :class:`Call` (decoded by the
server), use the storage ports and the operator decision port, and return a :class:`Reply`
(which the server wraps in the envelope). Objects are stored once, as head documents; they are
converted at the edge into the caller's negotiated version, and the converted bytes are cached
per version through :meth:`~ocpikit.protocol.ports.ObjectRepository.store_wire`.

One exception to the cache: a 2.1.1 Session or CDR *embeds* its Location (DIGEST §6.4-§6.5), so
its bytes depend on another object. Those are never cached (nor served from the cache): they
are converted on every request, with the referenced Locations fetched from storage first, one
``get`` per distinct Location of the page (:func:`location_lookup`), so that the embedded
Location is the real one and always current.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from ocpikit.convert import Context, from_head, to_head
from ocpikit.core.clock import Clock
from ocpikit.core.errors import (
    InvalidOrMissingParameters,
    NotFound,
    from_validation_error,
)
from ocpikit.core.headers import PartyRef
from ocpikit.core.types import ci_equal, parse_datetime
from ocpikit.core.versions import HEAD, V2_2_1, Role, Version
from ocpikit.models import OBJECTS
from ocpikit.protocol.decisions import Decisions
from ocpikit.protocol.endpoints import Operation
from ocpikit.protocol.parties import TrafficLearner, is_hub
from ocpikit.protocol.party_records import party_key
from ocpikit.protocol.ports import (
    ObjectKey,
    ObjectRepository,
    Partner,
    Storage,
    StoredObject,
    WireEntry,
)
from ocpikit.protocol.profiles import effective_settings, read_with_placeholders

__all__ = [
    "UNSET",
    "Call",
    "Handler",
    "OwnParty",
    "Reply",
    "Services",
    "check_owner",
    "dump_version",
    "embeds_location",
    "head_to_version",
    "last_updated_of",
    "load_head",
    "load_patch",
    "location_lookup",
    "location_refs",
    "partner_body",
    "serve_object",
    "wire_of",
]


class _Unset:
    __slots__ = ()


UNSET: Any = _Unset()


@dataclass(frozen=True, slots=True)
class OwnParty:
    """One of our own parties (from the settings)."""

    country_code: str
    party_id: str
    roles: tuple[Role, ...]
    business_details: Mapping[str, Any] = field(default_factory=dict)
    sole: bool = False
    """True when this is the platform's only party: our own objects need no party filter,
    which lets storage count a listing from its maintained counters (the hot path)."""

    @property
    def key(self) -> str:
        return f"{self.country_code.upper()}-{self.party_id.upper()}"


@dataclass(frozen=True, slots=True)
class Services:
    storage: Storage
    decisions: Decisions
    clock: Clock
    #: records the parties hubs forward objects for (the party directory)
    learner: TrafficLearner = field(default_factory=TrafficLearner)


@dataclass(slots=True)
class Call:
    """One decoded OCPI request addressed to a module interface."""

    version: Version
    op: Operation
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    partner: Partner | None
    party: OwnParty
    url: str
    module_url: str
    #: the ``OCPI-from-*`` party of a 2.2+ request (a hub names the party behind it)
    from_party: PartyRef | None = None
    #: all our parties (``CC-PID``, upper case): never written by a partner, not even a hub
    own_parties: frozenset[str] = frozenset()


@dataclass(slots=True)
class Reply:
    """What the handler answers: ``data`` (JSON-ready), ``raw_data`` (serialized JSON of the
    data, e.g. one object's cached wire bytes) or ``raw_items`` (the serialized items of an
    array ``data``, e.g. a page of cached wire bytes: the server joins them straight into the
    response body, so a 200 KiB page is copied once, not once per layer), the HTTP status and
    extra headers."""

    data: Any = UNSET
    raw_data: bytes | None = None
    raw_items: Sequence[bytes] | None = None
    http_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    status_code: int = 1000
    status_message: str | None = None


Handler = Callable[[Call, Services], Awaitable[Reply]]


def _model(version: Version, name: str) -> Any:
    return OBJECTS.get(version.text, {}).get(name)


def load_head(
    version: Version,
    name: str,
    body: Any,
    *,
    country_code: str | None = None,
    party_id: str | None = None,
) -> dict[str, Any]:
    """Validate ``body`` as object ``name`` of ``version`` and return its head JSON.

    Bad input raises 2001 naming the field path (DESIGN §3); nothing has been stored.
    """
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters(f"{name}: the body must be a JSON object")
    model = _model(version, name)
    if model is None:
        return dict(body)
    try:
        # model_validate's own work, without its Python wrapper (every pushed object)
        obj = model.__pydantic_validator__.validate_python(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    if version == HEAD:
        result: dict[str, Any] = obj.dump()
        return result
    ctx = Context(country_code=country_code, party_id=party_id)
    try:
        head, _losses = to_head(obj, version, name, ctx)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    out: dict[str, Any] = head.dump()
    return out


def partner_body(call: Call, name: str, body: Any) -> Any:
    """The body of a partner's push as object ``name`` reads it: as sent, or, from a hub with
    ``dash_placeholders`` (:mod:`ocpikit.protocol.profiles`), without its optional ``"-"``
    fields. A body that does not validate either way is returned as sent (:func:`load_head`
    then names its problems)."""
    partner = call.partner
    if partner is None or not partner.settings:
        return body
    if effective_settings(partner.settings).get("dash_placeholders") is not True:
        return body
    model = _model(call.version, name)
    if model is None or not isinstance(body, dict):
        return body

    def check(candidate: Any) -> Any:
        model.__pydantic_validator__.validate_python(candidate)
        return candidate

    try:
        return read_with_placeholders(check, body, where=f"{partner.id} {name}")
    except ValidationError:
        return body


def load_patch(version: Version, name: str, body: Any) -> dict[str, Any]:
    """Validate a PATCH body (only the fields sent) against ``name`` of ``version``; 2.2+
    requires ``last_updated`` (DIGEST §1.9)."""
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters(f"{name}: the body must be a JSON object")
    if version >= V2_2_1 and "last_updated" not in body:
        raise InvalidOrMissingParameters(path="last_updated")
    model = _model(version, name)
    if model is None:
        return dict(body)
    try:
        result: dict[str, Any] = model.parse_patch(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    return result


#: objects whose 2.1.1 form embeds a full Location (DIGEST §6.4-§6.5)
EMBEDS_LOCATION = frozenset({"Session", "CDR"})

Lookups = Mapping[str, Callable[..., dict[str, Any] | None]]
"""``Context.lookup`` entries (``{"location": fn}``)."""


def embeds_location(version: Version, name: str) -> bool:
    """Whether ``name`` in ``version`` embeds a Location that must come from storage (2.1.1
    Sessions and CDRs): such bytes are converted with :func:`location_lookup` and not cached."""
    return version < V2_2_1 and name in EMBEDS_LOCATION


def location_refs(documents: Iterable[Mapping[str, Any]]) -> set[ObjectKey]:
    """The distinct Locations referenced by head Sessions (``location_id``) and CDRs
    (``cdr_location.id``), keyed by the referencing object's owner party."""
    keys: set[ObjectKey] = set()
    for doc in documents:
        cc, pid = doc.get("country_code"), doc.get("party_id")
        loc_id = doc.get("location_id")
        if loc_id is None:
            cl = doc.get("cdr_location")
            loc_id = cl.get("id") if isinstance(cl, Mapping) else None
        if isinstance(cc, str) and isinstance(pid, str) and isinstance(loc_id, str) and loc_id:
            keys.add(ObjectKey("Location", cc, pid, loc_id))
    return keys


async def location_lookup(
    objects: ObjectRepository, documents: Iterable[Mapping[str, Any]], *, owner: str | None
) -> dict[str, Callable[..., dict[str, Any] | None]]:
    """Fetch the Locations the head ``documents`` reference (one ``get`` per distinct key, run
    concurrently) and return the synchronous ``Context.lookup`` the converters call:
    ``{"location": fn(country_code, party_id, location_id) -> head Location | None}``.

    Only a Location with the same ``owner`` as the referencing objects is used (ours for our
    Sessions/CDRs, the partner's for what a partner pushed)."""
    keys = list(location_refs(documents))
    found: dict[ObjectKey, dict[str, Any]] = {}
    if keys:
        stored = await asyncio.gather(*(objects.get(k) for k in keys))
        for key, obj in zip(keys, stored, strict=True):
            if obj is not None and obj.owner == owner:
                found[key] = obj.document

    def location(country_code: Any, party_id: Any, location_id: Any) -> dict[str, Any] | None:
        if not (
            isinstance(country_code, str)
            and isinstance(party_id, str)
            and isinstance(location_id, str)
        ):
            return None
        return found.get(ObjectKey("Location", country_code, party_id, location_id))

    return {"location": location}


def _context(lookup: Lookups | None) -> Context | None:
    return Context(lookup=dict(lookup)) if lookup else None


def head_to_version(
    document: Mapping[str, Any], version: Version, name: str, *, lookup: Lookups | None = None
) -> dict[str, Any]:
    """The JSON form of a head document in ``version`` (``lookup``: see :func:`location_lookup`)."""
    if version == HEAD:
        return dict(document)
    model, _losses = from_head(dict(document), version, name, _context(lookup))
    out: dict[str, Any] = model.dump()
    return out


def dump_version(
    document: Mapping[str, Any], version: Version, name: str, *, lookup: Lookups | None = None
) -> bytes:
    """Wire bytes of a head document in ``version``; a 2.1.1 Session/CDR needs ``lookup`` for
    its embedded Location (else the converter builds a placeholder and reports the loss)."""
    if version == HEAD:
        return orjson.dumps(document)
    model, _losses = from_head(dict(document), version, name, _context(lookup))
    out: bytes = model.dump_json()
    return out


def wire_of(stored: StoredObject, version: Version, name: str) -> bytes:
    """Wire bytes of a stored object in ``version`` (the cache when filled). Not for
    :func:`embeds_location` objects (their bytes need the Locations: :func:`serve_object`)."""
    if stored.wire is not None:
        return stored.wire
    if version == HEAD:
        return stored.raw
    return dump_version(stored.document, version, name)


async def serve_object(
    services: Services, stored: StoredObject, version: Version, name: str
) -> bytes:
    """Wire bytes of one object, filling the per-version cache on a miss. A 2.1.1 Session/CDR
    is converted every time with its Location read from storage, and never cached."""
    if embeds_location(version, name):
        lookup = await location_lookup(
            services.storage.objects, [stored.document], owner=stored.owner
        )
        return dump_version(stored.document, version, name, lookup=lookup)
    if stored.wire is not None or version == HEAD:
        return wire_of(stored, version, name)
    body = dump_version(stored.document, version, name)
    await services.storage.objects.store_wire(
        [WireEntry(stored.key, stored.revision, version.text, body)]
    )
    return body


def last_updated_of(document: Mapping[str, Any], now: datetime) -> datetime:
    value = document.get("last_updated")
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            pass
    return now


def check_owner(call: Call, country_code: str, party_id: str) -> None:
    """A partner may only write objects of the parties it registered with (DIGEST §1.8); a
    hub connection also those of the parties behind it (:func:`check_forwarded`)."""
    partner = call.partner
    if partner is None:
        raise NotFound("No partner")
    own = any(
        ci_equal(r.country_code, country_code) and ci_equal(r.party_id, party_id)
        for r in partner.roles
    )
    if own:
        return
    if not is_hub(partner):
        raise NotFound(
            f"{country_code}/{party_id} is not a party you registered with; "
            "you may only write your own objects"
        )
    check_forwarded(call, country_code, party_id)


def check_forwarded(call: Call, country_code: str, party_id: str) -> None:
    """A hub writes for a party behind it (OCPI 2.2.1 transport_and_format §Message Routing):
    never for one of our parties, and on 2.2+ its ``OCPI-from-*`` headers, when sent, name the
    party of the URL. Which connection keeps the object afterwards is the store's owner rule."""
    key = party_key(country_code, party_id)
    if key in call.own_parties or key == call.party.key:
        raise NotFound(f"{country_code}/{party_id} is a party of this platform")
    sender = call.from_party
    if sender is not None and sender != PartyRef(country_code, party_id):
        raise InvalidOrMissingParameters(
            f"OCPI-from-party-id {sender} differs from the party of the URL "
            f"({country_code}/{party_id})",
            path="OCPI-from-party-id",
        )


def check_body_ids(
    call: Call, head: Mapping[str, Any], id_field: str, url_id: str, *, owner_fields: bool = True
) -> None:
    """The ids in the body must match the URL (DIGEST §1.8: 2001 otherwise)."""
    if not ci_equal(str(head.get(id_field, "")), url_id):
        raise InvalidOrMissingParameters(
            f"{id_field}: {head.get(id_field)!r} differs from the URL ({url_id!r})", path=id_field
        )
    if owner_fields and call.version >= V2_2_1:
        for f in ("country_code", "party_id"):
            if not ci_equal(str(head.get(f, "")), call.params[f]):
                raise InvalidOrMissingParameters(
                    f"{f}: {head.get(f)!r} differs from the URL ({call.params[f]!r})", path=f
                )


def object_key(kind: str, country_code: str, party_id: str, id: str) -> ObjectKey:
    return ObjectKey(kind, country_code, party_id, id)


def find(items: Sequence[Any], field_name: str, value: str) -> int:
    """Index of the dict in ``items`` whose ``field_name`` equals ``value`` (CiString), or -1."""
    for i, item in enumerate(items):
        if isinstance(item, dict) and ci_equal(str(item.get(field_name, "")), value):
            return i
    return -1
