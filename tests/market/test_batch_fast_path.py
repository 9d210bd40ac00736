"""The worker's fast check of a receipt batch (``CheckedBatch``, no ``Receipt`` per row; a
row differing from one checked before in its fragment id alone reuses that row's checked
fields) accepts and refuses exactly what the slow path (``ReceiptBatch.from_wire``, every
row through ``Receipt.checked``) does, with the same error. Hypothesis drives both with
batches a hostile hub could write."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import ProtocolError
from cpushare_mq.market.money import parse_price
from cpushare_mq.market.receiptbatch import CheckedBatch, ReceiptBatch, sign_batches
from cpushare_mq.market.receipts import (
    Receipt,
    leaf,
    leaf_around,
    leaf_at,
    merkle,
    merkle_root,
    walk,
)

KEY = Ed25519PrivateKey.generate()
HUB_KEY = KEY.public_key().public_bytes_raw().hex()

#: JSON values a hostile hub may put anywhere in a row: near misses of every field's rule
#: (bools and floats equal to integers, bounds, other spellings of one amount, long text)
wild = st.one_of(
    st.integers(-2, 3), st.sampled_from([2**63 - 1, 2**63, -(2**63), 10**30]), st.booleans(),
    st.sampled_from([0.0, 1.0, 10000.0, float("inf")]), st.none(),
    st.sampled_from(["", "j", "j2", "x" * 128, "x" * 129, "0.37", "0.370", "0.37 ", "1e3",
                     "EUR", "eur", "0.000001028", "0.0000010280", "0.000001029", "-0", "0"]),
    st.text(max_size=6), st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(0, 2), max_size=1))


def _valid_rows(draw) -> list[Receipt]:
    n = draw(st.integers(1, 8))
    jobs = draw(st.lists(st.sampled_from(["j", "j2", "job-ü"]), min_size=1, max_size=2))
    price = draw(st.sampled_from([parse_price("0.37 EUR"), parse_price("1000000 credits")]))
    return [Receipt.issue(HUB_KEY, draw(st.sampled_from(jobs)),
                          draw(st.integers(0, 2**63 - 1)), draw(st.integers(0, 1)), "KA",
                          draw(st.sampled_from([0, 10000, 2**40])), price,
                          draw(st.sampled_from([5, 6])))
            for _ in range(n)]


#: per field of a row, values next to the valid ones: the same number written otherwise,
#: bounds, a bool or float equal to an integer, a string of digits
NEAR = {0: ["", "j", "j2", "x" * 128, "x" * 129, 1],
        1: [-1, 0, 2**63 - 1, 2**63, True, False, 1.0, "1"],
        2: [-1, 0, 1, True, 1.0, 2**63, "1"],
        3: [0, 10000, 10000.0, True, -1, 2**63, "10000"],
        4: ["0.37", "0.370", "0.37 ", "1e3", 0.37, "0", "1000000", "1000000.1"],
        5: ["EUR", "eur", "", "x" * 129, 1],
        6: ["0", "0.0", "0.000001028", "0.0000010280", "0.000001029", "2.777777778", "2.7777777780", 0],
        7: [5, 6, -1, True, 5.0, 2**63]}


@st.composite
def hostile_wires(draw) -> dict:
    wire = sign_batches(_valid_rows(draw), KEY)[0].to_wire()
    rows = wire["rows"]
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["twin", "twin", "twin", "field", "shape", "envelope"]))
        i = draw(st.integers(0, len(rows) - 1))
        row = rows[i]
        if how == "envelope":
            name = draw(st.sampled_from(["hub_key", "worker_key", "signature", "proof"]))
            wire[name] = draw(st.one_of(wild, st.just("KB"), st.just("ab" * 32)))
        elif type(row) is not list or len(row) != 8:
            continue                # a row already made another shape
        elif how == "twin":         # after a row, one the same but for one field
            at = draw(st.integers(0, 7))
            twin = [*row]
            twin[at] = draw(st.one_of(st.sampled_from(NEAR[at]), wild))
            rows.insert(draw(st.integers(i + 1, len(rows))), twin)
        elif how == "field":        # any value in any field
            row[draw(st.integers(0, 7))] = draw(wild)
        else:
            rows[i] = draw(st.one_of(wild, st.just(row[:7]), st.just([*row, 0])))
    return json.loads(json.dumps(wire))     # as the worker decodes it


def _outcome(make, wire: dict):
    try:
        return make(wire)
    except ProtocolError as exc:
        return str(exc)


@settings(max_examples=600, deadline=None)
@given(hostile_wires())
def test_the_fast_batch_check_accepts_and_refuses_what_the_slow_one_does(wire):
    slow = _outcome(ReceiptBatch.from_wire, wire)
    fast = _outcome(CheckedBatch.from_wire, wire)
    if isinstance(slow, str):
        assert fast == slow                               # refused, with the same words
        return
    first = slow.receipts[0]
    assert (fast.hub_key, fast.worker_key) == (first.hub_key, first.worker_key)
    assert fast.fragment_ids == [r.fragment_id for r in slow.receipts]
    assert fast.leaves == [leaf(r) for r in slow.receipts]
    assert (fast.signature, fast.proof) == (slow.signature, slow.proof)
    assert fast.verify(KEY.public_key()) == slow.verify(KEY.public_key())


@st.composite
def twin_wires(draw) -> dict:
    """A valid batch, then a row the same as one of its rows but for one field: the rows
    the fast check takes without a Receipt when that field is the fragment id."""
    wire = sign_batches(_valid_rows(draw), KEY)[0].to_wire()
    rows = wire["rows"]
    at = draw(st.integers(0, 7))
    twin = [*draw(st.sampled_from(rows))]
    twin[at] = draw(st.one_of(st.sampled_from(NEAR[at]), wild))
    rows.append(twin)
    return json.loads(json.dumps(wire))


@settings(max_examples=400, deadline=None)
@given(twin_wires())
def test_a_row_like_one_checked_before_is_taken_as_the_slow_check_takes_it(wire):
    test_the_fast_batch_check_accepts_and_refuses_what_the_slow_one_does.hypothesis.inner_test(
        wire)


def test_an_untouched_batch_passes_both_and_verifies():
    wire = sign_batches([Receipt.issue(HUB_KEY, "j", fid, 0, "KA", 10000 * (fid % 2),
                                       parse_price("0.37 EUR"), 5) for fid in range(9)],
                        KEY)[0].to_wire()
    fast = CheckedBatch.from_wire(wire)
    assert fast.fragment_ids == list(range(9)) and fast.verify(KEY.public_key())
    assert not fast.verify(Ed25519PrivateKey.generate().public_key())


@settings(max_examples=200)
@given(st.data())
def test_a_leaf_made_around_a_fragment_id_is_the_receipts_own_leaf(data):
    """Both sides hash a batch's rows as the bytes around each fragment id (leaf_at): the
    leaf of the receipt itself, for every id."""
    r = _valid_rows(data.draw)[0]
    fid = data.draw(st.integers(-(10**30), 10**30) | st.integers(0, 2**63 - 1))
    assert leaf_at(leaf_around(r), fid) == leaf(r._replace(fragment_id=fid))


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=300))
def test_the_root_a_worker_checks_is_the_root_the_proofs_lead_to(leaves):
    """merkle_root (the verifier's, node() written out) is the root merkle() gives with the proofs
    kept in the ledger, for every number of leaves (odd levels too)."""
    root, proofs = merkle(leaves)
    assert merkle_root(leaves) == root
    assert all(walk(lf, p) == root for lf, p in zip(leaves, proofs, strict=True))
