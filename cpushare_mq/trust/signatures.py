"""Signed results on the hub: every result and failure report a keyed worker sends carries
a signature over its claim (fragment, attempt, sha256, outcome), or its RESULT_BATCH does.

A key's first :attr:`SignatureChecks.inline_signatures` results are verified before they are
accepted (a bad one is rejected); later ones are sampled (``verify_share``) and verified by a
background thread, off the hub's loop, and a bad one found there is a strike
(:meth:`SignatureChecks.take_bad`). Every signature is kept in the trust ledger as evidence,
which :meth:`SignatureChecks.evidence` verifies on demand.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..outcome import Outcome
from .errors import BadSignature, BadWorkerKey
from .keys import WorkerKey, parse_worker_key
from .ledger import TrustLedger
from .signing import (
    EMPTY_SHA256,
    SIGNATURE_HEX_CHARS,
    canonical_result_bytes,
    verify_batch,
    verify_batch_claim,
    verify_result,
)

__all__ = ["SignatureChecks", "SignedBatch", "BadSignatureFound"]

_SIG_HEX = re.compile(r"[0-9a-f]{128}")
#: parsed worker keys remembered at once (the cache is cleared when it grows past this)
MAX_PARSED_KEYS = 100_000


@dataclass(eq=False)
class SignedBatch:
    """A RESULT_BATCH whose one signature verified (:meth:`SignatureChecks.check_batch`): the
    claim bytes it covers, stored in the ledger once, when its first result is kept."""

    worker_key: str
    claim: bytes
    signature: str
    count: int
    ledger_id: int | None = None


@dataclass(frozen=True)
class BadSignatureFound:
    """A result accepted from an established key whose signature the background check
    then refused."""

    worker_key: str
    fragment_id: int
    attempt: int
    sha256: str
    why: str


class SignatureChecks:
    def __init__(self, ledger: TrustLedger, *, require_signatures: bool, async_verify: bool,
                 verify_share: float, seed: int | None):
        self.ledger = ledger
        self.require_signatures = require_signatures
        self.async_verify = async_verify
        self.inline_signatures = 20
        self.verify_share = verify_share      # of later signatures, checked in the background
        self.max_pending_verifications = 20_000
        self.stored_unverified = 0
        self.verified = 0
        self.verified_batches = 0
        self.rejected = 0
        self._rng = random.Random(None if seed is None else seed + 1)
        self._parsed: dict[str, WorkerKey] = {}
        self._sig_ok: dict[str, int] = {}     # key -> its signatures verified so far
        self._verify_q: queue.SimpleQueue = queue.SimpleQueue()
        self._bad: queue.SimpleQueue = queue.SimpleQueue()
        self._verifier: threading.Thread | None = None

    # -- keys -----------------------------------------------------------------------------
    def key(self, worker_key: str) -> WorkerKey:
        """The parsed ``worker_key`` (cached); raises BadWorkerKey."""
        k = self._parsed.get(worker_key)
        if k is None:
            k = parse_worker_key(worker_key)
            if len(self._parsed) > MAX_PARSED_KEYS:
                self._parsed.clear()
            self._parsed[worker_key] = k
        return k

    def parses(self, worker_key: str) -> bool:
        try:
            self.key(worker_key)
        except BadWorkerKey:
            return False
        return True

    # -- checks ---------------------------------------------------------------------------
    def check_failure(self, worker_key: str, fragment_id: int, attempt: int,
                      outcome: Outcome | str, signature: str) -> str:
        """"" if a FAILURE report's signature is acceptable (kept in the ledger as evidence),
        else why the report must be rejected. The claim is (fragment, attempt, sha256 of the
        empty output, outcome); failures are rare, so it is always verified at once."""
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
        if not self.require_signatures and (not signature or not self.parses(worker_key)):
            return None, ""       # insecure hub: unsigned results, or an opaque identity
        try:
            claim = verify_batch(self.key(worker_key).sign_public, signature, items)
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
            return "result from a worker without a key" if self.require_signatures else ""
        if not self.require_signatures and (not signature or not self.parses(worker_key)):
            return ""       # insecure hub: unsigned results, or an opaque identity string
        try:
            sign_public = self.key(worker_key).sign_public
            if not isinstance(signature, str) or not _SIG_HEX.fullmatch(signature):
                raise BadSignature("result is not signed" if not signature else
                                   f"signature must be {SIGNATURE_HEX_CHARS} lowercase hex digits")
            name = Outcome(outcome).value
            if inline or self._inline(worker_key):
                verify_result(sign_public, signature, fragment_id, attempt, sha256, name)
                self._sig_ok[worker_key] = self._sig_ok.get(worker_key, 0) + 1
                self.verified += 1
            elif self._rng.random() < self.verify_share:
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

    # -- off the hub's loop ---------------------------------------------------------------
    @property
    def verifying_in_background(self) -> bool:
        """The background verifier thread runs."""
        return self._verifier is not None

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
                self._bad.put(BadSignatureFound(key, fid, attempt, sha, str(exc)))

    def take_bad(self) -> list[BadSignatureFound]:
        """What the background verifier refused since the last call."""
        out = []
        while True:
            try:
                out.append(self._bad.get_nowait())
            except queue.Empty:
                self.rejected += len(out)
                return out

    def drain(self, timeout_s: float = 5.0) -> bool:
        """Wait until the background verifier has checked everything queued (tests)."""
        deadline = time.monotonic() + timeout_s
        while self._verify_q.qsize() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.01)
        return not self._verify_q.qsize()

    def stop(self) -> None:
        """Stop the background verifier (what it had queued is checked first)."""
        if self._verifier is not None:
            self._verify_q.put(None)
            self._verifier.join(10)
            self._verifier = None

    # -- evidence -------------------------------------------------------------------------
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
            pub = self.key(row["worker_key"]).sign_public
            if row["batch_id"] is None:
                verify_result(pub, row["signature"], fragment_id, attempt, row["sha256"],
                              row["outcome"])
            else:
                self._verify_batch_evidence(pub, row, fragment_id, attempt)
            row["valid"] = True
        except (BadSignature, BadWorkerKey) as exc:
            row["valid"] = False
            row["why"] = str(exc)
        return row

    def _verify_batch_evidence(self, pub, row: dict, fragment_id: int, attempt: int) -> None:
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
