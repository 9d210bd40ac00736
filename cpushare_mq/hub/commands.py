"""Work other threads hand to the hub's loop thread: a queue of ``fn(now)`` calls with the
futures their callers wait on, the wake-up pipe the loop polls, and the stop flag.
"""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future

__all__ = ["Commands"]


class Commands:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = threading.Event()
        self.loop_thread_id: int | None = None     # set while the loop runs

    @property
    def wake_fd(self) -> int:
        """Readable when the loop should look at its commands (or stop)."""
        return self._wake_r.fileno()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def inline(self) -> bool:
        """True when a command must run in the calling thread: it is the loop thread, or no
        loop runs."""
        return self.loop_thread_id is None or self.loop_thread_id == threading.get_ident()

    def put(self, fn: Callable[[float], object]) -> Future:
        fut: Future = Future()
        self._queue.put((fn, fut))
        self.wake()
        return fut

    def take(self) -> tuple[Callable[[float], object], Future] | None:
        """The next command, or None."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def stop(self) -> None:
        self._stopping.set()
        self.wake()

    def wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass

    def drain_wakeups(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
