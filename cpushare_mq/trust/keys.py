"""Key pairs and key files.

The hub has a CURVE key pair: ``DIR/hub.key`` (public + secret, owner-only, mode 0600) and
``DIR/hub.pub`` (the public key alone, one line, safe to hand to sellers). A worker has an
*identity*: its own CURVE key pair (authenticates its connection) and an Ed25519 signing key
(signs its results), kept in ``CONFIG_DIR/worker.key`` (0600) and created on first start. Its
public half is the **worker key**, the identity that reputation and bans follow::

    <CURVE public key, 40 Z85 characters>_<Ed25519 public key, 64 hex digits>

Secret key files are refused at load when group or others can read them, or when another
user owns them. Files are written atomically (temporary file + rename) with mode 0600 from
the start, in directories created with mode 0700.

Key files are plain text, ``name = value`` lines, ``#`` comments::

    # cpushare-mq hub CURVE key pair: keep this file private
    public-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
    secret-key = JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6
"""

from __future__ import annotations

import binascii
import fcntl
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import zmq
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from zmq.utils import z85

from ..atomicfile import replace_file
from ..fileperms import file_refusal
from .errors import BadWorkerKey, InsecureKeyFile, KeyFileError

log = logging.getLogger(__name__)

__all__ = [
    "CurveKeyPair", "WorkerIdentity", "WorkerKey", "HUB_SECRET_FILE", "HUB_PUBLIC_FILE",
    "WORKER_SECRET_FILE", "WORKER_PUBLIC_FILE", "generate_curve_keypair", "write_hub_keys",
    "load_hub_keys", "ensure_hub_keys", "load_or_create_worker_identity", "load_worker_identity",
    "parse_public_key", "read_public_key", "parse_worker_key", "check_secret_file",
    "default_worker_config_dir", "key_fingerprint", "IdentityClaim", "claim_worker_identity",
]

HUB_SECRET_FILE = "hub.key"
HUB_PUBLIC_FILE = "hub.pub"
WORKER_SECRET_FILE = "worker.key"
WORKER_PUBLIC_FILE = "worker.pub"
Z85_KEY_CHARS = 40
_WORKER_KEY_SEP = "_"          # not a Z85 character, not a hex digit


def _curve_key(where: str, text: str) -> bytes:
    """Validate a Z85 CURVE key (40 characters -> 32 bytes); return it as Z85 bytes."""
    text = text.strip()
    if len(text) != Z85_KEY_CHARS:
        raise KeyFileError(f"{where}: a CURVE key is {Z85_KEY_CHARS} Z85 characters, got {len(text)}")
    try:
        raw = z85.decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError, KeyError, IndexError) as exc:
        raise KeyFileError(f"{where}: not a Z85 CURVE key: {text[:8]!r}...") from exc
    if len(raw) != 32:
        raise KeyFileError(f"{where}: a CURVE key decodes to 32 bytes, got {len(raw)}")
    return text.encode("ascii")


@dataclass(frozen=True)
class CurveKeyPair:
    """A CURVE key pair, both halves as 40-character Z85 bytes (what pyzmq's sockopts take)."""

    public: bytes
    secret: bytes

    def __post_init__(self) -> None:
        pub = _curve_key("public key", self.public.decode("ascii", "replace"))
        sec = _curve_key("secret key", self.secret.decode("ascii", "replace"))
        if zmq.curve_public(sec) != pub:
            raise KeyFileError("CURVE secret key does not belong to the public key")

    def __repr__(self) -> str:   # never print the secret in logs or tracebacks
        return f"CurveKeyPair(public={self.public.decode()!r}, secret=<hidden>)"


def generate_curve_keypair() -> CurveKeyPair:
    """A fresh CURVE key pair (libzmq's generator, backed by libsodium/tweetnacl)."""
    public, secret = zmq.curve_keypair()
    return CurveKeyPair(public, secret)


def key_fingerprint(key: str | bytes) -> str:
    """A short printable fingerprint of a public key (for logs and ``cpushare status``)."""
    import hashlib
    data = key.encode() if isinstance(key, str) else key
    return hashlib.sha256(data).hexdigest()[:12]


# ---------------------------------------------------------------------------------------
# File helpers.

def _make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) with mode 0700 if missing."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise KeyFileError(f"cannot create key directory {path}: {exc.strerror or exc}") from exc


