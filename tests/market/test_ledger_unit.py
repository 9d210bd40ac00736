"""The hub ledger shell: a worker cannot inflate a receipt past the job's CPU limit, a
fragment is paid once, and the signing key survives reopening."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cpushare_mq.errors import ConfigError
from cpushare_mq.market.ledger import (
    DEFAULT_PRICE,
    HubLedger,
    ledger_path,
    read_receipts,
    verify_receipts,
)
from cpushare_mq.market.ledgercli import write_receipts
from cpushare_mq.market.money import Price, cost, decimal_text
from cpushare_mq.market.receipts import Receipt, issued_row, sign_batch
from cpushare_mq.market.turns import turn_text


def test_inflated_claim_is_paid_at_the_jobs_cpu_limit(tmp_path):
    led = HubLedger(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    sr = led.on_result("j-1", "KEY", 7, 0, cpu_s=1e9, limit_cpu_s=60.0)
    assert sr.receipt.cpu_us == 60_000_000 and sr.receipt.amount_decimal == Decimal(
        "0.016666667")
    for bad in (-5.0, 0.0):
        assert led.on_result("j-1", "KEY", 8 + int(bad), 0, cpu_s=bad,
                             limit_cpu_s=60.0).receipt.cpu_us == 0


def test_one_receipt_per_fragment_and_the_key_survives(tmp_path):
    db = str(tmp_path / "hub.db")
    led = HubLedger(db, DEFAULT_PRICE)
    first = led.on_result("j-1", "KEY", 1, 0, cpu_s=1.5)
    assert first is not None and led.on_result("j-1", "KEY", 1, 1, cpu_s=9.0) is None
    key = led.public_hex
    led.close()
    again = HubLedger(db, DEFAULT_PRICE)
    assert again.public_hex == key and again.on_result("j-1", "OTHER", 1, 2, 3.0) is None
    hub_key, items = read_receipts(db)
    assert hub_key == key and [sr.receipt.cpu_us for sr in items] == [1_500_000]
    assert verify_receipts([sr.to_dict() for sr in items], key) == items


def paid_and_signed(db: str, fids: tuple[int, ...], cpu_s: float) -> HubLedger:
    """A ledger that paid ``fids`` (job j-1, key KEY) in one turn and signed them."""
    led = HubLedger(db, DEFAULT_PRICE)
    for fid in fids:
        led.issue("j-1", "KEY", fid, 0, cpu_s=cpu_s)
    led.commit()
    led.sign()
    return led


def test_a_turn_with_a_fragment_paid_before_pays_only_the_others(tmp_path):
    """A re-verified fragment accepted again in the same turn as fresh ones: the fresh ones
    are paid, the one paid before is not, and nothing is lost of the turn."""
    db = str(tmp_path / "hub.db")
    led = paid_and_signed(db, (1, 2), cpu_s=1.0)
    for fid in (3, 2, 4):
        led.issue("j-1", "OTHER", fid, 1, cpu_s=2.0)
    assert [row[1] for _, row in led.commit()] == [3, 2, 4]     # (worker key, row)
    signed = led.sign()
    assert [(key, row[1]) for key, row in signed.dropped] == [("OTHER", 2)]
    assert [row[1] for batch, _ in signed.batches for row in batch.rows] == [3, 4]
    assert [(sr.receipt.fragment_id, sr.receipt.worker_key) for sr in read_receipts(db)[1]] == [
        (1, "KEY"), (2, "KEY"), (3, "OTHER"), (4, "OTHER")]
    assert led.spent("j-1") == 2 * cost(DEFAULT_PRICE, 1_000_000) + 2 * cost(DEFAULT_PRICE,
                                                                              2_000_000)


def test_a_ledger_that_cannot_write_never_stops_the_hub(tmp_path, caplog):
    led = HubLedger(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    led.db.close()          # as a full disk or a broken file would: every write fails
    assert led.on_result("j-1", "KEY", 3, 0, cpu_s=1.0) is None
    assert "ledger: 1 receipt(s) issued but not signed yet: cannot store signed receipts" in (
        caplog.text)
    assert led.unsigned == 1 and led.dirty          # kept for the next signing


def _old_ledger(db: str) -> tuple[Ed25519PrivateKey, list]:
    """A ledger as the hub wrote it before receipt batches: each receipt a row of its own
    (its body, the turn's signature and its proof), two of them not yet delivered."""
    key = Ed25519PrivateKey.generate()
    hub_key = key.public_key().public_bytes_raw().hex()
    signed = sign_batch([Receipt.issue(hub_key, "j-1", fid, 0, "KEY", 1_800_000_000,
                                       DEFAULT_PRICE, 100 + fid) for fid in (1, 2)], key)
    con = sqlite3.connect(ledger_path(db))
    con.executescript("""
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE receipts (
            fragment_id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, worker_key TEXT NOT NULL,
            issued_s INTEGER NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0, proof TEXT);""")
    con.execute("INSERT INTO meta VALUES ('signing_key', ?)", (key.private_bytes_raw().hex(),))
    con.executemany("INSERT INTO receipts VALUES (?, 'j-1', 'KEY', ?, ?, ?, 0, ?)", [
        (sr.receipt.fragment_id, sr.receipt.issued_s, json.dumps(sr.receipt.to_dict()),
         sr.signature, json.dumps(sr.proof)) for sr in signed])
    con.commit()
    con.close()
    return key, signed


def test_a_ledger_from_before_batches_keeps_its_receipts_sums_and_resends(tmp_path):
    db = str(tmp_path / "hub.db")
    key, old = _old_ledger(db)
    led = HubLedger(db, DEFAULT_PRICE)
    assert led.public_hex == key.public_key().public_bytes_raw().hex()
    assert led.undelivered("KEY", 10).receipts == old                   # resent as they were signed
    assert led.spent("j-1") == Decimal("1.000000000")          # two half hours at 1 an hour
    new = led.on_result("j-1", "KEY", 3, 0, cpu_s=1800.0)      # stored with its batch
    assert led.spent("j-1") == Decimal("1.500000000")
    assert led.undelivered("KEY", 10).receipts == [*old, new]
    led.close()
    hub_key, items = read_receipts(db)
    assert items == [*old, new] and verify_receipts([sr.to_dict() for sr in items],
                                                    hub_key) == items


def test_only_acknowledgements_of_receipts_sent_to_that_key_count(tmp_path):
    """An older ledger's rows are marked delivered when their key acknowledges them after
    they were resent to it; made-up ids, another key's and repeats are ignored and keep
    nothing (the ledger has nothing to write)."""
    db = str(tmp_path / "hub.db")
    _old_ledger(db)
    led = HubLedger(db, DEFAULT_PRICE)
    led.delivered("KEY", [1, 2])                  # not resent yet in this hub's life
    led.delivered("KEY", list(range(10**6, 10**6 + 256)))
    assert not led.dirty
    assert [sr.receipt.fragment_id for sr in led.undelivered("KEY", 10).receipts] == [1, 2]
    led.delivered("OTHER", [1, 2])                # not sent to that key
    assert not led.dirty
    led.delivered("KEY", [2, 2, 7])               # one of them, once
    assert led.dirty
    led.sign()
    led.delivered("KEY", [2])                     # again: nothing
    assert not led.dirty
    assert [sr.receipt.fragment_id for sr in led.undelivered("KEY", 10).receipts] == [1]
    led.close()


def test_an_altered_batch_in_the_ledger_is_refused_when_read(tmp_path, caplog):
    db = str(tmp_path / "hub.db")
    led = paid_and_signed(db, (1, 2), cpu_s=10.0)
    con = sqlite3.connect(ledger_path(db))
    (wire,), = con.execute("SELECT wire FROM batches")
    w = json.loads(wire)
    w["rows"][0][3] *= 100                                      # more CPU time, and the
    w["rows"][0][6] = decimal_text(cost(DEFAULT_PRICE, w["rows"][0][3]))   # amount to match
    con.execute("UPDATE batches SET wire=?", (json.dumps(w),))
    con.commit()
    con.close()
    with pytest.raises(ConfigError, match=r"hub.db.ledger is damaged \(was it altered\?\): "
                                          "the batch fails its hub's signature"):
        read_receipts(db)
    assert led.undelivered("KEY", 10).receipts == []                     # the hub goes on
    assert "ledger: the receipts owed to KEY are damaged" in caplog.text


def _turn(led: HubLedger, fids: tuple[int, ...]) -> None:
    """A turn's receipts as an older hub stored them before it signed them (then kill -9)."""
    rows = [("KEY", issued_row("j-1", fid, 0, 10_000_000, DEFAULT_PRICE, 100))
            for fid in fids]
    led.db.execute("INSERT INTO turns (receipts) VALUES (?)", (turn_text(rows),))


def test_the_turns_an_older_hub_stored_and_did_not_sign_are_signed_once(tmp_path):
    """An older hub stored each turn's receipts before signing them: a new one reads the
    turns it finds, signs them with the next batch and empties the table."""
    db = str(tmp_path / "hub.db")
    led = paid_and_signed(db, (1, 2), cpu_s=10.0)
    _turn(led, (3,))
    led.db.close()                                              # killed
    again = HubLedger(db, DEFAULT_PRICE)
    assert again.unsigned == 1 and again.spent("j-1") == 3 * cost(DEFAULT_PRICE, 10_000_000)
    assert again.issue("j-1", "KEY", 3, 1, cpu_s=10.0) is False     # paid once
    again.sign()
    assert again.db.execute("SELECT count(*) FROM turns").fetchone() == (0,)
    assert sorted(sr.receipt.fragment_id for sr in read_receipts(db)[1]) == [1, 2, 3]


def test_a_ledger_whose_unsigned_receipts_were_rows_moves_them_into_a_turn(tmp_path):
    """The previous form kept receipts stored and not signed as rows without a batch, found
    through the index ``receipts_unsigned``: they are signed, once, as any other."""
    db = str(tmp_path / "hub.db")
    led = HubLedger(db, DEFAULT_PRICE)
    led.db.execute("CREATE INDEX receipts_unsigned ON receipts (fragment_id) "
                   "WHERE batch_id IS NULL AND signature = ''")
    led.db.executemany(
        "INSERT INTO receipts (fragment_id, job_id, attempt, worker_key, cpu_us, price, "
        "currency, amount, issued_s, body, signature) VALUES (?, 'j-1', 0, 'KEY', 10000000, "
        "'1', 'credits', ?, 100, '', '')",
        [(fid, decimal_text(cost(DEFAULT_PRICE, 10_000_000))) for fid in (4, 5)])
    led.db.close()
    again = HubLedger(db, DEFAULT_PRICE)
    assert again.unsigned == 2 and again.db.execute(
        "SELECT name FROM sqlite_master WHERE name = 'receipts_unsigned'").fetchone() is None
    again.sign()
    assert [sr.receipt.fragment_id for sr in read_receipts(db)[1]] == [4, 5]


def test_a_damaged_stored_turn_stops_the_ledger_with_one_line(tmp_path):
    db = str(tmp_path / "hub.db")
    led = HubLedger(db, DEFAULT_PRICE)
    _turn(led, (1,))
    led.db.execute("UPDATE turns SET receipts = '[[\"j-1\", 1]]'")
    led.db.close()
    with pytest.raises(ConfigError, match=r"hub.db.ledger: its stored turn 1 is damaged "
                                          r"\(.*\): restore the file from a backup"):
        HubLedger(db, DEFAULT_PRICE)


def test_the_ledger_table_writes_totals_in_fixed_point(tmp_path):
    """A total of receipts for 0 us of CPU is written as the receipts are (0.000000000),
    not as Decimal's 0E-9."""
    db = str(tmp_path / "hub.db")
    paid_and_signed(db, (1, 2), cpu_s=0.0).close()
    out = io.StringIO()
    write_receipts(read_receipts(db)[1], SimpleNamespace(json=False, csv=False), out,
                   "worker_key", [])
    assert out.getvalue().splitlines()[-1] == (
        "total worker KEY: 2 receipts, 0.000000 CPU s, 0.000000000 credits")


def test_a_ledger_filter_nothing_matches_says_so(tmp_path):
    """``cpushare ledger --job J`` with a J of no receipt (a typo, another hub's job) names
    the filters that matched nothing, instead of printing an empty table; --json and --csv
    stay what a program reads (an empty list, the header)."""
    db = str(tmp_path / "hub.db")
    paid_and_signed(db, (1, 2), cpu_s=1.0).close()
    exe = str(Path(sys.executable).parent / "cpushare")

    def ledger(*flags: str) -> list[str]:
        r = subprocess.run([exe, "ledger", "--db", db, *flags], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout.splitlines()

    assert ledger("--job", "j-typo", "--since", "2020-01-01")[1:] == [
        "no receipts match --job j-typo --since 2020-01-01"]
    assert ledger("--job", "j-1")[-1].startswith("total worker KEY: 2 receipts")
    assert ledger("--worker", "nobody", "--json") == ["[]"]
    assert len(ledger("--worker", "nobody", "--csv")) == 1


def test_cpushare_ledger_read_only_in_part_stops_quietly(tmp_path):
    """``cpushare ledger | head``: the reader closes the pipe early; the command stops with
    128 + SIGPIPE and no traceback."""
    db = str(tmp_path / "hub.db")
    paid_and_signed(db, tuple(range(3000)), cpu_s=1.0).close()     # more than a pipe holds
    proc = subprocess.Popen([str(Path(sys.executable).parent / "cpushare"), "ledger", "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(60) == 141
    assert b"Traceback" not in proc.stderr.read()
    proc.stderr.close()


def test_a_hostile_hubs_receipt_texts_never_crash_nor_drive_the_sellers_terminal(tmp_path):
    """A hub signs what it likes into a receipt's job id and currency (any text of 1-128
    characters): a space in the currency once crashed the totals, and an escape sequence
    reached the terminal. 'cpushare-worker earnings' prints them escaped, one line each."""
    from cpushare_mq.market.receiptbatch import sign_batches
    from cpushare_mq.worker.earnings import Earnings

    key = Ed25519PrivateKey.generate()
    hub = key.public_key().public_bytes_raw().hex()
    job, currency = "j\x1b]0;pwned\x07\n1", "E U R\x1b[2J"
    receipts = [Receipt.issue(hub, job, fid, 0, "KA", 3_600_000_000,
                              Price(Decimal("2"), currency), 5) for fid in (1, 2)]
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", [], [sign_batches(receipts, key)[0].to_wire()]) == [1, 2]
    store.close()
    r = subprocess.run([str(Path(sys.executable).parent / "cpushare-worker"), "earnings",
                        "--config-dir", str(tmp_path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and len(r.stdout.splitlines()) == 3, r.stdout
    assert r.stdout.splitlines()[-1].endswith("2 receipts, 7200.000000 CPU s, 4.000000000 "
                                              "E U R\\x1b[2J")
