"""``cpushare ledger``: the buyer's list of the signed receipts its hub issued, with totals,
and the offline check of an exported list (``--verify FILE --hub-key KEY``)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import UTC
from decimal import Decimal
from typing import TextIO

from ..errors import ConfigError, ProtocolError
from ..printable import printable
from .money import decimal_text
from .receipts import FIELDS

EPILOG = """examples:
  cpushare ledger --db hub.db                       # every receipt, totals per worker
  cpushare ledger --db hub.db --job j-3f2a --json > receipts.json
  cpushare ledger --db hub.db --worker 9c1e... --since 2026-12-01 --csv
  cpushare ledger --verify receipts.json --hub-key 5be0...   # offline: exit 0 = all valid
The hub's receipt key (--hub-key) is printed on the first line of the table.
"""


def add_parser(sub, make) -> None:
    p = make(sub, "ledger", "signed receipts of the CPU time the hub paid for, with totals",
             EPILOG)
    p.add_argument("--db", metavar="FILE", help="the hub's database ('cpushare-hub serve --db "
                   "FILE'); its ledger is FILE.ledger")
    p.add_argument("--job", metavar="J", help="only this job's receipts")
    p.add_argument("--worker", metavar="KEY", help="only receipts paid to this worker key")
    p.add_argument("--since", metavar="T", help="only receipts issued at or after T "
                   "(YYYY-MM-DD, ISO time or seconds since the epoch)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the receipts as a JSON list")
    fmt.add_argument("--csv", action="store_true", help="print the receipts as CSV")
    p.add_argument("--verify", metavar="FILE", help="check a 'cpushare ledger --json' file's "
                   "signatures offline (needs --hub-key)")
    p.add_argument("--hub-key", metavar="HEX", help="the hub's receipt key for --verify")


def parse_since(text: str | None) -> int | None:
    if text is None:
        return None
    from datetime import datetime
    if text.isdigit():
        return int(text)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r}: expected YYYY-MM-DD, an ISO time or epoch "
                          "seconds") from None
    return int((t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp())


def totals(receipts, by: str = "worker_key") -> dict[tuple[str, str], dict]:
    """Per ``(by field, currency)``: receipts, CPU microseconds and the exact sum."""
    out: dict[str, dict] = defaultdict(lambda: {"receipts": 0, "cpu_us": 0,
                                                "amount": Decimal(0)})
    for sr in receipts:
        r = sr.receipt
        t = out[getattr(r, by), r.currency]
        t["receipts"] += 1
        t["cpu_us"] += r.cpu_us
        t["amount"] += r.amount_decimal
    return dict(out)


def cmd_ledger(args, stdout: TextIO) -> int:
    from .ledger import read_receipts, verify_receipts

    if args.verify:
        if not args.hub_key:
            raise ConfigError("--verify needs --hub-key (the key 'cpushare ledger --db' prints)")
        try:
            with open(args.verify, encoding="utf-8") as f:
                items = json.load(f)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read receipts from {args.verify}: {exc}") from exc
        try:
            good = verify_receipts(items, args.hub_key.strip())
        except ProtocolError as exc:
            stdout.write(f"INVALID: {exc}\n")
            return 1
        stdout.write(f"OK: {len(good)} receipts, all signed by {args.hub_key.strip()}\n")
        return 0
    if not args.db:
        raise ConfigError("give --db FILE (the hub's database) or --verify FILE --hub-key KEY")
    key, receipts = read_receipts(args.db, job=args.job, worker=args.worker,
                                  since_s=parse_since(args.since))
    if not (args.json or args.csv):
        stdout.write(f"hub receipt key {key}\n")
    write_receipts(receipts, args, stdout, "worker_key",
                   [f"--{f} {v}" for f, v in (("job", args.job), ("worker", args.worker),
                                               ("since", args.since)) if v is not None])
    return 0


def write_receipts(receipts, args, stdout: TextIO, by: str, filters: list[str]) -> None:
    """``--json`` (a list ``--verify`` reads), ``--csv`` or a table with totals per ``by``
    field (``worker_key`` for the buyer's ledger, ``hub_key`` for a seller's earnings); the
    table says so when no receipt matched the ``filters`` given (the flags, as typed)."""
    if args.json:
        json.dump([sr.to_dict() for sr in receipts], stdout, indent=1)
        stdout.write("\n")
    elif args.csv:
        w = csv.writer(stdout)
        w.writerow([*FIELDS, "signature", "proof"])
        for sr in receipts:
            d = sr.to_dict()
            w.writerow([*(d[f] for f in (*FIELDS, "signature")), " ".join(sr.proof or ())])
    elif not receipts:
        stdout.write(f"no receipts match {printable(' '.join(filters))}\n" if filters
                     else "no receipts yet\n")
    else:
        label = by.split("_")[0]         # (a hub's texts, printed escaped: printable.py)
        for sr in receipts:
            r = sr.receipt
            stdout.write(f"{printable(r.job_id)} fragment {r.fragment_id} attempt {r.attempt} "
                         f"{label} {printable(getattr(r, by)[:16])} cpu {r.cpu_us / 1e6:.6f} s "
                         f"{r.amount} {printable(r.currency)}\n")
        for (name, currency), t in totals(receipts, by).items():
            stdout.write(f"total {label} {printable(name[:16])}: {t['receipts']} receipts, "
                         f"{t['cpu_us'] / 1e6:.6f} CPU s, {decimal_text(t['amount'])} "
                         f"{printable(currency)}\n")
