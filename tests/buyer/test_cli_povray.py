"""Issue 15 for `cpushare-povray render` as a user types it: the hub's waiting reason in the
progress output, Ctrl-C prints the job id with how to resume or cancel it, --resume JOB
finishes the image, and Ctrl-C of a render with an embedded hub leaves nothing running."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .buyercli import clean_env as _env
from .buyercli import interrupt, running
from .buyercli import read_until as _read_until
from .conftest import start_worker, stop_process

BIN = Path(sys.executable).parent
SCENE = Path(__file__).resolve().parents[1] / "data" / "scenes" / "simple.pov"


def render(*extra: str) -> list[str]:
    return [str(BIN / "cpushare-povray"), "render", str(SCENE), "-W", "48", "-H", "32", "--tile", "16", *extra]


def test_render_says_why_it_waits_and_resumes_after_ctrl_c(real_hub, short_tmp):
    out = short_tmp / "out.png"
    proc = subprocess.Popen(render("-o", str(out), "--api", real_hub.api_address),
                            stderr=subprocess.PIPE, text=True, env=_env())
    with running(proc):
        head = _read_until(proc, "povray-server: job ")
        job_id = head.split("povray-server: job ")[1].split(":")[0]
        _read_until(proc, "waiting: no worker connected", timeout_s=30)
        rest = interrupt(proc)
    assert f"interrupted: job {job_id} keeps running on the hub; add --resume {job_id}" in rest
    assert f"'cpushare cancel {job_id} --api {real_hub.api_address}'" in rest and "Traceback" not in rest
    assert not out.exists()

    worker = start_worker(real_hub.worker_endpoint, short_tmp / "cache", slots=2)
    try:
        r = subprocess.run(render("-o", str(out), "--api", real_hub.api_address, "--resume", job_id),
                           capture_output=True, text=True, timeout=300, env=_env())
    finally:
        stop_process(worker)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"job:        {job_id}" in r.stdout
    assert [j["job_id"] for j in real_hub.status()["jobs"]] == [job_id]     # no second job

    wrong = [str(BIN / "cpushare-povray"), "render", str(SCENE), "-W", "48", "-H", "32", "--tile", "8",
             "-o", str(out), "--api", real_hub.api_address, "--resume", job_id]
    r = subprocess.run(wrong, capture_output=True, text=True, timeout=60, env=_env())
    assert r.returncode == 2 and "resume with the same scene, -W, -H and --tile" in r.stderr


def test_resume_needs_a_hub_and_ctrl_c_of_an_embedded_render_leaves_nothing(short_tmp):
    r = subprocess.run(render("-o", str(short_tmp / "o.png"), "--resume", "j-x"), capture_output=True,
                       text=True, timeout=60, env=_env())
    assert r.returncode == 2 and "--resume needs --api" in r.stderr
    proc = subprocess.Popen(render("-o", str(short_tmp / "o.png"), "--workers", "1", "-W", "2560", "-H", "1920"),
                            stderr=subprocess.PIPE, text=True, env=_env(), start_new_session=True)
    with running(proc):
        _read_until(proc, "povray-server: job ")
        rest = interrupt(proc)
    assert "the embedded hub, its workers and its job are gone" in rest and "Traceback" not in rest
    left = subprocess.run(["ps", "-o", "pid=,ppid=,stat=,comm=", "-s", str(proc.pid)],
                          capture_output=True, text=True)
    assert left.stdout.strip() == "", f"the render's session still holds:\n{left.stdout}"
