"""The stored form of a turn's receipts (market/turns.py): every receipt comes back as it
was issued, and a damaged turn is refused, never half read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpushare_mq.errors import ProtocolError
from cpushare_mq.market.money import Price
from cpushare_mq.market.receiptbatch import wire_row
from cpushare_mq.market.receipts import Receipt
from cpushare_mq.market.turns import turn_receipts, turn_text

HUB = "ab" * 32
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                max_size=20)
prices = st.builds(Price, st.decimals(0, 10**6, places=9, allow_nan=False,
                                      allow_infinity=False), names)
receipt = st.builds(Receipt.issue, st.just(HUB), names, st.integers(0, 2**62), st.integers(0, 99),
                    names, st.integers(0, 7 * 86400 * 10**6), prices, st.integers(0, 2**40))


@given(st.lists(receipt, max_size=30))
def test_a_turn_comes_back_as_it_was_stored(receipts):
    assert turn_receipts(HUB, turn_text([(r.worker_key, wire_row(r)) for r in receipts])
                         ) == receipts


@pytest.mark.parametrize("text", [
    "", "[]", '{"keys": [], "jobs": [], "prices": []}',
    '{"keys": ["K"], "jobs": ["j"], "prices": [["1", "EUR"]], "rows": [[1, 0, 5, 9, 0, 0, 1]]}',
    '{"keys": ["K"], "jobs": ["j"], "prices": [["x", "EUR"]], "rows": [[1, 0, 5, 9, 0, 0, 0]]}',
    '{"keys": ["K"], "jobs": ["j"], "prices": [["1", "EUR"]], "rows": [[1, 0, -5, 9, 0, 0, 0]]}',
    '{"keys": [7], "jobs": ["j"], "prices": [["1", "EUR"]], "rows": [[1, 0, 5, 9, 0, 0, 0]]}',
])
def test_a_damaged_turn_is_refused_whole(text):
    with pytest.raises(ProtocolError):
        turn_receipts(HUB, text)


def test_a_sound_turn_reads():
    (r,) = turn_receipts(HUB, '{"keys": ["K"], "jobs": ["j"], "prices": [["1", "EUR"]], '
                              '"rows": [[1, 0, 3600000000, 9, 0, 0, 0]]}')
    assert (r.worker_key, r.job_id, r.amount_decimal) == ("K", "j", Decimal("1"))
