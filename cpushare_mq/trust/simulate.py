"""A seeded simulation of honest and cheating workers under the reputation policy (k = 1).

Pure and deterministic for a given seed: used by the tests (how fast is a cheater caught?)
and by ``bench/trust_spotcheck.py`` (what do spot checks cost?). Each fragment is run once
by a random non-banned worker; :meth:`ReputationBook.on_accepted` decides whether it is
spot-checked, in which case it is re-run on a verifier (and a third worker on a tie) and the
majority decides. :class:`Reverify` actions re-run a caught worker's unverified results.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .reputation import Banned, ReputationBook, Reverify, Struck, TrustPolicy, tally_results

__all__ = ["SimResult", "simulate"]


@dataclass
class SimResult:
    fragments: int = 0                  # fragments accepted
    runs: int = 0                       # sandbox runs in total (first runs + checks)
    check_runs: int = 0                 # extra runs for spot checks, tiebreaks and re-verification
    caught_at: dict[str, int | None] = field(default_factory=dict)   # cheater -> its fragment #
    banned_at: dict[str, int | None] = field(default_factory=dict)
    wrong_accepted: int = 0             # wrong results still standing at the end
    wrong_corrected: int = 0            # wrong results fixed by re-verification
    honest_struck: int = 0              # strikes against honest workers (must stay 0)

    @property
    def extra_compute(self) -> float:
        """Extra runs per accepted fragment (0.05 = 5 % more compute)."""
        return self.check_runs / self.fragments if self.fragments else 0.0


def simulate(seed: int, *, honest: int = 8, cheaters: int = 1, fragments: int = 400,
             cheat_rate: float = 1.0, policy: TrustPolicy | None = None,
             jobs: int = 1) -> SimResult:
    """Run ``fragments`` fragments (split over ``jobs`` open jobs) on ``honest`` + ``cheaters``
    workers. A cheater returns a wrong digest with probability ``cheat_rate`` per run."""
    sim = _Simulation(seed, honest, cheaters, cheat_rate, policy)
    for fid in range(fragments):
        if not sim.step(fid, f"job-{fid % jobs}"):
            break
    return sim.finish()


class _Simulation:
    """The state of one :func:`simulate` run: the book, the workers and what stands."""

    def __init__(self, seed: int, honest: int, cheaters: int, cheat_rate: float,
                 policy: TrustPolicy | None):
        self.rng = random.Random(seed)
        self.book = ReputationBook(policy, rng=random.Random(self.rng.getrandbits(64)))
        self.workers = [f"honest-{i}" for i in range(honest)] + [f"cheater-{i}" for i in range(cheaters)]
        self.bad = {w for w in self.workers if w.startswith("cheater")}
        self.cheat_rate = cheat_rate
        self.res = SimResult(caught_at={w: None for w in self.bad}, banned_at={w: None for w in self.bad})
        self.done_by: dict[str, int] = {w: 0 for w in self.workers}
        self.standing: dict[int, tuple[str, str]] = {}      # fragment -> (worker, digest) accepted

    def step(self, fid: int, job: str) -> bool:
        """Fragment ``fid`` of ``job``, run once and perhaps checked; False: nobody is left."""
        pool = self.alive()
        if not pool:
            return False
        w = self.rng.choice(pool)
        self.done_by[w] += 1
        digest = self.run(w, fid)
        self.res.fragments += 1
        win = self.verify(fid, (w, digest)) if self.book.on_accepted(w, fid, job) else None
        self.standing[fid] = win if win is not None else (w, digest)
        return True

    def finish(self) -> SimResult:
        self.res.wrong_accepted = sum(1 for fid, (_, d) in self.standing.items() if d != f"right-{fid}")
        return self.res

    def run(self, worker: str, fid: int) -> str:
        self.res.runs += 1
        if worker in self.bad and self.rng.random() < self.cheat_rate:
            return f"wrong-{worker}-{fid}-{self.rng.getrandbits(32)}"
        return f"right-{fid}"

    def alive(self) -> list[str]:
        return [w for w in self.workers if not self.book.is_banned(w)]

    def verify(self, fid: int, first: tuple[str, str]) -> tuple[str, str] | None:
        """Re-run until a quorum of 2; returns the winning (worker, digest) or None."""
        results = [first]
        while True:
            t = tally_results(results, quorum=2, max_copies=4)
            if t.state == "decided":
                for action in self.book.on_verdict(fid, t.agreed, t.disagreed):
                    self.handle(action)
                return (t.agreed[0], t.winner)
            if t.state == "undecidable":
                return None
            v = self.book.pick_verifier(self.alive(), exclude=t.keys)
            if v is None:
                return None
            self.res.check_runs += 1
            results.append((v, self.run(v, fid)))

    def handle(self, action: object) -> None:
        res = self.res
        if isinstance(action, Struck):
            if action.worker_key not in self.bad:
                res.honest_struck += 1
            elif res.caught_at[action.worker_key] is None:
                res.caught_at[action.worker_key] = self.done_by[action.worker_key]
        elif isinstance(action, Banned):
            if action.worker_key in self.bad and res.banned_at[action.worker_key] is None:
                res.banned_at[action.worker_key] = self.done_by[action.worker_key]
        elif isinstance(action, Reverify):
            self.reverify(action)

    def reverify(self, action: Reverify) -> None:
        for _job, fid in action.fragments:
            old = self.standing.get(fid)
            if old is None:
                continue
            win = self.verify(fid, old)
            if win is not None and win[1] != old[1]:
                self.standing[fid] = win
                self.res.wrong_corrected += 1
