"""Emulated OCPI partners with fault modes: a CPO, an eMSP or a hub with parties behind it,
run as real processes on loopback (``ocpikit emulate``, docs/testing.md).

The emulator speaks OCPI with its own code (Starlette for the endpoints, httpx for its
requests); of ocpikit it uses only the models, to check its own and received objects. So it is
an independent counterpart of ocpikit's server and client.

A CPO may be backed by simulated OCPP charge points (``--chargepoints N``), run in the
emulator's process against its own OCPP endpoint; what they do becomes its Sessions, CDRs and
EVSE statuses (fleet.py).

From tests: :func:`run_emulator` starts one as a subprocess and returns a
:class:`EmulatorProcess` with its ``versions_url``, ``token_a``, ``control_url`` and helpers
for the control API. The pure parts: :class:`FaultPlan` / :func:`parse_fault` (faults.py),
:func:`generate` (data.py), :func:`page_of` (paging.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpikit.core.lazy import lazy_members

if TYPE_CHECKING:
    from .config import EmulatorConfig
    from .data import Dataset, generate
    from .faults import FaultPlan, FaultRule, FaultSpecError, parse_fault
    from .paging import page_of
    from .process import EmulatorProcess, run_emulator

__all__ = [
    "Dataset",
    "EmulatorConfig",
    "EmulatorProcess",
    "FaultPlan",
    "FaultRule",
    "FaultSpecError",
    "generate",
    "page_of",
    "parse_fault",
    "run_emulator",
]

__getattr__ = lazy_members(
    __name__,
    {
        "Dataset": f"{__name__}.data",
        "EmulatorConfig": f"{__name__}.config",
        "EmulatorProcess": f"{__name__}.process",
        "FaultPlan": f"{__name__}.faults",
        "FaultRule": f"{__name__}.faults",
        "FaultSpecError": f"{__name__}.faults",
        "generate": f"{__name__}.data",
        "page_of": f"{__name__}.paging",
        "parse_fault": f"{__name__}.faults",
        "run_emulator": f"{__name__}.process",
    },
)
