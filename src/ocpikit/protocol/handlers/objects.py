"""Generic handlers for the object modules: a Sender's paginated GET list and a Receiver's
GET/PUT/PATCH/DELETE of client-owned objects, with the nested objects of Locations (EVSE,
Connector) and of BookingLocations (Calendar) (DIGEST §1.6, §1.8, §1.9, §3.1-§3.5, §3.10).

Module specifics are data (:class:`Kind`): the head object name, the URL id parameter, the id
field, and how a PATCH of a list field merges (Sessions append ``charging_periods``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import orjson

from ocpikit.core import patch as core_patch
from ocpikit.core.errors import InvalidOrMissingParameters, NotFound
from ocpikit.core.pagination import PageParams, make_page
from ocpikit.core.types import ci_equal, format_datetime
from ocpikit.core.versions import HEAD, V2_2_1, Version
from ocpikit.models import OBJECTS
from ocpikit.protocol.handlers.base import (
    Call,
    Reply,
    Services,
    check_body_ids,
    check_owner,
    dump_version,
    embeds_location,
    find,
    head_to_version,
    last_updated_of,
    load_head,
    load_patch,
    location_lookup,
    object_key,
    partner_body,
    serve_object,
    wire_of,
)
from ocpikit.protocol.id_case import case_conflict, compares_case
from ocpikit.protocol.ports import (
    ObjectKey,
    PatchPlan,
    ReplaceDocument,
    SetFields,
    StoredObject,
    WireEntry,
)
from ocpikit.protocol.webhooks import event_sink

log = logging.getLogger("ocpikit.server")

__all__ = [
    "KINDS",
    "NESTED",
    "Kind",
    "Nested",
    "get_object",
    "list_objects",
    "merge_patch",
    "patch_object",
    "put_object",
]


@dataclass(frozen=True, slots=True)
class Kind:
    """How one module's main object is addressed."""

    name: str  # head object name
    param: str  # URL parameter holding the id
    id_field: str = "id"
    append_lists: tuple[str, ...] = ()  # PATCH appends these lists (Sessions, 2.2+)
    owner_fields: bool = True  # body carries country_code/party_id (2.2+)


KINDS: Mapping[str, Kind] = {
    "locations": Kind("Location", "location_id"),
    "sessions": Kind("Session", "session_id", append_lists=("charging_periods",)),
    "cdrs": Kind("CDR", "cdr_id"),
    "tariffs": Kind("Tariff", "tariff_id"),
    "tokens": Kind("Token", "token_uid", id_field="uid"),
    "booking": Kind("Booking", "booking_id"),
    "booking_location": Kind("BookingLocation", "booking_location_id"),
    "invoicereconciliation": Kind("InvoiceReconciliationRecord", "record_id"),
}


@dataclass(frozen=True, slots=True)
class Nested:
    """An object inside another one: EVSE in Location, Connector in EVSE, Calendar in
    BookingLocation. ``chain`` is ``(list field, id field, URL param)`` from the top object."""

    name: str
    top: Kind
    chain: tuple[tuple[str, str, str], ...]


NESTED: Mapping[str, Nested] = {
    "evse": Nested("EVSE", KINDS["locations"], (("evses", "uid", "evse_uid"),)),
    "connector": Nested(
        "Connector",
        KINDS["locations"],
        (("evses", "uid", "evse_uid"), ("connectors", "id", "connector_id")),
    ),
    "calendar": Nested(
        "Calendar", KINDS["booking_location"], (("calendars", "id", "calendar_id"),)
    ),
}


def token_key_id(uid: str, token_type: str | None) -> str:
    """Tokens are unique by ``(uid, type)`` (DIGEST §1.8); RFID is the default type."""
    if not token_type or token_type.upper() == "RFID":
        return uid
    return f"{uid}#{token_type.upper()}"


def _key_id(kind: Kind, call: Call, doc: Mapping[str, Any] | None = None) -> str:
    ident = call.params[kind.param]
    if kind.name == "Token":
        token_type = call.query.get("type") or (doc or {}).get("type")
        return token_key_id(ident, str(token_type) if token_type else None)
    return ident


