#!/usr/bin/env python3
"""What do adaptive spot checks cost, and how fast do they catch a cheater? (k = 1)

    .venv/bin/python bench/trust_spotcheck.py
    .venv/bin/python bench/trust_spotcheck.py --fragments 100000 --honest 16 --seeds 2000

Uses the pure reputation core through cpushare_mq.trust.simulate (seeded, deterministic):

cost: honest workers only; extra runs (spot checks + tie-breaks) per accepted fragment, for
the default policy (spot_check_share = 5 %) and a few others. Goal: <= 6 % extra compute at
5 %. A new key starts on probation (30 % checked until 5 agreeing checks), so short runs
cost more than long ones: the table shows both.

catch: one cheater (wrong on every result, or on 20 % of them) among honest workers; how
many of its fragments until its first proven disagreement, over many seeds. Goal: caught
within 20 fragments in >= 99 % of runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpushare_mq.trust.reputation import TrustPolicy  # noqa: E402
from cpushare_mq.trust.simulate import simulate  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--honest", type=int, default=8)
    ap.add_argument("--fragments", type=int, default=50_000)
    ap.add_argument("--seeds", type=int, default=5000)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()

    print("cost (honest workers only):")
    for share in (0.05, 0.02, 0.10):
        pol = TrustPolicy(spot_check_share=share)
        for frags in (2_000, a.fragments):
            rs = [simulate(s, honest=a.honest, cheaters=0, fragments=frags, policy=pol)
                  for s in range(5)]
            extra = statistics.mean(r.extra_compute for r in rs)
            per_worker = frags // a.honest
            print(f"  spot_check_share {share:4.0%}  {frags:6d} fragments ({per_worker:5d}/worker): "
                  f"extra compute {extra * 100:5.2f} %", flush=True)

    print(f"catch (k = 1, {a.seeds} seeds, 1 cheater among {a.honest // 2} honest):")
    for rate in (1.0, 0.2):
        caught = []
        for s in range(a.seeds):
            r = simulate(s, honest=a.honest // 2, cheaters=1, fragments=400 if rate == 1.0 else 4000,
                         cheat_rate=rate)
            caught.append(r.caught_at["cheater-0"])
        found = [c for c in caught if c is not None]
        within20 = sum(1 for c in found if c <= 20) / len(caught)
        print(f"  cheat rate {rate:4.0%}: caught in {len(found) / len(caught):7.2%} of runs, "
              f"within 20 fragments in {within20:7.2%}; median {statistics.median(found):.0f}, "
              f"p99 {sorted(found)[int(0.99 * len(found)) - 1]} fragments", flush=True)
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
