"""Platform settings: TOML file + ``OCPIKIT_*`` environment variables, read once at the
composition root (DESIGN house rule 12). Library code receives a :class:`Settings` object and
never reads ``os.environ``.

Sources, later wins: built-in defaults → the TOML file (``--config FILE``, else ``ocpikit.toml``
in the working directory when it exists) → environment variables → command-line options.

Environment variables (see docs/server.md):

- ``OCPIKIT_BASE_URL``, ``OCPIKIT_DATABASE_URL``, ``OCPIKIT_ADMIN_TOKEN``, ``OCPIKIT_HOST``,
  ``OCPIKIT_PORT``
- ``OCPIKIT_VERSIONS`` (comma separated, e.g. ``2.1.1``): the versions every party offers
- ``OCPIKIT_PARTY`` (``CC-PID:ROLE[+ROLE]``, comma separated for several): replaces the parties
- ``OCPIKIT_DECISION_WEBHOOK``: URL asked for command acceptance and token authorization
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ocpikit.core.logs import LOG_FORMATS, LOG_LEVELS
from ocpikit.core.versions import SUPPORTED_VERSIONS, Role, Version
from ocpikit.protocol.parties import RoutingRules

__all__ = ["STARTER_CONFIG", "ConfigError", "PartyConfig", "Settings", "load_settings"]


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key."""


@dataclass(frozen=True, slots=True)
class PartyConfig:
    """One of our own parties."""

    country_code: str
    party_id: str
    roles: tuple[Role, ...]
    name: str
    website: str | None = None
    versions: tuple[Version, ...] = SUPPORTED_VERSIONS

    @property
    def key(self) -> str:
        return f"{self.country_code.upper()}-{self.party_id.upper()}"

    def business_details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.website:
            out["website"] = self.website
        return out


@dataclass(frozen=True, slots=True)
class Limits:
    """The ``[limits]`` table: how much a caller may send and how often (docs/security.md).
    A rate of 0 turns its limit off."""

    max_body_bytes: int = 1024 * 1024
    max_header_bytes: int = 16 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    requests_per_second: float = 100.0
    burst: float = 1000.0
    failed_auth_per_minute: int = 30
    max_response_bytes: int = 8 * 1024 * 1024

    @classmethod
    def parse(cls, table: Any, env: Mapping[str, str]) -> Limits:
        """``[limits]``; ``OCPIKIT_REQUESTS_PER_SECOND`` overrides ``requests_per_second``."""
        if not isinstance(table, dict):
            raise ConfigError("[limits] must be a table")
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            if name not in table:
                continue
            raw = table[name]
            if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
                raise ConfigError(f"limits.{name}: expected a number >= 0, got {raw!r}")
            values[name] = raw
        if env.get("OCPIKIT_REQUESTS_PER_SECOND"):
            try:
                values["requests_per_second"] = float(env["OCPIKIT_REQUESTS_PER_SECOND"])
            except ValueError:
                raise ConfigError("OCPIKIT_REQUESTS_PER_SECOND: not a number") from None
        return cls(**values)


#: a reverse proxy on this machine (uvicorn's own default)
DEFAULT_TRUSTED_PROXIES = ("127.0.0.1", "::1")


