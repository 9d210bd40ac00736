"""One SQLite connection per thread, all closed together: shared by the hub's store and the
dashboard's read-only reader (each says how to open a connection)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable


class ThreadConnections:
    def __init__(self, open_connection: Callable[[], sqlite3.Connection]):
        self._open = open_connection
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        c = getattr(self._local, "conn", None)
        if c is None:
            c = self._open()
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def close_all(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()
