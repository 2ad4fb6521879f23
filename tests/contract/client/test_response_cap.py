"""A partner's answer is capped after decompression (``[limits] max_response_bytes``): a small
gzip answer that decodes to a huge body is refused without being held whole."""

from __future__ import annotations

import gzip

import httpx
import pytest

from ocpikit.client.http import http_client
from ocpikit.core.errors import ResponseTooLarge

pytestmark = pytest.mark.anyio

BOMB = gzip.compress(b"0" * (20 * 1024 * 1024))  # 20 MiB of zeros, ~20 KB on the wire


def _transport(body: bytes, headers: dict[str, str]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))


async def _get(transport: httpx.MockTransport, limit: int) -> httpx.Response:
    async with http_client(transport=transport, max_response_bytes=limit) as http:
        return await http.exchange(
            "GET", "https://partner.example/ocpi/versions", headers={}, content=None, timeout=5
        )


async def test_a_gzip_bomb_is_refused() -> None:
    assert len(BOMB) < 100_000
    with pytest.raises(ResponseTooLarge, match="over 1048576 bytes"):
        await _get(_transport(BOMB, {"Content-Encoding": "gzip"}), 1024 * 1024)


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(ResponseTooLarge):
        await _get(_transport(b"x" * 5000, {"Content-Length": "5000"}), 4096)


async def test_answers_within_the_limit_are_read_whole_and_decoded() -> None:
    body = b'{"status_code": 1000, "data": []}'
    plain = await _get(_transport(body, {"Content-Length": str(len(body))}), 4096)
    assert plain.content == body
    packed = await _get(_transport(gzip.compress(body), {"Content-Encoding": "gzip"}), 4096)
    assert packed.content == body and packed.json()["status_code"] == 1000
    assert "content-encoding" not in packed.headers
