"""CDRs between OCPI 2.1.1 and 2.2.1 (DIGEST §6.5, §6.4), and the pieces Sessions shares.

Up (2.1.1 → 2.2.1):

- owner from the context (placeholders ``XX``/``XXX`` otherwise);
- ``stop_date_time`` → ``end_date_time`` (a rename);
- ``auth_id`` → ``cdr_token``: ``ctx.lookup["token_by_contract_id"](auth_id)`` may return the
  head Token (its owner, ``uid`` and ``type`` are then exact); otherwise ``uid`` = ``auth_id``,
  ``type`` = ``OTHER`` and the owner is a placeholder, all reported;
- the embedded Location is flattened into a CdrLocation (its other fields are dropped);
- ``FLAT`` dimensions (gone in 2.2) are dropped, and a period left without dimensions with them;
- ``total_cost`` number → ``Price{excl_vat}``.

Down (2.2.1 → 2.1.1): the reverse, with ``auth_id`` = ``cdr_token.contract_id``, ``COMMAND`` →
``AUTH_REQUEST``, the Location rebuilt from ``ctx.lookup["location"]`` (a head Location, cut to
the EVSE and Connector used and overlaid with the CDR's sealed CdrLocation values) or, without
a cache, a minimal Location from the CdrLocation with the missing fields defaulted and
reported. Cost splits, VAT, signed data, invoice and credit fields have no 2.1.1 form.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path
from ocpikit.convert.v2_1_1__v2_2_1 import tariffs as _tariffs
from ocpikit.core.types import ci_equal

__all__ = ["DOWN", "RULES", "UP"]

_UP = "2.1.1>2.2.1"
_DOWN = "2.2.1>2.1.1"

#: CdrDimensionType values that exist in 2.1.1 (2.2 drops FLAT and adds the rest)
DIMENSIONS_2_1_1 = frozenset(
    {"ENERGY", "FLAT", "MAX_CURRENT", "MIN_CURRENT", "PARKING_TIME", "TIME"}
)
DIMENSIONS_ONLY_2_1_1 = frozenset({"FLAT"})


def _rule(direction: str, obj: str, field: str, src: str, dst: str, kind: Any, note: str) -> Any:
    return LossRule(f"{direction} {obj}.{field}", obj, field, src, dst, kind, note)


OWNER = _tariffs.owner_rules("CDR")
TOKEN_UP = _rule(
    _UP,
    "CDR",
    "cdr_token",
    "auth_id",
    "cdr_token",
    "defaulted",
    "contract_id = auth_id; uid, type and the eMSP owner come from the token cache, else guessed",
)
LOCATION_UP = _rule(
    _UP,
    "CDR",
    "location",
    "location",
    "cdr_location",
    "dropped",
    "only the CdrLocation fields of the embedded Location, EVSE and Connector are kept",
)
FLAT_UP = _rule(
    _UP,
    "ChargingPeriod",
    "dimensions",
    "dimensions[FLAT]",
    "(none)",
    "dropped",
    "CdrDimensionType FLAT does not exist in 2.2",
)
TOKEN_DOWN = _rule(
    _DOWN,
    "CDR",
    "cdr_token",
    "cdr_token",
    "auth_id",
    "dropped",
    "auth_id = cdr_token.contract_id; the token uid, type and owner are lost",
)
AUTH_METHOD_DOWN = _rule(
    _DOWN,
    "CDR",
    "auth_method",
    "auth_method",
    "auth_method",
    "renamed-value",
    "COMMAND does not exist in 2.1.1; sent as AUTH_REQUEST",
)
LOCATION_DOWN = _rule(
    _DOWN,
    "CDR",
    "cdr_location",
    "cdr_location",
    "location",
    "defaulted",
    "a full Location is rebuilt from the Locations cache, else from the CdrLocation with defaults",
)
STATE_DOWN = _rule(
    _DOWN,
    "CDR",
    "cdr_location.state",
    "cdr_location.state",
    "(none)",
    "dropped",
    "2.1.1 Location has no state",
)
TOTAL_COST_DOWN = _rule(
    _DOWN,
    "CDR",
    "total_cost",
    "total_cost (Price)",
    "total_cost (number)",
    "dropped",
    "2.1.1 total_cost is the amount excluding VAT; incl_vat is lost",
)
DROPPED_FIELDS = (
    "authorization_reference",
    "session_id",
    "signed_data",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
    "invoice_reference_id",
    "home_charging_compensation",
)
FIELD_DOWN = {
    name: _rule(_DOWN, "CDR", name, name, "(none)", "dropped", f"2.1.1 CDR has no {name}")
    for name in DROPPED_FIELDS
}
CREDIT_DOWN = _rule(
    _DOWN,
    "CDR",
    "credit/credit_reference_id",
    "credit, credit_reference_id",
    "(none)",
    "dropped",
    "credit CDRs cannot be expressed in 2.1.1 (a negative total has no defined meaning)",
)
TARIFF_ID_DOWN = _rule(
    _DOWN,
    "ChargingPeriod",
    "tariff_id",
    "tariff_id",
    "(none)",
    "dropped",
    "2.1.1 charging periods do not name their tariff",
)
DIMENSION_DOWN = _rule(
    _DOWN,
    "ChargingPeriod",
    "dimensions",
    "dimensions[new types]",
    "(none)",
    "dropped",
    "dimension types added in 2.2 do not exist in 2.1.1; a period left empty is dropped",
)

RULES: list[LossRule] = [
    OWNER,
    TOKEN_UP,
    LOCATION_UP,
    FLAT_UP,
    TOKEN_DOWN,
    AUTH_METHOD_DOWN,
    LOCATION_DOWN,
    STATE_DOWN,
    TOTAL_COST_DOWN,
    *FIELD_DOWN.values(),
    CREDIT_DOWN,
    TARIFF_ID_DOWN,
    DIMENSION_DOWN,
]


# --- shared with sessions ---------------------------------------------------------------------


def up_token(auth_id: Any, ctx: Context, path: str, rule: LossRule) -> dict[str, Any]:
    """A 2.2.1 CdrToken for a 2.1.1 ``auth_id`` (the Token's contract id)."""
    lookup = ctx.lookup.get("token_by_contract_id")
    token = lookup(auth_id) if lookup is not None and isinstance(auth_id, str) else None
    if token is not None:
        return {
            "country_code": token.get("country_code"),
            "party_id": token.get("party_id"),
            "uid": token.get("uid"),
            "type": _token_type_2_2_1(token.get("type")),
            "contract_id": auth_id,
        }
    ctx.lose(rule, path, "no token cache entry: uid = auth_id, type OTHER, owner XX/XXX")
    return {
        "country_code": "XX",
        "party_id": "XXX",
        "uid": auth_id,
        "type": "OTHER",
        "contract_id": auth_id,
    }


def _token_type_2_2_1(value: Any) -> Any:
    # a head (2.3.0) token type unknown to 2.2.1 (e.g. EMAID) has no better 2.2.1 value
    return value if value in {"AD_HOC_USER", "APP_USER", "OTHER", "RFID"} else "OTHER"


def down_token(token: Any, ctx: Context, path: str, rule: LossRule) -> Any:
    """The 2.1.1 ``auth_id`` for a 2.2.1 CdrToken: its ``contract_id``."""
    if not isinstance(token, dict):
        return token
    ctx.lose(rule, path, f"uid {token.get('uid')!r}, type {token.get('type')!r} dropped")
    return token.get("contract_id")


def down_auth_method(value: Any, ctx: Context, path: str, rule: LossRule) -> Any:
    if value == "COMMAND":
        ctx.lose(rule, path, "COMMAND → AUTH_REQUEST")
        return "AUTH_REQUEST"
    return value


def up_charging_period(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    dims = out.get("dimensions")
    if isinstance(dims, list):
        kept = []
        for i, dim in enumerate(dims):
            if isinstance(dim, dict) and dim.get("type") in DIMENSIONS_ONLY_2_1_1:
                ctx.lose(FLAT_UP, join_path(join_path(path, "dimensions"), i))
                continue
            kept.append(dim)
        out["dimensions"] = kept
    return out


def down_charging_period(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    if "tariff_id" in out and out.pop("tariff_id") is not None:
        ctx.lose(TARIFF_ID_DOWN, join_path(path, "tariff_id"), str(data["tariff_id"]))
    dims = out.get("dimensions")
    if isinstance(dims, list):
        kept = []
        for i, dim in enumerate(dims):
            if isinstance(dim, dict) and dim.get("type") not in DIMENSIONS_2_1_1:
                ctx.lose(
                    DIMENSION_DOWN,
                    join_path(join_path(path, "dimensions"), i),
                    str(dim.get("type")),
                )
                continue
            kept.append(dim)
        out["dimensions"] = kept
    return out


def convert_periods(periods: Any, ctx: Context, path: str, up: bool, empty_rule: LossRule) -> Any:
    """Convert a list of charging periods; a period left without dimensions is dropped."""
    if not isinstance(periods, list):
        return periods
    fn = up_charging_period if up else down_charging_period
    out = []
    for i, period in enumerate(periods):
        where = join_path(path, i)
        if not isinstance(period, dict):
            out.append(period)
            continue
        converted = fn(period, ctx, where)
        if isinstance(converted.get("dimensions"), list) and not converted["dimensions"]:
            ctx.lose(empty_rule, where, "period dropped: no dimension left")
            continue
        out.append(converted)
    return out


def up_price(value: Any) -> Any:
    """2.1.1 cost number → 2.2.1 Price (2.1.1 costs exclude VAT; incl_vat is unknown)."""
    if value is None or isinstance(value, dict):
        return value
    return {"excl_vat": value}


def down_price(value: Any, ctx: Context, path: str, rule: LossRule) -> Any:
    """2.2.1 Price → 2.1.1 cost number (``excl_vat``)."""
    if not isinstance(value, dict):
        return value
    if value.get("incl_vat") is not None:
        ctx.lose(rule, path, f"incl_vat {value['incl_vat']} dropped")
    return value.get("excl_vat")


def _six(value: Any) -> Any:
    """A 2.2.1 coordinate (5–7 decimals) as 2.1.1 wants it (exactly 6)."""
    try:
        return f"{Decimal(str(value)):.6f}"
    except ArithmeticError:
        return value


def geo_down(geo: Any, ctx: Context, path: str) -> Any:
    from ocpikit.convert.v2_1_1__v2_2_1 import locations

    if not isinstance(geo, dict):
        return geo
    fn = locations.DOWN.get("GeoLocation")
    if fn is not None:
        return fn(geo, ctx, path)
    out = dict(geo)
    for key in ("latitude", "longitude"):
        if key in out:
            out[key] = _six(out[key])
    return out


def geo_up(geo: Any, ctx: Context, path: str) -> Any:
    from ocpikit.convert.v2_1_1__v2_2_1 import locations

    if not isinstance(geo, dict):
        return geo
    fn = locations.UP.get("GeoLocation")
    return fn(geo, ctx, path) if fn is not None else dict(geo)


def cached_location(
    ctx: Context, country_code: Any, party_id: Any, location_id: Any
) -> dict[str, Any] | None:
    """A cached head Location converted down to 2.1.1 (its own losses are not this object's)."""
    lookup = ctx.lookup.get("location")
    if lookup is None:
        return None
    head = lookup(country_code, party_id, location_id)
    if head is None:
        return None
    from ocpikit.convert.v2_1_1__v2_2_1 import locations as step1
    from ocpikit.convert.v2_2_1__v2_3_0 import locations as step2

    scratch = Context(ctx.country_code, ctx.party_id, ctx.role, ctx.now, ctx.lookup)
    loc = dict(head)
    for fn in (step2.DOWN.get("Location"), step1.DOWN.get("Location")):
        if fn is not None:
            loc = fn(loc, scratch, "")
    return loc


def cut_location(loc: dict[str, Any], evse_uid: Any, connector_id: Any) -> dict[str, Any]:
    """``loc`` with only the EVSE ``evse_uid`` and its Connector ``connector_id``."""
    out = dict(loc)
    evses = [
        dict(e)
        for e in out.get("evses") or []
        if isinstance(e, dict) and ci_equal(str(e.get("uid")), str(evse_uid))
    ]
    for evse in evses:
        evse["connectors"] = [
            c
            for c in evse.get("connectors") or []
            if isinstance(c, dict) and ci_equal(str(c.get("id")), str(connector_id))
        ]
    out["evses"] = [e for e in evses if e["connectors"]]
    return out


def minimal_location(
    fields: dict[str, Any],
    evse_uid: Any,
    connector_id: Any,
    last_updated: Any,
    connector: dict[str, Any] | None,
) -> tuple[dict[str, Any], list[str]]:
    """A 2.1.1 Location from what is known, and the names of the fields that were defaulted."""
    defaults = {
        "type": "UNKNOWN",
        "address": "",
        "city": "",
        "postal_code": "",
        "country": "",
        "coordinates": {"latitude": "0.000000", "longitude": "0.000000"},
    }
    loc: dict[str, Any] = {"id": fields.get("id")}
    defaulted: list[str] = []
    for key in ("type", "name", "address", "city", "postal_code", "country", "coordinates"):
        if fields.get(key) is not None:
            loc[key] = fields[key]
        elif key in defaults:
            loc[key] = defaults[key]
            defaulted.append(key)
    if evse_uid is not None and evse_uid != "#NA" and connector_id not in (None, "#NA"):
        conn: dict[str, Any] = {"id": connector_id}
        conn_defaults = {
            "standard": "IEC_62196_T2",
            "format": "SOCKET",
            "power_type": "AC_3_PHASE",
            "voltage": 0,
            "amperage": 0,
        }
        for key, default in conn_defaults.items():
            if connector is not None and connector.get(key) is not None:
                conn[key] = connector[key]
            else:
                conn[key] = default
                defaulted.append(f"evses[0].connectors[0].{key}")
        conn["last_updated"] = last_updated
        evse: dict[str, Any] = {"uid": evse_uid}
        if fields.get("evse_id") not in (None, "#NA"):
            evse["evse_id"] = fields["evse_id"]
        evse["status"] = "UNKNOWN"
        defaulted.append("evses[0].status")
        evse["connectors"] = [conn]
        evse["last_updated"] = last_updated
        loc["evses"] = [evse]
    loc["last_updated"] = last_updated
    return loc, defaulted


# --- CDR --------------------------------------------------------------------------------------


def _cdr_location_up(loc: Any, ctx: Context, path: str) -> Any:
    if not isinstance(loc, dict):
        return loc
    evses = loc.get("evses") or [{}]
    evse = evses[0] if isinstance(evses[0], dict) else {}
    connectors = evse.get("connectors") or [{}]
    conn = connectors[0] if isinstance(connectors[0], dict) else {}
    out: dict[str, Any] = {"id": loc.get("id")}
    if loc.get("name") is not None:
        out["name"] = loc["name"]
    for key in ("address", "city", "postal_code", "country"):
        if key in loc:
            out[key] = loc[key]
    out["coordinates"] = geo_up(loc.get("coordinates"), ctx, join_path(path, "coordinates"))
    defaulted = []
    out["evse_uid"] = evse.get("uid", "#NA")
    out["evse_id"] = evse.get("evse_id") or "#NA"
    out["connector_id"] = conn.get("id", "#NA")
    for src, dst in (
        ("standard", "connector_standard"),
        ("format", "connector_format"),
        ("power_type", "connector_power_type"),
    ):
        out[dst] = conn.get(src)
    for key in ("evse_uid", "evse_id", "connector_id"):
        if out[key] == "#NA":
            defaulted.append(key)
    detail = "Location reduced to CdrLocation"
    if defaulted:
        detail += f"; {', '.join(defaulted)} set to #NA"
    ctx.lose(LOCATION_UP, path, detail)
    return out


def _location_down(cdr: dict[str, Any], ctx: Context, path: str) -> Any:
    cl = cdr.get("cdr_location")
    if not isinstance(cl, dict):
        return cl
    evse_uid, connector_id = cl.get("evse_uid"), cl.get("connector_id")
    cached = cached_location(ctx, cdr.get("country_code"), cdr.get("party_id"), cl.get("id"))
    if cl.get("state") is not None:
        ctx.lose(STATE_DOWN, join_path(path, "state"), str(cl["state"]))
    coordinates = geo_down(cl.get("coordinates"), ctx, join_path(path, "coordinates"))
    connector = {
        "standard": cl.get("connector_standard"),
        "format": cl.get("connector_format"),
        "power_type": cl.get("connector_power_type"),
    }
    if cached is not None:
        loc = cut_location(cached, evse_uid, connector_id)
        # the CDR is sealed: its own values win over today's Location
        for key in ("name", "address", "city", "postal_code", "country"):
            if cl.get(key) is not None:
                loc[key] = cl[key]
        loc["coordinates"] = coordinates
        for evse in loc.get("evses") or []:
            if cl.get("evse_id") not in (None, "#NA"):
                evse["evse_id"] = cl["evse_id"]
            evse["connectors"] = [{**c, **connector} for c in evse["connectors"]]
        if loc.get("evses"):
            ctx.lose(LOCATION_DOWN, path, "rebuilt from the Locations cache")
            return loc
    fields = {**cl, "coordinates": coordinates}
    loc, defaulted = minimal_location(
        fields, evse_uid, connector_id, cdr.get("last_updated"), connector
    )
    ctx.lose(LOCATION_DOWN, path, f"no cached Location; defaulted: {', '.join(defaulted)}")
    return loc


def up_cdr(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "stop_date_time":
            out["end_date_time"] = value
        elif key == "auth_id":
            out["cdr_token"] = up_token(value, ctx, join_path(path, "cdr_token"), TOKEN_UP)
        elif key == "location":
            out["cdr_location"] = _cdr_location_up(value, ctx, join_path(path, "cdr_location"))
        elif key == "tariffs" and isinstance(value, list):
            out[key] = [
                _tariffs.up_tariff(t, ctx, join_path(join_path(path, key), i))
                if isinstance(t, dict)
                else t
                for i, t in enumerate(value)
            ]
        elif key == "charging_periods":
            out[key] = convert_periods(value, ctx, join_path(path, key), True, FLAT_UP)
        elif key == "total_cost":
            out[key] = up_price(value)
        else:
            out[key] = value
    _tariffs.set_owner(out, ctx, path, OWNER)
    return out


def down_cdr(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    credit_reported = False
    for key, value in data.items():
        where = join_path(path, key)
        if key in ("country_code", "party_id"):
            continue
        if key == "end_date_time":
            out["stop_date_time"] = value
        elif key == "cdr_token":
            out["auth_id"] = down_token(value, ctx, where, TOKEN_DOWN)
        elif key == "auth_method":
            out[key] = down_auth_method(value, ctx, where, AUTH_METHOD_DOWN)
        elif key == "cdr_location":
            out["location"] = _location_down(data, ctx, where)
        elif key == "tariffs" and isinstance(value, list):
            out[key] = [
                _tariffs.down_tariff(t, ctx, join_path(where, i)) if isinstance(t, dict) else t
                for i, t in enumerate(value)
            ]
        elif key == "charging_periods":
            out[key] = convert_periods(value, ctx, where, False, DIMENSION_DOWN)
        elif key == "total_cost":
            out[key] = down_price(value, ctx, where, TOTAL_COST_DOWN)
        elif key in FIELD_DOWN:
            if value is not None:
                ctx.lose(FIELD_DOWN[key], where)
        elif key in ("credit", "credit_reference_id"):
            if value not in (None, False) and not credit_reported:
                ctx.lose(CREDIT_DOWN, where)
                credit_reported = True
        else:
            out[key] = value
    return out


UP: dict[str, Converter] = {"CDR": up_cdr, "ChargingPeriod": up_charging_period}
DOWN: dict[str, Converter] = {"CDR": down_cdr, "ChargingPeriod": down_charging_period}
