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

import contextlib
import logging
import os
import select
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .. import buyer_protocol as bp
from ..buyer_address import MAX_UNIX_PATH_BYTES, default_address, parse_address
from ..buyer_protocol import BatchStatus, Err, Limits, Rep, Req
from ..buyer_token import ENV_VAR as TOKEN_ENV
from ..buyer_token import ensure_token, token_path, token_refusal
from ..errors import (
    ConfigError,
    CpushareError,
    ProtocolError,
    SchedulingError,
    StoreError,
    UnknownJob,
)
from ..jobspec import JobSpec, JobSpecError
from .peercred import peer_uid, refusal_for_uid
from .submission import Refusal as _Refuse
from .submission import Submission

if TYPE_CHECKING:
    from .store import FinishedFragment

log = logging.getLogger(__name__)

__all__ = ["BuyerApiServer", "BuyerHub", "parse_address", "client_for", "default_address"]

PARTIAL_FRAME_TIMEOUT_S = 30.0    # a frame started must be finished within this
HELLO_TIMEOUT_S = 10.0            # a connection must complete its HELLO within this
_RESULT_END = bp.encode(Rep.RESULT_END)
_RECV_BYTES = 64 << 10            # one read takes up to this much (several frames at once)
ACK_FLUSH_INTERVAL_S = 0.2        # consumed-result cursor is written at most this often
WAIT_SLICE_S = 0.5                # long waits are cut so stop() is noticed
MAX_CONNECTIONS = 256


@runtime_checkable
class BuyerHub(Protocol):
    """What the buyer socket needs of a hub: the thread-safe buyer methods of
    :class:`cpushare_mq.hub.server.Hub` (tests serve an in-memory one)."""

    def submit_job(self, spec: JobSpec) -> str: ...
    def cancel_job(self, job_id: str) -> None: ...
    def raise_budget(self, job_id: str, amount: Any) -> Any: ...

    def purge_job(self, job_id: str) -> int: ...
    def job_progress(self, job_id: str) -> dict: ...
    def job_ended(self, job_id: str) -> bool: ...
    def status(self) -> dict: ...
    def wait_for_change(self, job_id: str, after_seq: int, timeout_s: float) -> int: ...
    def finished(self, job_id: str, after_seq: int, limit: int = 1000) -> list[FinishedFragment]: ...
    def result_chunks(self, fragment_id: int) -> Iterator[bytes]: ...
    def fragment_seq(self, fragment_id: int) -> int | None: ...
    def get_cursor(self, job_id: str) -> int: ...
    def set_cursor(self, job_id: str, seq: int) -> None: ...


#: makes the JobSpec the hub is given (tests pass their own record type)
JobSpecFactory = Callable[..., JobSpec]


def client_for(hub: Any):
    """A :class:`cpushare_mq.client.Client` connected to an embedded, started ``hub``."""
    from ..client import Client

    addr = getattr(hub, "api_address", None)
    if not addr:
        raise ConfigError("this hub serves no buyer socket (it was created with api=''); "
                          "start it with an API address to get a client")
    db = getattr(hub, "db_path", None)
    return Client(addr, token_file=token_path(db) if db else None)