def _write_atomic(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to ``path`` via a temporary file created with ``mode`` and a rename."""
    try:
        replace_file(path, text.encode("utf-8"), mode=mode, sync=True)
    except OSError as exc:
        raise KeyFileError(f"cannot write key file {path}: {exc.strerror or exc}") from exc


def check_secret_file(path: Path | str) -> None:
    """Refuse a secret key file that group/others can access or another user owns."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"cannot stat key file {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    reason = file_refusal("key file", str(path), st.st_mode, st.st_uid, os.getuid(), 0o077)
    if reason:
        raise InsecureKeyFile(reason)


def _read_fields(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc}") from exc
    fields: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise KeyFileError(f"{path}:{n}: expected 'name = value', got {line[:40]!r}")
        fields[name.strip()] = value.strip().strip('"')
    return fields


def _field(path: Path, fields: dict[str, str], name: str) -> str:
    if name not in fields:
        raise KeyFileError(f"key file {path} has no {name!r} line")
    return fields[name]


# ---------------------------------------------------------------------------------------
# The hub's key pair.

def write_hub_keys(out_dir: Path | str, *, overwrite: bool = False,
                   keypair: CurveKeyPair | None = None) -> CurveKeyPair:
    """Create ``out_dir/hub.key`` (0600) and ``out_dir/hub.pub`` (0644); the logic behind
    ``cpushare-hub keygen --keys DIR``. Refuses to replace existing keys unless ``overwrite``."""
    out = Path(out_dir)
    _make_private_dir(out)
    secret_path, public_path = out / HUB_SECRET_FILE, out / HUB_PUBLIC_FILE
    if not overwrite and (secret_path.exists() or public_path.exists()):
        raise KeyFileError(
            f"{secret_path} already exists; refusing to replace the hub's keys (workers trust "
            "the old public key). Remove the files first to make a new pair.")
    kp = keypair or generate_curve_keypair()
    _write_atomic(secret_path,
                  "# cpushare-mq hub CURVE key pair: keep this file private (mode 0600)\n"
                  f"public-key = {kp.public.decode()}\nsecret-key = {kp.secret.decode()}\n", 0o600)
    _write_atomic(public_path, kp.public.decode() + "\n", 0o644)
    log.info("wrote hub key pair %s (public key %s)", secret_path, kp.public.decode())
    return kp


def load_hub_keys(keys_dir: Path | str) -> CurveKeyPair:
    """Load ``keys_dir/hub.key``; refused when others can read it (:class:`InsecureKeyFile`)."""
    path = Path(keys_dir) / HUB_SECRET_FILE
    check_secret_file(path)
    fields = _read_fields(path)
    public = _curve_key(f"{path}: public-key", _field(path, fields, "public-key"))
    secret = _curve_key(f"{path}: secret-key", _field(path, fields, "secret-key"))
    try:
        return CurveKeyPair(public, secret)
    except KeyFileError as exc:
        raise KeyFileError(f"{path}: {exc}") from None


def ensure_hub_keys(keys_dir: Path | str) -> tuple[CurveKeyPair, bool]:
    """Load the hub's keys from ``keys_dir``, creating them on first start.
    Returns ``(keypair, created)``."""
    path = Path(keys_dir) / HUB_SECRET_FILE
    if path.exists():
        return load_hub_keys(keys_dir), False
    return write_hub_keys(keys_dir), True


def parse_public_key(text: str, where: str = "public key") -> bytes:
    """A CURVE public key (Z85) from ``text``: a bare key, or the contents of ``hub.pub`` /
    ``hub.key`` (a ``public-key = ...`` line). Returns the 40 Z85 bytes."""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if sep and name.strip() == "public-key":
            return _curve_key(where, value.strip().strip('"'))
        if sep and len(line) != Z85_KEY_CHARS:   # a key may itself contain '='
            continue
        return _curve_key(where, line)
    raise KeyFileError(f"{where}: no CURVE public key found")


def read_public_key(key_or_file: str) -> bytes:
    """``--hub-key KEY_OR_FILE``: a 40-character Z85 key, or a path to a file holding one."""
    candidate = key_or_file.strip()
    if len(candidate) == Z85_KEY_CHARS and not os.path.exists(candidate):
        return _curve_key("--hub-key", candidate)
    path = Path(key_or_file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(
            f"--hub-key {key_or_file!r}: neither a 40-character Z85 key nor an existing file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"--hub-key: cannot read {path}: {exc}") from exc
    return parse_public_key(text, where=str(path))


# ---------------------------------------------------------------------------------------
# Worker identity.

@dataclass(frozen=True)
class WorkerKey:
    """The public half of a worker identity, parsed from its wire/text form."""

    curve_public: bytes       # Z85, 40 bytes
    sign_public: bytes        # raw Ed25519 public key, 32 bytes

    @property
    def text(self) -> str:
        return f"{self.curve_public.decode()}{_WORKER_KEY_SEP}{self.sign_public.hex()}"

    def __str__(self) -> str:
        return self.text


def parse_worker_key(text: str) -> WorkerKey:
    """Parse ``<curve Z85>_<ed25519 hex>``; :class:`BadWorkerKey` names what is wrong."""
    if type(text) is not str:
        raise BadWorkerKey(f"worker key must be a string, got {type(text).__name__}")
    curve, sep, sign = text.partition(_WORKER_KEY_SEP)
    if not sep:
        raise BadWorkerKey(f"worker key {text[:60]!r} is not '<curve key>_<signing key>'")
    try:
        curve_b = _curve_key("worker key (CURVE part)", curve)
    except KeyFileError as exc:
        raise BadWorkerKey(str(exc)) from None
    if len(sign) != 64:
        raise BadWorkerKey(f"worker key: signing part must be 64 hex digits, got {len(sign)} characters")
    try:
        sign_b = bytes.fromhex(sign)
    except ValueError:
        raise BadWorkerKey("worker key: signing part is not hexadecimal") from None
    return WorkerKey(curve_b, sign_b)


@dataclass(frozen=True)
class WorkerIdentity:
    """A worker's secrets: CURVE key pair (connection) and Ed25519 key (result signatures)."""

    curve: CurveKeyPair
    sign_seed: bytes          # 32-byte Ed25519 private key

    def __post_init__(self) -> None:
        if len(self.sign_seed) != 32:
            raise KeyFileError(f"Ed25519 signing key must be 32 bytes, got {len(self.sign_seed)}")

    def __repr__(self) -> str:
        return f"WorkerIdentity(worker_key={self.worker_key!r}, secrets=<hidden>)"

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.sign_seed)

    @property
    def sign_public(self) -> bytes:
        return self.signing_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key(self) -> WorkerKey:
        return WorkerKey(self.curve.public, self.sign_public)

    @property
    def worker_key(self) -> str:
        """The text sent as ``HELLO.worker_key`` (identity across reconnects and restarts)."""
        return self.key.text

    @classmethod
    def generate(cls) -> WorkerIdentity:
        return cls(generate_curve_keypair(), os.urandom(32))


def default_worker_config_dir() -> Path:
    """``$XDG_CONFIG_HOME/cpushare-worker`` (default ``~/.config/cpushare-worker``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "cpushare-worker"


def load_worker_identity(config_dir: Path | str) -> WorkerIdentity:
    """Load ``config_dir/worker.key``; refused when others can read it."""
    path = Path(config_dir) / WORKER_SECRET_FILE
    check_secret_file(path)
    fields = _read_fields(path)
    public = _curve_key(f"{path}: curve-public", _field(path, fields, "curve-public"))
    secret = _curve_key(f"{path}: curve-secret", _field(path, fields, "curve-secret"))
    sign_hex = _field(path, fields, "sign-secret")
    try:
        seed = binascii.unhexlify(sign_hex)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{path}: sign-secret is not hexadecimal") from None
    try:
        return WorkerIdentity(CurveKeyPair(public, secret), seed)
    except KeyFileError as exc:
        raise KeyFileError(f"{path}: {exc}") from None


def load_or_create_worker_identity(config_dir: Path | str | None = None) -> tuple[WorkerIdentity, bool]:
    """The worker's identity from ``config_dir`` (default :func:`default_worker_config_dir`),
    created on first start. Returns ``(identity, created)``."""
    cfg = Path(config_dir) if config_dir is not None else default_worker_config_dir()
    path = cfg / WORKER_SECRET_FILE
    if path.exists():
        return load_worker_identity(cfg), False
    _make_private_dir(cfg)
    ident = WorkerIdentity.generate()
    _write_atomic(path,
                  "# cpushare-mq worker identity: keep this file private (mode 0600).\n"
                  "# Its public half (worker.pub) is how hubs know this worker: reputation and\n"
                  "# bans follow it across reconnects and restarts.\n"
                  f"curve-public = {ident.curve.public.decode()}\n"
                  f"curve-secret = {ident.curve.secret.decode()}\n"
                  f"sign-secret = {ident.sign_seed.hex()}\n", 0o600)
    _write_atomic(cfg / WORKER_PUBLIC_FILE, ident.worker_key + "\n", 0o644)
    log.info("created worker identity %s (key %s)", path, ident.worker_key)
    return ident, True


WORKER_LOCK_FILE = "worker.lock"


@dataclass
class IdentityClaim:
    """A worker process's hold on its identity directory (see :func:`claim_worker_identity`).
    Keep it for the life of the process: the lock ends with it."""

    identity: WorkerIdentity
    created: bool
    shared: bool          # another running worker process uses the same identity
    directory: Path
    lock_fd: int

    def release(self) -> None:
        if self.lock_fd >= 0:
            os.close(self.lock_fd)
            self.lock_fd = -1


def claim_worker_identity(config_dir: Path | str | None = None) -> IdentityClaim:
    """Load or create the identity in ``config_dir`` while holding ``worker.lock``.

    Every running worker holds the lock shared; the first one holds it exclusively while it
    creates the identity, so workers started together never make different keys in one
    directory. ``shared`` tells whether another worker process already uses this identity:
    hubs count every worker of one identity as ONE seller (votes and spot checks need
    distinct sellers), which a seller running several processes should know."""
    cfg = Path(config_dir) if config_dir is not None else default_worker_config_dir()
    _make_private_dir(cfg)
    try:
        fd = os.open(cfg / WORKER_LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
    except OSError as exc:
        raise KeyFileError(f"cannot open {cfg / WORKER_LOCK_FILE}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shared = False
        except BlockingIOError:
            shared = True
            fcntl.flock(fd, fcntl.LOCK_SH)
        ident, created = load_or_create_worker_identity(cfg)
        if not shared:
            fcntl.flock(fd, fcntl.LOCK_SH)
    except BaseException:
        os.close(fd)
        raise
    return IdentityClaim(ident, created, shared, cfg, fd)
