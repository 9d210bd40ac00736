"""The sandbox runner: start the trusted loader, feed ABI v1 frames, watch the limits.

One :class:`Sandbox` keeps one process warm across the fragments of a job; after any
failure the next fragment gets a fresh process. :func:`run_raw` runs a program once on raw
stdin. Program misbehaviour never raises: it is an :class:`OutcomeRecord`.

Threads: ``run()`` is called from one thread at a time (a worker's slot thread);
``pause()``, ``resume()`` and ``close()`` may be called from any other thread.

Pipelining: ``run(fragment, next_fragment=...)`` writes the next fragment's 'F' frame into
the program's input while the current one runs, so the program goes straight from one
fragment to the next instead of waiting for the runner (and its caller) between them. The
next ``run()`` with those same bytes then only reads the answer. Output after the current
fragment's 'E' / 'X' belongs to the next fragment and is kept for it; a failure is reported
for the fragment the program was working on (the next one then starts in a fresh process).
While the program has its next fragment, the runner reads its output in batches (it naps
between reads: an eighth of the recent fragments' wall time, at most ``PIPELINE_NAP_S``)
instead of waking on every 'D' frame: each such wake-up is a context switch that costs
the program's CPU time and cache.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import queue
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, NativeBuildError, SandboxClosed, SandboxError
from ..native import find_binary
from ..outcome import MAX_MESSAGE_CHARS, Outcome, OutcomeRecord
from . import boundary, oom
from .classify import classify_exit
from .frames import (
    Data,
    End,
    Error,
    FrameError,
    OutputDecoder,
    encode_frame,
    frame_header,
)
from .limits import SandboxLimits

log = logging.getLogger(__name__)

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
READ_CHUNK_BYTES = 1 << 16
WRITE_CHUNK_BYTES = 1 << 16
LOADER_START_TIMEOUT_S = 30.0
MAX_FRAGMENT_BYTES = 0xFFFFFFFF
PIPELINE_NAP_S = 0.001          # read batching while the program has its next fragment (max)

NextFragment = Callable[[], "bytes | None"]

OnChunk = Callable[[bytes], None]


#: a job's defaults and the seller's default memory cap
DEFAULT_LIMITS = SandboxLimits()


class _PauseClock:
    """Monotonic seconds that stand still while paused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paused_at: float | None = None
        self._paused_total = 0.0

    def pause(self) -> None:
        with self._lock:
            if self._paused_at is None:
                self._paused_at = time.monotonic()

    def resume(self) -> None:
        with self._lock:
            if self._paused_at is not None:
                self._paused_total += time.monotonic() - self._paused_at
                self._paused_at = None

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def now(self) -> float:
        with self._lock:
            t = time.monotonic()
            if self._paused_at is not None:
                t = self._paused_at
            return t - self._paused_total


class _Program:
    """The program to run: a file path, or bytes kept in a memfd. ``fd()`` gives a fresh
    read-only descriptor at offset 0 for each start."""

    def __init__(self, program: bytes | bytearray | memoryview | os.PathLike | str):
        self._memfd: int | None = None
        self.path: Path | None = None
        if isinstance(program, (bytes, bytearray, memoryview)):
            try:
                fd = os.memfd_create("cpushare-program", os.MFD_CLOEXEC)
            except OSError as exc:
                raise SandboxError(f"memfd_create for the program failed: {exc}") from exc
            try:
                view = memoryview(program)
                while view:
                    view = view[os.write(fd, view):]
            except OSError as exc:
                os.close(fd)
                raise SandboxError(f"writing the program to a memfd failed: {exc}") from exc
            self._memfd = fd
        elif isinstance(program, (str, os.PathLike)):
            self.path = Path(program)
        else:
            raise TypeError(f"program must be bytes or a path, not {type(program).__name__}")

    def fd(self) -> int:
        try:
            if self._memfd is not None:
                return os.open(f"/proc/self/fd/{self._memfd}", os.O_RDONLY | os.O_CLOEXEC)
            return os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise SandboxError(f"cannot open the program {self.path or '(memfd)'}: {exc}") from exc

    def close(self) -> None:
        if self._memfd is not None:
            os.close(self._memfd)
            self._memfd = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:   # interpreter shutdown
            pass


