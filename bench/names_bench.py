#!/usr/bin/env python3
"""Issue 15 benchmark: what fragment names (buyer protocol v4) cost the buyer socket.

    .venv/bin/python bench/names_bench.py            # 3 rounds of 50,000 results each way

The same server, client and in-memory hub as bench/buyer_bench.py; each round submits N
small fragments and times the delivery of all their results to the Python client, once
without names (RESULT.name empty) and once with a 16-character name per fragment, in
alternation so both see the same machine load. Prints results/s and the ratio named/unnamed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import buyer_bench as bb  # noqa: E402

from cpushare_mq.client import Client  # noqa: E402


@dataclass(frozen=True)
class NamedSpec(bb.Spec):
    fragment_names: tuple = ()


@dataclass(frozen=True)
class NamedFin(bb.Fin):
    name: str = ""


class NamedHub(bb.InstantHub):
    def submit_job(self, spec):
        jid = super().submit_job(spec)
        names = list(spec.fragment_names)
        if names:
            spec_, fins, seqs = self.jobs[jid]
            fins = [NamedFin(f.seq, f.index, f.fragment_id, f.ok, f.size, f.reason, name=names[f.index]) for f in fins]
            self.jobs[jid] = (spec_, fins, seqs)
        return jid


def deliver(n: int, named: bool) -> float:
    frags = [os.urandom(100) for _ in range(n)]
    names = [f"tile{i:012d}" for i in range(n)] if named else None
    hub = NamedHub()
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="cpsb-names-")
    srv = bb.BuyerApiServer(hub, f"unix:{d}/hub.sock", job_spec_factory=NamedSpec).start()
    try:
        with Client(srv.address) as c:
            job = c.submit(b"\x7fELF", frags, fragment_names=names)
            t = time.perf_counter()
            got = [item.name for item in job.items()]
            dt = time.perf_counter() - t
        if len(got) != n or (named and got[:3] != names[:3]):
            raise SystemExit(f"wrong delivery: {len(got)} results, first names {got[:3]}")
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    plain, named = [], []
    for _ in range(args.rounds):
        plain.append(deliver(args.n, False))
        named.append(deliver(args.n, True))
    p, q = statistics.median(plain), statistics.median(named)
    print(f"deliver without names: {p:,.0f} results/s (median of {args.rounds})")
    print(f"deliver with names:    {q:,.0f} results/s (median of {args.rounds})")
    print(f"ratio named/unnamed:   {q / p:.2f}")


if __name__ == "__main__":
    main()
