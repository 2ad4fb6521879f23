"""Per-partner switches of the client and the delivery worker, read from ``Partner.settings``
(DESIGN §3: every tolerance is a named, per-partner switch in one place).

Keys (all optional; JSON in the partner row, see docs/client.md):

- ``encode_auth``: ``true`` sends ``Token base64(token)``, ``false`` the raw token. Absent: the
  version default (raw for 2.1.1, Base64 for 2.2+, DIGEST §1.1). The client writes it when a
  401 retry with the other encoding worked, so the next call starts right.
- ``auth_retry``: retry a 401 once with the other encoding (default ``true``).
- ``timeout``: seconds per request (default 30).
- ``page_limit``: ``limit`` asked for on pulls (default: let the partner choose).
- ``push_policy``: ``"store-and-forward"`` or ``"drop-and-resync"`` for every kind, or a mapping
  ``{kind: policy}`` (kinds are head object names, ``"*"`` for the rest). Default:
  store-and-forward for CDRs and Tariffs (hubs require it), drop-and-resync (the spec's "SHOULD
  NOT be queued", ``transport_and_format`` §Offline behaviour) for the rest.
- ``max_attempts``: attempts before a dead letter; default 20 for store-and-forward, 3 for
  drop-and-resync.
- ``backoff_base`` / ``backoff_cap``: seconds of the exponential backoff (default 2 and 900).
- ``pull_retries``: how often one page of a pull is sent again after a 429/503 (honouring
  ``Retry-After``), a 5xx, a timeout or a truncated body (default 5, or ``[outbox] pull_retries``);
  ``0`` gives up at the first failure.
- ``pull_max_wait``: the longest single wait before such a retry, in seconds (default 60, or
  ``[outbox] pull_max_wait``); a longer ``Retry-After`` is capped to it.
- ``pull_any_party``: keep pulled objects of parties the partner did not register (a hub's GET
  ALL); default ``false`` (DIGEST §1.8: such objects "may be ignored").
- ``page_limits``: ``{module: limit}`` asked for on pulls of that module (over ``page_limit``).
- ``routing_headers_always``: routing headers on every request but Credentials (Gireve).
- ``rfid_uid_format``: ``"hex-8-or-14-upper"``: RFID uids are pushed upper-cased, others not at
  all (Gireve).
- ``ignore_link``: the partner's ``Link`` headers are unusable (extrawest-ocpi builds them with
  ``https``, an enum's repr in the path and ``date_from=None``): a pull pages by offset from
  ``X-Total-Count``/``X-Limit`` against the page it read (:mod:`ocpikit.protocol.paging`).
- ``single_object_lists``: the partner answers a request whose ``data`` is one object
  (CommandResponse, AuthorizationInfo, ChargingProfileResponse, a GET of one object) with a
  list of one (extrawest-ocpi): that element is read, logged; any other list is still refused.
- ``profile``: a hub profile whose values apply under the keys above
  (:mod:`ocpikit.protocol.profiles`; ``hub`` and ``version_aliases`` are read there too).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ocpikit.protocol.profiles import effective_settings
from ocpikit.protocol.pull_retry import RetryPolicy

__all__ = ["DEFAULT_STORE_AND_FORWARD", "PartnerSwitches", "PushPolicy"]


class PushPolicy(enum.StrEnum):
    STORE_AND_FORWARD = "store-and-forward"
    DROP_AND_RESYNC = "drop-and-resync"


DEFAULT_STORE_AND_FORWARD = frozenset({"CDR", "Tariff"})


def _bool(value: Any, default: bool | None) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    return default


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _seconds(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _number(value: Any, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


@dataclass(frozen=True, slots=True)
class PartnerSwitches:
    """The parsed switches of one partner; unknown or invalid values fall back to defaults."""

    encode_auth: bool | None = None
    auth_retry: bool = True
    timeout: float = 30.0
    page_limit: int | None = None
    push_policy: Mapping[str, PushPolicy] | PushPolicy | None = None
    max_attempts: int | None = None
    backoff_base: float = 2.0
    backoff_cap: float = 900.0
    pull_any_party: bool = False
    #: retries of one pull page and the longest wait; ``None``: the platform's default
    pull_retries: int | None = None
    pull_max_wait: float | None = None
    #: hosts besides the registered ones that its response_url and Link may point at
    extra_hosts: tuple[str, ...] = ()
    page_limits: Mapping[str, int] = field(default_factory=dict)
    routing_headers_always: bool = False
    dash_placeholders: bool = False
    rfid_uid_format: str | None = None
    ignore_link: bool = False
    single_object_lists: bool = False

    @classmethod
    def of(cls, settings: Mapping[str, Any] | None) -> PartnerSwitches:
        s = effective_settings(settings)
        policy: Mapping[str, PushPolicy] | PushPolicy | None = None
        raw_policy = s.get("push_policy")
        if isinstance(raw_policy, str) and raw_policy in PushPolicy._value2member_map_:
            policy = PushPolicy(raw_policy)
        elif isinstance(raw_policy, Mapping):
            policy = {
                str(k): PushPolicy(v)
                for k, v in raw_policy.items()
                if isinstance(v, str) and v in PushPolicy._value2member_map_
            }
        limit = s.get("page_limit")
        attempts = s.get("max_attempts")
        return cls(
            encode_auth=_bool(s.get("encode_auth"), None),
            auth_retry=bool(_bool(s.get("auth_retry"), True)),
            timeout=_number(s.get("timeout"), 30.0),
            page_limit=limit if isinstance(limit, int) and limit > 0 else None,
            push_policy=policy,
            max_attempts=attempts if isinstance(attempts, int) and attempts > 0 else None,
            backoff_base=_number(s.get("backoff_base"), 2.0),
            backoff_cap=_number(s.get("backoff_cap"), 900.0),
            pull_any_party=bool(_bool(s.get("pull_any_party"), False)),
            pull_retries=_count(s.get("pull_retries")),
            pull_max_wait=_seconds(s.get("pull_max_wait")),
            extra_hosts=_hosts(s.get("extra_hosts")),
            page_limits=_limits(s.get("page_limits")),
            routing_headers_always=bool(_bool(s.get("routing_headers_always"), False)),
            dash_placeholders=bool(_bool(s.get("dash_placeholders"), False)),
            rfid_uid_format=_str(s.get("rfid_uid_format")),
            ignore_link=bool(_bool(s.get("ignore_link"), False)),
            single_object_lists=bool(_bool(s.get("single_object_lists"), False)),
        )

    def page_limit_for(self, module: str) -> int | None:
        """The ``limit`` to ask for when pulling ``module`` (None: the partner chooses)."""
        return self.page_limits.get(module.lower(), self.page_limit)

    def policy_for(self, kind: str) -> PushPolicy:
        """The push policy of one object kind (head object name)."""
        p = self.push_policy
        if isinstance(p, PushPolicy):
            return p
        if p is not None:
            if kind in p:
                return p[kind]
            if "*" in p:
                return p["*"]
        if kind in DEFAULT_STORE_AND_FORWARD:
            return PushPolicy.STORE_AND_FORWARD
        return PushPolicy.DROP_AND_RESYNC

    def pull_retry(self, defaults: RetryPolicy | None = None) -> RetryPolicy:
        """The retries of a pull's pages: these switches over ``defaults`` (the platform's
        ``[outbox] pull_retries`` and ``pull_max_wait``, else :mod:`ocpikit.protocol.pull_retry`'s constants)."""
        base = defaults or RetryPolicy()
        return RetryPolicy(
            retries=base.retries if self.pull_retries is None else self.pull_retries,
            max_wait=base.max_wait if self.pull_max_wait is None else self.pull_max_wait,
            base=base.base,
        )

    def attempts_for(self, kind: str) -> int:
        """Attempts before an entry of ``kind`` becomes a dead letter."""
        if self.max_attempts is not None:
            return self.max_attempts
        return 20 if self.policy_for(kind) is PushPolicy.STORE_AND_FORWARD else 3


def _limits(raw: Any) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        return {}
    return {
        str(k).lower(): v
        for k, v in raw.items()
        if isinstance(v, int) and not isinstance(v, bool) and v > 0
    }


def _str(raw: Any) -> str | None:
    return raw if isinstance(raw, str) and raw else None


def _hosts(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list | tuple):
        return ()
    return tuple(str(h).strip().lower() for h in raw if str(h).strip())
