"""The pytest plugin of the test kit (entry point ``pytest11``: ``ocpikit``): fixtures that start
emulated OCPI partners over loopback for a test of one's own platform (docs/testing.md).

Fixtures (function scope; each partner is stopped after the test):

- ``ocpi_cpo``, ``ocpi_emsp``, ``ocpi_hub``: one running ``ocpikit emulate cpo|emsp|hub``, as
  an :class:`~ocpikit.testing.partner.EmulatedPartner` (``versions_url``, ``token_a`` for the
  platform under test, ``received()``, ``sent()``, ``state()``, ``push()``, ...).
- ``ocpi_partner``: a factory, ``ocpi_partner(role, version=..., faults=[...], seed=...,
  extra=[...])``, for several partners of a role or per-call options.
- ``ocpi_version``: the OCPI version the partners of this test speak.

Options: ``--ocpi-version V[,V...]`` (several: each test runs once per version), ``--ocpi-seed
N``, ``--ocpi-fault MODE`` (repeatable: added to every partner's faults); ini options
``ocpi_version`` and ``ocpi_seed``; the marker ``@pytest.mark.ocpi(version=, faults=[...],
seed=, extra=[...], chargepoints=N, ocpp=, signed=)`` sets them for one test. ``chargepoints``
backs an emulated CPO by N simulated OCPP charge points (``ocpp`` 1.6 or 2.0.1, OCMF-``signed``
readings); ``ocpi_partner`` takes the same three keywords.

Invariant: pytest loads this module in every run of every project that has ocpikit installed,
so it imports only pytest and the standard library at import time; the emulator is imported
when a fixture first starts a partner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ocpikit.testing.partner import EmulatedPartner

__all__ = [
    "chargepoint_args",
    "ocpi_cpo",
    "ocpi_emsp",
    "ocpi_hub",
    "ocpi_partner",
    "ocpi_version",
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
]

VERSIONS = ("2.1.1", "2.2.1", "2.3.0")
DEFAULT_VERSION = "2.2.1"
MARKER = "ocpi"
#: the marker's and ``ocpi_partner``'s keywords for a CPO's simulated charge points
CHARGEPOINT_KEYS = ("chargepoints", "ocpp", "signed")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ocpikit", "emulated OCPI partners (ocpikit's ocpi_* fixtures)")
    group.addoption(
        "--ocpi-version",
        metavar="V[,V...]",
        help="OCPI version of the emulated partners: 2.1.1, 2.2.1 (default) or 2.3.0; "
        "several, comma-separated, run each test once per version",
    )
    group.addoption(
        "--ocpi-seed", type=int, metavar="N", help="seed of the partners' data and faults (0)"
    )
    group.addoption(
        "--ocpi-fault",
        action="append",
        default=[],
        metavar="MODE",
        help="a fault mode for every emulated partner, e.g. rate-limit:0.3 (repeatable)",
    )
    parser.addini("ocpi_version", "OCPI version(s) of the emulated partners", default="")
    parser.addini("ocpi_seed", "seed of the emulated partners' data and faults", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(version=None, faults=(), seed=None, extra=(), chargepoints=0, ocpp='1.6', "
        "signed=False): options of the emulated OCPI partners (ocpi_cpo, ocpi_emsp, ocpi_hub, "
        "ocpi_partner) of this test; chargepoints: simulated charge points behind a CPO",
    )


def _versions(config: pytest.Config) -> list[str]:
    raw = config.getoption("--ocpi-version") or str(config.getini("ocpi_version") or "")
    versions = [v.strip() for v in raw.split(",") if v.strip()] or [DEFAULT_VERSION]
    for v in versions:
        if v not in VERSIONS:
            raise pytest.UsageError(f"--ocpi-version: {v!r} is not one of {', '.join(VERSIONS)}")
    return versions


def _marker(node: Any) -> dict[str, Any]:
    mark = node.get_closest_marker(MARKER)
    if mark is None:
        return {}
    if mark.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only")
    unknown = set(mark.kwargs) - {"version", "faults", "seed", "extra", *CHARGEPOINT_KEYS}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown {', '.join(sorted(unknown))}")
    return dict(mark.kwargs)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ocpi_version" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        names = names.split(",") if isinstance(names, str) else list(names)
        if "ocpi_version" in (n.strip() for n in names):
            return  # the test chose its versions itself
    versions = _versions(metafunc.config)
    if len(versions) > 1 and "version" not in _marker(metafunc.definition):
        metafunc.parametrize("ocpi_version", versions, indirect=True, ids=lambda v: f"ocpi{v}")


@pytest.fixture
def ocpi_version(request: pytest.FixtureRequest) -> str:
    """The OCPI version of this test's emulated partners: the marker's, else the one this run
    of the test is parametrized with (``--ocpi-version A,B``), else ``--ocpi-version``, the
    ``ocpi_version`` ini option, or 2.2.1."""
    marked = _marker(request.node).get("version")
    if marked is not None:
        if marked not in VERSIONS:
            raise pytest.UsageError(f"@pytest.mark.{MARKER}: version {marked!r} is not known")
        return str(marked)
    param = getattr(request, "param", None)
    return str(param) if param is not None else _versions(request.config)[0]


def _seed(request: pytest.FixtureRequest) -> int:
    marked = _marker(request.node).get("seed")
    if marked is not None:
        return int(marked)
    option = request.config.getoption("--ocpi-seed")
    if option is not None:
        return int(option)
    raw = str(request.config.getini("ocpi_seed") or "").strip()
    return int(raw) if raw else 0


def chargepoint_args(
    role: str, chargepoints: int | None, ocpp: str | None, signed: bool | None
) -> list[str]:
    """The ``ocpikit emulate`` options of a CPO's simulated charge points (none for other roles
    or without ``chargepoints``)."""
    if not chargepoints:
        if ocpp is not None or signed:
            raise pytest.UsageError("ocpp= and signed= need chargepoints=N")
        return []
    if role != "cpo":
        raise pytest.UsageError(f"chargepoints=: only an emulated cpo has them, not a {role}")
    args = ["--chargepoints", str(int(chargepoints))]
    if ocpp is not None:
        if ocpp not in ("1.6", "2.0.1"):
            raise pytest.UsageError(f"ocpp={ocpp!r}: 1.6 or 2.0.1")
        args += ["--ocpp", ocpp]
    if signed:
        args.append("--signed")
    return args


@pytest.fixture
def ocpi_partner(
    request: pytest.FixtureRequest, ocpi_version: str
) -> Iterator[Callable[..., EmulatedPartner]]:
    """A factory of emulated partners, all stopped after the test:
    ``ocpi_partner(role, *, version=None, faults=None, seed=None, extra=None,
    chargepoints=None, ocpp=None, signed=None)``. Unset arguments come from
    ``@pytest.mark.ocpi``, then the command line and ini options; ``--ocpi-fault`` modes are
    added to every partner's faults; the marker's charge points apply to CPOs only."""
    from ocpikit.testing.partner import start_partner

    marked = _marker(request.node)
    always: list[str] = list(request.config.getoption("--ocpi-fault") or [])
    started: list[EmulatedPartner] = []

    def start(
        role: str,
        *,
        version: str | None = None,
        faults: Sequence[str] | str | None = None,
        seed: int | None = None,
        extra: Sequence[str] | None = None,
        chargepoints: int | None = None,
        ocpp: str | None = None,
        signed: bool | None = None,
    ) -> EmulatedPartner:
        chosen = marked.get("faults", ()) if faults is None else faults
        given: dict[str, Any] = {"chargepoints": chargepoints, "ocpp": ocpp, "signed": signed}
        explicit = any(v is not None for v in given.values())
        if not explicit and role == "cpo":
            given = {k: marked.get(k) for k in CHARGEPOINT_KEYS}
        more = chargepoint_args(role, given["chargepoints"], given["ocpp"], given["signed"])
        partner = start_partner(
            role,
            version=version or ocpi_version,
            faults=always + ([chosen] if isinstance(chosen, str) else list(chosen)),
            seed=_seed(request) if seed is None else seed,
            extra=list(marked.get("extra", ()) if extra is None else extra) + more,
        )
        started.append(partner)
        return partner

    yield start
    failures: list[BaseException] = []
    for partner in reversed(started):
        try:
            partner.close(check=True)
        except Exception as exc:
            failures.append(exc)
    if failures:
        raise failures[0]


@pytest.fixture
def ocpi_cpo(ocpi_partner: Callable[..., EmulatedPartner]) -> EmulatedPartner:
    """An emulated CPO (party NL-ECP): Sender of locations, tariffs, sessions and CDRs,
    Receiver of tokens and commands; with ``@pytest.mark.ocpi(chargepoints=N)`` backed by N
    simulated charge points (its handle's ``tap``, ``meter``, ``stop_charging``, ...)."""
    return ocpi_partner("cpo")


@pytest.fixture
def ocpi_emsp(ocpi_partner: Callable[..., EmulatedPartner]) -> EmulatedPartner:
    """An emulated eMSP (party NL-EMS): Sender of tokens and commands, Receiver of locations,
    tariffs, sessions and CDRs."""
    return ocpi_partner("emsp")


@pytest.fixture
def ocpi_hub(ocpi_partner: Callable[..., EmulatedPartner], ocpi_version: str) -> EmulatedPartner:
    """An emulated hub (party DE-HUB, with DE-AAA and DE-AAB as CPOs and NL-EMA as eMSP
    behind it); skipped on OCPI 2.1.1, which has no hubs."""
    if ocpi_version == "2.1.1":
        pytest.skip("OCPI 2.1.1 has no hubs")
    return ocpi_partner("hub")
