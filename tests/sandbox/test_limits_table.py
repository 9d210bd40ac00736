"""The sandbox limits table (sandbox/limits.py) is the one source: every SandboxLimits field
has a row, and every row is wired through — to the C loader (a loader argument the loader
accepts) or the runner (which reads it), to the flags of cpushare-sandbox and, for the
limits the seller sets, of cpushare-worker (with their environment variables) down to the
sandbox each slot opens and the start-up probe. A field added to the table without its
wiring fails here (docs/sandbox.md, "Adding a sandbox limit")."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import threading
from pathlib import Path

import pytest
import zmq

from cpushare_mq.cliopts import ENV_PREFIX, apply_defaults
from cpushare_mq.errors import ConfigError
from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.sandbox import Sandbox, SandboxLimits
from cpushare_mq.sandbox.limits import SetBy, Unit, limit_rows, size_text

ROWS = limit_rows()
SELLER_ROWS = limit_rows(SetBy.SELLER)
SRC = Path(__file__).resolve().parents[2] / "cpushare_mq" / "sandbox"


def half(v: float | int) -> float | int:
    return v // 2 if isinstance(v, int) else v / 2


def other_value(name: str) -> float | int:
    """A value of the field other than its default (and still valid)."""
    return half(getattr(SandboxLimits(), name))


def flag_value(name: str, row) -> str:
    v = other_value(name)
    return size_text(v) if row.unit is Unit.BYTES else f"{v:g}"


def test_every_field_has_one_row():
    assert [f.name for f in dataclasses.fields(SandboxLimits)] == [n for n, _ in ROWS]
    flags = [row.flag for _, row in ROWS]
    assert len(set(flags)) == len(flags) and all(re.fullmatch(r"--[a-z][a-z-]+", f) for f in flags)
    args = [row.loader_arg for _, row in ROWS if row.loader_arg]
    assert len(set(args)) == len(args)
    assert SELLER_ROWS, "the seller sets at least its memory cap"


LOADER_ROWS = [(n, r) for n, r in ROWS if r.loader_arg]
RUNNER_ROWS = [(n, r) for n, r in ROWS if not r.loader_arg]


@pytest.mark.parametrize("name,row", LOADER_ROWS, ids=[n for n, _ in LOADER_ROWS])
def test_a_loader_limit_reaches_the_loader(name, row, loader, echo_elf):
    value = other_value(name)
    limits = SandboxLimits(**{name: value})
    args = limits.loader_args()
    i = args.index(row.loader_arg)
    assert args[i + 1] == str(value)
    # the C loader has the option in its table: with no program it complains about that,
    # not about an unknown option
    proc = subprocess.run([str(loader), "--status-fd", "2", row.loader_arg, str(value)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 126 and "give exactly one of" in proc.stderr, proc.stderr
    # and a program runs under it
    with Sandbox(echo_elf, b"", limits) as sb:
        rec = sb.run(b"hi")
    assert rec.ok, rec


@pytest.mark.parametrize("name,row", RUNNER_ROWS, ids=[n for n, _ in RUNNER_ROWS])
def test_a_runner_limit_is_read_by_the_runner(name, row):
    source = "\n".join((SRC / f).read_text() for f in ("runner.py", "exchange.py"))
    assert re.search(rf"limits\.{name}\b", source), f"nothing in the runner reads limits.{name}"


def test_out_of_range_values_are_refused_naming_the_flag():
    for name, row in ROWS:
        with pytest.raises(ConfigError, match=name):
            SandboxLimits(**{name: 0})
        if row.max_value is not None:
            with pytest.raises(ConfigError, match=f"{row.flag} .* too large"):
                SandboxLimits(**{name: int(row.max_value) + 1})


def test_every_limit_is_a_cpushare_sandbox_flag(monkeypatch, echo_elf, tmp_path):
    from cpushare_mq.sandbox import cli

    seen: list[SandboxLimits] = []

    class Recording(Sandbox):
        def __init__(self, program, shared, limits):
            seen.append(limits)
            super().__init__(program, shared, limits)

    monkeypatch.setattr(cli, "Sandbox", Recording)
    (tmp_path / "in").write_bytes(b"hi")
    argv = ["run", str(echo_elf), "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out")]
    for name, row in ROWS:
        argv += [row.flag, flag_value(name, row)]
    assert cli.main(argv) == 0
    assert seen == [SandboxLimits(**{name: other_value(name) for name, _ in ROWS})]


class _RecordingFactory:
    """A sandbox factory that records the spec of each sandbox a slot opens."""

    def __init__(self):
        self.specs = []
        self.opened = threading.Event()

    def __call__(self, program, shared, spec):
        self.specs.append(spec)
        self.opened.set()
        return _OkBox()


class _OkBox:
    pid = None

    def run(self, fragment, on_chunk=None, **_kw):
        return OutcomeRecord(Outcome.OK)

    def pause(self):
        pass

    def resume(self):
        pass

    def close(self):
        pass


def test_every_seller_limit_is_a_cpushare_worker_flag_and_reaches_each_sandbox(tmp_path):
    """Flags (and their environment variables) -> AgentConfig -> the slot pool -> the
    limits of the sandbox a slot opens for a lease, with the lease's own job limits."""
    from cpushare_mq.worker import cli
    from cpushare_mq.worker.agent import WorkerAgent
    from cpushare_mq.worker.slotwork import SlotWork, WorkItem

    parser = cli.build_parser()
    flags = {row.flag for _, row in SELLER_ROWS}
    assert flags <= set(parser._option_string_actions), "a seller limit has no cpushare-worker flag"
    # the job's limits come with each lease: cpushare-worker has no flag for them
    assert not {row.flag for _, row in limit_rows(SetBy.JOB)} & set(parser._option_string_actions)
    prefix = ENV_PREFIX["cpushare-worker"]
    environ = {prefix + "_" + row.flag[2:].upper().replace("-", "_"): flag_value(name, row)
               for name, row in SELLER_ROWS}
    apply_defaults(parser, "cpushare-worker", environ=environ)
    args = parser.parse_args(["--hub", "tcp://127.0.0.1:9", "--insecure", "--slots", "1",
                              "--cache-dir", str(tmp_path / "cache")])
    limits = cli.limits_from_args(args, SetBy.SELLER)
    cfg = cli._agent_config(args, [("tcp://127.0.0.1:9", None)], limits)
    factory = _RecordingFactory()
    agent = WorkerAgent(cfg, sandbox_factory=factory, context=zmq.Context())
    job = {name: half(other_value(name)) for name, _ in limit_rows(SetBy.JOB)}
    item = WorkItem((1, 0), "j", 0, "p" * 64, "s" * 64, input=b"x", **job)
    agent.pool.start()
    try:
        agent.pool.submit(SlotWork(item, b"program", b""))
        assert factory.opened.wait(30)
    finally:
        agent.pool.stop()
        agent.ctx.term()
    want = SandboxLimits(**{name: other_value(name) for name, _ in SELLER_ROWS}, **job)
    assert factory.specs[0].limits() == want


def test_the_start_up_probe_runs_under_the_sellers_limits(monkeypatch):
    from cpushare_mq.sandbox import probe
    from cpushare_mq.worker import cli

    seen = []

    class Report:
        ok = True

        def render(self):
            return "ok"

    monkeypatch.setattr(probe, "run_probe", lambda limits: seen.append(limits) or Report())
    argv = ["--self-test"]
    for name, row in SELLER_ROWS:
        argv += [row.flag, flag_value(name, row)]
    assert cli.main(argv) == 0
    assert [limits.seller_part() for limits in seen] == [
        {name: other_value(name) for name, _ in SELLER_ROWS}]
