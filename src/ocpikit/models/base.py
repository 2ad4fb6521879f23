"""The base class of every OCPI wire model.

- Unknown fields are kept and dumped back (2.3.0 types: a platform SHALL NOT reject
  undocumented fields; we are equally tolerant for 2.1.1 and 2.2.1, DIGEST §1.10).
- ``exclude_unset`` on dump: what was absent stays absent, what was ``null`` stays ``null``,
  so parse → dump gives back the input (modulo number and timestamp formatting).
- Field names are the JSON keys verbatim; no aliases.
"""

from __future__ import annotations

from typing import Any, Self

import orjson
from pydantic import BaseModel, ConfigDict

__all__ = ["OcpiModel"]


class OcpiModel(BaseModel):
    """Base of all OCPI objects and classes."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=False,
        validate_assignment=False,
        ser_json_inf_nan="null",
        protected_namespaces=(),
        use_attribute_docstrings=False,
        regex_engine="rust-regex",
    )

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any]) -> Self:
        """Validate JSON text or an already-decoded JSON object."""
        if isinstance(data, (bytes, str)):
            return cls.model_validate_json(data)
        return cls.model_validate(data)

    def dump(self) -> dict[str, Any]:
        """The JSON-ready dict of this object (only fields that were set)."""
        result: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True)
        return result

    def dump_json(self) -> bytes:
        """Wire bytes of this object (only fields that were set)."""
        return self.model_dump_json(exclude_unset=True).encode()

    def dump_obj(self) -> Any:
        return orjson.loads(self.dump_json())
