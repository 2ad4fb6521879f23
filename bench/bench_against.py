"""This tree against another source tree (e.g. an older commit), side by side in one run: the
A/B of a change to the request path (docs/development.md, "Benchmarks").

Two ``ocpikit serve`` processes on the production stack (one worker each, SQLite): A on this
tree, B on ``--against SRC`` (a checkout or ``git archive`` of another commit; its ``src`` is
put first on ``PYTHONPATH``); without ``--against``, B is this tree's last commit (``git
archive HEAD``): the A/B of the change not yet committed. Each tree builds its own database with its own code (its own
migrations and bench set-up, run in a process of that tree): an older tree's schema differs.

Request kinds (``--kinds``, each from 16 concurrent keep-alive clients, ``_servers.http_load``):

- ``versions``: ``GET /ocpi/versions`` of a CPO holding 200 Locations (``bench_server_pages``);
- ``location``: ``GET`` of one Location by id (OCPI 2.3.0 Sender interface), same CPO;
- ``put`` / ``patch``: a full Session PUT / a PATCH of three fields into an eMSP, committed
  durably before the answer (``bench_server_push``), over 1,000 sessions created beforehand.

Rounds alternate (A, B, A, ...; ``_servers.compare``, medians compared). The "platform" column
is A (this tree), the "bare ASGI" column B; "by CPU" is B's CPU per request over A's (above
100 %: this tree costs less). The house rule: this tree within 5 % of the tree it is compared
with. Only the ratios mean something: the machines are noisy, and the CPU ratio is the steadier.

Run: ``.venv/bin/python bench/bench_against.py [--against /tmp/base] [--kinds put,patch]
[--seconds 2] [--rounds 6] [--config ocpikit.toml]`` (``--config``: a TOML file both platforms
run with, e.g. ``[exchange_log] sample_reads = 100``)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import compare, free_port, http_load, start_platform
from bench_request_path import _get
from bench_server_push import TOKEN, _requests, _sessions, patch_request, put_request

HERE = Path(__file__).resolve().parent.parent
CLIENTS = 16
LOCATION = "/ocpi/2.3.0/cpo/locations/LOC00001"


def _set_up(tree: Path, module: str, function: str, *args: object) -> None:
    """``bench/<module>.<function>(*args)`` of ``tree``, run by ``tree``'s own code."""
    code = (
        f"import asyncio, sys; sys.path.insert(0, {str(tree / 'bench')!r}); "
        f"from {module} import {function}; asyncio.run({function}(*{args!r}))"
    )
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def _start(
    tree: Path, workdir: Path, db_url: str, party: str
) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    return port, start_platform(workdir, db_url, port, party, {"PYTHONPATH": str(tree / "src")})


def _cpo(tree: Path, workdir: Path) -> tuple[int, subprocess.Popen[bytes]]:
    db_url = f"sqlite:///{workdir / 'cpo.db'}"
    _set_up(tree, "bench_server_pages", "_fill", db_url, 200)
    return _start(tree, workdir, db_url, "NL-CPO:CPO")


def _emsp(tree: Path, workdir: Path, sessions: list[dict]) -> tuple[int, subprocess.Popen[bytes]]:
    db_url = f"sqlite:///{workdir / 'emsp.db'}"
    _set_up(tree, "bench_server_push", "_setup", db_url)
    port, proc = _start(tree, workdir, db_url, "NL-MSP:EMSP")
    headers = {"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
        for s in sessions:
            reply = http.put(f"/ocpi/2.3.0/emsp/sessions/DE/CPO/{s['id']}", json=s)
            assert reply.status_code in (200, 201), reply.text
    return port, proc


def _side_by_side(
    label: str,
    a: tuple[int, subprocess.Popen[bytes]],
    b: tuple[int, subprocess.Popen[bytes]],
    make: Callable[..., bytes],
    args: argparse.Namespace,
) -> None:
    (port_a, proc_a), (port_b, proc_b) = a, b
    for port in (port_a, port_b):
        http_load(port, make, CLIENTS, 1.0)  # warm-up
    compare(
        f"{label:<9} A (this tree) vs B",
        proc_a.pid,
        proc_b.pid,
        lambda t: http_load(port_a, make, CLIENTS, t),
        lambda t: http_load(port_b, make, CLIENTS, t),
        seconds=args.seconds,
        rounds=args.rounds,
    )


def _last_commit(where: Path) -> Path:
    """This repository's HEAD, unpacked at ``where``."""
    where.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(HERE), "archive", "HEAD"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--against", type=Path, help="the other source tree (default: HEAD)")
    parser.add_argument("--kinds", default="versions,location,put,patch")
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and side")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--config", type=Path, help="an ocpikit.toml both platforms run with (e.g. a log policy)"
    )
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        workdirs = {side: Path(tmp) / side for side in "AB"}
        for workdir in workdirs.values():
            workdir.mkdir()
            if args.config is not None:  # ocpikit serve reads it from its working directory
                (workdir / "ocpikit.toml").write_text(args.config.read_text())
        other = args.against.resolve() if args.against else _last_commit(Path(tmp) / "HEAD")
        trees = {"A": HERE, "B": other}
        print(f"A = {HERE}, B = {other}, {CLIENTS} clients")
        running: list[subprocess.Popen[bytes]] = []
        try:
            if {"versions", "location"} & set(kinds):
                cpo = {s: _cpo(trees[s], workdirs[s]) for s in "AB"}
                running += [p for _, p in cpo.values()]
                for kind, path in (("versions", "/ocpi/versions"), ("location", LOCATION)):
                    if kind in kinds:
                        _side_by_side(kind, cpo["A"], cpo["B"], _get(path), args)
            if {"put", "patch"} & set(kinds):
                sessions = _sessions(1000)
                emsp = {s: _emsp(trees[s], workdirs[s], sessions) for s in "AB"}
                running += [p for _, p in emsp.values()]
                for kind, build in (("put", put_request), ("patch", patch_request)):
                    if kind in kinds:
                        make = _requests(build(sessions))
                        _side_by_side(kind, emsp["A"], emsp["B"], make, args)
        finally:
            for proc in running:
                proc.terminate()
                proc.wait()


if __name__ == "__main__":
    main()
