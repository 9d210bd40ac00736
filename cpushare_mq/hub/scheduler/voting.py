"""Results and failures: voting, acceptance, spot checks, re-verification (reopen)."""

from __future__ import annotations

from ...outcome import Outcome, OutcomeRecord, cpu_claim_us
from ...protocol import AckStatus
from ..disagreement import disagreed_reason, quorum_out_of_reach
from .effects import Reopen
from .lifecycle import CoreState
from .records import _Frag, _Lease
from .states import FragState, JobState, LeaseEnd

L, V, D = FragState.LEASED, FragState.VOTING, FragState.DONE


class Voting(CoreState):
    def is_first_solo_result(self, now: float, wid: str, fid: int, attempt: int) -> bool:
        """True when a result for this current lease would be accepted alone (redundancy 1,
        no spot check yet): the moment a trust layer may ask for a second opinion."""
        lease = self.leases.get((fid, attempt))
        if lease is None or lease.worker != wid or now > lease.deadline:
            return False
        f = lease.frag
        return f.job.redundancy == 1 and f.boost == 0 and not f.votes

    def result(self, now: float, wid: str, fid: int, attempt: int, sha256: str, size: int,
               invalid: str = "", *, spot_check: bool = False, cpu_us: int | None = None) -> str:
        """A worker finished a lease with an ok result (``invalid`` = why it failed the
        hub's checks, empty when digest, size and chunks were right). Returns the ACK
        status; only ``accepted`` means the shell must store the result's chunks.
        ``cpu_us``: the CPU time the worker's signed outcome record claims, stored with the
        attempt (what the market pays for: market/ledger.py).
        ``spot_check`` (only meaningful for :meth:`is_first_solo_result`): count this result
        as a vote and accept the fragment only when another worker agrees."""
        lease = self.leases.get((fid, attempt))
        if lease is None or lease.worker != wid or now > lease.deadline:
            return AckStatus.STALE
        f = lease.frag
        job = f.job
        if not invalid and size > job.max_output_bytes:
            invalid = f"result of {size} bytes exceeds the job's max_output_bytes {job.max_output_bytes}"
        if invalid:
            return self._reject(now, lease, invalid)
        self._end_lease(now, lease, LeaseEnd.VOTE, "", notify=False, requeue=False, sha256=sha256,
                        size=size, cpu_us=cpu_us)
        w = self.workers.get(wid)
        if f.votes is None:
            f.votes = {}
        voters = f.votes.setdefault(sha256, [])
        voters.append((attempt, lease.key, size))
        if spot_check and job.redundancy == 1 and f.boost == 0 and len(f.votes) == 1 == len(voters):
            f.boost = 1
            self._fx.journal.frags.setdefault(f.fid, (f.state, f))
        if len(voters) >= job.quorum + f.boost:
            self._accept(now, f, sha256, voters[0][0], size)
            if w is not None:
                w.done += 1
            return AckStatus.ACCEPTED
        if f.state is L:
            self._move(f, V)
        sizes = [len(v) for v in f.votes.values()]
        if quorum_out_of_reach(sizes, job.quorum + f.boost, job.redundancy + f.boost + job.max_extra):
            self._fail(now, f, disagreed_reason(sizes, job.quorum + f.boost))
        elif self._copies_needed(f) > 0:
            self._queue(f, front=True)
        if w is not None:
            w.done += 1
        return AckStatus.ACCEPTED

    def reject(self, now: float, wid: str, fid: int, attempt: int, invalid: str) -> str:
        """A report for a lease failed the hub's checks (a failure report with a bad
        signature): the lease ends as rejected, counted as a failure of the fragment, which
        is retried elsewhere. Returns the ACK status (``stale`` if the lease is not current)."""
        lease = self.leases.get((fid, attempt))
        if lease is None or lease.worker != wid or now > lease.deadline:
            return AckStatus.STALE
        return self._reject(now, lease, invalid)

    def _reject(self, now: float, lease: _Lease, invalid: str) -> str:
        self._count_failure(lease.frag, lease.key)
        self._end_lease(now, lease, LeaseEnd.REJECTED, f"rejected result: {invalid}",
                        notify=False, count=False)
        return AckStatus.REJECTED

    def reopen(self, now: float, r: Reopen) -> bool:
        """Re-verify the accepted result of DONE fragment ``r.fid`` (its worker was caught
        cheating): the fragment goes back to VOTING with that result as one vote (from
        ``r.key``) and needs an agreeing result from another worker key (a spot check:
        ``boost``). If the re-run agrees, it is DONE again with the same result and the same
        ``seq`` (the buyer is sent nothing new); if another result wins the vote it is
        accepted with a new ``seq`` (the buyer receives it again: a correction). Until then
        the job cannot end. Returns False (nothing changed) when the job is not running or
        the fragment is already in memory, or the job has redundancy (its results were
        accepted by a vote, not alone: only a lone accepted result is re-verified)."""
        job = self.jobs.get(r.job_id)
        if (job is None or job.state is not JobState.RUNNING or r.fid in self.frags
                or job.redundancy != 1):
            return False
        f = _Frag(r.fid, job, r.index, D, r.next_attempt, r.failures)
        f.seq = r.seq
        f.result_attempt = r.result_attempt
        f.sha256 = r.sha256
        f.size = r.size
        f.votes = {r.sha256: [(r.result_attempt, r.key, r.size)]}
        f.boost = 1
        self.frags[f.fid] = f
        self._move(f, V)
        self._queue(f, front=True)
        return True

    def _accept(self, now: float, f: _Frag, sha256: str, attempt: int, size: int) -> None:
        # a reopened fragment (seq already set) that keeps its accepted result keeps its
        # accepted attempt (whose chunks are stored) and its seq
        keep = f.seq is not None and f.sha256 == sha256 and f.result_attempt is not None
        if keep:
            attempt, size = f.result_attempt, f.size
        for other in list(f.leases.values()):
            self._end_lease(now, other, LeaseEnd.CANCELLED, "fragment done elsewhere",
                            notify=True, requeue=False)
        j = self._fx.journal
        all_votes = f.votes or {}
        for sha, lst in all_votes.items():
            for a, _k, _s in lst:
                if sha != sha256:
                    j.attempts_end.append((now, str(LeaseEnd.DISAGREED), sha, _s, f"quorum chose {sha256}",
                                           None, f.fid, a))
                if a != attempt:
                    j.drop_results.append((f.fid, a))
        f.result_attempt = attempt
        f.size = size
        f.sha256 = sha256
        self._fx.accepted.append((f.fid, f.job.id, attempt))
        if sum(map(len, all_votes.values())) + len(f.final_reports or ()) > 1:
            votes = [(k, sha) for sha, lst in all_votes.items() for _a, k, _s in lst]
            # a final failure report that a result contradicts counts as a disagreeing vote
            votes += [(k, f"failure:{o}") for k, o in (f.final_reports or {}).items()]
            self._fx.verdicts.append((f.fid, f.job.id, sha256, votes))
        if f.votes and len(f.votes) > 1:
            # someone was outvoted: the trust layer may want the job's other results of that
            # worker re-verified (Scheduler.reopen), which only an open job allows
            f.job.held = True
        self._finish(now, f, D, "", keep_seq=keep)

    def failure(self, now: float, wid: str, fid: int, attempt: int, record: OutcomeRecord) -> str:
        """A worker reports that a lease's run failed in the sandbox."""
        lease = self.leases.get((fid, attempt))
        if lease is None or lease.worker != wid or now > lease.deadline:
            return AckStatus.STALE
        f = lease.frag
        w = self.workers.get(wid)
        if w is not None:
            w.failed += 1
        outcome = record.outcome
        why = outcome.value + (f": {record.message}" if record.message else "")
        if outcome is Outcome.EXIT_CODE and record.exit_code is not None:
            why += f" (exit code {record.exit_code})"
        self._end_lease(now, lease, f"failure:{outcome.value}", why, notify=False, requeue=False,
                        count=False, cpu_us=cpu_claim_us(record.cpu_s))
        if outcome is Outcome.OK:
            why = "worker reported a failure with outcome ok"
        if outcome.is_final:
            reports = f.final_reports = f.final_reports or {}
            reports[lease.key] = outcome.value
            if len(reports) >= f.job.quorum:
                self._fail(now, f, why if len(reports) == 1 else
                           f"{why} (reported by {len(reports)} different workers)")
                return AckStatus.FAILED
            # not agreed yet, and not counted as an attempt (a lie must not cost the
            # fragment anything): another worker key runs it
            self._after_loss(now, f, f"{why} (reported by 1 worker; {f.job.quorum} must agree)")
            return AckStatus.FAILED
        if outcome.kills_sandbox:
            if f.killers is None:
                f.killers = set()
            f.killers.add(lease.key)
            if len(f.killers) >= self.config.sandbox_kill_limit:
                self._fail(now, f, f"killed the sandbox on {len(f.killers)} different workers; last: {why}")
                return AckStatus.FAILED
        self._count_failure(f, lease.key)
        self._after_loss(now, f, why)
        return AckStatus.FAILED
