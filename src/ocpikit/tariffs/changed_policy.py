"""Speed trick: the settings of a policy that differ from the default, memoised.

Plan: every :class:`~ocpikit.tariffs.result.PriceResult` reports ``Policy.changed()``, which
builds two dicts over every setting; callers reuse one policy object for many sessions, so the
answer is kept by the policy's identity (checked with ``is``, so a recycled id never serves a
stale answer), then by value. Invariant: :func:`changed_settings` returns a dict equal to
``policy.changed()``, the plain implementation its tests compare against. Callers must not
mutate the dict it returns (results share it).
"""

from __future__ import annotations

from functools import lru_cache

from ocpikit.tariffs.policy import Policy, PolicyValue

__all__ = ["changed_settings"]

_MAX_REMEMBERED = 64
#: id(policy) -> (policy, its changed settings)
_BY_IDENTITY: dict[int, tuple[Policy, dict[str, PolicyValue]]] = {}


@lru_cache(maxsize=32)
def _by_value(policy: Policy) -> dict[str, PolicyValue]:
    return policy.changed()


def changed_settings(policy: Policy) -> dict[str, PolicyValue]:
    """``policy.changed()``, memoised (see the module's plan)."""
    hit = _BY_IDENTITY.get(id(policy))
    if hit is not None and hit[0] is policy:
        return hit[1]
    value = _by_value(policy)
    if len(_BY_IDENTITY) > _MAX_REMEMBERED:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[id(policy)] = (policy, value)
    return value
