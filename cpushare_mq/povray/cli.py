"""cpushare-povray: render POV-Ray scenes on cpushare workers; compare images.

``render`` runs the native ``povray-server`` (C) against a hub. Without ``--api`` it first
starts an embedded hub and N local workers (``cpushare-worker`` subprocesses), so one
command renders a scene on every core of this machine through the real sandbox.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from ..cliopts import add_api_address, add_api_token, add_globals, add_version, parse_command_line
from ..errors import ConfigError, CpushareError, SceneError
from ..log import setup_logging
from ..native import find_binary
from ..progressview import ProgressView
from . import aa_options
from .image import compare, read_png
from .localworkers import LocalWorkers, stop_processes, worker_cmd
from .view import Viewer, dashboard_of

log = logging.getLogger(__name__)

_worker_cmd = worker_cmd   # (its old name, used by tests and bench/povray_bench.py)
__all__ = ["main", "stop_processes", "run_server", "render_embedded"]

_PROGRESS = re.compile(r"^progress (\d+)/(\d+) failed (\d+)$")
_WAITING = re.compile(r"^waiting ?(.*)$")              # the hub's reason ("" = no longer waiting)
_JOB = re.compile(r"^povray-server: job (\S+):")

EPILOG = """\
examples:
  cpushare-povray render examples/demo.pov -W 640 -H 480 -o demo.png
  cpushare-povray render scene.pov -W 320 -H 240 -o out.png --library-path ~/pov/include
  cpushare-povray render scene.pov -W 1920 -H 1080 -o big.png --workers 2 --tile 64
  cpushare-povray render scene.pov -W 640 -H 480 -o out.png --api /var/lib/hub.db.sock --redundancy 2
  cpushare-povray render examples/demo.pov -W 640 -H 480 -o demo.png --view --open
  cpushare-povray render examples/demo.pov -W 640 -H 480 -o demo.png +A0.1 +AM2 +R3
  cpushare-povray compare out.png reference.png --min-psnr 50 --max-diff 2

exit status: 0 = image written (compare: within the limits), 1 = the render failed (scene
error, failed tiles, no hub) or the images differ, 2 = bad command line or output path,
130 = interrupted. Options can also be set in ~/.config/cpushare/config.toml
([cpushare-povray] table) or by CPUSHARE_POVRAY_<OPTION> environment variables.
"""


QUIET_HELP = "no progress bar, warnings only"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cpushare-povray",
        description="Render POV-Ray 3.7 (subset) scenes on cpushare workers, tile by tile, "
                    "in the sandbox; compare images.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_version(p)
    add_globals(p, suppress=False, quiet_help=QUIET_HELP)
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser(
        "render", help="render a scene (embedded hub + local workers unless --api)",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_globals(r, suppress=True, quiet_help=QUIET_HELP)
    r.add_argument("scene", help="the .pov file")
    r.add_argument("-W", "--width", type=int, required=True, help="image width in pixels")
    r.add_argument("-H", "--height", type=int, required=True, help="image height in pixels")
    r.add_argument("-o", "--output", required=True, help="output PNG")
    r.add_argument("--tile", type=int, default=None,
                   help="tile size in pixels (default: the largest of 32, 64, 128, 256 that "
                        "still gives every worker 32 tiles; bigger tiles cost less hub "
                        "overhead, smaller ones balance better)")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="local workers of the embedded hub (default: one per CPU)")
    add_api_address(where, "use this hub's buyer API (PATH, unix:PATH or tcp://127.0.0.1:PORT) "
                           "instead of an embedded hub")
    add_api_token(r)
    r.add_argument("--resume", metavar="JOB", help="continue job JOB of an interrupted render "
                   "(with --api, the same scene, size and --tile)")
    r.add_argument("--view", action="store_true",
                   help="print the URL of the job's live page on the hub's dashboard (the "
                        "image filling in tile by tile; with --api, the hub needs --web)")
    r.add_argument("--open", action="store_true", help="with --view: open it in a browser")
    r.add_argument("--redundancy", type=int, default=1,
                   help="run each tile on K workers, accept agreeing results (default 1)")
    r.add_argument("--no-progress", dest="quiet", action="store_true", default=argparse.SUPPRESS,
                   help="the same as -q")
    r.add_argument("-L", "--library-path", action="append", default=[], metavar="DIR",
                   help="search DIR for #include files after the scene's folder (repeatable; "
                        "then POV-Ray 3.7's povray.ini Library_Path entries)")
    r.add_argument("-K", "--clock", type=float, default=None, help="the value of 'clock' (default 0)")
    aa_options.add_arguments(r)

    c = sub.add_parser(
        "compare", help="PSNR / max difference of two PNG images",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_globals(c, suppress=True, quiet_help=QUIET_HELP)
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--min-psnr", type=float, default=None,
                   help="exit 1 when the PSNR (dB) is below this")
    c.add_argument("--max-diff", type=int, default=None,
                   help="exit 1 when any channel differs by more than this (0..255)")
    return p


class Interrupted(CpushareError):   # noqa: N818 - a Ctrl-C with something to say
    """Ctrl-C of a render whose job lives on in a hub: the message says how to go on."""


class Progress:
    """povray-server's progress lines shown by the buyer side's one progress display."""

    def __init__(self, stream=sys.stderr, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled
        self.view: ProgressView | None = None

    def wait_reason(self, text: str) -> None:
        if self.view is not None:
            self.view.waiting = text
            self.view.update(force=True)
        elif text and self.enabled:
            self.stream.write(f"waiting: {text}\n")

    def update(self, done: int, total: int, failed: int) -> None:
        if not self.enabled or total <= 0:
            return
        if self.view is None:
            self.view = ProgressView(total, self.stream, unit="tiles")
        self.view.done, self.view.failed = done, failed
        self.view.update(force=done == total)

    def close(self) -> None:
        """End the bar's line (before another message, or at the end)."""
        if self.view is not None:
            self.view.finish()
            self.view = None


