"""One exchange with a running sandboxed process: write its input, read its output, watch
its limits, until the fragment (or the raw run) is over.

Two modes share one loop (:class:`_Exchanger`): :class:`RawExchanger` (the whole stdin, the
whole stdout, no framing) and :class:`FramedExchanger` (ABI v1 frames; the fragment ends at
the boundary after its answer, see :mod:`.boundary`; pipelining writes the next fragment's
frame behind the current one). The input side is :class:`_InputWriter`.
"""

from __future__ import annotations

import errno
import math
import os
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SandboxError
from ..outcome import MAX_MESSAGE_CHARS, Outcome, OutcomeRecord
from . import boundary
from .frames import Data, End, Error, FrameError, OutputDecoder, frame_header
from .limits import SandboxLimits

if TYPE_CHECKING:
    from .runner import _PauseClock, _Process

READ_CHUNK_BYTES = 1 << 16
WRITE_CHUNK_BYTES = 1 << 16

NextFragment = Callable[[], "bytes | None"]
OnChunk = Callable[[bytes], None]


def loader_refusal(status: str) -> OutcomeRecord:
    """The record for a loader that refused to start the program ("bad_program: ..."); any
    other refusal is the seller's problem: :class:`SandboxError`."""
    kind, _, message = status.partition(": ")
    if kind == "bad_program":
        return OutcomeRecord(Outcome.BAD_PROGRAM, message=message[:MAX_MESSAGE_CHARS])
    raise SandboxError(f"the sandbox loader failed: {message or status}")


@dataclass
class Exchange:
    """What happened during one fragment (or one raw run)."""

    result: Outcome | None = None   # OK / FRAGMENT_ERROR when the program answered
    message: str = ""
    killed_for: str | None = None
    kill_message: str = ""
    after_answer: bool = False      # it failed after its answer (see boundary.py)
    usage_read: bool = False        # /proc/PID/stat was read at the boundary (CPU is fresh)
    output_bytes: int = 0
    wall_s: float = 0.0
    queued: bytes | None = None     # the next fragment, written (or being written) behind it
    unsent: bytes = b""             # input not written yet (the tail of the queued frame)
    rest: bytes = b""               # output read past the boundary (the queued fragment's)


class _InputWriter:
    """The program's stdin: what is left to write, written as the pipe takes it."""

    def __init__(self, proc: _Process, poller: select.poll, payload: bytes, *, close_when_done: bool):
        self.proc = proc
        self.poller = poller
        self.view = memoryview(payload)
        self.sent = 0
        self.writing = False
        self.close_when_done = close_when_done   # raw mode: EOF ends the program's input

    def start(self) -> None:
        if len(self.view) == 0:
            self.writing = True
            self.stop()
        else:
            self._register()
            self.write_some()

    def _register(self) -> None:
        self.writing = True
        self.poller.register(self.proc.stdin_fd, select.POLLOUT)

    def stop(self) -> None:
        if self.writing:
            self.writing = False
            try:
                self.poller.unregister(self.proc.stdin_fd)
            except KeyError:
                pass
            if self.close_when_done:
                self.proc.close_stdin()

    def write_some(self) -> None:
        proc = self.proc
        try:
            while self.sent < len(self.view):
                n = os.write(proc.stdin_fd, self.view[self.sent:self.sent + WRITE_CHUNK_BYTES])
                self.sent += n
                proc.stdin_written += n
        except BlockingIOError:
            return
        except (BrokenPipeError, ConnectionResetError):
            self.stop()
            proc.close_stdin()
            return
        self.stop()

    def append(self, data: bytes) -> None:
        """Write ``data`` behind what is still unsent."""
        self.view = memoryview(self.unsent() + data)
        self.sent = 0
        if not self.writing:
            self._register()
        self.write_some()

    def unsent(self) -> bytes:
        return bytes(self.view[self.sent:])

    def consumed(self) -> int:
        """Input bytes the program has read so far (absolute)."""
        unread = boundary.pipe_unread_bytes(self.proc.stdin_fd) if self.proc.stdin_open else 0
        return self.proc.stdin_written - unread


