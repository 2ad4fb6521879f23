"""A simulated OCPP 1.6J / 2.0.1 charge point (``ocpikit emulate chargepoint``): see
:mod:`.simulator` and :mod:`.cli`."""

from __future__ import annotations

from .simulator import Connector, Simulator

__all__ = ["Connector", "Simulator"]
