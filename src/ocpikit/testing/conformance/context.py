"""The state one run shares between its checks: the target's versions and details, the token
in force, the registration the runner made (if any), and the Sender lists it walked.

Every step is done once, on first need, so a run of selected checks still registers and walks
what those checks read. A step that cannot be done leaves its reason, and the checks that need
it are skipped with that reason.

Tokens (credentials §Registration): the token given is a token A when it cannot open a
functional module; the runner then registers (POST credentials with a new token B, keeps the
token C it answers with) and unregisters at the end. It is a token of an existing registration
when the versions and the credentials GET answer 1000 and a Sender list of the role (else the
first functional endpoint) answers 1000 too; the runner then uses it as is and neither
registers nor unregisters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .party import OUR_ROLE, LoopbackParty
from .pure import KIND, SENDER_LISTS, LinkError, dedupe, next_link, object_key
from .registry import Skipped
from .target import Exchange, TargetClient

__all__ = ["Context", "Options", "Page", "Walk"]

SUPPORTED = ("2.1.1", "2.2.1", "2.3.0")
#: sessions lists need date_from (mod_sessions §GET Method); the runner always sends this one
SESSIONS_FROM = "2000-01-01T00:00:00Z"
MAX_PAGES = 60


@dataclass
class Options:
    versions_url: str
    token: str
    role: str | None = None
    version: str | None = None
    mode: str = "read"
    party: str | None = None
    timeout: float = 30.0
    #: the most seconds to wait for a command's asynchronous result
    command_wait: float = 90.0
    listen_host: str = "127.0.0.1"
    listen_port: int = 0
    public_url: str | None = None


@dataclass
class Page:
    exchange: Exchange
    offset: int
    items: list[Any]
    link: str | None = None
    link_error: str = ""
    total: int | None = None
    limit: int | None = None
    #: how this page was reached: "first", "link" (as given) or "offset" (no usable Link)
    reached_by: str = "first"


@dataclass
class Walk:
    """A Sender list read page by page, following ``Link`` as given (by offset when a page
    that is not the last has no usable ``Link``)."""

    module: str
    url: str
    params: dict[str, str]
    pages: list[Page] = field(default_factory=list)
    #: why the walk stopped early (a page that was not a 1000 list), with its exchange
    error: str = ""
    error_exchange: Exchange | None = None
    complete: bool = True

    @property
    def items(self) -> list[Any]:
        return [item for page in self.pages for item in page.items]

    @property
    def keys(self) -> list[str | None]:
        return [object_key(self.module, item) for item in self.items]

    def distinct(self) -> list[str | None]:
        """The objects in order, each once (objects without an id all kept)."""
        return dedupe(self.keys)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


class Context:
    """One run against one target (see the module docstring)."""

    def __init__(self, options: Options, client: TargetClient) -> None:
        self.options = options
        self.client = client
        self.role: str = options.role or ""
        self.version: str = options.version or ""
        self.party: LoopbackParty | None = None
        self.party_id: str = options.party or ""
        self.versions_ex: Exchange | None = None
        self.details_ex: Exchange | None = None
        self.endpoints: list[dict[str, Any]] = []
        self.token: str = options.token
        #: "A" (the runner registers) or "existing"
        self.token_kind: str = ""
        self.token_probe: Exchange | None = None
        self.registration_ex: Exchange | None = None
        self.registration_error: str = ""
        self.token_b: str = ""
        self.their_roles: list[dict[str, str]] = []
        self.registered = False
        self.unregistered = False
        self.walks: dict[str, Walk] = {}
        self.notes: dict[str, Any] = {}
        self._failed_steps: dict[str, str] = {}

    # --- versions and details -------------------------------------------------------------

    async def versions(self) -> Exchange:
        if self.versions_ex is None:
            self.versions_ex = await self.client.call(
                "GET", self.options.versions_url, token=self.token, module="versions"
            )
        return self.versions_ex

    async def details(self) -> Exchange:
        """GET the chosen version's details (the version: ``--version``, else the highest one
        both sides support)."""
        if self.details_ex is not None:
            return self.details_ex
        ex = await self.versions()
        listed = ex.data if ex.status_code == 1000 and isinstance(ex.data, list) else None
        if listed is None:
            raise Skipped(f"the versions endpoint did not answer a list: {ex.describe_response()}")
        offered = {
            str(v.get("version")): v.get("url")
            for v in listed
            if isinstance(v, dict) and isinstance(v.get("url"), str)
        }
        if not self.version:
            mutual = [v for v in SUPPORTED if v in offered]
            if not mutual:
                raise Skipped(f"no version in common: the target offers {sorted(offered)}")
            self.version = mutual[-1]
        if self.version not in offered:
            raise Skipped(f"the target does not offer {self.version} (it offers {sorted(offered)})")
        self.client.version = self.version
        self.details_ex = await self.client.call(
            "GET", str(offered[self.version]), token=self.token, module="versions"
        )
        data = self.details_ex.data
        if self.details_ex.status_code == 1000 and isinstance(data, dict):
            raw = data.get("endpoints")
            self.endpoints = (
                [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
            )
        if not self.role:
            self.role = self._guess_role()
        return self.details_ex

    def _guess_role(self) -> str:
        for module, role in (("locations", "cpo"), ("tokens", "emsp"), ("hubclientinfo", "hub")):
            if self.endpoint(module, "SENDER"):
                return role
        return "cpo"

    async def need_details(self) -> list[dict[str, Any]]:
        ex = await self.details()
        if not self.endpoints:
            raise Skipped(f"the version details listed no endpoints: {ex.describe_response()}")
        return self.endpoints

    def endpoint(self, module: str, interface: str | None = None) -> str | None:
        """The target's URL of ``module`` in ``interface`` (2.1.1 endpoints carry no role)."""
        for e in self.endpoints:
            if e.get("identifier") != module or not isinstance(e.get("url"), str):
                continue
            if self.version == "2.1.1" or interface is None or e.get("role") == interface:
                return str(e["url"])
        return None

    # --- the token and the registration ---------------------------------------------------

    async def ready(self) -> str:
        """The token to use on functional modules (registering first with a token A)."""
        await self.need_details()
        if not self.token_kind:
            await self._classify_token()
        if self.token_kind == "A" and not self.registered:
            if not self.registration_error:
                await self._register()
            if not self.registered:
                raise Skipped(f"no registration: {self.registration_error}")
        if self.unregistered:
            raise Skipped("the runner has unregistered already")
        return self.token

    async def _classify_token(self) -> None:
        lists = self.sender_lists() or [
            str(e.get("identifier")) for e in self.endpoints if e.get("identifier") != "credentials"
        ]
        probe_url = self.endpoint(lists[0], "SENDER") or self.endpoint(lists[0]) if lists else None
        creds_url = self.endpoint("credentials")
        existing = False
        if creds_url and probe_url:
            creds = await self.client.call("GET", creds_url, token=self.token, module="credentials")
            if creds.status_code == 1000:
                module = next(
                    (str(e.get("identifier")) for e in self.endpoints if e.get("url") == probe_url),
                    "locations",
                )
                probe = await self.client.call(
                    "GET", probe_url, token=self.token, module=module, params={"limit": "1"}
                )
                self.token_probe = probe
                existing = probe.status == 200 and probe.status_code == 1000
                if existing:
                    self.their_roles = _roles_of(creds.data, self.version, self.role)
                    self._set_routing()
        self.token_kind = "existing" if existing else "A"

    async def start_party(self) -> LoopbackParty:
        if self.party is None:
            from .party import random_party

            self.party_id = self.party_id or random_party()
            party = LoopbackParty(
                self.role,
                self.version,
                self.party_id,
                host=self.options.listen_host,
                port=self.options.listen_port,
                public_url=self.options.public_url,
            )
            await party.start()
            self.party = party
        return self.party

    async def _register(self) -> None:
        """POST our Credentials with token A (credentials §Registration)."""
        url = self.endpoint("credentials")
        if url is None:
            self.registration_error = "the version details have no credentials endpoint"
            return
        party = await self.start_party()
        self.token_b = party.offer_token()
        self.notes["party_seq_before"] = party.last_seq
        ex = await self.client.call(
            "POST",
            url,
            token=self.token,
            module="credentials",
            json=party.credentials(self.token_b),
        )
        self.registration_ex = ex
        data = ex.data
        token = data.get("token") if isinstance(data, dict) else None
        if ex.status_code != 1000 or not isinstance(token, str) or not token:
            self.registration_error = f"POST {url} answered {ex.describe_response()}"
            party.forget(self.token_b)
            return
        try:
            self.their_roles = party.registered(
                self.options.versions_url, self.endpoints, data, self.token_b, token
            )
        except Exception as exc:  # the target's Credentials are unusable: say why
            self.registration_error = f"the Credentials answered cannot be used: {exc}"
            return
        self.token = token
        self.registered = True
        self._set_routing()

    def _set_routing(self) -> None:
        if self.version == "2.1.1":
            return
        wanted = self.role.upper()
        chosen = next((r for r in self.their_roles if r.get("role") == wanted), None)
        chosen = chosen or (self.their_roles[0] if self.their_roles else None)
        if chosen is None:
            return
        ours = self.party_id or "NL-CFX"
        self.client.routing = (ours, f"{chosen['country_code']}-{chosen['party_id']}")

    @property
    def our_role(self) -> str:
        return OUR_ROLE.get(self.role, "emsp").upper()

    @property
    def their_party(self) -> tuple[str, str] | None:
        if self.client.routing is None:
            return None
        cc, pid = self.client.routing[1].split("-")
        return cc, pid

    # --- Sender lists ---------------------------------------------------------------------

    def sender_lists(self) -> list[str]:
        return [m for m in SENDER_LISTS.get(self.role, ()) if self.endpoint(m, "SENDER")]

    def base_params(self, module: str) -> dict[str, str]:
        return {"date_from": SESSIONS_FROM} if module == "sessions" else {}

    async def walk(self, module: str) -> Walk:
        """The whole list of ``module`` (cached)."""
        if module not in self.walks:
            self.walks[module] = await self.walk_list(module, self.base_params(module))
        return self.walks[module]

    async def walk_list(
        self, module: str, params: dict[str, str], *, max_pages: int = MAX_PAGES
    ) -> Walk:
        token = await self.ready()
        url = self.endpoint(module, "SENDER")
        if url is None:
            raise Skipped(f"no {module} Sender interface in the version details")
        walk = Walk(module, url, dict(params))
        next_url: str | None = url
        next_params: dict[str, str] | None = dict(params) or None
        reached, offset = "first", 0
        seen: set[str] = set()
        while next_url is not None:
            if len(walk.pages) >= max_pages:
                walk.complete = False
                break
            ex = await self.client.call(
                "GET", next_url, token=token, module=module, params=next_params
            )
            if ex.status != 200 or ex.status_code != 1000 or not isinstance(ex.data, list):
                walk.error = f"a page of {module} was not a list with status 1000"
                walk.error_exchange = ex
                walk.complete = False
                break
            page = Page(ex, offset, list(ex.data), reached_by=reached)
            page.total = _int(ex.header("X-Total-Count"))
            page.limit = _int(ex.header("X-Limit"))
            try:
                page.link = next_link(ex.header("Link"))
            except LinkError as exc:
                page.link_error = str(exc)
            fresh = any(
                k is None or k not in seen for k in (object_key(module, o) for o in page.items)
            )
            seen.update(k for k in (object_key(module, o) for o in page.items) if k is not None)
            walk.pages.append(page)
            offset += len(page.items)
            total = page.total if page.total is not None else walk.pages[0].total
            if page.link and page.items:
                next_url, next_params, reached = page.link, None, "link"
            elif page.items and fresh and (total is None or offset < total):
                # no usable Link although objects may follow (X-Total-Count says so, or there
                # is none to say otherwise): read on by offset until a page brings nothing new
                next_url, reached = url, "offset"
                next_params = {**params, "offset": str(offset)}
            else:
                next_url = None
        return walk


def _roles_of(credentials: Any, version: str, role: str) -> list[dict[str, str]]:
    """The parties of a Credentials object (2.1.1: one, with the role under test)."""
    if not isinstance(credentials, dict):
        return []
    if version == "2.1.1":
        cc, pid = credentials.get("country_code"), credentials.get("party_id")
        if isinstance(cc, str) and isinstance(pid, str):
            return [{"role": role.upper(), "country_code": cc, "party_id": pid}]
        return []
    roles = credentials.get("roles")
    return [
        {
            "role": str(r.get("role")),
            "country_code": str(r.get("country_code")),
            "party_id": str(r.get("party_id")),
        }
        for r in roles or []
        if isinstance(r, dict)
    ]


def kind_of(module: str) -> str:
    return KIND[module]