# --- Sender: GET list ------------------------------------------------------------------------
async def list_objects(
    call: Call, services: Services, name: str, *, require_date_from: bool = False
) -> Reply:
    """A page of our own objects of the addressed party, in the caller's version."""
    params = PageParams.from_query(call.query, require_date_from=require_date_from)
    if embeds_location(call.version, name):
        return await _list_with_locations(call, services, name, params)
    head = call.version == HEAD
    page = await services.storage.objects.list_wire(
        name,
        offset=params.offset,
        limit=params.limit,
        date_from=params.date_from,
        date_to=params.date_to,
        owner=None,
        country_code=None if call.party.sole else call.party.country_code,
        party_id=None if call.party.sole else call.party.party_id,
        version=None if head else call.version.text,
    )
    chunks = (
        cast("list[bytes]", page.items)
        if page.wire
        else [item for item in page.items if item.__class__ is bytes]
    )
    if len(chunks) < len(page.items):  # some are not in the wire cache yet
        chunks = []
        fresh: list[WireEntry] = []
        for item in page.items:
            if isinstance(item, bytes):
                chunks.append(item)
                continue
            body = _expressed(item, call.version, name, lambda o: wire_of(o, call.version, name))
            if body is None:
                continue
            if not head:
                fresh.append(WireEntry(item.key, item.revision, call.version.text, body))
            chunks.append(body)
        if fresh:
            await services.storage.objects.store_wire(fresh)
    meta = make_page(page.items, params=params, total_count=page.total, url=call.url)
    return Reply(raw_items=chunks, headers=meta.headers())


async def _list_with_locations(
    call: Call, services: Services, name: str, params: PageParams
) -> Reply:
    """A page of 2.1.1 Sessions/CDRs: each embeds its Location, so the page's distinct
    Locations are read first (one ``get`` each) and the objects are converted with them. These
    bytes are neither read from nor written to the wire cache (they change with the Location;
    see :mod:`ocpikit.protocol.handlers.base`)."""
    page = await services.storage.objects.list_page(
        name,
        offset=params.offset,
        limit=params.limit,
        date_from=params.date_from,
        date_to=params.date_to,
        owner=None,
        country_code=None if call.party.sole else call.party.country_code,
        party_id=None if call.party.sole else call.party.party_id,
    )
    lookup = await location_lookup(
        services.storage.objects, (item.document for item in page.items), owner=None
    )
    converted = (
        _expressed(
            item,
            call.version,
            name,
            lambda o: dump_version(o.document, call.version, name, lookup=lookup),
        )
        for item in page.items
    )
    chunks = [body for body in converted if body is not None]
    meta = make_page(page.items, params=params, total_count=page.total, url=call.url)
    return Reply(raw_items=chunks, headers=meta.headers())


def _expressed(
    item: StoredObject, version: Version, name: str, convert: Callable[[StoredObject], bytes]
) -> bytes | None:
    """``convert(item)``, or None (logged) when the object cannot be expressed in ``version``
    (e.g. a 2.3.0 connector standard that 2.2.1 lacks): it is left out of that partner's page
    instead of failing the page. Offsets and ``X-Total-Count`` still count it, so the next
    page starts at the right place (transport_and_format §Pagination)."""
    try:
        return convert(item)
    except ValueError as exc:
        first = str(exc).strip().splitlines()
        log.warning(
            "%s %s/%s/%s cannot be expressed in OCPI %s, left out of the page: %s",
            name,
            item.key.country_code,
            item.key.party_id,
            item.key.id,
            version,
            " ".join(first[:3]),
        )
        return None


#: webhook event emitted after a partner's successful PUT/PATCH of one of these objects
_RECEIVED_EVENTS: Mapping[str, str] = {
    "Session": "session.received",
    "Token": "token.received",
}


async def _received(
    services: Services, call: Call, name: str, head: Mapping[str, Any] | StoredObject
) -> None:
    """The ``*.received`` event of ``head`` (a stored object's document is only parsed when
    there is an event sink to give it to)."""
    event = _RECEIVED_EVENTS.get(name)
    send = event_sink(services.decisions) if event is not None else None
    if send is None:
        return
    data = head.document if isinstance(head, StoredObject) else head
    await send(event, data, partner_id=_partner_id(call))


