"""The report in three forms: one text line per check (and for a failure the request, the
response excerpt and what was expected) with a summary; the JSON of ``--json``
(``{"target", "checks": [{"id", "status", "spec", "message"}], "summary": {"pass", "fail",
"skip"}}``); JUnit XML of ``--junit`` (one testcase per check)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from .results import FAIL, SKIP, Report, Result

__all__ = ["junit_xml", "result_lines", "summary_line", "write_json", "write_junit"]

_LABEL = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}


def result_lines(result: Result) -> list[str]:
    lines = [f"{_LABEL[result.status]} {result.id} [{result.spec}] {result.message}"]
    if result.status == FAIL:
        for name in ("request", "response", "expected"):
            value = getattr(result, name)
            if value:
                lines.append(f"     {name + ':':<10}{value}")
    return lines


def summary_line(report: Report) -> str:
    s = report.summary
    what = ", ".join(
        str(v)
        for v in (
            report.info.get("version"),
            (report.info.get("role") or "").upper() or None,
            f"{report.info.get('mode')} mode" if report.info.get("mode") else None,
        )
        if v
    )
    verdict = "FAILED" if s["fail"] else "passed"
    return (
        f"conformance of {report.target} ({what}): {verdict}: "
        f"{s['pass']} pass, {s['fail']} fail, {s['skip']} skip"
    )


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report.as_dict(), indent=2) + "\n")


def junit_xml(report: Report) -> str:
    s = report.summary
    suite = ET.Element(
        "testsuite",
        name="ocpikit conformance",
        tests=str(len(report.results)),
        failures=str(s["fail"]),
        skipped=str(s["skip"]),
        errors="0",
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="target", value=report.target)
    for key, value in report.info.items():
        if value is not None:
            ET.SubElement(props, "property", name=key, value=str(value))
    for r in report.results:
        case = ET.SubElement(suite, "testcase", classname=r.id.split(".")[0], name=r.id)
        if r.status == FAIL:
            failure = ET.SubElement(case, "failure", message=r.message, type=r.spec)
            failure.text = "\n".join(result_lines(r))
        elif r.status == SKIP:
            ET.SubElement(case, "skipped", message=r.message)
        out = ET.SubElement(case, "system-out")
        out.text = f"{r.spec}: {r.message}"
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def write_junit(report: Report, path: str | Path) -> None:
    Path(path).write_text(junit_xml(report) + "\n")
