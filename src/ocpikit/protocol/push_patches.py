"""The smallest PATCH a change of one of our objects can be pushed as (OCPI 2.2.1
transport_and_format §PATCH and mod_locations §8.2.2.3 / mod_sessions §9.2.2.3: a Receiver
takes a PATCH of a Location, an EVSE or a Connector at its own URL, and of a Session, whose
``charging_periods`` are appended from 2.2 on; OCPI 2.1.1 mod_locations/mod_sessions §PATCH:
the same URLs, but a list in a PATCH replaces the stored one).

:class:`Changes` names what changed in one object since its last delivery: the fields changed
per sub-object path (``()`` the object itself, ``(evse_uid,)`` an EVSE, ``(evse_uid,
connector_id)`` a Connector) and, for an append list, the index of its first new item. The
outbox keeps it beside the object's full state and sends, for each path, the named fields of
the *current* state: a retry or a coalesced burst therefore sends the latest values, and a
receiver that cannot take the PATCH gets the full state as a PUT instead.

Invariants: ``last_updated`` is in every path's fields (a PATCH needs it from 2.2 on);
:func:`coalesce` never loses a change: it merges two PATCHes only when sending the merged one
again is harmless (it is, except for appended items already in flight), else the entry becomes
a PUT of the full state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ocpikit.core.types import ci_equal

__all__ = [
    "APPEND_LISTS",
    "Changes",
    "PatchRequest",
    "PushPatch",
    "changes_between",
    "coalesce",
    "patch_requests",
]

Path = tuple[str, ...]

#: the list fields whose PATCH appends (2.2+), per object kind
APPEND_LISTS: Mapping[str, frozenset[str]] = {"Session": frozenset({"charging_periods"})}

#: the head object name at each depth of a path, per top object kind
_NAMES: Mapping[str, tuple[str, ...]] = {
    "Location": ("Location", "EVSE", "Connector"),
    "Session": ("Session",),
}
_CHILDREN: tuple[tuple[str, str], ...] = (("evses", "uid"), ("connectors", "id"))


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed in one object: ``fields`` per path, ``appended`` list → first new index."""

    fields: Mapping[Path, frozenset[str]]
    appended: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        names: Iterable[str],
        path: Iterable[str] = (),
        *,
        appended: Mapping[str, int] | None = None,
    ) -> Changes:
        """The change of ``names`` at ``path`` (``last_updated`` added)."""
        return cls({tuple(path): frozenset(names) | {"last_updated"}}, dict(appended or {}))

    def merged(self, newer: Changes) -> Changes:
        """Both changes: the union of the fields per path, the earliest first new item."""
        fields = dict(self.fields)
        for path, names in newer.fields.items():
            fields[path] = fields.get(path, frozenset()) | names
        appended = dict(self.appended)
        for name, start in newer.appended.items():
            appended[name] = min(start, appended.get(name, start))
        return Changes(fields, appended)

    def dumps(self) -> bytes:
        return orjson.dumps(
            {
                "fields": [[list(p), sorted(n)] for p, n in self.fields.items()],
                "appended": dict(self.appended),
            }
        )

    @classmethod
    def loads(cls, raw: bytes | str) -> Changes:
        """The changes :meth:`dumps` wrote; ``ValueError`` when ``raw`` is not such a text."""
        data = orjson.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
            raise ValueError("not a list of changes")
        fields: dict[Path, frozenset[str]] = {}
        for path, names in data["fields"]:
            fields[tuple(str(p) for p in path)] = frozenset(str(n) for n in names)
        appended = {str(k): int(v) for k, v in dict(data.get("appended") or {}).items()}
        return cls(fields, appended)


@dataclass(frozen=True, slots=True)
class PushPatch:
    """The outbox entries of an object write that go as a PATCH: ``changes`` for ``partners``
    (the others of the write's ``push_to`` get a PUT of the full state)."""

    changes: Changes
    partners: frozenset[str]


def coalesce(
    existing_operation: str | None, existing: Changes | None, in_flight: bool, new: Changes
) -> Changes | None:
    """The changes of the entry after queueing ``new`` onto the partner's entry of the object
    (``existing_operation`` None: no entry), or None when it must be a PUT of the full state:
    the entry is a PUT already (a new object, or a receiver that asked for PUTs), or it is a
    PATCH in flight whose appended items would be sent twice."""
    if existing_operation is None:
        return new
    if existing_operation != "PATCH" or existing is None:
        return None
    if in_flight and (existing.appended or new.appended):
        return None
    return existing.merged(new)


@dataclass(frozen=True, slots=True)
class PatchRequest:
    """One PATCH to send: the sub-object ``path`` under the object's URL, the head object
    ``name`` of ``body`` (for the version conversion) and the head ``body``."""

    path: Path
    name: str
    body: dict[str, Any]


