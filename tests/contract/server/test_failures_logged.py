"""Every 5xx the platform answers is logged with its traceback and the message ids, and the
partner gets an envelope without either."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ocpikit.core.versions import Role
from ocpikit.storage import MemoryStorage

from .conftest import Router, make_node

pytestmark = pytest.mark.anyio


class BrokenStorage(MemoryStorage):
    """Memory storage whose object listing fails like a lost database connection."""

    def __init__(self) -> None:
        super().__init__()

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("database connection lost")

        self.objects.list_wire = broken  # type: ignore[method-assign]


async def test_an_internal_error_is_logged_with_traceback_and_ids(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), storage=BrokenStorage())
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,))
    await emsp.register(cpo)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token
    headers = {"X-Request-ID": "req-42", "X-Correlation-ID": "corr-7"}
    with caplog.at_level(logging.ERROR, logger="ocpikit.server"):
        async with cpo.client(partner.outbound_token) as http:
            r = await http.get("/ocpi/2.3.0/cpo/tariffs", headers=headers)
    assert r.status_code == 500
    assert r.json()["status_code"] == 3000
    assert "database" not in r.text and "Traceback" not in r.text
    (record,) = [rec for rec in caplog.records if "answered HTTP 500" in rec.getMessage()]
    assert "req-42" in record.getMessage() and "corr-7" in record.getMessage()
    assert record.exc_info is not None and "database connection lost" in str(record.exc_info[1])
