"""The buyer API's secret token: what lets a client use the hub's buyer socket over TCP.

A Unix socket knows who connects (0600 file plus ``SO_PEERCRED``, ``hub/peercred.py``); a
loopback TCP port does not: any local user can connect. So a hub serving its buyer API on
``tcp://127.0.0.1:PORT`` creates a random token in a file beside its database
(:func:`token_path`: ``hub.db`` -> ``hub.db.api-token``, mode 0600, kept across restarts)
and admits a TCP connection only if its HELLO carries that token (compared in constant time,
:func:`token_refusal`). Clients read the file: ``--api-token FILE`` on the buyer's commands,
``Client(..., token_file=FILE)``, or ``$CPUSHARE_API_TOKEN`` (the file's path) for all of
them, the C client included.

The hub refuses a token file that another user owns or that group/others may access, like a
secret key (``fileperms.file_refusal``).
"""

from __future__ import annotations

import hmac
import os
import secrets

from .errors import ConfigError
from .fileperms import file_refusal

__all__ = ["ENV_VAR", "token_path", "ensure_token", "read_token", "token_refusal",
           "resolve_token_file"]

#: environment variable naming the token file (read by every client)
ENV_VAR = "CPUSHARE_API_TOKEN"
#: random bytes in a token (written as hex)
TOKEN_BYTES = 32
#: longest token file read (a token is 64 hex digits and a newline)
MAX_TOKEN_FILE_BYTES = 4096


def token_path(db_path: str | os.PathLike) -> str:
    """The token file of a hub whose database is ``db_path``."""
    return f"{os.fspath(db_path)}.api-token"


def ensure_token(path: str) -> str:
    """The hub's token: read from ``path``, or created there (0600) if missing. Raises
    :class:`ConfigError` for a file another user owns, that group/others may access, or
    that holds no token."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        _check_owner_and_mode(path)
        return read_token(path)
    except OSError as exc:
        raise ConfigError(f"cannot create the buyer API token file {path}: "
                          f"{exc.strerror or exc}") from exc
    token = secrets.token_hex(TOKEN_BYTES)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (token + "\n").encode())
    except OSError as exc:
        raise ConfigError(f"cannot write the buyer API token file {path}: "
                          f"{exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    return token


def _check_owner_and_mode(path: str) -> None:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ConfigError(f"cannot stat the buyer API token file {path}: "
                          f"{exc.strerror or exc}") from exc
    reason = file_refusal("buyer API token file", path, st.st_mode, st.st_uid, os.getuid(), 0o077)
    if reason:
        raise ConfigError(reason)


def read_token(path: str | os.PathLike) -> str:
    """The token in ``path`` (a client reads it before it connects). Raises
    :class:`ConfigError` naming the file and what to do."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_TOKEN_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the buyer API token file {path}: {exc.strerror or exc} "
                          "(it is the hub's DATABASE.api-token, readable by the hub's user "
                          "only)") from exc
    token = data.strip().decode("ascii", "replace")
    if not token or len(data) > MAX_TOKEN_FILE_BYTES or any(c.isspace() for c in token):
        raise ConfigError(f"{path} holds no buyer API token (expected one line of hex digits, "
                          "as the hub writes it to DATABASE.api-token)")
    return token


def token_refusal(expected: str, presented: str, token_file: str) -> str | None:
    """Why a TCP buyer connection presenting ``presented`` is refused (None: it is admitted).
    Constant-time: the comparison takes as long whatever the bytes."""
    if hmac.compare_digest(expected.encode(), presented.encode()):
        return None
    fix = (f"give the client the token file {token_file} (cpushare --api-token FILE, or "
           f"{ENV_VAR}=FILE)")
    if not presented:
        return f"the buyer API over TCP needs the hub's token and none was given: {fix}"
    return f"wrong buyer API token: {fix}"


def resolve_token_file(explicit: str | os.PathLike | None) -> str | None:
    """The token file a client uses: ``explicit``, else ``$CPUSHARE_API_TOKEN``, else None."""
    if explicit:
        return os.fspath(explicit)
    return os.environ.get(ENV_VAR) or None
