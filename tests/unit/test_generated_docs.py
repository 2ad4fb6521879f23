"""Generated documentation stays in step with the data it is generated from."""

from __future__ import annotations

from pathlib import Path

from ocpikit.convert import render_loss_table
from ocpikit.testing.spec_errata import render_errata

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_loss_table_doc_is_current() -> None:
    assert (DOCS / "loss-table.md").read_text() == render_loss_table(), (
        "regenerate: ocpikit info --loss-table > docs/loss-table.md"
    )


def test_errata_doc_is_current() -> None:
    assert (DOCS / "spec-errata.md").read_text() == render_errata(), (
        "regenerate: python -c 'from ocpikit.testing.spec_errata import render_errata;"
        ' print(render_errata(), end="")\' > docs/spec-errata.md'
    )
