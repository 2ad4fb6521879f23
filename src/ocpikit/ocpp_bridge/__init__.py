"""The OCPP bridge: an OCPP 1.6J and 2.0.1 central system endpoint (WebSocket
``/ocpp/{charge_point_id}``) that turns what charge points say into the platform's own
operations (EVSE status, token authorization, Sessions) and the OCPI commands we receive into
OCPP calls (docs/ocpp.md). Built on the ``ocpp`` library; served by ``ocpikit serve`` with
``[ocpp] enabled = true`` or by ``ocpikit ocpp serve``.

Modules: :mod:`.config` (``[ocpp]``), :mod:`.mapping` (value tables), :mod:`.readings` (energy
out of meter values), :mod:`.sessions` (transactions → Sessions), :mod:`.bridge` (the core),
:mod:`.v16` / :mod:`.v201` (the versions' messages), :mod:`.asgi` (the endpoint).
"""

from __future__ import annotations

from .config import ChargePointConfig, OcppConfig, ocpp_config

# the endpoint (``.asgi.with_ocpp``) and the core (``.bridge.Bridge``) are imported from their
# modules, so that reading ``[ocpp]`` does not load the ``ocpp`` library when it is off
__all__ = ["ChargePointConfig", "OcppConfig", "ocpp_config"]
