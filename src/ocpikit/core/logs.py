"""Structured logs on the standard library's ``logging`` (docs/operations.md "Logs").

- :func:`event` logs one event with named fields (``extra={"fields": {...}}``): the exchange
  log's one event per exchange, a background step's outcome.
- :data:`MESSAGE_IDS` holds the ``X-Request-ID``/``X-Correlation-ID`` of the request being
  handled; every record logged meanwhile carries them (:class:`ContextFilter`), so a failure
  deep in a handler can be found by the ids the partner saw.
- :class:`JsonFormatter` writes one JSON object per line (``[logging] format = "json"``),
  :class:`TextFormatter` a readable line with the fields as ``key=value`` (the default).
- :func:`configure_logging` installs one handler on the root logger with either.

Invariant: secrets never reach a log line. The platform never passes a token or an
``Authorization`` header to a logger, and both formatters scrub what looks like one anyway
(``Token ...``/``Bearer ...``/``Basic ...`` credentials, ``"token": "..."`` JSON fields,
``token=`` query parameters) from the message, the fields and tracebacks.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

import orjson

__all__ = [
    "EXCHANGE_LOGGER",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "MESSAGE_IDS",
    "ContextFilter",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "event",
    "scrub",
]

#: the values of ``[logging] format``
LOG_FORMATS = ("text", "json")
#: the logger of the one event per exchange (``ocpikit.operations.exchange_log``)
EXCHANGE_LOGGER = "ocpikit.exchanges"
#: the values of ``[logging] level``
LOG_LEVELS = ("debug", "info", "warning", "error")
#: ``(request_id, correlation_id)`` of the request this task is handling, if any
MESSAGE_IDS: contextvars.ContextVar[tuple[str | None, str | None] | None] = contextvars.ContextVar(
    "ocpikit_message_ids", default=None
)

_SECRET = re.compile(
    r"(?i)(\b(?:token|bearer|basic)\s+)[A-Za-z0-9._~+/=-]{4,}"
    r"|(\"(?:token|authorization)\"\s*:\s*\")[^\"]*"
    r"|([?&](?:token|access_token)=)[^&\s]+"
)
_HANDLER = "ocpikit"
_STANDARD = frozenset(vars(logging.makeLogRecord({})))
_NOT_FIELDS = frozenset({"fields", "message", "asctime"})


def scrub(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``[REDACTED]``."""
    if "oken" not in text and "earer" not in text and "asic" not in text and "uthoriz" not in text:
        return text  # the common case: nothing to look at
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "[REDACTED]", text)


def event(logger: logging.Logger, level: int, message: str, **fields: Any) -> None:
    """Log ``message`` with ``fields`` (None values left out), when ``level`` is enabled."""
    if logger.isEnabledFor(level):
        kept = {k: v for k, v in fields.items() if v is not None}
        logger.log(level, message, extra={"fields": kept})


class ContextFilter(logging.Filter):
    """Adds the current request's message ids (:data:`MESSAGE_IDS`) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = MESSAGE_IDS.get()
        if ids is not None and not hasattr(record, "request_id"):
            record.request_id, record.correlation_id = ids
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record: ``fields`` of :func:`event`, the message ids, and
    any other ``extra`` a caller passed."""
    attributes = vars(record)
    extra = attributes.keys() - _STANDARD  # a set difference in C: no loop over 25 attributes
    out = {key: attributes[key] for key in extra if key not in _NOT_FIELDS}
    given = attributes.get("fields")
    if isinstance(given, Mapping):
        out.update(given)
    return out


def _safe(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return scrub(value)
    if kind is int or kind is float or kind is bool or value is None:
        return value
    return scrub(str(value))


def _time(created: float) -> str:
    """RFC 3339 UTC with milliseconds: ``2026-01-01T10:00:00.000Z``."""
    seconds = int(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + (
        ".%03dZ" % int((created - seconds) * 1000)  # noqa: UP031 (the fastest form)
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (RFC 3339, UTC, ``Z``), ``level``, ``logger``, ``message``,
    the record's fields, and ``exception`` (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": _time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key, value in _fields(record).items():
            doc.setdefault(key, _safe(value))
        if record.exc_info:
            doc["exception"] = scrub(self.formatException(record.exc_info))
        elif record.stack_info:
            doc["stack"] = scrub(self.formatStack(record.stack_info))
        return orjson.dumps(doc, default=str).decode()


class TextFormatter(logging.Formatter):
    """``2026-01-01T10:00:00.000Z INFO ocpikit.delivery: message key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record.created)} {record.levelname} {record.name}: "
        line += scrub(record.getMessage())
        fields = " ".join(f"{k}={_safe(v)}" for k, v in _fields(record).items())
        if fields:
            line += " " + fields
        if record.exc_info:
            line += "\n" + scrub(self.formatException(record.exc_info))
        return line


def configure_logging(
    fmt: str = "text",
    *,
    level: int | str = logging.INFO,
    stream: TextIO | None = None,
    exchanges: bool = False,
) -> logging.Handler:
    """One handler on the root logger writing ``fmt`` (``text`` or ``json``) to ``stream``
    (default stderr), replacing the one an earlier call installed (others are left alone);
    ``level``: a number or one of
    :data:`LOG_LEVELS`; ``exchanges``: an event for every exchange (else only for those that
    failed, as warnings). Returns the handler."""
    if isinstance(level, str):
        level = logging.getLevelNamesMapping()[level.upper()]
    # no record asks for its process or multiprocessing name: not looked up for each one
    logging.logProcesses = logging.logMultiprocessing = False
    # alembic reports each migration with its whole docstring at INFO: only when debugging
    logging.getLogger("alembic").setLevel(
        logging.NOTSET if level <= logging.DEBUG else logging.WARNING
    )
    logging.getLogger(EXCHANGE_LOGGER).setLevel(logging.NOTSET if exchanges else logging.WARNING)
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r}: one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.set_name(_HANDLER)
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
