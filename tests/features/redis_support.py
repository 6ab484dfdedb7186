"""Redis for tests: the machine's shared server (unique key prefixes, only our keys deleted)
and private ``redis-server`` processes on free ports that a test may stop and restart."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SHARED_HOST, SHARED_PORT = "127.0.0.1", 6379
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def shared_redis_url() -> str:
    """``redis://127.0.0.1:6379/0`` if the shared server answers, else the test is skipped."""
    import redis

    client = redis.Redis(host=SHARED_HOST, port=SHARED_PORT, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis on {SHARED_HOST}:{SHARED_PORT} (.ci/run starts one)")
    finally:
        client.close()
    return f"redis://{SHARED_HOST}:{SHARED_PORT}/0"


def unique_prefix() -> str:
    return f"fgtest:{uuid.uuid4().hex[:12]}:"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A private, non-persistent ``redis-server`` on a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        if not Path(REDIS_SERVER).exists():
            pytest.skip("redis-server is not installed (.ci/run installs it)")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120  # a hang guard: a loaded machine is slow
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def private_redis(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
