"""The Redis state store answers exactly like the in-memory one, alone and shared by many
workers, and fails fast and recovers when Redis goes away.

Against the machine's Redis (127.0.0.1:6379; skipped with the reason when it does not
answer), each test under its own key prefix, deleting only its own keys; the outage tests
run a private ``redis-server`` on a free port.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudguard.exceptions import StateStoreError
from fraudguard.features.redis_store import RedisStateStore, redis_store_from_url
from fraudguard.features.store import InMemoryStateStore, Observation, make_store
from fraudguard.features.velocity import VelocityFeatures
from tests.features.redis_support import free_port, private_redis, shared_redis_url, unique_prefix
from tests.features.test_velocity import KEY, SMALL, US, assert_same, realistic_frame

pytestmark = pytest.mark.integration

WINDOWS = {"windows_s": (60, 600), "first_seen_ttl_s": 1200}
T = 1_800_000_000 * US


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A URL with a fresh key prefix on the shared Redis; the prefix's keys are deleted after."""
    url = f"{shared_redis_url()}?key_prefix={unique_prefix()}"
    yield url
    cleanup = redis_store_from_url(url)
    cleanup.delete_all()
    cleanup.client.close()


def redis_store(url: str, **config: Any) -> RedisStateStore:
    store = make_store(url, **config)
    assert isinstance(store, RedisStateStore)
    return store


# Observations for one key keep their shape: entity decides windowed and counterparts.
_SHAPES = {"a": (True, 2), "b": (True, 1), "c": (False, 0), "d": (True, 0)}


@st.composite
def observation_batches(draw: st.DrawFn) -> list[list[Observation]]:
    """Events (lists of observations of distinct keys) in arrival order; times mostly
    increase, some arrive late (up to the widest window and beyond), many tie."""
    n = draw(st.integers(1, 60))
    clock = T
    batches = []
    for _ in range(n):
        clock += draw(st.sampled_from([0, 0, 1, 10 * US, 59 * US, 60 * US, 61 * US, 700 * US]))
        entities = draw(st.lists(st.sampled_from(sorted(_SHAPES)), min_size=1, unique=True))
        batch = []
        for entity in entities:
            windowed, n_parts = _SHAPES[entity]
            late = draw(st.sampled_from([0, 0, 0, 1, 30 * US, 600 * US, 1300 * US]))
            parts = tuple(draw(st.sampled_from([None, "x", "y", "z:1"])) for _ in range(n_parts))
            key = f"{entity}:{draw(st.integers(0, 3))}"
            batch.append(
                Observation(key, clock - late, draw(st.integers(0, 10_000)), parts, windowed)
            )
        batches.append(batch)
    return batches


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=observation_batches())
def test_redis_answers_like_the_in_memory_store(batches: list[list[Observation]]) -> None:
    url = f"{shared_redis_url()}?key_prefix={unique_prefix()}"
    store = redis_store(url, **WINDOWS)
    reference = InMemoryStateStore(**WINDOWS)
    try:
        for batch in batches:
            assert store.observe(batch) == reference.observe(batch)
    finally:
        store.delete_all()
        store.client.close()


@pytest.mark.parametrize("config", [{}, SMALL], ids=["defaults", "small-windows"])
def test_velocity_features_on_redis_equal_the_batch_path(
    redis_url: str, config: dict[str, Any]
) -> None:
    frame = realistic_frame(3_000, seed=17)
    features = VelocityFeatures(KEY, **config)
    store = features.new_store(redis_url)
    assert isinstance(store, RedisStateStore)
    ordered = frame.sort_values("event_time", kind="stable")
    rows = [features.transform_one(row, store) for row in ordered.to_dict("records")]
    online = pd.DataFrame(rows, index=ordered.index, columns=list(features.names()))
    assert_same(online, features.transform_many(frame).loc[ordered.index])
    assert online["vel_payer_count_24h" if not config else "vel_payer_count_10m"].max() > 3
    # Every key lives under the prefix and expires.
    client = store.client
    keys = list(client.scan_iter(match=store.key_prefix + "*", count=1000))
    assert keys
    assert all(client.pttl(k) > 0 for k in keys[:200])


