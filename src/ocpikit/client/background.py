"""Background work of ``ocpikit serve``: the outbox delivery worker, resync when a partner comes
back, and periodic tasks that other parts of the platform register (resync on a schedule,
command-timeout sweeps, ...). See docs/client.md "Running the worker".

- :class:`Background` runs long-lived loops (``fn(stop)``) and :class:`PeriodicTask` s as asyncio
  tasks next to the web server, and stops them cleanly: ``stop`` is set, the tasks get
  ``stop_timeout`` seconds to finish what they are doing (the worker completes the batch in
  hand), then they are cancelled. A task that raises is logged and runs again at its next
  interval: a failing task never kills the process or spins.
- :func:`periodic` / :func:`register_periodic` add a task to the process-wide registry; the
  composition root (``ocpikit serve``) starts every registered task. A task receives a
  :class:`TaskContext` (storage, the shared HTTP client, clock, the raw config).
- :func:`platform_background` builds what ``ocpikit serve`` runs from its config (including a
  resync of every partner at start when ``outbox.resync_on_return`` is on); the tasks live
  in this package (not in ``server``) because each of them talks to partners (httpx).

This module lives in ``client`` (and not ``server``) because every task it runs talks to
partners; the ASGI side of starting it is :func:`with_background`, which needs no web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.logs import event
from ocpikit.protocol.ports import Partner, PartnerStatus, Storage
from ocpikit.protocol.pull_retry import PULL_MAX_WAIT, PULL_RETRIES, RetryPolicy

from .http import http_client

__all__ = [
    "Background",
    "BackgroundConfig",
    "PeriodicTask",
    "TaskContext",
    "background_config",
    "periodic",
    "platform_background",
    "register_periodic",
    "registered_tasks",
    "with_background",
]

log = logging.getLogger("ocpikit.background")


MIN_INTERVAL = 0.1
"""Seconds: no periodic task runs more often, whatever it is configured with."""


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What a background task gets: the platform's storage, the shared HTTP client (connection
    pool of partner calls), the clock and the raw configuration (TOML tables)."""

    storage: Storage
    http: httpx.AsyncClient
    clock: Clock = SYSTEM_CLOCK
    config: Mapping[str, Any] = field(default_factory=dict)


TaskFn = Callable[[TaskContext], Awaitable[None]]
LoopFn = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PeriodicTask:
    """``fn(ctx)`` every ``every`` seconds (± ``splay`` × ``every``, random), the first run after
    ``first`` seconds (default: one interval). Runs never overlap.

    ``every_worker``: the task is safe to run in every process of a platform at once (it leases
    what it works on, as the command sweep and the CDR checks do); other tasks run in one
    process of ``ocpikit serve --workers N`` only (:attr:`BackgroundConfig.singletons`)."""

    name: str
    every: float
    fn: TaskFn
    splay: float = 0.1
    first: float | None = None
    every_worker: bool = False


_REGISTRY: dict[str, PeriodicTask] = {}


def register_periodic(task: PeriodicTask) -> PeriodicTask:
    """Add (or replace, by name) a task that ``ocpikit serve`` runs in the background."""
    _REGISTRY[task.name] = task
    return task


def periodic(
    name: str, *, every: float, splay: float = 0.1, first: float | None = None
) -> Callable[[TaskFn], TaskFn]:
    """Decorator form of :func:`register_periodic`::

    @periodic("command-timeouts", every=5)
    async def sweep(ctx: TaskContext) -> None: ...
    """

    def deco(fn: TaskFn) -> TaskFn:
        register_periodic(PeriodicTask(name, every, fn, splay, first))
        return fn

    return deco


def registered_tasks() -> list[PeriodicTask]:
    return list(_REGISTRY.values())


