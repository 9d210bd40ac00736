"""The trust layer's side of the worker: its identity, CURVE on its socket, signed results.

:class:`WorkerTrust` is built by the worker CLI from ``--config-dir`` / ``--hub-key`` /
``--insecure`` and used by the agent at three points: ``hello_key`` (HELLO.worker_key),
:meth:`secure_socket` (before connect) and :meth:`sign_result_end` (every RESULT_END body
sent alone) or :meth:`sign_batch` (one signature per RESULT_BATCH, when the hub confirmed
the protocol feature ``batch_signature``).

The worker has no way to return wrong results on purpose: tests make cheaters from the
outside (a wrapper loader that runs another program, ``tests/trust/cheaters.py``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import zmq
from zmq.utils.monitor import parse_monitor_message

from .keys import (
    IdentityClaim,
    WorkerIdentity,
    claim_worker_identity,
    key_fingerprint,
    read_public_key,
)
from .signing import EMPTY_SHA256, ResultSigner
from .zap import describe_handshake_failure, make_curve_client

log = logging.getLogger(__name__)

__all__ = ["WorkerTrust"]

REPEAT_S = 30.0                   # the same handshake error at most this often


def watch_handshakes(sock: zmq.Socket, curve: bool, said_at: dict[str, float] | None = None) -> None:
    """Log a clear error when the CURVE handshake with the hub fails (wrong --hub-key,
    refused by the hub's allow-list or ban list). Runs until the socket is closed. ``said_at``
    (message -> when logged), kept by the caller across its reconnects, says each message at
    most every REPEAT_S seconds."""
    said_at = {} if said_at is None else said_at
    try:
        mon = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH
                                      | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                                      | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                      | zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_MONITOR_STOPPED)
    except zmq.ZMQError as exc:
        log.debug("no socket monitor: %s", exc)
        return

    def run() -> None:
        said = set()   # per socket; said_at spaces the same message across reconnects
        try:
            while True:
                if not mon.poll(1000):
                    continue
                ev = parse_monitor_message(mon.recv_multipart())
                event, value = ev["event"], ev["value"]
                if event == zmq.EVENT_MONITOR_STOPPED:
                    break
                if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    if said:
                        log.info("CURVE handshake with the hub succeeded")
                    said.clear()
                    continue
                why = describe_handshake_failure(event, value)
                if why and not curve:
                    why = ("handshake with the hub failed: the hub uses CURVE and this worker does "
                           "not; pass the hub's public key with --hub-key (its hub.pub file)")
                now = time.monotonic()
                if why and (event, value) not in said and now - said_at.get(why, -1e9) >= REPEAT_S:
                    said.add((event, value))
                    said_at[why] = now
                    log.error("%s", why)
        except zmq.ZMQError:
            pass
        finally:
            mon.close(0)
    threading.Thread(target=run, name="curve-handshake-watch", daemon=True).start()


@dataclass
class WorkerTrust:
    identity: WorkerIdentity
    hub_public: bytes | None         # None = plain TCP (--insecure or a local endpoint)
    created: bool = False
    claim: IdentityClaim | None = None   # the lock on the identity directory, held while we run

    @classmethod
    def load(cls, config_dir: str | os.PathLike | None, hub_key: str | None) -> WorkerTrust:
        """The identity from ``config_dir`` (created on first start) and the hub's public key
        from ``--hub-key`` (a key or a file; None for plain TCP)."""
        claim = claim_worker_identity(Path(config_dir) if config_dir else None)
        if claim.shared:
            log.warning(
                "another cpushare-worker on this machine uses the identity in %s (key %s): hubs "
                "count all workers of one identity as one seller, so redundant copies and spot "
                "checks cannot go to both; give each worker its own --config-dir to count "
                "separately, or run one worker with more --slots", claim.directory,
                key_fingerprint(claim.identity.worker_key))
        pub = read_public_key(hub_key) if hub_key else None
        return cls(claim.identity, pub, claim.created, claim)

    def __post_init__(self) -> None:
        self._signer = ResultSigner(self.identity.signing_key)
        self._said_at: dict[str, float] = {}   # handshake errors logged, across reconnects

    @property
    def hello_key(self) -> str:
        return self.identity.worker_key

    def secure_socket(self, sock: zmq.Socket) -> None:
        """CURVE client options on ``sock`` (before connect; plain TCP when there is no hub
        key) and a watcher that logs failed handshakes clearly."""
        if self.hub_public is not None:
            make_curve_client(sock, self.identity.curve, self.hub_public)
        watch_handshakes(sock, self.hub_public is not None, self._said_at)

    def sign_failure(self, body: dict) -> None:
        """Add ``signature`` to a FAILURE body: (fragment_id, attempt, sha256 of the empty
        output, the failure's outcome name). Only for a hub that accepted the protocol
        feature ``signed_failures`` (an older hub refuses the unknown field)."""
        outcome = body["outcome"]
        name = outcome.outcome if hasattr(outcome, "outcome") else outcome["outcome"]
        body["signature"] = self._signer.sign(body["fragment_id"], body["attempt"], EMPTY_SHA256,
                                              name)

    def sign_result_end(self, body: dict) -> None:
        """Add ``signature`` to a RESULT_END body (fragment_id, attempt, sha256, outcome)."""
        body["signature"] = self._signer.sign(body["fragment_id"], body["attempt"],
                                              body["sha256"], _outcome_name(body))

    def sign_batch(self, bodies: Sequence[dict]) -> str:
        """The one signature of a RESULT_BATCH whose items are the RESULT_END ``bodies`` (in
        message order): the batch claim of their (fragment_id, attempt, sha256, outcome).
        The bodies themselves must then carry no signature of their own."""
        return self._signer.sign_batch([(b["fragment_id"], b["attempt"], b["sha256"],
                                         _outcome_name(b)) for b in bodies])


def _outcome_name(body: dict) -> str:
    outcome = body["outcome"]
    return outcome.outcome if hasattr(outcome, "outcome") else outcome["outcome"]
