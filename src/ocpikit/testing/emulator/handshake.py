"""The credentials handshake, both ways (credentials §Registration, the token A/B/C sequence).

- The platform registers with us: it POSTs its Credentials with our token A; we GET its
  versions and version details with the token it gave us, then answer with our Credentials
  and a new token for it (:func:`accept_registration`).
- We register with the platform (``POST /control/register``): we GET its versions and details
  with its token A, POST our Credentials with a new token for it, and keep the token it
  answers with (:func:`register_with`).
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from .outbound import OutboundError, call
from .state import Emulator, Registration

__all__ = [
    "HandshakeError",
    "accept_registration",
    "our_credentials",
    "platform_roles",
    "register_with",
]


class HandshakeError(Exception):
    """A registration that cannot complete; ``status_code`` is the OCPI code to answer."""

    def __init__(self, message: str, status_code: int = 3001) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def new_token() -> str:
    return "emu-" + secrets.token_urlsafe(24)


def our_credentials(emu: Emulator, token: str) -> dict[str, Any]:
    """Our Credentials object with ``token`` for the platform (credentials §Credentials
    object of our version; the hub's roles as config.py describes)."""
    cfg = emu.config
    party = cfg.party
    cc, pid = party.split("-")
    name = {"cpo": "Emulated CPO", "emsp": "Emulated eMSP", "hub": "Emulated Hub"}[cfg.role]
    if cfg.version == "2.1.1":
        return {
            "token": token,
            "url": emu.versions_url,
            "business_details": {"name": name},
            "country_code": cc,
            "party_id": pid,
        }
    parties = cfg.parties
    if cfg.role == "hub":
        parties = [(party, "HUB")] if cfg.version == "2.2.1" else list(cfg.behind)
    roles = [
        {
            "role": role,
            "business_details": {"name": f"{name} {p}"},
            "country_code": p.split("-")[0],
            "party_id": p.split("-")[1],
        }
        for p, role in parties
    ]
    out: dict[str, Any] = {"token": token, "url": emu.versions_url, "roles": roles}
    if cfg.role == "hub" and cfg.version != "2.2.1":
        out["hub_party_id"] = cc + pid
    return out


def platform_roles(emu: Emulator, credentials: Any) -> list[dict[str, str]]:
    """The platform's parties from its Credentials; a 2.1.1 one names no role, so it gets the
    role opposite to ours."""
    if not isinstance(credentials, dict):
        raise HandshakeError("credentials: expected an object", 2001)
    if emu.config.version == "2.1.1":
        cc, pid = credentials.get("country_code"), credentials.get("party_id")
        if not isinstance(cc, str) or not isinstance(pid, str):
            raise HandshakeError("credentials.country_code/party_id: required in 2.1.1", 2001)
        role = "EMSP" if emu.config.role == "cpo" else "CPO"
        return [{"role": role, "country_code": cc.upper(), "party_id": pid.upper()}]
    roles = credentials.get("roles")
    if not isinstance(roles, list) or not roles:
        raise HandshakeError("credentials.roles: at least one role is required", 2001)
    out = []
    for i, r in enumerate(roles):
        if not isinstance(r, dict) or not all(
            isinstance(r.get(k), str) for k in ("role", "country_code", "party_id")
        ):
            raise HandshakeError(f"credentials.roles[{i}]: role, country_code, party_id", 2001)
        out.append(
            {
                "role": r["role"],
                "country_code": r["country_code"].upper(),
                "party_id": r["party_id"].upper(),
            }
        )
    return out


async def _their_endpoints(
    emu: Emulator, http: httpx.AsyncClient, versions_url: str, token: str
) -> list[dict[str, Any]]:
    """GET the platform's versions, pick ours, GET its details; the endpoints."""
    version = emu.config.version
    try:
        versions = await call(emu, http, "GET", versions_url, token=token, module="versions")
    except OutboundError as exc:
        raise HandshakeError(str(exc)) from exc
    listed = versions.data if isinstance(versions.data, list) else []
    match = next((v for v in listed if isinstance(v, dict) and v.get("version") == version), None)
    if versions.status != 200 or versions.status_code != 1000:
        raise HandshakeError(f"GET {versions_url}: HTTP {versions.status}, {versions.body!r:.200}")
    if match is None or not isinstance(match.get("url"), str):
        offered = [v.get("version") for v in listed if isinstance(v, dict)]
        raise HandshakeError(f"the platform offers {offered}, not {version}", 3002)
    try:
        details = await call(emu, http, "GET", match["url"], token=token, module="versions")
    except OutboundError as exc:
        raise HandshakeError(str(exc)) from exc
    data = details.data
    if details.status_code != 1000 or not isinstance(data, dict):
        raise HandshakeError(f"GET {match['url']}: HTTP {details.status}, {details.body!r:.200}")
    endpoints = data.get("endpoints")
    if not isinstance(endpoints, list):
        raise HandshakeError(f"GET {match['url']}: no endpoints list")
    return [e for e in endpoints if isinstance(e, dict) and isinstance(e.get("url"), str)]


async def accept_registration(
    emu: Emulator, http: httpx.AsyncClient, credentials: Any
) -> dict[str, Any]:
    """The platform's POST of its Credentials (with our token A): our Credentials to answer."""
    roles = platform_roles(emu, credentials)
    token, url = credentials.get("token"), credentials.get("url")
    if not isinstance(token, str) or not token:
        raise HandshakeError("credentials.token: required", 2001)
    if not isinstance(url, str) or not url:
        raise HandshakeError("credentials.url: required", 2001)
    endpoints = await _their_endpoints(emu, http, url, token)
    ours = new_token()
    emu.registration = Registration(
        versions_url=url,
        version=emu.config.version,
        endpoints=endpoints,
        roles=roles,
        inbound_token=ours,
        outbound_token=token,
        initiated_by="platform",
    )
    return our_credentials(emu, ours)


async def register_with(
    emu: Emulator, http: httpx.AsyncClient, versions_url: str, token_a: str
) -> Registration:
    """Register with the platform that gave us ``token_a`` (we are the Sender of the
    handshake); the platform calls back our versions with the token we give it."""
    endpoints = await _their_endpoints(emu, http, versions_url, token_a)
    credentials_url = next(
        (str(e["url"]) for e in endpoints if e.get("identifier") == "credentials"), None
    )
    if credentials_url is None:
        raise HandshakeError("the platform's version details have no credentials endpoint", 3003)
    ours = new_token()
    emu.pending_tokens.add(ours)
    try:
        answer = await call(
            emu,
            http,
            "POST",
            credentials_url,
            token=token_a,
            module="credentials",
            body=our_credentials(emu, ours),
        )
    except OutboundError as exc:
        raise HandshakeError(str(exc)) from exc
    finally:
        emu.pending_tokens.discard(ours)
    data = answer.data
    if answer.status_code != 1000 or not isinstance(data, dict):
        raise HandshakeError(
            f"POST {credentials_url}: HTTP {answer.status}, {answer.body!r:.300}",
            answer.status_code or 3001,
        )
    token = data.get("token")
    if not isinstance(token, str) or not token:
        raise HandshakeError(f"POST {credentials_url}: the answer has no token")
    emu.registration = Registration(
        versions_url=versions_url,
        version=emu.config.version,
        endpoints=endpoints,
        roles=platform_roles(emu, data),
        inbound_token=ours,
        outbound_token=token,
        initiated_by="emulator",
    )
    return emu.registration
