"""The acceptance of the platform's CDR checks, real processes over loopback (SQLite and
PostgreSQL):

- a CPO pushes 200 CDRs to an eMSP, a known subset wrong in known ways (total off by rounding
  within tolerance, wrong tariff reading, a period outside the session, a tampered OCMF value,
  a missing tariff, a duplicate); the eMSP's disputes list is exactly that subset (less the
  tolerated ones) with the right reasons and differences, each check done within seconds of
  the CDR's push;
- killing the eMSP while checks are pending loses none: after the restart every CDR has its
  check, with the right verdict.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ocpikit.core.types import parse_datetime
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus
from ocpikit.storage.sql import SqlStorage
from tests.contract.server.test_cdr_checks import TARIFF, cdr

from ._nodes import Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}


def _reading(rv: float, tx: str, tm: str) -> dict[str, Any]:
    return {"TM": tm, "TX": tx, "RV": rv, "RI": "1-b:1.8.0", "RU": "kWh", "ST": "G"}


def signed_data(*, tampered: bool = False) -> dict[str, Any]:
    """OCMF signed data of 10 kWh (100 → 110), signed with a fresh secp256r1 key; ``tampered``:
    the end reading changed after signing (the signature no longer holds)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    body = {
        "FV": "1.0",
        "GI": "TEST GW",
        "GS": "GW1",
        "GV": "1.0",
        "PG": "T1",
        "MV": "ACME",
        "MM": "M1",
        "MS": "METER-1",
        "IS": True,
        "IL": "VERIFIED",
        "IF": ["RFID_PLAIN"],
        "IT": "ISO14443",
        "ID": "04AABBCC",
        "RD": [
            _reading(100.0, "B", "2026-01-01T10:00:00,000+0000 S"),
            _reading(110.0, "E", "2026-01-01T11:00:00,000+0000 S"),
        ],
    }
    text = json.dumps(body, separators=(",", ":"))
    der = key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
    if tampered:
        text = text.replace('"RV":110.0', '"RV":111.0')
    ocmf = f'OCMF|{text}|{{"SA":"ECDSA-secp256r1-SHA256","SD":"{der.hex()}"}}'
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "encoding_method": "OCMF",
        "encoding_method_version": 1,
        "public_key": base64.b64encode(spki).decode(),
        "signed_values": [{"nature": "End", "plain_data": "", "signed_data": ocmf}],
    }


def batch() -> tuple[list[dict[str, Any]], dict[str, tuple[str, list[str]]]]:
    """200 CDRs of 10 kWh at T1 and the verdict and reasons expected of each wrong one (the
    last 3, duplicates of earlier sessions, are pushed once the rest arrived)."""
    out: list[dict[str, Any]] = []
    wrong: dict[str, tuple[str, list[str]]] = {}
    late_period = {
        "start_date_time": "2026-01-01T12:00:00Z",
        "dimensions": [{"type": "ENERGY", "volume": 10}],
        "tariff_id": "T1",
    }
    no_tariff = {**cdr("x")["charging_periods"][0], "tariff_id": "T9"}
    for i in range(197):
        cid, sid = f"C{i:03d}", f"S{i:03d}"
        kind = i % 33
        if kind == 1:
            out.append(cdr(cid, session_id=sid, excl=3.01, incl=3.31))
            wrong[cid] = ("within_tolerance", ["cost"])
        elif kind == 2:
            out.append(cdr(cid, session_id=sid, excl=4.5, incl=4.95))
            wrong[cid] = ("disputed", ["cost"])
        elif kind == 3:
            out.append(cdr(cid, session_id=sid, charging_periods=[late_period]))
            wrong[cid] = ("disputed", ["times"])
        elif kind == 4:
            out.append(cdr(cid, session_id=sid, signed_data=signed_data(tampered=True)))
            wrong[cid] = ("disputed", ["signed_data"])
        elif kind == 5 and i < 100:
            out.append(cdr(cid, session_id=sid, charging_periods=[no_tariff]))
            wrong[cid] = ("unverifiable", ["tariff_missing"])
        elif kind == 6:
            out.append(cdr(cid, session_id=sid, signed_data=signed_data()))  # valid OCMF
        else:
            out.append(cdr(cid, session_id=sid))
    for n, i in enumerate((10, 50, 90)):
        cid = f"D{n}"
        out.append(cdr(cid, session_id=f"S{i:03d}"))
        wrong[cid] = ("disputed", ["duplicate"])
    return out, wrong


@pytest.fixture
def nodes(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo = Instance(cpo_dir, "NL-CPO:CPO", databases.new(cpo_dir), versions="2.2.1")
    emsp = Instance(emsp_dir, "DE-MSP:EMSP", databases.new(emsp_dir), versions="2.2.1")
    try:
        yield cpo, emsp
    finally:
        cpo.close()
        emsp.close()


def _done(emsp: Instance) -> dict[str, dict[str, Any]]:
    with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=30) as e:
        rows = e.get("/admin/api/cdr-checks?limit=10000").json()
    return {r["cdr_id"]: r for r in rows if r["state"] == "done"}


