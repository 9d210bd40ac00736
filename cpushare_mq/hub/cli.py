"""``cpushare-hub``: run a hub from the command line."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from ..errors import CpushareError
from ..log import setup_logging

log = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  # a hub for workers on this machine only (plain TCP on loopback)
  cpushare-hub serve --db hub.db --bind tcp://127.0.0.1:5555 --insecure

  # a hub that sellers on the network connect to; buyers use the Unix socket hub.db.sock
  cpushare-hub serve --db hub.db --bind tcp://0.0.0.0:5555 --insecure

  # buyer API on TCP instead, faster failure detection, JSON logs
  cpushare-hub serve --db hub.db --api tcp://127.0.0.1:5556 \\
      --heartbeat-interval-s 0.25 --liveness 4 --json-log --insecure

The database holds jobs, fragments, leases and results; restarting the hub on the same
--db (even after kill -9) resumes every job. --insecure acknowledges that the worker socket
is plain TCP (encryption with CURVE is not implemented yet): it is required for now.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cpushare-hub", description="Run a cpushare-mq hub: schedules buyers' jobs on "
        "sellers' workers over ZeroMQ and keeps everything in SQLite.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("serve", help="run the hub until SIGINT/SIGTERM", epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--db", required=True, help="SQLite database file (created 0600 if missing)")
    s.add_argument("--bind", default="tcp://127.0.0.1:5555",
                   help="worker endpoint (default %(default)s; port 0 = any free port)")
    s.add_argument("--api", default=None,
                   help='buyer socket: a path, "unix:PATH" or tcp://127.0.0.1:PORT '
                        '(default DB.sock; "" = none)')
    s.add_argument("--heartbeat-interval-s", type=float, default=0.5, metavar="S",
                   help="heartbeat interval in seconds (default %(default)s)")
    s.add_argument("--liveness", type=int, default=3, metavar="N",
                   help="heartbeats a worker may miss before it is dead (default %(default)s)")
    s.add_argument("--reconnect-grace-s", type=float, default=10.0, metavar="S",
                   help="after a restart, how long leases wait for their worker (default %(default)s)")
    s.add_argument("--pause-grace-s", type=float, default=30.0, metavar="S",
                   help="how long a paused worker keeps its leases (default %(default)s)")
    s.add_argument("--durability", choices=["FULL", "NORMAL"], default="FULL",
                   help="SQLite synchronous mode: FULL survives power loss, NORMAL only "
                        "process crashes (default %(default)s)")
    s.add_argument("--insecure", action="store_true",
                   help="accept plain TCP on the worker socket (required until CURVE lands)")
    s.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v: debug)")
    s.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    s.add_argument("--json-log", action="store_true", help="one JSON object per log line")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "serve":
        parser.print_help()
        return 2
    setup_logging(-1 if args.quiet else args.verbose, args.json_log)
    if not args.insecure:
        parser.error("the worker socket is plain TCP for now: pass --insecure to acknowledge it")
    from .server import Hub, HubConfig
    try:
        config = HubConfig(heartbeat_interval_s=args.heartbeat_interval_s, liveness=args.liveness,
                           reconnect_grace_s=args.reconnect_grace_s,
                           pause_grace_s=args.pause_grace_s)
        hub = Hub(args.db, args.bind, api=args.api, config=config, insecure=True,
                  durability=args.durability)
    except CpushareError as exc:
        print(f"cpushare-hub: {exc}", file=sys.stderr)
        return 2

    def on_signal(signum, _frame):
        log.info("received %s: shutting down", signal.Signals(signum).name)
        hub.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        hub.serve_forever()
    except CpushareError as exc:
        print(f"cpushare-hub: {exc}", file=sys.stderr)
        return 1
    finally:
        hub.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