class _Spawner:
    """Starts every loader from one long-lived daemon thread.

    The loader asks to be SIGKILLed when its parent dies (PR_SET_PDEATHSIG), so that no
    sandbox outlives a killed worker. Linux sends that signal when the *thread* that started
    the process ends; starting them all from this thread, which lives as long as the Python
    process, means a sandbox never dies because some short-lived caller thread ended.
    """

    _lock = threading.Lock()
    _instance: _Spawner | None = None

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="cpushare-sandbox-spawner",
                                        daemon=True)
        self._thread.start()

    @classmethod
    def get(cls) -> _Spawner:
        with cls._lock:
            inst = cls._instance
            if inst is None or inst.pid != os.getpid() or not inst._thread.is_alive():
                inst = cls._instance = cls()   # first use, or in a forked child
            return inst

    def _loop(self) -> None:
        while True:
            fn, done, box = self._jobs.get()
            try:
                box.append((True, fn()))
            except BaseException as exc:   # handed back to the caller
                box.append((False, exc))
            done.set()

    def call(self, fn: Callable[[], subprocess.Popen]) -> subprocess.Popen:
        if threading.current_thread() is self._thread:
            return fn()
        done, box = threading.Event(), []
        self._jobs.put((fn, done, box))
        done.wait()
        ok, value = box[0]
        if ok:
            return value
        raise value


def _loader_path(loader: os.PathLike | str | None) -> Path:
    if loader is not None:
        p = Path(loader)
        if not p.is_file():
            raise SandboxError(f"loader {p} does not exist")
        return p
    try:
        return find_binary("cpushare-loader")
    except NativeBuildError as exc:
        raise SandboxError(f"the sandbox loader is not available: {exc}") from exc


