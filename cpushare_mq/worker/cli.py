"""``cpushare-worker``: lend this machine's spare CPU to a cpushare hub."""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys

import psutil

from ..argtypes import bounded, positive_float
from ..cliopts import (
    Repeated,
    add_globals,
    add_version,
    apply_defaults,
    join_key_values,
    output_closed,
    parse_size,
)
from ..errors import CpushareError
from ..log import setup_logging
from ..sandbox.limitflags import add_limit_options, limits_from_args
from ..sandbox.limits import SandboxLimits, SetBy

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  # start at boot with these options (a systemd user unit; prints how to enable it)
  cpushare-worker install-service --hub tcp://hub.example:5555 --hub-key ~/hub.pub

  # join a hub (CURVE-encrypted; the hub prints its public key when it starts)
  cpushare-worker --hub tcp://hub.example:5555 --hub-key /path/to/hub.pub

  # join a hub on the LAN with every logical CPU over plain TCP
  cpushare-worker --hub tcp://192.168.1.10:5555 --insecure

  # two slots, 512 MiB per sandbox, pause while the machine's owner is using it
  cpushare-worker --hub tcp://hub.example:5555 --insecure --slots 2 \\
      --max-memory 512M --when-idle --idle-threshold 25

  # cache programs in a chosen directory, at most 2 GiB, JSON logs for a log collector
  cpushare-worker --hub tcp://hub.example:5555 --insecure \\
      --cache-dir /var/cache/cpushare --cache-size 2G --json-log

  # serve two buyers' hubs at once: each free slot goes to the best-paying one with work
  # (prices come from the hubs' offers on a market), never below 0.02 per CPU-hour
  cpushare-worker --hub tcp://a.example:5555 --hub-key a.pub \
      --hub tcp://b.example:5555 --hub-key b.pub --market tcp://market.example:5560 \
      --market-key market.pub --min-price 0.02

  # the receipts hubs sent for this worker's CPU time, totals per hub (--json, --csv)
  cpushare-worker earnings

  # check that this machine can run the sandbox (CPU, XSAVE size, kernel, seccomp), no hub
  cpushare-worker --self-test

Self-test: at every start the worker first runs a probe program through its own sandbox (a
known answer, and a forbidden system call that must be killed); if that fails it exits with
status 1 and one line naming the cause, and never joins the hub.

Stopping: the first SIGINT/SIGTERM (Ctrl-C) stops taking work, hands unstarted fragments back
to the hub at once and lets running ones finish within --grace-s; a second one kills the
sandboxes, hands everything back and exits.
"""

def _endpoint(text: str) -> str:
    if re.fullmatch(r"tcp://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}", text) or \
            re.fullmatch(r"ipc://.+", text):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a hub endpoint: use tcp://HOST:PORT (or ipc://PATH)")


def _is_local(endpoint: str) -> bool:
    """Loopback and ipc:// endpoints need no --insecure (nothing leaves the machine)."""
    if endpoint.startswith(("ipc://", "inproc://")):
        return True
    m = re.fullmatch(r"tcp://(\[?[^\]]*\]?):\d+", endpoint)
    return bool(m) and m.group(1).strip("[]") in ("127.0.0.1", "localhost", "::1")


