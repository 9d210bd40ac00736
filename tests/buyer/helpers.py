from __future__ import annotations

import socket
import time

from cpushare_mq import buyer_protocol as bp
from cpushare_mq.buyer_protocol import Req


def hello_frame(version: int = bp.VERSION, token: str = "") -> bytes:
    return bp.encode(Req.HELLO, magic=bp.MAGIC, version=version, client="raw-test", token=token)


def unix_path(address: str) -> str:
    return address[len("unix:"):] if address.startswith("unix:") else address


def raw_exchange(address: str, data: bytes, *, shut_wr: bool = True, timeout_s: float = 20.0):
    """Send raw bytes, then read until the hub closes. Returns (decoded frames, closed_by_hub)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout_s)
    s.connect(unix_path(address))
    try:
        try:
            s.sendall(data)
            if shut_wr:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass   # the hub may refuse and close before reading everything
        buf = b""
        deadline = time.monotonic() + timeout_s
        closed = False
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            buf += chunk
    finally:
        s.close()
    frames = [bp.decode(t, p) for t, p in bp.FrameBuffer().feed(buf)]
    return frames, closed
