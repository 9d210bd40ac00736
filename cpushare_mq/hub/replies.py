"""ERROR replies to worker connections, at most a few per second per peer: a peer that keeps
sending bad messages gets the first answers (and the log the first lines), the rest are
dropped silently and counted. Loop thread only.
"""

from __future__ import annotations

import logging

from ..protocol import MsgType, encode

__all__ = ["ErrorReplies", "ERRORS_PER_PEER_PER_S"]

log = logging.getLogger(__name__)

ERRORS_PER_PEER_PER_S = 5
#: peers remembered at once (the table is cleared when it grows past this)
MAX_PEERS = 10_000


class ErrorReplies:
    def __init__(self) -> None:
        self._budget: dict[bytes, list[float]] = {}    # peer -> [second started, errors]

    def error(self, now: float, ident: bytes, code: str, message: str, replies: list) -> None:
        """Log and queue an ERROR reply to ``ident`` (``replies``: the turn's outgoing
        (ident, frames)), unless the peer had its share this second."""
        budget = self._budget.get(ident)
        if budget is None:
            if len(self._budget) > MAX_PEERS:
                self._budget.clear()
            budget = self._budget[ident] = [now, 0]
        if now - budget[0] >= 1.0:
            budget[0], budget[1] = now, 0
        budget[1] += 1
        if budget[1] <= ERRORS_PER_PEER_PER_S:
            log.warning("peer %s: %s: %s", ident.hex(), code, message[:300])
            replies.append((ident, encode(MsgType.ERROR, {"code": code, "message": message[:1024]})))
        elif budget[1] == ERRORS_PER_PEER_PER_S + 1:
            log.warning("peer %s: more bad messages this second; not answering them", ident.hex())
