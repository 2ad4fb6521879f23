"""Tokens between OCPI 2.1.1 and 2.2.1 (DIGEST §3.5, §6.7).

Up (2.1.1 → 2.2.1):

- ``Token``: ``auth_id`` is renamed ``contract_id`` (lossless). The owner
  (``country_code``/``party_id``) is not in a 2.1.1 Token; it comes from ``ctx`` (the URL or
  the eMSP's credentials), else the placeholders ``XX``/``XXX`` are written and reported.
- ``LocationReferences``: ``connector_ids`` no longer exists and is dropped.
- ``AuthorizationInfo``: 2.2.1 requires the ``token`` the answer is about, which a 2.1.1 answer
  lacks. It is rebuilt from ``ctx.lookup["token"]()`` (called without arguments; the caller
  knows the ``token_uid`` and ``type`` of the authorize request it made and returns that Token,
  in head form, or as much of it as it knows, e.g. ``{"uid": ..., "type": ...}``). Fields still
  missing are defaulted and reported: owner from ``ctx``, ``uid``/``contract_id``/``issuer``
  ``#NA`` (transport_and_format §No data available), ``type`` ``RFID`` (the authorize
  request's default), ``valid`` from ``allowed``, ``whitelist`` ``NEVER`` (always ask: the
  safe reading), ``last_updated`` ``ctx.now``.

Down (2.2.1 → 2.1.1):

- ``Token``: ``AD_HOC_USER``/``APP_USER`` become ``OTHER``; ``group_id``,
  ``default_profile_type`` and ``energy_contract`` are dropped; the owner is dropped (a 2.1.1
  peer reads it from the URL, so this is reported only when it differs from ``ctx``).
- ``AuthorizationInfo``: ``authorization_reference`` is dropped. The embedded ``token`` is
  removed without a report: it is the Token the 2.1.1 requester named in its request URL.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossKind, LossRule, join_path
from ocpikit.convert.v2_2_1__v2_3_0.tokens import TOKEN_TYPES_221
from ocpikit.convert.v2_2_1__v2_3_0.tokens import down_token as _head_token_to_221
from ocpikit.core.types import format_datetime

__all__ = [
    "DOWN",
    "RULES",
    "UP",
    "down_authorization_info",
    "down_token",
    "up_authorization_info",
    "up_location_references",
    "up_token",
]

PLACEHOLDER_COUNTRY_CODE = "XX"
PLACEHOLDER_PARTY_ID = "XXX"
NO_DATA = "#NA"


def _rule(direction: str, obj: str, field: str, kind: LossKind, note: str) -> LossRule:
    source, target = ("2.1.1", "2.2.1") if direction == "up" else ("2.2.1", "2.1.1")
    return LossRule(f"{source}>{target} {obj}.{field}", obj, field, source, target, kind, note)


COUNTRY_CODE_UP = _rule(
    "up", "Token", "country_code", "defaulted", "not in 2.1.1; from ctx, else placeholder XX"
)
PARTY_ID_UP = _rule(
    "up", "Token", "party_id", "defaulted", "not in 2.1.1; from ctx, else placeholder XXX"
)
COUNTRY_CODE_DOWN = _rule(
    "down", "Token", "country_code", "dropped", "2.1.1 carries the owner only in the URL"
)
PARTY_ID_DOWN = _rule(
    "down", "Token", "party_id", "dropped", "2.1.1 carries the owner only in the URL"
)
TYPE_DOWN = _rule(
    "down", "Token", "type", "renamed-value", "AD_HOC_USER and APP_USER do not exist; sent as OTHER"
)
GROUP_ID_DOWN = _rule("down", "Token", "group_id", "dropped", "no token groups in 2.1.1")
PROFILE_DOWN = _rule(
    "down", "Token", "default_profile_type", "dropped", "no smart-charging preferences in 2.1.1"
)
ENERGY_CONTRACT_DOWN = _rule(
    "down", "Token", "energy_contract", "dropped", "no energy contracts in 2.1.1"
)
CONNECTOR_IDS_UP = _rule(
    "up", "LocationReferences", "connector_ids", "dropped", "removed in 2.2 as not usable"
)
AUTH_TOKEN_UP = _rule(
    "up",
    "AuthorizationInfo",
    "token",
    "defaulted",
    "required in 2.2.1, absent in 2.1.1: from ctx.lookup['token'], missing fields defaulted",
)
AUTH_REFERENCE_DOWN = _rule(
    "down", "AuthorizationInfo", "authorization_reference", "dropped", "not in 2.1.1"
)

RULES: list[LossRule] = [
    COUNTRY_CODE_UP,
    PARTY_ID_UP,
    COUNTRY_CODE_DOWN,
    PARTY_ID_DOWN,
    TYPE_DOWN,
    GROUP_ID_DOWN,
    PROFILE_DOWN,
    ENERGY_CONTRACT_DOWN,
    CONNECTOR_IDS_UP,
    AUTH_TOKEN_UP,
    AUTH_REFERENCE_DOWN,
]


def up_token(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 Token → 2.2.1 Token."""
    out: dict[str, Any] = {}
    if "country_code" not in data:
        out["country_code"] = ctx.country_code
        if ctx.country_code is None:
            out["country_code"] = PLACEHOLDER_COUNTRY_CODE
            ctx.lose(COUNTRY_CODE_UP, join_path(path, "country_code"), "placeholder XX")
    if "party_id" not in data:
        out["party_id"] = ctx.party_id
        if ctx.party_id is None:
            out["party_id"] = PLACEHOLDER_PARTY_ID
            ctx.lose(PARTY_ID_UP, join_path(path, "party_id"), "placeholder XXX")
    for key, value in data.items():
        out["contract_id" if key == "auth_id" else key] = value
    return out


