"""What one fragment may use in the sandbox, as one table: the fields of
:class:`SandboxLimits`, each with a :class:`Limit` row saying who sets it (the job, with
each lease; or the seller, on ``cpushare-worker``'s command line), its unit (which decides
its check and how its flag is parsed), its command-line flag and, when the C loader
enforces it, the loader's argument. The rest is generated from the rows: the checks below,
the loader's arguments (:meth:`SandboxLimits.loader_args`), the flags of ``cpushare-worker``
and ``cpushare-sandbox run`` with their config-file keys and environment variables
(:mod:`cpushare_mq.sandbox.cli`), and what the worker hands each sandbox. Adding a limit:
docs/sandbox.md, "Adding a sandbox limit". The caps of what a job may ask are
:class:`cpushare_mq.limits.Limits`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from functools import cache, lru_cache
from operator import attrgetter

from ..errors import ConfigError

__all__ = ["Limit", "SandboxLimits", "SetBy", "Unit", "limit_rows", "size_text"]


class SetBy(StrEnum):
    JOB = "job"          # arrives with each lease (its own wire field: see docs/sandbox.md)
    SELLER = "seller"    # a cpushare-worker flag, the same for every fragment


class Unit(StrEnum):
    SECONDS = "s"        # a finite number > 0; a flag takes seconds (e.g. 2.5)
    BYTES = "bytes"      # an int > 0; a flag takes a size (e.g. 512M)


@dataclass(frozen=True)
class Limit:
    """One row of the table (the metadata of a :class:`SandboxLimits` field)."""

    set_by: SetBy
    unit: Unit
    flag: str                       # the long option, the same in every command
    help: str
    loader_arg: str | None = None   # handed to c/loader, which enforces it (None: the runner)
    max_value: float | None = None  # largest accepted value (the loader's own bound)


def _limit(default: float | int, **row) -> float | int:
    return field(default=default, metadata={"limit": Limit(**row)})


@dataclass(frozen=True)
class SandboxLimits:
    """Per-fragment limits the seller (or the job) sets."""

    cpu_s: float = _limit(60.0, set_by=SetBy.JOB, unit=Unit.SECONDS, flag="--cpu-s",
                          help="CPU seconds per fragment")
    wall_s: float = _limit(300.0, set_by=SetBy.JOB, unit=Unit.SECONDS, flag="--wall-s",
                           help="wall-clock seconds per fragment (paused time not counted)")
    max_output_bytes: int = _limit(256 << 20, set_by=SetBy.JOB, unit=Unit.BYTES,
                                   flag="--max-output", help="result bytes per fragment")
    max_memory_bytes: int = _limit(1 << 30, set_by=SetBy.SELLER, unit=Unit.BYTES,
                                   flag="--max-memory",
                                   help="memory cap of each sandbox: the program's mapped "
                                        "memory (segments + stack)",
                                   loader_arg="--max-memory", max_value=1 << 46)

    def __post_init__(self) -> None:
        for name, row in _all_rows():
            _check(name, row, getattr(self, name))

    def loader_args(self) -> list[str]:
        """The C loader's arguments for the limits it enforces."""
        args: list[str] = []
        for name, row in limit_rows():
            if row.loader_arg is not None:
                args += [row.loader_arg, str(getattr(self, name))]
        return args

    def seller_part(self) -> dict[str, float | int]:
        """The values the seller sets, by field name."""
        return {name: getattr(self, name) for name, row in limit_rows(SetBy.SELLER)}

    def for_lease(self, lease: object) -> SandboxLimits:
        """These (the seller's) limits with the job's values carried by ``lease`` (any object
        with an attribute per job-set field, e.g. the worker's ``WorkItem``). The wire allows
        0 for them; the sandbox wants > 0 (0 output bytes: any output fails)."""
        return _with_job(self, _job_values()(lease))

    @property
    def cpu_backstop_s(self) -> int:
        """RLIMIT_CPU of a warm process (whole seconds): room for several fragments; the
        runner recycles the process before a fragment could reach it."""
        return math.ceil(max(4 * self.cpu_s, self.cpu_s + 5))


def limit_rows(set_by: SetBy | None = None) -> list[tuple[str, Limit]]:
    """The table: ``(field name, row)`` in field order, those ``set_by`` sets (or all)."""
    return [(name, row) for name, row in _all_rows() if set_by is None or row.set_by is set_by]


@cache
def _all_rows() -> tuple[tuple[str, Limit], ...]:
    return tuple((f.name, f.metadata["limit"]) for f in fields(SandboxLimits))


@cache
def _job_rows() -> tuple[tuple[str, Limit], ...]:
    return tuple(limit_rows(SetBy.JOB))


@cache
def _job_values() -> attrgetter:
    names = [name for name, _ in _job_rows()]
    return attrgetter(*names) if len(names) > 1 else lambda lease: (getattr(lease, names[0]),)


_FLOOR = {Unit.SECONDS: 0.001, Unit.BYTES: 1}


@lru_cache(maxsize=256)     # per fragment, twice (a worker's jobs have a few limit sets)
def _with_job(limits: SandboxLimits, values: tuple) -> SandboxLimits:
    return replace(limits, **{name: max(v, _FLOOR[row.unit])
                              for (name, row), v in zip(_job_rows(), values, strict=True)})


def _check(name: str, row: Limit, v: object) -> None:
    if row.unit is Unit.SECONDS:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise ConfigError(f"SandboxLimits.{name} must be a finite number > 0, got {v!r}")
    elif isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ConfigError(f"SandboxLimits.{name} must be an int > 0, got {v!r}")
    if row.max_value is not None and v > row.max_value:
        shown = size_text if row.unit is Unit.BYTES else "{:g}".format
        raise ConfigError(f"{row.flag} {shown(v)} is too large: at most {shown(row.max_value)} "
                          f"(SandboxLimits.{name})")


def size_text(n: float) -> str:
    """``1073741824`` -> ``1G`` (a size as the flags take it)."""
    for unit, shift in (("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{int(n) >> shift}{unit}"
    return f"{n:g}"
