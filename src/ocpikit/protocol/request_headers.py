"""The headers of a request we send to a partner (OCPI 2.2.1 ``transport_and_format``
§Request format, §Unique message IDs, §Message Routing Headers; DIGEST §1.7).

Invariants: every request asks for JSON; from 2.2 on it carries a new ``X-Request-ID`` and an
``X-Correlation-ID`` (new, or the one given); ``OCPI-from/to-*`` only on the functional modules
of 2.2+ (:func:`~ocpikit.core.headers.carries_routing_headers`), and only for the parties that
are known; ``Content-Type`` only with a body. ``Authorization`` is set per attempt by the
request driver (:mod:`ocpikit.protocol.auth_retry`). Pure: no I/O.
"""

from __future__ import annotations

from ocpikit.core.auth import authorization_header
from ocpikit.core.headers import (
    AUTHORIZATION,
    CONTENT_TYPE,
    IdFactory,
    MessageIds,
    PartyRef,
    RoutingHeaders,
    carries_routing_headers,
    new_id,
)
from ocpikit.core.versions import V2_2_1, Version

__all__ = ["AuthorizationValues", "request_headers"]

JSON = "application/json"


def request_headers(
    version: Version | None,
    module: str,
    *,
    has_body: bool,
    from_party: PartyRef | None = None,
    to_party: PartyRef | None = None,
    correlation_id: str | None = None,
    id_factory: IdFactory = new_id,
    always_route: bool = False,
) -> tuple[dict[str, str], MessageIds | None]:
    """The headers of one request (without ``Authorization``) and its message ids (``None``
    before 2.2, and for ``version=None``: a request before any version is agreed carries ids
    as 2.2+ does, so they are returned then too). ``always_route``: routing headers on every
    module but Credentials (a hub that demands them everywhere, the ``routing_headers_always``
    switch)."""
    headers: dict[str, str] = {"Accept": JSON}
    ids: MessageIds | None = None
    if version is None or version >= V2_2_1:
        ids = MessageIds.new(correlation_id, factory=id_factory)
        headers.update(ids.to_headers())
        if version is not None and (
            carries_routing_headers(module, version)
            or (always_route and module.lower() != "credentials")
        ):
            headers.update(RoutingHeaders(from_party=from_party, to_party=to_party).to_headers())
    if has_body:
        headers[CONTENT_TYPE] = JSON
    return headers, ids


class AuthorizationValues:
    """``Authorization`` values of one token, built once per encoding (True: Base64). The
    token never leaves this object except inside the header value."""

    __slots__ = ("_token", "_values")

    def __init__(self, token: str) -> None:
        self._token = token
        self._values: dict[bool, str] = {}

    def __repr__(self) -> str:  # never show the secret
        return "AuthorizationValues(***)"

    def value(self, base64_encode: bool) -> str:
        known = self._values.get(base64_encode)
        if known is None:
            known = self._values[base64_encode] = authorization_header(
                self._token, base64_encode=base64_encode
            )
        return known

    def set_on(self, headers: dict[str, str], base64_encode: bool) -> None:
        headers[AUTHORIZATION] = self.value(base64_encode)
