"""Issue 14, item 8: the buyer's Unix socket serves the hub's own user only, even when the
socket file's mode lets others connect (the kernel's SO_PEERCRED names the peer's uid)."""

from __future__ import annotations

import os
import subprocess

import pytest

from cpushare_mq.client import Client
from cpushare_mq.hub.peercred import refusal_for_uid

NOBODY = 65534

#: a buyer of another user, with nothing but the system's Python: connect, say nothing, read
#: what the hub says before it closes the connection
STRANGER = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode("utf-8", "replace"))
"""


def test_the_rule():
    assert refusal_for_uid(None, 1000) is None              # TCP: the token's business
    assert refusal_for_uid(1000, 1000) is None and refusal_for_uid(0, 1000) is None
    assert "serves uid 1000 only" in refusal_for_uid(1001, 1000)


@pytest.mark.skipif(os.getuid() != 0 or not os.path.exists("/usr/bin/python3"),
                    reason="needs root to run a process as another user (CI runs as root)")
def test_another_user_is_refused_even_with_a_world_writable_socket(real_hub, short_tmp):
    os.chmod(short_tmp, 0o755)                               # let nobody reach the socket ...
    path = real_hub.api_address.removeprefix("unix:")
    os.chmod(path, 0o666)                                    # ... and open it
    r = subprocess.run(["/usr/bin/python3", "-c", STRANGER, path],
                       user=NOBODY, group=NOBODY, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"serves uid 0 only, and this process runs as uid {NOBODY}" in r.stdout
    with Client(real_hub.api_address) as c:                  # the hub's own user still is
        assert "jobs" in c.status()