def auto_tile(width: int, height: int, workers: int) -> int:
    """The largest of 32..256 giving at least 32 tiles per worker (32 if none does)."""
    best = 32
    for size in (64, 128, 256):
        n = -(-width // size) * -(-height // size)
        if n >= 32 * workers:
            best = size
    return best


def run_server(server: Path, args, hub_address: str, progress: Progress, viewer=None,
               on_start: Callable[[subprocess.Popen], None] | None = None) -> int:
    """Run povray-server; relay its progress to the bar, other stderr lines and stdout.
    ``on_start(proc)`` is called once the server runs (e.g. to watch the local workers)."""
    cmd = [str(server), str(args.scene), "-W", str(args.width), "-H", str(args.height),
           "-o", str(args.output), "--tile", str(args.tile), "--api", hub_address,
           "--redundancy", str(args.redundancy)]
    if args.resume:
        cmd += ["--resume", args.resume]
    if getattr(args, "api_token", None):
        cmd += ["--api-token", str(args.api_token)]
    for folder in args.library_path:
        cmd += ["--library-path", folder]
    if args.clock is not None:
        cmd += ["--clock", repr(args.clock)]
    cmd += aa_options.server_args(args)
    log.debug("running %s", " ".join(cmd))
    job = [args.resume]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if on_start is not None:
        on_start(proc)
    out_lines: list[str] = []
    reader = threading.Thread(target=lambda: out_lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        for line in proc.stderr:
            if viewer is not None:
                viewer.line(line)
            m = _PROGRESS.match(line.strip())
            w = _WAITING.match(line.rstrip("\n"))
            if m:
                progress.update(int(m[1]), int(m[2]), int(m[3]))
                continue
            if w:
                progress.wait_reason(w[1].strip())
                continue
            if (j := _JOB.match(line)):
                job[0] = j[1]
            if line.strip():
                progress.close()  # end the bar's line before relaying a message
                sys.stderr.write(line)
        rc = proc.wait()
    except BaseException as exc:
        proc.kill()
        proc.wait()
        if isinstance(exc, KeyboardInterrupt) and job[0] and args.api:
            progress.close()
            raise Interrupted(f"job {job[0]} keeps running on the hub; add --resume {job[0]} to the same "
                              f"command to continue it, or 'cpushare cancel {job[0]} --api {args.api}' "
                              "to stop it") from None
        raise
    reader.join(5)
    progress.close()
    sys.stdout.write("".join(out_lines))
    return rc


def render_embedded(server: Path, args, progress: Progress) -> int:
    """Embedded hub + N local workers, then the server against it; cleans up everything.
    The render stops as soon as every local worker has ended (each one refuses to start,
    with a one-line reason, when its sandbox self-test fails)."""
    from ..hub.server import Hub, HubConfig  # imported late: only this path needs it

    n = args.workers if args.workers is not None else (os.cpu_count() or 1)
    tmp = Path(tempfile.mkdtemp(prefix="cpushare-povray-"))
    hub = None
    workers: LocalWorkers | None = None
    try:
        hub = Hub(tmp / "hub.db", bind="tcp://127.0.0.1:0", api=None, config=HubConfig(),
                  insecure=True, web="127.0.0.1:0" if args.view else None)
        hub.start()
        log.info("embedded hub: workers on %s, buyers on %s", hub.worker_endpoint,
                 hub.api_address)
        workers = LocalWorkers(hub.worker_endpoint, tmp, n, verbose=bool(args.verbose))
        viewer = Viewer(hub.web.url, args.open) if hub.web is not None else None
        rc = run_server(server, args, str(hub.api_address), progress, viewer,
                        on_start=workers.watch)
        if workers.all_ended.is_set():
            raise workers.failure()
        print(f"workers:    {n} local, embedded hub")
        return rc
    finally:
        if workers is not None:
            workers.stop()
        if hub is not None:
            hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def cmd_render(args) -> int:
    args.view = args.view or args.open
    if args.width < 1 or args.height < 1 or args.width > 65536 or args.height > 65536:
        raise ConfigError(f"image size {args.width}x{args.height} out of range 1..65536")
    if args.tile is None:
        expected_workers = 8 if args.api else (args.workers or os.cpu_count() or 1)
        args.tile = auto_tile(args.width, args.height, expected_workers)
        log.info("tile size %d", args.tile)
    if args.tile < 1:
        raise ConfigError(f"--tile must be >= 1, got {args.tile}")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    if args.redundancy < 1:
        raise ConfigError(f"--redundancy must be >= 1, got {args.redundancy}")
    if args.resume and not args.api:
        raise ConfigError("--resume needs --api: an embedded hub ends with its render, its jobs with it")
    if not Path(args.scene).is_file():
        raise SceneError(f"scene file {args.scene!r} not found")
    out_dir = Path(args.output).resolve().parent
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the directory of -o {args.output}: {exc.strerror} "
                          f"({exc.filename}); choose another output path") from exc
    server = find_binary("povray-server")
    find_binary("povray-client.elf")
    progress = Progress(enabled=not args.quiet)
    if args.api:
        viewer = Viewer(dashboard_of(args.api), args.open) if args.view else None
        return run_server(server, args, args.api, progress, viewer)
    return render_embedded(server, args, progress)


def cmd_compare(args) -> int:
    cmp = compare(read_png(args.a), read_png(args.b))
    print(cmp.summary())
    ok = True
    if args.min_psnr is not None and not (math.isinf(cmp.psnr_db) or cmp.psnr_db >= args.min_psnr):
        print(f"PSNR below {args.min_psnr} dB", file=sys.stderr)
        ok = False
    if args.max_diff is not None and cmp.max_diff > args.max_diff:
        print(f"max difference above {args.max_diff}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    argv = aa_options.pov_style(sys.argv[1:] if argv is None else argv)
    args = parse_command_line(build_parser(), "cpushare-povray", argv)
    setup_logging(-1 if args.quiet else args.verbose - 1, args.json_log)
    try:
        if args.command == "render":
            return cmd_render(args)
        return cmd_compare(args)
    except Interrupted as exc:
        print(f"\ncpushare-povray: interrupted: {exc}", file=sys.stderr)
        return 130
    except ConfigError as exc:   # a bad command line or path: the user's to fix
        print(f"cpushare-povray: error: {exc}", file=sys.stderr)
        return 2
    except CpushareError as exc:
        print(f"cpushare-povray: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ncpushare-povray: interrupted" + ("" if args.command != "render" or args.api else
              ": the embedded hub, its workers and its job are gone (nothing keeps running)"),
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
