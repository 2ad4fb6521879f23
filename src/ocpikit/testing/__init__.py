"""The shipped test kit: spec-example loader, errata table, factories and emulated parties.

Nothing in ocpikit imports this package; tests and users' own suites do.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shared_path"]


def shared_path(start: Path | None = None) -> Path:
    """The shared folder (OCPI spec, tariff cases, OCMF samples): ``$OCPIKIT_SHARED`` or
    ``../shared`` beside the checkout that holds ``start`` (default: the working directory)."""
    env = os.environ.get("OCPIKIT_SHARED")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return (folder.parent / "shared").resolve()
    return (here.parent / "shared").resolve()
