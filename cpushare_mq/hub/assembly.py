"""Result assembly: the results the hub is receiving, chunk by chunk, until their RESULT_END.

A worker streams a result as RESULT_CHUNKs (zstd, kept as sent) and ends it with RESULT_END
(sha256, size, chunk count). This room keeps one :class:`Partial` per (worker, fragment,
attempt): the running digest and size of the decompressed bytes, the chunks as received,
and what they cost the worker's budget (:mod:`cpushare_mq.hub.budgets`). It decides nothing
about leases or acceptance: the loop asks :meth:`ResultAssembly.finish` for the verdict on
the bytes and hands the result to the scheduler. No sockets, no SQL, no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import NamedTuple

from ..errors import DecompressionError
from ..limits import Limits
from ..protocol import decompress_chunk
from .budgets import PartialBudgets, chunk_cap, lease_cap_bytes

__all__ = ["Partial", "ResultAssembly", "Verdict"]

Key = tuple[str, int, int]          # (worker id, fragment id, attempt)


class Partial:
    """A result being received: running digest and size, compressed chunks kept as sent."""

    __slots__ = ("wid", "hasher", "size", "chunks", "broken", "stored", "handed_back")

    def __init__(self, wid: str) -> None:
        self.wid = wid
        self.hasher = hashlib.sha256()
        self.size = 0
        self.stored = 0
        self.chunks: list[bytes] = []
        self.broken = ""
        self.handed_back = False     # refused for a budget: the lease goes back uncounted


class Verdict(NamedTuple):
    """How a finished result's bytes stand: ``handed_back`` (a budget refused it: not the
    fragment's fault, not counted), else ``invalid`` ("" = the chunks match the RESULT_END)
    and the ``chunks`` as received, for the store. (A NamedTuple: one per result.)"""
    handed_back: bool
    invalid: str
    chunks: tuple[bytes, ...]


class ResultAssembly:
    """The partial results of every worker, within the per-worker and whole-hub budgets."""

    def __init__(self, per_worker_bytes: int, total_bytes: int):
        self.budgets = PartialBudgets(per_worker_bytes, total_bytes)
        self._partials: dict[Key, Partial] = {}

    def __len__(self) -> int:
        return len(self._partials)

    @property
    def held_bytes(self) -> int:
        """Compressed bytes held for unfinished results, all workers."""
        return self.budgets.total

    def chunk(self, key: Key, seq: int, data: bytes, max_output_bytes: int) -> None:
        """A RESULT_CHUNK of a lease the worker holds now."""
        p = self._partials.get(key)
        if p is None:
            p = self._partials[key] = Partial(key[0])
        self._add(p, seq, data, max_output_bytes)

    def finish(self, key: Key, body: dict, last_chunk: bytes | None,
               max_output_bytes: int) -> Verdict:
        """The RESULT_END ``body`` of a lease held now (with its last chunk, if it carries
        one): compares chunk count, size and sha256 with what arrived, and lets go of the
        budget (the chunks go to the store or nowhere)."""
        p = self._partials.pop(key, None)
        if p is None:
            if last_chunk is not None:      # the common case: a result in one message
                return self._whole(key[0], body, last_chunk, max_output_bytes)
            p = Partial(key[0])
        if last_chunk is not None:
            self._add(p, len(p.chunks) if not p.broken else -1, last_chunk, max_output_bytes)
        self._unhold(p)
        if p.handed_back:
            return Verdict(True, p.broken, ())
        invalid = p.broken
        if not invalid:
            if body["chunks"] != len(p.chunks):
                invalid = f"RESULT_END says {body['chunks']} chunks, {len(p.chunks)} arrived"
            elif body["size"] != p.size:
                invalid = f"RESULT_END says {body['size']} bytes, the chunks hold {p.size}"
            elif body["sha256"] != p.hasher.hexdigest():
                invalid = "sha256 of the chunks does not match RESULT_END"
        return Verdict(False, invalid, tuple(p.chunks))

    def drop(self, key: Key) -> None:
        """Forget one partial result (its lease ended, or a FAILURE replaced it)."""
        p = self._partials.pop(key, None)
        if p is not None:
            self._unhold(p)

    def drop_where(self, stale: Callable[[Key], bool]) -> None:
        """Forget every partial result whose key ``stale`` says no longer counts (a worker
        gone, leases expired)."""
        for key in [k for k in self._partials if stale(k)]:
            self.drop(key)

    # -- inside -------------------------------------------------------------------------
    def _whole(self, wid: str, body: dict, data: bytes, max_output: int) -> Verdict:
        """:meth:`finish` of a result whose only chunk rides on its RESULT_END: the checks
        of :meth:`_add` for chunk 0 of a fresh :class:`Partial` (its budgets, its cap, its
        decompression) and of :meth:`finish`, without holding the chunk in between."""
        refused = self.budgets.refusal(wid, 0, len(data), lease_cap_bytes(max_output))
        if refused is not None:
            return Verdict(not refused.counts, refused.why, ())
        try:
            raw = decompress_chunk(data, max(0, min(max_output, Limits.CHUNK_RAW_CAP)))
        except DecompressionError as exc:
            return Verdict(False, f"chunk 0: {exc}", ())
        invalid = ""
        if body["chunks"] != 1:
            invalid = f"RESULT_END says {body['chunks']} chunks, 1 arrived"
        elif body["size"] != len(raw):
            invalid = f"RESULT_END says {body['size']} bytes, the chunks hold {len(raw)}"
        elif body["sha256"] != hashlib.sha256(raw).hexdigest():
            invalid = "sha256 of the chunks does not match RESULT_END"
        return Verdict(False, invalid, (data,))

    def _unhold(self, p: Partial) -> None:
        self.budgets.free(p.wid, p.stored)
        p.stored = 0

    def _break(self, p: Partial, why: str) -> None:
        p.broken = why
        self._unhold(p)
        p.chunks.clear()

    def _add(self, p: Partial, seq: int, data: bytes, max_output: int) -> None:
        if p.broken:
            return
        refused = self.budgets.refusal(p.wid, p.stored, len(data), lease_cap_bytes(max_output))
        if refused is not None:
            p.handed_back = not refused.counts
            self._break(p, refused.why)
            return
        if len(p.chunks) >= chunk_cap(max_output):
            self._break(p, f"more than {chunk_cap(max_output)} chunks for one result "
                           f"(max_output_bytes {max_output})")
            return
        if seq != len(p.chunks):
            self._break(p, f"chunk {seq} arrived where chunk {len(p.chunks)} was expected")
            return
        try:
            raw = decompress_chunk(data, max(0, min(max_output - p.size, Limits.CHUNK_RAW_CAP)))
        except DecompressionError as exc:
            self._break(p, f"chunk {seq}: {exc}")
            return
        p.hasher.update(raw)
        p.size += len(raw)
        p.chunks.append(data)
        p.stored += len(data)
        self.budgets.hold(p.wid, len(data))
