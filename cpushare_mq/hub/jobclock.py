"""Times and failure counts of jobs for status displays (``cpushare status``): a pure
annotation of the scheduler's progress records with what the store knows."""

from __future__ import annotations


def failed_by_text(counts: dict[str, int]) -> str:
    """{"bad_program": 3, "cpu_limit": 1} -> "bad_program 3, cpu_limit 1" (largest first)."""
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def annotate(records: list[dict], clocks: dict[str, tuple[float, float | None, str]],
             failed_by: dict[str, dict[str, int]], now: float) -> list[dict]:
    """Add age_s (since submission), elapsed_s (submission to end, or to now) and failed_by
    to each progress record; returns the same list."""
    for rec in records:
        created, ended, state = clocks.get(rec["job_id"], (0.0, None, "running"))
        end = ended if (ended is not None and rec.get("state", state) != "running") else now
        rec["age_s"] = max(0.0, now - created) if created else 0.0
        rec["elapsed_s"] = max(0.0, end - created) if created else 0.0
        rec["failed_by"] = failed_by_text(failed_by.get(rec["job_id"], {}))
    return records
