"""Reputation and adaptive spot checks: the pure policy core (no I/O; randomness injected).

In the style of BOINC's adaptive replication. Every worker *key* has a record; results are
compared either by the job's own quorum (redundancy k > 1) or, with k = 1, by a **spot
check**: the fragment is re-run on another (preferably trusted) worker and the two results
compared, a third run breaking a tie. How often a worker's results are spot-checked depends
on how much of its history was verified:

=============  ==========================================  ===============================
tier           when                                        share of its results checked
=============  ==========================================  ===============================
probation      fewer than ``probation_checks`` agreeing    ``probation_share`` (30 %);
               verifications since its last strike         ``struck_share`` (100 %) while
                                                           it has a strike
established    little history                              ``spot_check_share`` (5 %)
trusted        ``trusted_checks`` agreeing verifications   ``trusted_share`` (1 %)
               in a row; may serve as a verifier
banned         ``ban_strikes`` strikes                     gets no work
=============  ==========================================  ===============================

A worker caught disagreeing with the majority gets a strike, drops back to probation, and
its accepted-but-unverified results of open jobs are handed back for re-verification
(:class:`Reverify`); at ``ban_strikes`` strikes it is banned (:class:`Banned`). A long run
of agreements forgives one strike. Everything follows the worker key, so it survives
reconnects and restarts (persist :meth:`WorkerRecord.to_dict`).

With the defaults a worker that returns garbage on every fragment is caught within its
first 20 fragments with probability 1 - 0.7**20 > 99.9 % (see ``tests/trust``).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from ..errors import ConfigError

__all__ = ["Tier", "TrustPolicy", "WorkerRecord", "ReputationBook", "Reverify", "Banned",
           "Struck", "Tally", "tally_results"]


class Tier(StrEnum):
    PROBATION = "probation"
    ESTABLISHED = "established"
    TRUSTED = "trusted"
    BANNED = "banned"


@dataclass(frozen=True)
class TrustPolicy:
    """Tunable numbers of the reputation policy (validated on creation)."""

    spot_check_share: float = 0.05   # established workers ("little history")
    probation_share: float = 0.30    # new keys and keys after a strike
    trusted_share: float = 0.01      # trusted keys: never zero, so a turncoat is still caught
    struck_share: float = 1.0        # keys with a strike, until probation is passed again
    probation_checks: int = 5        # agreeing verifications to leave probation
    trusted_checks: int = 50         # agreeing verifications in a row to become trusted
    ban_strikes: int = 3             # strikes that ban a key
    forgive_after_checks: int = 100  # agreeing verifications in a row that remove one strike
    max_unverified_per_worker: int = 100_000  # bound on remembered unverified results

    def __post_init__(self) -> None:
        for name in ("spot_check_share", "probation_share", "trusted_share", "struck_share"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ConfigError(f"trust policy: {name} must be a share in [0, 1], got {v!r}")
        for name in ("probation_checks", "trusted_checks", "ban_strikes", "forgive_after_checks",
                     "max_unverified_per_worker"):
            v = getattr(self, name)
            if type(v) is not int or v < 1:
                raise ConfigError(f"trust policy: {name} must be an integer >= 1, got {v!r}")
        if self.trusted_checks < self.probation_checks:
            raise ConfigError("trust policy: trusted_checks must be >= probation_checks")


@dataclass
class WorkerRecord:
    """What the hub knows about one worker key (JSON-serialisable via to_dict/from_dict)."""

    key: str
    streak: int = 0            # agreeing verifications since the last strike
    agreed: int = 0            # agreeing verifications ever
    strikes: int = 0           # current strikes (forgiven ones removed)
    strikes_total: int = 0     # every strike ever
    accepted: int = 0          # results accepted from this key
    checked: int = 0           # of which spot-checked
    banned: bool = False
    ban_reason: str = ""
    first_seen_s: float = 0.0
    last_strike_s: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> WorkerRecord:
        if type(d) is not dict or type(d.get("key")) is not str:
            raise ConfigError("worker record: expected an object with a string 'key'")
        known = {f for f in cls.__dataclass_fields__}
        unknown = d.keys() - known
        if unknown:
            raise ConfigError(f"worker record: unknown field(s) {sorted(unknown)}")
        rec = cls(**d)
        for name in ("streak", "agreed", "strikes", "strikes_total", "accepted", "checked"):
            v = getattr(rec, name)
            if type(v) is not int or v < 0:
                raise ConfigError(f"worker record {rec.key[:16]}: {name} must be an integer >= 0")
        if type(rec.banned) is not bool:
            raise ConfigError(f"worker record {rec.key[:16]}: banned must be true/false")
        return rec


# Actions the shell carries out ---------------------------------------------------------

@dataclass(frozen=True)
class Struck:
    """``worker_key`` disagreed with the majority on ``fragment_id`` (evidence: its signed
    result); it now has ``strikes`` strikes."""
    worker_key: str
    fragment_id: int
    strikes: int


@dataclass(frozen=True)
class Reverify:
    """Re-run these accepted-but-unverified results of ``worker_key`` elsewhere and compare:
    ``fragments`` are (job_id, fragment_id) pairs of jobs still open."""
    worker_key: str
    fragments: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Banned:
    """Ban ``worker_key`` (refuse its connections, cancel its leases, give it no work)."""
    worker_key: str
    reason: str


Action = Struck | Reverify | Banned


class ReputationBook:
    """All worker records plus the bookkeeping of unverified results. Pure: the caller passes
    the time and a seeded :class:`random.Random`."""

    def __init__(self, policy: TrustPolicy | None = None, *, rng: random.Random | None = None,
                 records: Iterable[WorkerRecord] = ()):
        self.policy = policy or TrustPolicy()
        self.rng = rng if rng is not None else random.Random()
        self._records: dict[str, WorkerRecord] = {r.key: r for r in records}
        # worker key -> {fragment_id: job_id}: accepted, not verified, job open (insertion order)
        self._unverified: dict[str, OrderedDict[int, str]] = {}   # oldest first
        self._job_index: dict[str, set[tuple[str, int]]] = {}
        self._dirty: set[str] = set()
        #: keys that ever passed probation here (only grows; see has_established)
        self._ever_established = {r.key for r in self._records.values()
                                  if r.streak >= self.policy.probation_checks and not r.banned}

    # -- records ------------------------------------------------------------------------
    def record(self, key: str, now_s: float = 0.0) -> WorkerRecord:
        rec = self._records.get(key)
        if rec is None:
            rec = self._records[key] = WorkerRecord(key, first_seen_s=now_s)
            self._dirty.add(key)
        return rec

    def records(self) -> list[WorkerRecord]:
        return list(self._records.values())

    def take_dirty(self) -> list[WorkerRecord]:
        """Records changed since the last call (for the shell to persist)."""
        out = [self._records[k] for k in sorted(self._dirty) if k in self._records]
        self._dirty.clear()
        return out

    def tier(self, key: str) -> Tier:
        rec = self._records.get(key)
        if rec is None:
            return Tier.PROBATION
        if rec.banned:
            return Tier.BANNED
        if rec.streak < self.policy.probation_checks:
            return Tier.PROBATION
        if rec.streak < self.policy.trusted_checks:
            return Tier.ESTABLISHED
        return Tier.TRUSTED

    def has_established(self, n: int = 1) -> bool:
        """Have at least ``n`` keys ever passed probation here (once true, always true)?"""
        return len(self._ever_established) >= n

    def first_seen(self, key: str) -> float:
        """When this hub first saw ``key`` (infinity: never, the youngest of all)."""
        rec = self._records.get(key)
        return rec.first_seen_s if rec is not None else float("inf")

    def is_banned(self, key: str) -> bool:
        rec = self._records.get(key)
        return rec is not None and rec.banned

    def check_share(self, key: str) -> float:
        """The probability that one accepted result of ``key`` is spot-checked."""
        tier = self.tier(key)
        p = self.policy
        rec = self._records.get(key)
        if tier is Tier.PROBATION and rec is not None and rec.strikes:
            return p.struck_share    # caught once: none of its results goes unchecked for now
        return {Tier.PROBATION: p.probation_share, Tier.ESTABLISHED: p.spot_check_share,
                Tier.TRUSTED: p.trusted_share, Tier.BANNED: 1.0}[tier]

    def summary(self, key: str) -> dict:
        """What ``cpushare status`` shows for a worker key."""
        rec = self._records.get(key) or WorkerRecord(key)
        return {"tier": self.tier(key).value, "verified": rec.agreed, "streak": rec.streak,
                "strikes": rec.strikes, "accepted": rec.accepted, "checked": rec.checked,
                "banned": rec.banned, "ban_reason": rec.ban_reason,
                "unverified_open": len(self._unverified.get(key, ()))}

    # -- events -------------------------------------------------------------------------
    def on_accepted(self, key: str, fragment_id: int, job_id: str, now_s: float = 0.0,
                    can_check: Callable[[], bool] | None = None) -> bool:
        """A result of ``key`` is about to be accepted for a fragment *without* redundancy.
        Returns True when it must be spot-checked first (re-run on another worker and
        compared); otherwise it is remembered as unverified while its job is open.
        ``can_check`` (asked only when a check is drawn) says whether another worker could
        re-run it now; if not, the result is accepted unverified rather than left waiting."""
        rec = self.record(key, now_s)
        rec.accepted += 1
        self._dirty.add(key)
        if self.rng.random() < self.check_share(key) and (can_check is None or can_check()):
            rec.checked += 1
            return True
        self._remember_unverified(key, fragment_id, job_id)
        return False

    def on_verdict(self, fragment_id: int, agreed: Iterable[str], disagreed: Iterable[str],
                   now_s: float = 0.0) -> list[Action]:
        """Results for ``fragment_id`` were compared (quorum vote or spot check): the keys in
        ``agreed`` returned the majority result, those in ``disagreed`` something else."""
        actions: list[Action] = []
        for key in set(agreed):
            rec = self.record(key, now_s)
            rec.agreed += 1
            rec.streak += 1
            if rec.streak >= self.policy.probation_checks:
                self._ever_established.add(key)
            if rec.strikes and rec.streak % self.policy.forgive_after_checks == 0:
                rec.strikes -= 1
            self._forget_unverified(key, fragment_id)
            self._dirty.add(key)
        for key in set(disagreed):
            actions.extend(self._strike(key, fragment_id, now_s))
        return actions

    def ban(self, key: str, reason: str, now_s: float = 0.0) -> list[Action]:
        """Ban ``key`` by hand (or by policy); its unverified open results get re-verified."""
        rec = self.record(key, now_s)
        actions: list[Action] = []
        pending = self._drain_unverified(key)
        if pending:
            actions.append(Reverify(key, pending))
        if not rec.banned:
            rec.banned = True
            rec.ban_reason = reason
            actions.append(Banned(key, reason))
        self._dirty.add(key)
        return actions

    def unban(self, key: str) -> None:
        rec = self.record(key)
        rec.banned, rec.ban_reason, rec.strikes, rec.streak = False, "", 0, 0
        self._dirty.add(key)

    def on_job_closed(self, job_id: str) -> None:
        """The job finished or was cancelled: its results are no longer re-verified."""
        for key, fid in self._job_index.pop(job_id, ()):
            per = self._unverified.get(key)
            if per is not None and per.get(fid) == job_id:
                del per[fid]
                if not per:
                    del self._unverified[key]

    def pick_verifier(self, candidates: Iterable[str], exclude: Iterable[str] = ()) -> str | None:
        """The best key to re-run a fragment: trusted first, then the longest streak; never a
        banned or excluded key (the workers whose results are being checked)."""
        excluded = set(exclude)
        pool = [k for k in candidates if k not in excluded and not self.is_banned(k)]
        if not pool:
            return None
        order = {Tier.TRUSTED: 0, Tier.ESTABLISHED: 1, Tier.PROBATION: 2}

        def rank(k: str) -> tuple[int, int, float]:
            rec = self._records.get(k)
            return (order[self.tier(k)], -(rec.streak if rec else 0), self.rng.random())
        return min(pool, key=rank)

    # -- internals ------------------------------------------------------------------------
    def _strike(self, key: str, fragment_id: int, now_s: float) -> list[Action]:
        rec = self.record(key, now_s)
        rec.strikes += 1
        rec.strikes_total += 1
        rec.streak = 0
        rec.last_strike_s = now_s
        self._forget_unverified(key, fragment_id)
        self._dirty.add(key)
        actions: list[Action] = [Struck(key, fragment_id, rec.strikes)]
        if rec.strikes >= self.policy.ban_strikes and not rec.banned:
            actions.extend(self.ban(key, f"{rec.strikes} results disagreed with the majority "
                                         f"(last: fragment {fragment_id})", now_s))
        else:
            pending = self._drain_unverified(key)
            if pending:
                actions.append(Reverify(key, pending))
        return actions

    def restore_unverified(self, rows: Iterable[tuple[str, int, str]]) -> int:
        """After a hub restart: (worker_key, fragment_id, job_id) of results accepted without
        any check in jobs still open (from the hub's store). Returns how many were taken."""
        n = 0
        for key, fragment_id, job_id in rows:
            self._remember_unverified(key, fragment_id, job_id)
            n += 1
        return n

    def _remember_unverified(self, key: str, fragment_id: int, job_id: str) -> None:
        per = self._unverified.get(key)
        if per is None:
            per = self._unverified[key] = OrderedDict()
        per[fragment_id] = job_id
        self._job_index.setdefault(job_id, set()).add((key, fragment_id))
        while len(per) > self.policy.max_unverified_per_worker:
            old_fid, old_job = per.popitem(last=False)
            self._job_index.get(old_job, set()).discard((key, old_fid))

    def _forget_unverified(self, key: str, fragment_id: int) -> None:
        per = self._unverified.get(key)
        if per is not None and fragment_id in per:
            job = per.pop(fragment_id)
            self._job_index.get(job, set()).discard((key, fragment_id))
            if not per:
                del self._unverified[key]

    def _drain_unverified(self, key: str) -> tuple[tuple[str, int], ...]:
        per = self._unverified.pop(key, {})
        for fid, job in per.items():
            self._job_index.get(job, set()).discard((key, fid))
        return tuple((job, fid) for fid, job in per.items())


# Comparing results --------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    """The state of a comparison of copies of one fragment's result.

    ``state``: ``"decided"`` (``winner`` has ``quorum`` agreeing copies), ``"need_more"``
    (run one more copy on a worker not in ``agreed``/``disagreed``), or ``"undecidable"``
    (``max_copies`` reached without a quorum)."""

    state: str
    winner: str | None = None
    agreed: tuple[str, ...] = ()
    disagreed: tuple[str, ...] = ()
    copies: int = 0
    keys: tuple[str, ...] = field(default=())


def tally_results(results: Sequence[tuple[str, str]], quorum: int = 2, max_copies: int = 4) -> Tally:
    """Compare ``(worker_key, sha256)`` copies of one result. A spot check is quorum 2: the
    original and one re-run agree, or a third copy breaks the tie."""
    if quorum < 1 or max_copies < quorum:
        raise ConfigError(f"tally: need 1 <= quorum ({quorum}) <= max_copies ({max_copies})")
    counts: dict[str, list[str]] = {}
    for key, digest in results:
        counts.setdefault(digest, []).append(key)
    keys = tuple(k for k, _ in results)
    for digest, ks in counts.items():
        if len(ks) >= quorum:
            others = tuple(k for d, kk in counts.items() if d != digest for k in kk)
            return Tally("decided", digest, tuple(ks), others, len(results), keys)
    if len(results) >= max_copies:
        return Tally("undecidable", None, (), (), len(results), keys)
    return Tally("need_more", None, (), (), len(results), keys)
