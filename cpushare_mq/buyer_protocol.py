"""The buyer protocol: how a buyer's application talks to the hub's local API socket.

Shared by the server (:mod:`cpushare_mq.hub.api`) and the Python client
(:mod:`cpushare_mq.client`); ``c/buyer/cpushare_buyer.c`` speaks the same bytes. Pure code:
no sockets here (sans-I/O), only framing, encoding, decoding and validation.

Every frame is::

    u32 little-endian payload length | u8 message type | payload

and a payload is a sequence of fixed fields: little-endian integers (u8/u16/u32/u64/i32),
IEEE-754 doubles (f64), and byte strings ``u32 length | bytes`` (``str`` = UTF-8 text).
A few types carry raw bytes as the whole payload (PROGRAM, SHARED, CHUNK). Lists are
``u32 count | items``. Nothing is JSON; a C program parses it with a pointer and memcpy.

The full conversation, the error codes and a byte-level example are in
``docs/buyer-protocol.md``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from .errors import ProtocolError, VersionMismatch
from .limits import Limits

__all__ = [
    "MAGIC", "VERSION", "Limits", "Req", "Rep", "Err", "BatchStatus", "Message",
    "encode", "decode", "frame", "FrameBuffer", "HEADER", "FOREVER_MS",
    "encode_fragments", "iter_fragment_batches",
]

MAGIC = b"CPSB"
VERSION = 5  # 2: job records carry "waiting"; 3: age_s, elapsed_s, failed_by; 4: fragment names;
#             5: HELLO carries the buyer API token (buyer_token.py)
HEADER = struct.Struct("<IB")   # payload length, type
FOREVER_MS = 0xFFFFFFFF         # NEXT timeout meaning "wait as long as it takes"


class Req(IntEnum):
    """Client -> hub message types."""

    HELLO = 0x01       # magic, version, client name, token (TCP only; "" on a Unix socket)
    SUBMIT = 0x02      # job parameters; PROGRAM, SHARED, FRAGMENTS..., SUBMIT_END follow
    PROGRAM = 0x03     # raw payload: the ELF
    SHARED = 0x04      # raw payload: the shared input (may be empty)
    FRAGMENTS = 0x05   # a batch: u32 count | count x (u32 len | bytes)
    SUBMIT_END = 0x06  # all fragments sent -> SUBMITTED
    ATTACH = 0x07      # follow a job: unconsumed results (or all, from_start=1)
    NEXT = 0x08        # results please: up to max_results, waiting up to timeout_ms for the first
    ACK = 0x09         # results up to seq were consumed (no reply)
    PROGRESS = 0x0A    # counts of a job (job_id "" = the attached job)
    STATUS = 0x0B      # every job and worker
    CANCEL = 0x0C      # cancel a job (job_id "" = the attached job)
    CLOSE = 0x0D       # orderly goodbye -> BYE
    NAMES = 0x0E       # during a submission: names of the next fragments (optional; see fragnames.py)
    TERMS = 0x0F       # during a submission: the job's price and budget (optional; docs/market.md)
    RAISE_BUDGET = 0x10  # add to a job's budget -> OK
    PURGE = 0x11       # remove an ended job's data now -> PURGED (hub/retention.py)


class Rep(IntEnum):
    """Hub -> client message types."""

    HELLO = 0x81
    SUBMITTED = 0x82
    ATTACHED = 0x83
    RESULT = 0x84      # header of one finished fragment; CHUNK* and RESULT_END follow
    CHUNK = 0x85       # raw payload: a piece of the result
    RESULT_END = 0x86
    BATCH_END = 0x87   # the answer to NEXT is complete; status says why
    PROGRESS = 0x88
    STATUS = 0x89
    OK = 0x8A
    BYE = 0x8B
    PURGED = 0x8C      # the job's data is gone: how many fragments were removed
    ERROR = 0xFF       # code + message; the hub closes the connection after it


class Err(IntEnum):
    """ERROR codes."""

    BAD_FRAME = 1        # garbage, truncated frame, trailing bytes, bad field
    TOO_LARGE = 2        # frame or job over a cap
    UNKNOWN_REQUEST = 3  # unknown message type
    UNKNOWN_JOB = 4
    VERSION = 5          # the client speaks another protocol version
    BAD_REQUEST = 6      # well-formed but invalid (bad parameter, out of order)
    INTERNAL = 7         # the hub failed (e.g. its store): try again later
    SHUTTING_DOWN = 8
    UNAUTHORIZED = 9     # a TCP connection without the hub's buyer API token


class BatchStatus(IntEnum):
    MORE = 0       # more results may come: send NEXT again
    FINISHED = 1   # the job ended and every finished fragment was delivered on this connection
    TIMEOUT = 2    # nothing arrived within timeout_ms


RAW_TYPES = frozenset({Req.PROGRAM, Req.SHARED, Rep.CHUNK})

_PROGRESS_FIELDS: list = [
    ("job_id", "str"), ("name", "str"), ("state", "str"),
    ("total", "u64"), ("pending", "u64"), ("leased", "u64"), ("voting", "u64"),
    ("done", "u64"), ("failed", "u64"),
    ("waiting", "str"),      # why queued fragments get no lease ("" = they do), hub/waiting.py
    ("age_s", "f64"),        # seconds since the job was submitted
    ("elapsed_s", "f64"),    # seconds from submission to its end (or to now while it runs)
    ("failed_by", "str"),    # failed fragments by outcome: "bad_program 3, cpu_limit 1"
]
_WORKER_FIELDS: list = [
    ("worker_id", "str"), ("name", "str"), ("slots", "u32"), ("busy", "u32"),
    ("paused", "u8"), ("alive", "u8"), ("last_seen_s", "f64"), ("done", "u64"), ("failed", "u64"),
    ("reputation", "str"),   # trust tier of the worker's key ("" when it has none)
    ("strikes", "u32"),      # its key's current strikes
    ("held", "str"),         # why the hub holds it (its sandbox keeps failing; "" = not held)
]
_SELLER_FIELDS: list = [     # one worker key's reputation (connected or not)
    ("key", "str"), ("tier", "str"), ("verified", "u64"), ("strikes", "u32"),
    ("banned", "u8"), ("reason", "str"),
]

SCHEMAS: dict[int, list] = {
    Req.HELLO: [("magic", "4s"), ("version", "u32"), ("client", "str"), ("token", "str")],
    Req.SUBMIT: [
        ("n_fragments", "u32"), ("redundancy", "u32"), ("quorum", "u32"),
        ("cpu_s", "f64"), ("wall_s", "f64"), ("max_attempts", "u32"), ("priority", "i32"),
        ("max_output_bytes", "u64"), ("name", "str"),
    ],
    Req.FRAGMENTS: [("fragments", ("list", "bytes"))],
    Req.NAMES: [("names", ("list", "str"))],
    Req.TERMS: [("price", "str"), ("budget", "str")],     # decimal text; "" = none
    Req.RAISE_BUDGET: [("job_id", "str"), ("amount", "str")],
    Req.SUBMIT_END: [],
    Req.ATTACH: [("job_id", "str"), ("from_start", "u8")],
    Req.NEXT: [("timeout_ms", "u32"), ("max_results", "u32")],
    Req.ACK: [("seq", "u64")],
    Req.PROGRESS: [("job_id", "str")],
    Req.STATUS: [],
    Req.CANCEL: [("job_id", "str")],
    Req.CLOSE: [],
    Req.PURGE: [("job_id", "str")],
    Rep.HELLO: [("magic", "4s"), ("version", "u32"), ("server", "str")],
    Rep.SUBMITTED: [("job_id", "str")],
    Rep.ATTACHED: [("job_id", "str"), ("total", "u64"), ("cursor", "u64")],
    Rep.RESULT: [("seq", "u64"), ("index", "u32"), ("ok", "u8"), ("size", "u64"),
                 ("reason", "str"), ("name", "str")],
    Rep.RESULT_END: [],
    Rep.BATCH_END: [("status", "u8")],
    Rep.PROGRESS: _PROGRESS_FIELDS + [
        ("failures", ("list", [("index", "u32"), ("reason", "str")])),
        ("failures_truncated", "u8"),
    ],
    Rep.STATUS: [
        ("jobs", ("list", _PROGRESS_FIELDS)),
        ("workers", ("list", _WORKER_FIELDS)),
        ("throughput_per_s", "f64"),
        ("sellers", ("list", _SELLER_FIELDS)),
    ],
    Rep.OK: [],
    Rep.BYE: [],
    Rep.PURGED: [("job_id", "str"), ("fragments", "u64")],
    Rep.ERROR: [("code", "u16"), ("message", "str")],
}

_INTS = {
    "u8": struct.Struct("<B"), "u16": struct.Struct("<H"), "u32": struct.Struct("<I"),
    "u64": struct.Struct("<Q"), "i32": struct.Struct("<i"), "f64": struct.Struct("<d"),
}
_RANGES = {"u8": (0, 0xFF), "u16": (0, 0xFFFF), "u32": (0, 0xFFFFFFFF),
           "u64": (0, 2**64 - 1), "i32": (-(2**31), 2**31 - 1)}
_U32 = _INTS["u32"]


@dataclass(frozen=True)
class Message:
    """A decoded frame: its type and its fields (``data`` for raw-payload types)."""

    type: int
    fields: dict

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]


_NAMES = {int(m): m.name for m in (*Rep, *Req)}   # a request's name wins a shared value


def _type_name(t: int) -> str:
    return _NAMES.get(t) or f"0x{t:02x}"


# --------------------------------------------------------------------------- encoding

def _enc(out: list, where: str, kind: Any, value: Any) -> None:
    if isinstance(kind, tuple):  # ("list", item kind)
        item = kind[1]
        if not isinstance(value, (list, tuple)):
            raise ProtocolError(f"{where}: expected a list, got {type(value).__name__}")
        out.append(_U32.pack(len(value)))
        for i, v in enumerate(value):
            _enc(out, f"{where}[{i}]", item, v)
    elif isinstance(kind, list):  # a record
        if not isinstance(value, dict):
            raise ProtocolError(f"{where}: expected a record, got {type(value).__name__}")
        for name, k in kind:
            if name not in value:
                raise ProtocolError(f"{where}: missing field {name!r}")
            _enc(out, f"{where}.{name}", k, value[name])
    elif kind == "4s":
        if not isinstance(value, bytes) or len(value) != 4:
            raise ProtocolError(f"{where}: expected 4 bytes")
        out.append(value)
    elif kind in ("str", "bytes"):
        if kind == "str":
            if not isinstance(value, str):
                raise ProtocolError(f"{where}: expected text, got {type(value).__name__}")
            value = value.encode("utf-8", "replace")[: Limits.BUYER_MAX_STR]
        elif not isinstance(value, (bytes, bytearray, memoryview)):
            raise ProtocolError(f"{where}: expected bytes, got {type(value).__name__}")
        out.append(_U32.pack(len(value)))
        out.append(bytes(value))
    elif kind == "f64":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProtocolError(f"{where}: expected a number, got {value!r}")
        out.append(_INTS["f64"].pack(float(value)))
    else:
        lo, hi = _RANGES[kind]
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int) or not lo <= value <= hi:
            raise ProtocolError(f"{where}: {value!r} is not a {kind}")
        out.append(_INTS[kind].pack(value))


def frame(msg_type: int, payload: bytes = b"") -> bytes:
    """One frame: header + payload."""
    if len(payload) > Limits.MAX_FRAME_BYTES:
        raise ProtocolError(f"{_type_name(msg_type)} payload of {len(payload)} bytes is over "
                            f"the {Limits.MAX_FRAME_BYTES}-byte frame cap")
    return HEADER.pack(len(payload), msg_type) + payload


def encode_payload(msg_type: int, fields: dict | None = None) -> bytes:
    if msg_type in RAW_TYPES:
        return bytes((fields or {}).get("data", b""))
    schema = SCHEMAS.get(msg_type)
    if schema is None:
        raise ProtocolError(f"cannot encode unknown message type {msg_type}")
    out: list[bytes] = []
    _enc(out, _type_name(msg_type), schema, fields or {})
    return b"".join(out)


_RESULT_HEAD = struct.Struct("<QIBQI")    # the fixed part of RESULT (schema order)


def encode_result(seq: int, index: int, ok: bool, size: int, reason: str = "", name: str = "") -> bytes:
    """``encode(Rep.RESULT, ...)`` for the hot path: the same bytes, packed at once. The
    caller passes values it took from its own store (ints in range)."""
    r = reason.encode("utf-8", "replace")[: Limits.BUYER_MAX_STR]
    n = name.encode("utf-8", "replace")[: Limits.BUYER_MAX_STR]
    payload = _RESULT_HEAD.pack(seq, index, 1 if ok else 0, size, len(r)) + r + _U32.pack(len(n)) + n
    return HEADER.pack(len(payload), Rep.RESULT) + payload


def encode(msg_type: int, fields: dict | None = None, **kw: Any) -> bytes:
    """Encode one message as a complete frame. Fields as a dict or keywords."""
    if kw:
        fields = {**(fields or {}), **kw}
    return frame(msg_type, encode_payload(msg_type, fields))


# --------------------------------------------------------------------------- decoding

class _Cursor:
    __slots__ = ("buf", "pos", "where")

    def __init__(self, buf: bytes, where: str):
        self.buf = buf
        self.pos = 0
        self.where = where

    def take(self, n: int, what: str) -> bytes:
        if n > len(self.buf) - self.pos:
            raise ProtocolError(f"{self.where}: truncated {what}: needs {n} bytes, "
                                f"{len(self.buf) - self.pos} left")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b


def _dec(cur: _Cursor, where: str, kind: Any) -> Any:
    if isinstance(kind, tuple):
        (n,) = _U32.unpack(cur.take(4, f"{where} count"))
        item = kind[1]
        # every item takes at least one byte: refuse counts the payload cannot hold
        if n > Limits.MAX_LIST or n > len(cur.buf) - cur.pos:
            raise ProtocolError(f"{where}: list count {n} does not fit the frame")
        return [_dec(cur, f"{where}[{i}]", item) for i in range(n)]
    if isinstance(kind, list):
        return {name: _dec(cur, f"{where}.{name}", k) for name, k in kind}
    if kind == "4s":
        return cur.take(4, where)
    if kind in ("str", "bytes"):
        (n,) = _U32.unpack(cur.take(4, f"{where} length"))
        if kind == "str" and n > Limits.BUYER_MAX_STR:
            raise ProtocolError(f"{where}: text of {n} bytes is longer than {Limits.BUYER_MAX_STR}")
        raw = cur.take(n, where)
        if kind == "bytes":
            return raw
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"{where}: not valid UTF-8 ({exc.reason})") from exc
    st = _INTS[kind]
    (v,) = st.unpack(cur.take(st.size, where))
    if kind == "f64" and not math.isfinite(v):
        raise ProtocolError(f"{where}: {v} is not a finite number")
    return v


def decode(msg_type: int, payload: bytes) -> Message:
    """Decode and validate one frame's payload. Raises :class:`ProtocolError` naming the
    message type and field that is wrong (unknown type, truncated, trailing bytes, bad text)."""
    if msg_type in RAW_TYPES:
        return Message(msg_type, {"data": bytes(payload)})
    if msg_type == Rep.RESULT:       # the hot path of a result stream: same checks, unrolled
        return _decode_result(payload)
    return decode_by_schema(msg_type, payload)


def _decode_result(payload: bytes) -> Message:
    head = _RESULT_HEAD.size
    if len(payload) < head:
        return decode_by_schema(Rep.RESULT, payload)      # names the missing field
    seq, index, ok, size, n = _RESULT_HEAD.unpack_from(payload)
    if n > Limits.BUYER_MAX_STR or len(payload) < head + n + 4:
        return decode_by_schema(Rep.RESULT, payload)
    (m,) = _U32.unpack_from(payload, head + n)
    if m > Limits.BUYER_MAX_STR or len(payload) != head + n + 4 + m:
        return decode_by_schema(Rep.RESULT, payload)
    try:
        reason = bytes(payload[head:head + n]).decode("utf-8")
        name = bytes(payload[head + n + 4:]).decode("utf-8")
    except UnicodeDecodeError:
        return decode_by_schema(Rep.RESULT, payload)      # names the field
    return Message(Rep.RESULT, {"seq": seq, "index": index, "ok": ok, "size": size,
                                "reason": reason, "name": name})


def decode_by_schema(msg_type: int, payload: bytes) -> Message:
    """:func:`decode` for a schema type, field by field (the reference for fast paths)."""
    schema = SCHEMAS.get(msg_type)
    if schema is None:
        raise ProtocolError(f"unknown message type 0x{msg_type:02x}")
    name = _type_name(msg_type)
    cur = _Cursor(bytes(payload), name)
    fields = _dec(cur, name, schema)
    if cur.pos != len(cur.buf):
        raise ProtocolError(f"{name}: {len(cur.buf) - cur.pos} unexpected bytes after the last field")
    return Message(msg_type, fields)


def check_hello(msg: Message) -> None:
    """Validate a HELLO (either direction): magic and version. Raises VersionMismatch."""
    if msg["magic"] != MAGIC:
        raise ProtocolError(f"HELLO: bad magic {msg['magic']!r}, expected {MAGIC!r}")
    if msg["version"] != VERSION:
        raise VersionMismatch(f"peer speaks buyer protocol version {msg['version']}, "
                              f"this side speaks version {VERSION}")


def hello_version(payload: bytes) -> int | None:
    """The version a client's HELLO payload claims (None: too short or not our magic), read
    before the rest is decoded: a HELLO of another version has other fields, and its sender
    must be told about the version, not about a field."""
    if len(payload) < 8 or bytes(payload[:4]) != MAGIC:
        return None
    return _U32.unpack_from(payload, 4)[0]


class FrameBuffer:
    """Bytes received in, whole frames out: the one receive buffer of the buyer protocol,
    used by the hub's buyer socket and the Python client alike. No I/O: the caller reads
    its socket and hands the bytes to :meth:`add` (h11's receive buffer is the model).

    A header announcing a payload over ``max_frame_bytes`` raises :class:`FrameTooLarge` as
    soon as the header is complete, before any of that payload is buffered.
    """

    __slots__ = ("max_frame_bytes", "_buf", "_pos")

    #: consumed bytes at the front kept at most this long before they are dropped
    _COMPACT_BYTES = 1 << 20

    def __init__(self, max_frame_bytes: int = Limits.MAX_FRAME_BYTES):
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()
        self._pos = 0          # the unread bytes start here

    def add(self, data: bytes) -> None:
        """Append received bytes."""
        if self._pos and self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        self._buf += data

    def next_frame(self) -> tuple[int, bytes] | None:
        """The next whole frame as (type, payload), or None until more bytes are added."""
        buf, pos = self._buf, self._pos
        if len(buf) - pos < HEADER.size:
            return None
        length, msg_type = HEADER.unpack_from(buf, pos)
        if length > self.max_frame_bytes:
            raise FrameTooLarge(f"frame announces a {length}-byte payload, over the "
                                f"{self.max_frame_bytes}-byte cap")
        end = pos + HEADER.size + length
        if len(buf) < end:
            return None
        payload = bytes(buf[pos + HEADER.size:end])
        if end == len(buf):
            buf.clear()
            end = 0
        elif end > self._COMPACT_BYTES:
            del buf[:end]
            end = 0
        self._pos = end
        return msg_type, payload

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        """:meth:`add` then every whole frame now buffered."""
        self.add(data)
        while (fr := self.next_frame()) is not None:
            yield fr

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still buffered (0 = between frames)."""
        return len(self._buf) - self._pos

    @property
    def missing(self) -> int:
        """Bytes still to receive before the frame in progress is whole (at least 1; the
        header's size while between frames)."""
        have = self.pending
        if have < HEADER.size:
            return HEADER.size - have
        (length,) = _U32.unpack_from(self._buf, self._pos)
        return max(1, HEADER.size + length - have)


class FrameTooLarge(ProtocolError):
    """Raised when a frame header announces a payload larger than the frame cap."""


# --------------------------------------------------------------------------- helpers

def encode_fragments(fragments: Sequence[bytes]) -> bytes:
    """Payload of one FRAGMENTS frame."""
    parts = [_U32.pack(len(fragments))]
    for f in fragments:
        parts.append(_U32.pack(len(f)))
        parts.append(bytes(f))
    return b"".join(parts)


def iter_fragment_batches(fragments: Sequence[bytes],
                          target_bytes: int = Limits.BATCH_TARGET_BYTES,
                          max_count: int = Limits.BATCH_MAX_FRAGMENTS) -> Iterator[bytes]:
    """Cut fragments into FRAGMENTS frames of about ``target_bytes`` (at least one each)."""
    batch: list[bytes] = []
    size = 0
    for f in fragments:
        if batch and (size + len(f) + 4 > target_bytes or len(batch) >= max_count):
            yield frame(Req.FRAGMENTS, encode_fragments(batch))
            batch, size = [], 0
        batch.append(f)
        size += len(f) + 4
    if batch:
        yield frame(Req.FRAGMENTS, encode_fragments(batch))


def iter_name_batches(names: Sequence[str], max_count: int = 4096) -> Iterator[bytes]:
    """Cut fragment names into NAMES frames (each well under the frame cap: names are at most
    255 bytes)."""
    for i in range(0, len(names), max_count):
        yield encode(Req.NAMES, names=list(names[i:i + max_count]))


def progress_fields(p: dict) -> dict:
    """The fields of a PROGRESS reply from a hub's progress dict (failures capped)."""
    failures = list(p.get("failures") or [])
    listed = [{"index": min(max(int(x.get("index", 0)), 0), 0xFFFFFFFF),
               "reason": str(x.get("reason", ""))[:4096]} for x in failures[:Limits.MAX_FAILURES_LISTED]]
    return {**progress_record(p), "failures": listed,
            "failures_truncated": 1 if len(failures) > Limits.MAX_FAILURES_LISTED else 0}


def status_fields(st: dict) -> dict:
    """The fields of a STATUS reply from a hub's status dict (sellers capped)."""
    try:
        tput = float(st.get("throughput_per_s", 0.0) or 0.0)
    except (TypeError, ValueError):
        tput = 0.0
    return {"jobs": [progress_record(j) for j in st.get("jobs", [])],
            "workers": [worker_record(w) for w in st.get("workers", [])],
            "throughput_per_s": tput if math.isfinite(tput) else 0.0,
            "sellers": [seller_record(s) for s in st.get("sellers", [])[:Limits.MAX_SELLERS_LISTED]]}


def progress_record(p: dict) -> dict:
    """A hub progress dict cleaned to the protocol's PROGRESS fields (missing -> 0/"")."""
    return worker_record(p, _PROGRESS_FIELDS)


def worker_record(w: dict, fields: list = _WORKER_FIELDS) -> dict:
    out = {}
    for name, kind in fields:
        v = w.get(name)
        if kind == "str":
            out[name] = str(v) if v is not None else ""
        elif kind == "f64":
            try:
                f = float(v or 0.0)
            except (TypeError, ValueError):
                f = 0.0
            out[name] = f if math.isfinite(f) else 0.0
        elif kind == "u8":
            out[name] = 1 if v else 0
        else:
            out[name] = min(_clamp_u64(v), 0xFFFFFFFF) if kind == "u32" else _clamp_u64(v)
    return out


def seller_record(s: dict) -> dict:
    return worker_record(s, _SELLER_FIELDS)


def _clamp_u64(v: Any) -> int:
    try:
        i = int(v or 0)
    except (TypeError, ValueError):
        return 0
    return max(0, min(i, 2**64 - 1))
