"""What every cpushare command line shares: ``--version``, global options accepted before or
after the subcommand, sizes with units, and defaults from the config file and environment.

Precedence for every option: the command line, then ``CPUSHARE_*`` environment variables,
then the config file, then the built-in default. The config file is TOML at
``$CPUSHARE_CONFIG``, else ``$XDG_CONFIG_HOME/cpushare/config.toml`` (``~/.config/...``),
with one table per program; keys are the long option names::

    [cpushare]                 # the buyer's command
    hub = "/var/lib/cpushare/hub.db.sock"
    redundancy = 2

    [cpushare-worker]
    hub = "tcp://hub.example:5555"
    hub-key = "/home/me/hub.pub"
    max-memory = "512M"

Environment variables: ``<PREFIX>_<OPTION>`` with the option's long name upper-cased and
dashes as underscores; the prefix is ``CPUSHARE`` for ``cpushare`` (``CPUSHARE_HUB``,
``CPUSHARE_REDUNDANCY``) and ``CPUSHARE_WORKER``, ``CPUSHARE_HUBD``, ``CPUSHARE_POVRAY``,
``CPUSHARE_SANDBOX`` for the others (``CPUSHARE_WORKER_MAX_MEMORY=512M``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from .errors import ConfigError

#: program name -> environment variable prefix
ENV_PREFIX = {"cpushare": "CPUSHARE", "cpushare-worker": "CPUSHARE_WORKER", "cpushare-hub": "CPUSHARE_HUBD",
              "cpushare-povray": "CPUSHARE_POVRAY", "cpushare-sandbox": "CPUSHARE_SANDBOX",
              "cpushare-market": "CPUSHARE_MARKET"}

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_size(text: str) -> int:
    """``"512M"`` / ``"2GiB"`` / ``"1048576"`` -> bytes (binary units); an argparse type."""
    m = _SIZE.fullmatch(str(text))
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (examples: 1048576, 512M, 2G, 1.5GiB)")
    value = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a size above 0")
    return value


def version() -> str:
    from . import __version__

    return __version__


def add_version(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--version", action="version", version=f"%(prog)s {version()}",
                    help="print the version and exit")


def add_globals(ap: argparse.ArgumentParser, *, suppress: bool, quiet_help: str = "warnings only") -> None:
    """-v/-q/--json-log. Call with suppress=False on the top parser and suppress=True on each
    subparser: given after the subcommand they then override, absent they leave the top's."""
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    ap.add_argument("-v", "--verbose", action="count", default=d(0), help="more log output")
    ap.add_argument("-q", "--quiet", action="store_true", default=d(False), help=quiet_help)
    ap.add_argument("--json-log", action="store_true", default=d(False), help="log as JSON lines")


API_HELP = "the hub's buyer API: PATH, unix:PATH or tcp://127.0.0.1:PORT"
RENAMED_HUB = ("--hub was renamed --api on the buyer's commands (the hub's buyer API address, as "
               "in 'cpushare-hub serve --api'); --hub now means only the hub's worker endpoint, "
               "for cpushare-worker")


class _RenamedHub(argparse.Action):
    """The buyer's old ``--hub``: refused with the new name instead of 'unrecognized'."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(RENAMED_HUB)


def add_api_address(p, help_: str = API_HELP):
    """``--api ADDR`` (the one flag for the hub's buyer API address on every buyer command)
    and the old ``--hub``, hidden, which says it was renamed. Returns the ``--api`` action.
    ``p`` is a parser or a mutually exclusive group."""
    action = p.add_argument("--api", metavar="ADDR", default=None, help=help_)
    p.add_argument("--hub", action=_RenamedHub, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return action


API_TOKEN_HELP = ("the hub's buyer API token file, needed for a tcp:// --api (the hub writes "
                  "it beside its database: DATABASE.api-token; default $CPUSHARE_API_TOKEN)")


def add_api_token(p) -> None:
    """``--api-token FILE``: the buyer API token a client presents over TCP (buyer_token.py);
    one flag on every buyer command."""
    p.add_argument("--api-token", metavar="FILE", default=None, help=API_TOKEN_HELP)


# --------------------------------------------------------------------------- config + env

def config_path() -> Path:
    explicit = os.environ.get("CPUSHARE_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cpushare" / "config.toml"


def _load_table(program: str) -> tuple[dict, Path]:
    path = config_path()
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        if os.environ.get("CPUSHARE_CONFIG"):
            raise ConfigError(f"config file {path} (from $CPUSHARE_CONFIG) does not exist") from None
        return {}, path
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    table = doc.get(program, {})
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [{program}] must be a table of option = value")
    return table, path


def _parsers(ap: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield ap
    for action in ap._actions:   # argparse offers no public walk of its subparsers
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _parsers(sub)


def _settable(ap: argparse.ArgumentParser) -> dict[str, list[argparse.Action]]:
    """long option name (without --) -> the actions of that name in every (sub)parser"""
    out: dict[str, list[argparse.Action]] = {}
    for p in _parsers(ap):
        for action in p._actions:
            longs = [s[2:] for s in action.option_strings if s.startswith("--")]
            if not longs or isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                continue
            if action.default == argparse.SUPPRESS:   # a global repeated on a subparser
                continue
            out.setdefault(longs[0], []).append(action)
    return out


class Repeated(argparse.Action):
    """A repeatable option (``--hub A --hub B``): a list. In the config file it is a TOML
    list (or one value); given on the command line, it replaces that list."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_repeated_given", set())
        if self.dest not in seen:
            seen.add(self.dest)
            setattr(namespace, self.dest, [])
        getattr(namespace, self.dest).append(values)


