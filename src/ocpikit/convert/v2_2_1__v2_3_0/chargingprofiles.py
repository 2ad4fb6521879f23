"""Charging profiles between OCPI 2.2.1 and 2.3.0 (DIGEST §3.7).

Every object of the module is the same class in both versions (the 2.3.0 models import the
2.2.1 ones), so nothing is converted and nothing can be lost.
"""

from __future__ import annotations

from ocpikit.convert.base import Converter, LossRule

__all__ = ["DOWN", "RULES", "UP"]

RULES: list[LossRule] = []
UP: dict[str, Converter] = {}
DOWN: dict[str, Converter] = {}
