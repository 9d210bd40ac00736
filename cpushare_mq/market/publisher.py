"""The hub's side of the market: publish and renew its signed offer (a thread).

Started by ``cpushare-hub serve --market ADDR --market-key KEY --price P``. It connects to
the market over CURVE with the hub's own key pair (the market admits an offer only from the
key it names), reads how many fragments wait (read-only SQLite, the hub's database), asks
the pure core (:mod:`.offering`) whether to publish, signs (:mod:`.offers`) and sends.
Refusals are logged once per reason; at stop the offer is withdrawn.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

import zmq

from ..errors import ConfigError, ProtocolError
from .money import Price, decimal_text
from .offering import Offering, OfferPolicy
from .offers import offer_signing_key, sign_offer
from .wire import MarketMsg, encode, market_socket, received

log = logging.getLogger(__name__)

__all__ = ["Publisher", "reachable_endpoint", "waiting_fragments"]


def reachable_endpoint(bound: str, advertise: str | None) -> str:
    """The endpoint the offer names: ``--advertise``, else the bound one if workers can
    reach it (not a wildcard address)."""
    endpoint = advertise or bound
    host = endpoint.rsplit(":", 1)[0].removeprefix("tcp://").strip("[]")
    if not endpoint.startswith("tcp://") or host in ("0.0.0.0", "*", "::", ""):
        raise ConfigError(f"the worker endpoint {endpoint} is not an address workers can reach: "
                          "give --advertise tcp://HOST:PORT (this hub's name or address)")
    return endpoint


WORK_COUNT_CAP = 100_000     # an offer's work count stops there (the query stays cheap)


def waiting_fragments(db_path: str) -> int:
    """Fragments waiting for a lease in running jobs, up to WORK_COUNT_CAP (read-only; 0 if
    unreadable)."""
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1.0)
        try:
            return con.execute("SELECT COUNT(*) FROM (SELECT 1 FROM fragments f JOIN jobs j "
                               "ON j.id=f.job_id WHERE f.state='PENDING' AND "
                               "j.state='running' LIMIT ?)", (WORK_COUNT_CAP,)).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error as exc:
        log.debug("cannot count waiting fragments: %s", exc)
        return 0


class Publisher:
    def __init__(self, hub, market: str, market_key: bytes, price: Price, *,
                 advertise: str | None = None, policy: OfferPolicy | None = None):
        if hub.trust is None or getattr(hub.trust, "keypair", None) is None:
            raise ConfigError("--market needs the hub's CURVE keys: drop --insecure")
        self.hub = hub
        self.market = market
        self.market_key = market_key
        self.price = price
        self.advertise = advertise
        self.core = Offering(policy)
        self.keypair = hub.trust.keypair
        self.signing = offer_signing_key(self.keypair.secret)
        self.ctx = zmq.Context()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="market-publisher", daemon=True)
        self.published = 0

    def start(self) -> Publisher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.ctx.destroy(0)

    def _socket(self) -> zmq.Socket:
        return market_socket(self.ctx, self.market, self.keypair, self.market_key, sndhwm=10,
                             linger_ms=500)

    def _run(self) -> None:
        while not self.hub.worker_endpoint and not self._stop.wait(0.05):
            pass
        try:
            endpoint = reachable_endpoint(self.hub.worker_endpoint, self.advertise)
        except ConfigError as exc:
            log.error("not publishing an offer: %s", exc)
            return
        sock = self._socket()
        log.info("publishing this hub's offer (%s per CPU-hour, workers at %s) on %s",
                 self.price, endpoint, self.market)
        price = decimal_text(self.price.per_cpu_hour)
        try:
            work, counted_at = 0, -1e9
            while not self._stop.is_set():
                now = time.monotonic()
                if now - counted_at >= self.core.policy.min_gap_s:   # a query, once a second
                    work, counted_at = waiting_fragments(self.hub.db_path), now
                if self.core.due(now, price, self.price.currency, work):
                    offer = sign_offer(self.keypair.public.decode(), self.signing,
                                       endpoint=endpoint, price=price,
                                       currency=self.price.currency, work=work,
                                       issued_s=int(time.time()),
                                       ttl_s=self.core.policy.ttl_s)
                    try:
                        sock.send_multipart(encode(MarketMsg.PUBLISH, {"offer": offer.to_dict()}),
                                            zmq.NOBLOCK)
                        self.core.published(now, price, self.price.currency, work)
                    except zmq.Again:
                        pass            # the market is unreachable: try at the next turn
                if sock.poll(250):
                    self._answers(sock)
            try:
                sock.send_multipart(encode(MarketMsg.WITHDRAW, {}), zmq.NOBLOCK)
            except zmq.ZMQError:
                pass
        finally:
            sock.close()

    def _answers(self, sock: zmq.Socket) -> None:
        for answer in received(sock):
            if isinstance(answer, ProtocolError):
                log.warning("bad answer from the market: %s", answer)
                continue
            mtype, body = answer
            if mtype is MarketMsg.OK:
                self.published += 1
                self.core.accepted()
            elif mtype is MarketMsg.ERROR:
                reason = str(body.get("message", ""))[:300]
                if self.core.refused(reason):
                    log.warning("the market refused this hub's offer: %s", reason)
