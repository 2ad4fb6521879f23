"""Who is calling: the ``Authorization`` header of a partner's request resolved to its
credentials token and partner (DIGEST §1.1: ``Token <raw>`` and ``Token <base64>`` both work,
core.auth; an unknown token, or one of an UNREGISTERED partner, is a 401).

Plan of the speed trick: a partner sends the same header on every request, and looking it up
costs two storage reads. :class:`AuthCache` remembers the answer for a header whose token is a
token C (without expiry) of a REGISTERED partner, the only state a request can be in for long;
tokens A and partners mid-registration are always looked up. Before each request it asks the
storage's :class:`~ocpikit.protocol.ports.CredentialsChanges` for its mark (SQLite: the bytes
of a signal file beside the database, mapped into memory; PostgreSQL: a counter that a
``LISTEN`` ing thread raises; no database read unless something changed) and forgets every
answer when the mark moved: a token or a partner changed, in this process or any other on the
same database (``ocpikit partners unregister``, a second server). At most
:data:`AUTH_CACHE_ENTRIES` answers are kept.

Invariant: every answer the cache gives is what :func:`authenticate_plainly` (the reference)
answers at that moment, for every change the mark shows (every change committed through
ocpikit's storage before the request, except on PostgreSQL the instant until its notification
arrives; see :mod:`ocpikit.storage.sql.credentials_changes`). An answer looked up while the
mark moved is not kept.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from ocpikit.core.auth import token_candidates
from ocpikit.core.errors import Unauthorized
from ocpikit.protocol.ports import CredentialsToken, Partner, PartnerStatus, Storage, TokenKind
from ocpikit.server.settings import PartyConfig

__all__ = [
    "AUTH_CACHE_ENTRIES",
    "AuthCache",
    "Authenticated",
    "authenticate_plainly",
]

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
        and auth.record.expires_at is None
        and partner is not None
        and partner.status is PartnerStatus.REGISTERED
    )


class _Forgotten:
    """A mark no storage gives: set by :meth:`AuthCache.forget`."""


class AuthCache:
    """:func:`authenticate_plainly` with a memory that any credentials change clears; see the
    module's plan."""

    def __init__(self, storage: Storage, *, max_entries: int = AUTH_CACHE_ENTRIES) -> None:
        self.storage = storage
        self.changes = storage.credentials_changes
        self.max_entries = max_entries
        self._answers: dict[str, Authenticated] = {}
        #: the credentials mark the remembered answers were looked up under
        self._mark: Hashable = _Forgotten()

    async def authenticate(self, header: str | None) -> Authenticated:
        mark = await self.changes.mark()
        if mark != self._mark:
            self._answers.clear()
            self._mark = mark
        if header is not None:
            cached = self._answers.get(header)
            if cached is not None:
                return cached
        auth = await authenticate_plainly(self.storage, header)
        # keep it only when nothing moved the mark while it was looked up
        if header is not None and self._mark == mark and _cacheable(auth):
            if len(self._answers) >= self.max_entries:
                for old in list(self._answers)[: max(1, len(self._answers) // 2)]:
                    del self._answers[old]  # the oldest half
            self._answers[header] = auth
        return auth

    def forget(self) -> None:
        """Drop every remembered answer, and any lookup under way (this process changed a token
        or a partner: the next request asks for the mark anew)."""
        self._answers.clear()
        self._mark = _Forgotten()
