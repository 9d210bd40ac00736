"""The result desk: what a worker reports about a lease it holds. RESULT_CHUNKs are
collected (hub/assembly.py, within per-worker budgets), a RESULT_END (or each item of a
RESULT_BATCH) is checked (digest and size, the trust layer's signature and spot-check draw)
and handed to the scheduler, FAILURE reports likewise; accepted chunks wait here for the
loop's commit. Every report gets its ACK status in the turn's ``acks``; nothing is sent from
here. Loop thread only.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from ..errors import CpushareError, StoreError
from ..outcome import Outcome, cpu_claim_us
from ..protocol import AckStatus, ErrorCode, Message, MsgType
from .assembly import ResultAssembly

if TYPE_CHECKING:
    from .server import Hub

__all__ = ["ResultDesk"]

log = logging.getLogger(__name__)

#: how often partial results of leases that ended are let go
SWEEP_INTERVAL_S = 1.0


def _ack(acks: dict, wid: str, fid: int, attempt: int, status: str) -> None:
    acks.setdefault(wid, []).append([fid, attempt, status])


class ResultDesk:
    def __init__(self, hub: Hub):
        self.hub = hub
        self._assembly = ResultAssembly(hub.config.max_partial_bytes_per_worker,
                                        hub.config.max_partial_bytes)
        self._accepted: list[tuple] = []     # (fid, attempt, chunk index, chunk) to commit
        self._next_sweep_s = 0.0

    @property
    def held_bytes(self) -> int:
        """Compressed bytes held for unfinished results, all workers."""
        return self._assembly.held_bytes

    # -- the loop's side ------------------------------------------------------------------
    def take_accepted(self) -> list[tuple]:
        """The chunks of results accepted since the last call, for the turn's commit."""
        out, self._accepted = self._accepted, []
        return out

    def drop_accepted(self) -> None:
        """The scheduler is being rebuilt from the store: what it accepted is forgotten."""
        self._accepted = []

    def drop_worker(self, wid: str) -> None:
        """A session ended: its partial results too."""
        self._assembly.drop_where(lambda k: k[0] == wid)

    def sweep(self, now: float) -> None:
        """Once a second, let go of partial results of leases that ended."""
        if now >= self._next_sweep_s:
            self._next_sweep_s = now + SWEEP_INTERVAL_S
            core = self.hub.core
            self._assembly.drop_where(lambda k: not core.holds(now, *k))

    # -- messages -------------------------------------------------------------------------
    def chunk(self, now: float, wid: str, msg) -> None:
        """RESULT_CHUNK."""
        b = msg.body
        fid, attempt = b["fragment_id"], b["attempt"]
        if not self.hub.core.holds(now, wid, fid, attempt):
            return  # stale: the RESULT_END will be acknowledged as such
        self._assembly.chunk((wid, fid, attempt), b["seq"], msg.blobs[0],
                             self._max_output_bytes(fid, attempt))

    def failure_message(self, now: float, wid: str, msg, acks: dict) -> None:
        """FAILURE."""
        b = msg.body
        self._assembly.drop((wid, b["fragment_id"], b["attempt"]))
        self.failure(now, wid, b["fragment_id"], b["attempt"], b["outcome"], b["signature"],
                     acks)

    def end(self, now: float, wid: str, msg, acks: dict, *, batch=None,
            batch_invalid: str = "") -> None:
        """A RESULT_END (or one item of a RESULT_BATCH: ``batch`` is its verified
        :class:`~cpushare_mq.trust.hubside.SignedBatch`, ``batch_invalid`` why the batch's
        signature was refused)."""
        b = msg.body
        fid, attempt = b["fragment_id"], b["attempt"]
        core = self.hub.core
        if not core.holds(now, wid, fid, attempt):
            self._late(now, wid, b, acks, batch, batch_invalid)
        elif b["outcome"].outcome is not Outcome.OK:
            self._failed_end(now, wid, b, acks, batch, batch_invalid)
        else:
            self._finish(now, core, wid, b, msg.blobs[0] if msg.blobs else None, acks, batch,
                         batch_invalid)

    def _late(self, now: float, wid: str, b: dict, acks: dict, batch, batch_invalid: str) -> None:
        """A result of a lease the worker no longer holds: stale or duplicate."""
        hub = self.hub
        fid, attempt = b["fragment_id"], b["attempt"]
        self._assembly.drop((wid, fid, attempt))
        status = hub.core.result(now, wid, fid, attempt, b["sha256"], b["size"])
        _ack(acks, wid, fid, attempt, self._stale_or_dup(fid, status))
        # not accepted, but compared with the vote's winner (unless its batch was forged)
        if hub.trust is not None and not batch_invalid:
            hub.trust.on_late_result(hub.sessions.key_of(wid), fid, attempt, b["sha256"],
                                     b["outcome"].outcome, b["signature"], now, batch=batch)

    def _failed_end(self, now: float, wid: str, b: dict, acks: dict, batch,
                    batch_invalid: str) -> None:
        """A failure sent as a RESULT_END: signed as one."""
        hub = self.hub
        fid, attempt, record = b["fragment_id"], b["attempt"], b["outcome"]
        why = batch_invalid
        if hub.trust is not None and not why:
            why = hub.trust.check_result(hub.sessions.key_of(wid), fid, attempt, b["sha256"],
                                         record.outcome, b["signature"], inline=True,
                                         batch=batch)
        self._assembly.drop((wid, fid, attempt))
        self.failure(now, wid, fid, attempt, record, "", acks, invalid=why)

    def _finish(self, now: float, core, wid: str, b: dict, last_chunk: bytes | None,
                acks: dict, batch, batch_invalid: str) -> None:
        """An ok result of a lease held now: checked, then offered to the scheduler
        (``core``, the hub's now)."""
        hub = self.hub
        fid, attempt = b["fragment_id"], b["attempt"]
        job = core.job_of(fid, attempt)        # open: the lease is held now
        verdict = self._assembly.finish((wid, fid, attempt), b, last_chunk,
                                        job.max_output_bytes if job else 0)
        if verdict.handed_back:       # a budget refusal: not the fragment's fault, not counted
            log.info("worker %s: fragment %d attempt %d handed back: %s", wid, fid, attempt,
                     verdict.invalid)
            core.release(now, wid, [(fid, attempt)], verdict.invalid[:200])
            _ack(acks, wid, fid, attempt, AckStatus.STALE)
            return
        invalid = verdict.invalid
        spot = False
        if hub.trust is not None and not invalid:
            key = hub.sessions.key_of(wid)
            invalid = batch_invalid or hub.trust.check_result(
                key, fid, attempt, b["sha256"], b["outcome"].outcome, b["signature"], batch=batch)
            spot = not invalid and self._wants_spot_check(now, wid, key, fid, attempt)
        paying = hub.payout is not None and job   # issue 19
        status = core.result(now, wid, fid, attempt, b["sha256"], b["size"], invalid,
                             spot_check=spot, cpu_us=cpu_claim_us(b["outcome"].cpu_s))
        if status == AckStatus.ACCEPTED:
            chunks = verdict.chunks
            if len(chunks) == 1:
                self._accepted.append((fid, attempt, 0, chunks[0]))
            else:
                self._accepted.extend([(fid, attempt, i, data) for i, data in enumerate(chunks)])
            if paying:      # issue 19: a claim, paid if the fragment is accepted with it
                hub.payout.on_copy(paying.id, hub.sessions.key_of(wid), fid, attempt,
                                   b["outcome"].cpu_s, paying.cpu_s)
        elif invalid and invalid != batch_invalid:    # (a bad batch is logged once)
            log.warning("worker %s: result of fragment %d attempt %d rejected: %s", wid, fid,
                        attempt, invalid)
        _ack(acks, wid, fid, attempt, status)

    def _wants_spot_check(self, now: float, wid: str, key: str, fid: int, attempt: int) -> bool:
        """The trust layer's draw for a result that would be accepted alone (redundancy 1);
        without another worker to re-run it, the check would wait forever: no check."""
        core = self.hub.core
        if not core.is_first_solo_result(now, wid, fid, attempt):
            return False
        job = core.job_of(fid, attempt)
        return self.hub.trust.wants_spot_check(
            key, fid, job.id if job else "", now,
            verifier_exists=functools.partial(core.has_verifier, wid, key))

    def failure(self, now: float, wid: str, fid: int, attempt: int, record, signature: str,
                acks: dict, *, invalid: str | None = None) -> None:
        """A failure report. A keyed worker's report must be signed (trust layer): an unsigned
        or badly signed one is rejected like a bad result (logged; the lease ends, the
        fragment is retried elsewhere). ``invalid``: already checked, this is the verdict."""
        hub, core = self.hub, self.hub.core
        if invalid is None:
            invalid = ""
            if hub.trust is not None and core.holds(now, wid, fid, attempt):
                invalid = hub.trust.check_failure(hub.sessions.key_of(wid), fid, attempt,
                                                  record.outcome, signature)
        if invalid and core.holds(now, wid, fid, attempt):
            log.warning("worker %s: failure report (%s) of fragment %d attempt %d rejected: %s",
                        wid, record.outcome.value, fid, attempt, invalid)
            status = core.reject(now, wid, fid, attempt,
                                 f"{record.outcome.value} report rejected: {invalid}")
        else:
            paying = hub.payout is not None and core.job_of(fid, attempt)   # issue 19
            failed_before = core.failed_fragments(paying.id) if paying else 0
            status = core.failure(now, wid, fid, attempt, record)
            if paying and core.failed_fragments(paying.id) > failed_before:   # ended FAILED
                hub.payout.on_failed(paying.id, hub.sessions.key_of(wid), fid, attempt,
                                     record, paying.cpu_s)
        _ack(acks, wid, fid, attempt, status)

    def batch(self, now: float, ident: bytes, wid: str, msg, acks: dict, replies: list) -> None:
        """RESULT_BATCH: each item is handled exactly as a RESULT_END carrying its blob
        (decode checked that there is one blob per item); one bad item costs only itself.
        A batch signed as a whole (``signature``, feature ``batch_signature``) is verified
        once, first: a bad batch signature rejects every item (stale ones are still
        acknowledged as stale), and the hub carries on."""
        batch, bad = self._check_batch(wid, msg)
        for item, blob in zip(msg["results"], msg.blobs, strict=True):
            try:
                self.end(now, wid, Message(MsgType.RESULT_END, item, [blob]), acks,
                         batch=batch, batch_invalid=bad)
            except CpushareError as exc:
                self.hub.errors.error(now, ident, ErrorCode.MALFORMED,
                                      f"worker {wid}: RESULT_BATCH item for fragment "
                                      f"{item['fragment_id']} attempt {item['attempt']}: {exc}",
                                      replies)

    def _check_batch(self, wid: str, msg):
        """(SignedBatch or None, why the batch is refused or "") of a RESULT_BATCH."""
        trust = self.hub.trust
        if not msg["signature"] or trust is None:
            return None, ""
        items = msg["results"]
        batch, bad = trust.check_batch(
            self.hub.sessions.key_of(wid),
            [(r["fragment_id"], r["attempt"], r["sha256"], r["outcome"].outcome) for r in items],
            msg["signature"])
        if bad:
            log.warning("worker %s: RESULT_BATCH of %d results (fragments %s) rejected: %s",
                        wid, len(items),
                        ", ".join(str(r["fragment_id"]) for r in items[:10])
                        + (" ..." if len(items) > 10 else ""), bad)
        return batch, bad

    # -- inside -------------------------------------------------------------------------
    def _max_output_bytes(self, fid: int, attempt: int) -> int:
        job = self.hub.core.job_of(fid, attempt)
        return job.max_output_bytes if job else 0

    def _stale_or_dup(self, fid: int, status: str) -> str:
        if status == AckStatus.STALE:
            try:
                if self.hub.store.fragment_state(fid) == "DONE":
                    return AckStatus.DUPLICATE
            except StoreError:
                pass
        return status
