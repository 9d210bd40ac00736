"""The buyer socket: the hub's local API for buyers' applications.

:class:`BuyerApiServer` listens on a Unix stream socket (default ``<database path>.sock``)
or ``tcp://127.0.0.1:PORT`` and speaks the framed protocol of
:mod:`cpushare_mq.buyer_protocol` (``docs/buyer-protocol.md``). One thread accepts, one
thread serves each connection; they call only the Hub's thread-safe buyer methods
(``submit_job``, ``cancel_job``, ``job_progress``, ``job_ended``, ``status``,
``wait_for_change``, ``finished``, ``fragment_seq``, ``result_chunks``, ``get_cursor``,
``set_cursor``).

Bad input on a connection (garbage, a truncated or oversized frame, an unknown request, an
unknown job, a request out of order) gets one ERROR frame naming the problem, then that
connection is closed; the hub and the other connections carry on.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import select
import socket
import stat
import threading
import time
from collections.abc import Callable
from typing import Any

from .. import buyer_protocol as bp
from ..buyer_protocol import BatchStatus, Err, Limits, Rep, Req
from ..errors import (
    ConfigError,
    CpushareError,
    ProtocolError,
    SchedulingError,
    StoreError,
    UnknownJob,
    VersionMismatch,
)
from ..fragnames import name_problem
from ..jobspec import JobSpecError, check_policy

log = logging.getLogger(__name__)

__all__ = ["BuyerApiServer", "parse_address", "client_for", "default_address"]

PARTIAL_FRAME_TIMEOUT_S = 30.0    # a frame started must be finished within this
_RESULT_END = bp.encode(Rep.RESULT_END)
_RECV_BYTES = 64 << 10            # one read takes up to this much (several frames at once)
ACK_FLUSH_INTERVAL_S = 0.2        # consumed-result cursor is written at most this often
WAIT_SLICE_S = 0.5                # long waits are cut so stop() is noticed
MAX_CONNECTIONS = 256
MAX_FAILURES_LISTED = Limits.MAX_FAILURES_LISTED
MAX_SELLERS_LISTED = Limits.MAX_SELLERS_LISTED


def default_address(db_path: str | os.PathLike) -> str:
    return f"unix:{os.fspath(db_path)}.sock"


def parse_address(address: str) -> tuple[str, Any]:
    """``"unix:PATH"`` / ``PATH`` -> ("unix", PATH); ``"tcp://HOST:PORT"`` -> ("tcp", (HOST, PORT)).

    TCP is only allowed on a loopback address: the buyer socket has no authentication.
    Raises :class:`ConfigError` naming what is wrong.
    """
    if not isinstance(address, str) or not address.strip():
        raise ConfigError("buyer API address is empty: give unix:PATH, a path, or tcp://127.0.0.1:PORT")
    if address.startswith("tcp://"):
        rest = address[len("tcp://"):]
        host, sep, port_s = rest.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port_s.isdigit() or int(port_s) > 65535:
            raise ConfigError(f"bad buyer API address {address!r}: expected tcp://127.0.0.1:PORT")
        if host != "localhost":
            try:
                ip = ipaddress.ip_address(host)
            except ValueError as exc:
                raise ConfigError(f"bad buyer API address {address!r}: {host!r} is not an IP address") from exc
            if not ip.is_loopback:
                raise ConfigError(f"buyer API address {address!r} is not loopback: the buyer socket "
                                  "has no authentication, bind it to 127.0.0.1 or use a Unix socket")
        return "tcp", (host, int(port_s))
    if "://" in address:
        raise ConfigError(f"bad buyer API address {address!r}: use unix:PATH, a path, or tcp://127.0.0.1:PORT")
    path = address[len("unix:"):] if address.startswith("unix:") else address
    if not path:
        raise ConfigError(f"bad buyer API address {address!r}: empty socket path")
    if len(os.fsencode(path)) > 107:
        raise ConfigError(f"Unix socket path {path!r} is longer than 107 bytes; use a shorter path")
    return "unix", path


def submit_policy(f: dict) -> dict[str, Any]:
    """A SUBMIT frame's numbers as :func:`~cpushare_mq.jobspec.check_policy` arguments: 0
    stands for the hub's default (redundancy 1, quorum by majority, the JobSpec defaults)."""
    policy: dict[str, Any] = {"redundancy": f["redundancy"] or 1, "quorum": f["quorum"] or None,
                              "priority": f["priority"], "name": f["name"]}
    for key in ("cpu_s", "wall_s", "max_attempts", "max_output_bytes"):
        if f[key] != 0:
            policy[key] = f[key]
    return policy


