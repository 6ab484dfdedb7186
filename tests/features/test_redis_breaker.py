"""The circuit breaker the Redis stores share: open after a failure, open for
``retry_after_s``, closed again by a successful ``PING`` or call. Time is a clock the test
moves, never a sleep."""

from __future__ import annotations

import logging

import pytest

from fraudguard.exceptions import StateStoreError
from fraudguard.features.redis_breaker import RedisBreaker

_LOG = logging.getLogger("fraudguard.test_breaker")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Server:
    """Stands in for a Redis client: answers while ``up``, counts what reached it."""

    def __init__(self) -> None:
        self.up = True
        self.calls = 0
        self.pings = 0

    def ping(self, **kwargs: object) -> bool:
        self.pings += 1
        if not self.up:
            raise ConnectionError("refused")
        return True

    def command(self) -> str:
        self.calls += 1
        if not self.up:
            raise TimeoutError("no answer")
        return "ok"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def breaker(server: Server, clock: Clock) -> RedisBreaker:
    return RedisBreaker(server, "test store", _LOG, retry_after_s=5.0, clock=clock)


def test_a_failed_call_opens_the_breaker(server: Server, breaker: RedisBreaker) -> None:
    assert breaker.call(server.command) == "ok"
    server.up = False
    with pytest.raises(StateStoreError, match=r"^the test store is unavailable$"):
        breaker.call(server.command)
    assert breaker.is_open
    assert not breaker.available
    with pytest.raises(StateStoreError, match="retrying shortly"):
        breaker.check()


def test_it_stays_open_for_the_retry_interval_without_touching_the_server(
    server: Server, breaker: RedisBreaker, clock: Clock
) -> None:
    server.up = False
    with pytest.raises(StateStoreError):
        breaker.call(server.command)
    server.up = True  # back already, but the interval has not passed
    clock.now += 4.9
    for _ in range(10):
        with pytest.raises(StateStoreError, match="retrying shortly"):
            breaker.check()
        assert not breaker.available
    assert server.pings == 0
    assert server.calls == 1


def test_a_successful_ping_after_the_interval_closes_it(
    server: Server, breaker: RedisBreaker, clock: Clock
) -> None:
    server.up = False
    with pytest.raises(StateStoreError):
        breaker.call(server.command)
    clock.now += 5.0
    assert not breaker.available  # still down: the PING fails and opens it again
    assert server.pings == 1
    clock.now += 4.0
    assert not breaker.available
    assert server.pings == 1  # reopened by the failed PING: no second one yet
    server.up = True
    clock.now += 1.0
    assert breaker.available
    assert not breaker.is_open
    breaker.check()  # closed: calls go through again
    assert breaker.call(server.command) == "ok"


def test_after_the_interval_the_next_call_tries_the_server(
    server: Server, breaker: RedisBreaker, clock: Clock
) -> None:
    server.up = False
    with pytest.raises(StateStoreError):
        breaker.call(server.command)
    server.up = True
    clock.now += 5.0
    breaker.check()
    assert breaker.call(server.command) == "ok"
    assert breaker.available
    assert server.pings == 0  # closed by the call itself


def test_an_outage_is_logged_once_by_the_store_name_only(
    server: Server, breaker: RedisBreaker, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=_LOG.name)
    server.up = False
    for _ in range(3):
        with pytest.raises(StateStoreError):
            breaker.call(server.command)
        clock.now += 5.0
    server.up = True
    assert breaker.available
    assert [r.getMessage() for r in caplog.records] == [
        "test store unavailable: TimeoutError",
        "test store available again",
    ]
