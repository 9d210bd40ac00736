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
from pathlib import Path

from ..errors import ConfigError, NativeBuildError, SandboxClosed, SandboxError
from ..native import find_binary
from ..outcome import MAX_MESSAGE_CHARS, Outcome, OutcomeRecord
from . import oom
from .classify import classify_exit
from .exchange import (
    READ_CHUNK_BYTES,
    Exchange,
    FramedExchanger,
    NextFragment,
    OnChunk,
    RawExchanger,
    loader_refusal,
)
from .frames import (
    encode_frame,
    frame_header,
)
from .limits import SandboxLimits

log = logging.getLogger(__name__)

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
LOADER_START_TIMEOUT_S = 30.0
MAX_FRAGMENT_BYTES = 0xFFFFFFFF
PIPELINE_NAP_S = 0.001          # read batching while the program has its next fragment (max)



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

    def __init__(self, loader: Path, program: _Program, limits: SandboxLimits, cpu_backstop_s: int,
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
                *limits.loader_args(), "--cpu-limit-s", str(cpu_backstop_s),
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
        proc = _Process(self._loader, self._program, self.limits,
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
        self._bad_program = loader_refusal(status)
        return self._bad_program

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
            ex = FramedExchanger(proc, payload, limits=self.limits, cpu_base_s=self._cpu_base_s,
                                 clock=self._clock, deliver=deliver, must_send=must_send,
                                 carry=carry, next_fragment=next_fragment,
                                 nap_s=min(PIPELINE_NAP_S, self._avg_wall_s / 8)).run()
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


def _record_for_ended(proc: _Process, ex: Exchange, cpu_base_s: float, *, raw: bool) -> OutcomeRecord:
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
        proc = _Process(_loader_path(loader), prog, limits,
                        math.ceil(limits.cpu_s) + 1, idle)
    finally:
        prog.close()
    try:
        status = proc.wait_started()
        if status:
            proc.reap()
            return loader_refusal(status), None
        collected = bytearray() if on_chunk is None else None
        deliver = collected.extend if collected is not None else on_chunk
        ex = RawExchanger(proc, bytes(data), limits=limits, clock=_PauseClock(),
                          deliver=deliver).run()
        proc.reap()
        rec = _record_for_ended(proc, ex, 0.0, raw=True)
    finally:
        proc.kill()
        proc.reap()
    if rec.ok and collected is not None:
        return rec, bytes(collected)
    return rec, None
