"""The conformance runner: a staged plan of checks, each with a stable id and the spec section
behind it, run against any OCPI endpoint (``ocpikit conformance``, docs/testing.md).

From a test::

    from ocpikit.testing import conformance

    report = conformance.run(versions_url=url, token=token_a, checks=["transport.*"])
    assert report.ok, report.failed()

:func:`run` / :func:`run_async` return a :class:`Report` of :class:`Result` objects;
:func:`select` lists the checks matching id patterns; :data:`CHECKS` is the whole plan (after
:func:`all_checks`). The pure rules are in :mod:`.pure`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpikit.core.lazy import lazy_members

if TYPE_CHECKING:
    from .plan import all_checks, select
    from .registry import Check
    from .report import junit_xml, result_lines, summary_line, write_json, write_junit
    from .results import Report, Result
    from .runner import run, run_async

__all__ = [
    "Check",
    "Report",
    "Result",
    "all_checks",
    "junit_xml",
    "result_lines",
    "run",
    "run_async",
    "select",
    "summary_line",
    "write_json",
    "write_junit",
]

__getattr__ = lazy_members(
    __name__,
    {
        "Check": f"{__name__}.registry",
        "all_checks": f"{__name__}.plan",
        "select": f"{__name__}.plan",
        "junit_xml": f"{__name__}.report",
        "result_lines": f"{__name__}.report",
        "summary_line": f"{__name__}.report",
        "write_json": f"{__name__}.report",
        "write_junit": f"{__name__}.report",
        "Report": f"{__name__}.results",
        "Result": f"{__name__}.results",
        "run": f"{__name__}.runner",
        "run_async": f"{__name__}.runner",
    },
)
