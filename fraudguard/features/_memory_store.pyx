# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# cython: cdivision=True, infer_types=True
"""The embedded velocity store, compiled: :class:`InMemoryStateStore`.

Compiled because it is the largest stage of the online path (every order observes up to
six keys); the contract it keeps is in :mod:`fraudguard.features.store`, and the tests hold
it equal to the batch computation and to the Redis store. Per key it keeps C integers
(times, amounts, window cursors and sums) and Python objects only where values are
strings (keys, counterparts).
"""

import threading
from collections import OrderedDict

from cpython.list cimport PyList_GET_ITEM
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.tuple cimport PyTuple_GET_ITEM
from libc.stdint cimport int64_t
from libc.string cimport memmove

from fraudguard.exceptions import ConfigError, FieldProblem

cdef int64_t _US = 1_000_000
#: Dead log entries tolerated before compacting a key's log (amortises the move).
cdef Py_ssize_t _COMPACT_AFTER = 32
cdef Py_ssize_t _FIRST_CAPACITY = 4

# fraudguard.features.store defines the contract (answer types, defaults, window check)
# once; it hands itself to this module with _bind.
cdef object _contract = None
cdef object _WindowStats = None
cdef object _new_stats = tuple.__new__
cdef object _UNWINDOWED_NEW = None


def _bind(contract):
    """Give this module the store contract's module (called once, by
    :mod:`fraudguard.features.store`)."""
    global _contract, _WindowStats, _UNWINDOWED_NEW
    _contract = contract
    _WindowStats = contract.WindowStats
    _UNWINDOWED_NEW = _new_stats(_WindowStats, ((), (), (), None))


cdef class _Seen:
    """First-seen record of a key: times only, so the garbage collector never tracks it."""

    cdef int64_t first
    cdef int64_t newest


