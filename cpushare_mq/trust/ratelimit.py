"""Per-worker message rate limits: a pure token bucket (time passed in).

The hub keeps one :class:`TokenBucket` per connected worker and calls :meth:`allow` for each
message; a worker that floods (e.g. heartbeats) gets ``ERROR rate_limited`` for the excess
and a log line, and the hub carries on. :class:`RateLimiter` holds the buckets of many keys
with a bounded size.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["TokenBucket", "RateLimiter"]


@dataclass
class TokenBucket:
    """``rate_per_s`` tokens per second, at most ``burst`` saved up."""

    rate_per_s: float
    burst: float
    tokens: float = -1.0
    last_s: float | None = None

    def __post_init__(self) -> None:
        if not self.rate_per_s > 0 or not self.burst >= 1:
            raise ConfigError(f"rate limit: need rate_per_s > 0 and burst >= 1, "
                              f"got {self.rate_per_s}, {self.burst}")
        if self.tokens < 0:
            self.tokens = float(self.burst)

    def allow(self, now_s: float, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if there are enough at ``now_s``."""
        if self.last_s is not None and now_s > self.last_s:
            self.tokens = min(self.burst, self.tokens + (now_s - self.last_s) * self.rate_per_s)
        if self.last_s is None or now_s > self.last_s:
            self.last_s = now_s
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


class RateLimiter:
    """Token buckets for many peers; forgets the least recently seen beyond ``max_peers``.
    Also counts refusals per peer so the shell can log once per burst, not per message."""

    def __init__(self, rate_per_s: float = 2000.0, burst: float = 4000.0, max_peers: int = 100_000):
        TokenBucket(rate_per_s, burst)          # validate
        self.rate_per_s, self.burst, self.max_peers = rate_per_s, burst, max_peers
        self._buckets: OrderedDict[object, TokenBucket] = OrderedDict()
        self.refused: dict[object, int] = {}

    def allow(self, peer: object, now_s: float, cost: float = 1.0) -> bool:
        bucket = self._buckets.get(peer)
        if bucket is None:
            bucket = self._buckets[peer] = TokenBucket(self.rate_per_s, self.burst)
            if len(self._buckets) > self.max_peers:
                old, _ = self._buckets.popitem(last=False)
                self.refused.pop(old, None)
        else:
            self._buckets.move_to_end(peer)
        if bucket.allow(now_s, cost):
            return True
        self.refused[peer] = self.refused.get(peer, 0) + 1
        return False

    def refund(self, peer: object, cost: float = 1.0) -> None:
        """Give back tokens taken by :meth:`allow` (the try was refused for another reason)."""
        bucket = self._buckets.get(peer)
        if bucket is not None:
            bucket.tokens = min(bucket.burst, bucket.tokens + cost)

    def forget(self, peer: object) -> None:
        self._buckets.pop(peer, None)
        self.refused.pop(peer, None)
