"""Issue 19's end-to-end test, from the command line with the defaults (keys on): one
``cpushare-market serve``, two ``cpushare-hub serve --market`` with different prices, three
``cpushare-worker --market`` with different ``--min-price``. The workers fill the
better-paying hub first, move to the other when it runs out (only those whose minimum it
meets), every fragment is accepted exactly once, and the hubs' ledger totals equal the
workers' earnings totals per worker."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import zmq
from waiting import wait_for

from cpushare_mq.client import Client
from cpushare_mq.market.offers import Offer
from cpushare_mq.market.wire import MarketMsg, decode, encode
from cpushare_mq.trust.keys import read_public_key

from .test_e2e import db_rows, spin_fragments

BIN = Path(sys.executable).parent


class Procs:
    def __init__(self, tmp: Path):
        self.tmp, self.procs = tmp, {}

    def start(self, name: str, *argv: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")
        p = subprocess.Popen([str(BIN / argv[0]), *argv[1:]], stdout=log,
                             stderr=subprocess.STDOUT, cwd=self.tmp)
        log.close()
        self.procs[name] = p
        return p

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{self.log(n)[-2500:]}" for n in self.procs)

    def stop_all(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


@pytest.fixture
def procs(tmp_path):
    ps = Procs(tmp_path)
    try:
        yield ps
    finally:
        ps.stop_all()


def list_offers(endpoint: str, market_pub: bytes) -> list[Offer]:
    ctx = zmq.Context()
    try:
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        pub, sec = zmq.curve_keypair()
        s.curve_publickey, s.curve_secretkey, s.curve_serverkey = pub, sec, market_pub
        s.connect(endpoint)
        s.send_multipart(encode(MarketMsg.LIST, {}))
        if not s.poll(5000):
            return []
        t, body = decode(s.recv_multipart())
        return [Offer.from_dict(o) for o in body["offers"]] if t is MarketMsg.OFFERS else []
    finally:
        ctx.destroy(0)


def accepted_once(db: Path, job: str, n: int) -> None:
    """Every fragment DONE with one accepted result (a spot check's agreeing copy, on a
    hub with keys, is a second vote by another worker key, never a second result)."""
    assert db_rows(db, "SELECT state, COUNT(*) FROM fragments WHERE job_id=? GROUP BY state",
                   (job,)) == [("DONE", n)]
    assert db_rows(db, "SELECT r.fragment_id FROM results r JOIN fragments f ON "
                       "f.id=r.fragment_id WHERE f.job_id=? GROUP BY r.fragment_id HAVING "
                       "COUNT(DISTINCT r.attempt) > 1", (job,)) == []
    assert db_rows(db, "SELECT fragment_id FROM attempts WHERE job_id=? AND end='vote' "
                       "GROUP BY fragment_id HAVING COUNT(*) != COUNT(DISTINCT worker_key)",
                   (job,)) == []


def receipts_json(tmp_path: Path, *argv: str) -> list[dict]:
    r = subprocess.run([str(BIN / argv[0]), *argv[1:], "--json"], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def totals_per_worker(receipts: list[dict]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """(hub receipt key, worker key) -> (receipts, exact amount)"""
    out: dict = {}
    for r in receipts:
        n, amount = out.get((r["hub_key"], r["worker_key"]), (0, Decimal(0)))
        out[(r["hub_key"], r["worker_key"])] = (n + 1, amount + Decimal(r["amount"]))
    return out


def test_two_hubs_one_market_three_workers(procs, tmp_path, spin_elf):
    procs.start("market", "cpushare-market", "serve", "--db", "market.db", "--bind",
                "tcp://127.0.0.1:0")
    m = wait_for(lambda: re.search(r"market on (tcp://\S+);", procs.log("market")), 30,
                 "the market to start", explain=procs.logs)
    market = m.group(1)
    market_key = str(tmp_path / "market.db.keys" / "hub.pub")
    for name, price in (("high", "2"), ("low", "1")):
        procs.start(name, "cpushare-hub", "serve", "--db", f"{name}.db", "--bind",
                    "tcp://127.0.0.1:0", "--market", market, "--market-key", market_key,
                    "--price", price)
    wait_for(lambda: len(list_offers(market, read_public_key(market_key))) == 2, 60,
             "both hubs' offers on the market", explain=procs.logs)
    offers = list_offers(market, read_public_key(market_key))
    assert [o.price for o in offers] == ["2", "1"] and all(o.verify() for o in offers)

    n = 40
    jobs = {}
    for name in ("high", "low"):
        client = Client(str(tmp_path / f"{name}.db.sock"))
        jobs[name] = client.submit(spin_elf, spin_fragments(n, 100_000, name)).id
    for w, min_price in (("w1", None), ("w2", "1"), ("w3", "1.5")):
        extra = ["--min-price", min_price] if min_price else []
        procs.start(w, "cpushare-worker", "--market", market, "--market-key", market_key,
                    "--slots", "1", "--name", w, "--cache-dir", f"cache-{w}",
                    "--config-dir", f"id-{w}", "--status-interval-s", "1", *extra)

    def done(name):
        return db_rows(tmp_path / f"{name}.db", "SELECT COUNT(*) FROM fragments WHERE "
                       "job_id=? AND state='DONE'", (jobs[name],))[0][0]

    wait_for(lambda: done("high") == n and done("low") == n, 240, "both jobs to finish",
             explain=procs.logs)
    for name in ("high", "low"):
        accepted_once(tmp_path / f"{name}.db", jobs[name], n)

    def votes(name):
        """(worker of its counted copy, when the hub first leased it) of each fragment, in
        that order. The first lease, not the counted copy's: a lease a worker held queued and
        handed back (another hub's share grew) is leased again later, after the hub's work
        had all been handed out once."""
        return db_rows(tmp_path / f"{name}.db", "SELECT w.name, (SELECT MIN(b.leased_s) FROM "
                       "attempts b WHERE b.fragment_id=a.fragment_id) AS t FROM attempts a "
                       "JOIN workers w ON w.id=a.worker_id WHERE a.job_id=? AND a.end='vote' "
                       "GROUP BY a.fragment_id ORDER BY t", (jobs[name],))

    high, low = votes("high"), votes("low")
    # the better-paying hub first: no low-price fragment leased before every high one was
    assert low[0][1] > high[-1][1], (high[-3:], low[:3])
    # every worker took part in the better hub; only those whose minimum the cheap hub
    # meets moved to it when the better one ran out
    assert {w for w, _ in high} == {"w1", "w2", "w3"}
    assert {w for w, _ in low} == {"w1", "w2"}
    # ledger totals equal earnings totals per worker (the workers got every signed receipt)
    ledgers = [r for name in ("high", "low")
               for r in receipts_json(tmp_path, "cpushare", "ledger", "--db", f"{name}.db")]
    assert len(ledgers) == 2 * n and totals_per_worker(ledgers)
    earned: dict = {}

    def reconciled() -> bool:
        earned.clear()
        for w in ("w1", "w2", "w3"):
            earned[w] = receipts_json(tmp_path, "cpushare-worker", "earnings",
                                      "--config-dir", f"id-{w}")
        return totals_per_worker([r for got in earned.values() for r in got]) == \
            totals_per_worker(ledgers)

    wait_for(reconciled, 60, "ledger totals to equal earnings totals per worker",
             explain=lambda: f"{totals_per_worker(ledgers)}\n{earned}")
    assert {r["price"] for r in earned["w3"]} == {"2"}    # w3 only ever served the 2.0 hub
    for w in ("w1", "w2", "w3"):
        p = procs.procs[w]
        p.send_signal(signal.SIGTERM)
        assert p.wait(60) == 0, procs.log(w)[-3000:]
        assert "Traceback" not in procs.log(w)
