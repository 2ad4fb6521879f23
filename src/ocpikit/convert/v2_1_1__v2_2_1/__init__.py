"""Neighbour step 2.1.1 ⇄ 2.2.1 (DIGEST §6)."""

from __future__ import annotations

from ocpikit.convert.base import Converter, LossRule

from . import cdrs, commands, credentials, locations, sessions, tariffs, tokens, versions

_MODULES = (versions, credentials, locations, sessions, cdrs, tariffs, tokens, commands)

RULES: list[LossRule] = [rule for m in _MODULES for rule in m.RULES]
UP: dict[str, Converter] = {name: fn for m in _MODULES for name, fn in m.UP.items()}
DOWN: dict[str, Converter] = {name: fn for m in _MODULES for name, fn in m.DOWN.items()}
