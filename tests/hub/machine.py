"""Hypothesis state machine over the pure scheduler with a fake clock and a store.

The base machine runs against :class:`MemStore`; ``tests/hub/test_store.py`` runs the very
same rules against the real SQLite store (and compares it with MemStore after each step)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from memstore import MemStore
from sealcheck import assert_sealed

from cpushare_mq.hub.scheduler import HubConfig, JobSpec, JobState, Reopen, Scheduler
from cpushare_mq.jobspec import JobSpecError
from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.protocol import AckStatus

CONFIG = HubConfig(heartbeat_interval_s=1.0, liveness=3, lease_grace_s=5.0,
                   lease_wall_factor=2.0, reconnect_grace_s=4.0, pause_grace_s=5.0,
                   window_fragments=4, sandbox_kill_limit=3)
WALL_S = 2.0


def right_sha(fid: int) -> str:
    return hashlib.sha256(b"ok%d" % fid).hexdigest()


def wrong_sha(fid: int, attempt: int) -> str:
    return hashlib.sha256(b"bad%d/%d" % (fid, attempt)).hexdigest()


class ModelWorker:
    def __init__(self, n: int, key: str, slots: int):
        self.n = n
        self.key = key
        self.slots = slots
        self.wid: str | None = None
        self.held: set[tuple[int, int]] = set()
        self.answered: set[tuple[int, int]] = set()


class SchedulerMachine(RuleBasedStateMachine):
    """Rules = events a hub sees; invariants = docs/architecture.md's."""

    def __init__(self):
        super().__init__()
        self.now = 1000.0
        self.store = self.make_store()
        self.core = Scheduler(CONFIG)
        self.workers: list[ModelWorker] = []
        self.sessions = 0
        self.terminal: dict[int, tuple] = {}   # fid -> (state, seq) once DONE/FAILED
        self.cancelled: set[str] = set()
        self.restarts = 0
        self.reopened: dict[int, tuple] = {}   # fid -> (sha256, seq) it had when reopened
        self.reopens = 0
        self.ever_reopened: set[int] = set()

    # -- plumbing --------------------------------------------------------------------
    def make_store(self):
        return MemStore()

    def apply(self, journal) -> None:
        self.store.apply(journal, self.now)

    def snapshot(self) -> dict:
        return self.store.snapshot()

    def frag_rows(self) -> dict[int, dict]:
        return self.store.frags

    def attempt_rows(self) -> dict[tuple[int, int], dict]:
        return self.store.attempts

    def flush(self) -> dict:
        core = self.core
        for job_id in core.held_jobs():     # as the hub does once re-verification is reopened
            core.release_job(self.now, job_id)
        for job_id, after, limit in core.refill_requests():
            core.add_pending(job_id, self.store.pending(job_id, after, limit), limit)
        grants = core.assign(self.now)
        fx = core.take_effects()
        assert_sealed(grants, "grants")         # the shell gets frozen records only
        assert_sealed(fx, "effects")
        self.apply(fx.journal)
        for job in fx.journal.jobs:    # as the hub does once the end is committed
            if job.state is not JobState.RUNNING:
                core.forget_job(job.id)
        for w in self.workers:
            if w.wid is not None and not core.has_worker(w.wid):
                w.wid = None          # declared dead: the worker will find out and rejoin
        for wid, lst in grants.items():
            w = self.by_wid(wid)
            for _job, fid, _index, attempt, _lease_s in lst:
                w.held.add((fid, attempt))
        for wid, refs in fx.cancels.items():
            w = self.by_wid(wid)
            if w is not None:
                w.held.difference_update(refs)
        return grants

    def by_wid(self, wid: str) -> ModelWorker | None:
        for w in self.workers:
            if w.wid == wid:
                return w
        return None

    def connected(self) -> list[ModelWorker]:
        return [w for w in self.workers if w.wid is not None]

    def current(self, w: ModelWorker, ref) -> bool:
        """Independent of the core: is ``ref`` an open attempt of ``w`` in the store?"""
        row = self.attempt_rows().get(tuple(ref))
        return (row is not None and row["end"] is None and row["worker_id"] == w.wid
                and row["deadline_s"] >= self.now)

    # -- rules -----------------------------------------------------------------------
    @initialize(n=st.integers(1, 6), redundancy=st.sampled_from([1, 2, 3]),
                workers=st.lists(st.tuples(st.sampled_from(["", "ka", "kb", "kc"]),
                                           st.integers(1, 3)), min_size=1, max_size=3))
    def start(self, n, redundancy, workers):
        self.submit(n, redundancy, 3, 0)
        for key, slots in workers:
            self.join(key, slots)
            self.core.ready(self.now, self.workers[-1].wid, slots)
        self.flush()

    @precondition(lambda self: len(self.store.jobs) < 4)
    @rule(n=st.integers(0, 6), redundancy=st.sampled_from([1, 1, 2, 3]),
          max_attempts=st.integers(1, 4), priority=st.integers(0, 1))
    def submit(self, n, redundancy, max_attempts, priority):
        spec = JobSpec(program=b"P", fragments=[b"%d" % i for i in range(n)],
                       redundancy=redundancy, max_attempts=max_attempts, priority=priority,
                       wall_s=WALL_S, cpu_s=1.0)
        if n == 0:   # every entry point refuses an empty job (cpushare_mq/jobspec.py)
            with pytest.raises(JobSpecError, match="number of fragments"):
                self.store.add_job(spec, self.now)
            return
        row = self.store.add_job(spec, self.now)
        self.core.add_job(row)
        self.flush()

    @precondition(lambda self: len(self.workers) < 6)
    @rule(key=st.sampled_from(["", "ka", "kb", "kc"]), slots=st.integers(1, 3))
    def join(self, key, slots):
        w = ModelWorker(len(self.workers), key, slots)
        self.workers.append(w)
        self._hello(w)

    def _hello(self, w: ModelWorker):
        self.sessions += 1
        wid = f"w-{self.sessions}"
        ok = self.core.join(self.now, wid, name=f"m{w.n}", key=w.key, slots=w.slots,
                            held=sorted(w.held), replaces=w.wid)
        for ref in ok:
            assert ref in w.held, "hub honoured a lease the worker did not announce"
        w.wid = wid
        w.held = set(ok)
        self.flush()

    @precondition(lambda self: self.workers)
    @rule(data=st.data())
    def rejoin(self, data):
        w = data.draw(st.sampled_from(self.workers))
        self._hello(w)

    @precondition(lambda self: self.connected())
    @rule(data=st.data(), credit=st.integers(1, 4))
    def ready(self, data, credit):
        w = data.draw(st.sampled_from(self.connected()))
        assert self.core.touch(self.now, w.wid)
        self.core.ready(self.now, w.wid, credit)
        self.flush()

    @precondition(lambda self: self.connected())
    @rule(data=st.data())
    def heartbeat(self, data):
        w = data.draw(st.sampled_from(self.connected()))
        assert self.core.touch(self.now, w.wid)

    @rule(dt=st.floats(0.05, 4.0))
    def advance(self, dt):
        self.now += dt
        self.core.tick(self.now)
        self.flush()

    @rule()
    def heartbeat_all(self):
        for w in self.connected():
            self.core.touch(self.now, w.wid)

    def _pick_held(self, data, w) -> tuple[int, int]:
        return data.draw(st.sampled_from(sorted(w.held)))

    @precondition(lambda self: any(w.held for w in self.connected()))
    @rule(data=st.data(), right=st.booleans(), spot=st.booleans())
    def answer(self, data, right, spot):
        w = data.draw(st.sampled_from([w for w in self.connected() if w.held]))
        ref = self._pick_held(data, w)
        self.core.touch(self.now, w.wid)
        spot = spot and self.core.is_first_solo_result(self.now, w.wid, *ref)
        self._result(w, ref, right_sha(ref[0]) if right else wrong_sha(*ref), spot_check=spot)
        w.held.discard(ref)
        w.answered.add(ref)
        self.flush()

    def _result(self, w, ref, sha, invalid="", spot_check=False) -> str:
        was_current = self.current(w, ref)
        status = self.core.result(self.now, w.wid, ref[0], ref[1], sha, 10, invalid,
                                  spot_check=spot_check)
        if status == AckStatus.ACCEPTED:
            assert was_current, f"result for {ref} accepted from {w.wid} without a current lease"
        if not was_current:
            assert status == AckStatus.STALE, status
        return status

    @precondition(lambda self: any(w.answered for w in self.connected()))
    @rule(data=st.data())
    def duplicate(self, data):
        w = data.draw(st.sampled_from([w for w in self.connected() if w.answered]))
        ref = data.draw(st.sampled_from(sorted(w.answered)))
        status = self._result(w, ref, right_sha(ref[0]))
        assert status == AckStatus.STALE, f"duplicate result for {ref} got {status}"
        self.flush()

    @precondition(lambda self: self.connected() and self.store.frags)
    @rule(data=st.data(), attempt=st.integers(0, 5))
    def bogus(self, data, attempt):
        w = data.draw(st.sampled_from(self.connected()))
        fid = data.draw(st.sampled_from(sorted(self.store.frags)))
        if (fid, attempt) in w.held:
            return
        self._result(w, (fid, attempt), right_sha(fid))
        self.flush()

    @precondition(lambda self: any(w.held for w in self.connected()))
    @rule(data=st.data())
    def invalid(self, data):
        w = data.draw(st.sampled_from([w for w in self.connected() if w.held]))
        ref = self._pick_held(data, w)
        status = self._result(w, ref, right_sha(ref[0]), invalid="digest mismatch")
        assert status in (AckStatus.REJECTED, AckStatus.STALE)
        w.held.discard(ref)
        self.flush()

    @precondition(lambda self: any(w.held for w in self.connected()))
    @rule(data=st.data(), outcome=st.sampled_from([o for o in Outcome if o is not Outcome.OK]))
    def fail(self, data, outcome):
        w = data.draw(st.sampled_from([w for w in self.connected() if w.held]))
        ref = self._pick_held(data, w)
        was_current = self.current(w, ref)
        lease = self.core.leases.get(ref)
        status = self.core.failure(self.now, w.wid, ref[0], ref[1], OutcomeRecord(outcome, message="x"))
        assert status == (AckStatus.FAILED if was_current else AckStatus.STALE)
        if was_current and outcome.is_final:
            # a final failure fails the fragment once the job's quorum of distinct keys agree
            reports = self.__dict__.setdefault("final_reports", {}).setdefault(ref[0], set())
            reports.add(lease.key)
            assert self.frag_rows()[ref[0]]["state"] != "DONE"
            self.flush()
            if len(reports) >= lease.frag.job.quorum:
                assert self.frag_rows()[ref[0]]["state"] == "FAILED"
        w.held.discard(ref)
        self.flush()

    @precondition(lambda self: any(w.held for w in self.connected()))
    @rule(data=st.data())
    def release(self, data):
        w = data.draw(st.sampled_from([w for w in self.connected() if w.held]))
        self.core.release(self.now, w.wid, sorted(w.held), "shutdown")
        w.held.clear()
        self.flush()

    @precondition(lambda self: self.connected())
    @rule(data=st.data(), paused=st.booleans())
    def pause(self, data, paused):
        w = data.draw(st.sampled_from(self.connected()))
        self.core.set_status(self.now, w.wid, paused, 0)
        self.flush()

    @precondition(lambda self: self.connected())
    @rule(data=st.data(), go=st.integers(0, 2))
    def bye(self, data, go):
        if go:
            return
        w = data.draw(st.sampled_from(self.connected()))
        self.core.leave(self.now, w.wid, "bye")
        w.wid = None
        w.held.clear()
        self.flush()

    @precondition(lambda self: self.connected())
    @rule(data=st.data(), go=st.integers(0, 2))
    def connection_closed(self, data, go):
        """The transport saw the worker's connection close: dead now, leases requeued."""
        if go:
            return
        w = data.draw(st.sampled_from(self.connected()))
        held = sorted(w.held)
        self.core.lost(self.now, w.wid, "connection closed")
        assert w.wid not in self.core.workers
        for ref in held:
            assert not self.core.holds(self.now, w.wid, *ref)
        w.wid = None             # a killed worker: its late answers come, if ever, on rejoin
        self.flush()

    @precondition(lambda self: self.store.jobs)
    @rule(data=st.data(), go=st.integers(0, 3))
    def cancel(self, data, go):
        if go:
            return
        # by position: SQLite's job ids are random, and draws must not depend on them
        job_id = list(self.store.jobs)[data.draw(st.integers(0, len(self.store.jobs) - 1))]
        if self.store.jobs[job_id]["state"] != "running":
            assert job_id not in self.core.jobs     # ended: the core holds live jobs only
            return                  # and the hub has nothing to cancel (Hub.cancel_job)
        self.core.cancel_job(self.now, job_id)
        self.cancelled.add(job_id)
        self.flush()

    def _reopenable(self) -> list[int]:
        return sorted(fid for fid, f in self.frag_rows().items()
                      if f["state"] == "DONE" and fid not in self.reopened
                      and self.store.jobs[f["job_id"]]["state"] == "running")

    @precondition(lambda self: self._reopenable())
    @rule(data=st.data())
    def reopen(self, data):
        """The trust layer caught the worker of an accepted result: re-verify it."""
        fid = data.draw(st.sampled_from(self._reopenable()))
        rows = self.store.reopen_rows([fid])
        f = self.frag_rows()[fid]
        job = self.store.jobs[f["job_id"]]
        if not rows:            # accepted by a vote (redundancy or a spot check)
            return
        (row,) = rows
        assert row[5] == f["seq"] and row[6] == f["result_attempt"] and row[7] == f["sha256"]
        ok = self.core.reopen(self.now, Reopen(*row))
        assert ok == (job["redundancy"] == 1)
        if ok:
            self.reopens += 1
            self.reopened[fid] = (f["sha256"], f["seq"])
            self.terminal.pop(fid, None)
        self.flush()
        if ok:
            assert self.frag_rows()[fid]["state"] == "VOTING"

    def reopen_all(self) -> None:
        """Re-verify every lone accepted result of a running job not reopened before."""
        for fid in self._reopenable():
            if fid in self.ever_reopened:
                continue
            self.ever_reopened.add(fid)
            rows = self.store.reopen_rows([fid])
            if rows and self.core.reopen(self.now, Reopen(*rows[0])):
                self.reopens += 1
                f = self.frag_rows()[fid]
                self.reopened[fid] = (f["sha256"], f["seq"])
                self.terminal.pop(fid, None)
        self.flush()
        self.check_all()

    @rule(go=st.integers(0, 5))
    def restart(self, go):
        if go:
            return
        self.flush()
        self.restarts += 1
        self.core = Scheduler.restore(CONFIG, self.now, **self.snapshot())
        for w in self.workers:
            w.wid = None             # every connection is gone; workers keep what they hold
        self.flush()

    # -- invariants ------------------------------------------------------------------
    @invariant()
    def core_indexes_agree(self):
        self.core.check_invariants()

    @invariant()
    def counts_agree_with_store(self):
        rows = self.frag_rows()
        for job in self.core.jobs.values():
            states = [f["state"] for f in rows.values() if f["job_id"] == job.id]
            p = self.core.progress(job.id)
            assert len(states) == p["total"]
            for name in ("DONE", "FAILED", "LEASED", "VOTING"):
                assert states.count(name) == p[name.lower()], (job.id, name, states, p)

    @invariant()
    def accepted_once_with_quorum(self):
        rows = self.frag_rows()
        attempts = self.attempt_rows()
        seqs = [f["seq"] for f in rows.values() if f["seq"] is not None]
        assert len(seqs) == len(set(seqs)), "two fragments share an acceptance seq"
        for fid, f in rows.items():
            if fid in self.terminal:
                assert (f["state"], f["seq"]) == self.terminal[fid], f"terminal fragment {fid} changed"
            if f["state"] in ("DONE", "FAILED"):
                assert f["seq"] is not None
                if fid in self.reopened:
                    # re-verified: the same result keeps its seq (nothing new for the buyer),
                    # anything else is a new acceptance, after everything before it
                    sha, seq = self.reopened.pop(fid)
                    if f["state"] == "DONE" and f["sha256"] == sha:
                        assert f["seq"] == seq, f"confirmed fragment {fid} got a new seq"
                    else:
                        assert f["seq"] > seq, f"corrected fragment {fid} kept an old seq"
                self.terminal[fid] = (f["state"], f["seq"])
            elif fid in self.reopened:
                assert f["state"] == "VOTING" or f["job_id"] in self.cancelled, (fid, f)
            if f["state"] == "FAILED":
                assert f["reason"], f"fragment {fid} FAILED without a reason"
            if f["state"] == "DONE":
                job = self.store.jobs[f["job_id"]]
                agreeing = [a for (fi, a), r in attempts.items()
                            if fi == fid and r["end"] == "vote" and r["sha256"] == f["sha256"]]
                need = job["quorum"] + (f.get("boost") or 0)
                assert len(agreeing) >= need, f"fragment {fid} DONE without a quorum"
                assert f["result_attempt"] in agreeing
                assert f["sha256"] == right_sha(fid) or job["quorum"] < job["redundancy"] or job["redundancy"] == 1
            if f["state"] != "LEASED" and f["state"] != "VOTING":
                open_ = [k for k, r in attempts.items() if k[0] == fid and r["end"] is None]
                assert not open_, f"fragment {fid} in {f['state']} with open leases {open_}"

    @invariant()
    def no_lease_on_dead_worker(self):
        for lease in self.core.leases.values():
            assert lease.worker is None or lease.worker in self.core.workers

    def check_all(self):
        self.core_indexes_agree()
        self.counts_agree_with_store()
        self.accepted_once_with_quorum()
        self.no_lease_on_dead_worker()

    # -- the end: with healthy workers every live job finishes ------------------------
    def teardown(self):
        rows = self.frag_rows().values()
        event(f"fragments DONE before the drain: {min(3, sum(f['state'] == 'DONE' for f in rows))}")
        event(f"FAILED before the drain: {min(3, sum(f['state'] == 'FAILED' for f in rows))}")
        event(f"restarts: {min(2, self.restarts)}")
        self.reopen_all()

        event(f"attempts: {min(20, len(self.attempt_rows())) // 5 * 5}+")
        healthy = []
        for i, key in enumerate(["h1", "h2", "h3"]):
            w = ModelWorker(100 + i, key, 2)
            self.workers.append(w)
            self._hello(w)
            healthy.append(w)
        for _ in range(400):
            if all(j.state is not JobState.RUNNING for j in self.core.jobs.values()):
                break
            for w in healthy:
                self.core.touch(self.now, w.wid)
                self.core.ready(self.now, w.wid, 2)
            self.flush()
            for w in healthy:
                for ref in sorted(w.held):
                    self._result(w, ref, right_sha(ref[0]))
                w.held.clear()
            self.now += 1.0
            for w in healthy:
                self.core.touch(self.now, w.wid)
            self.core.tick(self.now)
            self.flush()
            self.check_all()
            self.reopen_all()       # re-verify what the drain accepted (each fragment once)
        event(f"reopened: {min(3, self.reopens)}")
        running = [j.id for j in self.core.jobs.values() if j.state is JobState.RUNNING]
        assert not running, f"jobs {running} did not finish with healthy workers"
        for fid, f in self.frag_rows().items():
            if f["job_id"] not in self.cancelled:
                assert f["state"] in ("DONE", "FAILED"), (fid, f)
