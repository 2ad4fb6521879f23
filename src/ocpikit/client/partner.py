"""The partner client: every module call we make to a registered partner, over httpx, in the
partner's negotiated version (DIGEST §1, §3; DESIGN §1 "client/").

- **Auth** (DIGEST §1.1): ``Authorization: Token ...`` with the token the partner gave us, raw or
  Base64 per the ``encode_auth`` switch (default from the version). On a 401 the call is retried
  once with the other encoding (switch ``auth_retry``); when that works the choice is reported to
  ``on_auth_learned`` so it can be persisted in the partner's settings.
- **Headers** (DIGEST §1.7): a fresh ``X-Request-ID`` and a ``X-Correlation-ID`` (new, or the one
  given) on 2.2+; ``OCPI-from/to-*`` on functional modules in 2.2+ (from = our party the partner
  registered with, to = the partner's party).
- **Errors** (DESIGN §6): transport failures become :class:`~ocpikit.core.errors.TransportError`
  (the httpx exception chained); 429/503 become :class:`PartnerBusy` with the ``Retry-After``
  delay; bodies that are not an envelope become :class:`PartnerHttpError`; error envelopes become
  the :class:`~ocpikit.core.errors.PartnerError` of their status code.
- **Objects** go out and come back as head documents: the client converts with
  :mod:`ocpikit.convert` at the edge. 2.1.1 objects carry no owner; it comes from the partner's
  credentials (or the URL).
- **Pulls** are async iterators (:meth:`PartnerClient.pages`, :meth:`PartnerClient.pull`) that
  follow ``Link: rel="next"`` one page at a time. Invalid objects of a page are reported as
  :class:`SkippedObject` (and logged) while the rest is processed (``transport_and_format``
  §GET: "should at least process the correct OCPI objects").

Tokens never appear in logs or exception messages.
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urljoin, urlsplit

import httpx
import orjson
from pydantic import ValidationError

from ocpikit.convert import Context, convert, from_head, to_head
from ocpikit.core.auth import authorization_header, encode_by_default
from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.envelope import Envelope, parse_envelope
from ocpikit.core.errors import (
    LocalError,
    RemoteError,
    RemoteProtocolError,
    TransportError,
    validation_problems,
)
from ocpikit.core.headers import (
    MessageIds,
    PartyRef,
    RoutingHeaders,
    carries_routing_headers,
    new_id,
)
from ocpikit.core.pagination import PageHeaders, next_page_url
from ocpikit.core.types import format_datetime, parse_datetime
from ocpikit.core.versions import HEAD, V2_2_1, InterfaceRole, Version
from ocpikit.models import model_for
from ocpikit.protocol.endpoints import INTERFACES
from ocpikit.protocol.handlers.base import Lookups
from ocpikit.protocol.handlers.objects import token_key_id
from ocpikit.protocol.ports import ObjectKey, Partner

from .http import exchange
from .policy import PartnerSwitches

__all__ = [
    "MODULE_OBJECTS",
    "NoEndpoint",
    "PartnerBusy",
    "PartnerClient",
    "PartnerHttpError",
    "PulledObject",
    "PulledPage",
    "SkippedObject",
    "object_key_of",
    "parse_retry_after",
]

log = logging.getLogger("ocpikit.client")

#: module identifier -> head object name of its list/push objects
MODULE_OBJECTS: Mapping[str, str] = {
    "locations": "Location",
    "sessions": "Session",
    "cdrs": "CDR",
    "tariffs": "Tariff",
    "tokens": "Token",
    "hubclientinfo": "ClientInfo",
}
_MODULE_OF_KIND = {v: k for k, v in MODULE_OBJECTS.items()}

_EPOCH = parse_datetime("1970-01-01T00:00:00Z")


# --- errors ------------------------------------------------------------------------------------
class NoEndpoint(LocalError):
    """The partner announced no endpoint for this module and interface; nothing was sent."""

    default_status_code = 3003
    default_message = "The partner has no such endpoint"


class PartnerBusy(RemoteError):
    """HTTP 429 or 503: the partner asks us to come back later (``retry_after`` seconds when it
    said so with ``Retry-After``)."""

    default_message = "The partner is busy or unavailable"

    def __init__(
        self, message: str | None = None, *, partner_http_status: int, retry_after: float | None
    ) -> None:
        self.partner_http_status = partner_http_status
        self.retry_after = retry_after
        super().__init__(message)


class PartnerHttpError(RemoteProtocolError):
    """An answer that is not an OCPI envelope (an HTML error page, an empty 500, a proxy's
    text); ``partner_http_status`` is the HTTP status it came with."""

    def __init__(self, message: str | None = None, *, partner_http_status: int) -> None:
        self.partner_http_status = partner_http_status
        super().__init__(message)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110
    §10.2.3); ``None`` when absent or unreadable, never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


# --- pulled objects ----------------------------------------------------------------------------
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


@dataclass(frozen=True, slots=True)
class PulledPage:
    url: str
    items: list[PulledObject]
    skipped: list[SkippedObject]
    total_count: int | None
    next_url: str | None


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


def _join(base: str, *segments: str) -> str:
    """``base`` + segments, joined with exactly one ``/`` and percent-encoded (DIGEST §3.0)."""
    return "/".join([base.rstrip("/"), *(quote(s, safe="") for s in segments)])


@dataclass(slots=True)
class _Reply:
    response: httpx.Response
    envelope: Envelope
    ids: MessageIds | None = None


@dataclass(slots=True)
class PartnerClient:
    """Calls to one partner. ``http`` is shared (connection pool); the client is cheap.

    ``on_auth_learned(partner_id, encode_auth)`` is awaited when a 401 retry found the right
    encoding (persist it: see :func:`ocpikit.client.sync.remember_auth`).
    """

    partner: Partner
    http: httpx.AsyncClient
    clock: Clock = SYSTEM_CLOCK
    on_auth_learned: Callable[[str, bool], Awaitable[None]] | None = None
    id_factory: Callable[[], str] = new_id
    switches: PartnerSwitches = field(init=False)
    version: Version = field(init=False)
    _encode: bool = field(init=False)
    _auth: dict[bool, str] = field(init=False, default_factory=dict)  # by encoding
    # per (module, role): the partner is frozen, so both are computed once per client
    _endpoints: dict[tuple[str, InterfaceRole], str] = field(init=False, default_factory=dict)
    _parties: dict[tuple[str, InterfaceRole], PartyRef | None] = field(
        init=False, default_factory=dict
    )

    SENDER: ClassVar[InterfaceRole] = InterfaceRole.SENDER
    RECEIVER: ClassVar[InterfaceRole] = InterfaceRole.RECEIVER

    def __post_init__(self) -> None:
        if not self.partner.version:
            raise NoEndpoint(f"partner {self.partner.id} has no negotiated version")
        if not self.partner.outbound_token:
            raise NoEndpoint(f"partner {self.partner.id} gave us no token")
        self.version = Version(self.partner.version)
        self.switches = PartnerSwitches.of(self.partner.settings)
        enc = self.switches.encode_auth
        self._encode = encode_by_default(self.version) if enc is None else enc

    # --- addressing ------------------------------------------------------------------------
    @property
    def encode_auth(self) -> bool:
        """The Authorization encoding currently used (True: Base64)."""
        return self._encode

    def has_endpoint(self, module: str, role: InterfaceRole) -> bool:
        try:
            self.endpoint(module, role)
        except NoEndpoint:
            return False
        return True

    def endpoint(self, module: str, role: InterfaceRole) -> str:
        """The partner's URL of ``module`` for interface ``role`` (2.1.1: no roles)."""
        known = self._endpoints.get((module, role))
        if known is not None:
            return known
        for e in self.partner.endpoints:
            if e.identifier.lower() == module.lower() and (
                e.role is None or e.role.upper() == role.value
            ):
                self._endpoints[module, role] = e.url
                return e.url
        raise NoEndpoint(f"partner {self.partner.id} offers no {module} {role.value.lower()}")

    def our_party(self) -> PartyRef | None:
        local = self.partner.local_party
        return PartyRef(*local) if local is not None else None

    def their_party(self, module: str, role: InterfaceRole) -> PartyRef | None:
        """The partner's party an interface belongs to: the first of its roles that implements
        it (DIGEST §3.0), else its first role."""
        try:
            return self._parties[module, role]
        except KeyError:
            party = self._parties[module, role] = self._their_party(module, role)
            return party

    def _their_party(self, module: str, role: InterfaceRole) -> PartyRef | None:
        if not self.partner.roles:
            return None
        wanted = {
            i.implemented_by.value for i in INTERFACES if i.module == module and i.role == role
        }
        for r in self.partner.roles:
            if r.role in wanted:
                return PartyRef(r.country_code, r.party_id)
        first = self.partner.roles[0]
        return PartyRef(first.country_code, first.party_id)

    def _context(self) -> Context:
        cc = pid = None
        if self.partner.roles:
            cc, pid = self.partner.roles[0].country_code, self.partner.roles[0].party_id
        return Context(country_code=cc, party_id=pid, now=self.clock.now())

    # --- the one request path ----------------------------------------------------------------
    async def request(
        self,
        method: str,
        url: str,
        *,
        module: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content: bytes | None = None,
        to_party: PartyRef | None = None,
        correlation_id: str | None = None,
    ) -> _Reply:
        """Send one OCPI request and return the HTTP response with its parsed success envelope.
        Raises the error tree's exceptions for everything else (module docstring)."""
        headers: dict[str, str] = {"Accept": "application/json"}
        ids: MessageIds | None = None
        if self.version >= V2_2_1:
            ids = MessageIds.new(correlation_id, factory=self.id_factory)
            headers.update(ids.to_headers())
            if carries_routing_headers(module, self.version):
                headers.update(
                    RoutingHeaders(from_party=self.our_party(), to_party=to_party).to_headers()
                )
        if body is not None and content is None:
            content = orjson.dumps(body)
        if content is not None:
            headers["Content-Type"] = "application/json"
        if params:
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(dict(params))}"
        token = self.partner.outbound_token or ""
        encodings = [self._encode]
        if self.switches.auth_retry:
            encodings.append(not self._encode)
        resp: httpx.Response | None = None
        for i, encode in enumerate(encodings):
            auth = self._auth.get(encode)
            if auth is None:
                auth = self._auth[encode] = authorization_header(token, base64_encode=encode)
            headers["Authorization"] = auth
            try:
                resp = await exchange(
                    self.http,
                    method,
                    url,
                    headers=headers,
                    content=content,
                    timeout=self.switches.timeout,
                )
            except httpx.HTTPError as exc:
                raise TransportError.wrap(exc, url=_safe_url(url)) from exc
            if resp.status_code != 401:
                if i > 0:
                    await self._learned(encode)
                break
        assert resp is not None
        return _Reply(resp, self._envelope(resp), ids)

    async def _learned(self, encode: bool) -> None:
        log.warning(
            "partner %s: Authorization %s worked after a 401 (switch encode_auth=%s)",
            self.partner.id,
            "Base64" if encode else "raw",
            str(encode).lower(),
        )
        self._encode = encode
        if self.on_auth_learned is not None:
            await self.on_auth_learned(self.partner.id, encode)

    def _envelope(self, resp: httpx.Response) -> Envelope:
        status = resp.status_code
        if status in (429, 503):
            raise PartnerBusy(
                f"HTTP {status} from the partner",
                partner_http_status=status,
                retry_after=parse_retry_after(resp.headers.get("retry-after"), self.clock.now()),
            )
        try:
            env = parse_envelope(resp.content)
        except RemoteProtocolError as exc:
            raise PartnerHttpError(
                f"HTTP {status} with a body that is not an OCPI envelope",
                partner_http_status=status,
            ) from exc
        if not env.is_success:
            raise env.to_error(status)
        if status >= 400:  # a success code on an HTTP error: trust HTTP
            raise PartnerHttpError(
                f"HTTP {status} with OCPI status {env.status_code}", partner_http_status=status
            )
        return env

    # --- Sender interfaces of the partner: pulls ---------------------------------------------
    async def pages(
        self,
        module: str,
        *,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
        url: str | None = None,
    ) -> AsyncIterator[PulledPage]:
        """Pages of the partner's Sender list of ``module``, following ``Link`` headers.

        Tolerated and logged: a missing ``Link`` while ``X-Total-Count`` says more objects follow
        (the next offset is computed), relative ``Link`` URLs. A page that repeats a URL or is
        empty ends the walk, so a broken partner cannot loop us forever.
        """
        kind = MODULE_OBJECTS.get(module)
        if kind is None:
            raise NoEndpoint(f"{module} has no list of objects")
        base = url or self.endpoint(module, self.SENDER)
        if module == "sessions" and date_from is None:
            date_from = _EPOCH  # required by every version (DIGEST §1.6)
        query: dict[str, str] = {}
        if offset:
            query["offset"] = str(offset)
        page_limit = limit or self.switches.page_limit
        if page_limit:
            query["limit"] = str(page_limit)
        if date_from is not None:
            query["date_from"] = format_datetime(date_from)
        if date_to is not None:
            query["date_to"] = format_datetime(date_to)
        next_url: str | None = (
            f"{base}{'&' if urlsplit(base).query else '?'}{urlencode(query)}" if query else base
        )
        to_party = self.their_party(module, self.SENDER)
        seen: set[str] = set()
        done = offset
        while next_url is not None and next_url not in seen:
            seen.add(next_url)
            reply = await self.request("GET", next_url, module=module, to_party=to_party)
            data = reply.envelope.data if reply.envelope.has_data else []
            if data is None:
                data = []
            if not isinstance(data, list):
                raise RemoteProtocolError(f"GET {module}: data is not a list")
            meta = PageHeaders.parse(reply.response.headers.items(), self.version)
            items, skipped = self._page_items(kind, data)
            done += len(data)
            follow = urljoin(next_url, meta.next_url) if meta.next_url else None
            if follow is None and data and meta.total_count is not None and done < meta.total_count:
                follow = next_page_url(next_url, offset=done, limit=meta.limit or len(data))
                log.warning(
                    "partner %s: GET %s page without Link although %d of %d objects seen; "
                    "continuing at offset %d",
                    self.partner.id,
                    module,
                    done,
                    meta.total_count,
                    done,
                )
            yield PulledPage(next_url, items, skipped, meta.total_count, follow)
            if not data:
                break
            next_url = follow

    def _page_items(
        self, kind: str, data: Sequence[Any]
    ) -> tuple[list[PulledObject], list[SkippedObject]]:
        items: list[PulledObject] = []
        skipped: list[SkippedObject] = []
        for index, raw in enumerate(data):
            try:
                head = self.to_head(kind, raw)
                stamp = head.get("last_updated")
                last_updated = parse_datetime(stamp) if isinstance(stamp, str) else self.clock.now()
            except _Invalid as bad:
                ident = raw.get("id") or raw.get("uid") if isinstance(raw, dict) else None
                skip = SkippedObject(index, _str_or_none(ident), bad.problems)
                log.warning(
                    "partner %s: skipped invalid %s #%d (id %s): %s",
                    self.partner.id,
                    kind,
                    index,
                    skip.id,
                    "; ".join(skip.problems),
                )
                skipped.append(skip)
                continue
            items.append(PulledObject(object_key_of(kind, head), head, last_updated))
        return items, skipped

    def to_head(self, kind: str, raw: Any) -> dict[str, Any]:
        """One object of the partner's version as a head document; :class:`_Invalid` (with the
        problems) when it does not validate."""
        if not isinstance(raw, dict):
            raise _Invalid(("(root): not a JSON object",))
        try:
            model = model_for(self.version, kind).model_validate(raw)
            if self.version == HEAD:
                head: dict[str, Any] = model.dump()
            else:
                converted, _losses = to_head(model, self.version, kind, self._context())
                head = converted.dump()
        except ValidationError as exc:
            raise _Invalid(tuple(validation_problems(exc))) from None
        except (KeyError, ValueError, TypeError) as exc:
            raise _Invalid((f"(root): {exc}",)) from None
        if self.version < V2_2_1 and self.partner.roles:
            head.setdefault("country_code", self.partner.roles[0].country_code)
            head.setdefault("party_id", self.partner.roles[0].party_id)
        return head

    async def pull(
        self,
        module: str,
        *,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[PulledObject]:
        """Every valid object of the partner's list, one at a time (pages fetched lazily)."""
        async for page in self.pages(module, date_from=date_from, date_to=date_to, limit=limit):
            for item in page.items:
                yield item

    async def get_sender_object(self, module: str, *ids: str) -> dict[str, Any]:
        """GET one object from the partner's Sender interface, e.g. ``("locations", "LOC1")``
        or ``("locations", "LOC1", "EVSE1")``; returned in head form for whole objects."""
        url = _join(self.endpoint(module, self.SENDER), *ids)
        reply = await self.request(
            "GET", url, module=module, to_party=self.their_party(module, self.SENDER)
        )
        data = reply.envelope.data
        kind = MODULE_OBJECTS.get(module)
        if module == "locations" and len(ids) == 2:
            kind = "EVSE"
        elif module == "locations" and len(ids) == 3:
            kind = "Connector"
        return self._data_to_head(kind, data)

    def _data_to_head(self, kind: str | None, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise RemoteProtocolError("data is not a JSON object")
        if kind is None:
            return data
        try:
            return self.to_head(kind, data)
        except _Invalid as bad:
            raise RemoteProtocolError(f"invalid {kind}: " + "; ".join(bad.problems)) from None

    # --- Receiver interfaces of the partner: pushes of our objects ---------------------------
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

    def object_url(self, kind: str, key: ObjectKey, token_type: str | None = None) -> str:
        """The partner's Receiver URL of a client-owned object (DIGEST §1.8)."""
        module = _MODULE_OF_KIND[kind]
        ident = key.id
        if kind == "Token" and "#" in ident:
            ident, _, token_type = ident.partition("#")
        url = _join(self.endpoint(module, self.RECEIVER), key.country_code, key.party_id, ident)
        if kind == "Token" and token_type and self.version >= V2_2_1:
            url += "?" + urlencode({"type": token_type})
        return url

    async def put_object(
        self,
        kind: str,
        key: ObjectKey,
        head: Mapping[str, Any] | None = None,
        *,
        wire: bytes | None = None,
        to_party: PartyRef | None = None,
        lookup: Lookups | None = None,
    ) -> int:
        """PUT one of our objects to the partner's Receiver; returns the HTTP status.
        ``wire``: bytes already in the partner's version (else ``head`` is converted, with
        ``lookup`` as in :meth:`wire`)."""
        module = _MODULE_OF_KIND[kind]
        content = wire if wire is not None else self.wire(kind, head or {}, lookup=lookup)
        reply = await self.request(
            "PUT",
            self.object_url(kind, key),
            module=module,
            content=content,
            to_party=to_party or self.their_party(module, self.RECEIVER),
        )
        return reply.response.status_code

    async def patch_object(self, kind: str, key: ObjectKey, patch: Mapping[str, Any]) -> int:
        """PATCH some fields of one of our objects (2.2+ requires ``last_updated``, DIGEST §1.9).
        ``patch`` is in head form; it is converted as a partial object."""
        module = _MODULE_OF_KIND[kind]
        body: dict[str, Any] = dict(patch)
        if self.version != HEAD:
            body, _losses = convert(body, kind, HEAD, self.version, self._context())
        if self.version >= V2_2_1 and "last_updated" not in body:
            body["last_updated"] = format_datetime(self.clock.now())
        reply = await self.request(
            "PATCH",
            self.object_url(kind, key),
            module=module,
            body=body,
            to_party=self.their_party(module, self.RECEIVER),
        )
        return reply.response.status_code

    async def delete_object(
        self, kind: str, key: ObjectKey, *, to_party: PartyRef | None = None
    ) -> int:
        """DELETE one of our objects at the partner (only Tariffs have it, DIGEST §3.4)."""
        module = _MODULE_OF_KIND[kind]
        reply = await self.request(
            "DELETE",
            self.object_url(kind, key),
            module=module,
            to_party=to_party or self.their_party(module, self.RECEIVER),
        )
        return reply.response.status_code

    async def get_pushed_object(self, kind: str, key: ObjectKey) -> dict[str, Any]:
        """GET our object as the partner's Receiver stored it (to check a push), head form."""
        module = _MODULE_OF_KIND[kind]
        reply = await self.request(
            "GET",
            self.object_url(kind, key),
            module=module,
            to_party=self.their_party(module, self.RECEIVER),
        )
        return self._data_to_head(kind, reply.envelope.data)

    async def post_cdr(
        self,
        head: Mapping[str, Any] | None = None,
        *,
        wire: bytes | None = None,
        to_party: PartyRef | None = None,
        lookup: Lookups | None = None,
    ) -> str | None:
        """POST a CDR to the partner's Receiver; returns the ``Location`` header (required by the
        spec; a missing one is logged, not fatal: the CDR arrived). ``lookup`` as in
        :meth:`wire`."""
        content = wire if wire is not None else self.wire("CDR", head or {}, lookup=lookup)
        reply = await self.request(
            "POST",
            self.endpoint("cdrs", self.RECEIVER),
            module="cdrs",
            content=content,
            to_party=to_party or self.their_party("cdrs", self.RECEIVER),
        )
        location: str | None = reply.response.headers.get("location")
        if not location:
            log.warning("partner %s: CDR POST answered without a Location header", self.partner.id)
        return location

    # --- tokens ---------------------------------------------------------------------------------
    async def authorize(
        self,
        token_uid: str,
        *,
        token_type: str | None = None,
        location: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Real-time authorization at the eMSP (``POST {tokens}/{uid}/authorize``, DIGEST §3.5).
        ``location`` is a head LocationReferences; returns the head AuthorizationInfo. An unknown
        token raises the partner's :class:`~ocpikit.core.errors.UnknownToken` (2004)."""
        url = _join(self.endpoint("tokens", self.SENDER), token_uid, "authorize")
        if token_type:
            url += "?" + urlencode({"type": token_type})
        body: dict[str, Any] | None = None
        if location is not None:
            body = dict(location)
            if self.version != HEAD:
                body, _ = convert(body, "LocationReferences", HEAD, self.version)
        reply = await self.request(
            "POST",
            url,
            module="tokens",
            content=orjson.dumps(body) if body is not None else b"",
            to_party=self.their_party("tokens", self.SENDER),
        )
        data = reply.envelope.data
        if not isinstance(data, dict):
            raise RemoteProtocolError("authorize: data is not an AuthorizationInfo")
        info: dict[str, Any] = data
        if self.version != HEAD:
            info, _ = convert(info, "AuthorizationInfo", self.version, HEAD, self._context())
        return info

    # --- commands -------------------------------------------------------------------------------
    async def send_command(
        self, command: str, request: Mapping[str, Any], *, correlation_id: str | None = None
    ) -> dict[str, Any]:
        """POST a command (START_SESSION, ...) to the CPO's Receiver; ``request`` is the head
        body (StartSession, ...) with its ``response_url``. Returns the head CommandResponse; a
        2.1.1 bare ``"ACCEPTED"`` is read as ``{"result": "ACCEPTED"}`` (DIGEST §3.6)."""
        name = _COMMAND_OBJECTS.get(command.upper())
        body = dict(request)
        if name is not None and self.version != HEAD:
            body, _ = convert(body, name, HEAD, self.version, self._context())
        reply = await self.request(
            "POST",
            _join(self.endpoint("commands", self.RECEIVER), command.upper()),
            module="commands",
            body=body,
            to_party=self.their_party("commands", self.RECEIVER),
            correlation_id=correlation_id,
        )
        data = reply.envelope.data
        if isinstance(data, str):
            data = {"result": data}
        if not isinstance(data, dict):
            raise RemoteProtocolError("command: data is not a CommandResponse")
        answer: dict[str, Any] = data
        if self.version != HEAD:
            answer, _ = convert(answer, "CommandResponse", self.version, HEAD)
        return answer

    async def post_result(
        self, response_url: str, result: Mapping[str, Any], *, module: str = "commands"
    ) -> None:
        """POST an asynchronous result to a ``response_url`` the partner gave us: a head
        CommandResult (commands) or a charging-profile result (``module="chargingprofiles"``)."""
        body = dict(result)
        if module == "commands" and self.version != HEAD:
            body, _ = convert(body, "CommandResult", HEAD, self.version)
            if self.version < V2_2_1:
                body = {"result": _RESULT_DOWN_211.get(str(body.get("result")), "REJECTED")}
        await self.request(
            "POST",
            response_url,
            module=module,
            body=body,
            to_party=self.their_party(module, self.SENDER),
        )

    # --- charging profiles (2.2+) ---------------------------------------------------------------
    async def set_charging_profile(
        self, session_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PUT a SetChargingProfile; returns the ChargingProfileResponse (DIGEST §3.7)."""
        return await self._profile("PUT", session_id, body=dict(request))

    async def get_active_profile(
        self, session_id: str, *, duration: int, response_url: str
    ) -> dict[str, Any]:
        return await self._profile(
            "GET", session_id, params={"duration": str(duration), "response_url": response_url}
        )

    async def clear_profile(self, session_id: str, *, response_url: str) -> dict[str, Any]:
        return await self._profile("DELETE", session_id, params={"response_url": response_url})

    async def put_active_profile(self, session_id: str, profile: Mapping[str, Any]) -> None:
        """As CPO: push an ActiveChargingProfile to the party that set one (Sender PUT)."""
        await self.request(
            "PUT",
            _join(self.endpoint("chargingprofiles", self.SENDER), session_id),
            module="chargingprofiles",
            body=dict(profile),
            to_party=self.their_party("chargingprofiles", self.SENDER),
        )

    async def _profile(
        self,
        method: str,
        session_id: str,
        *,
        body: dict[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        if self.version < V2_2_1:
            raise NoEndpoint("chargingprofiles exists from OCPI 2.2 on")
        reply = await self.request(
            method,
            _join(self.endpoint("chargingprofiles", self.RECEIVER), session_id),
            module="chargingprofiles",
            body=body,
            params=params,
            to_party=self.their_party("chargingprofiles", self.RECEIVER),
        )
        data = reply.envelope.data
        if not isinstance(data, dict):
            raise RemoteProtocolError("chargingprofiles: data is not a ChargingProfileResponse")
        return data

    # --- sessions (2.2+) ------------------------------------------------------------------------
    async def charging_preferences(
        self, session_id: str, preferences: Mapping[str, Any]
    ) -> str | None:
        """PUT ChargingPreferences to the CPO's Sender; returns the ChargingPreferencesResponse."""
        reply = await self.request(
            "PUT",
            _join(self.endpoint("sessions", self.SENDER), session_id, "charging_preferences"),
            module="sessions",
            body=dict(preferences),
            to_party=self.their_party("sessions", self.SENDER),
        )
        data = reply.envelope.data
        return data if isinstance(data, str) else None


class _Invalid(Exception):
    def __init__(self, problems: tuple[str, ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


_COMMAND_OBJECTS = {
    "START_SESSION": "StartSession",
    "STOP_SESSION": "StopSession",
    "RESERVE_NOW": "ReserveNow",
    "CANCEL_RESERVATION": "CancelReservation",
    "UNLOCK_CONNECTOR": "UnlockConnector",
}

# DIGEST §6.8: 2.2+ CommandResult down to a 2.1.1 CommandResponse
_RESULT_DOWN_211 = {
    "ACCEPTED": "ACCEPTED",
    "REJECTED": "REJECTED",
    "NOT_SUPPORTED": "NOT_SUPPORTED",
    "TIMEOUT": "TIMEOUT",
}


def _safe_url(url: str) -> str:
    """A URL for error messages: no query string (it may carry response URLs or ids)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
