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
import random
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ocpikit.core.auth import token_candidates
from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.envelope import error as error_envelope
from ocpikit.core.envelope import success
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
from ocpikit.core.headers import MessageIds, PartyRef, RoutingHeaders, carries_routing_headers
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

#: bytes of a response body kept in the exchange log (pages of objects are large; the head of
#: the body is enough to debug, and the log must not double the write load of the hot path)
_LOG_BODY = 8192
#: exchanges queued for the log before requests wait for the flusher
_LOG_QUEUE_MAX = 10_000

_DATA = "__ocpikit_page_data__"
_DATA_JSON = orjson.dumps(_DATA)


def _message_id() -> str:
    """A made-up X-Request-ID / X-Correlation-ID: a version-4 UUID from the (non-crypto)
    PRNG; ids are correlation handles, not secrets, and ``os.urandom`` per request costs a
    system call that also hands the GIL to the database threads."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


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
    # Requests only append to a queue; one background task writes it in batches (one
    # transaction per batch, at most every 0.2 s) off the request path. The queue is bounded:
    # past _LOG_QUEUE_MAX entries requests wait for the flusher (backpressure, nothing is
    # dropped), and a clean shutdown drains it (``close_log``).
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
        flusher = self._flusher
        if flusher is not None and not flusher.done():
            await asyncio.shield(flusher)
        if self.log_backlog:
            await self.flush()

    async def _flush_soon(self) -> None:
        if not self.log_backlog:
            await asyncio.sleep(0.2)
        while self._log:
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
            with contextlib.suppress(Exception):
                await flusher
        await self.flush()


# --- responses -----------------------------------------------------------------------------------
def _json_response(body: bytes, status: int, headers: Mapping[str, str]) -> Response:
    return Response(body, status_code=status, headers=dict(headers), media_type="application/json")


def _error_body(platform: Platform, exc: OcpiError) -> bytes:
    return error_envelope(exc, clock=platform.clock).to_json()


def _reply_body(platform: Platform, reply: Reply) -> bytes:
    """The envelope of a reply; only core.envelope builds envelopes, so pre-serialized data is
    spliced into the envelope built around a placeholder."""
    if reply.raw_data is not None or reply.raw_items is not None:
        env = success(
            _DATA,
            clock=platform.clock,
            status_code=1000,
            status_message=reply.status_message or "Success",
        )
        head, _, tail = env.to_json().partition(_DATA_JSON)
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
        return success(clock=platform.clock, status_message=reply.status_message).to_json()
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


async def _read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidJson() from None


def _response_headers(ctx: _Ctx, module: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if ctx.ids is not None:
        headers.update(ctx.ids.to_headers())
    if (
        ctx.version is not None
        and module is not None
        and carries_routing_headers(module, ctx.version)
        and ctx.party is not None
    ):
        me = PartyRef(ctx.party.country_code, ctx.party.party_id)
        requester = ctx.routing.from_party if ctx.routing is not None else None
        headers.update(RoutingHeaders(from_party=me, to_party=requester).to_headers())
    return headers


async def _run(
    platform: Platform,
    request: Request,
    module: str | None,
    work: Callable[[_Ctx], Awaitable[tuple[int, bytes, dict[str, str]]]],
) -> Response:
    """Common wrapper: ids, error mapping, exchange log."""
    ctx = _Ctx()
    ctx.ids = MessageIds.from_headers(request.headers.items(), factory=_message_id)
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
                method=request.method,
                url=str(request.url),
                started_at=platform.clock.now(),
                partner_id=ctx.auth.partner.id
                if ctx.auth is not None and ctx.auth.partner is not None
                else None,
                duration_ms=(time.perf_counter() - ctx.started) * 1000,
                status=status,
                request_headers=tuple(request.headers.items()),
                request_body=await request.body() if request.method != "GET" else None,
                response_headers=tuple(headers.items()),
                response_body=body if len(body) <= _LOG_BODY else body[:_LOG_BODY],
                request_id=ctx.ids.request_id if ctx.ids else None,
                correlation_id=ctx.ids.correlation_id if ctx.ids else None,
                secrets=(ctx.auth.token,) if ctx.auth is not None else (),
            )
        )
        if platform.log_backlog:
            await platform.drain_log()
    return _json_response(body, status, headers)


def _resolve_party(platform: Platform, ctx: _Ctx, request: Request, auth: _Auth) -> PartyConfig:
    party = platform.home_party(auth)
    if ctx.version is not None and ctx.version >= V2_2_1:
        routing = RoutingHeaders.parse(request.headers.items())
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
async def versions_endpoint(request: Request) -> Response:
    platform: Platform = request.app.state.platform

    async def work(ctx: _Ctx) -> tuple[int, bytes, dict[str, str]]:
        ctx.auth = auth = await platform.authenticate(request.headers.get("authorization"))
        party = platform.home_party(auth)
        data = [{"version": v.text, "url": platform.version_url(v)} for v in party.versions]
        return 200, success(data, clock=platform.clock).to_json(), {}

    return await _run(platform, request, "versions", work)


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


async def details_endpoint(request: Request) -> Response:
    platform: Platform = request.app.state.platform

    async def work(ctx: _Ctx) -> tuple[int, bytes, dict[str, str]]:
        ctx.auth = auth = await platform.authenticate(request.headers.get("authorization"))
        version = _version_param(platform, request.path_params["version"])
        party = platform.home_party(auth)
        if version not in party.versions:
            raise NotFound(f"Version {version} is not offered")
        return (
            200,
            success(details_data(platform, party, version), clock=platform.clock).to_json(),
            {},
        )

    return await _run(platform, request, "versions", work)


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


async def credentials_endpoint(request: Request) -> Response:
    platform: Platform = request.app.state.platform

    async def work(ctx: _Ctx) -> tuple[int, bytes, dict[str, str]]:
        ctx.auth = auth = await platform.authenticate(request.headers.get("authorization"))
        version = _version_param(platform, request.path_params["version"])
        ctx.version = version
        party = platform.home_party(auth)
        method = request.method
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
        body = await _read_json(request)
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
        else:
            await platform.storage.partners.save(
                partner, issue=[(token_c, TokenKind.C)], revoke=[auth.token]
            )
        platform.forget_auth()
        data = our_credentials(platform, version, token_c, [party])
        return 200, success(data, clock=platform.clock).to_json(), {}

    return await _run(platform, request, "credentials", work)


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
def _module_endpoint(op: Operation, role: Role) -> Callable[[Request], Awaitable[Response]]:
    handler = HANDLERS[op.name]
    module = op.module.value

    async def endpoint(request: Request) -> Response:
        platform: Platform = request.app.state.platform

        async def work(ctx: _Ctx) -> tuple[int, bytes, dict[str, str]]:
            version = _version_param(platform, request.path_params["version"])
            ctx.version = version
            if version not in op.versions:
                raise NotFound(f"{module} has no such endpoint in {version}")
            auth = await platform.authenticate(request.headers.get("authorization"))
            ctx.auth = auth
            if (
                auth.record.kind is TokenKind.A
                or auth.partner is None
                or auth.partner.status is not PartnerStatus.REGISTERED
            ):
                raise Unauthorized("This token may only use versions and credentials")
            party = _resolve_party(platform, ctx, request, auth)
            ctx.party = party
            if role not in party.roles or version not in party.versions:
                raise NotFound(f"{party.key} offers no {side_of(role)} {module} in {version}")
            body = await _read_json(request) if op.method in ("POST", "PUT", "PATCH") else None
            params = {k: v for k, v in request.path_params.items() if k != "version"}
            call = Call(
                version=version,
                op=op,
                params=params,
                query=dict(request.query_params),
                body=body,
                partner=auth.partner,
                party=platform.own(party),
                url=_public_url(platform, request),
                module_url=platform.module_url(version, role, module),
            )
            reply = await handler(call, platform.services)
            return reply.http_status, _reply_body(platform, reply), reply.headers

        return await _run(platform, request, module, work)

    return endpoint


def _public_url(platform: Platform, request: Request) -> str:
    """The request URL as partners know it (base URL + path + query): pagination links must
    point at the public address, not at whatever host a proxy forwarded to."""
    query: bytes = request.scope.get("query_string", b"")
    path = request.url.path if request.scope.get("root_path") else request.scope["path"]
    return platform.settings.base_url + path + (f"?{query.decode('latin-1')}" if query else "")


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/ocpi/versions", versions_endpoint, methods=["GET"]),
        Route(
            "/ocpi/{version}/credentials",
            credentials_endpoint,
            methods=["GET", "POST", "PUT", "DELETE"],
        ),
        Route("/ocpi/{version}", details_endpoint, methods=["GET"]),
    ]
    for op in OPERATIONS:
        roles = {
            itf.implemented_by
            for itf in INTERFACES
            if itf.module is op.module and itf.role is op.role
        }
        for role in sorted(roles):
            path = f"/ocpi/{{version}}/{side_of(role)}/{op.module.value}{op.path}"
            routes.append(
                Route(
                    path,
                    _module_endpoint(op, role),
                    methods=[op.method],
                    name=f"{role}.{op.name}.{op.method}",
                )
            )
    return routes


# --- error mapping for routing failures -------------------------------------------------------------
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
    return _json_response(_error_body(platform, err), err.http_status, ids.to_headers())


async def _server_error(request: Request, exc: Exception) -> Response:
    platform: Platform = request.app.state.platform
    return _json_response(_error_body(platform, ServerError("Internal error")), 500, {})


class _TrailingSlash:
    """``/locations/`` and ``/locations`` are the same endpoint (DIGEST §3.0)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope)
                scope["path"] = path.rstrip("/") or "/"
                raw = scope.get("raw_path")
                if isinstance(raw, bytes):
                    scope["raw_path"] = raw.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


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

    routes = admin_routes() + _routes() + list(extra_routes or [])
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_exception, Exception: _server_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.platform = platform
    return _TrailingSlash(app)


def platform_of(app: ASGIApp) -> Platform:
    inner = app.app if isinstance(app, _TrailingSlash) else app
    assert isinstance(inner, Starlette)
    platform: Platform = inner.state.platform
    return platform
