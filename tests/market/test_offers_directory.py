"""Offers (codec + signature) and the market's directory core: hypothesis and attacks."""

from __future__ import annotations

import json

import pytest
import zmq
from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import ProtocolError
from cpushare_mq.market.directory import Directory, DirectoryPolicy
from cpushare_mq.market.offers import FIELDS, Offer, offer_signing_key, sign_offer
from cpushare_mq.market.wire import MarketMsg, decode, encode

HUB = zmq.curve_keypair()
OTHER = zmq.curve_keypair()
WALL = 1_800_000_000


def make(kp=HUB, **kw) -> Offer:
    args = {"endpoint": "tcp://hub.example:5555", "price": "0.05", "currency": "credits",
            "work": 10, "issued_s": WALL, "ttl_s": 20, **kw}
    return sign_offer(kp[0].decode(), offer_signing_key(kp[1]), **args)


prices = st.decimals(min_value=0, max_value=1000, places=3).map(lambda d: format(d, "f"))


@given(prices, st.integers(0, 10**9), st.integers(1, 300), st.integers(1, 65535),
       st.sampled_from(["credits", "EUR", "x-1"]))
def test_an_offer_survives_json_and_verifies(price, work, ttl, port, currency):
    o = make(price=price, work=work, ttl_s=ttl, endpoint=f"tcp://10.0.0.1:{port}",
             currency=currency)
    back = Offer.from_dict(json.loads(json.dumps(o.to_dict())))
    assert back == o and back.verify()


@given(st.sampled_from([f for f in FIELDS if f not in ("hub_key", "sign_key", "signature")]),
       st.data())
def test_any_changed_field_breaks_the_signature(name, data):
    o = make().to_dict()
    new = {"endpoint": "tcp://evil.example:1", "price": "999", "currency": "EUR",
           "work": 11, "issued_s": WALL + 1, "ttl_s": 21}[name]
    o[name] = new
    assert not Offer.from_dict(o).verify()


garbage = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=40),
                   st.floats(allow_nan=True), st.just([1, 2]), st.just({"a": 1}))


@settings(max_examples=300)
@given(st.sampled_from([*FIELDS, "extra"]), garbage, st.booleans())
def test_from_dict_refuses_garbage_with_protocol_error_only(name, value, drop):
    d = make().to_dict()
    if drop and name in d:
        del d[name]
    else:
        d[name] = value
    try:
        o = Offer.from_dict(d)
    except ProtocolError:
        return
    assert not o.verify() or o == make()


@given(st.lists(st.binary(max_size=80), max_size=4))
def test_wire_decode_refuses_garbage_with_protocol_error_only(frames):
    try:
        decode(frames)
    except ProtocolError:
        pass


def publish(d: Directory, peer_key, offer, now=0.0, wall=WALL):
    return d.handle(peer_key, peer_key, MarketMsg.PUBLISH, {"offer": offer.to_dict()}, now, wall)


def listing(d: Directory, peer="w", now=0.0, **body):
    t, b = d.handle(peer, None, MarketMsg.LIST, body, now, WALL)
    assert t is MarketMsg.OFFERS
    return [Offer.from_dict(o) for o in b["offers"]]


def test_publish_list_expire():
    d = Directory()
    assert publish(d, HUB[0].decode(), make())[0] is MarketMsg.OK
    assert [o.hub_key for o in listing(d)] == [HUB[0].decode()]
    assert listing(d, min_price="0.06") == [] and listing(d, currency="EUR") == []
    assert d.expire(19.0) == [] and d.expire(20.0) == [HUB[0].decode()]
    assert listing(d, now=21.0) == []


def test_best_price_first():
    d = Directory()
    publish(d, HUB[0].decode(), make(price="0.01"))
    publish(d, OTHER[0].decode(), make(OTHER, price="0.02"))
    assert [o.price for o in listing(d)] == ["0.02", "0.01"]


@pytest.mark.parametrize("case, code", [
    ("someone else's key", "forbidden"), ("plain connection", "forbidden"),
    ("bad signature", "bad_signature"), ("expired", "expired"), ("future", "expired"),
    ("re-keyed", "forbidden"), ("oversized", "malformed"), ("extra field", "malformed"),
])
def test_bad_offers_are_refused_with_a_reason(case, code):
    d = Directory()
    hub = HUB[0].decode()
    offer, peer = make(), hub
    if case == "someone else's key":
        peer = OTHER[0].decode()
    elif case == "plain connection":
        peer = None
    elif case == "bad signature":
        offer = Offer(**{**offer.to_dict(), "price": "9"})
    elif case == "expired":
        offer = make(issued_s=WALL - 1000)
    elif case == "future":
        offer = make(issued_s=WALL + 1000)
    elif case == "re-keyed":
        assert publish(d, hub, offer)[0] is MarketMsg.OK
        other_signer = offer_signing_key(OTHER[1])
        offer = sign_offer(hub, other_signer, endpoint="tcp://evil.example:1", price="9",
                           currency="credits", work=1, issued_s=WALL, ttl_s=20)
    body = {"offer": offer.to_dict()}
    if case == "oversized":
        body["offer"]["endpoint"] = "tcp://" + "a" * 3000 + ":1"
    if case == "extra field":
        body["offer"]["extra"] = 1
    t, b = d.handle(peer or "rid", peer, MarketMsg.PUBLISH, body, 0.0, WALL)
    assert t is MarketMsg.ERROR and b["code"] == code, b
    assert b["message"] and "\n" not in b["message"]
    if case != "re-keyed":
        assert listing(d) == []
    else:
        assert [o.price for o in listing(d)] == ["0.05"]     # the pinned offer stays


def test_a_flood_from_one_peer_does_not_use_up_anothers_budget():
    d = Directory(DirectoryPolicy(rate_per_s=5, burst=20))
    answers = [d.handle("flooder", None, MarketMsg.LIST, {}, 0.0, WALL) for _ in range(1000)]
    assert sum(1 for a in answers if a is not None and a[0] is MarketMsg.OFFERS) == 20
    refusals = [a for a in answers if a is not None and a[0] is MarketMsg.ERROR]
    assert len(refusals) == 1 and refusals[0][1]["code"] == "rate_limited"   # told once
    assert publish(d, HUB[0].decode(), make())[0] is MarketMsg.OK
    assert len(listing(d, peer="honest")) == 1


def test_encode_decode_round_trip():
    assert decode(encode(MarketMsg.LIST, {"currency": "EUR"})) == (MarketMsg.LIST, {"currency": "EUR"})
