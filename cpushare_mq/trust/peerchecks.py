"""Who may talk to the hub, and how fast: the HELLO check (banned, not allow-listed or
malformed keys, a keyed worker that does not sign its failure reports) and the per-peer
message rate limits (all messages, and heartbeats on their own). Refusals are logged once per
key and reason, rate-limit refusals at the first and every 1000th.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from ..protocol import Feature
from .errors import BadWorkerKey
from .keys import WorkerKey
from .ratelimit import RateLimiter
from .zap import KeyPolicy

__all__ = ["PeerChecks"]

log = logging.getLogger(__name__)

#: (key, reason) refusals remembered as logged (cleared when it grows past this)
MAX_REFUSALS_LOGGED = 10_000


class PeerChecks:
    def __init__(self, policy: KeyPolicy, *, require_signatures: bool,
                 is_banned: Callable[[str], bool], parse_key: Callable[[str], WorkerKey],
                 rate_per_s: float, burst: float, heartbeat_rate_per_s: float,
                 heartbeat_burst: float):
        self.policy = policy
        self.require_signatures = require_signatures
        self._is_banned = is_banned
        self._parse_key = parse_key
        # all messages of a peer (generous: a fast worker sends tens of thousands a second),
        # and heartbeats on their own (a worker needs about 2 a second)
        self.limiter = RateLimiter(rate_per_s, burst)
        self.heartbeat_limiter = RateLimiter(heartbeat_rate_per_s, heartbeat_burst)
        self._refusals_logged: set[tuple[str, str]] = set()

    def allow_message(self, peer: bytes, now_s: float, heartbeat: bool = False) -> bool:
        """Per-peer rate limits (all messages; heartbeats separately). Logs the first refusal
        of a peer and every 1000th after it."""
        lim = self.heartbeat_limiter if heartbeat else self.limiter
        if lim.allow(peer, now_s):
            return True
        n = lim.refused.get(peer, 0)
        if n == 1 or n % 1000 == 0:
            log.warning("peer %s sends more than %.0f %s/s: %d refused (rate_limited)",
                        peer.hex()[:16], lim.rate_per_s, "heartbeats" if heartbeat else "messages", n)
        return False

    def check_hello(self, worker_key: str, features: Iterable[str] | None = None) -> str | None:
        """None if this worker may join, else the reason to refuse it (logged once per key
        and reason). ``features``: the HELLO's protocol features (None: not checked); a hub
        that requires signatures refuses a keyed worker that does not sign its FAILURE
        reports (an older cpushare-worker) with a message saying to upgrade."""
        why = self._refusal(worker_key)
        if (why is None and features is not None and worker_key and self.require_signatures
                and Feature.SIGNED_FAILURES not in features):
            why = (f"this hub requires signed FAILURE reports (protocol feature "
                   f"{Feature.SIGNED_FAILURES!r}, which this worker does not announce): "
                   f"upgrade cpushare-worker")
        if why is not None and (worker_key, why) not in self._refusals_logged:
            if len(self._refusals_logged) > MAX_REFUSALS_LOGGED:
                self._refusals_logged.clear()
            self._refusals_logged.add((worker_key, why))
            log.warning("refused a worker (key %s): %s", worker_key[:16] or "none", why)
        return why

    def _refusal(self, worker_key: str) -> str | None:
        if not worker_key:
            if self.require_signatures:
                return "this hub requires a worker key (HELLO.worker_key) and signed results"
            if not self.policy.allow_any:
                return "this hub only admits allow-listed worker keys"
            return None
        if self._is_banned(worker_key):
            return "this worker key is banned"
        try:
            key = self._parse_key(worker_key)
        except BadWorkerKey as exc:
            if self.require_signatures or not self.policy.allow_any:
                return str(exc)
            return None     # insecure hub: any string is an (unauthenticated) identity
        ok, why = self.policy.admits(key.curve_public.decode())
        return None if ok else why
