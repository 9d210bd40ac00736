"""The receipts a hub's ledger stored and has not signed yet (pure core).

The hub issues each turn's receipts once it committed the results they pay for, and signs
and stores them every so often (market/payout.py: ``SIGN_INTERVAL_S``). In between they
wait here as the rows they will be sent as (:data:`~.receiptbatch.ROW_FIELDS`), grouped by
worker key and job in issue order: the groups :func:`~.receiptbatch.sign_groups` signs.
Rows are plain tuples of strings and integers, which the garbage collector stops tracking
(a hub makes one for every paid result and keeps it for a quarter of a second).
"""

from __future__ import annotations

from decimal import Decimal

from .money import amount_decimal
from .receipts import ROW_AMOUNT, ROW_FID, ROW_JOB

__all__ = ["Unsigned"]



class Unsigned:
    """Rows by ``(worker key, job)``, in issue order, and the fragments they pay."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], list[tuple]] = {}
        self._fids: set[int] = set()
        self._fresh: list[tuple[str, tuple]] = []     # added since take_fresh()

    def __len__(self) -> int:
        return len(self._fids)

    def __contains__(self, fragment_id: int) -> bool:
        return fragment_id in self._fids

    def add_earlier(self, entries: list[tuple[str, tuple]]) -> None:
        """``(worker key, row)`` pairs issued before this hub started (an older hub's stored
        turns), in issue order: to sign, not fresh (budgets count them already)."""
        for key, row in entries:
            self._add(key, row)

    def add_one(self, key: str, row: tuple) -> None:
        """One receipt issued now, as its worker key and row (its fragment not in yet)."""
        self._add(key, row)
        self._fresh.append((key, row))

    def _add(self, key: str, row: tuple) -> None:
        group = self._groups.get((key, row[ROW_JOB]))
        if group is None:
            group = self._groups[key, row[ROW_JOB]] = []
        group.append(row)
        self._fids.add(row[ROW_FID])

    def take_fresh(self) -> list[tuple[str, tuple]]:
        """The ``(worker key, row)`` pairs added since the last call, in issue order."""
        fresh, self._fresh = self._fresh, []
        return fresh

    def groups(self) -> list[tuple[str, list[tuple]]]:
        """``(worker key, rows)`` of each worker and job, to sign (:meth:`clear` once kept)."""
        return [(key, rows) for (key, _), rows in self._groups.items()]

    def clear(self) -> None:
        self._groups, self._fids, self._fresh = {}, set(), []

    def amount(self, job_id: str) -> Decimal:
        """What ``job_id``'s rows here add up to (exact)."""
        return sum((amount_decimal(row[ROW_AMOUNT]) for (_, job), rows in self._groups.items()
                    if job == job_id for row in rows), Decimal(0))