def down_token(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 Token → 2.1.1 Token."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "contract_id":
            out["auth_id"] = value
        elif key == "country_code":
            if ctx.country_code is None or ctx.country_code.upper() != str(value).upper():
                ctx.lose(COUNTRY_CODE_DOWN, join_path(path, key), str(value))
        elif key == "party_id":
            if ctx.party_id is None or ctx.party_id.upper() != str(value).upper():
                ctx.lose(PARTY_ID_DOWN, join_path(path, key), str(value))
        elif key in ("group_id", "default_profile_type", "energy_contract"):
            if value is not None:
                rule = {
                    "group_id": GROUP_ID_DOWN,
                    "default_profile_type": PROFILE_DOWN,
                    "energy_contract": ENERGY_CONTRACT_DOWN,
                }[key]
                ctx.lose(rule, join_path(path, key))
        elif key == "type" and isinstance(value, str) and value not in ("OTHER", "RFID"):
            out[key] = "OTHER"
            ctx.lose(TYPE_DOWN, join_path(path, key), f"{value} -> OTHER")
        else:
            out[key] = value
    return out


def up_location_references(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 LocationReferences → 2.2.1: ``connector_ids`` is dropped."""
    out = dict(data)
    connector_ids = out.pop("connector_ids", None)
    if connector_ids:
        ctx.lose(CONNECTOR_IDS_UP, join_path(path, "connector_ids"), ",".join(connector_ids))
    return out


def _rebuilt_token(allowed: Any, ctx: Context, path: str) -> dict[str, Any]:
    lookup = ctx.lookup.get("token")
    found: dict[str, Any] = dict(lookup() or {}) if lookup is not None else {}
    if isinstance(found.get("type"), str) and found["type"] not in TOKEN_TYPES_221:
        found = _head_token_to_221(found, ctx, path)  # head (2.3.0) form from the cache
    defaults: dict[str, Any] = {
        "country_code": ctx.country_code or PLACEHOLDER_COUNTRY_CODE,
        "party_id": ctx.party_id or PLACEHOLDER_PARTY_ID,
        "uid": NO_DATA,
        "type": "RFID",
        "contract_id": found.get("uid", NO_DATA),
        "issuer": NO_DATA,
        "valid": allowed == "ALLOWED",
        "whitelist": "NEVER",
        "last_updated": format_datetime(ctx.now),
    }
    missing = [key for key in defaults if key not in found]
    if missing:
        ctx.lose(AUTH_TOKEN_UP, path, "defaulted: " + ", ".join(missing))
    return {**{key: defaults[key] for key in missing}, **found}


def up_authorization_info(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 AuthorizationInfo → 2.2.1: the required ``token`` is rebuilt (module docstring)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        out[key] = value
        if key == "allowed":
            out["token"] = _rebuilt_token(value, ctx, join_path(path, "token"))
        elif key == "location" and isinstance(value, dict):
            out[key] = up_location_references(value, ctx, join_path(path, key))
    if "token" not in out:
        out["token"] = _rebuilt_token(None, ctx, join_path(path, "token"))
    return out


def down_authorization_info(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 AuthorizationInfo → 2.1.1: ``token`` removed, ``authorization_reference`` lost."""
    out = dict(data)
    out.pop("token", None)
    reference = out.pop("authorization_reference", None)
    if reference is not None:
        ctx.lose(AUTH_REFERENCE_DOWN, join_path(path, "authorization_reference"), reference)
    return out


UP: dict[str, Converter] = {
    "Token": up_token,
    "LocationReferences": up_location_references,
    "AuthorizationInfo": up_authorization_info,
}
DOWN: dict[str, Converter] = {
    "Token": down_token,
    "AuthorizationInfo": down_authorization_info,
}
