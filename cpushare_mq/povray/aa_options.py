"""Anti-aliasing options of ``cpushare-povray render``: POV-Ray 3.7's ``+A[THR]``, ``-A``,
``+AM1``/``+AM2``, ``+R N``, ``+J[AMT]``, ``-J``, or their long forms ``--antialias[=THR]``,
``--aa-method N``, ``--aa-depth N``, ``--jitter AMT``, ``--no-jitter``. They are checked here
and handed to ``povray-server`` (which puts them into every tile: docs/povray.md)."""

from __future__ import annotations

import argparse
import re

DEFAULT_THRESHOLD = 0.3
DEFAULT_METHOD = 1
DEFAULT_DEPTH = 3
DEFAULT_JITTER = 1.0
MAX_DEPTH = 9

_PLUS = re.compile(r"^\+(AM|A|R|J)(.*)$")


def _unit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"needs a number in 0..1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"needs a number in 0..1, got {text!r}")
    return value


def _whole(lo: int, hi: int):
    def parse(text: str) -> int:
        if not re.fullmatch(r"\d+", text) or not lo <= int(text) <= hi:
            raise argparse.ArgumentTypeError(f"needs a whole number in {lo}..{hi}, got {text!r}")
        return int(text)
    return parse


def pov_style(argv: list[str]) -> list[str]:
    """``+A0.2 +AM2 +R4 +J0.5`` -> the long options (``-A`` and ``-J`` are options as they are)."""
    out: list[str] = []
    for arg in argv:
        m = _PLUS.match(arg)
        if not m:
            out.append(arg)
            continue
        key, value = m.groups()
        if key == "A":
            out.append(f"--antialias={value}" if value else "--antialias")
        elif key == "AM":
            out += ["--aa-method", value]
        elif key == "R":
            out += ["--aa-depth", value] if value else ["--aa-depth"]
        else:
            out += ["--jitter", value or str(DEFAULT_JITTER)]
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group(
        "anti-aliasing (POV-Ray 3.7's; the POV-Ray spellings +A0.3 +AM2 +R4 +J0.5 -J work too)")
    g.add_argument("--antialias", nargs="?", type=_unit, const=DEFAULT_THRESHOLD, default=None,
                   metavar="THR", help="supersample where neighbouring colours differ by THR or "
                   f"more (default {DEFAULT_THRESHOLD}); off unless given")
    g.add_argument("-A", "--no-antialias", dest="antialias", action="store_const", const=None,
                   help="anti-aliasing off (the default)")
    g.add_argument("--aa-method", type=_whole(1, 2), default=DEFAULT_METHOD, metavar="N",
                   help="1 = non-recursive (default), 2 = adaptive recursive")
    g.add_argument("--aa-depth", type=_whole(1, MAX_DEPTH), default=DEFAULT_DEPTH, metavar="N",
                   help=f"supersampling depth 1..{MAX_DEPTH} (default {DEFAULT_DEPTH})")
    g.add_argument("--jitter", type=_unit, default=DEFAULT_JITTER, metavar="AMT",
                   help=f"jitter amount 0..1 (default {DEFAULT_JITTER}: on)")
    g.add_argument("-J", "--no-jitter", dest="jitter", action="store_const", const=0.0,
                   help="no jitter")


def server_args(args: argparse.Namespace) -> list[str]:
    """povray-server's arguments for these options (none when anti-aliasing is off)."""
    if args.antialias is None:
        return []
    return [f"--antialias={args.antialias!r}", "--aa-method", str(args.aa_method),
            "--aa-depth", str(args.aa_depth), "--jitter", repr(args.jitter)]
