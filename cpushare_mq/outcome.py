"""Sandbox outcomes: the names the runner reports and the hub's retry policy reads.

They travel on the wire (inside failure reports and result ends), so they sit at the
bottom layer next to :mod:`cpushare_mq.protocol`, which re-exports them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from enum import StrEnum

from .errors import ProtocolError


class Outcome(StrEnum):
    """How one fragment's run in the sandbox ended (see docs/architecture.md, "The sandbox contract")."""

    OK = "ok"
    EXIT_CODE = "exit_code"              # exited with a status other than 0 (or 0 too early)
    FORBIDDEN_SYSCALL = "forbidden_syscall"  # killed by seccomp (SIGKILL from strict mode)
    CPU_LIMIT = "cpu_limit"              # used more CPU seconds than allowed
    TIMEOUT = "timeout"                  # wall-clock limit reached
    MEMORY_FAULT = "memory_fault"        # SIGSEGV / SIGBUS
    CRASH = "crash"                      # SIGILL / SIGFPE / SIGTRAP / any other signal
    OUTPUT_LIMIT = "output_limit"        # wrote more than the output cap
    PROTOCOL_ERROR = "protocol_error"    # bad frames on fd 1
    FRAGMENT_ERROR = "fragment_error"    # the program answered 'X' (message kept)
    BAD_PROGRAM = "bad_program"          # refused before start

    @property
    def is_final(self) -> bool:
        """True when retrying elsewhere cannot help: the fragment fails at once."""
        return self in (Outcome.FRAGMENT_ERROR, Outcome.BAD_PROGRAM)

    @property
    def kills_sandbox(self) -> bool:
        """True for outcomes where the program took its sandbox down (counted per worker by
        the hub: a fragment that does this on 3 different workers is FAILED)."""
        return self in (
            Outcome.FORBIDDEN_SYSCALL, Outcome.CPU_LIMIT, Outcome.TIMEOUT, Outcome.MEMORY_FAULT,
            Outcome.CRASH, Outcome.OUTPUT_LIMIT, Outcome.PROTOCOL_ERROR, Outcome.EXIT_CODE,
        )


MAX_MESSAGE_CHARS = 1000
#: the largest CPU-time claim kept, in microseconds: a week (no fragment's limit is longer)
MAX_CLAIM_US = 7 * 86400 * 1_000_000


@functools.lru_cache(maxsize=4096)
def cpu_claim_us(cpu_s: float) -> int:
    """A record's CPU time as the hub stores it with the attempt: whole microseconds, 0 to
    :data:`MAX_CLAIM_US`. (Remembered: CPU time is metered in clock ticks, so claims repeat
    a few values.)"""
    return min(max(int(round(cpu_s * 1e6)), 0), MAX_CLAIM_US)


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """What the sandbox runner reports for one fragment."""

    outcome: Outcome
    exit_code: int | None = None
    signal: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_memory_bytes: int = 0
    output_bytes: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def to_dict(self) -> dict:
        d = asdict(self)
        d["outcome"] = self.outcome.value
        return d

    @classmethod
    def from_dict(cls, d: object) -> OutcomeRecord:
        """Validate an outcome record received from a peer; raise :class:`ProtocolError`."""
        if not isinstance(d, dict):
            raise ProtocolError(f"outcome record must be an object, got {type(d).__name__}")
        extra = set(d) - set(cls.__slots__)
        if extra:
            raise ProtocolError(f"outcome record has unknown keys {sorted(extra)}")
        try:
            outcome = Outcome(d.get("outcome"))
        except ValueError:
            raise ProtocolError(f"unknown sandbox outcome {d.get('outcome')!r}") from None
        out = {"outcome": outcome}
        for key in ("exit_code", "signal"):
            v = d.get(key)
            if v is not None and (type(v) is not int or not -(2**31) <= v < 2**31):
                raise ProtocolError(f"outcome record {key} must be a 32-bit int or null, got {v!r}")
            out[key] = v
        for key in ("cpu_s", "wall_s"):
            v = d.get(key, 0.0)
            if type(v) not in (int, float) or not math.isfinite(v) or v < 0:
                raise ProtocolError(f"outcome record {key} must be a finite number >= 0, got {v!r}")
            out[key] = float(v)
        for key in ("peak_memory_bytes", "output_bytes"):
            v = d.get(key, 0)
            if type(v) is not int or not 0 <= v < 2**63:
                raise ProtocolError(f"outcome record {key} must be an int >= 0, got {v!r}")
            out[key] = v
        msg = d.get("message", "")
        if not isinstance(msg, str):
            raise ProtocolError("outcome record message must be a string")
        out["message"] = msg[:MAX_MESSAGE_CHARS]
        return cls(**out)
