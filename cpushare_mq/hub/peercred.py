"""Who is on the other end of the buyer's Unix socket.

The socket file is created owner-only (0600), so the kernel already keeps other users out;
this is the second lock, for a socket whose file mode was widened (a umask, a shared folder,
a ``chmod``): the hub asks the kernel for the connecting process's uid (``SO_PEERCRED``) and
serves only its own user and root.
"""

from __future__ import annotations

import os
import socket
import struct

__all__ = ["peer_uid", "refusal_for_uid"]

_UCRED = struct.Struct("3i")      # struct ucred: pid, uid, gid


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process that connected ``sock`` (a Unix stream socket), or None for
    other kinds of socket."""
    if sock.family != socket.AF_UNIX:
        return None
    _pid, uid, _gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                     _UCRED.size))
    return uid


def refusal_for_uid(uid: int | None, hub_uid: int | None = None) -> str | None:
    """Why a peer of ``uid`` may not use the hub's buyer socket, or None if it may."""
    hub_uid = os.getuid() if hub_uid is None else hub_uid
    if uid is None or uid in (hub_uid, 0):
        return None
    return (f"this hub's buyer socket serves uid {hub_uid} only, and this process runs as uid "
            f"{uid}: run the command as the hub's user")
