"""Are a seller's CPU-second claims plausible? (pure core)

A worker reports, inside its signed result, the CPU time its sandbox measured. The hub
cannot measure it, but it sees the same work measured by others: redundant copies and spot
checks run one fragment on several keys, and a job's fragments are usually alike. So:

* every fragment run by two or more keys gives each key a **ratio**: its claim over the
  median of the other keys' claims for that fragment (:meth:`Meter.add_copy` as each copy's
  result is counted: at the second copy both keys get one, each later copy its own;
  :meth:`Meter.compare` for a whole set at once);
* a key whose ratios' geometric mean, over at least ``flag_after`` comparisons, is above
  ``flag_ratio`` (2) is **flagged** (the hub logs it; an honest seller on a machine 1.5x
  slower than the others stays below it);
* past ``median_ratio`` (3) a key is paid the job's median claim of other keys instead of
  its own claim when that is lower (:meth:`Meter.payable`); any other key is paid what it
  claims.

Nothing here is a proof: a seller who inflates a little (within ``flag_ratio``) is paid a
little more. docs/market.md says so.
"""

from __future__ import annotations

import math
import statistics
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["MeterPolicy", "Meter", "Payable"]


@dataclass(frozen=True)
class MeterPolicy:
    flag_ratio: float = 2.0     # geometric mean of claim / others' median that flags a key
    median_ratio: float = 3.0   # ... past which it is paid the job's median instead
    flag_after: int = 5         # comparisons before a key can be flagged
    job_sample: int = 256       # recent claims kept per job for its median
    fragments_kept: int = 10_000   # fragments whose copies' claims are remembered


@dataclass
class _KeyRecord:
    comparisons: int = 0
    log_ratio_sum: float = 0.0

    @property
    def ratio(self) -> float:
        return math.exp(self.log_ratio_sum / self.comparisons) if self.comparisons else 1.0


class Payable(NamedTuple):
    cpu_us: int                 # what to pay for
    claimed_us: int
    capped: bool                # paid the median instead of the claim


