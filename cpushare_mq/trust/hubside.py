"""The trust layer's side of the hub, in one object the hub's I/O shell calls at a few points.

:class:`HubTrust` owns the hub's CURVE keys and ZAP handler, the ban/allow policy, the
reputation book and its ledger, and the per-worker rate limiter. The hub calls:

* :meth:`secure_socket` before binding its ROUTER (CURVE + ZAP unless ``insecure``);
* :meth:`check_hello` on every HELLO (refuse banned / not allow-listed / malformed keys);
* :meth:`check_result` on every ok RESULT_END (the signature must verify), and
  :meth:`check_failure` on every FAILURE report (signed too); for a RESULT_BATCH signed as
  a whole, :meth:`check_batch` once (verified at once, always), then :meth:`check_result`
  per item with the :class:`SignedBatch` it returned;
* :meth:`allow_message` per message (rate limit);
* :meth:`wants_spot_check` for a first result of a fragment without redundancy;
* :meth:`on_fragment_done` / :meth:`on_job_closed` after each commit; it returns the keys
  to ban now (the hub drops their sessions); :meth:`take_reverify` then lists the accepted
  results of caught workers the hub must re-verify;
* :meth:`flush` once per loop turn, :meth:`close` at the end.

The checks live in rooms of their own: :mod:`.peerchecks` (HELLO, rate limits) and
:mod:`.signatures` (signed results, inline and in the background, and their evidence);
this class keeps the keys, the socket, and the verdicts (reputation, strikes, bans). Nothing
here touches the hub's scheduler or store.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import zmq

from ..hub.admission import Admission, join_limits
from ..outcome import Outcome
from .keys import CurveKeyPair, ensure_hub_keys
from .ledger import TrustLedger
from .peerchecks import PeerChecks
from .reputation import Banned, ReputationBook, Reverify, Struck, TrustPolicy
from .signatures import SignatureChecks, SignedBatch
from .zap import KeyPolicy, ZapHandler, default_ban_file, make_curve_server, read_key_list

log = logging.getLogger(__name__)

__all__ = ["HubTrust", "SignedBatch", "default_keys_dir"]


def default_keys_dir(db_path: str | os.PathLike) -> Path:
    """The hub's keys directory beside its database: ``hub.db`` -> ``hub.keys/``."""
    p = Path(db_path)
    return p.with_name(p.stem + ".keys")


