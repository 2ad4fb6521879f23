"""Partner platforms on SQL: status, negotiated version, roles (normalised into
``partner_parties`` for lookups by party), endpoint cache, the token we send them, the sync
marks of incremental pulls and where an unfinished pull goes on (OCPI 2.2.1 credentials
§Registration, versions §Endpoints, transport_and_format §Pagination)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa

from ocpikit.core.types import ci_key
from ocpikit.protocol.ports import (
    Endpoint,
    Partner,
    PartnerStatus,
    PartyRole,
    PullResume,
    TokenKind,
)
from ocpikit.storage.sql.database import Database
from ocpikit.storage.sql.schema import (
    credentials_tokens,
    outbox,
    partner_parties,
    partners,
    pull_resumes,
    sync_marks,
)
from ocpikit.storage.sql.secrets import SecretBox
from ocpikit.storage.sql.tokens import issue_token, revoke_token

__all__ = ["SqlPartners"]

Result = TypeVar("Result")


def _row_to_partner(row: sa.Row[Any], box: SecretBox | None = None) -> Partner:
    roles = tuple(
        PartyRole(
            role=r["role"],
            country_code=r["country_code"],
            party_id=r["party_id"],
            business_details=r.get("business_details"),
        )
        for r in orjson.loads(row.roles)
    )
    endpoints = tuple(
        Endpoint(identifier=e["identifier"], url=e["url"], role=e.get("role"))
        for e in orjson.loads(row.endpoints)
    )
    local = (
        (row.local_country_code, row.local_party_id)
        if row.local_country_code is not None and row.local_party_id is not None
        else None
    )
    return Partner(
        id=row.id,
        status=PartnerStatus(row.status),
        roles=roles,
        version=row.version,
        versions_url=row.versions_url,
        endpoints=endpoints,
        outbound_token=box.open(row.outbound_token) if box is not None else row.outbound_token,
        local_party=local,
        settings=orjson.loads(row.settings),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlPartners:
    """The partner repository (:class:`~ocpikit.protocol.ports.PartnerRepository`)."""

    def __init__(
        self,
        db: Database,
        box: SecretBox | None = None,
        *,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        #: seals the tokens partners gave us at rest (None: kept as they are)
        self.box = box
        #: called after every write of partners or tokens (the credentials signal:
        #: :mod:`.credentials_changes`)
        self._changed = changed

    async def _write(self, fn: Callable[[sa.Connection], Result]) -> Result:
        try:
            return await self._db.write(fn)
        finally:
            self._changed()

    async def save(
        self,
        partner: Partner,
        *,
        issue: Sequence[tuple[str, TokenKind]] = (),
        revoke: Sequence[str] = (),
    ) -> Partner:
        db = self._db

        def run(conn: sa.Connection) -> Partner:
            now = db.clock()
            values = {
                "id": partner.id,
                "status": partner.status.value,
                "version": partner.version,
                "versions_url": partner.versions_url,
                "roles": orjson.dumps(
                    [
                        {
                            "role": r.role,
                            "country_code": r.country_code,
                            "party_id": r.party_id,
                            "business_details": r.business_details,
                        }
                        for r in partner.roles
                    ]
                ).decode(),
                "endpoints": orjson.dumps(
                    [
                        {"identifier": e.identifier, "url": e.url, "role": e.role}
                        for e in partner.endpoints
                    ]
                ).decode(),
                "outbound_token": (
                    self.box.seal(partner.outbound_token)
                    if self.box is not None
                    else partner.outbound_token
                ),
                "local_country_code": partner.local_party[0] if partner.local_party else None,
                "local_party_id": partner.local_party[1] if partner.local_party else None,
                "settings": orjson.dumps(dict(partner.settings)).decode(),
                "created_at": now,
                "updated_at": now,
            }
            ins = db.insert(partners).values(**values)
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=[partners.c.id],
                    set_={k: v for k, v in values.items() if k not in {"id", "created_at"}},
                )
            )
            conn.execute(
                sa.delete(partner_parties).where(partner_parties.c.partner_id == partner.id)
            )
            parties = {(r.role, ci_key(r.country_code), ci_key(r.party_id)) for r in partner.roles}
            if parties:
                conn.execute(
                    sa.insert(partner_parties),
                    [
                        {"partner_id": partner.id, "role": role, "cc_key": cc, "pid_key": pid}
                        for role, cc, pid in sorted(parties)
                    ],
                )
            for token, kind in issue:
                issue_token(db, conn, token, kind, partner.id, partner.local_party)
            for token in revoke:
                revoke_token(db, conn, token)
            row = conn.execute(sa.select(partners).where(partners.c.id == partner.id)).one()
            return _row_to_partner(row, self.box)

        return await self._write(run)

    async def get(self, partner_id: str) -> Partner | None:
        def run(conn: sa.Connection) -> Partner | None:
            row = conn.execute(sa.select(partners).where(partners.c.id == partner_id)).one_or_none()
            return _row_to_partner(row, self.box) if row is not None else None

        return await self._db.read(run)

    async def all(self, *, status: PartnerStatus | None = None) -> list[Partner]:
        query = sa.select(partners).order_by(partners.c.created_at, partners.c.id)
        if status is not None:
            query = query.where(partners.c.status == status.value)
        return await self._db.read(
            lambda conn: [_row_to_partner(row, self.box) for row in conn.execute(query)]
        )

    async def reseal(self, new_box: SecretBox) -> int:
        """Write every stored partner token again under ``new_box`` (a key rotation: the
        current box opens them); how many; afterwards this repository uses ``new_box``."""
        old_box = self.box

        def run(conn: sa.Connection) -> int:
            rows = conn.execute(
                sa.select(partners.c.id, partners.c.outbound_token).where(
                    partners.c.outbound_token.is_not(None)
                )
            ).all()
            for row in rows:
                plain = old_box.open(row.outbound_token) if old_box else row.outbound_token
                conn.execute(
                    sa.update(partners)
                    .where(partners.c.id == row.id)
                    .values(outbound_token=new_box.seal(plain))
                )
            return len(rows)

        count = await self._write(run)
        self.box = new_box
        return count

    async def find_by_party(self, country_code: str, party_id: str) -> list[Partner]:
        ids = (
            sa.select(partner_parties.c.partner_id)
            .where(
                partner_parties.c.cc_key == ci_key(country_code),
                partner_parties.c.pid_key == ci_key(party_id),
            )
            .scalar_subquery()
        )
        query = (
            sa.select(partners)
            .where(partners.c.id.in_(ids))
            .order_by(partners.c.created_at, partners.c.id)
        )
        return await self._db.read(
            lambda conn: [_row_to_partner(row, self.box) for row in conn.execute(query)]
        )

    async def delete(self, partner_id: str) -> bool:
        def run(conn: sa.Connection) -> bool:
            # explicit, so correctness never depends on the FK cascade being enabled
            for table in (partner_parties, sync_marks, pull_resumes, credentials_tokens, outbox):
                conn.execute(sa.delete(table).where(table.c.partner_id == partner_id))
            return conn.execute(sa.delete(partners).where(partners.c.id == partner_id)).rowcount > 0

        return await self._write(run)

    async def get_sync_mark(self, partner_id: str, module: str) -> datetime | None:
        query = sa.select(sync_marks.c.at).where(
            sync_marks.c.partner_id == partner_id, sync_marks.c.module == module
        )
        return await self._db.read(lambda conn: conn.execute(query).scalar_one_or_none())

    async def set_sync_mark(self, partner_id: str, module: str, at: datetime) -> None:
        ins = self._db.insert(sync_marks).values(partner_id=partner_id, module=module, at=at)
        stmt = ins.on_conflict_do_update(
            index_elements=[sync_marks.c.partner_id, sync_marks.c.module],
            set_={"at": ins.excluded.at},
        )
        await self._db.write(lambda conn: conn.execute(stmt))

    async def get_pull_resume(self, partner_id: str, module: str) -> PullResume | None:
        t = pull_resumes.c
        query = sa.select(t.url, t.date_from, t.page_offset, t.pages, t.started_at).where(
            t.partner_id == partner_id, t.module == module
        )

        def run(conn: sa.Connection) -> PullResume | None:
            row = conn.execute(query).first()
            if row is None:
                return None
            return PullResume(row.url, row.date_from, row.page_offset, row.pages, row.started_at)

        return await self._db.read(run)

    async def set_pull_resume(
        self, partner_id: str, module: str, resume: PullResume | None
    ) -> None:
        t = pull_resumes.c
        stmt: Any
        if resume is None:
            stmt = sa.delete(pull_resumes).where(t.partner_id == partner_id, t.module == module)
        else:
            values = {
                "url": resume.url,
                "date_from": resume.date_from,
                "page_offset": resume.offset,
                "pages": resume.pages,
                "started_at": resume.started_at,
            }
            ins = self._db.insert(pull_resumes).values(
                partner_id=partner_id, module=module, **values
            )
            stmt = ins.on_conflict_do_update(
                index_elements=[t.partner_id, t.module],
                set_={name: getattr(ins.excluded, name) for name in values},
            )
        await self._db.write(lambda conn: conn.execute(stmt))
