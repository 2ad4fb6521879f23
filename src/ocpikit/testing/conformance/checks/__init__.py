"""The checks of the plan, one module per stage group; importing this package registers them
(in this order)."""

from __future__ import annotations

from . import (  # noqa: F401  (registers the checks)
    credentials,
    flows,
    objects,
    pagination,
    transport,
    versions,
    write,
)
