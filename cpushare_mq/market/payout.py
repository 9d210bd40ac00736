"""The hub's hooks for paying sellers (I/O shell around :class:`~.ledger.HubLedger`).

The hub's loop calls, all on its own thread:

* :meth:`Payout.on_hello` when a worker joins: a worker whose HELLO announced the protocol
  feature ``receipts`` gets every receipt its key has not acknowledged yet (after a restart
  of either side, a lost connection, a worker that was away while its last result was paid);
* :meth:`Payout.on_copy` for each ok result the scheduler counts as a vote: a *claim*
  (market/claims.py), metered, not paid yet: a vote can be outvoted;
* :meth:`Payout.settle` with each batch's effects, once the hub committed them (the store
  holds each attempt's CPU-time claim): the copy a fragment was accepted with is paid (a
  receipt issued in memory, one per fragment, for its worker key); the other copies'
  claims, outvoted or not, and those of failed fragments and ended jobs are dropped;
  (:meth:`Payout.turn_failed` if the commit failed);
* :meth:`Payout.outgoing` after each commit: the ``RECEIPTS`` messages to send: the
  receipts issued since the last signing, signed and stored together (one signature, a
  batch per worker) every :data:`SIGN_INTERVAL_S` while leases are out, as soon as
  :data:`SIGN_AT` wait, and at once when no lease is out (a job done or stopped: its ledger
  is complete);
* :meth:`Payout.on_ack` for a worker's ``RECEIPT_ACK``: those receipts are delivered;
* :meth:`Payout.forget` when a worker's session ends;
* :func:`job_terms` when a job is submitted (its price and budget, refused with one line),
  :meth:`Payout.on_job` once it is stored, :meth:`Payout.raise_budget` for
  ``cpushare job raise-budget``, and :meth:`Payout.before_assign` before each lease round:
  a job with a budget gets as many more leases as :class:`~.budget.Budget` allows, and
  waits with the reason "budget reached" at 0.

A receipt stays *undelivered* in the ledger until its worker acknowledges it, so a worker
gets each receipt at least once and keeps it once (its own store is keyed by hub and
fragment: worker/earnings.py).

Nothing is written per turn: the ledger follows the store (market/following.py). A hub
killed before it signed a turn's receipts issues them again at its first turn from what its
store accepted after the ledger's watermark (:meth:`Payout.before_assign`), and the copies
still voting are claims again from the store's votes.
"""

from __future__ import annotations

import logging
import sqlite3
from decimal import Decimal

from ..errors import ConfigError, SchedulingError, StoreError
from ..hub.connections import transaction
from ..hub.highmarks import keep_above
from ..hub.scheduler.states import FragState, JobState
from ..jobspec import check_terms
from ..outcome import MAX_CLAIM_US
from ..protocol import MAX_RECEIPTS_PER_MESSAGE, EncodedBody, Feature
from .budget import Budget
from .claims import Claim, Claims
from .columnbatch import ColumnBatch
from .following import open_votes, payable_after
from .ledger import HubLedger, JobTerms, capped_us, claimed_us
from .money import Price, amount_decimal, cost, decimal_text
from .paid import failure_is_paid

__all__ = ["Payout", "RESEND_AT_HELLO", "job_terms", "parse_raise"]

log = logging.getLogger(__name__)
#: receipts resent to a worker at one HELLO, at most (the rest at its next HELLO)
RESEND_AT_HELLO = 16 * MAX_RECEIPTS_PER_MESSAGE
#: stored receipts are signed and sent at most this often, so that a worker checks one
#: signature and stores one batch for many results (docs/market.md: what paying costs)
SIGN_INTERVAL_S = 0.25
SIGN_AT = 4 * MAX_RECEIPTS_PER_MESSAGE     # ... or as soon as this many wait
_ZERO = Decimal(0)


