"""Who may look: the dashboard's address, its secret token and the ``<db>.web`` file.

The dashboard listens on loopback unless told otherwise. Every request must carry the token
(``?token=...``, the ``cpushare_dashboard`` cookie that a page with the token sets, or
``Authorization: Bearer ...``); anything else gets 401. The token is made fresh at each
start (``secrets.token_urlsafe``) and written with the full URL into ``<db>.web``, created
owner-only (0600) so only the hub's owner can read it.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass

from ...atomicfile import replace_file
from ...errors import ConfigError

COOKIE = "cpushare_dashboard"
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class WebAddress:
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_web_address(text: str) -> WebAddress:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` (loopback); port 0 = any free port."""
    s = str(text).strip()
    host, sep, port = s.rpartition(":")
    if not sep:
        host, port = "", s
    host = host.strip("[]") or DEFAULT_HOST
    try:
        n = int(port)
    except ValueError:
        raise ConfigError(f"--web {text!r}: expected HOST:PORT (e.g. 127.0.0.1:8080), "
                          f"the port is not a number") from None
    if not 0 <= n <= 65535:
        raise ConfigError(f"--web {text!r}: port {n} out of range 0..65535")
    return WebAddress(host, n)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_ok(expected: str, offered: str | None) -> bool:
    """Constant-time comparison; an absent or empty token never matches."""
    if not offered or not expected:
        return False
    return hmac.compare_digest(expected.encode(), offered.encode())


def offered_token(query: dict, cookies: dict, authorization: str | None) -> str | None:
    """The token a request carries, from wherever it is (query, cookie, bearer header)."""
    if query.get("token"):
        return query["token"]
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return cookies.get(COOKIE)


def base_url(host: str, port: int) -> str:
    h = f"[{host}]" if ":" in host else host
    return f"http://{h}:{port}"


def web_file(db_path: str) -> str:
    return f"{db_path}.web"


def write_web_file(db_path: str, url: str) -> str:
    """Write the URL (with its token) into ``<db>.web``, owner-only; return the path."""
    path = web_file(db_path)
    try:
        replace_file(path, (url + "\n").encode(), mode=0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write the dashboard address to {path}: {exc}") from exc
    return path


def remove_web_file(db_path: str, url: str) -> None:
    """Remove ``<db>.web`` if it still holds our URL (a newer hub may have replaced it)."""
    path = web_file(db_path)
    try:
        with open(path) as f:
            if f.read().strip() != url:
                return
        os.unlink(path)
    except OSError:
        pass
