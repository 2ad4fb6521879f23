"""The OCPI platform as an ASGI app (the only package importing starlette).

- Routes are bound from the endpoint table (:data:`ocpikit.protocol.endpoints.OPERATIONS`) to
  the protocol handlers (:data:`ocpikit.protocol.handlers.HANDLERS`); this module holds no
  module logic.
- Every response is an OCPI envelope, including 404/405 from routing, malformed JSON (400) and
  unexpected failures (500): the framework's own error bodies never reach a partner.
- Authorization: ``Token <raw>`` and ``Token <base64>`` are both accepted (core.auth); token A
  only opens versions and credentials (401 elsewhere, DIGEST §1.1).
- X-Request-ID / X-Correlation-ID are echoed (made up when missing); on 2.2+ the routing
  headers pick which of our parties a request is for and are answered swapped.
- Every exchange is logged (Authorization redacted by storage), in batches off the hot path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ocpikit.core.auth import token_candidates
from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.envelope import error as error_envelope
from ocpikit.core.envelope import success, success_around
from ocpikit.core.errors import (
    InvalidJson,
    InvalidOrMissingParameters,
    MethodNotAllowed,
    NotFound,
    OcpiError,
    ServerError,
    Unauthorized,
    error_for_status,
)
from ocpikit.core.headers import (
    OCPI_FROM_COUNTRY_CODE,
    OCPI_FROM_PARTY_ID,
    OCPI_TO_COUNTRY_CODE,
    OCPI_TO_PARTY_ID,
    X_CORRELATION_ID,
    X_REQUEST_ID,
    LowerHeaders,
    MessageIds,
    RoutingHeaders,
    carries_routing_headers,
)
from ocpikit.core.json_bounds import check_json_bounds
from ocpikit.core.versions import V2_2_1, Role, Version
from ocpikit.protocol.decisions import Decisions, DemoDecisions
from ocpikit.protocol.endpoints import INTERFACES, OPERATIONS, Operation, interfaces_for, side_of
from ocpikit.protocol.handlers import HANDLERS, Call, OwnParty, Reply, Services
from ocpikit.protocol.handlers.base import UNSET
from ocpikit.protocol.ports import (
    CredentialsToken,
    Exchange,
    ExchangeDirection,
    Partner,
    PartnerStatus,
    PartyRole,
    Storage,
    TokenKind,
)
from ocpikit.protocol.registration import (
    AcceptFlow,
    Handshake,
    PartnerState,
    build_credentials,
    check_credentials_method,
)
from ocpikit.server.settings import PartyConfig, Settings

__all__ = ["FlowDriver", "Platform", "create_app", "new_token", "own_party"]

FlowDriver = Callable[..., Awaitable[Handshake]]
"""Runs a registration flow's HTTP requests: ``driver(flow, record=callback)``
(``ocpikit.client.registration.drive``); ``record`` receives each outbound exchange."""

#: a response body up to this many bytes is logged whole; a longer one (a page of objects) as
#: an excerpt: its first _LOG_HEAD bytes and its last _LOG_TAIL (the envelope's status and
#: timestamp), so the log does not multiply the write load of the hot path (measured: logging
#: an exchange costs ~23 µs of CPU with a 300-byte body, ~45 µs with 1.6 KiB, more with the
#: 8 KiB a page used to log)
_LOG_BODY = 8192
_LOG_HEAD = 256
_LOG_TAIL = 256
#: exchanges queued for the log before requests wait for the flusher
_LOG_QUEUE_MAX = 10_000
#: seconds between two batches of the exchange log
_LOG_INTERVAL = 0.2


def _log_excerpt(body: bytes) -> bytes:
    """What the exchange log keeps of a response body (see :data:`_LOG_BODY`)."""
    if len(body) <= _LOG_BODY:
        return body
    left_out = len(body) - _LOG_HEAD - _LOG_TAIL
    return b"".join((body[:_LOG_HEAD], b"...[%d bytes left out]..." % left_out, body[-_LOG_TAIL:]))


# the version (4) and RFC 4122 variant bits of a UUID, set as uuid.UUID(version=4) sets them
# (formatted here directly: half the cost of building a UUID object, twice per request)
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_V4 = (0x8000 << 48) | (0x4000 << 64)


def _message_id() -> str:
    """A made-up X-Request-ID / X-Correlation-ID: a version-4 UUID from the (non-crypto)
    PRNG; ids are correlation handles, not secrets, and ``os.urandom`` per request costs a
    system call that also hands the GIL to the database threads."""
    bits = random.getrandbits(128) & _UUID_CLEAR | _UUID_V4
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_token() -> str:
    """A fresh credentials token: 256 random bits, URL-safe (never pure Base64 alphabet
    ambiguity matters: raw lookup wins, core.auth)."""
    return "ok-" + secrets.token_urlsafe(32)


def own_party(p: PartyConfig, *, sole: bool = False) -> OwnParty:
    return OwnParty(p.country_code, p.party_id, p.roles, p.business_details(), sole)


@dataclass(slots=True)
class _Auth:
    token: str
    record: CredentialsToken
    partner: Partner | None
    #: :meth:`Platform.home_party` of this token, once computed (the settings do not change)
    home: PartyConfig | None = None


class Platform:
    """Everything a request needs; one per app."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        *,
        decisions: Decisions | None = None,
        clock: Clock = SYSTEM_CLOCK,
        driver: FlowDriver | None = None,
        log_exchanges: bool = True,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.clock = clock
        self.services = Services(storage, decisions or DemoDecisions(), clock)
        self.driver = driver
        self.log_exchanges = log_exchanges
        self._log: list[Exchange] = []
        self._auth_cache: dict[str, tuple[float, _Auth]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._flusher_waits = False  # the flusher is between two batches
        # Settings are immutable for the app's life: what requests derive from them is
        # computed once here, not per request.
        self._versions: dict[str, Version] = {v.text: v for v in settings.versions}
        self._parties: dict[str, PartyConfig] = {p.key: p for p in settings.parties}
        sole = len(settings.parties) == 1
        self._own: dict[str, OwnParty] = {p.key: own_party(p, sole=sole) for p in settings.parties}

    # --- parties, versions, urls ---------------------------------------------------------------
    def versions_url(self) -> str:
        return f"{self.settings.base_url}/ocpi/versions"

    def version_url(self, version: Version) -> str:
        return f"{self.settings.base_url}/ocpi/{version}"

    def module_url(self, version: Version, role: Role, module: str) -> str:
        return f"{self.settings.base_url}/ocpi/{version}/{side_of(role)}/{module}"

    def party_config(self, cc: str, pid: str) -> PartyConfig:
        party = self._parties.get(f"{cc}-{pid}".upper())
        if party is None:
            return self.settings.party(f"{cc}-{pid}")  # raises the ConfigError
        return party

    def version(self, text: str) -> Version | None:
        """One of the versions we offer, by its exact text."""
        return self._versions.get(text)

    def own(self, party: PartyConfig) -> OwnParty:
        """The handlers' view of one of our parties (built once)."""
        return self._own.get(party.key) or own_party(party, sole=len(self._parties) == 1)

    # --- auth ----------------------------------------------------------------------------------
    async def authenticate(self, header: str | None) -> _Auth:
        now = time.monotonic()
        if header is not None:
            cached = self._auth_cache.get(header)
            if cached is not None and cached[0] > now:
                return cached[1]
        for cand in token_candidates(header):
            record = await self.storage.tokens.lookup(cand.token)
            if record is None:
                continue
            partner = None
            if record.partner_id is not None:
                partner = await self.storage.partners.get(record.partner_id)
                if partner is None or partner.status is PartnerStatus.UNREGISTERED:
                    continue
            auth = _Auth(cand.token, record, partner)
            if (
                header is not None
                and record.kind is TokenKind.C
                and partner is not None
                and partner.status is PartnerStatus.REGISTERED
            ):
                self._auth_cache[header] = (now + 5.0, auth)
            return auth
        raise Unauthorized("Missing or unknown token" if header else "Authorization header missing")

    def forget_auth(self) -> None:
        self._auth_cache.clear()

    def home_party(self, auth: _Auth) -> PartyConfig:
        home = auth.home
        if home is None:
            home = auth.home = self._home_party(auth)
        return home

    def _home_party(self, auth: _Auth) -> PartyConfig:
        local = auth.record.local_party
        if local is None and auth.partner is not None:
            local = auth.partner.local_party
        if local is not None:
            try:
                return self.party_config(*local)
            except ValueError:
                pass
        return self.settings.parties[0]

    # --- exchange log --------------------------------------------------------------------------
    # Requests only append to a queue; one background task writes it in batches, one
    # transaction per batch and at most one batch every _LOG_INTERVAL while requests keep
    # coming (a task that flushed again as soon as a write returned wrote batches of a few
    # rows back to back under load: the per-transaction cost, ~4x the row's, on every few
    # requests). The queue is bounded: past _LOG_QUEUE_MAX entries a request writes the
    # queue itself before it answers (backpressure, nothing is dropped), and a clean shutdown
    # drains it (``close_log``).
    def record(self, exchange: Exchange) -> None:
        if not self.log_exchanges:
            return
        self._log.append(exchange)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    @property
    def log_backlog(self) -> bool:
        """The queue is full: the caller should ``await drain_log()``."""
        return len(self._log) >= _LOG_QUEUE_MAX

    async def drain_log(self) -> None:
        """Write the queue now if it is full (the backpressure of a request)."""
        if self.log_backlog:
            await self.flush()

    async def _flush_soon(self) -> None:
        # lives while exchanges keep arriving: one batch per interval, then gone once an
        # interval passed with none
        while True:
            if not self.log_backlog:
                self._flusher_waits = True
                try:
                    await asyncio.sleep(_LOG_INTERVAL)
                finally:
                    self._flusher_waits = False
            if not self._log:
                return
            await self.flush()

    async def flush(self) -> None:
        batch, self._log = self._log, []
        if batch:
            with contextlib.suppress(Exception):
                await self.storage.exchanges.record(batch)

    async def close_log(self) -> None:
        """Write everything queued (clean shutdown)."""
        flusher = self._flusher
        if flusher is not None and not flusher.done():
            if self._flusher_waits:  # not in the middle of a batch: no need to wait
                flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)
        await self.flush()