def client_for(hub: Any):
    """A :class:`cpushare_mq.client.Client` connected to an embedded, started ``hub``."""
    from ..client import Client

    addr = getattr(hub, "api_address", None)
    if not addr:
        raise ConfigError("this hub serves no buyer socket (it was created with api=''); "
                          "start it with an API address to get a client")
    return Client(addr)


class _Refuse(Exception):
    """Internal: answer with ERROR(code, message) and close the connection."""

    def __init__(self, code: Err, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class _Closed(Exception):
    """Internal: the peer went away (or the server is stopping)."""


class BuyerApiServer:
    """Serves the buyer protocol for ``hub`` on ``address``. ``start()`` binds and returns;
    ``stop()`` closes the listener and every connection."""

    def __init__(self, hub: Any, address: str, *, job_spec_factory: Callable[..., Any] | None = None,
                 max_connections: int = MAX_CONNECTIONS):
        self.hub = hub
        self.kind, self._target = parse_address(address)
        self.requested_address = address
        self.address: str | None = None
        self._job_spec_factory = job_spec_factory
        self.max_connections = max_connections
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._conns: dict[int, _Connection] = {}
        self._cursor_lock = threading.Lock()
        self._cursors: dict[str, list[int]] = {}
        self._next_conn_id = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> BuyerApiServer:
        self._listener = self._bind()
        self._thread = threading.Thread(target=self._accept_loop, name="buyer-api-accept", daemon=True)
        self._thread.start()
        log.info("buyer API listening on %s", self.address)
        return self

    def _bind(self) -> socket.socket:
        if self.kind == "tcp":
            host, port = self._target
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError as exc:
                s.close()
                raise ConfigError(f"cannot bind buyer API to tcp://{host}:{port}: {exc.strerror}") from exc
            bound = s.getsockname()
            shown = f"[{bound[0]}]" if family == socket.AF_INET6 else bound[0]
            self.address = f"tcp://{shown}:{bound[1]}"
        else:
            path = self._target
            self._remove_stale_socket(path)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old_umask = os.umask(0o177)   # the socket file is created owner-only (0600)
            try:
                s.bind(path)
            except OSError as exc:
                s.close()
                raise ConfigError(f"cannot bind buyer API socket {path}: {exc.strerror}") from exc
            finally:
                os.umask(old_umask)
            self.address = f"unix:{path}"
        s.listen(128)
        s.settimeout(WAIT_SLICE_S)
        return s

    @staticmethod
    def _remove_stale_socket(path: str) -> None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ConfigError(f"cannot inspect buyer API socket path {path}: {exc.strerror}") from exc
        if not stat.S_ISSOCK(st.st_mode):
            raise ConfigError(f"buyer API socket path {path} exists and is not a socket; remove it "
                              "or choose another --api address")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)   # stale: nobody listens
            return
        finally:
            probe.close()
        raise ConfigError(f"another hub is already serving the buyer socket {path}")

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)   # wakes the blocked accept()
            except OSError:
                pass
            try:
                self._listener.close()
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout_s)
        with self._lock:
            conns = list(self._conns.values())
        for c in conns:   # wakes idle readers; they answer SHUTTING_DOWN and close
            c.shutdown(socket.SHUT_RD)
        deadline = time.monotonic() + timeout_s / 2
        for c in conns:
            c.thread.join(max(0.0, deadline - time.monotonic()))
        for c in conns:   # whoever is still stuck (e.g. writing to a client that reads nothing)
            if c.thread.is_alive():
                c.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout_s / 2
        for c in conns:
            c.thread.join(max(0.0, deadline - time.monotonic()))
        if self.kind == "unix" and self.address:
            try:
                if stat.S_ISSOCK(os.lstat(self._target).st_mode):
                    os.unlink(self._target)
            except OSError:
                pass
        log.info("buyer API on %s stopped", self.address)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                log.exception("buyer API accept failed")
                time.sleep(0.1)
                continue
            with self._lock:
                too_many = len(self._conns) >= self.max_connections
                cid = self._next_conn_id
                self._next_conn_id += 1
                conn = _Connection(self, sock, cid)
                if not too_many:
                    self._conns[cid] = conn
            if too_many:
                conn.refuse_now(Err.BAD_REQUEST, f"too many buyer connections (limit {self.max_connections})")
                continue
            conn.thread.start()

    # ------------------------------------------------------------------ consumer cursors
    def _cursor_state(self, job_id: str) -> list[int]:
        """[highest acknowledged seq, highest written to the store]; call with _cursor_lock."""
        st = self._cursors.get(job_id)
        if st is None:
            durable = int(self.hub.get_cursor(job_id))
            st = self._cursors[job_id] = [durable, durable]
        return st

    def cursor(self, job_id: str) -> int:
        """The consumer cursor of a job: acknowledged on any connection, stored or not yet."""
        with self._cursor_lock:
            return self._cursor_state(job_id)[0]

    def note_ack(self, job_id: str, seq: int) -> None:
        with self._cursor_lock:
            st = self._cursor_state(job_id)
            st[0] = max(st[0], seq)

    def flush_cursor(self, job_id: str) -> None:
        """Write the job's cursor to the store if it moved (never backwards)."""
        with self._cursor_lock:
            st = self._cursor_state(job_id)
            if st[0] > st[1]:
                self.hub.set_cursor(job_id, st[0])
                st[1] = st[0]

    def settle_followers(self, job_id: str, exclude: _Connection, timeout_s: float = 2.0) -> None:
        """Wait (bounded) until no other connection following ``job_id`` has unread input."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                others = [c for c in self._conns.values() if c is not exclude and c.job_id == job_id]
            if not any(c.thread.is_alive() and not c.waiting and c.has_input() for c in others):
                return
            time.sleep(0.01)

    def _forget(self, cid: int) -> None:
        with self._lock:
            self._conns.pop(cid, None)

    def make_job_spec(self, **kw: Any) -> Any:
        if self._job_spec_factory is not None:
            return self._job_spec_factory(**kw)
        from .scheduler import JobSpec

        return JobSpec(**kw)

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._conns)


class _Connection:
    """One buyer connection, served by its own thread."""

    def __init__(self, server: BuyerApiServer, sock: socket.socket, cid: int):
        self.server = server
        self.hub = server.hub
        self.sock = sock
        self.cid = cid
        self.thread = threading.Thread(target=self.run, name=f"buyer-api-{cid}", daemon=True)
        self._out: list[bytes] = []
        self._out_bytes = 0
        self.hello = False
        self.submit: dict | None = None       # a submission in progress
        self.job_id: str | None = None        # the followed job
        self.delivered = 0                    # highest seq sent on this connection
        self.ack_dirty = False                # acknowledged but not yet written to the store
        self.last_flush = 0.0
        self.waiting = False                  # inside NEXT's wait (not reading requests)
        self._in = bytearray()                # received, not yet parsed (from _in_pos on)
        self._in_pos = 0
        self._timeout_s: float | None = -1.0  # the socket's timeout as last set
        if sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # ------------------------------------------------------------------ plumbing
    def shutdown(self, how: int = socket.SHUT_RDWR) -> None:
        try:
            self.sock.shutdown(how)
        except OSError:
            pass

    def refuse_now(self, code: Err, message: str) -> None:
        try:
            self.sock.settimeout(1.0)
            self.sock.sendall(bp.encode(Rep.ERROR, code=int(code), message=message))
        except OSError:
            pass
        self._linger_close()

    def _set_timeout(self, timeout_s: float | None) -> None:
        if timeout_s != self._timeout_s:      # a syscall each time: only when it changes
            self.sock.settimeout(timeout_s)
            self._timeout_s = timeout_s

    def _fill(self, need: int, frame_started: bool) -> bool:
        """Read until ``need`` bytes are buffered (reads are large: several small requests,
        e.g. a stream of ACKs, come in with one system call). False on a clean end of file
        between frames."""
        buf = self._in
        while len(buf) - self._in_pos < need:
            self._set_timeout(PARTIAL_FRAME_TIMEOUT_S if frame_started else None)
            try:
                chunk = self.sock.recv(min(max(_RECV_BYTES, need - (len(buf) - self._in_pos)), 1 << 20))
            except TimeoutError:
                raise _Refuse(Err.BAD_FRAME, f"truncated frame: got {len(buf) - self._in_pos} "
                              f"of {need} bytes and nothing more for "
                              f"{PARTIAL_FRAME_TIMEOUT_S:g} s") from None
            except OSError as exc:
                raise _Closed(str(exc)) from exc
            if not chunk:
                if self.server.stopping:
                    raise _Refuse(Err.SHUTTING_DOWN, "the hub is shutting down")
                if not frame_started:
                    return False
                raise _Refuse(Err.BAD_FRAME, "truncated frame: connection ended after "
                              f"{len(buf) - self._in_pos} of {need} bytes")
            if self._in_pos and self._in_pos == len(buf):
                buf.clear()
                self._in_pos = 0
            buf += chunk
            frame_started = True
        return True

    def _take(self, n: int) -> bytes:
        pos = self._in_pos
        out = bytes(self._in[pos:pos + n])
        self._in_pos = pos + n
        if self._in_pos == len(self._in):
            self._in.clear()
            self._in_pos = 0
        elif self._in_pos > (1 << 20):       # keep the buffer from growing at the front
            del self._in[:self._in_pos]
            self._in_pos = 0
        return out

    def read_frame(self) -> tuple[int, bytes] | None:
        """The next request frame, or None on a clean end of file between frames."""
        started = len(self._in) > self._in_pos
        if not self._fill(bp.HEADER.size, started):
            return None
        length, msg_type = bp.HEADER.unpack(self._take(bp.HEADER.size))
        try:
            bp.check_length(length)
        except ProtocolError as exc:
            raise _Refuse(Err.TOO_LARGE, str(exc)) from None
        if not length:
            return msg_type, b""
        self._fill(length, True)
        return msg_type, self._take(length)

    def queue(self, data: bytes) -> None:
        self._out.append(data)
        self._out_bytes += len(data)
        if self._out_bytes >= (1 << 20):
            self.flush()

    def flush(self) -> None:
        if not self._out:
            return
        data = b"".join(self._out)
        self._out.clear()
        self._out_bytes = 0
        try:
            self._set_timeout(None)
            self.sock.sendall(data)
        except OSError as exc:
            raise _Closed(f"send failed: {exc}") from exc

    def reply(self, msg_type: int, **fields: Any) -> None:
        self.queue(bp.encode(msg_type, fields))
        self.flush()

    def _linger_close(self) -> None:
        """Close so that what we sent (an ERROR) still reaches the peer: stop writing, read
        and drop what the peer still sends for a moment, then close."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(0.2)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                if not self.sock.recv(1 << 16):
                    break
        except OSError:
            pass
        finally:
            self.sock.close()

    # ------------------------------------------------------------------ main loop
    def run(self) -> None:
        refused = False
        try:
            while True:
                fr = self.read_frame()
                if fr is None:
                    break
                if not self.handle(*fr):
                    break
        except _Refuse as r:
            refused = True
            log.warning("buyer connection %d refused: %s", self.cid, r.message)
            try:
                self._out.clear()
                self.reply(Rep.ERROR, code=int(r.code), message=r.message)
            except _Closed:
                pass
        except _Closed as exc:
            log.debug("buyer connection %d closed: %s", self.cid, exc)
        except Exception:
            refused = True
            log.exception("buyer connection %d: internal error", self.cid)
            try:
                self.reply(Rep.ERROR, code=int(Err.INTERNAL), message="internal error in the hub")
            except Exception as reply_exc:  # the peer is gone too; the error above is logged
                log.debug("buyer connection %d: could not send the error reply: %s", self.cid, reply_exc)
        finally:
            self._flush_ack(force=True)
            if refused:
                self._linger_close()
            else:
                try:
                    self.sock.close()
                except OSError:
                    pass
            self.server._forget(self.cid)

    def handle(self, msg_type: int, payload: bytes) -> bool:
        """Serve one request. False = close the connection (after CLOSE)."""
        if self.server.stopping:
            raise _Refuse(Err.SHUTTING_DOWN, "the hub is shutting down")
        try:
            req = Req(msg_type)
        except ValueError:
            raise _Refuse(Err.UNKNOWN_REQUEST, f"unknown request type 0x{msg_type:02x}") from None
        try:
            msg = bp.decode(req, payload)
        except ProtocolError as exc:
            raise _Refuse(Err.BAD_FRAME, str(exc)) from None
        if not self.hello:
            if req != Req.HELLO:
                raise _Refuse(Err.BAD_REQUEST, f"expected HELLO first, got {req.name}")
            try:
                bp.check_hello(msg)
            except VersionMismatch:
                raise _Refuse(Err.VERSION, f"this hub speaks buyer protocol version {bp.VERSION}; "
                              f"the client speaks version {msg['version']}") from None
            except ProtocolError as exc:
                raise _Refuse(Err.BAD_FRAME, str(exc)) from None
            self.hello = True
            self.reply(Rep.HELLO, magic=bp.MAGIC, version=bp.VERSION, server="cpushare-hub")
            return True
        if self.submit is not None and req not in (Req.PROGRAM, Req.SHARED, Req.FRAGMENTS, Req.NAMES,
                                                   Req.SUBMIT_END):
            raise _Refuse(Err.BAD_REQUEST, f"{req.name} in the middle of a submission "
                          "(expected PROGRAM, SHARED, FRAGMENTS, NAMES or SUBMIT_END)")
        handler = getattr(self, f"on_{req.name.lower()}")
        try:
            return handler(msg) is not False
        except UnknownJob as exc:
            raise _Refuse(Err.UNKNOWN_JOB, f"unknown job: {exc}") from None
        except StoreError as exc:
            raise _Refuse(Err.INTERNAL, f"the hub's store failed: {exc}") from None
        except SchedulingError as exc:
            raise _Refuse(Err.BAD_REQUEST, f"{req.name} refused: {exc}") from None
        except CpushareError as exc:
            raise _Refuse(Err.INTERNAL, f"{req.name} failed in the hub: {exc}") from None

    # ------------------------------------------------------------------ requests
    def on_hello(self, msg: bp.Message) -> None:
        raise _Refuse(Err.BAD_REQUEST, "HELLO sent twice")

    def on_submit(self, msg: bp.Message) -> None:
        f = msg.fields
        policy = submit_policy(f)
        try:
            check_policy(n_fragments=f["n_fragments"], **policy)
        except JobSpecError as exc:
            raise _Refuse(Err.BAD_REQUEST, str(exc)) from None
        self.submit = {"params": f, "policy": policy, "program": None, "shared": None,
                       "fragments": [], "bytes": 0, "names": []}

    def _need_submit(self, what: str) -> dict:
        if self.submit is None:
            raise _Refuse(Err.BAD_REQUEST, f"{what} outside a submission (send SUBMIT first)")
        return self.submit

    def on_program(self, msg: bp.Message) -> None:
        s = self._need_submit("PROGRAM")
        data = msg["data"]
        if s["program"] is not None:
            raise _Refuse(Err.BAD_REQUEST, "PROGRAM sent twice in one submission")
        if not data:
            raise _Refuse(Err.BAD_REQUEST, "PROGRAM is empty")
        if len(data) > Limits.MAX_PROGRAM_BYTES:
            raise _Refuse(Err.TOO_LARGE, f"program of {len(data)} bytes is over {Limits.MAX_PROGRAM_BYTES}")
        s["program"] = data

    def on_shared(self, msg: bp.Message) -> None:
        s = self._need_submit("SHARED")
        if s["program"] is None or s["shared"] is not None:
            raise _Refuse(Err.BAD_REQUEST, "SHARED must come once, right after PROGRAM")
        if len(msg["data"]) > Limits.MAX_SHARED_BYTES:
            raise _Refuse(Err.TOO_LARGE, f"shared input of {len(msg['data'])} bytes is over {Limits.MAX_SHARED_BYTES}")
        s["shared"] = msg["data"]

    def on_fragments(self, msg: bp.Message) -> None:
        s = self._need_submit("FRAGMENTS")
        if s["shared"] is None:
            raise _Refuse(Err.BAD_REQUEST, "FRAGMENTS before PROGRAM and SHARED")
        frags = msg["fragments"]
        n_total = s["params"]["n_fragments"]
        if len(s["fragments"]) + len(frags) > n_total:
            raise _Refuse(Err.BAD_REQUEST, f"more fragments than the {n_total} announced in SUBMIT")
        for i, fr in enumerate(frags):
            if len(fr) > Limits.MAX_FRAGMENT_INPUT_BYTES:
                raise _Refuse(Err.TOO_LARGE, f"fragment {len(s['fragments']) + i} of {len(fr)} bytes is "
                              f"over {Limits.MAX_FRAGMENT_INPUT_BYTES}")
            s["bytes"] += len(fr)
        if s["bytes"] > Limits.MAX_JOB_INPUT_BYTES:
            raise _Refuse(Err.TOO_LARGE, f"the job's fragments total over {Limits.MAX_JOB_INPUT_BYTES} bytes")
        s["fragments"].extend(frags)

    def on_names(self, msg: bp.Message) -> None:
        s = self._need_submit("NAMES")
        names = msg["names"]
        if len(s["names"]) + len(names) > s["params"]["n_fragments"]:
            raise _Refuse(Err.BAD_REQUEST, f"more names than the {s['params']['n_fragments']} fragments announced")
        for i, name in enumerate(names):
            why = name_problem(name)
            if why:
                raise _Refuse(Err.BAD_REQUEST, f"NAMES: fragment {len(s['names']) + i}: {why}")
        s["names"].extend(names)

    def on_submit_end(self, msg: bp.Message) -> None:
        s = self._need_submit("SUBMIT_END")
        p = s["params"]
        if s["shared"] is None:
            raise _Refuse(Err.BAD_REQUEST, "SUBMIT_END before PROGRAM and SHARED")
        if len(s["fragments"]) != p["n_fragments"]:
            raise _Refuse(Err.BAD_REQUEST, f"SUBMIT_END after {len(s['fragments'])} fragments, "
                          f"SUBMIT announced {p['n_fragments']}")
        if s["names"] and len(s["names"]) != p["n_fragments"]:
            raise _Refuse(Err.BAD_REQUEST, f"SUBMIT_END after {len(s['names'])} names for "
                          f"{p['n_fragments']} fragments (name all of them or none)")
        kw: dict[str, Any] = {"program": s["program"], "fragments": s["fragments"],
                              "shared_input": s["shared"], **s["policy"]}
        if s["names"]:
            kw["fragment_names"] = s["names"]
        self.submit = None
        self._flush_ack(force=True)
        try:
            spec = self.server.make_job_spec(**kw)
            job_id = self.hub.submit_job(spec)
        except StoreError:
            raise
        except JobSpecError as exc:
            raise _Refuse(Err.BAD_REQUEST, str(exc)) from None
        except (ValueError, TypeError, SchedulingError) as exc:
            raise _Refuse(Err.BAD_REQUEST, f"job refused: {exc}") from None
        log.info("buyer connection %d submitted job %s (%d fragments)", self.cid, job_id, len(kw["fragments"]))
        self._follow(job_id, from_start=False, cursor=0)
        self.reply(Rep.SUBMITTED, job_id=job_id)

    def _follow(self, job_id: str, from_start: bool, cursor: int) -> None:
        self.job_id = job_id
        self.delivered = 0 if from_start else cursor

    def has_input(self) -> bool:
        """Unread bytes (or an end of file) wait on this connection (buffer or socket)."""
        if len(self._in) > self._in_pos:
            return True
        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def on_attach(self, msg: bp.Message) -> None:
        job_id = msg["job_id"]
        if not job_id:
            raise _Refuse(Err.BAD_REQUEST, "ATTACH: empty job id")
        self._flush_ack(force=True)
        prog = self.hub.job_progress(job_id)   # UnknownJob -> refusal
        # A consumer that just died may still have ACKs in its connection's buffer: let that
        # connection read them (and its end of file) before the cursor is read.
        self.server.settle_followers(job_id, exclude=self)
        cursor = self.server.cursor(job_id)
        self._follow(job_id, bool(msg["from_start"]), cursor)
        self.reply(Rep.ATTACHED, job_id=job_id, total=int(prog.get("total", 0)), cursor=cursor)

    def _need_job(self, what: str) -> str:
        if self.job_id is None:
            raise _Refuse(Err.BAD_REQUEST, f"{what}: no job followed on this connection (SUBMIT or ATTACH first)")
        return self.job_id

    def on_ack(self, msg: bp.Message) -> None:
        job_id = self._need_job("ACK")
        seq = msg["seq"]
        if seq > self.delivered:
            raise _Refuse(Err.BAD_REQUEST, f"ACK of seq {seq}, but only results up to seq "
                          f"{self.delivered} were delivered on this connection (job {job_id})")
        self.server.note_ack(job_id, seq)
        self.ack_dirty = True
        self._flush_ack(force=False)

    def _flush_ack(self, force: bool) -> None:
        if self.job_id is None or not self.ack_dirty:
            return
        now = time.monotonic()
        if not force and now - self.last_flush < ACK_FLUSH_INTERVAL_S:
            return
        try:
            self.server.flush_cursor(self.job_id)
            self.ack_dirty = False
            self.last_flush = now
        except Exception:
            log.exception("buyer connection %d: could not store the delivery cursor of job %s",
                          self.cid, self.job_id)

    def _all_delivered(self, job_id: str) -> bool:
        return self.hub.job_ended(job_id) and not self.hub.finished(job_id, self.delivered, 1)

    def on_next(self, msg: bp.Message) -> None:
        job_id = self._need_job("NEXT")
        max_results = max(1, min(msg["max_results"], Limits.MAX_RESULTS_PER_NEXT))
        t_ms = msg["timeout_ms"]
        deadline = None if t_ms == bp.FOREVER_MS else time.monotonic() + t_ms / 1000.0
        sent = 0
        # Asking for more confirms what came before: make that durable before anything new
        # goes out, so a hub killed now re-delivers nothing the buyer already consumed.
        self._flush_ack(force=True)
        while True:
            items = self.hub.finished(job_id, self.delivered, max_results - sent)
            for item in items:
                self._send_result(item)
                sent += 1
            if sent:
                break
            if self._all_delivered(job_id):
                self.queue(bp.encode(Rep.BATCH_END, status=int(BatchStatus.FINISHED)))
                self.flush()
                return
            self._flush_ack(force=True)   # about to wait: make consumption durable first
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self.queue(bp.encode(Rep.BATCH_END, status=int(BatchStatus.TIMEOUT)))
                self.flush()
                return
            if self.server.stopping:
                raise _Refuse(Err.SHUTTING_DOWN, "the hub is shutting down")
            slice_s = WAIT_SLICE_S if remaining is None else min(WAIT_SLICE_S, remaining)
            self.waiting = True
            try:
                self.hub.wait_for_change(job_id, self.delivered, slice_s)
            finally:
                self.waiting = False
        status = BatchStatus.FINISHED if self._all_delivered(job_id) else BatchStatus.MORE
        self.queue(bp.encode(Rep.BATCH_END, status=int(status)))
        self.flush()

    def _send_result(self, item: Any) -> None:
        if not item.ok:
            self.queue(bp.encode_result(int(item.seq), int(item.index), False, 0,
                                        str(item.reason or "failed"), str(getattr(item, "name", ""))))
        else:
            announced = int(item.size)
            inline = getattr(item, "data", None)    # small results come with their row
            if inline is None and announced <= (16 << 20):
                try:
                    inline = b"".join(bytes(ch) for ch in self.hub.result_chunks(item.fragment_id))
                except StoreError:
                    inline = None
                if (inline is None or len(inline) != announced) and self._superseded(item):
                    # re-verified since finished() read it: a newer seq delivers the outcome
                    self.delivered = int(item.seq)
                    return
                if inline is None:
                    raise _Refuse(Err.INTERNAL, f"the result of fragment {item.index} cannot be read")
                if len(inline) != announced:   # small enough to check before announcing it
                    log.warning("job %s fragment %d: result is %d bytes, the hub said %d",
                                self.job_id, item.index, len(inline), announced)
            if inline is not None:
                self.queue(bp.encode_result(int(item.seq), int(item.index), True, len(inline), "",
                                            str(getattr(item, "name", ""))))
                self._queue_chunk(inline)
            else:
                self.queue(bp.encode(Rep.RESULT, seq=int(item.seq), index=int(item.index), ok=1,
                                     size=announced, reason="", name=str(getattr(item, "name", ""))))
                sent = 0
                for ch in self.hub.result_chunks(item.fragment_id):
                    self._queue_chunk(bytes(ch))
                    sent += len(ch)
                if sent != announced:   # cannot be repaired now: the client will refuse it
                    raise _Refuse(Err.INTERNAL, f"result of fragment {item.index} is {sent} bytes, "
                                  f"announced {announced}")
        self.queue(_RESULT_END)
        self.delivered = int(item.seq)

    def _superseded(self, item: Any) -> bool:
        """Has ``item``'s fragment been accepted again (a new seq) since it was read?"""
        try:
            seq = self.hub.fragment_seq(item.fragment_id)
        except StoreError:
            return False
        return seq is not None and seq > int(item.seq)

    def _queue_chunk(self, data: bytes) -> None:
        step = Limits.CHUNK_BYTES
        for off in range(0, len(data), step):
            self.queue(bp.frame(Rep.CHUNK, data[off:off + step]))

    def on_progress(self, msg: bp.Message) -> None:
        job_id = msg["job_id"] or self._need_job("PROGRESS")
        p = self.hub.job_progress(job_id)
        rec = bp.progress_record(p)
        failures = list(p.get("failures") or [])
        listed = [{"index": min(max(int(x.get("index", 0)), 0), 0xFFFFFFFF),
                   "reason": str(x.get("reason", ""))[:4096]} for x in failures[:MAX_FAILURES_LISTED]]
        self.reply(Rep.PROGRESS, **rec, failures=listed,
                   failures_truncated=1 if len(failures) > MAX_FAILURES_LISTED else 0)

    def on_status(self, msg: bp.Message) -> None:
        st = self.hub.status()
        jobs = [bp.progress_record(j) for j in st.get("jobs", [])]
        workers = [bp.worker_record(w) for w in st.get("workers", [])]
        try:
            tput = float(st.get("throughput_per_s", 0.0) or 0.0)
        except (TypeError, ValueError):
            tput = 0.0
        sellers = [bp.seller_record(s) for s in st.get("sellers", [])[:MAX_SELLERS_LISTED]]
        self.reply(Rep.STATUS, jobs=jobs, workers=workers,
                   throughput_per_s=tput if math.isfinite(tput) else 0.0, sellers=sellers)

    def on_cancel(self, msg: bp.Message) -> None:
        job_id = msg["job_id"] or self._need_job("CANCEL")
        self.hub.cancel_job(job_id)
        log.info("buyer connection %d cancelled job %s", self.cid, job_id)
        self.reply(Rep.OK)

    def on_close(self, msg: bp.Message) -> bool:
        self._flush_ack(force=True)
        self.reply(Rep.BYE)
        return False
