"""Who may connect: a ZAP handler (ZeroMQ RFC 27) with an allow-list and a ban list, and
helpers that put CURVE on a socket.

libzmq asks the ZAP handler of the socket's *context* about every CURVE handshake on a
server socket. :class:`ZapHandler` answers from a :class:`KeyPolicy`: admit any worker key
(default) or only those on an allow-list, and never a banned one. An admitted peer's CURVE
public key (Z85) becomes the ``User-Id`` property of every message it sends, which
:func:`peer_curve_key` reads, so the hub can tie ``HELLO.worker_key`` to the key that
actually authenticated.

One ZAP handler per context: give the hub's ROUTER its own ``zmq.Context``.

Key list files (``--allow-workers FILE``, the ban list): one key per line, ``#`` starts a
comment; a line may hold a bare CURVE public key (40 Z85 characters) or a full worker key
(``<curve>_<signing hex>``, as in the worker's ``worker.pub``), optionally followed by
whitespace and a note.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import zmq
from zmq.utils import z85

from ..hub.admission import HANDSHAKE_LIMITS, Admission
from ..logthrottle import LogThrottle
from .errors import KeyFileError
from .keys import Z85_KEY_CHARS, CurveKeyPair, _curve_key, _write_atomic

log = logging.getLogger(__name__)

__all__ = ["KeyPolicy", "ZapHandler", "ZAP_ENDPOINT", "DEFAULT_DOMAIN", "curve_key_of",
           "read_key_list", "write_key_list", "make_curve_server", "make_curve_client",
           "peer_curve_key", "default_ban_file",
           "describe_handshake_failure"]

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
DEFAULT_DOMAIN = "cpushare"


def curve_key_of(text: str) -> str:
    """The CURVE public key (Z85 text) of a bare key or a full worker key."""
    text = text.strip()
    curve = text.split("_", 1)[0] if "_" in text else text
    return _curve_key("key", curve).decode("ascii")


def read_key_list(path: Path | str) -> set[str]:
    """Read an allow/ban list file: a set of CURVE public keys (Z85 text)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(f"key list {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read key list {path}: {exc}") from exc
    keys: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        token = line.split()[0]
        try:
            keys.add(curve_key_of(token))
        except KeyFileError as exc:
            raise KeyFileError(f"{path}:{n}: {exc}") from None
    return keys


def write_key_list(path: Path | str, keys: dict[str, str] | Iterable[str], header: str = "") -> None:
    """Write a key list atomically (mode 0600); ``keys`` may map key -> note."""
    items = keys.items() if isinstance(keys, dict) else ((k, "") for k in keys)
    lines = [f"# {header}"] if header else []
    for key, note in sorted(items):
        note = " ".join(str(note).split())[:200]
        lines.append(f"{key}  {note}".rstrip())
    _write_atomic(Path(path), "\n".join(lines) + "\n", 0o600)


