"""Two delivery workers on one PostgreSQL outbox never send the same entry (issue 4 point 2).

Each worker has its own storage (its own connection pool), as two processes would; claims
overlap for real and rely on ``FOR UPDATE SKIP LOCKED``. Skipped, with the reason, when
PostgreSQL is unreachable (``OCPIKIT_TEST_PG_URL``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import orjson
import pytest
import sqlalchemy as sa

from ocpikit.client.delivery import DeliveryWorker
from ocpikit.operations import put_own_object
from ocpikit.protocol.ports import ObjectKey
from ocpikit.storage import SqlStorage, upgrade
from tests.pg import PG_URL, require_postgres

from .helpers import ok, partner, sessions

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

ENTRIES = 400


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_postgres()
    admin = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    schema = f"ocpikit_delivery_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = (
        sa.make_url(PG_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


async def test_two_workers_never_send_the_same_entry(pg_url: str) -> None:
    setup = SqlStorage.from_url(pg_url, pool_size=2)
    try:
        await setup.partners.save(partner("2.3.0", role="EMSP", pid="DE-MSP"))
        base = sessions(1)[0]
        for i in range(ENTRIES):
            doc = {**base, "id": f"S{i:05d}"}
            await put_own_object(setup, ObjectKey("Session", "NL", "CPO", doc["id"]), doc)
    finally:
        await setup.aclose()

    sent: Counter[str] = Counter()
    by_worker: Counter[str] = Counter()

    async def receiver(req: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.001)
        sent[orjson.loads(req.content)["id"]] += 1
        return ok(None, 201)

    stores = [SqlStorage.from_url(pg_url, pool_size=4) for _ in range(2)]
    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))

    async def work(name: str, store: SqlStorage) -> None:
        worker = DeliveryWorker(store, http, worker_id=name, batch=25, concurrency=8)
        while True:
            outcomes = await worker.run_once()
            if not outcomes:
                return
            assert all(o.result == "sent" for o in outcomes), outcomes
            by_worker[name] += len(outcomes)

    try:
        await asyncio.gather(*(work(f"w{i}", s) for i, s in enumerate(stores)))
        left = await stores[0].outbox.entries()
    finally:
        await http.aclose()
        for s in stores:
            await s.aclose()
    assert [k for k, n in sent.items() if n > 1] == []
    assert len(sent) == ENTRIES
    assert left == []
    assert by_worker["w0"] and by_worker["w1"], "both workers should have delivered"
