"""Test doubles for the worker: a fake sandbox (no loader needed) and a small fake hub that
speaks protocol.py over a ROUTER socket."""

from __future__ import annotations

import hashlib
import random
import threading
import time

import zmq

from cpushare_mq.hub.scheduler.config import HubConfig
from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.protocol import Message, MsgType, decode, decompress_chunk, encode
from cpushare_mq.worker.agent import WorkerAgent


class FakeSandbox:
    """Runs "programs" in-process. Fragment language:
    ``b"fail"`` -> exit_code 3; ``b"big:N"`` -> N bytes of pattern streamed in 100 KiB pieces;
    ``b"sleep:S"`` -> sleeps S seconds (cut short by close()); anything else is echoed."""

    instances: list[FakeSandbox] = []
    lock = threading.Lock()

    def __init__(self, program: bytes, shared: bytes, spec):
        self.program, self.shared, self.spec = program, shared, spec
        self.closed = threading.Event()
        self.paused = False
        self.runs = 0
        self.produced = 0
        self.pid = None
        with FakeSandbox.lock:
            FakeSandbox.instances.append(self)

    def run(self, fragment: bytes, on_chunk=None) -> OutcomeRecord:
        self.runs += 1
        if fragment == b"fail":
            return OutcomeRecord(Outcome.EXIT_CODE, exit_code=3)
        if fragment.startswith(b"rand:"):     # incompressible, streamed in 1 MiB pieces
            n = int(fragment[5:])
            rng = random.Random(n)
            while self.produced < n:
                k = min(1 << 20, n - self.produced)
                on_chunk(rng.randbytes(k))
                self.produced += k
            return OutcomeRecord(Outcome.OK, output_bytes=n)
        if fragment.startswith(b"big:"):
            n = int(fragment[4:])
            sent = 0
            while sent < n:
                k = min(100_000, n - sent)
                on_chunk(expected_big(sent, k))
                sent += k
            return OutcomeRecord(Outcome.OK, output_bytes=n)
        if fragment.startswith(b"sleep:"):
            if self.closed.wait(float(fragment[6:])):
                return OutcomeRecord(Outcome.CRASH, signal=9, message="killed")
            while self.paused and not self.closed.is_set():
                time.sleep(0.01)
        if fragment:
            on_chunk(self.shared + fragment)
        return OutcomeRecord(Outcome.OK, output_bytes=len(fragment))

    def pause(self):
        self.paused = True

    def resume(self):
        self.paused = False

    def close(self):
        self.closed.set()


def expected_big(offset: int, n: int) -> bytes:
    return bytes((i * 7 + 3) % 251 for i in range(offset, offset + n))


def fake_factory(program, shared, spec):
    return FakeSandbox(program, shared, spec)


