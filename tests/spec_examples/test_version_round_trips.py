"""2.1.1 → head → 2.1.1 and 2.2.1 → head → 2.2.1 give back every spec example, except fields a
reported loss names; and every conversion to head validates."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.convert import LOSS_TABLE, Context, Loss, convert, join_path
from ocpikit.models import model_for
from ocpikit.testing.spec_errata import ERRATA
from ocpikit.testing.spec_examples import Example, normalize_json
from tests.testdata import spec_examples

RULES = {rule.id: rule for rule in LOSS_TABLE}
CASES = [
    e
    for e in spec_examples()
    if e.version in ("2.1.1", "2.2.1") and e.shape in ("object", "list") and e.id not in ERRATA
]


def _diffs(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in a.keys() | b.keys():
            out += _diffs(a.get(key, "<absent>"), b.get(key, "<absent>"), join_path(path, key))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _diffs(x, y, f"{path}[{i}]")
        ]
    return [] if normalize_json(a) == normalize_json(b) else [path]


def _covered(diff: str, losses: list[Loss]) -> bool:
    for loss in losses:
        rule = RULES[loss.rule]
        fields = [f.strip() for f in rule.field.replace("/", ",").split(",")]
        for name in fields:
            stem = join_path(loss.path, name.split(".")[-1].split("[")[0])
            if diff == loss.path or diff.startswith((stem, f"{loss.path}.", f"{loss.path}[")):
                return True
    return False


@pytest.mark.parametrize("example", CASES, ids=lambda e: e.id)
def test_round_trip_through_head(example: Example) -> None:
    items = example.data if example.shape == "list" else [example.data]
    for item in items:
        original = model_for(example.version, example.object).model_validate(item).dump()
        ctx = Context(country_code="NL", party_id="TNM", role="CPO")
        head, up = convert(original, example.object, example.version, "2.3.0", ctx)
        model_for("2.3.0", example.object).model_validate(head)
        back, down = convert(head, example.object, "2.3.0", example.version, ctx)
        model_for(example.version, example.object).model_validate(back)
        losses = up + down
        assert all(loss.rule in RULES for loss in losses)
        uncovered = [d for d in _diffs(original, back) if not _covered(d, losses)]
        assert uncovered == [], (uncovered, [str(x) for x in losses])