def _trusted_proxies(server: Mapping[str, Any], env: Mapping[str, str]) -> tuple[str, ...]:
    """``[server] trusted_proxies``, a list of addresses or networks (CIDR);
    ``OCPIKIT_TRUSTED_PROXIES`` overrides it, comma-separated (empty: none). ``*`` is refused:
    trusting every address would let any caller choose the address its failed
    authentications count against."""
    raw: Any
    if "OCPIKIT_TRUSTED_PROXIES" in env:
        raw = [p.strip() for p in env["OCPIKIT_TRUSTED_PROXIES"].split(",") if p.strip()]
    else:
        raw = server.get("trusted_proxies", list(DEFAULT_TRUSTED_PROXIES))
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ConfigError("server.trusted_proxies: expected a list of addresses or networks")
    for entry in raw:
        try:
            ipaddress.ip_network(entry)  # strict, as uvicorn reads it: no host bits set
        except ValueError:
            raise ConfigError(
                f"server.trusted_proxies: {entry!r} is not an address or network (CIDR)"
            ) from None
    return tuple(raw)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the platform needs to start."""

    parties: tuple[PartyConfig, ...]
    base_url: str
    database_url: str
    admin_token: str
    host: str = "127.0.0.1"
    port: int = 8000
    decision_webhook: str | None = None
    decision_hook: str | None = None  # "package.module:function"
    demo: bool = False
    config_path: Path | None = None
    base_url_auto: bool = False  # derived from host/port (follows --host/--port)
    #: SQLite: budget of the in-process cache of served objects' wire bytes (docs/storage.md)
    wire_cache_mib: int = 256
    limits: Limits = field(default_factory=Limits)
    #: ``[server] trusted_proxies`` (``OCPIKIT_TRUSTED_PROXIES``): the addresses or networks of
    #: reverse proxies whose ``X-Forwarded-For`` names the caller (docs/security.md, "Behind a
    #: proxy"); empty: the connecting address is the caller, whatever the headers say
    trusted_proxies: tuple[str, ...] = DEFAULT_TRUSTED_PROXIES
    #: ``[admin] host``/``port``: the backend API on its own listener (None: on the partners')
    admin_host: str | None = None
    admin_port: int | None = None
    #: ``[security]``: hosts (names or addresses) the platform may call whatever they resolve
    #: to, and whether every private network may be called (docs/security.md)
    allowed_hosts: tuple[str, ...] = ()
    allow_private_networks: bool = False
    #: the key that seals partners' tokens at rest (``[security] secrets_key`` or
    #: ``OCPIKIT_SECRETS_KEY``), older keys still accepted for reading, and the key file used
    #: when no key is configured (created on first start, mode 0600)
    secrets_key: str | None = None
    previous_secrets_keys: tuple[str, ...] = ()
    secrets_key_file: Path | None = None
    #: ``[routing]``: which connection carries a party's traffic when several reach it
    #: (docs/hubs.md; ocpikit.protocol.parties)
    routing: RoutingRules = field(default_factory=RoutingRules)
    #: ``[metrics] public``: ``GET /metrics`` without the admin token (docs/operations.md)
    metrics_public: bool = False
    #: ``[logging] format`` (``OCPIKIT_LOG_FORMAT``): ``text`` (default) or ``json`` lines
    log_format: str = "text"
    #: ``[logging] level`` (``OCPIKIT_LOG_LEVEL``): ``info`` logs one event per exchange
    log_level: str = "info"
    #: ``[logging] exchanges`` (``OCPIKIT_LOG_EXCHANGES``): one event per exchange that did not
    #: fail (default off: it costs the hot path a log line per request; docs/operations.md)
    log_exchanges: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def versions(self) -> tuple[Version, ...]:
        """Every version any of our parties offers, ascending."""
        return tuple(sorted({v for p in self.parties for v in p.versions}))

    def party(self, key: str | None) -> PartyConfig:
        """Our party ``CC-PID`` (the first one when ``key`` is None)."""
        if key is None:
            return self.parties[0]
        for p in self.parties:
            if p.key == key.upper():
                return p
        raise ConfigError(f"no own party {key!r}; configured: {[p.key for p in self.parties]}")

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the non-None ``changes``. A ``base_url`` given here is explicit from then
        on; otherwise an automatic base URL follows host/port."""
        given = {k: v for k, v in changes.items() if v is not None}
        if "base_url" in given:
            given["base_url"] = check_base_url(str(given["base_url"]), "--base-url")
            given["base_url_auto"] = False
        new = replace(self, **given)
        if new.base_url_auto and "base_url" not in given:
            host = "127.0.0.1" if new.host in WILDCARD_HOSTS else new.host
            new = replace(new, base_url=f"http://{host}:{new.port}")
        return new

    @property
    def base_url_warning(self) -> str | None:
        """Why partners may not reach the base URL we give them, or None: listening on every
        address with an automatic base URL gives partners a loopback URL."""
        if self.base_url_auto and self.host in WILDCARD_HOSTS:
            return (
                f"listening on {self.host} without --base-url: partners will be given "
                f"{self.base_url}/ocpi/versions, which only answers on this machine; "
                "set --base-url or [platform] base_url to the URL partners can reach"
            )
        return None


#: listen addresses that mean "every interface" (no URL a partner could use)
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]"})


