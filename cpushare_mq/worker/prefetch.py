"""How many leases a worker holds beyond its slots, from how long fragments run (pure).

Enough to keep ``queue_window_s`` of work queued per slot when fragments are short (one hub
round trip must not idle the slots), the configured prefetch when they are long (don't
hoard work other workers could do); and, once the sandbox's own run times show fragments got
longer, at most that many (:meth:`Prefetch.shed_target`: the surplus goes back to the hub).
"""

from __future__ import annotations

from collections import deque

#: run times remembered per slot for the prefetch-surplus decision (at least 8)
RECENT_RUNS_PER_SLOT = 4


class Prefetch:
    """Run times in, lease counts out."""

    def __init__(self, slots: int, prefetch: int, max_prefetch: int, queue_window_s: float):
        self.slots, self.min, self.max = slots, prefetch, max_prefetch
        self.queue_window_s = queue_window_s
        self.run_time_s = 1.0               # moving average of a fragment's run time
        self.recent_runs: deque[float] = deque(          # the latest run times
            maxlen=max(8, RECENT_RUNS_PER_SLOT * slots))
        self._shed: int | None = None           # shed_target() until the next run time
        self._shed_known = False

    def note_run_time(self, dt: float, sandbox_wall_s: float) -> None:
        """``dt``: start to end as the core saw it (queueing and batching included: the
        credit follows it); ``sandbox_wall_s``: the fragment's own time in the sandbox (the
        surplus decision follows it, so the worker's own delays never look like longer
        fragments)."""
        dt = max(0.0, dt)
        self.run_time_s += 0.2 * (dt - self.run_time_s)
        self.recent_runs.append(max(0.0, sandbox_wall_s))
        self._shed_known = False

    @property
    def leases(self) -> int:
        """Leases to hold beyond the slots now."""
        return self.for_run_time(self.run_time_s)

    def for_run_time(self, run_time_s: float) -> int:
        window_s = self.slots * self.queue_window_s
        if run_time_s * self.max <= window_s:     # (also: no overflow for a tiny run time)
            return self.max
        want = int(window_s / run_time_s)
        return max(self.min, min(self.max, want))

    def shed_target(self) -> int | None:
        """At most how many leases to hold, judged by the sandbox's own run times (None
        until 4 per slot are known): the fastest quarter of them sets the prefetch. Neither a
        few slow fragments nor a stall of this worker (it does not slow the sandbox) move
        it; a job of longer fragments does, right after a few of them."""
        if not self._shed_known:        # (asked at every scheduling step, changed per run)
            runs = self.recent_runs
            self._shed = (None if len(runs) < runs.maxlen else
                          self.slots + self.for_run_time(sorted(runs)[runs.maxlen // 4]))
            self._shed_known = True
        return self._shed
