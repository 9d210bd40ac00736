"""Log lines a peer can provoke, rate-limited per kind (issue 14: every refused handshake
was logged at WARNING, a log flood for anyone who can connect). Pure: the caller passes the
time. The first line of a kind goes out at once; more of that kind within ``interval_s``
are counted and the count rides on the next line let through after the interval.
"""

from __future__ import annotations

__all__ = ["LogThrottle"]


class LogThrottle:
    """``line(kind, message, now)`` -> the message to log now, or None (counted)."""

    def __init__(self, interval_s: float = 60.0, max_kinds: int = 1024,
                 counted: str = " ({n} more like it in the last {s:.0f} s)"):
        self.interval_s = interval_s
        self.max_kinds = max_kinds
        self.counted = counted       # appended when lines were held back: n lines in s seconds
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def line(self, kind: str, message: str, now: float) -> str | None:
        last = self._last.get(kind)
        if last is not None and now - last < self.interval_s:
            self._quiet[kind] = self._quiet.get(kind, 0) + 1
            return None
        if last is None and len(self._last) >= self.max_kinds:   # bounded memory
            self._last.clear()
            self._quiet.clear()
        more = self._quiet.pop(kind, 0)
        self._last[kind] = now
        if more:
            message += self.counted.format(n=more, s=now - last)
        return message
