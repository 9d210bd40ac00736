"""Re-verification: when a worker is caught cheating, the results it had accepted without a
check are run again elsewhere; the buyer gets a correction where one was wrong.

The trust layer names the fragments (``HubTrust.take_reverify``); this room queues them,
reopens a bounded batch per loop turn (at most ``max_open`` unresolved at once, ``batch`` per
turn: only DONE fragments of running jobs whose accepted result is still the caught key's),
and counts how each ended (confirmed, corrected, failed, skipped). It reads candidate rows
from the store and reopens them in the scheduler; the loop commits.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable

from ..errors import StoreError
from .scheduler import JobState, Reopen, Scheduler
from .store import Store

log = logging.getLogger(__name__)

__all__ = ["Reverification", "REOPEN_BATCH", "MAX_REOPENED"]

#: fragments reopened per loop turn, and reopened fragments unresolved at once
REOPEN_BATCH = 256
MAX_REOPENED = 2048


class Reverification:
    def __init__(self, batch: int | None = None, max_open: int | None = None):
        self.batch = REOPEN_BATCH if batch is None else batch
        self.max_open = MAX_REOPENED if max_open is None else max_open
        self._queue: deque[tuple[str, int, str]] = deque()     # (job id, fragment id, key)
        self._reopened: dict[int, int] = {}     # fragment id -> the seq it had
        self.stats = {"queued": 0, "reopened": 0, "confirmed": 0, "corrected": 0,
                      "failed": 0, "skipped": 0}

    def __bool__(self) -> bool:
        """Something is queued to reopen."""
        return bool(self._queue)

    @property
    def reopened_any(self) -> bool:
        return bool(self._reopened)

    def enqueue(self, worker_key: str, fragments: Iterable[tuple[str, int]]) -> None:
        """Queue (job id, fragment id) pairs whose accepted result came from ``worker_key``."""
        items = [(job_id, fid, worker_key) for job_id, fid in fragments]
        self._queue.extend(items)
        self.stats["queued"] += len(items)

    def queued_jobs(self) -> set[str]:
        return {job_id for job_id, _fid, _key in self._queue}

    def open_count(self, core: Scheduler) -> int:
        """Reopened fragments not resolved yet."""
        return sum(1 for fid in self._reopened if core.has_fragment(fid))

    def reopen_some(self, now: float, core: Scheduler, store: Store) -> None:
        """Reopen the next batch of queued fragments in ``core``."""
        # (one resolved in this turn is still listed: note_resolved reports it after the commit)
        room = min(self.batch, self.max_open - self.open_count(core))
        if room <= 0:
            return
        want = self._take(core, room)
        if not want:
            return
        try:
            rows = store.reopen_rows(sorted(want))
        except StoreError as exc:
            log.error("cannot load fragments to re-verify (%s); %d dropped", exc, len(want))
            self.stats["skipped"] += len(want)
            return
        n = 0
        for fid, job_id, idx, next_attempt, failures, seq, attempt, sha, size, key in rows:
            if key != want.get(fid):
                continue        # accepted from another worker meanwhile
            if core.reopen(now, Reopen(fid, job_id, idx, next_attempt, failures, seq, attempt,
                                       sha, size or 0, key)):
                self._reopened[fid] = seq
                n += 1
        self.stats["reopened"] += n
        self.stats["skipped"] += len(want) - n
        log.warning("re-verifying %d accepted result(s) of caught worker(s) (%d of %d were "
                    "not DONE any more or not theirs; %d queued)", n, len(want) - n, len(want),
                    len(self._queue))

    def _take(self, core: Scheduler, room: int) -> dict[int, str]:
        """Up to ``room`` queued fragments of running jobs: fragment id -> caught key."""
        want: dict[int, str] = {}
        while self._queue and len(want) < room:
            job_id, fid, key = self._queue.popleft()
            if core.job_state(job_id) is not JobState.RUNNING:
                self.stats["skipped"] += 1
                log.info("re-verification of fragment %d skipped: job %s is not running", fid,
                         job_id)
                continue
            want[fid] = key
        return want

    def note_resolved(self, fx, core: Scheduler) -> None:
        """Count and log the reopened fragments this commit (effects ``fx``) resolved."""
        for f in fx.journal.frags:
            if f.fid not in self._reopened or not f.state.terminal:
                continue
            old_seq = self._reopened.pop(f.fid)
            if f.state.value == "FAILED":
                what = "failed"
                log.warning("re-verification of fragment %d (job %s, index %d): no agreement, "
                            "FAILED (the buyer gets the failure as a correction, seq %d): %s",
                            f.fid, f.job_id, f.index, f.seq, f.reason)
            elif f.seq == old_seq:
                what = "confirmed"
                log.info("re-verification of fragment %d (job %s, index %d): result confirmed",
                         f.fid, f.job_id, f.index)
            else:
                what = "corrected"
                log.warning("re-verification of fragment %d (job %s, index %d): the accepted "
                            "result was wrong; corrected result accepted as seq %d", f.fid,
                            f.job_id, f.index, f.seq)
            self.stats[what] += 1
        # what is neither resolved nor in the core any more (job cancelled) is forgotten
        self._reopened = {fid: q for fid, q in self._reopened.items() if core.has_fragment(fid)}