def check_base_url(value: str, where: str) -> str:
    """``value`` without a trailing slash, when it is an absolute http(s) URL with a host and
    neither query nor fragment (partners append ``/ocpi/versions`` to it)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {value!r} is not an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{where}: {value!r} must have no credentials, query or fragment")
    return value.strip().rstrip("/")


def _versions(value: Any, where: str) -> tuple[Version, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(f"{where}: expected a list of versions such as ['2.2.1']")
    out: list[Version] = []
    for item in items:
        v = Version(str(item).strip())
        if v not in SUPPORTED_VERSIONS:
            raise ConfigError(
                f"{where}: unsupported version {item!r} (supported: 2.1.1, 2.2.1, 2.3.0)"
            )
        out.append(v)
    return tuple(sorted(set(out)))


def _roles(value: Any, where: str) -> tuple[Role, ...]:
    items = value.replace("+", ",").split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(
            f"{where}: expected roles such as ['CPO'], ['CPO', 'EMSP'], ['HUB'] or ['PTP']"
        )
    out: list[Role] = []
    for item in items:
        text = str(item).strip().upper()
        if text not in ("CPO", "EMSP", "HUB", "PTP"):
            raise ConfigError(f"{where}: role {item!r} is not CPO, EMSP, HUB or PTP")
        out.append(Role(text))
    if Role.HUB in out and len(set(out)) > 1:
        # a hub only reports itself as HUB (OCPI 2.2.1 credentials §CredentialsRole)
        raise ConfigError(f"{where}: a HUB party has no other role; configure another party")
    return tuple(dict.fromkeys(out))


def _party(
    raw: Mapping[str, Any], where: str, default_versions: tuple[Version, ...]
) -> PartyConfig:
    cc, pid = raw.get("country_code"), raw.get("party_id")
    if not isinstance(cc, str) or len(cc) != 2:
        raise ConfigError(f"{where}.country_code: expected two letters, e.g. 'NL'")
    if not isinstance(pid, str) or len(pid) != 3:
        raise ConfigError(f"{where}.party_id: expected three characters, e.g. 'ABC'")
    versions = (
        _versions(raw["versions"], f"{where}.versions") if "versions" in raw else default_versions
    )
    return PartyConfig(
        country_code=cc.upper(),
        party_id=pid.upper(),
        roles=_roles(raw.get("roles", ["CPO"]), f"{where}.roles"),
        name=str(raw.get("name") or f"{cc.upper()}-{pid.upper()}"),
        website=raw.get("website"),
        versions=versions,
    )


def _parse_party_env(text: str, versions: tuple[Version, ...]) -> tuple[PartyConfig, ...]:
    out = []
    for raw in text.split(","):
        chunk = raw.strip()
        if not chunk:
            continue
        ident, _, roles = chunk.partition(":")
        cc, _, pid = ident.partition("-")
        out.append(
            _party(
                {"country_code": cc, "party_id": pid, "roles": roles or "CPO"},
                "OCPIKIT_PARTY",
                versions,
            )
        )
    if not out:
        raise ConfigError("OCPIKIT_PARTY: expected e.g. 'NL-ABC:CPO' or 'NL-ABC:CPO+EMSP'")
    return tuple(out)


def load_settings(
    config: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Build :class:`Settings`. ``environ`` defaults to ``os.environ`` (this is the composition
    root: the only place that reads it); ``cwd`` to the working directory."""
    env = os.environ if environ is None else environ
    here = Path.cwd() if cwd is None else cwd
    path: Path | None
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
    else:
        candidate = here / "ocpikit.toml"
        path = candidate if candidate.is_file() else None
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    server = data.get("server", {})
    platform = data.get("platform", {})
    if not isinstance(server, dict) or not isinstance(platform, dict):
        raise ConfigError("[server] and [platform] must be tables")
    host = str(env.get("OCPIKIT_HOST") or server.get("host") or "127.0.0.1")
    port_raw = env.get("OCPIKIT_PORT") or server.get("port") or 8000
    try:
        port = int(port_raw)
    except (TypeError, ValueError):
        raise ConfigError(f"port: {port_raw!r} is not a number") from None
    explicit_url = env.get("OCPIKIT_BASE_URL") or platform.get("base_url")
    base_url = (
        check_base_url(str(explicit_url), "base_url")
        if explicit_url
        else f"http://{'127.0.0.1' if host in WILDCARD_HOSTS else host}:{port}"
    )
    db_default = "sqlite:///" + str((here / "ocpikit.db").resolve())
    database_url = str(
        env.get("OCPIKIT_DATABASE_URL") or data.get("database", {}).get("url") or db_default
    )
    cache_raw = env.get("OCPIKIT_WIRE_CACHE_MIB") or data.get("database", {}).get(
        "wire_cache_mib", 256
    )
    try:
        wire_cache_mib = int(cache_raw)
    except (TypeError, ValueError):
        raise ConfigError(f"database.wire_cache_mib: {cache_raw!r} is not a number") from None
    if wire_cache_mib < 0:
        raise ConfigError("database.wire_cache_mib must not be negative")
    admin_token = str(
        env.get("OCPIKIT_ADMIN_TOKEN") or platform.get("admin_token") or ""
    ) or _stable_admin_token(here)
    default_versions = (
        _versions(env["OCPIKIT_VERSIONS"], "OCPIKIT_VERSIONS")
        if env.get("OCPIKIT_VERSIONS")
        else _versions(platform["versions"], "platform.versions")
        if "versions" in platform
        else SUPPORTED_VERSIONS
    )
    if env.get("OCPIKIT_PARTY"):
        parties = _parse_party_env(env["OCPIKIT_PARTY"], default_versions)
    else:
        raw_parties = data.get("party") or [
            {"country_code": "NL", "party_id": "OKT", "roles": ["CPO", "EMSP"], "name": "ocpikit"}
        ]
        if not isinstance(raw_parties, list):
            raise ConfigError("[[party]] must be an array of tables")
        parties = tuple(
            _party(p, f"party[{i}]", default_versions) for i, p in enumerate(raw_parties)
        )
    if len({p.key for p in parties}) != len(parties):
        raise ConfigError("party: the same country_code/party_id is configured twice")
    decisions = data.get("decisions", {})
    admin_host, admin_port = _admin_listener(data.get("admin", {}), env, host)
    allowed_hosts, allow_private = _security(data.get("security", {}), env)
    security = data.get("security", {})
    previous = security.get("previous_secrets_keys", [])
    if not isinstance(previous, list) or not all(isinstance(k, str) for k in previous):
        raise ConfigError("security.previous_secrets_keys: expected a list of keys")
    return Settings(
        parties=parties,
        base_url=base_url,
        database_url=database_url,
        admin_token=admin_token,
        host=host,
        port=port,
        decision_webhook=env.get("OCPIKIT_DECISION_WEBHOOK") or decisions.get("webhook_url"),
        decision_hook=decisions.get("python_hook"),
        config_path=path,
        base_url_auto=not explicit_url,
        wire_cache_mib=wire_cache_mib,
        limits=Limits.parse(data.get("limits", {}), env),
        trusted_proxies=_trusted_proxies(server, env),
        admin_host=admin_host,
        admin_port=admin_port,
        allowed_hosts=allowed_hosts,
        allow_private_networks=allow_private,
        secrets_key=env.get("OCPIKIT_SECRETS_KEY") or security.get("secrets_key") or None,
        previous_secrets_keys=tuple(previous),
        secrets_key_file=here / ".ocpikit-secrets-key",
        routing=_routing(data.get("routing", {})),
        metrics_public=_metrics_public(data.get("metrics", {}), env),
        log_format=_log_format(data.get("logging", {}), env),
        log_level=_log_level(data.get("logging", {}), env),
        log_exchanges=_flag_setting(
            data.get("logging", {}), env, "exchanges", "OCPIKIT_LOG_EXCHANGES", default=False
        ),
        extra=data,
    )


