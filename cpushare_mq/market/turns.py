"""A turn's receipts as the hub's ledger stores them until they are signed (pure).

The hub stores the receipts each turn of its loop issues before it commits the results they
pay for (market/ledger.py, table ``turns``: one row a turn). A turn's receipts share a few
worker keys, jobs and prices, so the row names each once::

    {"keys": [KEY, ...], "jobs": [JOB, ...], "prices": [[PRICE, CURRENCY], ...],
     "rows": [[fragment_id, attempt, cpu_us, issued_s, key#, job#, price#], ...]}

and each receipt's amount follows from its price and CPU time (money.amount_text), as when
it was issued. :func:`turn_receipts` validates every receipt it rebuilds (it is read only at
the start of a hub killed before it signed them).
"""

from __future__ import annotations

import json

from ..errors import ConfigError, ProtocolError
from .money import amount_text
from .receipts import Receipt

__all__ = ["turn_receipts", "turn_text"]


def turn_text(entries: list[tuple[str, tuple]]) -> str:
    """The stored form of a turn's receipts: ``(worker key, row)`` pairs, each row as a
    batch carries it (:data:`~.receiptbatch.ROW_FIELDS`), all of one hub."""
    keys: dict[str, int] = {}
    jobs: dict[str, int] = {}
    prices: dict[tuple[str, str], int] = {}
    rows = [(fid, attempt, cpu_us, issued_s, keys.setdefault(key, len(keys)),
             jobs.setdefault(job_id, len(jobs)), prices.setdefault((price, currency), len(prices)))
            for key, (job_id, fid, attempt, cpu_us, price, currency, _, issued_s) in entries]
    return json.dumps({"keys": list(keys), "jobs": list(jobs), "prices": list(prices),
                       "rows": rows}, separators=(",", ":"))


def turn_receipts(hub_key: str, text: str) -> list[Receipt]:
    """The receipts of a stored turn, each validated; raises :class:`ProtocolError` naming
    what is wrong with a damaged one."""
    try:
        d = json.loads(text)
        keys, jobs, prices = d["keys"], d["jobs"], d["prices"]
        out = []
        for fid, attempt, cpu_us, issued_s, k, j, p in d["rows"]:
            price, currency = prices[p]
            out.append(Receipt.checked(hub_key, jobs[j], fid, attempt, keys[k], cpu_us, price,
                                       currency, _amount(price, cpu_us), issued_s))
        return out
    except (ValueError, TypeError, LookupError) as exc:
        raise ProtocolError(f"not a stored turn: {exc!r}") from None


def _amount(price: object, cpu_us: object) -> object:
    """The amount the receipt was issued with (a bad field: left for Receipt.checked)."""
    if type(price) is str and type(cpu_us) is int:
        try:
            return amount_text(price, cpu_us)
        except (ArithmeticError, ValueError, ConfigError):    # damaged: checked names it
            return ""
    return ""