class _ClearLine:
    """A stream wrapper that clears the terminal line before each write."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write("\r\x1b[2K" + text)

    def flush(self) -> None:
        self.stream.flush()


def check_sandbox(limits: SandboxLimits) -> str:
    """Run the sandbox probe before joining a hub: '' when it passed, else one line."""
    from ..sandbox.probe import run_probe

    report = run_probe(limits)
    if report.ok:
        log.info("sandbox self-test passed (cold start %.1f ms)", report.cold_start_s * 1000)
    return report.failure_line()


def self_test(limits: SandboxLimits) -> int:
    """``--self-test``: print the probe's report; 0 when it passed."""
    from ..sandbox.probe import run_probe

    report = run_probe(limits)
    print(report.render())
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cpushare-worker",
        description="Run a buyer's sandboxed programs on this machine's spare CPU.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hub", metavar="tcp://HOST:PORT", type=_endpoint, action=Repeated,
                   help="a hub's worker endpoint; repeat it (each with its --hub-key, in "
                        "the same order) to serve several hubs (required unless --self-test "
                        "or --market)")
    p.add_argument("--self-test", action="store_true",
                   help="run the sandbox probe alone, print a report and exit 0 (pass) or 1")
    p.add_argument("--slots", type=bounded(int, 1, 4096, what="a whole number"), default=None,
                   help=f"fragments run at once (default: logical CPUs = {psutil.cpu_count(logical=True)})")
    p.add_argument("--prefetch", type=int, default=None,
                   help="fragments queued beyond the slots (default: as many as slots)")
    p.add_argument("--cache-dir", default="",
                   help="where programs and shared inputs are cached (default ~/.cache/cpushare-worker)")
    p.add_argument("--cache-size", type=parse_size, default=1 << 30, metavar="BYTES",
                   help="cache size bound, LRU eviction (default 1G)")
    add_limit_options(p, SetBy.SELLER)      # --max-memory ... (sandbox/limits.py's table)
    p.add_argument("--when-idle", action="store_true",
                   help="pause sandboxes (SIGSTOP) while other processes use the CPU")
    p.add_argument("--idle-threshold", type=bounded(float, 0, 100, what="a percentage"), default=30.0, metavar="PCT",
                   help="CPU load of other processes (%% of the machine) that counts as busy (default 30)")
    p.add_argument("--nice", type=int, default=19, choices=range(0, 20), metavar="0..19",
                   help="niceness of the sandboxes (default 19: idle priority)")
    p.add_argument("--no-result-batch", dest="result_batch", action="store_false",
                   help="send every result in its own RESULT_END, never as a RESULT_BATCH "
                        "(by default small results that finish together share one message "
                        "when the hub accepts it)")
    p.add_argument("--batch-delay-ms", type=bounded(float, 0, 1000), default=2.0, metavar="MS",
                   help="longest a small result waits for others to share its message, "
                        "while slots are busy (default 2)")
    p.add_argument("--grace-s", type=positive_float, default=30.0,
                   help="on the first SIGINT/SIGTERM, time given to running fragments (default 30)")
    p.add_argument("--status-interval-s", type=positive_float, default=10.0,
                   help="status log line period when stderr is not a terminal (default 10)")
    p.add_argument("--name", default="", help="name shown in the hub's status (default: host name)")
    p.add_argument("--hub-key", metavar="KEY_OR_FILE", action=Repeated,
                   help="the hub's public CURVE key (40 Z85 characters, or a file holding it): "
                        "encrypts and authenticates the link, results are signed; one per --hub")
    from .hubargs import add_market_options

    add_market_options(p)
    p.add_argument("--config-dir", metavar="DIR",
                   help="where this worker's identity (key pair) lives, created on first start "
                        "(default ~/.config/cpushare-worker; used with --hub-key, or when given)")
    p.add_argument("--insecure", action="store_true",
                   help="use plain TCP to the hub (no encryption, no authentication); "
                        "required without --hub-key unless the hub is on loopback")
    add_version(p)
    add_globals(p, suppress=False, quiet_help="warnings and errors only")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        apply_defaults(parser, "cpushare-worker")
        if argv[:1] in (["install-service"], ["earnings"]):
            return _subcommand(argv, parser)
    except BrokenPipeError:
        return output_closed()
    except CpushareError as exc:
        print(f"cpushare-worker: error: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(join_key_values(argv))
    setup_logging(-1 if args.quiet else args.verbose, args.json_log)
    from .hubargs import pair_hubs

    try:
        limits = limits_from_args(args, SetBy.SELLER)
        if args.self_test:
            return self_test(limits)
        hubs = pair_hubs(args, _is_local)
    except CpushareError as exc:
        print(f"cpushare-worker: {exc}", file=sys.stderr)
        return 2
    failure = check_sandbox(limits)
    if failure:
        print(f"cpushare-worker: {failure}", file=sys.stderr)
        return 1
    try:
        agent = _make_agent(args, _agent_config(args, hubs, limits), hubs)
    except CpushareError as exc:
        print(f"cpushare-worker: {exc}", file=sys.stderr)
        return 2
    return _serve(agent)


def _subcommand(argv: list[str], parser: argparse.ArgumentParser) -> int:
    if argv[0] == "install-service":
        from .service import install_service

        return install_service(argv[1:], lambda: parser)
    from .earningscli import main as earnings  # issue 19: the seller's receipts

    return earnings(argv[1:], config_dir=parser.get_default("config_dir"))


def _agent_config(args: argparse.Namespace, hubs: list, limits: SandboxLimits):
    """The agent's configuration from the parsed flags (and the terminal)."""
    from .agent import AgentConfig

    tty = sys.stderr.isatty() and not args.json_log
    if tty:   # log lines first wipe the live status line (it is redrawn twice a second)
        for h in logging.getLogger().handlers:
            if isinstance(h, logging.StreamHandler) and h.stream is sys.stderr:
                h.setStream(_ClearLine(sys.stderr))
    return AgentConfig(
        hub=hubs[0][0] if hubs else "tcp://unset:1", slots=args.slots or 0,
        prefetch=args.prefetch, cache_dir=args.cache_dir, cache_size_bytes=args.cache_size,
        limits=limits, when_idle=args.when_idle, idle_threshold_pct=args.idle_threshold,
        nice=args.nice, grace_s=args.grace_s, status_interval_s=args.status_interval_s,
        live_status=tty, name=args.name, batch_results=args.result_batch,
        batch_delay_s=args.batch_delay_ms / 1000.0)


def _make_agent(args: argparse.Namespace, cfg, hubs: list):
    """One agent for one hub, or the multi-hub worker (several hubs, or a market)."""
    trust = None
    keyed = any(key is not None for _, key in hubs) or bool(args.market)
    if keyed or args.config_dir is not None:
        from ..trust.workerside import WorkerTrust  # imported late: cryptography is heavy

        trust = WorkerTrust.load(args.config_dir, hubs[0][1] if hubs else None)
    if len(hubs) == 1 and not args.market:
        from .agent import WorkerAgent
        from .slots import default_sandbox_factory

        return WorkerAgent(cfg, trust=trust, sandbox_factory=default_sandbox_factory)
    from .hubargs import multi_hub_worker

    return multi_hub_worker(args, cfg, hubs, trust)


def _serve(agent) -> int:
    """Run until shutdown: the first SIGINT/SIGTERM is warm, the second forced."""
    def on_signal(signum, _frame):
        agent.request_shutdown()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        reason = agent.run()
    except CpushareError as exc:
        log.error("%s", exc)
        return 1
    return 0 if "forced" not in reason else 1


if __name__ == "__main__":
    sys.exit(main())
