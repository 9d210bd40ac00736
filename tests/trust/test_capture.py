"""What an eavesdropper sees: a plain TCP relay between a worker's DEALER and the hub's
ROUTER records every byte. With CURVE a fragment's plaintext never appears in the capture;
without it (the control) it does, which shows the capture works."""

from __future__ import annotations

import os
import socket
import threading

import pytest
import zmq

from cpushare_mq import protocol
from cpushare_mq.protocol import MsgType
from cpushare_mq.trust.keys import generate_curve_keypair
from cpushare_mq.trust.zap import KeyPolicy, ZapHandler, make_curve_client, make_curve_server


class Relay:
    """Accepts one TCP connection and forwards it to ``target_port``, recording both ways."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.captured = bytearray()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        try:
            down, _ = self.listener.accept()
        except OSError:
            return
        up = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
        for a, b in ((down, up), (up, down)):
            t = threading.Thread(target=self._pump, args=(a, b), daemon=True)
            t.start()
            self.threads.append(t)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        src.settimeout(0.2)
        try:
            while not self.stop.is_set():
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                with self.lock:
                    self.captured += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> bytes:
        self.stop.set()
        self.listener.close()
        for t in self.threads:
            t.join(5)
        with self.lock:
            return bytes(self.captured)


def exchange(curve: bool) -> tuple[bytes, bytes]:
    """Send a LEASE carrying a known fragment hub -> worker and a result back, through the
    relay. Returns (captured bytes, the fragment plaintext)."""
    fragment = b"TOP-SECRET-TILE:" + os.urandom(16).hex().encode() + b":x=0..63,y=0..63"
    result = b"RESULT-PIXELS:" + os.urandom(16).hex().encode()
    hub_ctx, w_ctx = zmq.Context(), zmq.Context()
    hub_keys, w_keys = generate_curve_keypair(), generate_curve_keypair()
    zap = ZapHandler(hub_ctx, KeyPolicy()).start() if curve else None
    router = hub_ctx.socket(zmq.ROUTER)
    dealer = w_ctx.socket(zmq.DEALER)
    relay = None
    try:
        router.linger = dealer.linger = 0
        if curve:
            make_curve_server(router, hub_keys)
            make_curve_client(dealer, w_keys, hub_keys.public)
        port = router.bind_to_random_port("tcp://127.0.0.1")
        relay = Relay(port)
        dealer.connect(f"tcp://127.0.0.1:{relay.port}")
        dealer.send_multipart(protocol.encode(MsgType.HELLO, {
            "worker_version": "test", "abi_version": 1, "slots": 1}))
        assert router.poll(10_000), "hub got no HELLO through the relay"
        rid, *frames = router.recv_multipart()
        assert protocol.decode(frames).type is MsgType.HELLO
        lease = {"job_id": "j1", "fragment_id": 7, "index": 0, "attempt": 0, "lease_s": 30.0,
                 "program_sha256": "a" * 64, "shared_sha256": "b" * 64, "cpu_s": 1.0,
                 "wall_s": 2.0, "max_output_bytes": 1000}
        router.send_multipart([rid, *protocol.encode(MsgType.LEASE, {"leases": [lease]}, [fragment])])
        assert dealer.poll(10_000), "worker got no LEASE through the relay"
        msg = protocol.decode(dealer.recv_multipart())
        assert msg.blobs == [fragment]
        dealer.send_multipart(protocol.encode(MsgType.RESULT_CHUNK, {
            "fragment_id": 7, "attempt": 0, "seq": 0}, [result]))
        assert router.poll(10_000)
        assert router.recv_multipart()[-1] == result
    finally:
        captured = relay.close() if relay else b""
        router.close(0)
        dealer.close(0)
        if zap:
            zap.stop()
        hub_ctx.term()
        w_ctx.term()
    return captured, fragment + b"|" + result


@pytest.mark.parametrize("curve", [True, False], ids=["curve", "plain-control"])
def test_fragment_plaintext_on_the_wire(curve):
    captured, secrets = exchange(curve)
    fragment, result = secrets.split(b"|")
    assert len(captured) > len(fragment) + len(result)
    if curve:
        assert fragment not in captured and result not in captured
        assert fragment[:12] not in captured and b"TOP-SECRET" not in captured
        assert b"CPMQ" not in captured          # not even our message headers are visible
    else:
        assert fragment in captured and result in captured
