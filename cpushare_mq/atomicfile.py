"""Replace a file so that readers see either the old one or the whole new one.

One rule for every file the project writes whole (results, keys, the dashboard address, the
service unit, cached blobs): write a temporary file in the same directory (created
exclusively, never through a symbolic link), optionally fsync it, then rename it over the
target. On failure the temporary file is removed and the ``OSError`` raised; callers convert
it to their own error with ``raise ... from``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["replace_file"]


def replace_file(path: Path | str, data: bytes | Iterable[bytes], *, mode: int | None = None,
                 sync: bool = False, tmp: Path | str | None = None) -> int:
    """Write ``data`` (bytes, or chunks of bytes) to ``path``; returns the size written.
    ``mode``: the file's exact permissions (default: 0o666 less the umask); ``sync``: fsync
    before the rename; ``tmp``: the temporary file's path (default ``.NAME.tmp-PID`` beside
    ``path``)."""
    path = Path(path)
    tmp = Path(tmp) if tmp is not None else path.with_name(f".{path.name}.tmp-{os.getpid()}")
    chunks = (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data
    size = 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                     0o666 if mode is None else mode)
        try:
            if mode is not None:
                os.fchmod(fd, mode)                  # exact, whatever the umask
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
                size += len(chunk)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    return size