def _convert(action: argparse.Action, value, where: str):
    """A config/env value as the default of ``action`` (strings are converted by argparse)."""
    if isinstance(action, Repeated):
        items = value if isinstance(value, list) else [value]
        return [_convert_one(action, v, where) for v in items]
    return _convert_one(action, value, where)


def _convert_one(action: argparse.Action, value, where: str):
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if isinstance(value, bool):
            flag = value
        elif str(value).strip().lower() in _TRUE | _FALSE:
            flag = str(value).strip().lower() in _TRUE
        else:
            raise ConfigError(f"{where}: {value!r} is not true or false")
        return flag if isinstance(action, argparse._StoreTrueAction) else not flag
    if isinstance(action, argparse._CountAction):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {value!r} is not a whole number") from None
    if isinstance(value, (dict, list)):
        raise ConfigError(f"{where}: expected a single value, got {type(value).__name__}")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if action.type is not None:
        try:
            action.type(text)
        except (argparse.ArgumentTypeError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if action.choices is not None and (action.type(text) if action.type else text) not in action.choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, action.choices))}")
    return text


def apply_defaults(ap: argparse.ArgumentParser, program: str, environ=None) -> None:
    """Set every option's default from the config file and the environment (see module doc)."""
    environ = os.environ if environ is None else environ
    settable = _settable(ap)
    table, path = _load_table(program)
    values: dict[str, tuple[object, str]] = {}
    for key, value in table.items():
        name = str(key).replace("_", "-")
        if name not in settable:
            raise ConfigError(f"config file {path}: [{program}] has no option {key!r} "
                              f"(see '{program} --help')")
        values[name] = (value, f"config file {path}: [{program}] {key}")
    prefix = ENV_PREFIX[program] + "_"
    for name in settable:
        var = prefix + name.upper().replace("-", "_")
        if var in environ:
            values[name] = (environ[var], f"${var}")
    for name, (value, where) in values.items():
        for action in settable[name]:
            action.default = _convert(action, value, where)
            action.required = False


KEY_OPTIONS = ("--hub-key", "--market-key")


def join_key_values(argv: list[str]) -> list[str]:
    """``--hub-key -abc...`` as ``--hub-key=-abc...``: a Z85 key (40 characters) may start
    with ``-``, which argparse would take for an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in KEY_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-") \
                and len(argv[i + 1]) == 40:
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def parse_command_line(parser: argparse.ArgumentParser, program: str,
                       argv: list[str] | None = None) -> argparse.Namespace:
    """Defaults from the config file and the environment, then ``argv``. A bad config or
    environment value ends the program like a bad flag: one line, exit status 2."""
    try:
        apply_defaults(parser, program)
    except ConfigError as exc:
        parser.exit(2, f"{program}: error: {exc}\n")
    return parser.parse_args(join_key_values(sys.argv[1:] if argv is None else argv))


#: the exit status of a program whose output was closed early (128 + SIGPIPE, as a shell)
EXIT_OUTPUT_CLOSED = 141


def output_closed() -> int:
    """Standard output was closed by its reader (``cpushare ledger | head``): stop quietly,
    not with a traceback, and without a second error when Python flushes it at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_OUTPUT_CLOSED
