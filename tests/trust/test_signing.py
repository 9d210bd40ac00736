"""Result signatures: what a worker signs verifies; any tampering is detected."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpushare_mq.outcome import Outcome
from cpushare_mq.trust.errors import BadSignature
from cpushare_mq.trust.keys import WorkerIdentity, parse_worker_key
from cpushare_mq.trust.signing import ResultSigner, canonical_result_bytes, verify_result

IDENT = WorkerIdentity.generate()
SIGNER = ResultSigner(IDENT.signing_key)
PUB = parse_worker_key(IDENT.worker_key).sign_public
SHA = hashlib.sha256(b"a tile of pixels").hexdigest()


def test_signature_verifies():
    sig = SIGNER.sign(17, 2, SHA, Outcome.OK)
    assert len(sig) == 128
    verify_result(PUB, sig, 17, 2, SHA, Outcome.OK)
    verify_result(PUB, sig, 17, 2, SHA, "ok")


@pytest.mark.parametrize("field, value", [
    ("fragment_id", 18), ("attempt", 3), ("sha", hashlib.sha256(b"other").hexdigest()),
    ("outcome", Outcome.EXIT_CODE),
])
def test_tampering_with_any_field_is_detected(field, value):
    sig = SIGNER.sign(17, 2, SHA, Outcome.OK)
    args = {"fragment_id": 17, "attempt": 2, "sha": SHA, "outcome": Outcome.OK}
    args[field] = value
    with pytest.raises(BadSignature, match="does not verify"):
        verify_result(PUB, sig, args["fragment_id"], args["attempt"], args["sha"], args["outcome"])


def test_flipped_signature_bit_and_other_key_are_detected():
    sig = SIGNER.sign(5, 0, SHA)
    flipped = f"{int(sig[0], 16) ^ 1:x}" + sig[1:]
    with pytest.raises(BadSignature):
        verify_result(PUB, flipped, 5, 0, SHA)
    other = WorkerIdentity.generate().sign_public
    with pytest.raises(BadSignature):
        verify_result(other, sig, 5, 0, SHA)


def test_unsigned_and_malformed_signatures_are_refused():
    with pytest.raises(BadSignature, match="not signed"):
        verify_result(PUB, "", 1, 0, SHA)
    with pytest.raises(BadSignature, match="128"):
        verify_result(PUB, "zz" * 64, 1, 0, SHA)


def test_canonical_bytes_are_unambiguous():
    a = canonical_result_bytes(1, 23, SHA, "ok")
    b = canonical_result_bytes(12, 3, SHA, "ok")
    assert a != b and len(a) == len(b)
    with pytest.raises(BadSignature):
        canonical_result_bytes(-1, 0, SHA, "ok")
    with pytest.raises(BadSignature):
        canonical_result_bytes(1, 0, SHA.upper(), "ok")
    with pytest.raises(BadSignature):
        canonical_result_bytes(1, 0, SHA, "made_up")


@given(sig=st.text(max_size=300), fid=st.integers(-5, 2**64 + 5), attempt=st.integers(-5, 2**32 + 5),
       sha=st.text(max_size=70), outcome=st.text(max_size=20), pub=st.binary(max_size=40))
def test_hostile_inputs_only_raise_bad_signature(sig, fid, attempt, sha, outcome, pub):
    with pytest.raises(BadSignature):
        verify_result(pub, sig, fid, attempt, sha, outcome)


@given(fid=st.integers(0, 2**64 - 1), attempt=st.integers(0, 2**32 - 1), data=st.binary(max_size=64),
       outcome=st.sampled_from(list(Outcome)))
def test_sign_verify_round_trip(fid, attempt, data, outcome):
    sha = hashlib.sha256(data).hexdigest()
    verify_result(PUB, SIGNER.sign(fid, attempt, sha, outcome), fid, attempt, sha, outcome)


def test_failure_reports_sign_the_empty_digest_and_cannot_pass_for_a_result():
    from cpushare_mq.outcome import OutcomeRecord
    from cpushare_mq.trust.signing import EMPTY_SHA256
    from cpushare_mq.trust.workerside import WorkerTrust
    assert EMPTY_SHA256 == hashlib.sha256(b"").hexdigest()
    wt = WorkerTrust(IDENT, None)
    body = {"fragment_id": 9, "attempt": 1,
            "outcome": OutcomeRecord(Outcome.FRAGMENT_ERROR, message="bad tile")}
    wt.sign_failure(body)
    verify_result(PUB, body["signature"], 9, 1, EMPTY_SHA256, Outcome.FRAGMENT_ERROR)
    with pytest.raises(BadSignature, match="does not verify"):     # not an (empty) ok result
        verify_result(PUB, body["signature"], 9, 1, EMPTY_SHA256, Outcome.OK)
    with pytest.raises(BadSignature, match="does not verify"):     # nor another failure
        verify_result(PUB, body["signature"], 9, 1, EMPTY_SHA256, Outcome.CRASH)
