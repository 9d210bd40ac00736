"""The hub's scheduling core: pure (no sockets, no SQL, no clock), events in, effects out.

Every event method takes ``now`` (seconds, wall clock, as the caller sees it) and changes
in-memory state only. What must reach disk or the network is collected in
:class:`Effects` (take it with :meth:`Scheduler.take_effects`): a journal of store changes
(applied by :mod:`cpushare_mq.hub.store` in one SQLite transaction), CANCELs to send, dead
workers to forget. LEASEs come out of :meth:`Scheduler.assign`.

Memory: only a bounded window of each job's PENDING fragments is held here (refilled from
the store in batches, see :meth:`Scheduler.refill_requests`), plus the fragments that are
LEASED or VOTING. Everything else lives in SQLite.

Fragment states and the ONE table of allowed transitions are :class:`FragState` and
:data:`TRANSITIONS`; :func:`apply_transition` is the one function that changes a state.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ..errors import IllegalTransition, SchedulingError, UnknownJob
from ..jobspec import JobSpec, validate_spec
from ..outcome import Outcome, OutcomeRecord
from ..protocol import AckStatus, Limits
from .disagreement import disagreed_reason, hopeless_ties, quorum_out_of_reach
from .waiting import FragView, Waiting, WorkerView, waiting_reason

__all__ = [
    "FragState", "TRANSITIONS", "apply_transition", "JobSpec", "HubConfig", "Scheduler",
    "Effects", "JobState", "LeaseEnd", "validate_spec", "Reopen",
]


class FragState(StrEnum):
    """Where a fragment is (see docs/architecture.md, "Fragment states")."""

    PENDING = "PENDING"   # waiting for (another) lease, no result yet
    LEASED = "LEASED"     # one or more copies running, no result yet
    VOTING = "VOTING"     # redundancy > 1: some results in, no quorum yet
    DONE = "DONE"         # a result (or a quorum of agreeing results) accepted
    FAILED = "FAILED"     # given up: reason kept

    @property
    def terminal(self) -> bool:
        return self in (FragState.DONE, FragState.FAILED)


P, L, V, D, F = (FragState.PENDING, FragState.LEASED, FragState.VOTING, FragState.DONE,
                 FragState.FAILED)

#: The one table of allowed state changes (from, to).
TRANSITIONS: frozenset[tuple[FragState, FragState]] = frozenset({
    (P, L),   # leased
    (L, P),   # every lease lost (worker dead, lease expired, failure, release, cancel)
    (L, V),   # first result of a redundant fragment
    (L, D),   # result accepted (quorum reached)
    (L, F),   # deterministic failure / attempts exhausted / sandbox killer
    (V, D),   # quorum reached
    (V, F),   # no quorum within the extra-copy limit, or a deterministic failure
    (D, V),   # re-verification (reopen): the accepted result of a worker caught cheating
              # counts as one vote; a result from another worker key must agree with it.
              # DONE fragments are not in memory: the shell loads the row and calls reopen()
})


def apply_transition(frag: _Frag, new: FragState) -> FragState:
    """Change ``frag``'s state to ``new`` if the table allows it; return the old state."""
    old = frag.state
    if (old, new) not in TRANSITIONS:
        raise IllegalTransition(f"fragment {frag.fid}: {old.value} -> {new.value} is not allowed")
    frag.state = new
    return old


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"              # every fragment DONE or FAILED
    CANCELLED = "cancelled"




class LeaseEnd:
    """How an attempt ended (the ``end`` column of the attempts table)."""

    VOTE = "vote"              # an ok result that was counted (accepted or a vote)
    DISAGREED = "disagreed"    # an ok result that lost the vote
    LOST = "lost"              # worker declared dead
    EXPIRED = "expired"        # lease deadline passed
    RELEASED = "released"      # handed back unrun by the worker
    CANCELLED = "cancelled"    # job cancelled / fragment done elsewhere
    REJECTED = "rejected"      # result failed verification (digest, size, chunk sequence)
    LEFT = "left"              # worker said BYE / rejoined while holding it
    RECLAIMED = "reclaimed"    # worker paused longer than the pause grace
    # a failure report stores "failure:<outcome>"


@dataclass(frozen=True)
class Reopen:
    """What :meth:`Scheduler.reopen` needs of a DONE fragment (the store's ``fragments`` row
    and the ``attempts`` row of its accepted result)."""

    fid: int
    job_id: str
    index: int
    next_attempt: int
    failures: int
    seq: int                 # the acceptance sequence number the buyer already saw
    result_attempt: int      # the accepted attempt
    sha256: str              # its digest
    size: int
    key: str                 # the worker key of that attempt


