"""Stages ``credentials`` and ``teardown``: the handshake with token A, its errors, token A
invalid afterwards, and the unregistration (credentials §Registration, §POST, §GET, §DELETE;
transport_and_format §Authorization header for token A on functional modules)."""

from __future__ import annotations

import contextlib

from ..context import Context
from ..pure import is_absolute_url, model_problems
from ..registry import Failed, Skipped, check
from ._util import expect_ok, listing

_DOC = "credentials"


def _need_token_a(ctx: Context) -> None:
    if ctx.token_kind == "existing":
        raise Skipped("the token given is of an existing registration: the runner did not register")


@check(
    "credentials.token_a_limited",
    "credentials",
    ("transport_and_format", "Authorization header"),
    "token A opens only versions and credentials (401 elsewhere)",
    v211=("transport_and_format", "Security and authentication"),
)
async def token_a_limited(ctx: Context) -> str:
    await ctx.need_details()
    if not ctx.token_kind:
        await ctx._classify_token()
    _need_token_a(ctx)
    if ctx.version == "2.1.1":
        raise Skipped("2.1.1 does not say what token A may open")
    probe = ctx.token_probe
    if probe is None:
        lists = ctx.sender_lists()
        if not lists:
            raise Skipped("no Sender list to try token A on")
        url = ctx.endpoint(lists[0], "SENDER")
        assert url is not None
        probe = await ctx.client.call(
            "GET", url, token=ctx.options.token, module=lists[0], params={"limit": "1"}
        )
    if probe.status != 401:
        raise Failed(f"token A on {probe.url} answered HTTP {probe.status}", probe, "HTTP 401")
    return f"token A on {probe.url}: HTTP 401"


@check(
    "credentials.register",
    "credentials",
    (_DOC, "POST Method"),
    "POST credentials with token A answers 1000 with valid Credentials and a new token",
    v211=(_DOC, "1.2 POST Method"),
)
async def register(ctx: Context) -> str:
    await ctx.need_details()
    if not ctx.token_kind:
        await ctx._classify_token()
    _need_token_a(ctx)
    with contextlib.suppress(Skipped):
        await ctx.ready()
    ex = ctx.registration_ex
    if ex is None:
        raise Failed(ctx.registration_error or "no registration was attempted")
    expect_ok(ex, "POST credentials")
    bad = model_problems(ctx.version, "Credentials", ex.data)
    if bad:
        raise Failed(f"invalid Credentials: {listing(bad)}", ex, "a Credentials object")
    data = ex.data
    if data.get("token") == ctx.options.token:
        raise Failed("the answer gives token A back", ex, "a new token C")
    if not is_absolute_url(data.get("url")):
        raise Failed(f"url {data.get('url')!r} is not absolute", ex, "the absolute versions URL")
    if not ctx.registered:
        raise Failed(ctx.registration_error, ex)
    parties = ", ".join(f"{r['country_code']}-{r['party_id']} {r['role']}" for r in ctx.their_roles)
    return f"registered as {ctx.party_id} ({ctx.our_role}); the target is {parties}"


@check(
    "credentials.callback",
    "credentials",
    (_DOC, "Registration"),
    "the target fetches our versions and details with token B during the POST",
    v211=(_DOC, "3.1 Registration"),
)
async def callback(ctx: Context) -> str:
    _need_token_a(ctx)
    await ctx.ready()
    assert ctx.party is not None
    seen = ctx.party.received(ctx.notes.get("party_seq_before", 0))
    got = [f"{r.method} {r.path} -> {r.status}" for r in seen if r.module == "versions"]
    paths = {r.path for r in seen if r.module == "versions" and r.status == 200}
    want = {"/ocpi/versions", f"/ocpi/{ctx.version}"}
    if not want <= paths:
        raise Failed(
            f"during the registration the target called: {got or 'nothing'}",
            ctx.registration_ex,
            f"GET {ctx.party.versions_url} and its {ctx.version} details with token B",
        )
    return "the target read our versions and version details with token B"


@check(
    "credentials.get",
    "credentials",
    (_DOC, "GET Method"),
    "GET credentials with the new token answers our access: valid Credentials with that token",
    v211=(_DOC, "1.1 GET Method"),
)
async def get_credentials(ctx: Context) -> str:
    token = await ctx.ready()
    url = ctx.endpoint("credentials")
    assert url is not None
    ex = await ctx.client.call("GET", url, token=token, module="credentials")
    expect_ok(ex, "GET credentials")
    bad = model_problems(ctx.version, "Credentials", ex.data)
    if bad:
        raise Failed(f"invalid Credentials: {listing(bad)}", ex, "a Credentials object")
    if ex.data.get("token") != token:
        raise Failed(
            "the Credentials carry another token than the one in use", ex, f"token {token!r}"
        )
    return "valid Credentials with the token in use"


@check(
    "credentials.post_again_405",
    "credentials",
    (_DOC, "POST Method"),
    "a second POST credentials when registered answers HTTP 405",
    v211=(_DOC, "1.2 POST Method"),
)
async def post_again(ctx: Context) -> str:
    token = await ctx.ready()
    _need_token_a(ctx)
    assert ctx.party is not None
    url = ctx.endpoint("credentials")
    assert url is not None
    ex = await ctx.client.call(
        "POST", url, token=token, module="credentials", json=ctx.party.credentials(ctx.token_b)
    )
    if ex.status == 405:
        return "HTTP 405"
    data = ex.data
    if ex.status_code == 1000 and isinstance(data, dict) and isinstance(data.get("token"), str):
        # it registered us again: use what it answered, or the next checks fail for nothing
        ctx.token = data["token"]
        assert ctx.party.emu.registration is not None
        ctx.party.emu.registration.outbound_token = ctx.token
    raise Failed(
        f"answered HTTP {ex.status}, status {ex.status_code}", ex, "HTTP 405 (already registered)"
    )


@check(
    "credentials.token_a_invalid",
    "credentials",
    (_DOC, "Registration"),
    "token A no longer opens anything after the registration (401)",
    v211=(_DOC, "3.1 Registration"),
)
async def token_a_invalid(ctx: Context) -> str:
    await ctx.ready()
    _need_token_a(ctx)
    ex = await ctx.client.call(
        "GET", ctx.options.versions_url, token=ctx.options.token, module="versions", probe="token A"
    )
    if ex.status != 401:
        raise Failed(f"token A still answered HTTP {ex.status}", ex, "HTTP 401")
    return "token A: HTTP 401"


@check(
    "credentials.unregister",
    "teardown",
    (_DOC, "DELETE Method"),
    "DELETE credentials answers 1000 and the token no longer works (401)",
    v211=(_DOC, "1.4 DELETE Method"),
)
async def unregister(ctx: Context) -> str:
    token = await ctx.ready()
    _need_token_a(ctx)
    url = ctx.endpoint("credentials")
    assert url is not None
    ex = await ctx.client.call("DELETE", url, token=token, module="credentials")
    ctx.unregistered = True
    if ctx.party is not None:
        ctx.party.forget()
    expect_ok(ex, "DELETE credentials")
    after = await ctx.client.call(
        "GET", ctx.options.versions_url, token=token, module="versions", probe="unregistered token"
    )
    if after.status != 401:
        raise Failed(
            f"after DELETE the token still answered HTTP {after.status}", after, "HTTP 401"
        )
    return "unregistered; the token now answers HTTP 401"
