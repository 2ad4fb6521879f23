"""Running an emulated partner: the settings from the command line, a listening socket on
loopback, uvicorn (HTTP/1.1 by h11, which the ``drop`` fault relies on), and the start-up line
on stdout once it accepts connections (and its charge points, if any, have connected and
booted: the line then also names them and their ``ocpp_url``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import sys
from typing import Any

from .config import DEFAULT_BEHIND, ConfigError, EmulatorConfig, parse_party
from .data import DEFAULT_COUNTS
from .faults import FaultSpecError, parse_fault

__all__ = ["ServeError", "config_from_args", "serve"]


class ServeError(ValueError):
    """A command-line setting that cannot work (the message names the option)."""


def _behind(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    if not values:
        return DEFAULT_BEHIND
    out = []
    for value in values:
        party, _, role = value.partition(":")
        out.append((parse_party(party, "--behind"), role.strip().upper()))
    return tuple(out)


def _counts(values: list[str]) -> dict[str, int]:
    counts = dict(DEFAULT_COUNTS)
    for value in values:
        module, _, n = value.partition("=")
        if module not in counts or not n.isdigit():
            raise ServeError(
                f"--objects {value!r}: MODULE=N with MODULE one of {', '.join(counts)}"
            )
        counts[module] = int(n)
    return counts


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    try:
        for spec in args.fault:
            parse_fault(spec)
        return EmulatorConfig(
            role=args.role,
            version=args.version,
            host=args.host,
            port=args.port,
            seed=args.seed,
            party=parse_party(args.party) if args.party else "",
            behind=_behind(args.behind),
            faults=tuple(args.fault),
            page_size=args.page_size,
            counts=_counts(args.objects),
            command_delay=args.command_delay,
            token_party=parse_party(args.token_party, "--token-party"),
            chargepoints=getattr(args, "chargepoints", 0) or 0,
            ocpp=getattr(args, "ocpp", "1.6"),
            connectors=getattr(args, "connectors", 2),
            signed=bool(getattr(args, "signed", False)),
            power_w=getattr(args, "power", 11000.0),
        )
    except (ConfigError, FaultSpecError) as exc:
        raise ServeError(str(exc)) from None


def serve(config: EmulatorConfig) -> int:
    """Serve until SIGTERM or SIGINT; 0 then."""
    import uvicorn

    from .app import build_app
    from .state import Emulator

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        print(
            f"ocpikit emulate: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr
        )
        return 1
    port = sock.getsockname()[1]
    emulator = Emulator(config, f"http://{config.host}:{port}")
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(emulator),
            http="h11",
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
    )
    line: dict[str, Any] = {
        "versions_url": emulator.versions_url,
        "token_a": emulator.token_a,
        "control_url": emulator.control_url,
        "role": config.role,
        "version": config.version,
        "parties": [{"party": p, "role": r} for p, r in config.parties],
    }

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        fleet = emulator.fleet
        if fleet is not None:
            from .fleet import CONNECT_TIMEOUT

            try:
                await asyncio.wait_for(fleet.ready.wait(), CONNECT_TIMEOUT + 5)
            except TimeoutError:
                print("ocpikit emulate: the charge points did not connect", file=sys.stderr)
                server.should_exit = True
                return
            line["ocpp_url"] = fleet.url
            line["chargepoints"] = [site.describe() for site in fleet.sites.values()]
        print(json.dumps(line), flush=True)

    # uvicorn re-raises a captured signal after its graceful shutdown; with these handlers
    # installed first, that re-raise is a no-op and SIGTERM ends the process with status 0
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)

    async def main() -> None:
        task = asyncio.ensure_future(announce())
        try:
            await server.serve(sockets=[sock])
        finally:
            task.cancel()

    asyncio.run(main())
    return 0
