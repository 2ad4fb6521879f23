"""Token buckets per connection and failed-authentication windows per address."""

from __future__ import annotations

from ocpikit.protocol.rate_limit import FailureWindow, KeyedBuckets, TokenBucket, retry_after


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(rate=2, burst=3)
    assert [bucket.take(0.0) for _ in range(3)] == [None, None, None]
    wait = bucket.take(0.0)
    assert wait is not None and abs(wait - 0.5) < 1e-9
    assert bucket.take(0.5) is None  # refilled one token in half a second
    assert bucket.take(0.5) is not None
    assert [bucket.take(100.0) for _ in range(4)][:3] == [None, None, None]  # never above burst


def test_buckets_are_per_key_bounded_and_can_be_off() -> None:
    buckets = KeyedBuckets(rate=1, burst=1, max_keys=2)
    assert buckets.take("a", 0) is None and buckets.take("a", 0) is not None
    assert buckets.take("b", 0) is None
    buckets.take("c", 0)  # "a" is the least recently used: forgotten
    assert buckets.take("a", 0) is None
    off = KeyedBuckets(rate=0, burst=1)
    assert all(off.take("a", 0) is None for _ in range(1000))


def test_failed_authentications_block_an_address_for_the_window() -> None:
    window = FailureWindow(max_failures=3, window=60)
    for t in (0.0, 1.0, 2.0):
        assert window.blocked("10.0.0.1", t) is None
        window.failed("10.0.0.1", t)
    assert window.blocked("10.0.0.1", 3.0) == 57.0
    assert window.blocked("10.0.0.2", 3.0) is None
    assert window.blocked("10.0.0.1", 60.5) is None  # the first failure left the window
    assert FailureWindow(0, 60).blocked("x", 0) is None


def test_retry_after_is_whole_seconds() -> None:
    assert retry_after(0.01) == "1" and retry_after(2.2) == "3"