class KeyPolicy:
    """Which CURVE keys may connect: any (``allow=None``) or an allow-list, minus bans.
    Thread-safe: the ZAP thread reads it while the hub bans keys."""

    def __init__(self, allow: Iterable[str] | None = None, banned: Iterable[str] = (),
                 *, ban_file: Path | str | None = None):
        self._lock = threading.Lock()
        self._allow = None if allow is None else {curve_key_of(k) for k in allow}
        self._banned: dict[str, str] = {curve_key_of(k): "" for k in banned}
        self._ban_file = Path(ban_file) if ban_file is not None else None
        if self._ban_file is not None and self._ban_file.exists():
            for k in read_key_list(self._ban_file):
                self._banned.setdefault(k, "")

    @classmethod
    def from_files(cls, allow_file: Path | str | None = None,
                   ban_file: Path | str | None = None) -> KeyPolicy:
        """An allow-list from ``allow_file`` (None = admit any key) and persistent bans kept
        in ``ban_file`` (read if it exists, rewritten on every ban)."""
        allow = read_key_list(allow_file) if allow_file is not None else None
        return cls(allow, ban_file=ban_file)

    def admits(self, key: str) -> tuple[bool, str]:
        """``(True, "")`` or ``(False, reason)`` for a CURVE public key (Z85 text)."""
        with self._lock:
            if key in self._banned:
                return False, "key is banned"
            if self._allow is not None and key not in self._allow:
                return False, "key is not on the allow-list"
            return True, ""

    def is_banned(self, key: str) -> bool:
        try:
            curve = curve_key_of(key)
        except KeyFileError:
            return False
        with self._lock:
            return curve in self._banned

    def set_allow(self, allow: Iterable[str] | None) -> None:
        """Replace the allow-list (None = admit any key that is not banned)."""
        new = None if allow is None else {curve_key_of(k) for k in allow}
        with self._lock:
            self._allow = new

    @property
    def allow_any(self) -> bool:
        return self._allow is None

    def banned(self) -> dict[str, str]:
        with self._lock:
            return dict(self._banned)

    def ban(self, key: str, reason: str = "") -> bool:
        """Ban a key (bare CURVE key or full worker key). Returns True if it was new.
        Persists the list when a ban file is configured."""
        curve = curve_key_of(key)
        with self._lock:
            new = curve not in self._banned
            self._banned[curve] = reason
            snapshot = dict(self._banned)
        if new:
            log.warning("banned worker key %s: %s", curve, reason or "no reason given")
            if self._ban_file is not None:
                write_key_list(self._ban_file, snapshot, "cpushare-mq banned worker keys")
        return new

    def unban(self, key: str) -> bool:
        curve = curve_key_of(key)
        with self._lock:
            gone = self._banned.pop(curve, None) is not None
            snapshot = dict(self._banned)
        if gone and self._ban_file is not None:
            write_key_list(self._ban_file, snapshot, "cpushare-mq banned worker keys")
        return gone


class ZapHandler:
    """A ZAP request handler on ``inproc://zeromq.zap.01`` of ``context``, in its own thread.

    CURVE handshakes are answered from ``policy``; NULL-mechanism requests (plain TCP on a
    socket with a ZAP domain) only when ``allow_null``. Handshakes are rate-limited per peer
    address and per CURVE key (``admission``, default :data:`HANDSHAKE_LIMITS`): one over
    the limit gets status 300, a temporary failure (libzmq reconnects by itself). Use as a
    context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, context: zmq.Context, policy: KeyPolicy | None = None, *,
                 allow_null: bool = False, poll_ms: int = 100,
                 admission: Admission | None = None):
        self.context = context
        self.policy = policy or KeyPolicy()
        self.admission = admission or Admission(HANDSHAKE_LIMITS)
        self.allow_null = allow_null
        self._poll_ms = poll_ms
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.admitted = 0
        self.refused = 0
        self._log_throttle = LogThrottle()

    def start(self) -> ZapHandler:
        """Bind the ZAP endpoint and serve; returns once bound (before any server binds)."""
        self._thread = threading.Thread(target=self._run, name="zap-handler", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise KeyFileError(f"cannot start the ZAP handler: {self._error}") from self._error
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def __enter__(self) -> ZapHandler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            sock = self.context.socket(zmq.REP)
            sock.linger = 0
            sock.maxmsgsize = 64 << 10       # a ZAP request is a few small frames
            sock.bind(ZAP_ENDPOINT)
        except zmq.ZMQError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                if not sock.poll(self._poll_ms):
                    continue
                try:
                    request = sock.recv_multipart()
                except zmq.ZMQError as exc:   # context terminated
                    log.debug("ZAP handler: recv failed: %s", exc)
                    break
                sock.send_multipart(self._answer(request))
        finally:
            sock.close(0)

    def _answer(self, frames: list[bytes]) -> list[bytes]:
        """One ZAP reply (never raises: a malformed request gets a 500)."""
        if len(frames) < 6:
            return [b"1.0", b"", b"500", b"malformed ZAP request", b"", b""]
        version, request_id, domain, address, _routing_id, mechanism = frames[:6]
        credentials = frames[6:]
        peer = address.decode("ascii", "replace")

        def reply(code: bytes, text: str, user: bytes = b"") -> list[bytes]:
            return [b"1.0", request_id, code, text.encode(), user, b""]

        if version != b"1.0":
            return reply(b"500", "unsupported ZAP version")
        if mechanism == b"CURVE":
            if len(credentials) != 1 or len(credentials[0]) != 32:
                self.refused += 1
                return reply(b"400", "bad CURVE credentials")
            key = z85.encode(credentials[0]).decode("ascii")
            busy = self.admission.refusal("handshake", peer, key, time.monotonic())
            if busy is not None:
                self.refused += 1
                self._warn("rate", f"ZAP: refused a handshake: {busy}")
                return reply(b"300", busy)
            ok, why = self.policy.admits(key)
            if ok:
                self.admitted += 1
                log.debug("ZAP: admitted %s from %s", key, peer)
                return reply(b"200", "OK", key.encode("ascii"))
            self.refused += 1
            self._warn("key", f"ZAP: refused worker key {key} from {peer}: {why}")
            return reply(b"400", why)
        if mechanism == b"NULL" and self.allow_null:
            busy = self.admission.refusal("handshake", peer, None, time.monotonic())
            if busy is not None:
                self.refused += 1
                self._warn("rate", f"ZAP: refused a handshake: {busy}")
                return reply(b"300", busy)
            self.admitted += 1
            return reply(b"200", "OK", b"")
        self.refused += 1
        self._warn("mechanism", f"ZAP: refused {mechanism.decode('ascii', 'replace')} connection "
                   f"from {peer} (domain {domain.decode('ascii', 'replace')!r}): CURVE required")
        return reply(b"400", "CURVE required")

    def _warn(self, kind: str, message: str) -> None:
        """A refusal at WARNING, at most one per kind a minute (the rest counted)."""
        line = self._log_throttle.line(kind, message, time.monotonic())
        if line is not None:
            log.warning("%s", line)


def make_curve_server(sock: zmq.Socket, keypair: CurveKeyPair, domain: str = DEFAULT_DOMAIN) -> None:
    """Make ``sock`` a CURVE server with the hub's key pair (call before ``bind``)."""
    sock.curve_secretkey = keypair.secret
    sock.curve_publickey = keypair.public
    sock.curve_server = True
    sock.zap_domain = domain.encode()


