"""OCPI 2.1.1 shared classes (2.1.1 ``types`` chapter).

2.1.1 has no Price class (costs are plain numbers) and no Role enum (roles appear only in the
endpoint URLs); ``DisplayText`` is the one shared class, identical in every later version and
imported forward from here (define once, import forward).
"""

from __future__ import annotations

from ocpikit.core.types import String2, String512
from ocpikit.models.base import OcpiModel

__all__ = ["OBJECTS", "DisplayText"]


class DisplayText(OcpiModel):
    """Text with its ISO 639-1 language (2.1.1 types §1.3; unchanged in 2.2.1 and 2.3.0)."""

    language: String2
    text: String512


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {"DisplayText": DisplayText}
