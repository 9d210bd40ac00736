"""The hub's hooks for paying sellers (I/O shell around :class:`~.ledger.HubLedger`).

The hub's loop calls, all on its own thread:

* :meth:`Payout.on_hello` when a worker joins: a worker whose HELLO announced the protocol
  feature ``receipts`` gets every receipt its key has not acknowledged yet (after a restart
  of either side, a lost connection, a worker that was away while its last result was paid);
* :meth:`Payout.on_result` for each accepted result: a signed receipt in the ledger, queued
  for the worker that earned it;
* :meth:`Payout.outgoing` after each commit: the ``RECEIPTS`` messages to send;
* :meth:`Payout.on_ack` for a worker's ``RECEIPT_ACK``: those receipts are delivered;
* :meth:`Payout.forget` when a worker's session ends.

A receipt stays *undelivered* in the ledger until its worker acknowledges it, so a worker
gets each receipt at least once and keeps it once (its own store is keyed by hub and
fragment: worker/earnings.py).
"""

from __future__ import annotations

import logging

from ..protocol import MAX_RECEIPTS_PER_MESSAGE, Feature
from .ledger import HubLedger
from .money import Price
from .receipts import SignedReceipt

__all__ = ["Payout", "RESEND_AT_HELLO"]

log = logging.getLogger(__name__)
#: receipts resent to a worker at one HELLO, at most (the rest at its next HELLO)
RESEND_AT_HELLO = 16 * MAX_RECEIPTS_PER_MESSAGE


class Payout:
    def __init__(self, ledger: HubLedger):
        self.ledger = ledger
        self._receivers: dict[str, str] = {}     # worker id -> its key (feature "receipts")
        self._outbox: dict[str, list[dict]] = {}

    @property
    def price(self) -> Price:
        return self.ledger.price

    def on_hello(self, wid: str, worker_key: str, features) -> None:
        if not worker_key or Feature.RECEIPTS not in features:
            return
        self._receivers[wid] = worker_key
        owed = self.ledger.undelivered(worker_key, RESEND_AT_HELLO)
        if owed:
            log.info("worker %s: resending %d unacknowledged receipts", wid, len(owed))
            self._outbox.setdefault(wid, []).extend(sr.to_dict() for sr in owed)

    def forget(self, wid: str) -> None:
        self._receivers.pop(wid, None)
        self._outbox.pop(wid, None)

    def on_result(self, wid: str, job_id: str, worker_key: str, fragment_id: int,
                  attempt: int, cpu_s: float, limit_cpu_s: float) -> SignedReceipt | None:
        sr = self.ledger.on_result(job_id, worker_key, fragment_id, attempt, cpu_s,
                                   limit_cpu_s)
        if sr is not None and wid in self._receivers:
            self._outbox.setdefault(wid, []).append(sr.to_dict())
        return sr

    def on_ack(self, wid: str, fragment_ids: list[int]) -> None:
        key = self._receivers.get(wid)
        if key and fragment_ids:
            self.ledger.delivered(key, fragment_ids)

    def outgoing(self) -> list[tuple[str, dict]]:
        """``(worker id, RECEIPTS body)`` for what is queued; the queue is emptied."""
        if not self._outbox:
            return []
        out = []
        for wid, items in self._outbox.items():
            for i in range(0, len(items), MAX_RECEIPTS_PER_MESSAGE):
                out.append((wid, {"receipts": items[i:i + MAX_RECEIPTS_PER_MESSAGE]}))
        self._outbox = {}
        return out

    def close(self) -> None:
        self.ledger.close()
