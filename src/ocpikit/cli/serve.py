"""``ocpikit serve``: run the platform (uvicorn), applying migrations first, with the
background tasks (outbox delivery worker, resync of returning partners, registered periodic
tasks; ``ocpikit.client.background``) in the same process. ``--no-worker``,
``OCPIKIT_OUTBOX_WORKER=false`` or ``[outbox] worker = false`` leave delivery to separate
``ocpikit outbox work`` processes."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import os
import sys
from typing import Any

from ocpikit.cli._platform import add_config, open_storage, settings_from

#: modules that register periodic background tasks (``ocpikit.client.background.periodic``) when
#: imported; a module that does not exist (yet) is skipped
TASK_MODULES: tuple[str, ...] = (
    "ocpikit.client.flows",
    "ocpikit.client.webhooks",
    "ocpikit.client.retention",
)


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the OCPI platform (CPO and/or eMSP)")
    add_config(p)
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default 8000)")
    p.add_argument("--demo", action="store_true", help="load the sample dataset")
    p.add_argument(
        "--no-worker",
        action="store_true",
        help="do not deliver the outbox in this process (run `ocpikit outbox work` instead)",
    )
    p.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ocpikit.cli.flows import flow_app
    from ocpikit.client.background import background_config, platform_background, with_background
    from ocpikit.client.registration import drive
    from ocpikit.server.demo import load_demo
    from ocpikit.server.registry import invite

    settings = settings_from(args)
    settings = settings.with_overrides(host=args.host, port=args.port)
    try:
        bg_config = background_config(
            settings.extra,
            worker_override=False if args.no_worker else os.environ.get("OCPIKIT_OUTBOX_WORKER"),
        )
    except ValueError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        return 2
    _import_task_modules()
    storage = open_storage(settings)

    async def prepare() -> dict[str, str]:
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
        return await invite(settings, storage, None)

    created = asyncio.run(prepare())
    app = flow_app(settings, storage, driver=drive)
    background = platform_background(storage, settings.extra, bg_config)
    app = with_background(app, background)
    parties = ", ".join(f"{p.key} ({'+'.join(r.value for r in p.roles)})" for p in settings.parties)
    print(f"ocpikit platform for {parties}")
    print(f"versions URL: {created['versions_url']}")
    print(f"token A:      {created['token']}")
    print(
        f"backend API:  {settings.base_url}/admin/api/openapi.json (Bearer admin token from the config, OCPIKIT_ADMIN_TOKEN or ./.ocpikit-admin-token)"
    )
    print(f"background:   {', '.join(background.names) or 'none'}")
    sys.stdout.flush()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    return 0


def _import_task_modules() -> None:
    for name in TASK_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
