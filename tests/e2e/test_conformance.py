"""``ocpikit conformance`` end to end, real processes over loopback: it passes every check
against ``ocpikit serve --demo`` (as CPO and as eMSP, in every version, in read and in write
mode), and against ``ocpikit emulate`` with a fault mode it fails exactly
the checks the fault breaks, naming the fault's symptom.

The eMSP runs face an eMSP-only platform: a 2.1.1 version details can list one role only, and
a CPO+eMSP platform lists its CPO interfaces there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._nodes import Instance

pytestmark = pytest.mark.e2e

OCPIKIT = [sys.executable, "-m", "ocpikit"]


def conformance(tmp: Path, url: str, token: str, *args: str) -> tuple[int, dict[str, Any], str]:
    out = tmp / "report.json"
    r = subprocess.run(
        [
            *OCPIKIT,
            "conformance",
            "--versions-url",
            url,
            "--token",
            token,
            "--json",
            str(out),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert out.exists(), r.stdout + r.stderr
    return r.returncode, json.loads(out.read_text()), r.stdout


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


def failed(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["message"] for c in report["checks"] if c["status"] == "fail"}


# --- against ocpikit serve --demo --------------------------------------------------------------


@pytest.fixture(scope="module")
def cpo_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    workdir = tmp_path_factory.mktemp("cpo-platform")
    platform = Instance(workdir, "NL-OKT:CPO+EMSP", f"sqlite:///{workdir / 'ocpikit.db'}")
    platform.start("--demo")
    try:
        yield platform
    finally:
        platform.close()


@pytest.fixture(scope="module")
def emsp_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    workdir = tmp_path_factory.mktemp("emsp-platform")
    platform = Instance(workdir, "NL-EMP:EMSP", f"sqlite:///{workdir / 'ocpikit.db'}")
    platform.start("--demo")
    try:
        yield platform
    finally:
        platform.close()


def token_a(platform: Instance) -> str:
    r = platform.cli("invite")
    assert r.returncode == 0, r.stderr
    return str(json.loads(r.stdout)["token"])


#: checks that do not apply to a role/mode (skipped with a reason, never failed)
READ_ONLY_SKIPS = {"transport.bad_json_400", "commands.response", "commands.async_result"}


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
def test_demo_cpo_read_passes_every_check(
    cpo_platform: Instance, version: str, tmp_path: Path
) -> None:
    url = f"{cpo_platform.url}/ocpi/versions"
    code, report, stdout = conformance(
        tmp_path, url, token_a(cpo_platform), "--role", "cpo", "--version", version
    )
    assert code == 0 and not failed(report), stdout
    s = statuses(report)
    must_pass = [
        "versions.unique_endpoints",
        "credentials.register",
        "credentials.callback",
        "credentials.token_a_invalid",
        "credentials.post_again_405",
        "transport.auth_missing_401",
        "pagination.link_works",
        "pagination.date_filters",
        "pagination.stable_order",
        "objects.valid",
        "objects.ids_preserved",
        "credentials.unregister",
    ]
    if version != "2.1.1":
        must_pass += ["transport.request_id_echo", "transport.routing_headers"]
    assert all(s[c] == "pass" for c in must_pass), {c: s[c] for c in must_pass}
    assert report["summary"]["fail"] == 0 and report["version"] == version
    assert stdout.splitlines()[-1].startswith(
        f"conformance of {url} ({version}, CPO, read mode): passed"
    )


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
def test_demo_cpo_write_passes_every_check(
    cpo_platform: Instance, version: str, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    code, report, stdout = conformance(
        tmp_path,
        f"{cpo_platform.url}/ocpi/versions",
        token_a(cpo_platform),
        "--role", "cpo", "--version", version, "--mode", "write", "--junit", str(junit),
    )  # fmt: skip
    assert code == 0 and not failed(report), stdout
    s = statuses(report)
    for c in (
        "write.put_accepted",
        "write.get_returns_stored",
        "write.ids_preserved",
        "write.patch_applied",
        "write.invalid_rejected",
        "write.invalid_not_stored",
        "transport.bad_json_400",
        "commands.response",
        "commands.async_result",
    ):
        assert s[c] == "pass", (c, stdout)
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite" and int(suite.get("tests", "0")) == len(report["checks"])
    assert int(suite.get("failures", "1")) == 0
    assert {case.get("name") for case in suite.iter("testcase")} == set(s)


@pytest.mark.parametrize("mode", ["read", "write"])
@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
def test_demo_emsp_passes_every_check(
    emsp_platform: Instance, version: str, mode: str, tmp_path: Path
) -> None:
    code, report, stdout = conformance(
        tmp_path,
        f"{emsp_platform.url}/ocpi/versions",
        token_a(emsp_platform),
        "--role", "emsp", "--version", version, "--mode", mode,
    )  # fmt: skip
    assert code == 0 and not failed(report), stdout
    s = statuses(report)
    assert s["pagination.pages_valid"] == "pass" and s["objects.valid"] == "pass"
    if mode == "write":
        for c in (
            "write.put_accepted",
            "write.get_returns_stored",
            "write.patch_applied",
            "write.invalid_rejected",
            "authorization.realtime",
            "authorization.unknown_token",
        ):
            assert s[c] == "pass", (c, stdout)


# --- against ocpikit emulate with fault modes --------------------------------------------------


#: the emulated partners' pages (the expected failures below are for these)
PAGE_SIZE = ["--page-size", "10"]

#: fault -> (the checks it breaks, a word of the symptom each names)
FAULTS = {
    "pagination:kind=no-link": {"pagination.link_next": "no Link"},
    # the page at an offset starts with the object before it, so ?offset=N is off by one too
    "pagination:kind=repeat": {
        "pagination.no_duplicates": "served more than once",
        "pagination.offset_applied": "offset=",
    },
    # one object per page (and the one read by id) has a number as id and no last_updated
    "bad-objects": {
        "objects.valid": "id: Input should be a valid string",
        "objects.ids_preserved": "12345",
    },
    "missing-headers:kind=ids": {
        "transport.request_id_echo": "X-Request-ID missing",
        "transport.correlation_id_echo": "X-Correlation-ID missing",
    },
    "pagination:kind=bad-link": {"pagination.link_next": "malformed Link"},
    "pagination:kind=wrong-total": {"pagination.total_count": "X-Total-Count 28"},
    # a raw token on 2.2.1: the Base64 one we send is refused from the first call on
    "auth:kind=raw": {"versions.endpoint": "HTTP 401"},
    # a CDR served twice (once more on the next page)
    "duplicate-cdr": {
        "pagination.x_limit": "X-Limit",
        "pagination.limit_honoured": "for limit=",
        "pagination.no_duplicates": "served more than once",
        "pagination.offset_applied": "offset=",
    },
    # an older update of a session served after a newer one: its last_updated is out of window
    "stale-session": {"pagination.date_filters": "objects outside the window"},
}


@pytest.mark.parametrize("fault", [None, *FAULTS])
def test_emulated_cpo_fails_exactly_what_the_fault_breaks(
    fault: str | None, tmp_path: Path, ocpi_partner: Any
) -> None:
    emu = ocpi_partner("cpo", faults=[fault] if fault else [], seed=7, extra=PAGE_SIZE)
    code, report, stdout = conformance(
        tmp_path, emu.versions_url, emu.token_a, "--role", "cpo", "--version", "2.2.1"
    )
    # registered, then unregistered at the end
    assert emu.state()["registered"] is False
    expected = FAULTS.get(fault or "", {})
    got = failed(report)
    assert set(got) == set(expected), stdout
    for check, symptom in expected.items():
        assert symptom in got[check], (check, got[check])
    assert code == (1 if expected else 0)
    assert report["summary"] == {
        "pass": sum(1 for c in report["checks"] if c["status"] == "pass"),
        "fail": len(expected),
        "skip": sum(1 for c in report["checks"] if c["status"] == "skip"),
    }


def test_selected_checks_from_python(ocpi_partner: Any) -> None:
    from ocpikit.testing import conformance as kit

    emu = ocpi_partner("emsp", faults=["missing-headers:kind=ids"], seed=7, extra=PAGE_SIZE)
    report = kit.run(
        versions_url=emu.versions_url, token=emu.token_a, checks=["transport.*"], version="2.2.1"
    )
    assert emu.state()["registered"] is False
    assert report.results and all(r.id.startswith("transport.") for r in report.results)
    assert set(report.failed()) == {"transport.request_id_echo", "transport.correlation_id_echo"}
    assert report.info["role"] == "emsp" and report.info["registration"] == "registered by the run"
