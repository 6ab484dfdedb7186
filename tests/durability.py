"""The SIGKILL harness of the durability tests: a real ``fraudguard serve`` under load from
several clients, killed mid-load, and the answers the clients got before it died."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.api.conftest import serve

__all__ = ["answered_before_sigkill"]


def answered_before_sigkill(
    env: dict[str, str],
    path: str,
    body: Callable[[int], dict[str, Any]],
    headers: dict[str, str],
    *,
    wanted: int = 150,
    prepare: Callable[[str], None] | None = None,
) -> dict[int, Any]:
    """Serve with ``env``, run ``prepare(base_url)``, then post ``body(0)``, ``body(1)``, ...
    to ``path`` from eight clients; once ``wanted`` were answered (or two minutes passed),
    SIGKILL the server with requests in flight. The JSON of every 200 answer, by ``i``."""
    answered: dict[int, Any] = {}
    lock = threading.Lock()
    numbers = iter(range(100_000))
    stop = threading.Event()

    def client(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            while not stop.is_set():
                with lock:
                    i = next(numbers)
                try:
                    response = http.post(path, json=body(i), headers=headers)
                except httpx.HTTPError:
                    continue  # the server is gone: this one was never answered
                if response.status_code == 200:
                    with lock:
                        answered[i] = response.json()

    with serve(env) as (base, process):
        if prepare is not None:
            prepare(base)
        threads = [threading.Thread(target=client, args=(base,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while len(answered) < wanted and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)  # mid-load: requests are in flight
        process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    with lock:
        return dict(answered)
