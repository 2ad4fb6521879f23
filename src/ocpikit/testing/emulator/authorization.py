"""How the emulated CPO answers a driver's RFID tap at one of its charge points (OCPP
Authorize): from the tokens the eMSP pushed to it, or by asking the eMSP in real time.

The decision (2.2.1 mod_tokens §Token Object, §WhitelistType, §POST authorize):

- a stored token that is not ``valid`` is BLOCKED; one whose ``whitelist`` is ALWAYS or ALLOWED
  (the default) is ALLOWED from the list (auth method WHITELIST);
- otherwise (ALLOWED_OFFLINE, NEVER, or a token we do not hold) the eMSP's Tokens Sender is
  asked (``POST {tokens}/{uid}/authorize`` with the Location and EVSE): its ``allowed`` and
  ``authorization_reference`` decide (auth method AUTH_REQUEST), an unknown token (2004) is
  NOT_ALLOWED;
- when the eMSP cannot be asked or gives no usable answer, an ALLOWED_OFFLINE token is ALLOWED
  from the list, anything else NOT_ALLOWED.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .actions import ActionError, authorize_at_platform
from .state import Emulator

__all__ = ["Authorization", "authorize", "cdr_token", "local_decision", "stored_token"]


@dataclass(frozen=True)
class Authorization:
    """The answer to one tap: an AllowedType, the CdrToken (2.2.1 form) a Session carries,
    the auth method and the eMSP's authorization reference."""

    allowed: str
    token: dict[str, Any] | None
    method: str
    reference: str | None = None


def cdr_token(token: Mapping[str, Any], party: str | None) -> dict[str, Any]:
    """The CdrToken (2.2.1 mod_cdrs §CdrToken) of a Token of any version; ``party``
    (``CC-PID``) when the token names none (2.1.1)."""
    cc, pid = (party or "XX-XXX").split("-")
    uid = str(token.get("uid"))
    return {
        "country_code": str(token.get("country_code") or cc),
        "party_id": str(token.get("party_id") or pid),
        "uid": uid,
        "type": str(token.get("type") or "RFID"),
        "contract_id": str(token.get("contract_id") or token.get("auth_id") or uid),
    }


def stored_token(emu: Emulator, uid: str) -> tuple[str, dict[str, Any]] | None:
    """The eMSP's pushed token ``uid`` (CiString: any case) and its party, if we hold it."""
    wanted = uid.upper()
    for (module, party, key), token in emu.stored.items():
        if module == "tokens" and key.upper() == wanted:
            return party, token
    return None


def local_decision(token: Mapping[str, Any]) -> str | None:
    """The AllowedType a stored token gives without asking the eMSP; None: ask it."""
    if not token.get("valid", False):
        return "BLOCKED"
    if token.get("whitelist", "ALLOWED") in ("ALWAYS", "ALLOWED"):
        return "ALLOWED"
    return None


async def _ask(
    emu: Emulator, http: httpx.AsyncClient, uid: str, party: str, location_id: str, evse_uid: str
) -> Authorization | None:
    body = {
        "token_uid": uid,
        "type": "RFID",
        "location_id": location_id,
        "evse_uids": [evse_uid],
        "party": party,
    }
    try:
        answer = await authorize_at_platform(emu, http, body)
    except ActionError:
        return None
    reg = emu.registration
    emsp = reg.party("EMSP") if reg is not None else None
    data = answer.get("data")
    if answer.get("status_code") == 2004:
        return Authorization("NOT_ALLOWED", None, "AUTH_REQUEST")
    if answer.get("status_code") != 1000 or not isinstance(data, dict):
        return None
    allowed = data.get("allowed")
    if not isinstance(allowed, str):
        return None
    token = data.get("token")
    if not isinstance(token, dict):
        held = stored_token(emu, uid)
        token = held[1] if held else {"uid": uid, "type": "RFID"}
    reference = data.get("authorization_reference")
    return Authorization(
        allowed,
        cdr_token(token, emsp),
        "AUTH_REQUEST",
        reference if isinstance(reference, str) else None,
    )


async def authorize(
    emu: Emulator,
    http: httpx.AsyncClient,
    uid: str,
    *,
    party: str,
    location_id: str,
    evse_uid: str,
) -> Authorization:
    """Decide on token ``uid`` tapped at EVSE ``evse_uid`` of Location ``location_id`` of our
    CPO ``party`` (see the module docstring)."""
    held = stored_token(emu, uid)
    token = cdr_token(held[1], held[0]) if held else None
    local = local_decision(held[1]) if held else None
    if local is not None:
        return Authorization(local, token, "WHITELIST")
    asked = await _ask(emu, http, uid, party, location_id, evse_uid)
    if asked is not None:
        return asked
    if held and held[1].get("whitelist") == "ALLOWED_OFFLINE":
        return Authorization("ALLOWED", token, "WHITELIST")
    return Authorization("NOT_ALLOWED", token, "AUTH_REQUEST")
