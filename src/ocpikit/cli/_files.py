"""Reading the JSON files people hand to the CLI: one object, a list, or a response envelope."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

__all__ = ["Document", "InputError", "is_envelope", "load_document", "write_json"]


class InputError(Exception):
    """The file cannot be used at all (missing, not JSON, wrong shape)."""


@dataclass
class Document:
    """What a file holds: ``payload`` is the object or list; ``envelope`` the wrapper, if any."""

    payload: Any
    envelope: dict[str, Any] | None

    @property
    def items(self) -> list[Any]:
        return self.payload if isinstance(self.payload, list) else [self.payload]

    @property
    def is_list(self) -> bool:
        return isinstance(self.payload, list)

    def rewrap(self, payload: Any) -> Any:
        """``payload`` in the same wrapping as the input (envelope in, envelope out)."""
        if self.envelope is None:
            return payload
        return {**self.envelope, "data": payload}


def is_envelope(value: Any) -> bool:
    """An OCPI response envelope: ``status_code`` and ``timestamp``, maybe ``data``."""
    return (
        isinstance(value, dict)
        and "status_code" in value
        and "timestamp" in value
        and set(value) <= {"data", "status_code", "status_message", "timestamp"}
    )


def load_document(path: str) -> Document:
    try:
        raw = Path(path).read_bytes() if path != "-" else _stdin()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    if is_envelope(value):
        return Document(payload=value.get("data"), envelope=value)
    return Document(payload=value, envelope=None)


def _stdin() -> bytes:
    import sys

    return sys.stdin.buffer.read()


def write_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
