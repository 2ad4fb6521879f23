"""The hub's use case: one request of a connected party, forwarded, broadcast, relayed back or
served (the decision is :mod:`ocpikit.protocol.hub_routing`; OCPI 2.2.1 transport_and_format
§Message Routing; docs/hubs.md "ocpikit as a hub").

- **Forward**: the body is converted from the caller's version to the receiver's through the
  head model (:func:`ocpikit.convert.convert`), sent with the routing headers and the
  correlation id kept, and the answer converted back. A command or charging-profile request
  gets the hub's own ``response_url`` (its original one is kept in the CommandStore, direction
  ``relayed``), so the asynchronous result comes back through the hub.
- **Broadcast**: the receiver handler of the module stores the object, owned by the caller
  (the same validation, ownership and id checks as any receiver), and one outbox entry per
  receiving connection is queued with it in the same transaction
  (:mod:`ocpikit.operations.hub_broadcast`): the outbox worker delivers each in its receiver's
  version, and a slow receiver never delays another. A 2.1.1 Session or CDR carries no token
  owner: the hub fills ``cdr_token`` from the Token that came through it, before the write.
- **Serve**: a Sender list from what the hub holds, or (``[hub] store = false``) merged live
  from the sender parties (:mod:`ocpikit.operations.hub_open_routing`).
- What a conversion drops is named in the answer's ``status_message`` to the sender and
  counted per connection, as is every forward's outcome
  (:mod:`ocpikit.operations.hub_counters`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import orjson

from ocpikit.convert import Loss, convert
from ocpikit.core.errors import (
    HubConnectionProblem,
    InvalidOrMissingParameters,
    NotFound,
    OcpiError,
    UnknownReceiver,
)
from ocpikit.core.headers import PartyRef
from ocpikit.core.pagination import PageParams, make_page
from ocpikit.core.versions import HEAD, V2_2_1, InterfaceRole, Version
from ocpikit.operations.hub_broadcast import BroadcastObjects, BroadcastStorage
from ocpikit.operations.hub_clients import offline_connections
from ocpikit.operations.hub_counters import HubCounters
from ocpikit.operations.hub_open_routing import merged_page, sender_sources
from ocpikit.protocol.handlers import HANDLERS, Call, Reply, Services
from ocpikit.protocol.handlers.base import check_owner, wire_of
from ocpikit.protocol.hub_routing import (
    ASYNC_OPERATIONS,
    OBJECT_MODULES,
    Action,
    Forward,
    Forwarded,
    HubForwarder,
    body_names,
    connection_role,
    decide,
    hub_targets,
    role_from_traffic,
    route_to,
    version_of,
)
from ocpikit.protocol.party_records import Learned, Path, RemoteParty
from ocpikit.protocol.ports import (
    ANY_OWNER,
    CommandDirection,
    CommandRecord,
    ObjectKey,
    Partner,
    Storage,
    StoredObject,
    WireEntry,
)

__all__ = ["RELAYED", "HubRelay", "HubRequest"]

log = logging.getLogger("ocpikit.hub")

#: the CommandStore direction of the requests whose result the hub relays back
RELAYED = CommandDirection.RELAYED

#: how many stored objects a lookup without a key reads at most (a token by uid, a location
#: by id): the hub finds the receiver of a 2.1.1 request from what passed through it
SCAN_LIMIT = 20_000
#: seconds the hub keeps its reading of the unreachable connections
OFFLINE_TTL = 0.5
_PAGE = 500


@dataclass(slots=True)
class HubRequest:
    """One request to a HUB party's interface: the handlers' :class:`Call` (the caller is its
    ``partner``), the method, the ``OCPI-to-*`` party and the correlation id."""

    call: Call
    method: str
    to_party: PartyRef | None = None
    correlation_id: str | None = None
    #: the caller's headers its ``pass_headers`` switch names (``OCN-Signature``)
    passed: Mapping[str, str] | None = None


class HubRelay:
    """The hub's work on ``services``; ``forwarder`` sends forwarded requests (none: every
    forward is a 4003), ``ocpi_url`` is the hub's ``{base}/ocpi`` (its rewritten response
    URLs), ``hub_party`` the hub's own party, ``store`` the ``[hub] store`` switch."""

    def __init__(
        self,
        services: Services,
        forwarder: HubForwarder | None,
        *,
        ocpi_url: str,
        hub_party: PartyRef,
        store: bool = True,
    ) -> None:
        self.services = services
        #: ``[hub] store``: whether relayed objects are kept (and open-routing lists served
        #: from them) or only queued and lists asked for live
        self.store = store
        self.forwarder = forwarder
        self.ocpi_url = ocpi_url.rstrip("/")
        self.hub_party = hub_party
        self._roles: dict[str, str] = {}
        #: forwarded requests by outcome and conversion losses, per connection
        self.counters = HubCounters(services.storage)
        self._partners: tuple[Hashable, list[Partner]] | None = None
        self._offline: tuple[float, dict[str, str]] | None = None

    @property
    def storage(self) -> Any:
        return self.services.storage

    # --- entry ----------------------------------------------------------------------------
    async def handle(self, request: HubRequest) -> Reply:
        call = request.call
        caller = call.partner
        assert caller is not None
        await self._learn_role(caller, call)
        partners = await self.partners()
        target: Partner | None = None
        try:
            decision = decide(
                call.op, request.method, request.to_party, self.hub_party, caller, partners
            )
            if decision.action is Action.SERVE:
                # a list addressed to the hub itself is the merged list of every party
                named = request.to_party if request.to_party != self.hub_party else None
                return await self._serve(call, named)
            if decision.action is Action.BROADCAST:
                return await self._broadcast(request, partners)
            if decision.action is Action.RESULT:
                return await self._relay_result(request)
            if decision.action is Action.FIND:
                party = await self._find_receiver(call)
                decision = route_to(partners, party, caller)
            target = next(p for p in partners if p.id == decision.partner_id)
            offline = await self.offline()
            if target.id in offline:
                raise HubConnectionProblem(
                    f"{decision.to_party or target.id} is not reachable "
                    f"(since {offline[target.id]})"
                )
            return await self._forward(request, target, decision.to_party)
        except OcpiError as exc:
            if exc.status_code in (4001, 4002, 4003):
                self.counters.forwarded(
                    caller.id, target.id if target else None, str(exc.status_code)
                )
            raise

    async def partners(self) -> list[Partner]:
        """Every connection, read again only when a partner or a token changed (in any process:
        the credentials mark, :class:`~ocpikit.protocol.ports.CredentialsChanges`); the same
        objects until then."""
        mark = await self.storage.credentials_changes.mark()
        cached = self._partners
        if cached is None or cached[0] != mark:
            cached = self._partners = (mark, await self.storage.partners.all())
        return cached[1]

    async def offline(self) -> dict[str, str]:
        """The connections the probe could not reach (:func:`offline_connections`), read at
        most every :data:`OFFLINE_TTL` seconds (the probe runs every second at the most)."""
        now = time.monotonic()
        cached = self._offline
        if cached is None or now - cached[0] > OFFLINE_TTL:
            cached = self._offline = (now, await offline_connections(self.storage))
        return cached[1]

    async def roles(self, partners: Sequence[Partner]) -> dict[str, str | None]:
        """Each connection's role (:func:`connection_role`, with what traffic showed)."""
        learned = dict(self._roles)
        if any(p.id not in learned and connection_role(p) in (None, "OTHER") for p in partners):
            for entry in await self.storage.parties.learned():
                if entry.path is Path.DIRECT:
                    learned.setdefault(entry.partner_id, entry.role)
        return {p.id: connection_role(p, learned.get(p.id)) for p in partners}

    async def _learn_role(self, caller: Partner, call: Call) -> None:
        """A caller whose credentials carry no role (2.1.1) shows it by what it sends."""
        if connection_role(caller) not in (None, "OTHER") or caller.id in self._roles:
            return
        role = role_from_traffic(call.op, call.op.method)
        if role is None or not caller.roles:
            return
        first = caller.roles[0]
        self._roles[caller.id] = role
        await self.storage.parties.learn(
            [
                RemoteParty(
                    first.country_code,
                    first.party_id,
                    role,
                    caller.id,
                    Path.DIRECT,
                    Learned.TRAFFIC,
                )
            ]
        )

    # --- serve ----------------------------------------------------------------------------
    async def _serve(self, call: Call, to_party: PartyRef | None) -> Reply:
        """A Sender list: the objects the other connections pushed (Locations, Tariffs,
        Tokens; Sessions and CDRs only go to their eMSP, so none are listed), filtered to
        ``to_party`` when named; the HubClientInfo list: ours. A Receiver GET: the caller's
        own object, as any receiver answers it."""
        op = call.op
        if op.name == "hubclientinfo.sender.list":
            return await self._list(call, "ClientInfo", owner=None, party=None)
        if not op.paginated:
            return await HANDLERS[op.name](call, self.services)
        kind = OBJECT_MODULES.get(op.module.value)
        if kind is None or kind in ("Session", "CDR"):
            params = PageParams.from_query(call.query)
            meta = make_page(list[Any](), params=params, total_count=0, url=call.url)
            return Reply(data=[], headers=meta.headers())
        if not self.store and kind != "Token" and self.forwarder is not None:
            caller = call.partner
            assert caller is not None
            partners = await self.partners()
            offline = await self.offline()
            sources = sender_sources(
                [p for p in partners if p.id not in offline],
                op.module.value,
                caller.id,
                await self.roles(partners),
                to_party,
            )
            reply = await merged_page(self.forwarder, call, kind, sources)
            for source in sources:
                outcome = "delivered" if source.failed is None else "receiver_error"
                self.counters.forwarded(caller.id, source.partner.id, outcome)
            return reply
        return await self._list(call, kind, owner=ANY_OWNER, party=to_party)

    async def _list(self, call: Call, kind: str, *, owner: Any, party: PartyRef | None) -> Reply:
        """A page of what the hub holds, from the wire cache where it has the caller's
        version (as any Sender list is served); what it converts now, it caches."""
        params = PageParams.from_query(call.query)
        head = call.version == HEAD
        page = await self.storage.objects.list_wire(
            kind,
            offset=params.offset,
            limit=params.limit,
            date_from=params.date_from,
            date_to=params.date_to,
            owner=owner,
            country_code=party.country_code if party else None,
            party_id=party.party_id if party else None,
            version=None if head else call.version.text,
        )
        items: list[bytes] = []
        fresh: list[WireEntry] = []
        for item in page.items:
            if isinstance(item, bytes):
                items.append(item)
                continue
            try:
                body = wire_of(item, call.version, kind)
            except ValueError as exc:
                log.warning("%s %s left out of a %s page: %s", kind, item.key, call.version, exc)
                continue
            if not head:
                fresh.append(WireEntry(item.key, item.revision, call.version.text, body))
            items.append(body)
        if fresh:
            await self.storage.objects.store_wire(fresh)
        meta = make_page(page.items, params=params, total_count=page.total, url=call.url)
        return Reply(raw_items=items, headers=meta.headers())

    # --- broadcast ------------------------------------------------------------------------
    async def _broadcast(self, request: HubRequest, partners: Sequence[Partner]) -> Reply:
        """Stored and queued for every receiver in one transaction
        (:mod:`ocpikit.operations.hub_broadcast`); without a store, a partial write or a
        deletion is relayed live (:meth:`_relay_partial`)."""
        call = request.call
        op, caller = call.op, call.partner
        assert caller is not None
        kind = OBJECT_MODULES[op.module.value]
        if not self.store and kind != "Token" and not op_writes_whole(call):
            return await self._relay_partial(request, partners, kind)
        roles = await self.roles(partners)
        notes: list[str] = []

        async def plan(key: ObjectKey, doc: dict[str, Any] | None) -> Planned:
            if doc is not None and kind in ("Session", "CDR") and op_writes_whole(call):
                doc, filled = await self._fill_token(doc)
                if filled:
                    notes.append(filled)
            targets = hub_targets(partners, kind, doc or {}, caller.id, roles)
            if not self.store and kind == "Session" and targets:
                await self.storage.parties.pin(
                    kind, key.country_code, key.party_id, key.id, targets[0]
                )
            return doc, targets

        objects = BroadcastObjects(
            self.storage.objects, self.storage.outbox, plan, store=self.store
        )
        storage = cast(Storage, BroadcastStorage(self.storage, objects))
        reply = await HANDLERS[op.name](call, replace(self.services, storage=storage))
        written = objects.written
        if written is not None and op.method != "DELETE":
            receivers = [p for p in partners if p.id in objects.targets]
            notes.extend(self._losses(call, kind, written.document, receivers))
        if kind in ("Session", "CDR") and not objects.targets:
            notes.append("no connected eMSP holds the token's party: not forwarded")
        if notes:
            reply.status_message = "; ".join(notes)[:500]
        return reply

    async def _relay_partial(
        self, request: HubRequest, partners: Sequence[Partner], kind: str
    ) -> Reply:
        """Without a store (``[hub] store = false``) a PATCH, a nested PUT or a DELETE has no
        stored object to apply to: it is sent on live to every receiver (a Session to the
        connection its PUT went to), converted to each one's version; the receivers that do
        not take it are named in the answer."""
        call = request.call
        caller = call.partner
        assert caller is not None
        cc, pid = call.params["country_code"], call.params["party_id"]
        check_owner(call, cc, pid)
        if call.op.method != "DELETE" and not isinstance(call.body, dict):
            raise InvalidOrMissingParameters("the body must be a JSON object")
        if kind == "Session":
            pinned = await self.storage.parties.pinned(
                kind, cc, pid, call.params.get("session_id", "")
            )
            targets = [p for p in partners if p.id == pinned]
        else:
            roles = await self.roles(partners)
            ids = hub_targets(partners, kind, {}, caller.id, roles)
            targets = [p for p in partners if p.id in ids]
        name = _PARTIAL_BODIES.get(call.op.action, kind)
        failed = await asyncio.gather(
            *(self._send_partial(request, target, name) for target in targets)
        )
        notes = [f for f in failed if f]
        reply = Reply()
        if not targets:
            notes.append(f"no connected receiver takes this {kind}")
        if notes:
            reply.status_message = "; ".join(notes)[:500]
        return reply

    async def _send_partial(self, request: HubRequest, target: Partner, name: str) -> str:
        """One receiver's live copy of a partial write; what went wrong ("" when it took it)."""
        call = request.call
        caller = call.partner
        assert caller is not None and self.forwarder is not None
        version = version_of(target)
        body: Any = call.body
        try:
            if isinstance(body, dict):
                body, lost = _convert(body, name, call.version, version, caller)
                self.counters.losses(caller.id, lost)
            answer = await self.forwarder.forward(
                Forward(
                    partner=target,
                    module=call.op.module.value,
                    role=call.op.role,
                    method=request.method,
                    path=_segments(call),
                    body=orjson.dumps(body) if body is not None else None,
                    from_party=call.from_party or _party_of(caller),
                    to_party=_party_of(target),
                    correlation_id=request.correlation_id,
                )
            )
        except OcpiError as exc:
            self.counters.forwarded(caller.id, target.id, str(exc.status_code))
            return f"{target.id}: {exc.status_code} {exc.message}"
        outcome = _outcome(answer)
        self.counters.forwarded(caller.id, target.id, outcome)
        if outcome != "delivered":
            return f"{target.id}: {answer.status_code} {answer.status_message or ''}".strip()
        return ""

    def _losses(
        self, call: Call, kind: str, document: Mapping[str, Any], receivers: Sequence[Partner]
    ) -> list[str]:
        """What the conversions of a broadcast drop: from the caller's version to head, and
        from head to each receiver's version (the outbox worker makes the same conversions);
        counted on the caller's connection, once per receiver."""
        out: list[str] = []
        sender = call.partner.id if call.partner is not None else None
        if call.version != HEAD and isinstance(call.body, dict) and op_writes_whole(call):
            _, lost = convert(call.body, kind, call.version, HEAD)
            self.counters.losses(sender, lost)
            out.extend(_describe(lost, f"{call.version} to {HEAD}"))
        for version in sorted({version_of(p) for p in receivers}):
            if version == HEAD or not document:
                continue
            try:
                _, lost = convert(dict(document), kind, HEAD, version)
            except (ValueError, KeyError, TypeError):
                continue
            for _ in [p for p in receivers if version_of(p) == version]:
                self.counters.losses(sender, lost)
            out.extend(_describe(lost, f"for {version} receivers"))
        return out

    async def _fill_token(self, doc: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """A Session or CDR whose ``cdr_token`` names no real party (a 2.1.1 sender's): the
        owner, uid and type of the Token with its contract id (``auth_id``) that came through
        the hub, written with the object (no second write)."""
        token = doc.get("cdr_token")
        if not isinstance(token, Mapping) or token.get("country_code") not in ("XX", None):
            return doc, ""
        contract = token.get("contract_id") or token.get("uid")
        found = await self._scan(
            "Token",
            lambda t: t.get("contract_id") == contract or t.get("uid") == contract,
        )
        if found is None:
            return doc, ""
        t = found.document
        doc["cdr_token"] = {
            **token,
            "country_code": t.get("country_code"),
            "party_id": t.get("party_id"),
            "uid": t.get("uid"),
            "type": t.get("type"),
            "contract_id": t.get("contract_id", contract),
        }
        note = (
            f"cdr_token filled from token {t.get('uid')} of "
            f"{t.get('country_code')}-{t.get('party_id')}"
        )
        return doc, note

    async def _scan(self, kind: str, match: Any) -> StoredObject | None:
        """The first stored object of ``kind`` (any owner) that ``match`` accepts, reading at
        most :data:`SCAN_LIMIT` objects page by page."""
        offset = 0
        while offset < SCAN_LIMIT:
            page = await self.storage.objects.list_page(
                kind, offset=offset, limit=_PAGE, owner=ANY_OWNER
            )
            for item in page.items:
                if match(item.document):
                    return item  # type: ignore[no-any-return]
            if len(page.items) < _PAGE:
                return None
            offset += _PAGE
        return None

    # --- finding the receiver -------------------------------------------------------------
    async def _find_receiver(self, call: Call) -> PartyRef:
        """The party a request without ``OCPI-to-*`` is for: the owner of the token to
        authorize, of the Location a command names, or of the Session a STOP_SESSION names."""
        op = call.op
        if op.name == "tokens.sender.authorize":
            uid = call.params["token_uid"]
            token_type = call.query.get("type")
            found = await self._scan(
                "Token",
                lambda t: (
                    t.get("uid") == uid and (token_type is None or t.get("type") == token_type)
                ),
            )
            if found is None:
                raise UnknownReceiver(f"No connected eMSP pushed token {uid!r} to this hub")
            return PartyRef(found.key.country_code, found.key.party_id)
        body = call.body if isinstance(call.body, dict) else {}
        ref, kind = body.get("location_id"), "Location"
        if ref is None:
            ref, kind = body.get("session_id"), "Session"
        if not isinstance(ref, str):
            raise UnknownReceiver("name the CPO in the OCPI-to-* headers")
        found = await self._scan(kind, lambda d: d.get("id") == ref)
        if found is None:
            raise UnknownReceiver(f"No connected CPO pushed {kind} {ref!r} to this hub")
        return PartyRef(found.key.country_code, found.key.party_id)

    # --- forwarding -----------------------------------------------------------------------
    async def _forward(self, request: HubRequest, target: Partner, to: PartyRef | None) -> Reply:
        call = request.call
        caller = call.partner
        assert caller is not None
        if self.forwarder is None:
            raise HubConnectionProblem("This hub cannot forward requests")
        source, version = call.version, version_of(target)
        body_name, answer_name = body_names(call.op, call.params)
        lost: list[Loss] = []
        body: Any = call.body
        if body_name is not None and isinstance(body, dict):
            body, lost = _convert(body, body_name, source, version, caller)
        unchanged = version == source and call.op.name not in ASYNC_OPERATIONS
        if call.op.name in ASYNC_OPERATIONS:
            body = await self._rewrite_response_url(call, target, version, body)
        query = {k: v for k, v in call.query.items() if not (k == "type" and version < V2_2_1)}
        answer = await self.forwarder.forward(
            Forward(
                partner=target,
                module=call.op.module.value,
                role=call.op.role,
                method=request.method,
                path=_segments(call),
                query=query,
                body=orjson.dumps(body) if body is not None else None,
                from_party=call.from_party or _party_of(caller),
                to_party=to,
                correlation_id=request.correlation_id,
                # a signature signs the values sent: passed on only with the values unchanged
                headers=request.passed if unchanged else None,
            )
        )
        self.counters.losses(caller.id, lost)
        reply, back = _relayed(answer, answer_name, version, source, target, lost)
        self.counters.losses(target.id, back)
        self.counters.forwarded(caller.id, target.id, _outcome(answer))
        return reply

    async def _rewrite_response_url(
        self, call: Call, target: Partner, version: Version, body: Any
    ) -> Any:
        """The request with the hub's ``response_url`` (``{hub}/{module sender}/...``); the
        original is kept under a fresh id to relay the result back."""
        if not isinstance(body, dict) and call.op.module.value != "chargingprofiles":
            return body
        relay_id = uuid.uuid4().hex
        op = call.op
        original: str | None
        if op.module.value == "commands":
            command = call.params["command"].upper()
            original = body.get("response_url")
            url = f"{self.ocpi_url}/{version}/hub/commands/{command}/{relay_id}"
            result_name = "CommandResult"
        else:
            command = f"{op.method}_PROFILE"
            session = call.params["session_id"]
            url = f"{self.ocpi_url}/{version}/hub/chargingprofiles/{session}/{relay_id}"
            result_name = {
                "GET": "ActiveChargingProfileResult",
                "PUT": "ChargingProfileResult",
                "DELETE": "ClearProfileResult",
            }[op.method]
            original = (body or {}).get("response_url") or call.query.get("response_url")
        if not isinstance(original, str) or not original:
            raise InvalidOrMissingParameters(path="response_url")
        await self.storage.commands.save(
            CommandRecord(
                id=relay_id,
                direction=RELAYED,
                command=command,
                state="FORWARDED",
                partner_id=call.partner.id if call.partner else None,
                request={
                    "version": call.version.text,
                    "module": op.module.value,
                    "result": result_name,
                    "target": target.id,
                    "from": _ref(call.from_party),
                },
                response_url=original,
            )
        )
        if isinstance(body, dict) and "response_url" in body:
            return {**body, "response_url": url}
        call.query = {**call.query, "response_url": url}
        return body

    async def _relay_result(self, request: HubRequest) -> Reply:
        """A result POSTed to a response URL the hub gave: converted into the original sender's
        version and POSTed to its own response URL, over its connection."""
        call = request.call
        relay_id = call.params.get("uid") or call.params.get("request_id") or ""
        record = await self.storage.commands.get(RELAYED, relay_id)
        caller = call.partner
        assert caller is not None
        meta = dict(record.request or {}) if record is not None else {}
        if record is None or meta.get("target") != caller.id:
            raise NotFound(f"Unknown request {relay_id!r}")
        partners = {p.id: p for p in await self.partners()}
        origin = partners.get(record.partner_id or "")
        if origin is None or self.forwarder is None:
            raise HubConnectionProblem("The party that sent the request is not connected")
        version = version_of(origin)
        body: Any = call.body
        lost: list[Loss] = []
        if isinstance(body, dict):
            body, lost = _convert(body, str(meta.get("result")), call.version, version, caller)
        answer = await self.forwarder.forward(
            Forward(
                partner=origin,
                module=str(meta.get("module")),
                role=InterfaceRole.SENDER,
                method="POST",
                body=orjson.dumps(body) if body is not None else None,
                from_party=call.from_party or _party_of(caller),
                to_party=_unref(meta.get("from")) or _party_of(origin),
                correlation_id=request.correlation_id,
                url=record.response_url,
            )
        )
        await self.storage.commands.save(replace(record, state="RELAYED", final=True, result=body))
        self.counters.losses(caller.id, lost)
        self.counters.forwarded(caller.id, origin.id, _outcome(answer))
        reply, _ = _relayed(answer, None, version, call.version, origin, lost)
        return reply


# --- helpers ------------------------------------------------------------------------------------
#: the head object of a partial write's body, by operation action
_PARTIAL_BODIES: Mapping[str, str] = {
    "put_evse": "EVSE",
    "patch_evse": "EVSE",
    "put_connector": "Connector",
    "patch_connector": "Connector",
}

#: what the broadcast plan gives back: the document to write and its receivers
Planned = tuple[dict[str, Any] | None, list[str]]


def op_writes_whole(call: Call) -> bool:
    return call.op.method in ("PUT", "POST") and call.op.action in ("put", "post", "put_location")


def _convert(
    body: dict[str, Any], name: str, source: Version, target: Version, caller: Partner
) -> tuple[dict[str, Any], list[Loss]]:
    if source == target:
        return body, []
    from ocpikit.convert import Context

    first = caller.roles[0] if caller.roles else None
    ctx = Context(
        country_code=first.country_code if first else None,
        party_id=first.party_id if first else None,
    )
    try:
        return convert(body, name, source, target, ctx)
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidOrMissingParameters(f"{name} cannot be converted to {target}: {exc}") from None


def _relayed(
    answer: Forwarded,
    name: str | None,
    source: Version,
    target: Version,
    receiver: Partner,
    lost: Sequence[Loss],
) -> tuple[Reply, list[Loss]]:
    """The receiver's answer for the original sender: its data converted back, its status
    relayed (transport_and_format §Message Routing: a hub passes on 2xxx and 3xxx); what the
    conversions of the request (``lost``) and of the answer dropped is named in its
    ``status_message``. Also the losses of the answer's conversion."""
    data = answer.data
    back: list[Loss] = []
    if name is not None and isinstance(data, dict):
        with contextlib.suppress(OcpiError):
            data, back = _convert(data, name, source, target, receiver)
    notes = _describe([*lost, *back], "in conversion")
    message = answer.status_message
    if notes:
        message = "; ".join([m for m in (message, *notes) if m])[:500]
    reply = Reply(
        data=data if data is not None else _unset(),
        http_status=answer.http_status,
        status_code=answer.status_code,
        status_message=message,
    )
    return reply, back


def _outcome(answer: Forwarded) -> str:
    """``delivered`` when the receiver answered 1xxx with a 2xx, else ``receiver_error``."""
    ok = 1000 <= answer.status_code < 2000 and answer.http_status < 400
    return "delivered" if ok else "receiver_error"


def _unset() -> Any:
    from ocpikit.protocol.handlers.base import UNSET

    return UNSET


def _describe(lost: Sequence[Loss], where: str) -> list[str]:
    if not lost:
        return []
    names = sorted({f"{loss.path or loss.rule}" for loss in lost})
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return [f"lost {where}: {shown}"]


def _segments(call: Call) -> tuple[str, ...]:
    """The URL path of ``call`` after the module URL, from its operation's path template."""
    out: list[str] = []
    for part in call.op.path.split("/"):
        if not part:
            continue
        out.append(call.params[part[1:-1]] if part.startswith("{") else part)
    return tuple(out)


def _party_of(partner: Partner) -> PartyRef | None:
    if not partner.roles:
        return None
    first = partner.roles[0]
    return PartyRef(first.country_code, first.party_id)


def _ref(party: PartyRef | None) -> list[str] | None:
    return [party.country_code, party.party_id] if party is not None else None


def _unref(value: Any) -> PartyRef | None:
    if isinstance(value, list) and len(value) == 2:
        return PartyRef(str(value[0]), str(value[1]))
    return None
