"""Issue 19 (metering, receipts, ledger) from the command line with the defaults (keys on):
``cpushare-hub serve --price`` + ``cpushare-worker`` + ``cpushare submit``; then
``cpushare ledger`` lists one signed receipt per fragment, totals add up, the receipts
verify offline, an altered or forged one is refused, and a hub restart issues nothing
twice and keeps its receipt key."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from waiting import wait_for

from cpushare_mq.market.money import Price, cost, decimal_text
from cpushare_mq.market.receipts import Receipt, sign_receipt
from cpushare_mq.native import find_binary

BIN = Path(sys.executable).parent


class LedgerProcs:
    def __init__(self, root: Path):
        self.root, self.procs = root, []

    def start(self, name: str, *argv: str) -> subprocess.Popen:
        with open(self.root / f"{name}.log", "ab") as log:
            p = subprocess.Popen([str(BIN / argv[0]), *argv[1:]], stdout=log,
                                 stderr=subprocess.STDOUT, cwd=self.root,
                                 start_new_session=True)
        self.procs.append(p)
        return p

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def hub(self, name: str, bind: str = "tcp://127.0.0.1:0") -> str:
        self.start(name, "cpushare-hub", "serve", "--db", "hub.db", "--bind", bind,
                   "--price", "0.5 EUR")
        m = wait_for(lambda: re.search(r"serving workers on (tcp://\S+)", self.log(name)), 60,
                     "the hub's endpoint in its log", explain=lambda: self.log(name))
        return m.group(1)

    def worker(self, name: str, endpoint: str, slots: int = 2) -> subprocess.Popen:
        """``cpushare-worker`` ``name`` for the hub at ``endpoint`` (its key as the hub wrote
        it), its cache and identity in ``cache-NAME`` and ``id-NAME``."""
        return self.start(name, "cpushare-worker", "--hub", endpoint, "--hub-key",
                          "hub.keys/hub.pub", "--slots", str(slots), "--name", name,
                          "--cache-dir", f"cache-{name}", "--config-dir", f"id-{name}")

    def stop(self, p: subprocess.Popen) -> None:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)

    def close(self) -> None:
        for p in self.procs:
            self.stop(p)


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cpushare"), *args], capture_output=True, text=True,
                          timeout=180, cwd=root)


def submit(root: Path, name: str, n: int) -> str:
    d = root / name
    d.mkdir()
    for i in range(n):
        (d / f"f{i}.bin").write_bytes((12_000_000).to_bytes(8, "little") + f"{name}{i}".encode())
    r = cli(root, "submit", str(find_binary("examples/spin.elf")),
            *sorted(str(p) for p in d.iterdir()), "--api", "hub.db.sock", "--out", f"out-{name}")
    assert r.returncode == 0, r.stderr
    return r.stderr.split("submitted job ")[1].split()[0]


def ledger_json(root: Path, *args: str) -> list[dict]:
    r = cli(root, "ledger", "--db", "hub.db", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_receipts_ledger_and_offline_verification(ledger_procs):
    root = ledger_procs.root
    endpoint = ledger_procs.hub("hub")
    ledger_procs.worker("w1", endpoint)
    job = submit(root, "a", 6)

    receipts = ledger_json(root)
    assert sorted(r["fragment_id"] for r in receipts) == sorted({r["fragment_id"]
                                                                 for r in receipts})
    assert len(receipts) == 6 and {r["job_id"] for r in receipts} == {job}
    assert sum(r["cpu_us"] for r in receipts) > 0    # metered (in the kernel's clock ticks)
    for r in receipts:       # the sandbox's CPU time, priced at --price, exact
        assert (r["price"], r["currency"]) == ("0.5", "EUR")
        assert Decimal(r["amount"]) == cost(Price(Decimal("0.5"), "EUR"), r["cpu_us"])
    assert len({r["worker_key"] for r in receipts}) == 1

    table = cli(root, "ledger", "--db", "hub.db", "--job", job)
    assert table.returncode == 0, table.stderr
    hub_key = re.search(r"hub receipt key ([0-9a-f]{64})", table.stdout).group(1)
    total = sum(Decimal(r["amount"]) for r in receipts)
    assert f"6 receipts, {sum(r['cpu_us'] for r in receipts) / 1e6:.6f} CPU s, {total} EUR" \
        in table.stdout
    csv_out = cli(root, "ledger", "--db", "hub.db", "--csv").stdout.splitlines()
    assert len(csv_out) == 7 and csv_out[0].startswith("hub_key,job_id,fragment_id")

    good = root / "receipts.json"
    good.write_text(json.dumps(receipts))
    ok = cli(root, "ledger", "--verify", str(good), "--hub-key", hub_key)
    assert ok.returncode == 0 and "OK: 6 receipts" in ok.stdout, ok.stdout + ok.stderr

    # attacks: an inflated receipt (amount kept consistent) and one signed by another key
    # (the receipt with the most CPU: one of 0 us, a fragment shorter than a clock tick,
    # would stay 0 when inflated, and its amount 0E-9 would be refused as malformed first)
    forged = [dict(r) for r in receipts]
    i = max(range(len(forged)), key=lambda k: forged[k]["cpu_us"])
    forged[i]["cpu_us"] *= 10
    forged[i]["amount"] = decimal_text(cost(Price(Decimal("0.5"), "EUR"), forged[i]["cpu_us"]))
    bad = root / "altered.json"
    bad.write_text(json.dumps(forged))
    r = cli(root, "ledger", "--verify", str(bad), "--hub-key", hub_key)
    assert r.returncode == 1 and f"receipt {i}" in r.stdout and "bad signature" in r.stdout, r.stdout

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    mallory = Ed25519PrivateKey.generate()
    fake = Receipt.from_dict({k: v for k, v in receipts[0].items()
                              if k not in ("signature", "proof")})
    own = [{**fake.to_dict(), "signature": sign_receipt(fake, mallory)}]
    (root / "own.json").write_text(json.dumps(own))
    r = cli(root, "ledger", "--verify", "own.json", "--hub-key", hub_key)
    assert r.returncode == 1 and "bad signature" in r.stdout
    r = cli(root, "ledger", "--verify", "own.json")
    assert r.returncode == 2 and "--verify needs --hub-key" in r.stderr

    # a restart: same key, nothing issued twice, the next job's receipts add to the ledger
    ledger_procs.stop(ledger_procs.procs[0])
    ledger_procs.hub("hub2", endpoint)      # the worker reconnects to the same address
    job2 = submit(root, "b", 3)
    after = ledger_json(root)
    assert len(after) == 9 and after[:6] == receipts
    assert len(ledger_json(root, "--job", job2)) == 3
    again = root / "after.json"
    again.write_text(json.dumps(after))
    assert cli(root, "ledger", "--verify", str(again), "--hub-key", hub_key).returncode == 0


def test_ledger_errors_are_one_line(tmp_path):
    r = cli(tmp_path, "ledger", "--db", "nope.db")
    assert r.returncode == 2 and "no ledger nope.db.ledger" in r.stderr
    r = cli(tmp_path, "ledger")
    assert r.returncode == 2 and "give --db FILE" in r.stderr
    r = cli(tmp_path, "ledger", "--verify", "x.json", "--hub-key", "zz")
    assert r.returncode == 2 and "cannot read receipts" in r.stderr
    (tmp_path / "x.json").write_text("[]")
    r = cli(tmp_path, "ledger", "--verify", "x.json", "--hub-key", "zz")
    assert r.returncode == 2 and "not a 64-hex-digit" in r.stderr
