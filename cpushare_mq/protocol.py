"""The hub <-> worker wire format: the one place it lives.

A message is a ZeroMQ multipart message (the ROUTER's routing-id frame, if any, is removed
before :func:`decode` and added after :func:`encode`):

    frame 0   header:  b"CPMQ" | u8 protocol version | u8 message type      (6 bytes)
    frame 1   body:    a UTF-8 JSON object, validated field by field against the type's schema
    frame 2+  blobs:   raw binary frames (fragment inputs, programs, compressed result chunks)

The header layout and the ERROR message (``{"code", "message"}``) never change between
versions, so a peer speaking another version always gets a readable refusal.

Nothing here can run code: JSON and raw bytes only, every field checked for type and range
before anyone uses it, every size capped. See ``docs/protocol.md`` for the conversation.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

import zstandard

from .errors import DecompressionError, ProtocolError, VersionMismatch
from .limits import Limits
from .outcome import Outcome, OutcomeRecord

__all__ = [
    "PROTOCOL_VERSION", "ABI_VERSION", "MAGIC", "MsgType", "Message", "ErrorCode", "AckStatus", "Feature",
    "encode", "encode_trusted", "decode", "peek_type", "Outcome", "OutcomeRecord",
    "compress_chunk", "decompress_chunk", "Limits",
]

MAGIC = b"CPMQ"
PROTOCOL_VERSION = 1
#: the sandbox ABI this code speaks (the frames of cpushare_mq/sandbox/frames.py, fd 0 and 1
#: only): a worker announces it in HELLO.abi_version, a hub refuses another one. Here, not in
#: the sandbox package, so the hub never loads the sandbox.
ABI_VERSION = 1
_HEADER = struct.Struct("<4sBB")


class MsgType(IntEnum):
    """Every message type. Values are the header's type byte and never change meaning."""

    # worker -> hub
    HELLO = 1          # join (also after every reconnect): capacities + leases still held
    READY = 2          # credit: "send me up to N more fragments"
    FETCH = 3          # ask for a program / shared input by sha256
    RESULT_CHUNK = 4   # one zstd-compressed piece of a fragment's result
    RESULT_END = 5     # result complete: digest, size, outcome record (+ optional last chunk)
    FAILURE = 6        # the fragment failed in the sandbox: outcome record
    RELEASE = 7        # hand leases back (shutdown, pause): reassign at once
    STATUS = 8         # paused / busy slots changed
    RESULT_BATCH = 9   # several RESULT_ENDs in one message, each with its last chunk (only
                       # to a hub whose WELCOME lists "result_batch" in ``features``)
    RECEIPT_ACK = 10   # these receipts are stored (feature "receipts"): the hub stops resending
    # hub -> worker
    WELCOME = 32       # joined: session id and timing parameters
    LEASE = 33         # one or more fragments to run, inputs as blobs
    BLOB = 34          # a program / shared input, answering FETCH
    ACK = 35           # results committed (or dropped as duplicate / stale)
    CANCEL = 36        # stop working on these leases (job cancelled, done elsewhere, expired)
    HOLD = 37          # no work for you for hold_s: your sandbox keeps failing (and why); only
                       # to a worker whose HELLO announced "infra_release"
    RECEIPTS = 38      # signed receipts of accepted results the hub paid for (only to a worker
                       # whose HELLO announced "receipts"; docs/market.md)
    # both ways
    HEARTBEAT = 64
    BYE = 65           # orderly disconnect
    ERROR = 66         # refusal: bad message, other version, unknown worker, ...


class ErrorCode(StrEnum):
    """ERROR.code: why a peer refused a message."""

    VERSION = "version"              # peer speaks another protocol version
    MALFORMED = "malformed"          # message failed validation
    UNKNOWN_WORKER = "unknown_worker"  # say HELLO first (e.g. the hub restarted or declared you dead)
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"          # unknown blob
    FORBIDDEN = "forbidden"          # e.g. a blob of a job the worker holds no lease for
    INTERNAL = "internal"            # the hub could not store what was sent (e.g. disk full)


