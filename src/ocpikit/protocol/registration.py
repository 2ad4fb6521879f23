"""The credentials handshake as explicit state machines, with no I/O (DIGEST §2.2; DESIGN §5).

Two flows, each a transition table plus a generator that *yields* the HTTP requests to send and
*receives* the responses (the shape of httpx's auth flow). A small driver in
``ocpikit.client.registration`` performs the I/O; tests feed canned responses.

- :class:`RegisterFlow`: we initiate (the spec's "Sender" in 2.2+, the "eMSP" in 2.1.1 wording):
  GET their versions with token A → pick the highest mutual version → GET its details →
  POST our credentials (token B) → receive their credentials (token C).
- :class:`AcceptFlow`: we receive a POST/PUT credentials (the spec's "Receiver"): GET their
  versions with token B → the version is the one whose credentials URL they called → GET its
  details → the caller stores everything and answers with a fresh token C.

Each flow reads its transition table (:data:`REGISTER_TRANSITIONS`, :data:`ACCEPT_TRANSITIONS`)
by one named :class:`Event` per answer, as :mod:`ocpikit.protocol.commands` does::

    RegisterFlow: START --versions--> VERSIONS --details--> DETAILS --credentials--> DONE
    AcceptFlow:   START --versions--> VERSIONS --details--> DONE
    both:         START, VERSIONS, DETAILS --error--> FAILED (the flow raises the OCPI error)

A flow closed before it ends (its driver gave up) stays where it was. The bookkeeping around the
flows (what is stored when one ends) is :mod:`ocpikit.protocol.partner_registration`.

:data:`CREDENTIALS_METHODS` is the partner-level table deciding which credentials methods are
allowed in which registration state (405 otherwise).

Errors: answers are OCPI errors from :mod:`ocpikit.core.errors`: 3001 when the other side cannot
be used, 3002 when there is no mutual version, 3003 when required endpoints are missing.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from ocpikit.core.envelope import parse_envelope
from ocpikit.core.errors import (
    InvalidOrMissingParameters,
    MethodNotAllowed,
    NoMatchingEndpoints,
    OcpiError,
    RemoteProtocolError,
    UnableToUseClientApi,
    UnsupportedVersion,
    from_validation_error,
)
from ocpikit.core.versions import V2_2_1, V2_3_0, ModuleID, Role, Version
from ocpikit.models import model_for
from ocpikit.models.base import OcpiModel
from ocpikit.protocol.ports import Endpoint, PartyRole

_log = logging.getLogger(__name__)

__all__ = [
    "ACCEPT_TRANSITIONS",
    "CREDENTIALS_METHODS",
    "REGISTER_TRANSITIONS",
    "AcceptFlow",
    "Event",
    "Handshake",
    "HttpRequest",
    "HttpResponse",
    "PartnerState",
    "RegisterFlow",
    "Step",
    "build_credentials",
    "check_credentials_method",
    "envelope_data",
    "mutual_version",
    "parse_credentials",
    "parse_details",
    "parse_versions",
    "transition",
]


# --- I/O-free request/response ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request the flow wants sent. ``token`` is the raw credentials token; the driver writes
    the Authorization header for ``version`` (raw for 2.1.1, Base64 for 2.2+, DIGEST §1.1);
    ``version`` is ``None`` before a version is known."""

    method: str
    url: str
    token: str
    version: Version | None = None
    body: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What the driver got back. ``status`` 0 with ``error`` set: no HTTP answer at all."""

    status: int
    body: Any = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Handshake:
    """The outcome of a completed flow: what to store about the partner."""

    version: Version
    version_url: str
    endpoints: tuple[Endpoint, ...]
    token: str
    """RegisterFlow: token C (to call them). AcceptFlow: token B (to call them)."""
    parties: tuple[PartyRole, ...]
    versions_url: str
    credentials: dict[str, Any]


class Step(StrEnum):
    """States of both flows: what the flow has received so far."""

    START = "START"
    VERSIONS = "VERSIONS"  # a versions list with a usable version received
    DETAILS = "DETAILS"  # version details with the required endpoints received
    DONE = "DONE"
    FAILED = "FAILED"


class Event(StrEnum):
    """What a flow learnt from one answer of the other side."""

    VERSIONS = "versions"  # their versions list names a version we use
    DETAILS = "details"  # their version details offer every required endpoint
    CREDENTIALS = "credentials"  # their Credentials answer (RegisterFlow only)
    ERROR = "error"  # an answer could not be used: the flow raises its OCPI error


#: (state, event) -> next state of :class:`RegisterFlow`; a pair not listed is a bug
REGISTER_TRANSITIONS: Mapping[tuple[Step, Event], Step] = {
    (Step.START, Event.VERSIONS): Step.VERSIONS,
    (Step.VERSIONS, Event.DETAILS): Step.DETAILS,
    (Step.DETAILS, Event.CREDENTIALS): Step.DONE,
    (Step.START, Event.ERROR): Step.FAILED,
    (Step.VERSIONS, Event.ERROR): Step.FAILED,
    (Step.DETAILS, Event.ERROR): Step.FAILED,
}
#: (state, event) -> next state of :class:`AcceptFlow`: no credentials step, the caller answers
ACCEPT_TRANSITIONS: Mapping[tuple[Step, Event], Step] = {
    (Step.START, Event.VERSIONS): Step.VERSIONS,
    (Step.VERSIONS, Event.DETAILS): Step.DONE,
    (Step.START, Event.ERROR): Step.FAILED,
    (Step.VERSIONS, Event.ERROR): Step.FAILED,
}


def transition(table: Mapping[tuple[Step, Event], Step], state: Step, event: Event) -> Step:
    """The next state by ``table``; an event the table does not list in ``state`` is a
    programming error of the flow (``ValueError``), never a partner's fault."""
    target = table.get((state, event))
    if target is None:
        raise ValueError(f"{event.value} is not allowed in state {state.value}")
    return target


