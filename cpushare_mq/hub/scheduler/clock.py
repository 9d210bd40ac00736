"""Time: liveness, lease expiry, pause grace, lonely spot checks, hopeless ties."""

from __future__ import annotations

import math

from ..disagreement import disagreed_reason, hopeless_ties
from .lifecycle import CoreState
from .states import FragState, LeaseEnd

V = FragState.VOTING


class Clock(CoreState):
    def tick(self, now: float) -> None:
        """Housekeeping: dead workers, expired leases, paused workers past their grace."""
        cfg = self.config
        dead_before = now - cfg.dead_after_s
        for w in list(self.workers.values()):
            if w.held_reason and now >= w.held_until:
                w.held_until, w.held_reason = 0.0, ""      # the hold is over
            if w.last_seen < dead_before:
                self._declare_dead(now, w, "worker stopped answering")
            elif w.paused and w.leases and now - w.paused_since > cfg.pause_grace_s:
                for ref in list(w.leases):
                    lease = self.leases.get(ref)
                    if lease is not None:
                        self._end_lease(now, lease, LeaseEnd.RECLAIMED,
                                        "worker paused too long", notify=True)
        if now >= self._next_lonely_check:
            self._next_lonely_check = now + 1.0
            self._release_lonely_checks(now)
            self._end_hopeless_ties(now)
        if now > self._min_deadline:
            expired = [ls for ls in self.leases.values() if ls.deadline < now]
            for lease in expired:
                # ending one lease may end others of the same fragment (it failed)
                if self.leases.get((lease.frag.fid, lease.attempt)) is lease:
                    self._end_lease(now, lease, LeaseEnd.EXPIRED, "lease expired", notify=True)
            self._min_deadline = min((ls.deadline for ls in self.leases.values()), default=math.inf)

    def _release_lonely_checks(self, now: float) -> None:
        """A spot check (``boost``) needs a result from another worker key; when no worker
        but the voter's that takes work is left (:attr:`_Worker.takes_work`), accept the
        single result instead of waiting for ever (it stays unverified, as if no check had
        been drawn)."""
        alive = {w.key for w in self.workers.values() if w.takes_work}
        for f in [f for f in self.frags.values() if f.boost and f.votes and not f.leases]:
            if len(f.votes) != 1 or f.state is not V:
                continue
            (sha, voters), = f.votes.items()
            if any(self._may_check_key(k, voters[0][1]) for k in alive - {k for _a, k, _s in voters}):
                continue
            self._fx.journal.frags.setdefault(f.fid, (f.state, f))
            f.boost = 0
            self._accept(now, f, sha, voters[0][0], voters[0][2])

    def _end_hopeless_ties(self, now: float) -> None:
        """Copies that disagree wait for a tie-breaker from a key that has not run the
        fragment; when no connected key may run it for ``tie_break_wait_s``, the fragment
        ends disagreed (see :mod:`.disagreement`) instead of waiting for ever."""
        live = frozenset(w.key for w in self.workers.values() if w.alive)
        stuck = [(f.fid, frozenset(f.keys_involved() | (f.killers or set())
                                   | {k for k in live if not self._may_check(k, f)}))
                 for f in self.frags.values()
                 if f.state is V and f.votes and len(f.votes) > 1 and not f.leases]
        self._tie_since, hopeless = hopeless_ties(stuck, live, self._tie_since, now,
                                                  self.config.tie_break_wait_s)
        for fid in hopeless:
            f = self.frags[fid]
            sizes = [len(v) for v in f.votes.values()]
            self._fail(now, f, disagreed_reason(
                sizes, f.job.quorum + f.boost,
                f"no connected worker that has not run it came within {self.config.tie_break_wait_s:g} s"))

    def next_wakeup(self, now: float) -> float:
        """The latest time the shell should call :meth:`tick` again."""
        t = min(now + self.config.tick_s, self._min_deadline)
        dead_after = self.config.dead_after_s
        for w in self.workers.values():
            t = min(t, w.last_seen + dead_after + 1e-4)
        return t
