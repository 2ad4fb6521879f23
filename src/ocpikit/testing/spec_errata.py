"""Spec examples that are themselves wrong, with the reason (docs/spec-errata.md).

Each entry names the JSON paths our validation must report for that example; the spec-example
suite asserts that exactly those problems are found, so the table can neither rot nor hide a
regression. Keys are ``<version>/<source>`` as in :attr:`ocpikit.testing.spec_examples.Example.id`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ERRATA", "Erratum", "render_errata"]


@dataclass(frozen=True)
class Erratum:
    reason: str
    paths: tuple[str, ...]


_ADD_EVSE = Erratum(
    "PUT EVSE example: the connector lacks the required power_type, max_voltage, max_amperage "
    "and last_updated, and physical_reference is a number where the table says string(16) "
    "(DIGEST §8.2)",
    (
        "connectors[0].power_type",
        "connectors[0].max_voltage",
        "connectors[0].max_amperage",
        "connectors[0].last_updated",
        "physical_reference",
    ),
)
_TARIFF_PUT = Erratum(
    "PUT Tariff example without the required last_updated (DIGEST §8.2)", ("last_updated",)
)

ERRATA: dict[str, Erratum] = {
    "2.2.1/examples/location_put_example_add_evse.json": _ADD_EVSE,
    "2.3.0/examples/location_put_example_add_evse.json": _ADD_EVSE,
    "2.2.1/examples/tariff_put_example.json": _TARIFF_PUT,
    "2.3.0/examples/tariff_put_example.json": _TARIFF_PUT,
    "2.1.1/mod_tariffs.md#0": _TARIFF_PUT,
    "2.1.1/mod_locations.md#3": Erratum(
        "PUT EVSE example: `floor` (an int) instead of floor_level, physical_reference a number, "
        "no last_updated, and the connector lacks power_type, voltage, amperage, last_updated",
        (
            "connectors[0].power_type",
            "connectors[0].voltage",
            "connectors[0].amperage",
            "connectors[0].last_updated",
            "physical_reference",
            "last_updated",
        ),
    ),
    "2.1.1/mod_cdrs.md#0": Erratum(
        'the embedded tariff\'s price is the string "2.00" where the spec says number '
        "(DIGEST §8.1)",
        ("tariffs[0].elements[0].price_components[0].price",),
    ),
    "2.3.0/examples/cdr_example.json": Erratum(
        "the embedded Tariff lacks the 2.3.0 required tax_included (DIGEST §8.2)",
        ("tariffs[0].tax_included",),
    ),
    "2.3.0/examples/payment_financial_advice_confirmation_example_failure.json": Erratum(
        "eft_data has cardinality + but the failure example has none (DIGEST §3.9, A18)",
        ("eft_data",),
    ),
    "2.3.0/examples/payment_terminal_create_minimal.json": Erratum(
        "Terminal without the required last_updated (DIGEST §3.9, A18)", ("last_updated",)
    ),
    "2.3.0/examples/booking_example.json": Erratum(
        "party_id values of 5 characters (INF12) where the table says CiString(3), and the "
        "booking requests lack booking_location_id (DIGEST §3.10, A19)",
        (
            "party_id",
            "booking_tokens[0].party_id",
            "booking_requests[0].booking_request.booking_location_id",
        ),
    ),
    "2.3.0/examples/booking_location_example.json": Erratum(
        "evse_position given as a string where the table has a list, and impossible times such "
        "as 2025-03-23T23:59:99Z (DIGEST §3.10, A19)",
        ("calendars[0].end_before", "calendars[0].available_timeslots[0].end_date_time"),
    ),
    "2.3.0/examples/booking_location_patch_example_calendar.json": Erratum(
        "time slot keys written with a trailing space ('start_date_time ') so the required "
        "start_date_time and end_date_time are missing (DIGEST §3.10, A19)",
        (
            "available_timeslots[0].start_date_time",
            "available_timeslots[0].end_date_time",
        ),
    ),
    "2.3.0/examples/booking_location_patch_example_terms.json": Erratum(
        "booking_terms replaced by a PATCH without its required supported_access_methods, "
        "change_until_minutes and cancel_until_minutes (DIGEST §3.10, A19)",
        (
            "booking_terms.supported_access_methods",
            "booking_terms.change_until_minutes",
            "booking_terms.cancel_until_minutes",
        ),
    ),
}


def render_errata() -> str:
    """The errata table as Markdown (docs/spec-errata.md; a test keeps it current)."""
    lines = [
        "# Spec examples that are wrong",
        "",
        "Every JSON example of the OCPI specification (2.2.1 and 2.3.0 `examples/`, the JSON",
        "blocks of the 2.1.1 Markdown) is mapped to its object type and validated by",
        "`tests/spec_examples`. These examples contradict the spec's own tables; each is tested",
        "to fail at exactly the listed paths (`ocpikit.testing.spec_errata.ERRATA`). Generated",
        "from that table; do not edit by hand.",
        "",
        "| example | reason | reported at |",
        "| --- | --- | --- |",
    ]
    for key in sorted(ERRATA):
        erratum = ERRATA[key]
        paths = ", ".join(f"`{p}`" for p in erratum.paths)
        lines.append(f"| `{key}` | {erratum.reason} | {paths} |")
    return "\n".join(lines) + "\n"
