"""Process helpers shared by the server benches: free ports, starting ``ocpikit serve`` and a
bare ASGI app on the same uvicorn stack, waiting for them, and reading their peak memory."""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

__all__ = [
    "PROFILED_SERVE",
    "compare",
    "cpu_seconds",
    "free_port",
    "http_load",
    "peak_rss_mb",
    "platform_env",
    "process_tree",
    "rss_mb",
    "start_bare",
    "start_platform",
    "wait",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def rss_mb(pid: int) -> float:
    """Current resident set size (VmRSS) of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) a process has used so far, in seconds. CPU per
    request is steadier than requests per second on a shared machine: it is what a request
    costs, whatever else the cores were doing."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``serve --workers N``: the supervisor and its workers)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            out.extend(process_tree(int(child)))
    return out


def wait(port: int, path: str = "/") -> None:
    """Until something answers HTTP on ``port`` (any status), at most 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def platform_env(db_url: str, port: int, party: str) -> dict[str, str]:
    """The environment of ``ocpikit serve`` (and of its CLI) for ``party`` on a database."""
    return {
        **os.environ,
        "OCPIKIT_DATABASE_URL": db_url,
        "OCPIKIT_PARTY": party,
        "OCPIKIT_PORT": str(port),
        "OCPIKIT_ADMIN_TOKEN": "bench",
        # a bench measures the platform's throughput, not its per-partner rate limit
        "OCPIKIT_REQUESTS_PER_SECOND": "0",
        "OCPIKIT_ALLOWED_HOSTS": "127.0.0.1,localhost",  # the bench's partners are local
    }


#: ``ocpikit serve`` under cProfile in every thread (argv: the stats file, then serve's own
#: arguments); the merged stats are written when it stops (SIGTERM)
PROFILED_SERVE = """
import cProfile, pstats, signal, sys, threading
# uvicorn re-raises SIGTERM after its graceful shutdown: exit through the finally below instead
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
profiles = [cProfile.Profile()]
run = threading.Thread.run
def profiled(self):
    p = cProfile.Profile()
    profiles.append(p)
    p.enable()
    try:
        run(self)
    finally:
        p.disable()
threading.Thread.run = profiled
from ocpikit.cli.main import main
profiles[0].enable()
try:
    main(sys.argv[2:])
finally:
    profiles[0].disable()
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        try:
            stats.add(p)
        except TypeError:  # a thread that never ran anything
            pass
    stats.dump_stats(sys.argv[1])
"""


def start_platform(
    workdir: Path,
    db_url: str,
    port: int,
    party: str,
    extra_env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    profile: Path | None = None,
) -> subprocess.Popen[bytes]:
    """``ocpikit serve`` for ``party`` (e.g. ``NL-CPO:CPO``) on a given database
    (``extra_env``: more ``OCPIKIT_*`` settings, e.g. ``OCPIKIT_VERSIONS``; ``args``: more
    options of ``serve``, e.g. ``--workers 2``); ``profile``: under cProfile
    (:data:`PROFILED_SERVE`), the stats written there when it is terminated."""
    env = {**platform_env(db_url, port, party), **(extra_env or {})}
    command = [sys.executable, "-m", "ocpikit.cli.main", "serve"]
    if profile is not None:
        command = [sys.executable, "-c", PROFILED_SERVE, str(profile), "serve"]
    proc = subprocess.Popen(
        [*command, *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait(port)
    return proc


#: what uvicorn adds or the bare app sets itself: not copied from the platform's response
_OWN_HEADERS = frozenset({"date", "server", "content-length", "content-type"})


def reply_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The platform's response headers that the bare app sends as they are (ids, pagination,
    routing): the same response bytes, precomputed."""
    return [(k, v) for k, v in headers.items() if k.lower() not in _OWN_HEADERS]


#: the bare app's headers: its own two, then the platform's (argv[3], a JSON list of pairs)
BARE_HEADERS = """
import json
headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in json.load(open(sys.argv[3]))]
"""


def start_bare(
    workdir: Path,
    script: str,
    body: bytes,
    port: int,
    headers: Sequence[tuple[str, str]] = (),
) -> subprocess.Popen[bytes]:
    """The bare ASGI app ``script`` (argv: port, body file, headers file) answering with
    ``body`` and ``headers`` (see :func:`reply_headers`)."""
    (workdir / "reply.json").write_bytes(body)
    (workdir / "headers.json").write_text(json.dumps(list(headers)))
    (workdir / "bare.py").write_text(script)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(workdir / "bare.py"),
            str(port),
            str(workdir / "reply.json"),
            str(workdir / "headers.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait(port)
    return proc


def compare(
    label: str,
    platform_pid: int,
    bare_pid: int,
    load_platform: Callable[[float], float],
    load_bare: Callable[[float], float],
    *,
    seconds: float,
    rounds: int,
) -> None:
    """Measure the platform and the bare app side by side and print one line.

    ``rounds`` alternating runs of ``seconds`` each (platform, bare, platform, ...): the
    machine's speed drifts over a run (shared cores), so each side is measured in every stretch
    and the medians are compared. ``load_*`` run the load for the given seconds and return the
    requests per second. Printed: median rates, median server CPU per request, the ratio of the
    rates (the target's measure) and the ratio by CPU (steadier: what a request costs)."""
    rates_p: list[float] = []
    rates_b: list[float] = []
    cpus_p: list[float] = []
    cpus_b: list[float] = []
    for _ in range(rounds):
        for pid, load, rates, cpus in (
            (platform_pid, load_platform, rates_p, cpus_p),
            (bare_pid, load_bare, rates_b, cpus_b),
        ):
            c0 = cpu_seconds(pid)
            rate = load(seconds)
            rates.append(rate)
            cpus.append((cpu_seconds(pid) - c0) / (rate * seconds) * 1e6)
    rate_p, rate_b = statistics.median(rates_p), statistics.median(rates_b)
    cpu_p, cpu_b = statistics.median(cpus_p), statistics.median(cpus_b)
    spread = f"{min(r / b for r, b in zip(rates_p, rates_b, strict=True)):.0%}-" + (
        f"{max(r / b for r, b in zip(rates_p, rates_b, strict=True)):.0%}"
    )
    print(
        f"  {label}: platform {rate_p:6.0f} req/s ({cpu_p:4.0f} µs CPU/req)   "
        f"bare ASGI {rate_b:6.0f} req/s ({cpu_b:4.0f} µs)   ratio {rate_p / rate_b:6.1%} "
        f"(rounds {spread})   by CPU {cpu_b / cpu_p:6.1%}"
    )


class _Conn(asyncio.BufferedProtocol):
    """One keep-alive HTTP/1.1 client connection that sends a request, counts the response's
    bytes as they arrive into one reused buffer (``recv_into``: no allocation per read) and
    sends the next one."""

    def __init__(
        self,
        make: Callable[[random.Random], bytes],
        seed: int,
        stop: float,
        latencies: list[float] | None = None,
    ) -> None:
        self.make = make
        self.latencies = latencies
        self.sent = 0.0
        self.rng = random.Random(seed)
        self.stop = stop
        self.done = 0
        self.buffer = memoryview(bytearray(1 << 20))
        self.head = b""
        self.left = -1  # body bytes still to come; -1 while the head is being read
        self.transport: asyncio.Transport | None = None
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.sent = time.perf_counter()
        transport.write(self.make(self.rng))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        if self.left < 0:
            self.head += bytes(self.buffer[:nbytes])
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.head[:end]
            if not head.startswith(b"HTTP/1.1 20"):
                self._fail(RuntimeError(head[:300].decode(errors="replace")))
                return
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            self.left = length - (len(self.head) - end - 4)
            self.head = b""
        else:
            self.left -= nbytes
        if self.left == 0:
            self.done += 1
            self.left = -1
            assert self.transport is not None
            now = time.perf_counter()
            if self.latencies is not None:
                self.latencies.append(now - self.sent)
            if now < self.stop:
                self.sent = now
                self.transport.write(self.make(self.rng))
            else:
                self.transport.close()
                if not self.finished.done():
                    self.finished.set_result(None)

    def _fail(self, exc: Exception) -> None:
        if not self.finished.done():
            self.finished.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            if exc is None and self.left < 0:
                self.finished.set_result(None)
            else:
                self.finished.set_exception(exc or RuntimeError("connection closed mid-response"))


def http_load(
    port: int,
    make: Callable[[random.Random], bytes],
    clients: int,
    seconds: float,
    latencies: list[float] | None = None,
) -> float:
    """Requests per second from ``clients`` concurrent keep-alive connections to 127.0.0.1,
    each sending ``make(rng)`` (a whole HTTP/1.1 request) as soon as the previous response is
    complete. The responses are counted, not kept: with asyncio streams the client cost more
    per request than the bare app (~170 µs against ~140 µs for a 210 KiB page), so on two
    cores it, not the server stack, set the bare app's "ceiling". ``latencies``: each
    request's time from its send to its answer's last byte is appended (seconds)."""

    async def run() -> float:
        loop = asyncio.get_running_loop()
        stop = time.perf_counter() + seconds
        conns: list[_Conn] = []
        start = time.perf_counter()
        for i in range(clients):
            conn = _Conn(make, i, stop, latencies)
            conns.append(conn)
            await loop.create_connection(lambda c=conn: c, "127.0.0.1", port)
        await asyncio.gather(*(c.finished for c in conns))
        return sum(c.done for c in conns) / (time.perf_counter() - start)

    return asyncio.run(run())