@dataclass(frozen=True)
class HubConfig:
    """Timing and policy knobs of a hub. All durations in seconds."""

    heartbeat_interval_s: float = 0.5
    liveness: int = 3                    # silent for liveness x interval = dead
    lease_grace_s: float = 10.0          # lease deadline = now + wall_s x lease_wall_factor + grace
    lease_wall_factor: float = 2.0       # room for a fragment waiting behind others on a worker
    reconnect_grace_s: float = 10.0      # after a hub restart, leases wait this long for their worker
    pause_grace_s: float = 30.0          # a paused worker keeps its leases this long
    group_commit_s: float = 0.002        # gather messages this long before one commit
    max_batch_messages: int = 4096       # messages handled per commit at most
    window_fragments: int = 4096         # PENDING fragments per job held in memory
    max_extra_copies: int | None = None  # extra copies on disagreement (None = redundancy)
    sandbox_kill_limit: int = 3          # distinct workers' sandboxes a fragment may kill
    max_credit: int = 65536              # a worker's credit is capped here
    tick_s: float = 0.02                 # housekeeping period (liveness, expiry)
    max_partial_bytes: int = 1 << 30     # compressed result chunks held before their RESULT_END
    max_partial_bytes_per_worker: int = 64 << 20    # ... of them for one worker session
    tie_break_wait_s: float = 60.0       # disagreeing copies, no key left to break the tie: ends

    def __post_init__(self) -> None:
        from ..errors import ConfigError
        for name in ("heartbeat_interval_s", "lease_grace_s", "reconnect_grace_s",
                     "pause_grace_s", "tick_s", "tie_break_wait_s"):
            v = getattr(self, name)
            if type(v) not in (int, float) or not math.isfinite(v) or v <= 0:
                raise ConfigError(f"HubConfig.{name} must be a positive number, got {v!r}")
        if type(self.liveness) is not int or self.liveness < 1:
            raise ConfigError(f"HubConfig.liveness must be an integer >= 1, got {self.liveness!r}")
        if self.group_commit_s < 0 or self.lease_wall_factor < 1:
            raise ConfigError("HubConfig.group_commit_s must be >= 0 and lease_wall_factor >= 1")
        for name in ("max_batch_messages", "window_fragments", "sandbox_kill_limit", "max_credit"):
            v = getattr(self, name)
            if type(v) is not int or v < 1:
                raise ConfigError(f"HubConfig.{name} must be an integer >= 1, got {v!r}")

    @property
    def dead_after_s(self) -> float:
        return self.heartbeat_interval_s * self.liveness


# ---------------------------------------------------------------------------------------
# In-memory records (slots classes; only for active fragments and the pending window)


class _Job:
    __slots__ = ("id", "name", "program_sha256", "shared_sha256", "redundancy", "quorum",
                 "cpu_s", "wall_s", "max_attempts", "max_output_bytes", "priority", "state",
                 "total", "n_done", "n_failed", "n_leased", "n_voting", "ready", "loaded_upto",
                 "exhausted", "inflight", "max_extra", "created_s", "held")

    def __init__(self, row: dict, max_extra: int | None):
        self.id = row["id"]
        self.name = row.get("name", "")
        self.program_sha256 = row["program_sha256"]
        self.shared_sha256 = row["shared_sha256"]
        self.redundancy = row["redundancy"]
        self.quorum = row["quorum"]
        self.cpu_s = row["cpu_s"]
        self.wall_s = row["wall_s"]
        self.max_attempts = row["max_attempts"]
        self.max_output_bytes = row["max_output_bytes"]
        self.priority = row["priority"]
        self.state = JobState(row.get("state", "running"))
        self.total = row["total"]
        self.n_done = row.get("n_done", 0)
        self.n_failed = row.get("n_failed", 0)
        self.n_leased = row.get("n_leased", 0)
        self.n_voting = row.get("n_voting", 0)
        self.created_s = row.get("created_s", 0.0)
        self.ready: deque[_Frag] = deque()
        self.loaded_upto = 0
        self.exhausted = False
        self.inflight = 0
        self.max_extra = self.redundancy if max_extra is None else max_extra
        self.held = False         # a vote caught a worker: stay open until the shell releases


class _Frag:
    __slots__ = ("fid", "job", "index", "state", "next_attempt", "failures", "leases", "votes",
                 "killers", "queued", "seq", "reason", "result_attempt", "size", "sha256", "boost",
                 "final_reports")

    def __init__(self, fid: int, job: _Job, index: int, state: FragState = P,
                 next_attempt: int = 0, failures: int = 0):
        self.fid = fid
        self.job = job
        self.index = index
        self.state = state
        self.next_attempt = next_attempt
        self.failures = failures
        self.leases: dict[int, _Lease] = {}
        self.votes: dict[str, list[tuple[int, str, int]]] | None = None  # sha -> [(attempt, key, size)]
        self.killers: set[str] | None = None
        self.queued = False
        self.seq: int | None = None
        self.reason = ""
        self.result_attempt: int | None = None
        self.size = 0
        self.sha256 = ""
        self.boost = 0            # extra copies and quorum for this fragment (a spot check)
        #: keys that reported a final failure (fragment_error, bad_program) -> outcome: the
        #: fragment fails once the job's quorum of distinct keys agree, like a result
        self.final_reports: dict[str, str] | None = None

    def keys_involved(self) -> set[str]:
        keys = {ls.key for ls in self.leases.values()}
        if self.votes:
            for lst in self.votes.values():
                keys.update(k for _a, k, _s in lst)
        return keys