class Feature(StrEnum):
    """Optional protocol additions a peer announces in ``HELLO.features`` (worker) and the
    hub confirms in ``WELCOME.features`` (only those the worker announced, so a worker that
    knows no features gets the WELCOME it always got)."""

    RESULT_BATCH = "result_batch"   # the worker may send RESULT_BATCH
    #: a RELEASE also withdraws the worker's unused READY credit (it asks again with READY):
    #: a worker whose fragments got longer hands back the surplus it prefetched, and the hub
    #: must not lease it straight back on old credit
    RELEASE_RESETS_CREDIT = "release_resets_credit"
    SIGNED_FAILURES = "signed_failures"  # the worker signs FAILURE reports (FAILURE.signature)
    #: one signature for a whole RESULT_BATCH (RESULT_BATCH.signature; its items carry "")
    BATCH_SIGNATURE = "batch_signature"
    #: RELEASE.infra: the leases come back because this machine's sandbox failed (loader
    #: set-up error, fork failure, out of memory outside the program's cap), not the
    #: program: no attempt is spent; a worker that keeps doing it gets HOLD
    INFRA_RELEASE = "infra_release"
    #: the worker keeps the hub's signed receipts (RECEIPTS) and acknowledges them
    #: (RECEIPT_ACK); the hub resends the unacknowledged ones at each HELLO
    RECEIPTS = "receipts"
    #: the worker takes fresh receipts as batches (RECEIPTS.batches: one signature checked
    #: per batch, cpushare_mq/market/receiptbatch.py); resent ones still come one by one
    RECEIPT_BATCHES = "receipt_batches"
    #: ... and as columns, one hash a batch (RECEIPTS.columns: market/columnbatch.py)
    RECEIPT_COLUMNS = "receipt_columns"


#: every feature this code knows (not a member: set after the class; the hub confirms those
#: of a worker's HELLO that are in it)
Feature.ALL = frozenset(Feature)  # type: ignore[attr-defined]


class AckStatus(StrEnum):
    """ACK.items[].status: what the hub did with a result or failure report."""

    ACCEPTED = "accepted"    # committed; this result (or this vote) counts
    DUPLICATE = "duplicate"  # this fragment was already accepted: dropped
    STALE = "stale"          # the lease is no longer current: dropped
    REJECTED = "rejected"    # invalid (digest mismatch, bad chunk sequence): dropped
    FAILED = "failed"        # failure report recorded


AckStatus.ALL = frozenset(AckStatus)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------
# Field validators: each takes (where, value) and returns the clean value or raises.

Validator = Callable[[str, Any], Any]
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


def _fail(where: str, why: str) -> ProtocolError:
    return ProtocolError(f"{where}: {why}")


def v_int(lo: int = 0, hi: int = 2**63 - 1) -> Validator:
    def check(where: str, v: Any) -> int:
        if type(v) is not int:
            raise _fail(where, f"expected an integer, got {type(v).__name__}")
        if not lo <= v <= hi:
            raise _fail(where, f"{v} is outside [{lo}, {hi}]")
        return v
    return check


def v_float(lo: float = 0.0, hi: float = 1e12) -> Validator:
    def check(where: str, v: Any) -> float:
        if type(v) not in (int, float) or not math.isfinite(v):
            raise _fail(where, f"expected a finite number, got {v!r}")
        if not lo <= v <= hi:
            raise _fail(where, f"{v} is outside [{lo}, {hi}]")
        return float(v)
    return check


def v_str(max_len: int = Limits.MAX_STR, pattern: re.Pattern | None = None) -> Validator:
    def check(where: str, v: Any) -> str:
        if type(v) is not str:
            if not isinstance(v, StrEnum):      # ErrorCode, AckStatus, Feature, ...
                raise _fail(where, f"expected a string, got {type(v).__name__}")
            v = v.value
        if len(v) > max_len:
            raise _fail(where, f"string of {len(v)} characters is longer than {max_len}")
        if pattern is not None and not pattern.fullmatch(v):
            raise _fail(where, f"{v[:80]!r} is not of the form {pattern.pattern}")
        return v
    return check


def v_bool(where: str, v: Any) -> bool:
    if type(v) is not bool:
        raise _fail(where, f"expected true/false, got {v!r}")
    return v


def v_list(item: Validator, max_len: int) -> Validator:
    def check(where: str, v: Any) -> list:
        if type(v) is not list:
            raise _fail(where, f"expected a list, got {type(v).__name__}")
        if len(v) > max_len:
            raise _fail(where, f"list of {len(v)} items is longer than {max_len}")
        try:
            return [item(where, x) for x in v]
        except ProtocolError:      # again, item by item, for the error that names its index
            for i, x in enumerate(v):
                item(f"{where}[{i}]", x)
            raise
    return check