def make_curve_client(sock: zmq.Socket, keypair: CurveKeyPair, server_public: bytes) -> None:
    """Make ``sock`` a CURVE client that only talks to a server holding ``server_public``'s
    secret (call before ``connect``)."""
    if len(server_public) != Z85_KEY_CHARS:
        raise KeyFileError("hub public key must be 40 Z85 characters")
    sock.curve_secretkey = keypair.secret
    sock.curve_publickey = keypair.public
    sock.curve_serverkey = server_public


def peer_curve_key(frame: zmq.Frame) -> str | None:
    """The authenticated CURVE key (Z85 text) of the peer that sent ``frame`` (received with
    ``copy=False``), or None on a plain connection."""
    try:
        user = frame.get("User-Id")
    except (zmq.ZMQError, AttributeError, UnicodeDecodeError):
        return None
    return user or None


def default_ban_file(keys_dir: Path | str) -> Path:
    """Where the hub keeps its persistent ban list: ``KEYS_DIR/banned-workers``."""
    return Path(keys_dir) / "banned-workers"



def describe_handshake_failure(event: int, value: int) -> str | None:
    """A clear message for a failed handshake seen on a client's socket monitor (``event``
    and ``value`` from :func:`zmq.utils.monitor.parse_monitor_message`), or None."""
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH and value == 300:
        return ("the hub is limiting handshakes from this address or key (ZAP status 300: too "
                "many connections in a short time); retrying")
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        return (f"the hub refused this worker's key (ZAP status {value}): it is not on the hub's "
                "allow-list, or it is banned")
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL and value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
        return ("handshake with the hub failed: the hub runs --insecure (plain TCP) and this worker "
                "uses CURVE (--hub-key); start the worker with --insecure instead of --hub-key, or "
                "the hub without --insecure")
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL and value == zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
        return ("CURVE handshake with the hub failed: wrong --hub-key (use the hub's hub.pub, or "
                "the key it prints at start, quoted as printed)")
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        return ("CURVE handshake with the hub failed (protocol error "
                f"{value:#x}): wrong --hub-key, or the hub is not using CURVE")
    if event == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        return ("handshake with the hub failed: wrong --hub-key, or the hub runs --insecure "
                "while this worker uses CURVE (or the other way round)")
    return None
