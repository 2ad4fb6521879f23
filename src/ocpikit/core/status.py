"""THE OCPI status-code table (``status_codes`` chapter of every version; DIGEST §1.4, §1.5).

Every rule that depends on a status code reads this table: the error tree
(:mod:`ocpikit.core.errors`) takes its codes and default HTTP statuses from here, the envelope
module decides "success or not" from here, and the CLI prints meanings from here. House rule 5:
rules that vary are data.

Ranges: ``1xxx`` success, ``2xxx`` client error (the request broke a rule), ``3xxx`` server
error (the answering party failed), ``4xxx`` hub error (2.2+). ``x9xx`` are the custom ranges
(2.2+); standard modules never use them, so :func:`lookup` accepts any code in them (and any
other unlisted four-digit code) and describes it by its range instead of failing: a partner's
private code must not crash us (tolerant when receiving).

Default HTTP statuses. The bugfix branches say a request that "reached the OCPI layer" must not
get an HTTP error, but the same specs demand 404 for unknown tokens (errata A2, A24). We follow
DESIGN §3 instead: bad input is answered HTTP 400 with the precise OCPI code, an unknown token
HTTP 404 with 2004, our own failures HTTP 500 and hub failures with the gateway statuses
(502/504). These are defaults; an error can carry another HTTP status when a rule or a
per-partner quirk asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from ocpikit.core.versions import SUPPORTED_VERSIONS, V2_2_1, Version

__all__ = [
    "STATUS_CODES",
    "StatusCategory",
    "StatusCode",
    "category_of",
    "is_success",
    "lookup",
]


class StatusCategory(StrEnum):
    """Which party a status code blames (the first digit of the code)."""

    SUCCESS = "success"
    CLIENT = "client"
    SERVER = "server"
    HUB = "hub"


_CATEGORY_BY_DIGIT: Mapping[int, StatusCategory] = {
    1: StatusCategory.SUCCESS,
    2: StatusCategory.CLIENT,
    3: StatusCategory.SERVER,
    4: StatusCategory.HUB,
}

_DEFAULT_HTTP: Mapping[StatusCategory, int] = {
    StatusCategory.SUCCESS: 200,
    StatusCategory.CLIENT: 400,
    StatusCategory.SERVER: 500,
    StatusCategory.HUB: 502,
}

_ALL: frozenset[Version] = frozenset(SUPPORTED_VERSIONS)
_FROM_2_2: frozenset[Version] = frozenset(v for v in SUPPORTED_VERSIONS if v >= V2_2_1)


@dataclass(frozen=True, slots=True)
class StatusCode:
    """One row of the status table.

    ``known`` is False for codes that are not in the table (described by their range only);
    ``custom`` is True for the ``x9xx`` ranges. ``versions`` lists the versions that define the
    code; custom and unknown codes are listed with the versions that define their range.
    """

    code: int
    name: str
    meaning: str
    category: StatusCategory
    http_status: int
    versions: frozenset[Version]
    custom: bool = False
    known: bool = True

    @property
    def is_success(self) -> bool:
        return self.category is StatusCategory.SUCCESS

    @property
    def is_error(self) -> bool:
        return not self.is_success

    def exists_in(self, version: Version | str) -> bool:
        """Whether ``version`` defines this code (or its custom range)."""
        v = version if isinstance(version, Version) else Version(version)
        if v in self.versions:
            return True
        # Versions newer than the ones we know keep everything of the newest one we know.
        newest = max(SUPPORTED_VERSIONS)
        return v > newest and newest in self.versions


def _row(
    code: int,
    name: str,
    meaning: str,
    versions: frozenset[Version] = _ALL,
    http_status: int | None = None,
) -> StatusCode:
    category = _CATEGORY_BY_DIGIT[code // 1000]
    return StatusCode(
        code=code,
        name=name,
        meaning=meaning,
        category=category,
        http_status=http_status if http_status is not None else _DEFAULT_HTTP[category],
        versions=versions,
    )


_ROWS: tuple[StatusCode, ...] = (
    _row(1000, "GENERIC_SUCCESS", "Generic success"),
    _row(2000, "GENERIC_CLIENT_ERROR", "Generic client error"),
    _row(2001, "INVALID_OR_MISSING_PARAMETERS", "Invalid or missing parameters"),
    _row(2002, "NOT_ENOUGH_INFORMATION", "Not enough information"),
    _row(2003, "UNKNOWN_LOCATION", "Unknown Location"),
    _row(2004, "UNKNOWN_TOKEN", "Unknown Token", _FROM_2_2, http_status=404),
    _row(3000, "GENERIC_SERVER_ERROR", "Generic server error"),
    _row(3001, "UNABLE_TO_USE_CLIENT_API", "Unable to use the client's API"),
    _row(3002, "UNSUPPORTED_VERSION", "Unsupported version"),
    _row(3003, "NO_MATCHING_ENDPOINTS", "No matching endpoints or expected endpoints missing"),
    _row(4000, "GENERIC_HUB_ERROR", "Generic error in the Hub", _FROM_2_2),
    _row(4001, "UNKNOWN_RECEIVER", "Unknown receiver (TO address is unknown)", _FROM_2_2, 404),
    _row(4002, "HUB_TIMEOUT", "Timeout on forwarded request", _FROM_2_2, 504),
    _row(4003, "HUB_CONNECTION_PROBLEM", "Connection problem (receiver not connected)", _FROM_2_2),
)

STATUS_CODES: Mapping[int, StatusCode] = MappingProxyType({row.code: row for row in _ROWS})
"""The standard codes, keyed by code (custom ranges are described by :func:`lookup`)."""


def category_of(code: int) -> StatusCategory | None:
    """The category of any four-digit OCPI code, or ``None`` when it is not one (e.g. ``200``)."""
    if isinstance(code, bool) or not isinstance(code, int) or not 1000 <= code <= 4999:
        return None
    return _CATEGORY_BY_DIGIT[code // 1000]


def is_success(code: int) -> bool:
    """True for ``1xxx`` codes (DIGEST §1.3: ``data`` only has meaning on these)."""
    return category_of(code) is StatusCategory.SUCCESS


def lookup(code: int) -> StatusCode:
    """The table row for ``code``; custom ``x9xx`` and unlisted codes are described by range.

    Raises :class:`ValueError` only for values that are not four-digit OCPI codes
    (outside 1000–4999), such as an HTTP status sent by mistake.
    """
    row = STATUS_CODES.get(code)
    if row is not None:
        return row
    category = category_of(code)
    if category is None:
        raise ValueError(f"{code!r} is not an OCPI status code (expected 1000-4999)")
    custom = (code // 100) % 10 == 9
    # The custom ranges exist since 2.2; so does every other range of the hub category.
    versions = _FROM_2_2 if custom or category is StatusCategory.HUB else _ALL
    if custom:
        name = f"CUSTOM_{category.name}"
        meaning = f"Custom {category.value} status"
    else:
        name = f"UNKNOWN_{category.name}"
        meaning = f"Unlisted {category.value} status"
    return StatusCode(
        code=code,
        name=name,
        meaning=meaning,
        category=category,
        http_status=_DEFAULT_HTTP[category],
        versions=versions,
        custom=custom,
        known=False,
    )