def v_obj(schema: dict[str, tuple[Validator, Any]]) -> Validator:
    def check(where: str, v: Any) -> dict:
        return _check_fields(where, v, schema)
    return check


def v_outcome(where: str, v: Any) -> OutcomeRecord:
    try:
        return OutcomeRecord.from_dict(v)
    except ProtocolError as exc:
        raise _fail(where, str(exc)) from None


_v_sha256_text = v_str(64, _SHA256_RE)
_SHA256_SEEN: dict[str, None] = {}      # digests already checked (every lease names two)


def v_sha256(where: str, v: Any) -> str:
    """64 lowercase hex digits."""
    if type(v) is str and v in _SHA256_SEEN:
        return v
    v = _v_sha256_text(where, v)
    if len(_SHA256_SEEN) >= 1024:        # bounded: a peer's digests cannot grow it
        _SHA256_SEEN.clear()
    _SHA256_SEEN[v] = None
    return v


_FID_MAX, _ATTEMPT_MAX = 2**63 - 1, 1_000_000
v_fid = v_int(0, _FID_MAX)
v_attempt = v_int(0, _ATTEMPT_MAX)
_REQUIRED = object()


_v_status = v_str(16)


def v_lease_ref(where: str, v: Any) -> tuple[int, int]:
    """A ``[fragment_id, attempt]`` pair."""
    if (type(v) is list and len(v) == 2 and type(v[0]) is int and type(v[1]) is int
            and 0 <= v[0] <= _FID_MAX and 0 <= v[1] <= _ATTEMPT_MAX):
        return (v[0], v[1])               # the common case, checked at once
    if type(v) is not list or len(v) != 2:
        raise _fail(where, f"expected [fragment_id, attempt], got {v!r}"[:200])
    return (v_fid(f"{where}.fragment_id", v[0]), v_attempt(f"{where}.attempt", v[1]))


def v_ack_item(where: str, v: Any) -> tuple[int, int, str]:
    """A ``[fragment_id, attempt, status]`` triple."""
    if (type(v) is list and len(v) == 3 and type(v[0]) is int and type(v[1]) is int
            and 0 <= v[0] <= _FID_MAX and 0 <= v[1] <= _ATTEMPT_MAX and type(v[2]) is str
            and v[2] in AckStatus.ALL):
        return (v[0], v[1], v[2])         # the common case, checked at once
    if type(v) is not list or len(v) != 3:
        raise _fail(where, f"expected [fragment_id, attempt, status], got {v!r}"[:200])
    status = _v_status(f"{where}.status", v[2])
    if status not in AckStatus.ALL:
        raise _fail(where, f"unknown ack status {status!r}")
    return (v_fid(f"{where}.fragment_id", v[0]), v_attempt(f"{where}.attempt", v[1]), status)


def _check_fields(where: str, body: Any, schema: dict[str, tuple[Validator, Any]]) -> dict:
    if type(body) is not dict:
        raise _fail(where, f"expected a JSON object, got {type(body).__name__}")
    unknown = body.keys() - schema.keys()
    if unknown:
        raise _fail(where, f"unknown field(s) {sorted(unknown)[:5]}")
    out = {}
    try:
        for name, (check, default) in schema.items():
            if name in body:
                out[name] = check(name, body[name])   # the path is prefixed only on error
            elif default is _REQUIRED:
                raise ProtocolError(f": missing field {name!r}")
            else:
                out[name] = default
    except VersionMismatch:
        raise
    except ProtocolError as exc:
        msg = str(exc)
        raise ProtocolError(f"{where}{msg}" if msg.startswith(":") else f"{where}.{msg}") from None
    return out


LEASE_SCHEMA: dict[str, tuple[Validator, Any]] = {
    "job_id": (v_str(64), _REQUIRED),
    "fragment_id": (v_fid, _REQUIRED),
    "index": (v_int(0), _REQUIRED),            # fragment index within its job
    "attempt": (v_attempt, _REQUIRED),
    "lease_s": (v_float(0, 1e7), _REQUIRED),  # seconds until the lease expires (hub's clock)
    "program_sha256": (v_sha256, _REQUIRED),
    "shared_sha256": (v_sha256, _REQUIRED),
    "cpu_s": (v_float(0, 1e7), _REQUIRED),
    "wall_s": (v_float(0, 1e7), _REQUIRED),
    "max_output_bytes": (v_int(0, Limits.MAX_RESULT_BYTES), _REQUIRED),
}

