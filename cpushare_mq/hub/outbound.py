"""What the hub sends workers after a commit: replies, ACKs, CANCELs and LEASE batches (with
each fragment's input), to a worker session by its id. Nothing here decides anything: the
loop hands over what the scheduler and the desks produced, once it is committed. Loop thread
only.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import zmq

from ..errors import StoreError
from ..protocol import Limits, MsgType, encode, encode_trusted

if TYPE_CHECKING:
    from .server import Hub

__all__ = ["Outbound", "LEASE_MESSAGE_BYTES"]

log = logging.getLogger(__name__)

#: fragment inputs per LEASE message (one input may be 16 MiB)
LEASE_MESSAGE_BYTES = 32 << 20


class Outbound:
    def __init__(self, hub: Hub):
        self.hub = hub

    def send_turn(self, now: float, replies: list, acks: dict[str, list], fx,
                  grants: dict[str, list]) -> None:
        """Everything one committed turn says: replies, ACKs, CANCELs, then leases."""
        for ident, frames in replies:
            self.send(ident, frames)
        for wid, items in acks.items():
            self.send_worker(wid, MsgType.ACK, {"results": items}, validate=False)
        payout = self.hub.payout
        for wid, body in payout.outgoing(now, self.hub.core) if payout is not None else ():
            self.send_worker(wid, MsgType.RECEIPTS, body, validate=False)     # issue 19
        for wid, refs in fx.cancels.items():
            self.send_worker(wid, MsgType.CANCEL, {
                "leases": refs, "reason": fx.cancel_reasons.get(wid, "")[:256]}, validate=False)
        if grants:
            self.send_leases(now, grants)

    def send_leases(self, now: float, grants: dict[str, list]) -> None:
        """LEASE messages for committed grants, inputs read from the store; if they cannot
        be read, the leases go back to the queue and their credit to the worker."""
        hub = self.hub
        fids = [g[1] for lst in grants.values() for g in lst]
        try:
            inputs = hub.store.inputs(fids)
        except StoreError as exc:
            log.error("cannot read fragment inputs (%s): leases handed back to the queue", exc)
            core = hub.core
            for wid, lst in grants.items():     # committed but never sent: undo them
                core.release(now, wid, [(g[1], g[3]) for g in lst], "hub could not read inputs")
                if core.has_worker(wid):
                    core.ready(now, wid, len(lst))
            return
        for wid, lst in grants.items():
            self._send_lease_batches(wid, lst, inputs)

    def _send_lease_batches(self, wid: str, grants: list, inputs: dict[int, bytes]) -> None:
        body: list[dict] = []
        blobs: list[bytes] = []
        size = 0
        for job, fid, index, attempt, lease_s in grants:
            data = inputs.get(fid, b"")
            if body and (len(body) >= Limits.MAX_LEASES_PER_MESSAGE
                         or size + len(data) > LEASE_MESSAGE_BYTES):
                self.send_worker(wid, MsgType.LEASE, {"leases": body}, blobs, validate=False)
                body, blobs, size = [], [], 0
            size += len(data)
            body.append({
                "job_id": job.id, "fragment_id": fid, "index": index, "attempt": attempt,
                "lease_s": lease_s, "program_sha256": job.program_sha256,
                "shared_sha256": job.shared_sha256, "cpu_s": job.cpu_s, "wall_s": job.wall_s,
                "max_output_bytes": job.max_output_bytes,
            })
            blobs.append(data)
        if body:
            self.send_worker(wid, MsgType.LEASE, {"leases": body}, blobs, validate=False)

    def send_worker(self, wid: str, mtype: MsgType, body: dict, blobs=(), *,
                    validate: bool = True) -> None:
        """One message to session ``wid`` (nothing if it is gone). ``validate``: check the
        body against the message's schema (False for bodies the hub built itself)."""
        hub = self.hub
        ident = hub.sessions.ident_of(wid)
        if ident is None:
            return
        hub.liveness.sent(wid, time.time())
        frames = encode(mtype, body, blobs) if validate else encode_trusted(mtype, body, blobs)
        self.send(ident, frames)

    def send(self, ident: bytes, frames: list) -> None:
        """One message to connection ``ident``; a peer found gone has every worker probed."""
        errno = self.hub.wire.send(ident, frames)
        if errno == zmq.EHOSTUNREACH and self.hub.sessions.worker_at(ident) is not None:
            self.hub.liveness.schedule_probes(time.time(), (0.0,))
