#!/usr/bin/env python3
"""POV-Ray renderer benchmarks (issue 7). Rerun with:

    .venv/bin/python bench/povray_bench.py              # everything (~2 min on 2 cores)
    .venv/bin/python bench/povray_bench.py --only single
    .venv/bin/python bench/povray_bench.py --only parallel --size 1280x960

single:   heavy.pov at 2560x1920, one thread: our native povray-render against POV-Ray 3.7
          (`povray +Iheavy.pov +Oout.png +FN +W2560 +H1920 -D -A +WT1`), both in the same
          run, best of --rounds. Compared on POV-Ray's "Trace Time" (ours: render time,
          without parsing or PNG writing) and on wall time of the whole command.
parallel: the same frame distributed through a warm embedded hub to 1 and 2 local workers
          (cpushare-worker subprocesses, real sandbox): parallel efficiency
          T(1 worker) / (2 * T(2 workers)) and the overhead of 1 worker against the native
          single-process render (T = submit -> last tile, as povray-server reports it;
          native = its render time; neither counts parsing or PNG writing).
layers:   where the overhead goes, without hub or worker: the same tiles piped straight into
          povray-client.elf (no sandbox), through Sandbox.run one fragment at a time, and
          through Sandbox.run pipelined (next_fragment); wall time, the program's CPU time
          and its context switches (/proc/PID/status), best of --rounds.
overhead: only the 1-worker overhead, --rounds pairs of (native render, 1-worker distributed
          render) back to back, so both see the same machine load; prints every pair and
          the median / spread of the overhead. `.venv/bin/python bench/povray_bench.py
          --only overhead --rounds 7`
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpushare_mq.native import find_binary  # noqa: E402
from cpushare_mq.povray.image import read_png  # noqa: E402

SCENE = ROOT / "tests" / "data" / "scenes" / "heavy.pov"


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, str, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stderr}")
    return wall, proc.stdout, proc.stderr


def ours_native(w: int, h: int, out: Path) -> tuple[float, float]:
    wall, _, err = timed([str(find_binary("povray-render")), str(SCENE), "-W", str(w), "-H",
                          str(h), "-o", str(out)])
    m = re.search(r"render ([0-9.]+) s", err)
    return wall, float(m[1])


def povray(w: int, h: int, tmp: Path) -> tuple[float, float]:
    shutil.copy(SCENE, tmp / "heavy.pov")
    wall, out, err = timed(["povray", "+Iheavy.pov", "+Opov.png", "+FN", f"+W{w}", f"+H{h}",
                            "-D", "-A", "+WT1"], cwd=tmp)
    m = re.search(r"Trace Time:.*\(([0-9.]+) seconds\)", out + err)
    return wall, float(m[1])


def bench_single(args, tmp: Path) -> None:
    w, h = args.width, args.height
    if shutil.which("povray") is None:
        raise SystemExit("POV-Ray is not installed: apt-get install -y povray")
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(ours_native(w, h, tmp / "ours.png"))
        theirs.append(povray(w, h, tmp))
    o_wall = min(x[0] for x in ours)
    o_render = min(x[1] for x in ours)
    p_wall = min(x[0] for x in theirs)
    p_trace = min(x[1] for x in theirs)
    print(f"single thread, heavy.pov {w}x{h}, best of {args.rounds}")
    print(f"  ours   : render {o_render:.3f} s, wall {o_wall:.3f} s")
    print(f"  POV-Ray: trace  {p_trace:.3f} s, wall {p_wall:.3f} s")
    print(f"  ratio  : {o_render / p_trace:.2f}x POV-Ray's trace time, "
          f"{o_wall / p_wall:.2f}x its wall time (goal <= 0.80x)")


def distributed(n_workers: int, w: int, h: int, tile: int, tmp: Path) -> float:
    """Wall time of povray-server against a warm embedded hub with n local workers."""
    from cpushare_mq.hub.server import Hub, HubConfig
    from cpushare_mq.povray.cli import _worker_cmd, stop_processes

    d = Path(tempfile.mkdtemp(dir=tmp))
    hub = Hub(d / "hub.db", bind="tcp://127.0.0.1:0", api=None, config=HubConfig(),
              insecure=True)
    hub.start()
    workers = []
    try:
        for i in range(n_workers):
            (d / f"w{i}").mkdir()
            workers.append(subprocess.Popen(_worker_cmd(hub.worker_endpoint, d / f"w{i}"),
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        end = time.monotonic() + 60       # every worker joined (a late one would be timed)
        while sum(w["alive"] for w in hub.status()["workers"]) < n_workers:
            if time.monotonic() > end:
                raise SystemExit(f"only {hub.status()['workers']} of {n_workers} workers joined")
            time.sleep(0.05)
        # warm-up: workers cache the program and the scene
        timed([str(find_binary("povray-server")), str(SCENE), "-W", "64", "-H", "48", "-o",
               str(d / "warm.png"), "--api", str(hub.api_address), "--tile", "8"])
        _, out, _ = timed([str(find_binary("povray-server")), str(SCENE), "-W", str(w), "-H",
                           str(h), "-o", str(d / "dist.png"), "--api", str(hub.api_address),
                           "--tile", str(tile)])
        t = float(re.search(r"wall time:\s+([0-9.]+) s", out)[1])
        native = d / "native.png"
        ours_native(w, h, native)
        if read_png(d / "dist.png").rgb != read_png(native).rgb:
            raise SystemExit("distributed image differs from the native render!")
        return t
    finally:
        stop_processes(workers)
        hub.stop()


def bench_parallel(args, tmp: Path) -> None:
    w, h = args.width, args.height
    # baseline: the native render time (without parsing and PNG writing, like the server's
    # "wall time", which runs from submit to the last tile)
    native = min(ours_native(w, h, tmp / "n.png")[1] for _ in range(args.rounds))
    t1 = min(distributed(1, w, h, args.tile, tmp) for _ in range(args.rounds))
    t2 = min(distributed(2, w, h, args.tile, tmp) for _ in range(args.rounds))
    print(f"distributed, heavy.pov {w}x{h}, tile {args.tile}, best of {args.rounds} "
          "(images byte-identical to native)")
    print(f"  native single process (render): {native:.3f} s")
    print(f"  1 worker : {t1:.3f} s  -> overhead {100 * (t1 / native - 1):+.1f} % vs native "
          "(goal <= 5 %)")
    print(f"  2 workers: {t2:.3f} s  -> speed-up {t1 / t2:.2f}, efficiency "
          f"{100 * t1 / (2 * t2):.1f} % of linear (goal >= 90 %)")


def _ctx_switches(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return sum(int(line.split()[1]) for line in text.splitlines()
               if line.endswith("ctxt_switches") or "ctxt_switches:" in line)


def bench_layers(args, tmp: Path) -> None:
    import resource

    from cpushare_mq.povray.tiles import cut_tiles, frame
    from cpushare_mq.sandbox import Sandbox

    w, h = args.width, args.height
    ours_native(w, h, tmp / "n.png")
    subprocess.run([str(find_binary("povray-render")), str(SCENE), "-W", "8", "-H", "8", "-o",
                    str(tmp / "s.png"), "--dump-scene", str(tmp / "scene")], check=True,
                   capture_output=True)
    scene = (tmp / "scene").read_bytes()
    tiles = [t.encode() for t in cut_tiles(w, h, args.tile)]
    elf = find_binary("povray-client.elf")
    (tmp / "stdin").write_bytes(frame(b"S", scene) + b"".join(frame(b"F", t) for t in tiles))

    def piped() -> tuple[float, float, int]:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        with open(tmp / "stdin", "rb") as f:
            p = subprocess.Popen([str(elf)], stdin=f, stdout=subprocess.PIPE)
            while os.read(p.stdout.fileno(), 1 << 16):
                pass
            p.wait()
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        return wall, cpu, (r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw)

    def sandboxed(pipelined: bool) -> tuple[float, float, int]:
        with Sandbox(elf, shared_input=scene) as sb:   # SCHED_IDLE, as a seller runs it
            first = sb.run(tiles[0], on_chunk=lambda b: None)       # start the process
            if not first.ok:
                raise SystemExit(f"the sandboxed client failed its first tile: {first}")
            c0, cpu = _ctx_switches(sb.pid), 0.0
            t0 = time.perf_counter()
            for i, t in enumerate(tiles):
                nxt = tiles[i + 1] if pipelined and i + 1 < len(tiles) else None
                rec = sb.run(t, on_chunk=lambda b: None,
                             next_fragment=(lambda n=nxt: n) if nxt else None)
                if not rec.ok:
                    raise SystemExit(f"tile {i} failed in the sandbox: {rec}")
                cpu += rec.cpu_s
            wall = time.perf_counter() - t0
            return wall, cpu, _ctx_switches(sb.pid) - c0

    rows = {"native render": [], "piped to the client": [], "Sandbox.run, one at a time": [],
            "Sandbox.run, pipelined": []}
    for _ in range(args.rounds):
        rows["native render"].append((ours_native(w, h, tmp / "n.png")[1], float("nan"), 0))
        rows["piped to the client"].append(piped())
        rows["Sandbox.run, one at a time"].append(sandboxed(False))
        rows["Sandbox.run, pipelined"].append(sandboxed(True))
    native = min(r[0] for r in rows["native render"])
    print(f"layers, heavy.pov {w}x{h}, tile {args.tile} ({len(tiles)} tiles), best of "
          f"{args.rounds} (load {os.getloadavg()[0]:.1f})")
    for name, runs in rows.items():
        best = min(runs)
        extra = "" if name == "native render" else \
            f", program CPU {best[1]:.3f} s, {best[2]} context switches"
        print(f"  {name:28s}: {best[0]:.3f} s ({100 * (best[0] / native - 1):+.1f} %){extra}")


def bench_overhead(args, tmp: Path) -> None:
    w, h = args.width, args.height
    print(f"overhead of 1 worker vs native, heavy.pov {w}x{h}, tile {args.tile}, "
          f"{args.rounds} pairs (images byte-identical to native)")
    pct = []
    for i in range(args.rounds):
        native = ours_native(w, h, tmp / "n.png")[1]
        t1 = distributed(1, w, h, args.tile, tmp)
        pct.append(100 * (t1 / native - 1))
        print(f"  pair {i + 1}: native {native:.3f} s, 1 worker {t1:.3f} s -> {pct[-1]:+.1f} % "
              f"(load {os.getloadavg()[0]:.1f})", flush=True)
    print(f"  overhead: median {statistics.median(pct):+.1f} %, min {min(pct):+.1f} %, "
          f"max {max(pct):+.1f} % (goal <= 5 %)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=["single", "parallel", "overhead", "layers"])
    p.add_argument("--size", default="2560x1920", help="WxH (default 2560x1920)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tile", type=int, default=256,
                   help="tile size of the distributed runs (default 256: what cpushare-povray "
                        "picks for 2560x1920 on 2 workers)")
    args = p.parse_args()
    args.width, args.height = map(int, args.size.split("x"))
    print(f"machine: {platform.machine()}, {platform.processor() or '?'}, "
          f"python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        if args.only in (None, "single"):
            bench_single(args, tmp)
        if args.only in (None, "parallel"):
            bench_parallel(args, tmp)
        if args.only == "overhead":
            bench_overhead(args, tmp)
        if args.only == "layers":
            bench_layers(args, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