def linger_close(sock: socket.socket) -> None:
    """Close so that what we sent (an ERROR) still reaches the peer: stop writing, read and
    drop what the peer still sends for a moment, then close."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.2)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if not sock.recv(1 << 16):
                break
    except OSError:
        pass
    finally:
        sock.close()


class _Closed(Exception):
    """Internal: the peer went away (or the server is stopping)."""


class BuyerApiServer:
    """Serves the buyer protocol for ``hub`` on ``address``. ``start()`` binds and returns;
    ``stop()`` closes the listener and every connection."""

    def __init__(self, hub: BuyerHub, address: str, *, job_spec_factory: JobSpecFactory | None = None,
                 max_connections: int = MAX_CONNECTIONS, token_file: str | None = None):
        self.hub = hub
        self.kind, self._target = parse_address(address)
        self.token_file = token_file      # TCP only: the buyer API token (buyer_token.py)
        self._token: str | None = None
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
        if self._token is not None:
            log.info("buyer API listening on %s (clients need the token in %s: "
                     "--api-token FILE or $%s)", self.address, self.token_file, TOKEN_ENV)
        else:
            log.info("buyer API listening on %s", self.address)
        return self

    def _bind(self) -> socket.socket:
        if self.kind == "tcp":
            if not self.token_file:
                raise ConfigError("a buyer API on TCP needs a token file (the hub keeps it "
                                  "beside its database); or use a Unix socket")
            self._token = ensure_token(self.token_file)
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
            s.listen(128)
        else:
            s = self._bind_unix(self._target)
        s.settimeout(WAIT_SLICE_S)
        return s

    def _bind_unix(self, path: str) -> socket.socket:
        """A listening socket at ``path``, owner-only (0600). It is bound and listening under
        a staging name first and then linked into place, so a client that sees the file can
        connect (a hub started in the background is up once its socket exists)."""
        self._remove_stale_socket(path)
        staging = f"{path}.{os.getpid()}.new"
        if len(os.fsencode(staging)) > MAX_UNIX_PATH_BYTES:
            staging = path            # no room for the suffix: bound in place
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            if staging != path:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(staging)        # left by a hub of this pid that was killed
            s.bind(staging)
            s.listen(128)
            if staging != path:
                os.link(staging, path)        # fails if another hub took the path meanwhile
                os.unlink(staging)
        except OSError as exc:
            s.close()
            if staging != path:
                with contextlib.suppress(OSError):
                    os.unlink(staging)
            raise ConfigError(f"cannot bind buyer API socket {path}: {exc.strerror}") from exc
        finally:
            os.umask(old_umask)
        self.address = f"unix:{path}"
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
            stranger = refusal_for_uid(peer_uid(sock))
            if stranger is not None:
                with self._lock:
                    self._conns.pop(cid, None)
                log.warning("buyer connection %d refused: %s", cid, stranger)
                conn.refuse_now(Err.BAD_REQUEST, stranger)
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

    def token_refusal(self, presented: str) -> str | None:
        """Why a connection presenting this token is refused (None: admitted). Only TCP
        connections need one: a Unix socket checks the peer's uid instead."""
        if self._token is None:
            return None
        return token_refusal(self._token, presented, str(self.token_file))

    def forget(self, cid: int) -> None:
        with self._lock:
            self._conns.pop(cid, None)

    def make_job_spec(self, **kw: Any) -> JobSpec:
        if self._job_spec_factory is not None:
            return self._job_spec_factory(**kw)
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
        self.submit: Submission | None = None  # a submission in progress
        self.job_id: str | None = None        # the followed job
        self.delivered = 0                    # highest seq sent on this connection
        self.ack_dirty = False                # acknowledged but not yet written to the store
        self.last_flush = 0.0
        self.waiting = False                  # inside NEXT's wait (not reading requests)
        self._in = bp.FrameBuffer()           # received, not yet parsed
        self._timeout_s: float | None = -1.0  # the socket's timeout as last set
        self._hello_by = time.monotonic() + HELLO_TIMEOUT_S   # HELLO due (monotonic time)
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
        linger_close(self.sock)

    def _set_timeout(self, timeout_s: float | None) -> None:
        if timeout_s != self._timeout_s:      # a syscall each time: only when it changes
            self.sock.settimeout(timeout_s)
            self._timeout_s = timeout_s

    def read_frame(self) -> tuple[int, bytes] | None:
        """The next request frame, or None on a clean end of file between frames. Reads are
        large: several small requests (e.g. a stream of ACKs) come in with one system call."""
        buf = self._in
        while True:
            try:
                fr = buf.next_frame()
            except bp.FrameTooLarge as exc:
                raise _Refuse(Err.TOO_LARGE, str(exc)) from None
            if fr is not None:
                return fr
            started = buf.pending > 0
            if not self.hello:      # a stranger may not hold a connection without HELLO
                self._set_timeout(max(0.01, self._hello_by - time.monotonic()))
            else:
                self._set_timeout(PARTIAL_FRAME_TIMEOUT_S if started else None)
            try:
                chunk = self.sock.recv(min(max(_RECV_BYTES, buf.missing), 1 << 20))
            except TimeoutError:
                if not self.hello:
                    raise _Refuse(Err.BAD_REQUEST, f"no HELLO within {HELLO_TIMEOUT_S:g} s "
                                  "of connecting") from None
                raise _Refuse(Err.BAD_FRAME, f"truncated frame: got {buf.pending} bytes, "
                              f"{buf.missing} more expected, and nothing more for "
                              f"{PARTIAL_FRAME_TIMEOUT_S:g} s") from None
            except OSError as exc:
                raise _Closed(str(exc)) from exc
            if not chunk:
                if self.server.stopping:
                    raise _Refuse(Err.SHUTTING_DOWN, "the hub is shutting down")
                if not started:
                    return None
                raise _Refuse(Err.BAD_FRAME, f"truncated frame: connection ended after {buf.pending} "
                              f"bytes, {buf.missing} more expected")
            buf.add(chunk)

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
                linger_close(self.sock)
            else:
                try:
                    self.sock.close()
                except OSError:
                    pass
            self.server.forget(self.cid)

    def handle(self, msg_type: int, payload: bytes) -> bool:
        """Serve one request. False = close the connection (after CLOSE)."""
        if self.server.stopping:
            raise _Refuse(Err.SHUTTING_DOWN, "the hub is shutting down")
        try:
            req = Req(msg_type)
        except ValueError:
            raise _Refuse(Err.UNKNOWN_REQUEST, f"unknown request type 0x{msg_type:02x}") from None
        if not self.hello:
            if req != Req.HELLO:
                raise _Refuse(Err.BAD_REQUEST, f"expected HELLO first, got {req.name}")
            self.on_first_hello(payload)
            return True
        try:
            msg = bp.decode(req, payload)
        except ProtocolError as exc:
            raise _Refuse(Err.BAD_FRAME, str(exc)) from None
        if self.submit is not None and req not in (Req.PROGRAM, Req.SHARED, Req.FRAGMENTS, Req.NAMES,
                                                   Req.TERMS, Req.SUBMIT_END):
            raise _Refuse(Err.BAD_REQUEST, f"{req.name} in the middle of a submission "
                          "(expected PROGRAM, SHARED, FRAGMENTS, NAMES, TERMS or SUBMIT_END)")
        try:
            return _HANDLERS[req](self, msg) is not False
        except UnknownJob as exc:
            raise _Refuse(Err.UNKNOWN_JOB, f"unknown job: {exc}") from None
        except StoreError as exc:
            raise _Refuse(Err.INTERNAL, f"the hub's store failed: {exc}") from None
        except SchedulingError as exc:
            raise _Refuse(Err.BAD_REQUEST, f"{req.name} refused: {exc}") from None
        except CpushareError as exc:
            raise _Refuse(Err.INTERNAL, f"{req.name} failed in the hub: {exc}") from None

    # ------------------------------------------------------------------ requests
    def on_first_hello(self, payload: bytes) -> None:
        """The handshake: protocol version, then (TCP) the buyer API token."""
        claimed = bp.hello_version(payload)
        if claimed is not None and claimed != bp.VERSION:
            raise _Refuse(Err.VERSION, f"this hub speaks buyer protocol version {bp.VERSION}; "
                          f"the client speaks version {claimed}")
        try:
            msg = bp.decode(Req.HELLO, payload)
            bp.check_hello(msg)
        except ProtocolError as exc:
            raise _Refuse(Err.BAD_FRAME, str(exc)) from None
        refused = self.server.token_refusal(msg["token"])
        if refused is not None:
            raise _Refuse(Err.UNAUTHORIZED, refused)
        self.hello = True
        self.reply(Rep.HELLO, magic=bp.MAGIC, version=bp.VERSION, server="cpushare-hub")

    def on_hello(self, msg: bp.Message) -> None:
        raise _Refuse(Err.BAD_REQUEST, "HELLO sent twice")

    def on_submit(self, msg: bp.Message) -> None:
        self.submit = Submission(msg.fields)

    def _need_submit(self, what: str) -> Submission:
        if self.submit is None:
            raise _Refuse(Err.BAD_REQUEST, f"{what} outside a submission (send SUBMIT first)")
        return self.submit

    def on_program(self, msg: bp.Message) -> None:
        self._need_submit("PROGRAM").add_program(msg["data"])

    def on_shared(self, msg: bp.Message) -> None:
        self._need_submit("SHARED").add_shared(msg["data"])

    def on_fragments(self, msg: bp.Message) -> None:
        self._need_submit("FRAGMENTS").add_fragments(msg["fragments"])

    def on_names(self, msg: bp.Message) -> None:
        self._need_submit("NAMES").add_names(msg["names"])

    def on_terms(self, msg: bp.Message) -> None:
        self._need_submit("TERMS").add_terms(msg["price"], msg["budget"])

    def on_submit_end(self, msg: bp.Message) -> None:
        kw = self._need_submit("SUBMIT_END").spec_arguments()
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
        if self._in.pending:
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

    def need_job(self, what: str) -> str:
        if self.job_id is None:
            raise _Refuse(Err.BAD_REQUEST, f"{what}: no job followed on this connection (SUBMIT or ATTACH first)")
        return self.job_id

    def on_ack(self, msg: bp.Message) -> None:
        job_id = self.need_job("ACK")
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
        job_id = self.need_job("NEXT")
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

    def _send_result(self, item: FinishedFragment) -> None:
        if not item.ok:
            self.queue(bp.encode_result(int(item.seq), int(item.index), False, 0,
                                        str(item.reason or "failed"), item.name))
        else:
            announced = int(item.size)
            inline = item.data    # small results come with their row
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
                                            item.name))
                self._queue_chunk(inline)
            else:
                self.queue(bp.encode(Rep.RESULT, seq=int(item.seq), index=int(item.index), ok=1,
                                     size=announced, reason="", name=item.name))
                sent = 0
                for ch in self.hub.result_chunks(item.fragment_id):
                    self._queue_chunk(bytes(ch))
                    sent += len(ch)
                if sent != announced:   # cannot be repaired now: the client will refuse it
                    raise _Refuse(Err.INTERNAL, f"result of fragment {item.index} is {sent} bytes, "
                                  f"announced {announced}")
        self.queue(_RESULT_END)
        self.delivered = int(item.seq)

    def _superseded(self, item: FinishedFragment) -> bool:
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

    def on_close(self, msg: bp.Message) -> bool:
        self._flush_ack(force=True)
        self.reply(Rep.BYE)
        return False


