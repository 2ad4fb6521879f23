"""Who is calling: the ``Authorization`` header of a partner's request resolved to its
credentials token and partner (DIGEST §1.1: ``Token <raw>`` and ``Token <base64>`` both work,
core.auth; an unknown token, or one of an UNREGISTERED partner, is a 401).

Plan of the speed trick: a partner sends the same header on every request, and looking it up
costs two storage reads. :class:`AuthCache` remembers, for :data:`AUTH_CACHE_SECONDS`, the
answer for a header whose token is a token C of a REGISTERED partner (the only state a request
can be in for long); tokens A and partners mid-registration are always looked up.

Invariant: within its lifetime a cached answer is what :func:`authenticate_plainly` (the
reference) answers, provided the caller calls :meth:`AuthCache.forget` whenever a token or a
partner changes through this platform (credentials POST/PUT/DELETE do). A change made by
another process shows after at most :data:`AUTH_CACHE_SECONDS`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ocpikit.core.auth import token_candidates
from ocpikit.core.errors import Unauthorized
from ocpikit.protocol.ports import CredentialsToken, Partner, PartnerStatus, Storage, TokenKind
from ocpikit.server.settings import PartyConfig

__all__ = [
    "AUTH_CACHE_ENTRIES",
    "AUTH_CACHE_SECONDS",
    "AuthCache",
    "Authenticated",
    "authenticate_plainly",
]

#: how long a cached answer is used
AUTH_CACHE_SECONDS = 5.0

#: at most this many answers are remembered (one per registered partner's header in practice)
AUTH_CACHE_ENTRIES = 10_000


@dataclass(slots=True)
class Authenticated:
    """A caller whose token we know."""

    token: str
    record: CredentialsToken
    partner: Partner | None
    #: which of our parties the caller talks to, once computed (``Platform.home_party``;
    #: the settings do not change)
    home: PartyConfig | None = None


async def authenticate_plainly(storage: Storage, header: str | None) -> Authenticated:
    """The reference: the first candidate token of ``header`` that storage knows, with its
    partner; 401 when there is none."""
    for candidate in token_candidates(header):
        record = await storage.tokens.lookup(candidate.token)
        if record is None:
            continue
        partner = None
        if record.partner_id is not None:
            partner = await storage.partners.get(record.partner_id)
            if partner is None or partner.status is PartnerStatus.UNREGISTERED:
                continue
        return Authenticated(candidate.token, record, partner)
    raise Unauthorized("Missing or unknown token" if header else "Authorization header missing")


def _cacheable(auth: Authenticated) -> bool:
    partner = auth.partner
    return (
        auth.record.kind is TokenKind.C
        and partner is not None
        and partner.status is PartnerStatus.REGISTERED
    )


class AuthCache:
    """:func:`authenticate_plainly` with a short memory; see the module's plan."""

    def __init__(self, storage: Storage, *, max_entries: int = AUTH_CACHE_ENTRIES) -> None:
        self.storage = storage
        self.max_entries = max_entries
        self._answers: dict[str, tuple[float, Authenticated]] = {}

    async def authenticate(self, header: str | None) -> Authenticated:
        now = time.monotonic()
        if header is not None:
            cached = self._answers.get(header)
            if cached is not None and cached[0] > now:
                return cached[1]
        auth = await authenticate_plainly(self.storage, header)
        if header is not None and _cacheable(auth):
            if len(self._answers) >= self.max_entries:
                self._evict(now)
            self._answers[header] = (now + AUTH_CACHE_SECONDS, auth)
        return auth

    def _evict(self, now: float) -> None:
        """Make room: drop the expired answers, and the oldest half when none had expired."""
        expired = [header for header, (until, _) in self._answers.items() if until <= now]
        for header in expired:
            del self._answers[header]
        if len(self._answers) >= self.max_entries:
            for header in list(self._answers)[: max(1, len(self._answers) // 2)]:
                del self._answers[header]

    def forget(self) -> None:
        """Drop every remembered answer (a token or a partner changed)."""
        self._answers.clear()
