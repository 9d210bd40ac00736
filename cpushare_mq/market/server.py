"""``cpushare-market serve``'s shell: a CURVE ROUTER socket, the directory core, SQLite.

One thread owns the socket. Every message: decode (sizes capped first), ask the core
(:class:`~.directory.Directory`), send its answer. The peer's identity is the CURVE key its
handshake proved (ZAP puts it on every message); on a plain socket (``--insecure``) it is
the routing id, and offers are refused. Offers are written through to SQLite (``offers``
table: hub key, the offer's JSON, expiry as wall-clock seconds), so a restarted market lists
them again until they expire. The market never sees a fragment or a result.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

import zmq

from ..errors import ConfigError, ProtocolError
from .directory import Directory, DirectoryPolicy
from .offers import Offer
from .wire import MAX_MESSAGE_BYTES, MarketMsg, decode, encode

log = logging.getLogger(__name__)

__all__ = ["MarketServer"]


class _Db:
    def __init__(self, path: str):
        try:
            self.con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("CREATE TABLE IF NOT EXISTS offers (hub_key TEXT PRIMARY KEY, "
                             "offer TEXT NOT NULL, expires_wall_s REAL NOT NULL)")
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open the market database {path}: {exc}") from exc
        Path(path).chmod(0o600)

    def load(self) -> list[tuple[dict, float]]:
        rows = self.con.execute("SELECT offer, expires_wall_s FROM offers").fetchall()
        return [(json.loads(o), e) for o, e in rows]

    def put(self, offer: Offer, expires_wall_s: float) -> None:
        self.con.execute("INSERT OR REPLACE INTO offers VALUES (?, ?, ?)",
                         (offer.hub_key, json.dumps(offer.to_dict()), expires_wall_s))

    def drop(self, hub_keys: list[str]) -> None:
        self.con.executemany("DELETE FROM offers WHERE hub_key=?", [(k,) for k in hub_keys])


class MarketServer:
    """``MarketServer(db, bind, keypair=...).start()``; :meth:`close` stops it."""

    def __init__(self, db_path: str, bind: str, *, keypair=None,
                 policy: DirectoryPolicy | None = None):
        self.db = _Db(str(db_path))
        self.core = Directory(policy)
        self.keypair = keypair                    # None: plain TCP (--insecure)
        self.bind = bind
        self.endpoint = ""
        self.ctx = zmq.Context()
        self.zap = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.handled = 0
        now, wall = time.monotonic(), time.time()
        for d, expires_wall_s in self.db.load():
            try:
                offer = Offer.from_dict(d)
            except ProtocolError:
                continue
            if expires_wall_s > wall:
                self.core.restore(offer, now + (expires_wall_s - wall))

    @property
    def public_key(self) -> str | None:
        return self.keypair.public.decode() if self.keypair is not None else None

    def start(self) -> MarketServer:
        sock = self.ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 0)
        sock.setsockopt(zmq.SNDHWM, 1000)
        if self.keypair is not None:
            from ..trust.zap import ZapHandler, make_curve_server

            self.zap = ZapHandler(self.ctx).start()      # any key may connect; offers
            make_curve_server(sock, self.keypair)        # are checked against their key
        try:
            sock.bind(self.bind)
        except zmq.ZMQError as exc:
            sock.close(0)
            raise ConfigError(f"cannot bind the market to {self.bind}: {exc}") from exc
        self.endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.sock = sock
        self._thread = threading.Thread(target=self._loop, name="market", daemon=True)
        self._thread.start()
        log.info("market serving on %s (%d offers listed)", self.endpoint, len(self.core.offers))
        return self

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(0.5)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.zap is not None:
            self.zap.stop()
        self.ctx.destroy(0)

    # -- the loop ---------------------------------------------------------------------

    def _loop(self) -> None:
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        next_expiry = 0.0
        try:
            while not self._stop.is_set():
                if poller.poll(200):
                    for _ in range(512):     # bounded: expiry and stop still get their turn
                        try:
                            frames = self.sock.recv_multipart(zmq.NOBLOCK, copy=False)
                        except zmq.Again:
                            break
                        self._one(frames)
                now = time.monotonic()
                if now >= next_expiry:
                    next_expiry = now + 1.0
                    gone = self.core.expire(now)
                    if gone:
                        self.db.drop(gone)
                        log.info("%d offers expired (their hubs stopped renewing)", len(gone))
        finally:
            self.sock.close(0)

    def _one(self, frames: list) -> None:
        self.handled += 1
        if len(frames) < 2:
            return
        rid = frames[0].bytes
        from ..trust.zap import peer_curve_key

        key = peer_curve_key(frames[1]) if self.keypair is not None else None
        peer = key or rid
        now = time.monotonic()
        try:
            mtype, body = decode([f.bytes for f in frames[1:]])
        except ProtocolError as exc:
            answer = self.core.undecodable(peer, str(exc), now)
            if answer is None:
                return              # over its budget: not even a refusal
        else:
            answer = self.core.handle(peer, key, mtype, body, now, time.time())
            if answer is None:
                return
            if mtype is MarketMsg.PUBLISH and answer[0] is MarketMsg.OK:
                offer = self.core.offers[key].offer
                self.db.put(offer, time.time() + answer[1]["expires_in_s"])
                log.debug("offer from %s: %s %s, %d waiting", offer.endpoint, offer.price,
                          offer.currency, offer.work)
            elif mtype is MarketMsg.WITHDRAW and answer[0] is MarketMsg.OK:
                self.db.drop([key])
        if answer[0] is MarketMsg.ERROR:
            log.info("refused a message from %s: %s", str(peer)[:40], answer[1]["message"])
        try:
            self.sock.send_multipart([rid, *encode(*answer)], zmq.NOBLOCK)
        except zmq.ZMQError:
            pass        # the peer is gone or not reading: drop the answer
