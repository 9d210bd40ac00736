"""``cpushare-hub serve``'s market options (``--market``, ``--market-key``, ``--price``,
``--advertise``): kept apart from :mod:`.publisher` so a hub without ``--market`` imports
nothing of it."""

from __future__ import annotations

from ..errors import ConfigError


def add_hub_options(s) -> None:
    """``cpushare-hub serve``'s market options."""
    s.add_argument("--market", metavar="tcp://HOST:PORT",
                   help="publish this hub's signed offer on this market (cpushare-market "
                        "serve) and renew it every few seconds; needs --price")
    s.add_argument("--market-key", metavar="KEY_OR_FILE",
                   help="the market's public CURVE key (printed by 'cpushare-market serve')")
    s.add_argument("--price", metavar="PRICE",
                   help="what this hub pays per CPU-hour, e.g. '0.05' or '0.05 EUR', for jobs "
                        "submitted without their own --price: it then signs a receipt for "
                        "every accepted result (hub.db.ledger) and its offer on --market "
                        "shows the price")
    s.add_argument("--advertise", metavar="tcp://HOST:PORT",
                   help="the worker endpoint the offer names (default: --bind, which must "
                        "then be a reachable address, not 0.0.0.0)")


def from_hub_args(hub, args):
    """The publisher for ``cpushare-hub serve``'s options (None without --market); raises
    :class:`ConfigError` with one line naming what to fix."""
    if not args.market:
        if args.market_key or args.advertise:
            raise ConfigError("--market-key and --advertise go with --market")
        return None
    if not args.market.startswith("tcp://"):
        raise ConfigError(f"--market {args.market!r} must look like tcp://HOST:PORT")
    if not args.market_key:
        raise ConfigError("--market needs --market-key (the key 'cpushare-market serve' printed)")
    if not args.price:
        raise ConfigError("--market needs --price: what this hub pays per CPU-hour, e.g. 0.05")
    from ..trust.keys import read_public_key
    from .money import parse_price
    from .publisher import Publisher, reachable_endpoint

    price = parse_price(args.price)
    reachable_endpoint(args.bind, args.advertise)      # refused now, not in the thread
    return Publisher(hub, args.market, read_public_key(args.market_key), price,
                     advertise=args.advertise)


def attach_ledger(hub, args) -> None:
    """Every ``cpushare-hub serve`` keeps a ledger (``hub.db.ledger``): the jobs' prices and
    budgets, and a signed receipt for each paid result. A job is paid at its own price
    (``cpushare submit --price``) or the hub's (``--price``, also ``price = "..."`` in the
    config file); a job with neither costs nothing and gets no receipts (a receipt costs the
    hub's loop an Ed25519 signature and an insert: bench/RESULTS.md, issue 19)."""
    from .ledger import HubLedger
    from .money import parse_price
    from .payout import Payout

    hub.payout = Payout(HubLedger(hub.db_path, parse_price(args.price) if args.price
                                  else None), hub.store)
