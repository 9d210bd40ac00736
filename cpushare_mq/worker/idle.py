"""Whether the seller is using the machine (pure: load samples and the time in)."""

from __future__ import annotations

from enum import StrEnum


class IdleVerdict(StrEnum):
    PAUSE = "pause"      # the seller is using the machine
    RESUME = "resume"    # idle again


class IdleDetector:
    """Hysteresis on the seller's own CPU load: pause once the load of *other* processes has
    been above ``threshold_pct`` for ``pause_after_s``; resume once it has been at or below it
    for ``resume_after_s``. Feed samples with :meth:`sample`; it returns an
    :class:`IdleVerdict` or None."""

    def __init__(self, threshold_pct: float = 30.0, pause_after_s: float = 3.0,
                 resume_after_s: float = 5.0):
        self.threshold_pct = threshold_pct
        self.pause_after_s = pause_after_s
        self.resume_after_s = resume_after_s
        self.paused = False
        self._since: float | None = None   # start of the current run of samples against the state

    def sample(self, now: float, other_load_pct: float) -> IdleVerdict | None:
        busy = other_load_pct > self.threshold_pct
        if busy != self.paused:            # the sample argues for a change of state
            if self._since is None:
                self._since = now
            wait = self.pause_after_s if busy else self.resume_after_s
            if now - self._since >= wait:
                self.paused = busy
                self._since = None
                return IdleVerdict.PAUSE if busy else IdleVerdict.RESUME
        else:
            self._since = None
        return None
