"""The ``ocpp`` library's ``@on(action)`` handler decorator, typed (the library has no type
information): it registers the method as the handler of ``action`` and returns it as it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ocpp.routing import on as _on

__all__ = ["on"]

F = TypeVar("F", bound=Callable[..., Any])


def on(action: str) -> Callable[[F], F]:
    decorator: Callable[[F], F] = _on(action)
    return decorator
