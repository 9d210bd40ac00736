"""Where one fragment ends and the next begins, in a warm sandboxed process.

A fragment's outcome covers everything the program does until it is blocked reading its
next fragment (or it is killed): an answer ('E' / 'X') followed by a forbidden system call,
a crash, a non-zero exit, more output or a CPU spin is that fragment's failure, never the
next one's. So after the answer the runner keeps watching the process (the fragment's CPU
and wall limits still apply) until it reaches the *boundary*:

* no next fragment written behind (no look-ahead): the process sleeps (``S`` in
  /proc/PID/stat) with its output pipe empty and nothing left unread on its input. Under
  seccomp strict the only system calls that can sleep are read(0) and write(1); the state
  is read *before* the output pipe is looked at, and a write(1) only sleeps on a full pipe,
  which only the runner empties: so a sleeping process whose pipe was then empty was
  blocked in read(0).
* the next fragment's frame written behind (look-ahead): the process has consumed input
  bytes beyond the current fragment's (FIONREAD on the input pipe says how many bytes are
  still unread). Output read before that was seen belongs to the current fragment (output
  after its answer: a protocol error); output read once it was seen belongs to the next.

Exit status 0 after the answer is not a failure (a program may end between fragments).

This module is the pure part (:func:`settled`) plus the input-pipe probe it needs (the
process state comes from the runner's /proc/PID/stat reads).
"""

from __future__ import annotations

import array
import fcntl
import termios

SLEEPING = b"S"
#: the runner's waits for the boundary: first look at once, then sleep (never spin: the
#: program may run at idle priority on the same CPU) from 20 us doubling to 5 ms
FIRST_WAIT_S = 20e-6
MAX_WAIT_S = 0.005


def pipe_unread_bytes(fd: int) -> int:
    """Bytes written into the pipe behind ``fd`` (either end) and not read yet."""
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.FIONREAD, buf, True)
    except OSError:
        return 0
    return buf[0]


def settled(*, queued: bool, consumed: int = 0, input_end: int = 0, state: bytes = b"",
            output_waiting: bool = True) -> bool:
    """Has the process reached the boundary after its answer? With the next fragment
    queued: ``consumed`` (input bytes it has read so far, absolute) against ``input_end``
    (where the current fragment's input ends). Without: its ``state`` (/proc/PID/stat),
    read before ``output_waiting`` (see the module docstring); that it read all of its
    input was checked when it answered (the runner refuses an answer before that)."""
    if queued:
        return consumed > input_end
    return state == SLEEPING and not output_waiting


def next_wait_s(wait_s: float) -> float:
    return min(max(wait_s * 2, FIRST_WAIT_S), MAX_WAIT_S)
