"""After a commit, the trust layer's verdicts: votes and closed jobs are reported to it, the
sessions of keys it bans are dropped, the accepted results of a caught worker are re-run
(:mod:`.reverification`, reopened a batch per turn before leases are handed out) and jobs a
vote kept open are let end once their re-verification is reopened. Loop thread only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..protocol import ErrorCode, MsgType, encode
from .reverification import Reverification
from .scheduler import JobState

if TYPE_CHECKING:
    from .server import Hub

__all__ = ["Verdicts"]

log = logging.getLogger(__name__)


class Verdicts:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.reverification = Reverification()    # a caught worker's results re-run

    def before_assign(self, now: float) -> None:
        """Reopen the next queued re-verifications (the turn then leases them out)."""
        if self.reverification:
            self.reverification.reopen_some(now, self.hub.core, self.hub.store)

    def after_commit(self, now: float, fx, replies: list) -> None:
        if self.reverification.reopened_any:
            self.reverification.note_resolved(fx, self.hub.core)
        if self.hub.trust is not None:
            self._report(now, fx, replies)
        self._release_held(now)

    def _release_held(self, now: float) -> None:
        """Let jobs kept open by a vote that outvoted a worker end, once the re-verification
        it asked for is reopened (queued entries of the job are gone); ends are committed by
        the next flush."""
        core = self.hub.core
        held = core.held_jobs()
        if not held:
            return
        queued = self.reverification.queued_jobs()
        for job_id in held:
            if job_id not in queued:
                core.release_job(now, job_id)

    def _report(self, now: float, fx, replies: list) -> None:
        """Report verdicts and closed jobs to the trust layer; drop banned workers."""
        trust = self.hub.trust
        banned: set[str] = set()
        try:
            for fid, _job_id, sha, votes in fx.verdicts:
                banned.update(trust.on_fragment_done(fid, sha, votes, now))
            banned.update(trust.take_banned(now))      # caught by late results
            for rv in trust.take_reverify():
                self.reverification.enqueue(rv.worker_key, rv.fragments)
            for job in fx.journal.jobs:
                if job.state is not JobState.RUNNING:
                    trust.on_job_closed(job.id)
            trust.flush()
        except Exception:  # noqa: BLE001 - the trust ledger must not stop the hub
            log.exception("trust layer failed after a commit")
        if banned:
            self._drop_banned(now, banned, replies)

    def _drop_banned(self, now: float, banned: set[str], replies: list) -> None:
        hub = self.hub
        for wid, ident in hub.sessions.with_keys(banned):
            if ident is not None:
                replies.append((ident, encode(MsgType.ERROR, {
                    "code": ErrorCode.FORBIDDEN, "message": "this worker key is banned"})))
            hub.core.leave(now, wid, "banned")
            hub.worker_desk.forget(wid)
            log.warning("worker %s dropped: its key is banned", wid)
