"""What the composition root gives the console besides the platform: the flows' ports (to
send commands, :mod:`ocpikit.operations.commands`) and a pull (the client package's
``pull_into_storage``, which the server package may not import)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ocpikit.operations.flow_ports import FlowPorts

__all__ = ["ConsolePorts", "PullPort"]

#: ``pull(partner_id, module)`` (module ``"all"``: every module the partner sends): one report
#: per module, ``{"module", "created", "updated", ...}`` or ``{"module", "error"}``
PullPort = Callable[[str, str], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class ConsolePorts:
    """None: that part of the console says it is not available in this process."""

    flows: FlowPorts | None = None
    pull: PullPort | None = None