# -- job control: requests that need no per-connection state but the followed job ---------


def _on_progress(conn: _Connection, msg: bp.Message) -> None:
    job_id = msg["job_id"] or conn.need_job("PROGRESS")
    conn.reply(Rep.PROGRESS, **bp.progress_fields(conn.hub.job_progress(job_id)))


def _on_status(conn: _Connection, msg: bp.Message) -> None:
    conn.reply(Rep.STATUS, **bp.status_fields(conn.hub.status()))


def _on_cancel(conn: _Connection, msg: bp.Message) -> None:
    job_id = msg["job_id"] or conn.need_job("CANCEL")
    conn.hub.cancel_job(job_id)
    log.info("buyer connection %d cancelled job %s", conn.cid, job_id)
    conn.reply(Rep.OK)


def _on_purge(conn: _Connection, msg: bp.Message) -> None:
    job_id = msg["job_id"]
    if not job_id:
        raise _Refuse(Err.BAD_REQUEST, "PURGE needs a job id")
    conn.reply(Rep.PURGED, job_id=job_id, fragments=conn.hub.purge_job(job_id))


def _on_raise_budget(conn: _Connection, msg: bp.Message) -> None:
    from ..market.payout import parse_raise
    new = conn.hub.raise_budget(msg["job_id"], parse_raise(msg["amount"]))
    log.info("buyer connection %d raised the budget of job %s to %s", conn.cid,
             msg["job_id"], new)
    conn.reply(Rep.OK)


#: request type -> the _Connection method (or job-control function) serving it (one row per Req, as in SCHEMAS)
_HANDLERS: dict[Req, Callable[[_Connection, bp.Message], bool | None]] = {
    Req.HELLO: _Connection.on_hello, Req.SUBMIT: _Connection.on_submit,
    Req.PROGRAM: _Connection.on_program, Req.SHARED: _Connection.on_shared,
    Req.FRAGMENTS: _Connection.on_fragments, Req.NAMES: _Connection.on_names,
    Req.SUBMIT_END: _Connection.on_submit_end, Req.ATTACH: _Connection.on_attach,
    Req.NEXT: _Connection.on_next, Req.ACK: _Connection.on_ack,
    Req.PROGRESS: _on_progress, Req.STATUS: _on_status,
    Req.CANCEL: _on_cancel, Req.CLOSE: _Connection.on_close,
    Req.TERMS: _Connection.on_terms, Req.RAISE_BUDGET: _on_raise_budget,
    Req.PURGE: _on_purge,
}
