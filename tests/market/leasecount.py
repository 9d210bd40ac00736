"""A stand-in for the hub's scheduler core where the payout only asks how many leases are
out (Payout.outgoing signs at once when none are), and the hub's payout over a real store."""

from __future__ import annotations

from types import SimpleNamespace

from cpushare_mq.hub.store import Store
from cpushare_mq.market.ledger import HubLedger
from cpushare_mq.market.payout import Payout


def leases(n: int) -> SimpleNamespace:
    return SimpleNamespace(leases_out=lambda: n)


def payout(db_path: str, price) -> Payout:
    """The hub's payout for the hub database ``db_path`` (its ledger beside it), as
    ``cpushare-hub serve`` makes it."""
    return Payout(HubLedger(db_path, price), Store(db_path))
