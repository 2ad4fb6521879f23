"""Stages ``transport`` and ``answers``: authentication errors, HTTP status codes, and the rules
every answer follows (the envelope, the ids echoed, the routing headers), read over every
exchange of the run (transport_and_format §Response format, §Authorization header, §Unique
message IDs, §Message Routing Headers; status_codes)."""

from __future__ import annotations

import secrets
import uuid

from ..context import Context
from ..pure import envelope_problems, join_url
from ..registry import Failed, Skipped, check
from ..target import CONFIGURATION_MODULES, Exchange
from ._util import listing, need_2_2, need_write, status_of

_TF = "transport_and_format"


def _probe_urls(ctx: Context) -> list[tuple[str, str]]:
    out = [("versions", ctx.options.versions_url)]
    lists = ctx.sender_lists()
    if lists:
        url = ctx.endpoint(lists[0], "SENDER")
        assert url is not None
        out.append((lists[0], url))
    return out


async def _auth_probe(ctx: Context, token: str | None, what: str) -> str:
    await ctx.need_details()
    bad = []
    for module, url in _probe_urls(ctx):
        ex = await ctx.client.call("GET", url, token=token, module=module, probe=what)
        if ex.status != 401:
            bad.append(ex)
    if bad:
        raise Failed(f"{what}: answered HTTP {bad[0].status}", bad[0], "HTTP 401 Unauthorized")
    return f"{what}: HTTP 401 on " + ", ".join(m for m, _ in _probe_urls(ctx))


@check(
    "transport.auth_missing_401",
    "transport",
    (_TF, "Authorization header"),
    "a request without Authorization answers HTTP 401",
    v211=(_TF, "Security and authentication"),
)
async def auth_missing(ctx: Context) -> str:
    return await _auth_probe(ctx, None, "no Authorization header")


@check(
    "transport.auth_wrong_401",
    "transport",
    (_TF, "Authorization header"),
    "a request with an unknown token answers HTTP 401",
    v211=(_TF, "Security and authentication"),
)
async def auth_wrong(ctx: Context) -> str:
    return await _auth_probe(ctx, "cf-unknown-" + secrets.token_hex(8), "an unknown token")


@check(
    "transport.not_found_404",
    "transport",
    ("status_codes", "Status codes"),
    "GET of an object that does not exist answers HTTP 404 with an error status",
    v211=("status_codes", "Status codes"),
)
async def not_found(ctx: Context) -> str:
    token = await ctx.ready()
    if ctx.role == "emsp" and not ctx.party_id:
        raise Skipped("our party is not known (an existing registration without --party)")
    missing = "CF-NO-SUCH-" + uuid.uuid4().hex[:8].upper()
    if ctx.endpoint("locations", "SENDER") and ctx.role in ("cpo", "hub"):
        url = join_url(ctx.endpoint("locations", "SENDER") or "", missing)
    elif ctx.endpoint("locations", "RECEIVER") and ctx.role == "emsp":
        cc, pid = ctx.party_id.split("-")
        url = join_url(ctx.endpoint("locations", "RECEIVER") or "", cc, pid, missing)
    elif ctx.endpoint("tokens", "RECEIVER") and ctx.role == "cpo":
        cc, pid = ctx.party_id.split("-")
        url = join_url(ctx.endpoint("tokens", "RECEIVER") or "", cc, pid, missing)
    else:
        raise Skipped("no interface with a GET of one object")
    ex = await ctx.client.call("GET", url, token=token, module="locations")
    if ex.status != 404 or ex.status_code in (None, 1000):
        raise Failed(
            f"GET of an object that does not exist answered {status_of(ex)}",
            ex,
            "HTTP 404 with an OCPI envelope and a 2xxx status",
        )
    return status_of(ex)


@check(
    "transport.bad_json_400",
    "transport",
    ("status_codes", "Status codes"),
    "a body that is not JSON answers HTTP 400",
    v211=("status_codes", "Status codes"),
)
async def bad_json(ctx: Context) -> str:
    need_write(ctx.options.mode)
    token = await ctx.ready()
    module = "tokens" if ctx.role == "cpo" else "locations"
    base = ctx.endpoint(module, "RECEIVER")
    if base is None or ctx.role == "hub":
        raise Skipped(f"no {module} Receiver interface to send a body to")
    cc, pid = ctx.party_id.split("-")
    url = join_url(base, cc, pid, "CF-BAD-JSON")
    ex = await ctx.client.call(
        "PUT", url, token=token, module=module, content=b'{"id": "CF-BAD-JSON", "broken"'
    )
    if ex.status != 400:
        raise Failed(
            f"a body that is not JSON answered {status_of(ex)}", ex, "HTTP 400 Bad Request"
        )
    return f"HTTP 400, status {ex.status_code}"


