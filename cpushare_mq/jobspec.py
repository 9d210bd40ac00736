"""What a buyer may ask of a job: the one place its limits are checked.

:class:`JobSpec` is what a buyer submits; :func:`check_policy` checks its numbers (how many
fragments, redundancy, quorum, per-fragment CPU and wall time, attempts, output cap,
priority, name) and :func:`validate_spec` the whole spec (bytes and names too). The three
entry points use them and nothing else, so a spec is refused the same way, with the same
one-line reason, wherever it comes in:

* :meth:`cpushare_mq.client.Client.submit` before anything is sent,
* the buyer socket's SUBMIT (:mod:`cpushare_mq.hub.api`) as soon as the frame arrives,
* the hub's core (:meth:`cpushare_mq.hub.store.Store.add_job`) for a job given in-process.

Pure code: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, SchedulingError
from .fragnames import check_names
from .limits import Limits
from .market.money import Price, parse_amount, parse_price

__all__ = ["JobSpec", "JobSpecError", "check_policy", "check_terms", "validate_spec",
           "DEFAULT_MAX_OUTPUT_BYTES"]

DEFAULT_MAX_OUTPUT_BYTES = 256 << 20


class JobSpecError(SchedulingError, ConfigError):
    """Raised when a job spec is outside what a hub accepts. A :class:`ConfigError` for the
    client (the caller's arguments) and a :class:`SchedulingError` for the hub."""


@dataclass(frozen=True)
class JobSpec:
    """What a buyer submits. Validated by :func:`validate_spec`."""

    program: bytes
    fragments: Sequence[bytes]
    shared_input: bytes = b""
    redundancy: int = 1
    quorum: int | None = None        # None = majority of redundancy (k//2+1)
    cpu_s: float = 60.0              # per fragment
    wall_s: float = 300.0            # per fragment
    max_attempts: int = 5
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    priority: int = 0                # higher first; fair share among equal priority
    name: str = ""
    fragment_names: Sequence[str] = ()   # one per fragment (the input file's name), or none
    price: str = ""                  # per CPU-hour, "0.05" or "0.05 EUR"; "" = the hub's price
    budget: str = ""                 # the most the job may cost, in its price's currency; "" = none


def _bad(why: str) -> JobSpecError:
    return JobSpecError(f"invalid job spec: {why}")


def _int_in(what: str, v: Any, lo: int, hi: int) -> None:
    if type(v) is not int or not lo <= v <= hi:
        raise _bad(f"{what} must be an integer in [{lo}, {hi}], got {v!r}")


def check_policy(*, n_fragments: int, redundancy: int = 1, quorum: int | None = None,
                 cpu_s: float = 60.0, wall_s: float = 300.0, max_attempts: int = 5,
                 max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES, priority: int = 0,
                 name: str = "") -> int:
    """Check a job's numbers against :class:`Limits`; return the effective quorum.
    Raises :class:`JobSpecError` naming the first value that is wrong and its range."""
    _int_in("the number of fragments", n_fragments, 1, Limits.MAX_FRAGMENTS)
    _int_in("redundancy", redundancy, 1, Limits.MAX_REDUNDANCY)
    effective = redundancy // 2 + 1 if quorum is None else quorum
    _int_in(f"quorum (with redundancy={redundancy})", effective, 1, redundancy)
    for what, v in (("cpu_s", cpu_s), ("wall_s", wall_s)):
        if type(v) not in (int, float) or not math.isfinite(v) or not 0 < v <= Limits.MAX_FRAGMENT_S:
            raise _bad(f"{what} must be a number of seconds in (0, {Limits.MAX_FRAGMENT_S}], got {v!r}")
    _int_in("max_attempts", max_attempts, 1, Limits.MAX_ATTEMPTS)
    _int_in("max_output_bytes", max_output_bytes, 0, Limits.MAX_RESULT_BYTES)
    _int_in("priority", priority, -Limits.MAX_PRIORITY, Limits.MAX_PRIORITY)
    if not isinstance(name, str) or len(name) > Limits.MAX_JOB_NAME_CHARS:
        raise _bad(f"name must be text of at most {Limits.MAX_JOB_NAME_CHARS} characters, "
                   f"got {type(name).__name__} of length {len(name) if isinstance(name, str) else '?'}")
    return effective


def check_terms(price: str = "", budget: str = "") -> tuple[Price | None, Any]:
    """A job's price (per CPU-hour, ``"0.05"`` or ``"0.05 EUR"``) and budget (a decimal in
    the price's currency); ``""`` = none. Returns ``(Price or None, Decimal or None)``;
    raises :class:`JobSpecError`. Exact decimals only: a float is refused."""
    for what, v in (("price", price), ("budget", budget)):
        if not isinstance(v, str):
            raise _bad(f"{what} must be text like '0.05' (exact decimals, never floats), "
                       f"got {type(v).__name__}")
    try:
        return (parse_price(price) if price else None,
                parse_amount(budget, "budget") if budget else None)
    except ConfigError as exc:
        raise _bad(str(exc)) from None


def _check_bytes(what: str, v: Any, cap: int, *, empty_ok: bool) -> None:
    if not isinstance(v, (bytes, bytearray, memoryview)):
        raise _bad(f"{what} must be bytes, got {type(v).__name__}")
    if not empty_ok and len(v) == 0:
        raise _bad(f"{what} must be non-empty bytes")
    if len(v) > cap:
        raise _bad(f"{what} of {len(v)} bytes is over {cap}")


def validate_spec(spec: JobSpec) -> int:
    """Check a whole job spec; return its effective quorum. Raises :class:`JobSpecError`."""
    _check_bytes("program", spec.program, Limits.MAX_PROGRAM_BYTES, empty_ok=False)
    _check_bytes("shared_input", spec.shared_input, Limits.MAX_PROGRAM_BYTES, empty_ok=True)
    for i, frag in enumerate(spec.fragments):
        _check_bytes(f"fragment {i}", frag, Limits.MAX_FRAGMENT_INPUT_BYTES, empty_ok=True)
    if spec.fragment_names:
        try:
            check_names(list(spec.fragment_names), len(spec.fragments))
        except ConfigError as exc:
            raise _bad(str(exc)) from None
    check_terms(spec.price, spec.budget)
    return check_policy(n_fragments=len(spec.fragments), redundancy=spec.redundancy,
                        quorum=spec.quorum, cpu_s=spec.cpu_s, wall_s=spec.wall_s,
                        max_attempts=spec.max_attempts, max_output_bytes=spec.max_output_bytes,
                        priority=spec.priority, name=spec.name)
