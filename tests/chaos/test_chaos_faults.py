"""Random faults from a seeded schedule during a distributed render of a shared scene.

Workers get SIGKILL, SIGSTOP (resumed later) and SIGTERM, new workers join, the hub is
killed with SIGKILL and restarted on the same database, and the buyer's client is killed and
re-attached. At the end: the PNG is byte-identical to the native single-process render's,
the hub's database shows every fragment accepted exactly once, and executions stay under
1.3x the fragment count.

Events fire at seeded points of the job's progress (read from the hub's database), so they
all land inside the job however fast or loaded the machine is. The seed comes from
CPMQ_CHAOS_SEED (default below); a failure message names it, so a run can be replayed.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import struct
import subprocess
import sys
import time

from chaos_buyer import load_records
from chaoslib import HERE, db_report, free_port, start_hub, start_worker, wait_for

from cpushare_mq.povray.image import read_png
from cpushare_mq.povray.tiles import cut_tiles, paste

SEED = int(os.environ.get("CPMQ_CHAOS_SEED", "20261122"))
WIDTH, HEIGHT, TILE = 960, 720, 8          # 10,800 tiles
EVENTS = ["kill9", "kill9", "stop", "stop", "term", "join", "join", "join", "hub_kill",
          "buyer_kill"]


def done_count(db, job_id: str) -> int:
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return c.execute("SELECT count(*) FROM fragments WHERE job_id=? AND state='DONE'",
                             (job_id,)).fetchone()[0]
        finally:
            c.close()
    except sqlite3.Error:
        return -1


def test_seeded_faults_during_a_distributed_render(tmp_path, procs, povray_bins, scenes,
                                                   write_png):
    rng = random.Random(SEED)
    ctx = f"(seed {SEED}; replay with CPMQ_CHAOS_SEED={SEED})"
    # the reference: native single-process render, and the scene as the job's shared input
    native_png, scene_bin = tmp_path / "native.png", tmp_path / "scene.bin"
    subprocess.run([str(povray_bins["render"]), str(scenes / "heavy.pov"), "-W", str(WIDTH),
                    "-H", str(HEIGHT), "-o", str(native_png), "--dump-scene", str(scene_bin)],
                   check=True, capture_output=True, timeout=60)
    tiles = cut_tiles(WIDTH, HEIGHT, TILE)
    frag_file = tmp_path / "fragments.bin"
    frag_file.write_bytes(b"".join(struct.pack("<I", 32) + t.encode() for t in tiles))

    db, api = tmp_path / "hub.db", str(tmp_path / "hub.sock")
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    hub = start_hub(procs, db, endpoint, api)
    workers: dict[str, subprocess.Popen] = {}
    n_started = 0

    def join():
        nonlocal n_started
        name = f"w{n_started}"
        n_started += 1
        workers[name] = start_worker(procs, endpoint, name, tmp_path / f"cache-{name}")

    for _ in range(3):
        join()
    out = str(tmp_path / "results.bin")
    buyer_cmd = [sys.executable, str(HERE / "chaos_buyer.py"), "--api", api, "--out", out]
    buyer = procs.start([*buyer_cmd, "--submit", "--program", str(povray_bins["client"]),
                         "--shared", str(scene_bin), "--fragments", str(frag_file)], "buyer0")
    job_id = wait_for(lambda: os.path.exists(out + ".jobid") and open(out + ".jobid").read(),
                      30, "the buyer to submit the job")

    # the schedule: each event at a seeded point of progress, in [3 %, 75 %]
    events = sorted(zip(sorted(rng.uniform(0.03, 0.75) for _ in EVENTS), rng.sample(EVENTS, len(EVENTS)), strict=True))
    undo: list[tuple[float, str, object]] = []   # (monotonic time, action, arg)
    log: list[str] = []
    n_buyers = 1
    total = len(tiles)
    deadline = time.monotonic() + 90
    while events or undo:
        if time.monotonic() > deadline:
            raise AssertionError(f"schedule did not finish in 90 s; done so far: {log} {ctx}")
        now = time.monotonic()
        for item in [u for u in undo if u[0] <= now]:
            undo.remove(item)
            _, action, arg = item
            if action == "resume":
                procs.signal(arg, signal.SIGCONT, tree=True)
            elif action == "hub_restart":
                hub = start_hub(procs, db, endpoint, api, name=f"hub{len(log)}")
            elif action == "buyer_restart":
                n_buyers += 1
                buyer = procs.start([*buyer_cmd, "--attach", job_id], f"buyer{n_buyers}")
            log.append(f"{action}")
        progress = done_count(db, job_id) / total
        while events and progress >= events[0][0]:
            frac, ev = events.pop(0)
            alive = [n for n, p in workers.items() if p.poll() is None]
            if ev in ("kill9", "stop", "term") and len(alive) <= 2:
                join()
                alive = [n for n, p in workers.items() if p.poll() is None]
            if ev == "kill9":
                victim = rng.choice(alive)
                procs.signal(workers.pop(victim), signal.SIGKILL)
            elif ev == "stop":
                victim = rng.choice(alive)
                p = workers.pop(victim)      # frozen: not counted as alive any more
                procs.signal(p, signal.SIGSTOP, tree=True)
                undo.append((time.monotonic() + rng.uniform(2.0, 3.0), "resume", p))
                workers[victim + "-resumed"] = p
            elif ev == "term":
                victim = rng.choice(alive)
                procs.signal(workers.pop(victim), signal.SIGTERM)
            elif ev == "join":
                join()
            elif ev == "hub_kill":
                procs.signal(hub, signal.SIGKILL)
                hub.wait(10)
                undo.append((time.monotonic() + rng.uniform(0.3, 1.0), "hub_restart", None))
            elif ev == "buyer_kill":
                procs.signal(buyer, signal.SIGKILL)
                buyer.wait(10)
                undo.append((time.monotonic() + rng.uniform(0.2, 0.8), "buyer_restart", None))
            log.append(f"{ev}@{progress:.0%}")
        time.sleep(0.02)

    try:
        rc = buyer.wait(max(5.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        rc = None
    assert rc == 0, f"buyer ended with {rc}: {procs.log(f'buyer{n_buyers}')[-1500:]} {log} {ctx}"
    time.sleep(1.0)   # late results of resumed workers arrive now: they must be dropped

    # the picture: every tile's bytes, as the buyer received them, equal the native render
    got = load_records(out)
    assert sorted(got) == list(range(total)), f"{total - len(got)} tiles missing {ctx}"
    canvas = bytearray(WIDTH * HEIGHT * 3)
    for i, t in enumerate(tiles):
        paste(canvas, WIDTH, t, got[i])
    assert bytes(canvas) == read_png(native_png).rgb, f"image differs from the native render {ctx}"
    final_png = tmp_path / "distributed.png"
    write_png(final_png, bytes(canvas), WIDTH, HEIGHT)
    assert final_png.read_bytes() == native_png.read_bytes(), f"PNG files differ {ctx}"

    # the database: each fragment accepted exactly once, few extra executions
    rep = db_report(db, job_id)
    assert rep["states"] == {"DONE": total}, (rep["states"], ctx)
    assert rep["accepted_once"] and rep["seq_unique"], (rep["votes_per_fragment"], ctx)
    assert rep["result_attempt_matches"] and rep["stored_result_attempts"] == {1: total}, (rep, ctx)
    ratio = rep["executions"] / total
    assert ratio <= 1.3, (f"{rep['executions']} executions for {total} fragments", rep["attempt_ends"], ctx)
    # the faults really happened: several hub lives, buyer restarts, workers joining. (Not
    # counted from the attempts' worker ids: the hub reuses the id of an ended session of the
    # same key, hub/workerids.py, and these workers share one key; under load the joined
    # workers may replace killed ones rather than run beside them.)
    assert any(e.startswith("hub_kill") for e in log) and "hub_restart" in log, log
    assert n_buyers >= 2 and n_started >= 6, (n_buyers, n_started)
    print(f"chaos {ctx}: {log}; executions/fragments = {ratio:.3f}; ends {dict(rep['attempt_ends'])}")
