"""The platform CLI contract: init, db upgrade, invite JSON, partners, unregister."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocpikit.cli.main import main


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("OCPIKIT_PARTY", "OCPIKIT_PORT", "OCPIKIT_BASE_URL", "OCPIKIT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCPIKIT_ADMIN_TOKEN", "cli-admin")
    return tmp_path


def test_init_writes_a_config_once(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    assert (workdir / "ocpikit.toml").read_text().startswith("# ocpikit platform configuration")
    assert main(["init"]) == 1


def test_db_upgrade_invite_partners_unregister(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCPIKIT_PORT", "18999")
    assert main(["db", "upgrade"]) == 0
    assert (workdir / "ocpikit.db").exists()
    capsys.readouterr()
    assert main(["invite"]) == 0
    invite = json.loads(capsys.readouterr().out)
    assert invite["versions_url"] == "http://127.0.0.1:18999/ocpi/versions"
    assert len(invite["token"]) > 20
    assert main(["invite", "--party", "NL-OKT"]) == 0
    capsys.readouterr()
    assert main(["partners", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["partners"]) == 0
    assert "no partners" in capsys.readouterr().out
    assert main(["unregister", "XX-YYY"]) == 1


def test_register_with_an_unreachable_partner_fails_cleanly(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["register", "--versions-url", "http://127.0.0.1:9/ocpi/versions", "--token", "A"])
    assert code == 1
    err = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert err["status_code"] == 3001
    assert main(["partners", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_rotate_key_reseals_partner_tokens_under_a_new_key_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    import os
    import stat

    from ocpikit.cli._platform import open_storage
    from ocpikit.protocol.ports import Partner, PartnerStatus
    from ocpikit.server.settings import load_settings

    async def save_then_read(expect: str | None) -> str | None:
        storage = open_storage(load_settings(None))
        try:
            if expect is None:
                await storage.partners.save(
                    Partner(id="DE-MSP", status=PartnerStatus.REGISTERED, outbound_token="tok-B")
                )
            partner = await storage.partners.get("DE-MSP")
            return partner.outbound_token if partner else None
        finally:
            await storage.aclose()

    assert asyncio.run(save_then_read(None)) == "tok-B"
    key_file = workdir / ".ocpikit-secrets-key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    old_key = key_file.read_text()
    capsys.readouterr()
    assert main(["db", "rotate-key"]) == 0
    assert "resealed 1 partner token(s)" in capsys.readouterr().out
    assert key_file.read_text() != old_key
    assert not (workdir / ".ocpikit-secrets-key.new").exists()
    assert asyncio.run(save_then_read("tok-B")) == "tok-B"
    assert main(["db", "rotate-key", "--to", "not-a-key"]) == 2


def test_parties_lists_the_directory_with_the_chosen_route(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from ocpikit.protocol.party_records import Learned, RemoteParty
    from ocpikit.protocol.party_records import Path as Via
    from ocpikit.protocol.ports import Partner, PartnerStatus, PartyRole
    from ocpikit.storage import open_storage

    (workdir / "ocpikit.toml").write_text('[routing]\nhub_order = ["hub-2", "hub-1"]\n')
    assert main(["parties"]) == 0
    assert "no parties" in capsys.readouterr().out

    async def setup() -> None:
        storage = open_storage("sqlite:///ocpikit.db")
        for hub_id, party in (("hub-1", "HB1"), ("hub-2", "HB2")):
            await storage.partners.save(
                Partner(hub_id, PartnerStatus.REGISTERED, (PartyRole("HUB", "EU", party),))
            )
            await storage.parties.learn(
                [
                    RemoteParty(
                        "DE", "AAA", "CPO", hub_id, Via.HUB, Learned.HUBCLIENTINFO, "CONNECTED"
                    )
                ]
            )
        await storage.aclose()

    asyncio.run(setup())
    assert main(["parties", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    chosen = {(r["party"], r["partner"]): r["chosen"] for r in rows}
    assert chosen[("DE-AAA", "hub-2")] is True and chosen[("DE-AAA", "hub-1")] is False
    assert main(["parties"]) == 0
    out = capsys.readouterr().out
    assert "DE-AAA" in out and "CONNECTED" in out


def test_partners_set_and_show_a_hub_profile(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from ocpikit.protocol.ports import Partner, PartnerStatus, PartyRole
    from ocpikit.storage import open_storage

    async def setup() -> None:
        storage = open_storage("sqlite:///ocpikit.db")
        await storage.partners.save(
            Partner("FR-GIR", PartnerStatus.REGISTERED, (PartyRole("CPO", "FR", "GIR"),))
        )
        await storage.aclose()

    asyncio.run(setup())
    assert main(["partners", "set", "FR-GIR", "--profile", "gireve"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["profile"] == "gireve" and shown["hub"] is True
    assert main(["partners", "set", "FR-GIR", "--switch", 'page_limits={"cdrs": 10}']) == 0
    capsys.readouterr()
    assert main(["partners", "show", "FR-GIR", "--json"]) == 0
    switches = {s["name"]: s for s in json.loads(capsys.readouterr().out)["switches"]}
    assert (switches["page_limits"]["value"], switches["page_limits"]["source"]) == (
        {"cdrs": 10},
        "partner",
    )
    assert switches["routing_headers_always"]["source"] == "profile gireve"
    assert main(["partners", "set", "FR-GIR", "--unset", "page_limits"]) == 0
    capsys.readouterr()
    assert main(["partners", "show", "FR-GIR"]) == 0
    out = capsys.readouterr().out
    assert "profile gireve" in out and "hub: yes" in out
    assert main(["partners", "show", "XX-NOPE"]) == 1
    assert main(["partners", "set", "FR-GIR", "--switch", "=1"]) == 2
    with pytest.raises(SystemExit):
        main(["partners", "set", "FR-GIR", "--profile", "unknown-hub"])
    # `partners` alone still lists
    capsys.readouterr()
    assert main(["partners", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == "FR-GIR"
