"""Where a buyer socket is: the one parser of its address, for the hub (bind) and the client
(connect). ``unix:PATH`` or a plain path is a Unix stream socket; ``tcp://HOST:PORT`` must be
a loopback address: its only authentication is a token (buyer_token.py), not encryption. No I/O."""

from __future__ import annotations

import ipaddress
import os

from .errors import ConfigError

__all__ = ["parse_address", "default_address", "MAX_UNIX_PATH_BYTES"]

#: sockaddr_un's sun_path holds 108 bytes including the terminating NUL
MAX_UNIX_PATH_BYTES = 107
_FORMS = "unix:PATH, a socket path, or tcp://127.0.0.1:PORT"


def default_address(db_path: str | os.PathLike) -> str:
    """The buyer socket of a hub whose database is ``db_path``."""
    return f"unix:{os.fspath(db_path)}.sock"


def parse_address(address: str) -> tuple[str, str | tuple[str, int]]:
    """``"unix:PATH"`` / ``PATH`` -> ("unix", PATH); ``"tcp://HOST:PORT"`` -> ("tcp", (HOST, PORT)).
    Raises :class:`ConfigError` naming what is wrong and the forms that work."""
    if not isinstance(address, str) or not address.strip():
        raise ConfigError(f"buyer API address is empty: give {_FORMS}")
    if address.startswith("tcp://"):
        return "tcp", _tcp(address)
    if "://" in address:
        raise ConfigError(f"bad buyer API address {address!r}: use {_FORMS}")
    path = address[len("unix:"):] if address.startswith("unix:") else address
    if not path:
        raise ConfigError(f"bad buyer API address {address!r}: empty socket path")
    if len(os.fsencode(path)) > MAX_UNIX_PATH_BYTES:
        raise ConfigError(f"Unix socket path {path!r} is longer than {MAX_UNIX_PATH_BYTES} bytes; "
                          "use a shorter path")
    return "unix", path


def _tcp(address: str) -> tuple[str, int]:
    host, sep, port_s = address[len("tcp://"):].rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_s.isdigit() or int(port_s) > 65535:
        raise ConfigError(f"bad buyer API address {address!r}: expected tcp://127.0.0.1:PORT")
    if host != "localhost":
        try:
            ip = ipaddress.ip_address(host)
        except ValueError as exc:
            raise ConfigError(f"bad buyer API address {address!r}: {host!r} is not an IP address") from exc
        if not ip.is_loopback:
            raise ConfigError(f"buyer API address {address!r} is not loopback: the buyer socket "
                              "is not encrypted, bind it to 127.0.0.1 or use a Unix socket")
    return host, int(port_s)