class Payout:
    def __init__(self, ledger: HubLedger, store):
        """``store``: the hub's (hub/store.py), read on the thread that calls the hooks."""
        self.ledger, self._store = ledger, store
        self._receivers: dict[str, str] = {}     # worker id -> its key (feature "receipts")
        self._by_key: dict[str, str] = {}        # ... and back: where a key's receipts go
        self._outbox: dict[str, list[dict]] = {}      # receipts one by one (and resent)
        self._batched: set[str] = set()          # workers with feature "receipt_batches"
        self._columns: set[str] = set()          # ... and "receipt_columns"
        self._batch_out: dict[str, list[tuple[str, EncodedBody]]] = {}   # their batches,
        #                                          as kept, and the RECEIPTS field of each
        self._acks_due: dict[str, int] = {}      # worker id -> RECEIPTS sent, not answered
        self._terms: dict[str, JobTerms] = ledger.terms()      # the live jobs' (and more,
        self._unpriced: set[str] = set()                # until the first before_assign)
        stored = ledger.claims()                 # an older hub's
        open_claims = stored + self._voting(stored)
        for c in open_claims:        # the votes in progress, for the comparisons to come
            ledger.meter.restore_copy(c.fragment_id, c.worker_key or "-", c.claim_us)
        self._claims = Claims(open_claims)
        self._saved: set[int] = {c.fragment_id for c in stored}   # claims in the ledger
        self._failed: list[tuple] = []           # paid failures of this turn: settle()
        self._spent: dict[str, Decimal] = {j: ledger.spent(j) for j, t in self._terms.items()
                                           if t.budget is not None}
        self._started = False                    # the first turn: what a killed hub owed
        self._sign_at = 0.0                      # when the receipts waiting are signed
        self._number_after_paid()

    def _number_after_paid(self) -> None:
        """The store numbers new fragments after every fragment the ledger paid (they may
        be gone from it: :mod:`~cpushare_mq.hub.highmarks`)."""
        c = self._store.conn()
        try:
            with transaction(c, "cannot update the hub's high marks"):
                keep_above(c, self.ledger.last_paid_fragment())
        except (StoreError, sqlite3.Error) as exc:
            log.error("ledger: %s: a purged job's fragment ids may be given again", exc)

    def _voting(self, stored: list[Claim]) -> list[Claim]:
        """The claims of the copies still voting in the live jobs, from the store (those an
        older hub stored in its ledger are ``stored``)."""
        try:
            votes = open_votes(self._store.conn(), list(self._terms))
        except StoreError as exc:       # unpaid copies, like a hub without a price
            log.error("ledger: %s: the copies voting now will not be paid", exc)
            return []
        known = {(c.fragment_id, c.attempt) for c in stored}
        out = []
        for job_id, fid, attempt, key, cpu_us in votes:
            if (fid, attempt) not in known:
                t = self._terms[job_id]
                claim_us = capped_us(cpu_us, t.cpu_limit_us)
                owed = cost(t.price, claim_us) if t.budget is not None else _ZERO
                out.append(Claim(job_id, fid, attempt, key, claim_us, owed))
        return out

    @property
    def price(self) -> Price | None:
        return self.ledger.price

    # -- prices and budgets ----------------------------------------------------------
    def on_job(self, job_id: str, terms: JobTerms, core) -> None:
        """A stored job's terms (from :func:`job_terms`): kept, and its allowance set before
        the core leases anything of it."""
        self._terms[job_id] = terms
        try:
            self.ledger.set_terms(job_id, terms)
        except ConfigError as exc:       # kept in memory: holds until the hub restarts
            log.error("%s", exc)
        if terms.budget is not None:
            self._spent[job_id] = Decimal(0)
            self._allow(job_id, core)

    def raise_budget(self, job_id: str, amount: Decimal, core) -> Decimal:
        """Add ``amount`` to ``job_id``'s budget; returns the new budget."""
        t = self._job_terms(job_id)
        if t is None or t.budget is None:
            raise SchedulingError(f"job {job_id} has no budget (give one at submission: "
                                  "cpushare submit --budget B)")
        new = JobTerms(t.price, t.budget + amount, t.cpu_limit_us)
        self.ledger.set_terms(job_id, new)
        if core.running_job(job_id):
            self._terms[job_id] = new
            self._spent.setdefault(job_id, self.ledger.spent(job_id))
            self._allow(job_id, core)
        else:                          # recorded; an ended job leases nothing more
            self._terms.pop(job_id, None)
        log.info("job %s: budget raised by %s to %s %s", job_id, decimal_text(amount),
                 decimal_text(new.budget), t.price.currency)
        return new.budget

    def before_assign(self, core) -> None:
        """At the first turn, what a killed hub owed (:meth:`_recover`); then each budgeted
        running job's lease allowance, from what it spent and has in flight."""
        if not self._started:
            self._started = True
            self.ledger.follow_store_from(core.accepted_through())
            self._recover()           # all the store accepted so far: issued, or not owed
            self.ledger.through(core.accepted_through())
            for job_id in [j for j in self._terms if not core.running_job(j)]:
                self._ended(job_id)     # (ended before the ledger kept track)
        for job_id in list(self._spent):
            if core.running_job(job_id):
                self._allow(job_id, core)
            else:         # ended: nothing more to lease (raise_budget records more)
                self._ended(job_id)

    def _recover(self) -> None:
        """Issue receipts for what the store accepted after the ledger's watermark and the
        ledger has not paid: the results of the turns a killed hub had not signed."""
        n, ledger = 0, self.ledger
        for job_id, t in list(self._terms.items()):
            try:
                rows = payable_after(self._store.conn(), job_id, ledger.paid_through_seq)
                paid = ledger.paid_among([p.fragment_id for p in rows])
            except (StoreError, sqlite3.Error) as exc:
                log.error("ledger: %s: they are paid at the next start", exc)
                continue
            n += ledger.issue_many(job_id, [(p.worker_key, p.fragment_id, p.attempt,
                                             capped_us(p.cpu_us, t.cpu_limit_us))
                                            for p in rows if p.fragment_id not in paid],
                                   price=t.price)
        self.commit()
        if n:
            log.info("ledger: %d result(s) accepted after the last receipts signed, issued "
                     "now", n)

    def _job_terms(self, job_id: str) -> JobTerms | None:
        """``job_id``'s terms: the live jobs' are in memory; another (one the ledger took for
        ended when the hub was killed before committing that it did not) is read once and
        kept until it ends."""
        t = self._terms.get(job_id)
        if t is None and job_id not in self._unpriced:
            t = self.ledger.terms_of(job_id)
            if t is None:
                self._unpriced.add(job_id)
            else:
                self._terms[job_id] = t
                if t.budget is not None:
                    self._spent.setdefault(job_id, self.ledger.spent(job_id))
        return t

    def _ended(self, job_id: str) -> None:
        """``job_id`` ended: its terms leave memory (the ledger keeps them, marked ended)."""
        self._terms.pop(job_id, None)
        self._spent.pop(job_id, None)
        self._unpriced.discard(job_id)
        self.ledger.job_ended(job_id)

    def _allow(self, job_id: str, core) -> None:
        t = self._terms[job_id]
        b = Budget(t.price, t.budget, t.cpu_limit_us)
        spent, flying = self._spent[job_id] + self._claims.owed(job_id), core.in_flight(job_id)
        room = b.room_for(spent, flying)
        why = (f"{_short(spent)} of {_short(t.budget)} {t.price.currency} spent, "
               f"{flying} leases out may cost up to {_short(b.lease_cost())} each: "
               f"'cpushare job raise-budget {job_id} AMOUNT' continues it") if room == 0 else ""
        core.set_allowance(job_id, room, why)

    def on_hello(self, wid: str, worker_key: str, features) -> None:
        if not worker_key or Feature.RECEIPTS not in features:
            return
        self._receivers[wid] = worker_key
        self._by_key[worker_key] = wid
        if Feature.RECEIPT_BATCHES in features:
            self._batched.add(wid)
            if Feature.RECEIPT_COLUMNS in features:
                self._columns.add(wid)
        owed = self.ledger.undelivered(worker_key, RESEND_AT_HELLO,    # (those signed)
                                       columns=wid in self._columns)
        if owed.receipts or owed.batches:
            log.info("worker %s: resending %d unacknowledged receipts and %d batches", wid,
                     len(owed.receipts), len(owed.batches))
            self._outbox.setdefault(wid, []).extend(sr.to_dict() for sr in owed.receipts)
            self._batch_out.setdefault(wid, []).extend(
                (ColumnBatch.WIRE_FIELD, wire) for wire in owed.batches)

    def forget(self, wid: str) -> None:
        self._acks_due.pop(wid, None)
        key = self._receivers.pop(wid, None)
        if key is not None and self._by_key.get(key) == wid:
            del self._by_key[key]
            self.ledger.forget(key)
        self._outbox.pop(wid, None)
        self._batched.discard(wid)
        self._columns.discard(wid)
        self._batch_out.pop(wid, None)

    def on_copy(self, job_id: str, worker_key: str, fragment_id: int, attempt: int,
                cpu_s: float, limit_cpu_s: float) -> None:
        """An ok result counted as a vote: metered now, paid if the fragment is accepted with
        its result (:meth:`settle`). A job nobody pays for (no price of its own, none at the
        hub) makes no claims and is not metered: the plausibility check only decides pay."""
        t = self._job_terms(job_id)
        if t is None and self.ledger.price is None:
            return
        claim_us = claimed_us(cpu_s, limit_cpu_s)
        flagged = self.ledger.meter.add_copy(fragment_id, worker_key or "-", claim_us)
        if flagged:
            self._flagged(job_id, flagged)
        owed = cost(t.price, claim_us) if t is not None and job_id in self._spent else _ZERO
        self._claims.add(Claim(job_id, fragment_id, attempt, worker_key, claim_us, owed))

    def settle(self, fx, seq: int) -> None:
        """A batch's effects, committed by the hub: pay the copy each accepted fragment was
        accepted with (and the failures paid: :meth:`on_failed`), drop the other copies'
        claims and those of failed fragments and ended jobs; then :meth:`commit`. ``seq``:
        the largest acceptance number so far (everything up to it is now paid or not
        payable: the ledger's watermark)."""
        claims, saved = self._claims, self._saved
        paying: dict[str, list[tuple[str, int, int, int]]] = {}    # job -> issue_many's
        for job_id, *result in self._failed:
            paying.setdefault(job_id, []).append(tuple(result))
        self._failed = []
        for fid, _job_id, attempt in fx.accepted:
            c, others = claims.pay(fid, attempt)
            if c is not None:
                paying.setdefault(c.job_id, []).append((c.worker_key, fid, attempt, c.claim_us))
            if others:
                log.debug("fragment %d: %d other copies not paid", fid, others)
            if saved:
                self._forget_claims(fid)
        for job_id, results in paying.items():
            t = self._job_terms(job_id)
            self.ledger.issue_many(job_id, results, price=t.price if t else None)
        if len(claims):
            for ch in fx.journal.frags:
                if ch.state is FragState.FAILED and ch.fid in claims:
                    claims.drop_fragment(ch.fid)
                    self._forget_claims(ch.fid)
        for job in fx.journal.jobs:
            if job.state is not JobState.RUNNING:
                for c in claims.drop_job(job.id) if len(claims) else ():
                    self._forget_claims(c.fragment_id)
                self._ended(job.id)
        self.commit()
        if self._started:       # (never past what the start's _recover has not read)
            self.ledger.through(seq)

    def turn_failed(self) -> None:
        """The hub could not commit the turn: the failures it would have paid are not."""
        self._failed = []

    def _forget_claims(self, fid: int) -> None:
        if fid in self._saved:
            self._saved.discard(fid)
            self.ledger.settled(fid)

    def on_failed(self, job_id: str, worker_key: str, fragment_id: int,
                  attempt: int, record, limit_cpu_s: float) -> None:
        """A failure report that ended its fragment FAILED: paid when the failure was the
        program's (market/paid.py), once the turn is committed (:meth:`settle`)."""
        if failure_is_paid(record.outcome):
            self._failed.append((job_id, worker_key, fragment_id, attempt,
                                 claimed_us(record.cpu_s, limit_cpu_s)))

    def commit(self) -> None:
        """The turn's receipts, counted against budgets; they are signed, stored and sent
        by :meth:`outgoing`."""
        self._count(self.ledger.commit(), 1)

    def _count(self, entries: list[tuple[str, tuple]], sign: int) -> None:
        spent = self._spent
        if spent:
            for _, (job_id, *_, amount, _issued_s) in entries:     # (rows: ROW_FIELDS)
                if job_id in spent:
                    spent[job_id] += sign * amount_decimal(amount)

    def _sign(self) -> None:
        """Sign and store the receipts waiting and queue them for their workers: one batch
        each for a worker that takes batches, the receipts one by one for an older worker.
        Receipts left out (their fragments were paid before) no longer count as spent."""
        signed = self.ledger.sign(self._takes_columns)
        self._count(signed.dropped, -1)
        for batch, wire in signed.batches:
            key = batch.worker_key
            wid = self._by_key.get(key)
            if wid is None:
                self.ledger.forget(key)
                continue          # sent at its next HELLO
            if wid in self._batched:
                self._batch_out.setdefault(wid, []).append((batch.WIRE_FIELD, wire))
            else:
                self._outbox.setdefault(wid, []).extend(sr.to_dict() for sr in batch.signed())

    def _takes_columns(self, worker_key: str) -> bool:
        """Does the session of ``worker_key`` take column batches (signed so for it)?"""
        return self._by_key.get(worker_key) in self._columns

    def _flagged(self, job_id: str, keys: list[str]) -> None:
        """Keys a copy's comparison just flagged (market/metering.py: the claims of the
        copies of one fragment are compared), or moved past the median ratio."""
        meter = self.ledger.meter
        for k in keys:
            s = meter.summary(k)
            log.warning("worker key %s flagged: its CPU-time claims run %.1fx the other keys' "
                        "for the same fragments (%d comparisons, job %s)%s", k[:16], s["ratio"],
                        s["comparisons"], job_id,
                        "; it is paid the job's median claim from now on" if s["paid_median"]
                        else "")

    def admit_ack(self, wid: str | None) -> bool:
        """May worker ``wid`` send a ``RECEIPT_ACK`` now? One answers each ``RECEIPTS``
        message sent to its session (a worker keeps or refuses a message whole, and answers
        it once): asked before the message is even decoded, so that acknowledgements nobody
        asked for cost a lookup each (docs/security.md). True takes the turn of one."""
        due = self._acks_due.get(wid, 0) if wid is not None else 0
        if due <= 0:
            return False
        self._acks_due[wid] = due - 1
        return True

    def on_ack(self, wid: str, fragment_ids: list[int]) -> None:
        key = self._receivers.get(wid)
        if key and fragment_ids:
            self.ledger.delivered(key, fragment_ids)

    def outgoing(self, now: float, core) -> list[tuple[str, dict]]:
        """``(worker id, RECEIPTS body)`` for what is queued (and the receipts waiting, when
        it is time to sign them); the queues are emptied."""
        self.commit()
        ledger = self.ledger
        if ledger.dirty and (now >= self._sign_at or ledger.unsigned >= SIGN_AT
                             or not core.leases_out()):
            self._sign()
            self._sign_at = now + SIGN_INTERVAL_S
        out = []
        for wid, items in self._outbox.items():
            for i in range(0, len(items), MAX_RECEIPTS_PER_MESSAGE):
                out.append((wid, {"receipts": items[i:i + MAX_RECEIPTS_PER_MESSAGE]}))
        for wid, batches in self._batch_out.items():
            out.extend((wid, _batch_body(name, b)) for name, b in batches)
        self._outbox, self._batch_out = {}, {}
        due = self._acks_due
        for wid, _ in out:
            due[wid] = due.get(wid, 0) + 1
        return out

    def close(self) -> None:
        self.ledger.close()