# --- responses -----------------------------------------------------------------------------------
_Answer = tuple[int, bytes, Mapping[str, str]]
"""HTTP status, envelope body, extra headers."""


def _error_body(platform: Platform, exc: OcpiError) -> bytes:
    return error_envelope(exc, clock=platform.clock).to_json()


def _reply_body(platform: Platform, reply: Reply) -> bytes:
    """The envelope of a reply. Pre-serialized data (cached wire bytes) is placed between the
    envelope's ends from :func:`ocpikit.core.envelope.success_around`, with no model built."""
    if reply.raw_data is not None or reply.raw_items is not None:
        head, tail = success_around(
            clock=platform.clock, status_message=reply.status_message or "Success"
        )
        if reply.raw_data is not None:
            return b"".join((head, reply.raw_data, tail))
        return _join_array(head, reply.raw_items or (), tail)
    if reply.status_code >= 2000:
        # an OCPI error that still carries data (e.g. 2003 with CommandResponse REJECTED)
        err = error_for_status(reply.status_code, reply.status_message)
        body = error_envelope(err, clock=platform.clock).to_dict()
        if reply.data is not UNSET:
            body = {"data": reply.data, **body}
        return orjson.dumps(body)
    if reply.data is UNSET:
        head, tail = success_around(
            clock=platform.clock, status_message=reply.status_message, with_data=False
        )
        return head + tail
    return success(reply.data, clock=platform.clock, status_message=reply.status_message).to_json()


