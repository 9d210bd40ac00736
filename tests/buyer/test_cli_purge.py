"""Issue 14, retention: ended jobs leave the hub's memory, are still served from the store
(also after a restart) until `cpushare purge JOB` or `cpushare-hub serve --keep-days`
removes them. The hub and worker are started as a user starts them (keys on)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from waiting import wait_for

from .buyercli import clean_env as _env
from .buyercli import read_until as _read_until
from .buyercli import running
from .test_cli import make_inputs
from .test_cli_restart import HubProcess

BIN = Path(sys.executable).parent


def _cpushare(hub: HubProcess, *args: str, timeout_s: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cpushare"), *args, "--api", str(hub.sock)],
                          capture_output=True, text=True, timeout=timeout_s, env=_env())


def _submit(hub: HubProcess, elf: Path, inputs: list[Path], out: Path) -> str:
    r = _cpushare(hub, "submit", str(elf), *map(str, inputs), "--out", str(out))
    assert r.returncode == 0, r.stderr
    return r.stderr.split("submitted job ")[1].split()[0]


def _job_ids(hub: HubProcess) -> dict[str, dict]:
    r = _cpushare(hub, "status", "--json", "--all", timeout_s=60)
    assert r.returncode == 0, r.stderr
    return {j["job_id"]: j for j in json.loads(r.stdout)["jobs"]}


def test_purge_refuses_a_running_job_and_removes_an_ended_one(short_tmp, echo_elf):
    hub = HubProcess(short_tmp)
    try:
        hub.start()
        inputs = make_inputs(short_tmp / "in", 4)
        proc = subprocess.Popen([str(BIN / "cpushare"), "submit", str(echo_elf), *map(str, inputs),
                                 "--api", str(hub.sock), "--out", str(short_tmp / "out")],
                                stderr=subprocess.PIPE, text=True, env=_env())
        with running(proc):
            head = _read_until(proc, "submitted job ")
            job_id = head.split("submitted job ")[1].split()[0]
            r = _cpushare(hub, "purge", job_id)          # no worker yet: it is running
            assert r.returncode == 1
            assert f"job {job_id} is still running: cancel it first (cpushare cancel {job_id})" in r.stderr
            hub.start_worker()
            assert proc.wait(180) == 0, proc.stderr.read()
        # ended, and still served from the store after a restart (the hub loads live jobs only)
        hub.stop()
        hub.start()
        assert _job_ids(hub)[job_id]["done"] == 4
        again = short_tmp / "again"
        r = _cpushare(hub, "results", job_id, "--out", str(again))
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in again.iterdir()) == [f"{p.name}.out" for p in inputs]
        r = _cpushare(hub, "purge", job_id)
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"purged job {job_id} (4 fragments; its results are gone)\n"
        assert job_id not in _job_ids(hub)
        r = _cpushare(hub, "results", job_id, "--out", str(short_tmp / "gone"))
        assert r.returncode == 1 and f"no job '{job_id}'" in r.stderr, r.stderr
        r = _cpushare(hub, "purge", job_id)
        assert r.returncode == 1 and "already purged" in r.stderr, r.stderr
    finally:
        hub.close()


def test_keep_days_purges_ended_jobs_by_itself(short_tmp, echo_elf):
    hub = HubProcess(short_tmp)
    try:
        # 1.73 s, looked at every 1 s (that a job is kept until then: tests/hub/test_retention)
        hub.start("--keep-days", "0.00002")
        hub.start_worker()
        job_id = _submit(hub, echo_elf, make_inputs(short_tmp / "in", 3), short_tmp / "out")
        wait_for(lambda: job_id not in _job_ids(hub), 120, "the janitor's purge of the ended job", poll_s=0.5)
        assert (f"purged job {job_id} (3 fragments): ended more than 2e-05 days ago"
                in (short_tmp / "hub.log").read_text())
        r = _cpushare(hub, "results", job_id, "--out", str(short_tmp / "gone"))
        assert r.returncode == 1 and f"no job '{job_id}'" in r.stderr, r.stderr
    finally:
        hub.close()
