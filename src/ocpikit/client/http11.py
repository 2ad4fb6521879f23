"""A lean HTTP/1.1 client connection for the lanes (:mod:`ocpikit.client.lanes`): what
``httpcore.AsyncHTTP11Connection`` does for one keep-alive connection, without h11's event
machinery (RFC 9112).

Plan of the speed trick: httpcore drives h11's state machine, which builds, validates and
dispatches an event object for every request head, body part, answer head and body part, and
copies the bytes through h11's receive buffer; for the small JSON exchanges of OCPI that
machinery costs more than the bytes. Here the request head is written as one piece (h11's
layout: request line, ``Host`` first, the other headers in their order, a blank line) with its
body, and the answer's head is found by its blank line, read with h11's grammar, and its body
framed as RFC 9112 §6.3 says: none after ``HEAD``, ``204`` or ``304``; ``chunked`` when the
transfer coding says so; else ``Content-Length``; else up to the end of the connection.

Invariants, which the lane tests hold it to against httpcore's connection (the reference, still
what :class:`~ocpikit.client.lanes.LaneTransport` uses with ``lean=False``):

- the same request puts the same bytes on the wire; a header name or value that h11 refuses to
  send is refused (``httpcore.LocalProtocolError``), before anything is written;
- the same answer gives the same status, headers (raw names, ``Content-Length`` and
  ``Transfer-Encoding`` normalised as h11 does) and body; 1xx answers before the final one are
  skipped;
- every answer h11 refuses is refused with ``httpcore.RemoteProtocolError``: a head over
  :data:`MAX_HEAD_BYTES` or that does not parse, conflicting ``Content-Length`` values, a
  transfer coding other than ``chunked``, a malformed chunk, an answer cut short, a connection
  closed before any answer;
- a connection is reused only after a complete answer with keep-alive on both sides (HTTP/1.1,
  no ``Connection: close``, a delimited body); after an error, a cancellation, or a body closed
  before its end it is closed. An idle connection the peer closed or sent unasked bytes on is
  expired (the lanes replace it).
"""

from __future__ import annotations

import contextlib
import enum
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence

import httpcore

__all__ = ["MAX_HEAD_BYTES", "AnswerBody", "AnswerHead", "LeanHTTP11Connection", "request_head"]

#: the largest answer head read (httpcore's limit on an incomplete h11 event)
MAX_HEAD_BYTES = 100 * 1024
_READ_BYTES = 64 * 1024
_CONTENT_LENGTH_MAX_DIGITS = 20

# h11's grammar (RFC 9110 §5, RFC 9112 §4, §7.1)
_OWS = rb"[ \t]*"
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_FIELD_VCHAR = rb"[^\x00\s]"
_FIELD_CONTENT = _FIELD_VCHAR + rb"+(?:[ \t]+" + _FIELD_VCHAR + rb"+)*"
_FIELD_VALUE = rb"(" + _FIELD_CONTENT + rb")?"
_NAME_RE = re.compile(_TOKEN)
_VALUE_RE = re.compile(_FIELD_VALUE)
_HEADER_RE = re.compile(
    rb"(?P<name>" + _TOKEN + rb"):" + _OWS + rb"(?P<value>" + _FIELD_VALUE + rb")" + _OWS
)
_STATUS_RE = re.compile(
    rb"HTTP/(?P<version>[0-9]\.[0-9]) (?P<status>[0-9]{3})"
    rb"(?: (?P<reason>([ \t]|" + _FIELD_VCHAR + rb")*))?"
)
_CHUNK_RE = re.compile(rb"(?P<size>[0-9A-Fa-f]{1,20})(;.*)?" + _OWS + rb"\r\n")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_FOLD_RE = re.compile(rb"[ \t]+")
_DIGITS_RE = re.compile(rb"[0-9]+")


class _State(enum.Enum):
    IDLE = 0
    ACTIVE = 1
    CLOSED = 2


class _Framing(enum.Enum):
    LENGTH = 0
    CHUNKED = 1
    UNTIL_CLOSE = 2


def _remote(message: str) -> httpcore.RemoteProtocolError:
    return httpcore.RemoteProtocolError(message)


