"""The module endpoints of a HUB party (``/ocpi/{version}/hub/{module}{path}``,
:func:`ocpikit.protocol.endpoints.hub_interfaces`): one route per method and path shape of a
module, whose operation the caller's role picks
(:func:`ocpikit.protocol.hub_routing.pick_operation`); the work is the hub's use case
(:class:`ocpikit.operations.hub_relay.HubRelay`), no module logic lives here.

Only a token C of a REGISTERED partner opens them, as every module endpoint; the party must be
a HUB party (404 otherwise). On 2.2+ the ``OCPI-to-*`` headers name the receiver (OCPI 2.2.1
transport_and_format §Message Routing).
"""

from __future__ import annotations

from ocpikit.core.errors import NotFound, Unauthorized
from ocpikit.core.headers import RoutingHeaders
from ocpikit.core.versions import V2_2_1, ModuleID, Role
from ocpikit.operations.hub_relay import HubRequest
from ocpikit.protocol.endpoints import Operation
from ocpikit.protocol.handlers import Call
from ocpikit.protocol.hub_routing import path_params, pick_operation
from ocpikit.protocol.ports import PartnerStatus, TokenKind
from ocpikit.protocol.profiles import passed_headers
from ocpikit.server.adapter import Answer, OcpiRequest
from ocpikit.server.endpoints.modules import public_url
from ocpikit.server.pipeline import Endpoint, RequestContext, read_json, run_endpoint, version_param
from ocpikit.server.platform import Platform
from ocpikit.server.replies import reply_body

__all__ = ["hub_endpoint"]


def hub_endpoint(module: ModuleID, candidates: tuple[Operation, ...]) -> Endpoint:
    """The endpoint of one hub route: ``candidates`` share its method and path shape."""
    name = module.value

    async def endpoint(platform: Platform, request: OcpiRequest) -> Answer:
        async def work(context: RequestContext) -> Answer:
            version = version_param(platform, request.path_params["version"])
            context.version = version
            ops = [op for op in candidates if version in op.versions]
            if not ops:
                raise NotFound(f"{name} has no such endpoint in {version}")
            auth = await platform.authenticate(request)
            context.auth = auth
            partner = auth.partner
            if (
                auth.record.kind is TokenKind.A
                or partner is None
                or partner.status is not PartnerStatus.REGISTERED
            ):
                raise Unauthorized("This token may only use versions and credentials")
            party = platform.home_party(auth)
            context.party = party
            relay = platform.hub
            if Role.HUB not in party.roles or relay is None or version not in party.versions:
                raise NotFound(f"{party.key} is no hub in {version}")
            routing = RoutingHeaders.parse(request.headers.lower) if version >= V2_2_1 else None
            context.routing = routing
            op = pick_operation(ops, (await relay.roles([partner]))[partner.id])
            values = [v for k, v in request.path_params.items() if k != "version"]
            has_body = op.method in ("POST", "PUT", "PATCH")
            call = Call(
                version=version,
                op=op,
                params=path_params(op, values),
                query=dict(request.query()),
                body=await read_json(request) if has_body else None,
                partner=partner,
                party=platform.own(party),
                url=public_url(platform, request),
                module_url=platform.module_url(version, Role.HUB, name),
                from_party=routing.from_party if routing is not None else None,
                own_parties=platform.own_party_keys,
            )
            reply = await relay.handle(
                HubRequest(
                    call,
                    request.method,
                    to_party=routing.to_party if routing is not None else None,
                    correlation_id=context.ids.correlation_id if context.ids else None,
                    passed=passed_headers(partner.settings, request.headers.lower),
                )
            )
            return reply.http_status, reply_body(reply, platform.clock), reply.headers

        return await run_endpoint(platform, request, name, work)

    return endpoint
