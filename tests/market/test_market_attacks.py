"""``cpushare-market``'s server attacked over real CURVE sockets: forged, expired, malformed
and oversized offers are refused with a reason and the market keeps serving; a flood from
one peer does not starve the others; offers expire when not renewed and survive a restart."""

from __future__ import annotations

import threading
import time

import pytest
import zmq
from waiting import wait_for

from cpushare_mq.market.offers import offer_signing_key, sign_offer
from cpushare_mq.market.server import MarketServer
from cpushare_mq.market.wire import MarketMsg, decode, encode
from cpushare_mq.trust.keys import generate_curve_keypair


@pytest.fixture
def market(tmp_path):
    servers = []

    def start():
        m = MarketServer(str(tmp_path / "market.db"), "tcp://127.0.0.1:0", keypair=kp).start()
        servers.append(m)
        return m

    kp = generate_curve_keypair()
    try:
        yield start
    finally:
        for m in servers:
            m.close()


class Peer:
    def __init__(self, market: MarketServer, kp=None):
        self.ctx = zmq.Context()
        self.kp = kp or zmq.curve_keypair()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.curve_publickey, self.sock.curve_secretkey = self.kp
        self.sock.curve_serverkey = market.keypair.public
        self.sock.connect(market.endpoint)

    def ask(self, mtype, body, timeout_s=10.0):
        self.sock.send_multipart(encode(mtype, body))
        return self.answer(timeout_s)

    def answer(self, timeout_s=10.0):
        assert self.sock.poll(int(timeout_s * 1000)), "no answer from the market"
        return decode(self.sock.recv_multipart())

    def close(self):
        self.ctx.destroy(0)


def offer_of(kp, **kw):
    args = {"endpoint": "tcp://127.0.0.1:5555", "price": "1.5", "currency": "credits",
            "work": 3, "issued_s": int(time.time()), "ttl_s": 20, **kw}
    return sign_offer(kp[0].decode(), offer_signing_key(kp[1]), **args).to_dict()


def listed(market) -> list[dict]:
    p = Peer(market)
    try:
        t, body = p.ask(MarketMsg.LIST, {})
        assert t is MarketMsg.OFFERS
        return body["offers"]
    finally:
        p.close()


def test_forged_expired_and_malformed_offers_are_refused(market):
    m = market()
    hub, mallory = Peer(m), Peer(m)
    try:
        assert hub.ask(MarketMsg.PUBLISH, {"offer": offer_of(hub.kp)})[0] is MarketMsg.OK
        # mallory republishes the hub's offer with a better price, signed with her own key
        forged = offer_of(hub.kp)
        forged.update(offer_of(mallory.kp, price="9"), hub_key=hub.kp[0].decode())
        t, b = mallory.ask(MarketMsg.PUBLISH, {"offer": forged})
        assert (t, b["code"]) == (MarketMsg.ERROR, "forbidden") and "another hub" in b["message"]
        # ... or changes a field of the hub's real offer (the signature no longer verifies)
        altered = dict(offer_of(hub.kp), price="9")
        t, b = hub.ask(MarketMsg.PUBLISH, {"offer": altered})
        assert (t, b["code"]) == (MarketMsg.ERROR, "bad_signature")
        t, b = hub.ask(MarketMsg.PUBLISH, {"offer": offer_of(hub.kp, issued_s=int(time.time()) - 3600)})
        assert (t, b["code"]) == (MarketMsg.ERROR, "expired")
        t, b = hub.ask(MarketMsg.PUBLISH, {"offer": {"hub_key": 1}})
        assert (t, b["code"]) == (MarketMsg.ERROR, "malformed")
        hub.sock.send_multipart([b"CPMK\x01\x01", b"{not json"])
        t, b = hub.answer()
        assert t is MarketMsg.ERROR and "JSON" in b["message"]
        hub.sock.send_multipart([b"XXXX", b"{}", b"extra"])
        assert hub.answer()[0] is MarketMsg.ERROR
        t, b = hub.ask(MarketMsg.OFFERS, {"offers": []})
        assert t is MarketMsg.ERROR and "not something a peer sends" in b["message"]
        # oversized: the socket drops it (MAXMSGSIZE) and the market keeps serving
        mallory.sock.send_multipart([b"CPMK\x01\x01", b"x" * (200 << 10)])
        offers = listed(m)
        assert [(o["hub_key"], o["price"]) for o in offers] == [(hub.kp[0].decode(), "1.5")]
    finally:
        hub.close()
        mallory.close()


def test_a_flood_from_one_peer_does_not_starve_the_others(market):
    m = market()
    flooder = Peer(m)
    stop = threading.Event()
    sent = [0]

    def flood():
        body = encode(MarketMsg.LIST, {})
        while not stop.is_set() and sent[0] < 200_000:
            try:
                flooder.sock.send_multipart(body, zmq.NOBLOCK)
                sent[0] += 1
            except zmq.Again:
                time.sleep(0.001)

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    try:
        wait_for(lambda: sent[0] > 2000, 30, "the flood to start")
        hub, worker = Peer(m), Peer(m)
        started = time.monotonic()
        assert hub.ask(MarketMsg.PUBLISH, {"offer": offer_of(hub.kp)})[0] is MarketMsg.OK
        t2, body = worker.ask(MarketMsg.LIST, {})
        assert t2 is MarketMsg.OFFERS and len(body["offers"]) == 1
        assert time.monotonic() - started < 10      # answered in the middle of the flood
        hub.close()
        worker.close()
    finally:
        stop.set()
        t.join(10)
    answers = []
    while flooder.sock.poll(500):
        answers.append(decode(flooder.sock.recv_multipart())[0])
    flooder.close()
    # the flooder got its own budget's worth (burst + rate x time) and one refusal per burst
    assert answers.count(MarketMsg.OFFERS) < 20 + 5 * 60 < sent[0]
    assert 1 <= answers.count(MarketMsg.ERROR) <= answers.count(MarketMsg.OFFERS)


def test_an_offer_not_renewed_expires_and_offers_survive_a_restart(market):
    m = market()
    short, long_ = Peer(m), Peer(m)
    try:
        assert short.ask(MarketMsg.PUBLISH, {"offer": offer_of(short.kp, ttl_s=1)})[0] is MarketMsg.OK
        assert long_.ask(MarketMsg.PUBLISH, {"offer": offer_of(long_.kp, ttl_s=60)})[0] is MarketMsg.OK
        assert len(listed(m)) == 2
        wait_for(lambda: len(listed(m)) == 1, 20, "the unrenewed offer to expire")
    finally:
        short.close()
        long_.close()
    m.close()
    m2 = market()
    assert [o["hub_key"] for o in listed(m2)] == [long_.kp[0].decode()]
