"""The two errors of the tariff engine.

:class:`PricingInputError`: a tariff or session it cannot read (the message names the field
path). :class:`PricingError`: input it can read but cannot price as asked (no tariff, no tariff
valid at the session start, an unknown time zone). Both are ``ValueError``; the CLI reports
them as bad input.
"""

from __future__ import annotations

__all__ = ["PricingError", "PricingInputError"]


class PricingInputError(ValueError):
    """A tariff or session the engine cannot read (the message names the field)."""


class PricingError(PricingInputError):
    """The session cannot be priced as asked (no tariff, no valid tariff, unknown time zone)."""
