"""``cpushare``: the buyer's command line (submit a job, watch it, cancel it, fetch results)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from .errors import ConfigError, CpushareError

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  # one fragment per input file; results land in out/<input name>.out as they finish
  cpushare submit prog.elf tiles/*.bin --hub /var/lib/cpushare/hub.db.sock --out out/
  export CPUSHARE_HUB=tcp://127.0.0.1:5600
  cpushare submit prog.elf a.in b.in --out out/ --shared scene.bin --redundancy 3 --quorum 2
  cpushare status              # jobs, workers, throughput
  cpushare status --json
  cpushare cancel JOB_ID
  cpushare results JOB_ID --out again/     # fetch every result again: again/<index>.out

The hub address is a Unix socket path (default of 'cpushare-hub serve': <database>.sock),
unix:PATH, or tcp://127.0.0.1:PORT; --hub overrides $CPUSHARE_HUB.
exit status: 0 = every fragment succeeded, 1 = some failed or the hub refused,
2 = bad command line, 130 = interrupted (the job keeps running on the hub).
"""


def _add_hub(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hub", metavar="ADDR", default=None,
                   help="hub buyer socket: PATH, unix:PATH or tcp://127.0.0.1:PORT (default $CPUSHARE_HUB)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="cpushare", description="Submit jobs to a cpushare hub and collect their results.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress bar, warnings only")
    ap.add_argument("--json-log", action="store_true", help="log as JSON lines")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("submit", help="submit PROGRAM with one fragment per INPUT file and collect results",
                       epilog="example:\n  cpushare submit prog.elf in/*.txt --hub hub.db.sock --out out/\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("program", metavar="PROGRAM", help="static x86-64 ELF to run on the sellers' machines")
    p.add_argument("inputs", metavar="INPUT", nargs="+", help="one fragment per file")
    _add_hub(p)
    p.add_argument("--out", metavar="DIR", required=True, help="write each result to DIR/<input name>.out")
    p.add_argument("--shared", metavar="FILE", help="shared input given to every fragment")
    p.add_argument("--redundancy", metavar="K", type=int, default=1, help="run each fragment on K workers (default 1)")
    p.add_argument("--quorum", metavar="M", type=int, default=None, help="agreeing results needed (default majority of K)")
    p.add_argument("--cpu-s", metavar="S", type=float, default=60.0, help="CPU seconds per fragment (default 60)")
    p.add_argument("--wall-s", metavar="S", type=float, default=300.0, help="wall seconds per fragment (default 300)")
    p.add_argument("--max-attempts", metavar="N", type=int, default=5, help="tries per fragment (default 5)")
    p.add_argument("--priority", metavar="P", type=int, default=0, help="higher runs first (default 0)")
    p.add_argument("--name", metavar="N", default="", help="a name shown by 'cpushare status'")

    p = sub.add_parser("status", help="jobs with progress, workers with liveness, throughput",
                       epilog="examples:\n  cpushare status --hub hub.db.sock\n  cpushare status --json | jq .workers\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_hub(p)
    p.add_argument("--json", action="store_true", help="print the status as JSON")

    p = sub.add_parser("cancel", help="cancel a job",
                       epilog="example:\n  cpushare cancel 3f2a... --hub hub.db.sock\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("job", metavar="JOB")
    _add_hub(p)

    p = sub.add_parser("results", help="fetch a job's results again, from the beginning",
                       epilog="examples:\n  cpushare results JOB --out out/          # every result: out/<index>.out\n"
                              "  cpushare results JOB --out out/ --new    # only results not consumed yet\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("job", metavar="JOB")
    _add_hub(p)
    p.add_argument("--out", metavar="DIR", required=True, help="write each result to DIR/<index>.out")
    p.add_argument("--new", action="store_true", help="only results not consumed yet (and mark them consumed)")
    return ap


# --------------------------------------------------------------------------- helpers

def write_atomic(path: Path, chunks) -> int:
    """Write chunks to ``path`` via a temporary file + rename; returns the size."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    size = 0
    try:
        with open(tmp, "wb") as f:
            for ch in chunks:
                f.write(ch)
                size += len(ch)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc
    return size


def _fmt_duration(s: float) -> str:
    s = int(max(0, s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class ProgressBar:
    """done/failed/total, rate, ETA on stderr: redrawn in place on a terminal, a line every
    few seconds otherwise."""

    def __init__(self, total: int, stream: TextIO, enabled: bool = True):
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self.start = time.monotonic()
        self.last_draw = 0.0
        self.done = 0
        self.failed = 0
        self.waiting = ""        # the hub's reason why queued fragments get no lease

    def line(self) -> str:
        finished = self.done + self.failed
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = finished / elapsed
        eta = (self.total - finished) / rate if rate > 0 else None
        width = 24
        filled = int(width * finished / self.total) if self.total else width
        bar = "#" * filled + "." * (width - filled)
        eta_s = _fmt_duration(eta) if eta is not None else "?"
        line = (f"[{bar}] {self.done} done, {self.failed} failed / {self.total}  "
                f"{rate:.1f}/s  ETA {eta_s}  elapsed {_fmt_duration(elapsed)}")
        return f"{line}  waiting: {self.waiting}" if self.waiting else line

    def update(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last_draw < (0.1 if self.tty else 2.0):
            return
        self.last_draw = now
        if self.tty:
            self.stream.write("\r" + self.line() + "\x1b[K")
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if not self.enabled:
            return
        self.update(force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


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


def _label(index: int, names: list[str] | None) -> str:
    return f"{names[index]} (fragment {index})" if names and index < len(names) else f"fragment {index}"


def _collect(job, out: Path, names: list[str] | None,
             bar: ProgressBar) -> tuple[list[tuple[int, str]], list[int]]:
    """Stream the job's results into files; returns the failures and the indexes whose
    result was corrected after it had been written (the hub re-verified it: a worker was
    caught cheating and another result won)."""
    from .client import BuyerTimeout

    failures: dict[int, str] = {}
    ok: set[int] = set()
    corrected: list[int] = []
    while True:
        try:
            for item in job.items(timeout_s=1.0):
                bar.waiting = ""
                name = names[item.index] if names and item.index < len(names) else str(item.index)
                if item.corrected:
                    corrected.append(item.index)
                    if item.index in ok:
                        ok.discard(item.index)
                        bar.done -= 1
                    elif failures.pop(item.index, None) is not None:
                        bar.failed -= 1
                if item.ok:
                    write_atomic(out / f"{name}.out", item.chunks)
                    ok.add(item.index)
                    bar.done += 1
                else:
                    (out / f"{name}.out").unlink(missing_ok=True)   # a superseded result
                    failures[item.index] = item.reason
                    bar.failed += 1
                bar.update()
            break
        except BuyerTimeout:
            bar.waiting = job.progress().get("waiting", "")  # nothing new: ask the hub why
            bar.update()
    bar.finish()
    return sorted(failures.items()), corrected


def _report_corrections(corrected: list[int], names: list[str] | None, stream: TextIO) -> None:
    if not corrected:
        return
    shown = sorted(set(corrected))
    stream.write(f"{len(shown)} results were replaced after they were written (a worker was "
                 f"caught cheating; the hub re-ran its results and another result won):\n")
    for index in shown[:100]:
        stream.write(f"  {_label(index, names)}\n")
    if len(shown) > 100:
        stream.write(f"  ... and {len(shown) - 100} more\n")


def _report_failures(failures: list[tuple[int, str]], total: int, names: list[str] | None,
                     stream: TextIO) -> None:
    stream.write(f"{len(failures)} of {total} fragments failed:\n")
    for index, reason in sorted(failures)[:100]:
        stream.write(f"  {_label(index, names)}: {reason}\n")
    if len(failures) > 100:
        stream.write(f"  ... and {len(failures) - 100} more (see 'cpushare status --json')\n")
    from .hub.disagreement import is_disagreed

    disagreed = sum(1 for _i, reason in failures if is_disagreed(reason))
    if disagreed:
        stream.write(f"{disagreed} of them ended disagreed: their copies from different workers "
                     f"never agreed, which a nondeterministic program causes (no worker was "
                     f"blamed); make the program's output depend on its input only\n")


# --------------------------------------------------------------------------- commands

def cmd_submit(args: argparse.Namespace, stderr: TextIO) -> int:
    from .client import Client

    names = [Path(p).name for p in args.inputs]
    seen: dict[str, str] = {}
    for p, n in zip(args.inputs, names, strict=True):
        if n in seen:
            raise ConfigError(f"inputs {seen[n]} and {p} have the same file name; their results would "
                              f"both be written to {n}.out")
        seen[n] = p
    if args.quorum is not None and not 1 <= args.quorum <= args.redundancy:
        raise ConfigError(f"--quorum {args.quorum} must be between 1 and --redundancy {args.redundancy}")
    program = _read(args.program, "program")
    shared = _read(args.shared, "shared input") if args.shared else b""
    fragments = [_read(p, "input") for p in args.inputs]
    out = _out_dir(args.out)
    with Client(args.hub) as client:
        job = client.submit(program, fragments, shared_input=shared, redundancy=args.redundancy,
                            quorum=args.quorum, cpu_s=args.cpu_s, wall_s=args.wall_s,
                            max_attempts=args.max_attempts, priority=args.priority,
                            name=args.name or Path(args.program).name)
        stderr.write(f"submitted job {job.id} ({len(fragments)} fragments)\n")
        stderr.flush()
        bar = ProgressBar(len(fragments), stderr, enabled=not args.quiet)
        try:
            failures, corrected = _collect(job, out, names, bar)
        except KeyboardInterrupt:
            stderr.write(f"\ninterrupted: job {job.id} keeps running on the hub; "
                         f"'cpushare results {job.id} --out {args.out} --new' fetches the rest, "
                         f"'cpushare cancel {job.id}' stops it\n")
            return 130
    _report_corrections(corrected, names, stderr)
    if failures:
        _report_failures(failures, len(fragments), names, stderr)
        return 1
    stderr.write(f"all {len(fragments)} fragments succeeded; results in {out}/\n")
    return 0


def cmd_results(args: argparse.Namespace, stderr: TextIO) -> int:
    from .client import Client

    out = _out_dir(args.out)
    with Client(args.hub) as client:
        job = client.attach(args.job, from_start=not args.new)
        bar = ProgressBar(job.total, stderr, enabled=not args.quiet)
        failures, corrected = _collect(job, out, None, bar)
    _report_corrections(corrected, None, stderr)
    if failures:
        _report_failures(failures, job.total, None, stderr)
        return 1
    stderr.write(f"{bar.done} results written to {out}/\n")
    return 0


def cmd_cancel(args: argparse.Namespace, stdout: TextIO) -> int:
    from .client import Client

    with Client(args.hub) as client:
        client.cancel(args.job)
    stdout.write(f"cancelled job {args.job}\n")
    return 0


def format_status(st: dict) -> str:
    lines = [f"jobs ({len(st['jobs'])}):"]
    if st["jobs"]:
        lines.append(f"  {'JOB':<34} {'NAME':<16} {'STATE':<10} {'DONE':>8} {'FAILED':>7} "
                     f"{'PENDING':>8} {'RUNNING':>8} {'TOTAL':>8}")
    for j in st["jobs"]:
        lines.append(f"  {j['job_id']:<34} {j['name'][:16]:<16} {j['state'][:10]:<10} {j['done']:>8} "
                     f"{j['failed']:>7} {j['pending']:>8} {j['leased'] + j['voting']:>8} {j['total']:>8}")
        if j.get("waiting"):
            lines.append(f"    waiting: {j['waiting']}")
    lines.append(f"workers ({len(st['workers'])}):")
    if st["workers"]:
        lines.append(f"  {'WORKER':<24} {'NAME':<16} {'ALIVE':<6} {'PAUSED':<7} {'BUSY':>9} "
                     f"{'DONE':>8} {'FAILED':>7} {'SEEN':>8}  REPUTATION")
    for w in st["workers"]:
        lines.append(f"  {w['worker_id'][:24]:<24} {w['name'][:16]:<16} {'yes' if w['alive'] else 'no':<6} "
                     f"{'yes' if w['paused'] else 'no':<7} {str(w['busy']) + '/' + str(w['slots']):>9} "
                     f"{w['done']:>8} {w['failed']:>7} {w['last_seen_s']:>7.1f}s  "
                     f"{w.get('reputation') or '-'}")
    if st.get("struck"):
        lines.append(f"sellers caught by votes or spot checks ({len(st['struck'])}):")
        for s in st["struck"]:
            state = f"banned: {s['ban_reason']}" if s["banned"] else s["tier"]
            lines.append(f"  {s['worker_key'][:20]:<20} {s['strikes']} strikes "
                         f"({s['strikes_total']} ever), {s['verified']} verified, {state}")
    lines.append(f"throughput: {st['throughput_per_s']:.1f} fragments/s")
    return "\n".join(lines) + "\n"


def cmd_status(args: argparse.Namespace, stdout: TextIO) -> int:
    from .client import Client

    with Client(args.hub) as client:
        st = client.status()
    if args.json:
        stdout.write(json.dumps(st, indent=2, sort_keys=True) + "\n")
    else:
        stdout.write(format_status(st))
    return 0


def main(argv: list[str] | None = None) -> int:
    from .log import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(-1 if args.quiet else args.verbose - 1, args.json_log)  # -v = info, -vv = debug
    stdout, stderr = sys.stdout, sys.stderr
    try:
        if args.command == "submit":
            return cmd_submit(args, stderr)
        if args.command == "results":
            return cmd_results(args, stderr)
        if args.command == "cancel":
            return cmd_cancel(args, stdout)
        return cmd_status(args, stdout)
    except ConfigError as exc:
        stderr.write(f"cpushare: error: {exc}\n")
        return 2
    except CpushareError as exc:
        stderr.write(f"cpushare: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        stderr.write("cpushare: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