RESULT_END_SCHEMA: dict[str, tuple[Validator, Any]] = {
    "fragment_id": (v_fid, _REQUIRED),
    "attempt": (v_attempt, _REQUIRED),
    "chunks": (v_int(0, 1 << 31), _REQUIRED),   # total chunks incl. one carried here
    "sha256": (v_sha256, _REQUIRED),            # of the whole uncompressed result
    "size": (v_int(0, Limits.MAX_RESULT_BYTES), _REQUIRED),
    "outcome": (v_outcome, _REQUIRED),
    "signature": (v_str(256), ""),              # hex Ed25519 signature (trust layer)
}

#: a signed receipt as sent in RECEIPTS (the fields of cpushare_mq.market.receipts.FIELDS
#: and its signature; amounts as decimal strings): checked again, with its signature, by the
#: worker (worker/earnings.py)
RECEIPT_SCHEMA: dict[str, tuple[Validator, Any]] = {
    **{name: (v_str(128), _REQUIRED) for name in ("hub_key", "job_id", "worker_key", "price",
                                                  "currency", "amount")},
    **{name: (v_int(0), _REQUIRED) for name in ("fragment_id", "attempt", "cpu_us",
                                                "issued_s")},
    "signature": (v_str(128), _REQUIRED),
    # the Merkle path to the signed batch root (steps "l"/"r" + 64 hex); absent: signed alone
    "proof": (v_list(v_str(65), 40), None),
}
MAX_RECEIPTS_PER_MESSAGE = 256


def v_rows(max_len: int) -> Validator:
    """A receipt batch's rows: a list of at most ``max_len`` lists, their values left to
    cpushare_mq.market.receiptbatch, which checks every field of every row (and refuses the
    whole batch naming the row) before anything is kept: one check, in one place."""
    def check(where: str, v: Any) -> list:
        if type(v) is not list or len(v) > max_len:
            raise _fail(where, f"expected a list of at most {max_len} receipt rows")
        for row in v:
            if type(row) is not list:
                raise _fail(where, "expected receipt rows: lists of 8 values")
        return v
    return check


#: a batch of one worker's receipts under one signature (feature "receipt_batches")
RECEIPT_BATCH_SCHEMA: dict[str, tuple[Validator, Any]] = {
    "hub_key": (v_str(128), _REQUIRED),
    "worker_key": (v_str(128), _REQUIRED),
    "signature": (v_str(128), _REQUIRED),
    "proof": (v_list(v_str(65), 32), _REQUIRED),
    "rows": (v_rows(MAX_RECEIPTS_PER_MESSAGE), _REQUIRED),
}


def v_columns(max_len: int) -> Validator:
    """A column batch's columns: four lists of at most ``max_len`` values each, their values
    left to cpushare_mq.market.columnbatch, which checks them all (one check, one place)."""
    def check(where: str, v: Any) -> list:
        if type(v) is not list or len(v) != 4 or not all(
                type(c) is list and len(c) <= max_len for c in v):
            raise _fail(where, f"expected 4 receipt columns of at most {max_len} values")
        return v
    return check


#: a batch of one worker's receipts for one job as columns (feature "receipt_columns")
RECEIPT_COLUMNS_SCHEMA: dict[str, tuple[Validator, Any]] = {
    **{name: (v_str(128), _REQUIRED) for name in ("hub_key", "worker_key", "job_id", "price",
                                                  "currency", "signature")},
    "proof": (v_list(v_str(65), 32), _REQUIRED),
    "columns": (v_columns(MAX_RECEIPTS_PER_MESSAGE), _REQUIRED),
}