class _Exchanger:
    """The loop both modes share: limits, polling, reading; the mode decides what output
    means (:meth:`on_output`), when it is over (:meth:`before_turn`) and the end."""

    def __init__(self, proc: _Process, payload: bytes, *, limits: SandboxLimits, cpu_base_s: float,
                 clock: _PauseClock, deliver: OnChunk, close_when_done: bool):
        self.proc = proc
        self.limits = limits
        self.cpu_base_s = cpu_base_s
        self.clock = clock
        self.deliver = deliver
        self.ex = Exchange()
        self.poller = select.poll()
        self.poller.register(proc.stdout_fd, select.POLLIN)
        self.writer = _InputWriter(proc, self.poller, payload, close_when_done=close_when_done)
        self.next_cpu_check = 0.0

    def kill(self, reason: str, message: str) -> None:
        self.ex.killed_for, self.ex.kill_message = reason, message
        self.proc.kill()

    def run(self) -> Exchange:
        start = self.clock.now()
        self.writer.start()
        self.begin()
        while not self.ex.killed_for:
            if self.before_turn():
                break
            wall = self.clock.now() - start
            if self._over_limits(wall):
                break
            timeout_s = self.poll_timeout_s(wall)
            events = self.poller.poll(math.ceil(timeout_s * 1000))
            if self._handle(events):
                break
            self.after_turn(events)
        self.ex.wall_s = self.clock.now() - start
        self.finish()
        return self.ex

    def _over_limits(self, wall: float) -> bool:
        limits = self.limits
        if wall >= limits.wall_s:
            self.kill("wall", f"wall-clock limit of {limits.wall_s:g} s reached")
            return True
        if wall >= self.next_cpu_check:
            used = self.proc.read_usage() - self.cpu_base_s
            if used >= limits.cpu_s:
                self.kill("cpu", f"CPU limit of {limits.cpu_s:g} s reached")
                return True
            # CPU time cannot grow faster than wall time: no need to look again sooner.
            self.next_cpu_check = wall + max(limits.cpu_s - used, 0.005)
        return False

    def poll_timeout_s(self, wall: float) -> float:
        return max(min(self.limits.wall_s, self.next_cpu_check) - wall, 0.0)

    def _handle(self, events: list) -> bool:
        """Write, read and decode what the poll reported; True when the exchange is over."""
        eof = False
        for fd, _ in events:
            if fd == self.proc.stdin_fd:
                self.writer.write_some()
                continue
            try:
                chunk = os.read(self.proc.stdout_fd, READ_CHUNK_BYTES)
            except OSError as exc:
                if exc.errno != errno.EAGAIN:
                    eof = True
                continue
            if not chunk:
                eof = True
                continue
            if not self.on_output(chunk):
                return True
        if self.ex.killed_for or self.ex.rest:
            return True
        if eof:
            self.on_eof()
            return True
        return False

    # -- what each mode decides -----------------------------------------------------------

    def begin(self) -> None:
        """Before the first turn."""

    def before_turn(self) -> bool:
        """True: the exchange is over before this turn."""
        return False

    def on_output(self, chunk: bytes) -> bool:
        raise NotImplementedError

    def on_eof(self) -> None:
        """The program closed its output."""

    def after_turn(self, events: list) -> None:
        """After a turn that did not end the exchange."""

    def finish(self) -> None:
        """After the loop."""


class RawExchanger(_Exchanger):
    """The whole stdin, the whole stdout; output over the cap is cut and kills it."""

    def __init__(self, proc: _Process, data: bytes, *, limits: SandboxLimits,
                 clock: _PauseClock, deliver: OnChunk):
        super().__init__(proc, data, limits=limits, cpu_base_s=0.0, clock=clock,
                         deliver=deliver, close_when_done=True)

    def on_output(self, chunk: bytes) -> bool:
        ex, cap = self.ex, self.limits.max_output_bytes
        room = cap - ex.output_bytes
        if len(chunk) > room:
            if room:
                self.deliver(chunk[:room])
            ex.output_bytes += room
            self.kill("output", f"output over the cap of {cap} bytes")
            return False
        ex.output_bytes += len(chunk)
        self.deliver(chunk)
        return True


