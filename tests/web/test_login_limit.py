"""Failed logins are limited per client address, with a retry time."""

from __future__ import annotations

from cluster.web.login_limit import LoginLimiter, retry_after_header

from .harness import ManualClock


def limiter(clock: ManualClock, **kwargs) -> LoginLimiter:
    return LoginLimiter(**{"allowed": 3, "window_s": 60.0, "clock": clock, **kwargs})


def test_an_address_may_fail_allowed_times_then_must_wait() -> None:
    clock = ManualClock()
    limit = limiter(clock)
    for attempt in range(3):
        assert limit.retry_after("10.0.0.1") is None, f"attempt {attempt + 1} of 3 must be allowed"
        limit.failed("10.0.0.1")
        clock.advance(5)
    wait = limit.retry_after("10.0.0.1")
    assert wait == 45.0, f"the 4th attempt must wait until the first failure is 60 s old, got {wait}"


def test_the_limit_lifts_when_the_oldest_failure_leaves_the_window() -> None:
    clock = ManualClock()
    limit = limiter(clock)
    for _ in range(3):
        limit.failed("10.0.0.1")
    clock.advance(60)
    assert limit.retry_after("10.0.0.1") is None, "failures older than the window must not count"


def test_other_addresses_are_not_limited() -> None:
    limit = limiter(ManualClock())
    for _ in range(3):
        limit.failed("10.0.0.1")
    assert limit.retry_after("10.0.0.2") is None, "one address's failures must not lock out another"


def test_a_successful_login_clears_the_addresss_failures() -> None:
    limit = limiter(ManualClock())
    limit.failed("10.0.0.1")
    limit.failed("10.0.0.1")
    limit.succeeded("10.0.0.1")
    limit.failed("10.0.0.1")
    limit.failed("10.0.0.1")
    assert limit.retry_after("10.0.0.1") is None, "failures before a success must be forgotten"


def test_memory_is_bounded_by_max_addresses() -> None:
    limit = limiter(ManualClock(), max_addresses=100)
    for i in range(1000):
        limit.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(limit._failures) == 100, "at most max_addresses addresses may be tracked"


def test_retry_after_header_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.0) == "1", "never 0: the client would retry at once"
    assert retry_after_header(44.2) == "45", "rounded up"
