"""The hub's side of liveness: a HEARTBEAT to every worker that heard nothing from the hub
for a heartbeat interval, and probes that notice a closed connection at once.

The scheduler declares a worker dead after ``liveness`` silent intervals. A worker whose
process died is found sooner: the socket's monitor reports the closed connection (or a send
finds the peer gone), every worker is then probed at :data:`PROBE_DELAYS_S`, and one that the
ROUTER no longer knows (``EHOSTUNREACH``) is declared dead at once. Loop thread only.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import zmq

from ..protocol import MsgType, encode

if TYPE_CHECKING:
    from .server import Hub

__all__ = ["Liveness", "PROBE_DELAYS_S"]

log = logging.getLogger(__name__)

#: after a disconnect event, probe at these delays (the ROUTER forgets a peer once its pipe
#: is torn down, normally before the event is read; the later probes are a margin)
PROBE_DELAYS_S = (0.0, 0.02, 0.1, 0.5)
#: the most probe sweeps scheduled at once
MAX_PROBES_DUE = 16


class Liveness:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.heartbeat_interval_s = hub.config.heartbeat_interval_s
        self._last_sent: dict[str, float] = {}     # worker id -> when the hub last sent it
        self._probe_due: list[float] = []
        self._last_probe_s = 0.0
        self._unreachable: set[str] = set()        # lost because their connection closed

    def sent(self, wid: str, now: float) -> None:
        """The hub sent ``wid`` something at ``now`` (no heartbeat needed before the next
        interval)."""
        self._last_sent[wid] = now

    def forget(self, wid: str) -> None:
        self._last_sent.pop(wid, None)

    def wake_at(self, now: float) -> float:
        """When the next heartbeat or probe is due."""
        if not self._last_sent:
            due = now + self.heartbeat_interval_s
        else:
            due = min(self._last_sent.values()) + self.heartbeat_interval_s
        return min(due, self._probe_due[0]) if self._probe_due else due

    def heartbeats(self, now: float) -> None:
        """A HEARTBEAT to every worker the hub has not sent anything for an interval."""
        for wid, t in list(self._last_sent.items()):
            if now - t >= self.heartbeat_interval_s:
                self.hub.outbound.send_worker(wid, MsgType.HEARTBEAT, {})

    def on_monitor_events(self) -> None:
        """The worker socket's monitor has events: any closed connection schedules probes."""
        if self.hub.wire.closed_connections():
            self.schedule_probes(time.time(), PROBE_DELAYS_S)

    def schedule_probes(self, now: float, delays: tuple[float, ...]) -> None:
        due = set(self._probe_due)
        due.update(now + d for d in delays)
        self._probe_due = sorted(due)[:MAX_PROBES_DUE]

    def probe_if_due(self, now: float) -> None:
        if self._probe_due and now >= self._probe_due[0]:
            self._probe(now)

    def _probe(self, now: float) -> None:
        """Send every worker a HEARTBEAT; ROUTER_MANDATORY makes a send to a peer whose
        connection is gone fail with EHOSTUNREACH: that worker is dead now. Sweeps are spaced
        by the number of workers, so a flood of connect/disconnect from a stranger costs the
        hub a bounded number of sends per second."""
        hub = self.hub
        self._probe_due = [t for t in self._probe_due if t > now]
        spacing_s = 0.005 * max(1, len(hub.sessions) // 50)
        if now - self._last_probe_s < spacing_s:
            self._probe_due = sorted({*self._probe_due, self._last_probe_s + spacing_s})
            return
        self._last_probe_s = now
        heartbeat = encode(MsgType.HEARTBEAT, {})
        for wid, ident in hub.sessions.connections():
            errno = hub.wire.send(ident, heartbeat)
            if not errno:
                self._last_sent[wid] = now
            elif errno == zmq.EHOSTUNREACH and hub.core.has_worker(wid):
                self._unreachable.add(wid)
                hub.core.lost(now, wid, "connection closed")

    def log_dead(self, wid: str) -> None:
        """Say why the scheduler declared ``wid`` dead."""
        if wid in self._unreachable:
            self._unreachable.discard(wid)
            log.warning("worker %s declared dead (its connection closed); its leases are back "
                        "in the queue", wid)
        else:
            log.warning("worker %s declared dead (silent for %.2f s); its leases are back in "
                        "the queue", wid, self.hub.config.dead_after_s)
