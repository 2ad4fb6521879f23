"""What a worker of ``ocpikit serve --workers N`` is started with: the same options without the
group size and without what the supervisor did once (the demo data, a fresh invitation)."""

from __future__ import annotations

from ocpikit.cli.workers import child_argv


def test_workers_get_the_options_but_not_the_group_size_or_the_one_off_steps() -> None:
    argv = ["--port", "9000", "--workers", "4", "--demo", "--invite", "--base-url", "http://x"]
    assert child_argv(argv) == ["--port", "9000", "--base-url", "http://x"]
    assert child_argv(["--workers=3", "--no-worker"]) == ["--no-worker"]
