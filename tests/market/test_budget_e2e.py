"""Issue 19, prices and budgets per job, from the command line with the defaults: the hub's
price comes from its config file; ``cpushare submit --price P --budget B`` pays the job's own
price and stops leasing before the job could cost more than B — the job waits with the
reason "budget reached" in ``cpushare status`` — and ``cpushare job raise-budget`` lets it
go on to the end, never spending more than its budget."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from decimal import Decimal
from pathlib import Path

from waiting import wait_for

from cpushare_mq.native import find_binary

from .test_ledger_e2e import BIN, ledger_json


def cpushare(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cpushare"), *args], capture_output=True, text=True,
                          timeout=180, cwd=root)


def inputs(root: Path, name: str, n: int) -> list[str]:
    d = root / name
    d.mkdir()
    for i in range(n):
        (d / f"f{i}.bin").write_bytes((30_000_000).to_bytes(8, "little") + f"{name}{i}".encode())
    return sorted(str(p) for p in d.iterdir())


def job_status(root: Path, job: str) -> dict:
    r = cpushare(root, "status", "--json", "--api", "hub.db.sock")
    assert r.returncode == 0, r.stderr
    return next(j for j in json.loads(r.stdout)["jobs"] if j["job_id"] == job)


def test_a_budget_stops_leasing_and_raise_budget_goes_on(ledger_procs):
    root = ledger_procs.root
    (root / "config.toml").write_text('[cpushare-hub]\nprice = "0.25 EUR"\n')
    with open(root / "hub.log", "ab") as log:
        hub = subprocess.Popen([str(BIN / "cpushare-hub"), "serve", "--db", "hub.db", "--bind",
                                "tcp://127.0.0.1:0"], stdout=log, stderr=subprocess.STDOUT,
                               cwd=root, start_new_session=True,
                               env={**os.environ, "CPUSHARE_CONFIG": str(root / "config.toml")})
    ledger_procs.procs.append(hub)
    m = wait_for(lambda: re.search(r"serving workers on (tcp://\S+)", ledger_procs.log("hub")), 60,
                 "the hub's endpoint", explain=lambda: ledger_procs.log("hub"))
    ledger_procs.start("w1", "cpushare-worker", "--hub", m.group(1), "--hub-key", "hub.keys/hub.pub",
                 "--slots", "1", "--name", "w1", "--cache-dir", "cache-w1", "--config-dir", "id-w1")
    spin = str(find_binary("examples/spin.elf"))

    # a job without its own price is paid at the hub's (from its config file)
    r = cpushare(root, "submit", spin, *inputs(root, "plain", 2), "--api", "hub.db.sock",
                 "--out", "out-plain")
    assert r.returncode == 0, r.stderr
    assert {(x["price"], x["currency"]) for x in ledger_json(root)} == {("0.25", "EUR")}

    # 3600 per CPU-hour = 1 per CPU second; --cpu-s 1: one lease may cost up to 1
    n = 40
    with open(root / "submit.log", "ab") as log:
        submit = subprocess.Popen(
            [str(BIN / "cpushare"), "submit", spin, *inputs(root, "paid", n), "--api",
             "hub.db.sock", "--out", "out-paid", "--price", "3600 EUR", "--budget", "1.25",
             "--cpu-s", "1"], stdout=log, stderr=subprocess.STDOUT, cwd=root)
    ledger_procs.procs.append(submit)
    m = wait_for(lambda: re.search(r"submitted job (\S+)", ledger_procs.log("submit")), 60,
                 "the job id", explain=lambda: ledger_procs.log("submit"))
    job = m.group(1)
    st = wait_for(lambda: (s := job_status(root, job))["waiting"].startswith("budget reached")
                  and s["leased"] == 0 and s, 180, "the job to wait for budget",
                  explain=lambda: f"{job_status(root, job)}\n{ledger_procs.log('hub')[-2000:]}")
    assert st["state"] == "running" and st["done"] < n
    assert "cpushare job raise-budget" in st["waiting"]
    paid = [x for x in ledger_json(root) if x["job_id"] == job]
    spent = sum(Decimal(x["amount"]) for x in paid)
    assert len(paid) == st["done"] and spent <= Decimal("1.25")
    assert {(x["price"], x["currency"]) for x in paid} == {("3600", "EUR")}
    # it stays stopped: nothing is leased while it waits
    table = cpushare(root, "status", "--api", "hub.db.sock")
    assert "budget reached" in table.stdout, table.stdout

    bad = cpushare(root, "job", "raise-budget", job, "0.1.2", "--api", "hub.db.sock")
    assert bad.returncode != 0 and "decimal" in bad.stderr, bad.stderr
    bad = cpushare(root, "job", "raise-budget", "j-nope", "1", "--api", "hub.db.sock")
    assert bad.returncode != 0 and "j-nope" in bad.stderr, bad.stderr
    ok = cpushare(root, "job", "raise-budget", job, "100", "--api", "hub.db.sock")
    assert ok.returncode == 0 and f"raised the budget of job {job} by 100" in ok.stdout, \
        ok.stdout + ok.stderr
    assert submit.wait(240) == 0, ledger_procs.log("submit")
    paid = [x for x in ledger_json(root) if x["job_id"] == job]
    assert len(paid) == n and sum(Decimal(x["amount"]) for x in paid) <= Decimal("101.25")
    hub.send_signal(signal.SIGTERM)
    assert hub.wait(60) == 0


def test_bad_prices_and_budgets_are_refused_in_one_line(ledger_procs):
    root = ledger_procs.root
    ledger_procs.hub("hub")          # with --price 0.5 EUR
    spin = str(find_binary("examples/spin.elf"))
    files = inputs(root, "x", 1)
    for extra, words in ((["--price", "0.05.1"]), "price must be a non-negative decimal"), \
            ((["--budget", "-3"]), "budget must be a non-negative decimal"), \
            ((["--price", "1e3"]), "price must be a non-negative decimal"), \
            ((["--price", "0.05 E U R"]), "price must be a number per CPU-hour"):
        r = cpushare(root, "submit", spin, *files, "--api", "hub.db.sock", "--out", "o", *extra)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.splitlines()) == 1, \
            (extra, r.stderr)
