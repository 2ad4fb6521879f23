"""The PATCH plan a handler hands to storage (``protocol/ports.py``): ``SetFields`` refuses
what only the PATCH rules can merge, and its merge is ``{**document, **fields}`` with existing
keys in place; a bare merge function is ``ReplaceDocument``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from ocpikit.core.patch import merge_patch
from ocpikit.protocol.ports import ReplaceDocument, SetFields, patch_plan

STAMP = "2024-01-02T03:04:05Z"


def test_set_fields_keeps_the_order_the_rules_merge_gives() -> None:
    document = {"id": "S1", "kwh": 1, "tags": ["x"], "last_updated": "2024-01-01T00:00:00Z"}
    plan = SetFields({"tags": ["a"], "new": 2, "kwh": 3.5, "last_updated": STAMP})
    merged = plan.apply(document)
    assert orjson.dumps(merged) == orjson.dumps(merge_patch(document, plan.fields))
    assert list(merged) == ["id", "kwh", "tags", "last_updated", "new"]
    assert document["kwh"] == 1  # the document is not changed


@pytest.mark.parametrize(
    "fields",
    [
        {"kwh": 1},
        {"kwh": 1, "last_updated": None},
        {"status": None, "last_updated": STAMP},
        {"cdr_token": {"uid": "1"}, "last_updated": STAMP},
    ],
)
def test_set_fields_refuses_what_needs_the_patch_rules(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SetFields(fields)


def test_a_merge_function_is_a_replace_plan() -> None:
    def merge(current: Mapping[str, Any]) -> Mapping[str, Any]:
        return current

    assert patch_plan(merge) == ReplaceDocument(merge)
    plan = SetFields({"last_updated": STAMP})
    assert patch_plan(plan) is plan
    replace = ReplaceDocument(merge)
    assert patch_plan(replace) is replace
