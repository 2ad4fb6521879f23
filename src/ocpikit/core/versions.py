"""OCPI version numbers, module identifiers and roles (version_information_endpoint §VersionNumber,
§ModuleID; types §Role).

Unknown version strings are tolerated: :class:`Version` parses any dotted number, orders it
numerically and keeps the original text, so a partner announcing ``2.3.1`` or ``3.0`` is listed,
not rejected. ``ModuleID`` is an open enum (2.3.0): unknown identifiers stay plain strings.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "HEAD",
    "SUPPORTED_VERSIONS",
    "V2_1_1",
    "V2_2_1",
    "V2_3_0",
    "InterfaceRole",
    "ModuleID",
    "Role",
    "Version",
    "modules_of",
]


class Version:
    """A version number such as ``2.2.1``; comparable, hashable, tolerant of unknown values."""

    __slots__ = ("_key", "text")

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        parts: list[int] = []
        for piece in self.text.split("."):
            digits = "".join(ch for ch in piece if ch.isdigit())
            parts.append(int(digits) if digits else 0)
        while len(parts) < 3:
            parts.append(0)
        self._key = tuple(parts)

    @property
    def key(self) -> tuple[int, ...]:
        return self._key

    @property
    def package(self) -> str:
        """Python package suffix, e.g. ``v2_2_1``."""
        return "v" + self.text.replace(".", "_")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"

    def __hash__(self) -> int:
        return hash(self._key)

    # Every comparison is written out, with a ``Version`` checked first (total_ordering's
    # derived __ge__ etc. cost two Python calls, and requests compare versions a dozen times).
    def _other_key(self, other: object) -> tuple[int, ...] | None:
        if type(other) is Version:
            return other._key
        if isinstance(other, str):
            return Version(other)._key
        if isinstance(other, Version):
            return other._key
        return None

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        key = self._other_key(other)
        if key is None:
            return NotImplemented
        return self._key == key

    def __lt__(self, other: object) -> bool:
        key = self._other_key(other)
        if key is None:
            return NotImplemented
        return self._key < key

    def __le__(self, other: object) -> bool:
        key = self._other_key(other)
        if key is None:
            return NotImplemented
        return self._key <= key

    def __gt__(self, other: object) -> bool:
        key = self._other_key(other)
        if key is None:
            return NotImplemented
        return self._key > key

    def __ge__(self, other: object) -> bool:
        key = self._other_key(other)
        if key is None:
            return NotImplemented
        return self._key >= key


V2_1_1 = Version("2.1.1")
V2_2_1 = Version("2.2.1")
V2_3_0 = Version("2.3.0")
HEAD = V2_3_0
SUPPORTED_VERSIONS: tuple[Version, ...] = (V2_1_1, V2_2_1, V2_3_0)


class ModuleID(StrEnum):
    """Module identifiers (open enum in 2.3.0: other strings are tolerated as plain ``str``)."""

    cdrs = "cdrs"
    chargingprofiles = "chargingprofiles"
    commands = "commands"
    credentials = "credentials"
    hubclientinfo = "hubclientinfo"
    locations = "locations"
    sessions = "sessions"
    tariffs = "tariffs"
    tokens = "tokens"
    payments = "payments"
    bookings = "bookings"
    invoicereconciliation = "invoicereconciliation"


_BASE = (
    ModuleID.credentials,
    ModuleID.locations,
    ModuleID.sessions,
    ModuleID.cdrs,
    ModuleID.tariffs,
    ModuleID.tokens,
    ModuleID.commands,
)


def modules_of(version: Version | str) -> tuple[ModuleID, ...]:
    """Modules defined by a version (DIGEST §6.9)."""
    v = version if isinstance(version, Version) else Version(version)
    if v < V2_2_1:
        return _BASE
    extra = (ModuleID.chargingprofiles, ModuleID.hubclientinfo)
    if v < V2_3_0:
        return _BASE + extra
    return _BASE + extra + (ModuleID.payments, ModuleID.bookings, ModuleID.invoicereconciliation)


class Role(StrEnum):
    """Party roles (types §Role). ``HUB`` exists in 2.2.1 only; 2.3.0 dropped it. ``PTP``, the
    Payment Terminal Provider of 2.3.0 mod_payments, is a role of ours only: the spec's Role
    enum has no such value (DIGEST A16), so a PTP presents itself as ``OTHER``."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    PTP = "PTP"
    SCSP = "SCSP"


class InterfaceRole(StrEnum):
    """Endpoint interface role (2.2+ version details)."""

    SENDER = "SENDER"
    RECEIVER = "RECEIVER"
