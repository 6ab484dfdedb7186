"""PostgreSQL for tests: a fresh, uniquely named database on the machine's server (dropped
after), a skip with the reason when there is none, and a TCP proxy a test can cut."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest

HOST, PORT = "127.0.0.1", 5432
ADMIN_URL = f"postgresql://postgres@{HOST}:{PORT}/postgres"


def unreachable() -> str | None:
    try:
        import psycopg

        psycopg.connect(ADMIN_URL, connect_timeout=2).close()
    except Exception as error:
        return f"PostgreSQL at {HOST}:{PORT} is not reachable ({type(error).__name__})"
    return None


@contextmanager
def fresh_database(port: int = PORT) -> Iterator[str]:
    """A new database ``fg_test_<random>``; yields its SQLAlchemy URL (through ``port``)."""
    reason = unreachable()
    if reason is not None:
        pytest.skip(reason)
    import psycopg

    name = f"fg_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{HOST}:{port}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class TcpProxy:
    """Forwards a loopback port to PostgreSQL; :meth:`cut` drops every connection and
    refuses new ones (as a network partition would), :meth:`restore` lets them through."""

    def __init__(self, target: tuple[str, int] = (HOST, PORT)) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()  # refused while cut
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for s in self._sockets:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            self._sockets.clear()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()
