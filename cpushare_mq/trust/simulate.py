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
    rng = random.Random(seed)
    book = ReputationBook(policy, rng=random.Random(rng.getrandbits(64)))
    workers = [f"honest-{i}" for i in range(honest)] + [f"cheater-{i}" for i in range(cheaters)]
    bad = {w for w in workers if w.startswith("cheater")}
    res = SimResult(caught_at={w: None for w in bad}, banned_at={w: None for w in bad})
    done_by: dict[str, int] = {w: 0 for w in workers}
    standing: dict[int, tuple[str, str]] = {}      # fragment -> (worker, digest) accepted
    job_of = {fid: f"job-{fid % jobs}" for fid in range(fragments)}

    def run(worker: str, fid: int) -> str:
        res.runs += 1
        if worker in bad and rng.random() < cheat_rate:
            return f"wrong-{worker}-{fid}-{rng.getrandbits(32)}"
        return f"right-{fid}"

    def alive() -> list[str]:
        return [w for w in workers if not book.is_banned(w)]

    def verify(fid: int, first: tuple[str, str]) -> tuple[str, str] | None:
        """Re-run until a quorum of 2; returns the winning (worker, digest) or None."""
        results = [first]
        while True:
            t = tally_results(results, quorum=2, max_copies=4)
            if t.state == "decided":
                for action in book.on_verdict(fid, t.agreed, t.disagreed):
                    handle(action)
                return (t.agreed[0], t.winner)
            if t.state == "undecidable":
                return None
            v = book.pick_verifier(alive(), exclude=t.keys)
            if v is None:
                return None
            res.check_runs += 1
            results.append((v, run(v, fid)))

    def handle(action: object) -> None:
        if isinstance(action, Struck):
            if action.worker_key in bad:
                if res.caught_at[action.worker_key] is None:
                    res.caught_at[action.worker_key] = done_by[action.worker_key]
            else:
                res.honest_struck += 1
        elif isinstance(action, Banned):
            if action.worker_key in bad and res.banned_at[action.worker_key] is None:
                res.banned_at[action.worker_key] = done_by[action.worker_key]
        elif isinstance(action, Reverify):
            for _job, fid in action.fragments:
                if fid not in standing:
                    continue
                old = standing[fid]
                win = verify(fid, old)
                if win is not None and win[1] != old[1]:
                    standing[fid] = win
                    res.wrong_corrected += 1

    for fid in range(fragments):
        pool = alive()
        if not pool:
            break
        w = rng.choice(pool)
        done_by[w] += 1
        digest = run(w, fid)
        res.fragments += 1
        if book.on_accepted(w, fid, job_of[fid]):
            win = verify(fid, (w, digest))
            standing[fid] = win if win is not None else (w, digest)
        else:
            standing[fid] = (w, digest)
    res.wrong_accepted = sum(1 for fid, (_, d) in standing.items() if d != f"right-{fid}")
    return res