class _Process:
    """One loader + program process and its pipes."""

    def __init__(self, loader: Path, program: _Program, max_memory_bytes: int, cpu_backstop_s: int,
                 idle: bool = True):
        self.cpu_backstop_s = cpu_backstop_s
        self.lock = threading.Lock()
        self.reaped = False
        self.exit_code: int | None = None
        self.signal: int | None = None
        self.cpu_total_s = 0.0          # last value read
        self.peak_memory_bytes = 0
        self.stdin_open = True
        self.stdin_written = 0          # bytes written to its input so far
        self._stat_fd: int | None = None
        self._status_fd: int | None = None
        prog_fd = program.fd()
        status_r, status_w = os.pipe()
        argv = [str(loader), "--program-fd", str(prog_fd), "--status-fd", str(status_w),
                "--max-memory", str(max_memory_bytes), "--cpu-limit-s", str(cpu_backstop_s),
                "--parent-pid", str(os.getpid())]
        if not idle:
            argv.append("--no-idle")
        try:
            self.popen = _Spawner.get().call(lambda: subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env={}, pass_fds=(prog_fd, status_w), close_fds=True, bufsize=0))
        except OSError as exc:
            os.close(status_r)
            raise SandboxError(f"cannot start the loader {loader}: {exc}") from exc
        finally:
            os.close(status_w)
            os.close(prog_fd)
        self.pid = self.popen.pid
        self.stdin_fd = self.popen.stdin.fileno()
        self.stdout_fd = self.popen.stdout.fileno()
        os.set_blocking(self.stdin_fd, False)
        self._status_r = status_r

    # -- start-up --------------------------------------------------------------------

    def wait_started(self) -> str:
        """Read the loader's status pipe to EOF; return its message ('' = program started).

        The loader writes "R" just before seccomp when the program starts, or one line
        "bad_program: ..." / "error: ..." when it refuses; nothing at all means it died
        before starting the program (then SandboxError: it is never a program outcome)."""
        buf = bytearray()
        deadline = time.monotonic() + LOADER_START_TIMEOUT_S
        poller = select.poll()
        poller.register(self._status_r, select.POLLIN)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    self.reap()
                    raise SandboxError("the loader did not start within "
                                       f"{LOADER_START_TIMEOUT_S:g} s")
                if not poller.poll(left * 1000):
                    continue
                chunk = os.read(self._status_r, 4096)
                if not chunk:
                    break
                if len(buf) < 8192:
                    buf += chunk
        finally:
            os.close(self._status_r)
        if buf == b"R":
            return ""
        if not buf:
            self.kill()
            self.reap()
            how = (f"signal {self.signal}" if self.signal is not None
                   else f"exit status {self.exit_code}")
            raise SandboxError(f"the loader ended ({how}) without starting the program")
        return buf.decode("utf-8", errors="replace").strip()

    # -- accounting ------------------------------------------------------------------

    def read_usage(self, stat: bool = True) -> float:
        """CPU seconds used so far (utime + stime, /proc/PID/stat; ``stat=False``: as last
        read); also tracks the peak resident memory (VmHWM of /proc/PID/status: the RSS in
        stat is approximate)."""
        if stat or self._status_fd is None:
            self.state()
        try:
            status = os.pread(self._status_fd, 4096, 0)
            at = status.find(b"VmHWM:")
            if at >= 0:
                hwm = int(status[at + 6:status.index(b"kB", at)]) * 1024
                self.peak_memory_bytes = max(self.peak_memory_bytes, hwm)
        except (OSError, ValueError, TypeError):
            pass
        return self.cpu_total_s

    def state(self) -> bytes:
        """Its state letter from /proc/PID/stat (b"S": sleeping; b"" if unreadable); the
        same read updates :attr:`cpu_total_s`."""
        try:
            if self._stat_fd is None:
                self._stat_fd = os.open(f"/proc/{self.pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
                self._status_fd = os.open(f"/proc/{self.pid}/status", os.O_RDONLY | os.O_CLOEXEC)
            raw = os.pread(self._stat_fd, 1024, 0)
            at = raw.rindex(b")") + 2
            fields = raw[at:].split()
            cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S
        except (OSError, ValueError, IndexError):
            return b""
        self.cpu_total_s = max(self.cpu_total_s, cpu)
        return raw[at:at + 1]

    # -- signals and reaping (under self.lock: never signal a reaped pid) ---------------

    def send(self, sig: int) -> None:
        with self.lock:
            if not self.reaped:
                try:
                    os.kill(self.pid, sig)
                except ProcessLookupError:
                    pass

    def kill(self) -> None:
        self.send(signal.SIGKILL)

    def reap(self, grace_s: float = 2.0) -> None:
        """Wait for the process to end (SIGKILL after ``grace_s``) and record how."""
        deadline = time.monotonic() + grace_s
        delay = 0.0002
        while True:
            with self.lock:
                if self.reaped:
                    return
                try:
                    pid, status, usage = os.wait4(self.pid, os.WNOHANG)
                except ChildProcessError:
                    pid, status, usage = self.pid, 0, None
                if pid:
                    self.reaped = True
                    self.popen.returncode = os.waitstatus_to_exitcode(status) if usage else 0
                    if usage is not None:
                        if os.WIFSIGNALED(status):
                            self.signal = os.WTERMSIG(status)
                        else:
                            self.exit_code = os.WEXITSTATUS(status)
                        self.cpu_total_s = max(self.cpu_total_s, usage.ru_utime + usage.ru_stime)
                    self._close_fds()
                    return
            if time.monotonic() > deadline:
                self.kill()
            time.sleep(delay)
            delay = min(delay * 2, 0.01)

    def close_stdin(self) -> None:
        if self.stdin_open:
            self.stdin_open = False
            try:
                self.popen.stdin.close()
            except OSError:
                pass

    def _close_fds(self) -> None:
        self.close_stdin()
        try:
            self.popen.stdout.close()
        except OSError:
            pass
        for fd in (self._stat_fd, self._status_fd):
            if fd is not None:
                os.close(fd)
        self._stat_fd = self._status_fd = None


@dataclass
class _Exchange:
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


def _exchange(proc: _Process, payload: bytes, *, raw: bool, limits: SandboxLimits, cpu_base_s: float,
              clock: _PauseClock, deliver: OnChunk, must_send: int | None = None,
              carry: bytes = b"", next_fragment: NextFragment | None = None,
              nap_s: float = PIPELINE_NAP_S) -> _Exchange:
    """Send ``payload`` and read the answer until the fragment ends, the process ends, or a
    limit is hit (then the process is killed). Never blocks longer than the limits allow.

    ABI mode: the fragment ends at the boundary after its answer (:mod:`.boundary`):
    until then its limits still apply and any misbehaviour is its failure.

    Pipelining (ABI mode only): the first ``must_send`` bytes of ``payload`` are the
    current fragment's input (the rest is already the next fragment's frame); ``carry`` is
    output read earlier that belongs to this fragment; ``next_fragment()`` is asked on every
    turn until it gives the next fragment, whose 'F' frame is then written behind."""
    ex = _Exchange()
    decoder = None if raw else OutputDecoder(limits.max_output_bytes)
    view = memoryview(payload)
    sent = 0
    must_total = len(view) if must_send is None else must_send   # this fragment's input
    input_end = proc.stdin_written + must_total    # ... ends at this absolute input offset
    queued: bytes | None = None
    answered = False
    wait_s = 0.0
    poller = select.poll()
    poller.register(proc.stdout_fd, select.POLLIN)
    out_poller = select.poll()
    out_poller.register(proc.stdout_fd, select.POLLIN)
    writing = True

    def stop_writing() -> None:
        nonlocal writing
        if writing:
            writing = False
            try:
                poller.unregister(proc.stdin_fd)
            except KeyError:
                pass
            if raw:
                proc.close_stdin()

    def write_some() -> None:
        nonlocal sent
        try:
            while sent < len(view):
                n = os.write(proc.stdin_fd, view[sent:sent + WRITE_CHUNK_BYTES])
                sent += n
                proc.stdin_written += n
        except BlockingIOError:
            return
        except (BrokenPipeError, ConnectionResetError):
            stop_writing()
            proc.close_stdin()
            return
        stop_writing()

    def consumed() -> int:
        """Input bytes the program has read so far (absolute)."""
        unread = boundary.pipe_unread_bytes(proc.stdin_fd) if proc.stdin_open else 0
        return proc.stdin_written - unread

    def kill(reason: str, message: str) -> None:
        ex.killed_for, ex.kill_message = reason, message
        proc.kill()

    def queue_next() -> None:
        """Ask for the next fragment; write its frame behind the current input."""
        nonlocal view, sent, writing, queued
        frag = next_fragment()
        if frag is None:
            return
        queued = bytes(frag)
        view = memoryview(bytes(view[sent:]) + frame_header("F", len(queued)) + queued)
        sent = 0
        if not writing:
            writing = True
            poller.register(proc.stdin_fd, select.POLLOUT)
        write_some()

    def after_answer_output(chunk: bytes) -> bool:
        """Output read after the answer: the next fragment's once the program has started
        reading it, else this fragment's misbehaviour. False: the exchange is over."""
        if queued is not None and consumed() > input_end:
            ex.rest += chunk
            return False
        kill("protocol", f"{len(chunk)} bytes of output after the fragment's end frame "
                         "(output for a fragment never sent)")
        return False

    def feed(chunk: bytes) -> bool:
        """Decode output; False when the exchange is over (settled or killed)."""
        nonlocal answered
        if answered:
            return after_answer_output(chunk)
        try:
            events, rest = decoder.feed_split(chunk)
            for event in events:
                if isinstance(event, Data):
                    deliver(event.data)
                elif isinstance(event, End):
                    # with the next fragment behind it, what the program has read matters
                    # (boundary.py); alone, all of its input must at least have been sent
                    # (then the boundary shows it was read: blocked reading, pipe empty)
                    read = consumed() if queued is not None else proc.stdin_written
                    if read < input_end:
                        raise FrameError(
                            "protocol_error",
                            f"result ended after only {max(must_total - (input_end - read), 0)} "
                            f"of {must_total} input bytes were read")
                    ex.result = Outcome.OK
                elif isinstance(event, Error):
                    ex.result = Outcome.FRAGMENT_ERROR
                    ex.message = event.message[:MAX_MESSAGE_CHARS]
        except FrameError as exc:
            kill("output" if exc.outcome == "output_limit" else "protocol", exc.message)
            return False
        finally:
            ex.output_bytes = decoder.output_bytes
        answered = ex.result is not None
        return after_answer_output(rest) if rest else True

    def at_boundary() -> bool:
        if queued is not None:
            return boundary.settled(queued=True, consumed=consumed(), input_end=input_end)
        state = proc.state()                  # before the output pipe: see boundary.py
        ex.usage_read = True
        return boundary.settled(queued=False, state=state,
                                output_waiting=bool(out_poller.poll(0)))

    start = clock.now()
    if len(view) == 0:
        stop_writing()
    else:
        poller.register(proc.stdin_fd, select.POLLOUT)
        write_some()
    if carry and not feed(carry):
        next_fragment = None
    next_cpu_check = 0.0
    while not ex.killed_for:
        if answered:
            if ex.rest or at_boundary():
                if queued is not None and not ex.rest and out_poller.poll(0):
                    ex.rest = _read_some(proc)   # the next fragment's output, already there
                break
        elif queued is None and next_fragment is not None and proc.stdin_open:
            queue_next()
        wall = clock.now() - start
        if wall >= limits.wall_s:
            kill("wall", f"wall-clock limit of {limits.wall_s:g} s reached")
            break
        if wall >= next_cpu_check:
            used = proc.read_usage() - cpu_base_s
            if used >= limits.cpu_s:
                kill("cpu", f"CPU limit of {limits.cpu_s:g} s reached")
                break
            # CPU time cannot grow faster than wall time: no need to look again sooner.
            next_cpu_check = wall + max(limits.cpu_s - used, 0.005)
        timeout_s = 0.0 if answered else max(min(limits.wall_s, next_cpu_check) - wall, 0.0)
        events = poller.poll(math.ceil(timeout_s * 1000))
        eof = False
        for fd, _ in events:
            if fd == proc.stdin_fd:
                write_some()
                continue
            try:
                chunk = os.read(proc.stdout_fd, READ_CHUNK_BYTES)
            except OSError as exc:
                if exc.errno != errno.EAGAIN:
                    eof = True
                continue
            if not chunk:
                eof = True
                continue
            if raw:
                room = limits.max_output_bytes - ex.output_bytes
                if len(chunk) > room:
                    if room:
                        deliver(chunk[:room])
                    ex.output_bytes += room
                    kill("output", f"output over the cap of {limits.max_output_bytes} bytes")
                    break
                ex.output_bytes += len(chunk)
                deliver(chunk)
                continue
            if not feed(chunk):
                break
        if ex.killed_for or ex.rest:
            break
        if eof:
            if answered:
                _ended_after_answer(proc, ex)
            elif decoder is not None and decoder.in_frame:
                ex.message = "output ended inside a frame"
            break
        if answered and not events:
            # waiting for the boundary: sleep, never spin (the program may be idle-priority)
            time.sleep(wait_s)
            wait_s = boundary.next_wait_s(wait_s)
        elif queued is not None and events:
            # the program has its next fragment: let its output gather in the pipe instead
            # of being woken (and waking it) for every frame
            time.sleep(nap_s)
    ex.wall_s = clock.now() - start
    if ex.killed_for and ex.result is not None:
        ex.result, ex.after_answer = None, True    # misbehaved after its answer
    if ex.result is not None and queued is not None:
        ex.queued = queued
        ex.unsent = bytes(view[sent:])
    return ex


def _read_some(proc: _Process) -> bytes:
    try:
        return os.read(proc.stdout_fd, READ_CHUNK_BYTES)
    except OSError:
        return b""


def _ended_after_answer(proc: _Process, ex: _Exchange) -> None:
    """The process ended after answering: exit status 0 is a clean end between fragments;
    a signal or another status is this fragment's failure."""
    proc.reap()
    if proc.signal is None and proc.exit_code == 0:
        return
    ex.result, ex.after_answer = None, True


class Sandbox:
    """One warm sandboxed process serving fragments of one job (ABI v1).

    ``run(fragment, on_chunk)`` returns an :class:`OutcomeRecord`. Result bytes go to
    ``on_chunk`` as they arrive; without it they are collected and, when the outcome is
    ``ok``, left in :attr:`last_output` (``None`` otherwise: partial output followed by a
    failure is not a result).

    ``idle=False`` keeps the program at normal priority instead of SCHED_IDLE (tests and
    benchmarks that must not be starved by other load; a seller keeps the default).

    ``run(fragment, next_fragment=f)`` pipelines: ``f()`` is asked (from inside ``run``,
    until it gives one) for the fragment that will follow; its frame goes to the program
    behind the current one. Call ``run()`` with those bytes next to get its result; any
    other call first replaces the process (it holds a fragment nobody wants).
    """

    pipelining = True   # run() takes next_fragment (callers check for it)

    def __init__(self, program: bytes | os.PathLike | str, shared_input: bytes = b"",
                 limits: SandboxLimits = DEFAULT_LIMITS, *, loader: os.PathLike | str | None = None,
                 idle: bool = True):
        if not isinstance(limits, SandboxLimits):
            raise ConfigError(f"limits must be a SandboxLimits, not {type(limits).__name__}")
        if len(shared_input) > MAX_FRAGMENT_BYTES:
            raise ConfigError(f"shared input of {len(shared_input)} bytes does not fit a frame")
        self.limits = limits
        self._idle = idle
        self._loader = _loader_path(loader)
        self._program = _Program(program)
        self._shared_frame = encode_frame("S", bytes(shared_input))
        self._clock = _PauseClock()
        self._lock = threading.Lock()       # guards _proc / _closed against other threads
        self._run_lock = threading.Lock()   # one run() at a time
        self._proc: _Process | None = None
        self._closed = False
        self._bad_program: OutcomeRecord | None = None
        self._cpu_base_s = 0.0
        self._queued: bytes | None = None   # pipelined: the fragment the process has next
        self._unsent = b""                  # ... the part of its frame not written yet
        self._carry = b""                   # ... and its output read so far
        self._avg_wall_s = PIPELINE_NAP_S * 8    # recent fragments' wall time (moving average)
        self.last_output: bytes | None = None
        self.processes_started = 0
        self._oom_kills: int | None = None  # the machine's OOM kill count when it started

    # -- public API -------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and not proc.reaped else None

    def pause(self) -> None:
        """SIGSTOP the program (the seller's machine is busy). Its wall time stops too."""
        with self._lock:
            self._clock.pause()
            if self._proc is not None:
                self._proc.send(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused program."""
        with self._lock:
            if self._proc is not None:
                self._proc.send(signal.SIGCONT)
            self._clock.resume()

    def close(self) -> None:
        """Kill and reap the process; idempotent; from any thread (aborts a running run(),
        which then raises :class:`SandboxClosed`)."""
        with self._lock:
            self._closed = True
            proc = self._proc
        if proc is not None:
            proc.kill()
        if self._run_lock.acquire(blocking=False):
            try:
                self._drop_process()
                self._program.close()
            finally:
                self._run_lock.release()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and not proc.reaped:
            try:
                proc.kill()
                proc.reap()
            except Exception:   # interpreter shutdown: nothing more to do
                pass

    def run(self, fragment: bytes, on_chunk: OnChunk | None = None, *,
            next_fragment: NextFragment | None = None) -> OutcomeRecord:
        """Run one fragment; see the class docstring."""
        if len(fragment) > MAX_FRAGMENT_BYTES:
            raise ConfigError(f"fragment of {len(fragment)} bytes does not fit a frame")
        with self._run_lock:
            self.last_output = None
            if self._closed:
                raise SandboxClosed("the sandbox is closed")
            if self._bad_program is not None:
                return self._bad_program
            fragment = bytes(fragment)
            collected = bytearray() if on_chunk is None else None
            deliver = collected.extend if collected is not None else on_chunk
            if self._queued is not None:
                if self._proc is not None and self._queued == fragment:
                    rec = self._run_queued(fragment, deliver, next_fragment)
                    if rec is not None:
                        if rec.ok and collected is not None:
                            self.last_output = bytes(collected)
                        return rec
                else:
                    self._drop_process()   # it holds a fragment that is not wanted now
            payload = frame_header("F", len(fragment)) + fragment
            if self._proc is not None:
                stray = self._check_between_fragments()
                if stray is not None:
                    return stray
            fresh = self._ensure_process()
            if isinstance(fresh, OutcomeRecord):
                return fresh
            if fresh:
                payload = self._shared_frame + payload
            rec = self._run_fragment(payload, deliver, next_fragment=self._may_queue(next_fragment))
            if rec.ok and collected is not None:
                self.last_output = bytes(collected)
            return rec

    # -- internals --------------------------------------------------------------------

    def _may_queue(self, next_fragment: NextFragment | None) -> NextFragment | None:
        """No pipelining when the process must be recycled before the next fragment."""
        proc = self._proc
        if next_fragment is None or proc is None:
            return None
        if proc.cpu_total_s + 2 * self.limits.cpu_s >= self.limits.cpu_backstop_s - 1:
            return None
        return next_fragment

    def _run_queued(self, fragment: bytes, deliver: OnChunk,
                    next_fragment: NextFragment | None) -> OutcomeRecord | None:
        """Answer the fragment the process already has. ``None``: the process ended
        without a word for it (cleanly, as a process may between fragments): the caller
        runs it in a fresh process."""
        unsent, carry = self._unsent, self._carry
        self._queued, self._unsent, self._carry = None, b"", b""
        proc = self._proc
        rec = self._run_fragment(unsent, deliver, must_send=len(unsent), carry=carry,
                                 next_fragment=self._may_queue(next_fragment))
        if (not rec.ok and rec.output_bytes == 0 and not carry and proc.exit_code == 0
                and proc.signal is None and rec.outcome is not Outcome.FRAGMENT_ERROR
                and rec.cpu_s < self.limits.cpu_s and rec.wall_s < self.limits.wall_s):
            return None
        return rec

    def _ensure_process(self) -> bool | OutcomeRecord:
        """Start a process if there is none (True = fresh); a bad program's record."""
        proc = self._proc
        if proc is not None and proc.cpu_total_s + self.limits.cpu_s >= self.limits.cpu_backstop_s - 1:
            self._drop_process()   # recycle before the RLIMIT_CPU backstop could be reached
            proc = None
        if proc is not None:
            return False
        proc = _Process(self._loader, self._program, self.limits.max_memory_bytes,
                        self.limits.cpu_backstop_s, self._idle)
        with self._lock:
            self._proc = proc
            closed = self._closed
            if self._clock.paused:
                proc.send(signal.SIGSTOP)
        self.processes_started += 1
        self._cpu_base_s = 0.0
        self._oom_kills = oom.oom_kill_count()
        if closed:
            self._drop_process()
            self._program.close()
            raise SandboxClosed("the sandbox was closed while starting")
        status = proc.wait_started()
        if status:
            self._drop_process()
            return self._loader_refused(status)
        log.debug("sandbox process %d started", proc.pid)
        return True

    def _loader_refused(self, status: str) -> OutcomeRecord:
        kind, _, message = status.partition(": ")
        if kind == "bad_program":
            self._bad_program = OutcomeRecord(Outcome.BAD_PROGRAM, message=message[:MAX_MESSAGE_CHARS])
            return self._bad_program
        raise SandboxError(f"the sandbox loader failed: {message or status}")

    def _check_between_fragments(self) -> OutcomeRecord | None:
        """A warm process must be silent between fragments; a dead one is replaced."""
        proc = self._proc
        poller = select.poll()   # not select(): the worker may hold fds above 1023
        poller.register(proc.stdout_fd, select.POLLIN)
        if not poller.poll(0):
            return None
        try:
            chunk = os.read(proc.stdout_fd, READ_CHUNK_BYTES)
        except OSError:
            chunk = b""
        self._drop_process()
        if chunk:
            return OutcomeRecord(Outcome.PROTOCOL_ERROR,
                                 message=f"{len(chunk)} bytes of output between fragments "
                                         "(output for a fragment never sent)")
        return None   # it ended after its last fragment: the caller starts afresh

    def _run_fragment(self, payload: bytes, deliver: OnChunk, *, must_send: int | None = None,
                      carry: bytes = b"", next_fragment: NextFragment | None = None) -> OutcomeRecord:
        proc = self._proc
        try:
            ex = _exchange(proc, payload, raw=False, limits=self.limits, cpu_base_s=self._cpu_base_s,
                           clock=self._clock, deliver=deliver, must_send=must_send, carry=carry,
                           next_fragment=next_fragment,
                           nap_s=min(PIPELINE_NAP_S, self._avg_wall_s / 8))
        except BaseException:
            proc.kill()
            self._drop_process()
            raise
        self._avg_wall_s += 0.2 * (ex.wall_s - self._avg_wall_s)
        if ex.result is not None:
            cpu_total = proc.read_usage(stat=not ex.usage_read)
            cpu_s = max(cpu_total - self._cpu_base_s, 0.0)
            self._cpu_base_s = cpu_total
            self._queued, self._unsent, self._carry = ex.queued, ex.unsent, ex.rest
            if proc.reaped:
                self._drop_process()   # it ended (status 0) after its answer
            return OutcomeRecord(ex.result, cpu_s=cpu_s, wall_s=ex.wall_s,
                                 peak_memory_bytes=proc.peak_memory_bytes,
                                 output_bytes=ex.output_bytes, message=ex.message)
        self._drop_process()
        with self._lock:
            closed = self._closed
        if closed:
            self._program.close()
            raise SandboxClosed("the sandbox was closed while the fragment was running")
        rec = _record_for_ended(proc, ex, self._cpu_base_s, raw=False)
        if (rec.outcome is Outcome.FORBIDDEN_SYSCALL
                and oom.killed_by_oom(self._oom_kills, oom.oom_kill_count())):
            raise SandboxError("the kernel's out-of-memory killer ended the sandbox: this "
                               "machine ran out of memory (the program was under its cap)")
        return rec

    def _drop_process(self) -> None:
        self._queued, self._unsent, self._carry = None, b"", b""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.reap()


def _record_for_ended(proc: _Process, ex: _Exchange, cpu_base_s: float, *, raw: bool) -> OutcomeRecord:
    outcome, message = classify_exit(
        exit_code=proc.exit_code, signal=proc.signal, killed_for=ex.killed_for,
        kill_message=ex.kill_message, cpu_total_s=proc.cpu_total_s,
        cpu_backstop_s=proc.cpu_backstop_s, raw=raw)
    if ex.message and outcome is not Outcome.OK:
        message = f"{message}; {ex.message}" if message else ex.message
    if ex.after_answer:
        message = f"after answering the fragment: {message}"
    return OutcomeRecord(
        outcome,
        exit_code=proc.exit_code,
        signal=proc.signal,
        cpu_s=max(proc.cpu_total_s - cpu_base_s, 0.0),
        wall_s=ex.wall_s,
        peak_memory_bytes=proc.peak_memory_bytes,
        output_bytes=ex.output_bytes,
        message=message[:MAX_MESSAGE_CHARS],
    )


def run_raw(program: bytes | os.PathLike | str, data: bytes, limits: SandboxLimits = DEFAULT_LIMITS,
            on_chunk: OnChunk | None = None, *, loader: os.PathLike | str | None = None,
            idle: bool = True) -> tuple[OutcomeRecord, bytes | None]:
    """Run ``program`` once with ``data`` as its whole stdin (no framing); its stdout is the
    result and exit status 0 is success. Returns the record and, when the outcome is ``ok``
    and no ``on_chunk`` was given, the output bytes (else ``None``)."""
    if not isinstance(limits, SandboxLimits):
        raise ConfigError(f"limits must be a SandboxLimits, not {type(limits).__name__}")
    prog = _Program(program)
    try:
        proc = _Process(_loader_path(loader), prog, limits.max_memory_bytes,
                        math.ceil(limits.cpu_s) + 1, idle)
    finally:
        prog.close()
    try:
        status = proc.wait_started()
        if status:
            proc.reap()
            kind, _, message = status.partition(": ")
            if kind == "bad_program":
                return OutcomeRecord(Outcome.BAD_PROGRAM, message=message[:MAX_MESSAGE_CHARS]), None
            raise SandboxError(f"the sandbox loader failed: {message or status}")
        collected = bytearray() if on_chunk is None else None
        deliver = collected.extend if collected is not None else on_chunk
        ex = _exchange(proc, bytes(data), raw=True, limits=limits, cpu_base_s=0.0,
                       clock=_PauseClock(), deliver=deliver)
        proc.reap()
        rec = _record_for_ended(proc, ex, 0.0, raw=True)
    finally:
        proc.kill()
        proc.reap()
    if rec.ok and collected is not None:
        return rec, bytes(collected)
    return rec, None