# --- every answer -----------------------------------------------------------------------------


def _answered(ctx: Context) -> list[Exchange]:
    return [ex for ex in ctx.client.exchanges if ex.status > 0]


@check(
    "transport.envelope",
    "answers",
    (_TF, "Response format"),
    "every answer, errors included, is a JSON envelope {data, status_code, status_message, timestamp}",
)
async def envelope(ctx: Context) -> str:
    answered = _answered(ctx)
    if not answered:
        raise Skipped("no answers to read")
    for ex in answered:
        problems = envelope_problems(ex.json) if ex.is_json else ["the body is not JSON"]
        if problems:
            raise Failed(
                f"{ex.method} {ex.module}: {listing(problems)}", ex, "an OCPI response envelope"
            )
    return f"{len(answered)} answers, all enveloped"


@check(
    "transport.status_codes",
    "answers",
    ("status_codes", "Status codes"),
    "success statuses come with HTTP 2xx, and no answer is an HTTP 5xx",
)
async def status_codes(ctx: Context) -> str:
    answered = _answered(ctx)
    if not answered:
        raise Skipped("no answers to read")
    for ex in answered:
        code = ex.status_code
        if ex.status >= 500:
            raise Failed(f"HTTP {ex.status} (a server error)", ex, "no HTTP 5xx")
        if code is not None and 1000 <= code < 2000 and not 200 <= ex.status < 300:
            raise Failed(
                f"status {code} with HTTP {ex.status}", ex, "a 1xxx status only with HTTP 2xx"
            )
        if code is not None and code >= 2000 and ex.status in (201,):
            raise Failed(f"error status {code} with HTTP 201 Created", ex, "no 201 for an error")
    return f"{len(answered)} answers with consistent statuses"


def _echo(ctx: Context, header: str) -> str:
    need_2_2(ctx.version)
    answered = _answered(ctx)
    if not answered:
        raise Skipped("no answers to read")
    for ex in answered:
        sent = ex.request_headers.get(header)
        if sent is None:
            continue
        got = ex.header(header)
        if got != sent:
            raise Failed(
                f"{ex.method} {ex.module}: {header} {'missing' if got is None else repr(got)} in the answer",
                ex,
                f"{header}: {sent}",
            )
    return f"{header} echoed on {len(answered)} answers"


@check(
    "transport.request_id_echo",
    "answers",
    (_TF, "Unique message IDs"),
    "every answer echoes the request's X-Request-ID",
)
async def request_id_echo(ctx: Context) -> str:
    return _echo(ctx, "X-Request-ID")


@check(
    "transport.correlation_id_echo",
    "answers",
    (_TF, "Unique message IDs"),
    "every answer echoes the request's X-Correlation-ID",
)
async def correlation_id_echo(ctx: Context) -> str:
    return _echo(ctx, "X-Correlation-ID")


def _party_header(ex: Exchange, prefix: str) -> str:
    """``CC-PID`` from ``{prefix}-country-code`` and ``{prefix}-party-id``, or what is missing."""
    cc, pid = ex.header(f"{prefix}-country-code"), ex.header(f"{prefix}-party-id")
    if cc is None and pid is None:
        return f"no {prefix}-* headers"
    if cc is None or pid is None:
        return f"no {prefix}-{'country-code' if cc is None else 'party-id'} header"
    return f"{cc}-{pid}"


@check(
    "transport.routing_headers",
    "answers",
    (_TF, "Message Routing Headers"),
    "answers of functional modules carry OCPI-to-* (us) and OCPI-from-* (them)",
)
async def routing_headers(ctx: Context) -> str:
    need_2_2(ctx.version)
    if ctx.client.routing is None:
        raise Skipped("the parties are not known (no registration, no Credentials)")
    ours, theirs = ctx.client.routing
    # only answers to requests that carried routing headers: a request with token A (before
    # the registration) names no parties, so its answer has none to swap
    functional = [
        ex
        for ex in _answered(ctx)
        if ex.module not in CONFIGURATION_MODULES
        and not ex.probe
        and ex.status != 401
        and "OCPI-to-party-id" in ex.request_headers
    ]
    if not functional:
        raise Skipped("no answers of functional modules to read")
    for ex in functional:
        to = _party_header(ex, "OCPI-to")
        frm = _party_header(ex, "OCPI-from")
        if to.upper() != ours.upper() or frm.startswith("no "):
            raise Failed(
                f"{ex.method} {ex.module} (HTTP {ex.status}): OCPI-to {to}, OCPI-from {frm}",
                ex,
                f"OCPI-to {ours} and OCPI-from the answering party ({theirs})",
            )
    return f"{len(functional)} answers of functional modules carry the routing headers"
