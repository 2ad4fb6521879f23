"""Every OCPI route under random, mostly broken requests from an authenticated partner: no
request is ever answered with a 500 or anything but an OCPI envelope.

Hypothesis draws a route of the table (``ocpikit.server.routes``), fills its path parameters
with realistic or hostile text (percent-encoded: any character reaches the endpoint), adds
query parameters, routing headers and a body, and sends it to a platform holding both roles,
registered with a partner. Bodies are the spec's examples (tests/data/spec) with a field
replaced by a random JSON value or removed, random JSON, or bytes that are no JSON. What must
hold for each request: the answer is not 5xx, is JSON with an integer ``status_code`` and a
``timestamp``, and a 2xx answer carries a 1xxx status (OCPI 2.2.1 transport_and_format
§Response format, status_codes §1xxx-§3xxx).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from ocpikit.core.versions import Role
from ocpikit.protocol.ports import Storage
from ocpikit.server.app import platform_of
from ocpikit.server.demo import load_demo
from ocpikit.server.routes import ocpi_routes
from ocpikit.server.settings import Limits
from ocpikit.storage import MemoryStorage, SqlStorage

from .conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "spec"
SEEDS = [
    json.loads((EXAMPLES / version / "examples" / f"{name}.json").read_text())
    for version in ("2.2.1", "2.3.0")
    for name in (
        "location_example",
        "session_example_2_short_finished",
        "cdr_example",
        "tariff_4_complex",
        "token_example_2_full_rfid",
    )
]
#: the routes of a platform with a CPO and an eMSP role (the HUB and PTP sides answer 404 there)
#: and without the credentials' writes (a DELETE ends the connection the requests run on; the
#: handshake has tests of its own)
ROUTES = [
    r
    for r in ocpi_routes()
    if (len(r.segments) < 4 or r.segments[2] in ("cpo", "emsp"))
    and (r.module != "credentials" or r.method == "GET")
]

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
HOSTILE = st.text(min_size=1, max_size=48)
#: path parameters by name: mostly values that reach the endpoint's own checks (our versions,
#: the peer's or our party, ids of the spec's examples), sometimes any text
PARAMS = {
    "version": st.sampled_from(["2.1.1", "2.2.1", "2.3.0"]),
    "country_code": st.sampled_from(["DE", "DE", "NL", "BE"]),
    "party_id": st.sampled_from(["MSP", "MSP", "CPO", "BEC"]),
    "command": st.sampled_from(
        ["START_SESSION", "STOP_SESSION", "RESERVE_NOW", "CANCEL_RESERVATION", "UNLOCK_CONNECTOR"]
    ),
}
IDS = st.sampled_from(["LOC1", "3256", "1", "12345", "101", "14", "BE*BEC*E041503001", "S1"])


def _param(name: str) -> st.SearchStrategy[str]:
    """One in eight any text: a request with several parameters still mostly reaches its
    endpoint's own checks."""
    realistic = PARAMS.get(name, IDS)
    return st.integers(min_value=0, max_value=7).flatmap(lambda n: HOSTILE if n == 0 else realistic)


