"""Pure comparison of a reconciliation pull (ocpikit.protocol.reconcile)."""

from __future__ import annotations

from ocpikit.protocol.reconcile import canonical, compare, diff_fields, digest


def test_numbers_and_key_order_do_not_make_a_difference() -> None:
    a = {"b": 1.50, "a": {"x": [1, 2]}}
    b = {"a": {"x": [1, 2]}, "b": 1.5}
    assert canonical(a) == canonical(b) and digest(a) == digest(b)
    assert digest({"b": 1.51}) != digest({"b": 1.5})


def test_compare_reports_missing_on_each_side_and_differences() -> None:
    there = {"A": b"1", "B": b"2", "C": b"3"}
    here = {"B": b"2", "C": b"x", "D": b"4"}
    report = compare(there, here)
    assert report.missing_here == ["A"]
    assert report.missing_there == ["D"]
    assert report.different == ["C"]
    assert report.same == 1 and not report.in_sync


def test_diff_fields_names_nested_paths() -> None:
    there = {"name": "x", "evses": [{"uid": "1", "status": "AVAILABLE"}], "c": {"d": 1}}
    here = {"name": "x", "evses": [{"uid": "1", "status": "CHARGING"}], "c": {"d": 1.0}, "e": 2}
    assert diff_fields(there, here) == ["e", "evses[0].status"]
