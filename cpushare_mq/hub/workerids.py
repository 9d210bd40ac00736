"""Worker session ids: one per worker key, reused when the key comes back (issue 14: every
HELLO made a new id, hence a new row in the ``workers`` table: 3,000 HELLOs, 3,000 rows).

A session's id is ``w-`` and the first 12 hex digits of the key's SHA-256; a second session
of the same key connected at the same time (several worker processes sharing one identity,
which count as one seller) gets ``-2``, a third ``-3``, and so on: the smallest one not in
use. So the rows of one key are at most the most sessions it ever had at once, and a
reconnecting worker writes its old row again. Workers without a key (on an ``--insecure``
hub) share the ids of the empty key the same way. Pure: the caller says which ids are taken.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

__all__ = ["worker_id_for"]

#: more sessions of one key at once than any honest machine runs (the hub refuses more)
MAX_SESSIONS_PER_KEY = 4096


def worker_id_for(key: str, taken: Callable[[str], bool]) -> str | None:
    """The id of a new session of ``key``: the first of ``w-<hash>``, ``w-<hash>-2``, ...
    that is not ``taken``; None when :data:`MAX_SESSIONS_PER_KEY` are taken."""
    base = "w-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    for n in range(1, MAX_SESSIONS_PER_KEY + 1):
        wid = base if n == 1 else f"{base}-{n}"
        if not taken(wid):
            return wid
    return None
