"""The machinery shared by all converters (DESIGN §2; DIGEST §6).

Converters work on the JSON form (``dict``) of one object, between *neighbouring* versions only:
``convert/v2_1_1__v2_2_1/<module>.py`` and ``convert/v2_2_1__v2_3_0/<module>.py``. Each such
module declares

- ``RULES``: the :class:`LossRule` rows it can report (together: the loss table),
- ``UP`` and ``DOWN``: ``{object name: converter}`` for every object that differs between the
  two versions (including objects that merely *embed* a changed object).

An object absent from ``UP``/``DOWN`` is identical in both versions and passes through unchanged.
Fields a converter does not know (a partner's extensions) are copied through untouched.

A converter has the signature ``(data, ctx, path) -> dict`` where ``path`` is the JSON path of
``data`` inside the document being converted (``""`` at the top, ``"evses[0]"`` below); it must
not modify ``data`` in place, and reports every loss with ``ctx.lose(rule, path, detail)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = [
    "Context",
    "Converter",
    "Loss",
    "LossKind",
    "LossRule",
    "join_path",
]

LossKind = Literal["dropped", "defaulted", "approximated", "truncated", "renamed-value"]


@dataclass(frozen=True, slots=True)
class LossRule:
    """One row of the loss table: a mapping between two neighbouring versions that can lose or
    invent information.

    ``id`` is stable and unique and starts with the direction, e.g.
    ``"2.2.1>2.1.1 Location.publish_allowed_to"``; ``source`` says what the source version has
    and ``target`` what the target version gets instead (``"(absent)"`` when nothing).
    """

    id: str
    object: str
    field: str
    source: str
    target: str
    kind: LossKind
    note: str

    @property
    def direction(self) -> tuple[str, str]:
        """``(from_version, to_version)`` read from the id."""
        head, _, _ = self.id.partition(" ")
        source, _, target = head.partition(">")
        return source, target


@dataclass(frozen=True, slots=True)
class Loss:
    """One occurrence of a :class:`LossRule` in one conversion."""

    rule: str
    path: str
    detail: str = ""

    def __str__(self) -> str:
        where = self.path or "$"
        return f"{where}: {self.rule}" + (f" ({self.detail})" if self.detail else "")


@dataclass(slots=True)
class Context:
    """What a conversion may need beyond the object itself, and where losses are collected.

    - ``country_code`` / ``party_id``: the owner of an object coming up from 2.1.1, whose objects
      do not carry them (taken from the URL or the partner's credentials). ``None`` means
      unknown: the converter then writes the placeholder ``"XX"``/``"XXX"`` and reports it.
    - ``role``: the role to give a 2.1.1 Credentials object going up (``CPO`` or ``EMSP``).
    - ``now``: the clock reading for defaults such as ``last_updated``.
    - ``lookup``: optional cache lookups keyed by name (``"location"``, ``"token"``, ...), e.g.
      ``lookup["location"]("NL", "TNM", "LOC1")`` returning a head Location dict or ``None``.
    """

    country_code: str | None = None
    party_id: str | None = None
    role: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    lookup: dict[str, Callable[..., dict[str, Any] | None]] = field(default_factory=dict)
    losses: list[Loss] = field(default_factory=list)

    def lose(self, rule: LossRule, path: str, detail: str = "") -> None:
        self.losses.append(Loss(rule.id, path, detail))


Converter = Callable[[dict[str, Any], Context, str], dict[str, Any]]


def join_path(base: str, key: str | int) -> str:
    """``join_path("evses[0]", "connectors")`` → ``"evses[0].connectors"``; ints index."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key
