"""The runtime ``ocpikit serve`` sets up for itself: glibc's malloc on transparent huge pages
(it execs itself with ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``) unless ``OCPIKIT_HUGE_PAGES=0``
(a process that only calls the CLI's code, a test or an embedding application, is never
replaced), and the garbage collector tuned for serving (``settle_gc``)."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

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


def _read_answer(sock: Any) -> bytes:
    """One whole HTTP answer (head and Content-Length body) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


def test_the_listener_bounds_request_heads(tmp_path: Path) -> None:
    """The listener runs uvloop and httptools; a head that dribbles in is cut off after
    ``header_timeout``; one over ``max_header_bytes`` is refused; a normal request on a
    kept-alive connection still works."""
    import socket
    import time

    config = "[limits]\nheader_timeout = 1\nmax_header_bytes = 4096\n"
    node = Instance(tmp_path, "NL-CPO:CPO", f"sqlite:///{tmp_path / 'p.db'}", config=config)
    try:
        node.start()
        assert node.proc is not None
        loaded = Path(f"/proc/{node.proc.pid}/maps").read_text()
        # the production stack: uvloop's event loop and the httptools parser
        assert "uvloop" in loaded and "httptools" in loaded
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as slow:
            slow.sendall(b"GET /ocpi/versions HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            assert slow.recv(1024) == b""  # closed by the server, not answered
            assert 0.5 < time.monotonic() - started < 4
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as big:
            big.sendall(b"GET /ocpi/versions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000)
            assert big.recv(1024).startswith(b"HTTP/1.1 400")
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as ok:
            for _ in range(2):  # the timer is re-armed after each answer, not fired early
                ok.sendall(b"GET /ocpi/versions HTTP/1.1\r\nHost: x\r\n\r\n")
                assert _read_answer(ok).startswith(b"HTTP/1.1 401")
                time.sleep(0.6)
    finally:
        node.close()


def test_the_backend_api_on_its_own_listener(tmp_path: Path) -> None:
    """``[admin] port``: the backend API answers there and nowhere else; one signal stops both."""
    import httpx

    from ._nodes import free_port

    admin_port = free_port()
    config = f'[admin]\nhost = "127.0.0.1"\nport = {admin_port}\n'
    node = Instance(tmp_path, "NL-CPO:CPO", f"sqlite:///{tmp_path / 'p.db'}", config=config)
    bearer = {"Authorization": "Bearer e2e-admin"}
    try:
        node.start()
        public = httpx.get(f"{node.url}/admin/api/partners", headers=bearer, timeout=5)
        assert public.status_code == 404
        admin = f"http://127.0.0.1:{admin_port}"
        assert httpx.get(f"{admin}/admin/api/partners", headers=bearer, timeout=5).json() == []
        assert httpx.get(f"{admin}/ocpi/versions", timeout=5).status_code == 404
        assert f"backend API:  {admin}/admin/api/openapi.json" in node.log()
        node.stop()  # SIGTERM: both listeners stop, the process exits
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{admin}/admin/api/partners", headers=bearer, timeout=2)
    finally:
        node.close()


@pytest.mark.parametrize("trusted", ["default", "none"])
def test_failed_authentications_count_against_the_caller_behind_a_proxy(
    tmp_path: Path, trusted: str
) -> None:
    """Behind a reverse proxy on this machine (trusted by default) the failed-authentication
    limit counts per caller named in ``X-Forwarded-For``: one caller sending wrong tokens is
    refused (429) while another behind the same proxy still gets its 401. With
    ``trusted_proxies = []`` every caller is the proxy's address, and shares its limit."""
    import httpx

    config = "[limits]\nfailed_auth_per_minute = 2\n"
    if trusted == "none":
        config += "[server]\ntrusted_proxies = []\n"
    node = Instance(tmp_path, "NL-CPO:CPO", f"sqlite:///{tmp_path / 'p.db'}", config=config)
    try:
        node.start()

        def status(caller: str) -> int:
            headers = {"Authorization": "Token wrong", "X-Forwarded-For": caller}
            return httpx.get(f"{node.url}/ocpi/versions", headers=headers, timeout=5).status_code

        assert [status("203.0.113.5") for _ in range(3)] == [401, 401, 429]
        assert status("203.0.113.6") == (401 if trusted == "default" else 429)
    finally:
        node.close()
