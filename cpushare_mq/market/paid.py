"""Which attempts are paid (pure): the one table of what a seller is paid for, per outcome.

An accepted result is paid. A failure is paid only when it was the program's (the buyer's)
fault *and* the hub concluded so: the report ended its fragment as FAILED (an outcome that
fails a fragment at once, or the last allowed attempt), so a seller cannot be paid for
claiming failures that other sellers' runs contradict. The attempt whose report ended the
fragment is paid for the CPU time it measured (at most the job's CPU limit); one receipt per
fragment, as for results. docs/market.md shows this table.
"""

from __future__ import annotations

from ..outcome import Outcome

__all__ = ["PAID_FAILURES", "failure_is_paid"]

#: failures that are the program's fault (paid when they end the fragment), with why
PAID_FAILURES: dict[Outcome, str] = {
    Outcome.EXIT_CODE: "the program exited with a status other than 0",
    Outcome.FORBIDDEN_SYSCALL: "the program made a system call the sandbox forbids",
    Outcome.CPU_LIMIT: "the program used more CPU than the job allows",
    Outcome.MEMORY_FAULT: "the program touched memory it does not have",
    Outcome.CRASH: "the program died of a signal",
    Outcome.OUTPUT_LIMIT: "the program wrote more than the job allows",
    Outcome.PROTOCOL_ERROR: "the program broke the frame protocol on its output",
    Outcome.FRAGMENT_ERROR: "the program refused the fragment ('X')",
}
#: not paid: TIMEOUT (the wall clock: a slow or busy seller machine can cause it) and
#: BAD_PROGRAM (refused before it ran: no CPU used)


def failure_is_paid(outcome: Outcome) -> bool:
    return outcome in PAID_FAILURES