cdef class _Series:
    """Event log of one key with one incremental cursor per window.

    Events are numbered in arrival order (``seq``); ``base`` is the seq of the oldest one
    held. ``counters`` holds, for ``W`` windows, the first seq still inside each window
    (``[w]``), the sum in each window (``[W + w]``) and the distinct count of each
    counterpart in each window (``[2W + c*W + w]``). ``last[c][value]`` is the seq of the
    newest event carrying that counterpart value: the value is inside window ``w`` exactly
    when that event is, so distinct counts move by +1/-1 as events enter and leave
    (amortised O(1) per event).
    """

    cdef int64_t* times
    cdef int64_t* fens
    cdef list parts  # counterparts of each held event (only with counterparts)
    cdef Py_ssize_t held_count, capacity
    cdef int64_t base
    cdef int n_windows, n_counterparts
    cdef int64_t* counters
    cdef list last

    def __cinit__(self, int n_windows, int n_counterparts):
        self.n_windows = n_windows
        self.n_counterparts = n_counterparts
        self.capacity = _FIRST_CAPACITY
        self.times = <int64_t*>PyMem_Malloc(self.capacity * sizeof(int64_t))
        self.fens = <int64_t*>PyMem_Malloc(self.capacity * sizeof(int64_t))
        cdef Py_ssize_t size = n_windows * (2 + n_counterparts)
        self.counters = <int64_t*>PyMem_Malloc(size * sizeof(int64_t))
        if not self.times or not self.fens or not self.counters:
            raise MemoryError()
        cdef Py_ssize_t i
        for i in range(size):
            self.counters[i] = 0
        self.parts = []
        self.last = [{} for _ in range(n_counterparts)]
        self.held_count = 0
        self.base = 0

    def __dealloc__(self):
        PyMem_Free(self.times)
        PyMem_Free(self.fens)
        PyMem_Free(self.counters)

    @property
    def events(self):
        """The events held (time, amount in fen, counterparts), dead ones included."""
        return [
            (self.times[i], self.fens[i], self.parts[i] if self.n_counterparts else ())
            for i in range(self.held_count)
        ]

    cdef inline int64_t newest(self):
        return self.times[self.held_count - 1]

    cdef Py_ssize_t held(self):
        """Events still inside the widest window."""
        return self.held_count - (self.counters[self.n_windows - 1] - self.base)

    cdef tuple observe(self, int64_t ts, int64_t fen, tuple counterparts,
                       const int64_t* widths):
        cdef int n = self.n_windows
        cdef int n_parts = self.n_counterparts
        if len(counterparts) != n_parts:
            raise ValueError(
                f"observation has {len(counterparts)} counterparts, "
                f"this key was recorded with {n_parts}"
            )
        cdef int64_t* counters = self.counters
        cdef int64_t base = self.base
        cdef int64_t end = base + self.held_count  # seq of this event
        cdef int64_t start, edge, previous_seq
        cdef int w, c
        cdef tuple parts_j
        cdef dict last
        cdef object value, previous
        # Narrowest first: the widest window's pass also forgets values for good, after
        # the narrower windows have looked them up.
        for w in range(n):
            start = counters[w]
            edge = ts - widths[w]
            while start < end:
                if self.times[start - base] > edge:
                    break
                counters[n + w] -= self.fens[start - base]
                if n_parts:
                    parts_j = <tuple>PyList_GET_ITEM(self.parts, start - base)
                    for c in range(n_parts):
                        value = <object>PyTuple_GET_ITEM(parts_j, c)
                        if value is not None:
                            last = <dict>PyList_GET_ITEM(self.last, c)
                            if <int64_t>last[value] == start:
                                counters[(2 + c) * n + w] -= 1
                                if w == n - 1:
                                    del last[value]
                start += 1
            counters[w] = start
        cdef list counts = [None] * n
        cdef list sums = [None] * n
        for w in range(n):
            counts[w] = end - counters[w]
            sums[w] = counters[n + w]
        cdef list distinct = [None] * n_parts
        cdef list one
        for c in range(n_parts):
            one = [None] * n
            for w in range(n):
                one[w] = counters[(2 + c) * n + w]
            distinct[c] = tuple(one)
        answer = (tuple(counts), tuple(sums), tuple(distinct))
        self._append(ts, fen, counterparts)
        for w in range(n):
            counters[n + w] += fen
        for c in range(n_parts):
            value = <object>PyTuple_GET_ITEM(counterparts, c)
            if value is None:
                continue
            last = <dict>PyList_GET_ITEM(self.last, c)
            previous = last.get(value)
            previous_seq = -1 if previous is None else <int64_t>previous
            for w in range(n):
                if previous_seq < counters[w]:
                    counters[(2 + c) * n + w] += 1
            last[value] = end
        cdef Py_ssize_t dead = counters[n - 1] - self.base
        if dead > _COMPACT_AFTER and 2 * dead > self.held_count:
            self._compact(dead)
        return answer

    cdef void _append(self, int64_t ts, int64_t fen, tuple counterparts) except *:
        cdef int64_t* grown
        if self.held_count == self.capacity:
            self.capacity *= 2
            grown = <int64_t*>PyMem_Realloc(self.times, self.capacity * sizeof(int64_t))
            if not grown:
                raise MemoryError()
            self.times = grown
            grown = <int64_t*>PyMem_Realloc(self.fens, self.capacity * sizeof(int64_t))
            if not grown:
                raise MemoryError()
            self.fens = grown
        self.times[self.held_count] = ts
        self.fens[self.held_count] = fen
        if self.n_counterparts:
            self.parts.append(counterparts)
        self.held_count += 1

    cdef void _compact(self, Py_ssize_t dead) except *:
        cdef Py_ssize_t kept = self.held_count - dead
        memmove(self.times, self.times + dead, kept * sizeof(int64_t))
        memmove(self.fens, self.fens + dead, kept * sizeof(int64_t))
        if self.n_counterparts:
            del self.parts[:dead]
        self.held_count = kept
        self.base += dead


