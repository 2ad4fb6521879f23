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


def test_wire_cache_budget_from_toml_and_env(tmp_path: Path) -> None:
    from ocpikit.cli._platform import open_storage

    assert load_settings(environ={}, cwd=tmp_path).wire_cache_mib == 256
    (tmp_path / "c.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/x.db"\nwire_cache_mib = 3\n'
    )
    s = load_settings(tmp_path / "c.toml", environ={}, cwd=tmp_path)
    assert s.wire_cache_mib == 3
    storage = open_storage(s)
    try:
        cache = storage.objects.wire_cache
        assert cache is not None and cache.budget == 3 * 1024 * 1024
    finally:
        storage._db.close()
    off = load_settings(tmp_path / "c.toml", environ={"OCPIKIT_WIRE_CACHE_MIB": "0"}, cwd=tmp_path)
    assert off.wire_cache_mib == 0
    storage = open_storage(off)
    try:
        assert storage.objects.wire_cache is None
    finally:
        storage._db.close()
    with pytest.raises(ConfigError, match="wire_cache_mib"):
        load_settings(environ={"OCPIKIT_WIRE_CACHE_MIB": "lots"}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="wire_cache_mib"):
        load_settings(environ={"OCPIKIT_WIRE_CACHE_MIB": "-1"}, cwd=tmp_path)


def test_trusted_proxies_from_toml_and_env(tmp_path: Path) -> None:
    assert load_settings(environ={}, cwd=tmp_path).trusted_proxies == ("127.0.0.1", "::1")
    (tmp_path / "ocpikit.toml").write_text(
        '[server]\ntrusted_proxies = ["10.0.0.0/8", "192.0.2.7"]\n'
    )
    assert load_settings(environ={}, cwd=tmp_path).trusted_proxies == ("10.0.0.0/8", "192.0.2.7")
    env = {"OCPIKIT_TRUSTED_PROXIES": " 172.16.0.0/12 , fd00::/8"}
    assert load_settings(environ=env, cwd=tmp_path).trusted_proxies == (
        "172.16.0.0/12",
        "fd00::/8",
    )
    none = load_settings(environ={"OCPIKIT_TRUSTED_PROXIES": ""}, cwd=tmp_path)
    assert none.trusted_proxies == ()


@pytest.mark.parametrize("entry", ["*", "proxy.internal", "10.0.0.1/8", "300.1.1.1"])
def test_a_trusted_proxy_that_is_no_address_or_network_is_refused(
    tmp_path: Path, entry: str
) -> None:
    (tmp_path / "ocpikit.toml").write_text(f'[server]\ntrusted_proxies = ["{entry}"]\n')
    with pytest.raises(ConfigError, match=r"server\.trusted_proxies"):
        load_settings(environ={}, cwd=tmp_path)
