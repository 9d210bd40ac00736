"""A tiny in-test worker speaking the protocol (no sandbox): runs a Python function on each
fragment input. Used by the hub's tests and benchmark."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import zmq

from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.protocol import MsgType, compress_chunk, decode, encode


class FakeWorker:
    def __init__(self, endpoint: str, *, slots: int = 1, credit: int | None = None,
                 name: str = "fake", key: str = "", fn: Callable[[bytes], bytes] = lambda b: b,
                 ctx: zmq.Context | None = None):
        self.ctx = ctx or zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.endpoint = endpoint
        self.slots = slots
        self.credit = credit if credit is not None else slots
        self.name = name
        self.key = key
        self.fn = fn
        self.worker_id = None
        self.leases: dict[tuple[int, int], dict] = {}
        self.inputs: dict[tuple[int, int], bytes] = {}
        self.acks: list[tuple[int, int, str]] = []
        self.cancels: list[tuple[int, int]] = []
        self.errors: list[dict] = []
        self.received: list = []
        self.keepalive = True      # heartbeat while waiting (a real worker's loop does)
        self.features: tuple[str, ...] = ("signed_failures",) if key else ()

    def send(self, mtype, body=None, blobs=()):
        self.sock.send_multipart(encode(mtype, body or {}, blobs))

    def hello(self, held=(), timeout_s: float = 5.0) -> dict:
        self.send(MsgType.HELLO, {"worker_version": "fake", "abi_version": 1,
                                  "slots": self.slots, "name": self.name,
                                  "worker_key": self.key, "held": [list(h) for h in held],
                                  "features": list(self.features)})
        msg = self.wait_for(MsgType.WELCOME, timeout_s)
        self.worker_id = msg["worker_id"]
        return msg.body

    def ready(self, credit: int | None = None):
        self.send(MsgType.READY, {"credit": credit or self.credit})

    def poll(self, timeout_s: float = 0.0) -> list:
        out = []
        if not self.sock.poll(int(timeout_s * 1000)):
            return out
        while True:
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return out
            msg = decode(frames)
            self._note(msg)
            out.append(msg)

    def _note(self, msg):
        self.received.append(msg.type)
        if msg.type is MsgType.LEASE:
            for lease, data in zip(msg["leases"], msg.blobs, strict=True):
                ref = (lease["fragment_id"], lease["attempt"])
                self.leases[ref] = lease
                self.inputs[ref] = data
        elif msg.type is MsgType.ACK:
            self.acks.extend(tuple(r) for r in msg["results"])
        elif msg.type is MsgType.CANCEL:
            for ref in msg["leases"]:
                self.cancels.append(tuple(ref))
                self.leases.pop(tuple(ref), None)
        elif msg.type is MsgType.ERROR:
            self.errors.append(msg.body)

    def wait_for(self, mtype, timeout_s: float = 5.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.worker_id is not None and self.keepalive:
                self.heartbeat()
            for msg in self.poll(min(0.05, max(0.0, deadline - time.monotonic()))):
                if msg.type is mtype:
                    return msg
        raise TimeoutError(f"no {mtype.name} within {timeout_s} s")

    def result(self, ref, data: bytes, *, sha=None, chunk_bytes: int = 256 << 10):
        fid, attempt = ref
        chunks = [data[i:i + chunk_bytes] for i in range(0, len(data), chunk_bytes)] or [b""]
        for seq, c in enumerate(chunks[:-1]):
            self.send(MsgType.RESULT_CHUNK, {"fragment_id": fid, "attempt": attempt, "seq": seq},
                      [compress_chunk(c)])
        self.send(MsgType.RESULT_END, {
            "fragment_id": fid, "attempt": attempt, "chunks": len(chunks),
            "sha256": sha or hashlib.sha256(data).hexdigest(), "size": len(data),
            "outcome": OutcomeRecord(Outcome.OK, exit_code=0, output_bytes=len(data))},
            [compress_chunk(chunks[-1])])

    def failure(self, ref, outcome: Outcome, message: str = ""):
        self.send(MsgType.FAILURE, {"fragment_id": ref[0], "attempt": ref[1],
                                    "outcome": OutcomeRecord(outcome, message=message)})

    def run_all(self):
        """Answer every held lease with fn(input); then ask for as many more."""
        refs = list(self.leases)
        for ref in refs:
            self.result(ref, self.fn(self.inputs.pop(ref)))
            del self.leases[ref]
        if refs:
            self.ready(len(refs))
        return len(refs)

    def heartbeat(self):
        self.send(MsgType.HEARTBEAT)

    def close(self):
        self.sock.close(0)
