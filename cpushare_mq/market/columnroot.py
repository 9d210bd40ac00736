"""The root of a receipt batch sent as columns (protocol feature ``receipt_columns``): one
hash for a whole batch, and the proof step that lets one of its receipts be checked alone.

A batch of one worker's receipts for one job at one price (market/columnbatch.py) names
what its receipts share once (its *header*: :data:`HEADER_FIELDS`) and what differs as four
columns of integers (:data:`COLUMN_NAMES`); each receipt's amount follows from its price and
``cpu_us`` (:func:`~.money.amount_text`). Its root, the node that stands for it in the tree
the hub signs (receipts.py), is::

    sha256(0x02 || "cpushare-mq/receipt-columns/v1" 0x00
           || each header field as a u32 little-endian length and its UTF-8 text
           || the number of receipts as a u32 little-endian
           || each column in turn, each value as an i64 little-endian)

Both sides pack the integers in one call a column, so the hub hashes no receipt alone and a
worker checks a batch with one hash. The first byte, 0x02, keeps such a root apart from a
receipt's leaf (0x00) and an inner node (0x01). On the wire the columns are JSON lists.

A receipt taken out of such a batch (a ledger's or earnings' export) carries the columns as
the first step of its proof: ``"c"`` and the base64 of their compact JSON text
(``[[fragment ids],[attempts],[cpu_us],[issued_s]]``) compressed with zstd
(:func:`columns_step`); the rest of its proof leads from the batch's root to the signed root.
Pure functions, nothing here trusts its input.
"""

from __future__ import annotations

import array
import base64
import binascii
import functools
import hashlib
import json
import re
import struct
import sys

import zstandard

from ..protocol import MAX_RECEIPTS_PER_MESSAGE

__all__ = ["COLUMN_NAMES", "COLUMNS_STEP", "HEADER_FIELDS", "MAX_COLUMNS_TEXT", "column_fault",
           "columns_root", "columns_step", "columns_text", "step_root"]

HEADER_FIELDS = ("hub_key", "worker_key", "job_id", "price", "currency")
COLUMN_NAMES = ("fragment_id", "attempt", "cpu_us", "issued_s")
_HEAD = b"\x02cpushare-mq/receipt-columns/v1\0"
_U32 = struct.Struct("<I").pack
_INT_BOUND = 2**63               # as a receipt's integers (receipts.Receipt.checked)
#: the longest columns' text: 256 rows of four 19-digit integers and their separators
MAX_COLUMNS_TEXT = 32 * 1024
#: a proof's columns step: "c" and the base64 of zstd-compressed columns' text
COLUMNS_STEP = re.compile(r"c[A-Za-z0-9+/]{4,65536}={0,2}")


def columns_text(columns: list[list[int]] | tuple[list[int], ...]) -> str:
    """The columns as a proof step carries them: compact JSON."""
    return json.dumps(columns, separators=(",", ":"))


def column_fault(columns: object, max_rows: int) -> str | None:
    """What is wrong with a peer's columns (one line), or None: four lists of 1-``max_rows``
    non-negative integers below 2**63 each, of one length, the fragment ids distinct."""
    if type(columns) is not list or len(columns) != len(COLUMN_NAMES):
        return f"columns must be a list of {len(COLUMN_NAMES)} lists: {', '.join(COLUMN_NAMES)}"
    n = len(columns[0]) if type(columns[0]) is list else -1
    if not 0 < n <= max_rows:
        return f"columns must hold 1-{max_rows} receipts"
    for name, column in zip(COLUMN_NAMES, columns, strict=True):
        if type(column) is not list or len(column) != n:
            return f"column {name} must be a list of {n} integers, as long as fragment_id"
        if set(map(type, column)) != {int} or min(column) < 0 or max(column) >= _INT_BOUND:
            return f"column {name} must hold non-negative integers below 2**63"
    if len(set(columns[0])) != n:
        return "column fragment_id names a fragment twice"
    return None


def columns_root(header: tuple[str, ...], columns: tuple[list[int], ...] | list[list[int]]
                 ) -> bytes:
    """The batch's root from its header (:data:`HEADER_FIELDS`' values) and its columns
    (well formed: :func:`column_fault`)."""
    parts = [_HEAD]
    for value in header:
        data = value.encode()
        parts += (_U32(len(data)), data)
    parts.append(_U32(len(columns[0])))
    for column in columns:
        packed = array.array("q", column)
        if sys.byteorder != "little":
            packed.byteswap()
        parts.append(packed.tobytes())
    return hashlib.sha256(b"".join(parts)).digest()


def columns_step(text: str) -> str:
    """The proof step that carries a batch's columns (a receipt taken out of it)."""
    return "c" + base64.b64encode(zstandard.ZstdCompressor().compress(
        text.encode())).decode()


def step_root(header: tuple[str, ...], row: tuple[int, int, int, int], step: str
              ) -> bytes | None:
    """The root of the batch whose columns ``step`` carries when they hold the receipt
    ``row`` (:data:`COLUMN_NAMES`' values) under ``header``; None when they do not, or the
    step is malformed."""
    opened = _open_step(step)
    if opened is None:
        return None
    columns, rows = opened
    if rows.get(row[0]) != row:
        return None
    return columns_root(header, columns)


@functools.lru_cache(maxsize=64)       # (a batch's receipts share their step)
def _open_step(step: str) -> tuple[list[list[int]], dict[int, tuple[int, int, int, int]]] | None:
    """A columns step's columns and its receipts by fragment id; None when it is malformed."""
    if not COLUMNS_STEP.fullmatch(step):
        return None
    try:
        packed = base64.b64decode(step[1:], validate=True)
        if not 0 <= zstandard.frame_content_size(packed) <= MAX_COLUMNS_TEXT:
            return None                # (unknown, or too long: never inflated)
        columns = json.loads(zstandard.ZstdDecompressor().decompress(packed))
    except (binascii.Error, zstandard.ZstdError, ValueError):
        return None
    if column_fault(columns, MAX_RECEIPTS_PER_MESSAGE) is not None:
        return None
    return columns, {row[0]: row for row in zip(*columns, strict=True)}
