"""Redaction of the exchange log: the log never contains a token.

Applied by every storage backend to every :class:`~ocpikit.protocol.ports.Exchange` before it is
written, whatever the caller already did:

- ``Authorization`` header values keep their scheme (``Token``) and lose the credential;
- string values of JSON fields named ``token`` (the credentials object, transport and
  credentials modules) are replaced, at any depth (request bodies and response envelopes),
  however the key or the value is escaped (a body with ``\\uXXXX`` escapes is decoded first);
- every value listed in ``Exchange.secrets``, and its Base64 form (2.2+ Authorization
  encoding), is scrubbed from the URL, all headers and both bodies;
- bodies longer than the configured limit are truncated (a marker says by how much).
"""

from __future__ import annotations

import base64
import functools
import re
from typing import Any

import orjson

from ocpikit.protocol.ports import Exchange

__all__ = ["REDACTED", "Redacted", "redact_exchange", "redact_fields"]

REDACTED = "[REDACTED]"
_REDACTED_B = REDACTED.encode()


@functools.lru_cache(maxsize=1024)
def _secret_forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """The forms to scrub, longest first (cached: a partner's token recurs on every request of
    the log, and the Base64 encoding and sort were a tenth of the log's cost per request)."""
    forms: list[str] = []
    for secret in secrets:
        if len(secret) < 4:  # scrubbing one or two characters would shred the log
            continue
        forms.append(secret)
        forms.append(base64.b64encode(secret.encode()).decode())
    # longest first so that a secret containing another is scrubbed whole
    return tuple(sorted(set(forms), key=len, reverse=True))


def _scrub(text: str, forms: tuple[str, ...]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


_AUTH_HEADERS = frozenset({"authorization", "proxy-authorization"})


def _redact_headers(
    headers: tuple[tuple[str, str], ...], forms: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    if not headers:  # a compacted row's (the exchange log keeps no headers of a success)
        return headers
    # most header lists (every response's) hold no credential: checked in a few C-level
    # passes over all names and all values at once, not per header (a page's eleven headers
    # cost a third of its redaction)
    names = "\n".join([name for name, _value in headers]).lower()
    if "authorization" not in names:
        values = "\n".join([value for _name, value in headers])
        if not any(form in values for form in forms):
            return headers
    out: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() in _AUTH_HEADERS:
            text = value.strip()
            scheme = text.split(" ", 1)[0] if " " in text else ""
            out.append((name, f"{scheme} {REDACTED}" if scheme else REDACTED))
        else:
            out.append((name, _scrub(value, forms)))
    return tuple(out)


# a \uXXXX escape, in a body that is not JSON
_ESCAPE = re.compile(rb"\\u[0-9a-fA-F]{4}")

# a JSON string member named "token" (any depth, any spacing, escaped quotes inside)
_TOKEN_FIELD = re.compile(rb'("token"\s*:\s*)"(?:[^"\\]|\\.)*"')


@functools.lru_cache(maxsize=1024)
def _byte_forms(forms: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(form.encode() for form in forms)


def _redact_decoded(value: Any, forms: tuple[str, ...]) -> Any:
    """``value`` (decoded JSON) with every ``token`` member's string and every secret form
    in any string replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if key == "token" and isinstance(item, str)
            else _redact_decoded(item, forms)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_decoded(item, forms) for item in value]
    if isinstance(value, str):
        return _scrub(value, forms)
    return value


def _redact_escaped(body: bytes, forms: tuple[str, ...]) -> bytes | None:
    """A JSON body that spells characters as ``\\uXXXX`` escapes may hide a ``token`` key or a
    secret from the byte patterns: decoded, redacted and written again (None: not JSON)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return orjson.dumps(_redact_decoded(value, forms))


def _redact_body(body: bytes | None, forms: tuple[str, ...], max_bytes: int) -> bytes | None:
    if body is None:
        return None
    if b"\\u" in body:
        decoded = _redact_escaped(body, forms)
        if decoded is not None:
            body = decoded
        else:  # not JSON: no escape can be trusted to hide nothing
            body = _ESCAPE.sub(rb"\\u" + b"?" * 4, body)
    if b'"token"' in body:
        body = _TOKEN_FIELD.sub(rb'\1"' + _REDACTED_B + rb'"', body)
    for raw in _byte_forms(forms):
        if raw in body:
            body = body.replace(raw, _REDACTED_B)
    if len(body) > max_bytes:
        cut = len(body) - max_bytes
        body = body[:max_bytes] + f"...[truncated {cut} bytes]".encode()
    return body


Redacted = tuple[
    str,
    tuple[tuple[str, str], ...],
    tuple[tuple[str, str], ...],
    bytes | None,
    bytes | None,
    str | None,
]
"""What :func:`redact_fields` gives: url, request headers, response headers, request body,
response body, error."""


def redact_fields(exchange: Exchange, *, max_body_bytes: int = 256 * 1024) -> Redacted:
    """The fields of ``exchange`` that may hold a secret, redacted (see the module docstring),
    for a store that writes them straight into a row (no copy of the exchange is built)."""
    forms = _secret_forms(exchange.secrets)
    error = exchange.error
    return (
        _scrub(exchange.url, forms),
        _redact_headers(exchange.request_headers, forms),
        _redact_headers(exchange.response_headers, forms),
        _redact_body(exchange.request_body, forms, max_body_bytes),
        _redact_body(exchange.response_body, forms, max_body_bytes),
        _scrub(error, forms) if error is not None else None,
    )


def redact_exchange(exchange: Exchange, *, max_body_bytes: int = 256 * 1024) -> Exchange:
    """A copy of ``exchange`` safe to store: see the module docstring. ``secrets`` is emptied."""
    url, request_headers, response_headers, request_body, response_body, error = redact_fields(
        exchange, max_body_bytes=max_body_bytes
    )
    # built field by field: dataclasses.replace introspects the fields on every call (a third
    # of the redaction's cost per logged request)
    return Exchange(
        direction=exchange.direction,
        method=exchange.method,
        url=url,
        started_at=exchange.started_at,
        partner_id=exchange.partner_id,
        duration_ms=exchange.duration_ms,
        status=exchange.status,
        ocpi_status=exchange.ocpi_status,
        request_id=exchange.request_id,
        correlation_id=exchange.correlation_id,
        id=exchange.id,
        request_headers=request_headers,
        response_headers=response_headers,
        request_body=request_body,
        response_body=response_body,
        error=error,
        secrets=(),
        module=exchange.module,
        object_id=exchange.object_id,
    )
