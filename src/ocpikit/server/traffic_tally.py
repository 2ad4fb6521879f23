"""The traffic metrics' counts, kept in plain dictionaries and turned into Prometheus metric
families only when scraped (``ocpikit_requests_total`` and ``ocpikit_request_duration_seconds``;
docs/operations.md "Metrics").

Plan: every exchange moves a counter and a histogram on the request path. prometheus_client's
``Counter`` and ``Histogram`` take a lock and walk their buckets per observation; here an
observation is two dictionary lookups, an integer increment and a bisection, and the families
are built by :meth:`TrafficTally.collect` at scrape time. The plain implementation, the
library's own ``Counter`` and ``Histogram``, is kept as the reference the tests compare the
scraped text against (``tests/contract/server/test_traffic_tally.py``).

Invariants: what :meth:`TrafficTally.collect` yields, rendered, is what a ``Counter`` with
:data:`REQUEST_LABELS` and a ``Histogram`` with :data:`LATENCY_LABELS` and the same buckets
render after the same observations (samples, labels, values, and ``_created``); label sets
appear in the order first seen. Observations come from the event loop's thread only.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

__all__ = [
    "LATENCY_HELP",
    "LATENCY_LABELS",
    "LATENCY_NAME",
    "REQUESTS_HELP",
    "REQUESTS_NAME",
    "REQUEST_LABELS",
    "TrafficTally",
]

REQUESTS_NAME = "ocpikit_requests"
REQUESTS_HELP = "OCPI requests, in (partners calling us) and out (our calls), by answer"
REQUEST_LABELS = ("direction", "module", "role", "status", "partner")
LATENCY_NAME = "ocpikit_request_duration_seconds"
LATENCY_HELP = "Time from request to answer (in: our handling; out: the partner's round trip)"
LATENCY_LABELS = ("direction", "module")


class _Latency:
    """One label set's histogram: a count per bucket (the last one ``+Inf``) and the sum."""

    __slots__ = ("counts", "created", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * (buckets + 1)
        self.total = 0.0
        self.created = time.time()


class TrafficTally:
    """Request counts by :data:`REQUEST_LABELS` and latencies by :data:`LATENCY_LABELS`."""

    def __init__(self, buckets: Sequence[float]) -> None:
        self._bounds = tuple(float(b) for b in buckets)
        self._counts: dict[tuple[str, ...], list[float]] = {}  # [count, created]
        self._latency: dict[tuple[str, str], _Latency] = {}

    def count(self, labels: tuple[str, ...]) -> None:
        """One request more with these :data:`REQUEST_LABELS` values."""
        entry = self._counts.get(labels)
        if entry is None:
            self._counts[labels] = [1, time.time()]
        else:
            entry[0] += 1

    def observe(self, labels: tuple[str, str], seconds: float) -> None:
        """One latency of ``seconds`` with these :data:`LATENCY_LABELS` values."""
        hist = self._latency.get(labels)
        if hist is None:
            hist = self._latency[labels] = _Latency(len(self._bounds))
        # a value on a bound belongs to that bound's bucket (``le``), as in prometheus_client
        hist.counts[bisect.bisect_left(self._bounds, seconds)] += 1
        hist.total += seconds

    def collect(self) -> Iterator[Metric]:
        """The two metric families as they stand (the registry's collector)."""
        requests = CounterMetricFamily(REQUESTS_NAME, REQUESTS_HELP, labels=REQUEST_LABELS)
        for labels, (value, created) in self._counts.items():
            requests.add_metric(labels, value, created=created)
        yield requests
        latency = HistogramMetricFamily(LATENCY_NAME, LATENCY_HELP, labels=LATENCY_LABELS)
        bounds = [_go(b) for b in self._bounds] + ["+Inf"]
        for labels, hist in self._latency.items():
            running, cumulative = 0, []
            for bound, n in zip(bounds, hist.counts, strict=True):
                running += n
                cumulative.append((bound, float(running)))
            latency.add_metric(labels, cumulative, hist.total)
            named = dict(zip(LATENCY_LABELS, labels, strict=True))
            latency.samples.append(Sample(f"{LATENCY_NAME}_created", named, hist.created))
        yield latency


def _go(bound: float) -> str:
    """A bucket bound as prometheus_client writes it in ``le``."""
    return str(floatToGoString(bound))  # type: ignore[no-untyped-call]
