"""Issue 14, item 6 (HELLO and handshake floods): HELLOs are rate-limited per address and
per key, CURVE handshakes per address and per key (hub/admission.py), and a worker key has
one row however often it comes back (hub/workerids.py): 3,000 HELLOs from one address made
3,000 worker rows and 3,000 log lines. A worker from another address joins and finishes its
job during the flood."""

from __future__ import annotations

import time

import pytest
from hubproc import (
    HubProcess,
    honest_worker_finishes,
    real_worker_finishes,
    seed_job,
    start_attack,
    stop_attack,
    worker_rows,
)

from cpushare_mq.hub.admission import HELLO_LIMITS, Admission, AdmissionLimits
from cpushare_mq.hub.workerids import worker_id_for

RSS_LIMIT = 200 << 20
ATTACKER = "127.0.0.2"       # a loopback address of its own: the honest worker is 127.0.0.1


def test_the_rules():
    lim = AdmissionLimits(per_address_per_s=1, per_address_burst=3, per_key_per_s=1,
                          per_key_burst=2)
    a = Admission(lim)
    assert a.refusal("HELLO", "10.0.0.1", "k", 0.0) is None
    assert a.refusal("HELLO", "10.0.0.1", "k", 0.0) is None
    assert "key" in a.refusal("HELLO", "10.0.0.1", "k", 0.0)        # the key's burst
    assert a.refusal("HELLO", "10.0.0.1", "k2", 0.0) is None        # its address token back
    assert "10.0.0.1" in a.refusal("HELLO", "10.0.0.1", "k3", 0.0)  # the address's burst
    assert a.refusal("HELLO", "10.0.0.2", "k3", 0.0) is None        # other address
    assert a.refusal("HELLO", "10.0.0.1", "k3", 1.0) is None        # a second later
    ids: set[str] = set()
    for _ in range(3):
        ids.add(worker_id_for("k", ids.__contains__))
    free = {"x"}.__contains__
    assert len(ids) == 3 and worker_id_for("k", ids.__contains__) not in ids
    assert worker_id_for("k", free) != worker_id_for("other", free)
    assert worker_id_for("k", lambda wid: True) is None


def _bounded_rows(hub, started: float, honest: int) -> int:
    """Rows the limits allow: the address's burst, its rate over the attack, the attacker's
    repeated key (2 ids: each re-HELLO replaces the session) and the honest workers."""
    elapsed = time.monotonic() - started
    return int(HELLO_LIMITS.per_address_burst + HELLO_LIMITS.per_address_per_s * elapsed) + 2 + honest


@pytest.mark.parametrize("insecure", [True, False], ids=["plain-tcp", "curve"])
def test_three_thousand_hellos(tmp_path, insecure):
    if insecure:
        seed_job(tmp_path / "hub.db", 40)
    hub = HubProcess(tmp_path, insecure=insecure)
    started = time.monotonic()
    attack = start_attack("hello-flood", hub, ATTACKER, wait_started=True, until_stopped=True)
    try:
        if insecure:
            peak = honest_worker_finishes(hub, 40)
        else:
            real_worker_finishes(hub, tmp_path)
            peak = hub.peak_rss
        assert stop_attack(attack, 180) == 0, hub.log.read_text()[-3000:]
        bound = _bounded_rows(hub, started, honest=1)
        peak = max(peak, hub.peak_rss)
        assert hub.alive(), hub.log.read_text()[-2000:]
        assert peak < RSS_LIMIT, f"hub RSS reached {peak >> 20} MiB"
        rows = worker_rows(hub.db)
        assert rows <= bound, f"{rows} worker rows after 3,000 HELLOs (at most {bound} allowed)"
        log = hub.log.read_text()
        assert log.count(" joined (") <= bound, log.count(" joined (")
        assert log.count("refused a HELLO: too many") <= 3, log[-3000:]
        if not insecure:
            assert log.count("ZAP: refused a handshake: too many") <= 3, log[-3000:]
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()


def _join_many(hub, n: int) -> tuple[dict[str, int], float]:
    """``n`` plain-TCP connections from one address, each a new key saying HELLO once, as
    fast as they can; the answers counted (and the seconds it took)."""
    import zmq
    from attacker import _count_answers, _knock, _worker_key
    ctx = zmq.Context()
    socks = []
    started = time.monotonic()
    try:
        for _ in range(n):
            s = ctx.socket(zmq.DEALER)
            s.linger = 0
            s.connect(hub.endpoint)
            _knock(s, _worker_key())
            socks.append(s)
        # every HELLO gets one answer (each connection is its own peer for the error budget)
        seen = _count_answers(socks, 30.0, lambda seen, answered: sum(answered) >= n)
        return seen, time.monotonic() - started
    finally:
        for s in socks:
            s.close(0)
        ctx.term()


@pytest.mark.parametrize("rate", [200.0, 0.5])
def test_the_join_rate_is_the_operators_choice(tmp_path, rate):
    """``cpushare-hub serve --join-rate-per-s``: a lab of sellers behind one NAT address may
    all join at once when the operator raises it (300 at once, the default admits 100), and a
    hub may be stricter than the default (0.5 a second: 5 at once)."""
    hub = HubProcess(tmp_path, insecure=True, extra=("--join-rate-per-s", str(rate)))
    try:
        seen, elapsed_s = _join_many(hub, 300)
        assert hub.alive(), hub.log.read_text()[-2000:]
        if rate > 100:
            assert (seen["welcome"], seen["rate_limited"]) == (300, 0), seen
        else:
            allowed = 10 * rate + rate * elapsed_s + 1
            assert seen["welcome"] <= allowed, (seen, elapsed_s)
            assert seen["rate_limited"] >= 300 - allowed, seen
    finally:
        hub.stop()