class PartnerState(StrEnum):
    """Registration state of a partner, as the credentials module sees it."""

    INVITED = "INVITED"  # holds token A only
    REGISTERED = "REGISTERED"
    UNREGISTERED = "UNREGISTERED"


#: (state, method) -> next state; a pair not listed is answered HTTP 405 (DIGEST §2.2).
CREDENTIALS_METHODS: Mapping[tuple[PartnerState, str], PartnerState] = {
    (PartnerState.INVITED, "GET"): PartnerState.INVITED,
    (PartnerState.INVITED, "POST"): PartnerState.REGISTERED,
    (PartnerState.REGISTERED, "GET"): PartnerState.REGISTERED,
    (PartnerState.REGISTERED, "PUT"): PartnerState.REGISTERED,
    (PartnerState.REGISTERED, "DELETE"): PartnerState.UNREGISTERED,
}


def check_credentials_method(state: PartnerState, method: str) -> PartnerState:
    """The state after ``method`` on the credentials endpoint; 405 when not allowed."""
    try:
        return CREDENTIALS_METHODS[(state, method.upper())]
    except KeyError:
        if method.upper() == "POST":
            raise MethodNotAllowed("Already registered: use PUT to update credentials") from None
        raise MethodNotAllowed(f"{method.upper()} is not allowed: not registered") from None


# --- parsing helpers (tolerant when receiving) ---------------------------------------------------
def envelope_data(resp: HttpResponse, what: str) -> Any:
    """``data`` of a successful OCPI envelope; raises the partner's error otherwise."""
    if resp.error is not None or resp.status == 0:
        raise UnableToUseClientApi(f"Unable to reach the partner ({what})")
    try:
        env = parse_envelope(resp.body)
    except RemoteProtocolError:
        if resp.status in (401, 403):
            raise UnableToUseClientApi(
                f"The partner refused our token ({what}: HTTP {resp.status})"
            ) from None
        raise RemoteProtocolError(f"{what}: HTTP {resp.status} without an OCPI envelope") from None
    if env.is_success and resp.status < 400:
        return env.data
    if env.is_success:
        raise UnableToUseClientApi(f"{what}: HTTP {resp.status}", http_status=resp.status)
    raise env.to_error(resp.status)


def parse_versions(
    data: Any, aliases: Mapping[str, str] | None = None
) -> list[tuple[Version, str]]:
    """A versions list (tolerates 2.1.1's erroneous ``{"versions": [...]}`` wrapper).
    ``aliases``: version texts read as another (a hub profile's ``version_aliases``, e.g. OCN's
    ``"2.2"`` for 2.2.1); each alias used is logged."""
    if isinstance(data, dict) and isinstance(data.get("versions"), list):
        data = data["versions"]
    if not isinstance(data, list):
        raise RemoteProtocolError("versions: data is not a list")
    out: list[tuple[Version, str]] = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("version"), str):
            url = item.get("url")
            if isinstance(url, str):
                text = item["version"]
                if aliases and text in aliases:
                    _log.info("versions: %r read as %r (version_aliases)", text, aliases[text])
                    text = aliases[text]
                out.append((Version(text), url))
    if not out:
        raise RemoteProtocolError("versions: no usable entry")
    return out


