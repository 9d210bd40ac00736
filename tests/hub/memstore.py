"""An in-memory stand-in for :class:`cpushare_mq.hub.store.Store` (the parts the scheduler
needs), written from the store's documented semantics. The pure state-machine test uses it
to restart the core without SQLite; the store test compares the real store against it."""

from __future__ import annotations

import hashlib
import itertools

from cpushare_mq.errors import StoreError
from cpushare_mq.hub.scheduler import Journal, validate_spec
from cpushare_mq.outcome import Outcome

KILL_ENDS = {f"failure:{o.value}" for o in Outcome if o.kills_sandbox}
FINAL_ENDS = {f"failure:{o.value}" for o in Outcome if o.is_final}


class MemStore:
    def __init__(self):
        self.jobs: dict[str, dict] = {}
        self.frags: dict[int, dict] = {}
        self.attempts: dict[tuple[int, int], dict] = {}
        self.results: dict[tuple[int, int, int], bytes] = {}
        self.workers: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._jobs = itertools.count(1)

    def add_job(self, spec, now: float) -> dict:
        quorum = validate_spec(spec)
        job_id = f"j-{next(self._jobs):04d}"
        row = {"id": job_id, "name": spec.name,
               "program_sha256": hashlib.sha256(spec.program).hexdigest(),
               "shared_sha256": hashlib.sha256(spec.shared_input).hexdigest(),
               "redundancy": spec.redundancy, "quorum": quorum, "cpu_s": float(spec.cpu_s),
               "wall_s": float(spec.wall_s), "max_attempts": spec.max_attempts,
               "max_output_bytes": spec.max_output_bytes, "priority": spec.priority,
               "state": "running", "total": len(spec.fragments), "created_s": now,
               "ended_s": None, "cursor": 0}
        self.jobs[job_id] = row
        for i, data in enumerate(spec.fragments):
            fid = next(self._ids)
            self.frags[fid] = {"id": fid, "job_id": job_id, "idx": i, "input": bytes(data),
                               "state": "PENDING", "next_attempt": 0, "failures": 0,
                               "seq": None, "reason": "", "result_attempt": None, "size": 0,
                               "sha256": None, "boost": 0}
        return dict(row, n_done=0, n_failed=0, n_leased=0, n_voting=0)

    def pending(self, job_id: str, after: int, limit: int):
        rows = [(f["id"], f["idx"], f["next_attempt"], f["failures"])
                for f in self.frags.values()
                if f["job_id"] == job_id and f["state"] == "PENDING" and f["id"] > after]
        return sorted(rows)[:limit]

    def apply(self, j: Journal, now: float) -> None:
        for job in j.jobs:
            self.jobs[job.id]["state"] = job.state.value
            self.jobs[job.id]["ended_s"] = now
        for fid, attempt, job_id, wid, key, leased, deadline in j.attempts_new:
            if (fid, attempt) in self.attempts:
                raise StoreError(f"attempt {(fid, attempt)} stored twice")
            self.attempts[(fid, attempt)] = {"job_id": job_id, "worker_id": wid, "worker_key": key,
                                             "leased_s": leased, "deadline_s": deadline,
                                             "ended_s": None, "end": None, "sha256": None,
                                             "size": None, "detail": None}
        for wid, key, fid, attempt in j.attempts_owner:
            self.attempts[(fid, attempt)].update(worker_id=wid, worker_key=key)
        for ended, end, sha, size, detail, _cpu_us, fid, attempt in j.attempts_end:
            self.attempts[(fid, attempt)].update(ended_s=ended, end=end, sha256=sha, size=size,
                                                 detail=detail)
        for f in j.frags:
            row = self.frags[f.fid]
            if row["state"] != f.old.value:
                raise StoreError(f"fragment {f.fid}: store has {row['state']}, core thought {f.old.value}")
            row.update(state=f.state.value, next_attempt=f.next_attempt, failures=f.failures,
                       seq=f.seq, reason=f.reason, result_attempt=f.result_attempt, size=f.size,
                       sha256=f.sha256, boost=f.boost)
        for fid, attempt, seq, data in j.results:
            self.results[(fid, attempt, seq)] = data
        for fid, attempt in j.drop_results:
            for k in [k for k in self.results if k[:2] == (fid, attempt)]:
                del self.results[k]
        for w in j.workers:
            self.workers[w.id] = {"alive": w.alive, "done": w.done, "failed": w.failed}

    def snapshot(self) -> dict:
        jobs = []
        for row in self.jobs.values():
            if row["state"] != "running":     # the hub loads live jobs only (hub/retention.py)
                continue
            states = [f["state"] for f in self.frags.values() if f["job_id"] == row["id"]]
            jobs.append(dict(row, n_done=states.count("DONE"), n_failed=states.count("FAILED"),
                             n_leased=states.count("LEASED"), n_voting=states.count("VOTING")))
        running = {r["id"] for r in self.jobs.values() if r["state"] == "running"}
        active = [(f["id"], f["job_id"], f["idx"], f["state"], f["next_attempt"], f["failures"],
                   f["boost"], f["seq"], f["result_attempt"], f["sha256"], f["size"])
                  for f in self.frags.values()
                  if f["job_id"] in running and f["state"] in ("LEASED", "VOTING")]
        fids = {a[0] for a in active}
        open_leases = [(fid, a, r["worker_id"], r["worker_key"], r["deadline_s"])
                       for (fid, a), r in self.attempts.items() if fid in fids and r["end"] is None]
        votes = [(fid, a, r["worker_key"], r["sha256"], r["size"])
                 for (fid, a), r in self.attempts.items() if fid in fids and r["end"] == "vote"]
        killers = sorted({(fid, r["worker_key"]) for (fid, a), r in self.attempts.items()
                          if fid in fids and r["end"] in KILL_ENDS})
        unfinished = {f["id"] for f in self.frags.values() if f["job_id"] in running
                      and f["state"] in ("PENDING", "LEASED", "VOTING")}
        final_reports = [(fid, r["worker_key"], r["end"][len("failure:"):])
                         for (fid, a), r in self.attempts.items()
                         if fid in unfinished and r["end"] in FINAL_ENDS]
        seq = max((f["seq"] or 0 for f in self.frags.values()), default=0)
        return {"seq": seq, "jobs": jobs, "active": active, "open_leases": open_leases,
                "votes": votes, "killers": killers, "final_reports": final_reports}

    def reopen_rows(self, fids) -> list[tuple]:
        out = []
        for fid in fids:
            f = self.frags.get(fid)
            if f is None or f["state"] != "DONE":
                continue
            if sum(1 for (fi, _a), r in self.attempts.items() if fi == fid and r["end"] == "vote") != 1:
                continue
            a = self.attempts[(fid, f["result_attempt"])]
            out.append((fid, f["job_id"], f["idx"], f["next_attempt"], f["failures"], f["seq"],
                        f["result_attempt"], f["sha256"], f["size"], a["worker_key"]))
        return out

    # views the tests compare
    def frag_view(self) -> dict[int, tuple]:
        return {fid: (f["state"], f["next_attempt"], f["failures"], f["seq"], f["result_attempt"])
                for fid, f in self.frags.items()}