_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def _metrics_public(table: Any, env: Mapping[str, str]) -> bool:
    """``[metrics] public`` (``OCPIKIT_METRICS_PUBLIC``): true lets anyone read ``/metrics``;
    default false: the admin token is required, as for the backend API."""
    if not isinstance(table, dict):
        raise ConfigError("[metrics] must be a table")
    return _flag_setting(table, env, "public", "OCPIKIT_METRICS_PUBLIC", default=False)


def _flag_setting(table: Any, env: Mapping[str, str], key: str, var: str, *, default: bool) -> bool:
    """A true/false setting of a table, its environment variable first."""
    raw = env.get(var, table.get(key, default) if isinstance(table, dict) else default)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{key}: {raw!r} is not true or false ({var})")


def _log_level(table: Any, env: Mapping[str, str]) -> str:
    """``[logging] level`` (``OCPIKIT_LOG_LEVEL``): ``debug``, ``info`` (default), ``warning``
    or ``error``."""
    raw = str(env.get("OCPIKIT_LOG_LEVEL") or table.get("level", "info")).strip().lower()
    if raw not in LOG_LEVELS:
        raise ConfigError(f"logging.level: {raw!r} is not one of {', '.join(LOG_LEVELS)}")
    return raw


def _log_format(table: Any, env: Mapping[str, str]) -> str:
    """``[logging] format`` (``OCPIKIT_LOG_FORMAT``): ``text`` or ``json``."""
    if not isinstance(table, dict):
        raise ConfigError("[logging] must be a table")
    raw = str(env.get("OCPIKIT_LOG_FORMAT") or table.get("format", "text")).strip().lower()
    if raw not in LOG_FORMATS:
        raise ConfigError(f"logging.format: {raw!r} is not one of {', '.join(LOG_FORMATS)}")
    return raw


