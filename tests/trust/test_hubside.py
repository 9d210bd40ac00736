"""HubTrust / WorkerTrust / ledger: the pieces the hub and worker shells call."""

from __future__ import annotations

import hashlib
import os
import stat

import zmq

from cpushare_mq.outcome import Outcome
from cpushare_mq.trust.hubside import HubTrust, default_keys_dir
from cpushare_mq.trust.reputation import TrustPolicy
from cpushare_mq.trust.workerside import WorkerTrust
from cpushare_mq.trust.zap import write_key_list

SHA = hashlib.sha256(b"right").hexdigest()
WRONG = hashlib.sha256(b"wrong").hexdigest()


def end_body(fid, attempt, sha=SHA):
    return {"fragment_id": fid, "attempt": attempt, "chunks": 1, "sha256": sha, "size": 5,
            "outcome": {"outcome": "ok"}}


def test_keys_dir_beside_db_created_on_first_start_and_curve_works(tmp_path):
    db = tmp_path / "hub.db"
    trust = HubTrust(db)
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.linger = 0
    dealer = None
    try:
        trust.secure_socket(ctx, router)
        assert trust.keys_created and default_keys_dir(db) == tmp_path / "hub.keys"
        assert stat.S_IMODE(os.stat(tmp_path / "hub.keys" / "hub.key").st_mode) == 0o600
        assert stat.S_IMODE(os.stat(f"{db}.trust").st_mode) == 0o600
        port = router.bind_to_random_port("tcp://127.0.0.1")
        w = WorkerTrust.load(tmp_path / "wcfg", str(tmp_path / "hub.keys" / "hub.pub"))
        assert w.created and w.hub_public == trust.keypair.public
        dealer = ctx.socket(zmq.DEALER)
        dealer.linger = 0
        w.secure_socket(dealer)
        dealer.connect(f"tcp://127.0.0.1:{port}")
        dealer.send(b"x")
        assert router.poll(5000)
    finally:
        if dealer is not None:
            dealer.close(0)
        router.close(0)
        trust.shutdown()
        ctx.term()
    ctx2 = zmq.Context()
    sock = ctx2.socket(zmq.ROUTER)
    again = HubTrust(db)
    try:
        again.secure_socket(ctx2, sock)
        assert not again.keys_created and again.public_key == trust.public_key
    finally:
        sock.close(0)
        again.shutdown()
        ctx2.term()


def test_hello_checks(tmp_path):
    w = WorkerTrust.load(tmp_path / "w", None)
    other = WorkerTrust.load(tmp_path / "o", None)
    secure = HubTrust(tmp_path / "a.db")
    assert "requires a worker key" in secure.check_hello("")
    assert secure.check_hello(w.hello_key) is None
    assert "not '<curve key>" in secure.check_hello("junk")
    allow = tmp_path / "allow"
    write_key_list(allow, [w.hello_key])
    listed = HubTrust(tmp_path / "b.db", allow_workers=allow)
    assert listed.check_hello(w.hello_key) is None
    assert "allow-list" in listed.check_hello(other.hello_key)
    insecure = HubTrust(tmp_path / "c.db", insecure=True)
    assert insecure.check_hello("") is None
    assert insecure.check_hello("k1") is None           # an opaque identity on a plain hub
    assert insecure.check_result("k1", 1, 0, SHA, Outcome.OK, "") == ""
    assert insecure.check_result("k1", 1, 0, SHA, Outcome.OK, "ab" * 64) == ""
    assert "signature" in insecure.check_result(w.hello_key, 1, 0, SHA, Outcome.OK, "ab" * 64)
    for t in (secure, listed, insecure):
        t.shutdown()


def test_signed_results_verified_and_kept(tmp_path):
    w = WorkerTrust.load(tmp_path / "w", None)
    trust = HubTrust(tmp_path / "h.db")
    body = end_body(3, 1)
    w.sign_result_end(body)
    assert trust.check_result(w.hello_key, 3, 1, SHA, Outcome.OK, body["signature"]) == ""
    assert "signature" in trust.check_result(w.hello_key, 3, 1, WRONG, Outcome.OK, body["signature"])
    assert "not signed" in trust.check_result(w.hello_key, 3, 1, SHA, Outcome.OK, "")
    trust.flush()
    assert trust.ledger.signature(3, 1)["signature"] == body["signature"]
    trust.shutdown()


def test_disagreeing_key_is_struck_then_banned_and_ban_survives_restart(tmp_path):
    keys = [WorkerTrust.load(tmp_path / n, None).hello_key for n in "abc"]
    cheat = keys[2]
    trust = HubTrust(tmp_path / "h.db", policy=TrustPolicy(ban_strikes=2))
    assert trust.on_fragment_done(1, SHA, [(keys[0], SHA), (keys[1], SHA), (cheat, WRONG)], 1.0) == []
    assert trust.reputation(cheat)["strikes"] == 1
    banned = trust.on_fragment_done(2, SHA, [(cheat, WRONG), (keys[0], SHA), (keys[1], SHA)], 2.0)
    assert banned == [cheat]
    assert "banned" in trust.check_hello(cheat)
    assert trust.reputation(keys[0])["verified"] == 2
    trust.shutdown()
    after = HubTrust(tmp_path / "h.db")
    assert "banned" in after.check_hello(cheat)
    assert after.check_hello(keys[0]) is None
    assert len(after.ledger.strikes(cheat)) == 2
    # the ban is also in the keys dir's ban list, so ZAP refuses the key's connections
    assert after.policy.is_banned(cheat)
    after.shutdown()


