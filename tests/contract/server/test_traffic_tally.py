"""The traffic tally (``server/traffic_tally.py``) against the plain implementation it stands
for: prometheus_client's ``Counter`` and ``Histogram`` fed the same observations render the
same text (``_created`` values aside, which are each one's own clock reading)."""

from __future__ import annotations

import random
import re

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector

from ocpikit.server.metrics import LATENCY_BUCKETS
from ocpikit.server.traffic_tally import (
    LATENCY_HELP,
    LATENCY_LABELS,
    LATENCY_NAME,
    REQUEST_LABELS,
    REQUESTS_HELP,
    REQUESTS_NAME,
    TrafficTally,
)


class _Tally(Collector):
    def __init__(self, tally: TrafficTally) -> None:
        self.tally = tally

    def collect(self):  # type: ignore[no-untyped-def]
        yield from self.tally.collect()


def _without_created(text: bytes) -> str:
    return re.sub(r"(_created\{[^}]*\}) \S+", r"\1 T", text.decode())


def test_the_tally_renders_what_counter_and_histogram_render() -> None:
    plain = CollectorRegistry()
    counter = Counter(REQUESTS_NAME, REQUESTS_HELP, REQUEST_LABELS, registry=plain)
    histogram = Histogram(
        LATENCY_NAME, LATENCY_HELP, LATENCY_LABELS, buckets=LATENCY_BUCKETS, registry=plain
    )
    tally = TrafficTally(LATENCY_BUCKETS)
    tallied = CollectorRegistry()
    tallied.register(_Tally(tally))

    rng = random.Random(7)
    # values on the bounds, between them, past the last one, and zero
    seconds = [*LATENCY_BUCKETS, 0.0, 0.0031, 0.7, 99.0]
    for _ in range(500):
        labels = (
            rng.choice(["in", "out"]),
            rng.choice(["sessions", "locations", "-"]),
            rng.choice(["cpo", "emsp", "-", "partner"]),
            rng.choice(["200", "404", "error"]),
            rng.choice(["DE-CPO", "-", "pending"]),
        )
        counter.labels(*labels).inc()
        tally.count(labels)
        if rng.random() < 0.9:
            value = rng.choice(seconds) if rng.random() < 0.5 else rng.uniform(0, 3)
            histogram.labels(*labels[:2]).observe(value)
            tally.observe(labels[:2], value)

    assert _without_created(generate_latest(tallied)) == _without_created(generate_latest(plain))


def test_an_empty_tally_renders_what_an_unused_counter_and_histogram_render() -> None:
    plain = CollectorRegistry()
    Counter(REQUESTS_NAME, REQUESTS_HELP, REQUEST_LABELS, registry=plain)
    Histogram(LATENCY_NAME, LATENCY_HELP, LATENCY_LABELS, buckets=LATENCY_BUCKETS, registry=plain)
    tallied = CollectorRegistry()
    tallied.register(_Tally(TrafficTally(LATENCY_BUCKETS)))
    assert generate_latest(tallied) == generate_latest(plain)
