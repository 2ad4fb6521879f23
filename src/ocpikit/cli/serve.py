"""``ocpikit serve``: run the platform (uvicorn), applying migrations first, with the
background tasks (outbox delivery worker, resync of returning partners, registered periodic
tasks; ``ocpikit.client.background``) in the same process. ``--no-worker``,
``OCPIKIT_OUTBOX_WORKER=false`` or ``[outbox] worker = false`` leave delivery to separate
``ocpikit outbox work`` processes."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import importlib.util
import os
import platform
import sys
from dataclasses import replace
from typing import Any

from ocpikit.cli._platform import (
    add_config,
    open_storage,
    partner_http,
    registration_driver,
    settings_from,
)
from ocpikit.cli.workers import run_workers
from ocpikit.core.logs import configure_logging
from ocpikit.protocol.ports import BASE_URL_FACT
from ocpikit.server.settings import ConfigError

#: modules that register periodic background tasks (``ocpikit.client.background.periodic``) when
#: imported; a module that does not exist (yet) is skipped
TASK_MODULES: tuple[str, ...] = (
    "ocpikit.client.webhooks",
    "ocpikit.client.retention",
)


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the OCPI platform (CPO and/or eMSP)")
    add_serve_arguments(p)
    p.set_defaults(handler=run_serve)


def add_serve_arguments(p: Any) -> None:
    """The options of ``ocpikit serve`` (also those of ``ocpikit ocpp serve``)."""
    add_config(p)
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default 8000)")
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="public URL partners reach this platform at, e.g. https://ocpi.example.com "
        "(default: [platform] base_url, else http://HOST:PORT); recorded in the database for "
        "`ocpikit invite` and the other commands",
    )
    p.add_argument("--demo", action="store_true", help="load the sample dataset")
    p.add_argument(
        "--invite",
        action="store_true",
        help="print a fresh token A even when invitations are open",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve with N processes on one database and port (docs/server.md; PostgreSQL "
        "recommended)",
    )
    p.add_argument(
        "--worker-index",
        type=int,
        metavar="I",
        help="serve as worker I of a group on one database (several hosts behind a load "
        "balancer): only worker 0 runs the once-per-platform tasks; no demo, no invitation",
    )
    p.add_argument(
        "--no-worker",
        action="store_true",
        help="do not deliver the outbox in this process (run `ocpikit outbox work` instead)",
    )


#: what ``OCPIKIT_HUGE_PAGES`` turns the huge-page heap off with
_OFF = frozenset({"0", "false", "no", "off"})
_HUGE_PAGES = "glibc.malloc.hugetlb=1"


def _huge_page_argv() -> list[str] | None:
    """The command line to run this ``ocpikit serve`` again with glibc's malloc on transparent
    huge pages (``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``, glibc 2.35+), or None when that is
    off (``OCPIKIT_HUGE_PAGES=0``), already set, not glibc, or this process is not the
    ``ocpikit`` command itself (a test calling the CLI in process is never replaced).

    Why: the listing cache holds every served object's bytes (~200 MiB for 100,000 Locations)
    and a page reads 100 of them from anywhere in it; on 4 KiB pages that is a TLB miss per
    item read (the gain is in docs/server.md, Performance). The tunable is read by the dynamic
    loader at process start, hence the exec, done before anything else runs."""
    if os.environ.get("OCPIKIT_HUGE_PAGES", "1").strip().lower() in _OFF:
        return None
    if "glibc.malloc.hugetlb" in os.environ.get("GLIBC_TUNABLES", ""):
        return None
    libc, version = platform.libc_ver()
    try:
        if libc != "glibc" or tuple(int(x) for x in version.split(".")[:2]) < (2, 35):
            return None
    except ValueError:
        return None
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    ours = (spec is not None and spec.name == "ocpikit.cli.main") or (
        os.path.basename(sys.argv[0]) == "ocpikit"
    )
    argv = list(getattr(sys, "orig_argv", ()))
    if not ours or len(argv) < 2 or not os.path.exists(sys.executable):
        return None
    return [sys.executable, *argv[1:]]


def _exec_with_huge_pages() -> None:
    argv = _huge_page_argv()
    if argv is None:
        return
    tunables = os.environ.get("GLIBC_TUNABLES")
    env = {**os.environ, "GLIBC_TUNABLES": f"{tunables}:{_HUGE_PAGES}" if tunables else _HUGE_PAGES}
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, argv, env)
    except OSError:  # run on as we are
        return


def run_serve(args: argparse.Namespace) -> int:
    _exec_with_huge_pages()

    from ocpikit.cli._ocpp_endpoint import with_ocpp_endpoint
    from ocpikit.cli.flows import (
        cdr_build_mode,
        cdr_decimals,
        cdr_work_in_serve,
        flow_app,
        log_traffic,
    )
    from ocpikit.client.background import background_config, platform_background, with_background
    from ocpikit.server.app import admin_app
    from ocpikit.server.console.session import console_config
    from ocpikit.server.demo import load_demo
    from ocpikit.server.listener import listener_config, serve
    from ocpikit.server.registry import invite

    if args.workers < 1:
        print("ocpikit: --workers must be at least 1", file=sys.stderr)
        return 2
    worker = args.worker_index  # None: this process serves alone or supervises the workers
    supervisor = args.workers > 1 and worker is None
    settings = settings_from(args, recorded_base_url=False)
    try:
        settings = settings.with_overrides(host=args.host, port=args.port, base_url=args.base_url)
    except ConfigError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.demo:  # the demo's partners run on this machine
        settings = replace(settings, demo=True)
    configure_logging(
        settings.log_format, level=settings.log_level, exchanges=settings.log_exchanges
    )
    if settings.base_url_warning:
        print(f"ocpikit: warning: {settings.base_url_warning}", file=sys.stderr)
    try:
        bg_config = background_config(
            settings.extra,
            worker_override=False if args.no_worker else os.environ.get("OCPIKIT_OUTBOX_WORKER"),
        )
        bg_config = replace(bg_config, singletons=worker in (None, 0))
        cdr_build_mode(settings)
        cdr_decimals(settings)
        cdr_work_in_serve(settings)
    except ValueError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        console_config(settings.extra, settings.base_url)
    except ValueError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        return 2
    _import_task_modules()
    storage = open_storage(settings)

    async def prepare() -> dict[str, Any] | None:
        await storage.facts.set(BASE_URL_FACT, settings.base_url)
        if args.demo:
            counts = await load_demo(
                storage,
                [
                    (p.country_code, p.party_id, tuple(r.value for r in p.roles))
                    for p in settings.parties
                ],
            )
            print(
                f"demo data: {counts['Location']} locations, {counts['Tariff']} tariffs, "
                f"{counts['Session']} sessions, {counts['CDR']} CDRs, {counts['Token']} tokens"
            )
        if args.invite or not await storage.tokens.invites():
            return await invite(settings, storage, None)
        return None  # invitations are open already: `ocpikit invite --list`

    try:  # the app checks the sections its routes read ([afir], [open_data])
        ocpi_app = flow_app(settings, storage, driver=registration_driver(settings))
    except ConfigError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        return 2
    created = asyncio.run(prepare()) if worker is None else None
    if supervisor:
        _banner(settings, created, f"{args.workers} worker processes")
        return run_workers(args.workers, sys.argv[sys.argv.index("serve") + 1 :])
    calls = partner_http(settings, concurrency=bg_config.concurrency)
    log_traffic(ocpi_app, calls)  # pushes, pulls, command results: the exchange log, "out"
    background = platform_background(storage, settings.extra, bg_config, http=calls)
    app = with_background(ocpi_app, background)
    try:
        app, ocpp_line = with_ocpp_endpoint(
            app, settings, storage, force=getattr(args, "ocpp_enabled", False)
        )
    except ValueError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        return 2
    if worker is None:
        _banner(settings, created, ", ".join(background.names) or "none", ocpp_line)
    else:
        print(f"ocpikit worker {worker} serving {settings.base_url}")
    sys.stdout.flush()
    settle_gc()
    proxies = settings.trusted_proxies
    main = listener_config(
        app, settings.host, settings.port, settings.limits, trusted_proxies=proxies
    )
    second = None
    if settings.admin_port is not None and settings.admin_host is not None:
        second = listener_config(
            admin_app(ocpi_app),
            settings.admin_host,
            settings.admin_port,
            settings.limits,
            lifespan="off",
            trusted_proxies=proxies,
        )
    serve(main, second, shared=worker is not None)
    return 0


def _banner(
    settings: Any, created: dict[str, Any] | None, background: str, extra: str | None = None
) -> None:
    """What ``serve`` prints once at start: parties, URLs, the token A, the background."""
    admin_url = (
        f"http://{settings.admin_host}:{settings.admin_port}"
        if settings.admin_port is not None
        else settings.base_url
    )
    parties = ", ".join(f"{p.key} ({'+'.join(r.value for r in p.roles)})" for p in settings.parties)
    print(f"ocpikit platform for {parties}")
    print(f"versions URL: {settings.base_url}/ocpi/versions")
    if created is not None:
        print(f"token A:      {created['token']} (expires {created['expires_at']})")
    else:
        print("token A:      none printed: invitations are open (ocpikit invite --list)")
    print(
        f"backend API:  {admin_url}/admin/api/openapi.json (Bearer admin token from the config, OCPIKIT_ADMIN_TOKEN or ./.ocpikit-admin-token)"
    )
    print(f"console:      {admin_url}/console (admin token or a [console] user)")
    print(f"background:   {background}")
    if extra:
        print(extra)


#: the youngest generation's collection threshold while serving (CPython's default: 700)
GC_YOUNG_THRESHOLD = 5000


def settle_gc() -> None:
    """Tune the cyclic garbage collector for serving, once start-up is done.

    Everything allocated so far (models and their compiled schemas, routes, SQLAlchemy's
    metadata: about 110,000 objects) is frozen out of the collector's reach, so a full
    collection no longer walks it again; and the youngest generation is collected after 5,000
    new container objects instead of 700 (a request's own objects are freed by reference
    counting long before; what a young collection walks is what is alive at that moment: the
    requests in flight and the exchange log's queue). The gain is in docs/server.md,
    Performance."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), middle, old)


def _import_task_modules() -> None:
    for name in TASK_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
