"""The core's own mutable records (slots classes): only for active fragments and the
pending window, and the draft of a batch's effects. Private to the scheduler package:
nothing outside it reads them; what leaves is built from them as the frozen records of
:mod:`.effects` (:meth:`_Effects.freeze`, :attr:`_Job.view`, :meth:`_Worker.record`)."""

from __future__ import annotations

from collections import deque

from .effects import Effects, FragChange, JobEnd, JobView, Journal, WorkerRecord
from .states import FragState, JobState

P = FragState.PENDING


class _Job:
    __slots__ = ("id", "name", "program_sha256", "shared_sha256", "redundancy", "quorum",
                 "cpu_s", "wall_s", "max_attempts", "max_output_bytes", "priority", "state",
                 "total", "n_done", "n_failed", "n_leased", "n_voting", "ready", "loaded_upto",
                 "exhausted", "inflight", "max_extra", "created_s", "held", "allowance",
                 "allowance_why", "view")

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
        self.allowance: int | None = None   # more leases allowed (a budget; .allowance)
        self.allowance_why = ""
        self.view = JobView(self.id, self.name, self.program_sha256, self.shared_sha256,
                            self.redundancy, self.quorum, self.cpu_s, self.wall_s,
                            self.max_attempts, self.max_output_bytes, self.priority)


class _Frag:
    __slots__ = ("fid", "job", "index", "state", "next_attempt", "failures", "leases", "votes",
                 "killers", "queued", "seq", "reason", "result_attempt", "size", "sha256", "boost",
                 "final_reports", "blamed")

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
        #: keys whose failed attempts were counted against ``failures`` (once per key and
        #: hub run: a key that keeps losing the fragment cannot exhaust its attempts alone)
        self.blamed: set[str] | None = None

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

    @property
    def takes_work(self) -> bool:
        """Could run a spot check's copy: alive, not paused, and asking for leases (credit)
        or running some. A peer that joined and never asks for work is not: a check waiting
        for it would wait for as long as it stays connected."""
        return self.alive and not self.paused and (self.credit > 0 or bool(self.leases))

    def record(self) -> WorkerRecord:
        return WorkerRecord(self.id, self.name, self.key, self.slots, self.credit, self.joined_s,
                            self.last_seen, self.paused, self.paused_since, self.alive,
                            self.done, self.failed, tuple(self.jobs_seen))


class _Journal:
    """The draft of a batch's :class:`~.effects.Journal`: live objects until it is frozen."""

    __slots__ = ("frags", "attempts_new", "attempts_owner", "attempts_end", "drop_results",
                 "jobs", "workers")

    def __init__(self) -> None:
        self.frags: dict[int, tuple[FragState, _Frag]] = {}  # fid -> (state in store, frag)
        self.attempts_new: list[tuple] = []
        self.attempts_owner: list[tuple] = []
        self.attempts_end: list[tuple] = []
        self.drop_results: list[tuple] = []
        self.jobs: dict[str, _Job] = {}
        self.workers: dict[str, _Worker] = {}

    def freeze(self) -> Journal:
        """The frozen journal: each journaled fragment's row now, with its state in the
        store before the batch."""
        new = tuple.__new__     # = FragChange(...) without its __new__'s call (2+ a fragment)
        return Journal(tuple([new(FragChange, (f.fid, f.job.id, f.index, old, f.state,
                                               f.next_attempt, f.failures, f.seq, f.reason,
                                               f.result_attempt, f.size, f.sha256, f.boost))
                              for old, f in self.frags.values()]),
                       tuple(self.attempts_new), tuple(self.attempts_owner),
                       tuple(self.attempts_end), (), tuple(self.drop_results),
                       tuple([JobEnd(j.id, j.state, j.n_done, j.n_failed) for j in self.jobs.values()]),
                       tuple([w.record() for w in self.workers.values()]))


class _Effects:
    """The draft of a batch's :class:`~.effects.Effects`."""

    __slots__ = ("journal", "cancels", "cancel_reasons", "dead", "finished_jobs", "verdicts",
                 "accepted")

    def __init__(self) -> None:
        self.journal = _Journal()
        self.cancels: dict[str, list[tuple[int, int]]] = {}
        self.cancel_reasons: dict[str, str] = {}
        self.dead: list[str] = []
        self.finished_jobs: set[str] = set()
        self.verdicts: list[tuple[int, str, str, list[tuple[str, str]]]] = []
        self.accepted: list[tuple[int, str, int]] = []

    def freeze(self) -> Effects:
        return Effects(self.journal.freeze(), self.cancels, self.cancel_reasons, self.dead,
                       self.finished_jobs, self.verdicts, self.accepted)