def _routing(table: Any) -> RoutingRules:
    """``[routing] hub_order`` (hub connections, best first) and ``[routing.prefer]`` (party
    ``CC-PID`` -> connection)."""
    if not isinstance(table, dict):
        raise ConfigError("[routing] must be a table")
    order = table.get("hub_order", [])
    if not isinstance(order, list) or not all(isinstance(h, str) for h in order):
        raise ConfigError("routing.hub_order: expected a list of partner ids")
    prefer = table.get("prefer", {})
    if not isinstance(prefer, dict) or not all(isinstance(v, str) for v in prefer.values()):
        raise ConfigError('routing.prefer: expected a table of "CC-PID" = "partner id"')
    return RoutingRules(tuple(order), {str(k).upper(): v for k, v in prefer.items()})


def _security(table: Any, env: Mapping[str, str]) -> tuple[tuple[str, ...], bool]:
    """``[security] allowed_hosts`` (plus ``OCPIKIT_ALLOWED_HOSTS``, comma separated) and
    ``allow_private_networks``."""
    if not isinstance(table, dict):
        raise ConfigError("[security] must be a table")
    hosts = table.get("allowed_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise ConfigError("security.allowed_hosts: expected a list of host names or addresses")
    extra = [h.strip() for h in env.get("OCPIKIT_ALLOWED_HOSTS", "").split(",") if h.strip()]
    private = table.get("allow_private_networks", False)
    if not isinstance(private, bool):
        raise ConfigError("security.allow_private_networks: expected true or false")
    return tuple(dict.fromkeys([*hosts, *extra])), private


def _admin_listener(table: Any, env: Mapping[str, str], host: str) -> tuple[str | None, int | None]:
    """``[admin] host``/``port`` (``OCPIKIT_ADMIN_HOST``/``OCPIKIT_ADMIN_PORT``): where the
    backend API listens on its own; no port: on the partners' listener."""
    if not isinstance(table, dict):
        raise ConfigError("[admin] must be a table")
    raw_port = env.get("OCPIKIT_ADMIN_PORT") or table.get("port")
    if raw_port in (None, ""):
        return None, None
    try:
        port = int(raw_port)
    except (TypeError, ValueError):
        raise ConfigError(f"admin.port: {raw_port!r} is not a number") from None
    return str(env.get("OCPIKIT_ADMIN_HOST") or table.get("host") or "127.0.0.1"), port


def _stable_admin_token(here: Path) -> str:
    """No admin token configured: keep a random one in ``.ocpikit-admin-token`` in the working
    directory so that the CLI and the server agree across runs."""
    path = here / ".ocpikit-admin-token"
    try:
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    except OSError:
        pass
    token = secrets.token_urlsafe(24)
    try:
        path.write_text(token + "\n", encoding="utf-8")
        path.chmod(0o600)
    except OSError:
        pass
    return token


STARTER_CONFIG = """\
# ocpikit platform configuration (TOML). Every key is optional; environment variables
# OCPIKIT_* override it (see docs/server.md).

[server]
# Listen address and port of `ocpikit serve`.
host = "127.0.0.1"
port = 8000
# Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names the caller: the
# address its failed authentications count against (docs/security.md). Default: this machine.
# trusted_proxies = ["127.0.0.1", "::1", "10.0.0.0/8"]

[platform]
# Public base URL partners use to reach this platform (versions URL = base_url + /ocpi/versions).
# Unset: http://{host}:{port}, following --host/--port.
# base_url = "https://ocpi.example.com"
# Bearer token of the backend API (/admin/api/...). Leave empty to generate one in
# .ocpikit-admin-token on first start.
admin_token = ""
# OCPI versions offered by every party unless the party says otherwise.
versions = ["2.1.1", "2.2.1", "2.3.0"]

[security]
# Which partner URLs the platform calls (docs/security.md): never loopback, private,
# link-local, multicast or reserved addresses, unless a host is listed here or private
# networks are allowed. `serve --demo` allows loopback.
# allowed_hosts = ["127.0.0.1", "partner.internal"]
# allow_private_networks = false
# The key that seals partners' tokens in the database (OCPIKIT_SECRETS_KEY too). Unset: a
# key file .ocpikit-secrets-key beside this file, created on first start (mode 0600).
# secrets_key = "..."
# previous_secrets_keys = []      # older keys, still read (see `ocpikit db rotate-key`)

[routing]
# When a party is reachable over several connections (a direct link and hubs, or two hubs):
# direct before hub, then the hubs in this order (partner ids); `prefer` pins a party to a
# connection (docs/hubs.md). `ocpikit parties` shows the choice.
# hub_order = ["gireve", "e-clearing"]
# prefer = { "DE-AAA" = "e-clearing" }

[admin]
# The backend API (/admin/api) on a listener of its own, e.g. only on the operator's network;
# unset: served on the partners' listener.
# host = "127.0.0.1"
# port = 8001

[limits]
# What a caller may send and how often (docs/security.md). 0 turns a rate limit off.
# max_body_bytes = 1048576        # larger request bodies: HTTP 413
# max_header_bytes = 16384
# header_timeout = 10             # seconds to send a request head: connection closed after
# body_timeout = 30               # seconds to send a body: HTTP 408 after
# requests_per_second = 100       # per partner connection (token bucket): HTTP 429 after
# burst = 1000
# failed_auth_per_minute = 30     # per network address: HTTP 429 after
# max_response_bytes = 8388608    # a partner's answer, after decompression

[database]
# SQLite file by default; PostgreSQL with e.g. "postgresql+psycopg://user:pw@host/db".
url = "sqlite:///ocpikit.db"
# SQLite: MiB of served objects' JSON kept in memory to answer pages without re-reading
# them (0 turns it off). About 2 KiB per location and version served.
wire_cache_mib = 256

[exchange_log]
# Every OCPI request and response, in and out, is logged (Authorization redacted). Entries
# older than this many days are deleted hourly; 0 keeps everything.
keep_days = 30
# Successful reads (GET answered 2xx) kept: one in this many per partner and module, the first
# always. Failures, writes and the credentials handshake are always kept; the metrics count
# every request. 1 (the default) keeps every read; a busy platform may keep 1 in 100.
# sample_reads = 1

[metrics]
# GET /metrics (Prometheus) needs the admin token unless public (docs/operations.md).
# public = false

[logging]
# "text" (readable lines, the default) or "json" (one JSON object per line).
# format = "text"
# "info" logs one line per exchange (in and out) and per background step; "warning" only
# failures; "debug" more.
# level = "info"
# One line per exchange, in and out (default false: only those that failed, as warnings; the
# traffic log and /metrics have them all). A line per request costs the hot path.
# exchanges = false

[decisions]
# Where the platform asks the operator's systems to accept commands and authorize tokens.
# A webhook receives POST {"kind": "command"|"authorize", ...} and answers JSON; a Python hook
# is "package.module:function". Neither: the demo policy (accept known, valid objects).
# webhook_url = "https://csms.example.com/ocpi-decisions"
# python_hook = "mycompany.ocpi:decide"

# One [[party]] table per own party (country_code + party_id), with its roles.
[[party]]
country_code = "NL"
party_id = "OKT"
roles = ["CPO", "EMSP"]
name = "ocpikit"
# website = "https://example.com"
# versions = ["2.2.1"]   # only these versions for this party
"""