def _join_array(head: bytes, items: Sequence[bytes], tail: bytes) -> bytes:
    """``head + "[" + ",".join(items) + "]" + tail`` with one copy of the items: the envelope's
    ends are glued to the first and last (small) item, then one join builds the body (each
    extra copy of a 200 KiB page costs more than the rest of the request)."""
    if not items:
        return head + b"[]" + tail
    parts = list(items)
    parts[0] = head + b"[" + parts[0]
    parts[-1] = parts[-1] + b"]" + tail
    return b",".join(parts)


# --- the request ---------------------------------------------------------------------------------
class _Headers:
    """Request headers as the ASGI server gave them (names lower case), decoded once."""

    __slots__ = ("_pairs", "lower")

    def __init__(self, raw: Sequence[tuple[bytes, bytes]]) -> None:
        self._pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]
        lower = LowerHeaders()
        for key, value in reversed(self._pairs):  # the first of a repeated name wins
            lower[key] = value
        self.lower = lower

    def items(self) -> list[tuple[str, str]]:
        return self._pairs

    def get(self, name: str) -> str | None:
        return self.lower.get(name)


class _Req:
    """What the pipeline reads of a request, straight from the ASGI scope: OCPI routes are
    dispatched without a framework Request (see :class:`_OcpiApp`)."""

    __slots__ = ("_body", "headers", "method", "path", "path_params", "receive", "scope")

    def __init__(
        self, scope: Scope, receive: Receive, path: str, path_params: dict[str, str]
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = "GET" if scope["method"] == "HEAD" else scope["method"]
        self.path = path
        self.path_params = path_params
        self.headers = _Headers(scope["headers"])
        self._body: bytes | None = None

    @property
    def query_string(self) -> str:
        raw: bytes = self.scope.get("query_string", b"")
        return raw.decode("latin-1")

    def query(self) -> dict[str, str]:
        """Query parameters (the last of a repeated name wins, blank values kept)."""
        qs = self.query_string
        if not qs:
            return {}
        if "%" in qs or "+" in qs:
            return dict(parse_qsl(qs, keep_blank_values=True))
        # nothing to unquote (``offset=0&limit=100``): parse_qsl's split, without its
        # per-part unquoting (a fifth of a page's own request handling)
        out: dict[str, str] = {}
        for part in qs.split("&"):
            if part:
                name, _eq, value = part.partition("=")
                out[name] = value
        return out

    @property
    def full_path(self) -> str:
        root: str = self.scope.get("root_path", "")
        return self.path if not root or self.path.startswith(root) else root + self.path

    @property
    def url(self) -> str:
        """The URL as this server was asked (for the exchange log)."""
        host = self.headers.get("host")
        if host is None:
            server = self.scope.get("server") or ("localhost", None)
            host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
        qs = self.query_string
        scheme = self.scope.get("scheme", "http")
        return f"{scheme}://{host}{self.full_path}" + (f"?{qs}" if qs else "")

    async def body(self) -> bytes:
        if self._body is None:
            chunks: list[bytes] = []
            while True:
                message = await self.receive()
                if message["type"] != "http.request":
                    break  # the client went away
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            self._body = b"".join(chunks)
        return self._body


# --- the request pipeline ------------------------------------------------------------------------
class _Ctx:
    __slots__ = ("auth", "ids", "party", "routing", "started", "version")

    def __init__(self) -> None:
        self.auth: _Auth | None = None
        self.ids: MessageIds | None = None
        self.party: PartyConfig | None = None
        self.routing: RoutingHeaders | None = None
        self.started = time.perf_counter()
        self.version: Version | None = None


def _version_param(platform: Platform, text: str) -> Version:
    v = platform.version(text)
    if v is None:
        raise NotFound(f"Unknown OCPI version {text!r}")
    return v


async def _read_json(req: _Req) -> Any:
    raw = await req.body()
    if not raw or raw.isspace():
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidJson() from None
    check_json_bounds(value, raw)
    return value


def _response_headers(ctx: _Ctx, module: str | None) -> dict[str, str]:
    """The ids, and on functional modules (2.2+) the routing headers answered swapped: we are
    the FROM party, the requester the TO (what ``RoutingHeaders.to_headers`` writes, set here
    directly)."""
    ids = ctx.ids
    headers: dict[str, str] = (
        {X_REQUEST_ID: ids.request_id, X_CORRELATION_ID: ids.correlation_id}
        if ids is not None
        else {}
    )
    party = ctx.party
    if (
        ctx.version is not None
        and module is not None
        and party is not None
        and carries_routing_headers(module, ctx.version)
    ):
        headers[OCPI_FROM_COUNTRY_CODE] = party.country_code
        headers[OCPI_FROM_PARTY_ID] = party.party_id
        requester = ctx.routing.from_party if ctx.routing is not None else None
        if requester is not None:
            headers[OCPI_TO_COUNTRY_CODE] = requester.country_code
            headers[OCPI_TO_PARTY_ID] = requester.party_id
    return headers


async def _run(
    platform: Platform,
    req: _Req,
    module: str | None,
    work: Callable[[_Ctx], Awaitable[_Answer]],
) -> _Answer:
    """Common wrapper: ids, error mapping, exchange log."""
    ctx = _Ctx()
    ctx.ids = MessageIds.from_headers(req.headers.lower, factory=_message_id)
    try:
        status, body, extra = await work(ctx)
    except OcpiError as exc:
        status, body, extra = exc.http_status, _error_body(platform, exc), {}
    except Exception:  # never leak a framework error body or a traceback
        err = ServerError("Internal error")
        status, body, extra = 500, _error_body(platform, err), {}
    headers = _response_headers(ctx, module)
    headers.update(extra)
    if platform.log_exchanges:
        platform.record(
            Exchange(
                direction=ExchangeDirection.INBOUND,
                method=req.method,
                url=req.url,
                started_at=platform.clock.now(),
                partner_id=ctx.auth.partner.id
                if ctx.auth is not None and ctx.auth.partner is not None
                else None,
                duration_ms=(time.perf_counter() - ctx.started) * 1000,
                status=status,
                request_headers=tuple(req.headers.items()),
                request_body=await req.body() if req.method != "GET" else None,
                response_headers=tuple(headers.items()),
                response_body=_log_excerpt(body),
                request_id=ctx.ids.request_id if ctx.ids else None,
                correlation_id=ctx.ids.correlation_id if ctx.ids else None,
                secrets=(ctx.auth.token,) if ctx.auth is not None else (),
            )
        )
        if platform.log_backlog:
            await platform.drain_log()
    return status, body, headers


def _resolve_party(platform: Platform, ctx: _Ctx, req: _Req, auth: _Auth) -> PartyConfig:
    party = platform.home_party(auth)
    if ctx.version is not None and ctx.version >= V2_2_1:
        routing = RoutingHeaders.parse(req.headers.lower)
        ctx.routing = routing
        if routing.to_party is not None:
            try:
                party = platform.party_config(
                    routing.to_party.country_code, routing.to_party.party_id
                )
            except ValueError:
                raise InvalidOrMissingParameters(
                    f"OCPI-to-party-id {routing.to_party} is not a party of this platform",
                    path="OCPI-to-party-id",
                ) from None
    return party


# --- versions and details -------------------------------------------------------------------------
async def versions_endpoint(platform: Platform, req: _Req) -> _Answer:
    async def work(ctx: _Ctx) -> _Answer:
        ctx.auth = auth = await platform.authenticate(req.headers.get("authorization"))
        party = platform.home_party(auth)
        data = [{"version": v.text, "url": platform.version_url(v)} for v in party.versions]
        return 200, success(data, clock=platform.clock).to_json(), {}

    return await _run(platform, req, "versions", work)


def details_data(platform: Platform, party: PartyConfig, version: Version) -> dict[str, Any]:
    endpoints: list[dict[str, str]] = [
        {"identifier": "credentials", "url": f"{platform.version_url(version)}/credentials"}
    ]
    if version >= V2_2_1:
        endpoints[0]["role"] = "SENDER"
    for itf in interfaces_for(party.roles, version):
        row = {
            "identifier": itf.module.value,
            "url": platform.module_url(version, itf.implemented_by, itf.module.value),
        }
        if version >= V2_2_1:
            row["role"] = itf.role.value
        endpoints.append(row)
    return {"version": version.text, "endpoints": endpoints}


async def details_endpoint(platform: Platform, req: _Req) -> _Answer:
    async def work(ctx: _Ctx) -> _Answer:
        ctx.auth = auth = await platform.authenticate(req.headers.get("authorization"))
        version = _version_param(platform, req.path_params["version"])
        party = platform.home_party(auth)
        if version not in party.versions:
            raise NotFound(f"Version {version} is not offered")
        return (
            200,
            success(details_data(platform, party, version), clock=platform.clock).to_json(),
            {},
        )

    return await _run(platform, req, "versions", work)


# --- credentials ------------------------------------------------------------------------------------
def _state_of(auth: _Auth) -> PartnerState:
    if auth.record.kind is TokenKind.A:
        return PartnerState.INVITED
    if auth.partner is not None and auth.partner.status is PartnerStatus.REGISTERED:
        return PartnerState.REGISTERED
    return PartnerState.INVITED if auth.partner is None else PartnerState.REGISTERED


def our_credentials(
    platform: Platform, version: Version, token: str, parties: list[PartyConfig]
) -> dict[str, Any]:
    roles = [
        PartyRole(role.value, p.country_code, p.party_id, p.business_details())
        for p in parties
        for role in p.roles
    ]
    return build_credentials(version, token, platform.versions_url(), roles)


async def credentials_endpoint(platform: Platform, req: _Req) -> _Answer:
    async def work(ctx: _Ctx) -> _Answer:
        ctx.auth = auth = await platform.authenticate(req.headers.get("authorization"))
        version = _version_param(platform, req.path_params["version"])
        ctx.version = version
        party = platform.home_party(auth)
        method = req.method
        pending = auth.partner is not None and auth.partner.status is PartnerStatus.PENDING
        if pending and method != "GET":
            # we are mid-way through initiating with them: only GET makes sense
            raise MethodNotAllowed("Registration in progress")
        check_credentials_method(_state_of(auth), method)
        if method == "GET":
            data = our_credentials(platform, version, auth.token, [party])
            return 200, success(data, clock=platform.clock).to_json(), {}
        if method == "DELETE":
            assert auth.partner is not None
            await platform.storage.partners.delete(auth.partner.id)
            platform.forget_auth()
            return 200, success(clock=platform.clock).to_json(), {}
        body = await _read_json(req)
        default_role = Role.EMSP if Role.CPO in party.roles else Role.CPO
        flow = AcceptFlow(body, version, default_role=default_role)
        if platform.driver is None:
            raise ServerError("Registration callbacks are not configured")
        handshake = await platform.driver(flow.flow(), record=platform.record)
        token_c = new_token()
        partner = _partner_from(handshake, party, auth.partner)
        if method == "POST":
            existing = await platform.storage.partners.get(partner.id)
            if existing is not None and existing.status is PartnerStatus.REGISTERED:
                await platform.storage.partners.delete(existing.id)
        await platform.storage.partners.save(
            partner, issue=[(token_c, TokenKind.C)], revoke=[auth.token]
        )
        platform.forget_auth()
        data = our_credentials(platform, version, token_c, [party])
        return 200, success(data, clock=platform.clock).to_json(), {}

    return await _run(platform, req, "credentials", work)


def _partner_from(handshake: Handshake, party: PartyConfig, old: Partner | None) -> Partner:
    first = handshake.parties[0]
    pid = old.id if old is not None else f"{first.country_code}-{first.party_id}".upper()
    return Partner(
        id=pid,
        status=PartnerStatus.REGISTERED,
        roles=handshake.parties,
        version=handshake.version.text,
        versions_url=handshake.versions_url,
        endpoints=tuple(handshake.endpoints),
        outbound_token=handshake.token,
        local_party=(party.country_code, party.party_id),
        settings=dict(old.settings) if old is not None else {},
    )


# --- module operations ----------------------------------------------------------------------------
_Endpoint = Callable[[Platform, _Req], Awaitable[_Answer]]


def _module_endpoint(op: Operation, role: Role) -> _Endpoint:
    handler = HANDLERS[op.name]
    module = op.module.value
    has_body = op.method in ("POST", "PUT", "PATCH")

    async def endpoint(platform: Platform, req: _Req) -> _Answer:
        async def work(ctx: _Ctx) -> _Answer:
            version = _version_param(platform, req.path_params["version"])
            ctx.version = version
            if version not in op.versions:
                raise NotFound(f"{module} has no such endpoint in {version}")
            auth = await platform.authenticate(req.headers.get("authorization"))
            ctx.auth = auth
            if (
                auth.record.kind is TokenKind.A
                or auth.partner is None
                or auth.partner.status is not PartnerStatus.REGISTERED
            ):
                raise Unauthorized("This token may only use versions and credentials")
            party = _resolve_party(platform, ctx, req, auth)
            ctx.party = party
            if role not in party.roles or version not in party.versions:
                raise NotFound(f"{party.key} offers no {side_of(role)} {module} in {version}")
            body = await _read_json(req) if has_body else None
            params = {k: v for k, v in req.path_params.items() if k != "version"}
            call = Call(
                version=version,
                op=op,
                params=params,
                query=req.query(),
                body=body,
                partner=auth.partner,
                party=platform.own(party),
                url=_public_url(platform, req),
                module_url=platform.module_url(version, role, module),
            )
            reply = await handler(call, platform.services)
            return reply.http_status, _reply_body(platform, reply), reply.headers

        return await _run(platform, req, module, work)

    return endpoint


def _public_url(platform: Platform, req: _Req) -> str:
    """The request URL as partners know it (base URL + path + query): pagination links must
    point at the public address, not at whatever host a proxy forwarded to."""
    qs = req.query_string
    return platform.settings.base_url + req.full_path + (f"?{qs}" if qs else "")


# --- routing ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Route:
    #: path segments after the leading "/": a literal, or None for a {param}
    segments: tuple[str | None, ...]
    params: tuple[str, ...]
    method: str
    endpoint: _Endpoint
    module: str | None


def _compile(path: str, method: str, endpoint: _Endpoint, module: str | None) -> _Route:
    segments: list[str | None] = []
    params: list[str] = []
    for part in path.strip("/").split("/"):
        if part.startswith("{") and part.endswith("}"):
            segments.append(None)
            params.append(part[1:-1])
        else:
            segments.append(part)
    return _Route(tuple(segments), tuple(params), method, endpoint, module)


def _ocpi_routes() -> list[_Route]:
    """Every OCPI URL the platform serves, in match order (the first route whose path and
    method both match wins; a path match with no method match is a 405)."""
    routes = [
        _compile("/ocpi/versions", "GET", versions_endpoint, "versions"),
        *(
            _compile("/ocpi/{version}/credentials", m, credentials_endpoint, "credentials")
            for m in ("GET", "POST", "PUT", "DELETE")
        ),
        _compile("/ocpi/{version}", "GET", details_endpoint, "versions"),
    ]
    for op in OPERATIONS:
        roles = {
            itf.implemented_by
            for itf in INTERFACES
            if itf.module is op.module and itf.role is op.role
        }
        for role in sorted(roles):
            path = f"/ocpi/{{version}}/{side_of(role)}/{op.module.value}{op.path}"
            routes.append(_compile(path, op.method, _module_endpoint(op, role), op.module.value))
    return routes


def _route_key(segments: Sequence[str | None]) -> tuple[Any, ...]:
    """Routes are bucketed by segment count and, for module URLs, side and module."""
    if len(segments) >= 4:
        return (len(segments), segments[2], segments[3])
    return (len(segments),)


#: matches remembered by :class:`_Router` (path and method); the memo is emptied when full
_MATCH_MEMO_MAX = 4096


class _Router:
    def __init__(self, routes: Sequence[_Route]) -> None:
        self._buckets: dict[tuple[Any, ...], list[_Route]] = {}
        for route in routes:  # in match order within each bucket
            self._buckets.setdefault(_route_key(route.segments), []).append(route)
        # partners push the same objects again and again (a Session's PUT, then its PATCHes):
        # a repeated URL is one dictionary probe instead of a walk over its bucket
        self._memo: dict[tuple[str, str], tuple[_Route, dict[str, str]] | bool] = {}

    def match(self, path: str, method: str) -> tuple[_Route, dict[str, str]] | bool:
        """The route and its parameters; else True when the path exists (405), False (404).
        The parameters are a fresh dict on every call."""
        found = self._memo.get((path, method))
        if found is None:
            found = self._match(path, method)
            if len(self._memo) >= _MATCH_MEMO_MAX:
                self._memo.clear()
            self._memo[(path, method)] = found
        if isinstance(found, bool):
            return found
        return found[0], dict(found[1])

    def _match(self, path: str, method: str) -> tuple[_Route, dict[str, str]] | bool:
        parts = path[1:].split("/")
        path_found = False
        candidates = self._buckets.get(_route_key(parts), ())
        for route in candidates:
            for want, got in zip(route.segments, parts, strict=True):
                if (want is not None and want != got) or not got:
                    break
            else:
                if route.method != method:
                    path_found = True
                    continue
                values = [
                    got for want, got in zip(route.segments, parts, strict=True) if want is None
                ]
                return route, dict(zip(route.params, values, strict=True))
        return path_found


@functools.lru_cache(maxsize=256)
def _header_name(name: str) -> bytes:
    """A response header name as sent (lower case, bytes), encoded once per name."""
    return name.lower().encode("latin-1")


async def _send(
    send: Send, status: int, body: bytes, headers: Mapping[str, str], head: bool
) -> None:
    raw = [
        (b"content-length", b"%d" % len(body)),
        (b"content-type", b"application/json"),
    ]
    raw += [(_header_name(k), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else body})


# --- error mapping for routing failures (non-OCPI paths) ----------------------------------------
async def _http_exception(request: Request, exc: Exception) -> Response:
    platform: Platform = request.app.state.platform
    assert isinstance(exc, HTTPException)
    err: OcpiError
    if exc.status_code == 405:
        err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    elif exc.status_code == 404:
        err = NotFound(f"No OCPI endpoint at {request.url.path}")
    else:
        err = ServerError(f"HTTP {exc.status_code}", http_status=exc.status_code)
    ids = MessageIds.from_headers(request.headers.items(), factory=_message_id)
    return Response(
        _error_body(platform, err),
        status_code=err.http_status,
        headers=ids.to_headers(),
        media_type="application/json",
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    platform: Platform = request.app.state.platform
    return Response(
        _error_body(platform, ServerError("Internal error")),
        status_code=500,
        media_type="application/json",
    )


class _OcpiApp:
    """The platform's ASGI entry: OCPI URLs (``/ocpi/...``) are matched against a table built
    once from the endpoint table and run straight from the ASGI scope; everything else (the
    backend API, lifespan) goes to the Starlette app. The hot path of a partner's request thus
    skips the framework's middleware stack, Request/Response objects and a linear regex scan of
    some 60 routes. ``/locations/`` and ``/locations`` are the same endpoint (DIGEST §3.0)."""

    def __init__(self, platform: Platform, app: Starlette) -> None:
        self.platform = platform
        self.app = app
        self._router = _Router(_ocpi_routes())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
            scope = dict(scope)
            scope["path"] = path
            raw = scope.get("raw_path")
            if isinstance(raw, bytes):
                scope["raw_path"] = raw.rstrip(b"/") or b"/"
        root: str = scope.get("root_path", "")
        local = path[len(root) :] if root and path.startswith(root) else path
        if not (local == "/ocpi" or local.startswith("/ocpi/")):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        found = self._router.match(local, "GET" if method == "HEAD" else method)
        platform = self.platform
        if isinstance(found, bool):
            req = _Req(scope, receive, path, {})

            async def fail(ctx: _Ctx) -> _Answer:
                if found:
                    raise MethodNotAllowed(f"{method} is not allowed on {path}")
                raise NotFound(f"No OCPI endpoint at {path}")

            status, body, headers = await _run(platform, req, None, fail)
        else:
            route, params = found
            req = _Req(scope, receive, path, params)
            status, body, headers = await route.endpoint(platform, req)
        await _send(send, status, body, headers, method == "HEAD")


def create_app(
    settings: Settings,
    storage: Storage,
    *,
    decisions: Decisions | None = None,
    clock: Clock = SYSTEM_CLOCK,
    driver: FlowDriver | None = None,
    log_exchanges: bool = True,
    extra_routes: list[BaseRoute] | None = None,
) -> ASGIApp:
    """The platform's ASGI app."""
    platform = Platform(
        settings,
        storage,
        decisions=decisions,
        clock=clock,
        driver=driver,
        log_exchanges=log_exchanges,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await platform.close_log()

    from ocpikit.server.admin import admin_routes

    routes = admin_routes() + list(extra_routes or [])
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_exception, Exception: _server_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.platform = platform
    return _OcpiApp(platform, app)


def platform_of(app: ASGIApp) -> Platform:
    assert isinstance(app, _OcpiApp)
    return app.platform