def _all_done(emsp: Instance, n: int) -> dict[str, dict[str, Any]] | None:
    done = _done(emsp)
    return done if len(done) == n else None


def test_200_pushed_cdrs_the_disputes_are_exactly_the_wrong_ones(
    nodes: tuple[Instance, Instance],
) -> None:
    cpo, emsp = nodes
    cpo.start()
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = emsp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr
    cdrs, wrong = batch()
    pushed_at: dict[str, float] = {}
    with httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=30) as c:
        r = c.put("/admin/api/tariffs/NL/CPO/T1?version=2.2.1", json=TARIFF)
        assert r.status_code == 201, r.text

        def tariff_arrived() -> Any:
            with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e:
                return e.get("/admin/api/tariffs?owner=NL-CPO").json()["items"] or None

        until(tariff_arrived, "the tariff at the eMSP", 30.0, cpo, emsp)

        def push(body: dict[str, Any]) -> None:
            r = c.put(f"/admin/api/cdrs/NL/CPO/{body['id']}?version=2.2.1", json=body)
            assert r.status_code == 201, r.text
            pushed_at[body["id"]] = time.time()

        for body in cdrs[:197]:
            push(body)
        until(lambda: len(_done(emsp)) == 197 or None, "197 checks", 120.0, cpo, emsp)
        for body in cdrs[197:]:  # the duplicates, once their sessions' first CDRs are in
            push(body)
    done = until(lambda: _all_done(emsp, 200), "200", 60.0, cpo, emsp)

    got = {cid: (r["verdict"], r["reasons"]) for cid, r in done.items() if r["verdict"] != "ok"}
    assert got == wrong
    out = emsp.cli("cdr", "disputes", "--json")
    assert out.returncode == 0, out.stderr
    disputes = {r["cdr_id"]: r for r in json.loads(out.stdout)}
    assert set(disputes) == {c for c, (v, _) in wrong.items() if v != "within_tolerance"}
    assert disputes["C002"]["differences"] == {
        "total_cost": {"declared": "4.5", "expected": "3.0", "difference": "1.5"}
    }
    assert done["C001"]["differences"]["total_cost"]["difference"] == "0.01"
    lag = [parse_datetime(r["checked_at"]).timestamp() - pushed_at[cid] for cid, r in done.items()]
    print(f"check done after the push: max {max(lag):.2f} s, mean {sum(lag) / len(lag):.2f} s")
    assert max(lag) < 30.0  # seconds, on a loaded 2-core machine (typically well under 5)


def test_killing_the_emsp_mid_check_loses_no_check(nodes: tuple[Instance, Instance]) -> None:
    _, emsp = nodes
    emsp.start()
    emsp.stop()
    n = 1000  # many more than a checker gets through between two polls
    at = datetime(2026, 1, 1, 11, tzinfo=UTC)

    async def seed(storage: SqlStorage) -> None:
        # the CDRs as the Receiver stores them, while the eMSP is down: n pending checks
        await storage.partners.save(Partner("NL-CPO", PartnerStatus.REGISTERED))
        await storage.objects.put(
            ObjectKey("Tariff", "NL", "CPO", "T1"),
            orjson.dumps(TARIFF),
            last_updated=at,
            owner="NL-CPO",
        )
        for i in range(n):
            body = cdr(f"K{i:03d}", session_id=f"S{i:03d}", excl=4.5 if i % 10 == 0 else 3.0)
            await storage.objects.put(
                ObjectKey("CDR", "NL", "CPO", body["id"]),
                orjson.dumps(body),
                last_updated=at,
                owner="NL-CPO",
            )

    emsp.run(seed)
    emsp.start()

    def first_checked() -> bool | None:
        # a light probe (the first rows in arrival order, the order they are checked in):
        # listing every check at each poll let the checker finish before the kill
        with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=30) as e:
            rows = e.get("/admin/api/cdr-checks?limit=5").json()
        return True if any(r["state"] == "done" for r in rows) else None

    until(first_checked, "the first checks", 60.0, emsp)
    emsp.kill()

    async def pending(storage: SqlStorage) -> int:
        return len(await storage.cdr_checks.pending(limit=10000))

    left = emsp.run(pending)
    assert 0 < left < n, f"{left} pending at the kill: the kill did not land mid-check"
    emsp.start()
    done = until(lambda: _all_done(emsp, n), "every check", 120.0, emsp)
    verdicts = {cid: r["verdict"] for cid, r in done.items()}
    assert verdicts == {f"K{i:03d}": ("disputed" if i % 10 == 0 else "ok") for i in range(n)}