class Background:
    """Long-lived loops and periodic tasks as asyncio tasks, with a clean stop."""

    def __init__(
        self,
        ctx: TaskContext,
        *,
        loops: Mapping[str, LoopFn] | None = None,
        tasks: list[PeriodicTask] | None = None,
        stop_timeout: float = 10.0,
        rng: random.Random | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.ctx = ctx
        self.loops = dict(loops or {})
        self.tasks = list(tasks or [])
        self.stop_timeout = stop_timeout
        self.rng = rng or random.Random()
        self.on_close = on_close
        self.stop_event = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}

    @property
    def names(self) -> list[str]:
        return [*self.loops, *(t.name for t in self.tasks)]

    async def start(self) -> None:
        if self._running:
            return
        self.stop_event = asyncio.Event()
        for name, fn in self.loops.items():
            self._running[name] = asyncio.create_task(self._loop(name, fn), name=name)
        for task in self.tasks:
            self._running[task.name] = asyncio.create_task(self._periodic(task), name=task.name)
        if self._running:
            log.info("background tasks started: %s", ", ".join(self._running))

    async def stop(self) -> None:
        """Ask every task to stop, wait up to ``stop_timeout`` s, cancel what is left."""
        self.stop_event.set()
        running = list(self._running.values())
        self._running.clear()
        if running:
            _, late = await asyncio.wait(running, timeout=self.stop_timeout)
            for t in late:
                log.warning("background task %s did not stop in time: cancelled", t.get_name())
                t.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if self.on_close is not None:
            on_close, self.on_close = self.on_close, None
            await on_close()

    async def __aenter__(self) -> Background:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _loop(self, name: str, fn: LoopFn) -> None:
        """A loop that returns or fails before ``stop`` is restarted after a pause."""
        while not self.stop_event.is_set():
            try:
                await fn(self.stop_event)
            except Exception:
                log.exception("background loop %s failed; restarting in 5 s", name)
            if await self._sleep(5.0):
                return

    async def _periodic(self, task: PeriodicTask) -> None:
        every = max(MIN_INTERVAL, task.every)
        wait = every if task.first is None else max(0.0, task.first)
        while not await self._sleep(wait):
            started = time.perf_counter()
            try:
                await task.fn(self.ctx)
            except Exception:
                log.exception("background task %s failed", task.name)
            else:
                event(
                    log,
                    logging.DEBUG,
                    f"background task {task.name} ran",
                    task=task.name,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            wait = every * (1 + task.splay * (2 * self.rng.random() - 1))

    async def _sleep(self, seconds: float) -> bool:
        """Sleep; ``True`` when stop was asked meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_event.wait(), timeout=max(0.0, seconds))
        return self.stop_event.is_set()


# --- what `ocpikit serve` runs ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BackgroundConfig:
    """The ``[outbox]`` and ``[background]`` config tables (docs/client.md)."""

    worker: bool = True
    batch: int = 100
    concurrency: int = 8
    lease: float = 120.0
    idle: float = 0.5
    resync_on_return: bool = True
    resync_interval: float = 0.0  # 0: no scheduled resync
    first_pull: bool = True  # pull a newly registered partner once (client/first_pull.py)
    first_pull_poll: float = 1.0
    stop_timeout: float = 10.0
    #: the platform's default retries of one page of a pull and the longest wait before one
    #: (a partner's ``pull_retries`` / ``pull_max_wait`` switches win)
    pull_retries: int = PULL_RETRIES
    pull_max_wait: float = PULL_MAX_WAIT
    #: this process runs the tasks that must run once per platform (pulls, resyncs, probes,
    #: periodic tasks not marked ``every_worker``); with ``ocpikit serve --workers N`` only the
    #: first worker does, the others deliver the outbox and run the leased tasks
    singletons: bool = True

    @property
    def pull_defaults(self) -> RetryPolicy:
        return RetryPolicy(retries=self.pull_retries, max_wait=self.pull_max_wait)


def _number(table: Mapping[str, Any], key: str, default: float, where: str) -> float:
    raw = table.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise ValueError(f"{where}.{key}: expected a number >= 0, got {raw!r}")
    return float(raw)


def _flag(raw: Any, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{where}: expected true or false, got {raw!r}")


def background_config(
    config: Mapping[str, Any], *, worker_override: str | bool | None = None
) -> BackgroundConfig:
    """Parse ``[outbox]`` (``worker``, ``batch``, ``concurrency``, ``lease``, ``idle``,
    ``resync_on_return``, ``resync_interval``, ``first_pull``, ``first_pull_poll``,
    ``pull_retries``, ``pull_max_wait``) and ``[background] stop_timeout``;
    ``worker_override`` (e.g. ``OCPIKIT_OUTBOX_WORKER``) wins over ``outbox.worker``."""
    outbox = config.get("outbox", {})
    bg = config.get("background", {})
    if not isinstance(outbox, Mapping) or not isinstance(bg, Mapping):
        raise ValueError("[outbox] and [background] must be tables")
    worker = _flag(outbox.get("worker", True), "outbox.worker")
    if worker_override is not None and worker_override != "":
        worker = _flag(worker_override, "OCPIKIT_OUTBOX_WORKER")
    batch = int(_number(outbox, "batch", 200, "outbox"))
    concurrency = int(_number(outbox, "concurrency", 32, "outbox"))
    if batch < 1 or concurrency < 1:
        raise ValueError("outbox.batch and outbox.concurrency must be at least 1")
    return BackgroundConfig(
        worker=worker,
        batch=batch,
        concurrency=concurrency,
        lease=max(1.0, _number(outbox, "lease", 120, "outbox")),
        idle=max(0.05, _number(outbox, "idle", 0.5, "outbox")),
        resync_on_return=_flag(outbox.get("resync_on_return", True), "outbox.resync_on_return"),
        resync_interval=_number(outbox, "resync_interval", 0, "outbox"),
        first_pull=_flag(outbox.get("first_pull", True), "outbox.first_pull"),
        first_pull_poll=max(0.1, _number(outbox, "first_pull_poll", 1, "outbox")),
        stop_timeout=_number(bg, "stop_timeout", 10, "background"),
        pull_retries=int(_number(outbox, "pull_retries", PULL_RETRIES, "outbox")),
        pull_max_wait=_number(outbox, "pull_max_wait", PULL_MAX_WAIT, "outbox"),
    )


def platform_background(
    storage: Storage,
    config: Mapping[str, Any],
    cfg: BackgroundConfig,
    *,
    clock: Clock = SYSTEM_CLOCK,
    extra_tasks: list[PeriodicTask] | None = None,
    http: httpx.AsyncClient | None = None,
) -> Background:
    """What ``ocpikit serve`` runs: the delivery worker (unless ``cfg.worker`` is off), resync of
    a partner that comes back and, under the same switch (``cfg.resync_on_return``), of every
    registered partner when the process starts (our own return after a stop or crash), the
    first pull of a newly registered partner (``cfg.first_pull``), the scheduled resync, and
    every registered periodic task. ``http``: the partner calls' client (the composition root
    passes one guarded by the URL policy; default: an unguarded one); closed with the rest."""
    from .delivery import DeliveryWorker
    from .first_pull import FirstPull
    from .partner import PartnerClient
    from .sync import remember_auth, resync, resync_forever

    if http is None:
        http = http_client(concurrency=cfg.concurrency)
    ctx = TaskContext(storage=storage, http=http, clock=clock, config=config)
    learn = remember_auth(storage)
    resyncing: set[asyncio.Task[None]] = set()

    def make_client(partner: Partner) -> PartnerClient:
        return PartnerClient(
            partner, http, clock=clock, on_auth_learned=learn, pull_defaults=cfg.pull_defaults
        )

    async def resync_partner(partner: Partner, why: str = "partner is back") -> None:
        try:
            reports = await resync(make_client(partner), storage)
            log.info(
                "partner %s: %s: resynced %s",
                partner.id,
                why,
                ", ".join(f"{r.module} +{r.created}/~{r.updated}" for r in reports) or "nothing",
            )
        except Exception as exc:
            log.warning("partner %s: resync (%s) failed: %s", partner.id, why, exc)

    async def on_return(partner: Partner) -> None:
        # not awaited by the worker: a pull must not hold up deliveries
        if not cfg.resync_on_return or partner.status is not PartnerStatus.REGISTERED:
            return
        t = asyncio.create_task(resync_partner(partner), name=f"resync-{partner.id}")
        resyncing.add(t)
        t.add_done_callback(resyncing.discard)

    loops: dict[str, LoopFn] = {}
    if cfg.worker:
        worker = DeliveryWorker(
            storage,
            http,
            clock=clock,
            batch=cfg.batch,
            concurrency=cfg.concurrency,
            lease=timedelta(seconds=cfg.lease),
            on_partner_return=on_return,
        )

        async def deliver(stop: asyncio.Event) -> None:
            log.info("outbox worker %s running", worker.worker_id)
            await worker.run(stop, idle=cfg.idle)

        loops["outbox-worker"] = deliver
    if cfg.resync_on_return and cfg.singletons:

        async def resync_at_start(stop: asyncio.Event) -> None:
            # we were away ourselves (stopped, crashed, deployed): for us every partner comes back
            # now, so pull what changed since the last successful sync, one partner at a time
            for partner in await storage.partners.all(status=PartnerStatus.REGISTERED):
                if stop.is_set():
                    return
                await resync_partner(partner, "we started again")
            await stop.wait()

        loops["resync-at-start"] = resync_at_start
    if cfg.first_pull and cfg.singletons:
        first = FirstPull(
            storage, make_client, poll=cfg.first_pull_poll, skip_present=cfg.resync_on_return
        )
        loops["first-pull"] = first.run
    if cfg.resync_interval > 0 and cfg.singletons:

        async def scheduled_resync(stop: asyncio.Event) -> None:
            await resync_forever(storage, make_client, interval=cfg.resync_interval, stop=stop)

        loops["resync"] = scheduled_resync

    async def close() -> None:
        for t in list(resyncing):
            t.cancel()
        await asyncio.gather(*resyncing, return_exceptions=True)
        await http.aclose()

    return Background(
        ctx,
        loops=loops,
        tasks=[
            t
            for t in [*registered_tasks(), *(extra_tasks or [])]
            if cfg.singletons or t.every_worker
        ],
        stop_timeout=cfg.stop_timeout,
        on_close=close,
    )


# --- ASGI lifespan ------------------------------------------------------------------------------
ASGIApp = Callable[..., Awaitable[None]]


def with_background(app: ASGIApp, background: Background) -> ASGIApp:
    """Wrap an ASGI app so that ``background`` starts after the app's startup and stops before
    the app's shutdown (the web server waits for both: nothing is left running on SIGTERM)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "lifespan":
            await app(scope, receive, send)
            return

        async def receive_() -> Any:
            message = await receive()
            if message.get("type") == "lifespan.shutdown":
                await background.stop()
            return message

        async def send_(message: Any) -> None:
            if message.get("type") == "lifespan.startup.complete":
                await background.start()
            await send(message)

        await app(scope, receive_, send_)

    return wrapped
