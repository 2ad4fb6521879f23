"""ocpikit as a hub: forwarded Session PUTs and a merged open-routing page, each against the same
requests sent directly to the party that answers them (docs/hubs.md "ocpikit as a hub").

Four ``ocpikit serve`` processes (one uvicorn worker each, SQLite), every party registered only
with the hub through the real credentials handshake, all on OCPI 2.2.1: the hub (``NL-HUB``), an
eMSP (``NL-EMX``) and two CPOs (``NL-CPA``, ``NL-CPB``) that each push :data:`LOCATIONS`
Locations through the hub (the hub keeps them: ``[hub] store = true``).

1. **Session PUTs** at 16 and 64 concurrent keep-alive clients (``_servers.http_load``):
   ``PUT /ocpi/2.2.1/hub/sessions/NL/CPB/{id}`` with CPO-B's token at the hub and
   ``OCPI-to-*: NL EMX`` (forwarded to the eMSP and its answer relayed), against
   ``PUT /ocpi/2.2.1/emsp/sessions/NL/CPB/{id}`` sent to the eMSP directly with the hub's
   own token there (the very request the hub sends). Target: through the hub >= 50 %.
2. **A merged page of 100 Locations**: eMSP-X's ``GET /ocpi/2.2.1/hub/locations?offset=50&
   limit=100`` (no ``OCPI-to-*``: the last 50 of CPO-A and the first 50 of CPO-B) and the first
   page (``offset=0``), against ``GET /ocpi/2.2.1/cpo/locations?offset=0&limit=100`` sent to
   CPO-A directly; first served from the hub's store, then, the hub restarted with
   ``[hub] store = false``, asked of both CPOs live. Target: >= 25 %.
3. **Memory**: the hub's RSS sampled about every tenth of ``--requests`` Session PUTs through
   it (default 20,000; ``--requests 100000`` for the long run), and its CPU per forwarded PUT:
   after the warm-up (the first fifth) it should stay flat.

Rounds alternate (hub, direct, ...; medians compared, ``_servers.compare``); the "bare" column
of its output is the direct request, and each side's CPU per request is printed (user and
system time of its process: steadier than the rates on a shared machine). Only the ratios
mean something: the machines are noisy, and here the hub, the party behind it and the load
generator share the cores.

``--against SRC``: instead, the hub alone is restarted again and again, alternately on the
source tree ``SRC`` (e.g. ``git archive`` of another commit) and on this one, the other three
processes staying as they are; per round the hub's CPU per forwarded PUT and the rate against
the direct one, then the medians of each tree (the A/B of a change to the hub).
``--profile FILE``: only the PUTs at 16 clients, the hub under cProfile.

Run: ``.venv/bin/python bench/bench_hub.py [--seconds 2] [--rounds 5] [--requests 100000]
[--against SRC] [--profile FILE]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import (
    compare,
    cpu_seconds,
    free_port,
    http_load,
    peak_rss_mb,
    platform_env,
    rss_mb,
    start_platform,
)

#: Locations each CPO holds
LOCATIONS = 100
SESSIONS = 500
VERSION = "2.2.1"
HUB_CONFIG = "[outbox]\nfirst_pull = false\n\n[hub]\nprobe_interval = 0\nstore = {store}\n"


class Node:
    """One ``ocpikit serve`` of the bench, with its directory, database and CLI."""

    def __init__(self, root: Path, name: str, party: str, versions: str | None) -> None:
        self.workdir = root / name
        self.workdir.mkdir()
        self.port = free_port()
        self.db = f"sqlite:///{self.workdir / 'ocpikit.db'}"
        self.env = platform_env(self.db, self.port, party)
        if versions:
            self.env["OCPIKIT_VERSIONS"] = versions
        (self.workdir / "ocpikit.toml").write_text(
            HUB_CONFIG.format(store="true") if name == "hub" else "[outbox]\nfirst_pull = false\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, profile: Path | None = None) -> None:
        extra = {k: v for k, v in self.env.items() if k == "OCPIKIT_VERSIONS"}
        self.proc = start_platform(
            self.workdir, self.db, self.port, self.env["OCPIKIT_PARTY"], extra, profile=profile
        )

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "ocpikit.cli.main", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args}: {done.stdout}{done.stderr}")
        return done.stdout

    def outbound_token(self, partner_id: str) -> str:
        """The token this node uses at ``partner_id`` (from its database, decrypted)."""
        from ocpikit.storage.sql import SqlStorage
        from ocpikit.storage.sql.secrets import SecretBox

        key = self.workdir / ".ocpikit-secrets-key"
        box = SecretBox([key.read_text().strip()]) if key.exists() else None

        async def read() -> str:
            storage = SqlStorage.from_url(self.db, secrets=box)
            try:
                partner = await storage.partners.get(partner_id)
                assert partner is not None and partner.outbound_token, partner_id
                return partner.outbound_token
            finally:
                await storage.aclose()

        return asyncio.run(read())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None

    def restart(self, store: bool) -> None:
        """The hub again, with ``[hub] store`` as given."""
        self.stop()
        (self.workdir / "ocpikit.toml").write_text(HUB_CONFIG.format(store=str(store).lower()))
        self.start()

    def pending(self) -> int:
        """Outbox entries not delivered yet."""
        from ocpikit.protocol.ports import OutboxState
        from ocpikit.storage.sql import SqlStorage

        async def read() -> int:
            storage = SqlStorage.from_url(self.db)
            try:
                counts = await storage.outbox.counts()
                return counts.get(OutboxState.PENDING, 0) + counts.get(OutboxState.IN_FLIGHT, 0)
            finally:
                await storage.aclose()

        return asyncio.run(read())


def _put_locations(node: Node, pid: str) -> None:
    """The CPO's own Locations, through its backend API: its outbox pushes them to the hub,
    which keeps them (``store = true``) and passes them on to the eMSP."""
    import httpx

    from ocpikit.server.demo import demo_locations

    headers = {"Authorization": "Bearer bench"}
    with httpx.Client(base_url=f"http://127.0.0.1:{node.port}", headers=headers) as http:
        for n, loc in enumerate(demo_locations("NL", pid, LOCATIONS)):
            ident = f"{pid}{n:04d}"
            r = http.put(f"/admin/api/locations/NL/{pid}/{ident}", json={**loc, "id": ident})
            assert r.status_code in (200, 201), r.text


def nodes_in(root: Path) -> dict[str, Node]:
    return {
        "hub": Node(root, "hub", "NL-HUB:HUB", None),
        "emx": Node(root, "emx", "NL-EMX:EMSP", VERSION),
        "cpa": Node(root, "cpa", "NL-CPA:CPO", VERSION),
        "cpb": Node(root, "cpb", "NL-CPB:CPO", VERSION),
    }


def connect(nodes: dict[str, Node]) -> None:
    """Start every node, register each party with the hub, and let each CPO push its
    Locations through the hub (until every outbox is empty)."""
    for node in nodes.values():
        node.start()
    hub = nodes["hub"]
    for name in ("emx", "cpa", "cpb"):
        token = json.loads(hub.cli("invite"))["token"]
        nodes[name].cli(
            "register",
            "--versions-url",
            f"http://127.0.0.1:{hub.port}/ocpi/versions",
            "--token",
            token,
            "--profile",
            "generic",
        )
    _put_locations(nodes["cpa"], "CPA")
    _put_locations(nodes["cpb"], "CPB")
    deadline = time.monotonic() + 300
    while any(node.pending() for node in nodes.values()):
        assert time.monotonic() < deadline, "the Locations did not get through the hub"
        time.sleep(0.5)


def _sessions() -> list[dict[str, Any]]:
    from ocpikit.protocol.handlers.base import head_to_version
    from ocpikit.server.demo import demo_sessions_and_cdrs, demo_tokens

    token = demo_tokens("NL", "EMX", 1)[0]
    cdr_token = {k: token[k] for k in ("country_code", "party_id", "uid", "type", "contract_id")}
    sessions, _ = demo_sessions_and_cdrs("NL", "CPB", SESSIONS)
    out = []
    for n, s in enumerate(sessions):
        head = {**s, "id": f"S{n:06d}", "cdr_token": cdr_token}
        out.append(head_to_version(head, VERSION, "Session"))
    return out


def _stamp(rng: random.Random) -> str:
    t = time.time() + rng.random()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def session_puts(
    sessions: list[dict[str, Any]], path: str, token: str
) -> Callable[[random.Random], bytes]:
    """Session PUTs from CPO-B to eMSP-X (routing headers), as request bytes."""

    def make(rng: random.Random) -> bytes:
        s = dict(rng.choice(sessions))
        s["last_updated"] = _stamp(rng)
        body = orjson.dumps(s)
        return (
            f"PUT {path}/NL/CPB/{s['id']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
            "OCPI-from-country-code: NL\r\nOCPI-from-party-id: CPB\r\n"
            "OCPI-to-country-code: NL\r\nOCPI-to-party-id: EMX\r\n"
            f"X-Request-ID: r{rng.random()}\r\nX-Correlation-ID: c{rng.random()}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    return make


def page_get(path: str, token: str, offset: int) -> Callable[[random.Random], bytes]:
    request = (
        f"GET {path}?offset={offset}&limit=100 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {token}\r\n"
        "X-Request-ID: r1\r\nX-Correlation-ID: c1\r\n\r\n"
    ).encode()
    return lambda rng: request


def check(port: int, make: Callable[[random.Random], bytes], expect: int | None = None) -> None:
    """One request of ``make`` answers 1000 (and ``expect`` items)."""
    import httpx

    raw = make(random.Random(1))
    head, _, body = raw.partition(b"\r\n\r\n")
    method, target, _ = head.split(b"\r\n")[0].decode().split(" ")
    headers = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n")[1:])
    headers.pop("Content-Length", None)
    r = httpx.request(method, f"http://127.0.0.1:{port}{target}", headers=headers, content=body)
    answer = r.json()
    assert r.status_code in (200, 201) and answer["status_code"] == 1000, r.text[:500]
    if expect is not None:
        assert len(answer["data"]) == expect, (len(answer["data"]), answer.get("status_message"))


def memory_run(hub: Node, make: Callable[[random.Random], bytes], requests: int) -> None:
    """Session PUTs through the hub until ``requests`` were answered; the hub's RSS sampled
    about every tenth of the run and its CPU per forwarded PUT. Warm-up: the first fifth (the
    page caches of the database connections fill, the allocator's arenas reach their size)."""
    assert hub.proc is not None
    pid = hub.proc.pid
    done, samples = 0, [(0, rss_mb(pid))]
    start, cpu0 = time.perf_counter(), cpu_seconds(pid)
    step = max(1, requests // 10)
    while done < requests:
        rate = http_load(hub.port, make, 16, 2.0)
        done += int(rate * 2.0)
        if done - samples[-1][0] >= step or done >= requests:
            samples.append((done, rss_mb(pid)))
    took, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu0
    print(
        f"  memory over {done} PUTs through the hub ({done / took:.0f} req/s, "
        f"hub {cpu / done * 1e6:.0f} µs CPU per forwarded PUT):"
    )
    print("    " + "  ".join(f"{n // 1000}k:{mb:.0f}MB" for n, mb in samples))
    warm = next(((n, mb) for n, mb in samples if n >= requests // 5), samples[-1])
    print(
        f"    RSS after warm-up ({warm[0] // 1000}k) {warm[1]:.0f} MB, at the end "
        f"{samples[-1][1]:.0f} MB ({samples[-1][1] - warm[1]:+.0f} MB over the last "
        f"{(done - warm[0]) // 1000}k)"
    )


def profile_run(
    hub: Node, make: Callable[[random.Random], bytes], seconds: float, out: Path
) -> None:
    """The hub again under cProfile, Session PUTs through it at 16 clients for ``seconds``; its
    stats written to ``out`` and the functions it spent most in printed."""
    import pstats

    hub.stop()
    hub.start(profile=out)
    assert hub.proc is not None
    http_load(hub.port, make, 16, 1.0)  # warm-up
    rate = http_load(hub.port, make, 16, seconds)
    hub.stop()
    print(f"\nProfile of the hub, PUTs at 16 clients ({rate:.0f} req/s under cProfile): {out}")
    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(50)


def against_run(
    nodes: dict[str, Node],
    via_hub: Callable[[random.Random], bytes],
    direct: Callable[[random.Random], bytes],
    other: Path,
    seconds: float,
    rounds: int,
) -> None:
    """The hub restarted alternately on the source tree ``other`` and on this one (``A``, ``B``;
    the order flips every round); Session PUTs through it at 16 and 64 clients, each after the
    same PUTs sent directly; the hub's CPU per forwarded PUT and the ratio of the rates."""
    hub, emx = nodes["hub"], nodes["emx"]
    trees = {"A": str(other), "B": str(Path(__file__).resolve().parent.parent / "src")}
    found: dict[tuple[str, int], list[tuple[float, float]]] = {}
    print(f"\nThe hub on A = {trees['A']} and B = {trees['B']}, alternately")
    for n in range(rounds):
        for tree in ("A", "B") if n % 2 == 0 else ("B", "A"):
            hub.stop()
            hub.proc = start_platform(
                hub.workdir, hub.db, hub.port, hub.env["OCPIKIT_PARTY"], {"PYTHONPATH": trees[tree]}
            )
            for clients in (16, 64):
                http_load(hub.port, via_hub, clients, 1.0)  # warm-up
                bare = http_load(emx.port, direct, clients, seconds)
                cpu0 = cpu_seconds(hub.proc.pid)
                rate = http_load(hub.port, via_hub, clients, seconds)
                cpu = (cpu_seconds(hub.proc.pid) - cpu0) / (rate * seconds) * 1e6
                found.setdefault((tree, clients), []).append((cpu, rate / bare))
                print(
                    f"  round {n} {tree} {clients:>2} clients: hub {cpu:5.0f} µs CPU/PUT, {rate / bare:6.1%}"
                )
    for (tree, clients), values in sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cpus, ratios = [v[0] for v in values], [v[1] for v in values]
        print(
            f"  {tree} {clients:>2} clients: hub CPU per PUT median {statistics.median(cpus):.0f} µs "
            f"({min(cpus):.0f}-{max(cpus):.0f}), through the hub {statistics.median(ratios):.1%} "
            f"of direct ({min(ratios):.0%}-{max(ratios):.0%})"
        )


def run(
    seconds: float,
    rounds: int,
    requests: int,
    profile: Path | None = None,
    against: Path | None = None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        nodes = nodes_in(Path(tmp))
        try:
            connect(nodes)
            hub, emx, cpa = nodes["hub"], nodes["emx"], nodes["cpa"]
            assert hub.proc is not None and emx.proc is not None and cpa.proc is not None
            via_hub = session_puts(
                _sessions(), f"/ocpi/{VERSION}/hub/sessions", nodes["cpb"].outbound_token("NL-HUB")
            )
            direct = session_puts(
                _sessions(), f"/ocpi/{VERSION}/emsp/sessions", hub.outbound_token("NL-EMX")
            )
            check(hub.port, via_hub)
            check(emx.port, direct)
            if profile is not None:
                profile_run(hub, via_hub, seconds * rounds, profile)
                return
            if against is not None:
                against_run(nodes, via_hub, direct, against, seconds, rounds)
                return
            print(
                f"\nSession PUTs CPO-B -> eMSP-X, OCPI {VERSION}, SQLite; 'bare' = direct to eMSP-X"
            )
            for clients in (16, 64):
                http_load(hub.port, via_hub, clients, 1.0)  # warm-up
                compare(
                    f"PUT {clients:>2} clients, hub vs direct",
                    hub.proc.pid,
                    emx.proc.pid,
                    lambda t, c=clients: http_load(hub.port, via_hub, c, t),
                    lambda t, c=clients: http_load(emx.port, direct, c, t),
                    seconds=seconds,
                    rounds=rounds,
                )
            emx_token = emx.outbound_token("NL-HUB")
            merged_mid = page_get(f"/ocpi/{VERSION}/hub/locations", emx_token, 50)
            merged_first = page_get(f"/ocpi/{VERSION}/hub/locations", emx_token, 0)
            one_cpo = page_get(f"/ocpi/{VERSION}/cpo/locations", hub.outbound_token("NL-CPA"), 0)
            check(hub.port, merged_mid, 100)
            check(cpa.port, one_cpo, 100)
            for store in (True, False):
                if not store:
                    hub.restart(store=False)
                    assert hub.proc is not None
                    check(hub.port, merged_mid, 100)
                how = "from the hub's store" if store else "asked live, [hub] store = false"
                print(f"\nA page of 100 Locations, eMSP-X through the hub ({how}) vs CPO-A")
                for label, merged in (
                    ("offset 50, both CPOs", merged_mid),
                    ("offset 0", merged_first),
                ):
                    http_load(hub.port, merged, 4, 1.0)
                    compare(
                        f"page {label}",
                        hub.proc.pid,
                        cpa.proc.pid,
                        lambda t, m=merged: http_load(hub.port, m, 4, t),
                        lambda t: http_load(cpa.port, one_cpo, 4, t),
                        seconds=seconds,
                        rounds=rounds,
                    )
            assert hub.proc is not None
            memory_run(hub, via_hub, requests)
            print(
                f"  peak RSS: hub {peak_rss_mb(hub.proc.pid):.0f} MB, eMSP {peak_rss_mb(emx.proc.pid):.0f} MB"
            )
        finally:
            for node in nodes.values():
                node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20_000, help="PUTs of the memory run")
    parser.add_argument(
        "--profile",
        type=Path,
        help="only profile the hub (cProfile) under the PUTs at 16 clients; stats file",
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="a source tree: the hub alone restarted alternately on it and on this one",
    )
    args = parser.parse_args()
    run(args.seconds, args.rounds, args.requests, args.profile, args.against)


if __name__ == "__main__":
    main()
