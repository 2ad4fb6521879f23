"""The PostgreSQL server the tests use, and what happens when it is not there.

``OCPIKIT_TEST_PG_URL`` names it (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
When it does not answer, PostgreSQL cases are skipped with the reason, except under ``CI=true``
(as ``.ci/run`` runs): there an unreachable server fails the case, so CI always runs the storage
suite on both databases.
"""

from __future__ import annotations

import functools
import os

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("OCPIKIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def libpq(url: sa.URL) -> str:
    """The libpq form of a SQLAlchemy URL (``postgresql+psycopg://`` -> ``postgresql://``)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@functools.cache
def pg_unreachable_reason() -> str | None:
    """``None`` when PostgreSQL at ``PG_URL`` answers, else why not."""
    url = sa.make_url(PG_URL)
    try:
        import psycopg

        with psycopg.connect(libpq(url), connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means: not usable here
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        return f"PostgreSQL not reachable at {url.render_as_string(hide_password=True)}: {first}"
    return None


def in_ci() -> bool:
    """Whether this run is CI's (``CI=true``, as ``.ci/run`` is run)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_postgres() -> None:
    """Skip the calling test (or fail it under ``CI=true``) when PostgreSQL is unreachable."""
    reason = pg_unreachable_reason()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)", pytrace=False)
    pytest.skip(reason)
