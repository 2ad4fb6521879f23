"""The house rules a reader relies on (docs/architecture.md): no source file over 900 lines, no
function over 120 lines, no code comment naming an issue number."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "ocpikit"
ISSUE = re.compile(r"#.*\bissue \d|\(issue \d|issue #\d", re.IGNORECASE)


def _sources() -> list[Path]:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 150
    return files


def test_no_source_file_is_over_900_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n for p in _sources() if (n := p.read_text().count("\n")) > 900
    }
    assert long == {}


def test_no_function_is_over_120_lines() -> None:
    long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 120:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({length})")
    assert long == []


def test_no_comment_or_docstring_names_an_issue() -> None:
    named = [
        f"{path.relative_to(SRC)}:{number}"
        for path in _sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if ISSUE.search(line)
    ]
    assert named == []
