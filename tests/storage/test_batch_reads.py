"""The set-based reads of batch work: ``objects.get_many`` and ``cdr_checks.with_sessions``.

Runs on memory, SQLite and PostgreSQL (``storage`` fixture): each must answer as the one-key
reads it stands for (``objects.get``, ``cdr_checks.with_session``) would, key by key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ocpikit.protocol.cdr_checks import CheckOutcome, Verdict
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus, Storage

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _doc(key: ObjectKey, **extra: Any) -> dict[str, Any]:
    return {
        "country_code": key.country_code,
        "party_id": key.party_id,
        "id": key.id,
        "last_updated": "2024-01-01T00:00:00Z",
        **extra,
    }


async def test_get_many_answers_as_get_key_by_key(storage: Storage) -> None:
    keys = [ObjectKey("Tariff", "NL", "CPO", f"T{i}") for i in range(5)]
    keys.append(ObjectKey("Session", "NL", "CPO", "T0"))  # another kind, same id
    for i, key in enumerate(keys):
        await storage.objects.put(key, _doc(key, n=i), last_updated=T0, owner=None)
    asked = [
        ObjectKey("Tariff", "nl", "cpo", "t1"),  # CiString parts: any case
        keys[3],
        keys[5],
        ObjectKey("Tariff", "NL", "CPO", "NOPE"),  # not held: left out
        ObjectKey("Location", "NL", "CPO", "T2"),  # the id of a Tariff, another kind
        keys[3],  # twice
    ]
    got = await storage.objects.get_many(asked)
    assert set(got) == {keys[1], keys[3], keys[5]}
    for key, obj in got.items():
        one = await storage.objects.get(key)
        assert one is not None
        assert (obj.key, obj.document, obj.seq, obj.revision, obj.owner) == (
            one.key,
            one.document,
            one.seq,
            one.revision,
            one.owner,
        )
    assert got[keys[5]].key.kind == "Session" and got[keys[5]].document["n"] == 5
    assert await storage.objects.get_many([]) == {}


async def test_get_many_reads_more_keys_than_one_statement_holds(storage: Storage) -> None:
    keys = [ObjectKey("Tariff", "NL", "CPO", f"T{i:04d}") for i in range(450)]
    for key in keys[::3]:
        await storage.objects.put(key, _doc(key), last_updated=T0, owner=None)
    got = await storage.objects.get_many(keys)
    assert set(got) == set(keys[::3])


async def test_with_sessions_answers_as_with_session_per_pair(storage: Storage) -> None:
    for pid in ("p1", "p2"):
        await storage.partners.save(Partner(id=pid, status=PartnerStatus.REGISTERED))
    plan = [  # (owner, cdr id, session id read by its check)
        ("p1", "C1", "S1"),
        ("p1", "C2", "s1"),
        ("p1", "C3", "S2"),
        ("p2", "C4", "S1"),
        ("p2", "C5", None),
    ]
    for owner, cid, _sid in plan:
        key = ObjectKey("CDR", "NL", "CPO" if owner == "p1" else "CPX", cid)
        await storage.objects.put(key, _doc(key), last_updated=T0, owner=owner)
    claimed = await storage.cdr_checks.claim(limit=10)
    by_id = {c.cdr_id: c for c in claimed}
    outcomes = [(by_id[cid], CheckOutcome(Verdict.OK, [], {}, sid)) for _o, cid, sid in plan]
    assert all(await storage.cdr_checks.finish_many(outcomes))

    asked = [("p1", "s1"), ("p2", "S1"), ("p1", "S9"), ("p1", "S2")]
    got = await storage.cdr_checks.with_sessions(asked)
    assert {k: [c.cdr_id for c in v] for k, v in got.items()} == {
        ("p1", "S1"): ["C1", "C2"],  # creation order
        ("p2", "S1"): ["C4"],
        ("p1", "S2"): ["C3"],
    }
    for owner, sid in asked:
        one = await storage.cdr_checks.with_session(owner, sid, before_seq=2**62)
        assert [c.seq for c in one] == [c.seq for c in got.get((owner, sid.upper()), [])]
    assert await storage.cdr_checks.with_sessions([]) == {}
    assert await storage.cdr_checks.with_sessions([("p2", "S2")]) == {}
