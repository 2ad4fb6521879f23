"""The functional modules' endpoints, one per operation of the endpoint table
(:data:`ocpikit.protocol.endpoints.OPERATIONS`) and role implementing it, bound to the protocol
handlers (:data:`ocpikit.protocol.handlers.HANDLERS`); no module logic lives here.

Only a token C of a REGISTERED partner opens them (token A: 401, DIGEST §1.1). On 2.2+ the
``OCPI-to-*`` routing headers pick which of our parties a request is for (OCPI 2.2.1
transport_and_format §Message routing); a party we do not host is a 2001 naming the header.
"""

from __future__ import annotations

from ocpikit.core.errors import InvalidOrMissingParameters, NotFound, Unauthorized
from ocpikit.core.headers import RoutingHeaders
from ocpikit.core.versions import V2_2_1, Role
from ocpikit.protocol.endpoints import Operation, side_of
from ocpikit.protocol.handlers import HANDLERS, Call
from ocpikit.protocol.ports import PartnerStatus, TokenKind
from ocpikit.server.adapter import Answer, OcpiRequest
from ocpikit.server.auth import Authenticated
from ocpikit.server.pipeline import (
    Endpoint,
    RequestContext,
    read_json,
    run_endpoint,
    version_param,
)
from ocpikit.server.platform import Platform
from ocpikit.server.replies import reply_body
from ocpikit.server.settings import PartyConfig

__all__ = ["module_endpoint", "public_url"]


def module_endpoint(op: Operation, role: Role) -> Endpoint:
    """The endpoint of ``op`` as the party of ``role`` implements it."""
    handler = HANDLERS[op.name]
    module = op.module.value
    has_body = op.method in ("POST", "PUT", "PATCH")

    async def endpoint(platform: Platform, request: OcpiRequest) -> Answer:
        async def work(context: RequestContext) -> Answer:
            version = version_param(platform, request.path_params["version"])
            context.version = version
            if version not in op.versions:
                raise NotFound(f"{module} has no such endpoint in {version}")
            auth = await platform.authenticate(request)
            context.auth = auth
            if (
                auth.record.kind is TokenKind.A
                or auth.partner is None
                or auth.partner.status is not PartnerStatus.REGISTERED
            ):
                raise Unauthorized("This token may only use versions and credentials")
            party = _resolve_party(platform, context, request, auth)
            context.party = party
            if role not in party.roles or version not in party.versions:
                raise NotFound(f"{party.key} offers no {side_of(role)} {module} in {version}")
            body = await read_json(request) if has_body else None
            params = {k: v for k, v in request.path_params.items() if k != "version"}
            call = Call(
                version=version,
                op=op,
                params=params,
                query=request.query(),
                body=body,
                partner=auth.partner,
                party=platform.own(party),
                url=public_url(platform, request),
                module_url=platform.module_url(version, role, module),
                from_party=context.routing.from_party if context.routing is not None else None,
                own_parties=platform.own_party_keys,
            )
            reply = await handler(call, platform.services)
            return reply.http_status, reply_body(reply, platform.clock), reply.headers

        return await run_endpoint(platform, request, module, work)

    return endpoint


def public_url(platform: Platform, request: OcpiRequest) -> str:
    """The request URL as partners know it (base URL + path + query): pagination links must
    point at the public address, not at whatever host a proxy forwarded to."""
    qs = request.query_string
    return platform.settings.base_url + request.full_path + (f"?{qs}" if qs else "")


def _resolve_party(
    platform: Platform, context: RequestContext, request: OcpiRequest, auth: Authenticated
) -> PartyConfig:
    """The party the request is for: the caller's home party (the one of ours it registered
    with). On 2.2+ its ``OCPI-to-*`` headers may name it, and only it: a connection never
    reaches another of our parties (2001 naming the header; OCPI 2.2.1 transport_and_format
    §Message routing)."""
    party = platform.home_party(auth)
    if context.version is not None and context.version >= V2_2_1:
        routing = RoutingHeaders.parse(request.headers.lower)
        context.routing = routing
        target = routing.to_party
        if target is not None:
            try:
                named = platform.party_config(target.country_code, target.party_id)
            except ValueError:
                raise InvalidOrMissingParameters(
                    f"OCPI-to-party-id {target} is not a party of this platform",
                    path="OCPI-to-party-id",
                ) from None
            if named.key != party.key:
                raise InvalidOrMissingParameters(
                    f"OCPI-to-party-id {target} is not the party this connection is "
                    "registered with",
                    path="OCPI-to-party-id",
                )
    return party
