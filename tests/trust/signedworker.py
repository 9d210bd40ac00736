"""An in-test worker speaking the protocol with a real identity: CURVE (optional) and signed
results, no sandbox. ``cheat=True`` returns wrong bytes (with a consistent digest, as a
cheater who wants to be paid would)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import zmq

from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.protocol import MsgType, compress_chunk, decode, encode
from cpushare_mq.trust.workerside import WorkerTrust


def cheat_bytes(data: bytes) -> bytes:
    """Wrong bytes of the same length (a plausible-looking forgery)."""
    return bytes(b ^ 0x5A for b in data) if data else b"\x00"

class SignedWorker:
    def __init__(self, endpoint: str, config_dir: Path, *, hub_key: str | None = None,
                 fn: Callable[[bytes], bytes] = lambda b: b[::-1], cheat: bool = False,
                 sign: bool = True, forge: bool = False, slots: int = 2,
                 features: tuple[str, ...] = ("signed_failures",)):
        self.config_dir = config_dir
        self.trust = WorkerTrust.load(config_dir, hub_key)
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.trust.secure_socket(self.sock)
        self.sock.connect(endpoint)
        self.fn, self.cheat, self.sign, self.slots = fn, cheat, sign, slots
        self.features = features
        # forge: sign with another identity's key than the one announced in HELLO
        self.forger = WorkerTrust.load(Path(str(config_dir) + "-forger"), None) if forge else None
        self.worker_id: str | None = None
        self.welcome_features: list[str] | None = None
        self.leases: dict[tuple[int, int], bytes] = {}
        self.acks: list[tuple[int, int, str]] = []
        self.errors: list[dict] = []

    @property
    def key(self) -> str:
        return self.trust.hello_key

    def send(self, mtype, body=None, blobs=()) -> None:
        try:
            self.sock.send_multipart(encode(mtype, body or {}, blobs), zmq.NOBLOCK)
        except zmq.Again:
            pass            # no connection (refused handshake): nothing goes out

    def hello(self) -> None:
        self.send(MsgType.HELLO, {"worker_version": "test", "abi_version": 1,
                                  "slots": self.slots, "worker_key": self.key,
                                  "features": list(self.features)})

    def pump(self, timeout_s: float = 0.02) -> None:
        if not self.sock.poll(int(timeout_s * 1000)):
            return
        while True:
            try:
                msg = decode(self.sock.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                return
            if msg.type is MsgType.WELCOME:
                self.worker_id = msg["worker_id"]
                self.welcome_features = msg["features"]
                self.send(MsgType.READY, {"credit": self.slots})
            elif msg.type is MsgType.LEASE:
                for lease, data in zip(msg["leases"], msg.blobs, strict=True):
                    self.leases[(lease["fragment_id"], lease["attempt"])] = data
            elif msg.type is MsgType.ACK:
                self.acks.extend(tuple(r) for r in msg["results"])
            elif msg.type is MsgType.CANCEL:
                for ref in msg["leases"]:
                    self.leases.pop(tuple(ref), None)
            elif msg.type is MsgType.ERROR:
                self.errors.append(msg.body)
                if msg["code"] == "unknown_worker" and self.worker_id is not None:
                    self.worker_id = None       # declared dead (e.g. while the test slept)
                    self.leases.clear()
                    self.hello()
            elif msg.type is MsgType.HEARTBEAT and self.worker_id is not None:
                self.send(MsgType.HEARTBEAT)   # alive while the test pumps, as a real worker

    def result_body(self, ref, out: bytes) -> tuple[dict, bytes]:
        body = {"fragment_id": ref[0], "attempt": ref[1], "chunks": 1,
                "sha256": hashlib.sha256(out).hexdigest(), "size": len(out),
                "outcome": OutcomeRecord(Outcome.OK, exit_code=0, output_bytes=len(out))}
        if self.sign:
            (self.forger or self.trust).sign_result_end(body)
        return body, compress_chunk(out)

    def failure(self, ref, outcome: Outcome, *, sign: bool | None = None, forge: bool = False) -> None:
        """Report ``ref`` failed in the sandbox (signed unless ``sign`` is False; ``forge``:
        signed over another outcome than the one reported)."""
        body = {"fragment_id": ref[0], "attempt": ref[1],
                "outcome": OutcomeRecord(outcome, message="test failure")}
        if self.sign if sign is None else sign:
            claim = dict(body, outcome=OutcomeRecord(Outcome.CRASH)) if forge else body
            (self.forger or self.trust).sign_failure(claim)
            body["signature"] = claim["signature"]
        self.leases.pop(tuple(ref), None)
        self.send(MsgType.FAILURE, body)

    def work(self) -> int:
        """Answer every held lease; ask for as many more."""
        refs = list(self.leases)
        for ref in refs:
            out = self.fn(self.leases.pop(ref))
            if self.cheat:
                out = cheat_bytes(out)
            body, chunk = self.result_body(ref, out)
            self.send(MsgType.RESULT_END, body, [chunk])
        if refs:
            self.send(MsgType.READY, {"credit": len(refs)})
        self.send(MsgType.HEARTBEAT)
        return len(refs)

    def work_batch(self, how: str = "signed") -> int:
        """Answer every held lease in ONE RESULT_BATCH. ``how``: "signed" (one signature for
        the batch, feature ``batch_signature``), "items" (each item signed alone, as a worker
        without that feature does), "altered" (batch signature made before one item's digest
        was changed), "reordered" (signed over the items in another order), "foreign" (the
        batch signed by another key)."""
        refs = sorted(self.leases)
        if not refs:
            self.send(MsgType.HEARTBEAT)
            return 0
        bodies, chunks = [], []
        for ref in refs:
            out = self.fn(self.leases.pop(ref))
            if self.cheat:
                out = cheat_bytes(out)
            body, chunk = self.result_body(ref, out)
            bodies.append(body)
            chunks.append(chunk)
        head: dict = {"results": bodies}
        if how != "items":
            for b in bodies:
                b.pop("signature", None)
            signer = self.trust
            if how == "foreign":
                signer = WorkerTrust.load(Path(f"{self.config_dir}-foreign"), None)
            order = bodies[::-1] if how == "reordered" else bodies
            head["signature"] = signer.sign_batch(order)
            if how == "altered":
                out = b"not what was signed"
                bodies[-1].update(sha256=hashlib.sha256(out).hexdigest(), size=len(out))
                chunks[-1] = compress_chunk(out)
        self.send(MsgType.RESULT_BATCH, head, chunks)
        self.send(MsgType.READY, {"credit": len(refs)})
        return len(refs)

    def close(self) -> None:
        self.sock.close(0)
        self.ctx.term()


def drive(hub, job_id: str, workers: list[SignedWorker], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while hub.job_progress(job_id)["state"] == "running":
        if time.monotonic() > deadline:
            raise AssertionError(f"job did not end: {hub.job_progress(job_id)}")
        for w in workers:
            w.pump(0.005)
            w.work()
