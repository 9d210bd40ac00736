"""Who may own a file the project relies on, and what others may do with it: the one rule
behind refusing a hub database (hub/dbfile.py) or a secret key file (trust/keys.py)."""

from __future__ import annotations

import stat

__all__ = ["file_refusal"]


def file_refusal(what: str, path: str, mode: int, owner_uid: int, my_uid: int,
                 forbidden: int) -> str | None:
    """Why a file this process relies on (the hub database, a secret key) must not be used:
    another user owns it, or group/others hold a ``forbidden`` permission bit. None: it may.
    The one owner-and-mode rule for the files the project refuses."""
    if owner_uid != my_uid:
        return (f"{what} {path} is owned by uid {owner_uid}, not by this user ({my_uid}); "
                f"refusing to use it (fix: run as its owner, or chown {my_uid} {path})")
    if mode & forbidden:
        can = "write" if not forbidden & 0o044 else "access"
        return (f"{what} {path} has mode {stat.S_IMODE(mode):04o}: group/others can {can} "
                f"it; refusing to use it (fix: chmod 600 {path})")
    return None
