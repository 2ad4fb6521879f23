"""The versions list and version details endpoints (OCPI 2.2.1 version_information_endpoint
§Version information endpoint, §Version details endpoint). Any known token opens them, token A
included (DIGEST §1.1); each caller sees the versions and modules of the party it talks to."""

from __future__ import annotations

from typing import Any

import orjson

from ocpikit.core.envelope import success_around
from ocpikit.core.errors import NotFound
from ocpikit.core.versions import V2_2_1, Version
from ocpikit.protocol.endpoints import interfaces_for
from ocpikit.protocol.ports import Partner
from ocpikit.protocol.profiles import effective_settings
from ocpikit.server.adapter import Answer, OcpiRequest
from ocpikit.server.pipeline import RequestContext, run_endpoint, version_param
from ocpikit.server.platform import Platform
from ocpikit.server.settings import PartyConfig

__all__ = ["details_data", "details_endpoint", "slash_endpoints", "versions_endpoint"]


async def versions_endpoint(platform: Platform, request: OcpiRequest) -> Answer:
    """``GET /ocpi/versions``: the versions of the caller's party, with their URLs."""

    async def work(context: RequestContext) -> Answer:
        context.auth = auth = await platform.authenticate(request)
        party = platform.home_party(auth)
        return 200, _around(platform, _versions_json(platform, party)), {}

    return await run_endpoint(platform, request, "versions", work)


def _versions_json(platform: Platform, party: PartyConfig) -> bytes:
    """The JSON of ``party``'s versions list, dumped once (it depends on the settings only)."""
    key = ("versions", party.key)
    data = platform.settled_json.get(key)
    if data is None:
        listed = [{"version": v.text, "url": platform.version_url(v)} for v in party.versions]
        data = platform.settled_json[key] = orjson.dumps(listed)
    return data


def _answer(platform: Platform, data: Any) -> bytes:
    """The success envelope around ``data`` (plain JSON values: strings in lists and dicts,
    dumped as they are; byte for byte what ``success(data).to_json()`` gives)."""
    return _around(platform, orjson.dumps(data))


def _around(platform: Platform, data: bytes) -> bytes:
    """The success envelope around the JSON ``data``."""
    head, tail = success_around(clock=platform.clock)
    return head + data + tail


def details_data(
    platform: Platform, party: PartyConfig, version: Version, *, slash: bool = False
) -> dict[str, Any]:
    """The version details of ``party`` in ``version``: credentials, then each module
    interface the party's roles implement (with its role from 2.2 on). ``slash``: every URL
    ends with ``/`` (:func:`slash_endpoints`)."""
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
    if slash:
        for row in endpoints:
            row["url"] += "/"
    return {"version": version.text, "endpoints": endpoints}


def slash_endpoints(partner: Partner | None) -> bool:
    """Whether ``partner`` is given endpoint URLs ending with ``/``: its ``slash_endpoints``
    switch. The 2.2.1 structure definitions append to the endpoint URL without a slash
    (``{locations_endpoint_url}{country_code}/...``, DIGEST §3.0 AMBIG) and the 2.2.1 examples
    end URLs with one; a partner that concatenates literally needs the slash from us. Our
    routes read a path with or without a trailing slash alike."""
    if partner is None:
        return False
    return effective_settings(partner.settings).get("slash_endpoints") is True


async def details_endpoint(platform: Platform, request: OcpiRequest) -> Answer:
    """``GET /ocpi/{version}``: the version details; 404 for a version the party lacks."""

    async def work(context: RequestContext) -> Answer:
        context.auth = auth = await platform.authenticate(request)
        version = version_param(platform, request.path_params["version"])
        party = platform.home_party(auth)
        if version not in party.versions:
            raise NotFound(f"Version {version} is not offered")
        slash = slash_endpoints(auth.partner)
        return 200, _answer(platform, details_data(platform, party, version, slash=slash)), {}

    return await run_endpoint(platform, request, "versions", work)
