"""The market's wire format (hubs and workers <-> ``cpushare-market serve``).

A message is two ZeroMQ frames (after the ROUTER's routing id): a 6-byte header
``b"CPMK" | u8 version | u8 type`` and a UTF-8 JSON object. Types (:class:`MarketMsg`):

    PUBLISH  hub -> market   {"offer": <offer>}            (market/offers.py)
    WITHDRAW hub -> market   {}                              the hub's offer goes at once
    LIST     worker -> market {"currency": "", "min_price": "0"}   live offers, best first
    OK       market -> hub   {"expires_in_s": N}
    OFFERS   market -> worker {"offers": [<offer>, ...], "expires_in_s": [N, ...]}
    ERROR    market -> peer  {"code": str, "message": str}   a refusal, one line

Nothing here trusts a peer: sizes are capped before parsing, every field is checked.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from enum import IntEnum

import zmq

from ..errors import ProtocolError

__all__ = ["MarketMsg", "MAGIC", "VERSION", "MAX_MESSAGE_BYTES", "encode", "decode",
           "market_socket", "received"]

MAGIC = b"CPMK"
VERSION = 1
MAX_MESSAGE_BYTES = 64 << 10
MAX_LIST_OFFERS = 100         # offers in one OFFERS answer (fits MAX_MESSAGE_BYTES)
_HEADER = struct.Struct("<4sBB")


class MarketMsg(IntEnum):
    PUBLISH = 1
    WITHDRAW = 2
    LIST = 3
    OK = 32
    OFFERS = 33
    ERROR = 66


def encode(mtype: MarketMsg, body: dict) -> list[bytes]:
    return [_HEADER.pack(MAGIC, VERSION, int(mtype)),
            json.dumps(body, separators=(",", ":")).encode()]


def decode(frames: list[bytes]) -> tuple[MarketMsg, dict]:
    """``(type, body)``; raises :class:`ProtocolError` with a one-line reason."""
    if len(frames) != 2:
        raise ProtocolError(f"a market message is 2 frames (header, JSON body), got {len(frames)}")
    header, body = frames
    if sum(len(f) for f in frames) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message larger than {MAX_MESSAGE_BYTES} bytes")
    if len(header) != _HEADER.size:
        raise ProtocolError("bad header: not a cpushare market message")
    magic, version, t = _HEADER.unpack(header)
    if magic != MAGIC:
        raise ProtocolError("bad header: not a cpushare market message")
    if version != VERSION:
        raise ProtocolError(f"market protocol version {version}, this market speaks {VERSION}")
    try:
        mtype = MarketMsg(t)
    except ValueError:
        raise ProtocolError(f"unknown market message type {t}") from None
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(f"body is not UTF-8 JSON: {str(exc)[:80]}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("body must be a JSON object")
    return mtype, obj


def market_socket(ctx: zmq.Context, market: str, client_keys, market_public: bytes | None, *,
                  sndhwm: int, linger_ms: int = 0) -> zmq.Socket:
    """A DEALER to the market: CURVE with ``client_keys`` (a key pair with ``public`` and
    ``secret``) when ``market_public`` is given, messages capped, connected."""
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, linger_ms)
    sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    sock.setsockopt(zmq.SNDHWM, sndhwm)
    if market_public is not None:
        sock.curve_secretkey = client_keys.secret
        sock.curve_publickey = client_keys.public
        sock.curve_serverkey = market_public
    sock.connect(market)
    return sock


def received(sock: zmq.Socket) -> Iterator[tuple[MarketMsg, dict] | ProtocolError]:
    """Every message waiting on ``sock`` (never blocks), decoded — or the
    :class:`ProtocolError` that says why it could not be."""
    while True:
        try:
            frames = sock.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return
        try:
            yield decode(frames)
        except ProtocolError as exc:
            yield exc
