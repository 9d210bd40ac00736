"""Pure classification: how a sandboxed process ended -> an :class:`Outcome` and a message."""

from __future__ import annotations

import signal as _signal

from ..outcome import Outcome

# Reasons the runner itself killed the process (it then knows the outcome for sure).
KILLED_FOR = {
    "cpu": Outcome.CPU_LIMIT,
    "wall": Outcome.TIMEOUT,
    "output": Outcome.OUTPUT_LIMIT,
    "protocol": Outcome.PROTOCOL_ERROR,
}


def signal_name(sig: int) -> str:
    try:
        return _signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def classify_signal(sig: int, cpu_total_s: float, cpu_backstop_s: float | None) -> tuple[Outcome, str]:
    """A process killed by ``sig`` that the runner did not kill itself.

    Under seccomp STRICT a forbidden system call ends the process with SIGKILL; the only
    other SIGKILL the kernel sends it is the RLIMIT_CPU backstop (told apart by CPU time).
    """
    if sig == _signal.SIGKILL:
        if cpu_backstop_s is not None and cpu_total_s >= cpu_backstop_s - 0.05:
            return Outcome.CPU_LIMIT, f"killed at the RLIMIT_CPU backstop ({cpu_backstop_s:g} s)"
        return Outcome.FORBIDDEN_SYSCALL, "killed by seccomp: a forbidden system call"
    if sig == _signal.SIGXCPU:
        return Outcome.CPU_LIMIT, "SIGXCPU: RLIMIT_CPU reached"
    if sig in (_signal.SIGSEGV, _signal.SIGBUS):
        return Outcome.MEMORY_FAULT, f"{signal_name(sig)}: invalid memory access (or rdtsc, cpuid)"
    return Outcome.CRASH, f"{signal_name(sig)}"


def classify_exit(
    *,
    exit_code: int | None,
    signal: int | None,
    killed_for: str | None,
    kill_message: str = "",
    cpu_total_s: float = 0.0,
    cpu_backstop_s: float | None = None,
    raw: bool = False,
) -> tuple[Outcome, str]:
    """The outcome of a fragment whose process ended before answering it (ABI mode) or of a
    raw run (``raw=True``: exit status 0 is success)."""
    if killed_for is not None:
        return KILLED_FOR[killed_for], kill_message
    if signal is not None:
        return classify_signal(signal, cpu_total_s, cpu_backstop_s)
    if raw and exit_code == 0:
        return Outcome.OK, ""
    if exit_code == 0:
        return Outcome.EXIT_CODE, "exited with status 0 before finishing the fragment"
    return Outcome.EXIT_CODE, f"exited with status {exit_code}"
