"""Settings: TOML + environment, defaults, per-party versions, starter config round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocpikit.core.versions import V2_1_1, V2_2_1, Role
from ocpikit.server.settings import STARTER_CONFIG, ConfigError, load_settings


def test_defaults_without_any_config(tmp_path: Path) -> None:
    s = load_settings(environ={}, cwd=tmp_path)
    assert s.base_url == "http://127.0.0.1:8000"
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("ocpikit.db")
    assert s.parties[0].roles == (Role.CPO, Role.EMSP)
    assert s.admin_token  # generated and kept
    assert load_settings(environ={}, cwd=tmp_path).admin_token == s.admin_token


def test_starter_config_parses_and_env_wins(tmp_path: Path) -> None:
    (tmp_path / "ocpikit.toml").write_text(STARTER_CONFIG)
    s = load_settings(environ={"OCPIKIT_PORT": "9001", "OCPIKIT_VERSIONS": "2.1.1"}, cwd=tmp_path)
    assert s.port == 9001
    assert s.base_url == "http://127.0.0.1:9001"
    assert s.versions == (V2_1_1,)
    assert s.with_overrides(port=9100).base_url == "http://127.0.0.1:9100"


def test_party_env_and_per_party_versions(tmp_path: Path) -> None:
    s = load_settings(environ={"OCPIKIT_PARTY": "de-abc:EMSP,NL-XYZ:CPO+EMSP"}, cwd=tmp_path)
    assert [p.key for p in s.parties] == ["DE-ABC", "NL-XYZ"]
    assert s.party("nl-xyz").roles == (Role.CPO, Role.EMSP)
    (tmp_path / "c.toml").write_text(
        '[[party]]\ncountry_code="NL"\nparty_id="ONE"\nroles=["CPO"]\nversions=["2.2.1"]\n'
    )
    s = load_settings(tmp_path / "c.toml", environ={}, cwd=tmp_path)
    assert s.parties[0].versions == (V2_2_1,)


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('[[party]]\ncountry_code="NLD"\nparty_id="ONE"\n')
    with pytest.raises(ConfigError, match=r"party\[0\]\.country_code"):
        load_settings(tmp_path / "c.toml", environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="OCPIKIT_VERSIONS"):
        load_settings(environ={"OCPIKIT_VERSIONS": "9.9"}, cwd=tmp_path)
