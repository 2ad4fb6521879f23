"""Wire models of OCPI 2.1.1, 2.2.1 and 2.3.0.

- ``ocpikit.models.v2_1_1`` / ``v2_2_1`` / ``v2_3_0``: one subpackage per version, one module per
  OCPI module. A class identical across versions is defined once and imported forward.
- ``ocpikit.models.head``: the canonical model (= 2.3.0) that storage, handlers and the tariff
  engine use.
- :data:`OBJECTS`: the explicit registry ``OBJECTS[version][object name] -> model``.
"""

from __future__ import annotations

from ocpikit.core.versions import Version
from ocpikit.models import v2_1_1, v2_2_1, v2_3_0
from ocpikit.models import v2_3_0 as head
from ocpikit.models.base import OcpiModel

__all__ = ["OBJECTS", "OcpiModel", "head", "model_for", "v2_1_1", "v2_2_1", "v2_3_0"]

#: version text -> object name -> model class
OBJECTS: dict[str, dict[str, type[OcpiModel]]] = {
    "2.1.1": v2_1_1.OBJECTS,
    "2.2.1": v2_2_1.OBJECTS,
    "2.3.0": v2_3_0.OBJECTS,
}


def model_for(version: Version | str, name: str) -> type[OcpiModel]:
    """The model class of object ``name`` in ``version``; KeyError names what is missing."""
    wanted = version if isinstance(version, Version) else Version(version)
    # "2.3" and "2.3.0" name the same version: match numerically, not by text
    text = next((known for known in OBJECTS if Version(known) == wanted), wanted.text)
    try:
        objects = OBJECTS[text]
    except KeyError:
        raise KeyError(
            f"unsupported OCPI version {text!r}; supported: {', '.join(OBJECTS)}"
        ) from None
    try:
        return objects[name]
    except KeyError:
        raise KeyError(f"no object {name!r} in OCPI {text}") from None