QUERY = st.dictionaries(
    st.sampled_from(
        ["offset", "limit", "date_from", "date_to", "type", "country_code", "party_id", "x"]
    ),
    st.sampled_from(["0", "-1", "10", "99999999999999999999", "2026-01-01T00:00:00Z", ""])
    | st.text(max_size=30),
    max_size=3,
)
ROUTING = st.dictionaries(
    st.sampled_from(
        [
            "OCPI-from-country-code",
            "OCPI-from-party-id",
            "OCPI-to-country-code",
            "OCPI-to-party-id",
        ]
    ),
    st.sampled_from(["NL", "CPO", "DE", "MSP", "XX", "", "ZZZZ"]),
    max_size=4,
)


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A spec example with one field, at any depth, replaced or removed."""
    doc = json.loads(json.dumps(draw(st.sampled_from(SEEDS))))
    node: Any = doc
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if not isinstance(node[key], dict | list) or draw(st.booleans()):
                if draw(st.booleans()):
                    del node[key]
                else:
                    node[key] = draw(JSON_VALUES)
                return doc
            node = node[key]
        elif isinstance(node, list) and node:
            at = draw(st.integers(min_value=0, max_value=len(node) - 1))
            if not isinstance(node[at], dict | list):
                node[at] = draw(JSON_VALUES)
                return doc
            node = node[at]
    return doc


#: the path parameter naming the object of a module URL, as the object's own field
_OBJECT_ID = {"location_id": "id", "session_id": "id", "cdr_id": "id", "tariff_id": "id"}


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes]:
    route = draw(st.sampled_from(ROUTES))
    values = {name: draw(_param(name)) for name in route.params}
    params = iter(values[name] for name in route.params)
    path = "/" + "/".join(
        seg if seg is not None else quote(next(params), safe="") for seg in route.segments
    )
    query = draw(QUERY)
    if query:
        path += "?" + urlencode(query)
    method = draw(st.sampled_from([route.method] * 6 + ["GET", "PUT", "PATCH", "POST"]))
    if method == "GET":
        return method, path, draw(ROUTING), b""
    doc = draw(mutated() | JSON_VALUES)
    if isinstance(doc, dict) and draw(st.booleans()):
        # the object where the URL puts it: deeper into the receiver's checks
        for name, value in values.items():
            if name in ("country_code", "party_id"):
                doc[name] = value
            elif name in _OBJECT_ID or name == "token_uid":
                doc["uid" if name == "token_uid" else _OBJECT_ID[name]] = value
    body = draw(st.just(json.dumps(doc).encode()) | st.binary(max_size=64) | st.just(b""))
    return method, path, draw(ROUTING), body


@pytest.fixture
async def platform_and_token(storage_url: str) -> AsyncIterator[tuple[Node, str]]:
    """Our platform (CPO and eMSP, on memory, SQLite or PostgreSQL storage, no rate limits)
    and the token of a peer eMSP registered with it."""
    storage: Storage = (
        MemoryStorage() if storage_url == "memory" else SqlStorage.from_url(storage_url)
    )
    router = Router()
    unlimited = Limits(requests_per_second=0, failed_auth_per_minute=0)
    roles = (Role.CPO, Role.EMSP)
    ours = make_node(router, "ours.test", "NL", "CPO", roles, storage=storage, limits=unlimited)
    peer = make_node(router, "peer.test", "DE", "MSP", (Role.EMSP,))
    await load_demo(ours.storage, [("NL", "CPO", ("CPO", "EMSP"))], locations=5)
    await peer.register(ours)
    to_us = await peer.storage.partners.get("NL-CPO")  # the peer's token for calling us
    assert to_us is not None and to_us.outbound_token
    try:
        yield ours, to_us.outbound_token
    finally:
        await platform_of(ours.app).exchange_log.flush()
        await storage.aclose()


def _drawn(count: int) -> list[tuple[str, str, dict[str, str], bytes]]:
    """``count`` requests drawn by hypothesis (its runner is synchronous: the requests are
    drawn first and sent afterwards; a fixed seed keeps a failure reproducible)."""
    drawn: list[tuple[str, str, dict[str, str], bytes]] = []

    @seed(20261206)
    @settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(requests())
    def collect(request: tuple[str, str, dict[str, str], bytes]) -> None:
        drawn.append(request)

    collect()
    return drawn


async def test_no_request_gets_a_500_or_a_non_envelope(
    platform_and_token: tuple[Node, str],
) -> None:
    node, token = platform_and_token
    requests_sent = _drawn(1500)
    assert len(requests_sent) >= 1000
    problems: list[str] = []
    async with node.client(token) as http:
        for method, path, routing, body in requests_sent:
            headers = {"Content-Type": "application/json", **routing}
            r = await http.request(method, path, content=body, headers=headers)
            problem = _problem(r.status_code, r.content)
            if problem:
                problems.append(f"{method} {path} {routing} {body[:200]!r}: {problem}")
    assert not problems, "\n".join(problems[:20])


def _problem(status: int, content: bytes) -> str | None:
    """What is wrong with an answer, if anything (see the module docstring)."""
    if status >= 500:
        return f"HTTP {status}: {content[:300]!r}"
    try:
        envelope = json.loads(content)
    except ValueError:
        return f"HTTP {status}, not JSON: {content[:200]!r}"
    if not isinstance(envelope, dict):
        return f"HTTP {status}, not an envelope: {content[:200]!r}"
    code = envelope.get("status_code")
    if not isinstance(code, int) or "timestamp" not in envelope:
        return f"HTTP {status}, no status_code/timestamp: {content[:200]!r}"
    if 200 <= status < 300 and not 1000 <= code < 2000:
        return f"HTTP {status} with status_code {code}"
    return None
