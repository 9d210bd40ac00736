"""``cpushare-povray render --view``: the job page of a real render (native povray-server,
a real sandboxed worker) on a hub started with ``--web``, and the image the dashboard
assembles from the hub's results equals the PNG the render wrote."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from webhub import start_hub, status_of, stop

from cpushare_mq.povray.cli import _worker_cmd, stop_processes
from cpushare_mq.povray.image import decode_png, read_png

POVRAY = Path(sys.executable).parent / "cpushare-povray"
SCENE = Path(__file__).resolve().parent.parent / "data" / "scenes" / "medium.pov"


def render(*args: str, timeout_s: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(POVRAY), "render", str(SCENE), "-W", "96", "-H", "64",
                           "--tile", "32", "--no-progress", *args],
                          capture_output=True, text=True, timeout=timeout_s)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_view_prints_the_job_page_of_a_render_on_a_hub(tmp_path):
    proc, db, endpoint = start_hub(tmp_path)
    cache = tmp_path / "w0"
    cache.mkdir()
    worker = subprocess.Popen(_worker_cmd(endpoint, cache), stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = tmp_path / "out.png"
        r = render("-o", str(out), "--api", f"{db}.sock", "--view")
        assert r.returncode == 0, r.stderr
        urls = re.findall(r"^view: +(http://\S+/job/(j-\w+)\?token=\S+)$", r.stdout, re.M)
        assert len(urls) == 1, r.stdout
        url, job_id = urls[0]
        assert status_of(url) == 200
        assert status_of(url.split("?")[0]) == 401
        api = url.replace(f"/job/{job_id}", f"/api/job/{job_id}")
        with urllib.request.urlopen(api, timeout=30) as resp:
            data = json.load(resp)
        assert data["image"] == {"width": 96, "height": 64}
        assert data["job"]["done"] == data["job"]["total"] == 6
        png = url.replace(f"/job/{job_id}", f"/job/{job_id}/image.png")
        with urllib.request.urlopen(png, timeout=30) as resp:
            assert decode_png(resp.read()).rgb == read_png(out).rgb
    finally:
        stop_processes([worker])
        stop(proc)


def test_view_without_a_dashboard_is_one_clear_line(tmp_path):
    proc, db, _endpoint = start_hub(tmp_path, web=False)
    try:
        r = render("-o", str(tmp_path / "o.png"), "--api", f"{db}.sock", "--view",
                   timeout_s=60)
    finally:
        stop(proc)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--web" in lines[0] and f"{db}.web" in lines[0], r.stderr


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_view_with_the_embedded_hub_prints_its_page(tmp_path):
    r = render("-o", str(tmp_path / "e.png"), "--workers", "1", "--view")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^view: +http://127\.0\.0\.1:\d+/job/j-\w+\?token=[\w-]{20,}$",
                     r.stdout, re.M), r.stdout
