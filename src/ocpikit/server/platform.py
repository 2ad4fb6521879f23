"""Everything a request of the OCPI routes needs, one per app: the settings with what requests
derive from them (computed once: the settings do not change for the app's life), the storage,
the clock, the handlers' services, the partner-registration service, the auth cache and the
exchange log.
"""

from __future__ import annotations

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.errors import Unauthorized
from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import Role, Version
from ocpikit.operations.exchange_log import log_policy
from ocpikit.operations.hub_relay import HubRelay
from ocpikit.protocol.decisions import Decisions, DemoDecisions
from ocpikit.protocol.endpoints import side_of
from ocpikit.protocol.handlers import OwnParty, Services
from ocpikit.protocol.hub_routing import HubForwarder
from ocpikit.protocol.partner_registration import FlowDriver, PartnerRegistration
from ocpikit.protocol.ports import Storage
from ocpikit.server.adapter import OcpiRequest
from ocpikit.server.auth import AuthCache, Authenticated
from ocpikit.server.exchange_log import ExchangeLogBatcher
from ocpikit.server.guard import RequestGuard
from ocpikit.server.metrics import PlatformMetrics
from ocpikit.server.settings import ConfigError, PartyConfig, Settings

__all__ = ["Platform", "hub_store", "own_party"]


def own_party(party: PartyConfig, *, sole: bool = False) -> OwnParty:
    """The handlers' view of one of our parties."""
    return OwnParty(party.country_code, party.party_id, party.roles, party.business_details(), sole)


def hub_store(settings: Settings) -> bool:
    """``[hub] store`` (default true): whether a hub keeps the objects it relays (docs/hubs.md
    "ocpikit as a hub")."""
    table = settings.extra.get("hub", {})
    value = table.get("store", True) if isinstance(table, dict) else True
    if not isinstance(value, bool):
        raise ConfigError("hub.store: expected true or false")
    return value


class Platform:
    """One per app; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        *,
        decisions: Decisions | None = None,
        clock: Clock = SYSTEM_CLOCK,
        driver: FlowDriver | None = None,
        log_exchanges: bool = True,
        hub_forwarder: HubForwarder | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.clock = clock
        self.services = Services(storage, decisions or DemoDecisions(), clock)
        self.registration = PartnerRegistration(
            storage,
            self.versions_url(),
            driver,
            own_parties=[party.key for party in settings.parties],
        )
        self.auth = AuthCache(storage)
        self.guard = RequestGuard(settings.limits)
        #: the traffic counters and the state gauges of ``GET /metrics``
        self.metrics = PlatformMetrics(storage, clock)
        try:
            policy = log_policy(settings.extra)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.exchange_log = ExchangeLogBatcher(
            storage, enabled=log_exchanges, observe=self.metrics.observe, policy=policy
        )
        self._versions: dict[str, Version] = {v.text: v for v in settings.versions}
        #: JSON that depends on the settings only (a party's versions list), dumped on first use
        self.settled_json: dict[tuple[str, str], bytes] = {}
        self._parties: dict[str, PartyConfig] = {p.key: p for p in settings.parties}
        sole = len(settings.parties) == 1
        self._own: dict[str, OwnParty] = {p.key: own_party(p, sole=sole) for p in settings.parties}
        #: our parties' keys (``CC-PID``), which no partner may write
        self.own_party_keys = frozenset(self._parties)
        hub = next((p for p in settings.parties if Role.HUB in p.roles), None)
        #: the hub's use case when one of our parties is a HUB (docs/hubs.md)
        self.hub: HubRelay | None = (
            HubRelay(
                self.services,
                hub_forwarder,
                ocpi_url=f"{settings.base_url}/ocpi",
                hub_party=PartyRef(hub.country_code, hub.party_id),
                store=hub_store(settings),
            )
            if hub is not None
            else None
        )

    async def authenticate(self, request: OcpiRequest) -> Authenticated:
        """Who is calling, within the limits: 429 for an address that failed too often (before
        any lookup) or a connection over its rate; 401 for an unknown token, counted against
        the address (a request without any token is not counted: health probes)."""
        address = request.client_address
        self.guard.before_authentication(address)
        header = request.headers.get("authorization")
        try:
            auth = await self.auth.authenticate(header)
        except Unauthorized:
            if header:  # a wrong token counts; none at all (a health probe) does not
                self.guard.authentication_failed(address)
            raise
        partner = auth.partner
        self.guard.take(partner.id if partner is not None else auth.record.digest)
        return auth

    # --- our URLs ------------------------------------------------------------------------------
    def versions_url(self) -> str:
        return f"{self.settings.base_url}/ocpi/versions"

    def version_url(self, version: Version) -> str:
        return f"{self.settings.base_url}/ocpi/{version}"

    def module_url(self, version: Version, role: Role, module: str) -> str:
        return f"{self.settings.base_url}/ocpi/{version}/{side_of(role)}/{module}"

    # --- our parties and versions --------------------------------------------------------------
    def party_config(self, country_code: str, party_id: str) -> PartyConfig:
        """One of our parties; a ``ConfigError`` (a ``ValueError``) when it is not ours."""
        party = self._parties.get(f"{country_code}-{party_id}".upper())
        if party is None:
            return self.settings.party(f"{country_code}-{party_id}")  # raises the ConfigError
        return party

    def version(self, text: str) -> Version | None:
        """One of the versions we offer, by its exact text."""
        return self._versions.get(text)

    def own(self, party: PartyConfig) -> OwnParty:
        """The handlers' view of one of our parties (built once)."""
        return self._own.get(party.key) or own_party(party, sole=len(self._parties) == 1)

    def home_party(self, auth: Authenticated) -> PartyConfig:
        """The party the caller registered with (or was invited to); our first party when
        that is unknown or no longer ours."""
        home = auth.home
        if home is None:
            home = auth.home = self._home_party(auth)
        return home

    def _home_party(self, auth: Authenticated) -> PartyConfig:
        local = auth.record.local_party
        if local is None and auth.partner is not None:
            local = auth.partner.local_party
        if local is not None:
            try:
                return self.party_config(*local)
            except ValueError:
                pass
        return self.settings.parties[0]
