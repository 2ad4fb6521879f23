"""The test kit's pytest plugin without processes: it costs nothing at import, and its options,
ini settings and marker reach the partners the fixtures start (``start_partner`` replaced by a
recorder in the inner runs)."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

# the plugin comes by its entry point once ocpikit is installed with it; else by name
LOAD = (
    []
    if entry_points(group="pytest11", name="ocpikit")
    else ["-p", "ocpikit.testing.pytest_plugin"]
)

RECORDER = """
import pytest
import ocpikit.testing.partner as partner

STARTED = []


class Fake:
    def __init__(self, role, **kw):
        self.role, self.kw, self.closed = role, kw, False

    def close(self, grace=10.0, *, check=False):
        self.closed = True
        return 0


@pytest.fixture(autouse=True)
def record(monkeypatch):
    monkeypatch.setattr(partner, "start_partner", lambda role, **kw: STARTED.append(Fake(role, **kw)) or STARTED[-1])
    yield
"""


def test_importing_the_plugin_loads_nothing_but_itself() -> None:
    code = (
        "import sys, pytest; before = set(sys.modules); import ocpikit.testing.pytest_plugin; "
        "print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['ocpikit', 'ocpikit.testing', 'ocpikit.testing.pytest_plugin']"


def test_defaults_options_and_marker_reach_the_partners(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RECORDER)
    pytester.makepyfile(
        """
        import pytest
        from conftest import STARTED

        def test_defaults(ocpi_cpo, ocpi_emsp, ocpi_version):
            assert ocpi_version == "2.3.0"
            assert [(p.role, p.kw["version"], p.kw["seed"]) for p in STARTED[-2:]] == [
                ("cpo", "2.3.0", 5), ("emsp", "2.3.0", 5)]
            assert STARTED[-1].kw["faults"] == ["slow:seconds=0.1"]

        @pytest.mark.ocpi(version="2.1.1", faults=["drop:0.5"], seed=9, extra=["--page-size", "3"])
        def test_marker(ocpi_cpo):
            assert ocpi_cpo.kw == {"version": "2.1.1", "seed": 9, "extra": ["--page-size", "3"],
                                   "faults": ["slow:seconds=0.1", "drop:0.5"]}

        @pytest.mark.ocpi(version="2.1.1")
        def test_no_hub_on_2_1_1(ocpi_hub):
            pass

        def test_factory(ocpi_partner):
            hub = ocpi_partner("hub", version="2.2.1", faults="auth:after=3", seed=1)
            assert hub.kw["faults"] == ["slow:seconds=0.1", "auth:after=3"]
            assert (hub.role, hub.kw["seed"], hub.kw["version"]) == ("hub", 1, "2.2.1")

        def test_all_closed():
            assert STARTED and all(p.closed for p in STARTED)
        """
    )
    pytester.makeini("[pytest]\nocpi_version = 2.3.0\nocpi_seed = 4\n")
    result = pytester.runpytest(
        *LOAD, "--ocpi-seed", "5", "--ocpi-fault", "slow:seconds=0.1", "-rs"
    )
    result.assert_outcomes(passed=4, skipped=1)
    result.stdout.fnmatch_lines(["*OCPI 2.1.1 has no hubs*"])


def test_several_versions_run_each_test_once_per_version(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RECORDER)
    pytester.makepyfile(
        """
        import pytest

        def test_each(ocpi_cpo, ocpi_version):
            assert ocpi_cpo.kw["version"] == ocpi_version

        @pytest.mark.ocpi(version="2.2.1")
        def test_pinned(ocpi_version):
            assert ocpi_version == "2.2.1"

        def test_without_partners():
            pass

        @pytest.mark.parametrize("ocpi_version", ["2.2.1"])
        def test_parametrized_by_the_user(ocpi_cpo, ocpi_version):
            assert ocpi_cpo.kw["version"] == "2.2.1"
        """
    )
    result = pytester.runpytest(*LOAD, "--ocpi-version", "2.1.1, 2.3.0", "-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        ["*test_each[[]ocpi2.1.1[]] PASSED*", "*test_each[[]ocpi2.3.0[]] PASSED*"]
    )


@pytest.mark.parametrize(
    ("args", "marker", "message"),
    [
        (["--ocpi-version", "2.4"], "", "*--ocpi-version: '2.4' is not one of*"),
        ([], "@pytest.mark.ocpi(verison='2.2.1')", "*@pytest.mark.ocpi: unknown verison*"),
        ([], "@pytest.mark.ocpi('2.2.1')", "*keyword arguments only*"),
    ],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], marker: str, message: str
) -> None:
    pytester.makepyfile(f"import pytest\n\n{marker}\ndef test_x(ocpi_version):\n    pass\n")
    result = pytester.runpytest(*LOAD, *args)
    assert result.ret != 0
    lines = result.stdout.lines + result.stderr.lines
    assert any(fnmatch.fnmatch(line, message) for line in lines), lines


def test_charge_points_by_marker_and_factory(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RECORDER)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ocpi(chargepoints=2, ocpp="2.0.1", signed=True)
        def test_marker(ocpi_cpo, ocpi_emsp):
            assert ocpi_cpo.kw["extra"] == ["--chargepoints", "2", "--ocpp", "2.0.1", "--signed"]
            assert ocpi_emsp.kw["extra"] == []

        def test_factory(ocpi_partner):
            cpo = ocpi_partner("cpo", chargepoints=1, extra=["--page-size", "3"])
            assert cpo.kw["extra"] == ["--page-size", "3", "--chargepoints", "1"]

        def test_without(ocpi_cpo):
            assert ocpi_cpo.kw["extra"] == []

        def test_not_for_an_emsp(ocpi_partner):
            with pytest.raises(pytest.UsageError, match="only an emulated cpo"):
                ocpi_partner("emsp", chargepoints=1)
        """
    )
    result = pytester.runpytest(*LOAD)
    result.assert_outcomes(passed=4)
