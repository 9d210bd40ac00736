"""The worker desk: one received worker message at a time, from the frames to the room that
takes it. A message is admitted first (size, the peer's rate, decoding: each refused with a
clear ERROR), a HELLO opens a session, and every other message of a known session goes to
its handler through :data:`WORKER_MESSAGES` (the same names as ``protocol.SCHEMAS``):
results to the result desk, the rest to the scheduler. Replies go into the turn's
``replies``; nothing is sent from here. Loop thread only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import CpushareError, ProtocolError, VersionMismatch
from ..protocol import ABI_VERSION, ErrorCode, Feature, MsgType, decode, encode, peek_type
from .admission import HelloGate, join_limits
from .infra import InfraWatch
from .limits import Oversize
from .peers import BlobsSent
from .wire import PeerKey

if TYPE_CHECKING:
    from .server import Hub

__all__ = ["WorkerDesk", "WORKER_MESSAGES"]

log = logging.getLogger(__name__)


class WorkerDesk:
    def __init__(self, hub: Hub):
        self.hub = hub
        self._infra = InfraWatch()          # workers whose sandbox keeps failing
        self._blobs_sent = BlobsSent()      # blobs sent per worker session
        # HELLOs per address and per key (admission.py)
        self._hello_gate = HelloGate(join_limits(hub.config.join_rate_per_s))

    def handle(self, now: float, frames: list, acks: dict, replies: list) -> None:
        """One received message (its frame list, as the worker socket read it)."""
        hub = self.hub
        got = self._admit(now, frames, replies)
        if got is None:
            return
        ident, msg, peer = got
        t = msg.type
        if t is MsgType.HELLO:
            self._hello(now, ident, msg, replies, peer)
            return
        wid = hub.sessions.worker_at(ident)
        if wid is None or not hub.core.touch(now, wid):
            if t is not MsgType.BYE:
                hub.errors.error(now, ident, ErrorCode.UNKNOWN_WORKER,
                                 "say HELLO first (the hub restarted or declared you dead)",
                                 replies)
            return
        handler = WORKER_MESSAGES.get(t)
        if handler is None:
            hub.errors.error(now, ident, ErrorCode.MALFORMED,
                             f"{t.name} is not a message a worker sends", replies)
            return
        try:
            handler(self, now, ident, wid, msg, acks, replies)
        except CpushareError as exc:
            hub.errors.error(now, ident, ErrorCode.MALFORMED, f"worker {wid}: {exc}", replies)

    def _admit(self, now: float, frames: list, replies: list):
        """(ident, decoded message, :class:`PeerKey` or None) of a received message, or None
        when it is refused here (too large, over the peer's rate, undecodable: each told
        once)."""
        hub = self.hub
        peer = None
        if frames and isinstance(frames[-1], PeerKey):
            peer = frames.pop()
        if len(frames) < 2:
            return None
        ident, payload = frames[0], frames[1:]
        if isinstance(payload[0], Oversize):
            hub.errors.error(now, ident, ErrorCode.TOO_LARGE, payload[0].describe(), replies)
            return None
        mtype = peek_type(payload)
        if hub.trust is not None and not hub.trust.allow_message(
                ident, now, heartbeat=mtype is MsgType.HEARTBEAT):
            wid = hub.sessions.worker_at(ident)
            if wid is not None:
                hub.core.touch(now, wid)     # a flooding worker is still alive
            hub.errors.error(now, ident, ErrorCode.RATE_LIMITED, "too many messages: slow down",
                             replies)
            return None
        if mtype is MsgType.RECEIPT_ACK and not (   # one per RECEIPTS sent: the rest unread
                hub.payout is not None and hub.payout.admit_ack(hub.sessions.worker_at(ident))):
            hub.errors.error(now, ident, ErrorCode.RATE_LIMITED,
                             "RECEIPT_ACK answers a RECEIPTS message: none is waiting for one",
                             replies)
            return None
        try:
            return ident, decode(payload), peer
        except VersionMismatch as exc:
            hub.errors.error(now, ident, ErrorCode.VERSION, str(exc), replies)
        except ProtocolError as exc:
            hub.errors.error(now, ident, ErrorCode.MALFORMED, str(exc), replies)
        return None

    # -- one method per message a known worker sends (the WORKER_MESSAGES table) ----------
    def on_result_end(self, now, ident, wid, msg, acks, replies) -> None:
        self.hub.result_desk.end(now, wid, msg, acks)

    def on_result_batch(self, now, ident, wid, msg, acks, replies) -> None:
        self.hub.result_desk.batch(now, ident, wid, msg, acks, replies)

    def on_result_chunk(self, now, ident, wid, msg, acks, replies) -> None:
        self.hub.result_desk.chunk(now, wid, msg)

    def on_failure(self, now, ident, wid, msg, acks, replies) -> None:
        self.hub.result_desk.failure_message(now, wid, msg, acks)

    def on_ready(self, now, ident, wid, msg, acks, replies) -> None:
        self.hub.core.ready(now, wid, msg["credit"])

    def on_heartbeat(self, now, ident, wid, msg, acks, replies) -> None:
        pass      # the touch in handle() was the point

    def on_fetch(self, now, ident, wid, msg, acks, replies) -> None:
        self._fetch(now, ident, wid, msg["sha256"], replies)

    def on_release(self, now, ident, wid, msg, acks, replies) -> None:
        self.hub.core.release(now, wid, msg["leases"], msg["reason"],
                              reset_credit=self.hub.sessions.resets_credit(wid))
        if msg["infra"]:
            self._infra_release(now, ident, wid, msg["reason"], replies)

    def on_status(self, now, ident, wid, msg, acks, replies) -> None:
        self.hub.core.set_status(now, wid, msg["paused"], msg["busy"])

    def on_receipt_ack(self, now, ident, wid, msg, acks, replies) -> None:
        if self.hub.payout is not None:          # issue 19
            self.hub.payout.on_ack(wid, msg["fragment_ids"])

    def on_bye(self, now, ident, wid, msg, acks, replies) -> None:
        self.hub.core.leave(now, wid, msg["reason"] or "bye")
        self.forget(wid)
        log.info("worker %s left: %s", wid, msg["reason"] or "bye")

    # -- sessions -------------------------------------------------------------------------
    def forget(self, wid: str) -> None:
        """Session ``wid`` ended (left, dead, banned, replaced): everything kept for it."""
        hub = self.hub
        self._infra.forget(wid)
        self._blobs_sent.forget(wid)
        hub.sessions.forget(wid)
        if hub.payout is not None:
            hub.payout.forget(wid)
        hub.liveness.forget(wid)
        hub.result_desk.drop_worker(wid)

    def _hello(self, now: float, ident: bytes, msg, replies: list, peer: PeerKey | None) -> None:
        hub = self.hub
        b = msg.body
        peer_key = peer.key if peer is not None else None
        if not self._hello_admitted(now, ident, b["worker_key"], peer, replies):
            return
        refused = self._hello_refusal(b, peer_key)
        if refused is None and (wid := hub.sessions.new_id(b["worker_key"], hub.core.has_worker)) is None:
            refused = (ErrorCode.FORBIDDEN, "too many sessions of this worker key at once")
        if refused is not None:
            hub.errors.error(now, ident, *refused, replies)
            return
        old = hub.sessions.worker_at(ident)
        held = [tuple(r) for r in b["held"]]
        ok = hub.core.join(now, wid, name=b["name"], key=b["worker_key"], slots=b["slots"],
                           held=held, replaces=old, key_proven=bool(peer_key))
        if old is not None:
            self.forget(old)
        hub.sessions.open(wid, ident, b["worker_key"], b["features"])
        hub.liveness.sent(wid, now)
        log.info("worker %s joined (%s, %d slots%s)", wid, b["name"] or ident.hex(), b["slots"],
                 f", re-attached {len(ok)} of {len(held)} held leases" if held else "")
        replies.append((ident, encode(MsgType.WELCOME, {
            "worker_id": wid, "hub_version": __version__,
            "heartbeat_interval_s": hub.config.heartbeat_interval_s,
            "liveness": hub.config.liveness, "held_ok": [list(r) for r in ok],
            # only what the worker announced: a worker that knows no features gets the
            # WELCOME it always got
            **({"features": feats} if (feats := sorted(Feature.ALL & set(b["features"])))
               else {})})))
        if hub.payout is not None:      # issue 19: receipts it has not acknowledged yet
            hub.payout.on_hello(wid, b["worker_key"], b["features"])

    def _hello_admitted(self, now: float, ident: bytes, worker_key: str, peer: PeerKey | None,
                        replies: list) -> bool:
        """HELLOs are rate-limited per address and per key (hub/admission.py); a refusal is
        answered, and logged once a minute."""
        key = (peer.key if peer is not None else None) or worker_key or ident.hex()
        refused = self._hello_gate.refusal(peer.address if peer is not None else None, key, now)
        if refused is None:
            return True
        why, line = refused
        if line is not None:
            log.warning("%s", line)
        replies.append((ident, encode(MsgType.ERROR, {"code": ErrorCode.RATE_LIMITED,
                                                      "message": why})))
        return False

    def _hello_refusal(self, b: dict, peer_key: str | None) -> tuple[str, str] | None:
        """(error code, why) if this HELLO cannot open a session, else None."""
        if b["abi_version"] != ABI_VERSION:
            return (ErrorCode.VERSION, f"sandbox ABI {b['abi_version']} not supported: "
                                       f"this hub uses ABI {ABI_VERSION}")
        trust = self.hub.trust
        if trust is None:
            return None
        why = trust.check_hello(b["worker_key"], b["features"])
        if why is None and peer_key and b["worker_key"]:
            from ..trust.zap import curve_key_of
            try:
                if curve_key_of(b["worker_key"]) != peer_key:
                    why = "HELLO.worker_key is not the key this connection authenticated with"
            except CpushareError as exc:
                why = f"bad worker_key: {exc}"
        return (ErrorCode.FORBIDDEN, why) if why else None

    # -- what a worker asks for -----------------------------------------------------------
    def _fetch(self, now: float, ident: bytes, wid: str, sha: str, replies: list) -> None:
        hub = self.hub
        if not hub.core.may_fetch(wid, sha):
            hub.errors.error(now, ident, ErrorCode.FORBIDDEN,
                             f"blob {sha[:16]}... belongs to no job you hold a lease of now",
                             replies)
            return
        why = self._blobs_sent.refusal(wid, sha)
        if why is not None:
            hub.errors.error(now, ident, ErrorCode.RATE_LIMITED, why, replies)
            return
        data = hub.store.blob(sha)
        if data is None:
            self._blobs_sent.unsent(wid, sha)
            hub.errors.error(now, ident, ErrorCode.NOT_FOUND,
                             f"blob {sha} is not stored on this hub", replies)
            return
        replies.append((ident, encode(MsgType.BLOB, {"sha256": sha}, [data])))

    def _infra_release(self, now: float, ident: bytes, wid: str, reason: str,
                       replies: list) -> None:
        """A worker's sandbox failed for reasons of its machine (hub/infra.py)."""
        hold = self._infra.failure(now, wid, reason or "no reason given")
        if hold is None:
            return
        self.hub.core.hold(wid, hold.until, hold.reason)
        log.warning("worker %s held for %.0f s: %s", wid, hold.hold_s, hold.reason)
        replies.append((ident, encode(MsgType.HOLD, {"hold_s": hold.hold_s,
                                                     "reason": hold.reason})))


#: what a worker that said HELLO may send, and the WorkerDesk method that takes it (the same
#: names as protocol.SCHEMAS; HELLO itself is handled before a worker is known)
WORKER_MESSAGES = {
    MsgType.RESULT_END: WorkerDesk.on_result_end,
    MsgType.RESULT_BATCH: WorkerDesk.on_result_batch,
    MsgType.RESULT_CHUNK: WorkerDesk.on_result_chunk,
    MsgType.READY: WorkerDesk.on_ready,
    MsgType.HEARTBEAT: WorkerDesk.on_heartbeat,
    MsgType.FAILURE: WorkerDesk.on_failure,
    MsgType.FETCH: WorkerDesk.on_fetch,
    MsgType.RELEASE: WorkerDesk.on_release,
    MsgType.STATUS: WorkerDesk.on_status,
    MsgType.BYE: WorkerDesk.on_bye,
    MsgType.RECEIPT_ACK: WorkerDesk.on_receipt_ack,
}
