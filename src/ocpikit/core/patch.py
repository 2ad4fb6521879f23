"""PATCH merging on JSON dicts, driven by a rules table (DIGEST §1.9; house rule 5).

Default merge (:func:`merge_patch`): objects merge recursively, lists are replaced, a ``null``
sets the field to ``null`` (PATCH cannot remove information; a PUT can). What differs per
object and version is a row of :data:`PATCH_RULES`, not code:

- ``allowed``: Tariff PATCH exists in 2.1.1 only (2.2 removed it: "use PUT"); CDRs, Commands,
  ChargingProfiles and credentials have none. A PATCH that is not allowed raises
  :class:`~ocpikit.core.errors.MethodNotAllowed` (HTTP 405).
- ``last_updated``: required in 2.2+ on Locations (Location, EVSE, Connector), Sessions, Tokens
  and Bookings; missing → the 2001 error naming ``last_updated``.
- ``append``: list fields a PATCH appends to instead of replacing: Session
  ``charging_periods`` (2.2+; an empty list means no change).
- ``identity``: key fields a PATCH may repeat but not change (URL id ≠ body id → 2001).

Location PATCHes address the Location, one of its EVSEs or one Connector by URL segments;
:func:`apply_location_patch` finds the target and, when the PATCH carries ``last_updated``,
sets it on the parents too (the Receiver SHALL; GET-list date filters rely on it).

Inputs are never mutated; every function returns new dicts.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ocpikit.core.errors import InvalidOrMissingParameters, MethodNotAllowed, NotFound
from ocpikit.core.types import ci_equal
from ocpikit.core.versions import V2_1_1, V2_3_0, ModuleID, Version

__all__ = [
    "PATCH_RULES",
    "PatchRule",
    "apply_location_patch",
    "apply_patch",
    "check_patch",
    "merge_patch",
    "patch_rule",
]

JsonObject = dict[str, Any]

_V2_2 = Version("2.2")


@dataclass(frozen=True, slots=True)
class PatchRule:
    """How PATCH works for one object in the versions ``since`` ≤ v < ``until``."""

    module: str
    object: str
    since: Version = V2_1_1
    until: Version | None = None
    allowed: bool = True
    last_updated: bool = False
    append: frozenset[str] = frozenset()
    identity: tuple[str, ...] = ()

    def applies_to(self, version: Version) -> bool:
        return self.since <= version and (self.until is None or version < self.until)


_OWNED = ("country_code", "party_id", "id")

PATCH_RULES: tuple[PatchRule, ...] = (
    # Locations: PATCH on the Location, an EVSE or a Connector URL.
    PatchRule(ModuleID.locations, "Location", until=_V2_2, identity=("id",)),
    PatchRule(ModuleID.locations, "Location", since=_V2_2, last_updated=True, identity=_OWNED),
    PatchRule(ModuleID.locations, "EVSE", until=_V2_2, identity=("uid",)),
    PatchRule(ModuleID.locations, "EVSE", since=_V2_2, last_updated=True, identity=("uid",)),
    PatchRule(ModuleID.locations, "Connector", until=_V2_2, identity=("id",)),
    PatchRule(ModuleID.locations, "Connector", since=_V2_2, last_updated=True, identity=("id",)),
    # Sessions: 2.2+ appends charging_periods.
    PatchRule(ModuleID.sessions, "Session", until=_V2_2, identity=("id",)),
    PatchRule(
        ModuleID.sessions,
        "Session",
        since=_V2_2,
        last_updated=True,
        append=frozenset({"charging_periods"}),
        identity=_OWNED,
    ),
    # Tokens.
    PatchRule(ModuleID.tokens, "Token", until=_V2_2, identity=("uid",)),
    PatchRule(
        ModuleID.tokens, "Token", since=_V2_2, last_updated=True, identity=(*_OWNED[:2], "uid")
    ),
    # Tariffs: PATCH removed in 2.2.
    PatchRule(ModuleID.tariffs, "Tariff", until=_V2_2, identity=("id",)),
    PatchRule(ModuleID.tariffs, "Tariff", since=_V2_2, allowed=False),
    # CDRs cannot be replaced, updated or removed.
    PatchRule(ModuleID.cdrs, "CDR", allowed=False),
    # Bookings (2.3.0 add-on).
    PatchRule(ModuleID.bookings, "Booking", since=V2_3_0, last_updated=True, identity=_OWNED),
    PatchRule(
        ModuleID.bookings, "BookingLocation", since=V2_3_0, last_updated=True, identity=_OWNED
    ),
    PatchRule(ModuleID.bookings, "Calendar", since=V2_3_0, last_updated=True, identity=("id",)),
    # Payments: terminal assignment. Examples omit last_updated (DIGEST §3.9): not required.
    PatchRule(ModuleID.payments, "Terminal", since=V2_3_0, identity=("terminal_id",)),
)


def patch_rule(module: ModuleID | str, object_name: str, version: Version | str) -> PatchRule:
    """The rule for PATCHing ``object_name`` of ``module`` in ``version``.

    Raises :class:`MethodNotAllowed` when that version has no PATCH for the object.
    """
    v = version if isinstance(version, Version) else Version(version)
    for rule in PATCH_RULES:
        if rule.module == str(module) and rule.object == object_name and rule.applies_to(v):
            if not rule.allowed:
                break
            return rule
    raise MethodNotAllowed(f"PATCH of {object_name} is not supported in OCPI {v}; use PUT")


def check_patch(
    patch: Mapping[str, Any],
    module: ModuleID | str,
    object_name: str,
    version: Version | str,
    *,
    current: Mapping[str, Any] | None = None,
) -> PatchRule:
    """Check a PATCH body against its rule: allowed, ``last_updated`` present when required,
    identity fields unchanged (compared case-insensitively, CiString) when ``current`` is
    given. Returns the rule."""
    rule = patch_rule(module, object_name, version)
    if rule.last_updated and patch.get("last_updated") is None:
        raise InvalidOrMissingParameters(
            "last_updated: Field required in a PATCH request", path="last_updated"
        )
    if current is not None:
        for key in rule.identity:
            new, old = patch.get(key), current.get(key)
            if key in patch and old is not None and not _same_id(new, old):
                raise InvalidOrMissingParameters(
                    f"{key}: {new!r} does not match the object being patched ({old!r})", path=key
                )
    return rule


def _same_id(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return ci_equal(a, b)
    return bool(a == b)


def merge_patch(
    current: Mapping[str, Any], patch: Mapping[str, Any], *, append: frozenset[str] = frozenset()
) -> JsonObject:
    """Merge ``patch`` into ``current``: objects recursively, lists replaced, except top-level
    keys in ``append``, whose non-empty lists are appended.

    Neither input is modified: the result is new along the patched paths and shares the
    untouched parts of ``current`` (a deep copy of a whole Session per PATCH was most of the
    merge's cost); values taken from ``patch`` are copied."""
    result: JsonObject = dict(current)
    for key, value in patch.items():
        if key in append:
            if not value:  # omitted, null or empty: no change
                continue
            if not isinstance(value, list):
                raise InvalidOrMissingParameters(f"{key}: must be a list", path=key)
            old = result.get(key)
            result[key] = [*(old if isinstance(old, list) else []), *copy.deepcopy(value)]
        elif type(value) in _SCALARS:
            # what deepcopy would give back (a scalar is its own copy), without its dispatch,
            # nor the Mapping checks (ABC isinstance): most PATCHes set a few scalars
            result[key] = value
        elif isinstance(value, Mapping) and isinstance(old := result.get(key), Mapping):
            result[key] = merge_patch(old, value)
        else:
            result[key] = copy.deepcopy(value)
    return result


#: immutable JSON scalars (exact types: a subclass takes the general path)
_SCALARS = frozenset({str, int, float, bool, type(None)})


def apply_patch(
    current: Mapping[str, Any],
    patch: Mapping[str, Any],
    module: ModuleID | str,
    object_name: str,
    version: Version | str,
) -> JsonObject:
    """Check ``patch`` against the rules table and merge it into ``current``."""
    rule = check_patch(patch, module, object_name, version, current=current)
    return merge_patch(current, patch, append=rule.append)


def apply_location_patch(
    location: Mapping[str, Any],
    patch: Mapping[str, Any],
    version: Version | str,
    *,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> JsonObject:
    """PATCH a Location, one of its EVSEs (``evse_uid``) or one Connector (``connector_id``
    too). Unknown EVSE or Connector → :class:`NotFound`. Returns the new Location."""
    if connector_id is not None and evse_uid is None:
        raise InvalidOrMissingParameters("evse_uid: needed to address a Connector", path="evse_uid")
    if evse_uid is None:
        return apply_patch(location, patch, ModuleID.locations, "Location", version)

    result: JsonObject = copy.deepcopy(dict(location))
    evses = result.get("evses") or []
    e_index = _find(evses, "uid", evse_uid)
    if e_index is None:
        raise NotFound(f"EVSE {evse_uid} not found in Location {location.get('id')}")
    evse: JsonObject = evses[e_index]
    if connector_id is None:
        evse = apply_patch(evse, patch, ModuleID.locations, "EVSE", version)
    else:
        connectors = evse.get("connectors") or []
        c_index = _find(connectors, "id", connector_id)
        if c_index is None:
            raise NotFound(f"Connector {connector_id} not found in EVSE {evse_uid}")
        connectors[c_index] = apply_patch(
            connectors[c_index], patch, ModuleID.locations, "Connector", version
        )
        evse = {**evse, "connectors": connectors}
        if patch.get("last_updated") is not None:
            evse["last_updated"] = patch["last_updated"]
    evses[e_index] = evse
    result["evses"] = evses
    if patch.get("last_updated") is not None:
        result["last_updated"] = patch["last_updated"]
    return result


def _find(items: list[Any], key: str, wanted: str) -> int | None:
    for index, item in enumerate(items):
        if (
            isinstance(item, Mapping)
            and isinstance(item.get(key), str)
            and ci_equal(item[key], wanted)
        ):
            return index
    return None
