"""``cpushare``: the buyer's command line (submit a job, watch it, cancel it, fetch results)."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import TextIO

from .argtypes import positive_float
from .cliopts import (
    API_HELP,
    add_api_address,
    add_api_token,
    add_globals,
    add_version,
    output_closed,
    parse_command_line,
    parse_size,
)
from .errors import BuyerApiError, ConfigError, CpushareError
from .follow import (
    EXIT_CANCELLED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Follower,
    hints,
    verdict,
)
from .progressview import ProgressView as ProgressBar
from .statusview import format_status, visible_jobs

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  # one fragment per input file; results land in out/<input name>.out as they finish
  cpushare submit prog.elf tiles/*.bin --api /var/lib/cpushare/hub.db.sock --out out/
  export CPUSHARE_API=tcp://127.0.0.1:5600 CPUSHARE_API_TOKEN=/var/lib/cpushare/hub.db.api-token
  cpushare submit prog.elf a.in b.in --out out/ --shared scene.bin --redundancy 3 --quorum 2
  cpushare status              # jobs, workers, throughput
  cpushare status --json
  cpushare cancel JOB_ID
  cpushare purge JOB_ID        # remove an ended job's data now (else after --keep-days)
  cpushare results JOB_ID --out again/     # every result again: again/<input name>.out

The hub address is a Unix socket path (default of 'cpushare-hub serve': <database>.sock),
unix:PATH, or tcp://127.0.0.1:PORT; --api overrides $CPUSHARE_API. Over TCP the hub
admits only clients that present its token (--api-token FILE or $CPUSHARE_API_TOKEN; the hub
writes the file beside its database, <database>.api-token, readable by its user only).
  cpushare check prog.elf      # would the sandbox accept it? (submit checks too)

exit status (submit, results): 0 = every fragment succeeded, 1 = some failed or the hub
refused or stayed unreachable, 2 = bad command line or input (e.g. a program 'check' refuses),
3 = the job was cancelled, 130 = interrupted (the job keeps running on the hub; the command
that continues it is printed). cancel: 0 = cancelled, 3 = it had already ended.
check: 0 = accepted, 1 = refused. status: 0, or 1 when the hub cannot be reached.
Every option can also be set in ~/.config/cpushare/config.toml ([cpushare] table) or by a
CPUSHARE_<OPTION> environment variable (e.g. CPUSHARE_API, CPUSHARE_REDUNDANCY).
"""