def _batch_body(name: str, wire: EncodedBody) -> EncodedBody:
    """A ``RECEIPTS`` body of one batch in its field ``name`` (``batches``, ``columns``),
    sent as the text the ledger kept (HubLedger.sign)."""
    return EncodedBody({name: [wire]}, f'{{"{name}":[{wire.text}]}}')


def _short(d: Decimal) -> str:
    return decimal_text(d.normalize())


def job_terms(payout: Payout | None, spec) -> JobTerms | None:
    """A submitted job's terms: its own price, else the hub's, and its budget; None when
    nothing is paid. Raises :class:`SchedulingError` (one line) for terms this hub cannot
    keep."""
    try:
        price, budget = check_terms(spec.price, spec.budget)
    except ConfigError as exc:
        raise SchedulingError(str(exc)) from None
    if payout is None:
        if price or budget is not None:
            raise SchedulingError("this hub keeps no ledger, so a job cannot have a price or "
                                  "a budget: run it as 'cpushare-hub serve'")
        return None
    price = price or payout.price
    if price is None:
        if budget is not None:
            raise SchedulingError("a budget needs a price: submit with --price P, or start "
                                  "the hub with --price")
        return None
    return JobTerms(price, budget, min(int(spec.cpu_s * 1e6), MAX_CLAIM_US))


def parse_raise(text: str) -> Decimal:
    """``cpushare job raise-budget``'s AMOUNT: a positive exact decimal."""
    from .money import parse_amount

    try:
        amount = parse_amount(text, "the amount to add to the budget")
    except ConfigError as exc:
        raise SchedulingError(str(exc)) from None
    if amount <= 0:
        raise SchedulingError(f"the amount to add to the budget must be above 0, got {text!r}")
    return amount
