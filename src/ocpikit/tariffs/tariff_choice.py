"""Which tariff prices a session, and which prices each period.

The main tariff is the one named by the first period's ``tariff_id`` (OCPI 2.2.1 / 2.3.0
``mod_cdrs`` §ChargingPeriod), else the first tariff valid at the session start
(``mod_tariffs`` §Tariff ``start_date_time``/``end_date_time``; policy ``tariff_validity``).
Its currency, min/max price and tax regime are the session's; a period naming another known
tariff is priced by that one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocpikit.tariffs.errors import PricingError
from ocpikit.tariffs.fast_records import fast_frozen
from ocpikit.tariffs.normal import NSession, NTariff
from ocpikit.tariffs.policy import Policy

__all__ = ["TariffChoice", "choose_tariffs"]


@fast_frozen
@dataclass(frozen=True, slots=True)
class TariffChoice:
    """The main tariff and every given tariff by upper-cased id (the first of equal ids)."""

    main: NTariff
    by_id: dict[str, NTariff]

    def for_period(self, tariff_id: str | None) -> NTariff:
        """The tariff pricing a period naming ``tariff_id`` (the main one when unknown)."""
        if not tariff_id:
            return self.main
        return self.by_id.get(tariff_id.upper(), self.main)


def choose_tariffs(
    session: NSession, tariffs: list[NTariff], policy: Policy, warnings: list[str]
) -> TariffChoice:
    """The :class:`TariffChoice` for ``session``; warnings for a tariff priced outside its
    validity (policy ``tariff_validity=ignore``) or a currency mismatch."""
    if not tariffs:
        raise PricingError("no tariff: pass one (--tariff) or a CDR that embeds its tariffs")
    by_id: dict[str, NTariff] = {}
    for t in tariffs:
        by_id.setdefault(t.id.upper(), t)
    start = session.start
    first_tid = next((p.tariff_id for p in session.periods if p.tariff_id), None)
    main: NTariff | None = None
    if first_tid is not None and first_tid.upper() in by_id:
        main = by_id[first_tid.upper()]
    if main is None:
        main = next((t for t in tariffs if t.valid_at(start)), None)
    if main is None or not main.valid_at(start):
        candidate = main or tariffs[0]
        msg = (
            f"tariff {candidate.id} is not valid at the session start "
            f"{start.isoformat()} (start/end_date_time)"
        )
        if policy.tariff_validity == "strict":
            raise PricingError(msg + "; policy tariff_validity=ignore prices it anyway")
        warnings.append(msg + " (priced anyway: policy tariff_validity=ignore)")
        main = candidate
    if session.currency and main.currency and session.currency.upper() != main.currency.upper():
        warnings.append(f"currency {session.currency} differs from tariff currency {main.currency}")
    return TariffChoice(main, by_id)
