"""The OCPI specification's JSON examples, each mapped to the object type it shows.

Sources (a folder laid out like the project's ``tests/data/spec``, see its README):

- 2.2.1 and 2.3.0: every file under ``<version>/examples/``, the spec's own example files;
- 2.1.1: every ```` ```json ```` block in the Markdown files of ``2.1.1/examples/`` (the 2.1.1 text
  has no examples folder: those files hold its JSON blocks verbatim, one file per chapter, without
  the prose), addressed as ``mod_locations.md#5`` (0-based block index in the file).

Every file and block must be matched by exactly one rule below; :func:`iter_examples` raises
:class:`UnmappedExample` otherwise, so a new example in the spec cannot be skipped silently.

An example's *shape* says how it is validated: ``object`` (one full object), ``list`` (a JSON
array of objects), ``patch`` (a PATCH body: a subset of the object's fields), or ``error`` (an
error response envelope without data). ``envelope`` says the example is wrapped in the OCPI
response envelope; ``wrapper`` names an outer key the example nests its object under (e.g. the
``energy_mix`` fragments).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Example",
    "UnmappedExample",
    "iter_examples",
    "markdown_json_blocks",
    "normalize_json",
    "validate_example",
]

Shape = Literal["object", "list", "patch", "error"]


class UnmappedExample(LookupError):
    """An example file or block that no mapping rule covers."""


@dataclass(frozen=True)
class Rule:
    pattern: str
    object: str
    shape: Shape = "object"
    envelope: bool = False
    wrapper: str | None = None


@dataclass(frozen=True)
class Example:
    """One spec example, mapped."""

    version: str
    source: str
    object: str
    shape: Shape
    envelope: bool
    wrapper: str | None
    raw: Any

    @property
    def id(self) -> str:
        return f"{self.version}/{self.source}"

    @property
    def data(self) -> Any:
        """The object, list or PATCH body the example shows, unwrapped."""
        value = self.raw
        if self.envelope:
            value = value.get("data")
        if self.wrapper is not None:
            value = value[self.wrapper]
        return value


# 2.2.1 and 2.3.0 example files (same names across versions; 2.3.0 adds payments and bookings)
FILE_RULES: tuple[Rule, ...] = (
    Rule(r"cdr_example\.json", "CDR"),
    Rule(r"credentials_example\d*\.json", "Credentials"),
    Rule(r"location_energymix_example_\w+\.json", "EnergyMix", wrapper="energy_mix"),
    Rule(r"location_example\w*\.json", "Location"),
    Rule(r"location_hours_\w+\.json", "Hours"),
    Rule(r"location_patch_example_location\.json", "Location", "patch"),
    Rule(r"location_patch_example_(status|remove_evse)\.json", "EVSE", "patch"),
    Rule(r"location_patch_example_tariff\.json", "Connector", "patch"),
    Rule(r"location_put_example_add_evse\.json", "EVSE"),
    Rule(r"location_regularhours_example\.json", "Hours", wrapper="opening_times"),
    Rule(r"session_example_\w+\.json", "Session"),
    Rule(r"session_patch_example_\w+\.json", "Session", "patch"),
    Rule(r"tariff_put_example\.json", "Tariff"),
    Rule(r"tariff_\d+_\w+\.json", "Tariff"),
    Rule(r"tariffrestriction_example_\w+\.json", "Tariff"),
    Rule(r"token_patch_example\.json", "Token", "patch"),
    Rule(r"token_(example_\w+|put_example)\.json", "Token"),
    Rule(r"transport_and_format_get_token_example\.json", "Token", envelope=True),
    Rule(r"transport_and_format_get_token_list_example\.json", "Token", "list", envelope=True),
    Rule(r"transport_and_format_version_details_example\.json", "VersionDetails", envelope=True),
    Rule(r"transport_and_format_version_info_example\.json", "Version", "list", envelope=True),
    Rule(r"type_displaytext_example\.json", "DisplayText"),
    Rule(r"version_details_example\d*\.json", "VersionDetails"),
    Rule(r"versions_info_example\.json", "Version", "list"),
    # 2.3.0 Bookings
    Rule(r"booking_example\.json", "Booking"),
    Rule(r"booking_location_example\.json", "BookingLocation"),
    Rule(r"booking_location_patch_example_calendar\.json", "Calendar", "patch"),
    Rule(r"booking_location_patch_example_terms\.json", "BookingLocation", "patch"),
    Rule(r"booking_patch_example_\w+\.json", "Booking", "patch"),
    Rule(r"booking_request_patch_example_\w+\.json", "BookingRequest", "patch"),
    # 2.3.0 Payments
    Rule(r"payment_financial_advice_confirmation_\w+\.json", "FinancialAdviceConfirmation"),
    # the terminal PUT example carries only the changed fields, like a PATCH (DIGEST §3.9)
    Rule(r"payment_terminal_(location_assignment|put_update)\.json", "Terminal", "patch"),
    Rule(r"payment_terminal_\w+\.json", "Terminal"),
)

# 2.1.1 inline blocks: file -> one rule per block, in order
MARKDOWN_RULES: dict[str, tuple[Rule, ...]] = {
    "credentials.md": (Rule("", "Credentials"),),
    "mod_cdrs.md": (Rule("", "CDR"),),
    "mod_locations.md": (
        Rule("", "EVSE", "patch"),
        Rule("", "Location", "patch"),
        Rule("", "Connector", "patch"),
        Rule("", "EVSE"),
        Rule("", "EVSE", "patch"),
        Rule("", "Location"),
        Rule("", "EnergyMix", wrapper="energy_mix"),
        Rule("", "EnergyMix", wrapper="energy_mix"),
        Rule("", "EnergyMix", wrapper="energy_mix"),
        Rule("", "Hours", wrapper="opening_times"),
    ),
    "mod_sessions.md": (
        Rule("", "Session", "patch"),
        Rule("", "Session"),
        Rule("", "Session"),
    ),
    "mod_tariffs.md": (
        Rule("", "Tariff"),
        Rule("", "Tariff", "patch"),
        Rule("", "Tariff"),
        Rule("", "Tariff"),
        Rule("", "Tariff"),
        Rule("", "Tariff"),
        Rule("", "Tariff"),
    ),
    "mod_tokens.md": (
        Rule("", "Token"),
        Rule("", "Token", "patch"),
        Rule("", "Token"),
    ),
    "transport_and_format.md": (
        Rule("", "Version", "list", envelope=True),
        Rule("", "VersionDetails", envelope=True),
        Rule("", "Token", envelope=True),
        Rule("", "Token", "list", envelope=True),
        Rule("", "", "error", envelope=True),
    ),
    "version_information_endpoint.md": (
        Rule("", "Version", "list"),
        Rule("", "VersionDetails"),
    ),
}

_BLOCK = re.compile(r"```json[ \t]*\n(.*?)```", re.S)


def markdown_json_blocks(text: str) -> list[Any]:
    """Decode every ```` ```json ```` block of a Markdown text.

    Blocks may start with a request line (``PATCH To URL: ...``), which is dropped, and may be a
    bare ``"key": {...}`` fragment, which is wrapped in braces.
    """
    blocks: list[Any] = []
    for body in _BLOCK.findall(text):
        lines = body.strip().splitlines()
        while lines and not lines[0].lstrip().startswith(("{", "[", '"')):
            lines.pop(0)
        snippet = "\n".join(lines).strip()
        if snippet.startswith('"'):
            snippet = "{" + snippet + "}"
        blocks.append(json.loads(snippet))
    return blocks


def _match_file(name: str) -> Rule:
    matches = [rule for rule in FILE_RULES if re.fullmatch(rule.pattern, name)]
    if not matches:
        raise UnmappedExample(f"no object mapping for example file {name}")
    return matches[0]


def iter_examples(spec_dir: Path) -> Iterator[Example]:
    """Every example of every version under ``spec_dir`` (laid out like ``tests/data/spec``)."""
    for version in ("2.2.1", "2.3.0"):
        for path in sorted((spec_dir / version / "examples").glob("*.json")):
            rule = _match_file(path.name)
            raw = json.loads(path.read_text(encoding="utf-8"))
            yield _example(version, f"examples/{path.name}", rule, raw)
    for path in sorted((spec_dir / "2.1.1" / "examples").glob("*.md")):
        blocks = markdown_json_blocks(path.read_text(encoding="utf-8"))
        rules = MARKDOWN_RULES.get(path.name, ())
        if len(blocks) != len(rules):
            raise UnmappedExample(
                f"2.1.1/{path.name} has {len(blocks)} JSON blocks, {len(rules)} are mapped"
            )
        for index, (rule, raw) in enumerate(zip(rules, blocks, strict=True)):
            yield _example("2.1.1", f"{path.name}#{index}", rule, raw)


def _example(version: str, source: str, rule: Rule, raw: Any) -> Example:
    return Example(
        version=version,
        source=source,
        object=rule.object,
        shape=rule.shape,
        envelope=rule.envelope,
        wrapper=rule.wrapper,
        raw=raw,
    )


def validate_example(example: Example) -> list[str]:
    """Validate one example with its version's model; return the problems (``path: message``).

    Paths are relative to the example's object (list examples are prefixed ``[i]``).
    """
    from pydantic import ValidationError

    from ocpikit.core.envelope import parse_envelope
    from ocpikit.core.errors import validation_problems
    from ocpikit.models import model_for

    if example.shape == "error":
        try:
            parse_envelope(example.raw)
        except (ValidationError, ValueError) as exc:
            return [str(exc)]
        return []
    model = model_for(example.version, example.object)
    data = example.data
    problems: list[str] = []
    items = list(enumerate(data)) if example.shape == "list" else [(None, data)]
    for index, item in items:
        try:
            if example.shape == "patch":
                model.parse_patch(item)
            else:
                model.model_validate(item)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, prefix=() if index is None else (index,)))
    return problems


def normalize_json(value: Any) -> Any:
    """JSON modulo number and timestamp formatting: numbers become normalised Decimals and
    DateTime strings aware datetimes, so ``2.0 == 2`` and ``...09Z == ...09.000Z``."""
    from decimal import Decimal

    from ocpikit.core.types import parse_datetime

    if isinstance(value, dict):
        return {k: normalize_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_json(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value)).normalize()
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return parse_datetime(value)
        except ValueError:
            return value
    return value
