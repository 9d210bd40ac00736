#!/usr/bin/env python3
"""The scheduler core alone: CPU time per fragment leased, resulted and accepted.

No sockets, no store: one job of N fragments (redundancy 1), one worker with 256 slots
answering every lease at once; each turn refills the pending window, assigns, takes the
effects (the frozen journal the store would apply), hands in the results, ticks and takes
the effects again. Reports the best of ``--repeat`` runs in process CPU time, so the figure
is the core's own cost, steadier under load than the hub benchmark's.

    .venv/bin/python bench/scheduler_bench.py                 # 30,000 fragments, best of 15
    .venv/bin/python bench/scheduler_bench.py -n 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
import timeit

from cpushare_mq.hub.scheduler import HubConfig, Scheduler

SHA = hashlib.sha256(b"ok").hexdigest()


def run(n: int) -> None:
    core = Scheduler(HubConfig())
    core.add_job({"id": "j", "program_sha256": "p", "shared_sha256": "s", "redundancy": 1,
                  "quorum": 1, "cpu_s": 1.0, "wall_s": 1.0, "max_attempts": 3,
                  "max_output_bytes": 1 << 20, "priority": 0, "total": n})
    core.join(0.0, "w", slots=256)
    done, now = 0, 1.0
    while done < n:
        for job_id, after, limit in core.refill_requests():
            rows = [(i, i - 1, 0, 0) for i in range(after + 1, min(n, after + limit) + 1)]
            core.add_pending(job_id, rows, limit)
        core.ready(now, "w", 256)
        grants = core.assign(now)
        core.take_effects()
        for _job, fid, _index, attempt, _lease_s in grants["w"]:
            core.result(now, "w", fid, attempt, SHA, 2)
            done += 1
        core.tick(now)
        core.take_effects()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--fragments", type=int, default=30_000)
    ap.add_argument("--repeat", type=int, default=15, help="runs; the best counts")
    args = ap.parse_args(argv)
    best = min(timeit.Timer(lambda: run(args.fragments), timer=time.process_time)
               .repeat(number=1, repeat=args.repeat))
    print(json.dumps({"fragments": args.fragments, "best_cpu_s": round(best, 4),
                      "us_per_fragment": round(best / args.fragments * 1e6, 2),
                      "loadavg_1m": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
