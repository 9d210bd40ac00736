"""Voting and spot checks on a default hub, driven exactly as the README says: `cpushare-hub
serve` (CURVE and signed results on), `cpushare-worker` processes each with its own identity,
`cpushare submit --redundancy K --quorum M`. The landed code stalled here for ever: every
worker of the README shared the default identity, so no fragment found K distinct keys, and
nothing said why.

A cheater is the shipped worker whose sandbox lies (tests/trust/cheaters.py), signing its
wrong answers with its own valid key.
"""

from __future__ import annotations

import re
import select
import sqlite3
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from waiting import wait_for

from cpushare_mq.native import find_binary
from trust.cheaters import cheater_env
from trust.cli_hub import CliHub

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    h = CliHub(tmp_path_factory.mktemp("voting"))
    try:
        yield h
    finally:
        h.close()


def inputs(root, name: str, n: int) -> list[str]:
    d = root / f"in-{name}"
    d.mkdir()
    paths = []
    for i in range(n):
        p = d / f"frag{i:03d}.in"
        p.write_bytes(b"%s fragment %d " % (name.encode(), i) + bytes(range(i % 200)))
        paths.append(str(p))
    return paths


def spin_inputs(root, name: str, n: int, iterations: int) -> list[str]:
    """Fragments of spin.elf: ``iterations`` of its loop (a few ms each), then a tag."""
    d = root / f"in-{name}"
    d.mkdir()
    paths = []
    for i in range(n):
        p = d / f"tile{i:03d}.in"
        p.write_bytes(struct.pack("<Q", iterations + i) + b"tile %d" % i)
        paths.append(str(p))
    return paths


def native_answers(program: Path, paths: list[str]) -> list[bytes]:
    """The right answers: the same static binary run natively (no sandbox, nobody to lie)."""
    frames = [struct.pack("<IB", 0, ord("S"))]
    for p in paths:
        data = Path(p).read_bytes()
        frames.append(struct.pack("<IB", len(data), ord("F")) + data)
    out = subprocess.run([str(program)], input=b"".join(frames), capture_output=True,
                         timeout=120, check=True).stdout
    answers, cur, off = [], b"", 0
    while off < len(out):
        n, kind = struct.unpack_from("<IB", out, off)
        payload = out[off + 5:off + 5 + n]
        off += 5 + n
        if kind == ord("D"):
            cur += payload
        elif kind == ord("E"):
            answers.append(cur)
            cur = b""
    return answers


def submit(hub: CliHub, name: str, k: int, m: int, n: int = 16, spin: int = 0) -> str:
    """Submit ``n`` fragments (echo.elf: its right answer is its input; or spin.elf with
    ``spin`` iterations each) and check every result the buyer got. Returns stderr."""
    if spin:
        program = find_binary("examples/spin.elf")
        paths = spin_inputs(hub.root, name, n, spin)
        right = native_answers(program, paths)
    else:
        program = find_binary("examples/echo.elf")
        paths = inputs(hub.root, name, n)
        right = [Path(p).read_bytes() for p in paths]
    out = hub.root / f"out-{name}"
    proc = hub.cli("submit", str(program), *paths, "--out", str(out),
                   "--redundancy", str(k), "--quorum", str(m), timeout_s=240)
    assert proc.returncode == 0, proc.stderr
    wrong = [Path(p).name for p, answer in zip(paths, right, strict=True)
             if (out / f"{Path(p).name}.out").read_bytes() != answer]
    assert not wrong, f"wrong results {wrong}; the hub's account of checks:\n" + hub_trust_log(hub)
    return proc.stderr


def hub_trust_log(hub: CliHub) -> str:
    """The hub's log lines about checks, strikes, re-verification and lost workers (what
    decides whether a liar's result reaches the buyer)."""
    words = ("spot", "check", "strike", "verif", "dead", "lost", "release", "ban", "disagree")
    lines = hub.log().decode(errors="replace").splitlines()
    return "\n".join(ln for ln in lines if any(w in ln.lower() for w in words))[-6000:]


def honest_strikes(hub: CliHub, honest: set[str]) -> list:
    st = hub.status()
    return [(w["name"], w["strikes"]) for w in st["workers"] if w["name"] in honest
            and w["strikes"]]


def test_quorum_matrix_with_exactly_k_and_more_workers_than_k(hub):
    """(K, M) in (2,2), (3,2), (5,3), each with exactly K workers and with more than K."""
    names = [f"honest{i}" for i in range(6)]
    for n_workers, jobs in ((2, [(2, 2)]), (3, [(2, 2), (3, 2)]), (5, [(3, 2), (5, 3)]),
                            (6, [(5, 3)])):
        for name in names[:n_workers]:
            if name not in hub.workers:
                hub.start_worker(name)
        hub.wait_workers(set(names[:n_workers]))
        for k, m in jobs:
            submit(hub, f"k{k}m{m}-w{n_workers}", k, m)
    assert honest_strikes(hub, set(names)) == []