# (validators for the body, (min blobs, max blobs))
SCHEMAS: dict[MsgType, tuple[dict[str, tuple[Validator, Any]], tuple[int, int]]] = {
    MsgType.HELLO: ({
        "worker_version": (v_str(64), _REQUIRED),
        "abi_version": (v_int(0, 1000), _REQUIRED),
        "slots": (v_int(1, 4096), _REQUIRED),
        "memory_bytes": (v_int(0), 0),
        "cpu_model": (v_str(256), ""),
        "name": (v_str(256), ""),
        "worker_key": (v_str(128), ""),        # public key (identity across reconnects)
        "held": (v_list(v_lease_ref, 65536), []),  # leases still held after a reconnect
        "features": (v_list(v_str(64), 64), []),   # optional additions understood (Feature)
    }, (0, 0)),
    MsgType.READY: ({"credit": (v_int(1, 100_000), _REQUIRED)}, (0, 0)),
    MsgType.FETCH: ({"sha256": (v_sha256, _REQUIRED)}, (0, 0)),
    MsgType.RESULT_CHUNK: ({
        "fragment_id": (v_fid, _REQUIRED),
        "attempt": (v_attempt, _REQUIRED),
        "seq": (v_int(0, 1 << 31), _REQUIRED),
    }, (1, 1)),
    MsgType.RESULT_END: (RESULT_END_SCHEMA, (0, 1)),
    MsgType.RESULT_BATCH: ({
        # item i is a RESULT_END body; binary frame i is its last chunk (always present,
        # an empty result's is a zstd frame of 0 bytes)
        "results": (v_list(v_obj(RESULT_END_SCHEMA), Limits.MAX_RESULTS_PER_BATCH), _REQUIRED),
        # hex Ed25519 signature of the whole batch (only with the feature "batch_signature";
        # then every item's signature is ""): see cpushare_mq.trust.signing
        "signature": (v_str(256), ""),
    }, (1, Limits.MAX_RESULTS_PER_BATCH)),
    MsgType.FAILURE: ({
        "fragment_id": (v_fid, _REQUIRED),
        "attempt": (v_attempt, _REQUIRED),
        "outcome": (v_outcome, _REQUIRED),
        # hex Ed25519 signature (trust layer; only with the feature "signed_failures")
        "signature": (v_str(256), ""),
    }, (0, 0)),
    MsgType.RELEASE: ({
        "leases": (v_list(v_lease_ref, 65536), _REQUIRED),
        "reason": (v_str(256), ""),
        "infra": (v_bool, False),     # the machine's failure, not the program's (feature)
    }, (0, 0)),
    MsgType.RECEIPT_ACK: ({
        "fragment_ids": (v_list(v_fid, MAX_RECEIPTS_PER_MESSAGE), _REQUIRED),
    }, (0, 0)),
    MsgType.RECEIPTS: ({
        "receipts": (v_list(v_obj(RECEIPT_SCHEMA), MAX_RECEIPTS_PER_MESSAGE), ()),
        "batches": (v_list(v_obj(RECEIPT_BATCH_SCHEMA), 1), ()),
        "columns": (v_list(v_obj(RECEIPT_COLUMNS_SCHEMA), 1), ()),
    }, (0, 0)),
    MsgType.STATUS: ({
        "paused": (v_bool, _REQUIRED),
        "busy": (v_int(0, 4096), _REQUIRED),
    }, (0, 0)),
    MsgType.WELCOME: ({
        "worker_id": (v_str(64), _REQUIRED),
        "hub_version": (v_str(64), _REQUIRED),
        "heartbeat_interval_s": (v_float(0.001, 3600), _REQUIRED),
        "liveness": (v_int(1, 1000), _REQUIRED),
        "held_ok": (v_list(v_lease_ref, 65536), []),  # re-announced leases the hub honours
        "features": (v_list(v_str(64), 64), []),      # the HELLO's features this hub accepts
    }, (0, 0)),
    MsgType.LEASE: ({
        "leases": (v_list(v_obj(LEASE_SCHEMA), Limits.MAX_LEASES_PER_MESSAGE), _REQUIRED),
    }, (1, Limits.MAX_LEASES_PER_MESSAGE)),
    MsgType.BLOB: ({"sha256": (v_sha256, _REQUIRED)}, (1, 1)),
    MsgType.ACK: ({"results": (v_list(v_ack_item, 65536), _REQUIRED)}, (0, 0)),
    MsgType.CANCEL: ({
        "leases": (v_list(v_lease_ref, 65536), _REQUIRED),
        "reason": (v_str(256), ""),
    }, (0, 0)),
    MsgType.HOLD: ({
        "hold_s": (v_float(0.0, 86400.0), _REQUIRED),
        "reason": (v_str(1024), ""),
    }, (0, 0)),
    MsgType.HEARTBEAT: ({}, (0, 0)),
    MsgType.BYE: ({"reason": (v_str(256), "")}, (0, 0)),
    MsgType.ERROR: ({
        "code": (v_str(32), _REQUIRED),
        "message": (v_str(1024), ""),
    }, (0, 0)),
}

