"""A stand-in for the hub's scheduler core where the payout only asks how many leases are
out (Payout.outgoing signs at once when none are), the hub's payout over a real store, and
one turn's results accepted."""

from __future__ import annotations

from types import SimpleNamespace

from cpushare_mq.hub.scheduler.effects import Effects
from cpushare_mq.hub.store import Store
from cpushare_mq.market.ledger import HubLedger
from cpushare_mq.market.payout import Payout


def leases(n: int) -> SimpleNamespace:
    return SimpleNamespace(leases_out=lambda: n)


def payout(db_path: str, price) -> Payout:
    """The hub's payout for the hub database ``db_path`` (its ledger beside it), as
    ``cpushare-hub serve`` makes it."""
    return Payout(HubLedger(db_path, price), Store(db_path))


def accept(pay: Payout, key: str, *fids: int) -> None:
    """Copies counted (job ``j-1``, attempt 0, 2 s of CPU each) and their fragments accepted
    in one turn of the hub's loop."""
    for fid in fids:
        pay.on_copy("j-1", key, fid, 0, 2.0, 60.0)
    pay.settle(Effects(accepted=[(fid, "j-1", 0) for fid in fids]), 0)
