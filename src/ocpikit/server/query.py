"""Query strings of OCPI requests, read without unquoting when there is nothing to unquote.

Plan: a partner's query is almost always plain (``offset=0&limit=100``, ``date_from=...Z``):
when it holds no ``%`` and no ``+``, split it on ``&`` and ``=`` directly instead of running
:func:`urllib.parse.parse_qsl`, whose per-part unquoting is the larger share of reading it.

Invariant: :func:`parse_query` returns exactly what :func:`parse_query_plainly` (the reference:
``dict(parse_qsl(qs, keep_blank_values=True))``) returns for every query string: the last of a
repeated name wins, blank values are kept, empty parts are skipped, ``=`` may occur in a value.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

__all__ = ["parse_query", "parse_query_plainly"]


def parse_query_plainly(query_string: str) -> dict[str, str]:
    """The reference reading of a query string."""
    return dict(parse_qsl(query_string, keep_blank_values=True))


def parse_query(query_string: str) -> dict[str, str]:
    """Query parameters, as :func:`parse_query_plainly` reads them."""
    if not query_string:
        return {}
    if "%" in query_string or "+" in query_string:
        return parse_query_plainly(query_string)
    out: dict[str, str] = {}
    for part in query_string.split("&"):
        if part:
            name, _eq, value = part.partition("=")
            out[name] = value
    return out
