"""What every module handler works with: the call, the reply, the services, and the edge
conversions between a partner's version and the head documents in storage (DESIGN §2).

Handlers are pure with respect to I/O frameworks: they get a :class:`Call` (decoded by the
server), use the storage ports and the operator decision port, and return a :class:`Reply`
(which the server wraps in the envelope). Objects are stored once, as head documents; they are
converted at the edge into the caller's negotiated version, and the converted bytes are cached
per version through :meth:`~ocpikit.protocol.ports.ObjectRepository.store_wire`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
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
from ocpikit.core.types import ci_equal, parse_datetime
from ocpikit.core.versions import HEAD, V2_2_1, Role, Version
from ocpikit.models import OBJECTS
from ocpikit.protocol.decisions import Decisions
from ocpikit.protocol.endpoints import Operation
from ocpikit.protocol.ports import (
    ObjectKey,
    Partner,
    Storage,
    StoredObject,
    WireEntry,
)

__all__ = [
    "UNSET",
    "Call",
    "Handler",
    "OwnParty",
    "Reply",
    "Services",
    "check_owner",
    "dump_version",
    "head_to_version",
    "last_updated_of",
    "load_head",
    "load_patch",
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


@dataclass(slots=True)
class Reply:
    """What the handler answers: ``data`` (JSON-ready) or ``raw_data`` (serialized JSON of the
    data, e.g. a page of cached wire bytes), the HTTP status and extra headers."""

    data: Any = UNSET
    raw_data: bytes | None = None
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
        obj = model.model_validate(body)
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


def head_to_version(document: Mapping[str, Any], version: Version, name: str) -> dict[str, Any]:
    """The JSON form of a head document in ``version``."""
    if version == HEAD:
        return dict(document)
    model, _losses = from_head(dict(document), version, name)
    out: dict[str, Any] = model.dump()
    return out


def dump_version(document: Mapping[str, Any], version: Version, name: str) -> bytes:
    if version == HEAD:
        return orjson.dumps(document)
    model, _losses = from_head(dict(document), version, name)
    out: bytes = model.dump_json()
    return out


def wire_of(stored: StoredObject, version: Version, name: str) -> bytes:
    """Wire bytes of a stored object in ``version`` (the cache when filled)."""
    if stored.wire is not None:
        return stored.wire
    if version == HEAD:
        return stored.raw
    return dump_version(stored.document, version, name)


async def serve_object(
    services: Services, stored: StoredObject, version: Version, name: str
) -> bytes:
    """Wire bytes of one object, filling the per-version cache on a miss."""
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
    """A partner may only write objects of the parties it registered with (DIGEST §1.8)."""
    partner = call.partner
    if partner is None:
        raise NotFound("No partner")
    for role in partner.roles:
        if ci_equal(role.country_code, country_code) and ci_equal(role.party_id, party_id):
            return
    raise NotFound(
        f"{country_code}/{party_id} is not a party you registered with; "
        "you may only write your own objects"
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
