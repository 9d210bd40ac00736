"""Budgets for unfinished results: compressed chunks the hub holds between a worker's
RESULT_CHUNKs and its RESULT_END, per lease, per worker session and for the whole hub.

* Per lease: a result may not hold more than its job's ``max_output_bytes`` could compress
  to (zstd's worst case: the raw size plus 1/64 plus a little); going over is the result's
  own fault (it is rejected, like a RESULT_END claiming too many bytes).
* Per worker session: at most ``per_worker_bytes`` (HubConfig.max_partial_bytes_per_worker),
  or one whole result of the lease at hand if that is more; a worker that keeps results
  unfinished only ever refuses its own.
* Chunks per result: at most :func:`chunk_cap` of the job's ``max_output_bytes``.
* Whole hub: at most ``total_bytes`` (HubConfig.max_partial_bytes), the memory guard.
A refusal for the worker's or the hub's budget is not the fragment's fault: its lease is
handed back to the queue uncounted.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..limits import Limits


def lease_cap_bytes(max_output_bytes: int) -> int:
    """Compressed bytes one result of a job with this ``max_output_bytes`` may hold."""
    return max_output_bytes + max_output_bytes // 64 + (64 << 10)


#: the fewest chunks any result may have
MIN_CHUNK_CAP = 64


def chunk_cap(max_output_bytes: int) -> int:
    """Chunks one result of a job with this ``max_output_bytes`` may have: workers cut
    results into raw chunks of ``Limits.RAW_CHUNK_BYTES`` (the last one shorter), plus one
    spare, and never fewer than ``MIN_CHUNK_CAP`` (room for other chunkings of small
    results); more is the result's own fault (a 1-byte result sent as 20,001 chunks would
    be 20,001 stored rows)."""
    return max(MIN_CHUNK_CAP, max_output_bytes // Limits.RAW_CHUNK_BYTES + 2)


@dataclass(frozen=True)
class Refusal:
    why: str
    counts: bool      # True: the result's own fault (rejected); False: handed back uncounted


class PartialBudgets:
    """Compressed bytes held per worker session and in total."""

    def __init__(self, per_worker_bytes: int, total_bytes: int):
        self.per_worker_bytes = per_worker_bytes
        self.total_bytes = total_bytes
        self.total = 0
        self._by_worker: dict[str, int] = {}

    def held(self, wid: str) -> int:
        return self._by_worker.get(wid, 0)

    def refusal(self, wid: str, lease_held: int, add: int, lease_cap: int) -> Refusal | None:
        """Why ``add`` more bytes may not be held for a lease of ``wid`` holding
        ``lease_held`` already, or None (then call :meth:`hold`)."""
        if lease_held + add > lease_cap:
            return Refusal(f"the result's chunks pass {lease_cap} compressed bytes, more than "
                           f"the job's max_output_bytes allows", True)
        mine = self._by_worker.get(wid, 0)
        if mine + add > max(self.per_worker_bytes, lease_cap):   # one whole result always fits
            return Refusal(f"this worker holds {mine} bytes of unfinished results already "
                           f"(max_partial_bytes_per_worker {self.per_worker_bytes}): send "
                           f"RESULT_END for results you have begun", False)
        if self.total + add > self.total_bytes:
            return Refusal(f"the hub holds {self.total} bytes of unfinished results "
                           f"(max_partial_bytes {self.total_bytes})", False)
        return None

    def hold(self, wid: str, n: int) -> None:
        self._by_worker[wid] = self._by_worker.get(wid, 0) + n
        self.total += n

    def free(self, wid: str, n: int) -> None:
        if not n:
            return
        left = self._by_worker.get(wid, 0) - n
        if left > 0:
            self._by_worker[wid] = left
        else:
            self._by_worker.pop(wid, None)
        self.total -= n