_BLOB_CAPS: dict[MsgType, int] = {
    MsgType.LEASE: Limits.MAX_FRAGMENT_INPUT_BYTES,
    MsgType.BLOB: Limits.MAX_PROGRAM_BYTES,
    MsgType.RESULT_CHUNK: Limits.MAX_CHUNK_BYTES,
    MsgType.RESULT_END: Limits.MAX_CHUNK_BYTES,
    MsgType.RESULT_BATCH: Limits.MAX_CHUNK_BYTES,
}


@dataclass(slots=True)
class Message:
    """A decoded, validated message. ``body`` holds the checked fields (defaults filled in)."""

    type: MsgType
    body: dict = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.body[key]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


_json_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def _json_encoder_utf8(body: Any) -> None:
    """Raise UnicodeEncodeError if a string of ``body`` holds a lone surrogate (a JSON
    ``\\ud800`` escape): such text cannot be stored (SQLite) or logged as UTF-8, and one
    such HELLO made the hub's commit fail, costing every message of its turn (issue 14)."""
    json.dumps(body, ensure_ascii=False).encode("utf-8")
_json_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode


def _jsonable(v: Any) -> Any:
    if isinstance(v, OutcomeRecord):
        return v.to_dict()
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


def encode(msg_type: MsgType, body: dict | None = None, blobs: Sequence[bytes] = (),
           *, validate: bool = True) -> list[bytes]:
    """Encode one message into frames. With ``validate`` (the default) the body is checked
    against the schema first, so we never send what the peer would refuse."""
    body = _jsonable(body or {})
    if validate:
        _validate(MsgType(msg_type), body, blobs)
    header = _HEADER.pack(MAGIC, PROTOCOL_VERSION, int(msg_type))
    return [header, _json_encode(body).encode(), *blobs]


class EncodedBody(dict):
    """A body this process built together with its JSON text: :func:`encode_trusted` sends
    the text as it is (a receipt batch is kept as text and sent as the same text); anything
    else reads it as the dict it is."""

    __slots__ = ("text",)

    def __init__(self, body: dict, text: str):
        super().__init__(body)
        self.text = text


def encode_trusted(msg_type: MsgType, body: dict, blobs: Sequence[bytes] = ()) -> list[bytes]:
    """Encode a message built by this process from already-checked values (hot paths:
    LEASE, ACK, CANCEL, RECEIPTS). No validation; ``body`` must hold plain JSON types (tuples
    allowed), or be an :class:`EncodedBody`."""
    text = body.text if type(body) is EncodedBody else _json_encode(body)
    return [_HEADER.pack(MAGIC, PROTOCOL_VERSION, int(msg_type)), text.encode(), *blobs]


def peek_type(frames: Sequence[bytes]) -> MsgType | None:
    """The message type of ``frames`` if its header is ours (any version), else None."""
    if not frames or len(frames[0]) != _HEADER.size:
        return None
    magic, _version, mtype = _HEADER.unpack(frames[0])
    if magic != MAGIC:
        return None
    try:
        return MsgType(mtype)
    except ValueError:
        return None


def decode(frames: Sequence[bytes]) -> Message:
    """Decode and validate one message; raise :class:`ProtocolError` naming what is wrong
    (or :class:`VersionMismatch` for another protocol version)."""
    if len(frames) < 2:
        raise ProtocolError(f"a message has at least 2 frames (header, body), got {len(frames)}")
    head = bytes(frames[0])
    if len(head) != _HEADER.size:
        raise ProtocolError(f"header frame must be {_HEADER.size} bytes, got {len(head)}")
    magic, version, mtype = _HEADER.unpack(head)
    if magic != MAGIC:
        raise ProtocolError(f"bad magic {magic!r}: not a cpushare-mq message")
    if version != PROTOCOL_VERSION:
        raise VersionMismatch(
            f"peer speaks protocol version {version}, this side speaks {PROTOCOL_VERSION}")
    msg_type = _MSG_TYPES.get(mtype)      # (a table: an Enum call costs ~0.4 us a message)
    if msg_type is None:
        raise ProtocolError(f"unknown message type {mtype}")
    raw = frames[1]
    if len(raw) > Limits.MAX_BODY_BYTES:
        raise ProtocolError(f"{msg_type.name}: body of {len(raw)} bytes exceeds {Limits.MAX_BODY_BYTES}")
    try:
        raw = bytes(raw)
        body = _json_decoder.decode(raw.decode("utf-8"))
        if b"\\ud" in raw or b"\\uD" in raw:    # escapes may spell a lone surrogate
            _json_encoder_utf8(body)
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"{msg_type.name}: body is not valid JSON: {exc}"[:300]) from None
    blobs = [bytes(b) for b in frames[2:]]
    clean = _validate(msg_type, body, blobs)
    return Message(msg_type, clean, blobs)


