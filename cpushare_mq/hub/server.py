"""The hub's I/O shell: a ZeroMQ ROUTER loop around the pure scheduler and the SQLite store.

One loop thread owns the socket, the scheduler and the store's write connection. Each turn
it drains up to ``max_batch_messages`` messages, feeds them to the scheduler, runs
housekeeping, hands out leases, commits the batch in ONE transaction (group commit) and only
then sends ACKs, LEASEs and CANCELs. Buyer-side methods (``submit_job``, ``cancel_job``, ...)
are thread-safe: reads use the calling thread's own SQLite connection, mutations are passed
to the loop thread.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import shlex
import socket
import threading
import time
from collections import ChainMap
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import zmq
from zmq.utils.monitor import parse_monitor_message

from .. import __version__
from ..errors import (
    ConfigError,
    CpushareError,
    ProtocolError,
    StoreError,
    UnknownJob,
    VersionMismatch,
)
from ..outcome import Outcome
from ..protocol import (
    ABI_VERSION,
    AckStatus,
    ErrorCode,
    Feature,
    Limits,
    Message,
    MsgType,
    decode,
    encode,
    encode_trusted,
    peek_type,
)
from . import handshakes
from .admission import HelloGate
from .assembly import ResultAssembly
from .delivery import decoded_chunks, with_inline_data
from .infra import InfraWatch
from .jobclock import annotate
from .limits import MAX_WORKER_FRAME_BYTES, TURN_BYTES_MAX, WORKER_RCVHWM, Oversize, recv_bounded
from .peers import BlobsSent
from .reverification import Reverification
from .router_ids import router_socket
from .scheduler import HubConfig, JobSpec, JobState, Scheduler
from .store import FinishedFragment, Store
from .workerids import worker_id_for


def peer_address(frame) -> str | None:
    """The network address of the peer that sent ``frame`` (``Peer-Address``), if known."""
    try:
        return frame.get("Peer-Address") or None
    except (zmq.ZMQError, AttributeError, UnicodeDecodeError):
        return None


def peer_curve_key(frame) -> str | None:
    """The CURVE key the peer authenticated with (``User-Id`` of a received frame)."""
    try:
        return frame.get("User-Id") or None
    except (zmq.ZMQError, AttributeError, UnicodeDecodeError):
        return None

__all__ = ["Hub", "HubConfig", "JobSpec", "FinishedFragment"]

log = logging.getLogger(__name__)

_ERRORS_PER_PEER_PER_S = 5
_LEASE_MESSAGE_BYTES = 32 << 20      # fragment inputs per LEASE message (one input may be 16 MiB)


class _PeerKey:
    """Rides at the end of a received frame list: the peer's authenticated CURVE key, and a
    frame of the message (whose ``Peer-Address`` a HELLO's admission reads)."""

    __slots__ = ("key", "frame")

    def __init__(self, key: str | None, frame=None):
        self.key = key
        self.frame = frame


class Hub:
    """A hub: worker socket + scheduler + store (+ the buyer socket, if ``api`` != "")."""

    payout = None     # market.payout.Payout: set by cpushare-hub serve (issue 19)

    def __init__(self, db_path: str | os.PathLike, bind: str = "tcp://127.0.0.1:5555", *,
                 api: str | None = None, config: HubConfig | None = None,
                 insecure: bool = True, durability: str = "FULL", trust=None,
                 allow_workers: str | os.PathLike | None = None,
                 keys_dir: str | os.PathLike | None = None, web: str | None = None):
        self.db_path = str(db_path)
        self._web_requested = web          # "HOST:PORT" of the dashboard (hub/web), or None
        self.web = None
        self.bind = bind
        self.config = config or HubConfig()
        self.insecure = insecure
        # the trust layer (cpushare_mq.trust.hubside.HubTrust): CURVE + ZAP, signed results,
        # reputation, rate limits. Always on a secure hub; on an insecure one only if given.
        if trust is None and not insecure:
            from ..trust.hubside import HubTrust
            trust = HubTrust(self.db_path, insecure=False, keys_dir=keys_dir,
                             allow_workers=allow_workers)
        self.trust = trust
        self._worker_keys: dict[str, str] = {}     # worker id -> HELLO.worker_key
        self._api_requested = f"{self.db_path}.sock" if api is None else api
        self.api_address: str | None = None
        self.worker_endpoint: str = ""
        self.store = Store(self.db_path, synchronous=durability)
        self._init_threads()
        self._init_connections()
        self._reverification = Reverification()    # a caught worker's results re-run
        self._started_s = time.time()
        self._restore_at_start()

    def _init_threads(self) -> None:
        """The loop thread, its wake-up pipe and the queue of commands from other threads."""
        self._lock = threading.RLock()
        self._cond = threading.Condition()
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._loop_thread_id: int | None = None
        self._api_server = None
        self._ctx: zmq.Context | None = None
        self._sock: zmq.Socket | None = None
        self._monitor: zmq.Socket | None = None    # the worker socket's disconnect events

    def _init_connections(self) -> None:
        """Per-connection state (loop thread only)."""
        self._ident_to_worker: dict[bytes, str] = {}
        self._worker_to_ident: dict[str, bytes] = {}
        self._last_sent: dict[str, float] = {}
        self._credit_resetters: set[str] = set()   # workers with Feature.RELEASE_RESETS_CREDIT
        self._infra = InfraWatch()                 # workers whose sandbox keeps failing
        self._blobs_sent = BlobsSent()             # blobs sent per worker session
        self._hello_gate = HelloGate()             # HELLOs per address and key (admission.py)
        self._assembly = ResultAssembly(self.config.max_partial_bytes_per_worker,
                                        self.config.max_partial_bytes)
        self._pending_results: list[tuple] = []   # accepted chunks waiting for the commit
        self._grants_unsent: dict[str, list] = {}  # leases of this turn not sent yet
        self._next_sweep_s = 0.0
        # connection-loss probes: after the transport reports a closed connection (or a send
        # finds a peer gone) every worker is probed at these delays; one that the ROUTER no
        # longer knows (EHOSTUNREACH) is declared dead at once instead of after its liveness
        self._probe_due: list[float] = []
        self._last_probe_s = 0.0
        self._unreachable: set[str] = set()
        self._error_budget: dict[bytes, list[float]] = {}
        self._job_seq: dict[str, int] = {}
        self._job_ended: set[str] = set()

    def _restore_at_start(self) -> None:
        """The scheduler from the store: every open job, and (trust) the accepted, unchecked
        results that a caught worker's re-verification would re-run."""
        self.core = self._restore(time.time(), keep_workers=(), at_start=True)
        for job in self.core.jobs.values():
            self._job_seq[job.id] = self.store.max_seq(job.id)
            if job.state is not JobState.RUNNING:
                self._job_ended.add(job.id)
        if self.trust is not None:
            try:
                n = self.trust.restore_unverified(self.store.unverified_results())
            except StoreError as exc:    # only the re-verification list is incomplete
                log.error("cannot list the unchecked results of open jobs: %s", exc)
                n = 0
            if n:
                log.info("%d accepted, unchecked results of open jobs will be re-verified if "
                         "their worker is caught", n)

    # ------------------------------------------------------------------------------
    # lifecycle

    def start(self) -> Hub:
        """Serve in a background thread; return once bound and serving."""
        if self._thread is not None:
            raise ConfigError("hub already started")
        self._thread = threading.Thread(target=self._serve, name="cpushare-hub", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            self._thread.join()
            raise self._start_error
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (from a signal handler or thread)."""
        self._serve()
        if self._start_error is not None:
            raise self._start_error

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("hub loop did not stop within %.1f s", timeout_s)

    def close(self) -> None:
        self.stop()
        self.store.close()
        if self.trust is not None and not getattr(self, "_trust_shut", False):
            self._trust_shut = True
            try:
                self.trust.shutdown()
            except Exception:  # noqa: BLE001 - closing anyway
                log.exception("trust layer failed to shut down")

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _serve(self) -> None:
        try:
            self._open_socket()
            self._start_api()
            if self._web_requested:
                from .web import Dashboard
                self.web = Dashboard(self, self._web_requested).start()
        except BaseException as exc:  # noqa: BLE001 - reported to start()'s caller
            self._start_error = exc
            self._stop_api()
            self._close_socket()
            self._ready.set()
            return
        self._loop_thread_id = threading.get_ident()
        self._ready.set()
        log.info("hub serving workers on %s (db %s%s)", self.worker_endpoint, self.db_path,
                 f", buyers on {self.api_address}" if self.api_address else "")
        if self.public_key:
            log.info("hub public key (give workers the hub.pub file of the keys directory, or this "
                     "value quoted as shown): %s", shlex.quote(str(self.public_key)))
        try:
            self._loop()
        finally:
            self._loop_thread_id = None
            if self.web is not None:
                self.web.stop()
            self._stop_api()
            self._close_socket()
            self._fail_pending_commands()
            log.info("hub stopped")

    def _open_socket(self) -> None:
        self._ctx = zmq.Context()
        s = router_socket(self._ctx)     # automatic routing ids a peer cannot predict
        s.setsockopt(zmq.ROUTER_MANDATORY, 1)
        s.setsockopt(zmq.MAXMSGSIZE, MAX_WORKER_FRAME_BYTES)   # per frame, before buffering
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDHWM, 100_000)
        s.setsockopt(zmq.RCVHWM, WORKER_RCVHWM)
        self._configure_security(s)
        try:
            s.bind(self.bind)
        except zmq.ZMQError as exc:
            s.close(0)
            raise ConfigError(f"cannot bind the worker socket to {self.bind!r}: {exc}") from exc
        self._sock = s
        self.worker_endpoint = s.getsockopt_string(zmq.LAST_ENDPOINT)
        self._monitor = s.get_monitor_socket(zmq.EVENT_DISCONNECTED | handshakes.FAILED_EVENTS)
        self._refused = handshakes.RefusedHandshakes(secure=not self.insecure)

    @property
    def public_key(self) -> str | None:
        """The hub's CURVE public key (Z85) that workers need, or None on plain TCP."""
        return self.trust.public_key if self.trust is not None else None

    @property
    def _secure(self) -> bool:
        return self.trust is not None and not self.trust.insecure

    def _configure_security(self, s: zmq.Socket) -> None:
        """CURVE + ZAP via the trust layer; socket options must be set before bind."""
        if self.trust is not None:
            self.trust.secure_socket(self._ctx, s)
        elif not self.insecure:
            raise ConfigError("a secure hub needs the trust layer (cpushare_mq.trust)")

    def _close_socket(self) -> None:
        if self._monitor is not None:
            try:
                self._sock.disable_monitor()
            except zmq.ZMQError as exc:   # closing anyway
                log.debug("cannot stop the worker socket's monitor: %s", exc)
            self._monitor.close(0)
            self._monitor = None
        if self._sock is not None:
            self._sock.close(0)
            self._sock = None
        if self.trust is not None:
            try:
                self.trust.close()          # the ZAP handler must stop before ctx.term()
            except Exception:  # noqa: BLE001 - shutting down anyway
                log.exception("trust layer failed to close")
        if self._ctx is not None:
            self._ctx.term()
            self._ctx = None

    def _start_api(self) -> None:
        if not self._api_requested:
            return
        try:
            from .api import BuyerApiServer
        except ImportError as exc:
            log.warning("buyer API not available (%s): serving workers only", exc)
            return
        from ..buyer_token import token_path
        self._api_server = BuyerApiServer(self, self._api_requested,
                                          token_file=token_path(self.db_path))
        self._api_server.start()
        self.api_address = getattr(self._api_server, "address", None) or self._api_requested

    def _stop_api(self) -> None:
        if self._api_server is not None:
            try:
                self._api_server.stop()
            except Exception:  # noqa: BLE001 - shutting down anyway
                log.exception("buyer API server failed to stop cleanly")
            self._api_server = None

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass

    # ------------------------------------------------------------------------------
    # buyer operations (any thread)

    def _call(self, fn: Callable[[float], object]) -> object:
        """Run ``fn(now)`` on the loop thread (or inline when no loop runs) and commit."""
        if self._loop_thread_id == threading.get_ident() or self._loop_thread_id is None:
            with self._lock:
                result = fn(time.time())
                self._flush(time.time(), {}, {})
                return result
        fut: Future = Future()
        self._commands.put((fn, fut))
        self._wake()
        return fut.result(timeout=60)

    def _fail_pending_commands(self) -> None:
        while True:
            try:
                fn, fut = self._commands.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                try:
                    fut.set_result(fn(time.time()))
                    self._flush(time.time(), {}, {})
                except BaseException as exc:  # noqa: BLE001
                    fut.set_exception(exc)

    def submit_job(self, spec: JobSpec) -> str:
        """Store the job durably, then schedule it. Returns the job id."""
        if not isinstance(spec, JobSpec):
            raise TypeError(f"submit_job takes a JobSpec, got {type(spec).__name__}")
        row = self.store.add_job(spec, time.time())
        row.update(n_done=0, n_failed=0, n_leased=0, n_voting=0)
        with self._cond:
            self._job_seq.setdefault(row["id"], 0)
        self._call(lambda now: self.core.add_job(row))
        log.info("job %s submitted: %s fragments%s", row["id"], row["total"],
                 f" ({spec.name})" if spec.name else "")
        return row["id"]

    def cancel_job(self, job_id: str) -> None:
        if not self.store.job_exists(job_id):
            raise UnknownJob(f"no job {job_id!r}")
        self._call(lambda now: self.core.cancel_job(now, job_id))
        log.info("job %s cancelled", job_id)

    def job_progress(self, job_id: str) -> dict:
        with self._lock:
            p = self.core.progress(job_id)
        p["failures"] = self.store.failures(job_id) if p["failed"] else []
        return annotate([p], self.store.job_clocks(), self.store.failed_by_outcome(), time.time())[0]

    def status(self) -> dict:
        now = time.time()
        with self._lock:
            jobs = [self.core.progress(j) for j in self.core.jobs]
            workers = self.core.workers_info(now)
            tput = self.core.throughput_per_s(now)
            held = self._assembly.held_bytes
        for p in jobs:
            p["failures"] = self.store.failures(p["job_id"], 20) if p["failed"] else []
        annotate(jobs, self.store.job_clocks(), self.store.failed_by_outcome(), now)
        sellers = []
        if self.trust is not None:
            for w in workers:
                rep = self.trust.reputation(self._worker_keys.get(w["worker_id"], ""))
                w["trust"] = rep
                w["reputation"] = str(rep.get("tier", "unknown"))
                w["strikes"] = rep.get("strikes", 0)
            sellers = self.trust.sellers()
        return {"jobs": jobs, "workers": workers, "throughput_per_s": tput, "sellers": sellers,
                "worker_endpoint": self.worker_endpoint, "uptime_s": round(now - self._started_s, 3),
                "unfinished_result_bytes": held}

    @property
    def reverify_stats(self) -> dict[str, int]:
        """Re-verification counts: queued, reopened, confirmed, corrected, failed, skipped."""
        return self._reverification.stats

    def wait_for_change(self, job_id: str, after_seq: int, timeout_s: float) -> int:
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._cond:
            if job_id not in self._job_seq and not self.store.job_exists(job_id):
                raise UnknownJob(f"no job {job_id!r}")
            while True:
                seq = self._job_seq.get(job_id, 0)
                if seq > after_seq or job_id in self._job_ended:
                    return seq
                left = deadline - time.monotonic()
                if left <= 0:
                    return seq
                self._cond.wait(left)

    def job_ended(self, job_id: str) -> bool:
        """True once the job is done or cancelled and that is committed (no scheduler lock:
        the buyer API asks this after every batch)."""
        with self._cond:
            if job_id in self._job_ended:
                return True
            if job_id in self._job_seq:
                return False
        if not self.store.job_exists(job_id):
            raise UnknownJob(f"no job {job_id!r}")
        return self.store.job_row(job_id)["state"] != JobState.RUNNING.value

    def finished(self, job_id: str, after_seq: int, limit: int = 1000) -> list[FinishedFragment]:
        if job_id not in self._job_seq and not self.store.job_exists(job_id):
            raise UnknownJob(f"no job {job_id!r}")
        return with_inline_data(self.store.finished(job_id, after_seq, limit))

    def result_chunks(self, fragment_id: int) -> Iterator[bytes]:
        return decoded_chunks(self.store.result_chunks(fragment_id))

    def fragment_seq(self, fragment_id: int) -> int | None:
        """The fragment's acceptance seq now (a re-verified one may have a newer one)."""
        return self.store.fragment_seq(fragment_id)

    def get_cursor(self, job_id: str) -> int:
        return self.store.get_cursor(job_id)

    def set_cursor(self, job_id: str, seq: int) -> None:
        self.store.set_cursor(job_id, seq)

    # ------------------------------------------------------------------------------
    # the loop

    def _restore(self, now: float, keep_workers, at_start: bool = False) -> Scheduler:
        snap = self.store.snapshot(at_start=at_start)
        core = Scheduler.restore(self.config, now, workers=keep_workers, **snap)
        return core

    def _loop(self) -> None:
        sock = self._sock
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(self._wake_r.fileno(), zmq.POLLIN)
        monitor = self._monitor
        if monitor is not None:
            poller.register(monitor, zmq.POLLIN)
        cfg = self.config
        max_batch = cfg.max_batch_messages
        while not self._stopping.is_set():
            now = time.time()
            with self._lock:
                wake_at = min(self.core.next_wakeup(now), self._next_heartbeat_due(now))
            if self._probe_due:
                wake_at = min(wake_at, self._probe_due[0])
            timeout_ms = max(0, min(int((wake_at - now) * 1000) + 1, int(cfg.tick_s * 1000) + 1))
            events = dict(poller.poll(timeout_ms))
            if monitor is not None and monitor in events:
                self._on_disconnects(monitor)
            if self._wake_r.fileno() in events:
                try:
                    while self._wake_r.recv(4096):
                        pass
                except (BlockingIOError, OSError):
                    pass
            batch = []
            secure = self._secure
            if sock in events:
                t_end = time.monotonic() + cfg.group_commit_s
                batch_bytes = 0
                while len(batch) < max_batch and batch_bytes < TURN_BYTES_MAX:
                    try:
                        frames, size, first = recv_bounded(sock, secure)
                        batch_bytes += size
                        if first is not None:   # the CURVE key the peer authenticated with
                            frames.append(_PeerKey(peer_curve_key(first) if secure else None,
                                                   first))
                        batch.append(frames)
                    except zmq.Again:
                        if time.monotonic() >= t_end or not sock.poll(
                                max(0, int((t_end - time.monotonic()) * 1000))):
                            break
            self._turn(batch)

    def _next_heartbeat_due(self, now: float) -> float:
        if not self._last_sent:
            return now + self.config.heartbeat_interval_s
        return min(self._last_sent.values()) + self.config.heartbeat_interval_s

    def _turn(self, batch: list[list[bytes]]) -> None:
        """Handle one batch of messages + commands + housekeeping, commit, then send. An
        unexpected error (a bug) costs the batch, not the hub: nothing of it is
        acknowledged, the scheduler is rebuilt from the store and the loop goes on."""
        with self._lock:
            done_cmds: list = []
            try:
                self._turn_locked(batch, done_cmds)
            except Exception as exc:  # noqa: BLE001 - the hub must keep serving
                log.exception("internal error in the hub loop; nothing of this batch is "
                              "acknowledged, rebuilding the scheduler from the store")
                try:
                    self._rebuild(time.time())
                except Exception:  # noqa: BLE001
                    log.exception("cannot rebuild the scheduler from the store")
                for fut, _result, _exc in done_cmds:
                    if not fut.done():
                        fut.set_exception(exc)

    def _turn_locked(self, batch: list[list[bytes]], done_cmds: list) -> None:
        now = time.time()
        acks: dict[str, list] = {}
        replies: list[tuple[bytes, list[bytes]]] = []
        for frames in batch:
            self._handle(now, frames, acks, replies)
        while True:
            try:
                fn, fut = self._commands.get_nowait()
            except queue.Empty:
                break
            try:
                done_cmds.append((fut, fn(now), None))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                done_cmds.append((fut, None, exc))
        if self._probe_due and now >= self._probe_due[0]:
            self._probe_workers(now)
        self.core.tick(now)
        if now >= self._next_sweep_s:
            self._next_sweep_s = now + 1.0
            self._assembly.drop_where(lambda k: not self.core.holds(now, *k))
        ok = self._flush(now, acks, replies)
        for fut, result, exc in done_cmds:
            if exc is not None:
                fut.set_exception(exc)
            elif not ok:
                fut.set_exception(StoreError("the hub could not commit to its database"))
            else:
                fut.set_result(result)
        self._heartbeats(time.time())

    def _flush(self, now: float, acks: dict[str, list], replies: list) -> bool:
        """Refill windows, assign leases, commit everything, then send. Loop thread or
        inline under the lock. False: the commit failed and nothing was acknowledged."""
        if self._reverification:
            self._reverification.reopen_some(now, self.core, self.store)
        grants = self._assign(now)
        fx = self.core.take_effects()
        fx.journal.results.extend(self._pending_results)
        self._pending_results = []
        self._grants_unsent = grants
        try:
            if fx.journal:
                self.store.apply(fx.journal, now)
        except StoreError as exc:
            self._commit_failed(now, exc, acks, replies)
            return False
        self._after_commit(now, fx, replies)
        if self._sock is None:
            return True
        for ident, frames in replies:
            self._send(ident, frames)
        for wid, items in acks.items():
            self._send_worker(wid, MsgType.ACK, {"results": items}, validate=False)
        for wid, body in self.payout.outgoing() if self.payout is not None else ():
            self._send_worker(wid, MsgType.RECEIPTS, body, validate=False)     # issue 19
        for wid, refs in fx.cancels.items():
            self._send_worker(wid, MsgType.CANCEL, {
                "leases": refs, "reason": fx.cancel_reasons.get(wid, "")[:256]}, validate=False)
        if grants:
            self._send_leases(now, grants)
        self._grants_unsent = {}
        return True

    def _assign(self, now: float) -> dict[str, list]:
        """Leases for the workers' credit, refilling the jobs' pending windows from the store
        as they empty (a few rounds at most per turn)."""
        core = self.core
        grants: dict[str, list] = {}
        for _round in range(8):
            for job_id, after, limit in core.refill_requests():
                try:
                    rows = self.store.pending(job_id, after, limit)
                except StoreError as exc:
                    log.error("cannot load pending fragments of %s: %s", job_id, exc)
                    break
                core.add_pending(job_id, rows, limit)
            more = core.assign(now) if self._sock is not None else {}
            for wid, lst in more.items():
                grants.setdefault(wid, []).extend(lst)
            if not more or not core.refill_requests():
                break
        return grants

    def _commit_failed(self, now: float, exc: StoreError, acks: dict, replies: list) -> None:
        """Nothing is acknowledged: the scheduler is rebuilt from what the store holds and the
        workers whose results were not stored are told (they send them again)."""
        log.error("%s: nothing acknowledged; rebuilding the scheduler from the store", exc)
        try:
            self._rebuild(now)
        except StoreError as exc2:
            log.error("cannot re-read the store either: %s", exc2)
        for wid in acks:
            self._send_worker(wid, MsgType.ERROR, {
                "code": ErrorCode.INTERNAL,
                "message": "the hub could not store your results (nothing acknowledged)"})
        for ident, frames in replies:
            self._send(ident, frames)

    def _after_commit(self, now: float, fx, replies: list) -> None:
        """Committed: publish progress to the buyers' waiters, run the trust hooks, forget
        the dead."""
        changed = False
        for _old, f in fx.journal.frags.values():
            if f.seq is not None and f.seq > self._job_seq.get(f.job.id, 0):
                self._job_seq[f.job.id] = f.seq
                changed = True
        for job in fx.journal.jobs.values():
            if job.state is not JobState.RUNNING:
                self._job_ended.add(job.id)
                changed = True
        if changed:
            with self._cond:
                self._cond.notify_all()
        if self._reverification.reopened_any:
            self._reverification.note_resolved(fx, self.core)
        if self.trust is not None:
            self._trust_after_commit(now, fx, replies)
        self._release_held(now)
        for wid in fx.dead:
            self._forget(wid)       # its partial results too: its leases have ended
            if wid in self._unreachable:
                self._unreachable.discard(wid)
                log.warning("worker %s declared dead (its connection closed); its leases are back "
                            "in the queue", wid)
            else:
                log.warning("worker %s declared dead (silent for %.2f s); its leases are back in "
                            "the queue", wid, self.config.dead_after_s)

    def _release_held(self, now: float) -> None:
        """Let jobs kept open by a vote that outvoted a worker end, once the re-verification
        it asked for is reopened (queued entries of the job are gone); ends are committed by
        the next flush."""
        core = self.core
        held = core.held_jobs()
        if not held:
            return
        queued = self._reverification.queued_jobs()
        for job_id in held:
            if job_id not in queued:
                core.release_job(now, job_id)

    def _trust_after_commit(self, now: float, fx, replies: list) -> None:
        """Report verdicts and closed jobs to the trust layer; drop banned workers."""
        banned: set[str] = set()
        try:
            for fid, _job_id, sha, votes in fx.verdicts:
                banned.update(self.trust.on_fragment_done(fid, sha, votes, now))
            banned.update(self.trust.take_banned(now))      # caught by late results
            for rv in self.trust.take_reverify():
                self._reverification.enqueue(rv.worker_key, rv.fragments)
            for job in fx.journal.jobs.values():
                if job.state is not JobState.RUNNING:
                    self.trust.on_job_closed(job.id)
            self.trust.flush()
        except Exception:  # noqa: BLE001 - the trust ledger must not stop the hub
            log.exception("trust layer failed after a commit")
        if not banned:
            return
        for wid, key in list(self._worker_keys.items()):
            if key in banned:
                ident = self._worker_to_ident.get(wid)
                if ident is not None:
                    replies.append((ident, encode(MsgType.ERROR, {
                        "code": ErrorCode.FORBIDDEN, "message": "this worker key is banned"})))
                self.core.leave(now, wid, "banned")
                self._forget(wid)
                log.warning("worker %s dropped: its key is banned", wid)

    def _send_leases(self, now: float, grants: dict) -> None:
        fids = [g[1] for lst in grants.values() for g in lst]
        try:
            inputs = self.store.inputs(fids)
        except StoreError as exc:
            log.error("cannot read fragment inputs (%s): leases handed back to the queue", exc)
            for wid, lst in grants.items():     # committed but never sent: undo them
                self.core.release(now, wid, [(g[1], g[3]) for g in lst], "hub could not read inputs")
                if wid in self.core.workers:
                    self.core.ready(now, wid, len(lst))
            return
        for wid, lst in grants.items():
            body: list[dict] = []
            blobs: list[bytes] = []
            size = 0
            for job, fid, index, attempt, lease_s in lst:
                data = inputs.get(fid, b"")
                if body and (len(body) >= Limits.MAX_LEASES_PER_MESSAGE
                             or size + len(data) > _LEASE_MESSAGE_BYTES):
                    self._send_worker(wid, MsgType.LEASE, {"leases": body}, blobs, validate=False)
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
                self._send_worker(wid, MsgType.LEASE, {"leases": body}, blobs, validate=False)

    def _heartbeats(self, now: float) -> None:
        interval = self.config.heartbeat_interval_s
        for wid, t in list(self._last_sent.items()):
            if now - t >= interval:
                self._send_worker(wid, MsgType.HEARTBEAT, {})

    def _send_worker(self, wid: str, mtype: MsgType, body: dict, blobs=(), *,
                     validate: bool = True) -> None:
        ident = self._worker_to_ident.get(wid)
        if ident is None:
            return
        self._last_sent[wid] = time.time()
        frames = encode(mtype, body, blobs) if validate else encode_trusted(mtype, body, blobs)
        self._send(ident, frames)

    def _send(self, ident: bytes, frames: list[bytes]) -> None:
        try:
            self._sock.send_multipart([ident, *frames], zmq.NOBLOCK, copy=False)
        except zmq.ZMQError as exc:
            log.debug("cannot send to peer %s: %s", ident.hex(), exc)
            if exc.errno == zmq.EHOSTUNREACH and ident in self._ident_to_worker:
                self._schedule_probes(time.time(), (0.0,))

    # -- noticing closed connections at once ------------------------------------------
    #: after a disconnect event, probe at these delays (the ROUTER forgets a peer once its
    #: pipe is torn down, normally before the event is read; the later probes are a margin)
    PROBE_DELAYS_S = (0.0, 0.02, 0.1, 0.5)

    def _on_disconnects(self, monitor: zmq.Socket) -> None:
        """Drain the worker socket's monitor: any closed connection schedules probes."""
        seen = False
        while True:
            try:
                ev = parse_monitor_message(monitor.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                break
            except zmq.ZMQError as exc:
                log.debug("cannot read the worker socket's monitor: %s", exc)
                break
            if ev["event"] != zmq.EVENT_DISCONNECTED:   # a refused handshake: say why (rate-limited)
                line = self._refused.on_event(ev["event"], ev["value"], time.monotonic())
                if line:
                    log.warning("%s", line)
                continue
            seen = True
        if seen:
            self._schedule_probes(time.time(), self.PROBE_DELAYS_S)

    def _schedule_probes(self, now: float, delays: tuple[float, ...]) -> None:
        due = set(self._probe_due)
        due.update(now + d for d in delays)
        self._probe_due = sorted(due)[:16]

    def _probe_workers(self, now: float) -> None:
        """Send every worker a HEARTBEAT; ROUTER_MANDATORY makes a send to a peer whose
        connection is gone fail with EHOSTUNREACH: that worker is dead now. Sweeps are spaced
        by the number of workers, so a flood of connect/disconnect from a stranger costs the
        hub a bounded number of sends per second."""
        self._probe_due = [t for t in self._probe_due if t > now]
        spacing_s = 0.005 * max(1, len(self._worker_to_ident) // 50)
        if now - self._last_probe_s < spacing_s:
            self._probe_due = sorted({*self._probe_due, self._last_probe_s + spacing_s})
            return
        self._last_probe_s = now
        heartbeat = encode(MsgType.HEARTBEAT, {})
        for wid, ident in list(self._worker_to_ident.items()):
            try:
                self._sock.send_multipart([ident, *heartbeat], zmq.NOBLOCK, copy=False)
                self._last_sent[wid] = now
            except zmq.ZMQError as exc:
                if exc.errno == zmq.EHOSTUNREACH and wid in self.core.workers:
                    self._unreachable.add(wid)
                    self.core.lost(now, wid, "connection closed")

    def _error(self, now: float, ident: bytes, code: str, message: str,
               replies: list) -> None:
        """Log and queue an ERROR reply, at most a few per second per peer (the rest are
        dropped silently, counted in the next log line)."""
        budget = self._error_budget.get(ident)
        if budget is None:
            if len(self._error_budget) > 10_000:
                self._error_budget.clear()
            budget = self._error_budget[ident] = [now, 0]
        if now - budget[0] >= 1.0:
            budget[0], budget[1] = now, 0
        budget[1] += 1
        if budget[1] <= _ERRORS_PER_PEER_PER_S:
            log.warning("peer %s: %s: %s", ident.hex(), code, message[:300])
            replies.append((ident, encode(MsgType.ERROR, {"code": code, "message": message[:1024]})))
        elif budget[1] == _ERRORS_PER_PEER_PER_S + 1:
            log.warning("peer %s: more bad messages this second; not answering them", ident.hex())

    def _rebuild(self, now: float) -> None:
        """Rebuild the scheduler from what is committed, keeping the connected workers.
        Leases handed out but never sent give their credit back (a worker only sends READY
        again after results, so lost credit would starve it)."""
        unsent = self._grants_unsent
        self._grants_unsent = {}
        self._pending_results = []
        keep = []
        for w in self.core.workers.values():
            d = self._worker_dict(w)
            d["credit"] = min(self.config.max_credit, d["credit"] + len(unsent.get(w.id, ())))
            keep.append(d)
        self.core = self._restore(now, keep)

    @staticmethod
    def _worker_dict(w) -> dict:
        return {"id": w.id, "name": w.name, "key": w.key, "slots": w.slots, "credit": w.credit,
                "last_seen": w.last_seen, "paused": w.paused, "paused_since": w.paused_since,
                "done": w.done, "failed": w.failed, "jobs_seen": list(w.jobs_seen)}

    # ------------------------------------------------------------------------------
    # one message

    def _handle(self, now: float, frames: list, acks: dict, replies: list) -> None:
        got = self._admit(now, frames, replies)
        if got is None:
            return
        ident, msg, peer = got
        t = msg.type
        if t is MsgType.HELLO:
            self._hello(now, ident, msg, replies, peer)
            return
        wid = self._ident_to_worker.get(ident)
        if wid is None or not self.core.touch(now, wid):
            if t is not MsgType.BYE:
                self._error(now, ident, ErrorCode.UNKNOWN_WORKER,
                            "say HELLO first (the hub restarted or declared you dead)", replies)
            return
        handler = _WORKER_MESSAGES.get(t)
        if handler is None:
            self._error(now, ident, ErrorCode.MALFORMED,
                        f"{t.name} is not a message a worker sends", replies)
            return
        try:
            handler(self, now, ident, wid, msg, acks, replies)
        except CpushareError as exc:
            self._error(now, ident, ErrorCode.MALFORMED, f"worker {wid}: {exc}", replies)

    def _admit(self, now: float, frames: list, replies: list):
        """(ident, decoded message, peer's CURVE key) of a received message, or None when it
        is refused here (too large, over the peer's rate, undecodable: each told once)."""
        peer = None
        if frames and isinstance(frames[-1], _PeerKey):
            peer = frames.pop()
        if len(frames) < 2:
            return None
        ident, payload = frames[0], frames[1:]
        if isinstance(payload[0], Oversize):
            self._error(now, ident, ErrorCode.TOO_LARGE, payload[0].describe(), replies)
            return None
        if self.trust is not None and not self.trust.allow_message(
                ident, now, heartbeat=peek_type(payload) is MsgType.HEARTBEAT):
            wid = self._ident_to_worker.get(ident)
            if wid is not None:
                self.core.touch(now, wid)     # a flooding worker is still alive
            self._error(now, ident, ErrorCode.RATE_LIMITED, "too many messages: slow down", replies)
            return None
        try:
            return ident, decode(payload), peer
        except VersionMismatch as exc:
            self._error(now, ident, ErrorCode.VERSION, str(exc), replies)
        except ProtocolError as exc:
            self._error(now, ident, ErrorCode.MALFORMED, str(exc), replies)
        return None

    # -- one method per message a known worker sends (the _WORKER_MESSAGES table) --------
    def _on_result_end(self, now, ident, wid, msg, acks, replies) -> None:
        self._result_end(now, wid, msg, acks)

    def _on_result_batch(self, now, ident, wid, msg, acks, replies) -> None:
        self._result_batch(now, ident, wid, msg, acks, replies)

    def _on_result_chunk(self, now, ident, wid, msg, acks, replies) -> None:
        self._result_chunk(now, wid, msg)

    def _on_ready(self, now, ident, wid, msg, acks, replies) -> None:
        self.core.ready(now, wid, msg["credit"])

    def _on_heartbeat(self, now, ident, wid, msg, acks, replies) -> None:
        pass      # touch() above was the point

    def _on_failure(self, now, ident, wid, msg, acks, replies) -> None:
        b = msg.body
        self._assembly.drop((wid, b["fragment_id"], b["attempt"]))
        self._failure(now, wid, b["fragment_id"], b["attempt"], b["outcome"], b["signature"], acks)

    def _on_fetch(self, now, ident, wid, msg, acks, replies) -> None:
        self._fetch(now, ident, wid, msg["sha256"], replies)

    def _on_release(self, now, ident, wid, msg, acks, replies) -> None:
        self.core.release(now, wid, msg["leases"], msg["reason"],
                          reset_credit=wid in self._credit_resetters)
        if msg["infra"]:
            self._infra_release(now, ident, wid, msg["reason"], replies)

    def _on_status(self, now, ident, wid, msg, acks, replies) -> None:
        self.core.set_status(now, wid, msg["paused"], msg["busy"])

    def _on_receipt_ack(self, now, ident, wid, msg, acks, replies) -> None:
        if self.payout is not None:          # issue 19
            self.payout.on_ack(wid, msg["fragment_ids"])

    def _on_bye(self, now, ident, wid, msg, acks, replies) -> None:
        self.core.leave(now, wid, msg["reason"] or "bye")
        self._forget(wid)
        log.info("worker %s left: %s", wid, msg["reason"] or "bye")

    def _infra_release(self, now: float, ident: bytes, wid: str, reason: str,
                       replies: list) -> None:
        """A worker's sandbox failed for reasons of its machine (hub/infra.py)."""
        hold = self._infra.failure(now, wid, reason or "no reason given")
        if hold is None:
            return
        self.core.hold(wid, hold.until, hold.reason)
        log.warning("worker %s held for %.0f s: %s", wid, hold.hold_s, hold.reason)
        replies.append((ident, encode(MsgType.HOLD, {"hold_s": hold.hold_s,
                                                     "reason": hold.reason})))

    def _forget(self, wid: str) -> None:
        self._infra.forget(wid)
        self._blobs_sent.forget(wid)
        self._worker_keys.pop(wid, None)
        self._credit_resetters.discard(wid)
        if self.payout is not None:
            self.payout.forget(wid)
        ident = self._worker_to_ident.pop(wid, None)
        self._last_sent.pop(wid, None)
        if ident is not None and self._ident_to_worker.get(ident) == wid:
            del self._ident_to_worker[ident]
        self._assembly.drop_where(lambda k: k[0] == wid)

    def _hello(self, now: float, ident: bytes, msg, replies: list, peer: _PeerKey | None = None) -> None:
        b = msg.body
        peer_key = peer.key if peer is not None else None
        if not self._hello_admitted(now, ident, b["worker_key"], peer, replies):
            return
        if b["abi_version"] != ABI_VERSION:
            self._error(now, ident, ErrorCode.VERSION,
                        f"sandbox ABI {b['abi_version']} not supported: this hub uses ABI {ABI_VERSION}",
                        replies)
            return
        if self.trust is not None:
            why = self.trust.check_hello(b["worker_key"], b["features"])
            if why is None and peer_key and b["worker_key"]:
                from ..trust.zap import curve_key_of
                try:
                    if curve_key_of(b["worker_key"]) != peer_key:
                        why = "HELLO.worker_key is not the key this connection authenticated with"
                except CpushareError as exc:
                    why = f"bad worker_key: {exc}"
            if why:
                self._error(now, ident, ErrorCode.FORBIDDEN, why, replies)
                return
        old = self._ident_to_worker.get(ident)
        # one id (one row) per key; ids of dead sessions not forgotten yet stay taken
        wid = worker_id_for(b["worker_key"], ChainMap(self.core.workers, self._worker_to_ident))
        if wid is None:
            self._error(now, ident, ErrorCode.FORBIDDEN, "too many sessions of this worker key "
                        "at once", replies)
            return
        held = [tuple(r) for r in b["held"]]
        ok = self.core.join(now, wid, name=b["name"], key=b["worker_key"], slots=b["slots"],
                            held=held, replaces=old, key_proven=bool(peer_key))
        if old is not None:
            self._forget(old)
        self._ident_to_worker[ident] = wid
        self._worker_to_ident[wid] = ident
        self._worker_keys[wid] = b["worker_key"]
        if Feature.RELEASE_RESETS_CREDIT in b["features"]:
            self._credit_resetters.add(wid)
        self._last_sent[wid] = now
        log.info("worker %s joined (%s, %d slots%s)", wid, b["name"] or ident.hex(), b["slots"],
                 f", re-attached {len(ok)} of {len(held)} held leases" if held else "")
        replies.append((ident, encode(MsgType.WELCOME, {
            "worker_id": wid, "hub_version": __version__,
            "heartbeat_interval_s": self.config.heartbeat_interval_s,
            "liveness": self.config.liveness, "held_ok": [list(r) for r in ok],
            # only what the worker announced: a worker that knows no features gets the
            # WELCOME it always got
            **({"features": feats} if (feats := sorted(Feature.ALL & set(b["features"])))
               else {})})))
        if self.payout is not None:      # issue 19: receipts it has not acknowledged yet
            self.payout.on_hello(wid, b["worker_key"], b["features"])

    def _hello_admitted(self, now: float, ident: bytes, worker_key: str, peer, replies: list) -> bool:
        """HELLOs per address and per key are rate-limited (hub/admission.py)."""
        address = peer_address(peer.frame) if peer is not None else None
        key = (peer.key if peer is not None else None) or worker_key or ident.hex()
        refused = self._hello_gate.refusal(address, key, now)
        if refused is None:
            return True
        why, line = refused
        if line is not None:
            log.warning("%s", line)
        replies.append((ident, encode(MsgType.ERROR, {"code": ErrorCode.RATE_LIMITED,
                                                      "message": why})))
        return False

    def _fetch(self, now: float, ident: bytes, wid: str, sha: str, replies: list) -> None:
        if not self.core.may_fetch(wid, sha):
            self._error(now, ident, ErrorCode.FORBIDDEN,
                        f"blob {sha[:16]}... belongs to no job you hold a lease of now", replies)
            return
        why = self._blobs_sent.refusal(wid, sha)
        if why is not None:
            self._error(now, ident, ErrorCode.RATE_LIMITED, why, replies)
            return
        data = self.store.blob(sha)
        if data is None:
            self._blobs_sent.unsent(wid, sha)
            self._error(now, ident, ErrorCode.NOT_FOUND, f"blob {sha} is not stored on this hub", replies)
            return
        replies.append((ident, encode(MsgType.BLOB, {"sha256": sha}, [data])))

    def _result_chunk(self, now: float, wid: str, msg) -> None:
        b = msg.body
        fid, attempt = b["fragment_id"], b["attempt"]
        if not self.core.holds(now, wid, fid, attempt):
            return  # stale: the RESULT_END will be acknowledged as such
        self._assembly.chunk((wid, fid, attempt), b["seq"], msg.blobs[0],
                             self._max_output_bytes(fid, attempt))

    def _max_output_bytes(self, fid: int, attempt: int) -> int:
        job = self.core.job_of(fid, attempt)
        return job.max_output_bytes if job else 0

    def _result_end(self, now: float, wid: str, msg, acks: dict, *, batch=None,
                    batch_invalid: str = "") -> None:
        """A RESULT_END (or one item of a RESULT_BATCH: ``batch`` is its verified
        :class:`~cpushare_mq.trust.hubside.SignedBatch`, ``batch_invalid`` why the batch's
        signature was refused)."""
        b = msg.body
        fid, attempt = b["fragment_id"], b["attempt"]
        core = self.core
        if not core.holds(now, wid, fid, attempt):
            self._assembly.drop((wid, fid, attempt))
            status = core.result(now, wid, fid, attempt, b["sha256"], b["size"])
            acks.setdefault(wid, []).append([fid, attempt, self._stale_or_dup(fid, status)])
            # not accepted, but compared with the vote's winner (unless its batch was forged)
            if self.trust is not None and not batch_invalid:
                self.trust.on_late_result(self._worker_keys.get(wid, ""), fid, attempt,
                                          b["sha256"], b["outcome"].outcome, b["signature"],
                                          now, batch=batch)
            return
        record = b["outcome"]
        if record.outcome is not Outcome.OK:     # a failure sent as a RESULT_END: signed as one
            why = batch_invalid
            if self.trust is not None and not why:
                why = self.trust.check_result(self._worker_keys.get(wid, ""), fid, attempt,
                                              b["sha256"], record.outcome, b["signature"],
                                              inline=True, batch=batch)
            self._assembly.drop((wid, fid, attempt))
            self._failure(now, wid, fid, attempt, record, "", acks, invalid=why)
            return
        verdict = self._assembly.finish((wid, fid, attempt), b,
                                        msg.blobs[0] if msg.blobs else None,
                                        self._max_output_bytes(fid, attempt))
        if verdict.handed_back:       # a budget refusal: not the fragment's fault, not counted
            log.info("worker %s: fragment %d attempt %d handed back: %s", wid, fid, attempt,
                     verdict.invalid)
            core.release(now, wid, [(fid, attempt)], verdict.invalid[:200])
            acks.setdefault(wid, []).append([fid, attempt, AckStatus.STALE])
            return
        invalid = verdict.invalid
        spot = False
        if self.trust is not None and not invalid:
            key = self._worker_keys.get(wid, "")
            invalid = batch_invalid or self.trust.check_result(
                key, fid, attempt, b["sha256"], record.outcome, b["signature"], batch=batch)
            spot = not invalid and self._wants_spot_check(now, wid, key, fid, attempt)
        paying = self.payout is not None and core.job_of(fid, attempt)   # issue 19
        status = core.result(now, wid, fid, attempt, b["sha256"], b["size"], invalid,
                             spot_check=spot)
        if status == AckStatus.ACCEPTED:
            self._pending_results.extend(
                (fid, attempt, i, data) for i, data in enumerate(verdict.chunks))
            if paying:      # issue 19: a signed receipt per accepted result
                self.payout.on_result(wid, paying.id, self._worker_keys.get(wid, ""), fid,
                                      attempt, record.cpu_s, paying.cpu_s)
        elif invalid and invalid != batch_invalid:    # (a bad batch is logged once)
            log.warning("worker %s: result of fragment %d attempt %d rejected: %s", wid, fid,
                        attempt, invalid)
        acks.setdefault(wid, []).append([fid, attempt, status])

    def _wants_spot_check(self, now: float, wid: str, key: str, fid: int, attempt: int) -> bool:
        """The trust layer's draw for a result that would be accepted alone (redundancy 1);
        without another worker to re-run it, the check would wait forever: no check."""
        core = self.core
        if not core.is_first_solo_result(now, wid, fid, attempt):
            return False
        job = core.job_of(fid, attempt)
        return self.trust.wants_spot_check(
            key, fid, job.id if job else "", now,
            verifier_exists=functools.partial(core.has_verifier, wid, key))

    def _failure(self, now: float, wid: str, fid: int, attempt: int, record, signature: str,
                 acks: dict, *, invalid: str | None = None) -> None:
        """A failure report. A keyed worker's report must be signed (trust layer): an unsigned
        or badly signed one is rejected like a bad result (logged; the lease ends, the
        fragment is retried elsewhere). ``invalid``: already checked, this is the verdict."""
        core = self.core
        if invalid is None:
            invalid = ""
            if self.trust is not None and core.holds(now, wid, fid, attempt):
                invalid = self.trust.check_failure(self._worker_keys.get(wid, ""), fid, attempt,
                                                   record.outcome, signature)
        if invalid and core.holds(now, wid, fid, attempt):
            log.warning("worker %s: failure report (%s) of fragment %d attempt %d rejected: %s",
                        wid, record.outcome.value, fid, attempt, invalid)
            status = core.reject(now, wid, fid, attempt,
                                 f"{record.outcome.value} report rejected: {invalid}")
        else:
            status = core.failure(now, wid, fid, attempt, record)
        acks.setdefault(wid, []).append([fid, attempt, status])

    def _result_batch(self, now: float, ident: bytes, wid: str, msg, acks: dict,
                      replies: list) -> None:
        """RESULT_BATCH: each item is handled exactly as a RESULT_END carrying its blob
        (decode checked that there is one blob per item); one bad item costs only itself.
        A batch signed as a whole (``signature``, feature ``batch_signature``) is verified
        once, first: a bad batch signature rejects every item (stale ones are still
        acknowledged as stale), and the hub carries on."""
        batch, bad = None, ""
        if msg["signature"] and self.trust is not None:
            items = msg["results"]
            batch, bad = self.trust.check_batch(
                self._worker_keys.get(wid, ""),
                [(r["fragment_id"], r["attempt"], r["sha256"], r["outcome"].outcome)
                 for r in items], msg["signature"])
            if bad:
                log.warning("worker %s: RESULT_BATCH of %d results (fragments %s) rejected: %s",
                            wid, len(items),
                            ", ".join(str(r["fragment_id"]) for r in items[:10])
                            + (" ..." if len(items) > 10 else ""), bad)
        for item, blob in zip(msg["results"], msg.blobs, strict=True):
            try:
                self._result_end(now, wid, Message(MsgType.RESULT_END, item, [blob]), acks,
                                 batch=batch, batch_invalid=bad)
            except CpushareError as exc:
                self._error(now, ident, ErrorCode.MALFORMED,
                            f"worker {wid}: RESULT_BATCH item for fragment "
                            f"{item['fragment_id']} attempt {item['attempt']}: {exc}", replies)

    def _stale_or_dup(self, fid: int, status: str) -> str:
        if status == AckStatus.STALE:
            try:
                if self.store.fragment_state(fid) == "DONE":
                    return AckStatus.DUPLICATE
            except StoreError:
                pass
        return status


#: what a worker that said HELLO may send, and the Hub method that takes it (the same
#: names as protocol.SCHEMAS; HELLO itself is handled before a worker is known)
_WORKER_MESSAGES = {
    MsgType.RESULT_END: Hub._on_result_end,
    MsgType.RESULT_BATCH: Hub._on_result_batch,
    MsgType.RESULT_CHUNK: Hub._on_result_chunk,
    MsgType.READY: Hub._on_ready,
    MsgType.HEARTBEAT: Hub._on_heartbeat,
    MsgType.FAILURE: Hub._on_failure,
    MsgType.FETCH: Hub._on_fetch,
    MsgType.RELEASE: Hub._on_release,
    MsgType.STATUS: Hub._on_status,
    MsgType.BYE: Hub._on_bye,
    MsgType.RECEIPT_ACK: Hub._on_receipt_ack,
}
