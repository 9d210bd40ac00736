"""The multi-hub worker's shell: one agent per hub, one slot budget shared by all.

``cpushare-worker --hub A --hub-key KA --hub B --hub-key KB`` (or hubs found with
``--market``) runs one :class:`~cpushare_mq.worker.agent.WorkerAgent` per hub, each in its
own thread with its own socket, session, leases, cache directory and shutdown: reassignment,
replay after reconnects, caching and the warm/forced shutdown work per hub exactly as with
one hub. What they share is the machine's slots: every loop turn each agent asks
:class:`SlotShares` for its share (the pure rule is :func:`~.arbiter.allot`), and its core
runs at most that many fragments and holds at most that many leases.

Safety of the shared budget across threads: each hub's share is *committed* when its own
agent takes it and only that agent lowers it (when its fragments end), so the shares add up
to at most the slot count at every moment, whatever order the agents run in.

Pipelining (a sandbox's next fragment written behind the current one) is off with several
hubs: a look-ahead lease would hold a slot another hub may pay more for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import threading
import time
from decimal import Decimal

from ..errors import ConfigError
from .agent import AgentConfig, WorkerAgent
from .arbiter import Dryness, HubView, allot

log = logging.getLogger(__name__)

__all__ = ["SlotShares", "MultiHubWorker", "MAX_HUBS"]

MAX_HUBS = 32          # hubs served at once (static ones and those found on the market)


class SlotShares:
    """What every hub's agent last reported, and each hub's committed share of the slots."""

    def __init__(self, total: int, min_price: Decimal = Decimal(0), dry_after_s: float = 1.0,
                 connect_grace_s: float = 3.0):
        self.total = total
        self.min_price = min_price
        self.dry_after_s = dry_after_s
        self._lock = threading.Lock()
        self._views: dict[str, HubView] = {}
        self._committed: dict[str, int] = {}
        self._offers: dict[str, tuple[Decimal | None, int | None]] = {}
        self._dry: dict[str, Dryness] = {}
        self._order: dict[str, int] = {}
        # a hub just added counts as connected (with unknown work) for connect_grace_s, so
        # a worse hub that happens to answer first does not take the slots meanwhile
        self.connect_grace_s = connect_grace_s
        self._added: dict[str, float] = {}
        self._version = 0                   # bumped by every change of a view, offer, share
        self._seen: dict[str, int] = {}     # the version each hub's share was computed at
        self._was_up: set[str] = set()

    def add(self, name: str) -> None:
        with self._lock:
            self._order.setdefault(name, len(self._order))
            self._dry.setdefault(name, Dryness(self.dry_after_s))
            self._committed.setdefault(name, 0)
            self._added.setdefault(name, time.monotonic())
            self._version += 1
            price, work = self._offers.get(name, (None, None))
            self._views.setdefault(name, HubView(self._order[name], True, 0, 0, price, work))

    def set_offer(self, name: str, price: Decimal | None, work: int | None) -> None:
        """The hub's latest offer (price per CPU-hour, fragments waiting); None = unknown."""
        with self._lock:
            if self._offers.get(name) != (price, work):
                self._offers[name] = (price, work)
                self._version += 1
                view = self._views.get(name)
                if view is not None:    # now, not at the hub's next update: another hub's
                    # share computed meanwhile must not rank it by its old (or no) price
                    self._views[name] = dataclasses.replace(view, price=price, work=work)

    def update(self, name: str, core, now: float) -> list:
        """Called by hub ``name``'s agent (its loop thread) with its core: the actions that
        apply its current share."""
        dry = self._dry[name].observe(now, core.credit_out, core.counters.leases_received)
        running = len(core.running)
        up = core.state == core.UP
        with self._lock:
            if up:
                self._was_up.add(name)
            connecting = name not in self._was_up and now - self._added[name] < self.connect_grace_s
            price, work = self._offers.get(name, (None, None))
            view = HubView(self._order[name], up or connecting, running, core.waiting, price,
                           work, dry)
            if self._views.get(name) != view:
                self._views[name] = view
                self._version += 1
            if self._seen.get(name) == self._version:
                return []       # nothing changed for anyone since this hub's last share
            mine = allot(self.total, self._views, self.min_price)[name]
            others = sum(c for n, c in self._committed.items() if n != name)
            slots = max(running, min(mine.slots, self.total - others))
            if self._committed.get(name) != slots:
                self._committed[name] = slots
                self._version += 1
            self._seen[name] = self._version
        starts = slots - running
        hold_queued = None if mine.hold is None else max(0, mine.hold - running - starts)
        log.debug("share of %s: start %d more, hold %s queued", name.split()[0], starts,
                  hold_queued)
        return core.set_allotment(starts, hold_queued, now)

    def snapshot(self) -> dict[str, dict]:
        with self._lock:
            return {n: {"slots": self._committed.get(n, 0), **dataclasses.asdict(v)}
                    for n, v in self._views.items()}


