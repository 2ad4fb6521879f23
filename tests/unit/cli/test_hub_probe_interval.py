"""``[hub] probe_interval``: seconds between the hub's probes (0: off; default 10); anything
else is a configuration error naming the key, not a silent default."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ocpikit.cli.flows import hub_probe_interval
from ocpikit.server.settings import ConfigError, load_settings


@pytest.mark.parametrize(("value", "expected"), [(None, 10.0), (0, 0.0), (2.5, 2.5)])
def test_the_interval(value: object, expected: float) -> None:
    extra = {} if value is None else {"hub": {"probe_interval": value}}
    settings = dataclasses.replace(load_settings(environ={}, cwd=Path("/nonexistent")), extra=extra)
    assert hub_probe_interval(settings) == expected


@pytest.mark.parametrize("value", [-1, "10", True])
def test_a_bad_interval_is_refused_naming_the_key(value: object) -> None:
    settings = dataclasses.replace(
        load_settings(environ={}, cwd=Path("/nonexistent")),
        extra={"hub": {"probe_interval": value}},
    )
    with pytest.raises(ConfigError, match=r"hub\.probe_interval"):
        hub_probe_interval(settings)
