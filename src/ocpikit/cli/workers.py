"""``ocpikit serve --workers N``: one platform served by N processes on one database.

The first process (the supervisor) applies the migrations, loads the demo data and prints the
invitation as a single ``serve`` does, then starts N worker processes, each ``ocpikit serve``
with the same options and ``--worker-index I``. The workers listen on the same port
(``SO_REUSEPORT``: the kernel spreads connections over them) and share the database:

- every worker answers partners and the backend API, and delivers the outbox (claims are
  leased rows, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: an entry goes out once);
- the periodic tasks that lease what they work on (``every_worker``: the command and webhook
  sweep, the CDR checks and builds) run in every worker; the tasks that must run once per platform (first pulls,
  resyncs, hub probes and ClientInfo pushes, retention) run in worker 0 only;
- caches that other processes' writes make stale are invalidated across processes
  (credentials: docs/security.md; listings: docs/storage.md).

Invariant: the supervisor never serves a request; when a worker exits on its own, the
supervisor stops the others and exits with that worker's status (a service manager restarts
the whole group), and SIGTERM/SIGINT stop every worker gracefully (each flushes its exchange
log and stops its background tasks).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

__all__ = ["child_argv", "run_workers"]

#: options of ``serve`` the supervisor has done, that a worker must not do again
_ONCE = frozenset({"--demo", "--invite"})


def child_argv(argv: Sequence[str]) -> list[str]:
    """The ``serve`` options a worker gets: ``argv`` without ``--workers N`` (or
    ``--workers=N``) and without what the supervisor did once (:data:`_ONCE`)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--workers":
            skip = True
            continue
        if arg.startswith("--workers=") or arg in _ONCE:
            continue
        out.append(arg)
    return out


def run_workers(count: int, argv: Sequence[str], *, poll: float = 0.2) -> int:
    """Start ``count`` workers of ``ocpikit serve`` with ``argv`` and supervise them until a
    signal or a worker's exit; returns the exit status."""
    base = [sys.executable, "-m", "ocpikit.cli.main", "serve", *child_argv(argv)]
    workers = [
        subprocess.Popen([*base, "--worker-index", str(i)], stdout=sys.stdout, stderr=sys.stderr)
        for i in range(count)
    ]
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    while any(w.poll() is None for w in workers):
        for index, w in enumerate(workers):
            code = w.poll()
            if code is not None and not stopping:
                print(f"ocpikit: worker {index} exited ({code}); stopping the others", flush=True)
                status = code or 1
                stop(signal.SIGTERM, None)
        time.sleep(poll)
    return status
