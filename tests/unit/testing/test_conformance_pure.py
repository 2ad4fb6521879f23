"""The conformance runner's pure rules, its plan and its report writers, without I/O."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ocpikit.testing.conformance import pure
from ocpikit.testing.conformance.plan import all_checks, select
from ocpikit.testing.conformance.report import junit_xml, result_lines, summary_line, write_json
from ocpikit.testing.conformance.results import Report, Result


def test_envelope_rules() -> None:
    ok = {"status_code": 1000, "timestamp": "2025-01-01T00:00:00Z", "data": []}
    assert pure.envelope_problems(ok) == []
    assert pure.envelope_problems({**ok, "timestamp": "2025-01-01T00:00:00.123"}) == []
    assert pure.envelope_problems([]) == ["the body is not a JSON object (list)"]
    assert pure.envelope_problems({"timestamp": "2025-01-01T00:00:00Z"}) == [
        "status_code: None is not an integer"
    ]
    assert "status_code: 200 is not a four-digit OCPI status code" in pure.envelope_problems(
        {**ok, "status_code": 200}
    )
    assert pure.envelope_problems({**ok, "timestamp": "2025-01-01 00:00:00+02:00"}) == [
        "timestamp: '2025-01-01 00:00:00+02:00' is not an OCPI DateTime"
    ]
    assert pure.envelope_problems({"status_code": 1000}) == ["timestamp: missing"]


def test_link_header_parsing() -> None:
    assert pure.next_link('<https://x.org/l?offset=10&limit=5>; rel="next"') == (
        "https://x.org/l?offset=10&limit=5"
    )
    assert pure.next_link("<https://x.org/a>; rel=next") == "https://x.org/a"
    assert pure.next_link('<https://x.org/p>; rel="prev", <https://x.org/n>; rel="next"') == (
        "https://x.org/n"
    )
    assert pure.next_link('<https://x.org/p>; rel="prev"') is None
    assert pure.next_link(None) is None
    with pytest.raises(pure.LinkError):
        pure.next_link("https://x.org/l?offset=10")  # no <> and no rel (the bad-link fault)
    with pytest.raises(pure.LinkError):
        pure.next_link("<https://x.org/l>")


def test_urls_and_endpoints() -> None:
    assert pure.is_absolute_url("https://ocpi.example.com/versions")
    assert not pure.is_absolute_url("/ocpi/versions")
    assert not pure.is_absolute_url("ftp://x/y")
    endpoints = [
        {"identifier": "locations", "role": "SENDER", "url": "a"},
        {"identifier": "locations", "role": "RECEIVER", "url": "b"},
        {"identifier": "hubclientinfo", "role": "RECEIVER", "url": "c"},
        {"identifier": "hubclientinfo", "role": "RECEIVER", "url": "d"},
    ]
    assert pure.duplicate_endpoints(endpoints, "2.2.1") == ["hubclientinfo/RECEIVER"]
    assert pure.duplicate_endpoints(endpoints, "2.1.1") == ["locations", "hubclientinfo"]
    assert pure.missing_modules(endpoints, "cpo", "2.2.1") == ["credentials"]
    assert pure.missing_modules(endpoints, "emsp", "2.2.1") == ["credentials", "tokens (SENDER)"]


def test_object_urls_join_with_one_slash() -> None:
    # endpoint URLs are listed with or without a trailing slash; never "//" before the id
    assert pure.join_url("http://h/ocpi/cpo/2.2.1/locations/", "loc1") == (
        "http://h/ocpi/cpo/2.2.1/locations/loc1"
    )
    assert pure.join_url("http://h/locations", "NL", "OKT", "x") == "http://h/locations/NL/OKT/x"


def test_objects_models_nulls_and_keys() -> None:
    token = {
        "country_code": "NL",
        "party_id": "ABC",
        "uid": "AbC123",
        "type": "RFID",
        "contract_id": "NL-ABC-C1",
        "issuer": "X",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2025-01-01T00:00:00Z",
    }
    assert pure.model_problems("2.2.1", "Token", token) == []
    broken = {**token, "uid": 12345}
    del broken["last_updated"]
    problems = pure.model_problems("2.2.1", "Token", broken)
    assert any(p.startswith("uid:") for p in problems) and any(
        "last_updated" in p for p in problems
    )
    assert pure.null_paths({"a": None, "b": {"c": [1, None]}, "d": 0}) == ["a", "b.c[1]"]
    assert pure.object_key("tokens", token) == "NL/ABC/AbC123/RFID"
    assert pure.object_key("tokens", broken) is None
    assert pure.object_key("locations", {"id": "L1"}) == "L1"  # 2.1.1: no party


def test_duplicates_and_sequences() -> None:
    assert pure.duplicates(["a", "b", "a", None, None, "b", "a"]) == ["a", "b"]
    assert pure.dedupe(["a", None, "a", "b", None]) == ["a", None, "b", None]
    assert pure.same_sequence(["a", "b"], ["a", "b", "c"]) is None
    assert pure.same_sequence(["a", None], ["a", "x"]) is None
    assert pure.same_sequence(["b", "c"], ["a", "b"]) == 0
    assert pure.same_sequence(["a", "b", "c"], ["a", "b"]) == 2


def test_stored_differences() -> None:
    sent = {"id": "CfLoc1", "kwh": 9.5, "last_updated": "2025-01-01T00:00:00Z", "tags": ["x"]}
    same = {
        "id": "CfLoc1",
        "kwh": "9.50",
        "last_updated": "2025-01-01T00:00:00.000Z",
        "tags": ["x"],
        "extra": 1,
    }
    assert pure.stored_differences(sent, same) == [
        "kwh: sent 9.5, got '9.50'"
    ]  # a number must stay a number
    ok = {**same, "kwh": 9.50}
    assert pure.stored_differences(sent, ok) == []
    assert pure.stored_differences(sent, {**ok, "id": "CFLOC1"}) == [
        "id: sent 'CfLoc1', got 'CFLOC1'"
    ]
    assert pure.stored_differences({"a": 1}, {}) == ["a: missing (sent 1)"]


def test_plan_ids_are_unique_stable_and_cite_the_spec() -> None:
    checks = all_checks()
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids))
    for wanted in (
        "versions.unique_endpoints",
        "credentials.token_a_invalid",
        "transport.request_id_echo",
        "pagination.link_works",
        "pagination.no_duplicates",
        "objects.valid",
        "write.invalid_rejected",
        "commands.async_result",
        "authorization.realtime",
    ):
        assert wanted in ids
    for c in checks:
        assert c.citation("2.2.1").startswith("2.2.1 ") and "§" in c.citation("2.2.1")
    spec = Path("/work/shared/spec")
    if spec.exists():  # the cited documents exist in each version folder
        for c in checks:
            for version in ("2.1.1", "2.2.1"):
                doc = c.citation(version).split(" ")[1]
                assert list((spec / version).glob(f"{doc}.*")), (c.id, version, doc)


def test_select_by_pattern_in_plan_order() -> None:
    chosen = [c.id for c in select(["transport.*"])]
    assert chosen and all(i.startswith("transport.") for i in chosen)
    assert chosen.index("transport.auth_missing_401") < chosen.index("transport.envelope")
    assert [c.id for c in select(["pagination.link_works", "versions.endpoint"])] == [
        "versions.endpoint",
        "pagination.link_works",
    ]
    with pytest.raises(ValueError, match="no check matches"):
        select(["pagination.nope"])


def _report() -> Report:
    return Report(
        target="http://x/ocpi/versions",
        info={"version": "2.2.1", "role": "cpo", "mode": "read"},
        results=[
            Result(
                "versions.endpoint",
                "pass",
                "2.2.1 version_information_endpoint §Version information endpoint",
                "3 versions",
            ),
            Result(
                "pagination.link_next",
                "fail",
                "2.2.1 transport_and_format §Paginated Response",
                "locations at offset 0: no Link",
                request="GET http://x/locations",
                response="HTTP 200 {...}",
                expected='Link: <url>; rel="next"',
            ),
            Result(
                "write.put_accepted",
                "skip",
                "2.2.1 transport_and_format §Client Owned Object Push",
                "read mode",
            ),
        ],
    )


def test_text_json_and_junit_reports(tmp_path: Path) -> None:
    report = _report()
    lines = result_lines(report.results[1])
    assert lines[0].startswith(
        "FAIL pagination.link_next [2.2.1 transport_and_format §Paginated Response]"
    )
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["request", "response", "expected"]
    assert summary_line(report).endswith("FAILED: 1 pass, 1 fail, 1 skip")
    out = tmp_path / "r.json"
    write_json(report, out)
    data = json.loads(out.read_text())
    assert data["target"] == "http://x/ocpi/versions"
    assert data["summary"] == {"pass": 1, "fail": 1, "skip": 1}
    assert [set(c) >= {"id", "status", "spec", "message"} for c in data["checks"]] == [True] * 3
    assert [c["status"] for c in data["checks"]] == ["pass", "fail", "skip"]
    suite = ET.fromstring(junit_xml(report))
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = list(suite.iter("testcase"))
    assert [c.get("name") for c in cases] == [r.id for r in report.results]
    assert cases[1].find("failure") is not None and cases[2].find("skipped") is not None