@pytest.fixture
def fresh_hub(tmp_path):
    h = CliHub(tmp_path)
    try:
        yield h
    finally:
        h.close()


@pytest.mark.parametrize(("k", "m", "n_honest"), [(3, 2, 2), (2, 2, 2), (5, 3, 4)])
def test_a_liar_among_honest_workers_is_struck_then_banned_and_never_believed(fresh_hub, k, m,
                                                                              n_honest):
    """A liar among honest workers, exactly K workers ((3,2) and (5,3)) or more ((2,2) with
    3): every fragment needs copies from distinct keys, the liar's answers never win, and
    its strikes lead to its ban; honest workers get no strike."""
    hub = fresh_hub
    honest = {f"honest{i}" for i in range(n_honest)}
    hub.start_worker("liar", env=cheater_env(hub.root / "liar-native"))
    hub.wait_workers({"liar"})
    # the job is submitted with the liar alone connected, the honest workers started once it
    # is stored: the liar (a copy of every fragment, ~10 ms each) answers many fragments
    # before any honest quorum exists, whatever the machine's load (started together, a liar
    # one fragment behind stayed behind: each copy it was late for was cancelled, no vote)
    done: list[str] = []
    job = threading.Thread(target=lambda: done.append(
        submit(hub, f"liar-k{k}m{m}", k, m, n=60, spin=10_000_000)))
    job.start()
    try:
        wait_for(lambda: hub.status()["jobs"], 60, "the job stored")
        for name in sorted(honest):
            hub.start_worker(name)
    finally:
        job.join(300)
    assert done, "the submission failed (its assertion is above)"
    st = hub.status()
    liar = [s for s in st["sellers"] if s["banned"]]
    assert len(liar) == 1 and liar[0]["strikes"] >= 3, st["sellers"]
    assert "disagreed" in liar[0]["reason"]
    assert honest_strikes(hub, honest) == []
    shown = hub.cli("status")
    assert "sellers with strikes (1)" in shown.stdout, shown.stdout


def test_a_liar_at_redundancy_1_is_caught_by_spot_checks_and_its_results_corrected(fresh_hub):
    """Default spot checks (k=1): the liar is caught, every result the buyer ends with is
    right, and the buyer is told which results changed (re-verified after the catch)."""
    hub = fresh_hub
    honest = {"honest0", "honest1", "honest2"}
    # (the spot check that catches the liar may decide the job's last fragment: the hub keeps
    # the job open until the liar's other results of it are reopened, Scheduler.held_jobs)
    hub.start_worker("liar", env=cheater_env(hub.root / "liar-native"))
    for name in sorted(honest):
        hub.start_worker(name)
    hub.wait_workers(honest | {"liar"})
    err = submit(hub, "liar-k1", 1, 1, n=150, spin=3_000_000)
    liar = [s for s in hub.status()["sellers"] if s["strikes"]]
    assert len(liar) == 1, hub.status()["sellers"]        # caught: a strike
    # banned at its third strike: a struck key has every result checked, so each lie it
    # tells after the catch is another strike -- but how many fragments it still gets in
    # this job depends on when it was caught (on a busy machine the honest three may take
    # nearly all of the rest). More work gives it the chance to lie again.
    for extra in range(3):
        if liar[0]["banned"]:
            break
        submit(hub, f"liar-k1-more{extra}", 1, 1, n=40, spin=3_000_000)
        liar = [s for s in hub.status()["sellers"] if s["strikes"]]
    assert len(liar) == 1 and liar[0]["banned"], liar
    # the liar's results accepted before it was caught were re-verified; those the buyer had
    # received already were re-delivered and the buyer was told (the CLI counts them)
    fixed = hub.log().count(b"the accepted result was wrong; corrected")
    told = re.search(r"(\d+) results were corrected after re-verification", err)
    assert (int(told[1]) if told else 0) <= fixed
    assert honest_strikes(hub, honest) == []
    # caught within its first results: the seeded simulation (test_reputation.py) shows <= 20
    # in 19 of 20 runs; this one unseeded run allows 40 (missed with probability < 1e-6)
    assert liar_results_before_caught(hub, liar[0]["key"]) <= 40


