"""Workers whose sandbox keeps failing for reasons of their machine (pure policy).

A worker hands a lease back with ``RELEASE.infra`` when its sandbox could not run it for
reasons of the machine (loader set-up error, fork failure, out of memory outside the
program's cap): the fragment goes to another worker and spends none of its attempts. A
worker that does this ``failures`` times within ``window_s`` is *held*: it gets no leases
for ``hold_s`` (doubling on each hold in a row, up to ``max_hold_s``), it is told why
(``HOLD``), and ``cpushare status`` shows it. The hub keeps this per worker, in memory.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class InfraConfig:
    failures: int = 3            # infrastructure failures ...
    window_s: float = 120.0      # ... within this long hold the worker
    hold_s: float = 60.0         # first hold
    max_hold_s: float = 900.0


@dataclass(frozen=True)
class Hold:
    """A worker held by the hub: no leases until ``until`` (hub clock), and why."""

    until: float
    hold_s: float
    reason: str


@dataclass
class _Record:
    times: deque = field(default_factory=deque)
    holds: int = 0               # holds in a row (reset by a quiet window)
    last: float | None = None    # the last failure
    hold: Hold | None = None


class InfraWatch:
    """Counts infrastructure failures per worker; decides holds. Takes the time."""

    def __init__(self, config: InfraConfig | None = None):
        self.config = config or InfraConfig()
        self._workers: dict[str, _Record] = {}

    def failure(self, now: float, wid: str, reason: str) -> Hold | None:
        """Worker ``wid`` released a lease for an infrastructure failure; the new hold,
        if this one makes it hold-worthy."""
        cfg = self.config
        rec = self._workers.setdefault(wid, _Record())
        if rec.hold is not None and now < rec.hold.until:
            return None                       # already held (a release in flight)
        busy_until = max(rec.last or 0.0, rec.hold.until if rec.hold is not None else 0.0)
        if rec.last is not None and now - busy_until > cfg.window_s:
            rec.holds = 0                     # it had been fine for a while (not held)
        rec.last = now
        rec.times.append(now)
        while rec.times and now - rec.times[0] > cfg.window_s:
            rec.times.popleft()
        if len(rec.times) < cfg.failures:
            return None
        hold_s = min(cfg.hold_s * (2 ** rec.holds), cfg.max_hold_s)
        rec.holds += 1
        rec.times.clear()
        why = (f"its sandbox failed {cfg.failures} times within {cfg.window_s:g} s "
               f"(last: {reason})")[:MAX_REASON_CHARS]
        rec.hold = Hold(until=now + hold_s, hold_s=hold_s, reason=why)
        return rec.hold

    def held(self, now: float, wid: str) -> Hold | None:
        rec = self._workers.get(wid)
        if rec is None or rec.hold is None or now >= rec.hold.until:
            return None
        return rec.hold

    def forget(self, wid: str) -> None:
        self._workers.pop(wid, None)
