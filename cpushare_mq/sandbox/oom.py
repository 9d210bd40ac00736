"""Was a sandbox ended by the kernel's out-of-memory killer (the machine's failure)?

Under seccomp strict a forbidden system call ends the program with SIGKILL, and so does the
OOM killer when the *machine* runs out of memory (the loader makes the sandbox its first
choice: oom_score_adj). A program under its own cap (RLIMIT_AS, ``--max-memory``) that is
killed this way did nothing wrong: the worker hands the fragment back (``RELEASE.infra``)
instead of reporting ``forbidden_syscall``. The kernel counts OOM kills in /proc/vmstat
(``oom_kill``, every kill on the machine, memory cgroups included); a SIGKILL the runner did
not send, while that count grew since the process started, is taken for an OOM kill. (An
unrelated OOM kill at the same moment as a real forbidden system call hands a fragment back
once too often; it never charges a program for the machine.)
"""

from __future__ import annotations

VMSTAT = "/proc/vmstat"


def oom_kill_count(path: str = VMSTAT) -> int | None:
    """The machine's OOM kill count so far (None when the kernel does not say)."""
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(b"oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def killed_by_oom(count_at_start: int | None, count_now: int | None) -> bool:
    return count_at_start is not None and count_now is not None and count_now > count_at_start