def liar_results_before_caught(hub: CliHub, key: str) -> int:
    """Results of ``key`` the hub took before the one whose check first outvoted it (results
    re-verified later are marked at that later time, so go by verdict time)."""
    with sqlite3.connect(f"file:{hub.db}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT leased_s, ended_s, end FROM attempts WHERE worker_key = ? "
                          "AND sha256 IS NOT NULL AND sha256 != ''", (key,)).fetchall()
    lost = [r for r in rows if r[2] == "disagreed"]
    if not lost:
        return len(rows)
    first = min(lost, key=lambda r: r[1])
    return sum(1 for r in rows if r[0] < first[0])


def test_exactly_k_with_a_liar_waits_for_a_tie_breaker_and_says_so(fresh_hub):
    """(2,2) with one honest worker and the liar: their copies disagree and no third key is
    there; the job says so (status and the submit progress line) until one comes."""
    hub = fresh_hub
    hub.start_worker("liar", env=cheater_env(hub.root / "liar-native"))
    hub.start_worker("honest0")
    hub.wait_workers({"liar", "honest0"})
    paths = inputs(hub.root, "tie", 4)
    err_path = hub.root / "tie-submit.err"
    with open(err_path, "wb") as err:
        sub = subprocess.Popen(
            [str(Path(sys.executable).parent / "cpushare"), "submit",
             str(find_binary("examples/echo.elf")), *paths, "--out", str(hub.root / "out-tie"),
             "--redundancy", "2", "--quorum", "2", "--api", str(hub.sock)],
            stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for(lambda: any(j.get("waiting", "").startswith(
            "copies disagree: waiting for a tie-breaker") for j in hub.status()["jobs"]),
            60, "the waiting reason")
        assert "waiting: copies disagree: waiting for a tie-breaker" in hub.cli("status").stdout
        wait_for(lambda: "waiting: copies disagree: waiting for a tie-breaker" in
                 err_path.read_text(), 60, "the reason in the progress line")
        hub.start_worker("honest1")                 # a tie-breaker comes
        sub.wait(120)
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait(10)
    assert sub.returncode == 0, err_path.read_text()
    for p in paths:
        assert (hub.root / "out-tie" / f"{Path(p).name}.out").read_bytes() == Path(p).read_bytes()
    st = hub.status()
    assert [s["strikes"] for s in st["sellers"] if s["strikes"]] and \
        honest_strikes(hub, {"honest0", "honest1"}) == []


def test_too_few_distinct_workers_says_why_instead_of_hanging(tmp_path):
    """One seller (one identity) cannot give a fragment two copies: the job says so."""
    h = CliHub(tmp_path)
    try:
        h.start_worker("only")
        h.wait_workers({"only"})
        paths = inputs(tmp_path, "lonely", 4)
        submit_ = subprocess.Popen(
            [str(Path(sys.executable).parent / "cpushare"), "submit",
             str(find_binary("examples/echo.elf")), *paths, "--out", str(tmp_path / "o"),
             "--redundancy", "2", "--quorum", "2", "--api", str(h.sock)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for(lambda: any("needs 2 distinct workers" in j.get("waiting", "")
                                 for j in h.status()["jobs"]), 30, "the waiting reason")
            assert "needs 2 distinct workers (worker keys), 1 connected" in h.cli("status").stdout
            seen = []

            def progress_says_why() -> bool:
                if select.select([submit_.stdout], [], [], 0.5)[0]:
                    seen.append(submit_.stdout.readline())
                return any("waiting: redundancy needs 2 distinct workers" in ln for ln in seen)
            wait_for(progress_says_why, 30, "the reason in the progress line")
        finally:
            submit_.kill()
            submit_.communicate(timeout=10)
    finally:
        h.close()


def test_a_nondeterministic_program_ends_as_disagreeing_and_blames_nobody(fresh_hub):
    """Copies that never agree (rdrand in the program) end the fragments as disagreeing
    after the extra copies, with a reason the buyer can act on, and no worker gets a strike."""
    if "rdrand" not in Path("/proc/cpuinfo").read_text():
        pytest.skip("this CPU has no rdrand, so nondet.elf cannot run")
    hub = fresh_hub
    names = {f"w{i}" for i in range(4)}
    for name in sorted(names):
        hub.start_worker(name)
    hub.wait_workers(names)
    paths = inputs(hub.root, "nondet", 3)
    proc = hub.cli("submit", str(find_binary("examples/nondet.elf")), *paths,
                   "--out", str(hub.root / "out-nondet"), "--redundancy", "2", "--quorum", "2",
                   timeout_s=120)
    assert proc.returncode == 1, proc.stderr
    assert "3 of 3 fragments failed" in proc.stderr
    assert proc.stderr.count("copies disagree: no quorum: 4 results, 4 different answers") == 3
    st = hub.status()
    assert [s for s in st["sellers"] if s["strikes"]] == []
