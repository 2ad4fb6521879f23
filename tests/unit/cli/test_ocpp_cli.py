"""``ocpikit ocpp serve`` is ``ocpikit serve`` with the OCPP endpoint forced on; without it the
endpoint follows ``[ocpp] enabled``; a bad ``[ocpp]`` key is a configuration error naming it;
``ocpikit emulate chargepoint`` takes the simulator's options."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ocpikit.cli._ocpp_endpoint import with_ocpp_endpoint
from ocpikit.cli.main import build_parser
from ocpikit.core.versions import Role
from ocpikit.server.settings import PartyConfig, Settings
from ocpikit.storage.memory import MemoryStorage


def app(scope: object, receive: object, send: object) -> None:  # pragma: no cover
    raise AssertionError


def test_the_commands_parse() -> None:
    args = build_parser().parse_args(["ocpp", "serve", "--port", "9000", "--no-worker"])
    assert args.ocpp_enabled is True and args.port == 9000 and args.no_worker
    args = build_parser().parse_args(
        ["emulate", "chargepoint", "--ocpp", "2.0.1", "--url", "ws://x/ocpp", "--id", "CP"]
    )
    assert (args.role, args.ocpp, args.cp_id, args.connectors) == ("chargepoint", "2.0.1", "CP", 2)


def test_the_endpoint_follows_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCPIKIT_OCPP", raising=False)
    settings = Settings(
        parties=(PartyConfig("NL", "CPO", (Role.CPO,), "cpo"),),
        base_url="http://cpo.test",
        database_url="memory://",
        admin_token="admin-secret",
    )
    storage = MemoryStorage()
    same, line = with_ocpp_endpoint(app, settings, storage)
    assert same is app and line is None
    wrapped, line = with_ocpp_endpoint(app, settings, storage, force=True)
    assert wrapped is not app and line is not None and "/ocpp/{charge_point_id}" in line
    enabled = replace(settings, extra={"ocpp": {"enabled": True}})
    wrapped, _ = with_ocpp_endpoint(app, enabled, storage)
    assert wrapped is not app
    bad = replace(settings, extra={"ocpp": {"enabled": True, "charge_points": [{"id": "X"}]}})
    with pytest.raises(ValueError, match="evse_uids"):
        with_ocpp_endpoint(app, bad, storage)