class _Lease:
    __slots__ = ("frag", "attempt", "worker", "key", "deadline")

    def __init__(self, frag: _Frag, attempt: int, worker: str | None, key: str, deadline: float):
        self.frag = frag
        self.attempt = attempt
        self.worker = worker      # worker id, None = orphaned (hub restarted, owner not back yet)
        self.key = key            # worker identity used for "distinct workers"
        self.deadline = deadline


class _Worker:
    __slots__ = ("id", "name", "key", "slots", "credit", "leases", "last_seen", "joined_s",
                 "paused", "paused_since", "busy", "alive", "done", "failed", "jobs_seen",
                 "held_until", "held_reason")

    def __init__(self, wid: str, name: str, key: str, slots: int, now: float):
        self.id = wid
        self.name = name
        self.key = key
        self.slots = slots
        self.credit = 0
        self.leases: set[tuple[int, int]] = set()
        self.last_seen = now
        self.joined_s = now
        self.paused = False
        self.paused_since = 0.0
        self.busy = 0
        self.alive = True
        self.done = 0
        self.failed = 0
        self.jobs_seen: set[str] = set()
        self.held_until = 0.0      # held by the hub (its sandbox keeps failing) until then
        self.held_reason = ""


# ---------------------------------------------------------------------------------------
# Effects


@dataclass
class Journal:
    """Store changes of one batch, in the order the store applies them."""

    frags: dict[int, tuple[FragState, _Frag]] = field(default_factory=dict)  # fid -> (state in store, frag)
    attempts_new: list[tuple] = field(default_factory=list)   # (fid, attempt, job, worker, key, leased_s, deadline)
    attempts_owner: list[tuple] = field(default_factory=list) # (worker, key, fid, attempt): re-attached
    attempts_end: list[tuple] = field(default_factory=list)   # (ended_s, end, sha256, size, detail, fid, attempt)
    results: list[tuple] = field(default_factory=list)        # (fid, attempt, seq, data) — filled by the shell
    drop_results: list[tuple] = field(default_factory=list)   # (fid, attempt)
    jobs: dict[str, _Job] = field(default_factory=dict)
    workers: dict[str, _Worker] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.frags or self.attempts_new or self.attempts_owner or self.attempts_end
                    or self.results
                    or self.drop_results or self.jobs or self.workers)


@dataclass
class Effects:
    journal: Journal = field(default_factory=Journal)
    cancels: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # worker -> leases
    cancel_reasons: dict[str, str] = field(default_factory=dict)
    dead: list[str] = field(default_factory=list)              # workers declared dead
    finished_jobs: set[str] = field(default_factory=set)       # jobs with a new DONE/FAILED fragment or ended
    # fragments accepted on more than one result: (fid, job_id, winner sha256, [(key, sha256)])
    verdicts: list[tuple[int, str, str, list[tuple[str, str]]]] = field(default_factory=list)


#: A worker without a worker_key is known by its session id, with this prefix.
SESSION_KEY_PREFIX = "session:"

# A lease handed out by assign(): (job, fid, index, attempt, lease_s)
LeaseGrant = tuple


