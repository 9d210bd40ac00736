"""What the worker core asks its I/O shell to do: frozen-shape action records, in order.

* :class:`Send` — put one protocol message on the hub socket (only emitted while a session
  is open or being opened),
* :class:`Connect` / :class:`Disconnect` — (re)create / close the hub socket,
* :class:`Run` — start a work item in a free slot; :class:`Abort` — stop a running lease,
* :class:`PauseSandboxes` / :class:`ResumeSandboxes`, :class:`Exit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..outcome import OutcomeRecord
from ..protocol import MsgType
from .slotwork import LeaseKey, WorkItem


@dataclass(slots=True)
class Send:
    type: MsgType
    body: dict = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class Connect:
    """Create a fresh hub socket (the HELLO follows as a :class:`Send`)."""


@dataclass(slots=True)
class Disconnect:
    """Close the hub socket, dropping whatever is still queued in it."""
    reason: str = ""


@dataclass(slots=True)
class Run:
    item: WorkItem     # a frozen copy: the slot never sees the core's Lease


@dataclass(slots=True)
class Abort:
    key: LeaseKey
    reason: str = ""


@dataclass(slots=True)
class PauseSandboxes:
    pass


@dataclass(slots=True)
class ResumeSandboxes:
    pass


@dataclass(slots=True)
class Exit:
    reason: str = ""


Action = Send | Connect | Disconnect | Run | Abort | PauseSandboxes | ResumeSandboxes | Exit


def outcome_dict(rec: OutcomeRecord) -> dict:
    """``rec.to_dict()`` without dataclasses.asdict's deep copies (hot path)."""
    return {"outcome": rec.outcome.value, "exit_code": rec.exit_code, "signal": rec.signal,
            "cpu_s": rec.cpu_s, "wall_s": rec.wall_s, "peak_memory_bytes": rec.peak_memory_bytes,
            "output_bytes": rec.output_bytes, "message": rec.message}
