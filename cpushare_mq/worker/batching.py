"""How the agent's messages leave for the hub (an I/O shell piece): signatures, result
batches, encoding.

Result messages are built by the core from local values, plain JSON types only (tests check
them against the schema) and are encoded without validation; everything else is validated
before it goes out. With a worker identity RESULT_ENDs are signed (the signature stays in
the body: replays need no re-signing), and FAILUREs too when the hub's WELCOME accepted
``signed_failures``. When the hub accepted ``result_batch``, small RESULT_ENDs that finish
together are collected and sent as one RESULT_BATCH (with ``batch_signature``, signed once
as a whole).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..errors import ProtocolError
from ..protocol import Feature, MsgType, encode, encode_trusted
from .actions import Send

log = logging.getLogger(__name__)

_UNVALIDATED = (MsgType.RESULT_CHUNK, MsgType.RESULT_END)
# messages that may overtake collected RESULT_ENDs (any other flushes the batch first)
_AFTER_BATCH_OK = (MsgType.RESULT_CHUNK, MsgType.READY, MsgType.HEARTBEAT, MsgType.FAILURE)

BATCH_BLOB_MAX = 16 << 10      # RESULT_ENDs whose last chunk is bigger go out alone
BATCH_BYTES_MAX = 256 << 10    # a RESULT_BATCH's blobs, at most (then it is sent)
BATCH_ITEMS_MAX = 256          # ... and its items (the protocol allows 1024)


class ResultBatcher:
    """``send(Send)`` encodes (signing and batching as the hub allows) and hands the frames
    to ``queue``; ``flush()`` sends the collected batch."""

    def __init__(self, queue: Callable[[list], None], *, trust=None, batch_results: bool = True,
                 clock: Callable[[], float]):
        self.queue, self.trust, self.batch_results, self.clock = queue, trust, batch_results, clock
        self.hub_batches = False              # the hub's WELCOME accepted RESULT_BATCH
        self.hub_signed_failures = False      # the hub's WELCOME accepted signed FAILUREs
        self.hub_batch_signature = False      # ... and one signature per RESULT_BATCH
        self.batch: list[tuple[dict, bytes]] | None = None   # RESULT_ENDs being collected
        self.batch_bytes = 0                  # (a list while the hub takes RESULT_BATCH)
        self.since = 0.0                      # when the batch's first item came
        self.batches_sent = 0

    def welcomed(self, features: list) -> None:
        """What the hub's WELCOME accepted."""
        self.hub_batches = self.batch_results and Feature.RESULT_BATCH in features
        self.batch = [] if self.hub_batches else None
        self.batch_bytes = 0
        self.hub_signed_failures = Feature.SIGNED_FAILURES in features
        self.hub_batch_signature = (self.hub_batches and self.trust is not None
                                    and Feature.BATCH_SIGNATURE in features)

    def disconnected(self) -> None:
        """Collected results are dropped: the core replays them after the next WELCOME."""
        self.batch, self.batch_bytes = None, 0
        self.hub_batches = self.hub_signed_failures = self.hub_batch_signature = False

    def due(self, now: float, delay_s: float, slots_busy: bool) -> bool:
        """The collected results should leave now: ``delay_s`` is up, or no slot is busy
        (nothing more will join soon)."""
        return bool(self.batch) and (now - self.since >= delay_s or not slots_busy)

    def send(self, s: Send) -> None:
        batchable = (self.batch is not None and s.type is MsgType.RESULT_END
                     and len(s.blobs) == 1 and len(s.blobs[0]) <= BATCH_BLOB_MAX)
        self._sign(s, batchable)
        if batchable:
            self._collect(s)
            return
        if self.batch and s.type is not MsgType.RESULT_END and s.type not in _AFTER_BATCH_OK:
            self.flush()     # e.g. BYE: results collected before it must go first
        try:
            if s.type in _UNVALIDATED:
                frames = encode_trusted(s.type, s.body, s.blobs)
            else:
                frames = encode(s.type, s.body, s.blobs)
        except (ProtocolError, TypeError, ValueError) as exc:   # a bug on our side: never
            log.error("not sending an invalid %s: %s", s.type.name, exc)   # send it, never die
            return
        self.queue(frames)

    def _sign(self, s: Send, batchable: bool) -> None:
        trust = self.trust
        if (trust is not None and s.type is MsgType.RESULT_END
                and not s.body.get("signature") and not (batchable and self.hub_batch_signature)):
            trust.sign_result_end(s.body)    # kept in the body: replays need no re-signing
        if s.type is MsgType.FAILURE:
            if trust is not None and self.hub_signed_failures:
                if not s.body.get("signature"):
                    trust.sign_failure(s.body)
            else:
                s.body.pop("signature", None)     # a hub without the feature refuses the field

    def _collect(self, s: Send) -> None:
        if not self.batch:
            self.since = self.clock()
        self.batch.append((s.body, s.blobs[0]))
        self.batch_bytes += len(s.blobs[0])
        if len(self.batch) >= BATCH_ITEMS_MAX or self.batch_bytes >= BATCH_BYTES_MAX:
            self.flush()

    def flush(self, connected: bool = True) -> None:
        """Send the collected RESULT_ENDs: one alone as RESULT_END, several as RESULT_BATCH
        (item i's last chunk is binary frame i). With the feature ``batch_signature`` they
        are signed here: a RESULT_END alone on its own, a RESULT_BATCH once as a whole (its
        items then carry no signature; a replay to another hub signs them again)."""
        batch = self.batch
        if not batch:
            return
        self.batch, self.batch_bytes = [], 0   # still collecting (the hub takes batches)
        if not connected:
            return      # the core keeps them for replay after the reconnect
        try:
            if len(batch) == 1:
                body = batch[0][0]
                if self.trust is not None and not body.get("signature"):
                    self.trust.sign_result_end(body)
                frames = encode_trusted(MsgType.RESULT_END, body, [batch[0][1]])
            else:
                head: dict = {"results": [b for b, _ in batch]}
                if self.hub_batch_signature:
                    for b in head["results"]:
                        b.pop("signature", None)    # (a replayed item signed alone before)
                    head["signature"] = self.trust.sign_batch(head["results"])
                frames = encode_trusted(MsgType.RESULT_BATCH, head, [blob for _, blob in batch])
                self.batches_sent += 1
        except (ProtocolError, TypeError, ValueError) as exc:   # a bug on our side: never
            log.error("not sending %d results: %s", len(batch), exc)  # die of it
            return
        self.queue(frames)
