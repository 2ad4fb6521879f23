"""The suite stands on its own: data in ``tests/data``, counted; PostgreSQL required under CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import pg, testdata

ROOT = Path(__file__).resolve().parents[2]


def test_every_corpus_holds_its_recorded_count() -> None:
    assert len(testdata.spec_examples()) == 32 + 59 + 80
    assert len(testdata.json_index(testdata.TARIFF_CASES, "tariff cases")) == 45
    assert len(testdata.json_index(testdata.OCMF_SAMPLES, "ocmf samples")) == 55


def test_a_shrunken_corpus_fails() -> None:
    with pytest.raises(AssertionError, match="loaded 44 cases"):
        testdata.counted("tariff cases", range(44))


def test_nothing_reads_outside_the_checkout() -> None:
    needles = ("OCPIKIT_SHARED", "../shared", '/ "shared"')
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("src", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__) and any(n in path.read_text() for n in needles)
    ]
    assert offenders == []


def test_unreachable_postgres_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "pg_unreachable_reason", lambda: "PostgreSQL not reachable at X")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not reachable at X"):
        pg.require_postgres()


def test_unreachable_postgres_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "pg_unreachable_reason", lambda: "PostgreSQL not reachable at X")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        pg.require_postgres()
