"""Each version's JSON schemas against a committed snapshot (DESIGN §2): any change to a model is
a visible diff. Regenerate with ``OCPIKIT_UPDATE_SNAPSHOTS=1 pytest tests/unit/models``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ocpikit.models import OBJECTS

SNAPSHOTS = Path(__file__).resolve().parent / "schemas"


def _schemas(version: str) -> dict[str, Any]:
    return {
        name: model.model_json_schema(mode="validation")
        for name, model in sorted(OBJECTS[version].items())
    }


@pytest.mark.parametrize("version", sorted(OBJECTS))
def test_schema_matches_snapshot(version: str) -> None:
    path = SNAPSHOTS / f"v{version.replace('.', '_')}.json"
    current = json.loads(json.dumps(_schemas(version), sort_keys=True, default=str))
    if os.environ.get("OCPIKIT_UPDATE_SNAPSHOTS") == "1":
        path.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert path.is_file(), f"no snapshot {path.name}; run with OCPIKIT_UPDATE_SNAPSHOTS=1"
    snapshot = json.loads(path.read_text())
    changed = sorted(
        name for name in current.keys() | snapshot.keys() if current.get(name) != snapshot.get(name)
    )
    assert not changed, f"models changed: {changed}; review, then regenerate the snapshot"


def test_model_for_matches_versions_numerically() -> None:
    from ocpikit.models import model_for

    assert model_for("2.3", "Location") is model_for("2.3.0", "Location")
    with pytest.raises(KeyError, match=r"unsupported OCPI version '9\.9'"):
        model_for("9.9", "Location")
    with pytest.raises(KeyError, match=r"no object 'Nope' in OCPI 2\.2\.1"):
        model_for("2.2.1", "Nope")
