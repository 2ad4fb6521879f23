"""OCPI 2.1.1 versions objects. (placeholder: being written)"""

from __future__ import annotations

from ocpikit.models.base import OcpiModel

__all__ = ["OBJECTS"]

#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {}
