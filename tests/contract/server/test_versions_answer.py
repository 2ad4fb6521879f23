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


def test_the_versions_list_is_the_one_built_per_request() -> None:
    """The versions list dumped once per party is what the request would build."""
    import orjson

    from ocpikit.core.versions import Role
    from ocpikit.server.endpoints.versions import _versions_json
    from ocpikit.server.platform import Platform
    from ocpikit.server.settings import PartyConfig, Settings
    from ocpikit.storage.memory import MemoryStorage

    settings = Settings(
        parties=(PartyConfig("NL", "CPO", (Role.CPO,), "us"),),
        base_url="https://us.example",
        database_url="memory://",
        admin_token="admin",
    )
    platform = Platform(settings, MemoryStorage())
    party = settings.parties[0]
    built = [{"version": v.text, "url": platform.version_url(v)} for v in party.versions]
    assert _versions_json(platform, party) == orjson.dumps(built)
    assert _versions_json(platform, party) is _versions_json(platform, party)
