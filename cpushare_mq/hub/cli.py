"""``cpushare-hub``: run a hub from the command line."""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys

from ..cliopts import add_globals, add_version, parse_command_line
from ..errors import CpushareError
from ..log import setup_logging

log = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  # a hub that sellers on the network connect to (CURVE-encrypted, signed results);
  # give sellers the public key it prints (also in hub.keys/hub.pub)
  cpushare-hub serve --db hub.db --bind tcp://0.0.0.0:5555

  # only admit the sellers listed (one worker key per line, from their worker.pub)
  cpushare-hub serve --db hub.db --bind tcp://0.0.0.0:5555 --allow-workers sellers.txt

  # a hub for workers on this machine only, plain TCP on loopback
  cpushare-hub serve --db hub.db --bind tcp://127.0.0.1:5555 --insecure

  # a lab of 1,000 sellers behind one NAT address, all joining after a restart
  cpushare-hub serve --db hub.db --bind tcp://0.0.0.0:5555 --join-rate-per-s 200

  # with the live web dashboard on this machine (URL + token in hub.db.web)
  cpushare-hub serve --db hub.db --web 127.0.0.1:8080

  # buyer API on TCP instead (clients need the token the hub writes to hub.db.api-token:
  # cpushare status --api tcp://127.0.0.1:5556 --api-token hub.db.api-token),
  # faster failure detection, JSON logs
  cpushare-hub serve --db hub.db --api tcp://127.0.0.1:5556 \\
      --heartbeat-interval-s 0.25 --liveness 4 --json-log --insecure

The database holds jobs, fragments, leases and results; restarting the hub on the same
--db (even after kill -9) resumes every job. Without --insecure the worker socket uses CURVE
(keys in --keys-dir, default DB's name + .keys/) and workers must sign their results;
--insecure is plain TCP with no authentication: use it on trusted networks only.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cpushare-hub", description="Run a cpushare-mq hub: schedules buyers' jobs on "
        "sellers' workers over ZeroMQ and keeps everything in SQLite.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_version(p)
    add_globals(p, suppress=False, quiet_help="warnings and errors only")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("serve", help="run the hub until SIGINT/SIGTERM", epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_globals(s, suppress=True, quiet_help="warnings and errors only")
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
    s.add_argument("--tie-break-wait-s", type=float, default=60.0, metavar="S",
                   help="redundant copies that disagree, and no connected worker left that has "
                        "not run the fragment: how long to wait for one before the fragment "
                        "ends 'disagreed' (default %(default)s)")
    s.add_argument("--join-rate-per-s", type=float, default=10.0, metavar="N",
                   help="HELLOs and CURVE handshakes a second from one network address, "
                        "after 10 s worth at once (default 10: 100 at once, then 10 a "
                        "second); raise it for many sellers behind one NAT address")
    s.add_argument("--durability", choices=["FULL", "NORMAL"], default="FULL",
                   help="SQLite synchronous mode: FULL survives power loss, NORMAL only "
                        "process crashes (default %(default)s)")
    s.add_argument("--insecure", action="store_true",
                   help="plain TCP on the worker socket: no encryption, no worker keys")
    s.add_argument("--keys", "--keys-dir", dest="keys_dir", metavar="DIR",
                   help="the hub's CURVE keys and ban list (default: hub.db -> hub.keys/, "
                        "created on first start)")
    s.add_argument("--allow-workers", metavar="FILE",
                   help="admit only the worker keys listed in FILE (one per line)")
    s.add_argument("--web", metavar="HOST:PORT",
                   help="serve the read-only dashboard here (e.g. 127.0.0.1:8080; port 0 = any); "
                        "its URL with the secret token goes to the log and to DB.web (0600)")
    s.add_argument("--keep-days", type=float, default=7.0, metavar="DAYS",
                   help="keep an ended job's fragments and results this many days after it "
                        "ended, then purge them (default %(default)s; 0 = at once; "
                        "'cpushare purge JOB' purges one now)")
    from ..market.hubopts import add_hub_options

    add_hub_options(s)
    k = sub.add_parser("keygen", help="make the hub's CURVE key pair (hub.key 0600, hub.pub)",
                       epilog="example:\n  cpushare-hub keygen --keys hub.keys\n"
                              "  cpushare-hub serve --db hub.db --keys hub.keys",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    k.add_argument("--keys", "--keys-dir", "--out", dest="keys", required=True, metavar="DIR",
                   help="directory for hub.key and hub.pub (the same DIR as 'serve --keys')")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_command_line(parser, "cpushare-hub", argv)
    if args.command == "keygen":
        return keygen(args.keys)
    if args.command != "serve":
        parser.print_help()
        return 2
    setup_logging(-1 if args.quiet else args.verbose, args.json_log)
    if args.insecure and (args.allow_workers or args.keys_dir):
        parser.error("--allow-workers and --keys-dir need a secure hub: drop --insecure")
    from .server import Hub, HubConfig
    try:
        config = HubConfig(heartbeat_interval_s=args.heartbeat_interval_s, liveness=args.liveness,
                           reconnect_grace_s=args.reconnect_grace_s,
                           pause_grace_s=args.pause_grace_s,
                           tie_break_wait_s=args.tie_break_wait_s,
                           join_rate_per_s=args.join_rate_per_s)
        hub = Hub(args.db, args.bind, api=args.api, config=config, insecure=args.insecure,
                  durability=args.durability, allow_workers=args.allow_workers,
                  keys_dir=args.keys_dir, web=args.web, keep_days=args.keep_days)
        from ..market.hubopts import from_hub_args

        publisher = from_hub_args(hub, args)
        from ..market.hubopts import attach_ledger

        attach_ledger(hub, args)
    except CpushareError as exc:
        print(f"cpushare-hub: {exc}", file=sys.stderr)
        return 2

    def on_signal(signum, _frame):
        log.info("received %s: shutting down", signal.Signals(signum).name)
        hub.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if args.insecure:
        log.warning("worker socket is plain TCP (--insecure): no encryption, no worker keys")
    if publisher is not None:
        publisher.start()
    try:
        hub.serve_forever()
    except CpushareError as exc:
        print(f"cpushare-hub: {exc}", file=sys.stderr)
        return 1
    finally:
        if publisher is not None:
            publisher.stop()
        hub.close()
    return 0


def keygen(out: str) -> int:
    setup_logging(-1)
    from ..trust.keys import write_hub_keys
    try:
        kp = write_hub_keys(out)
    except CpushareError as exc:
        print(f"cpushare-hub: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}/hub.key (keep private) and {out}/hub.pub")
    print(f"hub public key (quoted for the shell): {shlex.quote(kp.public.decode())}")
    print(f"workers: cpushare-worker --hub tcp://THIS_HOST:5555 --hub-key {shlex.quote(out + '/hub.pub')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
