"""The exchange log's record of one request to the OCPI routes, built in one step.

Plan: under the default policy (``[exchange_log] bodies = "failures"``) the log keeps a
successful exchange compacted (:func:`ocpikit.operations.exchange_log.compact`: no headers, an
excerpt and a digest of each body). Building the whole exchange first (its two header tuples,
the excerpt of the response) and then the compacted copy costs two objects of nineteen fields
and the parts the copy drops, on every request; :func:`inbound_exchange` builds the compacted
record directly when the policy compacts it, and the whole exchange otherwise.

Invariant: ``inbound_exchange(...)`` is ``(compact(inbound_exchange_plainly(...), policy),
compacted)`` field for field, ``compacted`` True when the policy compacted it
(:func:`inbound_exchange_plainly`, the whole exchange as the pipeline always built it, is the
reference). Either way :meth:`ExchangeLogBatcher.record` queues the same row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ocpikit.core.headers import MessageIds
from ocpikit.protocol.ports import Exchange, ExchangeDirection
from ocpikit.server.adapter import OcpiRequest
from ocpikit.server.auth import Authenticated
from ocpikit.server.exchange_log import LogPolicy, compacted_bodies, kept_whole, log_excerpt

__all__ = ["inbound_exchange", "inbound_exchange_plainly"]

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
    return Exchange(
        direction=ExchangeDirection.INBOUND,
        method=method,
        url=url,
        started_at=started_at,
        partner_id=partner.id if partner is not None else None,
        duration_ms=duration_ms,
        status=status,
        request_body=request_kept,
        response_body=response_kept,
        request_id=ids.request_id if ids else None,
        correlation_id=ids.correlation_id if ids else None,
        secrets=(auth.token,) if auth is not None else (),
        module=module,
        object_id=_object_id(request.path_params),
    ), True