@dataclass
class Meter:
    policy: MeterPolicy = field(default_factory=MeterPolicy)
    _keys: dict[str, _KeyRecord] = field(default_factory=dict)
    _jobs: dict[str, deque] = field(default_factory=dict)
    #: fragment -> its copies' (key, claimed cpu_us), oldest fragment first; tuples, not
    #: lists: thousands are kept, and tuples of plain values cost the collector nothing
    _copies: OrderedDict[int, tuple[tuple[str, int], ...]] = field(default_factory=OrderedDict)
    _changed: set[str] = field(default_factory=set)   # keys whose record moved, to store
    #: keys past the median ratio (paid the job's median): known when their record moves,
    #: looked up for every paid result
    _capped: set[str] = field(default_factory=set)

    def add_copy(self, fragment_id: int, key: str, claimed_us: int) -> list[str]:
        """One counted copy of ``fragment_id`` by ``key``; returns the keys this flags (or
        moves past the median ratio)."""
        kept = self._copies
        copies = kept.get(fragment_id)
        if copies is None:  # a first copy compares with nothing: no level moves (per result)
            kept[fragment_id] = ((key, claimed_us),)
            if len(kept) > self.policy.fragments_kept:
                kept.popitem(last=False)            # the oldest go first
            return []
        kept.move_to_end(fragment_id)               # most recent last
        if any(k == key for k, _ in copies):
            return []
        was = {k: self._level(k) for k in {k for k, _ in copies} | {key}}
        copies = kept[fragment_id] = (*copies, (key, claimed_us))
        if len(copies) == 2:
            self.compare(copies)
        elif len(copies) > 2:
            self._ratio(key, claimed_us, [c for _, c in copies[:-1]])
        return sorted(k for k, level in was.items() if self._level(k) > level)

    def _level(self, key: str) -> int:
        return int(self.flagged(key)) + int(self.flagged(key, self.policy.median_ratio))

    def compare(self, copies: Sequence[tuple[str, int]]) -> None:
        """One fragment's agreeing copies: ``(worker_key, claimed cpu_us)`` from distinct keys."""
        if len({k for k, _ in copies}) < 2:
            return
        for i, (key, claim) in enumerate(copies):
            self._ratio(key, claim, [c for j, (k, c) in enumerate(copies) if j != i and k != key])

    def _ratio(self, key: str, claim: int, others: list[int]) -> None:
        median = statistics.median(others) if others else 0
        if median <= 0:
            return
        rec = self._keys.setdefault(key, _KeyRecord())
        rec.comparisons += 1
        rec.log_ratio_sum += math.log(max(claim, 1) / median)
        self._changed.add(key)
        self._recap(key)

    def _recap(self, key: str) -> None:
        if self.flagged(key, self.policy.median_ratio):
            self._capped.add(key)
        else:
            self._capped.discard(key)

    # -- kept across restarts (the hub's ledger stores and restores these) ------------
    def take_changed(self) -> list[tuple[str, int, float]]:
        """``(key, comparisons, log ratio sum)`` of the keys compared since the last call."""
        out = [(k, self._keys[k].comparisons, self._keys[k].log_ratio_sum)
               for k in sorted(self._changed)]
        self._changed.clear()
        return out

    @property
    def has_changed(self) -> bool:
        return bool(self._changed)

    def changed_again(self, keys: Iterable[str]) -> None:
        """Keys :meth:`take_changed` gave that were not stored after all."""
        self._changed.update(keys)

    def restore(self, records: Iterable[tuple[str, int, float]]) -> None:
        """Key records as :meth:`take_changed` gave them (a restarted hub)."""
        for key, comparisons, log_ratio_sum in records:
            self._keys[key] = _KeyRecord(comparisons, log_ratio_sum)
            self._recap(key)

    def restore_copy(self, fragment_id: int, key: str, claimed_us: int) -> None:
        """A copy counted before a restart, its comparisons already in the key records."""
        copies = self._copies.get(fragment_id, ())
        if all(k != key for k, _ in copies):
            self._copies[fragment_id] = (*copies, (key, claimed_us))

    def has_job(self, job_id: str) -> bool:
        return job_id in self._jobs

    def seed_job(self, job_id: str, claims: Iterable[tuple[str, int]]) -> None:
        """A job's recent claims, oldest first (a restarted hub's receipts of it)."""
        sample = self._jobs.setdefault(job_id, deque(maxlen=self.policy.job_sample))
        sample.extend(claims)

    def flagged(self, key: str, ratio: float | None = None) -> bool:
        """``key``'s claims run above ``ratio`` (default the flag ratio) times the others'."""
        rec = self._keys.get(key)
        return (rec is not None and rec.comparisons >= self.policy.flag_after
                and rec.ratio > (self.policy.flag_ratio if ratio is None else ratio))

    def summary(self, key: str) -> dict:
        rec = self._keys.get(key, _KeyRecord())
        return {"comparisons": rec.comparisons, "ratio": round(rec.ratio, 3),
                "flagged": self.flagged(key),
                "paid_median": self.flagged(key, self.policy.median_ratio)}

    def payable(self, job_id: str, key: str, claimed_us: int) -> Payable:
        """What to pay ``key`` for a result of ``job_id`` it claims ``claimed_us`` for, and
        remember the claim for the job's median."""
        paid = self.paid_us(job_id, key, claimed_us)
        return Payable(paid, claimed_us, paid != claimed_us)

    def paid_us(self, job_id: str, key: str, claimed_us: int) -> int:
        """:meth:`payable`'s ``cpu_us`` alone (the hub's path for every paid result)."""
        sample = self._jobs.get(job_id)
        if sample is None:
            sample = self._jobs[job_id] = deque(maxlen=self.policy.job_sample)
        paid = claimed_us
        if key in self._capped:
            others = [c for k, c in sample if k != key]
            if others and (median := int(statistics.median(others))) < claimed_us:
                paid = median
        sample.append((key, claimed_us))
        return paid

    def forget_job(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