def _descend(document: Mapping[str, Any], path: Path) -> Mapping[str, Any] | None:
    node: Mapping[str, Any] | None = document
    for (list_field, id_field), ident in zip(_CHILDREN, path, strict=False):
        items = node.get(list_field) if node is not None else None
        node = next(
            (
                i
                for i in items or []
                if isinstance(i, Mapping) and ci_equal(str(i.get(id_field, "")), ident)
            ),
            None,
        )
    return node


def patch_requests(
    kind: str, document: Mapping[str, Any], changes: Changes, *, appends: bool
) -> list[PatchRequest] | None:
    """The PATCHes that bring a receiver from its state to ``document`` (the current head
    state of our ``kind`` object), parents before children; ``appends``: the partner's
    version appends the ``APPEND_LISTS`` (2.2+; else the whole list is sent). None when a
    path or a changed field no longer exists in ``document`` (the caller sends the full state
    instead)."""
    names = _NAMES.get(kind)
    if names is None:
        return None
    out: list[PatchRequest] = []
    for path in sorted(changes.fields, key=len):
        if len(path) >= len(names):
            return None
        node = _descend(document, path)
        if node is None:
            return None
        wanted = sorted(changes.fields[path])
        if any(f not in node for f in wanted):
            return None  # a cleared field: a PATCH cannot say it plainly, the PUT can
        body = {f: node[f] for f in wanted}
        if not path:
            for name, start in changes.appended.items():
                items = node.get(name)
                if isinstance(items, list):
                    body[name] = items[start:] if appends else items
        out.append(PatchRequest(path, names[len(path)], body))
    return out


def _changed_fields(
    old: Mapping[str, Any], new: Mapping[str, Any], skip: str | None
) -> frozenset[str] | None:
    """The fields of ``new`` that differ from ``old`` (``skip``: the child list, compared
    apart); None when a field of ``old`` is gone from ``new``."""
    if any(f not in new for f in old if f != skip):
        return None
    return frozenset(f for f in new if f != skip and old.get(f) != new[f])


def _children(node: Mapping[str, Any], depth: int) -> dict[str, Mapping[str, Any]] | None:
    list_field, id_field = _CHILDREN[depth]
    items = node.get(list_field) or []
    out = {str(i.get(id_field, "")).upper(): i for i in items if isinstance(i, Mapping)}
    return out if len(out) == len(items) else None


def _diff_node(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    path: Path,
    depth: int,
    out: dict[Path, frozenset[str]],
) -> bool:
    """Record the changed fields of ``new`` and its children under ``path``; False when the
    change is not one a PATCH per sub-object can carry (a child added, removed or reordered,
    a field removed)."""
    nested = depth < len(_CHILDREN)
    skip = _CHILDREN[depth][0] if nested else None
    names = _changed_fields(old, new, skip)
    if names is None:
        return False
    if names:
        out[path] = names | {"last_updated"}
    if not nested or (skip not in old and skip not in new):
        return True
    olds, news = _children(old, depth), _children(new, depth)
    if olds is None or news is None or list(olds) != list(news):
        return False
    id_field = _CHILDREN[depth][1]
    return all(
        _diff_node(olds[k], child, (*path, str(child.get(id_field, ""))), depth + 1, out)
        for k, child in news.items()
    )


def changes_between(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes | None:
    """What changed from ``old`` to ``new`` (head documents of our ``kind`` object) as
    PATCHes per sub-object: a Location's own fields, each changed EVSE's and Connector's; a
    Session's fields, its ``charging_periods`` as appended when the old ones are kept as they
    were. None when a PATCH cannot say it (another kind, a child added or removed, a field
    removed, periods rewritten): the change goes as a PUT of the full state."""
    fields: dict[Path, frozenset[str]] = {}
    if kind == "Location":
        if not _diff_node(old, new, (), 0, fields):
            return None
        # a receiver bumps the parents' last_updated with a child's PATCH (OCPI 2.2.1
        # mod_locations §8.2.2.3): a parent whose only change is that needs no PATCH
        only_stamp = frozenset({"last_updated"})
        for path in [p for p, names in fields.items() if names == only_stamp]:
            if any(len(q) > len(path) and q[: len(path)] == path for q in fields):
                del fields[path]
        return Changes(fields) if fields else None
    if kind != "Session":
        return None
    appended: dict[str, int] = {}
    for name in APPEND_LISTS["Session"]:
        before, after = old.get(name) or [], new.get(name) or []
        if before == after:
            continue
        if after[: len(before)] != before:
            return None
        appended[name] = len(before)
    names = _changed_fields(
        {k: v for k, v in old.items() if k not in appended},
        {k: v for k, v in new.items() if k not in appended},
        None,
    )
    if names is None or not (names or appended):
        return None
    return Changes({(): names | {"last_updated"}}, appended)
