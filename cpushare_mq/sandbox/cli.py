"""``cpushare-sandbox``: run one program on one input in the sandbox."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..cliopts import add_globals, add_version, parse_command_line
from ..errors import CpushareError
from ..log import setup_logging
from .limitflags import add_limit_options, limits_from_args
from .runner import Sandbox, run_raw

EPILOG = """\
examples:
  # ABI v1: the input file becomes one 'F' frame, the result is the 'D' payloads
  cpushare-sandbox run c/build/examples/echo.elf --input hello.txt
  cpushare-sandbox run c/build/examples/checksum.elf --shared scene.bin --input tile.bin --json

  # raw: the input file is the whole stdin, stdout is the result, exit status 0 = ok
  cpushare-sandbox run prog.elf --raw --input data.bin --output out.bin --cpu-s 5 --wall-s 10

exit status: 0 only when the outcome is 'ok'; 1 for any other outcome; 2 for usage errors
or when the sandbox cannot be set up.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cpushare-sandbox",
        description="Run a static x86-64 ELF program in the seccomp-strict sandbox.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_version(parser)
    add_globals(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run PROGRAM on one input", epilog=EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    add_globals(run, suppress=True)
    run.add_argument("program", type=Path, metavar="PROGRAM", help="static x86-64 ELF")
    run.add_argument("--raw", action="store_true",
                     help="no framing: the input is the whole stdin, stdout the result")
    run.add_argument("--input", type=Path, metavar="FILE",
                     help="the fragment (or raw stdin); default: empty")
    run.add_argument("--shared", type=Path, metavar="FILE",
                     help="shared input ('S' frame); default: empty; not with --raw")
    add_limit_options(run)       # every SandboxLimits field (sandbox/limits.py)
    run.add_argument("--output", type=Path, metavar="FILE",
                     help="write the result there (default: stdout, unless --json)")
    run.add_argument("--json", action="store_true",
                     help="print the outcome record as one JSON object on stdout")
    return parser


def _read(path: Path | None, what: str) -> bytes:
    if path is None:
        return b""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SystemExit(f"cpushare-sandbox: cannot read the {what} file {path}: {exc.strerror}") from exc


def main(argv: list[str] | None = None) -> int:
    args = parse_command_line(build_parser(), "cpushare-sandbox", argv)
    setup_logging(-1 if args.quiet else args.verbose, args.json_log)
    if args.raw and args.shared is not None:
        print("cpushare-sandbox: --shared makes no sense with --raw", file=sys.stderr)
        return 2
    if not args.program.is_file():
        print(f"cpushare-sandbox: program {args.program} is not a file", file=sys.stderr)
        return 2
    data = _read(args.input, "input")
    shared = _read(args.shared, "shared input")
    chunks: list[bytes] = []
    try:
        limits = limits_from_args(args)
        if args.raw:
            rec, _ = run_raw(args.program, data, limits, on_chunk=chunks.append)
        else:
            with Sandbox(args.program, shared, limits) as sb:
                rec = sb.run(data, on_chunk=chunks.append)
    except CpushareError as exc:
        print(f"cpushare-sandbox: {exc}", file=sys.stderr)
        return 2
    result = b"".join(chunks) if rec.ok else b""
    if args.output is not None:
        if rec.ok:
            try:
                args.output.write_bytes(result)
            except OSError as exc:
                print(f"cpushare-sandbox: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
                return 2
    elif not args.json:
        sys.stdout.buffer.write(result)
        sys.stdout.buffer.flush()
    if args.json:
        print(json.dumps(rec.to_dict(), sort_keys=True))
    if not rec.ok:
        print(f"cpushare-sandbox: {rec.outcome.value}"
              + (f" (exit code {rec.exit_code})" if rec.exit_code is not None else "")
              + (f" (signal {rec.signal})" if rec.signal is not None else "")
              + (f": {rec.message}" if rec.message else ""), file=sys.stderr)
    return 0 if rec.ok else 1


if __name__ == "__main__":
    sys.exit(main())
