"""``cpushare-worker install-service [WORKER OPTIONS]``: a systemd user unit that starts this
worker, with these options, at boot (with lingering) or at login.

The options are checked by the worker's own parser first, so a unit is never written for a
command line the worker would refuse. The unit runs the same ``cpushare-worker`` executable
(absolute path) with the same options; the config file and ``CPUSHARE_WORKER_*`` settings
the worker reads at start still apply.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path

from ..atomicfile import replace_file
from ..errors import ConfigError

UNIT_NAME = "cpushare-worker.service"

USAGE = """\
usage: cpushare-worker install-service [--unit-dir DIR] [--force] WORKER OPTIONS...

Write a systemd user unit running 'cpushare-worker WORKER OPTIONS...' and print how to
enable it. Example:
  cpushare-worker install-service --hub tcp://hub.example:5555 --hub-key ~/hub.pub --slots 2
  systemctl --user daemon-reload && systemctl --user enable --now cpushare-worker
  loginctl enable-linger "$USER"      # start at boot, not only at login
"""


def unit_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def executable() -> str:
    """The absolute path of the cpushare-worker being run (or the one next to Python)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "cpushare-worker" and argv0.exists():
        return str(argv0.resolve())
    found = Path(sys.executable).parent / "cpushare-worker"
    if found.exists():
        return str(found)
    return shutil.which("cpushare-worker") or "cpushare-worker"


def unit_text(exe: str, worker_args: list[str]) -> str:
    def esc(arg: str) -> str:   # systemd expands % and $ itself: escape them, then quote
        return shlex.quote(arg.replace("%", "%%").replace("$", "$$"))

    cmd = " ".join(esc(a) for a in [exe, *worker_args])
    return f"""\
# written by 'cpushare-worker install-service'; edit freely or run it again with --force
[Unit]
Description=cpushare worker: lend this machine's spare CPU to a cpushare hub
Wants=network-online.target
After=network-online.target

[Service]
ExecStart={cmd}
# the first SIGTERM hands unstarted fragments back and lets running ones finish (--grace-s)
KillSignal=SIGTERM
TimeoutStopSec=120
Restart=on-failure
RestartSec=10
Nice=19

[Install]
WantedBy=default.target
"""


def install_service(argv: list[str], build_parser) -> int:
    """Entry point for ``cpushare-worker install-service ...``; returns the exit status."""
    ap = argparse.ArgumentParser(prog="cpushare-worker install-service", add_help=False)
    ap.add_argument("--unit-dir", default=None)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("-h", "--help", action="store_true")
    ours, worker_args = ap.parse_known_args(argv)
    if ours.help:
        sys.stdout.write(USAGE)
        return 0
    build_parser().parse_args(worker_args)   # exits 2 with the worker's own message if wrong
    directory = Path(ours.unit_dir) if ours.unit_dir else unit_dir()
    path = directory / UNIT_NAME
    if path.exists() and not ours.force:
        raise ConfigError(f"{path} exists; pass --force to replace it")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        replace_file(path, unit_text(executable(), worker_args).encode())
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc
    sys.stdout.write(f"wrote {path}\n"
                     "enable and start it now, and at every login:\n"
                     "  systemctl --user daemon-reload && systemctl --user enable --now cpushare-worker\n"
                     "start it at boot even before you log in:\n"
                     '  loginctl enable-linger "$USER"\n'
                     "its log: journalctl --user -u cpushare-worker -f\n")
    return 0
