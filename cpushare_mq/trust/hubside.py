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

Nothing here touches the hub's scheduler or store.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import zmq

from ..outcome import Outcome
from ..protocol import Feature
from .errors import BadSignature, BadWorkerKey
from .keys import CurveKeyPair, WorkerKey, ensure_hub_keys, parse_worker_key
from .ledger import TrustLedger
from .ratelimit import RateLimiter
from .reputation import Banned, ReputationBook, Reverify, Struck, TrustPolicy
from .signing import (
    EMPTY_SHA256,
    SIGNATURE_HEX_CHARS,
    canonical_result_bytes,
    verify_batch,
    verify_batch_claim,
    verify_result,
)
from .zap import KeyPolicy, ZapHandler, default_ban_file, make_curve_server, read_key_list

log = logging.getLogger(__name__)

__all__ = ["HubTrust", "SignedBatch", "default_keys_dir"]

_SIG_HEX = re.compile(r"[0-9a-f]{128}")


@dataclass(eq=False)
class SignedBatch:
    """A RESULT_BATCH whose one signature verified (:meth:`HubTrust.check_batch`): the claim
    bytes it covers, stored in the ledger once, when its first result is kept."""

    worker_key: str
    claim: bytes
    signature: str
    count: int
    ledger_id: int | None = None


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
                 seed: int | None = None):
        self.insecure = insecure
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
        # all messages of a peer (generous: a fast worker sends tens of thousands a second),
        # and heartbeats on their own (a worker needs about 2 a second)
        self.limiter = RateLimiter(rate_per_s, burst)
        self.heartbeat_limiter = RateLimiter(heartbeat_rate_per_s, heartbeat_burst)
        self._parsed: dict[str, WorkerKey] = {}
        self._refusals_logged: set[tuple[str, str]] = set()
        self._notices: dict[bytes, float] = {}
        # recently decided votes: fragment -> (winning sha256, keys compared), to judge
        # results that arrive after the vote
        self._verdicts: OrderedDict[int, tuple[str, set[str]]] = OrderedDict()
        self.max_remembered_verdicts = 100_000
        self._banned_pending: list[str] = []
        self._reverify_pending: list[Reverify] = []
        # signatures: a key's first `inline_signatures` results are verified before they are
        # accepted (a bad one is rejected); later ones by a background thread, off the loop
        # (a bad one is then a strike)
        self.async_verify = async_verify
        self.inline_signatures = 20
        self.verify_share = verify_share      # of later signatures, checked in the background
        self.stored_unverified = 0
        self._sig_rng = random.Random(None if seed is None else seed + 1)
        self.max_pending_verifications = 20_000
        self._sig_ok: dict[str, int] = {}
        self._verify_q: queue.SimpleQueue = queue.SimpleQueue()
        self._bad_signatures: queue.SimpleQueue = queue.SimpleQueue()
        self._verifier: threading.Thread | None = None
        self.verified = 0
        self.verified_batches = 0
        self.rejected = 0

    @property
    def public_key(self) -> str | None:
        return self.keypair.public.decode() if self.keypair else None

    # -- socket -------------------------------------------------------------------------
    def secure_socket(self, ctx: zmq.Context, sock: zmq.Socket) -> None:
        """CURVE server + ZAP on ``sock`` (before bind); nothing when insecure."""
        if self.insecure or self.keypair is None:
            return
        self.zap = ZapHandler(ctx, self.policy).start()
        make_curve_server(sock, self.keypair)

    def close(self) -> None:
        """Stop the ZAP handler (before the context terminates) and the signature verifier,
        and flush the ledger."""
        if self.zap is not None:
            self.zap.stop()
            self.zap = None
        if self._verifier is not None:
            self._verify_q.put(None)
            self._verifier.join(10)
            self._verifier = None
            self._collect_bad_signatures(time.time())
        self.flush()

    def shutdown(self) -> None:
        self.close()
        self.ledger.close()

    # -- per message ----------------------------------------------------------------------
    def allow_message(self, peer: bytes, now_s: float, heartbeat: bool = False) -> bool:
        """Per-peer rate limits (all messages; heartbeats separately). Logs the first refusal
        of a peer and every 1000th after it."""
        lim = self.heartbeat_limiter if heartbeat else self.limiter
        if lim.allow(peer, now_s):
            return True
        n = lim.refused.get(peer, 0)
        if n == 1 or n % 1000 == 0:
            log.warning("peer %s sends more than %.0f %s/s: %d refused (rate_limited)",
                        peer.hex()[:16], lim.rate_per_s, "heartbeats" if heartbeat else "messages", n)
        return False

    def rate_limit_notice(self, peer: bytes, now_s: float) -> bool:
        """True at most once a second per peer: when to answer ``ERROR rate_limited``
        (the rest of a flood is dropped without a reply)."""
        last = self._notices.get(peer)
        if last is not None and now_s - last < 1.0:
            return False
        if len(self._notices) > 100_000:
            self._notices.clear()
        self._notices[peer] = now_s
        return True

    def _parses(self, worker_key: str) -> bool:
        try:
            self._key(worker_key)
        except BadWorkerKey:
            return False
        return True

    def _key(self, worker_key: str) -> WorkerKey:
        k = self._parsed.get(worker_key)
        if k is None:
            k = parse_worker_key(worker_key)
            if len(self._parsed) > 100_000:
                self._parsed.clear()
            self._parsed[worker_key] = k
        return k

    def check_hello(self, worker_key: str, features: Iterable[str] | None = None) -> str | None:
        """None if this worker may join, else the reason to refuse it (logged once per key
        and reason). ``features``: the HELLO's protocol features (None: not checked); a hub
        that requires signatures refuses a keyed worker that does not sign its FAILURE
        reports (an older cpushare-worker) with a message saying to upgrade."""
        why = self._hello_refusal(worker_key)
        if (why is None and features is not None and worker_key and self.require_signatures
                and Feature.SIGNED_FAILURES not in features):
            why = (f"this hub requires signed FAILURE reports (protocol feature "
                   f"{Feature.SIGNED_FAILURES!r}, which this worker does not announce): "
                   f"upgrade cpushare-worker")
        if why is not None and (worker_key, why) not in self._refusals_logged:
            if len(self._refusals_logged) > 10_000:
                self._refusals_logged.clear()
            self._refusals_logged.add((worker_key, why))
            log.warning("refused a worker (key %s): %s", worker_key[:16] or "none", why)
        return why

    def _hello_refusal(self, worker_key: str) -> str | None:
        if not worker_key:
            if self.require_signatures:
                return "this hub requires a worker key (HELLO.worker_key) and signed results"
            if not self.policy.allow_any:
                return "this hub only admits allow-listed worker keys"
            return None
        if self.book.is_banned(worker_key):
            return "this worker key is banned"
        try:
            key = self._key(worker_key)
        except BadWorkerKey as exc:
            if self.require_signatures or not self.policy.allow_any:
                return str(exc)
            return None     # insecure hub: any string is an (unauthenticated) identity
        ok, why = self.policy.admits(key.curve_public.decode())
        return None if ok else why

    def check_failure(self, worker_key: str, fragment_id: int, attempt: int,
                      outcome: Outcome | str, signature: str) -> str:
        """"" if a FAILURE report's signature is acceptable (kept in the ledger as evidence),
        else why the report must be rejected (the hub then treats the lease like a rejected
        result). The claim is (fragment, attempt, sha256 of the empty output, outcome);
        failures are rare, so the signature is always verified at once."""
        why = self.check_result(worker_key, fragment_id, attempt, EMPTY_SHA256, outcome,
                                signature, inline=True)
        return why.replace("result", "failure report") if why else ""

    def check_batch(self, worker_key: str, items: Sequence[tuple[int, int, str, Outcome | str]],
                    signature: str) -> tuple[SignedBatch | None, str]:
        """The one signature of a RESULT_BATCH over ``items`` ((fragment_id, attempt, sha256,
        outcome) of each item, in message order), verified now: it costs one verification
        for the whole batch, so there is no sampling. Returns ``(batch, "")`` when it
        verifies (pass ``batch`` to :meth:`check_result` for each item), ``(None, "")`` when
        the items are to be checked one by one (an unsigned batch on an insecure hub), or
        ``(None, why)``: every item of the batch must be rejected."""
        if not worker_key:
            return None, ("results from a worker without a key" if self.require_signatures
                          else "")
        if not self.require_signatures and (not signature or not self._parses(worker_key)):
            return None, ""       # insecure hub: unsigned results, or an opaque identity
        try:
            claim = verify_batch(self._key(worker_key).sign_public, signature, items)
        except (BadSignature, BadWorkerKey) as exc:
            self.rejected += len(items)
            return None, f"bad batch signature: {exc}"
        self._sig_ok[worker_key] = self._sig_ok.get(worker_key, 0) + len(items)
        self.verified += len(items)
        self.verified_batches += 1
        return SignedBatch(worker_key, claim, signature, len(items)), ""

    def check_result(self, worker_key: str, fragment_id: int, attempt: int, sha256: str,
                     outcome: Outcome | str, signature: str, *, inline: bool = False,
                     batch: SignedBatch | None = None) -> str:
        """"" if the result's signature is acceptable (then it is kept in the ledger), else
        why the result must be rejected. ``inline``: verify now, whatever the key's history.
        ``batch``: the result is an item of that verified batch (its own ``signature`` is
        ""); it is kept in the ledger as a reference to the batch's claim."""
        if batch is not None:
            return self._keep_batch_item(batch, worker_key, fragment_id, attempt, sha256, outcome)
        if not worker_key:
            if self.require_signatures:
                return "result from a worker without a key"
            return ""
        if not self.require_signatures and (not signature or not self._parses(worker_key)):
            return ""       # insecure hub: unsigned results, or an opaque identity string
        try:
            sign_public = self._key(worker_key).sign_public
            if not isinstance(signature, str) or not _SIG_HEX.fullmatch(signature):
                raise BadSignature("result is not signed" if not signature else
                                   f"signature must be {SIGNATURE_HEX_CHARS} lowercase hex digits")
            name = Outcome(outcome).value
            if inline or self._inline(worker_key):
                verify_result(sign_public, signature, fragment_id, attempt, sha256, name)
                self._sig_ok[worker_key] = self._sig_ok.get(worker_key, 0) + 1
                self.verified += 1
            elif self._sig_rng.random() < self.verify_share:
                self._verify_q.put((worker_key, sign_public, signature, fragment_id, attempt,
                                    sha256, name))
            else:
                self.stored_unverified += 1   # kept: verifiable later (evidence())
        except (BadSignature, BadWorkerKey, ValueError) as exc:
            self.rejected += 1
            return f"bad result signature: {exc}"
        self.ledger.add_signature(fragment_id, attempt, worker_key, sha256, name, signature)
        return ""

    def _keep_batch_item(self, batch: SignedBatch, worker_key: str, fragment_id: int,
                         attempt: int, sha256: str, outcome: Outcome | str) -> str:
        if worker_key != batch.worker_key:      # a bug of the caller, not the worker's
            return "result checked against another worker's batch"
        try:
            name = Outcome(outcome).value
        except ValueError:
            return f"bad result signature: unknown outcome {str(outcome)[:40]!r}"
        if batch.ledger_id is None:
            batch.ledger_id = self.ledger.add_batch(worker_key, batch.claim, batch.signature)
        self.ledger.add_signature(fragment_id, attempt, worker_key, sha256, name, "",
                                  batch_id=batch.ledger_id)
        return ""

    # -- signature verification off the hub's loop ----------------------------------------
    def _inline(self, worker_key: str) -> bool:
        """Verify now (and reject a bad signature) for a key's first results, or when the
        background verifier is behind; otherwise hand the check to the verifier thread."""
        if not self.async_verify or self._sig_ok.get(worker_key, 0) < self.inline_signatures:
            return True
        if self._verify_q.qsize() >= self.max_pending_verifications:
            return True
        if self._verifier is None:
            self._verifier = threading.Thread(target=self._verify_loop, name="signature-verifier",
                                              daemon=True)
            self._verifier.start()
        return False

    def _verify_loop(self) -> None:
        while True:
            item = self._verify_q.get()
            if item is None:
                return
            key, pub, sig, fid, attempt, sha, name = item
            try:
                verify_result(pub, sig, fid, attempt, sha, name)
                self.verified += 1
            except BadSignature as exc:
                self._bad_signatures.put((key, fid, attempt, sha, str(exc)))

    def evidence(self, fragment_id: int, attempt: int) -> dict | None:
        """The stored signed claim of one result, verified now: ``{"worker_key", "sha256",
        "outcome", "signature", "batch_id", "valid"}`` (None if no signature was kept).

        A result signed alone: its own signature over its claim. A result signed in a batch
        (``batch_id`` set; ``signature`` is then the batch's): the batch's signature must
        verify over the stored batch claim with the same worker's key, and that claim must
        contain exactly this result's claim (fragment, attempt, sha256, outcome). ``why``
        says what failed when ``valid`` is False."""
        self.ledger.flush()
        row = self.ledger.signature(fragment_id, attempt)
        if row is None:
            return None
        try:
            pub = self._key(row["worker_key"]).sign_public
            if row["batch_id"] is None:
                verify_result(pub, row["signature"], fragment_id, attempt, row["sha256"],
                              row["outcome"])
            else:
                batch = self.ledger.batch(row["batch_id"])
                if batch is None:
                    raise BadSignature(f"batch {row['batch_id']} is missing from the ledger")
                if batch["worker_key"] != row["worker_key"]:
                    raise BadSignature(f"batch {row['batch_id']} was signed by another key")
                row["signature"] = batch["signature"]
                items = verify_batch_claim(pub, batch["signature"], batch["claim"])
                mine = canonical_result_bytes(fragment_id, attempt, row["sha256"], row["outcome"])
                if not any(canonical_result_bytes(*it) == mine for it in items):
                    raise BadSignature(f"batch {row['batch_id']} does not claim this result")
            row["valid"] = True
        except (BadSignature, BadWorkerKey) as exc:
            row["valid"] = False
            row["why"] = str(exc)
        return row

    def drain_verifications(self, timeout_s: float = 5.0) -> bool:
        """Wait until the background verifier has checked everything queued (tests)."""
        deadline = time.monotonic() + timeout_s
        while self._verify_q.qsize() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.01)
        return not self._verify_q.qsize()

    def _collect_bad_signatures(self, now_s: float) -> None:
        """Results accepted from an established key whose signature then failed: a strike
        (the connection was authenticated by CURVE, so the key did send it)."""
        while True:
            try:
                key, fid, attempt, sha, why = self._bad_signatures.get_nowait()
            except queue.Empty:
                return
            self.rejected += 1
            log.warning("worker key %s sent a badly signed result (fragment %d attempt %d): %s",
                        key[:16], fid, attempt, why)
            self.ledger.add_strike(key, fid, sha, "bad-signature")
            self._banned_pending.extend(self._apply(self.book.on_verdict(fid, [], [key], now_s)))

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
        self._collect_bad_signatures(now_s)
        out, self._banned_pending = self._banned_pending, []
        return out

    def restore_unverified(self, rows) -> int:
        """Results of open jobs accepted without a check, as the store has them after a
        restart (see :meth:`cpushare_mq.hub.store.Store.unverified_results`): a worker caught
        later still gets them re-verified."""
        return self.book.restore_unverified(
            (key, fid, job) for key, fid, job in rows if self._parses(key))

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
