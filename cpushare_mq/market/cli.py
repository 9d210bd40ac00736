"""``cpushare-market``: a directory where hubs publish signed offers and workers find them."""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
from pathlib import Path

from ..cliopts import add_globals, add_version, parse_command_line
from ..errors import CpushareError
from ..log import setup_logging

log = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  # a market on the network (CURVE; give hubs and workers the public key it prints,
  # also in market.db.keys/hub.pub)
  cpushare-market serve --db market.db --bind tcp://0.0.0.0:5560

  # a hub publishes its offer there (price per CPU-hour, renewed every few seconds)
  cpushare-hub serve --db hub.db --bind tcp://0.0.0.0:5555 --advertise tcp://buyer.example:5555 \\
      --market tcp://market.example:5560 --market-key market.pub --price "0.05 credits"

  # a worker serves the hubs paying at least 0.02 per CPU-hour
  cpushare-worker --market tcp://market.example:5560 --market-key market.pub --min-price 0.02

The market only lists offers: it never sees a program, a fragment or a result. An offer
expires when its hub stops renewing it; the offers survive a restart of the market (--db).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cpushare-market", description="Run a cpushare market: hubs publish signed "
        "offers (endpoint, key, price, work waiting), workers find hubs there.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_version(p)
    add_globals(p, suppress=False, quiet_help="warnings and errors only")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("serve", help="run the market until SIGINT/SIGTERM", epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_globals(s, suppress=True, quiet_help="warnings and errors only")
    s.add_argument("--db", required=True, help="SQLite file for the offers (created 0600)")
    s.add_argument("--bind", default="tcp://127.0.0.1:5560",
                   help="where hubs and workers connect (default %(default)s; port 0 = any)")
    s.add_argument("--keys", metavar="DIR",
                   help="the market's CURVE key pair (default: DB's name + .keys/, created on "
                        "first start; same files as a hub's: hub.key, hub.pub)")
    s.add_argument("--insecure", action="store_true",
                   help="plain TCP: no encryption, and no offers can be published (a hub "
                        "proves its key only over CURVE); for listing tests on a LAN")
    k = sub.add_parser("keygen", help="make the market's CURVE key pair",
                       epilog="example:\n  cpushare-market keygen --keys market.keys",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    k.add_argument("--keys", required=True, metavar="DIR", help="directory for the key pair")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_command_line(parser, "cpushare-market", argv)
    setup_logging(-1 if args.quiet else args.verbose, args.json_log)
    from ..trust.keys import ensure_hub_keys, write_hub_keys

    if args.command == "keygen":
        try:
            kp = write_hub_keys(args.keys)
        except CpushareError as exc:
            print(f"cpushare-market: {exc}", file=sys.stderr)
            return 1
        print(f"market public key (quoted for the shell): {shlex.quote(kp.public.decode())}")
        return 0
    if args.command != "serve":
        parser.print_help()
        return 2
    from .server import MarketServer

    try:
        keypair = None
        if not args.insecure:
            keypair, _ = ensure_hub_keys(Path(args.keys or f"{args.db}.keys"))
        server = MarketServer(args.db, args.bind, keypair=keypair).start()
    except CpushareError as exc:
        print(f"cpushare-market: {exc}", file=sys.stderr)
        return 2

    def on_signal(signum, _frame):
        server.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if keypair is not None:
        print(f"market on {server.endpoint}; its public key (quoted for the shell): "
              f"{shlex.quote(keypair.public.decode())}", file=sys.stderr, flush=True)
    else:
        log.warning("market socket is plain TCP (--insecure): hubs cannot publish offers")
    try:
        server.serve_forever()
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
