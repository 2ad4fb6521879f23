"""The runtime ``ocpikit serve`` sets up for itself: glibc's malloc on transparent huge pages
(it execs itself with ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``) unless ``OCPIKIT_HUGE_PAGES=0``
(a process that only calls the CLI's code, a test or an embedding application, is never
replaced), and the garbage collector tuned for serving (``settle_gc``)."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from ocpikit.cli import serve

from ._nodes import Instance

pytestmark = pytest.mark.e2e


def _glibc_with_hugetlb() -> bool:
    libc, version = platform.libc_ver()
    return libc == "glibc" and tuple(int(x) for x in version.split(".")[:2]) >= (2, 35)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if item)


@pytest.mark.skipif(not _glibc_with_hugetlb(), reason="needs glibc 2.35+ (malloc hugetlb)")
@pytest.mark.parametrize("setting", [None, "0"])
def test_serve_runs_on_huge_pages_unless_turned_off(tmp_path: Path, setting: str | None) -> None:
    node = Instance(tmp_path, "NL-CPO:CPO", f"sqlite:///{tmp_path / 'p.db'}")
    if setting is not None:
        node.env["OCPIKIT_HUGE_PAGES"] = setting
    node.env.pop("GLIBC_TUNABLES", None)
    try:
        node.start()  # answers HTTP: the exec happened before anything started
        assert node.proc is not None
        tunables = _environ(node.proc.pid).get("GLIBC_TUNABLES", "")
        assert ("glibc.malloc.hugetlb=1" in tunables) is (setting is None), tunables
        assert "versions URL" in node.log()
    finally:
        node.close()


def test_a_process_that_is_not_the_cli_is_never_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.delenv("OCPIKIT_HUGE_PAGES", raising=False)
    assert serve._huge_page_argv() is None  # this is pytest, not ocpikit


def test_serving_freezes_start_up_objects_and_collects_the_young_less_often() -> None:
    import gc

    before = gc.get_threshold()
    try:
        serve.settle_gc()
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold() == (serve.GC_YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
