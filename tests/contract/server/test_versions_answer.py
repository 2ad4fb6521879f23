"""The versions and details answers are assembled from wire pieces: byte for byte the envelope
``success(data).to_json()`` builds."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from ocpikit.core.clock import FixedClock
from ocpikit.core.envelope import success
from ocpikit.server.endpoints.versions import _answer


def test_the_assembled_answer_is_the_envelope_success_builds() -> None:
    clock = FixedClock(datetime(2026, 12, 6, 8, 30, 1, 123000, tzinfo=UTC))
    platform: Any = SimpleNamespace(clock=clock)
    for data in (
        [{"version": "2.2.1", "url": "https://ocpi.example/ocpi/2.2.1"}],
        {
            "version": "2.3.0",
            "endpoints": [
                {"identifier": "credentials", "role": "SENDER", "url": "https://é.example/c"}
            ],
        },
        [],
    ):
        assert _answer(platform, data) == success(data, clock=clock).to_json()
