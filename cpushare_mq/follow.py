"""Following a job from the buyer's command line: stream its results into files, ride out a
hub restart (reconnect, re-attach, carry on) and end with a verdict that is always true.

Exit statuses (the same for ``cpushare submit`` and ``cpushare results``; docs/buyer-protocol.md):
0 every fragment succeeded, 1 some failed (or the hub could not be reached again),
2 bad command line or input, 3 the job was cancelled, 130 interrupted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .atomicfile import replace_file
from .errors import ConfigError, CpushareError
from .fragnames import result_file_name

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
RECONNECT_POLL_S = 1.0


def write_atomic(path: Path, chunks) -> int:
    """Write chunks to ``path`` via a temporary file + rename; returns the size."""
    try:
        return replace_file(path, chunks)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc


@dataclass
class Tally:
    """What was received so far (each index once, the last word wins)."""

    total: int
    ok: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)
    corrected: set[int] = field(default_factory=set)   # superseded after re-verification
    names: dict[int, str] = field(default_factory=dict)  # the hub's name of each fragment seen

    def record(self, index: int, ok: bool, reason: str, name: str = "") -> None:
        if name:
            self.names[index] = name
        if ok:
            self.ok.add(index)
            self.failed.pop(index, None)
        else:
            self.failed[index] = reason
            self.ok.discard(index)


def result_name(names: dict[int, str], index: int) -> str:
    return names.get(index) or str(index)


def hints(job_id: str, out: str) -> str:
    return (f"'cpushare results {job_id} --out {out} --new' fetches the rest, "
            f"'cpushare cancel {job_id}' stops it")


class Follower:
    """Streams a job's results into ``out``, re-attaching after a lost hub connection."""

    def __init__(self, job, attach: Callable[[], object], out: Path, out_arg: str,
                 bar, stderr: TextIO, reconnect_s: float):
        self.job = job
        self.attach = attach               # () -> a new Job following the same job id
        self.out = out
        self.out_arg = out_arg
        self.bar = bar
        self.stderr = stderr
        self.reconnect_s = reconnect_s
        self.tally = Tally(job.total)

    def _take(self, item) -> None:
        if item.ok:
            write_atomic(self.out / result_file_name(item.name, item.index), item.chunks)
        self.tally.record(item.index, item.ok, item.reason, item.name)
        if item.corrected:
            self.tally.corrected.add(item.index)
        self.bar.done, self.bar.failed = len(self.tally.ok), len(self.tally.failed)
        self.bar.waiting = ""
        self.bar.update()

    def _stream(self) -> None:
        from .client import BuyerTimeout

        while True:
            try:
                for item in self.job.items(timeout_s=1.0):
                    self._take(item)
                return
            except BuyerTimeout:
                self.bar.waiting = self.job.progress().get("waiting", "")   # nothing new: ask why
                self.bar.update()

    def _reattach(self, exc: CpushareError) -> None:
        """The hub went away: try again until it is back or reconnect_s passed."""
        deadline = time.monotonic() + self.reconnect_s
        self.bar.waiting = f"hub connection lost ({exc}); reconnecting"
        self.bar.update(force=True)
        while True:
            time.sleep(RECONNECT_POLL_S)
            try:
                self.job = self.attach()
                log.info("re-attached to job %s", self.job.id)
                self.bar.waiting = ""
                return
            except CpushareError as again:
                if not reconnectable(again) or time.monotonic() >= deadline:
                    raise
                self.bar.waiting = f"hub not back yet ({again}); reconnecting"
                self.bar.update()

    def run(self) -> dict:
        """Follow the job to its end; returns its final progress."""
        while True:
            try:
                self._stream()
                self.bar.finish()
                return self._final_progress()
            except CpushareError as exc:
                if not reconnectable(exc) or self.reconnect_s <= 0:
                    raise
                self._reattach(exc)

    def _final_progress(self) -> dict:
        """The job's state once every result is in. The control connection may be a stale one
        to a hub that has since restarted: a lost connection is retried on a fresh one."""
        try:
            return self.job.progress()
        except CpushareError as exc:
            if not reconnectable(exc):
                raise
            log.debug("progress on a stale control connection: %s", exc)
            return self.job.progress()


def reconnectable(exc: CpushareError) -> bool:
    """A lost or refused-while-restarting hub connection (not a refusal of the request)."""
    from .buyer_protocol import Err
    from .client import HubRefused

    if isinstance(exc, HubRefused):
        return exc.code in (Err.SHUTTING_DOWN, Err.INTERNAL)
    if isinstance(exc, ConfigError):
        return False
    return True


def verdict(job_id: str, progress: dict | None, tally: Tally, out: Path, stream: TextIO) -> int:
    """The final lines and exit status; never claims more than what happened."""
    total = tally.total
    if tally.corrected:
        fixed = sorted(tally.corrected)
        shown = ", ".join(result_name(tally.names, i) for i in fixed[:20])
        more = f" and {len(fixed) - 20} more" if len(fixed) > 20 else ""
        stream.write(f"{len(fixed)} results were corrected after re-verification (the worker that "
                     f"computed them was caught cheating): {shown}{more}\n")
    state = str((progress or {}).get("state", "")).lower()
    if state in ("cancelled", "canceled"):
        never = total - len(tally.ok) - len(tally.failed)
        stream.write(f"job {job_id} was cancelled: {len(tally.ok)} of {total} fragments succeeded "
                     f"(results in {out}/), {len(tally.failed)} failed, {never} never finished\n")
        _list_failures(tally, stream)
        return EXIT_CANCELLED
    if tally.failed:
        stream.write(f"{len(tally.failed)} of {total} fragments failed ({len(tally.ok)} succeeded, "
                     f"results in {out}/):\n")
        _list_failures(tally, stream)
        return EXIT_FAILED
    if len(tally.ok) < total:
        stream.write(f"job {job_id}: only {len(tally.ok)} of {total} results received "
                     f"(state {state or 'unknown'})\n")
        return EXIT_FAILED
    stream.write(f"all {total} fragments succeeded; results in {out}/\n")
    return EXIT_OK


def _list_failures(tally: Tally, stream: TextIO) -> None:
    items = sorted(tally.failed.items())
    for index, reason in items[:100]:
        name = tally.names.get(index)
        label = f"{name} (fragment {index})" if name else f"fragment {index}"
        stream.write(f"  {label}: {reason}\n")
    if len(items) > 100:
        stream.write(f"  ... and {len(items) - 100} more (see 'cpushare status --json')\n")
