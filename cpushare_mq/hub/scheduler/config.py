"""A hub's timing and policy knobs (:class:`HubConfig`)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class HubConfig:
    """Timing and policy knobs of a hub. All durations in seconds."""

    heartbeat_interval_s: float = 0.5
    liveness: int = 3                    # silent for liveness x interval = dead
    lease_grace_s: float = 10.0          # lease deadline = now + wall_s x lease_wall_factor + grace
    lease_wall_factor: float = 2.0       # room for a fragment waiting behind others on a worker
    reconnect_grace_s: float = 10.0      # after a hub restart, leases wait this long for their worker
    pause_grace_s: float = 30.0          # a paused worker keeps its leases this long
    group_commit_s: float = 0.002        # gather messages this long before one commit
    max_batch_messages: int = 4096       # messages handled per commit at most
    window_fragments: int = 4096         # PENDING fragments per job held in memory
    max_extra_copies: int | None = None  # extra copies on disagreement (None = redundancy)
    sandbox_kill_limit: int = 3          # distinct workers' sandboxes a fragment may kill
    max_credit: int = 65536              # a worker's credit is capped here
    tick_s: float = 0.02                 # housekeeping period (liveness, expiry)
    max_partial_bytes: int = 1 << 30     # compressed result chunks held before their RESULT_END
    max_partial_bytes_per_worker: int = 64 << 20    # ... of them for one worker session
    tie_break_wait_s: float = 60.0       # disagreeing copies, no key left to break the tie: ends
    join_rate_per_s: float = 10.0        # HELLOs and CURVE handshakes a second per address

    def __post_init__(self) -> None:
        from ...errors import ConfigError
        for name in ("heartbeat_interval_s", "lease_grace_s", "reconnect_grace_s",
                     "pause_grace_s", "tick_s", "tie_break_wait_s", "join_rate_per_s"):
            v = getattr(self, name)
            if type(v) not in (int, float) or not math.isfinite(v) or v <= 0:
                raise ConfigError(f"HubConfig.{name} must be a positive number, got {v!r}")
        if type(self.liveness) is not int or self.liveness < 1:
            raise ConfigError(f"HubConfig.liveness must be an integer >= 1, got {self.liveness!r}")
        if self.group_commit_s < 0 or self.lease_wall_factor < 1:
            raise ConfigError("HubConfig.group_commit_s must be >= 0 and lease_wall_factor >= 1")
        for name in ("max_batch_messages", "window_fragments", "sandbox_kill_limit", "max_credit"):
            v = getattr(self, name)
            if type(v) is not int or v < 1:
                raise ConfigError(f"HubConfig.{name} must be an integer >= 1, got {v!r}")

    @property
    def dead_after_s(self) -> float:
        return self.heartbeat_interval_s * self.liveness

