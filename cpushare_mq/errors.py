"""The project's exceptions: one base class, one subclass per kind of failure.

Every error raised by cpushare-mq code derives from :class:`CpushareError`, so an
embedding program can catch them all with one clause. Errors from libraries (zmq,
sqlite3, zstandard, OSError) are converted at the boundary with ``raise ... from exc``.
Subsystems may define narrower subclasses next to their code; they must derive from one
of these.
"""

from __future__ import annotations


class CpushareError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(CpushareError):
    """Raised when a command-line option, configuration value or environment variable is
    invalid (bad address, negative limit, unreadable key file, ...)."""


class NativeBuildError(CpushareError):
    """Raised when a compiled part (the loader, a C program) is missing and cannot be built,
    e.g. because no C compiler is installed."""


class ProtocolError(CpushareError):
    """Raised when bytes received from a peer are not a valid message of the wire protocol:
    bad framing, unknown type, wrong field types, oversize, or another protocol version."""


class VersionMismatch(ProtocolError):
    """Raised when the peer speaks another protocol version than ours."""


class DecompressionError(ProtocolError):
    """Raised when compressed data from a peer is corrupt or would expand beyond its cap
    (a decompression bomb)."""


class StoreError(CpushareError):
    """Raised when the hub's SQLite store cannot read or write (disk full, read-only
    directory, corrupt or too new schema). Nothing is acknowledged that was not stored."""


class SchedulingError(CpushareError):
    """Raised when a request to the scheduler is invalid: an unknown job, an illegal
    fragment state transition, a bad job specification."""


class IllegalTransition(SchedulingError):
    """Raised when a fragment state change is not in the table of allowed transitions."""


class UnknownJob(SchedulingError):
    """Raised when a job id names no job in the store."""


class SandboxError(CpushareError):
    """Raised when the sandbox cannot be set up at all (loader missing, pipe creation
    failed). A misbehaving *program* is not an error: it is an outcome record."""


class BadProgram(SandboxError):
    """Raised when a program is refused before it starts: not a loadable static x86-64 ELF,
    or it asks for more memory than the seller's cap."""


class BuyerApiError(CpushareError):
    """Raised by the buyer client when the hub answers a request with an error, or the
    local API connection breaks."""


class SceneError(CpushareError):
    """Raised when a POV-Ray scene cannot be parsed or uses an unsupported feature."""


class SandboxClosed(SandboxError):
    """Raised by :meth:`cpushare_mq.sandbox.Sandbox.run` when :meth:`Sandbox.close` was
    called (e.g. from another thread while the fragment was running): the run was aborted
    by the seller's side, so there is no outcome to report for it."""


class ImageError(CpushareError):
    """Raised when an image file cannot be read (not a PNG, an unsupported PNG variant,
    corrupt data) or two images cannot be compared (different sizes)."""


class TileError(CpushareError):
    """Raised for an invalid render tile (bad magic, version or size, a rectangle outside
    the image) and for a tile result that does not match its tile."""
