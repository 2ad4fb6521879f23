"""Request and routing headers (DIGEST §1.7; ``transport_and_format`` §Unique message IDs,
§Message Routing Headers; 2.2+, none in 2.1.1).

- ``X-Request-ID``: new on every request, echoed by the response; a Hub forwarding a request
  makes a NEW one. ``X-Correlation-ID``: on every request and response; echoed; a Hub
  forwarding keeps the SAME one. :class:`MessageIds` holds both and knows these rules.
- ``OCPI-from-*`` / ``OCPI-to-*``: who sent a message and who it is for, on Functional modules
  only (never on credentials, versions, hubclientinfo). In a response FROM and TO are swapped:
  :meth:`RoutingHeaders.swapped`.
- Header names are case-insensitive everywhere: :func:`get_header`.

Ids come from an injectable factory (default ``uuid4``) so tests are reproducible.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ocpikit.core.types import ci_equal
from ocpikit.core.versions import V2_2_1, ModuleID, Version

__all__ = [
    "AUTHORIZATION",
    "CONFIGURATION_MODULES",
    "CONTENT_TYPE",
    "FUNCTIONAL_MODULES",
    "LINK",
    "OCPI_FROM_COUNTRY_CODE",
    "OCPI_FROM_PARTY_ID",
    "OCPI_TO_COUNTRY_CODE",
    "OCPI_TO_PARTY_ID",
    "X_CORRELATION_ID",
    "X_LIMIT",
    "X_REQUEST_ID",
    "X_TOTAL_COUNT",
    "Headers",
    "IdFactory",
    "LowerHeaders",
    "MessageIds",
    "PartyRef",
    "RoutingHeaders",
    "carries_routing_headers",
    "get_header",
    "new_id",
    "uses_message_ids",
]

AUTHORIZATION = "Authorization"
CONTENT_TYPE = "Content-Type"
X_REQUEST_ID = "X-Request-ID"
X_CORRELATION_ID = "X-Correlation-ID"
OCPI_FROM_COUNTRY_CODE = "OCPI-from-country-code"
OCPI_FROM_PARTY_ID = "OCPI-from-party-id"
OCPI_TO_COUNTRY_CODE = "OCPI-to-country-code"
OCPI_TO_PARTY_ID = "OCPI-to-party-id"
LINK = "Link"
X_TOTAL_COUNT = "X-Total-Count"
X_LIMIT = "X-Limit"

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
"""Anything header-like: a mapping or a sequence of ``(name, value)`` pairs."""

IdFactory = Callable[[], str]

FUNCTIONAL_MODULES: frozenset[str] = frozenset(
    {
        ModuleID.locations,
        ModuleID.sessions,
        ModuleID.cdrs,
        ModuleID.tariffs,
        ModuleID.tokens,
        ModuleID.commands,
        ModuleID.chargingprofiles,
        ModuleID.payments,
        ModuleID.bookings,
    }
)
"""Modules whose requests and responses carry the routing headers (2.2+)."""

CONFIGURATION_MODULES: frozenset[str] = frozenset(
    {"versions", ModuleID.credentials, ModuleID.hubclientinfo}
)
"""Modules that SHALL NOT carry routing headers."""


def new_id() -> str:
    """A fresh message id (a UUID, as the spec advises)."""
    return str(uuid.uuid4())


class LowerHeaders(dict[str, str]):
    """Headers whose names are all lower case (as an ASGI server gives them), first value of
    each name: :func:`get_header` looks them up directly instead of scanning."""


def get_header(headers: Headers, name: str, default: str | None = None) -> str | None:
    """The first value of header ``name``, compared case-insensitively."""
    wanted = name.lower()
    if type(headers) is LowerHeaders:
        return headers.get(wanted, default)
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key.lower() == wanted:
            return value
    return default


_MESSAGE_IDS_SINCE = Version("2.2")


def uses_message_ids(version: Version | str) -> bool:
    """X-Request-ID / X-Correlation-ID exist from 2.2 on."""
    v = version if isinstance(version, Version) else Version(version)
    return v >= _MESSAGE_IDS_SINCE


@functools.lru_cache(maxsize=256)
def carries_routing_headers(module: ModuleID | str, version: Version | str = V2_2_1) -> bool:
    """Whether requests/responses of ``module`` carry OCPI-from/to-* (Functional modules, 2.2+).

    Unknown module identifiers (open enum) are treated as Functional: new modules are.
    """
    if not uses_message_ids(version):
        return False
    key = str(module).lower()
    if key == "booking":  # 2.3.0 bookings identifier is spelled "Booking" (errata A17)
        key = ModuleID.bookings
    return key not in CONFIGURATION_MODULES


@dataclass(frozen=True, slots=True)
class MessageIds:
    """The X-Request-ID / X-Correlation-ID pair of one message."""

    request_id: str
    correlation_id: str

    @classmethod
    def new(cls, correlation_id: str | None = None, *, factory: IdFactory = new_id) -> MessageIds:
        """Ids for a new outgoing request (a new correlation unless one is given)."""
        return cls(factory(), correlation_id if correlation_id else factory())

    @classmethod
    def from_headers(cls, headers: Headers, *, factory: IdFactory = new_id) -> MessageIds:
        """The ids of an incoming message; missing ones (a 2.1.1 or sloppy peer) are made up so
        the response still carries both."""
        request_id = (get_header(headers, X_REQUEST_ID) or "").strip()
        correlation_id = (get_header(headers, X_CORRELATION_ID) or "").strip()
        return cls(request_id or factory(), correlation_id or factory())

    def for_response(self) -> MessageIds:
        """A response echoes both ids."""
        return self

    def forwarded(self, *, factory: IdFactory = new_id) -> MessageIds:
        """What a Hub sends on: a NEW request id, the SAME correlation id."""
        return MessageIds(factory(), self.correlation_id)

    def to_headers(self) -> dict[str, str]:
        return {X_REQUEST_ID: self.request_id, X_CORRELATION_ID: self.correlation_id}


@dataclass(frozen=True, slots=True)
class PartyRef:
    """A party address: CiString(2) country code + CiString(3) party id; equality ignores case."""

    country_code: str
    party_id: str

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartyRef):
            return NotImplemented
        return ci_equal(self.country_code, other.country_code) and ci_equal(
            self.party_id, other.party_id
        )

    def __hash__(self) -> int:
        return hash((self.country_code.upper(), self.party_id.upper()))

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id}"


@dataclass(frozen=True, slots=True)
class RoutingHeaders:
    """OCPI-from/to-* of one message; ``None`` for a party whose headers are absent (e.g. the
    TO of an Open Routing Request, or a peer that omits them)."""

    from_party: PartyRef | None = None
    to_party: PartyRef | None = None

    @classmethod
    def parse(cls, headers: Headers) -> RoutingHeaders:
        """Read the headers; a party counts only when both of its headers are non-empty."""
        if (
            type(headers) is LowerHeaders
            and _FROM_CC not in headers
            and _TO_CC not in headers
            and cls is RoutingHeaders
        ):
            return _NO_ROUTING  # neither party can be there (most 2.1.1-style peers)
        return cls(
            _party(headers, OCPI_FROM_COUNTRY_CODE, OCPI_FROM_PARTY_ID),
            _party(headers, OCPI_TO_COUNTRY_CODE, OCPI_TO_PARTY_ID),
        )

    def swapped(self) -> RoutingHeaders:
        """The routing headers of the response: TO is the requester."""
        return RoutingHeaders(from_party=self.to_party, to_party=self.from_party)

    def to_headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.from_party is not None:
            out[OCPI_FROM_COUNTRY_CODE] = self.from_party.country_code
            out[OCPI_FROM_PARTY_ID] = self.from_party.party_id
        if self.to_party is not None:
            out[OCPI_TO_COUNTRY_CODE] = self.to_party.country_code
            out[OCPI_TO_PARTY_ID] = self.to_party.party_id
        return out


_FROM_CC = OCPI_FROM_COUNTRY_CODE.lower()
_TO_CC = OCPI_TO_COUNTRY_CODE.lower()
_NO_ROUTING = RoutingHeaders()


def _party(headers: Headers, cc_name: str, pid_name: str) -> PartyRef | None:
    cc = (get_header(headers, cc_name) or "").strip()
    pid = (get_header(headers, pid_name) or "").strip()
    return PartyRef(cc, pid) if cc and pid else None
