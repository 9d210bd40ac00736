"""``cpushare-worker earnings``: the seller's list of the signed receipts its hubs sent, with
totals per hub (worker/earnings.py keeps them)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from ..errors import CpushareError

EPILOG = """examples:
  cpushare-worker earnings                         # every receipt, totals per hub
  cpushare-worker earnings --hub 5be0...  --json > paid.json
  cpushare-worker earnings --config-dir ~/w2 --csv
  cpushare ledger --verify paid.json --hub-key 5be0...   # check them offline
Totals are per hub receipt key and currency; --hub takes that key or the hub's CURVE key
(its --hub-key).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cpushare-worker earnings",
                                description="Receipts of the CPU time hubs paid this worker "
                                            "for, with totals per hub.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config-dir", metavar="DIR",
                   help="the worker's identity directory, where earnings.db lives (default: "
                        "the worker's --config-dir from its config file or environment, "
                        "else ~/.config/cpushare-worker)")
    p.add_argument("--hub", metavar="KEY",
                   help="only this hub's receipts (its receipt key, hex, or CURVE key)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the receipts as a JSON list")
    fmt.add_argument("--csv", action="store_true", help="print the receipts as CSV")
    return p


def main(argv: list[str], stdout: TextIO = sys.stdout, config_dir: str | None = None) -> int:
    """``config_dir``: the worker's own --config-dir default (its config file, environment)."""
    args = build_parser().parse_args(argv)
    from ..market.ledgercli import write_receipts
    from ..trust.keys import default_worker_config_dir
    from .earnings import read_earnings

    directory = args.config_dir or config_dir or default_worker_config_dir()
    try:
        hub = args.hub.strip() if args.hub else None
        if hub is not None and os.path.isfile(os.path.expanduser(hub)):
            from ..trust.keys import read_public_key  # a hub.pub file
            hub = read_public_key(os.path.expanduser(hub)).decode()
        rows = read_earnings(directory, hub)
    except CpushareError as exc:
        print(f"cpushare-worker earnings: {exc}", file=sys.stderr)
        return 2
    write_receipts([sr for _, sr in rows], args, stdout, "hub_key",
                   [] if args.hub is None else [f"--hub {args.hub}"])
    return 0
