"""What one fragment may use in the sandbox: the limits a job asks for (CPU and wall time,
output) and the seller sets (memory). The runner enforces them; the caps of what a job may
ask are :class:`cpushare_mq.limits.Limits`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["SandboxLimits"]


@dataclass(frozen=True)
class SandboxLimits:
    """Per-fragment limits the seller (or the job) sets."""

    cpu_s: float = 60.0                  # CPU seconds per fragment
    wall_s: float = 300.0                # wall seconds per fragment (paused time not counted)
    max_output_bytes: int = 256 << 20    # result bytes per fragment
    max_memory_bytes: int = 1 << 30      # program's mapped memory (segments + stack)

    def __post_init__(self) -> None:
        for name in ("cpu_s", "wall_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ConfigError(f"SandboxLimits.{name} must be a finite number > 0, got {v!r}")
        for name in ("max_output_bytes", "max_memory_bytes"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ConfigError(f"SandboxLimits.{name} must be an int > 0, got {v!r}")
        if self.max_memory_bytes > 1 << 46:
            raise ConfigError(f"SandboxLimits.max_memory_bytes is absurdly large: {self.max_memory_bytes}")

    @property
    def cpu_backstop_s(self) -> int:
        """RLIMIT_CPU of a warm process (whole seconds): room for several fragments; the
        runner recycles the process before a fragment could reach it."""
        return math.ceil(max(4 * self.cpu_s, self.cpu_s + 5))
