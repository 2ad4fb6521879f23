"""The exchange log's record of one request to the OCPI routes, built in one step.

Plan: under the default policy (``[exchange_log] bodies = "failures"``) the log keeps a
successful exchange compacted (:func:`ocpikit.operations.exchange_log.compact`: no headers, an
excerpt and a digest of each body). Building the whole exchange first (its two header tuples,
the excerpt of the response) and then the compacted copy costs two objects of nineteen fields
and the parts the copy drops, on every request; :func:`inbound_exchange` builds the compacted
record directly when the policy compacts it, and the whole exchange otherwise. The record is
made without the dataclass's ``__init__`` (a frozen dataclass sets each of its nineteen fields
through ``object.__setattr__``, most of the cost of building one): a new instance gets each slot
set through the slot's own descriptor (:func:`_exchange_of`; ``Exchange`` has no
``__post_init__``, checked at import).

Invariant: ``inbound_exchange(...)`` is ``(compact(inbound_exchange_plainly(...), policy),
compacted)`` field for field, ``compacted`` True when the policy compacted it
(:func:`inbound_exchange_plainly`, the whole exchange as the pipeline always built it, is the
reference). Either way :meth:`ExchangeLogBatcher.record` queues the same row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime

from ocpikit.core.headers import MessageIds
from ocpikit.protocol.ports import Exchange, ExchangeDirection
from ocpikit.server.adapter import OcpiRequest
from ocpikit.server.auth import Authenticated
from ocpikit.server.exchange_log import LogPolicy, compacted_bodies, kept_whole, log_excerpt

__all__ = ["inbound_exchange", "inbound_exchange_plainly"]

# the fast constructor below sets the slots in the order of the fields, and nothing else
assert not hasattr(Exchange, "__post_init__")
assert Exchange.__slots__ == tuple(f.name for f in dataclasses.fields(Exchange))
_NEW = object.__new__
(
    _DIRECTION,
    _METHOD,
    _URL,
    _STARTED_AT,
    _PARTNER_ID,
    _DURATION_MS,
    _STATUS,
    _OCPI_STATUS,
    _REQUEST_HEADERS,
    _REQUEST_BODY,
    _RESPONSE_HEADERS,
    _RESPONSE_BODY,
    _REQUEST_ID,
    _CORRELATION_ID,
    _ERROR,
    _SECRETS,
    _ID,
    _MODULE,
    _OBJECT_ID,
) = (vars(Exchange)[name].__set__ for name in Exchange.__slots__)


def _exchange_of(
    method: str,
    url: str,
    started_at: datetime,
    partner_id: str | None,
    duration_ms: float,
    status: int,
    request_body: bytes | None,
    response_body: bytes | None,
    ids: MessageIds | None,
    secrets: tuple[str, ...],
    module: str | None,
    object_id: str | None,
) -> Exchange:
    """``Exchange(direction=INBOUND, ...)`` with these fields and the others at their
    defaults, built slot by slot (see the module's plan)."""
    e = _NEW(Exchange)
    _DIRECTION(e, ExchangeDirection.INBOUND)
    _METHOD(e, method)
    _URL(e, url)
    _STARTED_AT(e, started_at)
    _PARTNER_ID(e, partner_id)
    _DURATION_MS(e, duration_ms)
    _STATUS(e, status)
    _OCPI_STATUS(e, None)
    _REQUEST_HEADERS(e, ())
    _REQUEST_BODY(e, request_body)
    _RESPONSE_HEADERS(e, ())
    _RESPONSE_BODY(e, response_body)
    _REQUEST_ID(e, ids.request_id if ids else None)
    _CORRELATION_ID(e, ids.correlation_id if ids else None)
    _ERROR(e, None)
    _SECRETS(e, secrets)
    _ID(e, None)
    _MODULE(e, module)
    _OBJECT_ID(e, object_id)
    return e


#: the URL parameters that name the object of a request, in the order they are looked for
OBJECT_PARAMS = ("location_id", "session_id", "cdr_id", "tariff_id", "token_uid", "uid")


def _object_id(params: Mapping[str, str]) -> str | None:
    if params:
        for name in OBJECT_PARAMS:
            if name in params:
                return params[name]
    return None


def inbound_exchange_plainly(
    request: OcpiRequest,
    request_body: bytes | None,
    *,
    started_at: datetime,
    duration_ms: float,
    auth: Authenticated | None,
    ids: MessageIds | None,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    module: str | None,
) -> Exchange:
    """The reference: the whole exchange (the policy is applied to it afterwards)."""
    params = request.path_params
    return Exchange(
        direction=ExchangeDirection.INBOUND,
        method=request.method,
        url=request.url,
        started_at=started_at,
        partner_id=auth.partner.id if auth is not None and auth.partner is not None else None,
        duration_ms=duration_ms,
        status=status,
        request_headers=tuple(request.headers.items()),
        request_body=request_body,
        response_headers=tuple(headers.items()),
        response_body=log_excerpt(body),
        request_id=ids.request_id if ids else None,
        correlation_id=ids.correlation_id if ids else None,
        secrets=(auth.token,) if auth is not None else (),
        module=module,
        object_id=next((params[n] for n in OBJECT_PARAMS if n in params), None),
    )


def inbound_exchange(
    request: OcpiRequest,
    request_body: bytes | None,
    *,
    started_at: datetime,
    duration_ms: float,
    auth: Authenticated | None,
    ids: MessageIds | None,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    module: str | None,
    policy: LogPolicy | None,
) -> tuple[Exchange, bool]:
    """What the log keeps of the exchange under ``policy``, and whether it is compacted (see
    the module's plan); ``policy`` None: the whole exchange (the log keeps nothing, the
    metrics read it)."""
    url = request.url
    # an inbound exchange has no error and no OCPI status of its own (the pipeline sets none)
    if policy is None or kept_whole(
        policy, status=status, ocpi_status=None, error=None, module=module, url=url
    ):
        whole = inbound_exchange_plainly(
            request,
            request_body,
            started_at=started_at,
            duration_ms=duration_ms,
            auth=auth,
            ids=ids,
            status=status,
            headers=headers,
            body=body,
            module=module,
        )
        return whole, False
    method = request.method
    request_kept, response_kept = compacted_bodies(method, request_body, log_excerpt(body))
    partner = auth.partner if auth is not None else None
    record = _exchange_of(
        method,
        url,
        started_at,
        partner.id if partner is not None else None,
        duration_ms,
        status,
        request_kept,
        response_kept,
        ids,
        (auth.token,) if auth is not None else (),
        module,
        _object_id(request.path_params),
    )
    return record, True
