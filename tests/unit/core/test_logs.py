"""Structured logs: JSON lines or readable text, fields and message ids on every record, no
secret in any form (``ocpikit.core.logs``)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ocpikit.core.logs import EXCHANGE_LOGGER, MESSAGE_IDS, configure_logging, event, scrub
from ocpikit.operations.exchange_log import log_exchange
from ocpikit.protocol.ports import Exchange, ExchangeDirection

TOKEN = "c-8d9e0f1a-we-give-partner-CCCC"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = configure_logging("json", stream=out, exchanges=True)
    yield out
    logging.getLogger().removeHandler(handler)


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_carry_fields_and_the_request_ids(stream: io.StringIO) -> None:
    log = logging.getLogger("ocpikit.test")
    token = MESSAGE_IDS.set(("req-1", "corr-1"))
    try:
        event(log, logging.INFO, "step done", task="sweep", entries=3, skipped=None)
    finally:
        MESSAGE_IDS.reset(token)
    log.warning("plain %s", "message")
    first, second = _lines(stream)
    assert first["message"] == "step done" and first["level"] == "info"
    assert first["logger"] == "ocpikit.test"
    assert first["task"] == "sweep" and first["entries"] == 3 and "skipped" not in first
    assert first["request_id"] == "req-1" and first["correlation_id"] == "corr-1"
    assert str(first["time"]).endswith("Z") and str(first["time"])[10] == "T"
    assert second["message"] == "plain message" and "request_id" not in second


def test_one_event_per_exchange_with_its_ids_and_never_its_secrets(stream: io.StringIO) -> None:
    log_exchange(
        Exchange(
            direction=ExchangeDirection.OUTBOUND,
            method="PUT",
            url=f"https://partner.example/ocpi/2.2.1/sessions/NL/CPO/S1?token={TOKEN}",
            started_at=datetime(2026, 1, 1, tzinfo=UTC),
            partner_id="DE-MSP",
            status=201,
            ocpi_status=1000,
            duration_ms=12.3456,
            request_headers=(("Authorization", f"Token {TOKEN}"),),
            request_body=b'{"token": "' + TOKEN.encode() + b'"}',
            request_id="r-9",
            correlation_id="c-9",
            module="sessions",
            object_id="S1",
            secrets=(TOKEN,),
        )
    )
    [line] = _lines(stream)
    assert line["message"] == "out PUT https://partner.example/ocpi/2.2.1/sessions/NL/CPO/S1 201"
    assert line["partner"] == "DE-MSP" and line["module"] == "sessions"
    assert line["object_id"] == "S1" and line["status"] == 201 and line["duration_ms"] == 12.35
    assert line["request_id"] == "r-9" and line["correlation_id"] == "c-9"
    assert TOKEN not in stream.getvalue()


def test_a_failed_exchange_is_a_warning(stream: io.StringIO) -> None:
    log_exchange(
        Exchange(
            direction=ExchangeDirection.OUTBOUND,
            method="GET",
            url="https://partner.example/ocpi/versions",
            started_at=datetime(2026, 1, 1, tzinfo=UTC),
            error="TransportError: Unable to reach the partner (ConnectError)",
        )
    )
    [line] = _lines(stream)
    assert line["level"] == "warning" and "no answer" in str(line["message"])


def test_what_looks_like_a_credential_is_scrubbed(stream: io.StringIO) -> None:
    log = logging.getLogger("ocpikit.test")
    log.error("sent Authorization: Token %s", TOKEN)
    log.error("header", extra={"fields": {"auth": f"Bearer {TOKEN}"}})
    try:
        raise ValueError(f'{{"token": "{TOKEN}"}}')
    except ValueError:
        log.exception("failed")
    assert TOKEN not in stream.getvalue()
    assert stream.getvalue().count("[REDACTED]") >= 3
    assert scrub("nothing to see") == "nothing to see"
    assert scrub("GET /x?token=abcdef&y=1") == "GET /x?token=[REDACTED]&y=1"


def test_text_is_the_readable_default() -> None:
    out = io.StringIO()
    handler = configure_logging(stream=out)
    try:
        event(logging.getLogger("ocpikit.test"), logging.INFO, "hello", partner="DE-MSP")
    finally:
        logging.getLogger().removeHandler(handler)
    line = out.getvalue().strip()
    assert line.endswith("INFO ocpikit.test: hello partner=DE-MSP")
    assert line[:4].isdigit() and "Z INFO" in line


def test_a_second_configuration_replaces_the_first_and_leaves_others() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    first = configure_logging(stream=io.StringIO())
    second = configure_logging("json", stream=io.StringIO())
    try:
        assert first not in root.handlers and second in root.handlers
        assert all(h in root.handlers for h in before)
    finally:
        root.removeHandler(second)
    with pytest.raises(ValueError, match="log format"):
        configure_logging("xml")


def test_exchange_events_can_be_left_out_but_not_failures() -> None:
    out = io.StringIO()
    handler = configure_logging("json", stream=out, exchanges=False)
    try:
        for status in (200, None):
            log_exchange(
                Exchange(
                    direction=ExchangeDirection.INBOUND,
                    method="GET",
                    url="http://us.example/ocpi/versions",
                    started_at=datetime(2026, 1, 1, tzinfo=UTC),
                    status=status,
                )
            )
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger(EXCHANGE_LOGGER).setLevel(logging.NOTSET)  # on again
    assert [line["level"] for line in _lines(out)] == ["warning"]


def test_logging_and_metrics_settings(tmp_path: Path) -> None:
    from ocpikit.server.settings import ConfigError, load_settings

    config = tmp_path / "ocpikit.toml"
    config.write_text(
        '[logging]\nformat = "json"\nlevel = "warning"\nexchanges = false\n'
        "[metrics]\npublic = true\n"
    )
    s = load_settings(config, environ={}, cwd=tmp_path)
    assert (s.log_format, s.log_level, s.log_exchanges, s.metrics_public) == (
        "json",
        "warning",
        False,
        True,
    )
    s = load_settings(config, environ={"OCPIKIT_LOG_FORMAT": "text"}, cwd=tmp_path)
    assert s.log_format == "text"
    config.write_text("")
    s = load_settings(config, environ={}, cwd=tmp_path)
    assert (s.log_format, s.log_level, s.log_exchanges, s.metrics_public) == (
        "text",
        "info",
        False,
        False,
    )
    config.write_text('[logging]\nformat = "xml"\n')
    with pytest.raises(ConfigError, match=r"logging\.format"):
        load_settings(config, environ={}, cwd=tmp_path)
    config.write_text("[metrics]\npublic = 3\n")
    with pytest.raises(ConfigError, match="public"):
        load_settings(config, environ={}, cwd=tmp_path)
