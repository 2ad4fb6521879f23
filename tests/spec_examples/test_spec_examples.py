"""Every JSON example of the specification, mapped to its object type, validated and round-tripped.

An example that is itself wrong is listed in ``ocpikit.testing.spec_errata.ERRATA`` with the
reason and the JSON paths that must be reported; it is tested to fail exactly there (so a fixed
spec example, or a model that stops catching the error, fails this suite). Nothing is skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ocpikit.models import model_for
from ocpikit.testing.spec_errata import ERRATA
from ocpikit.testing.spec_examples import (
    Example,
    iter_examples,
    normalize_json,
    validate_example,
)
from tests.testdata import spec_examples

EXAMPLES: list[Example] = spec_examples()


def test_every_example_is_mapped(data_dir: Path) -> None:
    examples = list(iter_examples(data_dir / "spec"))
    files = {
        f"{v}/examples/{p.name}"
        for v in ("2.2.1", "2.3.0")
        for p in (data_dir / "spec" / v / "examples").glob("*.json")
    }
    mapped = {e.id for e in examples if e.version != "2.1.1"}
    assert files == mapped
    assert sum(1 for e in examples if e.version == "2.1.1") == 32


def test_errata_refer_to_existing_examples() -> None:
    ids = {e.id for e in EXAMPLES}
    assert set(ERRATA) <= ids, set(ERRATA) - ids


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_example_validates_or_is_a_documented_erratum(example: Example) -> None:
    problems = validate_example(example)
    erratum = ERRATA.get(example.id)
    if erratum is None:
        assert problems == []
        return
    assert problems, f"{example.id} is listed as wrong ({erratum.reason}) but validates"
    for path in erratum.paths:
        assert any(p.startswith(path) for p in problems), (path, problems)


@pytest.mark.parametrize(
    "example",
    [e for e in EXAMPLES if e.id not in ERRATA and e.shape in ("object", "list")],
    ids=lambda e: e.id,
)
def test_parse_dump_round_trip(example: Example) -> None:
    model = model_for(example.version, example.object)
    items = example.data if example.shape == "list" else [example.data]
    for item in items:
        dumped = model.model_validate(item).dump()
        assert normalize_json(dumped) == normalize_json(item)
