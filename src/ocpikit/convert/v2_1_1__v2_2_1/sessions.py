"""Sessions between OCPI 2.1.1 and 2.2.1 (DIGEST §6.4).

Up (2.1.1 → 2.2.1): owner from the context (placeholders otherwise), ``start_datetime`` /
``end_datetime`` renamed to ``start_date_time`` / ``end_date_time``, ``auth_id`` → ``cdr_token``
(token cache ``ctx.lookup["token_by_contract_id"]`` or a reported guess), the embedded Location
reduced to ``location_id``/``evse_uid``/``connector_id`` (the rest is reported dropped),
``FLAT`` dimensions dropped, ``total_cost`` number → ``Price{excl_vat}``.

Down (2.2.1 → 2.1.1): the reverse; ``RESERVATION`` → ``PENDING``, ``COMMAND`` →
``AUTH_REQUEST``, the Location from ``ctx.lookup["location"]`` cut to the EVSE and Connector
in use, or a minimal Location with every defaulted field named in the loss.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path
from ocpikit.convert.v2_1_1__v2_2_1 import cdrs as _cdrs
from ocpikit.convert.v2_1_1__v2_2_1 import tariffs as _tariffs

__all__ = ["DOWN", "RULES", "UP"]

_UP = "2.1.1>2.2.1"
_DOWN = "2.2.1>2.1.1"

OWNER = _tariffs.owner_rules("Session")
TOKEN_UP = LossRule(
    f"{_UP} Session.cdr_token",
    "Session",
    "cdr_token",
    "auth_id",
    "cdr_token",
    "defaulted",
    "contract_id = auth_id; uid, type and the eMSP owner come from the token cache, else guessed",
)
LOCATION_UP = LossRule(
    f"{_UP} Session.location",
    "Session",
    "location",
    "location",
    "location_id, evse_uid, connector_id",
    "dropped",
    "the embedded Location is reduced to its ids ('#NA' when it has no EVSE or Connector)",
)
TOKEN_DOWN = LossRule(
    f"{_DOWN} Session.cdr_token",
    "Session",
    "cdr_token",
    "cdr_token",
    "auth_id",
    "dropped",
    "auth_id = cdr_token.contract_id; the token uid, type and owner are lost",
)
AUTH_METHOD_DOWN = LossRule(
    f"{_DOWN} Session.auth_method",
    "Session",
    "auth_method",
    "auth_method",
    "auth_method",
    "renamed-value",
    "COMMAND does not exist in 2.1.1; sent as AUTH_REQUEST",
)
AUTH_REF_DOWN = LossRule(
    f"{_DOWN} Session.authorization_reference",
    "Session",
    "authorization_reference",
    "authorization_reference",
    "(none)",
    "dropped",
    "2.1.1 has no authorization_reference",
)
LOCATION_DOWN = LossRule(
    f"{_DOWN} Session.location",
    "Session",
    "location",
    "location_id, evse_uid, connector_id",
    "location",
    "defaulted",
    "the Location comes from the Locations cache, else a minimal one with defaulted fields",
)
TOTAL_COST_DOWN = LossRule(
    f"{_DOWN} Session.total_cost",
    "Session",
    "total_cost",
    "total_cost (Price)",
    "total_cost (number)",
    "dropped",
    "2.1.1 total_cost excludes VAT; incl_vat is lost",
)
STATUS_DOWN = LossRule(
    f"{_DOWN} Session.status",
    "Session",
    "status",
    "status",
    "status",
    "renamed-value",
    "RESERVATION does not exist in 2.1.1; sent as PENDING (closest meaning)",
)

RULES: list[LossRule] = [
    OWNER,
    TOKEN_UP,
    LOCATION_UP,
    TOKEN_DOWN,
    AUTH_METHOD_DOWN,
    AUTH_REF_DOWN,
    LOCATION_DOWN,
    TOTAL_COST_DOWN,
    STATUS_DOWN,
]


def _location_ids(loc: Any, ctx: Context, path: str) -> dict[str, Any]:
    if not isinstance(loc, dict):
        return {"location_id": loc}
    evses = loc.get("evses") or [{}]
    evse = evses[0] if isinstance(evses[0], dict) else {}
    connectors = evse.get("connectors") or [{}]
    conn = connectors[0] if isinstance(connectors[0], dict) else {}
    ids = {
        "location_id": loc.get("id"),
        "evse_uid": evse.get("uid", "#NA"),
        "connector_id": conn.get("id", "#NA"),
    }
    na = [k for k in ("evse_uid", "connector_id") if ids[k] == "#NA"]
    ctx.lose(LOCATION_UP, path, "ids kept" + (f"; {', '.join(na)} set to #NA" if na else ""))
    return ids


def up_session(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        where = join_path(path, key)
        if key == "start_datetime":
            out["start_date_time"] = value
        elif key == "end_datetime":
            out["end_date_time"] = value
        elif key == "auth_id":
            out["cdr_token"] = _cdrs.up_token(value, ctx, join_path(path, "cdr_token"), TOKEN_UP)
        elif key == "location":
            out.update(_location_ids(value, ctx, where))
        elif key == "charging_periods":
            out[key] = _cdrs.convert_periods(value, ctx, where, True, _cdrs.FLAT_UP)
        elif key == "total_cost":
            out[key] = _cdrs.up_price(value)
        else:
            out[key] = value
    _tariffs.set_owner(out, ctx, path, OWNER)
    return out


def _location_down(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    evse_uid, connector_id = data.get("evse_uid"), data.get("connector_id")
    cached = _cdrs.cached_location(
        ctx, data.get("country_code"), data.get("party_id"), data.get("location_id")
    )
    if cached is not None:
        loc = _cdrs.cut_location(cached, evse_uid, connector_id)
        if loc.get("evses") or evse_uid == "#NA":
            ctx.lose(LOCATION_DOWN, path, "taken from the Locations cache")
            return loc
    loc, defaulted = _cdrs.minimal_location(
        {"id": data.get("location_id")}, evse_uid, connector_id, data.get("last_updated"), None
    )
    ctx.lose(LOCATION_DOWN, path, f"no cached Location; defaulted: {', '.join(defaulted)}")
    return loc


def down_session(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        where = join_path(path, key)
        if key in ("country_code", "party_id", "evse_uid", "connector_id"):
            continue
        if key == "start_date_time":
            out["start_datetime"] = value
        elif key == "end_date_time":
            out["end_datetime"] = value
        elif key == "cdr_token":
            out["auth_id"] = _cdrs.down_token(value, ctx, where, TOKEN_DOWN)
        elif key == "auth_method":
            out[key] = _cdrs.down_auth_method(value, ctx, where, AUTH_METHOD_DOWN)
        elif key == "authorization_reference":
            if value is not None:
                ctx.lose(AUTH_REF_DOWN, where)
        elif key == "location_id":
            out["location"] = _location_down(data, ctx, join_path(path, "location"))
        elif key == "charging_periods":
            out[key] = _cdrs.convert_periods(value, ctx, where, False, _cdrs.DIMENSION_DOWN)
        elif key == "total_cost":
            out[key] = _cdrs.down_price(value, ctx, where, TOTAL_COST_DOWN)
        elif key == "status" and value == "RESERVATION":
            ctx.lose(STATUS_DOWN, where, "RESERVATION → PENDING")
            out[key] = "PENDING"
        else:
            out[key] = value
    return out


UP: dict[str, Converter] = {"Session": up_session}
DOWN: dict[str, Converter] = {"Session": down_session}
