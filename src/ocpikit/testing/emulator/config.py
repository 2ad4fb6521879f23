"""What an emulated partner is: its role, OCPI version, parties, seed, page size and faults.

Roles (docs/testing.md):

- ``cpo``: one CPO party (``--party``, default ``NL-ECP``) that owns locations, tariffs,
  sessions and CDRs;
- ``emsp``: one eMSP party (default ``NL-EMS``) that owns tokens;
- ``hub``: a hub party (default ``DE-HUB``) with parties behind it (``--behind CC-PID:ROLE``,
  default CPOs ``DE-AAA`` and ``DE-AAB`` and eMSP ``NL-EMA``). In 2.2.1 its credentials list only
  the HUB role (credentials §CredentialsRole: a Hub reports itself as role HUB and its parties
  through HubClientInfo); in 2.3.0, which has no HUB role, they list the parties behind it and
  ``hub_party_id`` (credentials §Credentials object). A hub needs 2.2.1 or later.

A CPO may be backed by ``chargepoints`` simulated charge points (OCPP ``ocpp`` 1.6 or 2.0.1,
``connectors`` each, OCMF-``signed`` readings, charging at ``power_w``): its first
``chargepoints`` Locations are theirs (fleet.py, docs/testing.md). Without them (0, the
default) the emulator is what it always was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .data import CPO_MODULES, DEFAULT_COUNTS

__all__ = ["ROLES", "VERSIONS", "ConfigError", "EmulatorConfig", "parse_party"]

ROLES = ("cpo", "emsp", "hub")
VERSIONS = ("2.1.1", "2.2.1", "2.3.0")
DEFAULT_PARTY = {"cpo": "NL-ECP", "emsp": "NL-EMS", "hub": "DE-HUB"}
DEFAULT_BEHIND = (("DE-AAA", "CPO"), ("DE-AAB", "CPO"), ("NL-EMA", "EMSP"))
_PARTY = re.compile(r"^[A-Z]{2}-[A-Z0-9]{3}$")
OCPP_VERSIONS = ("1.6", "2.0.1")
MAX_CHARGEPOINTS = 99
MAX_CONNECTORS = 9


class ConfigError(ValueError):
    """A setting that cannot work; the message names the option."""


def parse_party(text: str, option: str = "--party") -> str:
    """``CC-PID`` in upper case; :class:`ConfigError` otherwise."""
    party = text.strip().upper()
    if not _PARTY.match(party):
        raise ConfigError(f"{option} {text!r}: expected CC-PID, e.g. NL-ABC")
    return party


@dataclass(frozen=True)
class EmulatorConfig:
    role: str = "cpo"
    version: str = "2.2.1"
    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 0
    party: str = ""
    #: ``(CC-PID, CPO|EMSP)`` of the parties behind a hub
    behind: tuple[tuple[str, str], ...] = DEFAULT_BEHIND
    faults: tuple[str, ...] = ()
    #: the most objects a page holds (``X-Limit``)
    page_size: int = 20
    counts: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_COUNTS))
    #: seconds between a CommandResponse and the CommandResult we POST
    command_delay: float = 0.3
    #: the eMSP whose tokens a CPO's sessions and CDRs carry
    token_party: str = "NL-EMS"
    #: simulated charge points behind a CPO (0: none)
    chargepoints: int = 0
    #: the OCPP version they speak: 1.6 or 2.0.1
    ocpp: str = "1.6"
    #: connectors (OCPP 2.0.1: EVSEs) of each charge point, one OCPI EVSE each
    connectors: int = 2
    #: they send OCMF signed begin and end readings (a test key)
    signed: bool = False
    #: their charging power in W
    power_w: float = 11000.0

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(f"role {self.role!r}: one of {', '.join(ROLES)}")
        if self.version not in VERSIONS:
            raise ConfigError(f"--version {self.version!r}: one of {', '.join(VERSIONS)}")
        if self.role == "hub" and self.version == "2.1.1":
            raise ConfigError("--version 2.1.1: OCPI 2.1.1 has no hubs (2.2.1 or 2.3.0)")
        if self.page_size < 1:
            raise ConfigError("--page-size must be at least 1")
        if not self.party:
            object.__setattr__(self, "party", DEFAULT_PARTY[self.role])
        for party, role in self.behind:
            parse_party(party, "--behind")
            if role not in ("CPO", "EMSP"):
                raise ConfigError(f"--behind {party}:{role}: the role is CPO or EMSP")
        self._check_chargepoints()

    def _check_chargepoints(self) -> None:
        if self.chargepoints < 0 or self.chargepoints > MAX_CHARGEPOINTS:
            raise ConfigError(f"--chargepoints must be from 0 to {MAX_CHARGEPOINTS}")
        if not self.chargepoints:
            return
        if self.role != "cpo":
            raise ConfigError("--chargepoints: only an emulated cpo has charge points")
        if self.ocpp not in OCPP_VERSIONS:
            raise ConfigError(f"--ocpp {self.ocpp!r}: one of {', '.join(OCPP_VERSIONS)}")
        if not 1 <= self.connectors <= MAX_CONNECTORS:
            raise ConfigError(f"--connectors must be from 1 to {MAX_CONNECTORS}")
        if self.power_w <= 0:
            raise ConfigError("--power must be more than 0 W")
        if self.counts.get("locations", 0) < self.chargepoints:
            raise ConfigError(
                f"--chargepoints {self.chargepoints} needs as many locations "
                f"(--objects locations={self.chargepoints})"
            )

    @property
    def parties(self) -> list[tuple[str, str]]:
        """Every party this partner speaks for, with its OCPI role (the hub first)."""
        if self.role == "hub":
            return [(self.party, "HUB"), *self.behind]
        return [(self.party, self.role.upper())]

    def parties_of(self, role: str) -> list[str]:
        return [p for p, r in self.parties if r == role]

    @property
    def owners(self) -> dict[str, list[str]]:
        """Which parties own the objects of each module."""
        cpos, emsps = self.parties_of("CPO"), self.parties_of("EMSP")
        owners = {module: list(cpos) for module in CPO_MODULES}
        owners["tokens"] = list(emsps)
        return owners

    @property
    def sessions_token_party(self) -> str:
        """The eMSP of the tokens in sessions and CDRs: the hub's first eMSP, or
        ``token_party``."""
        emsps = self.parties_of("EMSP")
        return emsps[0] if self.role == "hub" and emsps else self.token_party

    def owner_of(self, party: str) -> str | None:
        """The role of ``party`` if we speak for it."""
        return next((r for p, r in self.parties if p == party), None)
