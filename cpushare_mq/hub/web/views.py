"""What each page shows, assembled from the hub's snapshots and the read-only store.

Runs in the dashboard's worker threads, never on the hub's loop. The hub's current state
comes from its public, thread-safe snapshot methods (``status``, ``job_progress``), each of
which holds the hub's lock only for an O(jobs + workers) copy; the history comes from
:class:`.reader.StoreReader`. Rates and the throughput chart come from :class:`Rates`, which
samples those same counters while somebody watches (and fills the chart's past from the
store's attempts when a watcher arrives).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from ...errors import UnknownJob
from .image import ImageSpec, describe, looks_like_tile
from .reader import StoreReader

#: how far back the throughput chart and the rates look
HISTORY_S = 300.0
#: the window of a job's rate (and so its ETA)
RATE_WINDOW_S = 30.0
#: how long the costlier job and worker queries (attempt scans) are reused: a job of more
#: than BIG_JOB fragments is scanned at most every SLOW_QUERY_TTL_S
SLOW_QUERY_TTL_S = 10.0
BIG_JOB = 10_000
GAP = "not recorded by this hub yet"
#: picture descriptions kept in memory (a job of a million tiles takes tens of MB)
IMAGES_KEPT = 8


class Rates:
    """Finished fragments over time, per job and in total, sampled from ``hub.status()``."""

    def __init__(self, history_s: float = HISTORY_S):
        self.history_s = history_s
        self._lock = threading.Lock()
        self._total: deque[tuple[float, int]] = deque()
        self._jobs: dict[str, deque[tuple[float, int]]] = {}
        self._chart: deque[tuple[int, int]] = deque()   # (whole second, results that second)

    def sample(self, now: float, jobs: list[dict], reader: StoreReader) -> None:
        total = sum(j["done"] + j["failed"] for j in jobs)
        with self._lock:
            if not self._total or now - self._total[-1][0] > 5.0:
                self._backfill(now, reader)
            elif now - self._total[-1][0] < 0.5:
                return
            if self._total:
                t0, n0 = self._total[-1]
                self._chart.append((int(now), max(0, total - n0)))
            self._total.append((now, total))
            for j in jobs:
                self._jobs.setdefault(j["job_id"], deque()).append((now, j["done"] + j["failed"]))
            cut = now - self.history_s
            for dq in (self._total, *self._jobs.values()):
                while dq and dq[0][0] < cut:
                    dq.popleft()
            while self._chart and self._chart[0][0] < cut:
                self._chart.popleft()

    def _backfill(self, now: float, reader: StoreReader) -> None:
        self._total.clear()
        self._jobs.clear()
        self._chart = deque(reader.done_times(now - self.history_s))

    def rate_per_s(self, job_id: str, now: float) -> float:
        with self._lock:
            dq = self._jobs.get(job_id)
            if not dq or len(dq) < 2:
                return 0.0
            t_new, n_new = dq[-1]
            t_old, n_old = dq[0]
            for t, n in dq:
                if t >= now - RATE_WINDOW_S:
                    t_old, n_old = t, n
                    break
        return (n_new - n_old) / (t_new - t_old) if t_new > t_old else 0.0

    def chart(self) -> list[list[int]]:
        with self._lock:
            return [list(p) for p in self._chart]


class Views:
    """The data of every page. Thread-safe; shared by all viewers (a result reused for
    ``ttl_s`` costs the hub nothing more however many pages are open)."""

    def __init__(self, hub, reader: StoreReader, ttl_s: float = 0.9):
        self.hub = hub
        self.reader = reader
        self.rates = Rates()
        self.ttl_s = ttl_s
        self._cache: dict[tuple, tuple[float, object]] = {}
        self._cache_lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}
        self._images: dict[str, ImageSpec | None] = {}

    def _cached(self, key: tuple, ttl_s: float, make):
        """``make()``, reused for ``ttl_s``; viewers asking at once wait for one computation."""
        with self._cache_lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            now = time.monotonic()
            with self._cache_lock:
                hit = self._cache.get(key)
            if hit is not None and now - hit[0] < ttl_s:
                return hit[1]
            value = make()
            with self._cache_lock:
                self._cache[key] = (time.monotonic(), value)
                if len(self._cache) > 256:
                    for k in sorted(self._cache, key=lambda k: self._cache[k][0])[:128]:
                        del self._cache[k]
                        self._key_locks.pop(k, None)
            return value

    # -- overview ------------------------------------------------------------------------
    def overview(self) -> dict:
        return self._cached(("overview",), self.ttl_s, self._overview)

    def _overview(self) -> dict:
        now = time.time()
        st = self.hub.status()
        self.rates.sample(now, st["jobs"], self.reader)
        lease_s = self._cached(("lease_s",), SLOW_QUERY_TTL_S, lambda: self.reader.lease_seconds(
            [w["worker_id"] for w in st["workers"]]))
        jobs = [self._job_line(p, now) for p in st["jobs"]]
        jobs.sort(key=lambda j: (j["state"] != "running", j["job_id"]))
        workers = [worker_line(w, lease_s) for w in st["workers"]]
        return {"now_s": now, "uptime_s": st.get("uptime_s"), "jobs": jobs, "workers": workers,
                "worker_endpoint": st.get("worker_endpoint", ""),
                "throughput_per_s": st.get("throughput_per_s", 0.0),
                "chart": self.rates.chart(), "chart_window_s": HISTORY_S}

    def _job_line(self, p: dict, now: float) -> dict:
        rate = self.rates.rate_per_s(p["job_id"], now)
        left = p["total"] - p["done"] - p["failed"]
        by_reason = self._cached(("fail", p["job_id"], p["failed"]), SLOW_QUERY_TTL_S,
                                 lambda: self.reader.failures_by_reason(p["job_id"])) \
            if p["failed"] else []
        return {**{k: p[k] for k in ("job_id", "name", "state", "total", "pending", "leased",
                                     "voting", "done", "failed", "priority")},
                "waiting": p.get("waiting", ""), "rate_per_s": round(rate, 2),
                "eta_s": round(left / rate, 1) if rate > 0 and p["state"] == "running" else None,
                "failures": by_reason}

    # -- job -----------------------------------------------------------------------------
    def image(self, job_id: str, total: int) -> ImageSpec | None:
        """The job's picture (read once from its fragments; the last few are kept)."""
        with self._cache_lock:
            if job_id in self._images:
                return self._images[job_id]
        first = self.reader.inputs(job_id, 1)
        spec = describe(self.reader.inputs(job_id, total)) if first and \
            looks_like_tile(first[0]) else None
        with self._cache_lock:
            if len(self._images) >= IMAGES_KEPT:
                self._images.pop(next(iter(self._images)))
            self._images[job_id] = spec
        return spec

    def job(self, job_id: str) -> dict:
        return self._cached(("job", job_id), self.ttl_s, lambda: self._job(job_id))

    def _job(self, job_id: str) -> dict:
        row = self.reader.job(job_id)          # UnknownJob if there is none
        now = time.time()
        try:
            p = self.hub.job_progress(job_id)
        except UnknownJob:
            p = None
        line = self._job_line(p, now) if p else {"job_id": job_id, "state": row["state"]}
        fids = self._cached(("fids", job_id), 3600.0, lambda: self.reader.fid_range(job_id))
        ttl_s = SLOW_QUERY_TTL_S if row["total"] > BIG_JOB else self.ttl_s
        slow = self._cached(("slow", job_id), ttl_s, lambda: {
            "attempts": self.reader.attempt_ends(job_id, fids),
            "slowest": self.reader.slowest(job_id, fids)})
        img = self.image(job_id, row["total"])
        return {"job": {**row, **line}, "by_state": {k: line.get(k) for k in
                                                    ("pending", "leased", "voting", "done",
                                                     "failed")},
                "attempts": slow["attempts"], "slowest": slow["slowest"],
                "failed": self.reader.failed(job_id) if line.get("failed") else [],
                "results": self.reader.recent_done(job_id),
                "image": {"width": img.width, "height": img.height} if img else None}

    # -- worker --------------------------------------------------------------------------
    def worker(self, worker_id: str) -> dict | None:
        return self._cached(("worker", worker_id), self.ttl_s, lambda: self._worker(worker_id))

    def _worker(self, worker_id: str) -> dict | None:
        row = self.reader.worker(worker_id)
        if row is None:
            return None
        live = next((w for w in self.hub.status()["workers"] if w["worker_id"] == worker_id),
                    None)
        key = row.get("worker_key") or ""
        trust = None
        if getattr(self.hub, "trust", None) is not None and key:
            trust = self.hub.trust.reputation(key)
        slow = self._cached(("wslow", worker_id), SLOW_QUERY_TTL_S, lambda: {
            "ends": self.reader.worker_ends(worker_id),
            "attempts": self.reader.worker_attempts(worker_id)})
        return {"worker": row, "live": worker_line(live, {}) if live else None,
                "sessions": self.reader.sessions(key) if key else [row],
                "ends": slow["ends"], "attempts": slow["attempts"],
                "trust": trust, "receipts": None,
                "receipts_note": "in the hub's ledger, not shown here: cpushare ledger --db "
                                 "HUB.db --worker KEY"}


def worker_line(w: dict, lease_s: dict[str, float]) -> dict:
    """A worker as the overview shows it: slots running and prefetched (leases beyond its
    slots), whether it is paused (its owner's STATUS) or held by the hub and why, reputation."""
    busy = w.get("busy", 0)
    held = w.get("held") or ""     # the hub holds a worker whose sandbox keeps failing
    slots = w.get("slots", 0)
    trust = w.get("trust") or {}
    return {"worker_id": w["worker_id"], "name": w.get("name", ""), "slots": slots,
            "running": min(busy, slots), "prefetched": max(0, busy - slots),
            "state": ("held" if held else "paused" if w.get("paused")
                      else "alive" if w.get("alive") else "silent"),
            "paused": bool(w.get("paused") or held),
            "paused_why": held or w.get("paused_reason") or ("paused by its owner"
                                                             if w.get("paused") else ""),
            "last_seen_s": w.get("last_seen_s"), "done": w.get("done", 0),
            "failed": w.get("failed", 0), "credit": w.get("credit"),
            "lease_s": lease_s.get(w["worker_id"], 0.0),
            "reputation": w.get("reputation", "unknown" if not trust else trust.get("tier")),
            "strikes": trust.get("strikes")}