def _sub(sub, name: str, help_: str, epilog: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_globals(p, suppress=True, quiet_help=QUIET_HELP)
    return p


def _add_api(p: argparse.ArgumentParser) -> None:
    add_api_address(p, API_HELP + " (default $CPUSHARE_API)")
    add_api_token(p)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="cpushare", description="Submit jobs to a cpushare hub and collect their results.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_version(ap)
    add_globals(ap, suppress=False, quiet_help=QUIET_HELP)
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return ap


def _submit_parser(sub) -> None:
    p = _sub(sub, "submit", "submit PROGRAM with one fragment per INPUT file and collect results",
             "examples:\n  cpushare submit prog.elf in/*.txt --api hub.db.sock --out out/\n"
             "  cpushare submit prog.elf in/* --out out/ --price '0.05 EUR' --budget 2\n")
    p.add_argument("program", metavar="PROGRAM", help="static x86-64 ELF to run on the sellers' machines")
    p.add_argument("inputs", metavar="INPUT", nargs="+", help="one fragment per file")
    _add_api(p)
    p.add_argument("--out", metavar="DIR", required=True, help="write each result to DIR/<input name>.out")
    p.add_argument("--shared", metavar="FILE", help="shared input given to every fragment")
    p.add_argument("--redundancy", metavar="K", type=int, default=1, help="run each fragment on K workers (default 1)")
    p.add_argument("--quorum", metavar="M", type=int, default=None, help="agreeing results needed (default majority of K)")
    p.add_argument("--cpu-s", metavar="S", type=float, default=60.0, help="CPU seconds per fragment (default 60)")
    p.add_argument("--wall-s", metavar="S", type=float, default=300.0, help="wall seconds per fragment (default 300)")
    p.add_argument("--max-attempts", metavar="N", type=int, default=5, help="tries per fragment (default 5)")
    p.add_argument("--priority", metavar="P", type=int, default=0, help="higher runs first (default 0)")
    p.add_argument("--name", metavar="N", default="", help="a name shown by 'cpushare status'")
    p.add_argument("--price", metavar="P", default=None,
                   help="pay P per CPU-hour, e.g. 0.05 or '0.05 EUR' (default: the hub's --price)")
    p.add_argument("--budget", metavar="B", default=None,
                   help="the most the job may cost, in its price's currency: leasing stops "
                        "before it could exceed B ('cpushare job raise-budget' goes on)")
    p.add_argument("--max-memory", metavar="SIZE", type=parse_size, default="1G",
                   help="memory the program may need, checked before sending (default 1G, the workers' default)")
    _add_reconnect(p)


def _status_parser(sub) -> None:
    p = _sub(sub, "status", "jobs with progress, workers with liveness, throughput",
             "examples:\n  cpushare status --api hub.db.sock\n  cpushare status --watch        # refresh in place\n"
             "  cpushare status --all          # also jobs ended over a day ago\n"
             "  cpushare status --json | jq .workers\n"
             "RUNNING n/m: fragments running / the worker's slots; QUEUED: fragments it holds ahead\n"
             "(prefetched). RATE and ETA: over the job's life so far.\n")
    _add_api(p)
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.add_argument("--all", action="store_true", help="also jobs that ended and were submitted over a day ago")
    p.add_argument("--watch", metavar="S", type=positive_float, nargs="?", const=2.0, default=None,
                   help="refresh every S seconds (default 2) until Ctrl-C")


def _cancel_parser(sub) -> None:
    p = _sub(sub, "cancel", "cancel a job", "example:\n  cpushare cancel j-3f2a... --api hub.db.sock\n"
             "exit status: 0 = cancelled, 3 = the job had already ended, 1 = unknown job or no hub\n")
    p.add_argument("job", metavar="JOB")
    _add_api(p)


def _purge_parser(sub) -> None:
    p = _sub(sub, "purge", "remove ended jobs' data (fragments, results) from the hub now",
             "examples:\n  cpushare purge j-3f2a... --api hub.db.sock\n"
             "  cpushare purge j-3f2a... j-77b1...\n"
             "The hub also purges every ended job by itself, 'cpushare-hub serve --keep-days' days\n"
             "(default 7) after it ended. A running job is refused: cancel it first.\n"
             "exit status: 0 = every job purged, 1 = a job unknown, still running, or no hub\n")
    p.add_argument("jobs", metavar="JOB", nargs="+")
    _add_api(p)


def _results_parser(sub) -> None:
    p = _sub(sub, "results", "fetch a job's results again, from the beginning",
             "examples:\n  cpushare results JOB --out out/          # every result: out/<name>.out\n"
             "  cpushare results JOB --out out/ --new    # only results not consumed yet\n")
    p.add_argument("job", metavar="JOB")
    _add_api(p)
    p.add_argument("--out", metavar="DIR", required=True,
                   help="write each result to DIR/<name>.out (the name given at submission, else its index)")
    p.add_argument("--new", action="store_true", help="only results not consumed yet (and mark them consumed)")
    _add_reconnect(p)


def _check_parser(sub) -> None:
    p = _sub(sub, "check", "would the sandbox accept PROGRAM? (the loader's rules, without running it)",
             "examples:\n  cpushare check prog.elf\n  cpushare check prog.elf --max-memory 256M\n"
             "exit status: 0 = the loader would start it, 1 = refused (each reason with its fix)\n")
    p.add_argument("program", metavar="PROGRAM")
    p.add_argument("--max-memory", metavar="SIZE", type=parse_size, default="1G",
                   help="the sellers' memory cap to check against (default 1G, the workers' default)")


def _completion_parser(sub) -> None:
    p = _sub(sub, "completion", "print shell completion for all five cpushare commands",
             "examples:\n  eval \"$(cpushare completion bash)\"            # in ~/.bashrc\n"
             "  cpushare completion zsh > ~/.zfunc/_cpushare   # zsh (uses bashcompinit)\n")
    p.add_argument("shell", choices=["bash", "zsh"])


#: one entry per subcommand, in the order --help lists them
def _ledger_parser(sub) -> None:
    from .market.ledgercli import add_parser
    add_parser(sub, _sub)


def cmd_ledger(args: argparse.Namespace, stdout: TextIO) -> int:
    from .market.ledgercli import cmd_ledger as run
    return run(args, stdout)


def _job_parser(sub) -> None:
    from .market.jobcli import add_parser
    add_parser(sub, _sub, _add_api)


def cmd_job(args: argparse.Namespace, stdout: TextIO) -> int:
    from .market.jobcli import cmd_job as run
    return run(args, stdout)


SUBCOMMANDS = (_submit_parser, _status_parser, _cancel_parser, _purge_parser, _results_parser,
               _check_parser, _completion_parser, _ledger_parser, _job_parser)


QUIET_HELP = "no progress bar, warnings only"


def _add_reconnect(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reconnect-s", metavar="S", type=float, default=120.0,
                   help="how long to wait for a restarting hub before giving up (default 120; 0 = never)")


# --------------------------------------------------------------------------- helpers

def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc


def _out_dir(path: str) -> Path:
    d = Path(path)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output directory {d}: {exc.strerror}") from exc
    return d


# --------------------------------------------------------------------------- commands

def _check_names(inputs: list[str]) -> list[str]:
    names = [Path(p).name for p in inputs]
    seen: dict[str, str] = {}
    for p, n in zip(inputs, names, strict=True):
        if n in seen:
            raise ConfigError(f"inputs {seen[n]} and {p} have the same file name; their results would "
                              f"both be written to {n}.out")
        seen[n] = p
    return names


def _follow(client, job, args: argparse.Namespace, stderr: TextIO) -> int:
    """Stream ``job`` into --out; the final verdict, or the job id and how to go on."""
    out = _out_dir(args.out)
    bar = ProgressBar(job.total, stderr, enabled=not args.quiet)
    follower = Follower(job, lambda: client.attach(job.id, from_start=False), out, args.out,
                        bar, stderr, args.reconnect_s)
    try:
        progress = follower.run()
    except KeyboardInterrupt:
        bar.finish()
        stderr.write(f"\ninterrupted: job {job.id} keeps running on the hub; {hints(job.id, args.out)}\n")
        return EXIT_INTERRUPTED
    except CpushareError as exc:
        bar.finish()
        stderr.write(f"cpushare: error: lost the hub while following job {job.id}: {exc}\n"
                     f"  {follower.tally.total - len(follower.tally.ok) - len(follower.tally.failed)} results "
                     f"not received; {hints(job.id, args.out)}\n")
        return 1
    return verdict(job.id, progress, follower.tally, out, stderr)


def cmd_submit(args: argparse.Namespace, stderr: TextIO) -> int:
    from .client import Client
    from .sandbox.elfcheck import check_program

    names = _check_names(args.inputs)
    if args.quorum is not None and not 1 <= args.quorum <= args.redundancy:
        raise ConfigError(f"--quorum {args.quorum} must be between 1 and --redundancy {args.redundancy}")
    program = _read(args.program, "program")
    report = check_program(program, args.max_memory)
    if not report.ok:
        _print_refusal(args.program, report, stderr)
        stderr.write(f"cpushare: error: not submitted ('cpushare check {args.program}' explains the same)\n")
        return EXIT_USAGE
    shared = _read(args.shared, "shared input") if args.shared else b""
    fragments = [_read(p, "input") for p in args.inputs]
    _out_dir(args.out)
    with Client(args.api, token_file=args.api_token) as client:
        job = client.submit(program, fragments, shared_input=shared, redundancy=args.redundancy,
                            quorum=args.quorum, cpu_s=args.cpu_s, wall_s=args.wall_s,
                            max_attempts=args.max_attempts, priority=args.priority,
                            name=args.name or Path(args.program).name, fragment_names=names,
                            price=args.price, budget=args.budget)
        stderr.write(f"submitted job {job.id} ({len(fragments)} fragments)\n")
        stderr.flush()
        return _follow(client, job, args, stderr)


def cmd_results(args: argparse.Namespace, stderr: TextIO) -> int:
    from .client import Client

    with Client(args.api, token_file=args.api_token) as client:
        job = client.attach(args.job, from_start=not args.new)
        return _follow(client, job, args, stderr)


def cmd_cancel(args: argparse.Namespace, stdout: TextIO) -> int:
    from .client import Client

    with Client(args.api, token_file=args.api_token) as client:
        before = client.progress(args.job)
        if before["state"] == "running":
            client.cancel(args.job)
        after = client.progress(args.job)
    counts = f"{after['done']} done, {after['failed']} failed of {after['total']}"
    if before["state"] == "running" and after["state"] == "cancelled":
        stdout.write(f"cancelled job {args.job} ({counts}; the rest will not run)\n")
        return 0
    stdout.write(f"job {args.job} had already ended ({after['state']}: {counts}); nothing to cancel\n")
    return EXIT_CANCELLED


def cmd_purge(args: argparse.Namespace, stdout: TextIO) -> int:
    from .client import Client

    failed = 0
    for job_id in args.jobs:
        try:
            with Client(args.api) as client:
                n = client.purge(job_id)
        except BuyerApiError as exc:
            sys.stderr.write(f"cpushare: error: {exc}\n")
            failed += 1
            continue
        stdout.write(f"purged job {job_id} ({n} fragments; its results are gone)\n")
    return 1 if failed else 0


def _print_refusal(path: str, report, stream: TextIO) -> None:
    stream.write(f"{path}: the sandbox would refuse this program:\n")
    for problem in report.problems:
        stream.write(f"  - {problem.what}\n    fix: {problem.fix}\n")


def cmd_check(args: argparse.Namespace, stdout: TextIO) -> int:
    from .sandbox.elfcheck import check_program

    report = check_program(_read(args.program, "program"), args.max_memory)
    if not report.ok:
        _print_refusal(args.program, report, stdout)
        return 1
    stdout.write(f"{args.program}: ok: a static x86-64 program, {report.segments} segments, needs "
                 f"{report.memory_bytes / (1 << 20):.1f} MiB with its stack (cap {args.max_memory / (1 << 20):g} "
                 "MiB); the loader would start it\n")
    return 0


def _status_text(st: dict, args: argparse.Namespace, tty: bool) -> str:
    if args.json:
        shown, _hidden = visible_jobs(st["jobs"], args.all)
        return json.dumps({**st, "jobs": shown}, indent=2, sort_keys=True) + "\n"
    width = shutil.get_terminal_size((200, 24)).columns if tty else 200
    text = format_status(st, show_all=args.all, width=width, color=tty)
    if args.watch is not None and tty:
        return "\x1b[H\x1b[J" + text     # redraw in place
    if args.watch is not None:
        return f"--- {time.strftime('%H:%M:%S')}\n{text}"
    return text


def cmd_status(args: argparse.Namespace, stdout: TextIO) -> int:
    from .client import Client

    tty = stdout.isatty()
    with Client(args.api, token_file=args.api_token) as client:
        try:
            while True:
                stdout.write(_status_text(client.status(), args, tty))
                stdout.flush()
                if args.watch is None:
                    return 0
                time.sleep(args.watch)
        except KeyboardInterrupt:
            if args.watch is None:
                raise
            return 0   # Ctrl-C is how --watch ends


def cmd_completion(args: argparse.Namespace, stdout: TextIO) -> int:
    from .completion import script

    stdout.write(script(args.shell))
    return 0


COMMANDS = {"completion": (cmd_completion, "stdout"), "submit": (cmd_submit, "stderr"), "results": (cmd_results, "stderr"),
            "cancel": (cmd_cancel, "stdout"), "purge": (cmd_purge, "stdout"), "status": (cmd_status, "stdout"), "check": (cmd_check, "stdout"),
            "ledger": (cmd_ledger, "stdout"), "job": (cmd_job, "stdout")}


def main(argv: list[str] | None = None) -> int:
    from .log import setup_logging

    args = parse_command_line(build_parser(), "cpushare", argv)
    setup_logging(-1 if args.quiet else args.verbose - 1, args.json_log)  # -v = info, -vv = debug
    func, stream = COMMANDS[args.command]
    try:
        return func(args, getattr(sys, stream))
    except ConfigError as exc:
        sys.stderr.write(f"cpushare: error: {exc}\n")
        return EXIT_USAGE
    except CpushareError as exc:
        sys.stderr.write(f"cpushare: error: {exc}\n")
        return 1
    except BrokenPipeError:
        return output_closed()
    except KeyboardInterrupt:
        sys.stderr.write("cpushare: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