def parse_details(data: Any) -> list[Endpoint]:
    """The endpoints of a version details response."""
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise RemoteProtocolError("version details: no endpoints list")
    out: list[Endpoint] = []
    for item in data["endpoints"]:
        if not isinstance(item, dict):
            continue
        ident, url, role = item.get("identifier"), item.get("url"), item.get("role")
        if not isinstance(ident, str) or not isinstance(url, str):
            continue
        out.append(Endpoint(ident, url, role if isinstance(role, str) else None))
    return out


def mutual_version(ours: Iterable[Version], theirs: Iterable[Version]) -> Version | None:
    """The highest version both sides offer (DIGEST §2.2 step 2)."""
    common = set(ours) & set(theirs)
    return max(common) if common else None


def _credentials_model(version: Version) -> type[OcpiModel]:
    """The Credentials model of ``version``; a newer unknown version is read as head."""
    known = "2.1.1" if version < V2_2_1 else "2.2.1" if version < V2_3_0 else "2.3.0"
    return model_for(known, "Credentials")


def _details(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def parse_credentials(
    body: Any, version: Version, default_role: Role | None = None
) -> tuple[str, str, tuple[PartyRole, ...]]:
    """``(token, url, parties)`` of a Credentials object in ``version``.

    2.1.1 carries one flat party without a role: ``default_role`` is used (DIGEST §2.3).
    Raises 2001 naming the field when something required is missing.
    """
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("Credentials must be a JSON object")
    # The version's Credentials model checks every field (types, lengths, roles); its problems
    # become one 2001 answer naming each JSON path (credentials §Credentials object).
    model = _credentials_model(version)
    try:
        data = model.model_validate(body).dump()
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
    token, url = data["token"], data["url"]
    parties: list[PartyRole] = []
    if version < V2_2_1:
        role = default_role.value if default_role is not None else "OTHER"
        parties.append(
            PartyRole(role, data["country_code"], data["party_id"], data.get("business_details"))
        )
    else:
        for item in data["roles"]:
            parties.append(
                PartyRole(
                    item["role"],
                    item["country_code"],
                    item["party_id"],
                    _details(item.get("business_details")),
                )
            )
    return token, url, tuple(parties)


def build_credentials(
    version: Version, token: str, versions_url: str, parties: Sequence[PartyRole]
) -> dict[str, Any]:
    """Our Credentials object in ``version`` (the token is never Base64 in the body)."""
    if version < V2_2_1:
        first = parties[0]
        return {
            "token": token,
            "url": versions_url,
            "business_details": dict(first.business_details or {"name": first.party_id}),
            "party_id": first.party_id,
            "country_code": first.country_code,
        }
    return {
        "token": token,
        "url": versions_url,
        "roles": [
            {
                "role": p.role,
                "business_details": dict(p.business_details or {"name": p.party_id}),
                "party_id": p.party_id,
                "country_code": p.country_code,
            }
            for p in parties
        ],
    }


def _missing(endpoints: Sequence[Endpoint], required: Iterable[str]) -> list[str]:
    have = {e.identifier for e in endpoints}
    return sorted(m for m in required if m not in have)


class _Machine:
    """The current state of one flow and the states it went through."""

    def __init__(self, table: Mapping[tuple[Step, Event], Step]) -> None:
        self.table = table
        self.state = Step.START
        self.history: list[Step] = [Step.START]

    def fire(self, event: Event) -> None:
        self.state = transition(self.table, self.state, event)
        self.history.append(self.state)


# --- the initiating side -----------------------------------------------------------------------
class RegisterFlow:
    """We register with a partner that gave us ``versions_url`` and token A.

    ``credentials_for(version)`` returns our Credentials body in that version, carrying the token
    B the caller has generated. ``required`` lists module identifiers the partner must offer;
    missing ones stop the flow before the POST (DIGEST §2.2: the Sender must not POST then).
    ``method`` is ``POST`` for a new registration and ``PUT`` to update an existing one (then
    ``token`` is the current token C instead of A).
    """

    def __init__(
        self,
        versions_url: str,
        token: str,
        offered: Sequence[Version],
        credentials_for: Any,
        *,
        required: Iterable[str] = (ModuleID.credentials.value,),
        method: str = "POST",
        default_role: Role | None = None,
        version_aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.versions_url = versions_url
        self.token = token
        self.offered = tuple(offered)
        self.credentials_for = credentials_for
        self.required = tuple(required)
        self.method = method
        self.default_role = default_role
        self.version_aliases = version_aliases
        self.machine = _Machine(REGISTER_TRANSITIONS)

    @property
    def state(self) -> Step:
        return self.machine.state

    def flow(self) -> Generator[HttpRequest, HttpResponse, Handshake]:
        try:
            return (yield from self._flow())
        except OcpiError:
            self.machine.fire(Event.ERROR)
            raise

    def _flow(self) -> Generator[HttpRequest, HttpResponse, Handshake]:
        resp = yield HttpRequest("GET", self.versions_url, self.token)
        versions = parse_versions(envelope_data(resp, "GET versions"), self.version_aliases)
        version = mutual_version(self.offered, (v for v, _ in versions))
        if version is None:
            theirs = ", ".join(str(v) for v, _ in versions)
            ours = ", ".join(str(v) for v in self.offered)
            raise UnsupportedVersion(f"No mutual version: they offer {theirs}, we offer {ours}")
        version_url = next(url for v, url in versions if v == version)
        self.machine.fire(Event.VERSIONS)

        resp = yield HttpRequest("GET", version_url, self.token, version)
        endpoints = parse_details(envelope_data(resp, "GET version details"))
        missing = _missing(endpoints, self.required)
        if missing:
            raise NoMatchingEndpoints(f"The partner lacks required endpoints: {missing}")
        cred_url = next(e.url for e in endpoints if e.identifier == ModuleID.credentials.value)
        self.machine.fire(Event.DETAILS)

        body = self.credentials_for(version)
        resp = yield HttpRequest(self.method, cred_url, self.token, version, body)
        if resp.status == 405:
            raise MethodNotAllowed(
                "The partner answered 405: already registered (use PUT) or not registered"
            )
        data = envelope_data(resp, f"{self.method} credentials")
        token, url, parties = parse_credentials(data, version, self.default_role)
        self.machine.fire(Event.CREDENTIALS)
        return Handshake(
            version=version,
            version_url=version_url,
            endpoints=tuple(endpoints),
            token=token,
            parties=parties,
            versions_url=url,
            credentials=data,
        )


# --- the receiving side ------------------------------------------------------------------------
class AcceptFlow:
    """A partner POSTed (or PUT) its credentials to our credentials URL of ``version``.

    Yields the two GETs back to the partner (with its token B) and returns what to store. Every
    failure to use the partner's API is 3001; the partner not offering ``version`` is 3002;
    missing required endpoints are 3003 (DIGEST §2.2).
    """

    def __init__(
        self,
        credentials: Any,
        version: Version,
        *,
        required: Iterable[str] = (),
        default_role: Role | None = None,
    ) -> None:
        self.version = version
        self.token, self.url, self.parties = parse_credentials(credentials, version, default_role)
        self.credentials = credentials
        self.required = tuple(required)
        self.machine = _Machine(ACCEPT_TRANSITIONS)

    @property
    def state(self) -> Step:
        return self.machine.state

    def flow(self) -> Generator[HttpRequest, HttpResponse, Handshake]:
        try:
            return (yield from self._flow())
        except OcpiError:
            self.machine.fire(Event.ERROR)
            raise

    def _flow(self) -> Generator[HttpRequest, HttpResponse, Handshake]:
        resp = yield HttpRequest("GET", self.url, self.token, None)
        versions = _usable(lambda: parse_versions(envelope_data(resp, "GET versions")))
        match = [url for v, url in versions if v == self.version]
        if not match:
            theirs = ", ".join(str(v) for v, _ in versions)
            raise UnsupportedVersion(
                f"You registered on {self.version} but your versions endpoint offers {theirs}"
            )
        self.machine.fire(Event.VERSIONS)
        resp = yield HttpRequest("GET", match[0], self.token, self.version)
        endpoints = _usable(lambda: parse_details(envelope_data(resp, "GET version details")))
        missing = _missing(endpoints, self.required)
        if missing:
            raise NoMatchingEndpoints(f"Required endpoints missing: {missing}")
        self.machine.fire(Event.DETAILS)
        return Handshake(
            version=self.version,
            version_url=match[0],
            endpoints=tuple(endpoints),
            token=self.token,
            parties=self.parties,
            versions_url=self.url,
            credentials=self.credentials,
        )


def _usable(fn: Any) -> Any:
    """Any failure to use the partner's API while serving their POST is 3001 (DIGEST §2.2)."""
    try:
        return fn()
    except UnableToUseClientApi:
        raise
    except OcpiError as exc:
        raise UnableToUseClientApi(f"Unable to use your API: {exc.message}") from exc
