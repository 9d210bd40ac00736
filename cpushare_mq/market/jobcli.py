"""``cpushare job raise-budget JOB AMOUNT``: let a job that waits for budget go on."""

from __future__ import annotations

from typing import TextIO

EPILOG = """examples:
  cpushare job raise-budget j-3f2a... 1.5 --api hub.db.sock   # 1.5 more in the job's currency
  cpushare status                  # a job out of budget waits: "budget reached: ..."
AMOUNT is added to the budget given at 'cpushare submit --budget' (exact decimal).
"""


def add_parser(sub, make, add_api) -> None:
    p = make(sub, "job", "change a running job (raise-budget)", EPILOG)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    r = actions.add_parser("raise-budget", help="add AMOUNT to JOB's budget: a job that waits "
                           "for budget goes on", epilog=EPILOG,
                           formatter_class=p.formatter_class)
    r.add_argument("job", metavar="JOB")
    r.add_argument("amount", metavar="AMOUNT", help="how much to add, e.g. 1.5")
    add_api(r)


def cmd_job(args, stdout: TextIO) -> int:
    from ..client import Client

    with Client(args.api) as client:
        client.raise_budget(args.job, args.amount)
        p = client.progress(args.job)
    stdout.write(f"raised the budget of job {args.job} by {args.amount} ({p['done']} of "
                 f"{p['total']} done{'; waiting: ' + p['waiting'] if p['waiting'] else ''})\n")
    return 0
