"""Content-addressed on-disk cache of programs and shared inputs.

* one file per blob, named by its sha256 (64 lowercase hex digits) in the cache directory;
* writes are atomic: a temporary file in the same directory, fsync, then ``os.replace``;
* every :meth:`BlobCache.get` re-hashes the file: a corrupt or tampered file is deleted and
  reported as missing (so the worker fetches it again);
* the total size is bounded: least recently used blobs are evicted first. Recency is the
  file's mtime (set on every put/get), so the order survives restarts.

The cache is used from the worker's loop thread only (no locking).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from pathlib import Path

from ..atomicfile import replace_file
from ..errors import ConfigError

log = logging.getLogger(__name__)

_NAME = re.compile(r"[0-9a-f]{64}")
_TMP_PREFIX = ".tmp-"


class BlobCache:
    """A size-bounded LRU cache of sha256-named blobs in ``directory``."""

    def __init__(self, directory: str | os.PathLike, max_bytes: int):
        if max_bytes < 0:
            raise ConfigError(f"cache size must be >= 0 bytes, got {max_bytes}")
        self.dir = Path(directory)
        self.max_bytes = max_bytes
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(f"cannot create cache directory {self.dir}: {exc}") from exc
        if not os.access(self.dir, os.W_OK | os.X_OK):
            raise ConfigError(f"cache directory {self.dir} is not writable")
        self._sizes: dict[str, int] = {}
        self._stamps: dict[str, int] = {}   # sha -> last use (ns); mirrors the files' mtime
        self._last_stamp = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.corrupt = 0
        self._scan()

    # -- index ------------------------------------------------------------------------

    def _scan(self) -> None:
        for entry in os.scandir(self.dir):
            if entry.name.startswith(_TMP_PREFIX):
                # left over from a crash mid-write
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
                continue
            if not _NAME.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            st = entry.stat(follow_symlinks=False)
            self._sizes[entry.name] = st.st_size
            self._stamps[entry.name] = st.st_mtime_ns
            self._last_stamp = max(self._last_stamp, st.st_mtime_ns)
        self._evict(0)

    def _stamp(self) -> int:
        self._last_stamp = max(self._last_stamp + 1, time.time_ns())
        return self._last_stamp

    def _touch(self, sha: str) -> None:
        stamp = self._stamp()
        self._stamps[sha] = stamp
        try:
            os.utime(self.dir / sha, ns=(stamp, stamp))
        except OSError:
            pass

    @property
    def total_bytes(self) -> int:
        return sum(self._sizes.values())

    def __contains__(self, sha: str) -> bool:
        return sha in self._sizes

    def __len__(self) -> int:
        return len(self._sizes)

    def keys(self) -> list[str]:
        return list(self._sizes)

    def lru_order(self) -> list[str]:
        """Blobs from least to most recently used."""
        return sorted(self._sizes, key=self._stamps.__getitem__)

    # -- operations -------------------------------------------------------------------

    def put(self, data: bytes, sha256: str | None = None) -> str:
        """Store ``data``; return its sha256. With ``sha256`` given, the data must hash to it
        (:class:`ValueError` otherwise — a peer sent the wrong bytes). A blob larger than the
        whole cache is not stored (the caller keeps it in memory)."""
        digest = hashlib.sha256(data).hexdigest()
        if sha256 is not None and digest != sha256:
            raise ValueError(f"blob hashes to {digest}, not the announced {sha256}")
        if digest in self._sizes:
            self._touch(digest)
            return digest
        if len(data) > self.max_bytes:
            log.warning("blob %s of %d bytes is larger than the whole cache (%d bytes); not cached",
                        digest[:12], len(data), self.max_bytes)
            return digest
        self._evict(len(data))
        tmp = self.dir / f"{_TMP_PREFIX}{digest}-{os.getpid()}-{time.monotonic_ns()}"
        try:
            replace_file(self.dir / digest, data, mode=0o600, sync=True, tmp=tmp)
        except OSError as exc:
            log.error("cannot write blob %s to cache %s: %s (kept in memory only)",
                      digest[:12], self.dir, exc)
            return digest
        self._sizes[digest] = len(data)
        self._touch(digest)
        return digest

    def get(self, sha256: str) -> bytes | None:
        """The blob's bytes, verified against its name; None if absent or corrupt."""
        if not _NAME.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256[:80]!r}")
        if sha256 not in self._sizes:
            self.misses += 1
            return None
        try:
            data = (self.dir / sha256).read_bytes()
        except OSError as exc:
            log.warning("cached blob %s unreadable (%s); dropping it", sha256[:12], exc)
            self._forget(sha256)
            self.misses += 1
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            log.warning("cached blob %s is corrupt (sha256 mismatch); deleting it", sha256[:12])
            self.corrupt += 1
            self.discard(sha256)
            self.misses += 1
            return None
        self.hits += 1
        self._touch(sha256)
        return data

    def discard(self, sha256: str) -> None:
        self._forget(sha256)
        try:
            os.unlink(self.dir / sha256)
        except OSError:
            pass

    def _forget(self, sha256: str) -> None:
        self._sizes.pop(sha256, None)
        self._stamps.pop(sha256, None)

    def _evict(self, room: int) -> None:
        """Evict least recently used blobs until ``room`` more bytes fit."""
        total = self.total_bytes
        if total + room <= self.max_bytes:
            return
        for sha in self.lru_order():
            if total + room <= self.max_bytes:
                break
            total -= self._sizes[sha]
            self.evictions += 1
            log.debug("cache: evicting %s (%d bytes)", sha[:12], self._sizes[sha])
            self.discard(sha)