# --- Receiver: client-owned objects ------------------------------------------------------------
async def get_object(call: Call, services: Services, kind: Kind) -> Reply:
    cc, pid = call.params["country_code"], call.params["party_id"]
    check_owner(call, cc, pid)
    stored = await services.storage.objects.get(
        object_key(kind.name, cc, pid, _key_id(kind, call)), version=call.version.text
    )
    if stored is None or stored.owner != _partner_id(call) or _other_case(call, kind, stored):
        raise NotFound(f"Unknown {kind.name} {call.params[kind.param]!r}")
    return Reply(raw_data=await serve_object(services, stored, call.version, kind.name))


def _partner_id(call: Call) -> str | None:
    return call.partner.id if call.partner is not None else None


def _other_case(call: Call, kind: Kind, stored: StoredObject | None) -> bool:
    """Whether ``stored`` is, for a connection comparing ids case-sensitively
    (:mod:`ocpikit.protocol.id_case`), another object than the URL's id names."""
    if stored is None or not compares_case(call.partner):
        return False
    return case_conflict(kind.name, stored.document, call.params[kind.param]) is not None


async def _refuse_other_case(call: Call, services: Services, kind: Kind, key: ObjectKey) -> None:
    """A PUT from a connection comparing ids case-sensitively must not overwrite an object
    whose id differs only in case (the hub holds them as two objects): 2001 naming the id."""
    if not compares_case(call.partner):
        return
    url_id = call.params[kind.param]
    sent = call.body.get(kind.id_field) if isinstance(call.body, dict) else None
    if sent is not None and sent != url_id:
        raise InvalidOrMissingParameters(
            f"{kind.id_field}: {sent!r} differs from the URL ({url_id!r}); this connection's "
            "ids are case-sensitive",
            path=kind.id_field,
        )
    stored = await services.storage.objects.get(key)
    other = case_conflict(kind.name, stored.document, url_id) if stored is not None else None
    if other is not None:
        raise InvalidOrMissingParameters(
            f"{kind.id_field}: {url_id!r} differs only in case from the stored {other!r}; this "
            "connection's ids are case-sensitive (switch case_sensitive_ids) and ocpikit keeps "
            "one object per id whatever its case, so it refuses to merge them",
            path=kind.id_field,
        )


async def put_object(call: Call, services: Services, kind: Kind) -> Reply:
    cc, pid = call.params["country_code"], call.params["party_id"]
    check_owner(call, cc, pid)
    body = partner_body(call, kind.name, call.body)
    head = load_head(call.version, kind.name, body, country_code=cc, party_id=pid)
    check_body_ids(
        call, head, kind.id_field, call.params[kind.param], owner_fields=kind.owner_fields
    )
    if call.version < V2_2_1 and kind.owner_fields:
        # 2.1.1 objects carry no owner: the URL says it (DIGEST §1.8)
        head["country_code"], head["party_id"] = cc, pid
    key = object_key(kind.name, cc, pid, _key_id(kind, call, head))
    await _refuse_other_case(call, services, kind, key)
    now = services.clock.now()
    stored = await services.storage.objects.put(
        key,
        orjson.dumps(head),
        last_updated=last_updated_of(head, now),
        owner=_partner_id(call),
    )
    if call.partner is not None:
        await services.learner.saw(services.storage.parties, call.partner, cc, pid, kind.name)
    await _received(services, call, kind.name, head)
    return Reply(http_status=201 if stored.created else 200)


