"""Rebuilding a core from what the store holds (after a restart or a failed commit)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from .config import HubConfig
from .lifecycle import CoreState
from .records import _Effects, _Frag, _Lease, _Worker
from .states import FragState, JobState

P, L = FragState.PENDING, FragState.LEASED


class Restore(CoreState):
    @classmethod
    def restore(cls, config: HubConfig, now: float, *, seq: int, jobs: Iterable[dict],
                active: Iterable[tuple], open_leases: Iterable[tuple], votes: Iterable[tuple],
                killers: Iterable[tuple], workers: Iterable[dict] = (),
                final_reports: Iterable[tuple] = ()) -> Self:
        """Rebuild a core from what the store holds (after a restart, or after a failed
        commit). ``active``: (fid, job_id, index, state, next_attempt, failures[, boost, seq,
        result_attempt, sha256, size]) of LEASED and VOTING fragments (seq is set only for
        a fragment reopened for re-verification: the result it had); ``open_leases``: (fid, attempt, worker_id, key, deadline);
        ``votes``: (fid, attempt, key, sha256, size); ``killers``: (fid, key);
        ``final_reports``: (fid, key, outcome) of unfinished fragments, kept until the fragment
        is loaded (a PENDING one only when its window is);
        ``workers``: still-connected workers to keep (dicts of id, name, key, slots, credit,
        last_seen, paused, paused_since, done, failed) — their leases stay theirs, all
        other open leases are orphaned until min(deadline, now + reconnect grace)."""
        core = cls(config, seq=seq)
        for row in jobs:
            core.add_job(row)
        core._fx = _Effects()
        for wd in workers:
            core._restore_worker(wd, now)
        for fid, key, outcome in final_reports:
            core._reports_to_restore.setdefault(fid, {})[key] = outcome
        core._restore_fragments(active)
        core._restore_leases(open_leases, now + config.reconnect_grace_s)
        core._restore_votes(votes, killers)
        # fragments whose leases vanished while the hub was down (or never got stored)
        for f in list(core.frags.values()):
            if f.state is L and not f.leases:
                core._move(f, P)
            if core._copies_needed(f) > 0:
                core._queue(f)
        return core

    def _restore_worker(self, wd: dict, now: float) -> None:
        w = _Worker(wd["id"], wd.get("name", ""), wd.get("key", wd["id"]), wd.get("slots", 1),
                    wd.get("last_seen", now))
        w.credit = wd.get("credit", 0)
        w.paused = wd.get("paused", False)
        w.paused_since = wd.get("paused_since", 0.0)
        w.done = wd.get("done", 0)
        w.failed = wd.get("failed", 0)
        w.jobs_seen = set(wd.get("jobs_seen", ()))
        self.workers[w.id] = w

    def _restore_fragments(self, active: Iterable[tuple]) -> None:
        for fid, job_id, index, state, next_attempt, failures, *rest in active:
            job = self.jobs.get(job_id)
            if job is None or job.state is not JobState.RUNNING:
                continue
            f = self.frags[fid] = _Frag(fid, job, index, FragState(state), next_attempt, failures)
            f.final_reports = self._reports_to_restore.pop(fid, None)
            f.boost = rest[0] if rest and rest[0] else 0
            if len(rest) >= 5 and rest[1] is not None:     # reopened: the result it had
                f.seq, f.result_attempt, f.sha256, f.size = rest[1], rest[2], rest[3] or "", rest[4] or 0

    def _restore_leases(self, open_leases: Iterable[tuple], grace_end: float) -> None:
        """Open leases: a kept worker's stay its own, others are orphaned until
        min(deadline, ``grace_end``)."""
        for fid, attempt, wid, key, deadline in open_leases:
            f = self.frags.get(fid)
            if f is None:
                continue
            w = self.workers.get(wid) if wid else None
            if w is None:
                wid = None
                deadline = min(deadline, grace_end)
            lease = _Lease(f, attempt, wid, key or "", deadline)
            self.leases[(fid, attempt)] = lease
            f.leases[attempt] = lease
            f.job.inflight += 1
            if w is not None:
                w.leases.add((fid, attempt))
            self._min_deadline = min(self._min_deadline, deadline)

    def _restore_votes(self, votes: Iterable[tuple], killers: Iterable[tuple]) -> None:
        for fid, attempt, key, sha, size in votes:
            f = self.frags.get(fid)
            if f is not None:
                if f.votes is None:
                    f.votes = {}
                f.votes.setdefault(sha, []).append((attempt, key, size))
        for fid, key in killers:
            f = self.frags.get(fid)
            if f is not None:
                if f.killers is None:
                    f.killers = set()
                f.killers.add(key)
