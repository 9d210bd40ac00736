"""Programs and shared inputs for the slots (an I/O shell piece): the on-disk cache
(:mod:`.cache`, verified by sha256) behind a small in-memory memo of the blobs in use."""

from __future__ import annotations

from collections import OrderedDict

from .cache import BlobCache


class BlobSource:
    """``get(sha)`` a blob (None: missing or corrupt); ``fetched(sha, data)`` stores one
    from the hub (ValueError when it does not match its sha256)."""

    def __init__(self, cache: BlobCache, memo_limit_bytes: int = 256 << 20):
        self.cache = cache
        self.memo: OrderedDict[str, bytes] = OrderedDict()   # blobs in use, verified
        self.memo_bytes = 0
        self.memo_limit = memo_limit_bytes
        self.memo_hits = 0
        self.fetched_blobs = 0
        self.fetched_bytes = 0

    @property
    def hits(self) -> int:
        return self.cache.hits + self.memo_hits

    def get(self, sha: str) -> bytes | None:
        data = self.memo.get(sha)
        if data is not None:
            self.memo.move_to_end(sha)
            self.memo_hits += 1
            return data
        data = self.cache.get(sha)
        if data is not None:
            self._remember(sha, data)
        return data

    def fetched(self, sha: str, data: bytes) -> None:
        self.cache.put(data, sha)
        self.fetched_blobs += 1
        self.fetched_bytes += len(data)
        self._remember(sha, data)

    def _remember(self, sha: str, data: bytes) -> None:
        if sha in self.memo:
            self.memo.move_to_end(sha)
            return
        self.memo[sha] = data
        self.memo_bytes += len(data)
        while self.memo_bytes > self.memo_limit and len(self.memo) > 1:
            _, old = self.memo.popitem(last=False)
            self.memo_bytes -= len(old)