def test_single_result_is_not_a_verdict(tmp_path):
    trust = HubTrust(tmp_path / "h.db", insecure=True)
    assert trust.on_fragment_done(1, SHA, [("session:w-1", SHA)], 0.0) == []
    assert trust.reputation("session:w-1") == {"tier": "unknown"}
    trust.shutdown()


def test_rate_limit(tmp_path):
    trust = HubTrust(tmp_path / "h.db", insecure=True, rate_per_s=10, burst=10,
                     heartbeat_rate_per_s=2, heartbeat_burst=3)
    assert sum(trust.allow_message(b"peer", 5.0) for _ in range(100)) == 10
    assert sum(trust.allow_message(b"hb", 5.0, heartbeat=True) for _ in range(100)) == 3
    assert trust.allow_message(b"hb", 5.0) and trust.allow_message(b"hb", 5.6, heartbeat=True)
    trust.shutdown()


def test_late_results_are_still_compared(tmp_path):
    ws = [WorkerTrust.load(tmp_path / n, None) for n in ("a", "b", "late", "late2")]
    a, b, late, late2 = ws
    trust = HubTrust(tmp_path / "h.db", policy=TrustPolicy(ban_strikes=1))
    assert trust.on_fragment_done(7, SHA, [(a.hello_key, SHA), (b.hello_key, SHA)], 1.0) == []

    def signed(w, sha):
        body = end_body(7, 2, sha)
        w.sign_result_end(body)
        return body["signature"]
    # an honest straggler agrees: a verified result for it
    trust.on_late_result(late2.hello_key, 7, 2, SHA, Outcome.OK, signed(late2, SHA), 2.0)
    assert trust.reputation(late2.hello_key)["verified"] == 1
    # an unsigned wrong result is no evidence; a signed one is a strike (and here a ban)
    trust.on_late_result(late.hello_key, 7, 2, WRONG, Outcome.OK, "", 2.0)
    assert trust.reputation(late.hello_key)["strikes"] == 0
    trust.on_late_result(late.hello_key, 7, 2, WRONG, Outcome.OK, signed(late, WRONG), 2.0)
    assert trust.take_banned(0.0) == [late.hello_key] and trust.take_banned(0.0) == []
    assert "banned" in trust.check_hello(late.hello_key)
    # a fragment that was never voted on teaches nothing
    trust.on_late_result(b.hello_key, 99, 0, WRONG, Outcome.OK, "x", 3.0)
    assert trust.reputation(b.hello_key)["strikes"] == 0
    trust.shutdown()


def test_signatures_of_established_keys_are_verified_off_the_loop(tmp_path):
    w = WorkerTrust.load(tmp_path / "w", None)
    forger = WorkerTrust.load(tmp_path / "f", None)
    trust = HubTrust(tmp_path / "h.db", policy=TrustPolicy(ban_strikes=1), verify_share=1.0)
    n = trust.signatures.inline_signatures
    for fid in range(n):                       # the first ones are checked before acceptance
        body = end_body(fid, 0)
        w.sign_result_end(body)
        assert trust.check_result(w.hello_key, fid, 0, SHA, Outcome.OK, body["signature"]) == ""
    assert trust.verified == n and not trust.signatures.verifying_in_background
    good = end_body(n, 0)
    w.sign_result_end(good)
    assert trust.check_result(w.hello_key, n, 0, SHA, Outcome.OK, good["signature"]) == ""
    forged = end_body(n + 1, 0)
    forger.sign_result_end(forged)             # a valid signature, but by another key
    assert trust.check_result(w.hello_key, n + 1, 0, SHA, Outcome.OK, forged["signature"]) == ""
    assert trust.signatures.verifying_in_background and trust.drain_verifications()
    assert trust.verified == n + 1
    assert trust.take_banned(0.0) == [w.hello_key]           # the bad one became a strike
    trust.flush()
    assert trust.ledger.strikes(w.hello_key)[0]["majority_sha256"] == "bad-signature"
    # malformed signatures are still refused at once
    assert "hex" in trust.check_result(forger.hello_key, 1, 0, SHA, Outcome.OK, "zz")
    trust.shutdown()
    assert not trust.signatures.verifying_in_background


def test_later_signatures_are_sampled_but_all_kept_as_evidence(tmp_path):
    w = WorkerTrust.load(tmp_path / "w", None)
    forger = WorkerTrust.load(tmp_path / "f", None)
    trust = HubTrust(tmp_path / "h.db", verify_share=0.0)
    for fid in range(trust.signatures.inline_signatures + 5):
        body = end_body(fid, 0)
        w.sign_result_end(body)
        assert trust.check_result(w.hello_key, fid, 0, SHA, Outcome.OK, body["signature"]) == ""
    forged = end_body(999, 0)
    forger.sign_result_end(forged)
    assert trust.check_result(w.hello_key, 999, 0, SHA, Outcome.OK, forged["signature"]) == ""
    assert trust.signatures.stored_unverified == 6
    assert trust.evidence(3, 0)["valid"] is True
    assert trust.evidence(trust.signatures.inline_signatures + 2, 0)["valid"] is True
    assert trust.evidence(999, 0)["valid"] is False
    assert trust.evidence(12345, 0) is None
    trust.shutdown()
