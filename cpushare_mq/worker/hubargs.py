"""``cpushare-worker``'s options for serving several hubs and finding them on a market:
``--hub``/``--hub-key`` pairs, ``--min-price``, ``--market``/``--market-key``."""

from __future__ import annotations

import argparse
from decimal import Decimal

from ..errors import ConfigError


def _price(text: str):
    from ..market.money import parse_price

    try:
        return parse_price(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_market_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--min-price", type=_price, default=None, metavar="PRICE",
                   help="the least this seller takes per CPU-hour, e.g. '0.02' or '0.02 EUR' "
                        "(default: any price); a hub's price comes from its offer on the "
                        "--market, a hub without one counts as price 0")
    p.add_argument("--market", metavar="tcp://HOST:PORT",
                   help="a market (cpushare-market serve) to find hubs on: the worker "
                        "serves the hubs whose offers pay at least --min-price")
    p.add_argument("--market-key", metavar="KEY_OR_FILE",
                   help="the market's public CURVE key (printed by 'cpushare-market serve', "
                        "also in its market.keys/market.pub)")


def pair_hubs(args: argparse.Namespace, is_local) -> list[tuple[str, str | None]]:
    """``(endpoint, hub key text or None)`` for each ``--hub``, in order; raises
    :class:`ConfigError` with one line naming what to fix."""
    hubs = list(args.hub or [])
    keys = list(args.hub_key or [])
    if not hubs and not args.market:
        raise ConfigError("--hub is required (or --market, or --self-test)")
    if keys and len(keys) != len(hubs):
        raise ConfigError(f"give one --hub-key per --hub, in the same order: got {len(hubs)} "
                          f"hubs and {len(keys)} keys")
    if len(set(hubs)) != len(hubs):
        raise ConfigError("the same --hub is given twice")
    pairs = list(zip(hubs, keys or [None] * len(hubs), strict=True))
    for endpoint, key in pairs:
        if key is None and not args.insecure and not is_local(endpoint):
            raise ConfigError(f"the link to {endpoint} would be plain TCP: pass the hub's "
                              "public key with --hub-key, or --insecure to accept an "
                              "unencrypted link")
    if args.market and args.market_key is None and not args.insecure \
            and not is_local(args.market):
        raise ConfigError(f"the link to the market {args.market} would be plain TCP: pass "
                          "its public key with --market-key, or --insecure")
    if args.min_price is not None and args.min_price.per_cpu_hour > 0 and not args.market:
        raise ConfigError("--min-price needs --market: hubs' prices come from their offers "
                          "there (a hub without an offer counts as price 0)")
    return pairs


def multi_hub_worker(args: argparse.Namespace, cfg, hubs: list[tuple[str, str | None]],
                     trust):
    """The :class:`~.multihub.MultiHubWorker` for these options (with its market
    subscriber when ``--market`` is given)."""
    from ..trust.keys import read_public_key
    from .multihub import MultiHubWorker
    from .slots import default_sandbox_factory

    pairs = [(endpoint, read_public_key(key) if key else None) for endpoint, key in hubs]
    min_price = args.min_price.per_cpu_hour if args.min_price is not None else Decimal(0)
    worker = MultiHubWorker(cfg, pairs, trust=trust, sandbox_factory=default_sandbox_factory,
                            min_price=min_price, allow_empty=bool(args.market),
                            cache_share=max(len(pairs), 4 if args.market else 1))
    if args.market:
        from .marketlink import MarketLink

        worker.market = MarketLink(worker, args.market, args.market_key, trust,
                                   currency=(args.min_price.currency if args.min_price
                                             else None), min_price=min_price)
    return worker
