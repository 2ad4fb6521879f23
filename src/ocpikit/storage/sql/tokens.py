"""Credentials tokens partners present to us (token A, token C; OCPI 2.2.1 credentials
§Credentials token), stored as a SHA-256 digest only (docs/storage.md, "Tokens: what is
stored")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from ocpikit.protocol.ports import CredentialsToken, TokenKind, token_digest
from ocpikit.storage.sql.database import Database
from ocpikit.storage.sql.schema import credentials_tokens

__all__ = ["SqlTokens", "issue_token", "revoke_token"]

Result = TypeVar("Result")


def issue_token(
    db: Database,
    conn: sa.Connection,
    token: str,
    kind: TokenKind,
    partner_id: str | None,
    local_party: tuple[str, str] | None,
    expires_at: datetime | None = None,
    expected_party: str | None = None,
) -> CredentialsToken:
    record = CredentialsToken(
        digest=token_digest(token),
        kind=kind,
        partner_id=partner_id,
        local_party=local_party,
        hint=token[-4:],
        created_at=db.clock(),
        expires_at=expires_at,
        expected_party=expected_party,
    )
    values = {
        "digest": record.digest,
        "kind": record.kind.value,
        "partner_id": partner_id,
        "local_country_code": local_party[0] if local_party else None,
        "local_party_id": local_party[1] if local_party else None,
        "hint": record.hint,
        "created_at": record.created_at,
        "revoked_at": None,
        "expires_at": expires_at,
        "expected_party": expected_party,
    }
    ins = db.insert(credentials_tokens).values(**values)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=[credentials_tokens.c.digest],
            set_={k: v for k, v in values.items() if k != "digest"},
        )
    )
    return record


def revoke_token(db: Database, conn: sa.Connection, token: str) -> bool:
    result = conn.execute(
        sa.update(credentials_tokens)
        .where(
            credentials_tokens.c.digest == token_digest(token),
            credentials_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=db.clock())
    )
    return result.rowcount > 0


def _row_to_token(row: sa.Row[Any]) -> CredentialsToken:
    local = (
        (row.local_country_code, row.local_party_id)
        if row.local_country_code is not None and row.local_party_id is not None
        else None
    )
    return CredentialsToken(
        digest=row.digest,
        kind=TokenKind(row.kind),
        partner_id=row.partner_id,
        local_party=local,
        hint=row.hint,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
        expected_party=row.expected_party,
    )


class SqlTokens:
    """The token repository (:class:`~ocpikit.protocol.ports.TokenRepository`)."""

    def __init__(self, db: Database, *, changed: Callable[[], None] = lambda: None) -> None:
        self._db = db
        #: called after every write (the credentials signal: :mod:`.credentials_changes`)
        self._changed = changed

    async def _write(self, fn: Callable[[sa.Connection], Result]) -> Result:
        try:
            return await self._db.write(fn)
        finally:
            self._changed()

    async def issue(
        self,
        token: str,
        kind: TokenKind,
        *,
        partner_id: str | None = None,
        local_party: tuple[str, str] | None = None,
        expires_at: datetime | None = None,
        expected_party: str | None = None,
    ) -> CredentialsToken:
        return await self._write(
            lambda conn: issue_token(
                self._db, conn, token, kind, partner_id, local_party, expires_at, expected_party
            )
        )

    def _active(self) -> list[sa.ColumnElement[bool]]:
        """Neither revoked nor expired (now)."""
        return [
            credentials_tokens.c.revoked_at.is_(None),
            sa.or_(
                credentials_tokens.c.expires_at.is_(None),
                credentials_tokens.c.expires_at > self._db.clock(),
            ),
        ]

    async def lookup(self, token: str) -> CredentialsToken | None:
        query = sa.select(credentials_tokens).where(
            credentials_tokens.c.digest == token_digest(token), *self._active()
        )

        def run(conn: sa.Connection) -> CredentialsToken | None:
            row = conn.execute(query).one_or_none()
            return _row_to_token(row) if row is not None else None

        return await self._db.read(run)

    async def invites(self) -> list[CredentialsToken]:
        query = (
            sa.select(credentials_tokens)
            .where(credentials_tokens.c.kind == TokenKind.A.value, *self._active())
            .order_by(credentials_tokens.c.created_at)
        )
        return await self._db.read(lambda conn: [_row_to_token(row) for row in conn.execute(query)])

    async def revoke_invite(self, token_id: str) -> int:
        if len(token_id) < 8 or not all(c in "0123456789abcdef" for c in token_id.lower()):
            return 0
        stmt = (
            sa.update(credentials_tokens)
            .where(
                credentials_tokens.c.kind == TokenKind.A.value,
                credentials_tokens.c.digest.startswith(token_id.lower(), autoescape=True),
                *self._active(),
            )
            .values(revoked_at=self._db.clock())
        )
        return await self._write(lambda conn: conn.execute(stmt).rowcount)

    async def revoke(self, token: str) -> bool:
        return await self._write(lambda conn: revoke_token(self._db, conn, token))

    async def revoke_partner(self, partner_id: str, kind: TokenKind | None = None) -> int:
        where = [
            credentials_tokens.c.partner_id == partner_id,
            credentials_tokens.c.revoked_at.is_(None),
        ]
        if kind is not None:
            where.append(credentials_tokens.c.kind == kind.value)

        def run(conn: sa.Connection) -> int:
            stmt = sa.update(credentials_tokens).where(*where).values(revoked_at=self._db.clock())
            return conn.execute(stmt).rowcount

        return await self._write(run)
