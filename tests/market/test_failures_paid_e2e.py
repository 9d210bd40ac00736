"""Issue 19, what a failed attempt is paid, from the command line with the defaults: a
fragment the program fails on (here: it runs past the job's CPU limit on every attempt)
ends FAILED and the attempt that ended it is paid its measured CPU time, once; a fragment
that ends FAILED by the wall clock (which a slow seller machine can cause) is not paid."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

from cpushare_mq.market.money import Price, cost
from cpushare_mq.native import find_binary

from .test_ledger_e2e import BIN, ledger_json


def submit(root: Path, name: str, spins: list[int], *extra: str) -> str:
    d = root / name
    d.mkdir()
    for i, n in enumerate(spins):
        (d / f"f{i}.bin").write_bytes(n.to_bytes(8, "little") + f"{name}{i}".encode())
    r = subprocess.run([str(BIN / "cpushare"), "submit", str(find_binary("examples/spin.elf")),
                        *sorted(str(p) for p in d.iterdir()), "--api", "hub.db.sock", "--out",
                        f"out-{name}", "--max-attempts", "2", *extra], capture_output=True,
                       text=True, timeout=600, cwd=root)
    assert "submitted job " in r.stderr, r.stderr
    return r.stderr.split("submitted job ")[1].split()[0]


def test_program_failures_that_end_a_fragment_are_paid_wall_clock_ones_are_not(ledger_procs):
    root = ledger_procs.root
    endpoint = ledger_procs.hub("hub")                    # --price "0.5 EUR"
    for w in ("w1", "w2"):      # a fragment that kills a sandbox is retried on another key
        ledger_procs.worker(w, endpoint, slots=1)
    forever = 10**12
    job = submit(root, "cpu", [1_000_000, forever], "--cpu-s", "0.5")
    paid = ledger_json(root, "--job", job)
    assert len(paid) == 2, paid                     # the ok fragment, and the failed one once
    failed = max(paid, key=lambda r: r["cpu_us"])
    assert failed["attempt"] == 1                   # the attempt whose report ended it
    assert 300_000 <= failed["cpu_us"] <= 500_000   # measured, never above the CPU limit
    assert Decimal(failed["amount"]) == cost(Price(Decimal("0.5"), "EUR"), failed["cpu_us"])

    job = submit(root, "wall", [forever], "--cpu-s", "30", "--wall-s", "0.5")
    assert ledger_json(root, "--job", job) == []    # the wall clock: not the program's fault