def request_head(method: bytes, target: bytes, headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The head h11 writes for a request: the request line, ``Host`` first, then the other
    headers as given, then a blank line. ``httpcore.LocalProtocolError`` for a header h11
    would not send (an illegal name or value, no ``Host``)."""
    host: list[bytes] = []
    rest: list[bytes] = []
    for name, value in headers:
        if _NAME_RE.fullmatch(name) is None:
            raise httpcore.LocalProtocolError(f"Illegal header name {name!r}")
        if _VALUE_RE.fullmatch(value) is None:
            raise httpcore.LocalProtocolError(f"Illegal header value {value!r}")
        line = b"%s: %s\r\n" % (name, value)
        (host if name.lower() == b"host" else rest).append(line)
    if not host:
        raise httpcore.LocalProtocolError("Missing mandatory Host: header")
    return b"".join((b"%s %s HTTP/1.1\r\n" % (method, target), *host, *rest, b"\r\n"))


def _header_lines(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    """Header lines (obsolete line folding joined, as h11 does) as (name, value) pairs."""
    folded: list[bytes] = []
    for line in lines:
        fold = _FOLD_RE.match(line)
        if fold is not None:
            if not folded:
                raise _remote("continuation line at start of headers")
            folded[-1] = folded[-1] + b" " + line[fold.end() :]
        else:
            folded.append(line)
    pairs: list[tuple[bytes, bytes]] = []
    for line in folded:
        match = _HEADER_RE.fullmatch(line)
        if match is None:
            raise _remote(f"illegal header line: {line!r}")
        pairs.append((match["name"], match["value"]))
    return pairs


class AnswerHead:
    """An answer's head: what h11 makes of it (status, reason, version, normalised headers)
    and how its body is framed."""

    __slots__ = ("framing", "headers", "keep_alive", "length", "reason", "status", "version")

    def __init__(self, lines: list[bytes], method: bytes) -> None:
        if not lines:
            raise _remote("no response line received")
        match = _STATUS_RE.fullmatch(lines[0])
        if match is None:
            raise _remote(f"illegal status line: {lines[0]!r}")
        self.version: bytes = match["version"]
        self.status = int(match["status"])
        self.reason: bytes = match["reason"] or b""
        self.headers: list[tuple[bytes, bytes]] = []
        length: bytes | None = None
        chunked = False
        close = False
        for name, raw in _header_lines(lines[1:]):
            lower = name.lower()
            value = raw
            if lower == b"content-length":
                lengths = {part.strip() for part in raw.split(b",")}
                if len(lengths) != 1:
                    raise _remote("conflicting Content-Length headers")
                value = lengths.pop()
                if _DIGITS_RE.fullmatch(value) is None or len(value) > _CONTENT_LENGTH_MAX_DIGITS:
                    raise _remote("bad Content-Length")
                if length is not None:
                    if length != value:
                        raise _remote("conflicting Content-Length headers")
                    continue
                length = value
            elif lower == b"transfer-encoding":
                if chunked:
                    raise _remote("multiple Transfer-Encoding headers")
                value = raw.lower()
                if value != b"chunked":
                    raise _remote("Only Transfer-Encoding: chunked is supported")
                chunked = True
            elif lower == b"connection":
                close = close or b"close" in (t.strip().lower() for t in raw.split(b","))
            self.headers.append((name, value))
        self.keep_alive = not close and self.version >= b"1.1"
        self.length = 0
        if self.status in (204, 304) or method == b"HEAD":
            self.framing = _Framing.LENGTH
        elif chunked:
            self.framing = _Framing.CHUNKED
        elif length is not None:
            self.framing, self.length = _Framing.LENGTH, int(length)
        else:
            self.framing = _Framing.UNTIL_CLOSE
            self.keep_alive = False


class LeanHTTP11Connection:
    """One HTTP/1.1 connection over ``stream`` to ``origin``: the part of
    ``httpcore.AsyncHTTP11Connection``'s interface the lanes use (see the module docstring)."""

    def __init__(
        self,
        origin: httpcore.Origin,
        stream: httpcore.AsyncNetworkStream,
        keepalive_expiry: float | None = None,
    ) -> None:
        self._origin = origin
        self._stream = stream
        self._expiry = keepalive_expiry
        self._expire_at: float | None = None
        self._state = _State.IDLE
        self._buffer = bytearray()
        self._eof = False

    # --- the interface the lanes use ---------------------------------------------------------
    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        head, body = await self.exchange(
            request.method,
            request.url.target,
            request.headers,
            request.stream,
            request.extensions.get("timeout", {}),
        )
        return httpcore.Response(
            status=head.status, headers=head.headers, content=body, extensions=self.extensions(head)
        )

    async def exchange(
        self,
        method: bytes,
        target: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        content: Iterable[bytes] | AsyncIterable[bytes],
        timeouts: Mapping[str, float | None],
    ) -> tuple[AnswerHead, AnswerBody]:
        """Send one request and read its answer's head; the body is read from the
        :class:`AnswerBody` (which must be closed: then the connection is free again)."""
        if self._state is not _State.IDLE:
            raise httpcore.ConnectionNotAvailable()
        self._state = _State.ACTIVE
        self._expire_at = None
        try:
            keep_alive = await self._send(method, target, headers, content, timeouts.get("write"))
            head = await self._read_head(method, timeouts.get("read"))
        except BaseException:
            await self.aclose()
            raise
        return head, AnswerBody(self, head, keep_alive and head.keep_alive, timeouts.get("read"))

    def extensions(self, head: AnswerHead) -> dict[str, object]:
        """The response extensions httpcore gives an answer's head."""
        return {
            "http_version": b"HTTP/" + head.version,
            "reason_phrase": head.reason,
            "network_stream": self._stream,
        }

    def is_closed(self) -> bool:
        return self._state is _State.CLOSED

    def has_expired(self) -> bool:
        if self._state is not _State.IDLE:
            return False
        if self._expire_at is not None and time.monotonic() > self._expire_at:
            return True
        return bool(self._buffer) or bool(self._stream.get_extra_info("is_readable"))

    async def aclose(self) -> None:
        self._state = _State.CLOSED
        await self._stream.aclose()

    # --- sending -----------------------------------------------------------------------------
    async def _send(
        self,
        method: bytes,
        target: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        content: Iterable[bytes] | AsyncIterable[bytes],
        timeout: float | None,
    ) -> bool:
        """Write the request; whether it lets the connection be kept alive. A write that fails
        is let go (the server may have answered and closed early, as httpcore allows): the
        answer, or its absence, tells."""
        head = request_head(method, target, headers)
        declared: int | None = None
        chunked = False
        keep_alive = True
        for name, value in headers:
            lower = name.lower()
            if lower == b"content-length":
                declared = int(value)
            elif lower == b"transfer-encoding":
                chunked = value.strip().lower() == b"chunked"
            elif lower == b"connection":
                keep_alive = b"close" not in (t.strip().lower() for t in value.split(b","))
        parts = [head]
        sent = 0
        async for chunk in _chunks(content):
            if not chunk:
                continue
            sent += len(chunk)
            if chunked:
                parts.append(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            elif sent > (declared or 0):
                raise httpcore.LocalProtocolError("Too much data for declared Content-Length")
            else:
                parts.append(chunk)
        if chunked:
            parts.append(b"0\r\n\r\n")
        elif sent != (declared or 0):
            raise httpcore.LocalProtocolError("Too little data for declared Content-Length")
        with contextlib.suppress(httpcore.WriteError):
            await self._stream.write(b"".join(parts), timeout=timeout)
        return keep_alive

    # --- receiving ---------------------------------------------------------------------------
    async def _fill(self, timeout: float | None) -> bool:
        """Read more into the buffer; False at the end of the connection."""
        if self._eof:
            return False
        data = await self._stream.read(_READ_BYTES, timeout=timeout)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    async def _read_head(self, method: bytes, timeout: float | None) -> AnswerHead:
        """The final answer's head (1xx answers skipped)."""
        while True:
            lines = await self._head_lines(timeout)
            head = AnswerHead(lines, method)
            if head.status >= 200:
                return head
            if head.status == 101:
                raise _remote("unexpected 101 Switching Protocols")

    async def _head_lines(self, timeout: float | None) -> list[bytes]:
        buffer = self._buffer
        searched = 0
        while True:
            if buffer[:1] == b"\n" or buffer[:2] == b"\r\n":
                raise _remote("no response line received")
            if buffer and buffer[0] < 0x21:
                raise _remote("illegal status line")
            found = _BLANK_LINE.search(buffer, searched)
            if found is not None:
                end = found.end()
                raw = bytes(buffer[:end])
                del buffer[:end]
                lines = raw.split(b"\n")[:-2]
                return [line[:-1] if line.endswith(b"\r") else line for line in lines]
            if len(buffer) > MAX_HEAD_BYTES:
                raise _remote("Receive buffer too long")
            searched = max(0, len(buffer) - 2)
            if not await self._fill(timeout):
                if not buffer:
                    raise _remote("Server disconnected without sending a response.")
                raise _remote("peer unexpectedly closed connection")

    async def _read_length(self, length: int, timeout: float | None) -> AsyncIterator[bytes]:
        left = length
        buffer = self._buffer
        while left:
            if not buffer and not await self._fill(timeout):
                raise _remote(
                    "peer closed connection without sending complete message body "
                    f"(received {length - left} bytes, expected {length})"
                )
            take = bytes(buffer[:left])
            del buffer[: len(take)]
            left -= len(take)
            yield take

    async def _read_line(self, timeout: float | None) -> bytes:
        buffer = self._buffer
        while True:
            end = buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(buffer[: end + 2])
                del buffer[: end + 2]
                return line
            if not await self._fill(timeout):
                raise _remote(
                    "peer closed connection without sending complete message body "
                    "(incomplete chunked read)"
                )

    async def _read_chunked(self, timeout: float | None) -> AsyncIterator[bytes]:
        while True:
            line = await self._read_line(timeout)
            match = _CHUNK_RE.fullmatch(line)
            if match is None:
                raise _remote(f"illegal chunk header: {line!r}")
            size = int(match["size"], 16)
            if size == 0:
                break
            try:
                async for part in self._read_length(size, timeout):
                    yield part
                footer = await self._read_line(timeout)
            except httpcore.RemoteProtocolError:
                raise _remote(
                    "peer closed connection without sending complete message body "
                    "(incomplete chunked read)"
                ) from None
            if footer != b"\r\n":
                raise _remote(f"malformed chunk footer: {footer!r} (expected b'\\r\\n')")
        trailer: list[bytes] = []  # trailer fields: read (and checked), not kept, as h11 does
        while True:
            line = await self._read_line(timeout)
            if line == b"\r\n":
                break
            trailer.append(line[:-2])
        _header_lines(trailer)

    async def _read_to_end(self, timeout: float | None) -> AsyncIterator[bytes]:
        while True:
            if self._buffer:
                data = bytes(self._buffer)
                self._buffer.clear()
                yield data
            if not await self._fill(timeout):
                return

    def _done(self, keep_alive: bool) -> None:
        """The answer was read whole: the connection waits for the next request, or closes."""
        if keep_alive and self._state is _State.ACTIVE:
            self._state = _State.IDLE
            if self._expiry is not None:
                self._expire_at = time.monotonic() + self._expiry


async def _chunks(content: Iterable[bytes] | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The parts of a request body (httpx hands an async byte stream)."""
    if isinstance(content, AsyncIterable):
        async for chunk in content:
            yield chunk
    else:
        for chunk in content:
            yield chunk


class AnswerBody:
    """An answer's body as httpcore's response stream: iterated once, then closed; closing it
    before its end closes the connection."""

    def __init__(
        self,
        connection: LeanHTTP11Connection,
        head: AnswerHead,
        keep_alive: bool,
        timeout: float | None,
    ) -> None:
        self._connection = connection
        self._head = head
        self._keep_alive = keep_alive
        self._timeout = timeout
        self._complete = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection, head, timeout = self._connection, self._head, self._timeout
        try:
            if head.framing is _Framing.LENGTH:
                parts = connection._read_length(head.length, timeout)
            elif head.framing is _Framing.CHUNKED:
                parts = connection._read_chunked(timeout)
            else:
                parts = connection._read_to_end(timeout)
            async for part in parts:
                yield part
            self._complete = True
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._complete and self._keep_alive:
            self._connection._done(True)
        else:
            await self._connection.aclose()
