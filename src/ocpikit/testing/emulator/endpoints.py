"""The endpoints an emulated partner offers in its version details (versions §Version details
endpoint; the interface matrix of each module), and where they live.

URLs: ``/ocpi/versions``, ``/ocpi/{version}`` (details), ``/ocpi/{version}/credentials``,
``/ocpi/{version}/sender/{module}`` and ``/ocpi/{version}/receiver/{module}``. A hub implements
both interfaces of a module, so the interface is a path segment rather than guessed from the
shape of the rest of the path.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["INTERFACES", "details_endpoints"]

#: role -> (modules we implement as SENDER, modules we implement as RECEIVER)
INTERFACES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cpo": (("locations", "tariffs", "sessions", "cdrs"), ("tokens", "commands")),
    "emsp": (("tokens", "commands"), ("locations", "tariffs", "sessions", "cdrs")),
    "hub": (
        ("locations", "tariffs", "sessions", "cdrs", "tokens", "commands", "hubclientinfo"),
        ("locations", "tariffs", "sessions", "cdrs", "tokens", "commands"),
    ),
}


def details_endpoints(role: str, version: str, base_url: str) -> list[dict[str, str]]:
    """The ``endpoints`` of our version details; 2.1.1 endpoints carry no ``role`` (and a
    module appears once: 2.1.1 endpoints are per role, ``/ocpi/cpo/...`` or ``/ocpi/emsp/...``)."""
    root = f"{base_url}/ocpi/{version}"
    senders, receivers = INTERFACES[role]
    out: list[dict[str, str]] = [{"identifier": "credentials", "role": "SENDER"}]
    out[0]["url"] = f"{root}/credentials"
    seen: set[str] = set()
    for interface, modules in (("SENDER", senders), ("RECEIVER", receivers)):
        side = interface.lower()
        for module in modules:
            if version == "2.1.1" and (module in seen or module == "hubclientinfo"):
                continue
            seen.add(module)
            out.append({"identifier": module, "role": interface, "url": f"{root}/{side}/{module}"})
    if version == "2.1.1":
        for endpoint in out:
            del endpoint["role"]
    return out
