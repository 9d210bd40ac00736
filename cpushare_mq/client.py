"""The Python buyer client: submit jobs to a hub and consume their results as they finish.

::

    from cpushare_mq import Client
    with Client("/path/hub.db.sock") as c:          # or "tcp://127.0.0.1:PORT"; None = $CPUSHARE_API
        job = c.submit(program, [b"frag0", b"frag1"], shared_input=b"", name="demo")
        for index, data in job.results():          # streaming, as fragments complete
            ...
        print(job.progress(), job.failures)

    job = Client().attach(job_id)                   # after a restart: unconsumed results only
    Client("tcp://127.0.0.1:5556", token_file="/path/hub.db.api-token")   # TCP needs the token

It speaks the framed buyer protocol (:mod:`cpushare_mq.buyer_protocol`,
``docs/buyer-protocol.md``) over the hub's buyer socket. Each job being followed has its
own connection; progress, status and cancel go over a separate control connection, so
they can be called while results are streaming.

A result counts as *consumed* (and is not delivered again after :meth:`Client.attach`)
once the consumer asks for the next one, calls :meth:`Job.ack`, or closes the job or the
client; a result being processed when the process dies is delivered again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import buyer_protocol as bp
from .buyer_address import parse_address
from .buyer_protocol import BatchStatus, Err, Rep, Req
from .buyer_token import read_token, resolve_token_file
from .errors import BuyerApiError, ConfigError, CpushareError, ProtocolError
from .fragnames import check_names
from .jobspec import DEFAULT_MAX_OUTPUT_BYTES, check_policy, check_terms
from .market.money import decimal_text

log = logging.getLogger(__name__)

__all__ = ["Client", "Job", "ResultItem", "HubRefused", "BuyerTimeout", "resolve_address"]

REPLY_GRACE_S = 60.0      # how long past a request's own timeout we wait for the hub's answer
NEXT_SLICE_MS = 2000      # a long wait for results is cut into NEXT requests of this length
NEXT_BATCH = 64           # results asked for per NEXT


class HubRefused(BuyerApiError):
    """Raised when the hub answers a request with an ERROR frame (``code`` is an
    :class:`~cpushare_mq.buyer_protocol.Err`); the hub closed that connection."""

    def __init__(self, code: int, message: str):
        try:
            name = Err(code).name.lower()
        except ValueError:
            name = f"error {code}"
        super().__init__(f"hub refused ({name}): {message}")
        self.code = code
        self.hub_message = message


class BuyerTimeout(BuyerApiError, TimeoutError):
    """Raised when :meth:`Job.wait` or a results iterator with ``timeout_s`` runs out of time."""


def resolve_address(address: str | os.PathLike | None) -> str:
    """The hub address to use: ``address``, else ``$CPUSHARE_API``; ConfigError if neither."""
    if address is None or address == "":
        address = os.environ.get("CPUSHARE_API", "")
        if not address and os.environ.get("CPUSHARE_HUB"):
            raise ConfigError("CPUSHARE_HUB was renamed CPUSHARE_API (the hub's buyer API "
                              "address): set CPUSHARE_API instead")
        if not address:
            raise ConfigError("no hub address: pass one (--api ADDR) or set CPUSHARE_API "
                              "(e.g. /path/hub.db.sock or tcp://127.0.0.1:PORT)")
    return os.fspath(address)


def _token_for(address: str, token_file: str | os.PathLike | None) -> str:
    """The buyer API token a connection to ``address`` presents: over TCP the one in
    ``token_file`` (else ``$CPUSHARE_API_TOKEN``), "" if none is given (the hub then says
    what is missing); a Unix socket needs none (the hub checks the peer's uid)."""
    if parse_address(address)[0] != "tcp":
        return ""
    path = resolve_token_file(token_file)
    return read_token(path) if path else ""


class _Conn:
    """One buyer-protocol connection (HELLO done)."""

    def __init__(self, address: str, timeout_s: float, token: str = ""):
        self.address = address
        self.timeout_s = timeout_s
        self._in = bp.FrameBuffer()   # received, not yet read
        self.sock = self._open(address, timeout_s)
        self.closed = False
        try:
            self.send(bp.encode(Req.HELLO, magic=bp.MAGIC, version=bp.VERSION,
                                client="cpushare_mq.client", token=token))
            msg = self.expect(Rep.HELLO, timeout_s, "HELLO")
            bp.check_hello(msg)
        except ProtocolError as exc:
            self.abort()
            raise BuyerApiError(f"{address} is not a compatible cpushare hub buyer socket: {exc}") from exc
        except BaseException:
            self.abort()
            raise

    @staticmethod
    def _open(address: str, timeout_s: float) -> socket.socket:
        kind, target = parse_address(address)
        if kind == "tcp":
            try:
                sock = socket.create_connection(target, timeout=timeout_s)
            except OSError as exc:
                raise BuyerApiError(f"cannot connect to the hub at {address}: {exc.strerror or exc}"
                                    " -- is the hub running?") from exc
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect(target)
        except OSError as exc:
            sock.close()
            raise BuyerApiError(f"cannot connect to the hub's buyer socket {target}: "
                                f"{exc.strerror or exc} -- is the hub running?") from exc
        return sock

    def send(self, data: bytes) -> None:
        try:
            self.sock.settimeout(None)
            self.sock.sendall(data)
        except OSError as exc:
            self._explain_send_failure(exc)

    def _explain_send_failure(self, exc: OSError) -> None:
        """The hub probably sent an ERROR and closed: report its reason, not EPIPE."""
        try:
            self.recv(2.0)
        except HubRefused:
            self.abort()
            raise
        except (CpushareError, OSError) as read_exc:   # no readable refusal: report the send
            log.debug("no refusal readable after a failed send to %s: %s", self.address, read_exc)
        self.abort()
        raise BuyerApiError(f"connection to the hub at {self.address} broke while sending: {exc}") from exc

    def _next_frame(self, timeout_s: float | None) -> tuple[int, bytes]:
        """The next whole frame, reading the socket as needed (BuyerApiError past the time)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        buf = self._in
        while True:
            try:
                fr = buf.next_frame()
            except ProtocolError as exc:
                self.abort()
                raise BuyerApiError(f"the hub sent a bad frame: {exc}") from exc
            if fr is not None:
                return fr
            what = "frame payload" if buf.pending else "frame header"
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BuyerApiError(f"no answer from the hub at {self.address} within {timeout_s:g} s ({what})")
                self.sock.settimeout(left)
            else:
                self.sock.settimeout(None)
            try:
                chunk = self.sock.recv(max(buf.missing, 1 << 16))
            except TimeoutError:
                continue
            except OSError as exc:
                self.abort()
                raise BuyerApiError(f"connection to the hub at {self.address} broke: {exc}") from exc
            if not chunk:
                self.closed = True
                raise BuyerApiError(f"the hub at {self.address} closed the connection ({what})")
            buf.add(chunk)

    def recv(self, timeout_s: float | None) -> bp.Message:
        msg_type, payload = self._next_frame(timeout_s)
        try:
            msg = bp.decode(msg_type, payload)
        except ProtocolError as exc:
            self.abort()
            raise BuyerApiError(f"the hub sent a bad frame: {exc}") from exc
        if msg.type == Rep.ERROR:
            self.abort()
            raise HubRefused(msg["code"], msg["message"])
        return msg

    def expect(self, rep: Rep, timeout_s: float | None, request: str) -> bp.Message:
        msg = self.recv(timeout_s)
        if msg.type != rep:
            self.abort()
            raise BuyerApiError(f"protocol error: the hub answered {request} with message type "
                                f"0x{msg.type:02x}, expected {rep.name}")
        return msg

    def request(self, data: bytes, rep: Rep, request: str) -> bp.Message:
        self.send(data)
        return self.expect(rep, self.timeout_s, request)

    def close(self, ack_seq: int = 0) -> None:
        if self.closed:
            return
        try:
            if ack_seq:
                self.send(bp.encode(Req.ACK, seq=ack_seq))
            self.send(bp.encode(Req.CLOSE))
            deadline = time.monotonic() + 5.0
            while self.recv(max(0.01, deadline - time.monotonic())).type != Rep.BYE:
                pass   # the rest of an answer to NEXT the consumer did not want
        except BuyerApiError:
            pass
        self.abort()

    def abort(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


@dataclass
class ResultItem:
    """One finished fragment: ``ok`` with its result in ``chunks`` (consume before the next
    item), or failed with ``reason``."""

    index: int
    ok: bool
    size: int
    reason: str
    chunks: Iterator[bytes]
    seq: int
    #: this index was delivered before on this Job: the hub re-verified it (the worker that
    #: computed it was caught cheating) and this result SUPERSEDES the earlier one
    corrected: bool = False
    #: the fragment's name given at submission ("" if none); see :mod:`cpushare_mq.fragnames`
    name: str = ""

    def read(self) -> bytes:
        return b"".join(self.chunks)


def _terms_text(price, budget) -> tuple[str, str] | None:
    """``(price, budget)`` as the decimal text TERMS carries, checked here like the hub
    will (ConfigError); None when neither is given. Floats are refused: money is exact."""
    if price is None and budget is None:
        return None
    out = []
    for what, v in (("price", price), ("budget", budget)):
        if isinstance(v, float):
            raise ConfigError(f"{what} must be exact: give it as text ('0.05') or a Decimal, "
                              f"not the float {v!r}")
        out.append("" if v is None else decimal_text(v) if isinstance(v, Decimal) else str(v))
    check_terms(*out)
    return out[0], out[1]


class Client:
    """A connection to a hub's buyer socket. ``address``: a socket path, ``unix:PATH`` or
    ``tcp://127.0.0.1:PORT``; None = ``$CPUSHARE_API``. Thread-safe for control calls
    (status, progress, cancel); iterate each job's results from one thread."""

    def __init__(self, address: str | os.PathLike | None = None, *, timeout_s: float = 60.0,
                 token_file: str | os.PathLike | None = None):
        self.address = resolve_address(address)
        self.timeout_s = timeout_s
        self._token = _token_for(self.address, token_file)
        self._lock = threading.Lock()
        self._control: _Conn | None = None
        self._jobs: list[Job] = []
        self._control_conn()   # connect now: a wrong address fails here, clearly

    def _control_conn(self) -> _Conn:
        if self._control is None or self._control.closed:
            self._control = _Conn(self.address, self.timeout_s, self._token)
        return self._control

    def _control_request(self, data: bytes, rep: Rep, request: str) -> bp.Message:
        with self._lock:
            conn = self._control_conn()
            return conn.request(data, rep, request)

    # ------------------------------------------------------------------ jobs
    def submit(self, program: bytes | str | os.PathLike, fragments: Iterable[bytes], shared_input: bytes = b"",
               redundancy: int = 1, quorum: int | None = None, cpu_s: float = 60.0,
               wall_s: float = 300.0, max_attempts: int = 5, priority: int = 0, name: str = "",
               max_output_bytes: int = 0, fragment_names: Iterable[str] | None = None,
               price: str | Decimal | None = None, budget: str | Decimal | None = None) -> Job:
        """Store a job in the hub and return it, followed (its results can be iterated).
        ``fragment_names``: one plain file name per fragment (e.g. the input files' names),
        kept by the hub and given back with each result (:attr:`ResultItem.name`).
        ``price``: per CPU-hour, ``"0.05"``, ``"0.05 EUR"`` or a Decimal (default: the hub's);
        ``budget``: the most the job may cost, in the price's currency (exact decimals only,
        never floats; docs/market.md)."""
        if isinstance(program, (str, os.PathLike)):
            try:
                with open(program, "rb") as f:
                    program = f.read()
            except OSError as exc:
                raise ConfigError(f"cannot read program {os.fspath(program)}: {exc.strerror}") from exc
        if not isinstance(program, (bytes, bytearray, memoryview)) or not len(program):
            raise ConfigError("program must be non-empty bytes or the path of an ELF file")
        frags = [bytes(f) for f in fragments]
        check_policy(n_fragments=len(frags), redundancy=redundancy, quorum=quorum, cpu_s=cpu_s,
                     wall_s=wall_s, max_attempts=max_attempts, priority=priority, name=name,
                     max_output_bytes=max_output_bytes or DEFAULT_MAX_OUTPUT_BYTES)
        names = check_names(list(fragment_names or []), len(frags))
        terms = _terms_text(price, budget)
        conn = _Conn(self.address, self.timeout_s, self._token)
        try:
            conn.send(bp.encode(Req.SUBMIT, n_fragments=len(frags), redundancy=redundancy,
                                quorum=quorum or 0, cpu_s=float(cpu_s), wall_s=float(wall_s),
                                max_attempts=max_attempts, priority=priority,
                                max_output_bytes=int(max_output_bytes), name=str(name)))
            if terms:
                conn.send(bp.encode(Req.TERMS, price=terms[0], budget=terms[1]))
            conn.send(bp.frame(Req.PROGRAM, bytes(program)))
            conn.send(bp.frame(Req.SHARED, bytes(shared_input)))
            for fr in bp.iter_name_batches(names):
                conn.send(fr)
            for fr in bp.iter_fragment_batches(frags):
                conn.send(fr)
            conn.send(bp.encode(Req.SUBMIT_END))
            msg = conn.expect(Rep.SUBMITTED, None, "SUBMIT")
        except ProtocolError as exc:   # a frame over the cap, on our side
            conn.abort()
            raise ConfigError(f"job not submitted: {exc}") from exc
        except BaseException:
            conn.abort()
            raise
        job = Job(self, msg["job_id"], conn, total=len(frags))
        self._jobs.append(job)
        return job

    def attach(self, job_id: str, *, from_start: bool = False) -> Job:
        """Follow an existing job: results not consumed yet (or all of them, ``from_start``)."""
        if not isinstance(job_id, str) or not job_id:
            raise ConfigError("job id must be a non-empty string")
        conn = _Conn(self.address, self.timeout_s, self._token)
        try:
            msg = conn.request(bp.encode(Req.ATTACH, job_id=job_id, from_start=int(from_start)),
                               Rep.ATTACHED, "ATTACH")
        except BaseException:
            conn.abort()
            raise
        job = Job(self, job_id, conn, total=msg["total"])
        self._jobs.append(job)
        return job

    def progress(self, job_id: str) -> dict:
        msg = self._control_request(bp.encode(Req.PROGRESS, job_id=job_id), Rep.PROGRESS, "PROGRESS")
        return _progress_dict(msg.fields)

    def cancel(self, job_id: str) -> None:
        self._control_request(bp.encode(Req.CANCEL, job_id=job_id), Rep.OK, "CANCEL")

    def raise_budget(self, job_id: str, amount: str | Decimal) -> None:
        """Add ``amount`` (exact: text or Decimal) to a job's budget; a job waiting for
        budget goes on (``cpushare job raise-budget``)."""
        text = _terms_text(None, amount)[1]
        self._control_request(bp.encode(Req.RAISE_BUDGET, job_id=job_id, amount=text),
                              Rep.OK, "RAISE_BUDGET")

    def purge(self, job_id: str) -> int:
        """Remove ended job ``job_id``'s data from the hub now (its results too); returns
        the number of fragments removed. A running job is refused: cancel it first."""
        msg = self._control_request(bp.encode(Req.PURGE, job_id=job_id), Rep.PURGED, "PURGE")
        return int(msg["fragments"])

    def status(self) -> dict:
        """Every job with its progress, every worker, recent throughput."""
        msg = self._control_request(bp.encode(Req.STATUS), Rep.STATUS, "STATUS")
        f = msg.fields
        workers = [{**w, "paused": bool(w["paused"]), "alive": bool(w["alive"])} for w in f["workers"]]
        sellers = [{**s, "banned": bool(s["banned"])} for s in f["sellers"]]
        return {"jobs": [_progress_dict(j) for j in f["jobs"]], "workers": workers,
                "throughput_per_s": f["throughput_per_s"], "sellers": sellers}

    def close(self) -> None:
        """Close every job's connection (acknowledging what was consumed) and the control one."""
        for job in self._jobs:
            job.close()
        self._jobs.clear()
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _progress_dict(f: dict) -> dict:
    out = {k: f[k] for k in ("job_id", "name", "state", "total", "pending", "leased", "voting",
                             "done", "failed", "waiting", "age_s", "elapsed_s", "failed_by")}
    if "failures" in f:
        out["failures"] = [dict(x) for x in f["failures"]]
        out["failures_truncated"] = bool(f.get("failures_truncated"))
    return out


def job_ended(p: dict) -> bool:
    if str(p.get("state", "")).lower() in ("cancelled", "canceled"):
        return True
    return p["pending"] + p["leased"] + p["voting"] == 0


class Job:
    """A submitted or attached job. Iterate its results once, from one thread."""

    def __init__(self, client: Client, job_id: str, conn: _Conn, total: int):
        self.client = client
        self.id = job_id
        self.total = total
        self._conn = conn
        self._unacked = 0          # seq handed to the consumer, not acknowledged yet
        self._finished = False     # the hub said: ended, all delivered on this connection
        self._current: Iterator[bytes] | None = None
        self._in_result = False    # a result's frames are being read
        self._batch_open = False   # a NEXT was sent and its BATCH_END not read yet
        self._batch_wait_s = 0.0
        self.failures: list[tuple[int, str]] = []   # failed fragments seen while iterating
        self._seen = bytearray((max(0, total) + 7) // 8)   # indexes delivered (1 bit each)
        self.corrections = 0       # results that superseded an earlier one of their index

    def __repr__(self) -> str:
        return f"Job({self.id!r})"

    # ------------------------------------------------------------------ results
    def ack(self) -> None:
        """Mark every result handed out so far as consumed."""
        if self._unacked and not self._conn.closed:
            self._conn.send(bp.encode(Req.ACK, seq=self._unacked))
        self._unacked = 0

    def items(self, timeout_s: float | None = None) -> Iterator[ResultItem]:
        """Every finished fragment (ok or failed) as it arrives. An index normally comes
        once; it comes again (``item.corrected`` set) when the hub re-verified a result whose
        worker was caught cheating and another result won: the later one SUPERSEDES the
        earlier (overwrite what you stored for that index). ``timeout_s``:
        raise :class:`BuyerTimeout` when nothing arrives for that long (None = wait).
        Iteration can be stopped and resumed (call again) without losing anything."""
        conn = self._conn
        waited_since = time.monotonic()
        while True:
            self._drain_current()
            self.ack()
            if not self._batch_open:
                if self._finished:
                    return
                slice_ms = NEXT_SLICE_MS
                if timeout_s is not None:
                    left = timeout_s - (time.monotonic() - waited_since)
                    if left <= 0:
                        raise BuyerTimeout(f"no result of job {self.id} within {timeout_s:g} s")
                    slice_ms = max(1, min(slice_ms, int(left * 1000)))
                conn.send(bp.encode(Req.NEXT, timeout_ms=slice_ms, max_results=NEXT_BATCH))
                self._batch_open = True
                self._batch_wait_s = slice_ms / 1000.0
            msg = conn.recv(self._batch_wait_s + REPLY_GRACE_S)
            if msg.type == Rep.BATCH_END:
                self._batch_open = False
                if msg["status"] == BatchStatus.FINISHED:
                    self._finished = True
                continue
            if msg.type != Rep.RESULT:
                conn.abort()
                raise BuyerApiError(f"protocol error: 0x{msg.type:02x} in an answer to NEXT")
            item = self._result(msg)
            if self._mark_seen(item.index):
                item.corrected = True
                self.corrections += 1
                # a corrected index is no longer failed, or failed now
                self.failures = [(i, r) for i, r in self.failures if i != item.index]
            if not item.ok:
                self.failures.append((item.index, item.reason))
            yield item
            waited_since = time.monotonic()

    def _mark_seen(self, index: int) -> bool:
        """Note that ``index`` was delivered; True if it had been delivered before."""
        byte, bit = divmod(index, 8)
        if not 0 <= byte < len(self._seen):
            return False
        seen = bool(self._seen[byte] & (1 << bit))
        self._seen[byte] |= 1 << bit
        return seen

    def _result(self, head: bp.Message) -> ResultItem:
        seq, size = head["seq"], head["size"]
        state = {"got": 0}
        self._in_result = True

        def chunks() -> Iterator[bytes]:
            while True:
                msg = self._conn.recv(REPLY_GRACE_S)
                if msg.type == Rep.RESULT_END:
                    break
                if msg.type != Rep.CHUNK:
                    self._conn.abort()
                    raise BuyerApiError(f"protocol error: 0x{msg.type:02x} inside a result")
                state["got"] += len(msg["data"])
                if state["got"] > size:
                    self._conn.abort()
                    raise BuyerApiError(f"protocol error: result longer than the announced {size} bytes")
                yield msg["data"]
            if state["got"] != size:
                self._conn.abort()
                raise BuyerApiError(f"protocol error: result of {state['got']} bytes, announced {size}")
            self._unacked = seq
            self._in_result = False

        it = chunks()
        self._current = it
        return ResultItem(index=head["index"], ok=bool(head["ok"]), size=size, reason=head["reason"],
                          chunks=it, seq=seq, name=head["name"])

    def _drain_current(self) -> None:
        if self._current is not None:
            for _ in self._current:
                pass
            self._current = None

    def results_stream(self, timeout_s: float | None = None) -> Iterator[tuple[int, Iterator[bytes]]]:
        """(index, chunk iterator) for each successful fragment as it completes (bounded
        memory for big results); failed ones are recorded in :attr:`failures`."""
        for item in self.items(timeout_s):
            if item.ok:
                yield item.index, item.chunks

    def results(self, timeout_s: float | None = None) -> Iterator[tuple[int, bytes]]:
        """(index, result bytes) for each successful fragment as it completes; failed
        fragments are recorded in :attr:`failures` (with reasons). An index may come again
        after a re-verification (see :meth:`items`): keep the last one."""
        for item in self.items(timeout_s):
            if item.ok:
                yield item.index, item.read()

    # ------------------------------------------------------------------ control
    def progress(self) -> dict:
        """{"job_id","name","state","total","pending","leased","voting","done","failed","failures"}"""
        return self.client.progress(self.id)

    def cancel(self) -> None:
        self.client.cancel(self.id)

    def wait(self, timeout_s: float | None = None, poll_s: float = 0.1) -> dict:
        """Block until every fragment is DONE or FAILED (or the job was cancelled); returns
        the final progress. Does not consume results."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        delay = min(poll_s, 0.02)
        while True:
            p = self.progress()
            if job_ended(p):
                return p
            if deadline is not None and time.monotonic() >= deadline:
                raise BuyerTimeout(f"job {self.id} not finished within {timeout_s:g} s "
                                   f"({p['done']} done, {p['failed']} failed of {p['total']})")
            time.sleep(delay)
            delay = min(delay * 2, poll_s)

    def close(self) -> None:
        """Acknowledge what was consumed and close this job's connection."""
        if not self._conn.closed:
            if self._in_result:   # the consumer stopped inside a result: not consumed
                self._current = None
                self._conn.abort()
                return
            self._conn.close(self._unacked)
            self._unacked = 0

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