def merge_patch(
    current: Mapping[str, Any], patch: Mapping[str, Any], append: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Apply a PATCH with the rules of :mod:`ocpikit.core.patch` (DIGEST §1.9): objects merge,
    lists are replaced except ``append`` lists (Sessions ``charging_periods``), ``null`` sets."""
    return core_patch.merge_patch(current, patch, append=frozenset(append))


def _patch_in_place(name: str, patch: Mapping[str, Any], append: tuple[str, ...]) -> bool:
    """Whether a validated PATCH (:func:`load_patch`) of head object ``name`` can be merged into
    a stored (valid) document without validating the merge: no ``null`` (it may clear a
    required field), no object (objects merge field by field, so the part sent was not checked
    as a whole) and every field one that :meth:`OcpiModel.patch_in_place` allows."""
    model = OBJECTS.get(HEAD.text, {}).get(name)
    if model is None:
        return False
    for field, value in patch.items():
        if value is None or isinstance(value, dict):
            return False
        if not model.patch_in_place(field, appended=field in append):
            return False
    return True


async def patch_object(call: Call, services: Services, kind: Kind) -> Reply:
    cc, pid = call.params["country_code"], call.params["party_id"]
    check_owner(call, cc, pid)
    patch = load_patch(call.version, kind.name, call.body)
    key = object_key(kind.name, cc, pid, _key_id(kind, call))
    if compares_case(call.partner) and _other_case(
        call, kind, await services.storage.objects.get(key)
    ):
        raise NotFound(f"Unknown {kind.name} {call.params[kind.param]!r}")
    # ownership is checked in the same transaction as the merge (no read of our own first)
    result = await services.storage.objects.patch(
        key, patch_plan_of(call, services, kind, patch), owner=_partner_id(call)
    )
    if result is None:
        raise NotFound(f"Unknown {kind.name} {call.params[kind.param]!r}")
    await _received(services, call, kind.name, result)
    return Reply()


def patch_plan_of(
    call: Call, services: Services, kind: Kind, patch: Mapping[str, Any]
) -> PatchPlan:
    """The one decision of how a validated PATCH (:func:`load_patch`) changes the stored
    object (OCPI 2.2.1 transport §PATCH; DIGEST §1.9): :class:`SetFields` when it is a head
    version PATCH of plain top-level values with ``last_updated`` (the store may merge them
    without reading the document into Python; the ids they carry are checked here, the stored
    ones match the URL already), else :class:`ReplaceDocument` with the PATCH rules' merge.
    Both give the same document: ``SetFields.apply`` is what the merge computes for them."""
    cc, pid = call.params["country_code"], call.params["party_id"]
    append = kind.append_lists if call.version >= V2_2_1 else ()
    in_place = call.version == HEAD and _patch_in_place(kind.name, patch, append)
    if (
        in_place
        and isinstance(patch.get("last_updated"), str)
        and not any(f in patch for f in append)
    ):
        url_ids = {kind.id_field: call.params[kind.param], "country_code": cc, "party_id": pid}
        check_body_ids(
            call,
            {**url_ids, **patch},
            kind.id_field,
            call.params[kind.param],
            owner_fields=kind.owner_fields,
        )
        return SetFields(patch)

    def merge(current: Mapping[str, Any]) -> Mapping[str, Any]:
        if in_place:
            # the stored head document is valid and each value sent was validated with its
            # field's type: the merge is valid as it is (no whole-object validation and dump)
            head = merge_patch(current, patch, append)
        else:
            in_version = head_to_version(current, call.version, kind.name)
            merged = merge_patch(in_version, patch, append)
            head = load_head(call.version, kind.name, merged, country_code=cc, party_id=pid)
        check_body_ids(
            call, head, kind.id_field, call.params[kind.param], owner_fields=kind.owner_fields
        )
        if call.version < V2_2_1 and kind.owner_fields:
            head["country_code"], head["party_id"] = cc, pid
        if "last_updated" not in patch:
            head["last_updated"] = format_datetime(services.clock.now())
        return head

    return ReplaceDocument(merge)


async def delete_object(call: Call, services: Services, kind: Kind) -> Reply:
    cc, pid = call.params["country_code"], call.params["party_id"]
    check_owner(call, cc, pid)
    key = object_key(kind.name, cc, pid, _key_id(kind, call))
    existing = await services.storage.objects.get(key)
    if existing is None or existing.owner != _partner_id(call) or _other_case(call, kind, existing):
        raise NotFound(f"Unknown {kind.name} {call.params[kind.param]!r}")
    await services.storage.objects.delete(key)
    return Reply()


# --- nested objects (EVSE, Connector, Calendar) ------------------------------------------------
def _descend(doc: dict[str, Any], nested: Nested, call: Call) -> tuple[list[Any], int]:
    """The list holding the addressed nested object and its index (-1: not there). Every
    parent on the way must exist (404 otherwise)."""
    node: dict[str, Any] = doc
    for depth, (list_field, id_field, param) in enumerate(nested.chain):
        items = node.get(list_field)
        if not isinstance(items, list):
            items = []
            node[list_field] = items
        idx = find(items, id_field, call.params[param])
        if depth == len(nested.chain) - 1:
            return items, idx
        if idx < 0:
            raise NotFound(f"Unknown {param} {call.params[param]!r}")
        node = items[idx]
    raise AssertionError("unreachable")


def _nested_in(doc: Mapping[str, Any], nested: Nested, call: Call) -> Any:
    node: Any = doc
    for list_field, id_field, param in nested.chain:
        items = node.get(list_field) if isinstance(node, dict) else None
        idx = find(items or [], id_field, call.params[param])
        if idx < 0:
            raise NotFound(f"Unknown {param} {call.params[param]!r}")
        node = items[idx] if items else None
    return node


async def get_nested(call: Call, services: Services, nested: Nested, *, own: bool) -> Reply:
    """GET of an EVSE/Connector/Calendar: from our own objects (Sender, ``own``) or from what
    the calling partner pushed (Receiver)."""
    top = nested.top
    if own:
        key = object_key(
            top.name, call.party.country_code, call.party.party_id, call.params[top.param]
        )
    else:
        cc, pid = call.params["country_code"], call.params["party_id"]
        check_owner(call, cc, pid)
        key = object_key(top.name, cc, pid, call.params[top.param])
    stored = await services.storage.objects.get(key)
    expected_owner = None if own else _partner_id(call)
    if (
        stored is None
        or stored.owner != expected_owner
        or (not own and _other_case(call, top, stored))
    ):
        raise NotFound(f"Unknown {top.name} {call.params[top.param]!r}")
    in_version = head_to_version(stored.document, call.version, top.name)
    return Reply(data=_nested_in(in_version, nested, call))


async def write_nested(call: Call, services: Services, nested: Nested, *, patch: bool) -> Reply:
    """PUT/PATCH of an EVSE/Connector/Calendar inside a partner's object; the parent's
    ``last_updated`` follows the child's (DIGEST §1.9)."""
    top = nested.top
    cc, pid = call.params["country_code"], call.params["party_id"]
    check_owner(call, cc, pid)
    key = object_key(top.name, cc, pid, call.params[top.param])
    existing = await services.storage.objects.get(key)
    if existing is None or existing.owner != _partner_id(call) or _other_case(call, top, existing):
        raise NotFound(f"Unknown {top.name} {call.params[top.param]!r}")
    version: Version = call.version
    body = load_patch(version, nested.name, call.body) if patch else call.body
    if not patch:
        # validate the child alone first: precise 2001 paths relative to the child
        load_head(version, nested.name, body, country_code=cc, party_id=pid)
    id_field, param = nested.chain[-1][1], nested.chain[-1][2]

    def merge(current: Mapping[str, Any]) -> Mapping[str, Any]:
        doc = head_to_version(current, version, top.name)
        items, idx = _descend(doc, nested, call)
        if patch:
            if idx < 0:
                raise NotFound(f"Unknown {param} {call.params[param]!r}")
            items[idx] = merge_patch(items[idx], body)
        elif idx < 0:
            items.append(body)
            idx = len(items) - 1
        else:
            items[idx] = body
        child = items[idx]
        if not ci_equal(str(child.get(id_field, "")), call.params[param]):
            raise InvalidOrMissingParameters(
                f"{id_field}: differs from the URL ({call.params[param]!r})", path=id_field
            )
        stamp = child.get("last_updated")
        if isinstance(stamp, str):
            doc["last_updated"] = stamp
            if len(nested.chain) == 2:  # a Connector also bumps its EVSE
                evse_idx = find(doc.get("evses") or [], "uid", call.params["evse_uid"])
                if evse_idx >= 0:
                    doc["evses"][evse_idx]["last_updated"] = stamp
        else:
            doc["last_updated"] = format_datetime(services.clock.now())
        return load_head(version, top.name, doc, country_code=cc, party_id=pid)

    await services.storage.objects.patch(key, merge)
    return Reply()
