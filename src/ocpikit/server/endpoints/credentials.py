"""The credentials endpoint (OCPI 2.2.1 credentials §Interfaces and endpoints; DIGEST §2.2):
GET answers our credentials for the caller's token; POST registers the caller, PUT updates its
registration (both call it back and answer a fresh token C); DELETE unregisters it. Which
method is allowed in which registration state, and the bookkeeping, are the protocol's
(:mod:`ocpikit.protocol.partner_registration`); this module only reads the request and writes
the answer.
"""

from __future__ import annotations

from ocpikit.core.envelope import success
from ocpikit.protocol.partner_registration import check_credentials_call
from ocpikit.server.adapter import Answer, OcpiRequest
from ocpikit.server.pipeline import RequestContext, read_json, run_endpoint, version_param
from ocpikit.server.platform import Platform

__all__ = ["credentials_endpoint"]


async def credentials_endpoint(platform: Platform, request: OcpiRequest) -> Answer:
    """``GET|POST|PUT|DELETE /ocpi/{version}/credentials``."""

    async def work(context: RequestContext) -> Answer:
        context.auth = auth = await platform.authenticate(request)
        version = version_param(platform, request.path_params["version"])
        context.version = version
        party = platform.home_party(auth)
        method = request.method
        check_credentials_call(method, auth.record.kind, auth.partner)
        registration = platform.registration
        if method == "GET":
            data = registration.our_credentials(version, auth.token, party)
            return 200, success(data, clock=platform.clock).to_json(), {}
        if method == "DELETE":
            assert auth.partner is not None
            await registration.unregister(auth.partner.id)
            platform.auth.forget()
            return 200, success(clock=platform.clock).to_json(), {}
        token_c = await registration.accept(
            method,
            await read_json(request),
            version,
            party,
            token=auth.token,
            caller=auth.partner,
            record=platform.exchange_log.record,
            credential=auth.record,
        )
        platform.auth.forget()
        data = registration.our_credentials(version, token_c, party)
        return 200, success(data, clock=platform.clock).to_json(), {}

    return await run_endpoint(platform, request, "credentials", work)