class FakeHub(threading.Thread):
    """A minimal hub: hands out ``fragments`` (list of bytes) of one job, answers FETCH,
    collects results and ACKs them. Everything it sees is recorded for assertions. Its
    heartbeat is the real hub's default: with a shorter one a worker on a busy machine took
    a stall of this thread for a lost hub, mid-test (a test about liveness sets its own)."""

    def __init__(self, fragments, program=b"PROGRAM", shared=b"", *, lease_s=60.0,
                 heartbeat_interval_s=HubConfig.heartbeat_interval_s, liveness=3, ack=True, honour_held=True, endpoint=None,
                 send_heartbeats=True, rcvhwm=1000, limits=(10.0, 10.0, 1 << 30), features=()):
        super().__init__(daemon=True)
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVHWM, rcvhwm)
        self.sock.setsockopt(zmq.MAXMSGSIZE, -1)
        self.reading = threading.Event()
        self.reading.set()
        if endpoint:   # rebinding a port just closed: ZeroMQ releases it asynchronously
            deadline = time.monotonic() + 5
            while True:
                try:
                    self.sock.bind(endpoint)
                    break
                except zmq.ZMQError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        else:
            port = self.sock.bind_to_random_port("tcp://127.0.0.1")
            endpoint = f"tcp://127.0.0.1:{port}"
        self.endpoint = endpoint
        self.program, self.shared = program, shared
        self.psha = hashlib.sha256(program).hexdigest()
        self.ssha = hashlib.sha256(shared).hexdigest()
        self.pending = list(range(len(fragments)))
        self.fragments = list(fragments)
        self.lease_s = lease_s
        self.limits = limits
        self.interval = heartbeat_interval_s
        self.liveness = liveness
        self.ack = ack
        self.honour_held = honour_held
        self.send_heartbeats = send_heartbeats
        self.features = set(features)     # protocol features it confirms when announced
        self.stop_flag = threading.Event()
        self.received: list = []          # (identity, Message)
        self.results: dict[int, bytes] = {}   # fragment index -> accepted result
        self.accepted_count: dict[int, int] = {}
        self.failures: list = []
        self.released: list = []
        self.fetches: list[str] = []
        self.statuses: list = []
        self.hellos: list = []
        self.credit: dict[bytes, int] = {}
        self.joined: set[bytes] = set()         # identities that said HELLO to this hub
        self.leased: dict[tuple, bytes] = {}   # (fid, attempt) -> identity
        self.partial: dict[tuple, list] = {}
        self.attempt = 0
        self.lock = threading.RLock()
        self.last_seen: dict[bytes, float] = {}
        self.last_sent: dict[bytes, float] = {}
        self.paused_workers: set[bytes] = set()
        self.to_cancel: list = []
        self.first_chunk = threading.Event()

    def send(self, ident, mtype, body=None, blobs=()):
        self.sock.send_multipart([ident, *encode(mtype, body, list(blobs))])
        self.last_sent[ident] = time.monotonic()

    def messages(self, mtype):
        with self.lock:
            return [m for _, m in self.received if m.type is mtype]

    def run(self):
        try:
            while not self.stop_flag.is_set():
                if not self.reading.is_set():     # a stalled link: nothing read or sent
                    time.sleep(0.01)
                    continue
                if self.sock.poll(20):
                    frames = self.sock.recv_multipart()
                    ident, frames = frames[0], frames[1:]
                    msg = decode(frames)
                    with self.lock:
                        self.received.append((ident, msg))
                        self.last_seen[ident] = time.monotonic()
                        self.handle(ident, msg)
                now = time.monotonic()
                with self.lock:
                    while self.to_cancel:
                        key, reason = self.to_cancel.pop(0)
                        ident = self.leased.pop(key)
                        self.send(ident, MsgType.CANCEL, {"leases": [list(key)], "reason": reason})
                    for ident in list(self.credit):
                        self._lease(ident)
                    if self.send_heartbeats:
                        for ident, t in list(self.last_sent.items()):
                            if now - t >= self.interval:
                                self.send(ident, MsgType.HEARTBEAT)
        finally:
            self.sock.close(0)

    def handle(self, ident, msg):
        t = msg.type
        if t is not MsgType.HELLO and ident not in self.joined:
            # like the real hub: a peer that has not said HELLO to *this* hub (e.g. this is
            # a restarted hub and ZeroMQ reconnected the worker silently) is told to say it
            if t is not MsgType.BYE:
                self.send(ident, MsgType.ERROR, {"code": "unknown_worker",
                                                 "message": "say HELLO first"})
            return
        if t is MsgType.HELLO:
            self.joined.add(ident)
            self.hellos.append(msg)
            held = [list(k) for k in msg["held"]]
            ok = []
            for k in held:
                if self.honour_held and tuple(k) in self.leased:
                    self.leased[tuple(k)] = ident
                    ok.append(k)
            self.credit[ident] = 0
            feats = sorted(self.features & set(msg["features"]))
            self.send(ident, MsgType.WELCOME, {"worker_id": f"w-{len(self.hellos)}", "hub_version": "fake",
                                               "heartbeat_interval_s": self.interval,
                                               "liveness": self.liveness, "held_ok": ok,
                                               **({"features": feats} if feats else {})})
        elif t is MsgType.READY:
            self.credit[ident] = self.credit.get(ident, 0) + msg["credit"]
        elif t is MsgType.FETCH:
            self.fetches.append(msg["sha256"])
            data = {self.psha: self.program, self.ssha: self.shared}.get(msg["sha256"])
            if data is None:
                self.send(ident, MsgType.ERROR, {"code": "not_found"})
            else:
                self.send(ident, MsgType.BLOB, {"sha256": msg["sha256"]}, [data])
        elif t is MsgType.RESULT_CHUNK:
            key = (msg["fragment_id"], msg["attempt"])
            parts = self.partial.setdefault(key, [])
            if msg["seq"] == 0:
                parts.clear()
            if msg["seq"] != len(parts):
                raise AssertionError(f"chunk seq {msg['seq']} after {len(parts)} chunks")
            parts.append(decompress_chunk(msg.blobs[0], 1 << 20))
            if msg["seq"] == 0:
                self.first_chunk.set()
        elif t is MsgType.RESULT_END:
            key = (msg["fragment_id"], msg["attempt"])
            parts = self.partial.pop(key, [])
            if msg.blobs:
                parts.append(decompress_chunk(msg.blobs[0], 1 << 20))
            data = b"".join(parts)
            status = "accepted"
            if len(parts) != msg["chunks"] or hashlib.sha256(data).hexdigest() != msg["sha256"] \
                    or len(data) != msg["size"]:
                status = "rejected"
            elif self.leased.get(key) != ident:
                status = "stale"
            elif key[0] in self.results:
                status = "duplicate"
            else:
                self.results[key[0]] = data
                self.accepted_count[key[0]] = self.accepted_count.get(key[0], 0) + 1
                del self.leased[key]
            if self.ack:
                self.send(ident, MsgType.ACK, {"results": [[key[0], key[1], status]]})
        elif t is MsgType.RESULT_BATCH:
            if "result_batch" not in self.features:
                raise AssertionError("RESULT_BATCH sent to a hub that did not confirm it")
            for item, blob in zip(msg["results"], msg.blobs, strict=True):
                self.handle(ident, Message(MsgType.RESULT_END, item, [blob]))
        elif t is MsgType.FAILURE:
            key = (msg["fragment_id"], msg["attempt"])
            self.failures.append((key, msg["outcome"]))
            self.leased.pop(key, None)
            if self.ack:
                self.send(ident, MsgType.ACK, {"results": [[key[0], key[1], "failed"]]})
        elif t is MsgType.RELEASE:
            for fid, att in msg["leases"]:
                self.released.append((fid, att))
                if self.leased.pop((fid, att), None) is not None:
                    self.pending.append(fid)
        elif t is MsgType.STATUS:
            self.statuses.append((msg["paused"], msg["busy"]))
        elif t is MsgType.BYE:
            self.credit.pop(ident, None)

    def _lease(self, ident):
        credit = self.credit.get(ident, 0)
        if credit <= 0 or not self.pending:
            return
        specs, blobs = [], []
        while credit > 0 and self.pending:
            idx = self.pending.pop(0)
            self.attempt += 1
            key = (idx, self.attempt)
            self.leased[key] = ident
            specs.append({"job_id": "j1", "fragment_id": idx, "index": idx, "attempt": self.attempt,
                          "lease_s": self.lease_s, "program_sha256": self.psha,
                          "shared_sha256": self.ssha, "cpu_s": self.limits[0],
                          "wall_s": self.limits[1], "max_output_bytes": self.limits[2]})
            blobs.append(self.fragments[idx])
            credit -= 1
        self.credit[ident] = credit
        self.send(ident, MsgType.LEASE, {"leases": specs}, blobs)

    def cancel(self, key, reason="done elsewhere"):
        """Tell the worker holding ``key`` to drop it (from the test thread)."""
        self.to_cancel.append((key, reason))

    def wait(self, cond, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if cond():
                    return True
            time.sleep(0.01)
        return False

    def stop(self):
        self.stop_flag.set()
        self.join(5)


class Running:
    def __init__(self, agent: WorkerAgent):
        self.agent = agent
        self.thread = threading.Thread(target=agent.run, daemon=True)
        self.thread.start()
        assert agent.started.wait(10)

    def stop(self, timeout=15):
        self.agent.request_shutdown()
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.agent.request_shutdown()
            self.thread.join(timeout)
        assert not self.thread.is_alive(), "worker agent did not stop"
