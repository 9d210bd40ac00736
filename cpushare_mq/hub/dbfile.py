"""Who may own and write the hub's database file (issue 14, item 8).

The database holds every job, result and the trust ledger; a file another user owns, or that
group or others may write, lets that user rewrite results or the ledger under the hub. The
hub refuses such a file at start with one line naming the fix; a file others may only *read*
gets a warning (it leaks results, it cannot poison them). A pure check on ``os.stat`` fields
plus a thin shell that stats the path.
"""

from __future__ import annotations

import os

from ..errors import StoreError
from ..fileperms import file_refusal

__all__ = ["database_refusal", "check_database_file"]


def database_refusal(path: str, mode: int, owner_uid: int, my_uid: int) -> str | None:
    """Why the hub must not use a database file with this mode and owner (None: it may)."""
    return file_refusal("hub database", path, mode, owner_uid, my_uid, 0o022)


def check_database_file(path: str) -> bool:
    """Raise :class:`StoreError` for a database file the hub must refuse; return whether
    others can read it (the caller warns)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise StoreError(f"cannot stat hub database {path}: {exc.strerror or exc}") from exc
    reason = database_refusal(path, st.st_mode, st.st_uid, os.getuid())
    if reason:
        raise StoreError(reason)
    return bool(st.st_mode & 0o044)
