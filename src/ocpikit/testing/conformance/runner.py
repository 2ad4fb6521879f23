"""Running the plan: the selected checks in stage order against one target, each turned into
a :class:`~.results.Result`, and whatever the run registered undone at the end (credentials
DELETE, even when the checks that would have done it were not selected or a check crashed).

A check that raises anything other than :class:`~.registry.Failed` or
:class:`~.registry.Skipped` is reported as failed with the error, so a defect of the runner is
never mistaken for a pass.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from .context import Context, Options
from .plan import select
from .registry import Check, Failed, Skipped
from .results import FAIL, PASS, SKIP, Report, Result
from .target import TargetClient

__all__ = ["run", "run_async"]

OnResult = Callable[[Result], None]


async def _run_one(check: Check, ctx: Context) -> Result:
    try:
        message = await check.fn(ctx)
    except Failed as exc:
        spec = check.citation(ctx.version)
        ex = exc.exchange
        return Result(
            check.id,
            FAIL,
            spec,
            exc.message,
            request=ex.describe_request() if ex else "",
            response=ex.describe_response() if ex else "",
            expected=exc.expected,
        )
    except Skipped as exc:
        return Result(check.id, SKIP, check.citation(ctx.version), exc.reason)
    except Exception as exc:  # a defect of the runner: visible, never a pass
        return Result(
            check.id,
            FAIL,
            check.citation(ctx.version),
            f"the check crashed: {type(exc).__name__}: {exc}",
        )
    return Result(check.id, PASS, check.citation(ctx.version), message)


async def _cleanup(ctx: Context) -> None:
    """Unregister what this run registered, and stop our party."""
    try:
        url = ctx.endpoint("credentials")
        if ctx.registered and not ctx.unregistered and url:
            ctx.unregistered = True
            await ctx.client.call("DELETE", url, token=ctx.token, module="credentials")
    finally:
        if ctx.party is not None:
            await ctx.party.stop()


def _trust_env(url: str) -> bool:
    """Proxies from the environment, except for a target on this machine."""
    return urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1")


async def run_async(
    versions_url: str,
    token: str,
    *,
    role: str | None = None,
    version: str | None = None,
    mode: str = "read",
    checks: Sequence[str] | None = None,
    party: str | None = None,
    timeout: float = 30.0,
    command_wait: float = 90.0,
    public_url: str | None = None,
    listen_host: str = "127.0.0.1",
    listen_port: int = 0,
    on_result: OnResult | None = None,
) -> Report:
    """Run the checks matching ``checks`` (shell patterns such as ``"transport.*"``; all when
    None) against the endpoint at ``versions_url`` with ``token`` (a token A, or the token of
    an existing registration: see :mod:`.context`). ``role`` is the role under test (``cpo``,
    ``emsp``, ``hub``; guessed from the version details when None), ``version`` the OCPI
    version (the highest both sides support when None), ``mode`` ``read`` or ``write``.
    ``on_result`` sees each result as soon as it is known."""
    if mode not in ("read", "write"):
        raise ValueError(f"mode {mode!r}: read or write")
    if role is not None and role not in ("cpo", "emsp", "hub"):
        raise ValueError(f"role {role!r}: cpo, emsp or hub")
    selected = select(checks)
    options = Options(
        versions_url=versions_url,
        token=token,
        role=role,
        version=version,
        mode=mode,
        party=party,
        timeout=timeout,
        command_wait=command_wait,
        listen_host=listen_host,
        listen_port=listen_port,
        public_url=public_url,
    )
    report = Report(target=versions_url)
    async with httpx.AsyncClient(
        timeout=timeout, trust_env=_trust_env(versions_url), follow_redirects=False
    ) as http:
        ctx = Context(options, TargetClient(http, version or "2.2.1"))
        try:
            for check in selected:
                result = await _run_one(check, ctx)
                report.results.append(result)
                if on_result is not None:
                    on_result(result)
        finally:
            await _cleanup(ctx)
        report.info = {
            "version": ctx.version or None,
            "role": ctx.role or None,
            "mode": mode,
            "registration": {"A": "registered by the run", "existing": "existing"}.get(
                ctx.token_kind
            ),
            "party": ctx.party_id or None,
        }
    return report


def run(versions_url: str, token: str, **options: Any) -> Report:
    """:func:`run_async` from synchronous code (in a thread of its own when an event loop is
    already running, as in an async test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_async(versions_url, token, **options))
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["report"] = asyncio.run(run_async(versions_url, token, **options))
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=work, name="ocpikit-conformance")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    report: Report = box["report"]
    return report
