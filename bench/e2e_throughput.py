#!/usr/bin/env python3
"""End-to-end throughput and failure recovery: a real hub + real cpushare-worker processes.

    .venv/bin/python bench/e2e_throughput.py                 # throughput + recovery, defaults
    .venv/bin/python bench/e2e_throughput.py --fragments 50000 --workers 2 --slots 2
    .venv/bin/python bench/e2e_throughput.py --only recovery
    .venv/bin/python bench/e2e_throughput.py --only throughput --secure --price 0.05
    .venv/bin/python bench/e2e_throughput.py --only throughput --secure --price 0.05 --pairs 8
    .venv/bin/python bench/e2e_throughput.py --only throughput --secure --price 0.05 --side-by-side 5 --fragments 30000
    .venv/bin/python bench/e2e_throughput.py --only throughput --secure --price 0.05 --interleaved 40 --fragments 5000

throughput: hub (embedded, in this process) + N workers, trivial ABI-echo fragments of 100
bytes (c/build/examples/echo.elf); time from submit to the last fragment DONE in the store.
Goal: >= 5,000 fragments/s with 2 workers.

--pairs N (with --price): N rounds of the same job without and with the price (every other
round the paid run first); each round's ratio, then their median. A shared machine moves a whole run by more than paying
costs; a pair's two runs share most of that drift (issue 19's bar: with / without >= 0.95).

--interleaved N (with --price): one hub with a ledger and no price of its own, as
'cpushare-hub serve' without --price, and its workers, all kept running: N rounds of two jobs
of the same fragments one after the other, one without a price and one with --price (every
other round the paid one first). A paid job's time runs from its submission until its last
receipt is signed and acknowledged by its worker. Jobs seconds apart share the machine's
drift far better than runs of separate hubs a minute apart; reported: the median of the
rounds' ratios, their quartiles, and the ratio of the total times with a 95 % bootstrap
interval (rounds resampled): the issue 19 bar holds when that interval's low end is >= 0.95.
Also the same ratio over each job's middle 80 % of fragments, from the store's times of their
results (a job's steady state: without storing it and the first leases, nor its last results
and a paid job's last receipts), to tell a cost at a job's ends from a cost per fragment.

--side-by-side N (with --price): N rounds of two hubs running the same job at the same time,
one without and one with the price, each with its own workers and in its own process; each
round's ratio is their throughputs' over the window both were busy. The machine's drift
moves both alike. With both on 2 cores, each hub's loop thread gets its share of the CPU and
is what limits its throughput, so the ratio is about that of the two loops' CPU a fragment:
a harsher measure of the hub's share of paying than one hub alone, where the workers' CPU
counts as much.

recovery: spin fragments (~50 ms of CPU each); when the job is under way one worker is
SIGKILLed (or SIGSTOPped); we measure, from the hub's store, the time from the signal until
every fragment that worker held was leased to someone else. Goal: <= 2 s at default settings
(heartbeat 0.5 s x liveness 3).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import random
import signal
import sqlite3
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchprocs import start_workers, stop_all, wait_workers  # noqa: E402

from cpushare_mq.hub.scheduler import JobSpec  # noqa: E402
from cpushare_mq.hub.scheduler.states import LeaseEnd  # noqa: E402
from cpushare_mq.hub.server import Hub  # noqa: E402
from cpushare_mq.native import find_binary  # noqa: E402

BIN = Path(sys.executable).parent


def _started(args, ledger: bool = False) -> tuple[Hub, list, Path]:
    """A hub (paying ``args.price``, if any; keeping a ledger without a price of its own if
    ``ledger``) and its workers, warmed up: the program in the workers' caches, their
    sandboxes started."""
    tmp = Path(tempfile.mkdtemp(prefix="cpmq-bench-"))
    hub = Hub(tmp / "hub.db", bind="tcp://127.0.0.1:0", api="", durability="NORMAL"
              if args.durability == "NORMAL" else "FULL", insecure=not args.secure).start()
    if args.price or ledger:   # as 'cpushare-hub serve [--price]': a signed receipt per
        # accepted result of a paid job
        from cpushare_mq.market.ledger import HubLedger
        from cpushare_mq.market.money import parse_price
        from cpushare_mq.market.payout import Payout

        price = parse_price(args.price) if args.price else None
        hub.payout = Payout(HubLedger(str(tmp / "hub.db"), price), hub.store)
    extra = list(args.worker_args)
    if args.secure:    # CURVE link + signed results; each worker gets its own identity
        extra += ["--hub-key", hub.public_key]
    procs = start_workers(hub.worker_endpoint, tmp, args.workers, args.slots, extra,
                          identities=args.secure)
    try:
        wait_workers(hub, args.workers)
        warm = hub.submit_job(JobSpec(program=_echo(), fragments=[b"w" * 100] * 200))
        while hub.job_progress(warm)["done"] < 200:
            time.sleep(0.01)
    except BaseException:
        stop_all(procs)
        hub.close()
        raise
    return hub, procs, tmp


def _echo() -> bytes:
    return find_binary("examples/echo.elf").read_bytes()


def _fragments(n: int) -> list[bytes]:
    return [(b"%08d" % i) * 12 + b"echo" for i in range(n)]


def throughput(args) -> dict:
    hub, procs, tmp = _started(args)
    prog = _echo()
    try:
        frags = _fragments(args.fragments)
        cpu0 = _cpu(procs)
        t0 = time.perf_counter()
        job = hub.submit_job(JobSpec(program=prog, fragments=frags))
        t_sub = time.perf_counter() - t0
        p = _finished(hub, job, args.fragments)
        dt = time.perf_counter() - t0
        cpu1 = _cpu(procs)
        cpu = {k: cpu1[k] - cpu0[k] for k in cpu0}
        # spot-check results
        got = {ff.index: b"".join(hub.result_chunks(ff.fragment_id))
               for ff in hub.finished(job, 0, limit=50)}
        assert all(got[i] == frags[i] for i in got), "wrong result"
        assert p["done"] == args.fragments, p
        with sqlite3.connect(tmp / "hub.db") as db:   # leases handed out, by how they ended
            ends = dict(db.execute("SELECT end, count(*) FROM attempts WHERE job_id=? "
                                   "GROUP BY end", (job,)).fetchall())
        return {"fragments": args.fragments, "seconds": dt, "submit_s": t_sub,
                "per_s": args.fragments / dt, "cpu": cpu, "attempt_ends": ends}
    finally:
        stop_all(procs)
        hub.close()


def price_pairs(args) -> None:
    """``--pairs``: the throughput with / without ``--price``, round by round, and medians."""
    ratios, cpu_ratios = [], []
    unpaid = argparse.Namespace(**{**vars(args), "price": None})
    for i in range(args.pairs):
        if i % 2:           # every other pair the paid run first: a drift within a pair
            paid, free = throughput(args), throughput(unpaid)      # counts both ways
        else:
            free, paid = throughput(unpaid), throughput(args)
        ratio = paid["per_s"] / free["per_s"]
        cpu = [sum(r["cpu"].values()) / r["fragments"] * 1e6 for r in (free, paid)]
        ratios.append(ratio)
        cpu_ratios.append(cpu[0] / cpu[1])
        print(f"pair {i + 1}: {free['per_s']:,.0f} -> {paid['per_s']:,.0f} fragments/s = "
              f"{ratio:.3f}; CPU a fragment {cpu[0]:.0f} -> {cpu[1]:.0f} us", flush=True)
    print(f"with / without --price {args.price}: median {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}, {len(ratios)} pairs); CPU a fragment "
          f"without / with: median {statistics.median(cpu_ratios):.3f}")


def interleaved(args) -> None:
    """``--interleaved N``: N rounds of a job without a price and the same job with
    ``--price`` on one hub (see the module's text); each round's ratio, then their median."""
    hub, procs, tmp = _started(argparse.Namespace(**{**vars(args), "price": None}), ledger=True)
    ledger = sqlite3.connect(f"file:{tmp / 'hub.db.ledger'}?mode=ro", uri=True, timeout=10)
    store = sqlite3.connect(f"file:{tmp / 'hub.db'}?mode=ro", uri=True, timeout=10)
    frags, prog = _fragments(args.fragments), _echo()
    rounds: list[tuple[float, float]] = []      # (seconds without, with the price)
    steady: list[tuple[float, float]] = []      # ... of their middle 80 %
    try:
        for i in range(args.interleaved):
            got = {}
            for paid in ((True, False) if i % 2 else (False, True)):
                spec = JobSpec(program=prog, fragments=frags, price=args.price if paid else "")
                got[paid] = _timed_job(hub, procs, spec, ledger if paid else None)
                got[paid]["steady_s"] = _steady_s(store, got[paid]["job"])
            rounds.append((got[False]["seconds"], got[True]["seconds"]))
            steady.append((got[False]["steady_s"], got[True]["steady_s"]))
            ratio = rounds[-1][0] / rounds[-1][1]
            for r in got.values():
                hub.purge_job(r["job"])
            print(f"round {i + 1}: {args.fragments / got[False]['seconds']:,.0f} -> "
                  f"{args.fragments / got[True]['seconds']:,.0f} fragments/s = {ratio:.3f} "
                  f"(middle 80 %: {steady[-1][0] / steady[-1][1]:.3f}); CPU a "
                  f"fragment {got[False]['cpu_us']:.0f} -> {got[True]['cpu_us']:.0f} us ("
                  + ", ".join(f"{k} {got[False]['parts'][k]:.0f} -> {got[True]['parts'][k]:.0f}"
                              for k in got[True]["parts"]) + ")", flush=True)
    finally:
        ledger.close()
        store.close()
        stop_all(procs)
        hub.close()
    ratios = [free / paid for free, paid in rounds]
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    low, high = _bootstrap(rounds)
    s_low, s_high = _bootstrap(steady)
    print(f"with / without --price {args.price}, interleaved: median {statistics.median(ratios):.3f}"
          f" (quartiles {q[0]:.3f}-{q[2]:.3f}, range {min(ratios):.3f}-{max(ratios):.3f}, "
          f"{len(ratios)} rounds); total time without / with {_total_ratio(rounds):.3f} "
          f"(95 % bootstrap interval {low:.3f}-{high:.3f}); the middle 80 % of the "
          f"fragments {_total_ratio(steady):.3f} ({s_low:.3f}-{s_high:.3f})")


def _steady_s(store: sqlite3.Connection, job: str) -> float:
    """Seconds between the store's acceptance of ``job``'s fragment at 10 % and the one at
    90 % (in the order of their results' ends): the job's steady state, without its start
    (storing, first leases) and its end (the last results, and a paid job's last receipts)."""
    ends = [t for (t,) in store.execute(
        "SELECT ended_s FROM attempts WHERE job_id = ? AND end = ? ORDER BY ended_s",
        (job, LeaseEnd.VOTE.value)).fetchall()]
    return ends[len(ends) * 9 // 10 - 1] - ends[len(ends) // 10]


def _total_ratio(rounds: list[tuple[float, float]]) -> float:
    """The rounds' total time without the price over their total time with it."""
    return sum(free for free, _ in rounds) / sum(paid for _, paid in rounds)


def _bootstrap(rounds: list[tuple[float, float]], n: int = 4000) -> tuple[float, float]:
    """A 95 % interval of :func:`_total_ratio`: the rounds resampled ``n`` times (the
    machine's noise is the rounds' spread; a fixed seed, so a run reads the same twice)."""
    rng = random.Random(19)
    got = sorted(_total_ratio(rng.choices(rounds, k=len(rounds))) for _ in range(n))
    return got[int(n * 0.025)], got[int(n * 0.975) - 1]


def _finished(hub: Hub, job: str, n: int) -> dict:
    """Wait until ``job``'s ``n`` fragments are all done or failed; its progress then."""
    seq = 0
    while True:
        seq = hub.wait_for_change(job, seq, 1.0)
        p = hub.job_progress(job)
        if p["done"] + p["failed"] >= n:
            return p


def _timed_job(hub: Hub, procs, spec: JobSpec, ledger) -> dict:
    """Run ``spec`` on ``hub``: seconds from submission until its fragments are done (and,
    given the ``ledger``, until their receipts are all signed and acknowledged)."""
    n = len(spec.fragments)
    cpu0, t0 = _cpu(procs), time.perf_counter()
    job = hub.submit_job(spec)
    p = _finished(hub, job, n)
    while ledger is not None:
        signed, undelivered = ledger.execute(
            "SELECT coalesce(sum(n), 0), count(*) FILTER (WHERE delivered = 0) FROM batches "
            "WHERE job_id = ?", (job,)).fetchall()[0]     # (all: a new snapshot each time)
        if signed >= n and not undelivered:
            break
        time.sleep(0.002)
    dt, cpu1 = time.perf_counter() - t0, _cpu(procs)
    if p["done"] != n:
        raise SystemExit(f"job {job}: {p['failed']} fragment(s) failed")
    parts = {k: (cpu1[k] - cpu0[k]) / n * 1e6 for k in cpu0}
    return {"job": job, "seconds": dt, "cpu_us": sum(parts.values()), "parts": parts}


#: --side-by-side: the window compared starts this long after both jobs were submitted
#: (storing and first leases) and ends when the first of the two jobs is done
SIDE_WARM_S = 1.0


def side_by_side(args) -> None:
    """``--side-by-side N``: N rounds, each running the same job on two hubs at once, one
    without and one with ``--price``, each hub with its own workers, in its own process; the
    machine's drift moves both alike. Each round's ratio is the two hubs' throughput over
    the window both were busy; then the median."""
    ctx = multiprocessing.get_context("spawn")
    ratios = []
    for i in range(args.side_by_side):
        ready, out = ctx.Barrier(2), ctx.Queue()
        sides = [ctx.Process(target=_side, args=(
            argparse.Namespace(**{**vars(args), "price": price}), n, ready, out))
            for n, price in enumerate((None, args.price))]
        for side in sides:
            side.start()
        got = dict(out.get(timeout=900) for _ in sides)
        for side in sides:
            side.join(60)
        (free, free_cpu), (paid, paid_cpu) = got[0], got[1]
        t0 = max(free[0][0], paid[0][0]) + SIDE_WARM_S
        t1 = min(free[-1][0], paid[-1][0])
        if t1 - t0 < 2.0:
            raise SystemExit(f"round {i + 1}: the jobs overlapped {t1 - t0:.1f} s only: give "
                             "more --fragments")
        rates = [(_done_at(s, t1) - _done_at(s, t0)) / (t1 - t0) for s in (free, paid)]
        ratios.append(rates[1] / rates[0])
        print(f"round {i + 1}: at once for {t1 - t0:.1f} s: without {rates[0]:,.0f}, with "
              f"{rates[1]:,.0f} fragments/s = {ratios[-1]:.3f}; CPU a fragment without / with: "
              + ", ".join(f"{k} {free_cpu[k]:.0f} / {paid_cpu[k]:.0f} us" for k in free_cpu),
              flush=True)
    print(f"with / without --price {args.price}, side by side: median "
          f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}, "
          f"{len(ratios)} rounds)")


def _side(args, n: int, ready, out) -> None:
    """Hub ``n`` of :func:`side_by_side` with its workers: when both are ready, its job, and
    ``(n, [(monotonic s, fragments done), ...])`` from submission to the end."""
    hub, procs, _ = _started(args)
    try:
        frags, prog = _fragments(args.fragments), _echo()
        ready.wait(300)
        samples, cpu0 = [(time.monotonic(), 0)], _cpu(procs)
        job = hub.submit_job(JobSpec(program=prog, fragments=frags))
        while samples[-1][1] < args.fragments:
            time.sleep(0.05)
            p = hub.job_progress(job)
            samples.append((time.monotonic(), p["done"] + p["failed"]))
        cpu1 = _cpu(procs)
        out.put((n, (samples, {k: (cpu1[k] - cpu0[k]) / args.fragments * 1e6 for k in cpu0})))
    finally:
        stop_all(procs)
        hub.close()


def _done_at(samples: list[tuple[float, int]], t: float) -> float:
    """Fragments done at ``t`` (between two samples: in proportion)."""
    for (ta, a), (tb, b) in itertools.pairwise(samples):
        if ta <= t <= tb:
            return a + (b - a) * (t - ta) / (tb - ta) if tb > ta else b
    raise ValueError(f"{t} is outside the samples")


def _cpu(procs) -> dict:
    """CPU seconds so far: this process (the hub), each worker, and the workers' sandboxes."""
    import psutil
    me = psutil.Process().cpu_times()
    out = {"hub": me.user + me.system, "workers": 0.0, "sandboxes": 0.0}
    for p in procs:
        try:
            wp = psutil.Process(p.pid)
            t = wp.cpu_times()
            out["workers"] += t.user + t.system
            for c in wp.children(recursive=True):
                ct = c.cpu_times()
                out["sandboxes"] += ct.user + ct.system
        except psutil.Error:
            pass
    return out


SPIN_ITERS = 40_000_000   # c/examples/spin.c xorshift loop: ~50 ms of CPU here


def recovery(args, sig: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cpmq-bench-"))
    db = tmp / "hub.db"
    hub = Hub(db, bind="tcp://127.0.0.1:0", api="").start()
    procs = start_workers(hub.worker_endpoint, tmp, 2, args.slots, args.worker_args)
    try:
        wait_workers(hub, 2)
        spin = find_binary("examples/spin.elf")   # u64 LE iteration count, then a tag
        frags = [struct.pack("<Q", SPIN_ITERS) + b"%d" % i for i in range(200)]
        job = hub.submit_job(JobSpec(program=spin.read_bytes(), fragments=frags))
        while hub.job_progress(job)["done"] < 20:
            time.sleep(0.01)
        victim = procs[0]
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        wid = {r[0] for r in con.execute("SELECT id FROM workers WHERE name='w0'")}
        os.kill(victim.pid, sig)
        t_sig = time.time()
        held = con.execute(
            f"SELECT fragment_id, attempt FROM attempts WHERE end IS NULL AND worker_id IN "
            f"({','.join('?' * len(wid))})", tuple(wid)).fetchall()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            later = [con.execute("SELECT MIN(leased_s) FROM attempts WHERE fragment_id=? AND "
                                 "attempt>?", (f, a)).fetchone()[0] for f, a in held]
            if all(x is not None for x in later):
                break
            time.sleep(0.02)
        else:
            raise SystemExit("the victim's fragments were never reassigned")
        delays = [x - t_sig for x in later]
        while hub.job_progress(job)["done"] < len(frags):
            time.sleep(0.05)
        con.close()
        return {"signal": signal.Signals(sig).name, "held": len(held),
                "max_reassign_s": max(delays) if delays else 0.0,
                "min_reassign_s": min(delays) if delays else 0.0}
    finally:
        stop_all(procs)
        hub.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fragments", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--durability", choices=["FULL", "NORMAL"], default="FULL")
    ap.add_argument("--only", choices=["throughput", "recovery"])
    ap.add_argument("--secure", action="store_true",
                    help="throughput over CURVE with signed results (hub insecure=False)")
    ap.add_argument("--price", metavar="P", default=None,
                    help="the hub pays P per CPU-hour (a signed receipt per result, sent to "
                         "the worker when --secure), as 'cpushare-hub serve --price P'")
    ap.add_argument("--pairs", type=int, default=0, metavar="N",
                    help="with --price: N rounds without, then with the price, and the median "
                         "of the rounds' ratios")
    ap.add_argument("--side-by-side", type=int, default=0, metavar="N",
                    help="with --price: N rounds of two hubs at once, one without and one "
                         "with the price, and the median of their throughputs' ratios")
    ap.add_argument("--interleaved", type=int, default=0, metavar="N",
                    help="with --price: N rounds of a job without and the same job with the "
                         "price on one hub; their total times' ratio with a 95 %% interval")
    ap.add_argument("--worker-arg", dest="worker_args", action="append", default=[],
                    help="extra argument for every worker (repeatable), e.g. --worker-arg=--prefetch=8")
    args = ap.parse_args()
    if ((args.pairs or args.side_by_side or args.interleaved)
            and (not args.price or args.only != "throughput")):
        ap.error("--pairs N, --interleaved N and --side-by-side N compare a paid job with an unpaid one: give "
                 "--price P and --only throughput")
    print(f"machine: {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if args.side_by_side:
        side_by_side(args)
        return
    if args.pairs:
        price_pairs(args)
        return
    if args.interleaved:
        interleaved(args)
        return
    if args.only in (None, "throughput"):
        r = throughput(args)
        mode = ("CURVE + signed results" if args.secure else "plain TCP") + (
            f", receipts at {args.price}" if args.price else "")
        print(f"throughput ({mode}): {r['fragments']} echo fragments in {r['seconds']:.2f} s = "
              f"{r['per_s']:,.0f} fragments/s (submit {r['submit_s']:.2f} s; goal 5,000/s -> "
              f"{r['per_s'] / 5000:.2f}x)")
        n = r["fragments"]
        print("  CPU per fragment: " + ", ".join(f"{k} {v / n * 1e6:.0f} us" for k, v in r["cpu"].items()))
        print("  leases by how they ended: " + ", ".join(f"{k} {v}" for k, v in sorted(r["attempt_ends"].items(), key=lambda kv: str(kv[0]))))
    if args.only in (None, "recovery"):
        for sig in (signal.SIGKILL, signal.SIGSTOP):
            r = recovery(args, sig)
            print(f"recovery after {r['signal']}: {r['held']} held fragments re-leased after "
                  f"{r['min_reassign_s']:.2f}-{r['max_reassign_s']:.2f} s (goal <= 2 s)")


if __name__ == "__main__":
    main()
