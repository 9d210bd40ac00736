"""One message's bug costs that message, not its turn (issue 14: an error in one message cost
every message of the loop turn its acknowledgement, and a peer that can trigger one every
turn keeps the hub from acknowledging anything).

:func:`handle_isolated` runs the worker desk on each message of a turn. If one raises (a
bug: the desk answers every error it expects itself), its sender gets one ``ERROR internal`` and the turn
goes on with the other messages, provided the scheduler's indexes are still consistent
(``Scheduler.check_invariants``); if they are not, the error propagates and the turn is
rebuilt from the store as before (nothing of it acknowledged). What the failed message had
done already stays (the core, its journal and the acknowledgements agree: each is written
after the change it reports); what it had not done is not acknowledged, so its sender
resends it. Nothing is copied per message: the cost is one ``try``.
"""

from __future__ import annotations

import logging
from typing import Protocol

from ..protocol import ErrorCode, MsgType, encode

__all__ = ["handle_isolated"]

log = logging.getLogger(__name__)


class _Desk(Protocol):
    def handle(self, now: float, frames: list, acks: dict, replies: list) -> None: ...


class _Core(Protocol):
    def check_invariants(self) -> None: ...


def handle_isolated(desk: _Desk, core: _Core, now: float, batch: list[list], acks: dict,
                    replies: list) -> None:
    """``desk.handle(now, frames, acks, replies)`` for each message of ``batch``, each one's
    failure costing only itself (one loop for the turn: no call per message here)."""
    handle = desk.handle
    for frames in batch:
        try:
            handle(now, frames, acks, replies)
        except Exception:
            _failed(core, frames, replies)


def _failed(core: _Core, frames: list, replies: list) -> None:
    """The desk raised on ``frames``: said in the log and to its sender, unless the core is
    inconsistent (then :meth:`check_invariants` raises and the turn is rebuilt)."""
    ident = frames[0] if frames and isinstance(frames[0], bytes) else b""
    log.exception("internal error on a message from peer %s: that message is not "
                  "acknowledged, the rest of the turn is", ident.hex() or "?")
    core.check_invariants()          # inconsistent: the whole turn is rebuilt instead
    if ident:
        replies.append((ident, encode(MsgType.ERROR, {
            "code": ErrorCode.INTERNAL,
            "message": "the hub failed on this message (not acknowledged): send it again"})))