def hub_name(endpoint: str, hub_key: bytes | None) -> str:
    """One hub's name in the shares and its cache directory: endpoint + key."""
    return f"{endpoint} {hub_key.decode() if hub_key else '-'}"


class MultiHubWorker:
    """``MultiHubWorker(config, hubs, trust=...).run()`` serves all ``hubs`` (pairs of
    endpoint and CURVE public key, or None for plain TCP) until shutdown."""

    def __init__(self, config: AgentConfig, hubs: list[tuple[str, bytes | None]], *,
                 trust=None, sandbox_factory=None, min_price: Decimal = Decimal(0),
                 cache_share: int | None = None, dry_after_s: float = 1.0,
                 allow_empty: bool = False):
        self.cfg = config
        self.trust = trust
        self.sandbox_factory = sandbox_factory
        self.total = config.resolved_slots()
        self.shares = SlotShares(self.total, min_price, dry_after_s)
        self.cache_base = config.cache_dir or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cpushare-worker")
        self.cache_share = cache_share or max(1, len(hubs))
        self.agents: dict[str, WorkerAgent] = {}
        self.threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stopping = 0
        self.exit_reasons: dict[str, str] = {}
        self.market = None      # a MarketLink adding hubs and their offers (worker/marketlink.py)
        for endpoint, key in hubs:
            self.add_hub(endpoint, key, start=False)
        if not self.agents and not allow_empty:
            raise ConfigError("no hub to serve: give --hub (and --hub-key) or --market")

    def add_hub(self, endpoint: str, hub_key: bytes | None, *, start: bool = True) -> str:
        """Serve one more hub (idempotent); returns its name."""
        name = hub_name(endpoint, hub_key)
        with self._lock:
            if name in self.agents or self._stopping:
                return name
            if len(self.agents) >= MAX_HUBS:
                raise ConfigError(f"already serving {MAX_HUBS} hubs; not adding {endpoint}")
            digest = hashlib.sha256(name.encode()).hexdigest()[:16]
            cfg = dataclasses.replace(
                self.cfg, hub=endpoint, slots=self.total, pipeline=False,
                cache_dir=os.path.join(self.cache_base, "hubs", digest),
                cache_size_bytes=max(1 << 20, self.cfg.cache_size_bytes // self.cache_share))
            trust = None
            if self.trust is not None:
                trust = dataclasses.replace(self.trust, hub_public=hub_key)
            agent = WorkerAgent(cfg, trust=trust, sandbox_factory=self.sandbox_factory)
            agent.core.set_allotment(0, 0, time.monotonic())    # nothing until its share
            self.shares.add(name)
            agent.on_tick = lambda now, n=name, a=agent: self.shares.update(n, a.core, now)
            self.agents[name] = agent
            if start:
                self._start(name)
        return name

    def _start(self, name: str) -> None:
        agent = self.agents[name]

        def run() -> None:
            try:
                self.exit_reasons[name] = agent.run()
            except Exception as exc:     # one hub's failure must not stop the others
                log.exception("serving %s failed", name.split()[0])
                self.exit_reasons[name] = f"error: {exc}"

        t = threading.Thread(target=run, name=f"hub-{len(self.threads)}", daemon=True)
        self.threads[name] = t
        t.start()

    def set_offer(self, endpoint: str, hub_key: bytes | None, price: Decimal | None,
                  work: int | None) -> None:
        self.shares.set_offer(hub_name(endpoint, hub_key), price, work)

    def request_shutdown(self) -> None:
        """First call: warm shutdown of every hub's agent; second: forced."""
        with self._lock:
            self._stopping += 1
            agents = list(self.agents.values())
        for a in agents:
            a.request_shutdown()

    def run(self) -> str:
        """Serve until every hub's agent has shut down; the exit reasons joined."""
        with self._lock:
            for name in self.agents:
                if name not in self.threads:
                    self._start(name)
        log.info("serving %d hubs with %d slots%s", len(self.agents), self.total,
                 " (and those found on the market)" if self.market else "")
        if self.market is not None:
            self.market.start()
        try:
            while True:
                with self._lock:
                    threads = list(self.threads.values())
                    stopping = self._stopping
                alive = any(t.is_alive() for t in threads)
                if not alive and (stopping or (threads and self.market is None)):
                    break
                time.sleep(0.1)
        finally:
            if self.market is not None:
                self.market.stop()
        reasons = sorted(set(self.exit_reasons.values()))
        return "; ".join(reasons) or "stopped"

    def stats(self) -> dict:
        out: dict = {"hubs": {}}
        for name, a in list(self.agents.items()):
            out["hubs"][name.split()[0]] = a.stats()
        return out
