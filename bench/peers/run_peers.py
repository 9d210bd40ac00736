#!/usr/bin/env python3
"""Run every peer benchmark in one go and print a Markdown summary with ratios.

Ray, Dask and Celery run from bench/.venv-peers (see docs/benchmarks.md: created with
``bench/peers/setup-peers``); cpushare-mq from the project's .venv. Each system runs in its own
process with a time limit; whatever it started is stopped afterwards (every process carrying
this run's CPMQ_BENCH_TAG in its environment gets SIGKILL).

examples:
  bench/peers/run_peers.py                       # full run (about 8 minutes on 2 cores)
  bench/peers/run_peers.py --quick               # smaller counts, 20 s failure cap
  bench/peers/run_peers.py --systems ray,cpushare --parts tiny,kill
  bench/peers/run_peers.py --json out.json       # also write the raw figures
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PEERS_PY = REPO / "bench" / ".venv-peers" / "bin" / "python"
MAIN_PY = REPO / ".venv" / "bin" / "python"
SCRIPTS = {"ray": (PEERS_PY, "peer_ray.py"), "dask": (PEERS_PY, "peer_dask.py"),
           "celery": (PEERS_PY, "peer_celery.py"), "cpushare": (MAIN_PY, "peer_cpushare.py")}
TAG_ENV = "CPMQ_BENCH_TAG"


def tagged_pids(tag: str) -> list[int]:
    needle = f"{TAG_ENV}={tag}".encode()
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if needle in (d / "environ").read_bytes().split(b"\0"):
                out.append(int(d.name))
        except OSError:
            pass
    return out


def cleanup(tag: str) -> int:
    pids = tagged_pids(tag)
    for pid in pids:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
    return len(pids)


def run_system(name: str, args: argparse.Namespace, logdir: Path) -> dict:
    py, script = SCRIPTS[name]
    if not py.exists():
        return {"system": name, "error": f"{py} missing (see docs/benchmarks.md)"}
    tag = uuid.uuid4().hex
    env = {**os.environ, TAG_ENV: tag, "PYTHONPATH": str(HERE), "RAY_USAGE_STATS_ENABLED": "0"}
    cmd = [str(py), str(HERE / script), "--parts", args.parts, "--tiny-n", str(args.tiny_n),
           "--cpu-tasks", str(args.cpu_tasks), "--cpu-iters", str(args.cpu_iters),
           "--cpu-rounds", str(args.cpu_rounds),
           "--cap-s", str(args.cap_s), "--mem-n", str(args.mem_n)]
    if name == "cpushare" and args.worker_nice is not None:
        cmd += ["--worker-nice", str(args.worker_nice)]
    log = logdir / f"{name}{'-nice' + str(args.worker_nice) if args.worker_nice is not None else ''}.log"
    print(f"== {name}: {' '.join(cmd)}  (log {log})", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    with open(log, "w") as lf:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=lf, env=env, text=True,
                                cwd=str(REPO), start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=args.timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, _ = proc.communicate()
            stdout += f"\nTIMEOUT after {args.timeout_s} s"
    leftovers = cleanup(tag)
    res = None
    for line in stdout.splitlines():
        if line.startswith("RESULT-JSON "):
            res = json.loads(line[len("RESULT-JSON "):])
    if res is None:
        res = {"system": name, "error": f"no result (exit {proc.returncode}); see {log}: "
               + log.read_text()[-800:]}
    res["wall_s"] = round(time.monotonic() - t0, 1)
    res["leftover_processes_killed"] = leftovers
    return res


def fmt(v, unit="", nd=1):
    return "—" if v is None else f"{v:,.{nd}f}{unit}"


def summary(results: list[dict], meta: dict) -> str:
    by = {r["system"]: r for r in results}
    cp = by.get("cpushare-mq", {})
    peers = [r for r in results if not r["system"].startswith("cpushare-mq")]
    L = [f"Run {meta['date']} on {meta['machine']}; load average before: {meta['loadavg']}",
         "", "| system | tiny tasks/s | CPU efficiency | SIGKILL -> reassigned | SIGSTOP -> reassigned | memory/queued task |",
         "|---|---|---|---|---|---|"]

    def cell_fail(part):
        if not isinstance(part, dict):
            return "—"
        if "error" in part:
            return "error: " + part["error"][:60]
        return f"{part['seconds']:.2f} s" if part.get("recovered") else part.get("note", "not recovered")

    for r in results:
        t = r.get("tiny", {})
        c = r.get("cpu", {})
        m = r.get("mem", {})
        L.append(f"| {r['system']} | {fmt(t.get('tasks_per_s'))} | {fmt(c.get('efficiency'), nd=3)} "
                 f"| {cell_fail(r.get('kill'))} | {cell_fail(r.get('stop'))} "
                 f"| {fmt(m.get('bytes_per_task'), ' B', 0)} |")
    rates = {r["system"]: r.get("tiny", {}).get("tasks_per_s") for r in peers}
    rates = {k: v for k, v in rates.items() if v}
    mine = cp.get("tiny", {}).get("tasks_per_s")
    if rates and mine:
        best = max(rates, key=rates.get)
        L += ["", f"Tiny tasks: cpushare-mq / fastest peer ({best}) = {mine / rates[best]:.2f}x "
              f"(goal >= 3x); " + ", ".join(f"vs {k} {mine / v:.2f}x" for k, v in rates.items())]
    cm = cp.get("mem", {}).get("bytes_per_task")
    mems = {r["system"]: r.get("mem", {}).get("bytes_per_task") for r in peers}
    mems = {k: v for k, v in mems.items() if v}
    if mems and cm:
        L.append("Memory per queued task, peer / cpushare hub: "
                 + ", ".join(f"{k} {v / cm:.1f}x" for k, v in mems.items()))
    for r in results:
        if "error" in r:
            L.append(f"- {r['system']}: {r['error'][:300]}")
        for part in ("tiny", "cpu", "kill", "stop", "mem"):
            if isinstance(r.get(part), dict) and "error" in r[part]:
                L.append(f"- {r['system']} {part}: {r[part]['error'][:300]}")
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", default="ray,dask,celery,cpushare")
    ap.add_argument("--parts", default="tiny,cpu,kill,stop,mem")
    ap.add_argument("--quick", action="store_true", help="tiny-n 2000, cpu-tasks 8, 1 CPU round, cap 20 s, mem-n 5000")
    ap.add_argument("--tiny-n", type=int, default=20000)
    ap.add_argument("--cpu-tasks", type=int, default=20)
    ap.add_argument("--cpu-iters", type=int, default=400_000_000,
                    help="spin iterations per CPU task (~0.5 s on this machine)")
    ap.add_argument("--cpu-rounds", type=int, default=3,
                    help="CPU runs per system; the best is reported (others' load is noise)")
    ap.add_argument("--cap-s", type=float, default=60.0, help="failure-recovery wait cap")
    ap.add_argument("--mem-n", type=int, default=20000)
    ap.add_argument("--worker-nice", type=int, default=None,
                    help="cpushare-worker --nice (its default is 19: sellers' own work first)")
    ap.add_argument("--no-nice0", action="store_true",
                    help="skip the extra cpushare-mq CPU run with worker --nice 0")
    ap.add_argument("--timeout-s", type=float, default=900, help="per system")
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument("--logdir", default="/tmp/cpmq-peer-logs")
    a = ap.parse_args(argv)
    if a.quick:
        a.tiny_n, a.cpu_tasks, a.cap_s, a.mem_n, a.cpu_rounds = 2000, 8, 20.0, 5000, 1
    subprocess.run(["make", "-s", "-C", str(REPO / "c")], check=True)  # c/build/examples/spin.elf
    logdir = Path(a.logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    meta = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()}-core {platform.machine()}, {platform.python_version()}",
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "args": vars(a)}
    results = []
    for name in a.systems.split(","):
        results.append(run_system(name.strip(), a, logdir))
    if "cpushare" in a.systems and "cpu" in a.parts and a.worker_nice is None and not a.no_nice0:
        # cpushare-worker runs sandboxes at nice 19 (sellers first); peers run at nice 0:
        # the like-for-like CPU figure too
        b = argparse.Namespace(**{**vars(a), "parts": "cpu", "worker_nice": 0})
        r = run_system("cpushare", b, logdir)
        r["system"] = "cpushare-mq (worker --nice 0)"
        results.append(r)
    meta["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = summary(results, meta)
    print(text)
    if a.json:
        Path(a.json).write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
