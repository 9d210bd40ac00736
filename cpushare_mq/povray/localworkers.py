"""The embedded hub's local workers (``cpushare-worker`` subprocesses) of ``cpushare-povray
render``, watched: when every one of them has ended (e.g. none can run the sandbox on this
machine) the render is stopped at once with the workers' own one-line reason, instead of
waiting forever for tiles nobody will render.

Stopping them leaves nothing behind: the render becomes the child subreaper of its workers'
sandboxes (Linux's PR_SET_CHILD_SUBREAPER), so a sandbox whose worker ended before reaping it
(a worker killed after its grace; each sandbox dies with its worker, PR_SET_PDEATHSIG) is
handed to the render, which waits for it before it says the workers are gone."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..errors import SandboxError

WATCH_PERIOD_S = 0.25


def worker_cmd(endpoint: str, cache_dir: Path) -> list[str]:
    """A local worker of the embedded hub. These are the buyer's own cores, so the
    sandboxes run at normal priority (--nice 0), not at a seller's idle priority."""
    return [sys.executable, "-c", "import sys; from cpushare_mq.worker.cli import main; "
            "sys.exit(main())", "--hub", endpoint, "--insecure", "--slots", "1",
            "--nice", "0", "--cache-dir", str(cache_dir)]


class LocalWorkers:
    """Start ``n`` workers; :meth:`watch` ends a process once all of them have ended."""

    def __init__(self, endpoint: str, tmp: Path, n: int, *, verbose: bool = False):
        become_subreaper()
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self._stop = threading.Event()
        self.all_ended = threading.Event()
        for i in range(n):
            cache = tmp / f"worker{i}"
            cache.mkdir()
            log_path = tmp / f"worker{i}.log"
            self.logs.append(log_path)
            with open(log_path, "wb") as log_file:
                self.procs.append(subprocess.Popen(
                    worker_cmd(endpoint, cache), stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=None if verbose else log_file))

    def watch(self, proc: subprocess.Popen) -> None:
        """In a daemon thread: kill ``proc`` when every worker has ended."""
        def loop() -> None:
            while not self._stop.wait(WATCH_PERIOD_S):
                if all(p.poll() is not None for p in self.procs):
                    self.all_ended.set()
                    if proc.poll() is None:
                        proc.kill()
                    return
        threading.Thread(target=loop, name="cpushare-local-workers", daemon=True).start()

    def failure(self) -> SandboxError:
        """The error to report when every worker ended: the first one's last log line."""
        codes = sorted({p.returncode for p in self.procs})
        last = ""
        for log_path in self.logs:
            try:
                lines = log_path.read_text(errors="replace").strip().splitlines()
            except OSError:
                continue
            if lines:
                last = lines[-1].strip()
                break
        why = f": {last}" if last else " (run with -v to see their log)"
        return SandboxError(f"every local worker stopped (exit status {codes}){why}")

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        stop_processes(self.procs, timeout_s)
        reap_sandboxes(timeout_s)


PR_SET_CHILD_SUBREAPER = 36   # <linux/prctl.h>
LOADER_COMM = "cpushare-loader"   # the sandbox loader's name as the kernel keeps it (15 bytes)


def become_subreaper() -> None:
    """Orphaned descendants (our workers' sandboxes) become this process's children."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)   # best effort: Linux since 3.4


def _orphaned_sandboxes() -> list[int]:
    """This process's children that are sandbox loaders handed to it by ended workers, or a
    worker's child caught between its fork and the loader's exec (a worker ended while it
    was starting a sandbox): its name is still the workers' (:func:`worker_cmd`'s Python,
    as the kernel keeps names: 15 bytes). Other children (a browser opened by --open) are
    left alone."""
    ours = {LOADER_COMM, Path(sys.executable).name[:15]}
    pids = []
    for task in Path("/proc/self/task").iterdir():
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in kids:
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue
            if comm in ours:
                pids.append(int(pid))
    return pids


def reap_sandboxes(timeout_s: float) -> None:
    """Wait for the orphaned sandboxes to end (each is being killed already, or ends when it
    finds its worker gone), then SIGKILL and reap any still there at the deadline. Called
    once the render's own children (its workers, the server) are reaped."""
    deadline = time.monotonic() + timeout_s
    while True:
        pids = _orphaned_sandboxes()
        if not pids:
            return
        late = time.monotonic() > deadline
        for pid in pids:
            try:
                if late:
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0 if late else os.WNOHANG)
            except (ChildProcessError, ProcessLookupError):
                pass
        time.sleep(0.01)


def stop_processes(procs: list[subprocess.Popen], timeout_s: float = 10.0) -> None:
    import time

    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + timeout_s
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
