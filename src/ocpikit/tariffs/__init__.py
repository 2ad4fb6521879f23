"""The tariff engine: pricing, explanations, policies, the CDR builder and reconciliation.

Pure and Decimal (DESIGN §1): it reads head objects (``ocpikit.models.v2_3_0``) or their JSON
form and imports nothing but ``ocpikit.core`` and ``ocpikit.models``; older versions reach it
through ``ocpikit.convert.to_head`` at the edge (the CLI). See ``docs/tariffs.md``.
"""

from __future__ import annotations

from ocpikit.tariffs.engine import PricingError, price, resolve_time_zone
from ocpikit.tariffs.normal import (
    NSession,
    NTariff,
    PricingInputError,
    normalise_session,
    normalise_tariff,
    normalise_tariffs,
)
from ocpikit.tariffs.policy import POLICY_CHOICES, PRESETS, Policy, PolicyError
from ocpikit.tariffs.result import COST_BUCKETS, Amount, Line, PeriodResult, PriceResult

__all__ = [
    "COST_BUCKETS",
    "POLICY_CHOICES",
    "PRESETS",
    "Amount",
    "Line",
    "NSession",
    "NTariff",
    "PeriodResult",
    "Policy",
    "PolicyError",
    "PriceResult",
    "PricingError",
    "PricingInputError",
    "normalise_session",
    "normalise_tariff",
    "normalise_tariffs",
    "price",
    "resolve_time_zone",
]