class Scheduler:
    """The pure scheduling core. See the module docstring."""

    def __init__(self, config: HubConfig | None = None, *, seq: int = 0):
        self.config = config or HubConfig()
        self.jobs: dict[str, _Job] = {}
        self.frags: dict[int, _Frag] = {}
        self.leases: dict[tuple[int, int], _Lease] = {}
        self.workers: dict[str, _Worker] = {}
        self.seq = seq
        self._min_deadline = math.inf      # no lease expires before this
        self._next_lonely_check = 0.0      # see _release_lonely_checks
        self._tie_since: dict[int, float] = {}   # see _end_hopeless_ties
        self._fx = Effects()
        self._done_times: deque[tuple[float, int]] = deque()   # (second, count) for throughput
        #: final failure reports from the store for fragments not loaded yet (restore)
        self._reports_to_restore: dict[int, dict[str, str]] = {}

    # -- effects ---------------------------------------------------------------------
    def take_effects(self) -> Effects:
        fx, self._fx = self._fx, Effects()
        return fx

    # -- jobs ------------------------------------------------------------------------
    def add_job(self, row: dict) -> None:
        """Register a job stored by the shell (row: the jobs-table columns + counts)."""
        job = _Job(row, self.config.max_extra_copies)
        self.jobs[job.id] = job
        if job.state is JobState.RUNNING and job.n_done + job.n_failed >= job.total:
            self._end_job(job, JobState.DONE)

    def refill_requests(self) -> list[tuple[str, int, int]]:
        """(job_id, after_fragment_id, limit) for jobs whose pending window runs low."""
        out = []
        w = self.config.window_fragments
        for job in self.jobs.values():
            if job.state is JobState.RUNNING and not job.exhausted and len(job.ready) < w // 2:
                out.append((job.id, job.loaded_upto, w - len(job.ready)))
        return out

    def add_pending(self, job_id: str, rows: Iterable[tuple[int, int, int, int]], limit: int) -> None:
        """Load PENDING fragments (fid, index, next_attempt, failures) of ``job_id`` from the
        store, in fid order; fewer rows than ``limit`` means the store has no more."""
        job = self.jobs.get(job_id)
        if job is None:
            return
        n = 0
        frags = self.frags
        for fid, index, next_attempt, failures in rows:
            n += 1
            job.loaded_upto = max(job.loaded_upto, fid)
            if fid in frags or job.state is not JobState.RUNNING:
                continue
            f = _Frag(fid, job, index, P, next_attempt, failures)
            if self._reports_to_restore:
                f.final_reports = self._reports_to_restore.pop(fid, None)
            f.queued = True
            frags[fid] = f
            job.ready.append(f)
        if n < limit:
            job.exhausted = True

    def cancel_job(self, now: float, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            raise UnknownJob(f"no job {job_id!r}")
        if job.state is not JobState.RUNNING:
            return
        for key, lease in list(self.leases.items()):
            if lease.frag.job is job and self.leases.get(key) is lease:
                self._end_lease(now, lease, LeaseEnd.CANCELLED, "job cancelled", notify=True,
                                requeue=False)
        for f in [f for f in self.frags.values() if f.job is job]:
            if f.state is L:
                self._move(f, P)
            del self.frags[f.fid]
        job.ready.clear()
        self._end_job(job, JobState.CANCELLED)

    def forget_job(self, job_id: str) -> None:
        """The shell committed the end of ``job_id``: drop it (the core holds live jobs only;
        an ended job is answered from the store). A running job stays."""
        job = self.jobs.get(job_id)
        if job is not None and job.state is not JobState.RUNNING:
            del self.jobs[job_id]

    def _end_job(self, job: _Job, state: JobState) -> None:
        job.state = state
        job.ready.clear()
        self._fx.journal.jobs[job.id] = job
        self._fx.finished_jobs.add(job.id)

    # -- workers ---------------------------------------------------------------------
    def join(self, now: float, wid: str, *, name: str = "", key: str = "", slots: int = 1,
             held: Sequence[tuple[int, int]] = (), replaces: str | None = None) -> list[tuple[int, int]]:
        """A worker said HELLO (new session ``wid``). Returns the held leases honoured."""
        if wid in self.workers:
            raise SchedulingError(f"worker id {wid!r} already in use")
        w = _Worker(wid, name, key or SESSION_KEY_PREFIX + wid, slots, now)
        self.workers[wid] = w
        ok = []
        for ref in held:
            lease = self.leases.get(tuple(ref))
            if lease is None or lease.deadline < now:
                continue
            ref = tuple(ref)
            owner = self.workers.get(lease.worker) if lease.worker else None
            if owner is None:
                # orphaned by a hub restart: the same worker key, or a lease taken by a worker
                # without a key (then a session id is all there is to go by)
                same = lease.key == w.key or lease.key.startswith(SESSION_KEY_PREFIX)
            else:
                same = owner.id == replaces or (bool(key) and owner.key == key)
            if not same or owner is w:
                continue
            if owner is not None:
                owner.leases.discard(ref)
            lease.worker = wid
            lease.key = w.key
            self._fx.journal.attempts_owner.append((wid, w.key, ref[0], ref[1]))
            w.leases.add(ref)
            w.jobs_seen.add(lease.frag.job.id)
            ok.append(ref)
        if replaces and replaces in self.workers:
            self._remove_worker(now, self.workers[replaces], LeaseEnd.LEFT, "worker rejoined")
        self._fx.journal.workers[wid] = w
        return ok

    def touch(self, now: float, wid: str) -> bool:
        """Any message from a worker. False if the worker is unknown (dead or never joined)."""
        w = self.workers.get(wid)
        if w is None:
            return False
        w.last_seen = now
        return True

    def ready(self, now: float, wid: str, credit: int) -> None:
        w = self.workers[wid]
        w.credit = min(self.config.max_credit, w.credit + credit)

    def set_status(self, now: float, wid: str, paused: bool, busy: int) -> None:
        w = self.workers[wid]
        if paused and not w.paused:
            w.paused_since = now
        w.paused = paused
        w.busy = busy

    def hold(self, wid: str, until: float, reason: str) -> None:
        """Lease nothing to ``wid`` before ``until`` (hub/infra.py decides), and say why."""
        w = self.workers.get(wid)
        if w is not None:
            w.held_until, w.held_reason = until, reason

    def release(self, now: float, wid: str, refs: Iterable[tuple[int, int]], reason: str = "",
                *, reset_credit: bool = False) -> None:
        """The worker hands leases back unrun (re-queued at once). ``reset_credit``: it also
        withdraws its unused credit (feature ``release_resets_credit``)."""
        w = self.workers.get(wid)
        if w is None:
            return
        if reset_credit:
            w.credit = 0
        for ref in refs:
            lease = self.leases.get(tuple(ref))
            if lease is not None and lease.worker == wid:
                self._end_lease(now, lease, LeaseEnd.RELEASED, reason or "released", notify=False)

    def leave(self, now: float, wid: str, reason: str = "bye") -> None:
        w = self.workers.get(wid)
        if w is not None:
            self._remove_worker(now, w, LeaseEnd.LEFT, reason or "worker left")

    def lost(self, now: float, wid: str, reason: str) -> None:
        """The transport saw worker ``wid``'s connection close (e.g. its process died): it is
        dead now, exactly as if its liveness had run out; its leases go back to the queue."""
        w = self.workers.get(wid)
        if w is not None:
            self._declare_dead(now, w, reason)

    def _declare_dead(self, now: float, w: _Worker, reason: str) -> None:
        self._remove_worker(now, w, LeaseEnd.LOST, reason)
        self._fx.dead.append(w.id)

    def _remove_worker(self, now: float, w: _Worker, end: str, reason: str) -> None:
        for ref in list(w.leases):
            lease = self.leases.get(ref)
            if lease is not None and lease.worker == w.id:
                self._end_lease(now, lease, end, reason, notify=False)
        w.alive = False
        del self.workers[w.id]
        self._fx.journal.workers[w.id] = w

    def holds(self, now: float, wid: str, fid: int, attempt: int) -> bool:
        lease = self.leases.get((fid, attempt))
        return lease is not None and lease.worker == wid and now <= lease.deadline

    def may_fetch(self, wid: str, sha256: str) -> bool:
        """A worker may fetch the program / shared input of a job it holds a lease of now."""
        w = self.workers.get(wid)
        if w is None:
            return False
        for ref in w.leases:
            lease = self.leases.get(ref)
            if lease is not None and sha256 in (lease.frag.job.program_sha256,
                                                lease.frag.job.shared_sha256):
                return True
        return False

    def is_first_solo_result(self, now: float, wid: str, fid: int, attempt: int) -> bool:
        """True when a result for this current lease would be accepted alone (redundancy 1,
        no spot check yet): the moment a trust layer may ask for a second opinion."""
        lease = self.leases.get((fid, attempt))
        if lease is None or lease.worker != wid or now > lease.deadline:
            return False
        f = lease.frag
        return f.job.redundancy == 1 and f.boost == 0 and not f.votes

    def job_of(self, fid: int, attempt: int) -> _Job | None:
        lease = self.leases.get((fid, attempt))
        return lease.frag.job if lease else None

    # -- time ------------------------------------------------------------------------
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
        """A spot check (``boost``) needs a result from another worker key; when no live
        worker but the voter's is left, accept the single result instead of waiting for
        ever (it stays unverified, as if no check had been drawn)."""
        alive = {w.key for w in self.workers.values() if w.alive}
        for f in [f for f in self.frags.values() if f.boost and f.votes and not f.leases]:
            if len(f.votes) != 1 or f.state is not V:
                continue
            (sha, voters), = f.votes.items()
            if alive - {k for _a, k, _s in voters}:
                continue
            self._fx.journal.frags.setdefault(f.fid, (f.state, f))
            f.boost = 0
            self._accept(now, f, sha, voters[0][0], voters[0][2])

    def _end_hopeless_ties(self, now: float) -> None:
        """Copies that disagree wait for a tie-breaker from a key that has not run the
        fragment; when no connected key may run it for ``tie_break_wait_s``, the fragment
        ends disagreed (see :mod:`.disagreement`) instead of waiting for ever."""
        stuck = [(f.fid, frozenset(f.keys_involved() | (f.killers or set())))
                 for f in self.frags.values()
                 if f.state is V and f.votes and len(f.votes) > 1 and not f.leases]
        live = frozenset(w.key for w in self.workers.values() if w.alive)
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

    # -- leasing ---------------------------------------------------------------------
    def assign(self, now: float) -> dict[str, list[LeaseGrant]]:
        """Hand ready fragments to workers with credit: {worker_id: [(job, fid, index,
        attempt, lease_s), ...]}. Fair share: highest priority first, then the job with the
        fewest leases in flight."""
        out: dict[str, list[LeaseGrant]] = {}
        workers = [w for w in self.workers.values()
                   if w.credit > 0 and not w.paused and now >= w.held_until]
        if not workers:
            return out
        jobs = [j for j in self.jobs.values() if j.ready and j.state is JobState.RUNNING]
        if not jobs:
            return out
        workers.sort(key=lambda w: len(w.leases))
        max_per_msg = Limits.MAX_LEASES_PER_MESSAGE
        # Pass 1 fills idle slots on every worker; only pass 2 hands out prefetch, so a short
        # job of long fragments is spread over the workers instead of queueing on the first.
        for w in workers:
            room = min(w.credit, w.slots - len(w.leases), max_per_msg)
            if room > 0 and jobs:
                got = self._lease_to(now, w, jobs, room)
                if got:
                    out.setdefault(w.id, []).extend(got)
                jobs = [j for j in jobs if j.ready]
        progress = True
        while progress and jobs:
            progress = False
            for w in workers:
                room = min(w.credit, max(16, w.slots), max_per_msg - len(out.get(w.id, ())))
                if room <= 0:
                    continue
                got = self._lease_to(now, w, jobs, room)
                if got:
                    out.setdefault(w.id, []).extend(got)
                    progress = True
                jobs = [j for j in jobs if j.ready]
                if not jobs:
                    break
        return out

    def _lease_to(self, now: float, w: _Worker, jobs: list[_Job], room: int) -> list[LeaseGrant]:
        grants: list[LeaseGrant] = []
        skipped: dict[_Job, list[_Frag]] = {}
        cfg = self.config
        while room > 0:
            if len(jobs) == 1:
                job = jobs[0]
                if not job.ready:
                    break
            else:
                cands = [j for j in jobs if j.ready]
                if not cands:
                    break
                top = max(j.priority for j in cands)
                job = min((j for j in cands if j.priority == top), key=lambda j: j.inflight)
            f = job.ready.popleft()
            f.queued = False
            if f.state.terminal or f.fid not in self.frags:
                continue
            if ((job.redundancy + f.boost > 1 and w.key in f.keys_involved())
                    or (f.killers and w.key in f.killers)
                    or (f.final_reports and w.key in f.final_reports)):
                # copies go to distinct workers; a crash is retried on another worker
                skipped.setdefault(job, []).append(f)
                continue
            attempt = f.next_attempt
            f.next_attempt += 1
            lease_s = job.wall_s * cfg.lease_wall_factor + cfg.lease_grace_s
            deadline = now + lease_s
            lease = _Lease(f, attempt, w.id, w.key, deadline)
            ref = (f.fid, attempt)
            self.leases[ref] = lease
            f.leases[attempt] = lease
            w.leases.add(ref)
            w.credit -= 1
            w.jobs_seen.add(job.id)
            job.inflight += 1
            if deadline < self._min_deadline:
                self._min_deadline = deadline
            self._fx.journal.frags.setdefault(f.fid, (f.state, f))
            if f.state is P:
                self._move(f, L)
            self._fx.journal.attempts_new.append((f.fid, attempt, job.id, w.id, w.key, now, deadline))
            grants.append((job, f.fid, f.index, attempt, lease_s))
            room -= 1
            if self._copies_needed(f) > 0:
                self._queue(f, front=True)
        for job, lst in skipped.items():
            for f in reversed(lst):
                if not f.queued and not f.state.terminal:
                    f.queued = True
                    job.ready.appendleft(f)
        return grants

    def _copies_needed(self, f: _Frag) -> int:
        job = f.job
        if f.votes:
            nvotes = sum(len(v) for v in f.votes.values())
            best = max(len(v) for v in f.votes.values())
        else:
            nvotes = best = 0
        want = max(job.redundancy + f.boost - nvotes, job.quorum + f.boost - best)
        return max(0, want - len(f.leases))

    def _queue(self, f: _Frag, front: bool = False) -> None:
        if f.queued or f.state.terminal or f.job.state is not JobState.RUNNING:
            return
        f.queued = True
        if front:
            f.job.ready.appendleft(f)
        else:
            f.job.ready.append(f)

    # -- results ---------------------------------------------------------------------
    def result(self, now: float, wid: str, fid: int, attempt: int, sha256: str, size: int,
               invalid: str = "", *, spot_check: bool = False) -> str:
        """A worker finished a lease with an ok result (``invalid`` = why it failed the
        hub's checks, empty when digest, size and chunks were right). Returns the ACK
        status; only ``accepted`` means the shell must store the result's chunks.
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
                        size=size)
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
        lease.frag.failures += 1
        self._end_lease(now, lease, LeaseEnd.REJECTED, f"rejected result: {invalid}",
                        notify=False, count=False)
        return AckStatus.REJECTED

    def has_verifier(self, wid: str, key: str = "") -> bool:
        """Is there a live, unpaused worker with another key than session ``wid``'s (``key``
        if it is gone) that could re-run its result as a spot check?"""
        w = self.workers.get(wid)
        me = w.key if w is not None else key
        return any(o.alive and not o.paused and o.key != me for o in self.workers.values())

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
        for sha, lst in (f.votes or {}).items():
            for a, _k, _s in lst:
                if sha != sha256:
                    j.attempts_end.append((now, LeaseEnd.DISAGREED, sha, _s, f"quorum chose {sha256}",
                                           f.fid, a))
                if a != attempt:
                    j.drop_results.append((f.fid, a))
        f.result_attempt = attempt
        f.size = size
        f.sha256 = sha256
        votes = [(k, sha) for sha, lst in (f.votes or {}).items() for _a, k, _s in lst]
        # a final failure report that a result contradicts counts as a disagreeing vote
        votes += [(k, f"failure:{o}") for k, o in (f.final_reports or {}).items()]
        if len(votes) > 1:
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
                        count=False)
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
        f.failures += 1
        self._after_loss(now, f, why)
        return AckStatus.FAILED

    # -- lease bookkeeping ------------------------------------------------------------
    def _end_lease(self, now: float, lease: _Lease, end: str, detail: str, *, notify: bool,
                   requeue: bool = True, count: bool | None = None, sha256: str = "",
                   size: int = 0) -> None:
        f = lease.frag
        ref = (f.fid, lease.attempt)
        del self.leases[ref]
        del f.leases[lease.attempt]
        f.job.inflight -= 1
        if lease.worker is not None:
            w = self.workers.get(lease.worker)
            if w is not None:
                w.leases.discard(ref)
                if notify:
                    self._fx.cancels.setdefault(w.id, []).append(ref)
                    self._fx.cancel_reasons[w.id] = detail
        self._fx.journal.attempts_end.append((now, end, sha256, size, detail[:1000], f.fid,
                                              lease.attempt))
        if not requeue:
            return
        if count is None:
            count = end in (LeaseEnd.LOST, LeaseEnd.EXPIRED)
        if count:
            f.failures += 1
        self._after_loss(now, f, detail)

    def _after_loss(self, now: float, f: _Frag, why: str) -> None:
        """A copy of ``f`` ended without a result: fail it if attempts are exhausted, else
        put it back in the queue."""
        if f.state.terminal or f.job.state is not JobState.RUNNING:
            return
        if f.failures >= f.job.max_attempts:
            self._fail(now, f, f"attempts exhausted ({f.failures}): {why}")
            return
        if f.state is L and not f.leases:
            self._move(f, P)
        if f.fid in self.frags and self._copies_needed(f) > 0:
            self._queue(f, front=True)
        self._fx.journal.frags.setdefault(f.fid, (f.state, f))

    def _fail(self, now: float, f: _Frag, why: str) -> None:
        for other in list(f.leases.values()):
            self._end_lease(now, other, LeaseEnd.CANCELLED, "fragment failed", notify=True,
                            requeue=False)
        for lst in (f.votes or {}).values():
            for a, _k, _s in lst:
                self._fx.journal.drop_results.append((f.fid, a))
        if f.state is P:
            # only reachable when a PENDING fragment is failed directly: go via LEASED's rules
            raise IllegalTransition(f"fragment {f.fid}: PENDING -> FAILED is not allowed")
        f.result_attempt, f.sha256, f.size = None, "", 0    # (a reopened one had a result)
        self._finish(now, f, F, why[:1000])

    def _finish(self, now: float, f: _Frag, state: FragState, reason: str, *,
                keep_seq: bool = False) -> None:
        """Take ``f`` to DONE or FAILED: state change, acceptance sequence number, eviction.
        ``keep_seq``: a re-verified fragment confirmed its result (the buyer has it)."""
        self._move(f, state)
        if not keep_seq:
            self.seq += 1
            f.seq = self.seq
        f.reason = reason
        self.frags.pop(f.fid, None)
        job = f.job
        self._fx.finished_jobs.add(job.id)
        sec = float(int(now))
        dq = self._done_times
        if dq and dq[-1][0] == sec:
            dq[-1] = (sec, dq[-1][1] + 1)
        else:
            dq.append((sec, 1))
        if job.state is JobState.RUNNING and job.n_done + job.n_failed >= job.total and not job.held:
            self._end_job(job, JobState.DONE)

    def held_jobs(self) -> list[str]:
        """Jobs kept open after a vote outvoted a worker (see :meth:`release_job`)."""
        return [j.id for j in self.jobs.values() if j.held]

    def release_job(self, now: float, job_id: str) -> None:
        """The shell has reopened what the trust layer wanted re-verified after a vote that
        outvoted a worker: the job may end (now, if every fragment is DONE or FAILED)."""
        job = self.jobs.get(job_id)
        if job is None or not job.held:
            return
        job.held = False
        if job.state is JobState.RUNNING and job.n_done + job.n_failed >= job.total:
            self._end_job(job, JobState.DONE)

    def _move(self, f: _Frag, new: FragState) -> None:
        """The one place a fragment's state changes: table check, counts, journal."""
        journal = self._fx.journal
        old = f.state
        if f.fid not in journal.frags:
            journal.frags[f.fid] = (old, f)
        apply_transition(f, new)
        job = f.job
        if old is L:
            job.n_leased -= 1
        elif old is V:
            job.n_voting -= 1
        elif old is D:
            job.n_done -= 1
        if new is L:
            job.n_leased += 1
        elif new is V:
            job.n_voting += 1
        elif new is D:
            job.n_done += 1
        elif new is F:
            job.n_failed += 1

    # -- queries ---------------------------------------------------------------------
    def progress(self, job_id: str) -> dict:
        job = self.jobs.get(job_id)
        if job is None:
            raise UnknownJob(f"no job {job_id!r}")
        return {
            "job_id": job.id, "name": job.name, "state": job.state.value, "total": job.total,
            "pending": job.total - job.n_leased - job.n_voting - job.n_done - job.n_failed,
            "leased": job.n_leased, "voting": job.n_voting, "done": job.n_done,
            "failed": job.n_failed, "priority": job.priority,
            "waiting": w.text if (w := self.waiting(job_id)) else "",
        }

    def waiting(self, job_id: str, sample: int = 32) -> Waiting | None:
        """Why ``job_id``'s queued fragments get no lease now (see :mod:`.waiting`), or None.
        Looks at the first ``sample`` queued fragments only: O(sample + workers)."""
        job = self.jobs.get(job_id)
        if job is None or job.state is not JobState.RUNNING:
            return None
        queued = []
        for f in job.ready:
            if len(queued) >= sample:
                break
            if f.state.terminal or self._copies_needed(f) <= 0:
                continue
            distinct = job.redundancy + f.boost > 1
            excluded = ((f.keys_involved() if distinct else set()) | (f.killers or set())
                        | set(f.final_reports or ()))
            queued.append(FragView(job.redundancy + f.boost if distinct else 1,
                                   frozenset(excluded), len(f.votes or ())))
        if not queued:
            return None
        holding = {ls.worker for ls in self.leases.values() if ls.frag.job is job}
        views = [WorkerView(w.key, w.alive, w.paused or bool(w.held_reason), w.credit > 0,
                            w.id in holding)
                 for w in self.workers.values()]
        return waiting_reason(queued, views)

    def workers_info(self, now: float) -> list[dict]:
        return [{
            "worker_id": w.id, "name": w.name, "slots": w.slots, "busy": len(w.leases),
            "paused": w.paused, "alive": w.alive, "last_seen_s": round(max(0.0, now - w.last_seen), 3),
            "done": w.done, "failed": w.failed, "credit": w.credit,
            "held": w.held_reason if now < w.held_until else "",
        } for w in self.workers.values()]

    def throughput_per_s(self, now: float, window_s: float = 10.0) -> float:
        dq = self._done_times
        while dq and dq[0][0] < now - window_s:
            dq.popleft()
        if not dq:
            return 0.0
        span = max(1.0, min(window_s, now - dq[0][0] + 1.0))
        return sum(c for _t, c in dq) / span

    def check_invariants(self) -> None:
        """Cross-check the in-memory indexes (used by tests; cheap enough to call often)."""
        for ref, lease in self.leases.items():
            f = lease.frag
            if f.leases.get(ref[1]) is not lease or f.fid != ref[0]:
                raise AssertionError(f"lease {ref} not indexed on its fragment")
            if f.state not in (L, V):
                raise AssertionError(f"lease {ref} on fragment in state {f.state}")
            if lease.worker is not None:
                w = self.workers.get(lease.worker)
                if w is None or ref not in w.leases:
                    raise AssertionError(f"lease {ref} held by unknown/dead worker {lease.worker}")
        for w in self.workers.values():
            for ref in w.leases:
                if ref not in self.leases or self.leases[ref].worker != w.id:
                    raise AssertionError(f"worker {w.id} lists lease {ref} it does not hold")
        for f in self.frags.values():
            if f.state.terminal:
                raise AssertionError(f"terminal fragment {f.fid} still in memory")
            if f.state is L and not f.leases:
                raise AssertionError(f"LEASED fragment {f.fid} without leases")
            if f.state is P and f.leases:
                raise AssertionError(f"PENDING fragment {f.fid} with leases")
            if f.job.redundancy > 1:
                keys = [ls.key for ls in f.leases.values()]
                if len(keys) != len(set(keys)):
                    raise AssertionError(f"fragment {f.fid} has two copies on one worker")

    # -- restore ---------------------------------------------------------------------
    @classmethod
    def restore(cls, config: HubConfig, now: float, *, seq: int, jobs: Iterable[dict],
                active: Iterable[tuple], open_leases: Iterable[tuple], votes: Iterable[tuple],
                killers: Iterable[tuple], workers: Iterable[dict] = (),
                final_reports: Iterable[tuple] = ()) -> Scheduler:
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
        core._fx = Effects()
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
