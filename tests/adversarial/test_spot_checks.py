"""Issue 14, item 7: spot checks and re-verification went to any worker with credit, so a
group of new keys confirmed each other's wrong answers (and outvoted honest sellers into
bans). Now a check goes only to established or trusted keys, never the key being checked,
never one younger than a checked key with standing (trust/verifiers.py).

As a user runs it: ``cpushare-hub serve`` (keys on), two honest ``cpushare-worker``s earn
their standing with a redundancy-2 job, then three cheating workers (the shipped worker whose
sandbox flips every result byte: they all give the same wrong answer, signed with their own
fresh keys) join, and the buyer submits a redundancy-1 job."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from trust.cheaters import cheater_env
from trust.cli_hub import CliHub
from trust.test_voting_cli import inputs, native_answers, spin_inputs

from cpushare_mq.native import find_binary
from cpushare_mq.trust.reputation import ReputationBook, TrustPolicy
from cpushare_mq.trust.verifiers import VerifierRule

HONEST = {"honest0", "honest1"}
LIARS = {"liar0", "liar1", "liar2"}


def test_the_rule():
    book = ReputationBook(TrustPolicy(probation_checks=2, trusted_checks=4))
    rule = VerifierRule(book)
    for key, t in (("old", 1.0), ("young", 2.0), ("newer", 3.0)):
        book.record(key, t)
    assert rule("newer", "old") and rule("old", "newer")        # a new hub: anyone else
    assert not rule("old", "old")
    for _ in range(2):
        book.on_verdict(1, ["old"], [], 5.0)
    assert book.has_established() and rule("newer", "old")      # one key with standing: not yet
    for _ in range(2):
        book.on_verdict(1, ["young"], [], 5.0)
    assert book.has_established(2)
    assert not rule("newer", "old") and not rule("newer", "young")   # probation checks nobody
    assert rule("old", "newer") and rule("young", "newer")            # standing checks probation
    assert rule("old", "young") and not rule("young", "old")          # never younger than it
    assert rule("young", "") and not rule("newer", "")                # a tie-break: standing
    book.ban("old", "test")
    assert not rule("old", "newer")


def _submit(hub: CliHub, name: str, k: int, n: int, spin: int = 0) -> tuple[list[Path], Path,
                                                                        list[bytes]]:
    """Submit ``n`` echo.elf fragments (the right answer is the input), or with ``spin``
    spin.elf fragments of that many loop iterations (a few ms of work each, so that every
    worker gets its share however late its sandbox starts: echo fragments are all done by
    the warm workers first on a busy machine). Returns the inputs, the output folder and the
    right answers."""
    if spin:
        program = find_binary("examples/spin.elf")
        paths = [Path(p) for p in spin_inputs(hub.root, name, n, spin)]
        right = native_answers(program, list(map(str, paths)))
    else:
        program = find_binary("examples/echo.elf")
        paths = [Path(p) for p in inputs(hub.root, name, n)]
        right = [p.read_bytes() for p in paths]
    out = hub.root / f"out-{name}"
    proc = hub.cli("submit", str(program), *map(str, paths),
                   "--out", str(out), "--redundancy", str(k), "--quorum", str(k), "--name", name,
                   timeout_s=300)
    assert proc.returncode == 0, proc.stderr
    return paths, out, right


def _results_by_fragment(db: Path, job_name: str) -> dict[int, list[tuple[str, str]]]:
    """index -> [(worker key, sha256)] of every result of the job, in attempt order."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        rows = c.execute(
            "SELECT f.idx, a.worker_key, a.sha256 FROM attempts a JOIN fragments f "
            "ON f.id = a.fragment_id JOIN jobs j ON j.id = a.job_id WHERE j.name = ? AND "
            "a.sha256 IS NOT NULL AND a.sha256 != '' ORDER BY f.idx, a.attempt",
            (job_name,)).fetchall()
    out: dict[int, list[tuple[str, str]]] = {}
    for idx, key, sha in rows:
        out.setdefault(idx, []).append((key, sha))
    return out


@pytest.fixture
def hub(tmp_path):
    h = CliHub(tmp_path)
    try:
        yield h
    finally:
        h.close()


def test_fresh_keys_cannot_confirm_each_others_wrong_answers(hub):
    for name in sorted(HONEST):
        hub.start_worker(name)
    hub.wait_workers(HONEST)
    paths, out, right = _submit(hub, "warmup", 2, 12)     # 12 agreeing votes: established
    assert all((out / f"{p.name}.out").read_bytes() == r
               for p, r in zip(paths, right, strict=True))
    for name in sorted(LIARS):
        hub.start_worker(name, env=cheater_env(hub.root / f"{name}-native"))
    hub.wait_workers(HONEST | LIARS)
    paths, out, right = _submit(hub, "k1", 1, 120, spin=3_000_000)
    with sqlite3.connect(f"file:{hub.db}?mode=ro", uri=True) as c:
        key_of = dict(c.execute("SELECT name, worker_key FROM workers"))
    liars = {key_of[n] for n in LIARS}
    checked = 0
    for idx, results in _results_by_fragment(hub.db, "k1").items():
        # the first result is the one checked; every copy after it ran on an honest key
        copies = [key for key, _sha in results[1:]]
        assert not liars & set(copies), f"fragment {idx}: a liar ran a check: {results}"
        if copies:
            checked += 1
            got = (out / f"{paths[idx].name}.out").read_bytes()
            assert got == right[idx], f"fragment {idx} was checked and the buyer got a wrong answer"
    assert checked, "no result was checked"
    st = hub.status()
    assert not [w for w in st["workers"] if w["name"] in HONEST and w["strikes"]], st["workers"]
    # liars were caught by honest checks (struck, most of them banned by now)
    assert [s for s in st["sellers"] if s["key"] in liars and (s["strikes"] or s["banned"])]
