"""``ocpikit emulate chargepoint --ocpp 1.6|2.0.1 --url WS --id CP --connectors N``: run a
simulated charge point against a central system (the :class:`~.simulator.Simulator`).

It prints one JSON line per event (each message sent with its answer, each call received) and
takes commands on standard input, one per line:

- ``tap N TAG``: a driver taps RFID ``TAG`` at connector ``N`` (Authorize, then the
  transaction starts when accepted); ``start N TAG`` starts without asking;
- ``meter N [SECONDS]``: meter values of connector ``N`` (``SECONDS`` of charging);
- ``stop N``: the driver ends the transaction; ``status N STATUS``: e.g. ``Faulted``;
- ``heartbeat``; ``quit``.

At the end of standard input it goes on serving until the connection closes or SIGTERM.

With ``--drivers TAG,TAG,...`` it also plays drivers by itself: one arrives every
``--arrival`` seconds on average at a free connector, taps one of the tags, charges for
``--duration`` seconds with meter values every ``--meter-interval`` seconds, and leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from typing import Any

from .simulator import Simulator

__all__ = ["add_arguments", "run_chargepoint"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("chargepoint (OCPP)")
    g.add_argument("--ocpp", choices=("1.6", "2.0.1"), default="1.6", help="OCPP version")
    g.add_argument("--url", help="the central system's WebSocket URL, e.g. ws://host/ocpp")
    g.add_argument("--id", dest="cp_id", help="the charge point identity")
    g.add_argument("--connectors", type=int, default=2, help="connectors (2.0.1: EVSEs)")
    g.add_argument("--power", type=float, default=11000.0, help="charging power in W")
    g.add_argument(
        "--signed",
        action="store_true",
        help="send OCMF signed begin/end meter values (a test key, never a real meter's)",
    )
    g.add_argument("--drivers", help="RFID tags of drivers arriving by themselves (comma list)")
    g.add_argument("--arrival", type=float, default=30.0, help="mean seconds between drivers")
    g.add_argument("--duration", type=float, default=60.0, help="seconds a driver charges")
    g.add_argument(
        "--meter-interval", type=float, default=10.0, help="seconds between meter values"
    )


def _print(event: dict[str, Any]) -> None:
    print(json.dumps(event, default=str), flush=True)


async def _command(sim: Simulator, line: str) -> bool:
    """Run one standard-input command; False on ``quit``."""
    words = line.split()
    if not words:
        return True
    verb, args = words[0].lower(), words[1:]
    try:
        if verb == "quit":
            return False
        if verb == "heartbeat":
            await sim.heartbeat()
        elif verb == "tap":
            _print({"cp": sim.id, "tap": args[1], "status": await sim.tap(int(args[0]), args[1])})
        elif verb == "start":
            await sim.start(int(args[0]), args[1])
        elif verb == "meter":
            await sim.meter(int(args[0]), float(args[1]) if len(args) > 1 else None)
        elif verb == "stop":
            await sim.stop(int(args[0]))
        elif verb == "status":
            await sim.set_status(int(args[0]), args[1])
        else:
            _print({"cp": sim.id, "error": f"unknown command {verb!r}"})
    except (IndexError, ValueError, KeyError) as exc:
        _print({"cp": sim.id, "error": f"{line.strip()!r}: {exc}"})
    return True


async def _stdin(sim: Simulator) -> None:
    """Run the commands of standard input until ``quit``; at its end (no ``quit``) the charge
    point goes on serving (answering remote calls, playing ``--drivers``)."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            await asyncio.Event().wait()  # until the connection ends or SIGTERM
        if not await _command(sim, line):
            return


async def _drivers(sim: Simulator, tags: list[str], args: argparse.Namespace) -> None:
    rng = random.Random()
    while True:
        await asyncio.sleep(rng.expovariate(1 / args.arrival))
        n = sim.free_connector()
        if n is None:
            continue
        if await sim.tap(n, rng.choice(tags)) != "Accepted":
            continue
        charged = 0.0
        while charged < args.duration:
            await asyncio.sleep(args.meter_interval)
            charged += args.meter_interval
            await sim.meter(n)
        await sim.stop(n)


async def _main(args: argparse.Namespace) -> int:
    sim = Simulator(
        args.cp_id,
        args.ocpp,
        args.connectors,
        on_event=_print,
        power_w=args.power,
        signed=args.signed,
    )
    ready = asyncio.Event()
    runner = asyncio.create_task(sim.run(args.url, ready))
    await asyncio.wait(
        [runner, asyncio.create_task(ready.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    if runner.done():
        runner.result()  # raises the connection error
        return 1
    _print({"cp": sim.id, "ready": True, "ocpp": args.ocpp, "connectors": args.connectors})
    tasks = [asyncio.create_task(_stdin(sim))]
    if args.drivers:
        tasks.append(asyncio.create_task(_drivers(sim, args.drivers.split(","), args)))
    await asyncio.wait([runner, tasks[0]], return_when=asyncio.FIRST_COMPLETED)
    for t in [runner, *tasks]:
        t.cancel()
    return 0


def run_chargepoint(args: argparse.Namespace) -> int:
    if not args.url or not args.cp_id:
        print("ocpikit emulate chargepoint: --url and --id are required", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_main(args))
    except (OSError, Exception) as exc:  # a refused or dropped connection
        print(f"ocpikit emulate chargepoint: {exc}", file=sys.stderr)
        return 1
