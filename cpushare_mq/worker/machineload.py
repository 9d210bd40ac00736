"""The seller's own use of the machine (an I/O shell piece: reads psutil and the clock)."""

from __future__ import annotations

import time

import psutil


class MachineLoad:
    """``other_pct()``: CPU use of everything but this worker and its sandboxes since the
    previous call, in % of the machine (0 at the first call)."""

    def __init__(self) -> None:
        self._prev: tuple[float, float, float] | None = None

    def other_pct(self) -> float:
        t = psutil.cpu_times()
        # guest time is already counted in user time on Linux
        busy = (sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0)
                - getattr(t, "guest_nice", 0.0))
        ours = 0.0
        me = psutil.Process()
        try:
            procs = [me, *me.children(recursive=True)]
        except psutil.Error:
            procs = [me]
        for p in procs:
            try:
                ct = p.cpu_times()
                ours += ct.user + ct.system
            except psutil.Error:
                pass
        wall = time.monotonic()
        prev, self._prev = self._prev, (wall, busy, ours)
        if prev is None:
            return 0.0
        dt = (wall - prev[0]) * (psutil.cpu_count() or 1)
        if dt <= 0:
            return 0.0
        other = (busy - prev[1]) - max(0.0, ours - prev[2])
        return max(0.0, 100.0 * other / dt)
