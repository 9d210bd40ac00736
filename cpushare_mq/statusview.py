"""``cpushare status`` as tables (rich): jobs with age, elapsed, rate, ETA, failures by outcome
and the hub's waiting reason; workers with slots running vs fragments queued ahead (prefetched);
sellers with strikes. Pure: a status dict in, text out."""

from __future__ import annotations

import io

from .printable import printable
from .progressview import fmt_duration

HIDE_ENDED_AFTER_S = 86400.0      # finished jobs older than this are hidden unless --all


def visible_jobs(jobs: list[dict], show_all: bool) -> tuple[list[dict], int]:
    """The jobs to list and how many were hidden (ended, submitted over a day ago)."""
    if show_all:
        return jobs, 0
    shown = [j for j in jobs if j["state"] == "running" or j.get("age_s", 0.0) < HIDE_ENDED_AFTER_S]
    return shown, len(jobs) - len(shown)


def job_numbers(j: dict) -> tuple[float | None, float | None]:
    """(fragments per second over the job's life, seconds left at that rate) — None if unknown."""
    finished = j["done"] + j["failed"]
    elapsed = j.get("elapsed_s", 0.0)
    rate = finished / elapsed if elapsed > 0 and finished else None
    if j["state"] != "running":
        return rate, 0.0
    return rate, ((j["total"] - finished) / rate) if rate else None


def _table(title: str, columns: list[tuple[str, str]]):
    from rich import box
    from rich.table import Table

    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name, justify in columns:
        t.add_column(name, justify=justify, no_wrap=True)
    return t


def _row(t, *cells: str) -> None:
    """A row of plain text: names, ids, keys and reasons come from buyers, sellers and peers,
    and rich would read ``[...]`` in them as markup (a CURVE key may hold ``[/``); their
    control characters are escaped (printable.py)."""
    from rich.text import Text

    t.add_row(*(Text(printable(c)) for c in cells))


def _jobs_table(jobs: list[dict], hidden: int):
    title = f"jobs ({len(jobs)})" + (f", {hidden} ended over a day ago hidden (--all shows them)" if hidden else "")
    t = _table(title, [("JOB", "left"), ("NAME", "left"), ("STATE", "left"), ("DONE", "right"),
                       ("FAILED", "right"), ("PENDING", "right"), ("LEASED", "right"), ("TOTAL", "right"),
                       ("AGE", "right"), ("ELAPSED", "right"), ("RATE", "right"), ("ETA", "right")])
    for j in jobs:
        rate, eta = job_numbers(j)
        _row(t, j["job_id"], j["name"][:16], j["state"], str(j["done"]), str(j["failed"]), str(j["pending"]),
                  str(j["leased"] + j["voting"]), str(j["total"]), fmt_duration(j.get("age_s")),
                  fmt_duration(j.get("elapsed_s")), f"{rate:.1f}/s" if rate else "-",
                  "-" if j["state"] != "running" else fmt_duration(eta))
    return t


def _job_notes(jobs: list[dict]) -> list[str]:
    lines = []
    for j in jobs:
        if j.get("waiting"):
            lines.append(f"  {j['job_id']} waiting: {printable(j['waiting'])}")
        if j.get("failed_by"):
            lines.append(f"  {j['job_id']} failures: {j['failed_by']}")
    return lines


def _workers_table(workers: list[dict]):
    t = _table(f"workers ({len(workers)})", [
        ("WORKER", "left"), ("NAME", "left"), ("ALIVE", "left"), ("PAUSED", "left"), ("RUNNING", "right"),
        ("QUEUED", "right"), ("DONE", "right"), ("FAILED", "right"), ("SEEN", "right"), ("REPUTATION", "left")])
    for w in workers:
        running = min(w["busy"], w["slots"])
        paused = "hub" if w.get("held") else "yes" if w["paused"] else "no"
        _row(t, w["worker_id"][:24], w["name"][:16], "yes" if w["alive"] else "no",
                  paused, f"{running}/{w['slots']}", str(max(0, w["busy"] - w["slots"])),
                  str(w["done"]), str(w["failed"]), f"{w['last_seen_s']:.1f}s",
                  (w.get("reputation") or "-") + (f" ({w['strikes']} strikes)" if w.get("strikes") else ""))
    return t


def _worker_notes(workers: list[dict]) -> list[str]:
    """Why the hub holds a worker (its sandbox keeps failing: hub/infra.py)."""
    return [f"  {printable(w['worker_id'][:24])} paused by the hub: {printable(w['held'])}"
            for w in workers if w.get("held")]


def _sellers_table(flagged: list[dict]):
    t = _table(f"sellers with strikes ({len(flagged)})", [
        ("WORKER KEY", "left"), ("TIER", "left"), ("STRIKES", "right"), ("VERIFIED", "right"), ("BAN", "left")])
    for s in flagged:
        _row(t, s["key"][:42], s["tier"][:12], str(s["strikes"]), str(s["verified"]),
                  s["reason"] if s["banned"] else "-")
    return t


def format_status(st: dict, show_all: bool = True, width: int = 200, color: bool = False) -> str:
    """The status as text: tables of jobs, workers and flagged sellers, then throughput."""
    from rich.console import Console

    jobs, hidden = visible_jobs(st["jobs"], show_all)
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color, highlight=False)
    console.print(_jobs_table(jobs, hidden))
    for line in _job_notes(jobs):
        console.print(line, markup=False)
    console.print(_workers_table(st["workers"]))
    for line in _worker_notes(st["workers"]):
        console.print(line, markup=False)
    flagged = [s for s in st.get("sellers", []) if s["strikes"] or s["banned"]]
    if flagged:
        console.print(_sellers_table(flagged))
    console.print(f"throughput: {st['throughput_per_s']:.1f} fragments/s", markup=False)
    return buf.getvalue()
