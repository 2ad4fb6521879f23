"""Objects in a partner's version: what we pull is read into head documents, what we push is
written in the partner's version (DESIGN §2: versions at the edge; OCPI 2.2.1
``transport_and_format`` §GET: the correct objects of a page are processed even when others
are not). Pure: the module clients hand JSON in and get head documents or wire bytes out.

Invariants:

- An object of the partner's version is validated by that version's model and converted to
  head (2.3.0) with :mod:`ocpikit.convert`; a head-version partner's objects are validated only.
- 2.1.1 objects carry no owner: it comes from the partner's first role (the credentials).
- An invalid object of a page is a :class:`SkippedObject` (its position, id when readable and
  the problems); the rest of the page is still read.
- The storage key of a Token is its ``uid`` plus its type, as the server keys it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from ocpikit.convert import Context, convert, from_head, to_head
from ocpikit.core.clock import Clock
from ocpikit.core.errors import RemoteProtocolError, validation_problems
from ocpikit.core.types import parse_datetime
from ocpikit.core.versions import HEAD, V2_2_1, Version
from ocpikit.models import model_for
from ocpikit.protocol.handlers.base import Lookups
from ocpikit.protocol.handlers.objects import token_key_id
from ocpikit.protocol.ports import ObjectKey, PartyRole
from ocpikit.protocol.profiles import read_with_placeholders

__all__ = [
    "InvalidObject",
    "PartnerObjects",
    "PulledObject",
    "PulledPage",
    "SkippedObject",
    "object_key_of",
]


@dataclass(frozen=True, slots=True)
class PulledObject:
    """One valid object of a page, as head document, with its storage key."""

    key: ObjectKey
    head: dict[str, Any]
    last_updated: datetime


@dataclass(frozen=True, slots=True)
class SkippedObject:
    """One invalid object of a page: its position, id (when readable) and the problems."""

    index: int
    id: str | None
    problems: tuple[str, ...]
    #: the object as the partner sent it (for a switch that may repair it, e.g.
    #: :mod:`ocpikit.protocol.cdr_evse_uid`)
    raw: Any = None


@dataclass(frozen=True, slots=True)
class PulledPage:
    """One page of a partner's list: its URL, valid and skipped objects, the partner's
    ``X-Total-Count`` and the URL of the next page (``None`` on the last)."""

    url: str
    items: list[PulledObject]
    skipped: list[SkippedObject]
    total_count: int | None
    next_url: str | None


class InvalidObject(Exception):
    """An object of the partner that does not validate; ``problems`` name the fields."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def object_key_of(kind: str, head: Mapping[str, Any]) -> ObjectKey:
    """The storage key of a head document (Tokens: ``uid`` plus the type, as the server does)."""
    if kind == "Token":
        ident = token_key_id(str(head.get("uid", "")), _str_or_none(head.get("type")))
    elif kind == "ClientInfo":
        ident = f"{head.get('country_code', '')}-{head.get('party_id', '')}"
    else:
        ident = str(head.get("id", ""))
    return ObjectKey(kind, str(head.get("country_code", "")), str(head.get("party_id", "")), ident)


def _str_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class PartnerObjects:
    """Reading and writing objects in ``version`` for a partner with ``roles``."""

    version: Version
    roles: tuple[PartyRole, ...]
    clock: Clock
    #: the partner sends ``"-"`` for fields it does not know (the ``dash_placeholders`` switch)
    placeholders: bool = False

    def context(self) -> Context:
        """The conversion context: the partner's first role as owner, the clock's now."""
        cc = pid = None
        if self.roles:
            cc, pid = self.roles[0].country_code, self.roles[0].party_id
        return Context(country_code=cc, party_id=pid, now=self.clock.now())

    # --- reading ---------------------------------------------------------------------------
    def to_head(self, kind: str, raw: Any) -> dict[str, Any]:
        """One object of the partner's version as a head document; :class:`InvalidObject`
        (with the problems) when it does not validate."""
        if not isinstance(raw, dict):
            raise InvalidObject(("(root): not a JSON object",))
        try:
            validate = model_for(self.version, kind).model_validate
            if self.placeholders:
                model = read_with_placeholders(validate, raw, where=f"pulled {kind}")
            else:
                model = validate(raw)
            if self.version == HEAD:
                head: dict[str, Any] = model.dump()
            else:
                converted, _losses = to_head(model, self.version, kind, self.context())
                head = converted.dump()
        except ValidationError as exc:
            raise InvalidObject(tuple(validation_problems(exc))) from None
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidObject((f"(root): {exc}",)) from None
        if self.version < V2_2_1 and self.roles:
            head.setdefault("country_code", self.roles[0].country_code)
            head.setdefault("party_id", self.roles[0].party_id)
        return head

    def data_to_head(self, kind: str | None, data: Any) -> dict[str, Any]:
        """The ``data`` of a one-object answer in head form (as is when ``kind`` is None); an
        invalid object is the partner's :class:`~ocpikit.core.errors.RemoteProtocolError`."""
        if not isinstance(data, dict):
            raise RemoteProtocolError("data is not a JSON object")
        if kind is None:
            return data
        try:
            return self.to_head(kind, data)
        except InvalidObject as bad:
            raise RemoteProtocolError(f"invalid {kind}: " + "; ".join(bad.problems)) from None

    def page_items(
        self, kind: str, data: Sequence[Any]
    ) -> tuple[list[PulledObject], list[SkippedObject]]:
        """The valid objects of a page and the skipped ones, in page order."""
        items: list[PulledObject] = []
        skipped: list[SkippedObject] = []
        for index, raw in enumerate(data):
            try:
                head = self.to_head(kind, raw)
                stamp = head.get("last_updated")
                last_updated = parse_datetime(stamp) if isinstance(stamp, str) else self.clock.now()
            except InvalidObject as bad:
                ident = raw.get("id") or raw.get("uid") if isinstance(raw, dict) else None
                skipped.append(SkippedObject(index, _str_or_none(ident), bad.problems, raw))
                continue
            items.append(PulledObject(object_key_of(kind, head), head, last_updated))
        return items, skipped

    def up(self, body: dict[str, Any], name: str, *, with_context: bool = True) -> dict[str, Any]:
        """A partial document ``name`` of the partner's version in head form (no model
        validation: answers such as AuthorizationInfo or CommandResponse)."""
        if self.version == HEAD:
            return body
        ctx = self.context() if with_context else None
        converted, _losses = convert(body, name, self.version, HEAD, ctx)
        return converted

    # --- writing ---------------------------------------------------------------------------
    def down(self, body: dict[str, Any], name: str, *, with_context: bool = True) -> dict[str, Any]:
        """A partial head document ``name`` in the partner's version (PATCH bodies, command
        requests, results)."""
        if self.version == HEAD:
            return body
        ctx = self.context() if with_context else None
        converted, _losses = convert(body, name, HEAD, self.version, ctx)
        return converted

    def wire(self, kind: str, head: Mapping[str, Any], *, lookup: Lookups | None = None) -> bytes:
        """Wire bytes of a head document in the partner's version. ``lookup``: the converter
        lookups (``{"location": ...}``, :func:`~ocpikit.protocol.handlers.base.location_lookup`),
        which a 2.1.1 Session or CDR needs to embed its real Location (without it the converter
        embeds a placeholder Location and reports the loss)."""
        if self.version == HEAD:
            return orjson.dumps(dict(head))
        ctx = Context(now=self.clock.now(), lookup=dict(lookup)) if lookup else None
        model, _losses = from_head(dict(head), self.version, kind, ctx)
        out: bytes = model.dump_json()
        return out
