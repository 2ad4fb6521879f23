"""Which URLs the platform calls on a partner's word (the trust model, docs/security.md).

A partner hands us URLs: its versions URL (credentials ``url``), the version details and module
endpoints it lists, a command's ``response_url``, the ``Link`` of a page. Every one goes through
:class:`UrlPolicy` before a byte is sent:

- :meth:`UrlPolicy.check_url`: ``http`` or ``https`` only, a host, no user name or password in
  the URL, no host that is itself a forbidden address;
- :meth:`UrlPolicy.check_address`: an address a host name resolved to must not be loopback,
  private, link-local, multicast, unspecified or reserved (the platform's own admin API, a
  cloud metadata service, the operator's intranet), unless the configuration lets that host
  through (``[security] allowed_hosts``) or every private range (``[security]
  allow_private_networks``). The client connects to the address it checked (no DNS rebinding
  between the check and the connect: ``ocpikit.client`` resolves once and dials that address);
- :meth:`UrlPolicy.check_same_site`: a ``response_url`` or ``Link`` must stay on a host the
  partner registered (its versions and endpoint URLs).

Refusals are :class:`UrlRefused`, naming the URL and the rule. Pure: no I/O, no resolver.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from ocpikit.core.errors import UrlRefused

__all__ = ["IPAddress", "PartnerSites", "UrlPolicy", "UrlRefused", "host_of"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        if parts.port is not None and parts.port == 0:  # .port raises for a non-number
            raise ValueError("port 0")
    except ValueError:
        raise UrlRefused(url, "not a valid URL") from None
    return parts


def host_of(url: str) -> str | None:
    """The lower-case host of ``url`` (IPv6 without brackets), or None."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def _forbidden(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _forbidden(address.ipv4_mapped)
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_unspecified, "unspecified"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
    )
    return next((what for is_it, what in checks if is_it), None)


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """``allowed_hosts``: host names or addresses let through whatever they resolve to (e.g.
    ``127.0.0.1`` for a partner on the same machine); ``allow_private_networks``: every private
    and link-local range is let through (loopback only through ``allowed_hosts``)."""

    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    allow_private_networks: bool = False

    @classmethod
    def of(
        cls, allowed_hosts: Iterable[str] = (), *, allow_private_networks: bool = False
    ) -> UrlPolicy:
        hosts = frozenset(h.strip().lower().strip("[]") for h in allowed_hosts if h.strip())
        return cls(hosts, allow_private_networks)

    def check_url(self, url: str) -> str:
        """The host to connect to, when ``url`` may be called at all (then every address it
        resolves to must pass :meth:`check_address`)."""
        parts = _split(url)
        if parts.scheme not in ("http", "https"):
            raise UrlRefused(url, "only http and https URLs are called")
        if parts.username is not None or parts.password is not None:
            raise UrlRefused(url, "credentials in the URL are not allowed")
        host = (parts.hostname or "").lower()
        if not host:
            raise UrlRefused(url, "the URL has no host")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return host
        self.check_address(url, host, literal)
        return host

    def check_address(self, url: str, host: str, address: IPAddress) -> None:
        """Refuse ``address`` (what ``host`` of ``url`` resolved to) unless it is public or
        allowed by the configuration."""
        if host.lower() in self.allowed_hosts or str(address) in self.allowed_hosts:
            return
        why = _forbidden(address)
        if why is None:
            return
        if self.allow_private_networks and why in ("private", "link-local"):
            return
        raise UrlRefused(
            url,
            f"{host} is a {why} address ({address}); allow it with [security] allowed_hosts"
            + (" or allow_private_networks" if why in ("private", "link-local") else ""),
        )

    @staticmethod
    def check_same_site(url: str, registered: Iterable[str], what: str) -> None:
        """Refuse ``url`` (a ``response_url``, a ``Link``) unless its host is one of the hosts
        of the partner's ``registered`` URLs."""
        hosts = {h for h in (host_of(u) for u in registered) if h}
        host = host_of(url)
        if host is None or host not in hosts:
            raise UrlRefused(url, f"a {what} must stay on the partner's registered hosts")


class PartnerSites:
    """The hosts a partner registered (its versions and endpoint URLs, plus ``extra`` hosts a
    per-partner switch names), and whether a URL stays on them.

    Plan: most URLs the client calls start with one of the registered origins, which
    ``str.startswith`` over a tuple of ``scheme://host/`` and ``scheme://host:`` prefixes tells
    in C; any other URL takes :meth:`UrlPolicy.check_same_site` (the reference: parsed, host
    compared case-insensitively). Invariant: :meth:`check` refuses exactly what the reference
    refuses (a prefix ends at ``/`` or ``:``, so ``host.evil.example`` never matches ``host``).
    """

    __slots__ = ("_prefixes", "urls")

    def __init__(self, urls: Iterable[str], extra: Iterable[str] = ()) -> None:
        self.urls = tuple(u for u in urls if u) + tuple(f"https://{h}/" for h in extra if h)
        hosts = {h for h in (host_of(u) for u in self.urls) if h}
        self._prefixes = tuple(
            f"{scheme}://{host}{end}"
            for host in sorted(hosts)
            for scheme in ("https", "http")
            for end in ("/", ":", "?")
        )

    def check(self, url: str, what: str) -> None:
        """Refuse ``url`` unless its host is a registered one (``what`` names it)."""
        if url.startswith(self._prefixes):
            return
        UrlPolicy.check_same_site(url, self.urls, what)
