"""What the worker core and its slot threads hand each other: frozen records only.

The core hands a slot a :class:`WorkItem` (a copy of what one lease needs to run; the
core's own ``Lease`` never leaves it); the agent adds the program and shared input bytes
(:class:`SlotWork`). A slot reports back with one :class:`SlotEvent` per step; the agent
passes each to the matching core method (:func:`deliver`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..outcome import OutcomeRecord

if TYPE_CHECKING:
    from .state import Action, WorkerCore

LeaseKey = tuple[int, int]   # (fragment_id, attempt)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One lease to run, as the core started it."""

    key: LeaseKey
    job_id: str
    index: int
    program_sha256: str
    shared_sha256: str
    cpu_s: float
    wall_s: float
    max_output_bytes: int
    input: bytes


@dataclass(frozen=True, slots=True)
class SlotWork:
    """A work item with its program and shared input (verified blobs)."""

    item: WorkItem
    program: bytes
    shared: bytes


@dataclass(frozen=True, slots=True)
class ChunkReady:
    """Compressed raw chunk ``seq`` of the result of ``key``."""

    key: LeaseKey
    seq: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class RunEnded:
    """The run of ``key`` succeeded: ``chunks`` chunks in all, ``last`` the final one."""

    key: LeaseKey
    chunks: int
    sha256: str
    size: int
    outcome: OutcomeRecord
    last: bytes


@dataclass(frozen=True, slots=True)
class RunFailed:
    """The run of ``key`` failed in the sandbox (chunks already sent are void)."""

    key: LeaseKey
    outcome: OutcomeRecord


@dataclass(frozen=True, slots=True)
class SlotGaveUp:
    """The slot could not run ``key`` at all (our side's failure): hand it back unrun."""

    key: LeaseKey
    reason: str


SlotEvent = ChunkReady | RunEnded | RunFailed | SlotGaveUp


def deliver(core: WorkerCore, event: SlotEvent, now: float) -> list[Action]:
    """The core's actions for one slot event."""
    if isinstance(event, ChunkReady):
        return core.chunk(event.key, event.seq, event.blob, now)
    if isinstance(event, RunEnded):
        return core.end(event.key, event.chunks, event.sha256, event.size, event.outcome,
                        event.last, now)
    if isinstance(event, RunFailed):
        return core.failure(event.key, event.outcome, now)
    return core.slot_gave_up(event.key, event.reason, now)
