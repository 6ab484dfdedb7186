"""The circuit breaker every Redis-backed state store holds.

A connection error, a timeout or an error reply opens the breaker: for ``retry_after_s``
every call fails at once with :class:`~fraudguard.exceptions.StateStoreError` instead of
waiting on a dead server; the first call after that tries the server again, and so does
:attr:`RedisBreaker.available` (with a ``PING``). A call is never retried on its own: a
timed-out script may have run, and running it twice would count an event twice.

An outage is logged once, when the breaker opens, and once more when it closes; the log
names the store, never the URL (it may carry a password).

>>> import logging
>>> class DeadClient:
...     def ping(self) -> bool:
...         raise ConnectionError("refused")
>>> now = [0.0]
>>> breaker = RedisBreaker(
...     DeadClient(), "demo store", logging.getLogger("demo"), retry_after_s=1.0,
...     clock=lambda: now[0],
... )
>>> breaker.call(DeadClient().ping)
Traceback (most recent call last):
...
fraudguard.exceptions.StateStoreError: the demo store is unavailable
>>> breaker.check()
Traceback (most recent call last):
...
fraudguard.exceptions.StateStoreError: the demo store is unavailable (retrying shortly)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from fraudguard.exceptions import StateStoreError

__all__ = ["DEFAULT_RETRY_AFTER_S", "Pingable", "RedisBreaker"]

#: How long the breaker stays open after a failure before the next call tries again.
DEFAULT_RETRY_AFTER_S = 1.0

_T = TypeVar("_T")


class Pingable(Protocol):
    """What the breaker needs of a Redis client."""

    def ping(self, **kwargs: Any) -> Any: ...


class RedisBreaker:
    """Opens on a failed call, stays open for ``retry_after_s`` (on ``clock``, monotonic
    seconds), closes on the next call or ``PING`` that succeeds. ``name`` is the store as
    its errors and log lines call it (``velocity state store``); thread-safe."""

    def __init__(
        self,
        client: Pingable,
        name: str,
        log: logging.Logger,
        *,
        retry_after_s: float = DEFAULT_RETRY_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.name = name
        self.retry_after_s = retry_after_s
        self._log = log
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = 0.0  # clock time the breaker stays open until
        self._failed = False

    @property
    def is_open(self) -> bool:
        """Whether calls fail at once now (a failure less than ``retry_after_s`` ago)."""
        return self._failed and self._clock() < self._down_until

    @property
    def available(self) -> bool:
        """Whether the store answers: the last call's outcome, re-checked with a ``PING``
        once the retry interval has passed."""
        if not self._failed:
            return True
        if self._clock() < self._down_until:
            return False
        try:
            self.client.ping()
        except Exception as error:  # any client failure means "not available"
            self.failure(error)
            return False
        self.success()
        return True

    def check(self) -> None:
        """Raise :class:`StateStoreError` while the breaker is open."""
        if self._failed and self._clock() < self._down_until:
            raise StateStoreError(f"the {self.name} is unavailable (retrying shortly)")

    def call(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """``function(*args, **kwargs)`` once; any exception opens the breaker and is
        raised as :class:`StateStoreError` (without the client's text: it may name the
        URL). Does not check the breaker first: see :meth:`check`."""
        try:
            result = function(*args, **kwargs)
        except Exception as error:  # connection, timeout, error reply: all "store down"
            self.failure(error)
            raise StateStoreError(f"the {self.name} is unavailable") from None
        self.success()
        return result

    def failure(self, error: BaseException) -> None:
        """Open the breaker (logged once per outage, by the error's type only)."""
        with self._lock:
            if not self._failed:
                self._log.error("%s unavailable: %s", self.name, type(error).__name__)
            self._failed = True
            self._down_until = self._clock() + self.retry_after_s

    def success(self) -> None:
        """Close the breaker (logged when it was open)."""
        if not self._failed:
            return
        with self._lock:
            if self._failed:
                self._log.warning("%s available again", self.name)
            self._failed = False
