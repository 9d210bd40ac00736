"""Cheating workers made from the outside, the way a real cheater would: the worker is the
shipped ``cpushare-worker``, unmodified, but ``CPUSHARE_NATIVE_DIR`` points it at a
wrapper "loader" that runs the real loader and corrupts every result byte on its way out
(a lying sandbox with a valid ABI; the worker signs the lies with its own valid key). Like a
real cheater it is honest with the worker's self-test probe program, so the worker starts.

The shipped worker has no switch that makes it cheat; this module is the only cheater.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from cpushare_mq.native import find_binary
from cpushare_mq.sandbox.probe import PROBE_PROGRAM

_WRAPPER = r'''#!{python}
# A cheating sandbox for tests: runs the real loader and flips every result byte.
import os, signal, struct, sys, threading, time

REAL = {real!r}
DELAY_S = {delay_s!r}
argv = sys.argv[1:]
if "--parent-pid" in argv:                  # the real loader must die with us, its parent
    argv[argv.index("--parent-pid") + 1] = str(os.getpid())
keep = [int(argv[argv.index(f) + 1]) for f in ("--program-fd", "--status-fd") if f in argv]
# a real cheater passes the worker's self-test: it is honest with the probe program
import hashlib
digest, offset = hashlib.sha256(), 0
while chunk := os.pread(keep[0], 1 << 20, offset):
    digest.update(chunk)
    offset += len(chunk)
HONEST = digest.hexdigest() == {probe_sha256!r}
rd_in, wr_in = os.pipe()
rd_out, wr_out = os.pipe()
pid = os.fork()
if pid == 0:
    os.dup2(rd_in, 0)
    os.dup2(wr_out, 1)
    for fd in (rd_in, wr_in, rd_out, wr_out):
        os.close(fd)
    os.execv(REAL, [REAL, *argv])
os.close(rd_in)
os.close(wr_out)
for fd in keep:
    os.close(fd)


def pump_in():
    while True:
        data = os.read(0, 1 << 16)
        if not data:
            break
        os.write(wr_in, data)
    os.close(wr_in)


threading.Thread(target=pump_in, daemon=True).start()
buf = b""
while True:
    data = os.read(rd_out, 1 << 16)
    if not data:
        break
    buf += data
    out = b""
    while len(buf) >= 5:
        n, kind = struct.unpack("<IB", buf[:5])
        if len(buf) < 5 + n:
            break
        payload = buf[5:5 + n]
        if kind == ord("D") and not HONEST:
            payload = bytes(b ^ 0x5A for b in payload)
        elif kind == ord("E") and DELAY_S:
            time.sleep(DELAY_S)
        out += buf[:5] + payload
        buf = buf[5 + n:]
    if out:
        os.write(1, out)
_, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    if os.WTERMSIG(status) != signal.SIGKILL:    # (SIGKILL's action cannot be set)
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
sys.exit(os.WEXITSTATUS(status))
'''


def cheating_native_dir(directory: Path, delay_s: float = 0.0) -> Path:
    """Make ``directory`` a native dir whose ``cpushare-loader`` lies (every 'D' byte of
    every result flipped; each 'E' held back ``delay_s``). Returns ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    real = str(find_binary("cpushare-loader"))
    path = directory / "cpushare-loader"
    probe = find_binary(PROBE_PROGRAM).read_bytes()
    path.write_text(_WRAPPER.format(python=sys.executable, real=real, delay_s=float(delay_s),
                                    probe_sha256=hashlib.sha256(probe).hexdigest()))
    path.chmod(0o755)
    return directory


def cheater_env(directory: Path, delay_s: float = 0.0) -> dict[str, str]:
    """The environment of a cheating ``cpushare-worker`` process."""
    return {**os.environ, "CPUSHARE_NATIVE_DIR": str(cheating_native_dir(directory, delay_s))}
