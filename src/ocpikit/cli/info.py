"""``ocpikit info``: the supported versions and modules (also what bare ``ocpikit`` prints)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ocpikit import __version__
from ocpikit.core.versions import SUPPORTED_VERSIONS, modules_of
from ocpikit.models import OBJECTS


def register(sub: Any) -> None:
    p = sub.add_parser("info", help="print supported OCPI versions, modules and objects")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--loss-table", action="store_true", help="print every lossy cross-version mapping"
    )
    p.set_defaults(handler=run_info)


def run_info(args: argparse.Namespace) -> int:
    if getattr(args, "loss_table", False):
        from ocpikit.convert import render_loss_table

        print(render_loss_table(), end="")
        return 0
    data = {
        "ocpikit": __version__,
        "versions": [
            {
                "version": v.text,
                "modules": [m.value for m in modules_of(v)],
                "objects": sorted(OBJECTS[v.text]),
            }
            for v in SUPPORTED_VERSIONS
        ],
    }
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2))
        return 0
    print(f"ocpikit {__version__}")
    for entry in data["versions"]:
        assert isinstance(entry, dict)
        print(f"OCPI {entry['version']}: modules {', '.join(entry['modules'])}")
        print(f"  {len(entry['objects'])} object types")
    return 0
