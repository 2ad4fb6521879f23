"""Converters for locations between OCPI 2.1.1 and 2.2.1 (placeholder: being written)."""

from __future__ import annotations

from ocpikit.convert.base import Converter, LossRule

RULES: list[LossRule] = []
UP: dict[str, Converter] = {}
DOWN: dict[str, Converter] = {}
