"""One SQLite connection per thread, all closed together: shared by the hub's store and the
dashboard's read-only reader (each says how to open a connection); and :func:`transaction`,
the one way a transaction is begun, committed and rolled back."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import StoreError

__all__ = ["ThreadConnections", "transaction"]


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


@contextmanager
def transaction(c: sqlite3.Connection, what: str, *, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """One transaction on ``c`` (a connection in autocommit mode): BEGIN (IMMEDIATE: take the
    write lock now), COMMIT when the block ends, ROLLBACK if it raises. A sqlite3 error leaves
    as :class:`StoreError` naming ``what`` failed; any other exception passes through."""
    try:
        c.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        yield c
        c.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(c)
        raise StoreError(f"{what}: {exc}") from exc
    except BaseException:
        _rollback(c)
        raise


def _rollback(c: sqlite3.Connection) -> None:
    try:
        if c.in_transaction:
            c.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def columns(c: sqlite3.Connection, table: str) -> set[str]:
    """The names of ``table``'s columns (none: no such table), for migrations by column."""
    return {r[1] for r in c.execute(f"PRAGMA table_info({table})")}