class FramedExchanger(_Exchanger):
    """ABI mode: decode the answer's frames; the fragment ends at the boundary after it.

    Pipelining: the first ``must_send`` bytes of the payload are the current fragment's
    input (the rest is already the next fragment's frame); ``carry`` is output read earlier
    that belongs to this fragment; ``next_fragment()`` is asked on every turn until it gives
    the next fragment, whose 'F' frame is then written behind."""

    def __init__(self, proc: _Process, payload: bytes, *, limits: SandboxLimits, cpu_base_s: float,
                 clock: _PauseClock, deliver: OnChunk, nap_s: float, must_send: int | None = None,
                 carry: bytes = b"", next_fragment: NextFragment | None = None):
        super().__init__(proc, payload, limits=limits, cpu_base_s=cpu_base_s, clock=clock,
                         deliver=deliver, close_when_done=False)
        self.decoder = OutputDecoder(limits.max_output_bytes)
        self.must_total = len(payload) if must_send is None else must_send   # this fragment's input
        self.input_end = proc.stdin_written + self.must_total   # ... ends at this input offset
        self.carry = carry
        self.next_fragment = next_fragment
        self.nap_s = nap_s
        self.queued: bytes | None = None
        self.answered = False
        self.wait_s = 0.0
        self.out_poller = select.poll()
        self.out_poller.register(proc.stdout_fd, select.POLLIN)

    def begin(self) -> None:
        if self.carry and not self.on_output(self.carry):
            self.next_fragment = None

    def before_turn(self) -> bool:
        if self.answered:
            if not (self.ex.rest or self._at_boundary()):
                return False
            if self.queued is not None and not self.ex.rest and self.out_poller.poll(0):
                self.ex.rest = _read_some(self.proc)   # the next fragment's output, already there
            return True
        if self.queued is None and self.next_fragment is not None and self.proc.stdin_open:
            self._queue_next()
        return False

    def poll_timeout_s(self, wall: float) -> float:
        return 0.0 if self.answered else super().poll_timeout_s(wall)

    def _queue_next(self) -> None:
        """Ask for the next fragment; write its frame behind the current input."""
        frag = self.next_fragment()
        if frag is None:
            return
        self.queued = bytes(frag)
        self.writer.append(frame_header("F", len(self.queued)) + self.queued)

    def _at_boundary(self) -> bool:
        if self.queued is not None:
            return boundary.settled(queued=True, consumed=self.writer.consumed(),
                                    input_end=self.input_end)
        state = self.proc.state()                  # before the output pipe: see boundary.py
        self.ex.usage_read = True
        return boundary.settled(queued=False, state=state,
                                output_waiting=bool(self.out_poller.poll(0)))

    def on_output(self, chunk: bytes) -> bool:
        """Decode output; False when the exchange is over (settled or killed)."""
        if self.answered:
            return self._after_answer_output(chunk)
        ex = self.ex
        try:
            events, rest = self.decoder.feed_split(chunk)
            for event in events:
                self._on_frame(event)
        except FrameError as exc:
            self.kill("output" if exc.outcome == "output_limit" else "protocol", exc.message)
            return False
        finally:
            ex.output_bytes = self.decoder.output_bytes
        self.answered = ex.result is not None
        return self._after_answer_output(rest) if rest else True

    def _on_frame(self, event: Data | End | Error) -> None:
        ex = self.ex
        if isinstance(event, Data):
            self.deliver(event.data)
        elif isinstance(event, End):
            # with the next fragment behind it, what the program has read matters
            # (boundary.py); alone, all of its input must at least have been sent
            # (then the boundary shows it was read: blocked reading, pipe empty)
            read = self.writer.consumed() if self.queued is not None else self.proc.stdin_written
            if read < self.input_end:
                raise FrameError(
                    "protocol_error",
                    f"result ended after only {max(self.must_total - (self.input_end - read), 0)} "
                    f"of {self.must_total} input bytes were read")
            ex.result = Outcome.OK
        elif isinstance(event, Error):
            ex.result = Outcome.FRAGMENT_ERROR
            ex.message = event.message[:MAX_MESSAGE_CHARS]

    def _after_answer_output(self, chunk: bytes) -> bool:
        """Output read after the answer: the next fragment's once the program has started
        reading it, else this fragment's misbehaviour. False: the exchange is over."""
        if self.queued is not None and self.writer.consumed() > self.input_end:
            self.ex.rest += chunk
            return False
        self.kill("protocol", f"{len(chunk)} bytes of output after the fragment's end frame "
                              "(output for a fragment never sent)")
        return False

    def on_eof(self) -> None:
        if self.answered:
            _ended_after_answer(self.proc, self.ex)
        elif self.decoder.in_frame:
            self.ex.message = "output ended inside a frame"

    def after_turn(self, events: list) -> None:
        if self.answered and not events:
            # waiting for the boundary: sleep, never spin (the program may be idle-priority)
            time.sleep(self.wait_s)
            self.wait_s = boundary.next_wait_s(self.wait_s)
        elif self.queued is not None and events:
            # the program has its next fragment: let its output gather in the pipe instead
            # of being woken (and waking it) for every frame
            time.sleep(self.nap_s)

    def finish(self) -> None:
        ex = self.ex
        if ex.killed_for and ex.result is not None:
            ex.result, ex.after_answer = None, True    # misbehaved after its answer
        if ex.result is not None and self.queued is not None:
            ex.queued = self.queued
            ex.unsent = self.writer.unsent()


def _read_some(proc: _Process) -> bytes:
    try:
        return os.read(proc.stdout_fd, READ_CHUNK_BYTES)
    except OSError:
        return b""


def _ended_after_answer(proc: _Process, ex: Exchange) -> None:
    """The process ended after answering: exit status 0 is a clean end between fragments;
    a signal or another status is this fragment's failure."""
    proc.reap()
    if proc.signal is None and proc.exit_code == 0:
        return
    ex.result, ex.after_answer = None, True
