"""The buyer side's one progress display (``cpushare submit/results``, ``cpushare-povray
render``): a live bar drawn by rich on a terminal, a plain line every few seconds otherwise
(logs and pipes get no control characters).

Both show done, failed, total, rate, ETA, elapsed and the hub's waiting reason.
"""

from __future__ import annotations

import time
from typing import TextIO

from .printable import printable

PLAIN_EVERY_S = 2.0


def fmt_duration(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(max(0, s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class ProgressView:
    """Set ``done``, ``failed``, ``waiting`` then call :meth:`update`; :meth:`finish` at the end."""

    def __init__(self, total: int, stream: TextIO, enabled: bool = True, unit: str = "fragments"):
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.unit = unit
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.start = time.monotonic()
        self.last_draw = 0.0
        self.done = 0
        self.failed = 0
        self.waiting = ""        # the hub's reason why queued fragments get no lease
        self._live = None        # (rich Progress, task id) once drawn on a terminal
        self._drawn: tuple | None = None   # (done, failed, waiting) of the last plain line

    # ------------------------------------------------------------------ numbers
    def rate(self) -> float:
        return (self.done + self.failed) / max(time.monotonic() - self.start, 1e-9)

    def eta_s(self) -> float | None:
        r = self.rate()
        return (self.total - self.done - self.failed) / r if r > 0 else None

    def counts(self) -> str:
        return f"{self.done} done, {self.failed} failed / {self.total}"

    def line(self) -> str:
        """The plain line (also the last line printed on a terminal)."""
        elapsed = time.monotonic() - self.start
        line = (f"{self.counts()}  {self.rate():.1f}/s  ETA {fmt_duration(self.eta_s())}  "
                f"elapsed {fmt_duration(elapsed)}")
        return f"{line}  waiting: {printable(self.waiting)}" if self.waiting else line

    # ------------------------------------------------------------------ drawing
    def _rich(self):
        if self._live is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=self.stream, force_terminal=True)
            progress = Progress(BarColumn(), TextColumn("{task.fields[counts]}", markup=False),
                                TextColumn("{task.fields[rate]}", markup=False),
                                TextColumn("ETA {task.fields[eta]}", markup=False), TimeElapsedColumn(),
                                # the hub's words (they may name a job, a key, a file): not markup
                                TextColumn("{task.fields[waiting]}", style="yellow", markup=False),
                                console=console, auto_refresh=False, transient=False)
            progress.start()
            task = progress.add_task(self.unit, total=self.total or 1, counts="", rate="", eta="", waiting="")
            self._live = (progress, task)
        return self._live

    def _draw_tty(self) -> None:
        progress, task = self._rich()
        progress.update(task, completed=self.done + self.failed, counts=self.counts(),
                        rate=f"{self.rate():.1f}/s", eta=fmt_duration(self.eta_s()),
                        waiting=f"waiting: {printable(self.waiting)}" if self.waiting else "")
        progress.refresh()

    def update(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last_draw < (0.1 if self.tty else PLAIN_EVERY_S):
            return
        self.last_draw = now
        if self.tty:
            self._draw_tty()
        else:
            self._drawn = (self.done, self.failed, self.waiting)
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def finish(self) -> None:
        """Draw the final state and end the live display (call before printing anything else)."""
        if not self.enabled:
            return
        if self.tty or self._drawn != (self.done, self.failed, self.waiting):
            self.update(force=True)
        if self._live is not None:
            self._live[0].stop()
            self._live = None