_MSG_TYPES = {int(t): t for t in MsgType}


def _validate(msg_type: MsgType, body: Any, blobs: Sequence[bytes]) -> dict:
    schema, (lo, hi) = SCHEMAS[msg_type]
    clean = _check_fields(msg_type.name, body, schema)
    n = len(blobs)
    if msg_type is MsgType.LEASE:
        lo = hi = len(clean["leases"])
        if lo == 0:
            raise ProtocolError("LEASE: carries no leases")
    elif msg_type is MsgType.RESULT_BATCH:
        lo = hi = len(clean["results"])
        if lo == 0:
            raise ProtocolError("RESULT_BATCH: carries no results")
        if clean["signature"] and any(r["signature"] for r in clean["results"]):
            raise ProtocolError("RESULT_BATCH: a signed batch's items must not carry their "
                                "own signatures")
    elif msg_type is MsgType.RECEIPTS:      # one RECEIPT_ACK must be able to answer it
        count = (len(clean["receipts"]) + sum(len(b["rows"]) for b in clean["batches"])
                 + sum(len(b["columns"][0]) for b in clean["columns"]))
        if count > MAX_RECEIPTS_PER_MESSAGE:
            raise ProtocolError(f"RECEIPTS: carries {count} receipts, more than "
                                f"{MAX_RECEIPTS_PER_MESSAGE}")
    if not lo <= n <= hi:
        raise ProtocolError(f"{msg_type.name}: expected {lo}..{hi} binary frames, got {n}")
    cap = _BLOB_CAPS.get(msg_type)
    if cap is not None:
        for i, b in enumerate(blobs):
            if len(b) > cap:
                raise ProtocolError(f"{msg_type.name}: binary frame {i} of {len(b)} bytes exceeds {cap}")
    return clean


# ---------------------------------------------------------------------------------------
# Result chunk compression. Each chunk is an independent zstd frame.

# zstd contexts are not thread-safe: one pair per thread.
_zstd = threading.local()


def _ctx() -> threading.local:
    z = _zstd
    if not hasattr(z, "d"):
        z.c = zstandard.ZstdCompressor(level=1)
        z.d = zstandard.ZstdDecompressor()
    return z


def compress_chunk(data: bytes) -> bytes:
    """Compress one result chunk (zstd level 1: fast, and results are often compressible)."""
    return _ctx().c.compress(data)


def decompress_chunk(data: bytes, max_bytes: int) -> bytes:
    """Decompress one chunk, refusing to produce more than ``max_bytes`` (a decompression
    bomb raises :class:`DecompressionError` without being expanded)."""
    dctx = _ctx().d
    try:
        declared = zstandard.frame_content_size(data)
    except zstandard.ZstdError as exc:
        raise DecompressionError(f"corrupt zstd chunk: {exc}") from exc
    if declared > max_bytes:
        raise DecompressionError(f"chunk declares {declared} bytes, beyond its cap of {max_bytes}")
    if declared >= 0:
        # fast path: libzstd refuses output beyond the declared size (per block), so the
        # cap holds; a trailing second frame or a truncated frame is refused
        try:
            dobj = dctx.decompressobj()
            out = dobj.decompress(data)
        except zstandard.ZstdError as exc:
            raise DecompressionError(f"corrupt zstd chunk: {exc}") from exc
        if not dobj.eof:
            raise DecompressionError("truncated zstd chunk")
        if dobj.unused_data:
            raise DecompressionError("chunk carries data after its zstd frame")
        if len(out) != declared:
            raise DecompressionError(f"chunk declares {declared} bytes but holds {len(out)}")
        return out
    try:
        with dctx.stream_reader(io.BytesIO(data), read_across_frames=False) as reader:
            out = reader.read(max_bytes + 1)
            if len(out) > max_bytes:
                raise DecompressionError(f"chunk expands beyond its cap of {max_bytes} bytes")
            if reader.read(1):
                raise DecompressionError("chunk carries data after its zstd frame")
    except zstandard.ZstdError as exc:
        raise DecompressionError(f"corrupt zstd chunk: {exc}") from exc
    return out