def test_workers_sharing_redis_equal_one_process(redis_url: str) -> None:
    """Four workers, each with its own connection, take the events in turns in one global
    order (worker i scores events i, i+4, ...; event k starts after event k-1 is answered):
    every answer equals one in-memory store's over the same sequence."""
    frame = realistic_frame(2_000, seed=23)
    features = VelocityFeatures(KEY)
    rows = frame.sort_values("event_time", kind="stable").to_dict("records")
    expected_store = features.new_store()
    expected = [features.transform_one(row, expected_store) for row in rows]

    n_workers = 4
    turn = threading.Condition()
    state = {"next": 0}
    answers: list[dict[str, Any] | None] = [None] * len(rows)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        store = features.new_store(redis_url)  # its own client, as another process would
        try:
            for k in range(index, len(rows), n_workers):
                with turn:
                    turn.wait_for(lambda k=k: state["next"] == k)
                answers[k] = features.transform_one(rows[k], store)
                with turn:
                    state["next"] = k + 1
                    turn.notify_all()
        except BaseException as error:  # surfaced below
            errors.append(error)
            with turn:
                state["next"] = len(rows)
                turn.notify_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    names = list(features.names())
    got = pd.DataFrame(answers, columns=names)
    assert_same(got, pd.DataFrame(expected, columns=names).astype(got.dtypes.to_dict()))


def test_concurrent_workers_lose_no_events(redis_url: str) -> None:
    """Free-running workers on one key: every event is counted exactly once (atomic)."""
    n_workers, per_worker = 6, 150
    counts: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        store = redis_store(redis_url, windows_s=(600,), first_seen_ttl_s=600)
        for _ in range(per_worker):
            (stats,) = store.observe([Observation("hot", T, 100, ("m",))])
            with lock:
                counts.append(stats.counts[0])

    threads = [threading.Thread(target=worker) for _ in range(n_workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    total = n_workers * per_worker
    # Each observation saw the ones recorded before it: 0, 1, ..., total - 1, once each.
    assert sorted(counts) == list(range(total))
    store = redis_store(redis_url, windows_s=(600,), first_seen_ttl_s=600)
    (last,) = store.observe([Observation("hot", T, 100, ("m",))])
    assert last.counts == (total,)
    assert last.sums_fen == (100 * total,)
    assert last.distinct == ((1,),)


def test_an_unreachable_redis_fails_fast_and_names_no_secret() -> None:
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0?socket_connect_timeout=0.2"
    store = redis_store(url)
    observation = [Observation("payer:1", T, 100, ("m",))]
    with pytest.raises(StateStoreError) as caught:
        store.observe(observation)
    assert "s3cret" not in str(caught.value)
    assert not store.available


def _drain(listener: socket.socket) -> int:
    """Connections the kernel completed on ``listener`` since the last drain."""
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def test_an_open_breaker_fails_without_a_connection_attempt() -> None:
    # A server that accepts connections and never answers: each attempt is counted by the
    # kernel's backlog whether or not anything calls accept(), so no timing is involved.
    with socket.create_server(("127.0.0.1", 0), backlog=128) as listener:
        listener.setblocking(False)
        port = listener.getsockname()[1]
        store = redis_store(f"redis://127.0.0.1:{port}/0?socket_timeout=0.2&retry_after_s=3600")
        observation = [Observation("payer:1", T, 100, ("m",))]
        with pytest.raises(StateStoreError):
            store.observe(observation)
        assert _drain(listener) >= 1  # the first call did try the server
        for _ in range(50):
            with pytest.raises(StateStoreError):
                store.observe(observation)
        assert _drain(listener) == 0  # the breaker answered all fifty itself
        assert not store.available


def test_recovers_when_redis_comes_back(tmp_path: Path) -> None:
    with private_redis(tmp_path) as server:
        store = redis_store(f"{server.url}?retry_after_s=0.2", **WINDOWS)
        reference = InMemoryStateStore(**WINDOWS)
        first = [Observation("payer:1", T, 100, ("m",))]
        assert store.observe(first) == reference.observe(first)
        server.stop()
        with pytest.raises(StateStoreError):
            store.observe([Observation("payer:1", T + US, 100, ("m",))])
        assert not store.available
        server.start()  # an empty server: the script is loaded again, state starts over
        time.sleep(0.25)
        assert store.available
        fresh = InMemoryStateStore(**WINDOWS)
        again = [Observation("payer:1", T + 2 * US, 100, ("n",))]
        assert store.observe(again) == fresh.observe(again)
        store.client.close()


def test_keys_expire_and_deleting_touches_only_the_prefix(redis_url: str) -> None:
    store = redis_store(redis_url, **WINDOWS)
    other = redis_store(f"{shared_redis_url()}?key_prefix={unique_prefix()}", **WINDOWS)
    try:
        store.observe([Observation("payer:1", T, 100, ("m",))])
        other.observe([Observation("payer:1", T, 100, ("m",))])
        ttl_ms = store.client.pttl(f"{store.key_prefix}s:payer:1")
        log_ms = store.client.pttl(f"{store.key_prefix}l:payer:1")
        assert 1200_000 < ttl_ms <= (1200 + 3600) * 1000
        assert 600_000 < log_ms <= (600 + 3600) * 1000
        assert store.delete_all() >= 3
        assert not list(store.client.scan_iter(match=store.key_prefix + "*"))
        assert list(other.client.scan_iter(match=other.key_prefix + "*"))
    finally:
        other.delete_all()
