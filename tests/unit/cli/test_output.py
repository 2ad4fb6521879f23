"""The CLI's tables and progress (``ocpikit.cli._output``)."""

from __future__ import annotations

import pytest

from ocpikit.cli._output import ModuleProgress, print_table


def test_rows_are_aligned_under_their_headers(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("ID", "STATE"), [("a-long-id", "pending"), ("b", None)], empty="nothing")
    lines = capsys.readouterr().out.splitlines()
    header, first, second = (line for line in lines if line.strip())
    assert header.index("STATE") == first.index("pending") == second.index("-")


def test_nothing_to_list_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("ID",), [], empty="no partners")
    assert capsys.readouterr().out.strip() == "no partners"


def test_long_cells_are_never_wrapped(capsys: pytest.CaptureFixture[str]) -> None:
    cell = "x" * 300
    print_table(("ID", "PROBLEM"), [("1", cell)], empty="")
    assert cell in capsys.readouterr().out


def test_progress_off_a_terminal_prints_only_the_result_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ModuleProgress.open(quiet=False) as bar:
        bar("locations", 5, 10)
        bar.done("locations", "10 seen: 10 new")
    with ModuleProgress.open(quiet=True) as bar:
        bar.done("tariffs", "quiet")
    err = capsys.readouterr().err
    assert err.splitlines() == ["locations  10 seen: 10 new"]