class HubTrust:
    def __init__(self, db_path: str | os.PathLike, *, insecure: bool = False,
                 keys_dir: str | os.PathLike | None = None,
                 allow_workers: str | os.PathLike | None = None,
                 policy: TrustPolicy | None = None, require_signatures: bool | None = None,
                 rate_per_s: float = 100_000.0, burst: float = 200_000.0,
                 heartbeat_rate_per_s: float = 50.0, heartbeat_burst: float = 200.0,
                 async_verify: bool = True, verify_share: float = 0.1,
                 seed: int | None = None, join_rate_per_s: float | None = None):
        self.insecure = insecure
        # CURVE handshakes per address (None: HANDSHAKE_LIMITS): HubConfig.join_rate_per_s
        self._join_rate_per_s = join_rate_per_s
        self.keys_dir = Path(keys_dir) if keys_dir else default_keys_dir(db_path)
        # signatures are required whenever a worker announces a key; a worker without one
        # is only admitted on an insecure hub (tests, trusted LANs)
        self.require_signatures = (not insecure) if require_signatures is None else require_signatures
        self.keypair: CurveKeyPair | None = None
        self.keys_created = False
        if not insecure:        # load (or create) now: a bad key file fails before serving
            self.keypair, self.keys_created = ensure_hub_keys(self.keys_dir)
        self.ledger = TrustLedger(f"{os.fspath(db_path)}.trust")
        self.book = ReputationBook(policy, rng=random.Random(seed),
                                   records=self.ledger.load_records())
        allow = read_key_list(allow_workers) if allow_workers else None
        ban_file = default_ban_file(self.keys_dir) if not insecure else None
        self.policy = KeyPolicy(allow, [r.key for r in self.book.records() if r.banned],
                                ban_file=ban_file)
        self.zap: ZapHandler | None = None
        self.signatures = SignatureChecks(self.ledger, require_signatures=self.require_signatures,
                                          async_verify=async_verify, verify_share=verify_share,
                                          seed=seed)
        self.peer_checks = PeerChecks(self.policy, require_signatures=self.require_signatures,
                                      is_banned=self.book.is_banned,
                                      parse_key=self.signatures.key, rate_per_s=rate_per_s,
                                      burst=burst, heartbeat_rate_per_s=heartbeat_rate_per_s,
                                      heartbeat_burst=heartbeat_burst)
        # recently decided votes: fragment -> (winning sha256, keys compared), to judge
        # results that arrive after the vote
        self._verdicts: OrderedDict[int, tuple[str, set[str]]] = OrderedDict()
        self.max_remembered_verdicts = 100_000
        self._banned_pending: list[str] = []
        self._reverify_pending: list[Reverify] = []

    @property
    def public_key(self) -> str | None:
        return self.keypair.public.decode() if self.keypair else None

    # -- counts (the signature checks') ---------------------------------------------------
    @property
    def verified(self) -> int:
        """Signatures verified (inline, in the background, or as part of a batch)."""
        return self.signatures.verified

    @property
    def verified_batches(self) -> int:
        return self.signatures.verified_batches

    @property
    def rejected(self) -> int:
        """Results and reports refused for their signature."""
        return self.signatures.rejected

    # -- socket -------------------------------------------------------------------------
    def secure_socket(self, ctx: zmq.Context, sock: zmq.Socket) -> None:
        """CURVE server + ZAP on ``sock`` (before bind); nothing when insecure."""
        if self.insecure or self.keypair is None:
            return
        rate = self._join_rate_per_s
        admission = None if rate is None else Admission(join_limits(rate))
        self.zap = ZapHandler(ctx, self.policy, admission=admission).start()
        make_curve_server(sock, self.keypair)

    def close(self) -> None:
        """Stop the ZAP handler (before the context terminates) and the signature verifier,
        and flush the ledger."""
        if self.zap is not None:
            self.zap.stop()
            self.zap = None
        if self.signatures.verifying_in_background:
            self.signatures.stop()
            self._strike_bad_signatures(time.time())
        self.flush()

    def shutdown(self) -> None:
        self.close()
        self.ledger.close()

    # -- per message (peer checks and signatures) ----------------------------------------
    def allow_message(self, peer: bytes, now_s: float, heartbeat: bool = False) -> bool:
        """Per-peer rate limits (all messages; heartbeats separately)."""
        return self.peer_checks.allow_message(peer, now_s, heartbeat)

    def check_hello(self, worker_key: str, features: Iterable[str] | None = None) -> str | None:
        """None if this worker may join, else the reason to refuse it."""
        return self.peer_checks.check_hello(worker_key, features)

    def check_failure(self, worker_key: str, fragment_id: int, attempt: int,
                      outcome: Outcome | str, signature: str) -> str:
        """"" if a FAILURE report's signature is acceptable, else why it is rejected."""
        return self.signatures.check_failure(worker_key, fragment_id, attempt, outcome,
                                             signature)

    def check_batch(self, worker_key: str, items: Sequence[tuple[int, int, str, Outcome | str]],
                    signature: str) -> tuple[SignedBatch | None, str]:
        """The one signature of a RESULT_BATCH (:meth:`SignatureChecks.check_batch`)."""
        return self.signatures.check_batch(worker_key, items, signature)

    def check_result(self, worker_key: str, fragment_id: int, attempt: int, sha256: str,
                     outcome: Outcome | str, signature: str, *, inline: bool = False,
                     batch: SignedBatch | None = None) -> str:
        """"" if the result's signature is acceptable (then it is kept in the ledger), else
        why the result must be rejected (:meth:`SignatureChecks.check_result`)."""
        return self.signatures.check_result(worker_key, fragment_id, attempt, sha256, outcome,
                                            signature, inline=inline, batch=batch)

    def evidence(self, fragment_id: int, attempt: int) -> dict | None:
        """The stored signed claim of one result, verified now (None if none was kept)."""
        return self.signatures.evidence(fragment_id, attempt)

    def drain_verifications(self, timeout_s: float = 5.0) -> bool:
        """Wait until the background verifier has checked everything queued (tests)."""
        return self.signatures.drain(timeout_s)

    def _strike_bad_signatures(self, now_s: float) -> None:
        """Results accepted from an established key whose signature then failed: a strike
        (the connection was authenticated by CURVE, so the key did send it)."""
        for bad in self.signatures.take_bad():
            log.warning("worker key %s sent a badly signed result (fragment %d attempt %d): %s",
                        bad.worker_key[:16], bad.fragment_id, bad.attempt, bad.why)
            self.ledger.add_strike(bad.worker_key, bad.fragment_id, bad.sha256, "bad-signature")
            self._banned_pending.extend(self._apply(
                self.book.on_verdict(bad.fragment_id, [], [bad.worker_key], now_s)))

    # -- reputation -----------------------------------------------------------------------
    def wants_spot_check(self, worker_key: str, fragment_id: int, job_id: str, now_s: float,
                         verifier_exists: Callable[[], bool] | None = None) -> bool:
        """For the first result of a fragment without redundancy: re-run it elsewhere first?
        ``verifier_exists`` (called only when a check is drawn): is another live worker key
        there to re-run it? Without one the result is accepted unverified, so a lone worker
        never leaves fragments waiting for a second opinion."""
        if not worker_key:
            return False
        return self.book.on_accepted(worker_key, fragment_id, job_id, now_s, verifier_exists)

    def on_fragment_done(self, fragment_id: int, winner_sha256: str,
                         votes: Iterable[tuple[str, str]], now_s: float) -> list[str]:
        """A fragment was accepted; ``votes`` are (worker_key, sha256) of every result counted.
        Returns worker keys banned by this verdict."""
        votes = [(k, s) for k, s in votes if k and not k.startswith("session:")]
        if len({k for k, _ in votes}) < 2:
            return []
        self._remember_verdict(fragment_id, winner_sha256, {k for k, _ in votes})
        agreed = [k for k, s in votes if s == winner_sha256]
        disagreed = [(k, s) for k, s in votes if s != winner_sha256]
        actions = self.book.on_verdict(fragment_id, agreed, [k for k, _ in disagreed], now_s)
        for k, s in disagreed:
            self.ledger.add_strike(k, fragment_id, s, winner_sha256)
        return self._apply(actions)

    def _remember_verdict(self, fragment_id: int, winner_sha256: str, keys: set[str]) -> None:
        self._verdicts[fragment_id] = (winner_sha256, keys)
        self._verdicts.move_to_end(fragment_id)
        while len(self._verdicts) > self.max_remembered_verdicts:
            self._verdicts.popitem(last=False)

    def on_late_result(self, worker_key: str, fragment_id: int, attempt: int, sha256: str,
                       outcome: Outcome | str, signature: str, now_s: float, *,
                       batch: SignedBatch | None = None) -> None:
        """A result that came in after its fragment was decided by a vote (its copy was
        cancelled, or the lease had ended). It is not accepted, but it is still compared
        (in the style of BOINC's validation of late results): a signed result that disagrees
        with the majority is a strike like any other. Bans are collected for
        :meth:`take_banned`."""
        known = self._verdicts.get(fragment_id)
        if known is None or not worker_key or worker_key.startswith("session:"):
            return
        winner, keys = known
        if worker_key in keys or Outcome(outcome) is not Outcome.OK:
            return
        if self.check_result(worker_key, fragment_id, attempt, sha256, outcome, signature,
                             batch=batch):
            return          # unsigned or forged: no evidence either way
        keys.add(worker_key)
        if sha256 == winner:
            actions = self.book.on_verdict(fragment_id, [worker_key], [], now_s)
        else:
            actions = self.book.on_verdict(fragment_id, [], [worker_key], now_s)
            self.ledger.add_strike(worker_key, fragment_id, sha256, winner)
        self._banned_pending.extend(self._apply(actions))

    def take_banned(self, now_s: float) -> list[str]:
        """Keys banned since the last call outside a verdict (late results, bad signatures
        found by the background verifier, counted at ``now_s``): drop them."""
        self._strike_bad_signatures(now_s)
        out, self._banned_pending = self._banned_pending, []
        return out

    def restore_unverified(self, rows) -> int:
        """Results of open jobs accepted without a check, as the store has them after a
        restart (see :meth:`cpushare_mq.hub.store.Store.unverified_results`): a worker caught
        later still gets them re-verified."""
        return self.book.restore_unverified(
            (key, fid, job) for key, fid, job in rows if self.signatures.parses(key))

    def on_job_closed(self, job_id: str) -> None:
        self.book.on_job_closed(job_id)

    def ban(self, worker_key: str, reason: str, now_s: float = 0.0) -> list[str]:
        return self._apply(self.book.ban(worker_key, reason, now_s))

    def _apply(self, actions: list) -> list[str]:
        banned: list[str] = []
        for a in actions:
            if isinstance(a, Struck):
                log.warning("worker key %s disagreed with the majority on fragment %d "
                            "(%d strikes)", a.worker_key[:16], a.fragment_id, a.strikes)
            elif isinstance(a, Banned):
                log.warning("worker key %s banned: %s", a.worker_key[:16], a.reason)
                try:
                    self.policy.ban(a.worker_key, a.reason)
                except Exception as exc:  # noqa: BLE001 - a key list write must not stop the hub
                    log.error("cannot record the ban of %s: %s", a.worker_key[:16], exc)
                banned.append(a.worker_key)
            elif isinstance(a, Reverify):
                # the hub re-runs them (take_reverify -> Scheduler.reopen, in batches)
                log.warning("worker key %s was caught: %d accepted, unverified results of open "
                            "jobs will be re-verified: %s%s", a.worker_key[:16], len(a.fragments),
                            ", ".join(f"{j}:{f}" for j, f in a.fragments[:20]),
                            " ..." if len(a.fragments) > 20 else "")
                self._reverify_pending.append(a)
        return banned

    def take_reverify(self) -> list[Reverify]:
        """Re-verification requests since the last call (the hub reopens the fragments)."""
        out, self._reverify_pending = self._reverify_pending, []
        return out

    def flush(self) -> None:
        self.ledger.put_records(self.book.take_dirty())
        self.ledger.flush()

    def sellers(self, limit: int = 200) -> list[dict]:
        """For ``status()``: every worker key with a strike or a ban first, then the most
        recently seen, at most ``limit``: key, tier, verified, strikes, banned, reason."""
        recs = sorted(self.book.records(),
                      key=lambda r: (not (r.banned or r.strikes_total), -r.first_seen_s))
        return [{"key": r.key, "tier": self.book.tier(r.key).value, "verified": r.agreed,
                 "strikes": r.strikes_total, "banned": r.banned, "reason": r.ban_reason}
                for r in recs[:limit]]

    def reputation(self, worker_key: str) -> dict:
        """For ``status()``: tier, verified results, strikes, banned."""
        if not worker_key or worker_key.startswith("session:"):
            return {"tier": "unknown"}
        return self.book.summary(worker_key)
