"""Where the tests' data lives and how much of it there is (see ``tests/data/README.md``).

Every corpus-driven test loads its cases through :func:`counted`, which fails when a corpus holds
fewer (or more) cases than recorded here: a missing file fails the suite instead of shrinking it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from ocpikit.testing.spec_examples import Example, iter_examples

DATA = Path(__file__).resolve().parent / "data"
SPEC = DATA / "spec"
TARIFF_CASES = DATA / "tariff-cases"
OCMF_SAMPLES = DATA / "ocmf-samples"

#: How many cases each corpus holds (raise it in the commit that adds data).
EXPECTED = {
    "spec examples 2.1.1": 32,
    "spec examples 2.2.1": 59,
    "spec examples 2.3.0": 80,
    "tariff cases": 45,
    "ocmf samples": 55,
    "afir mobilithek table schemas": 7,
    "afir mobilithek status schemas": 7,
    "afir datex2 3.7 json schemas": 7,
    "afir datex2 3.7 xsds": 7,
}

T = TypeVar("T")


def counted(corpus: str, items: Iterable[T]) -> list[T]:
    """``items`` as a list, after checking that the corpus holds exactly its recorded count."""
    loaded = list(items)
    expected = EXPECTED[corpus]
    if len(loaded) != expected:
        raise AssertionError(
            f"{corpus}: loaded {len(loaded)} cases from {DATA}, expected {expected}"
        )
    return loaded


def spec_examples() -> list[Example]:
    """Every spec example of ``tests/data/spec``, each version's count checked."""
    examples = list(iter_examples(SPEC))
    for version in ("2.1.1", "2.2.1", "2.3.0"):
        counted(f"spec examples {version}", (e for e in examples if e.version == version))
    return examples


def json_index(folder: Path, corpus: str) -> list[dict[str, Any]]:
    """A corpus's ``INDEX.json`` entries, their count checked."""
    entries: list[dict[str, Any]] = json.loads((folder / "INDEX.json").read_text())
    return counted(corpus, entries)
