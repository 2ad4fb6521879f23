"""``ocpikit pull`` against an unreliable partner, as real processes over loopback, on SQLite and
PostgreSQL: the CPO's Locations list answers 429 with ``Retry-After``, a 500 HTML page, nothing
in time and a body cut short on its pages' first requests, and one page is down for good. The
first pull stores what it could and says which page failed and why; once the partner is back the
next pull goes on from that page, and every Location is stored."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
import pytest

from ocpikit.protocol.ports import Endpoint, Partner, PartnerStatus, PartyRole
from ocpikit.server.demo import demo_locations
from ocpikit.storage.sql import SqlStorage

from ._nodes import Databases, Instance

pytestmark = pytest.mark.e2e

PAGE = 5
OBJECTS = 23
RETRY_AFTER = 1
CLIENT_TIMEOUT = 1.0
#: the fault of each page's first request, by offset
FIRST_FAULT = {0: "429", 5: "500", 10: "timeout", 15: "short"}
DOWN_AT = 20  # the last page: 500 on every request while ``_Sender.down``


class _Sender(BaseHTTPRequestHandler):
    """The CPO's Locations Sender, paginated by offset with ``Link`` headers."""

    items: list[dict[str, Any]] = []
    arrivals: dict[int, list[float]] = defaultdict(list)
    down = True
    base = ""
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _reply(
        self, status: int, body: bytes, headers: dict[str, str], length: int | None = None
    ) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        offset = int(query.get("offset", "0"))
        with self.lock:
            self.arrivals[offset].append(time.monotonic())
            first = len(self.arrivals[offset]) == 1
        fault = FIRST_FAULT.get(offset, "") if first else ""
        if offset == DOWN_AT and self.down:
            fault = "500"
        chunk = self.items[offset : offset + PAGE]
        headers = {"Content-Type": "application/json", "X-Total-Count": str(len(self.items))}
        if offset + PAGE < len(self.items):
            nxt = urlencode({**query, "offset": offset + PAGE, "limit": PAGE})
            headers["Link"] = f'<{self.base}/2.2.1/locations?{nxt}>; rel="next"'
        body = orjson.dumps(
            {"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z", "data": chunk}
        )
        if fault == "429":
            self._reply(429, b"", {"Retry-After": str(RETRY_AFTER)})
        elif fault == "500":
            self._reply(500, b"<html>Internal Server Error</html>", {"Content-Type": "text/html"})
        elif fault == "timeout":
            time.sleep(CLIENT_TIMEOUT * 3)
            self.close_connection = True
        elif fault == "short":
            self._reply(200, body[: len(body) // 2], headers, len(body))
            self.close_connection = True
        else:
            self._reply(200, body, headers)


@pytest.fixture
def sender() -> Iterator[str]:
    _Sender.items = [
        {**loc, "last_updated": "2026-01-01T00:00:00Z"}
        for loc in demo_locations("NL", "CPO", OBJECTS)
    ]
    _Sender.arrivals = defaultdict(list)
    _Sender.down = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sender)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Sender.base = f"http://127.0.0.1:{server.server_address[1]}/ocpi"
    yield _Sender.base
    server.shutdown()
    server.server_close()


def _pull(emsp: Instance) -> tuple[int, list[dict[str, Any]]]:
    r = emsp.cli("pull", "NL-CPO", "locations", "--limit", str(PAGE), "--json")
    return r.returncode, json.loads(r.stdout or "[]")


def test_a_pull_from_an_unreliable_partner_gets_everything(
    tmp_path: Path, sender: str, databases: Databases
) -> None:
    workdir = tmp_path / "emsp"
    emsp = Instance(workdir, "DE-MSP:EMSP", databases.new(workdir))
    assert emsp.cli("partners").returncode == 0  # the database and the key file

    async def add_partner(s: SqlStorage) -> None:
        await s.partners.save(
            Partner(
                id="NL-CPO",
                status=PartnerStatus.REGISTERED,
                roles=(PartyRole("CPO", "NL", "CPO"),),
                version="2.2.1",
                versions_url=f"{sender}/versions",
                endpoints=(Endpoint("locations", f"{sender}/2.2.1/locations", "SENDER"),),
                outbound_token="token-c",
                local_party=("DE", "MSP"),
                settings={"timeout": CLIENT_TIMEOUT, "pull_retries": 2, "pull_max_wait": 5},
            )
        )

    emsp.run(add_partner)

    status, [row] = _pull(emsp)
    assert status == 1, row
    assert (row["page"], row["attempts"], row["http_status"]) == (5, 3, 500)
    assert row["error"].startswith("page 5 of locations failed after 3 attempts: HTTP 500")

    async def stored(s: SqlStorage) -> set[str]:
        page = await s.objects.list_page("Location", limit=100, owner="NL-CPO")
        return {o.key.id for o in page.items}

    assert len(emsp.run(stored)) == 20  # the four pages that came through are kept
    # each fault was retried; the 429 not before its Retry-After
    assert [len(_Sender.arrivals[o]) for o in (0, 5, 10, 15, 20)] == [2, 2, 2, 2, 3]
    refused, retried = _Sender.arrivals[0]
    assert retried - refused >= RETRY_AFTER - 0.05
    gaps = [b - a for a, b in itertools.pairwise(_Sender.arrivals[DOWN_AT])]
    assert all(g >= 0.2 for g in gaps), gaps  # backed off (0.25 s at the least)

    # the partner is back: the next pull asks for the last page only, and has everything
    _Sender.down = False
    before = {o: len(a) for o, a in _Sender.arrivals.items()}
    status, [row] = _pull(emsp)
    assert status == 0, row
    assert row["complete"] and row["resumed_at"] == 20 and row["created"] == 3
    assert {o: len(a) - before[o] for o, a in _Sender.arrivals.items()} == {
        0: 0,
        5: 0,
        10: 0,
        15: 0,
        20: 1,
    }
    assert emsp.run(stored) == {loc["id"] for loc in _Sender.items}
