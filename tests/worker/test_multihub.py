"""One ``cpushare-worker`` serving two hubs (``--hub A --hub-key KA --hub B --hub-key KB``),
keys on: each free slot goes to the first hub with work (equal prices: the order given),
the worker moves to the other hub when the first runs dry and comes back, at fragment
boundaries, when it has work again; every fragment is accepted exactly once on each hub."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import wait_for

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub

from .test_e2e import assert_accepted_once, db_rows, results_of, spin_expected, spin_fragments

BIN = Path(sys.executable).parent


@pytest.fixture
def two_hubs(tmp_path):
    hubs = [Hub(tmp_path / f"{n}.db", bind="tcp://127.0.0.1:0", api="", insecure=False).start()
            for n in ("a", "b")]
    try:
        yield hubs
    finally:
        for h in hubs:
            h.close()


def start_worker(tmp_path: Path, args: list[str], name: str) -> subprocess.Popen:
    log = open(tmp_path / f"worker-{name}.log", "ab")
    p = subprocess.Popen([str(BIN / "cpushare-worker"), *args, "--name", name,
                          "--cache-dir", str(tmp_path / f"cache-{name}"),
                          "--config-dir", str(tmp_path / f"id-{name}"),
                          "--status-interval-s", "1"], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return p


def vote_times(db: Path, job: str) -> list[float]:
    return [r[0] for r in db_rows(db, "SELECT leased_s FROM attempts WHERE job_id=? AND "
                                      "end='vote' ORDER BY leased_s", (job,))]


def test_one_worker_two_hubs_fills_the_first_then_moves(two_hubs, tmp_path, spin_elf):
    a, b = two_hubs
    pairs = []
    for h in (a, b):
        pairs += ["--hub", h.worker_endpoint, f"--hub-key={h.public_key}"]   # a key may start with -
    fa, fb = spin_fragments(30, 20_000, "a"), spin_fragments(30, 20_000, "b")
    ja = a.submit_job(JobSpec(program=spin_elf.read_bytes(), fragments=fa))
    jb = b.submit_job(JobSpec(program=spin_elf.read_bytes(), fragments=fb))
    w = start_worker(tmp_path, [*pairs, "--slots", "2"], "w")
    logs = lambda: (tmp_path / "worker-w.log").read_text(errors="replace")[-4000:]  # noqa: E731
    try:
        wait_for(lambda: a.job_progress(ja)["done"] == 30, 90, "hub A's job", explain=logs)
        wait_for(lambda: b.job_progress(jb)["done"] == 30, 90, "hub B's job", explain=logs)
        assert_accepted_once(Path(a.db_path), ja, 30)
        assert_accepted_once(Path(b.db_path), jb, 30)
        assert results_of(a, ja, 30) == spin_expected(spin_elf, b"", fa)
        assert results_of(b, jb, 30) == spin_expected(spin_elf, b"", fb)
        # the first hub filled the slots first: the second got its first lease only after
        # the first had leased all of its fragments
        assert vote_times(Path(b.db_path), jb)[0] > vote_times(Path(a.db_path), ja)[-1]
        # B still has work and A gets a new job: A takes the slots as B's fragments end
        long_b = b.submit_job(JobSpec(program=spin_elf.read_bytes(),
                                      fragments=spin_fragments(400, 20_000, "b2")))
        wait_for(lambda: b.job_progress(long_b)["done"] >= 4, 60, "B's long job to start")
        ja2 = a.submit_job(JobSpec(program=spin_elf.read_bytes(),
                                   fragments=spin_fragments(10, 20_000, "a2")))
        wait_for(lambda: a.job_progress(ja2)["done"] == 10, 60, "A's second job", explain=logs)
        assert b.job_progress(long_b)["done"] < 400          # A did not wait for B's job
        assert_accepted_once(Path(a.db_path), ja2, 10)
        # never killed a running fragment to do so
        assert db_rows(Path(b.db_path), "SELECT COUNT(*) FROM attempts WHERE job_id=? AND "
                                        "end IN ('lost', 'failed', 'crash')", (long_b,))[0][0] == 0
        w.send_signal(signal.SIGTERM)
        assert w.wait(40) == 0, logs()
    finally:
        if w.poll() is None:
            w.kill()
            w.wait(10)
    assert "Traceback" not in logs()


@pytest.mark.parametrize("args, says", [
    (["--hub", "tcp://a.example:1", "--hub-key", "k", "--hub", "tcp://b.example:1"],
     "give one --hub-key per --hub, in the same order: got 2 hubs and 1 keys"),
    (["--hub", "tcp://a.example:1", "--hub", "tcp://a.example:1", "--insecure"],
     "the same --hub is given twice"),
    (["--hub", "tcp://a.example:1", "--hub", "tcp://b.example:1"],
     "the link to tcp://a.example:1 would be plain TCP"),
    (["--hub", "tcp://127.0.0.1:1", "--min-price", "0.5"], "--min-price needs --market"),
    (["--hub", "tcp://127.0.0.1:1", "--min-price", "cheap"], "price must be a non-negative"),
    (["--market", "tcp://m.example:1"], "the link to the market tcp://m.example:1 would be"),
])
def test_bad_hub_lists_get_one_line(args, says, tmp_path):
    r = subprocess.run([str(BIN / "cpushare-worker"), *args], capture_output=True, text=True,
                       timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert r.returncode == 2
    assert says in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_hub_pairs_from_the_config_file_and_the_command_line_replaces_them(tmp_path,
                                                                          monkeypatch):
    from cpushare_mq.cliopts import apply_defaults
    from cpushare_mq.worker.cli import build_parser

    cfg = tmp_path / "config.toml"
    cfg.write_text('[cpushare-worker]\nhub = ["tcp://a.example:1", "tcp://b.example:2"]\n'
                   'hub-key = ["a.pub", "b.pub"]\n')
    monkeypatch.setenv("CPUSHARE_CONFIG", str(cfg))
    p = build_parser()
    apply_defaults(p, "cpushare-worker", environ={})
    args = p.parse_args([])
    assert args.hub == ["tcp://a.example:1", "tcp://b.example:2"]
    assert args.hub_key == ["a.pub", "b.pub"]
    p = build_parser()
    apply_defaults(p, "cpushare-worker", environ={})
    args = p.parse_args(["--hub", "tcp://c.example:3", "--hub-key", "c.pub"])
    assert args.hub == ["tcp://c.example:3"] and args.hub_key == ["c.pub"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_hub_going_away_and_back_while_the_other_carries_on(tmp_path, spin_elf):
    from .test_market_e2e import accepted_once

    ports = {"a": free_port(), "b": free_port()}

    def start(n):
        return Hub(tmp_path / f"{n}.db", bind=f"tcp://127.0.0.1:{ports[n]}", api="",
                   insecure=False).start()

    hubs = {"a": start("a"), "b": start("b")}
    w = None
    try:
        pairs = []
        for h in hubs.values():
            pairs += ["--hub", h.worker_endpoint, f"--hub-key={h.public_key}"]   # a key may start with -
        prog = spin_elf.read_bytes()
        ja = hubs["a"].submit_job(JobSpec(program=prog, fragments=spin_fragments(200, 40_000, "a")))
        jb = hubs["b"].submit_job(JobSpec(program=prog, fragments=spin_fragments(60, 40_000, "b")))
        w = start_worker(tmp_path, [*pairs, "--slots", "2"], "w")
        log = lambda: (tmp_path / "worker-w.log").read_text(errors="replace")  # noqa: E731
        wait_for(lambda: hubs["a"].job_progress(ja)["done"] >= 20, 60, "A's job under way",
                 explain=lambda: log()[-3000:])
        assert hubs["b"].job_progress(jb)["done"] == 0          # A first (order given)
        hubs["a"].close()                                      # A goes away mid-job
        wait_for(lambda: hubs["b"].job_progress(jb)["done"] == 60, 90,
                 "B's job while A is away", explain=lambda: log()[-3000:])
        hubs["a"] = start("a")                                 # A is back (same db, keys)
        wait_for(lambda: hubs["a"].job_progress(ja)["done"] == 200, 120,
                 "A's job after its restart", explain=lambda: log()[-3000:])
        accepted_once(Path(hubs["a"].db_path), ja, 200)
        accepted_once(Path(hubs["b"].db_path), jb, 60)
        assert log().count("joined hub as") >= 3               # A, B, and A again
        # caching per hub: B's next job of the same program fetches nothing again
        fetched = log().count("fetched blob")
        jb2 = hubs["b"].submit_job(JobSpec(program=prog, fragments=spin_fragments(10, 0, "c")))
        wait_for(lambda: hubs["b"].job_progress(jb2)["done"] == 10, 60, "B's second job")
        assert log().count("fetched blob") == fetched
        w.send_signal(signal.SIGTERM)
        assert w.wait(40) == 0
        assert "Traceback" not in log()
    finally:
        if w is not None and w.poll() is None:
            w.kill()
            w.wait(10)
        for h in hubs.values():
            h.close()


def test_a_hub_key_starting_with_a_dash_is_a_value():
    from cpushare_mq.cliopts import join_key_values
    from cpushare_mq.worker.cli import build_parser

    key = "-" + "a" * 39
    argv = ["--hub", "tcp://a.example:1", "--hub-key", key, "--hub", "tcp://b.example:1",
            "--hub-key", "b.pub", "--slots", "2"]
    args = build_parser().parse_args(join_key_values(argv))
    assert args.hub_key == [key, "b.pub"] and args.slots == 2
