"""OCPI 2.1.1 shared classes (2.1.1 ``types`` chapter).

2.1.1 has no Price class (costs are plain numbers) and no Role enum (roles appear only in the
endpoint URLs); ``DisplayText`` is the one shared class, identical in every later version and
imported forward from here (define once, import forward).

``OPEN`` is the field setting for enums read tolerantly (``Annotated[SomeEnum | str, OPEN]``):
pydantic then tries the enum first, so known values become members and unknown ones stay
plain strings. 2.3.0 OpenEnums use it, and so do the few places where even 2.1.1 must accept
values beyond its enum (custom module identifiers, newer version numbers).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ocpikit.core.types import String2, String512
from ocpikit.models.base import OcpiModel

__all__ = ["OBJECTS", "OPEN", "DisplayText"]

#: ``Annotated[SomeEnum | str, OPEN]``: known values as members, others kept as strings.
OPEN: Any = Field(union_mode="left_to_right")


class DisplayText(OcpiModel):
    """Text with its ISO 639-1 language (2.1.1 types §1.3; unchanged in 2.2.1 and 2.3.0)."""

    language: String2
    text: String512


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {"DisplayText": DisplayText}