cdef class InMemoryStateStore:
    """The embedded store: one process, thread-safe, bounded.

    Memory stays bounded three ways: a key's events older than the longest window are
    dropped as the key is observed, and a sweep after every call drops whole keys that
    went quiet (their events left the longest window, or they have been idle for the
    first-seen TTL); the number of keys is capped, evicting the least recently seen.
    Store time is the newest event time observed before the call, so replaying history
    behaves exactly like live traffic. Expiry is a rule, not a side effect of the sweep
    (the Redis store applies the same rule): a key whose newest event is at least the
    longest window behind store time is answered as if its log were empty, and one idle
    for the TTL behind store time (or behind the event) is new. So an event arriving more
    than the longest window late may see less than a batch computation would, and one
    event dated far in the future would expire every key: callers must refuse event times
    well ahead of the wall clock. Evicting under the cap is the one way this store forgets
    early (an evicted key looks new again): size ``max_keys`` above the keys active within
    the TTL. A single key's log grows with its events inside the longest window, which is
    why hot keys such as platforms are observed with ``windowed=False``.

    """

    cdef tuple _windows_s
    cdef int _first_seen_ttl_s
    cdef int64_t* _widths
    cdef int _n_windows
    cdef int64_t _widest_us, _ttl_us
    cdef Py_ssize_t _max_keys
    # Both in least-recently-seen order: the sweep and LRU eviction pop from the front.
    cdef readonly object _seen  # key -> _Seen
    cdef readonly object _series  # key -> _Series, or a lone event (time, fen, parts)
    cdef bint _has_clock
    cdef int64_t _clock
    cdef tuple _zeros
    cdef dict _new_answers
    cdef object _lock

    def __cinit__(self):
        self._widths = NULL

    def __init__(
        self,
        *,
        windows_s=None,
        first_seen_ttl_s=None,
        max_keys=None,
    ):
        """Defaults: the store contract's ``DEFAULT_WINDOWS_S``, ``DEFAULT_FIRST_SEEN_TTL_S``
        and ``DEFAULT_MAX_KEYS``."""
        if windows_s is None:
            windows_s = _contract.DEFAULT_WINDOWS_S
        if first_seen_ttl_s is None:
            first_seen_ttl_s = _contract.DEFAULT_FIRST_SEEN_TTL_S
        if max_keys is None:
            max_keys = _contract.DEFAULT_MAX_KEYS
        self._windows_s = _contract.check_horizons(windows_s, first_seen_ttl_s)
        if max_keys < 1:
            raise ConfigError(
                "invalid state store size", [FieldProblem("max_keys", "must be at least 1")]
            )
        self._first_seen_ttl_s = first_seen_ttl_s
        self._n_windows = len(self._windows_s)
        self._widths = <int64_t*>PyMem_Malloc(self._n_windows * sizeof(int64_t))
        if not self._widths:
            raise MemoryError()
        cdef int w
        for w in range(self._n_windows):
            self._widths[w] = <int64_t>self._windows_s[w] * _US
        self._widest_us = self._widths[self._n_windows - 1]
        self._ttl_us = <int64_t>first_seen_ttl_s * _US
        self._max_keys = max_keys
        self._seen = OrderedDict()
        self._series = OrderedDict()
        self._has_clock = False
        self._clock = 0
        # Answers are immutable: a new key's all-zero answer is shared, not rebuilt.
        self._zeros = (0,) * self._n_windows
        self._new_answers = {}
        self._lock = threading.Lock()

    def __dealloc__(self):
        PyMem_Free(self._widths)

    @property
    def windows_s(self):
        """Window widths in seconds, increasing."""
        return self._windows_s

    @property
    def first_seen_ttl_s(self):
        """Idle time after which a key is forgotten."""
        return self._first_seen_ttl_s

    def __len__(self):
        """Keys tracked (at most ``max_keys``)."""
        return len(self._seen)

    def size(self):
        """Keys, windowed keys and the events their logs hold (a ``StoreSize``)."""
        cdef Py_ssize_t events = 0
        with self._lock:
            for state in self._series.values():
                events += 1 if isinstance(state, tuple) else (<_Series>state).held()
            return _contract.StoreSize(len(self._seen), len(self._series), events)

    def observe(self, observations):
        """Answer, then record, every observation of one event, atomically."""
        if not observations:
            return []
        cdef list answers = []
        cdef int64_t newest = 0
        cdef bint first = True
        cdef int64_t ts
        with self._lock:
            for observation in observations:
                answers.append(self._observe(observation))
                ts = observation[1]
                if first or ts > newest:
                    newest = ts
                    first = False
            # A clamped time never exceeds the clock, so the raw times move it as far.
            if not self._has_clock or newest > self._clock:
                self._clock = newest
            self._has_clock = True
            self._sweep()
            return answers

    cdef object _observe(self, observation):
        key, ts_object, fen_object, parts, windowed = observation
        if type(parts) is not tuple:
            parts = tuple(parts)
        cdef int64_t ts = ts_object
        cdef int64_t fen = fen_object
        cdef object seen_keys = self._seen
        cdef _Seen seen = seen_keys.get(key)
        cdef int64_t horizon = ts if not self._has_clock or ts > self._clock else self._clock
        cdef object age
        if seen is not None and seen.newest <= horizon - self._ttl_us:
            # Idle past the TTL: forget now rather than wait for the sweep to reach it.
            self._drop(key)
            seen = None
        if seen is None:
            age = None
            seen = _Seen.__new__(_Seen)
            seen.first = ts
            seen.newest = ts
            seen_keys[key] = seen
            if len(seen_keys) > self._max_keys:
                self._drop(next(iter(seen_keys)))
        else:
            if ts < seen.newest:
                ts = seen.newest  # out of order: clamp up (store module docstring)
            age = ts - seen.first
            seen.newest = ts
            seen_keys.move_to_end(key)
        if not windowed:
            return _UNWINDOWED_NEW if age is None else _new_stats(_WindowStats, ((), (), (), age))
        logs = self._series
        state = logs.get(key)
        cdef int64_t state_newest
        if state is not None and self._has_clock:
            if isinstance(state, tuple):
                state_newest = (<tuple>state)[0]
            else:
                state_newest = (<_Series>state).newest()
            if state_newest <= self._clock - self._widest_us:
                # Out of every window at store time: gone, whether or not the sweep got to it.
                del logs[key]
                state = None
        cdef _Series series
        cdef tuple lone
        if state is None:
            # Most keys have a single event in the window: keep it as a bare tuple (which
            # the garbage collector stops tracking) and build a log on the second event.
            logs[key] = (ts, fen, parts)
            if age is None:
                return self._empty(len(parts))
            return _new_stats(_WindowStats, (*self._empty(len(parts))[:3], age))
        logs.move_to_end(key)
        if isinstance(state, tuple):
            lone = <tuple>state
            series = _Series(self._n_windows, len(<tuple>lone[2]))
            logs[key] = series
            series.observe(lone[0], lone[1], lone[2], self._widths)
        else:
            series = <_Series>state
        return _new_stats(_WindowStats, (*series.observe(ts, fen, parts, self._widths), age))

    cdef object _empty(self, Py_ssize_t n_counterparts):
        answer = self._new_answers.get(n_counterparts)
        if answer is None:
            zeros = self._zeros
            answer = _new_stats(_WindowStats, (zeros, zeros, (zeros,) * n_counterparts, None))
            self._new_answers[n_counterparts] = answer
        return answer

    cdef void _drop(self, key) except *:
        self._seen.pop(key, None)
        self._series.pop(key, None)

    cdef void _sweep(self) except *:
        # Fronts are the least recently seen keys, so this stops at the first live one:
        # O(expired keys) per call, no background thread, deterministic.
        cdef int64_t window_edge = self._clock - self._widest_us
        cdef int64_t newest
        cdef list expired = []
        for key, state in self._series.items():
            if isinstance(state, tuple):
                newest = (<tuple>state)[0]
            else:
                newest = (<_Series>state).newest()
            if newest > window_edge:
                break
            expired.append(key)
        for key in expired:
            del self._series[key]
        cdef int64_t ttl_edge = self._clock - self._ttl_us
        expired = []
        for key, seen in self._seen.items():
            if (<_Seen>seen).newest > ttl_edge:
                break
            expired.append(key)
        for key in expired:
            self._drop(key)
