"""Speed trick: the tariffs a run of CDR checks prices with, normalised once per stored
document read (docs/cdrs.md "CDR checks in the platform", performance).

Plan: the CDRs of a batch mostly name the same few tariffs, and the batch reads each stored
tariff once (:mod:`ocpikit.operations.cdr_check_batch`: one document object per key and
revision read), so a run keeps the engine's normalised form of each tariff document it priced
with, by the document's identity and the partner's OCPI version, and prices the next CDR with
that: no new normalisation, nor the engine's own lookup of a JSON tariff by its content (a
``repr`` of the whole tariff per CDR).

Invariant: pricing with :meth:`ParsedTariffs.normalised` of a list gives what pricing with the
list gives. Stored documents are never mutated (:attr:`StoredObject.document`), so one object
is one revision of one tariff, and the run keeps a reference to each (its identity stays that
document's); a tariff the engine cannot read is given back as it was (the checker then reports
it as it does for any CDR). The batch tests compare the outcomes of a run with the plain
per-check reference (tests/contract/server/test_cdr_check_batch.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from ocpikit.tariffs import PricingInputError
from ocpikit.tariffs.normal import NTariff, TariffInput, normalise_tariff

__all__ = ["ParsedTariffs"]


class ParsedTariffs:
    """The normalised tariffs of one run of checks (keep one per run, not longer)."""

    __slots__ = ("_by_doc",)

    def __init__(self) -> None:
        #: by (id of the document, origin): the document (its identity held) and its form
        self._by_doc: dict[tuple[int, str | None], tuple[Any, NTariff | None]] = {}

    def normalised(self, tariffs: Sequence[Mapping[str, Any]], origin: str | None) -> Sequence[Any]:
        """``tariffs`` normalised, or as given when one of them cannot be read."""
        out: list[NTariff] = []
        for doc in tariffs:
            key = (id(doc), origin)
            hit = self._by_doc.get(key)
            if hit is None or hit[0] is not doc:
                try:
                    parsed: NTariff | None = normalise_tariff(cast("TariffInput", doc), origin)
                except (PricingInputError, ValueError, TypeError, KeyError):
                    parsed = None  # priced as given: the checker reports it as it would
                hit = (doc, parsed)
                self._by_doc[key] = hit
            if hit[1] is None:
                return tariffs
            out.append(hit[1])
        return out
