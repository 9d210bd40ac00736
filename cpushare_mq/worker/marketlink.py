"""The worker's side of the market (``cpushare-worker --market ADDR --market-key KEY``).

A thread asks the market for its live offers every ``interval_s`` (``LIST`` with the
seller's currency and ``--min-price``), checks each one itself (fields, signature, not
expired by this machine's clock give or take ``skew_s``) and hands the good ones to the
multi-hub worker: a hub it does not serve yet is added (connected with the offer's key:
CURVE makes sure it talks to the holder of that key), and every hub's price and work
waiting go to the arbiter. A hub whose offer is gone counts as having no work. Bad answers
are logged and skipped; an unreachable market only means no new hubs.
"""

from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal

import zmq

from ..errors import ConfigError, ProtocolError
from ..market.offers import Offer
from ..market.wire import MarketMsg, encode, market_socket, received

log = logging.getLogger(__name__)

__all__ = ["MarketLink"]


class MarketLink:
    def __init__(self, worker, market: str, market_key: str | None, trust, *,
                 currency: str | None = None, min_price: Decimal = Decimal(0),
                 insecure: bool = False, interval_s: float = 2.0, skew_s: float = 120.0):
        if not market.startswith(("tcp://", "ipc://")):
            raise ConfigError(f"--market {market!r} must look like tcp://HOST:PORT")
        self.worker = worker
        self.market = market
        self.market_public = None
        if market_key:
            from ..trust.keys import read_public_key

            self.market_public = read_public_key(market_key)
        self.trust = trust
        self.currency = currency or "credits"
        self.min_price = min_price
        self.interval_s = interval_s
        self.skew_s = skew_s
        self.ctx = zmq.Context()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="market-link", daemon=True)
        self.known: dict[tuple[str, bytes], Offer] = {}
        self.lists = 0
        self._said: set[str] = set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.ctx.destroy(0)

    def _socket(self) -> zmq.Socket:
        keys = self.trust.identity.curve if self.market_public is not None else None
        return market_socket(self.ctx, self.market, keys, self.market_public, sndhwm=4)

    def _run(self) -> None:
        sock = self._socket()
        log.info("finding hubs on the market %s (%s, at least %s per CPU-hour)", self.market,
                 self.currency, self.min_price)
        next_ask = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_ask:
                    next_ask = now + self.interval_s
                    try:
                        sock.send_multipart(encode(MarketMsg.LIST, {
                            "currency": self.currency, "min_price": str(self.min_price)}),
                            zmq.NOBLOCK)
                    except zmq.Again:
                        pass
                if sock.poll(200):
                    self._answers(sock)
        finally:
            sock.close(0)

    def _answers(self, sock: zmq.Socket) -> None:
        for answer in received(sock):
            try:
                if isinstance(answer, ProtocolError):
                    raise answer
                mtype, body = answer
                if mtype is MarketMsg.ERROR:
                    self._say(f"the market refused: {str(body.get('message'))[:200]}")
                    continue
                if mtype is not MarketMsg.OFFERS or type(body.get("offers")) is not list:
                    raise ProtocolError("expected OFFERS with a list of offers")
                self._offers(body["offers"])
            except ProtocolError as exc:
                self._say(f"bad answer from the market: {exc}")

    def _say(self, text: str) -> None:
        if text not in self._said:
            self._said.add(text)
            log.warning("%s", text)

    def _offers(self, items: list) -> None:
        self.lists += 1
        seen: dict[tuple[str, bytes], Offer] = {}
        wall = time.time()
        for item in items[:200]:
            try:
                offer = Offer.from_dict(item)
            except ProtocolError as exc:
                self._say(f"skipping a malformed offer from the market: {exc}")
                continue
            if not offer.verify():
                self._say(f"skipping an offer for {offer.endpoint}: its signature does not verify")
                continue
            if offer.expired(wall, self.skew_s) or offer.currency != self.currency \
                    or offer.price_decimal < self.min_price:
                continue
            seen[(offer.endpoint, offer.hub_key.encode())] = offer
        for (endpoint, key), offer in seen.items():
            if (endpoint, key) not in self.known:
                try:
                    self.worker.add_hub(endpoint, key)
                    log.info("serving %s too: its offer pays %s %s per CPU-hour, %d waiting",
                             endpoint, offer.price, offer.currency, offer.work)
                except ConfigError as exc:
                    self._say(f"not serving {endpoint}: {exc}")
                    continue
            self.worker.set_offer(endpoint, key, offer.price_decimal, offer.work)
        for (endpoint, key), offer in self.known.items():
            if (endpoint, key) not in seen:
                log.info("the offer of %s is gone: no new work taken from it", endpoint)
                self.worker.set_offer(endpoint, key, offer.price_decimal, 0)
        self.known = {k: v for k, v in seen.items()}
